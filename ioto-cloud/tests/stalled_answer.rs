//! A server that **stalls** after the answer started (sends a first piece, then keeps
//! the connection open and silent) must not get the request again: the read timeout
//! is the call's error and the caller saw each piece of text once. A stall before any
//! event reached the accumulator (or in a whole body, which the caller never sees
//! partly) restarts from nothing and gives the second attempt's answer unchanged.
//!
//! The streamed stall comes from llmock's own `StreamFault("stall")`; the other cases
//! need a peer that stalls at an exact byte, which no real server offers, so a small
//! std server below plays it (first connection: the head and a first piece, then
//! silence; later connections: the whole answer).
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use common::{Server, block_on, control};
use ioto_board_host::platform::{HostClock, HostDelay, StdHttp};
use ioto_cloud::Error;
use ioto_cloud::Secret;
use ioto_cloud::chat::{ChatMessage, ChatRequest};
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::transport::TransportError;
use ioto_core::backoff::Backoff;
use serde_json::json;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The read timeout of the client under test: far below the stalls below.
const READ_TIMEOUT: Duration = Duration::from_millis(300);

/// A client whose transport times out reads after [`READ_TIMEOUT`] and retries fast.
fn client(base: &str) -> Client<StdHttp, HostClock, HostDelay> {
    let mut cfg = ClientConfig::new(
        Endpoint::local(base).unwrap(),
        Api::OpenAi,
        Secret::new("sk-local"),
    );
    cfg.retry.max_attempts = 3;
    cfg.retry.backoff = Backoff {
        base_ms: 10,
        max_ms: 20,
    };
    Client::new(StdHttp::new(READ_TIMEOUT), HostClock::new(), HostDelay, cfg)
}

fn req() -> ChatRequest {
    ChatRequest::new("gpt-4o").message(ChatMessage::User("hello".into()))
}

/// One SSE event carrying a chat content delta (OpenAI `chat.completion.chunk`).
fn text_event(text: &str) -> String {
    let chunk = json!({"id": "c1", "object": "chat.completion.chunk", "choices":
        [{"index": 0, "delta": {"content": text}, "finish_reason": null}]});
    format!("data: {chunk}\n\n")
}

/// The whole streamed answer `Hello, world` as two deltas, a stop chunk and `[DONE]`.
fn whole_stream() -> String {
    let stop = json!({"id": "c1", "object": "chat.completion.chunk", "choices":
        [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    format!(
        "{}{}data: {stop}\n\ndata: [DONE]\n\n",
        text_event("Hello"),
        text_event(", world")
    )
}

/// A whole `chat.completion` body answering `Hello, world`.
fn whole_body() -> String {
    json!({"id": "c1", "object": "chat.completion", "choices": [{"index": 0,
        "message": {"role": "assistant", "content": "Hello, world"},
        "finish_reason": "stop"}]})
    .to_string()
}

/// What the stalling server sends on its first connection before it goes silent,
/// and what it sends whole on every later one.
struct Script {
    stalled: String,
    whole: String,
}

/// Serves `script` on a loopback port; counts requests. The stalled connection stays
/// open (and silent) until the server thread ends with the test process.
fn stalling_server(script: Script) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let mut parked = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            read_request(&mut conn);
            let n = seen.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                let _ = conn.write_all(script.stalled.as_bytes());
                let _ = conn.flush();
                parked.push(conn);
            } else {
                let _ = conn.write_all(script.whole.as_bytes());
            }
        }
    });
    (format!("http://127.0.0.1:{port}/v1"), count)
}

/// Reads one request (head, then `Content-Length` bytes of body).
fn read_request(conn: &mut TcpStream) {
    let mut data = Vec::new();
    let mut byte = [0u8; 1];
    while !data.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        data.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&data).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).unwrap();
}

fn sse_head() -> String {
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n".into()
}

fn json_head(len: usize) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n"
    )
}

fn is_timeout(e: &Error) -> bool {
    matches!(e, Error::Transport(TransportError::Timeout))
}

#[test]
fn stream_stalled_after_first_delta_is_not_retried() {
    // The reproduction: `Hel`, then silence; a retry would be answered whole.
    let (base, requests) = stalling_server(Script {
        stalled: sse_head() + &text_event("Hel"),
        whole: sse_head() + &whole_stream(),
    });
    let mut c = client(&base);
    let mut seen = String::new();
    let err = block_on(c.stream(&req(), None, &mut |t| seen.push_str(t))).unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
    assert_eq!(seen, "Hel", "the caller saw text twice");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "retried a started stream"
    );
}

#[test]
fn stream_stalled_mid_tool_arguments_is_not_retried() {
    // Half of a tool call's arguments, then silence: a retry would append the second
    // attempt's arguments to the first half.
    let partial = json!({"id": "c1", "object": "chat.completion.chunk", "choices":
        [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
        "function": {"name": "set_led", "arguments": "{\"on\":"}}]}, "finish_reason": null}]});
    let mut whole = format!("data: {partial}\n\n");
    let rest = json!({"id": "c1", "object": "chat.completion.chunk", "choices":
        [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "true}"}}]},
        "finish_reason": "tool_calls"}]});
    whole.push_str(&format!("data: {rest}\n\ndata: [DONE]\n\n"));
    let (base, requests) = stalling_server(Script {
        stalled: sse_head() + &format!("data: {partial}\n\n"),
        whole: sse_head() + &whole,
    });
    let mut c = client(&base);
    let err = block_on(c.stream(&req(), None, &mut |_| {})).unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "retried a started stream"
    );
}

#[test]
fn stream_stalled_before_any_event_restarts_cleanly() {
    // Half an event, then silence: nothing reached the accumulator, so the retry
    // starts from nothing and its answer is the whole answer, once.
    let (base, requests) = stalling_server(Script {
        stalled: sse_head() + "data: {\"id\":\"c1\",\"cho",
        whole: sse_head() + &whole_stream(),
    });
    let mut c = client(&base);
    let mut seen = String::new();
    let done = block_on(c.stream(&req(), None, &mut |t| seen.push_str(t))).unwrap();
    assert_eq!(seen, "Hello, world");
    assert_eq!(done.content, "Hello, world");
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[test]
fn whole_body_stalled_midway_restarts_with_a_fresh_body() {
    // Head with the full Content-Length and the first half of the body, then silence.
    // The caller never sees a partial body, so the retry is clean: its body alone.
    let body = whole_body();
    let (base, requests) = stalling_server(Script {
        stalled: json_head(body.len()) + &body[..body.len() / 2],
        whole: json_head(body.len()) + &body,
    });
    let mut c = client(&base);
    let done = block_on(c.call(&req(), None)).unwrap();
    assert_eq!(done.content, "Hello, world");
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[test]
fn llmock_stream_stall_is_not_retried() {
    // llmock's scripted stall: three chunks, then 1.5 s of silence (5× the read
    // timeout).
    let s = Server::llmock();
    control(
        s.port,
        "/_llmock/scenario",
        Some(&json!({"behaviors": [
            {"type": "stream_fault", "kind": "stall", "after_chunks": 3, "stall_seconds": 1.5}
        ]})),
    );
    let mut c = client(&s.url("/v1"));
    let mut seen = String::new();
    let err = block_on(c.stream(&req(), None, &mut |t| seen.push_str(t))).unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
    let whole = "Hello! This is a mock response from gpt-4o.";
    assert!(
        !seen.is_empty() && whole.starts_with(&seen) && seen.len() < whole.len(),
        "callback saw {seen:?}"
    );
    // llmock journals a request when its answer ends: wait out the stall.
    std::thread::sleep(Duration::from_millis(2000));
    let requests = control(s.port, "/_llmock/requests", None)["requests"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(requests, 1, "retried a started stream");
}
