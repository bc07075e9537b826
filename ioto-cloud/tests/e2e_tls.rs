//! HTTPS end to end: the model client on ioto-transport's HTTP client with its verified
//! TLS connector (`IotoHttp` + `TlsHttpConnector`), and the `ai` host tool with `--ca`,
//! against llmock serving TLS itself (uvicorn). Certificates come from ioto-transport's
//! openssl-made test PKI (tests/tls_common there).
#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod common;
#[path = "../../ioto-transport/tests/tls_common/mod.rs"]
mod tls_common;

use common::nal::StdStack;
use common::{Server, block_on};
use ioto_board_host::platform::OsRng;
use ioto_board_host::platform::{HostClock, HostDelay};
use ioto_cloud::chat::{ChatMessage, ChatRequest};
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::transport::{IotoHttp, TransportError};
use ioto_cloud::{Error, Secret};
use ioto_transport::http::{HttpClient, NoTimer, TcpConnector};
use ioto_transport::tls::{READ_BUF_FULL, TlsBuffers, TlsError, TlsHttpConnector};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;
use tls_common::{Pki, now_unix};

const HELLO: &str = "Hello! This is a mock response from gpt-4o.";

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        Pki::generate(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e_tls_pki"))
    })
}

fn llmock_tls() -> Server {
    let pki = pki();
    Server::llmock_tls(&pki.good.cert, &pki.good.key)
}

/// One chat request over HTTPS, trusting `ca`; the reply, and the connector's TLS error.
fn chat_over_https(port: u16, ca: &[u8]) -> (Result<String, Error>, Option<TlsError>) {
    let stack = StdStack;
    let (mut r, mut w) = (vec![0u8; READ_BUF_FULL], vec![0u8; 2048]);
    let buffers = TlsBuffers::new(&mut r, &mut w);
    let mut connector = TlsHttpConnector::new(
        TcpConnector::new(&stack, &stack),
        &buffers,
        ca,
        OsRng,
        now_unix,
    );
    let http = IotoHttp::new(HttpClient::new(&mut connector, NoTimer), 2048);
    let endpoint = Endpoint::new(&format!("https://127.0.0.1:{port}/v1")).unwrap();
    let cfg = ClientConfig::new(endpoint, Api::OpenAi, Secret::new("sk-tls"));
    let mut client = Client::new(http, HostClock::new(), HostDelay, cfg);
    let req = ChatRequest::new("gpt-4o").message(ChatMessage::User("hello".into()));
    let mut streamed = String::new();
    let reply = block_on(async {
        let whole = client.call(&req, None).await?;
        let st = client
            .stream(&req, None, &mut |t| streamed.push_str(t))
            .await?;
        assert_eq!(st.content, whole.content);
        Ok(whole.content)
    });
    drop(client);
    if reply.is_ok() {
        assert_eq!(streamed, HELLO);
    }
    (reply, connector.last_error())
}

#[test]
fn chat_over_verified_https_through_ioto_transport() {
    let s = llmock_tls();
    let (reply, tls_error) = chat_over_https(s.port, &pki().ca.pem());
    assert_eq!(reply.unwrap(), HELLO);
    assert_eq!(tls_error, None);
}

#[test]
fn https_with_a_certificate_from_another_ca_is_refused() {
    let s = llmock_tls();
    let (reply, tls_error) = chat_over_https(s.port, &pki().other_ca.pem());
    assert_eq!(reply, Err(Error::Transport(TransportError::Tls)));
    assert_eq!(tls_error, Some(TlsError::UnknownCa));
}

/// `cargo test` builds the examples next to the test binaries.
fn ai(args: &[&str]) -> Output {
    let exe = std::env::current_exe().unwrap();
    let tool = exe.parent().unwrap().parent().unwrap().join("examples/ai");
    assert!(tool.exists(), "{} missing", tool.display());
    Command::new(tool)
        .args(args)
        .env("OPENAI_API_KEY", "sk-tool")
        .output()
        .unwrap()
}

#[test]
fn ai_tool_asks_over_https_with_ca_and_names_certificate_problems() {
    let s = llmock_tls();
    let url = format!("https://127.0.0.1:{}/v1", s.port);
    let pki = pki();
    let (ca, other) = (
        pki.ca.cert.to_str().unwrap(),
        pki.other_ca.cert.to_str().unwrap(),
    );
    let ok = ai(&["--endpoint", &url, "--ca", ca, "--model", "gpt-4o", "hello"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(String::from_utf8(ok.stdout).unwrap().trim_end(), HELLO);

    let bad = ai(&["--endpoint", &url, "--ca", other, "hello"]);
    let log = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{log}");
    assert!(
        log.contains("the server certificate is not issued by the configured CA"),
        "{log}"
    );

    // No trust store: https:// without --ca is a usage error; --ca never goes with http.
    let no_ca = ai(&["--endpoint", &url, "hello"]);
    assert_eq!(no_ca.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_ca.stderr).contains("--ca FILE"));
    let plain = format!("http://127.0.0.1:{}/v1", s.port);
    let mixed = ai(&["--endpoint", &plain, "--ca", ca, "hello"]);
    assert_eq!(mixed.status.code(), Some(2));
}
