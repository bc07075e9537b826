//! The full ioto-cloud client (device HTTP transport, retry, budget, streaming tool
//! loop) linked into firmware and driven on target against a network that refuses
//! every connection: errors come back typed, the budget refuses calls past its limit
//! before touching the network, nothing panics, and the heap is returned. Also the
//! firmware whose size the ioto-cloud README quotes.
#![no_std]
#![no_main]

extern crate alloc;

use core::net::{IpAddr, SocketAddr};
use embedded_io_async::ErrorKind;
use ioto_board_qemu::{QemuClock, block_on, entry, harness, tests};
use ioto_cloud::Error;
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::resilience::{BudgetLimits, RetryPolicy};
use ioto_cloud::responses::{InputItem, ResponsesRequest};
use ioto_cloud::schema::Schema;
use ioto_cloud::tool_loop::{Chaining, LoopCaps, run_responses};
use ioto_cloud::tools::ToolRegistry;
use ioto_cloud::transport::{IotoHttp, TransportError};
use ioto_cloud::{Secret, chat::ChatMessage, chat::ChatRequest};
use ioto_transport::http::{HttpClient, NoTimer, TcpConnector};

/// A network on which every connection is refused.
struct Offline;
/// The connection type that is never produced.
struct NoConn;

impl embedded_io_async::ErrorType for NoConn {
    type Error = ErrorKind;
}
impl embedded_io_async::Read for NoConn {
    async fn read(&mut self, _: &mut [u8]) -> Result<usize, ErrorKind> {
        Err(ErrorKind::NotConnected)
    }
}
impl embedded_io_async::Write for NoConn {
    async fn write(&mut self, _: &[u8]) -> Result<usize, ErrorKind> {
        Err(ErrorKind::NotConnected)
    }
    async fn flush(&mut self) -> Result<(), ErrorKind> {
        Err(ErrorKind::NotConnected)
    }
}
impl embedded_nal_async::TcpConnect for Offline {
    type Error = ErrorKind;
    type Connection<'a> = NoConn;
    async fn connect<'a>(&'a self, _: SocketAddr) -> Result<NoConn, ErrorKind> {
        Err(ErrorKind::ConnectionRefused)
    }
}
impl embedded_nal_async::Dns for Offline {
    type Error = ErrorKind;
    async fn get_host_by_name(
        &self,
        _: &str,
        _: embedded_nal_async::AddrType,
    ) -> Result<IpAddr, ErrorKind> {
        Err(ErrorKind::NotFound)
    }
    async fn get_host_by_address(&self, _: IpAddr, _: &mut [u8]) -> Result<usize, ErrorKind> {
        Err(ErrorKind::Unsupported)
    }
}

/// Retries without waiting (the test is about behaviour, not time).
struct NoDelay;
impl embedded_hal_async::delay::DelayNs for NoDelay {
    async fn delay_ns(&mut self, _: u32) {}
}

fn config(calls_per_hour: u32) -> ClientConfig {
    let mut cfg = ClientConfig::new(
        Endpoint::local("http://192.0.2.1:8080/v1").expect("endpoint"),
        Api::OpenAi,
        Secret::new("sk-device"),
    );
    cfg.retry = RetryPolicy {
        max_attempts: 2,
        backoff: ioto_core::backoff::Backoff {
            base_ms: 1,
            max_ms: 1,
        },
    };
    cfg.budget = BudgetLimits {
        calls_per_hour,
        ..BudgetLimits::default()
    };
    cfg
}

fn offline_calls_fail_typed_and_budget_refuses_before_sending() {
    let net = Offline;
    let http = IotoHttp::new(
        HttpClient::new(TcpConnector::new(&net, &net), NoTimer),
        1024,
    );
    let mut client = Client::new(http, QemuClock, NoDelay, config(1));
    let req = ChatRequest::new("gpt-4o-mini").message(ChatMessage::User("status?".into()));
    let first = block_on(client.stream(&req, None, &mut |_| {}));
    assert_eq!(first.err(), Some(Error::Transport(TransportError::Connect)));
    let second = block_on(client.call(&req, None));
    assert_eq!(second.err(), Some(Error::BudgetExceeded("calls per hour")));
}

fn offline_tool_loop_stops_cleanly() {
    let net = Offline;
    let http = IotoHttp::new(
        HttpClient::new(TcpConnector::new(&net, &net), NoTimer),
        1024,
    );
    let mut client = Client::new(http, QemuClock, NoDelay, config(0));
    let mut reg = ToolRegistry::new(4);
    reg.register(
        "read_sensor",
        "Read a sensor",
        Schema::object().field("sensor", "which", Schema::string().one_of(&["vibration"])),
        |_: &serde_json::Value| Ok(serde_json::Value::Null),
    )
    .expect("declare");
    let req = ResponsesRequest::new("gpt-4.1-mini").input(InputItem::user("diagnose"));
    let caps = LoopCaps {
        stream: true,
        ..LoopCaps::default()
    };
    let r = block_on(run_responses(
        &mut client,
        &mut reg,
        req,
        Chaining::PreviousResponseId,
        caps,
        &mut |_| {},
    ));
    assert_eq!(r.err(), Some(Error::Transport(TransportError::Connect)));
    assert_eq!(reg.calls_total(), 0);
}

fn heap_is_returned() {
    assert_eq!(ioto_board_qemu::heap::used(), 0);
}

#[entry]
fn main() -> ! {
    ioto_board_qemu::init_heap!(48 * 1024);
    harness::run(
        "cloud_client",
        tests![
            offline_calls_fail_typed_and_budget_refuses_before_sending,
            offline_tool_loop_stops_cleanly,
            heap_is_returned
        ],
    )
}
