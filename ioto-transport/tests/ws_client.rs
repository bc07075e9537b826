//! WebSocket client against a real Python `websockets` server (tests/peers/ws_peer.py).
#![allow(clippy::unwrap_used, clippy::panic, clippy::expect_used)]

mod common;

use common::{Peer, TokioStack};
use ioto_board_host::HostEntropy;
use ioto_transport::http::{ConnectError, TcpConnector};
use ioto_transport::ws::{
    self, CloseFrame, DataKind, HandshakeOptions, Message, WebSocket, WsConfig, WsError, close_code,
};

type Conn = <TokioStack as embedded_nal_async::TcpConnect>::Connection<'static>;
static STACK: TokioStack = TokioStack;

fn peer() -> Peer {
    Peer::start("ws_peer.py", "websockets", &[])
}

async fn open<'b>(
    p: &Peer,
    path: &str,
    config: WsConfig,
    rx: &'b mut [u8],
) -> Result<WebSocket<'b, Conn, HostEntropy>, WsError> {
    let mut connector = TcpConnector::new(&STACK, &STACK);
    let url = p.url("ws", path);
    ws::connect(
        &mut connector,
        &url,
        &HandshakeOptions::default(),
        config,
        HostEntropy::default(),
        rx,
    )
    .await
}

/// After a failed connection: read until the server closes TCP (it answers our
/// close frame first), so the close frame is not lost to a reset.
async fn drain(ws: WebSocket<'_, Conn, HostEntropy>) {
    use embedded_io_async::Read;
    let mut stream = ws.into_inner();
    let mut scratch = [0u8; 256];
    while matches!(stream.read(&mut scratch).await, Ok(n) if n > 0) {}
}

#[tokio::test]
async fn echo_text_binary_and_large_messages() {
    let p = peer();
    let mut rx = [0u8; 1024];
    let config = WsConfig {
        max_frame_len: 300_000,
    };
    let mut ws = open(&p, "/echo", config, &mut rx).await.unwrap();
    let mut msg = vec![0u8; 300_000];

    ws.send_text("hello, wörld ☃").await.unwrap();
    assert_eq!(
        ws.receive(&mut msg).await,
        Ok(Message::Text("hello, wörld ☃"))
    );
    ws.send_binary(&[0, 1, 2, 255]).await.unwrap();
    assert_eq!(
        ws.receive(&mut msg).await,
        Ok(Message::Binary(&[0, 1, 2, 255]))
    );
    ws.send_text("").await.unwrap();
    assert_eq!(ws.receive(&mut msg).await, Ok(Message::Text("")));

    // Every header length form: 7-bit, 16-bit and 64-bit lengths.
    for len in [125usize, 126, 65535, 65536, 250_000] {
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
        ws.send_binary(&data).await.unwrap();
        assert_eq!(
            ws.receive(&mut msg).await,
            Ok(Message::Binary(data.as_slice())),
            "len {len}"
        );
    }

    // Client-side fragmentation, with a split UTF-8 sequence and a ping in between.
    ws.send_fragment(
        DataKind::Text,
        true,
        false,
        "snow\u{2603}".as_bytes().split_at(5).0,
    )
    .await
    .unwrap();
    ws.ping(b"keepalive").await.unwrap();
    ws.send_fragment(
        DataKind::Text,
        false,
        false,
        "snow\u{2603}".as_bytes().split_at(5).1,
    )
    .await
    .unwrap();
    ws.send_fragment(DataKind::Text, false, true, b"man")
        .await
        .unwrap();
    assert_eq!(
        ws.receive(&mut msg).await,
        Ok(Message::Text("snow\u{2603}man"))
    );

    assert_eq!(ws.close(close_code::NORMAL, "bye").await, Ok(Some(1000)));
    assert!(ws.is_closed());
    assert_eq!(ws.send_text("late").await, Err(WsError::Closed));
    drop(ws);
    assert_eq!(p.expect_line("CLOSE_RCVD /echo"), "CLOSE_RCVD /echo 1000");
}

#[tokio::test]
async fn server_fragments_are_reassembled_and_utf8_checked_across_them() {
    let p = peer();
    let mut rx = [0u8; 256];
    let mut ws = open(&p, "/fragments", WsConfig::default(), &mut rx)
        .await
        .unwrap();
    let mut msg = [0u8; 256];
    assert_eq!(ws.receive(&mut msg).await, Ok(Message::Text("Hello world")));
    assert_eq!(
        ws.receive(&mut msg).await,
        Ok(Message::Binary(&[0, 1, 2, 3, 4, 5]))
    );
    assert_eq!(
        ws.receive(&mut msg).await,
        Ok(Message::Text("price: €42 ☃"))
    );
    ws.send_text("thanks").await.unwrap();
    let close = ws.receive(&mut msg).await.unwrap();
    assert_eq!(
        close,
        Message::Close(Some(CloseFrame {
            code: 1000,
            reason: "done"
        }))
    );
    assert!(ws.is_closed());
    drop(ws);
    assert_eq!(
        p.expect_line("CLOSE_RCVD /fragments"),
        "CLOSE_RCVD /fragments 1000"
    );

    // Reassembly is bounded by the caller's buffer.
    let mut rx = [0u8; 256];
    let mut ws = open(&p, "/fragments", WsConfig::default(), &mut rx)
        .await
        .unwrap();
    let mut small = [0u8; 8];
    assert_eq!(ws.receive(&mut small).await, Err(WsError::MessageTooLarge));
    drain(ws).await;
    assert_eq!(
        p.expect_line("CLOSE_RCVD /fragments"),
        "CLOSE_RCVD /fragments 1009"
    );
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007() {
    let p = peer();
    for path in ["/bad-utf8", "/bad-utf8-split"] {
        let mut rx = [0u8; 256];
        let mut ws = open(&p, path, WsConfig::default(), &mut rx).await.unwrap();
        let mut msg = [0u8; 64];
        assert_eq!(
            ws.receive(&mut msg).await,
            Err(WsError::InvalidUtf8),
            "{path}"
        );
        drain(ws).await;
        assert_eq!(
            p.expect_line(&format!("CLOSE_RCVD {path} ")),
            format!("CLOSE_RCVD {path} 1007")
        );
    }
}

#[tokio::test]
async fn pings_are_answered() {
    let p = peer();
    let mut rx = [0u8; 256];
    let mut ws = open(&p, "/ping", WsConfig::default(), &mut rx)
        .await
        .unwrap();
    let mut msg = [0u8; 64];
    // The server only sends this after it got our pong to its ping.
    assert_eq!(ws.receive(&mut msg).await, Ok(Message::Text("pong ok")));
    assert_eq!(ws.close(4000, "").await, Ok(Some(4000)));
    drop(ws);
    assert_eq!(p.expect_line("CLOSE_RCVD /ping"), "CLOSE_RCVD /ping 4000");
}

#[tokio::test]
async fn server_close_codes_reach_the_client() {
    let p = peer();
    for (code, reason) in [(1000u16, "bye"), (1001, ""), (4001, "custom reason")] {
        let mut rx = [0u8; 256];
        let path = format!("/close?code={code}&reason={}", reason.replace(' ', "%20"));
        let mut ws = open(&p, &path, WsConfig::default(), &mut rx).await.unwrap();
        let mut msg = [0u8; 64];
        assert_eq!(
            ws.receive(&mut msg).await,
            Ok(Message::Close(Some(CloseFrame { code, reason })))
        );
        assert_eq!(ws.receive(&mut msg).await, Err(WsError::Closed));
        // The client echoed the code.
        drop(ws);
        assert_eq!(
            p.expect_line("CLOSE_RCVD /close"),
            format!("CLOSE_RCVD /close {code}")
        );
    }
}

#[tokio::test]
async fn oversized_frames_are_refused_both_ways() {
    let p = peer();
    let mut rx = [0u8; 256];
    let config = WsConfig {
        max_frame_len: 4096,
    };
    let mut ws = open(&p, "/big?size=5000", config, &mut rx).await.unwrap();
    let mut msg = vec![0u8; 10_000];
    assert_eq!(ws.receive(&mut msg).await, Err(WsError::FrameTooLarge));
    drain(ws).await;
    assert_eq!(p.expect_line("CLOSE_RCVD /big"), "CLOSE_RCVD /big 1009");

    // A frame at the limit is fine.
    let mut rx = [0u8; 256];
    let mut ws = open(&p, "/big?size=4096", config, &mut rx).await.unwrap();
    assert_eq!(
        ws.receive(&mut msg).await,
        Ok(Message::Binary(&[0u8; 4096][..]))
    );

    // The server's own limit (1 MiB): it closes with 1009.
    let mut rx = [0u8; 256];
    let mut ws = open(&p, "/echo", WsConfig::default(), &mut rx)
        .await
        .unwrap();
    ws.send_binary(&vec![7u8; (1 << 20) + 1]).await.unwrap();
    let close = ws.receive(&mut msg).await.unwrap();
    assert!(
        matches!(close, Message::Close(Some(CloseFrame { code: 1009, .. }))),
        "{close:?}"
    );
}

#[tokio::test]
async fn handshake_rejections_and_subprotocols() {
    let p = peer();
    let mut rx = [0u8; 512];
    let err = open(&p, "/reject", WsConfig::default(), &mut rx)
        .await
        .err();
    assert_eq!(err, Some(WsError::HandshakeStatus(403)));

    let mut connector = TcpConnector::new(&STACK, &STACK);
    let url = p.url("ws", "/echo");
    let options = HandshakeOptions {
        protocols: &["nope", "chat"],
        headers: &[("X-Device", "ioto")],
    };
    let mut ws = ws::connect(
        &mut connector,
        &url,
        &options,
        WsConfig::default(),
        HostEntropy::default(),
        &mut rx,
    )
    .await
    .unwrap();
    assert_eq!(ws.protocol(), Some(1));
    ws.send_text("x").await.unwrap();
    let mut msg = [0u8; 8];
    assert_eq!(ws.receive(&mut msg).await, Ok(Message::Text("x")));

    let mut rx = [0u8; 512];
    let err = ws::connect(
        &mut connector,
        &p.url("wss", "/echo"),
        &HandshakeOptions::default(),
        WsConfig::default(),
        HostEntropy::default(),
        &mut rx,
    )
    .await
    .err();
    assert_eq!(err, Some(WsError::Connect(ConnectError::TlsUnavailable)));
    let err = ws::connect(
        &mut connector,
        &p.url("http", "/echo"),
        &HandshakeOptions::default(),
        WsConfig::default(),
        HostEntropy::default(),
        &mut rx,
    )
    .await
    .err();
    assert_eq!(err, Some(WsError::InvalidUrl));
}

#[tokio::test]
async fn handshake_against_plain_http_server_is_refused() {
    // A real HTTP server that does not speak WebSocket answers 404.
    let p = Peer::start("http_peer.py", "aiohttp", &[]);
    let mut rx = [0u8; 1024];
    let err = open(&p, "/nowhere", WsConfig::default(), &mut rx)
        .await
        .err();
    assert_eq!(err, Some(WsError::HandshakeStatus(404)));
}
