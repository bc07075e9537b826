//! Compiles the golden models that the `ml_compiled` suite and the compiled variant of
//! `bench_vs_microflow` run into static Rust (`ioto_ml::codegen`), one module per model
//! in `OUT_DIR`.

use std::path::PathBuf;

/// The models compiled ahead of time (directories under `ioto-ml/tests/golden`).
const MODELS: [&str; 5] = [
    "hello_world_int8",
    "microflow_sine",
    "micro_speech_quantized",
    "ad01_int8",
    "kws_ref_model",
];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let golden = manifest.join("../../ioto-ml/tests/golden");
    for name in MODELS {
        let path = golden.join(name).join("model.tflite");
        println!("cargo::rerun-if-changed={}", path.display());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let absolute = path.canonicalize().expect("model path");
        let code = ioto_ml::codegen::generate(&bytes, &absolute.to_string_lossy())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        std::fs::write(out.join(format!("{name}.rs")), code).expect("write generated code");
    }
}
