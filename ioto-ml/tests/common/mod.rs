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

/// What the golden check needs from an engine (the interpreter or a compiled model).
pub trait Engine {
    /// Bytes of input `i`, or `None` past the last input.
    fn input_len(&mut self, i: usize) -> Option<usize>;
    /// Bytes of output `i`, or `None` past the last output.
    fn output_len(&mut self, i: usize) -> Option<usize>;
    /// Copies `data` into input `i`.
    fn set_input(&mut self, i: usize, data: &[u8]);
    /// Runs the model once.
    fn invoke(&mut self) -> Result<(), ioto_ml::Error>;
    /// Output `i` after `invoke`.
    fn output(&mut self, i: usize) -> Vec<u8>;
}

impl Engine for ioto_ml::Interpreter<'_, '_> {
    fn input_len(&mut self, i: usize) -> Option<usize> {
        self.input_mut(i).ok().map(|s| s.len())
    }
    fn output_len(&mut self, i: usize) -> Option<usize> {
        ioto_ml::Interpreter::output(self, i).ok().map(<[u8]>::len)
    }
    fn set_input(&mut self, i: usize, data: &[u8]) {
        ioto_ml::Interpreter::set_input(self, i, data).unwrap();
    }
    fn invoke(&mut self) -> Result<(), ioto_ml::Error> {
        ioto_ml::Interpreter::invoke(self)
    }
    fn output(&mut self, i: usize) -> Vec<u8> {
        ioto_ml::Interpreter::output(self, i).unwrap().to_vec()
    }
}

/// Runs every case of golden `name` through the interpreter and compares output bytes
/// exactly. Returns the number of cases that matched, or a description of the first
/// mismatch.
pub fn run_golden(name: &str) -> Result<usize, String> {
    let model_bytes = read(name, "model.tflite");
    let model = ioto_ml::Model::parse(&model_bytes).map_err(|e| format!("{name}: parse: {e}"))?;
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = ioto_ml::Interpreter::new(&model, &mut arena)
        .map_err(|e| format!("{name}: prepare: {e}"))?;
    run_golden_on(name, &mut it)
}

/// Runs every case of golden `name` on `engine` and compares output bytes exactly.
pub fn run_golden_on(name: &str, engine: &mut dyn Engine) -> Result<usize, String> {
    let inputs = read(name, "input.bin");
    let outputs = read(name, "output.bin");
    let n = cases(name);
    let in_sizes: Vec<usize> = (0..).map_while(|i| engine.input_len(i)).collect();
    let out_sizes: Vec<usize> = (0..).map_while(|i| engine.output_len(i)).collect();
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
            engine.set_input(i, &inputs[off..off + s]);
            off += s;
        }
        engine
            .invoke()
            .map_err(|e| format!("{name}: case {c}: invoke: {e}"))?;
        let mut off = c * out_case;
        for (i, &s) in out_sizes.iter().enumerate() {
            let got = engine.output(i);
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
