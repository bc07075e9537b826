//! Shared helpers for the golden-vector tests.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

/// Directory holding the committed TFLM goldens.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Reads a file of golden `name`, failing loudly when it is missing.
pub fn read(name: &str, file: &str) -> Vec<u8> {
    let p = golden_dir().join(name).join(file);
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "missing golden {}: {e} (goldens are committed under ioto-ml/tests/golden)",
            p.display()
        )
    })
}

/// Number of cases recorded in `meta.json`.
pub fn cases(name: &str) -> usize {
    let meta: serde_json::Value = serde_json::from_slice(&read(name, "meta.json")).unwrap();
    meta["cases"].as_u64().unwrap() as usize
}

/// Runs every case of golden `name` and compares output bytes exactly.
/// Returns the number of cases that matched, or a description of the first mismatch.
pub fn run_golden(name: &str) -> Result<usize, String> {
    let model_bytes = read(name, "model.tflite");
    let inputs = read(name, "input.bin");
    let outputs = read(name, "output.bin");
    let n = cases(name);
    let model = ioto_ml::Model::parse(&model_bytes).map_err(|e| format!("{name}: parse: {e}"))?;
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = ioto_ml::Interpreter::new(&model, &mut arena)
        .map_err(|e| format!("{name}: prepare: {e}"))?;
    let in_sizes: Vec<usize> = (0..model.input_count())
        .map(|i| it.input_mut(i).unwrap().len())
        .collect();
    let out_sizes: Vec<usize> = (0..model.output_count())
        .map(|i| it.output(i).unwrap().len())
        .collect();
    let (in_case, out_case) = (
        in_sizes.iter().sum::<usize>(),
        out_sizes.iter().sum::<usize>(),
    );
    if inputs.len() != n * in_case || outputs.len() != n * out_case {
        return Err(format!(
            "{name}: golden file sizes do not match the model's tensors"
        ));
    }
    for c in 0..n {
        let mut off = c * in_case;
        for (i, &s) in in_sizes.iter().enumerate() {
            it.set_input(i, &inputs[off..off + s]).unwrap();
            off += s;
        }
        it.invoke()
            .map_err(|e| format!("{name}: case {c}: invoke: {e}"))?;
        let mut off = c * out_case;
        for (i, &s) in out_sizes.iter().enumerate() {
            let got = it.output(i).unwrap();
            let want = &outputs[off..off + s];
            if got != want {
                let k = got.iter().zip(want).position(|(a, b)| a != b).unwrap();
                return Err(format!(
                    "{name}: case {c} output {i} differs at byte {k} of {s}: got {} want {}",
                    got[k] as i8, want[k] as i8
                ));
            }
            off += s;
        }
    }
    Ok(n)
}
