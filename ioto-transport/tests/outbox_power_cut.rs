//! `FlashOutbox` on the strict NOR simulator: a power cut at every byte of a workload.
//!
//! The workload pushes records of varied lengths (content fully determined by the
//! sequence number they carry) and pops them ("delivered and acknowledged"), wrapping
//! the queue around its pages several times. Run once without a cut, it touches B bytes;
//! then for every k in 0..B it runs again with the power cut after k bytes, reboots
//! (a new chip from the image), reopens, drains and checks what the outbox promises.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;

use embassy_futures::block_on;
use ioto_core::outbox::Outbox;
use ioto_transport::storage::nor_sim::{NorSim, NorSimError};
use ioto_transport::storage::outbox::{FlashOutbox, StorageError, StorageErrorKind};

const PAGE: usize = 256;
const PAGES: usize = 4;
const SIZE: usize = PAGE * PAGES;
type Sim<const W: usize> = NorSim<Vec<u8>, PAGE, W>;

/// Pushes in the workload.
const PUSHES: u32 = 160;

/// Length of record `seq`: 6..=69 bytes, not a multiple of the word for most.
fn record_len(seq: u32) -> usize {
    6 + (seq as usize * 37) % 64
}

/// Record `seq`: its sequence number, then bytes that depend on it and on the position.
fn record(seq: u32) -> Vec<u8> {
    let len = record_len(seq);
    let mut r = seq.to_le_bytes().to_vec();
    r.extend((4..len).map(|i| (seq as usize * 131 + i * 29) as u8 ^ 0xA5));
    r
}

/// Sequence number of a record read back, if its content is exactly `record(seq)`.
fn parse(bytes: &[u8]) -> Option<u32> {
    let seq = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    (seq < PUSHES && bytes == record(seq).as_slice()).then_some(seq)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Push(u32),
    Pop(u32),
}

#[derive(Debug, Default)]
struct Outcome {
    pushed_ok: BTreeSet<u32>,
    popped_ok: BTreeSet<u32>,
    /// The operation during which the power went.
    interrupted: Option<Op>,
    touched: u64,
    /// Most records held at once.
    max_depth: usize,
}

fn is_power_cut(e: &StorageError<NorSimError>) -> bool {
    matches!(e, StorageError::Flash(NorSimError::PowerCut))
}

/// Runs the workload on a fresh chip; stops at the power cut. Without a cut, checks
/// every read against the model.
fn workload<const W: usize>(cut: Option<u64>) -> (Vec<u8>, Outcome) {
    let image = vec![0xFF; SIZE];
    let flash = match cut {
        Some(k) => Sim::<W>::with_power_cut_after(image, k),
        None => Sim::<W>::new(image),
    };
    let mut out = Outcome::default();
    let mut buf = [0u8; 128];
    let mut model = std::collections::VecDeque::new();
    let mut flash = flash;
    block_on(async {
        let mut outbox = FlashOutbox::open(&mut flash, 0..SIZE as u32, &mut buf)
            .await
            .unwrap();
        let mut rec = [0u8; 128];
        let mut seq = 0;
        // Push in bursts of 1..=4, then pop 1..=4: the queue grows and shrinks and wraps.
        let mut step = 0u32;
        while seq < PUSHES {
            step += 1;
            for _ in 0..1 + step % 4 {
                if seq == PUSHES {
                    break;
                }
                match outbox.push_back(&record(seq)).await {
                    Ok(true) => {
                        out.pushed_ok.insert(seq);
                        model.push_back(seq);
                        out.max_depth = out.max_depth.max(model.len());
                    }
                    Ok(false) => assert!(cut.is_some() || model.len() > 8, "full too early"),
                    Err(e) if is_power_cut(&e) => {
                        out.interrupted = Some(Op::Push(seq));
                        return;
                    }
                    Err(e) => panic!("push {seq}: {e:?}"),
                }
                seq += 1;
            }
            if seq == PUSHES {
                break; // leave a backlog on the flash
            }
            // The first bursts build a backlog spanning pages; then pushes and pops balance.
            let pops = if step <= 3 { 0 } else { 1 + (step * 3 + 1) % 4 };
            for _ in 0..pops {
                let Some(&front) = model.front() else { break };
                match outbox.read_front(&mut rec).await {
                    Ok(Some(n)) => assert_eq!(parse(&rec[..n]), Some(front)),
                    Ok(None) => panic!("empty, model has {front}"),
                    Err(e) if is_power_cut(&e) => {
                        out.interrupted = Some(Op::Pop(front));
                        return;
                    }
                    Err(e) => panic!("read {front}: {e:?}"),
                }
                match outbox.pop_front().await {
                    Ok(true) => {
                        out.popped_ok.insert(front);
                        model.pop_front();
                    }
                    Ok(false) => panic!("pop on empty, model has {front}"),
                    Err(e) if is_power_cut(&e) => {
                        out.interrupted = Some(Op::Pop(front));
                        return;
                    }
                    Err(e) => panic!("pop {front}: {e:?}"),
                }
                assert_eq!(outbox.len(), model.len());
            }
        }
    });
    out.touched = flash.bytes_touched();
    if cut.is_none() {
        assert!(!flash.power_cut());
    }
    (flash.into_image(), out)
}

/// Reboots on `image`, reopens, drains; returns the sequence numbers read, in order.
fn recover<const W: usize>(image: Vec<u8>) -> Vec<u32> {
    let mut buf = [0u8; 128];
    block_on(async {
        let mut outbox = FlashOutbox::open(Sim::<W>::new(image), 0..SIZE as u32, &mut buf)
            .await
            .unwrap();
        let held = outbox.len();
        let mut rec = [0u8; 128];
        let mut drained = Vec::new();
        while let Some(n) = outbox.read_front(&mut rec).await.unwrap() {
            let seq =
                parse(&rec[..n]).unwrap_or_else(|| panic!("corrupted record {:?}", &rec[..n]));
            drained.push(seq);
            assert!(outbox.pop_front().await.unwrap());
        }
        assert_eq!(held, drained.len(), "len() at open");
        assert!(outbox.is_empty());
        // The recovered outbox keeps working.
        assert!(outbox.push_back(b"after").await.unwrap());
        assert_eq!(outbox.read_front(&mut rec).await.unwrap(), Some(5));
        assert_eq!(&rec[..5], b"after");
        drained
    })
}

fn check(k: u64, out: &Outcome, drained: &[u32]) {
    assert!(
        drained.windows(2).all(|w| w[0] < w[1]),
        "k={k}: out of order or duplicated: {drained:?}"
    );
    for &seq in drained {
        let interrupted_push = out.interrupted == Some(Op::Push(seq));
        assert!(
            out.pushed_ok.contains(&seq) || interrupted_push,
            "k={k}: record {seq} was never pushed"
        );
        assert!(
            !out.popped_ok.contains(&seq),
            "k={k}: popped record {seq} is back"
        );
    }
    let drained: BTreeSet<u32> = drained.iter().copied().collect();
    for seq in out.pushed_ok.difference(&out.popped_ok) {
        let interrupted_pop = out.interrupted == Some(Op::Pop(*seq));
        assert!(
            drained.contains(seq) || interrupted_pop,
            "k={k}: acknowledged push {seq} lost ({:?})",
            out.interrupted
        );
    }
}

/// The sweep on a flash with `W`-byte words.
fn sweep<const W: usize>() {
    let (image, full) = workload::<W>(None);
    let b = full.touched;
    println!(
        "word {W}: {PUSHES} pushes, {} pops, up to {} records held, B = {b} bytes touched \
         ({PAGES} pages of {PAGE} B)",
        full.popped_ok.len(),
        full.max_depth,
    );
    assert!(full.max_depth >= 8, "the queue should span pages");
    // The workload wraps the queue: more bytes than the flash holds, several times.
    assert!(b > 3 * SIZE as u64, "workload too small: B = {b}");
    let left = recover::<W>(image);
    let expect: Vec<u32> = full
        .pushed_ok
        .difference(&full.popped_ok)
        .copied()
        .collect();
    assert_eq!(left, expect);
    assert!(!left.is_empty(), "the workload should end with a backlog");
    // A full outbox refuses (Ok(false)): then the record is not stored, and the
    // checks below treat it as never pushed.
    println!(
        "word {W}: {} pushes refused (full)",
        PUSHES as usize - full.pushed_ok.len()
    );

    let mut torn = 0;
    for k in 0..b {
        let (image, out) = workload::<W>(Some(k));
        assert!(out.interrupted.is_some(), "k={k}: no cut");
        if let Some(Op::Push(_)) = out.interrupted {
            torn += 1;
        }
        let drained = recover::<W>(image);
        check(k, &out, &drained);
    }
    println!("{b} cuts, {torn} during a push");
}

#[test]
fn power_cut_at_every_byte() {
    sweep::<4>();
}

#[test]
fn power_cut_at_every_byte_byte_writes() {
    sweep::<1>();
}

#[test]
fn power_cut_at_every_byte_wide_words() {
    sweep::<16>();
}

/// The outbox over `image` (4-byte words), as after a reboot.
async fn reopen<'a>(
    image: &'a mut Vec<u8>,
    buf: &'a mut [u8],
) -> FlashOutbox<'a, NorSim<&'a mut Vec<u8>, PAGE, 4>> {
    FlashOutbox::open(NorSim::new(image), 0..SIZE as u32, buf)
        .await
        .unwrap()
}

#[test]
fn clean_reopen_keeps_records_in_order() {
    let mut image = vec![0xFF; SIZE];
    let mut buf = [0u8; 128];
    let mut rec = [0u8; 128];
    block_on(async {
        let mut outbox = reopen(&mut image, &mut buf).await;
        for seq in 0..10 {
            assert!(outbox.push_back(&record(seq)).await.unwrap());
        }
        assert!(outbox.pop_front().await.unwrap());
        assert!(outbox.pop_front().await.unwrap());
    });
    block_on(async {
        let mut outbox = reopen(&mut image, &mut buf).await;
        assert_eq!(outbox.len(), 8);
        for seq in 2..10 {
            let n = outbox.read_front(&mut rec).await.unwrap().unwrap();
            assert_eq!(&rec[..n], record(seq).as_slice());
            assert!(outbox.pop_front().await.unwrap());
        }
        assert_eq!(outbox.read_front(&mut rec).await.unwrap(), None);
        assert!(!outbox.pop_front().await.unwrap());
    });
}

#[test]
fn full_queue_refuses_with_ok_false() {
    // One page of 256 B: 4 B start marker, 4 B end marker, items of 8 B header + data.
    // 40-byte records take 48 B: floor(248 / 48) = 5 fit.
    let mut buf = [0u8; 128];
    let mut rec = [0u8; 128];
    block_on(async {
        let mut outbox =
            FlashOutbox::open(Sim::<4>::new(vec![0xFF; PAGE]), 0..PAGE as u32, &mut buf)
                .await
                .unwrap();
        for i in 0..5u8 {
            assert!(outbox.push_back(&[i; 40]).await.unwrap(), "record {i}");
        }
        assert!(!outbox.push_back(&[9; 40]).await.unwrap());
        assert_eq!(outbox.len(), 5);
        assert_eq!(outbox.read_front(&mut rec).await.unwrap(), Some(40));
        assert_eq!(&rec[..40], &[0; 40]);
        // Too large ever: 256 - 8 (markers) - 8 (header) = 240 B per page.
        assert!(outbox.can_ever_hold(120));
        assert!(!outbox.can_ever_hold(129)); // the scratch buffer bounds it first
        let e = outbox.push_back(&[0; 129]).await.unwrap_err();
        assert_eq!(e.kind(), StorageErrorKind::TooLarge);
        // A record longer than `out` is reported, not copied.
        let mut small = [0u8; 8];
        assert_eq!(outbox.read_front(&mut small).await.unwrap(), Some(40));
        assert_eq!(small, [0; 8]);
    });
}

#[test]
fn open_rejects_a_misaligned_range() {
    let mut buf = [0u8; 64];
    let e = block_on(FlashOutbox::open(
        Sim::<4>::new(vec![0xFF; SIZE]),
        16..SIZE as u32,
        &mut buf,
    ))
    .unwrap_err();
    assert_eq!(e.kind(), StorageErrorKind::BadRange);
}
