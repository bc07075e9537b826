//! `ConfigStore` on the strict NOR simulator: round trips, overwrites, and a power cut
//! at every byte of a store workload (old or new value survives, never garbage).
#![allow(clippy::unwrap_used, clippy::panic)]

use embassy_futures::block_on;
use ioto_transport::storage::config::ConfigStore;
use ioto_transport::storage::nor_sim::{NorSim, NorSimError};
use ioto_transport::storage::outbox::{StorageError, StorageErrorKind};
use serde::{Deserialize, Serialize};

const PAGE: usize = 256;
const SIZE: usize = 3 * PAGE;
type Sim = NorSim<Vec<u8>, PAGE, 4>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Settings {
    interval_s: u32,
    name: heapless_name::Name,
    enabled: bool,
}

/// A small fixed-capacity string, so the test does not depend on serde's `alloc`.
mod heapless_name {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Name(pub [u8; 12], pub u8);
}

/// Version `v` of the settings: every field depends on `v`.
fn settings(v: u32) -> Settings {
    let mut name = [0u8; 12];
    for (i, b) in name.iter_mut().enumerate() {
        *b = b'a' + ((v as usize + i) % 26) as u8;
    }
    Settings {
        interval_s: 1000 + v * 7,
        name: heapless_name::Name(name, (v % 12) as u8 + 1),
        enabled: v.is_multiple_of(2),
    }
}

const SETTINGS: u16 = 1;
const COUNTER: u16 = 7;

/// The store over `image` (4-byte words), as after a reboot.
fn store<'a>(
    image: &'a mut Vec<u8>,
    buf: &'a mut [u8],
) -> ConfigStore<'a, NorSim<&'a mut Vec<u8>, PAGE, 4>> {
    ConfigStore::new(NorSim::new(image), 0..SIZE as u32, buf).unwrap()
}

#[test]
fn store_reopen_fetch_and_overwrite() {
    let mut image = vec![0xFF; SIZE];
    let mut buf = [0u8; 64];
    block_on(async {
        let mut c = store(&mut image, &mut buf);
        assert_eq!(c.fetch::<Settings>(SETTINGS).await.unwrap(), None);
        c.store(SETTINGS, &settings(1)).await.unwrap();
        c.store(COUNTER, &42u64).await.unwrap();
        c.store(SETTINGS, &settings(2)).await.unwrap();
    });
    block_on(async {
        let mut c = store(&mut image, &mut buf);
        assert_eq!(
            c.fetch::<Settings>(SETTINGS).await.unwrap(),
            Some(settings(2))
        );
        assert_eq!(c.fetch::<u64>(COUNTER).await.unwrap(), Some(42));
        c.remove(COUNTER).await.unwrap();
        assert_eq!(c.fetch::<u64>(COUNTER).await.unwrap(), None);
        // Many overwrites (the map recycles its pages): the latest wins.
        for v in 3..60 {
            c.store(SETTINGS, &settings(v)).await.unwrap();
        }
        assert_eq!(
            c.fetch::<Settings>(SETTINGS).await.unwrap(),
            Some(settings(59))
        );
        // A value that does not decode as the asked type.
        c.store(COUNTER, &true).await.unwrap();
        let e = c.fetch::<Settings>(COUNTER).await.unwrap_err();
        assert_eq!(e.kind(), StorageErrorKind::Serialization);
    });
    block_on(async {
        let mut c = store(&mut image, &mut buf);
        assert_eq!(
            c.fetch::<Settings>(SETTINGS).await.unwrap(),
            Some(settings(59))
        );
    });
}

#[test]
fn too_small_buffer_and_bad_range_are_errors() {
    let mut small = [0u8; 8];
    block_on(async {
        let mut c =
            ConfigStore::new(Sim::new(vec![0xFF; SIZE]), 0..SIZE as u32, &mut small).unwrap();
        let e = c.store(SETTINGS, &settings(1)).await.unwrap_err();
        assert_eq!(e.kind(), StorageErrorKind::BufferTooSmall);
    });
    let mut buf = [0u8; 64];
    // A map needs two pages.
    let e = ConfigStore::new(Sim::new(vec![0xFF; SIZE]), 0..PAGE as u32, &mut buf).unwrap_err();
    assert_eq!(e.kind(), StorageErrorKind::BadRange);
}

#[derive(Debug, Default)]
struct Outcome {
    /// Last version whose store returned Ok, per key (settings, counter).
    settings_ok: Option<u32>,
    counter_ok: Option<u64>,
    /// The store in progress when the power went.
    interrupted: Option<(u16, u64)>,
    touched: u64,
}

const VERSIONS: u32 = 120;

fn workload(cut: Option<u64>) -> (Vec<u8>, Outcome) {
    let image = vec![0xFF; SIZE];
    let mut flash = match cut {
        Some(k) => Sim::with_power_cut_after(image, k),
        None => Sim::new(image),
    };
    let mut out = Outcome::default();
    let mut buf = [0u8; 64];
    block_on(async {
        let mut c = ConfigStore::new(&mut flash, 0..SIZE as u32, &mut buf).unwrap();
        for v in 0..VERSIONS {
            match c.store(SETTINGS, &settings(v)).await {
                Ok(()) => out.settings_ok = Some(v),
                Err(StorageError::Flash(NorSimError::PowerCut)) => {
                    out.interrupted = Some((SETTINGS, u64::from(v)));
                    return;
                }
                Err(e) => panic!("store settings {v}: {e:?}"),
            }
            if v.is_multiple_of(3) {
                let n = u64::from(v) * 1_000_003;
                match c.store(COUNTER, &n).await {
                    Ok(()) => out.counter_ok = Some(n),
                    Err(StorageError::Flash(NorSimError::PowerCut)) => {
                        out.interrupted = Some((COUNTER, n));
                        return;
                    }
                    Err(e) => panic!("store counter {v}: {e:?}"),
                }
            }
        }
    });
    out.touched = flash.bytes_touched();
    (flash.into_image(), out)
}

#[test]
fn power_cut_during_store_keeps_old_or_new() {
    let (image, full) = workload(None);
    let b = full.touched;
    println!("config: {VERSIONS} versions, B = {b} bytes touched ({SIZE} B of flash)");
    assert!(
        b > 2 * SIZE as u64,
        "the map must recycle its pages: B = {b}"
    );
    assert_eq!(full.settings_ok, Some(VERSIONS - 1));
    let mut buf = [0u8; 64];
    let check = |k: u64, image: Vec<u8>, out: &Outcome, buf: &mut [u8]| {
        block_on(async {
            let mut c = ConfigStore::new(Sim::new(image), 0..SIZE as u32, buf).unwrap();
            let s = c.fetch::<Settings>(SETTINGS).await.unwrap();
            let new_s = match out.interrupted {
                Some((SETTINGS, v)) => Some(settings(v as u32)),
                _ => None,
            };
            let old_s = out.settings_ok.map(settings);
            assert!(
                s == old_s || (new_s.is_some() && s == new_s),
                "k={k}: settings {s:?}, {out:?}"
            );
            let n = c.fetch::<u64>(COUNTER).await.unwrap();
            let new_n = match out.interrupted {
                Some((COUNTER, n)) => Some(n),
                _ => None,
            };
            assert!(
                n == out.counter_ok || (new_n.is_some() && n == new_n),
                "k={k}: counter {n:?}, {out:?}"
            );
            // The store keeps working after the reboot.
            c.store(SETTINGS, &settings(1234)).await.unwrap();
            assert_eq!(
                c.fetch::<Settings>(SETTINGS).await.unwrap(),
                Some(settings(1234))
            );
            assert_eq!(c.fetch::<u64>(COUNTER).await.unwrap(), n);
        });
    };
    check(u64::MAX, image, &full, &mut buf);
    for k in 0..b {
        let (image, out) = workload(Some(k));
        assert!(out.interrupted.is_some(), "k={k}: no cut");
        check(k, image, &out, &mut buf);
    }
    println!("config: {b} cuts survived");
}
