//! Every shared model, and the generated multi-operator graphs, against their committed
//! TFLM goldens, byte for byte.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

fn check(name: &str) {
    let n = common::run_golden(name).unwrap_or_else(|e| panic!("{e}"));
    assert!(n >= 20, "{name}: only {n} golden cases");
}

#[test]
fn hello_world_int8() {
    check("hello_world_int8");
}

#[test]
fn hello_world_float() {
    check("hello_world_float");
}

#[test]
fn micro_speech_quantized() {
    check("micro_speech_quantized");
}

#[test]
fn person_detect() {
    check("person_detect");
}

#[test]
fn kws_ref_model() {
    check("kws_ref_model");
}

#[test]
fn ad01_int8() {
    check("ad01_int8");
}

#[test]
fn microflow_sine() {
    check("microflow_sine");
}

/// Multi-operator graphs generated for ioto-ml (residual block with shared tensors;
/// two inputs and two outputs) exercise the planner's lifetimes and tensor ordering.
#[test]
fn generated_graphs() {
    for name in ["graph_residual_block", "graph_two_inputs_two_outputs"] {
        check(name);
    }
}
