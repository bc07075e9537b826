//! Redirects and credentials (issue 11, item 6): `Authorization`, the caller's other
//! headers and basic auth go to the request's own origin only. Two small local
//! servers on different ports (so different origins, RFC 6454): the first redirects,
//! each records the request heads it receives.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::{TokioStack, TokioTimer};
use embedded_io_async::Read;
use ioto_transport::http::{HttpClient, HttpConfig, Request, TcpConnector};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

static STACK: TokioStack = TokioStack;

/// A server that answers every request with `answer(path)` and records the heads.
struct Server {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Server {
    async fn start(answer: fn(&str) -> String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&heads);
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if sock.read(&mut byte).await.unwrap_or(0) == 0 {
                        break;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let path = head.split(' ').nth(1).unwrap_or("").to_string();
                recorded.lock().unwrap().push(head);
                let _ = sock.write_all(answer(&path).as_bytes()).await;
                let _ = sock.shutdown().await;
            }
        });
        Self { port, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// The port of the second server, for the first one's `Location`.
static OTHER_PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();

fn redirecting(path: &str) -> String {
    let location = match path {
        "/cross" => format!("http://127.0.0.1:{}/landed", OTHER_PORT.get().unwrap()),
        // Same scheme, host and port: same origin.
        "/same" => "/landed".to_string(),
        _ => return landing(path),
    };
    format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
}

fn landing(_path: &str) -> String {
    "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nlanded".to_string()
}

const SECRET_HEADERS: [(&str, &str); 2] = [
    ("Authorization", "Bearer sk-very-secret"),
    ("X-Api-Key", "key-12345"),
];
/// `Basic base64("device:hunter2")`, computed by hand.
const BASIC: &str = "Basic ZGV2aWNlOmh1bnRlcjI=";

async fn follow(url: &str) -> Vec<u8> {
    let mut client = HttpClient::with_config(
        TcpConnector::new(&STACK, &STACK),
        TokioTimer::new(),
        HttpConfig {
            max_redirects: 3,
            ..HttpConfig::default()
        },
    );
    let request = Request::get(url)
        .headers(&SECRET_HEADERS)
        .basic_auth("device", "hunter2");
    let mut rx = [0u8; 1024];
    let response = client.send(&request, &mut rx).await.unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut out = Vec::new();
    let mut chunk = [0u8; 64];
    loop {
        let n = body.read(&mut chunk).await.unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    out
}

fn carries_credentials(head: &str) -> [bool; 3] {
    [
        head.contains("Bearer sk-very-secret"),
        head.contains("key-12345"),
        head.contains(BASIC),
    ]
}

#[tokio::test]
async fn a_cross_origin_redirect_drops_credentials_and_custom_headers() {
    let other = Server::start(landing).await;
    OTHER_PORT.set(other.port).unwrap();
    let first = Server::start(redirecting).await;
    let body = follow(&format!("http://127.0.0.1:{}/cross", first.port)).await;
    assert_eq!(body, b"landed");

    let sent = first.heads();
    assert_eq!(sent.len(), 1);
    assert_eq!(carries_credentials(&sent[0]), [true; 3], "{}", sent[0]);

    let redirected = other.heads();
    assert_eq!(redirected.len(), 1);
    assert!(redirected[0].starts_with("GET /landed "));
    assert_eq!(
        carries_credentials(&redirected[0]),
        [false; 3],
        "credentials leaked to another origin:\n{}",
        redirected[0]
    );
    assert!(!redirected[0].to_ascii_lowercase().contains("authorization"));

    // Same origin: the redirected request keeps them.
    let body = follow(&format!("http://127.0.0.1:{}/same", first.port)).await;
    assert_eq!(body, b"landed");
    let sent = first.heads();
    assert_eq!(sent.len(), 3);
    assert!(sent[2].starts_with("GET /landed "));
    assert_eq!(carries_credentials(&sent[2]), [true; 3], "{}", sent[2]);
}
