//! Fuzzes the outbox as read back from flash: the input is the content of a 4-page
//! NOR chip (256-byte pages, the rest erased), as a power cut, wear or a bug may leave
//! it. `FlashOutbox::open` over it, then drain (read and pop every record), then push:
//! nothing may panic, every operation answers a value or a typed error, and once the
//! outbox is drained a pushed record is the one read back.
#![no_main]

use embassy_futures::block_on;
use ioto_core::outbox::Outbox;
use ioto_transport::storage::nor_sim::NorSim;
use ioto_transport::storage::outbox::FlashOutbox;
use libfuzzer_sys::fuzz_target;

const PAGE: usize = 256;
const PAGES: usize = 4;

fuzz_target!(|data: &[u8]| {
    let mut image = [0xFFu8; PAGE * PAGES];
    let n = data.len().min(image.len());
    image[..n].copy_from_slice(&data[..n]);
    let flash: NorSim<_, PAGE, 4> = NorSim::new(&mut image[..]);
    let mut buf = [0u8; PAGE];
    block_on(async {
        let Ok(mut outbox) = FlashOutbox::open(flash, 0..(PAGE * PAGES) as u32, &mut buf).await
        else {
            return;
        };
        let mut out = [0u8; PAGE];
        let mut drained = false;
        // Each pop removes one record: never more pops than records counted, plus one.
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
        let record = b"t=21.5";
        let pushed = matches!(outbox.push_back(record).await, Ok(true));
        if drained && pushed {
            assert_eq!(outbox.len(), 1);
            let got = outbox.read_front(&mut out).await;
            assert_eq!(got, Ok(Some(record.len())), "drained then pushed");
            assert_eq!(&out[..record.len()], record);
        }
        let too_big = [0u8; PAGE + 1];
        assert!(outbox.push_back(&too_big).await.is_err());
    });
});
