//! The README's device example: an anomaly detector fires, the device asks a model
//! (Responses API) that may call two device tools, and gets back a typed decision.
//!
//! `cargo run -p ioto-cloud --features std --example diagnose -- http://127.0.0.1:PORT/v1`
//! (any OpenAI-compatible endpoint; the key comes from `OPENAI_API_KEY`).

use ioto_board_host::platform::{HostClock, HostDelay, StdHttp};
use ioto_cloud::builtins::{self, Actuator};
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::responses::{InputItem, ResponsesRequest};
use ioto_cloud::structured::{Action, Diagnosis, ResponseFormat, parse_decision};
use ioto_cloud::tool_loop::{Chaining, LoopCaps, run_responses};
use ioto_cloud::tools::ToolRegistry;
use ioto_cloud::{Error, Secret};
use std::cell::Cell;

async fn on_anomaly<T, C, D>(client: &mut Client<T, C, D>, score: f32) -> Result<Diagnosis, Error>
where
    T: ioto_cloud::transport::HttpTransport,
    C: ioto_core::Clock,
    D: embedded_hal_async::delay::DelayNs,
{
    // 1. Declare the device functions the model may call (schema-checked).
    let fan_rpm = Cell::new(1200.0);
    let mut tools = ToolRegistry::new(8);
    builtins::read_sensor(
        &mut tools,
        &["vibration_rms", "bearing_temp"],
        |name| match name {
            "vibration_rms" => Some(0.82),
            _ => Some(71.5),
        },
    )?;
    builtins::set_actuator(
        &mut tools,
        &[Actuator {
            name: "fan",
            min: 0.0,
            max: 3000.0,
        }],
        |_, rpm| {
            fan_rpm.set(rpm); // the real device would drive the PWM here
            Ok(())
        },
    )?;

    // 2. Ask for a diagnosis in a fixed JSON schema.
    let request = ResponsesRequest::new("gpt-4.1-mini")
        .instructions("You diagnose pump anomalies. Use the tools, then answer in the schema.")
        .input(InputItem::user(&format!(
            "Anomaly score {score:.2} on pump 3."
        )))
        .text_format(ResponseFormat::for_decision::<Diagnosis>());

    // 3. Run the tool loop (every call validated, answered, logged; capped).
    let caps = LoopCaps {
        max_iterations: 4,
        max_total_ms: 30_000,
        stream: false,
    };
    let (response, calls) = run_responses(
        client,
        &mut tools,
        request,
        Chaining::FullHistory,
        caps,
        &mut |_| {},
    )
    .await?;
    for c in &calls {
        println!("tool {}({}) -> {}", c.call.name, c.call.arguments, c.output);
    }

    // 4. Parse the answer into a typed decision (anything off-schema is an error).
    parse_decision::<Diagnosis>(&response.output_text())
}

fn main() -> Result<(), Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "https://api.openai.com/v1".into());
    let endpoint = if url.starts_with("http://127.") {
        Endpoint::local(&url)?
    } else {
        Endpoint::new(&url)?
    };
    let key = Secret::new(&std::env::var("OPENAI_API_KEY").unwrap_or_default());
    let mut client = Client::new(
        StdHttp::default(),
        HostClock::new(),
        HostDelay,
        ClientConfig::new(endpoint, Api::OpenAi, key),
    );
    let d = embassy_futures::block_on(on_anomaly(&mut client, 0.93))?;
    println!("decision: {d}");
    if d.action == Action::Shutdown {
        println!("stopping pump 3");
    }
    Ok(())
}
