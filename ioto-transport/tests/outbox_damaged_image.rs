//! `FlashOutbox` over damaged flash images (inputs found by the `outbox_flash` fuzz
//! target, kept in `tests/fuzz_regressions`): open, drain, push, and the pushed record
//! must be the one read back — or `open` refuses the image with a typed error.
#![allow(clippy::unwrap_used, clippy::panic)]

mod outbox_image;

use embassy_futures::block_on;
use ioto_core::outbox::Outbox;
use ioto_transport::storage::outbox::{FlashOutbox, StorageErrorKind};
use outbox_image::{PAGE, PAGES, Run, SIZE, check_ran, chip, image_from, run};

fn regression(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fuzz_regressions/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Checks the outbox's promise on `image`: refused at `open` with `Corrupted`, or —
/// once drained — a push that returned `Ok(true)` is read back byte for byte.
fn check_promise(mut image: Vec<u8>) {
    let record = b"t=21.5";
    match run(&mut image, record) {
        Run::Refused(kind) => assert_eq!(kind, StorageErrorKind::Corrupted),
        ran => check_ran(&ran, record),
    }
}

#[test]
fn fuzz_crash_da2036f8_push_after_drain_is_read_back() {
    let data = regression("outbox_flash-crash-da2036f8b2636aca4b410d15a876b04c93e6dee5");
    check_promise(image_from(&data));
}

/// Page 0 closed, pages 1..=3 free by their markers, but page 1 holds leftover bytes
/// that parse as a record: it was read back in front of the pushed one.
#[test]
fn fuzz_crash_8ec70378_push_after_drain_is_read_back() {
    let data = regression("outbox_flash-crash-8ec70378bde042d1b3692c271f6764410432c7bf");
    check_promise(image_from(&data));
}

/// Read by hand from the crash image's marker words (first and last word of each
/// page, "set" when at least 4 bits are 0): page 0 `00000000`/`00000000` closed,
/// page 1 `fffffff8`/`00000000` half-erased (free once erased again), page 2
/// `00000000`/`ffffffff` partial-open, page 3 blank. A closed page cut off from the
/// partial-open page by a free one: reading stops at page 1, pushing goes to page 2.
#[test]
fn fuzz_crash_da2036f8_is_refused_at_open() {
    let data = regression("outbox_flash-crash-da2036f8b2636aca4b410d15a876b04c93e6dee5");
    let mut image = image_from(&data);
    assert_eq!(
        run(&mut image, b"t=21.5"),
        Run::Refused(StorageErrorKind::Corrupted)
    );
}

/// An image with the given page markers (start, end) and nothing else.
fn marked(pages: [(bool, bool); PAGES]) -> Vec<u8> {
    let mut image = vec![0xFF; SIZE];
    for (i, (start, end)) in pages.into_iter().enumerate() {
        if start {
            image[i * PAGE..i * PAGE + 4].fill(0);
        }
        if end {
            image[(i + 1) * PAGE - 4..(i + 1) * PAGE].fill(0);
        }
    }
    image
}

const O: (bool, bool) = (false, false);
const P: (bool, bool) = (true, false);
const C: (bool, bool) = (true, true);
/// Half-erased (end marker only): `sequential-storage` erases it again.
const X: (bool, bool) = (false, true);

/// Rings `sequential-storage` cannot have written are refused.
#[test]
fn inconsistent_rings_are_refused() {
    for ring in [
        [C, O, P, O], // the crash, reduced: closed page not next to the partial-open one
        [C, X, P, O], // the same with the half-erased page
        [P, O, P, O], // two pages being written
        [C, P, C, P],
        [C, C, C, C], // no page to write next
        [C, O, C, O], // two runs of closed pages
        [P, C, O, O], // closed page after the partial-open one, then free pages
    ] {
        let mut image = marked(ring);
        assert_eq!(
            run(&mut image, b"t=21.5"),
            Run::Refused(StorageErrorKind::Corrupted),
            "{ring:?}"
        );
    }
}

/// Rings `sequential-storage` leaves (also between two steps of a page change, and
/// with a half-erased page) open; a push after the drain is read back.
#[test]
fn consistent_rings_open() {
    for ring in [
        [O, O, O, O],
        [X, O, O, O],
        [O, P, O, O],
        [C, P, O, O],
        [O, C, C, P],
        [C, C, C, P], // full ring
        [P, C, C, C], // full ring, wrapped
        [C, C, O, O], // page closed, next one not yet marked
        [O, C, O, O],
        [C, O, O, C], // closed run wrapping around
        [C, X, O, C],
    ] {
        let mut image = marked(ring);
        let record = b"t=21.5";
        match run(&mut image, record) {
            Run::Refused(kind) => panic!("{ring:?} refused: {kind:?}"),
            Run::Ran {
                drained,
                pushed,
                len_after_push,
                read_back,
            } => {
                assert!(drained, "{ring:?}");
                assert!(pushed, "{ring:?}");
                assert_eq!(len_after_push, 1, "{ring:?}");
                assert_eq!(read_back.as_deref(), Some(&record[..]), "{ring:?}");
            }
        }
    }
}

/// A refused image is usable after `format`: the push is read back.
#[test]
fn fuzz_crash_da2036f8_format_recovers() {
    let data = regression("outbox_flash-crash-da2036f8b2636aca4b410d15a876b04c93e6dee5");
    let mut image = image_from(&data);
    let mut buf = [0u8; PAGE];
    block_on(async {
        let range = 0..SIZE as u32;
        let mut outbox = FlashOutbox::format(chip(&mut image), range, &mut buf)
            .await
            .unwrap();
        assert!(outbox.push_back(b"t=21.5").await.unwrap());
        let mut out = [0u8; PAGE];
        assert_eq!(outbox.read_front(&mut out).await.unwrap(), Some(6));
        assert_eq!(&out[..6], b"t=21.5");
    });
}

/// A record left on a page whose markers say free (start marker turned back to
/// `0xFF` by hand) is not served in front of the records pushed after `open`.
#[test]
fn leftover_record_on_a_free_page_is_not_served() {
    let mut image = vec![0xFF; SIZE];
    let pushed = run(&mut image, b"stale");
    assert!(
        matches!(pushed, Run::Ran { pushed: true, .. }),
        "{pushed:?}"
    );
    assert_eq!(&image[..4], &[0, 0, 0, 0]); // page 0 partial-open
    image[..4].fill(0xFF); // now "free", record still there
    check_promise(image);
}
