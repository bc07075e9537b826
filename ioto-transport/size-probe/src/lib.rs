//! Size probe: `probe_mqtt` / `probe_http` / `probe_ws` run the MQTT / HTTP / WebSocket
//! client over a stream whose I/O goes to undefined `extern "C"` functions, so the linker
//! cannot drop any of the protocol code. Exactly one feature is enabled per build.
//! `cargo xtask bench transport` builds it per feature and reads the `.text` + `.rodata`
//! of the LTO'd object, and the `PROBE_*_STATE_BYTES` statics (the size of the client's
//! own state for that target; the buffers it borrows are the caller's and come on top).
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

pub struct Opaque;
impl embedded_io::ErrorType for Opaque {
    type Error = embedded_io::ErrorKind;
}
impl embedded_io_async::Read for Opaque {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        let n = unsafe { probe_io_read(buf.as_mut_ptr(), buf.len()) };
        usize::try_from(n)
            .map_err(|_| embedded_io::ErrorKind::Other)
            .map(|n| n.min(buf.len()))
    }
}
impl embedded_io_async::Write for Opaque {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, embedded_io::ErrorKind> {
        let n = unsafe { probe_io_write(buf.as_ptr(), buf.len()) };
        usize::try_from(n)
            .map_err(|_| embedded_io::ErrorKind::Other)
            .map(|n| n.min(buf.len()))
    }
    async fn flush(&mut self) -> Result<(), embedded_io::ErrorKind> {
        Ok(())
    }
}

pub struct Rng;
impl ioto_core::Entropy for Rng {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = unsafe { probe_random() } as u8;
        }
    }
}

#[cfg(feature = "mqtt")]
mod mqtt {
    use super::{Opaque, Rng};
    use embedded_io::ErrorKind;
    use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
    use ioto_core::{Clock, Instant};
    use ioto_transport::mqtt::client::{Buffers, Client, ClientConfig, Event, PublishOptions};
    use ioto_transport::mqtt::connector::Connector;
    use ioto_transport::mqtt::{Properties, ProtocolVersion, QoS, SubscribeOptions, Subscription};

    unsafe extern "C" {
        fn probe_now_us() -> u64;
        fn probe_connect() -> isize;
    }

    pub struct Net;
    impl Connector for Net {
        type Error = ErrorKind;
        type Connection<'c> = Opaque;
        async fn connect(&self) -> Result<Opaque, ErrorKind> {
            match unsafe { probe_connect() } {
                0 => Ok(Opaque),
                _ => Err(ErrorKind::ConnectionRefused),
            }
        }
    }

    pub struct Time;
    impl Clock for Time {
        fn now(&self) -> Instant {
            Instant(unsafe { probe_now_us() })
        }
    }
    impl embedded_hal_async::delay::DelayNs for Time {
        async fn delay_ns(&mut self, _ns: u32) {}
    }

    pub type ProbeClient<'a> = Client<'a, Net, RamQueue<'a>, Time, Time, Rng>;

    /// Bytes of the MQTT client's own state on this target.
    #[unsafe(no_mangle)]
    #[used]
    pub static PROBE_MQTT_STATE_BYTES: usize = core::mem::size_of::<ProbeClient<'static>>();

    /// Connect (MQTT 5), subscribe, publish at QoS 1, receive one message.
    #[unsafe(no_mangle)]
    pub extern "C" fn probe_mqtt(out: *mut u8, len: usize) -> isize {
        let out = unsafe { core::slice::from_raw_parts_mut(out, len) };
        let (mut rx, mut tx, mut inflight, mut ids, mut queue) = (
            [0u8; 1024],
            [0u8; 1024],
            [0u8; 1024],
            [0u16; 8],
            [0u8; 1024],
        );
        let buffers = Buffers {
            rx: &mut rx,
            tx: &mut tx,
            inflight: &mut inflight,
            incoming_qos2: &mut ids,
        };
        let queue = OfflineQueue::new(RamQueue::new(&mut queue, 8), QueuePolicy::DropOldest);
        let cfg = ClientConfig::new(ProtocolVersion::V5, "probe");
        let mut c: ProbeClient<'_> = Client::new(cfg, &Net, buffers, queue, Time, Time, Rng);
        super::block_on(async {
            let subs = [Subscription {
                filter: "cmd/#",
                options: SubscribeOptions::qos(QoS::ExactlyOnce),
            }];
            if c.subscribe(&subs, Properties::default()).await.is_err() {
                return -1;
            }
            if c.publish("dev/t", b"42", QoS::AtLeastOnce, &PublishOptions::default())
                .await
                .is_err()
            {
                return -2;
            }
            loop {
                match c.poll().await {
                    Ok(Event::Message(m)) => {
                        let n = m.payload.len().min(out.len());
                        out[..n].copy_from_slice(&m.payload[..n]);
                        return n as isize;
                    }
                    Ok(_) => {}
                    Err(_) => return -3,
                }
            }
        })
    }
}

fn block_on<F: Future>(fut: F) -> F::Output {
    const VTABLE: RawWakerVTable =
        RawWakerVTable::new(|p| RawWaker::new(p, &VTABLE), |_| {}, |_| {}, |_| {});
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
        let Ok(resp) = send_on(&mut stream, &req, &mut rx).await else {
            return -1;
        };
        let mut body = resp.into_body();
        match body.read(out).await {
            Ok(n) => n as isize,
            Err(_) => -2,
        }
    })
}

/// Bytes of the WebSocket client's own state on this target (the stream and the
/// receive buffer it borrows come on top).
#[cfg(feature = "ws")]
#[unsafe(no_mangle)]
#[used]
pub static PROBE_WS_STATE_BYTES: usize =
    core::mem::size_of::<ioto_transport::ws::WebSocket<'static, Opaque, Rng>>();

/// Handshake, send, receive, close.
#[cfg(feature = "ws")]
#[unsafe(no_mangle)]
pub extern "C" fn probe_ws(out: *mut u8, len: usize) -> isize {
    use ioto_transport::ws::{HandshakeOptions, Message, WebSocket, WsConfig};
    let out = unsafe { core::slice::from_raw_parts_mut(out, len) };
    block_on(async {
        let mut rx = [0u8; 512];
        let Ok(mut ws) = WebSocket::upgrade(
            Opaque,
            "ws://example.com/",
            &HandshakeOptions::default(),
            WsConfig::default(),
            Rng,
            &mut rx,
        )
        .await
        else {
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
