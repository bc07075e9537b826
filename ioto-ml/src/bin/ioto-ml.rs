//! `ioto-ml`: inspect, run and benchmark `.tflite` models with the ioto-ml engine.
//!
//! ```text
//! ioto-ml inspect MODEL
//! ioto-ml run MODEL --input IN.bin --output OUT.bin
//! ioto-ml bench MODEL [--runs N]
//! ```

use ioto_ml::{Interpreter, Model, tensor_type};
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage:\n  ioto-ml inspect MODEL\n  ioto-ml run MODEL --input IN.bin --output OUT.bin\n  ioto-ml bench MODEL [--runs N]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("ioto-ml: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn load(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    let (cmd, path) = match (args.first(), args.get(1)) {
        (Some(c), Some(p)) => (c.as_str(), p.as_str()),
        _ => return Err(USAGE.into()),
    };
    let bytes = load(path)?;
    let model = Model::parse(&bytes).map_err(|e| format!("{path}: {e}"))?;
    match cmd {
        "inspect" => inspect(&model),
        "run" => {
            let input = flag(args, "--input").ok_or(USAGE)?;
            let output = flag(args, "--output").ok_or(USAGE)?;
            run_once(&model, input, output)
        }
        "bench" => {
            let runs = match flag(args, "--runs") {
                Some(n) => n
                    .parse::<usize>()
                    .map_err(|_| format!("bad --runs {n}"))?
                    .max(1),
                None => 100,
            };
            bench(&model, runs)
        }
        _ => Err(USAGE.into()),
    }
}

fn describe(model: &Model<'_>, t: usize) -> Result<String, String> {
    let d = model.tensor(t).map_err(|e| e.to_string())?;
    let dims: Vec<String> = d.dims[..d.rank].iter().map(i32::to_string).collect();
    let q = if d.scales > 1 {
        format!(" per-channel({} scales)", d.scales)
    } else if d.scale != 0.0 {
        format!(" scale={} zp={}", d.scale, d.zero_point)
    } else {
        String::new()
    };
    Ok(format!(
        "#{t} {} [{}] {}{}",
        tensor_type::name(d.tensor_type),
        dims.join(","),
        String::from_utf8_lossy(d.name),
        q
    ))
}

fn inspect(model: &Model<'_>) -> Result<(), String> {
    let e = |e: ioto_ml::Error| e.to_string();
    for i in 0..model.input_count() {
        println!(
            "input {i}: {}",
            describe(model, model.input_tensor(i).map_err(e)?)?
        );
    }
    for i in 0..model.output_count() {
        println!(
            "output {i}: {}",
            describe(model, model.output_tensor(i).map_err(e)?)?
        );
    }
    for i in 0..model.operator_count() {
        let op = model.operator(i).map_err(e)?;
        let out = usize::try_from(op.output).map_err(|_| "bad output".to_string())?;
        println!(
            "op {i}: {} v{} -> {}",
            op.name,
            op.version,
            describe(model, out)?
        );
    }
    println!(
        "tensors={} operators={}",
        model.tensor_count(),
        model.operator_count()
    );
    println!("macs={}", model.macs());
    println!(
        "arena_bytes={} (activations {})",
        model.arena_size(),
        model.activation_bytes()
    );
    Ok(())
}

fn run_once(model: &Model<'_>, input: &str, output: &str) -> Result<(), String> {
    let data = load(input)?;
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = Interpreter::new(model, &mut arena).map_err(|e| e.to_string())?;
    let sizes: Vec<usize> = (0..model.input_count())
        .map(|i| it.input_mut(i).map(|s| s.len()))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let total: usize = sizes.iter().sum();
    if data.len() != total {
        return Err(format!(
            "input size mismatch: {input} has {} bytes, the model's inputs take {total} bytes ({sizes:?})",
            data.len()
        ));
    }
    let mut off = 0;
    for (i, s) in sizes.iter().enumerate() {
        it.set_input(i, &data[off..off + s])
            .map_err(|e| e.to_string())?;
        off += s;
    }
    it.invoke().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for i in 0..model.output_count() {
        out.extend_from_slice(it.output(i).map_err(|e| e.to_string())?);
    }
    std::fs::write(output, &out).map_err(|e| format!("cannot write {output}: {e}"))
}

fn bench(model: &Model<'_>, runs: usize) -> Result<(), String> {
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = Interpreter::new(model, &mut arena).map_err(|e| e.to_string())?;
    // Fixed pseudo-random input (xorshift32, seed 1).
    let mut state = 1u32;
    for i in 0..model.input_count() {
        for b in it.input_mut(i).map_err(|e| e.to_string())?.iter_mut() {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            *b = (state >> 24) as u8;
        }
    }
    it.invoke().map_err(|e| e.to_string())?; // warm-up
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        it.invoke().map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "runs={runs} min_us={:.1} max_us={:.1}",
        times[0],
        times[times.len() - 1]
    );
    println!("median_us={median:.1}");
    Ok(())
}
