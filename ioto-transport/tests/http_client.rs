//! HTTP client against a real aiohttp server (tests/peers/http_peer.py).
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;

use common::{Peer, TokioStack, TokioTimer, pattern};
use embedded_io_async::{Read, Write};
use ioto_transport::http::{
    Connect, ConnectError, HttpClient, HttpConfig, HttpError, NoTimer, Request, RequestBody,
    TcpConnector, Timeouts, Url, send_on,
};

const PEER: &str = "http_peer.py";

fn peer() -> Peer {
    Peer::start(PEER, "aiohttp", &[])
}

static STACK: TokioStack = TokioStack;

fn client(
    config: HttpConfig,
) -> HttpClient<TcpConnector<'static, TokioStack, TokioStack>, TokioTimer> {
    HttpClient::with_config(TcpConnector::new(&STACK, &STACK), TokioTimer::new(), config)
}

/// GETs `url` and returns (status, body), reading the body `step` bytes at a time.
async fn get_all(
    config: HttpConfig,
    url: &str,
    rx: usize,
    step: usize,
) -> Result<(u16, Vec<u8>), HttpError> {
    let mut client = client(config);
    let mut rx = vec![0u8; rx];
    let response = client.send(&Request::get(url), &mut rx).await?;
    let status = response.status();
    let mut body = response.into_body();
    let mut out = Vec::new();
    let mut chunk = vec![0u8; step];
    loop {
        let n = body.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    assert!(body.is_done() || out.is_empty() || status == 200);
    Ok((status, out))
}

#[tokio::test]
async fn get_content_length_body() {
    let p = peer();
    let mut client = client(HttpConfig::default());
    let mut rx = [0u8; 1024];
    let url = p.url("http", "/fixed");
    let response = client.send(&Request::get(&url), &mut rx).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.is_success());
    assert_eq!(response.content_length(), Some(11));
    assert!(!response.is_chunked());
    assert_eq!(
        response.header_str("content-type"),
        Some("application/octet-stream")
    );
    let mut body = response.into_body();
    let mut out = [0u8; 64];
    let n = body.read_to_end(&mut out).await.unwrap();
    assert_eq!(&out[..n], b"hello fixed");
    assert!(body.is_done());
}

#[tokio::test]
async fn large_bodies_stream_through_a_small_buffer() {
    let p = peer();
    let (status, body) = get_all(
        HttpConfig::default(),
        &p.url("http", "/fixed?size=70000"),
        300,
        97,
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, pattern(70000, 0));

    let sizes = "1,2,3,4,5,6,7,8,15,16,17,255,256,4096,9000,1";
    let total: usize = sizes.split(',').map(|s| s.parse::<usize>().unwrap()).sum();
    for step in [1, 3, 64, 5000] {
        let url = p.url("http", &format!("/chunked?sizes={sizes}"));
        let (status, body) = get_all(HttpConfig::default(), &url, 256, step)
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            body,
            pattern(total, 0),
            "chunked body read {step} bytes at a time"
        );
    }
}

#[tokio::test]
async fn chunked_read_to_end_and_close_delimited_bodies() {
    let p = peer();
    let mut client = client(HttpConfig::default());
    let mut rx = [0u8; 512];
    let url = p.url("http", "/chunked?sizes=5,6,0");
    let response = client.send(&Request::get(&url), &mut rx).await.unwrap();
    assert!(response.is_chunked());
    assert_eq!(response.content_length(), None);
    let mut body = response.into_body();
    let mut out = [0u8; 11];
    assert_eq!(body.read_to_end(&mut out).await, Ok(11));
    assert_eq!(out.as_slice(), pattern(11, 0).as_slice());

    let url = p.url("http", "/chunked?sizes=5,6");
    let response = client.send(&Request::get(&url), &mut rx).await.unwrap();
    let mut small = [0u8; 10];
    assert_eq!(
        response.into_body().read_to_end(&mut small).await,
        Err(HttpError::BodyTooLarge)
    );

    let (status, body) = get_all(
        HttpConfig::default(),
        &p.url("http", "/toend?size=3000"),
        256,
        100,
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, pattern(3000, 0));
}

#[tokio::test]
async fn truncated_body_is_an_error() {
    let p = peer();
    let err = get_all(HttpConfig::default(), &p.url("http", "/truncated"), 256, 64).await;
    assert_eq!(err, Err(HttpError::TruncatedBody));
}

#[tokio::test]
async fn methods_headers_and_bodies_reach_the_server() {
    let p = peer();
    let mut client = client(HttpConfig::default());
    let mut rx = [0u8; 1024];
    let url = p.url("http", "/echo");
    let headers = [("X-Custom", "custom value")];

    let req = Request::post(&url)
        .headers(&headers)
        .body(&b"{\"on\":true}"[..]);
    let response = client.send(&req, &mut rx).await.unwrap();
    assert_eq!(response.header_str("x-method"), Some("POST"));
    assert_eq!(response.header_str("x-request-content-length"), Some("11"));
    assert_eq!(
        response.header_str("x-request-transfer-encoding"),
        Some("-")
    );
    assert_eq!(response.header_str("x-custom"), Some("custom value"));
    let host = format!("127.0.0.1:{}", p.port);
    assert_eq!(response.header_str("x-request-host"), Some(host.as_str()));
    let mut out = [0u8; 64];
    let n = response.into_body().read_to_end(&mut out).await.unwrap();
    assert_eq!(&out[..n], b"{\"on\":true}");

    let response = client
        .send(&Request::put(&url).body(&b"put"[..]), &mut rx)
        .await
        .unwrap();
    assert_eq!(response.header_str("x-method"), Some("PUT"));
    let n = response.into_body().read_to_end(&mut out).await.unwrap();
    assert_eq!(&out[..n], b"put");

    let response = client.send(&Request::delete(&url), &mut rx).await.unwrap();
    assert_eq!(response.header_str("x-method"), Some("DELETE"));
    assert_eq!(response.header_str("x-request-content-length"), Some("-"));

    let response = client.send(&Request::post(&url), &mut rx).await.unwrap();
    assert_eq!(response.header_str("x-request-content-length"), Some("0"));

    let req = Request::get(&url).basic_auth("user", "pass");
    let response = client.send(&req, &mut rx).await.unwrap();
    assert_eq!(
        response.header_str("x-authorization"),
        Some("Basic dXNlcjpwYXNz")
    );

    let response = client
        .send(&Request::head(&p.url("http", "/fixed")), &mut rx)
        .await
        .unwrap();
    assert_eq!(response.content_length(), Some(0));
    assert_eq!(response.into_body().read_to_end(&mut out).await, Ok(0));
}

/// A body of unknown length, written in pieces: goes out chunked.
struct Pieces(&'static [&'static [u8]]);

impl RequestBody for Pieces {
    async fn write<W: Write>(&self, writer: &mut W) -> Result<(), W::Error> {
        for piece in self.0 {
            writer.write_all(piece).await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn streaming_request_body_goes_out_chunked() {
    let p = peer();
    let mut client = client(HttpConfig::default());
    let mut rx = [0u8; 1024];
    let url = p.url("http", "/echo");
    let req = Request::post(&url).body(Pieces(&[b"one,", b"", b"two,", b"three"]));
    let response = client.send(&req, &mut rx).await.unwrap();
    assert_eq!(
        response.header_str("x-request-transfer-encoding"),
        Some("chunked")
    );
    let mut out = [0u8; 64];
    let n = response.into_body().read_to_end(&mut out).await.unwrap();
    assert_eq!(&out[..n], b"one,two,three");
}

/// Claims 10 bytes, writes 3.
struct Liar;

impl RequestBody for Liar {
    fn len(&self) -> Option<usize> {
        Some(10)
    }

    async fn write<W: Write>(&self, writer: &mut W) -> Result<(), W::Error> {
        writer.write_all(b"abc").await
    }
}

#[tokio::test]
async fn wrong_body_length_is_refused() {
    let p = peer();
    let mut client = client(HttpConfig::default());
    let mut rx = [0u8; 256];
    let url = p.url("http", "/echo");
    let err = client
        .send(&Request::post(&url).body(Liar), &mut rx)
        .await
        .err();
    assert_eq!(err, Some(HttpError::BodyLengthMismatch));
}

#[tokio::test]
async fn redirects_are_off_by_default_and_capped_when_on() {
    let p = peer();
    let mut rx = [0u8; 1024];
    let mut off = client(HttpConfig::default());
    let url = p.url("http", "/redirect?n=2");
    let response = off.send(&Request::get(&url), &mut rx).await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.header_str("location"), Some("/redirect?n=1"));

    let follow = HttpConfig {
        max_redirects: 3,
        ..HttpConfig::default()
    };
    let (status, body) = get_all(follow, &p.url("http", "/redirect?n=3"), 1024, 64)
        .await
        .unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"landed"[..]));
    let err = get_all(follow, &p.url("http", "/redirect?n=4"), 1024, 64).await;
    assert_eq!(err, Err(HttpError::TooManyRedirects));
    let (status, body) = get_all(follow, &p.url("http", "/redirect-abs"), 1024, 64)
        .await
        .unwrap();
    assert_eq!((status, body.as_slice()), (200, &b"hello fixed"[..]));

    // 303 after POST turns into a GET without body.
    let mut client = client(follow);
    let url = p.url("http", "/see-other");
    let response = client
        .send(&Request::post(&url).body(&b"x"[..]), &mut rx)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut out = [0u8; 32];
    let n = response.into_body().read_to_end(&mut out).await.unwrap();
    assert_eq!(&out[..n], b"hello fixed");
}

#[tokio::test]
async fn timeouts_fire_on_slow_heads_and_bodies() {
    let p = peer();
    let read_timeout = HttpConfig {
        timeouts: Timeouts {
            connect_ms: Some(2_000),
            read_ms: Some(200),
            total_ms: None,
        },
        max_redirects: 0,
    };
    let err = get_all(read_timeout, &p.url("http", "/slow-head?ms=3000"), 256, 64).await;
    assert_eq!(err, Err(HttpError::Timeout));

    let mut client = client(read_timeout);
    let mut rx = [0u8; 256];
    let url = p.url("http", "/slow-body?ms=3000");
    let response = client.send(&Request::get(&url), &mut rx).await.unwrap();
    let mut body = response.into_body();
    let mut out = [0u8; 10];
    let mut got = 0;
    let err = loop {
        match body.read(&mut out[got..]).await {
            Ok(n) => got += n,
            Err(e) => break e,
        }
    };
    assert_eq!((got, err), (5, HttpError::Timeout));

    // The overall limit fires although each read alone would be allowed.
    let total = HttpConfig {
        timeouts: Timeouts {
            connect_ms: None,
            read_ms: Some(10_000),
            total_ms: Some(300),
        },
        max_redirects: 0,
    };
    let started = std::time::Instant::now();
    let err = get_all(total, &p.url("http", "/slow-body?ms=3000"), 256, 64).await;
    assert_eq!(err, Err(HttpError::Timeout));
    assert!(started.elapsed() < std::time::Duration::from_millis(2_500));
}

/// A connector whose connect never finishes (no real peer reliably hangs a
/// loopback connect): exercises the connect timeout.
struct Hangs;

impl Connect for Hangs {
    type Connection = <TokioStack as embedded_nal_async::TcpConnect>::Connection<'static>;

    async fn connect(&mut self, _url: &Url<'_>) -> Result<Self::Connection, ConnectError> {
        core::future::pending().await
    }
}

#[tokio::test]
async fn connect_timeout_and_refused_connections() {
    let config = HttpConfig {
        timeouts: Timeouts {
            connect_ms: Some(100),
            read_ms: None,
            total_ms: None,
        },
        max_redirects: 0,
    };
    let mut hangs = HttpClient::with_config(Hangs, TokioTimer::new(), config);
    let mut rx = [0u8; 64];
    let err = hangs
        .send(&Request::get("http://127.0.0.1:9/"), &mut rx)
        .await
        .err();
    assert_eq!(err, Some(HttpError::Timeout));

    // A port nobody listens on (bound, then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut client = client(HttpConfig::default());
    let url = format!("http://127.0.0.1:{port}/");
    let err = client.send(&Request::get(&url), &mut rx).await.err();
    assert_eq!(
        err,
        Some(HttpError::Connect(ConnectError::Io(
            embedded_io::ErrorKind::ConnectionRefused
        )))
    );

    let err = client
        .send(&Request::get("https://127.0.0.1:1/"), &mut rx)
        .await
        .err();
    assert_eq!(err, Some(HttpError::Connect(ConnectError::TlsUnavailable)));
    let err = client
        .send(&Request::get("gopher://x/"), &mut rx)
        .await
        .err();
    assert_eq!(err, Some(HttpError::InvalidUrl));
}

#[tokio::test]
async fn small_head_buffer_and_status_codes() {
    let p = peer();
    let err = get_all(HttpConfig::default(), &p.url("http", "/fixed"), 40, 64).await;
    assert_eq!(err, Err(HttpError::HeadTooLarge));
    for code in [204u16, 404, 500] {
        let (status, body) = get_all(
            HttpConfig::default(),
            &p.url("http", &format!("/status?code={code}")),
            512,
            64,
        )
        .await
        .unwrap();
        assert_eq!(status, code);
        assert!(body.is_empty() || code != 204);
    }
}

#[tokio::test]
async fn send_on_an_existing_stream() {
    let p = peer();
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", p.port))
        .await
        .unwrap();
    let mut stream = embedded_io_adapters::tokio_1::FromTokio::new(stream);
    let mut rx = [0u8; 512];
    let url = p.url("http", "/chunked?sizes=3,4");
    let response = send_on(&mut stream, &Request::get(&url), &mut rx)
        .await
        .unwrap();
    assert!(response.is_chunked());
    let mut out = [0u8; 16];
    let n = response.into_body().read_to_end(&mut out).await.unwrap();
    assert_eq!(&out[..n], pattern(7, 0).as_slice());
    let _ = NoTimer;
}

#[tokio::test]
async fn sse_stream_split_at_awkward_boundaries() {
    let p = peer();
    for eol in ["lf", "cr", "crlf"] {
        let expected = Peer::oracle(PEER, "aiohttp", &["--sse-body", eol]);
        assert!(expected.len() > 100);
        for split in 1..=7 {
            let mut client = client(HttpConfig::default());
            let mut rx = [0u8; 512];
            let url = p.url("http", &format!("/sse?split={split}&eol={eol}"));
            let headers = [("Accept", "text/event-stream")];
            let response = client
                .send(&Request::get(&url).headers(&headers), &mut rx)
                .await
                .unwrap();
            assert_eq!(
                response.header_str("content-type"),
                Some("text/event-stream")
            );
            assert!(response.is_chunked());
            let mut body = response.into_body();
            let mut got = Vec::new();
            let mut buf = [0u8; 5];
            loop {
                let n = body.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, expected, "split {split} eol {eol}");
        }
    }
}
