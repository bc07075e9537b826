//! The TLS 1.3 client engine on arbitrary server bytes, through the public API: record
//! headers and size limits, ChangeCipherSpec and alert records, handshake-message
//! reassembly across records, ServerHello / HelloRetryRequest parsing, and — for inputs
//! derived from the recorded session (the seeds), whose ServerHello matches the
//! client's fixed ECDHE key — record decryption, EncryptedExtensions, Certificate,
//! CertificateVerify, Finished and the post-handshake messages. Every input must end in
//! `Ok` or a typed error, never a panic.
//!
//! Input: byte 0 sets how many bytes each stream read returns and the read-buffer size,
//! the rest is what the server sends.
#![no_main]

use embedded_io_async::{Read, Write};
use ioto_transport::tls::{self, MaxFragmentLength, TlsConfig};
use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

#[path = "mem_stream.rs"]
mod mem_stream;
use mem_stream::MemStream;

/// The recorded session's trust anchor, time and RNG seed (examples/qemu replay.rs).
const CA: &[u8] = include_bytes!("../../../examples/qemu/fixtures/tls-rsa-p384/ca.der");
const NOW: u64 = u64::from_le_bytes(*include_bytes!(
    "../../../examples/qemu/fixtures/tls-rsa-p384/now.bin"
));
const SEED: [u8; 32] = *b"ioto-rs tls replay fixture seed!";

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, data)) = input.split_first() else {
        return;
    };
    let step = usize::from(knobs & 0x1f) * 97 + 1;
    let read_len = if knobs & 0x80 != 0 { 4096 + 256 } else { 1024 };
    let mut read_buf = vec![0u8; read_len];
    let mut write_buf = vec![0u8; 1024];
    let config = TlsConfig {
        max_fragment_length: Some(MaxFragmentLength::Bits12),
        ..TlsConfig::new(CA, "localhost", NOW)
    };
    let stream = MemStream { data, step };
    embassy_futures::block_on(async {
        let rng = ChaCha20Rng::from_seed(SEED);
        let Ok(mut tls) = tls::connect(stream, &config, rng, &mut read_buf, &mut write_buf).await
        else {
            return;
        };
        let _ = tls.write_all(b"hello from ioto\n").await;
        let _ = tls.flush().await;
        let mut got = [0u8; 64];
        while let Ok(n) = tls.read(&mut got).await {
            if n == 0 {
                break;
            }
        }
        let _ = tls.close().await;
    });
});
