//! Every golden set (shared models, generated graphs, single operators) byte for byte
//! with the x86-64 host kernels forced to each level in turn: SSE2 (the generic
//! kernels), AVX2, AVX-VNNI and AVX-512 VNNI. A level the CPU lacks fails the test
//! (the development machine and CI have them all), so no level passes unrun.
#![cfg(target_arch = "x86_64")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use ioto_ml::kernels::host::{LEVELS, level, set_level};

/// Every golden set, by directory name.
fn goldens() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::golden_dir())
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            e.path()
                .join("model.tflite")
                .exists()
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_golden_set_at_every_level() {
    let names = goldens();
    assert!(names.len() >= 90, "only {} golden sets", names.len());
    for l in LEVELS {
        set_level(l).unwrap_or_else(|l| panic!("this CPU lacks {}", l.name()));
        assert_eq!(level(), l);
        for name in &names {
            let n = common::run_golden(name).unwrap_or_else(|e| panic!("{}: {e}", l.name()));
            assert!(n >= 3, "{name}: only {n} golden cases");
        }
    }
}
