//! Size probe: `probe_http` / `probe_ws` run the HTTP / WebSocket client over a
//! stream whose I/O goes to undefined `extern "C"` functions, so the linker
//! cannot drop any of the protocol code. Exactly one feature is enabled per build.
#![no_std]
#![allow(dead_code)]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

unsafe extern "C" {
    fn probe_io_read(buf: *mut u8, len: usize) -> isize;
    fn probe_io_write(buf: *const u8, len: usize) -> isize;
    fn probe_random() -> u32;
}

struct Opaque;
impl embedded_io::ErrorType for Opaque {
    type Error = embedded_io::ErrorKind;
}
impl embedded_io_async::Read for Opaque {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        let n = unsafe { probe_io_read(buf.as_mut_ptr(), buf.len()) };
        usize::try_from(n).map_err(|_| embedded_io::ErrorKind::Other).map(|n| n.min(buf.len()))
    }
}
impl embedded_io_async::Write for Opaque {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, embedded_io::ErrorKind> {
        let n = unsafe { probe_io_write(buf.as_ptr(), buf.len()) };
        usize::try_from(n).map_err(|_| embedded_io::ErrorKind::Other).map(|n| n.min(buf.len()))
    }
    async fn flush(&mut self) -> Result<(), embedded_io::ErrorKind> {
        Ok(())
    }
}

struct Rng;
impl ioto_core::Entropy for Rng {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = unsafe { probe_random() } as u8;
        }
    }
}

fn block_on<F: Future>(fut: F) -> F::Output {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(|p| RawWaker::new(p, &VTABLE), |_| {}, |_| {}, |_| {});
    let waker = unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &VTABLE)) };
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// One POST with a streamed body read: head parsing, chunked/fixed decoding.
#[cfg(feature = "http")]
#[unsafe(no_mangle)]
pub extern "C" fn probe_http(out: *mut u8, len: usize) -> isize {
    use embedded_io_async::Read;
    use ioto_transport::http::{Request, send_on};
    let out = unsafe { core::slice::from_raw_parts_mut(out, len) };
    block_on(async {
        let mut stream = Opaque;
        let mut rx = [0u8; 1024];
        let req = Request::post("http://example.com/api").body(&b"{}"[..]);
        let Ok(resp) = send_on(&mut stream, &req, &mut rx).await else { return -1 };
        let mut body = resp.into_body();
        match body.read(out).await {
            Ok(n) => n as isize,
            Err(_) => -2,
        }
    })
}

/// Handshake, send, receive, close.
#[cfg(feature = "ws")]
#[unsafe(no_mangle)]
pub extern "C" fn probe_ws(out: *mut u8, len: usize) -> isize {
    use ioto_transport::ws::{HandshakeOptions, Message, WebSocket, WsConfig};
    let out = unsafe { core::slice::from_raw_parts_mut(out, len) };
    block_on(async {
        let mut rx = [0u8; 512];
        let Ok(mut ws) = WebSocket::upgrade(Opaque, "ws://example.com/", &HandshakeOptions::default(), WsConfig::default(), Rng, &mut rx).await else {
            return -1;
        };
        if ws.send_text("hi").await.is_err() {
            return -2;
        }
        let n = match ws.receive(out).await {
            Ok(Message::Text(t)) => t.len() as isize,
            Ok(Message::Binary(b)) => b.len() as isize,
            _ => -3,
        };
        let _ = ws.close(1000, "").await;
        n
    })
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
