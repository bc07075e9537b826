//! Every single-operator golden model (`tests/golden/op_*`) byte for byte, and a
//! check that each supported operator has at least one.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

const OPS: [&str; 18] = [
    "conv_2d",
    "depthwise_conv_2d",
    "fully_connected",
    "average_pool_2d",
    "max_pool_2d",
    "add",
    "mul",
    "reshape",
    "softmax",
    "logistic",
    "tanh",
    "relu",
    "relu6",
    "quantize",
    "dequantize",
    "pad",
    "concatenation",
    "mean",
];

fn op_goldens() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::golden_dir())
        .expect("ioto-ml/tests/golden is missing")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("op_"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_operator_has_goldens() {
    let names = op_goldens();
    for op in OPS {
        let prefix = format!("op_{op}_");
        // `relu_` must not count `relu6_` models.
        let found = names.iter().any(|n| n.starts_with(&prefix));
        assert!(found, "no single-op golden for {op}");
    }
}

#[test]
fn single_op_goldens_match_tflm() {
    let names = op_goldens();
    assert!(names.len() >= OPS.len());
    let mut failures = Vec::new();
    for name in &names {
        match common::run_golden(name) {
            Ok(n) => assert!(n >= 20, "{name}: only {n} cases"),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} single-op goldens differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
