//! Malformed responses no real server sends, fed through the public API from
//! memory (each at 1 byte per read and in bigger pieces). Fuzz regressions go here.
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

#[path = "common/mem.rs"]
mod mem;

use embedded_io_async::Read;
use ioto_transport::http::{HttpError, Request, send_on};
use mem::MemStream;

/// Runs one GET against `response`; returns the body or the first error.
async fn exchange(response: &[u8], step: usize) -> Result<Vec<u8>, HttpError> {
    let mut stream = MemStream::new(response, step);
    let mut rx = [0u8; 512];
    let resp = send_on(&mut stream, &Request::get("http://example.com/"), &mut rx).await?;
    let mut body = resp.into_body();
    let mut out = Vec::new();
    let mut buf = [0u8; 7];
    loop {
        match body.read(&mut buf).await? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Same as [`exchange`] but through `BufRead::fill_buf` / `consume`.
async fn exchange_buffered(response: &[u8], step: usize) -> Result<Vec<u8>, HttpError> {
    use embedded_io_async::BufRead;
    let mut stream = MemStream::new(response, step);
    let mut rx = [0u8; 512];
    let resp = send_on(&mut stream, &Request::get("http://example.com/"), &mut rx).await?;
    let mut body = resp.into_body();
    let mut out = Vec::new();
    loop {
        let data = body.fill_buf().await?;
        if data.is_empty() {
            return Ok(out);
        }
        let n = data.len().min(5);
        out.extend_from_slice(&data[..n]);
        body.consume(n);
    }
}

async fn check(response: &[u8], expected: Result<&[u8], HttpError>) {
    for step in [1, 3, 64, 4096] {
        let got = exchange_buffered(response, step).await;
        assert_eq!(
            got.as_deref().map_err(|e| *e),
            expected,
            "buffered, step {step}"
        );
        let got = exchange(response, step).await;
        assert_eq!(
            got.as_deref().map_err(|e| *e),
            expected,
            "step {step}: {:?}",
            String::from_utf8_lossy(response)
        );
    }
}

#[tokio::test]
async fn malformed_heads_are_typed_errors() {
    check(b"HTTP/1.1 200 OK\r\n", Err(HttpError::ConnectionClosed)).await;
    check(b"", Err(HttpError::ConnectionClosed)).await;
    check(b"garbage\r\n\r\n", Err(HttpError::MalformedHead)).await;
    check(b"HTTP/1.1 2000 OK\r\n\r\n", Err(HttpError::MalformedHead)).await;
    check(
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        Err(HttpError::MalformedHead),
    )
    .await;
    check(
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        Err(HttpError::InvalidContentLength),
    )
    .await;
    check(
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        Err(HttpError::InvalidContentLength),
    )
    .await;
    check(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        Err(HttpError::UnsupportedTransferEncoding),
    )
    .await;
    let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..49 {
        many.extend_from_slice(format!("H{i}: v\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    check(&many, Err(HttpError::TooManyHeaders)).await;
    let huge = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(600));
    check(huge.as_bytes(), Err(HttpError::HeadTooLarge)).await;
}

#[tokio::test]
async fn malformed_and_truncated_bodies_are_typed_errors() {
    const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let with = |body: &[u8]| [CHUNKED, body].concat();
    check(
        &with(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
        Ok(b"hello world"),
    )
    .await;
    check(&with(b"A\r\n0123456789\r\n0\r\n\r\n"), Ok(b"0123456789")).await;
    check(
        &with(b"zz\r\nhello\r\n0\r\n\r\n"),
        Err(HttpError::MalformedChunk),
    )
    .await;
    check(
        &with(b"5\r\nhelloXX0\r\n\r\n"),
        Err(HttpError::MalformedChunk),
    )
    .await;
    check(&with(b"123456789\r\n"), Err(HttpError::MalformedChunk)).await;
    check(&with(b"5\n"), Err(HttpError::MalformedChunk)).await;
    // Chunk extensions are not supported by reqwless's decoder: refused, not misread.
    check(
        &with(b"5;ext=1\r\nhello\r\n0\r\n\r\n"),
        Err(HttpError::MalformedChunk),
    )
    .await;
    check(&with(b"5\r\nhel"), Err(HttpError::TruncatedBody)).await;
    check(&with(b"5\r\nhello\r\n"), Err(HttpError::TruncatedBody)).await;
    check(&with(b""), Err(HttpError::TruncatedBody)).await;

    check(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
        Err(HttpError::TruncatedBody),
    )
    .await;
    // Bytes past Content-Length are not part of the body (and must not upset the decoder).
    check(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef",
        Ok(b"abc"),
    )
    .await;
    check(b"HTTP/1.1 200 OK\r\n\r\nuntil close", Ok(b"until close")).await;
    check(b"HTTP/1.1 204 No Content\r\n\r\nignored", Ok(b"")).await;
    check(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        Ok(b"ok"),
    )
    .await;
}
