//! The TLS connectors against real servers: `HttpClient` + `TlsHttpConnector` against
//! aiohttp serving HTTPS, `ws::connect` against Python `websockets` serving `wss://`
//! (tests/peers with `--tls`), and `TlsMqttConnector` against mosquitto's TLS listener.
//! Certificates come from the openssl-made test PKI in tests/tls_common.
#![cfg(all(feature = "tls", feature = "ws"))]
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;
mod tls_common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{Peer, TokioStack, TokioTimer};
use embedded_io_async::Read;
use ioto_board_host::HostEntropy;
use ioto_transport::http::{ConnectError, HttpClient, HttpError, Request, TcpConnector};
use ioto_transport::mqtt::connector::{Connector, TcpConnector as MqttTcp};
use ioto_transport::tls::{
    READ_BUF_FULL, TlsBuffers, TlsError, TlsHttpConnector, TlsMqttConnector,
};
use ioto_transport::ws::{self, HandshakeOptions, Message, WsConfig};
use rand_core::OsRng;
use tls_common::{Leaf, Pki, mosquitto_tls, now_unix};

static STACK: TokioStack = TokioStack;

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        Pki::generate(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls_connectors_pki"))
    })
}

/// A Python peer (`http_peer.py` / `ws_peer.py`) serving TLS with `leaf`.
fn tls_peer(script: &str, module: &str, leaf: &Leaf) -> Peer {
    let (cert, key) = (leaf.cert.to_str().unwrap(), leaf.key.to_str().unwrap());
    Peer::start(script, module, &["--tls", cert, key])
}

/// Record buffers for one connection at a time.
fn record_buffers() -> (Vec<u8>, Vec<u8>) {
    (vec![0u8; READ_BUF_FULL], vec![0u8; 2048])
}

type Https<'a> = TlsHttpConnector<'a, TokioStack, TokioStack, OsRng, fn() -> u64>;

fn https<'a>(buffers: &'a TlsBuffers<'a>, ca: &'a [u8]) -> Https<'a> {
    TlsHttpConnector::new(
        TcpConnector::new(&STACK, &STACK),
        buffers,
        ca,
        OsRng,
        now_unix as fn() -> u64,
    )
}

/// GETs `url` through `connector`; (status, body).
async fn get(connector: Https<'_>, url: &str) -> Result<(u16, Vec<u8>), HttpError> {
    let mut client = HttpClient::new(connector, TokioTimer::new());
    let mut rx = [0u8; 1024];
    let response = client.send(&Request::get(url), &mut rx).await?;
    let status = response.status();
    let mut body = response.into_body();
    let mut out = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        let n = body.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    Ok((status, out))
}

#[tokio::test]
async fn https_get_and_post_against_aiohttp() {
    let pki = pki();
    let peer = tls_peer("http_peer.py", "aiohttp", &pki.good);
    let ca = pki.ca.pem();
    let (mut r, mut w) = record_buffers();
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let (status, body) = get(https(&buffers, &ca), &peer.url("https", "/fixed"))
        .await
        .unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"hello fixed"[..]));
    assert!(!buffers.is_busy(), "the client dropped the connection");
    // A chunked body much larger than one TLS record.
    let (status, body) = get(
        https(&buffers, &ca),
        &peer.url("https", "/chunked?sizes=20000,1,40000"),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, common::pattern(60_001, 0));

    let mut client = HttpClient::new(https(&buffers, &ca), TokioTimer::new());
    let mut rx = [0u8; 1024];
    let url = peer.url("https", "/echo");
    let request = Request::post(&url).body(&b"sealed"[..]);
    let response = client.send(&request, &mut rx).await.unwrap();
    assert_eq!(response.header_str("x-method"), Some("POST"));
    let mut body = [0u8; 16];
    let mut body_reader = response.into_body();
    let n = body_reader.read(&mut body).await.unwrap();
    assert_eq!(&body[..n], b"sealed");
}

#[tokio::test]
async fn a_refused_tcp_connect_frees_the_buffers_for_the_next_connection() {
    let pki = pki();
    let ca = pki.ca.pem();
    let (mut r, mut w) = record_buffers();
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let err = get(
        https(&buffers, &ca),
        &format!("https://127.0.0.1:{closed_port}/fixed"),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, HttpError::Connect(ConnectError::Io(_))),
        "{err:?}"
    );
    assert!(!buffers.is_busy());
    let peer = tls_peer("http_peer.py", "aiohttp", &pki.good);
    let (status, _) = get(https(&buffers, &ca), &peer.url("https", "/fixed"))
        .await
        .unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn https_with_the_wrong_ca_or_host_name_is_refused() {
    let pki = pki();
    let good = tls_peer("http_peer.py", "aiohttp", &pki.good);
    let other_ca = pki.other_ca.pem();
    let (mut r, mut w) = record_buffers();
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let mut connector = https(&buffers, &other_ca);
    let mut client = HttpClient::new(&mut connector, TokioTimer::new());
    let mut rx = [0u8; 512];
    let url = good.url("https", "/fixed");
    let err = client.send(&Request::get(&url), &mut rx).await.err();
    assert_eq!(
        err,
        Some(HttpError::Connect(ConnectError::Tls(
            TlsError::UnknownCa.reason()
        )))
    );
    drop(client);
    assert_eq!(connector.last_error(), Some(TlsError::UnknownCa));
    assert!(!buffers.is_busy(), "a failed handshake frees the buffers");

    // Right CA, but the certificate names broker.example.com, not 127.0.0.1.
    let wrong_name = tls_peer("http_peer.py", "aiohttp", &pki.other_host);
    let ca = pki.ca.pem();
    let err = get(https(&buffers, &ca), &wrong_name.url("https", "/fixed"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        HttpError::Connect(ConnectError::Tls(TlsError::NameMismatch.reason()))
    );
}

#[tokio::test]
async fn plain_http_only_when_explicitly_allowed() {
    let pki = pki();
    let plain = Peer::start("http_peer.py", "aiohttp", &[]);
    let ca = pki.ca.pem();
    let (mut r, mut w) = record_buffers();
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let url = plain.url("http", "/fixed");
    assert_eq!(
        get(https(&buffers, &ca), &url).await.unwrap_err(),
        HttpError::Connect(ConnectError::PlainRefused)
    );
    let (status, body) = get(https(&buffers, &ca).allow_plain(), &url).await.unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"hello fixed"[..]));
}

#[tokio::test]
async fn a_second_connection_while_the_buffers_are_lent_is_a_typed_error() {
    let pki = pki();
    let peer = tls_peer("http_peer.py", "aiohttp", &pki.good);
    let ca = pki.ca.pem();
    let (mut r, mut w) = record_buffers();
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let url = peer.url("https", "/fixed");
    let mut first = HttpClient::new(https(&buffers, &ca), TokioTimer::new());
    let mut rx = [0u8; 512];
    let response = first.send(&Request::get(&url), &mut rx).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(buffers.is_busy());
    assert_eq!(
        get(https(&buffers, &ca), &url).await.unwrap_err(),
        HttpError::Connect(ConnectError::Tls(TlsError::BuffersBusy.reason()))
    );
    first.close();
    assert!(!buffers.is_busy());
    assert_eq!(get(https(&buffers, &ca), &url).await.unwrap().0, 200);
}

#[tokio::test]
async fn wss_echo_against_python_websockets() {
    let pki = pki();
    let peer = tls_peer("ws_peer.py", "websockets", &pki.good);
    let ca = pki.ca.pem();
    let (mut r, mut w) = record_buffers();
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let mut connector = https(&buffers, &ca);
    let mut rx = [0u8; 1024];
    let url = peer.url("wss", "/echo");
    let mut socket = ws::connect(
        &mut connector,
        &url,
        &HandshakeOptions::default(),
        WsConfig {
            max_frame_len: 100_000,
        },
        HostEntropy::default(),
        &mut rx,
    )
    .await
    .unwrap();
    let mut msg = vec![0u8; 100_000];
    socket.send_text("over tls ☃").await.unwrap();
    assert_eq!(
        socket.receive(&mut msg).await,
        Ok(Message::Text("over tls ☃"))
    );
    let big: Vec<u8> = (0..70_000).map(|i| (i % 251) as u8).collect();
    socket.send_binary(&big).await.unwrap();
    assert_eq!(
        socket.receive(&mut msg).await,
        Ok(Message::Binary(big.as_slice()))
    );
    socket.close(ws::close_code::NORMAL, "").await.unwrap();
    drop(socket);
    assert_eq!(peer.expect_line("CLOSE_RCVD"), "CLOSE_RCVD /echo 1000");
}

#[tokio::test]
async fn wss_with_the_wrong_ca_is_refused() {
    let pki = pki();
    let peer = tls_peer("ws_peer.py", "websockets", &pki.from_other_ca);
    let ca = pki.ca.pem();
    let (mut r, mut w) = record_buffers();
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let mut connector = https(&buffers, &ca);
    let mut rx = [0u8; 1024];
    let url = peer.url("wss", "/echo");
    let result = ws::connect(
        &mut connector,
        &url,
        &HandshakeOptions::default(),
        WsConfig::default(),
        HostEntropy::default(),
        &mut rx,
    )
    .await;
    assert!(result.is_err());
    assert_eq!(connector.last_error(), Some(TlsError::UnknownCa));
}

#[tokio::test]
async fn mqtt_connector_leases_its_buffers_per_connection() {
    let pki = pki();
    let broker = mosquitto_tls(&pki.dir, &pki.good);
    let ca = pki.ca.pem();
    let (mut r, mut w) = record_buffers();
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let connector = TlsMqttConnector::new(
        MqttTcp::new(&STACK, &STACK, "127.0.0.1", broker.port),
        &buffers,
        &ca,
        "localhost",
        OsRng,
        now_unix,
    );
    let first = connector.connect().await.unwrap();
    assert_eq!(connector.connect().await.err(), Some(TlsError::BuffersBusy));
    assert_eq!(connector.last_error(), Some(TlsError::BuffersBusy));
    first.close().await.map_err(|(_, e)| e).unwrap();
    assert!(!buffers.is_busy());
    drop(connector.connect().await.unwrap());
    assert_eq!(connector.last_error(), None);

    let other_ca = pki.other_ca.pem();
    let wrong = TlsMqttConnector::new(
        MqttTcp::new(&STACK, &STACK, "127.0.0.1", broker.port),
        &buffers,
        &other_ca,
        "localhost",
        OsRng,
        now_unix,
    );
    assert_eq!(wrong.connect().await.err(), Some(TlsError::UnknownCa));
    assert!(
        wrong
            .last_error()
            .is_some_and(|e| e.is_verification_failure())
    );
}
