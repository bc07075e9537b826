//! The key never shows: every config, request and error type is formatted (`{:?}`, and
//! `{}` where it has one) with a known key in it, and the text must not contain it.
//! Servers here echo the key in every kind of error the APIs have (HTTP status,
//! `error` objects in whole bodies, mid-stream `error` events of all three APIs,
//! Realtime `error` events), placed so that a cut at the message bound before scrubbing
//! would leave part of it.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use embassy_futures::block_on;
use ioto_board_host::HostClock;
use ioto_cloud::anthropic::{AnthropicMessage, AnthropicRequest};
use ioto_cloud::chat::{ChatMessage, ChatRequest};
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::realtime::{self, RealtimeSession, RealtimeSocket};
use ioto_cloud::resilience::RetryPolicy;
use ioto_cloud::responses::{InputItem, ResponsesRequest};
use ioto_cloud::tools::ToolRegistry;
use ioto_cloud::transport::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};
use ioto_cloud::{Error, Secret};
use std::cell::Cell;

const KEY: &str = "sk-TESTKEY-1234";

/// A server message with the key at byte 250: across the 256-byte message bound.
fn echo(prefix: &str) -> String {
    let pad = "x".repeat(250 - prefix.len());
    format!("{prefix}{pad}{KEY} was rejected")
}

/// A transport answering every request with `status` and `body`; it checks that the
/// key went out in the header the API uses.
struct Canned {
    status: u16,
    body: Vec<u8>,
    saw_key: Cell<bool>,
}

impl HttpTransport for Canned {
    type Body<'a> = &'a [u8];

    async fn send<'a>(
        &'a mut self,
        req: &HttpRequest<'_>,
    ) -> Result<HttpResponse<&'a [u8]>, TransportError> {
        let bearer = format!("Bearer {KEY}");
        let sent = req.headers.iter().any(|(k, v)| {
            (k.eq_ignore_ascii_case("authorization") && *v == bearer)
                || (k.eq_ignore_ascii_case("x-api-key") && *v == KEY)
        });
        self.saw_key.set(sent);
        assert!(
            !format!("{req:?}").contains(KEY),
            "HttpRequest Debug: {req:?}"
        );
        Ok(HttpResponse {
            status: self.status,
            retry_after: None,
            body: &self.body,
        })
    }
}

#[derive(Debug)]
struct NoDelay;

impl embedded_hal_async::delay::DelayNs for NoDelay {
    async fn delay_ns(&mut self, _ns: u32) {}
}

fn config(api: Api) -> ClientConfig {
    let mut cfg = ClientConfig::new(
        Endpoint::new("https://api.example.com/v1").unwrap(),
        api,
        Secret::new(KEY),
    );
    cfg.retry = RetryPolicy::none();
    cfg
}

fn client(api: Api, status: u16, body: String) -> Client<Canned, HostClock, NoDelay> {
    let t = Canned {
        status,
        body: body.into_bytes(),
        saw_key: Cell::new(false),
    };
    Client::new(t, HostClock::new(), NoDelay, config(api))
}

fn assert_clean(what: &str, err: &Error) {
    for text in [format!("{err}"), format!("{err:?}")] {
        assert!(!text.contains(KEY), "{what}: key in {text}");
        // Not even its first half (a cut before scrubbing leaves a prefix).
        assert!(
            !text.contains("sk-TESTK"),
            "{what}: part of the key in {text}"
        );
    }
    assert!(
        // The key sat at byte 250: scrubbed first, the mark is what the bound cuts.
        format!("{err:?}").contains("xxx[REDAC"),
        "{what}: the server's echo was not kept (scrubbed) at all: {err:?}"
    );
}

fn sse(events: &[String]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

fn chat() -> ChatRequest {
    ChatRequest::new("m").message(ChatMessage::User("hi".into()))
}

fn responses() -> ResponsesRequest {
    ResponsesRequest::new("m").input(InputItem::user("hi"))
}

fn anthropic() -> AnthropicRequest {
    AnthropicRequest::new("claude", 10).message(AnthropicMessage::user("hi"))
}

fn openai_error() -> String {
    serde_json::json!({"error": {"message": echo("Incorrect API key: "), "type": "invalid_request_error"}})
        .to_string()
}

#[test]
fn http_status_error_is_scrubbed() {
    let mut c = client(Api::OpenAi, 401, openai_error());
    let err = block_on(c.call(&chat(), None)).unwrap_err();
    assert!(matches!(err, Error::Http { status: 401, .. }), "{err:?}");
    assert_clean("401", &err);
}

#[test]
fn chat_errors_are_scrubbed_whole_and_streamed() {
    let mut c = client(Api::OpenAi, 200, openai_error());
    let err = block_on(c.call(&chat(), None)).unwrap_err();
    // A 200 body that is an error object is no completion; the stream carries it.
    assert!(matches!(err, Error::Json(_) | Error::Api { .. }), "{err:?}");
    let mut c = client(Api::OpenAi, 200, sse(&[openai_error()]));
    let err = block_on(c.stream(&chat(), None, &mut |_| {})).unwrap_err();
    assert!(matches!(err, Error::Api { .. }), "{err:?}");
    assert_clean("chat stream error", &err);
    assert!(c.transport_saw_key());
}

#[test]
fn responses_errors_are_scrubbed_whole_and_streamed() {
    let failed = serde_json::json!({"id": "r1", "status": "failed", "output": [],
        "error": {"code": "server_error", "message": echo("bad key ")}})
    .to_string();
    let mut c = client(Api::OpenAi, 200, failed.clone());
    let err = block_on(c.call(&responses(), None)).unwrap_err();
    assert_clean("responses body error", &err);

    let failed_event = serde_json::json!({"type": "response.failed", "sequence_number": 1,
            "response": serde_json::from_str::<serde_json::Value>(&failed).unwrap()})
    .to_string();
    let mut c = client(Api::OpenAi, 200, sse(&[failed_event]));
    let err = block_on(c.stream(&responses(), None, &mut |_| {})).unwrap_err();
    assert_clean("response.failed", &err);

    let error_event = serde_json::json!({"type": "error", "sequence_number": 1,
        "code": "invalid_api_key", "message": echo("bad key ")})
    .to_string();
    let mut c = client(Api::OpenAi, 200, sse(&[error_event]));
    let err = block_on(c.stream(&responses(), None, &mut |_| {})).unwrap_err();
    assert_clean("responses error event", &err);
}

#[test]
fn anthropic_errors_are_scrubbed_whole_and_streamed() {
    let body = serde_json::json!({"type": "error", "error":
        {"type": "authentication_error", "message": echo("invalid x-api-key ")}})
    .to_string();
    let mut c = client(Api::Anthropic, 200, body.clone());
    let err = block_on(c.call(&anthropic(), None)).unwrap_err();
    assert_clean("anthropic body error", &err);
    let mut c = client(
        Api::Anthropic,
        200,
        format!("event: error\ndata: {body}\n\n"),
    );
    let err = block_on(c.stream(&anthropic(), None, &mut |_| {})).unwrap_err();
    assert_clean("anthropic stream error", &err);
    assert!(c.transport_saw_key());
}

/// A Realtime socket replaying scripted server events.
struct Replay(Vec<String>);

impl RealtimeSocket for Replay {
    async fn send_text(&mut self, _text: &str) -> Result<(), TransportError> {
        Ok(())
    }

    async fn recv_text<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b str, TransportError> {
        if self.0.is_empty() {
            return Err(TransportError::Io);
        }
        let m = self.0.remove(0);
        buf[..m.len()].copy_from_slice(m.as_bytes());
        Ok(core::str::from_utf8(&buf[..m.len()]).unwrap())
    }
}

#[test]
fn realtime_error_event_is_scrubbed() {
    let key = Secret::new(KEY);
    let ev = serde_json::json!({"type": "error", "error":
        {"type": "invalid_request_error", "code": "invalid_api_key", "message": echo("key ")}})
    .to_string();
    let mut reg = ToolRegistry::default();
    let mut session = RealtimeSession::new(&mut reg).with_key(&key);
    let (parsed, _) = session.on_event(&ev).unwrap();
    assert!(!format!("{parsed:?}").contains("sk-TESTK"), "{parsed:?}");
    let mut sock = Replay(vec![ev]);
    let mut buf = vec![0u8; 4096];
    let err = block_on(realtime::run_text_turn(
        &mut sock,
        &mut session,
        "hi",
        &mut buf,
        2,
        &mut |_| {},
    ))
    .unwrap_err();
    assert_clean("realtime error", &err);
    assert!(!format!("{session:?}").contains(KEY));
}

#[test]
fn configs_requests_and_headers_never_print_the_key() {
    let key = Secret::new(KEY);
    let (_, headers) = realtime::connect_request("/v1", "gpt-realtime", &key);
    assert_eq!(headers[0].1.as_str(), format!("Bearer {KEY}"));
    let c = client(Api::OpenAi, 200, String::new());
    let ep = Endpoint::new("https://api.example.com/v1").unwrap();
    let bearer = key.bearer();
    let req = HttpRequest {
        method: Method::Post,
        endpoint: &ep,
        path: "/v1/chat/completions",
        headers: &[("Authorization", bearer.as_str()), ("x-api-key", KEY)],
        body: b"{}",
    };
    let mut mqtt = ioto_transport::mqtt::client::ClientConfig::new(
        ioto_transport::mqtt::packet::ProtocolVersion::V5,
        "dev",
    );
    mqtt.password = Some(KEY.as_bytes());
    let auth = [("Authorization", bearer.as_str())];
    let ws = ioto_transport::ws::HandshakeOptions {
        protocols: &[],
        headers: &auth,
    };
    let texts = [
        format!("{key:?} {key}"),
        format!("{bearer:?} {bearer}"),
        format!("{headers:?}"),
        format!("{:?}", c.config()),
        format!("{c:?}"),
        format!("{req:?}"),
        format!("{mqtt:?}"),
        format!("{ws:?}"),
    ];
    // A password held as bytes prints as a list of numbers.
    let as_bytes = format!("{:?}", KEY.as_bytes());
    for t in texts {
        assert!(!t.contains(KEY), "key printed: {t}");
        assert!(!t.contains(&as_bytes[1..24]), "key bytes printed: {t}");
        assert!(!t.contains("sk-TESTK"), "part of the key printed: {t}");
    }
}

trait SawKey {
    fn transport_saw_key(&self) -> bool;
}

impl SawKey for Client<Canned, HostClock, NoDelay> {
    fn transport_saw_key(&self) -> bool {
        // The Debug of a client shows its transport's fields (not the request).
        format!("{self:?}").contains("saw_key: Cell { value: true }")
    }
}

impl core::fmt::Debug for Canned {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Canned")
            .field("status", &self.status)
            .field("saw_key", &self.saw_key)
            .finish()
    }
}
