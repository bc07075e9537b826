//! The `outbox_flash` fuzz target's sequence over a flash image, shared by the fuzz
//! target (`fuzz/fuzz_targets/outbox_flash.rs`) and the regression tests
//! (`tests/outbox_damaged_image.rs`): open, drain, push one record, read the front.
#![allow(dead_code)]

use embassy_futures::block_on;
use ioto_core::outbox::Outbox;
use ioto_transport::storage::nor_sim::NorSim;
use ioto_transport::storage::outbox::{FlashOutbox, StorageErrorKind};

/// The chip: 4 pages of 256 bytes, 4-byte words.
pub const PAGE: usize = 256;
pub const PAGES: usize = 4;
pub const SIZE: usize = PAGE * PAGES;

/// The chip over `image`.
pub fn chip(image: &mut [u8]) -> NorSim<&mut [u8], PAGE, 4> {
    NorSim::new(image)
}

/// The fuzz input as the chip image: its bytes first, the rest erased.
pub fn image_from(data: &[u8]) -> Vec<u8> {
    let mut image = vec![0xFF; SIZE];
    let n = data.len().min(SIZE);
    image[..n].copy_from_slice(&data[..n]);
    image
}

/// What happened to an image: `open` refused it, or the drain/push/read sequence ran.
#[derive(Debug, PartialEq)]
pub enum Run {
    Refused(StorageErrorKind),
    Ran {
        drained: bool,
        pushed: bool,
        len_after_push: usize,
        read_back: Option<Vec<u8>>,
    },
}

/// Opens the outbox over `image`, drains it (reads and pops until `Ok(None)`, never
/// more pops than records counted, plus one), pushes `record`, reads the front. Every
/// step answers a value or a typed error; a record read is never longer than the
/// outbox allows, and one longer than a page is refused.
pub fn run(image: &mut [u8], record: &[u8]) -> Run {
    let mut buf = [0u8; PAGE];
    block_on(async {
        let mut outbox = match FlashOutbox::open(chip(image), 0..SIZE as u32, &mut buf).await {
            Ok(o) => o,
            Err(e) => return Run::Refused(e.kind()),
        };
        let mut out = [0u8; PAGE];
        let mut drained = false;
        for _ in 0..=outbox.len() + 1 {
            match outbox.read_front(&mut out).await {
                Ok(None) => {
                    drained = true;
                    break;
                }
                Ok(Some(len)) => assert!(len <= outbox.max_record_len()),
                Err(_) => break,
            }
            if outbox.pop_front().await.is_err() {
                break;
            }
        }
        let pushed = matches!(outbox.push_back(record).await, Ok(true));
        let len_after_push = outbox.len();
        let read_back = match outbox.read_front(&mut out).await {
            Ok(Some(n)) => Some(out[..n].to_vec()),
            _ => None,
        };
        assert!(outbox.push_back(&[0u8; PAGE + 1]).await.is_err());
        Run::Ran {
            drained,
            pushed,
            len_after_push,
            read_back,
        }
    })
}

/// The outbox's promise where `open` accepted the image: once drained, a push that
/// returned `Ok(true)` is the one record, read back byte for byte.
pub fn check_ran(run: &Run, record: &[u8]) {
    if let Run::Ran {
        drained: true,
        pushed: true,
        len_after_push,
        read_back,
    } = run
    {
        assert_eq!(*len_after_push, 1);
        assert_eq!(read_back.as_deref(), Some(record), "drained then pushed");
    }
}
