//! Fuzzes the HTTP response path through the public API: head parsing
//! (`send_on`), header access, then the body decoder (content-length, chunked,
//! read-to-close) read through small buffers.
#![no_main]

use embedded_io_async::Read;
use ioto_transport::http::{Request, send_on};
use libfuzzer_sys::fuzz_target;

#[path = "mem_stream.rs"]
mod mem_stream;
use mem_stream::MemStream;

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, data)) = input.split_first() else {
        return;
    };
    let step = usize::from(knobs & 0x0F) + 1;
    let rx_len = 64 + usize::from(knobs >> 4) * 32;
    let read_len = usize::from(knobs % 7) + 1;
    let mut stream = MemStream { data, step };
    let mut rx = vec![0u8; rx_len];
    embassy_futures::block_on(async {
        let Ok(response) = send_on(&mut stream, &Request::get("http://fuzz/"), &mut rx).await
        else {
            return;
        };
        let _ = response.status();
        let _ = response.headers().count();
        let _ = response.header("content-type");
        let length = response.content_length();
        let mut body = response.into_body();
        let mut buf = [0u8; 8];
        let mut total = 0usize;
        loop {
            match body.read(&mut buf[..read_len]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    assert!(n <= read_len);
                    total += n;
                }
            }
        }
        if let Some(len) = length {
            assert!(total <= len, "read {total} bytes of a {len}-byte body");
        }
        assert!(total <= data.len());
    });
});
