//! The offline queue (RAM storage, overflow policies, wrap-around) and the reconnect
//! backoff — pure logic, no broker needed.
#![allow(clippy::unwrap_used, clippy::panic)]

use embassy_futures::block_on;
use ioto_core::outbox::{
    OfflineQueue, Outbox, Pushed, QueueError, QueuePolicy, RAM_RECORD_OVERHEAD, RamQueue,
};
use ioto_transport::mqtt::client::Backoff;

fn drain(q: &mut OfflineQueue<RamQueue<'_>>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64];
    while let Some(n) = block_on(q.front(&mut buf)).unwrap() {
        out.push(buf[..n].to_vec());
        assert!(block_on(q.pop()).unwrap());
    }
    out
}

#[test]
fn policies_when_full() {
    for (policy, want, dropped) in [
        (
            QueuePolicy::DropOldest,
            vec![b"2".to_vec(), b"3".to_vec(), b"4".to_vec()],
            2,
        ),
        (
            QueuePolicy::DropNewest,
            vec![b"0".to_vec(), b"1".to_vec(), b"2".to_vec()],
            2,
        ),
        (
            QueuePolicy::Reject,
            vec![b"0".to_vec(), b"1".to_vec(), b"2".to_vec()],
            0,
        ),
    ] {
        let mut mem = [0u8; 256];
        let mut q = OfflineQueue::new(RamQueue::new(&mut mem, 3), policy);
        for i in 0..5u8 {
            let r = block_on(q.push(&[b'0' + i]));
            match (policy, i) {
                (_, 0..=2) => assert_eq!(r, Ok(Pushed::Stored { evicted: 0 })),
                (QueuePolicy::DropOldest, _) => assert_eq!(r, Ok(Pushed::Stored { evicted: 1 })),
                (QueuePolicy::DropNewest, _) => assert_eq!(r, Ok(Pushed::Discarded)),
                (QueuePolicy::Reject, _) => assert_eq!(r, Err(QueueError::Full)),
            }
        }
        assert_eq!(q.dropped(), dropped, "{policy:?}");
        assert_eq!(drain(&mut q), want, "{policy:?}");
    }
}

#[test]
fn byte_capacity_and_wrap_around_keep_records_intact() {
    let mut mem = [0u8; 50];
    let mut q = OfflineQueue::new(RamQueue::new(&mut mem, 100), QueuePolicy::DropOldest);
    assert_eq!(block_on(q.push(&[0u8; 47])), Err(QueueError::TooLarge));
    let mut expect = std::collections::VecDeque::new();
    let mut buf = [0u8; 64];
    for i in 0..200u32 {
        let len = (i % 13 + 1) as usize;
        let rec: Vec<u8> = (0..len)
            .map(|k| (i as u8).wrapping_mul(7).wrapping_add(k as u8))
            .collect();
        if let Ok(Pushed::Stored { evicted }) = block_on(q.push(&rec)) {
            for _ in 0..evicted {
                expect.pop_front();
            }
        }
        expect.push_back(rec);
        let used: usize = expect.iter().map(|r| r.len() + RAM_RECORD_OVERHEAD).sum();
        assert!(used <= 50);
        assert_eq!(q.storage().used_bytes(), used);
        if i % 3 == 0 {
            let n = block_on(q.front(&mut buf)).unwrap().unwrap();
            assert_eq!(&buf[..n], expect.pop_front().unwrap().as_slice());
            block_on(q.pop()).unwrap();
        }
    }
    let rest = drain(&mut q);
    assert_eq!(rest, expect.into_iter().collect::<Vec<_>>());
    assert!(q.storage().is_empty());
}

#[test]
fn oversized_front_is_reported_not_copied() {
    let mut mem = [0u8; 64];
    let mut store = RamQueue::new(&mut mem, 4);
    assert!(block_on(store.push_back(&[9u8; 20])).unwrap());
    let mut small = [0u8; 4];
    assert_eq!(block_on(store.read_front(&mut small)).unwrap(), Some(20));
    assert_eq!(small, [0u8; 4]);
}

#[test]
fn backoff_is_full_jitter_and_capped() {
    let b = Backoff {
        base_ms: 100,
        max_ms: 5_000,
    };
    assert_eq!(b.ceiling_ms(0), 100);
    assert_eq!(b.ceiling_ms(3), 800);
    assert_eq!(b.ceiling_ms(10), 5_000);
    assert_eq!(b.ceiling_ms(200), 5_000);
    assert_eq!(b.delay_ms(2, 0), 0);
    assert_eq!(b.delay_ms(2, 400), 400);
    assert_eq!(b.delay_ms(2, 401), 0);
    assert_eq!(b.delay_ms(2, u32::MAX), u32::MAX % 401);
    let max = (0..10_000u32)
        .map(|r| b.delay_ms(4, r.wrapping_mul(2_654_435_761)))
        .max()
        .unwrap();
    assert!(
        (1_500..=1_600).contains(&max),
        "spread reaches the ceiling: {max}"
    );
}
