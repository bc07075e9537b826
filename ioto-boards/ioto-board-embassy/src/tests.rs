//! Host tests: credentials through a real `ConfigStore` on ioto-transport's simulated
//! NOR flash, partition layouts, and the split of a flash into partitions.
#![allow(clippy::unwrap_used)]

extern crate std;

use std::format;

use embassy_futures::block_on;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::mutex::Mutex;
use embedded_storage_async::nor_flash::{NorFlash, ReadNorFlash};
use ioto_transport::storage::config::ConfigStore;
use ioto_transport::storage::nor_sim::NorSim;
use ioto_transport::storage::outbox::StorageError;
use static_cell::StaticCell;

use crate::credentials::{
    Credentials, CredentialsError, DEFAULT_BROKER_PORT, Field, SCRATCH_LEN, SSID_MAX, Source,
};
use crate::storage::{Layout, LayoutError, Storage};

type E = ioto_transport::storage::nor_sim::NorSimError;

const PAGE: u32 = 4096;

#[test]
fn credentials_come_back_from_the_config_partition() {
    let mut image = [0xFFu8; 4 * PAGE as usize];
    let mut buf = [0u8; SCRATCH_LEN];
    let mut store =
        ConfigStore::new(NorSim::<_>::new(&mut image[..]), 0..4 * PAGE, &mut buf).unwrap();
    let mut c = Credentials::new();
    c.set::<E>(Field::WifiSsid, "lab-2.4").unwrap();
    c.set::<E>(Field::WifiPassphrase, "correct horse battery")
        .unwrap();
    c.set::<E>(Field::BrokerHost, "broker.local").unwrap();
    c.set::<E>(Field::BrokerPort, "8883").unwrap();
    c.set::<E>(Field::ApiKey, "sk-test-0123").unwrap();
    block_on(c.store(&mut store)).unwrap();

    let back = block_on(Credentials::load(&mut store)).unwrap();
    assert_eq!(
        back.wifi::<E>().unwrap(),
        ("lab-2.4", "correct horse battery")
    );
    assert_eq!(back.broker::<E>().unwrap(), ("broker.local", 8883));
    assert_eq!(back.api_key::<E>().unwrap().expose(), "sk-test-0123");
    assert_eq!(back.mqtt_login(), (None, None));
    let sources = back.sources();
    assert_eq!(sources.of(Field::WifiSsid), Source::Partition);
    assert_eq!(sources.of(Field::BrokerPort), Source::Partition);
    // Not in the partition and (in this test build) not in the build environment.
    if option_env!("IOTO_MQTT_USERNAME").is_none() {
        assert_eq!(sources.of(Field::MqttUsername), Source::Unset);
    }
}

#[test]
fn an_empty_partition_leaves_what_the_build_did_not_set_unset() {
    let mut image = [0xFFu8; 2 * PAGE as usize];
    let mut buf = [0u8; SCRATCH_LEN];
    let mut store =
        ConfigStore::new(NorSim::<_>::new(&mut image[..]), 0..2 * PAGE, &mut buf).unwrap();
    let c = block_on(Credentials::load(&mut store)).unwrap();
    for field in Field::ALL {
        let expected = if option_env_of(field).is_some_and(|v| !v.is_empty()) {
            Source::BuildEnv
        } else {
            Source::Unset
        };
        assert_eq!(c.sources().of(field), expected, "{field:?}");
    }
    if option_env!("IOTO_WIFI_SSID").is_none() {
        assert_eq!(
            c.wifi::<E>(),
            Err(CredentialsError::Missing(Field::WifiSsid))
        );
    }
    if option_env!("IOTO_BROKER_PORT").is_none() && option_env!("IOTO_BROKER_HOST").is_some() {
        assert_eq!(c.broker::<E>().unwrap().1, DEFAULT_BROKER_PORT);
    }
}

/// The test's own reading of the build environment, independent of `Field::built_in`.
fn option_env_of(field: Field) -> Option<&'static str> {
    match field.env() {
        "IOTO_WIFI_SSID" => option_env!("IOTO_WIFI_SSID"),
        "IOTO_WIFI_PASSPHRASE" => option_env!("IOTO_WIFI_PASSPHRASE"),
        "IOTO_BROKER_HOST" => option_env!("IOTO_BROKER_HOST"),
        "IOTO_BROKER_PORT" => option_env!("IOTO_BROKER_PORT"),
        "IOTO_MQTT_USERNAME" => option_env!("IOTO_MQTT_USERNAME"),
        "IOTO_MQTT_PASSWORD" => option_env!("IOTO_MQTT_PASSWORD"),
        "IOTO_API_KEY" => option_env!("IOTO_API_KEY"),
        _ => None,
    }
}

#[test]
fn secrets_never_show_in_debug_or_sources() {
    let mut c = Credentials::new();
    c.set::<E>(Field::WifiSsid, "lab").unwrap();
    c.set::<E>(Field::WifiPassphrase, "hunter2-passphrase")
        .unwrap();
    c.set::<E>(Field::MqttPassword, "mqtt-pw-77").unwrap();
    c.set::<E>(Field::ApiKey, "sk-live-secret").unwrap();
    let debug = format!("{c:?}");
    let sources = format!("{}", c.sources());
    for secret in ["hunter2", "mqtt-pw-77", "sk-live-secret"] {
        assert!(!debug.contains(secret), "{debug}");
        assert!(!sources.contains(secret), "{sources}");
    }
    assert!(debug.contains("Secret(18 bytes)"), "{debug}");
    assert!(
        sources.contains("IOTO_WIFI_PASSPHRASE (secret): application"),
        "{sources}"
    );
    assert_eq!(c.mqtt_login(), (None, Some(&b"mqtt-pw-77"[..])));
}

#[test]
fn values_that_do_not_fit_are_typed_errors() {
    let mut c = Credentials::new();
    let long = "x".repeat(SSID_MAX + 1);
    assert_eq!(
        c.set::<E>(Field::WifiSsid, &long),
        Err(CredentialsError::TooLong(Field::WifiSsid))
    );
    assert_eq!(c.sources().of(Field::WifiSsid), Source::Unset);
    assert_eq!(
        c.wifi::<E>(),
        Err(CredentialsError::Missing(Field::WifiSsid))
    );
    for bad in ["0", "65536", "18x3", ""] {
        assert_eq!(
            c.set::<E>(Field::BrokerPort, bad),
            Err(CredentialsError::BadPort),
            "{bad}"
        );
    }
    c.set::<E>(Field::BrokerHost, "10.0.0.2").unwrap();
    assert_eq!(c.broker::<E>().unwrap(), ("10.0.0.2", DEFAULT_BROKER_PORT));
}

#[test]
fn a_partition_value_too_long_for_its_field_is_refused() {
    let mut image = [0xFFu8; 2 * PAGE as usize];
    let mut buf = [0u8; SCRATCH_LEN];
    let mut store =
        ConfigStore::new(NorSim::<_>::new(&mut image[..]), 0..2 * PAGE, &mut buf).unwrap();
    // Written by something else: a 40-byte SSID (the field holds 32).
    let long = "s".repeat(40);
    block_on(store.store(Field::WifiSsid.key(), long.as_str())).unwrap();
    assert_eq!(
        block_on(Credentials::load(&mut store)).unwrap_err(),
        CredentialsError::TooLong(Field::WifiSsid)
    );
    // A port of 0 is no port.
    block_on(store.remove(Field::WifiSsid.key())).unwrap();
    block_on(store.store(Field::BrokerPort.key(), &0u16)).unwrap();
    assert_eq!(
        block_on(Credentials::load(&mut store)).unwrap_err(),
        CredentialsError::BadPort
    );
    // A value that is no u16 does not decode.
    block_on(store.store(Field::BrokerPort.key(), &70_000u32)).unwrap();
    assert!(matches!(
        block_on(Credentials::load(&mut store)),
        Err(CredentialsError::Storage(StorageError::Serialization))
    ));
}

#[test]
fn unset_fields_are_removed_from_the_partition() {
    let mut image = [0xFFu8; 2 * PAGE as usize];
    let mut buf = [0u8; SCRATCH_LEN];
    let mut store =
        ConfigStore::new(NorSim::<_>::new(&mut image[..]), 0..2 * PAGE, &mut buf).unwrap();
    block_on(store.store(Field::ApiKey.key(), "old-key")).unwrap();
    let mut c = Credentials::new();
    c.set::<E>(Field::BrokerHost, "h").unwrap();
    block_on(c.store(&mut store)).unwrap();
    assert_eq!(
        block_on(store.fetch::<heapless::String<16>>(Field::ApiKey.key())).unwrap(),
        None
    );
    assert_eq!(
        block_on(store.fetch::<heapless::String<16>>(Field::BrokerHost.key()))
            .unwrap()
            .as_deref(),
        Some("h")
    );
}

#[test]
fn layouts_are_checked_against_the_flash() {
    let ok = Layout {
        outbox: 0..3 * PAGE,
        config: 3 * PAGE..5 * PAGE,
    };
    assert_eq!(ok.check(8 * PAGE as usize, PAGE as usize), Ok(()));
    let cases = [
        (0..3 * PAGE + 4, 4 * PAGE..6 * PAGE, LayoutError::Unaligned),
        (0..0, PAGE..3 * PAGE, LayoutError::Size),
        (0..PAGE, PAGE..2 * PAGE, LayoutError::Size),
        (0..PAGE, 7 * PAGE..9 * PAGE, LayoutError::Size),
        (0..3 * PAGE, 2 * PAGE..4 * PAGE, LayoutError::Overlap),
    ];
    for (outbox, config, error) in cases {
        let layout = Layout { outbox, config };
        assert_eq!(
            layout.check(8 * PAGE as usize, PAGE as usize),
            Err(error),
            "{layout:?}"
        );
    }
}

/// ioto-transport's simulated NOR flash over a `Vec`, to keep in a static for
/// `Storage::split` (which needs `'static`).
type Sim = NorSim<std::vec::Vec<u8>>;

#[test]
fn partitions_address_their_own_range_of_the_flash() {
    static FLASH: StaticCell<Mutex<CriticalSectionRawMutex, Sim>> = StaticCell::new();
    let flash = FLASH.init(Mutex::new(NorSim::new(
        std::vec![0xFFu8; 8 * PAGE as usize],
    )));
    let layout = Layout {
        outbox: 2 * PAGE..5 * PAGE,
        config: 6 * PAGE..8 * PAGE,
    };
    let mut storage = Storage::split(flash, &layout).unwrap();
    assert_eq!(storage.outbox.capacity(), 3 * PAGE as usize);
    assert_eq!(storage.config.capacity(), 2 * PAGE as usize);
    block_on(storage.outbox.write(0, &[1, 2, 3, 4])).unwrap();
    block_on(storage.config.write(4, &[9, 9, 9, 9])).unwrap();
    let mut sim = block_on(flash.lock());
    let mut word = [0u8; 4];
    block_on(sim.read(2 * PAGE, &mut word)).unwrap();
    assert_eq!(word, [1, 2, 3, 4]);
    block_on(sim.read(6 * PAGE + 4, &mut word)).unwrap();
    assert_eq!(word, [9, 9, 9, 9]);
    block_on(sim.read(0, &mut word)).unwrap();
    assert_eq!(
        word, [0xFF; 4],
        "nothing outside the partitions was written"
    );
    drop(sim);
    // A layout beyond the flash is refused before any partition exists.
    static OTHER: StaticCell<Mutex<CriticalSectionRawMutex, Sim>> = StaticCell::new();
    let small = OTHER.init(Mutex::new(NorSim::new(
        std::vec![0xFFu8; 4 * PAGE as usize],
    )));
    assert_eq!(
        Storage::split(small, &layout).err(),
        Some(LayoutError::Size)
    );
}
