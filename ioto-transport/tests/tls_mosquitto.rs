//! TLS 1.3 client against mosquitto's TLS listener (certificates made by the `openssl`
//! CLI at run time). The MQTT 3.1.1 packets here are a fixed, minimal byte script —
//! enough to prove that a real broker accepts our TLS stream both ways; the MQTT
//! client itself is tested in its own suites.
#![cfg(feature = "tls")]
#![allow(clippy::unwrap_used, clippy::panic)]

mod tls_common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use embassy_futures::block_on;
use embedded_io_async::{Read, Write};
use ioto_transport::tls::{self, READ_BUF_FULL, TlsConfig, TlsError};
use rand_core::OsRng;
use tls_common::{Leaf, Pki, StdStream, mosquitto_tls, now_unix};

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        Pki::generate(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls_mosquitto_pki"))
    })
}

const TOPIC: &[u8] = b"ioto/tls";

/// An MQTT packet: fixed header byte, remaining length (< 128 here), body.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 128);
    let mut p = vec![first, body.len() as u8];
    p.extend_from_slice(body);
    p
}

fn string(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

async fn read_exact<S: Read>(s: &mut S, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let k = s
            .read(&mut buf[got..])
            .await
            .unwrap_or_else(|e| panic!("read: {e:?}"));
        assert!(k > 0, "broker closed the connection");
        got += k;
    }
    buf
}

/// Reads one MQTT packet (remaining length < 128) and returns its bytes.
async fn read_packet<S: Read>(s: &mut S) -> Vec<u8> {
    let mut head = read_exact(s, 2).await;
    assert!(head[1] < 128, "unexpectedly long packet");
    let body = read_exact(s, usize::from(head[1])).await;
    head.extend_from_slice(&body);
    head
}

#[test]
fn mqtt_over_verified_tls_round_trips_through_mosquitto() {
    let pki = pki();
    let broker = mosquitto_tls(&pki.dir, &pki.good);
    let ca = pki.ca.pem();
    let config = TlsConfig::new(&ca, "localhost", now_unix());
    block_on(async {
        let mut read_buf = vec![0u8; READ_BUF_FULL];
        let mut write_buf = vec![0u8; 2048];
        let mut s = tls::connect(
            StdStream::connect(broker.port),
            &config,
            OsRng,
            &mut read_buf,
            &mut write_buf,
        )
        .await
        .unwrap();

        // CONNECT (3.1.1, clean session, keepalive 60 s) -> CONNACK accepted.
        let mut connect = string(b"MQTT");
        connect.extend_from_slice(&[4, 0x02, 0, 60]);
        connect.extend_from_slice(&string(b"ioto-tls-test"));
        s.write_all(&packet(0x10, &connect)).await.unwrap();
        s.flush().await.unwrap();
        assert_eq!(read_packet(&mut s).await, [0x20, 2, 0, 0]);

        // SUBSCRIBE to the topic at QoS 0 -> SUBACK granted QoS 0.
        let mut subscribe = vec![0, 1];
        subscribe.extend_from_slice(&string(TOPIC));
        subscribe.push(0);
        s.write_all(&packet(0x82, &subscribe)).await.unwrap();
        s.flush().await.unwrap();
        assert_eq!(read_packet(&mut s).await, [0x90, 3, 0, 1, 0]);

        // Our own PUBLISH comes back through the broker.
        let mut publish = string(TOPIC);
        publish.extend_from_slice(b"from ioto over tls");
        let publish = packet(0x30, &publish);
        s.write_all(&publish).await.unwrap();
        s.flush().await.unwrap();
        assert_eq!(read_packet(&mut s).await, publish);

        // A second, independent TLS client (mosquitto_pub, verifying with the same CA)
        // publishes; we receive it.
        let status = Command::new("mosquitto_pub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &broker.port.to_string(),
                "--tls-version",
                "tlsv1.3",
            ])
            .arg("--cafile")
            .arg(&pki.ca.cert)
            .args(["-t", "ioto/tls", "-m", "from mosquitto_pub"])
            .status()
            .expect("cannot run mosquitto_pub (apt install mosquitto-clients)");
        assert!(status.success());
        let mut expected = string(TOPIC);
        expected.extend_from_slice(b"from mosquitto_pub");
        assert_eq!(read_packet(&mut s).await, packet(0x30, &expected));

        // DISCONNECT, then close_notify.
        s.write_all(&[0xE0, 0]).await.unwrap();
        s.flush().await.unwrap();
        assert!(s.close().await.is_ok());
    });
}

/// Serves `leaf` from mosquitto and runs only the TLS handshake, trusting the test CA
/// for `name`.
fn handshake_with_mosquitto(leaf: &Leaf, name: &str) -> Result<(), TlsError> {
    let pki = pki();
    let broker = mosquitto_tls(&pki.dir, leaf);
    let ca = pki.ca.pem();
    let config = TlsConfig::new(&ca, name, now_unix());
    block_on(async {
        let mut read_buf = vec![0u8; READ_BUF_FULL];
        let mut write_buf = vec![0u8; 2048];
        tls::connect(
            StdStream::connect(broker.port),
            &config,
            OsRng,
            &mut read_buf,
            &mut write_buf,
        )
        .await
        .map(|_| ())
    })
}

#[test]
fn mosquitto_with_certificate_from_another_ca_is_rejected() {
    assert_eq!(
        handshake_with_mosquitto(&pki().from_other_ca, "localhost"),
        Err(TlsError::UnknownCa)
    );
}

#[test]
fn mosquitto_with_expired_certificate_is_rejected() {
    assert_eq!(
        handshake_with_mosquitto(&pki().expired, "127.0.0.1"),
        Err(TlsError::Expired)
    );
}
