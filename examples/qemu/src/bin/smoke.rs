//! Smoke suite for every virtual board: arithmetic, the heap, the instruction counter
//! and the clock. `cargo xtask hil-test` runs it on qemu-m4f, qemu-m0 and qemu-rv32.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::{boxed::Box, vec::Vec};
use core::hint::black_box;
use ioto_board_qemu::{QemuClock, entry, harness, instructions, tests};
use ioto_core::Clock;

fn integer_arithmetic() {
    let a: u32 = black_box(0xDEAD_BEEF);
    let b: u32 = black_box(0x1234_5678);
    assert_eq!(a.wrapping_mul(b), 0x5621_CA08);
    assert_eq!(
        black_box(1_000_000_007u64) * black_box(998_244_353u64),
        998_244_359_987_710_471
    );
    assert_eq!(black_box(-7i32) / black_box(2), -3);
    assert_eq!(black_box(-7i32) >> 1, -4);
    assert_eq!(black_box(i8::MIN).saturating_sub(1), i8::MIN);
}

fn int64_division() {
    let n: i64 = black_box(-9_223_372_036_854_775_807);
    assert_eq!(n / black_box(1_000_003), -9_223_344_366_821);
    assert_eq!(n % black_box(1_000_003), -675_344);
}

fn float_arithmetic() {
    let x: f32 = black_box(1.5);
    assert_eq!(x * black_box(2.25f32), 3.375);
    assert_eq!(
        black_box(0.1f64) + black_box(0.2f64),
        0.300_000_000_000_000_04
    );
}

fn heap_allocation() {
    let v: Vec<u32> = (0..1_000u32).collect();
    assert_eq!(v.iter().sum::<u32>(), 499_500);
    let b = Box::new([7u8; 256]);
    assert_eq!(b.iter().map(|&x| u32::from(x)).sum::<u32>(), 7 * 256);
    assert!(ioto_board_qemu::heap::used() >= 4_000);
    drop(v);
    drop(b);
    assert_eq!(ioto_board_qemu::heap::used(), 0);
}

fn counter_advances() {
    let before = instructions();
    let mut acc = 0u32;
    for i in 0..black_box(20_000u32) {
        acc = acc.wrapping_add(black_box(i));
    }
    black_box(acc);
    let after = instructions();
    // 20 000 iterations retire at least 20 000 instructions (and far fewer than 10^9).
    assert!(
        after - before >= 20_000,
        "counter advanced only {}",
        after - before
    );
    assert!(after - before < 1_000_000_000);
}

fn clock_is_monotonic() {
    let clock = QemuClock;
    let mut last = clock.now();
    for _ in 0..1_000 {
        let now = clock.now();
        assert!(now >= last);
        last = now;
    }
}

#[cfg(feature = "inject-failure")]
fn injected_failure() {
    assert_eq!(black_box(2 + 2), 5, "deliberately broken on-target test");
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(16 * 1024);
    #[cfg(not(feature = "inject-failure"))]
    let suite = tests![
        integer_arithmetic,
        int64_division,
        float_arithmetic,
        heap_allocation,
        counter_advances,
        clock_is_monotonic,
    ];
    #[cfg(feature = "inject-failure")]
    let suite = tests![integer_arithmetic, injected_failure, counter_advances];
    harness::run("smoke", suite)
}
