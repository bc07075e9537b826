//! The same client on the device transport: ioto-transport's HTTP client (reqwless)
//! against llmock, and the Realtime event layer over ioto-transport's WebSocket.
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;

use common::nal::StdStack;
use common::{Server, block_on, control, device_tools};
use ioto_board_host::platform::{HostClock, HostDelay, HostEntropy};
use ioto_cloud::chat::{ChatMessage, ChatRequest};
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::realtime::{self, RealtimeSession};
use ioto_cloud::responses::{InputItem, ResponsesRequest};
use ioto_cloud::tool_loop::{Chaining, LoopCaps, run_responses};
use ioto_cloud::tools::CallStatus;
use ioto_cloud::transport::IotoHttp;
use ioto_cloud::{Error, Secret};
use ioto_transport::http::{HttpClient, NoTimer, TcpConnector};
use ioto_transport::ws::{self, HandshakeOptions, WsConfig};
use serde_json::json;
use std::cell::Cell;

const HELLO: &str = "Hello! This is a mock response from gpt-4o.";

#[test]
fn reqwless_transport_chat_stream_and_responses_tool_loop() {
    let s = Server::llmock();
    let stack = StdStack;
    let http = IotoHttp::new(
        HttpClient::new(TcpConnector::new(&stack, &stack), NoTimer),
        2048,
    );
    let cfg = ClientConfig::new(
        Endpoint::local(&s.url("/v1")).unwrap(),
        Api::OpenAi,
        Secret::new("sk-local"),
    );
    let mut c = Client::new(http, HostClock::new(), HostDelay, cfg);
    let req = ChatRequest::new("gpt-4o").message(ChatMessage::User("hello".into()));
    assert_eq!(block_on(c.call(&req, None)).unwrap().content, HELLO);
    let mut streamed = String::new();
    let st = block_on(c.stream(&req, None, &mut |t| streamed.push_str(t))).unwrap();
    assert_eq!((st.content.as_str(), streamed.as_str()), (HELLO, HELLO));

    control(
        s.port,
        "/_llmock/scenario",
        Some(&json!({"behaviors": [{"type": "reply", "tool_calls": [
        {"name": "read_sensor", "arguments": {"sensor": "vibration"}},
        {"name": "set_actuator", "arguments": {"actuator": "fan", "value": 1500}}]}]})),
    );
    let fan = Cell::new(0.0);
    let mut reg = device_tools(&fan);
    let mut r = ResponsesRequest::new("gpt-4o").input(InputItem::user("check the pump"));
    r.store = Some(false);
    let caps = LoopCaps {
        stream: true,
        ..LoopCaps::default()
    };
    let (resp, calls) = block_on(run_responses(
        &mut c,
        &mut reg,
        r,
        Chaining::FullHistory,
        caps,
        &mut |_| {},
    ))
    .unwrap();
    assert_eq!(calls.len(), 2);
    assert!(calls.iter().all(|c| c.status == CallStatus::Ok));
    assert_eq!(fan.get(), 1500.0);
    assert!(!resp.output_text().is_empty());
    // 429 through the device transport is retried too.
    control(
        s.port,
        "/_llmock/scenario",
        Some(&json!({"behaviors": [{"type": "fail", "status": 429, "retry_after": 0}]})),
    );
    assert_eq!(block_on(c.call(&req, None)).unwrap().content, HELLO);
}

#[test]
fn https_without_a_tls_connector_is_refused_not_downgraded() {
    let stack = StdStack;
    let http = IotoHttp::new(
        HttpClient::new(TcpConnector::new(&stack, &stack), NoTimer),
        1024,
    );
    let cfg = ClientConfig::new(
        Endpoint::new("https://127.0.0.1:9/v1").unwrap(),
        Api::OpenAi,
        Secret::new("k"),
    );
    let mut c = Client::new(http, HostClock::new(), HostDelay, cfg);
    let req = ChatRequest::new("m").message(ChatMessage::User("x".into()));
    assert_eq!(
        block_on(c.call(&req, None)).unwrap_err(),
        Error::Transport(ioto_cloud::transport::TransportError::Tls)
    );
}

#[test]
fn realtime_session_over_ioto_websocket_routes_parallel_tool_calls() {
    let s = Server::realtime();
    let fan = Cell::new(0.0);
    let mut reg = device_tools(&fan);
    let key = Secret::new("sk-realtime");
    let endpoint = Endpoint::local(&format!("http://127.0.0.1:{}/v1", s.port)).unwrap();
    let url = realtime::realtime_url(&endpoint, "gpt-realtime");
    let (_, headers) = realtime::connect_request(&endpoint.base_path, "gpt-realtime", &key);
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stack = StdStack;
    let mut connector = TcpConnector::new(&stack, &stack);
    let mut rx = vec![0u8; 16 * 1024];
    let mut text = String::new();
    block_on(async {
        let options = HandshakeOptions {
            protocols: &[],
            headers: &header_refs,
        };
        let mut sock = ws::connect(
            &mut connector,
            &url,
            &options,
            WsConfig::default(),
            HostEntropy::default(),
            &mut rx,
        )
        .await
        .unwrap();
        let mut buf = vec![0u8; 16 * 1024];
        {
            use ioto_cloud::realtime::RealtimeSocket;
            let first = sock.recv_text(&mut buf).await.unwrap().to_string();
            assert!(matches!(
                realtime::parse_server_event(&first).unwrap(),
                realtime::ServerEvent::SessionCreated(_)
            ));
            sock.send_text(&realtime::session_update("You run a pump.", &reg, "text"))
                .await
                .unwrap();
            let updated = sock.recv_text(&mut buf).await.unwrap().to_string();
            assert_eq!(
                realtime::parse_server_event(&updated).unwrap(),
                realtime::ServerEvent::SessionUpdated,
                "{updated}"
            );
        }
        let mut session = RealtimeSession::new(&mut reg);
        realtime::run_text_turn(
            &mut sock,
            &mut session,
            "How is the pump?",
            &mut buf,
            4,
            &mut |t| text.push_str(t),
        )
        .await
        .unwrap();
    });
    assert_eq!(text, "Checking. Vibration 0.73, fan at 900.");
    assert_eq!(fan.get(), 900.0);
    assert_eq!(reg.calls_total(), 2);
}
