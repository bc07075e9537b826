//! Unit tests of [`JsonRecord`] and [`Privacy`]; expected bytes written by hand.
#![allow(clippy::unwrap_used)]

use super::*;

const A: Field = Field::public("a");
const B: Field = Field::public("b");
const SECRET: Field = Field::private("secret");
const SUM: Field = Field::summary("w");

fn record(buf: &mut [u8], build: impl FnOnce(&mut JsonRecord<'_>)) -> std::vec::Vec<u8> {
    let mut w = JsonRecord::new(buf);
    build(&mut w);
    w.finish().unwrap().to_vec()
}

extern crate std;

#[test]
fn empty_record_is_an_empty_object() {
    let mut buf = [0u8; 2];
    assert_eq!(record(&mut buf, |_| {}), b"{}");
}

#[test]
fn scalars_of_every_type_are_written() {
    let mut buf = [0u8; 128];
    let out = record(&mut buf, |w| {
        w.f32(&A, -1.25).unwrap();
        w.u32(&Field::public("u"), 4_000_000_000).unwrap();
        w.u64(&Field::public("t"), 18_446_744_073_709_551_615)
            .unwrap();
        w.i32(&Field::public("i"), -7).unwrap();
        w.bool(&Field::public("ok"), true).unwrap();
        w.str(&B, "hi").unwrap();
    });
    assert_eq!(
        out,
        br#"{"a":-1.25,"u":4000000000,"t":18446744073709551615,"i":-7,"ok":true,"b":"hi"}"#
    );
}

#[test]
fn non_finite_floats_are_null() {
    let mut buf = [0u8; 64];
    let out = record(&mut buf, |w| {
        w.f32(&A, f32::NAN).unwrap();
        w.f32(&B, f32::NEG_INFINITY).unwrap();
        w.window(&Field::public("c"), &[1.0, f32::INFINITY])
            .unwrap();
    });
    assert_eq!(out, br#"{"a":null,"b":null,"c":[1,null]}"#);
}

#[test]
fn private_fields_are_never_written_whatever_the_type() {
    let mut buf = [0u8; 64];
    let out = record(&mut buf, |w| {
        w.str(&SECRET, "Alice").unwrap();
        w.f32(&SECRET, 1.5).unwrap();
        w.u32(&SECRET, 7).unwrap();
        w.u64(&SECRET, 7).unwrap();
        w.i32(&SECRET, 7).unwrap();
        w.bool(&SECRET, true).unwrap();
        w.window(&SECRET, &[9.0, 9.0]).unwrap();
        w.u32(&A, 1).unwrap();
        w.str(&SECRET, "Bob").unwrap();
        w.u32(&B, 2).unwrap();
    });
    assert_eq!(out, br#"{"a":1,"b":2}"#);
}

#[test]
fn private_fields_need_no_buffer_space() {
    let mut buf = [0u8; 2];
    let mut w = JsonRecord::new(&mut buf);
    w.str(&SECRET, "a long private value that would never fit")
        .unwrap();
    assert_eq!(w.finish().unwrap(), b"{}");
}

#[test]
fn public_window_writes_every_sample() {
    let mut buf = [0u8; 64];
    let out = record(&mut buf, |w| {
        w.window(&A, &[0.5, -2.0, 3.0]).unwrap();
        w.window(&B, &[]).unwrap();
    });
    assert_eq!(out, br#"{"a":[0.5,-2,3],"b":[]}"#);
}

#[test]
fn summary_window_writes_n_mean_rms_min_max_and_no_samples() {
    // [1, 7]: mean 4, rms sqrt((1 + 49) / 2) = 5, min 1, max 7.
    let mut buf = [0u8; 96];
    let out = record(&mut buf, |w| {
        w.window(&SUM, &[1.0, 7.0]).unwrap();
    });
    assert_eq!(out, br#"{"w":{"n":2,"mean":4,"rms":5,"min":1,"max":7}}"#);
    // [-2, -2, 2, 2] ⇒ mean 0, rms 2.
    let out = record(&mut buf, |w| {
        w.window(&SUM, &[-2.0, -2.0, 2.0, 2.0]).unwrap();
    });
    assert_eq!(out, br#"{"w":{"n":4,"mean":0,"rms":2,"min":-2,"max":2}}"#);
}

#[test]
fn summary_of_an_empty_or_non_finite_window_is_null() {
    let mut buf = [0u8; 96];
    let out = record(&mut buf, |w| {
        w.window(&SUM, &[]).unwrap();
    });
    assert_eq!(
        out,
        br#"{"w":{"n":0,"mean":null,"rms":null,"min":null,"max":null}}"#
    );
    let out = record(&mut buf, |w| {
        w.window(&SUM, &[1.0, f32::NAN]).unwrap();
    });
    assert_eq!(
        out,
        br#"{"w":{"n":2,"mean":null,"rms":null,"min":null,"max":null}}"#
    );
}

#[test]
fn summary_string_writes_only_its_length() {
    let mut buf = [0u8; 64];
    let out = record(&mut buf, |w| {
        w.str(&SUM, "héllo").unwrap(); // 6 bytes in UTF-8
    });
    assert_eq!(out, br#"{"w":{"len":6}}"#);
}

#[test]
fn summary_scalars_are_written_as_they_are() {
    let mut buf = [0u8; 64];
    let out = record(&mut buf, |w| {
        w.f32(&SUM, 0.5).unwrap();
    });
    assert_eq!(out, br#"{"w":0.5}"#);
}

#[test]
fn strings_and_names_are_escaped() {
    let mut buf = [0u8; 96];
    let out = record(&mut buf, |w| {
        w.str(
            &Field::public("k\"\\"),
            "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{1f}é☃",
        )
        .unwrap();
    });
    assert_eq!(
        out,
        "{\"k\\\"\\\\\":\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001fé☃\"}".as_bytes()
    );
}

#[test]
fn a_field_that_does_not_fit_is_dropped_whole_and_the_record_stays_valid() {
    // `{"a":1` is 6 bytes, `,"b":"xyz"` 10 more, `}` 1.
    let mut buf = [0u8; 16];
    let mut w = JsonRecord::new(&mut buf);
    w.u32(&A, 1).unwrap();
    assert_eq!(w.str(&B, "xyz").err(), Some(RecordError::BufferTooSmall));
    assert_eq!(w.len(), 6);
    // A shorter field still fits after the refused one.
    w.str(&B, "xy").unwrap();
    assert_eq!(w.finish().unwrap(), br#"{"a":1,"b":"xy"}"#);
}

#[test]
fn a_record_may_fill_the_buffer_exactly() {
    let mut buf = [0u8; 7]; // {"a":1}
    let mut w = JsonRecord::new(&mut buf);
    w.u32(&A, 1).unwrap();
    assert_eq!(w.finish().unwrap(), br#"{"a":1}"#);
    let mut buf = [0u8; 6];
    let mut w = JsonRecord::new(&mut buf);
    assert_eq!(w.u32(&A, 1).err(), Some(RecordError::BufferTooSmall));
    assert!(w.is_empty());
    assert_eq!(w.finish().unwrap(), b"{}");
}

#[test]
fn a_buffer_too_small_for_braces_is_an_error() {
    let mut buf = [0u8; 1];
    assert_eq!(
        JsonRecord::new(&mut buf).finish(),
        Err(RecordError::BufferTooSmall)
    );
    let mut buf = [0u8; 0];
    let mut w = JsonRecord::new(&mut buf);
    assert_eq!(w.u32(&A, 1).err(), Some(RecordError::BufferTooSmall));
    assert_eq!(w.finish(), Err(RecordError::BufferTooSmall));
}

#[test]
fn calls_chain_with_question_mark() -> Result<(), RecordError> {
    let mut buf = [0u8; 32];
    let mut w = JsonRecord::new(&mut buf);
    w.u32(&A, 1)?.bool(&B, false)?.str(&SECRET, "x")?;
    assert_eq!(w.finish()?, br#"{"a":1,"b":false}"#);
    Ok(())
}
