//! Fuzzes the stored configuration record (schema byte + postcard) as read back from
//! flash: any bytes through `Config::from_bytes`. A decoded record has a valid thing
//! name, fits `CONFIG_MAX_LEN` when written again, and reads back to the same bytes.
#![no_main]

use ioto_core::state::config::{CONFIG_MAX_LEN, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(config) = Config::from_bytes(data) else {
        return;
    };
    let name = config.thing_name.as_str();
    assert!(
        (1..=128).contains(&name.len()),
        "thing name of {} bytes",
        name.len()
    );
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-')),
        "thing name {name:?}"
    );
    let mut a = [0u8; CONFIG_MAX_LEN];
    let n = config
        .to_slice(&mut a)
        .expect("a decoded record fits CONFIG_MAX_LEN");
    let again = Config::from_bytes(&a[..n]).expect("a written record reads back");
    let mut b = [0u8; CONFIG_MAX_LEN];
    let m = again.to_slice(&mut b).expect("and writes again");
    assert_eq!(a[..n], b[..m]);
});
