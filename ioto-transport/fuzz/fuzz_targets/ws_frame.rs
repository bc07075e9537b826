//! Fuzzes the WebSocket frame decoder through the public API: server bytes
//! after the handshake, received message by message (reassembly, control
//! frames, UTF-8 checks, limits).
#![no_main]

use ioto_transport::ws::{Message, WebSocket, WsConfig, frame::decode_header};
use libfuzzer_sys::fuzz_target;

#[path = "mem_stream.rs"]
mod mem_stream;
use mem_stream::MemStream;

struct Counter(u8);

impl ioto_core::Entropy for Counter {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 = self.0.wrapping_add(1);
            *b = self.0;
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&knobs, data)) = input.split_first() else {
        return;
    };
    let _ = decode_header(data);
    let step = usize::from(knobs & 0x0F) + 1;
    let max_frame_len = 16usize << (knobs >> 5);
    let msg_len = 8 + usize::from(knobs & 0x70);
    let stream = MemStream { data, step };
    let mut rx = [0u8; 32];
    let mut ws = WebSocket::from_upgraded(stream, Counter(0), &mut rx, WsConfig { max_frame_len });
    let mut msg = vec![0u8; msg_len];
    embassy_futures::block_on(async {
        for _ in 0..64 {
            match ws.receive(&mut msg).await {
                Ok(Message::Text(t)) => {
                    assert!(t.len() <= msg_len && core::str::from_utf8(t.as_bytes()).is_ok())
                }
                Ok(Message::Binary(b)) => assert!(b.len() <= msg_len),
                Ok(Message::Close(_)) | Err(_) => break,
            }
        }
    });
});
