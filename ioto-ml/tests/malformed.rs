//! Malformed, truncated and hostile models give typed errors, never panics.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use ioto_ml::{Error, Interpreter, Model};

fn hello() -> Vec<u8> {
    common::read("hello_world_int8", "model.tflite")
}

/// Loads and (if it loads) runs a model; any panic fails the test.
fn load_and_run(bytes: &[u8]) -> Result<(), Error> {
    let model = Model::parse(bytes)?;
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = Interpreter::new(&model, &mut arena)?;
    it.invoke()
}

#[test]
fn every_truncation_of_hello_world_is_an_error() {
    let bytes = hello();
    for len in 0..bytes.len() {
        let r = load_and_run(&bytes[..len]);
        assert!(r.is_err(), "truncated to {len} bytes still loaded");
    }
    assert!(load_and_run(&bytes).is_ok());
}

#[test]
fn every_corrupted_word_is_handled() {
    let bytes = hello();
    // Overwrite each aligned 32-bit word with hostile values; loading must not panic.
    for pos in (0..bytes.len() - 4).step_by(4) {
        for v in [0xFFFF_FFFFu32, 0x7FFF_FFFF, 0x8000_0000, 0x0000_FFFF, 1, 0] {
            let mut m = bytes.clone();
            m[pos..pos + 4].copy_from_slice(&v.to_le_bytes());
            let _ = load_and_run(&m);
        }
    }
}

#[test]
fn every_flipped_byte_is_handled() {
    let bytes = hello();
    for pos in 0..bytes.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut m = bytes.clone();
            m[pos] ^= mask;
            let _ = load_and_run(&m);
        }
    }
}

#[test]
fn root_offset_out_of_range() {
    let mut m = hello();
    m[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(Model::parse(&m).unwrap_err(), Error::OutOfBounds);
    assert!(Model::parse(&[]).is_err());
    assert!(Model::parse(&[0; 3]).is_err());
}

/// Finds `needle` (a little-endian u32 vector length) and replaces it with a huge one.
#[test]
fn huge_vector_lengths_are_rejected() {
    let bytes = hello();
    let mut rejected = 0;
    // Every u32 that looks like a small vector length becomes 0x4000_0000 elements.
    for pos in (0..bytes.len() - 4).step_by(4) {
        let v = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap());
        if (1..=64).contains(&v) {
            let mut m = bytes.clone();
            m[pos..pos + 4].copy_from_slice(&0x4000_0000u32.to_le_bytes());
            if load_and_run(&m).is_err() {
                rejected += 1;
            }
        }
    }
    assert!(rejected > 10, "only {rejected} huge lengths were rejected");
}

#[test]
fn unsupported_operator_is_named() {
    let mut m = hello();
    // hello_world's only operator code is FULLY_CONNECTED (9); find the OperatorCode
    // table's code byte and change it to SVDF (27).
    let model = Model::parse(&m).unwrap();
    assert_eq!(model.operator(0).unwrap().name, "FULLY_CONNECTED");
    let mut changed = false;
    for pos in 0..m.len() {
        if m[pos] == 9 {
            let mut t = m.clone();
            t[pos] = 27;
            if let Err(Error::UnsupportedOp { name, code, .. }) = Model::parse(&t) {
                assert_eq!((name, code), ("SVDF", 27));
                m = t;
                changed = true;
                break;
            }
        }
    }
    assert!(changed, "no builtin_code field found to patch");
    assert!(matches!(Model::parse(&m), Err(Error::UnsupportedOp { .. })));
}

#[test]
fn arena_too_small_and_io_errors() {
    let bytes = hello();
    let model = Model::parse(&bytes).unwrap();
    let mut small = vec![0u8; model.arena_size() - 1];
    assert!(matches!(
        Interpreter::new(&model, &mut small),
        Err(Error::ArenaTooSmall { .. })
    ));
    let mut arena = vec![0u8; model.arena_size()];
    let mut it = Interpreter::new(&model, &mut arena).unwrap();
    assert_eq!(
        it.set_input(0, &[0, 0]).unwrap_err(),
        Error::SizeMismatch {
            expected: 1,
            got: 2
        }
    );
    assert_eq!(it.input_mut(1).unwrap_err(), Error::NoSuchTensor(1));
    assert_eq!(it.output(3).unwrap_err(), Error::NoSuchTensor(3));
}

#[test]
fn fuzz_regressions_do_not_panic() {
    // The folder is committed with at least one crash input: a missing or empty folder
    // means the regressions are not being replayed, which must fail, not pass.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fuzz regression folder {} unreadable: {e}", dir.display()));
    let mut replayed = 0;
    for e in entries {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("fuzz regression {} unreadable: {e}", path.display()));
        let _ = load_and_run(&bytes);
        replayed += 1;
    }
    assert!(
        replayed > 0,
        "no fuzz regression inputs in {}",
        dir.display()
    );
}
