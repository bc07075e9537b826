//! Host tool: ask a model something from the command line.
//!
//! ```text
//! cargo run -p ioto-cloud --features std --example ai -- --endpoint URL [--ca FILE] \
//!     [--api chat|responses|anthropic] [--model M] [--stream] [--tools demo] [--local] "prompt"
//! ```
//!
//! Prints the answer (streamed tokens as they arrive with `--stream`), the tool calls
//! made, and the usage. The key comes from `OPENAI_API_KEY` (chat, responses) or
//! `ANTHROPIC_API_KEY` (anthropic).
//!
//! `https://` endpoints go over ioto-transport's TLS 1.3 client (the device code path)
//! with the server certificate verified against the CA in `--ca FILE` (PEM or DER;
//! required: this tool uses no system trust store, so pass the CA that issued the
//! server's certificate — for public APIs, the root CA named in its chain — and note
//! that the verifier accepts ECDSA P-256 chains only). Plain `http://` endpoints are
//! accepted only for loopback hosts or with `--local`, and never with `--ca`.
//! Exit status 2 means bad usage.

use ioto_board_host::platform::{self, HostClock, HostDelay};
use ioto_cloud::anthropic::{AnthropicMessage, AnthropicRequest};
use ioto_cloud::api::ModelAnswer;
use ioto_cloud::builtins::{self, Actuator};
use ioto_cloud::chat::{ChatMessage, ChatRequest};
use ioto_cloud::client::{Api, Client, ClientConfig};
use ioto_cloud::endpoint::Endpoint;
use ioto_cloud::responses::{InputItem, ResponsesRequest};
use ioto_cloud::tool_loop::{
    Chaining, ExecutedCall, LoopCaps, run_anthropic, run_chat, run_responses,
};
use ioto_cloud::tools::ToolRegistry;
use ioto_cloud::transport::HttpTransport;
use ioto_cloud::{Error, Secret};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

struct Args {
    endpoint: String,
    ca: Option<String>,
    api: String,
    model: Option<String>,
    stream: bool,
    tools: bool,
    local: bool,
    prompt: String,
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: ai --endpoint URL [--ca FILE] [--api chat|responses|anthropic] [--model M] [--stream] [--tools demo] [--local] \"prompt\""
    );
    ExitCode::from(2)
}

fn parse_args() -> Option<Args> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        endpoint: String::new(),
        ca: None,
        api: "chat".into(),
        model: None,
        stream: false,
        tools: false,
        local: false,
        prompt: String::new(),
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--endpoint" => a.endpoint = it.next()?,
            "--ca" => a.ca = Some(it.next()?),
            "--api" => a.api = it.next()?,
            "--model" => a.model = Some(it.next()?),
            "--stream" => a.stream = true,
            "--local" => a.local = true,
            "--tools" => {
                if it.next()? != "demo" {
                    return None;
                }
                a.tools = true;
            }
            s if s.starts_with("--") => return None,
            s => a.prompt = s.into(),
        }
    }
    (!a.endpoint.is_empty()
        && !a.prompt.is_empty()
        && ["chat", "responses", "anthropic"].contains(&a.api.as_str()))
    .then_some(a)
}

fn is_loopback(url: &str) -> bool {
    let rest = url.strip_prefix("http://").unwrap_or("");
    ["127.", "localhost", "[::1]"]
        .iter()
        .any(|p| rest.starts_with(p))
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        return usage();
    };
    let https = args.endpoint.starts_with("https://");
    match (https, &args.ca) {
        (true, None) => {
            eprintln!(
                "error: https:// endpoints need --ca FILE (the CA that issued the server's \
                 certificate; this tool has no system trust store)"
            );
            return ExitCode::from(2);
        }
        (false, Some(_)) => {
            eprintln!("error: --ca applies only to https:// endpoints");
            return ExitCode::from(2);
        }
        _ => {}
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_calls(calls: &[ExecutedCall]) {
    for c in calls {
        eprintln!(
            "[tool] {}({}) -> {}",
            c.call.name, c.call.arguments, c.output
        );
    }
}

/// The client on the host platform (the tool runs on a current-thread tokio runtime).
type HostClient<T> = Client<T, HostClock, HostDelay>;

/// Asks over plain HTTP (local endpoints) or verified HTTPS (`--ca`).
async fn run(args: &Args) -> Result<(), String> {
    let endpoint = if args.ca.is_none() && (args.local || is_loopback(&args.endpoint)) {
        Endpoint::local(&args.endpoint)
    } else {
        Endpoint::new(&args.endpoint)
    }
    .map_err(|e| e.to_string())?;
    let anthropic = args.api == "anthropic";
    let key_var = if anthropic {
        "ANTHROPIC_API_KEY"
    } else {
        "OPENAI_API_KEY"
    };
    let key = Secret::new(&std::env::var(key_var).unwrap_or_default());
    let api = if anthropic {
        Api::Anthropic
    } else {
        Api::OpenAi
    };
    let cfg = ClientConfig::new(endpoint, api, key);
    match &args.ca {
        None => {
            let http = platform::plain_http();
            ask(Client::new(http, HostClock::new(), HostDelay, cfg), args)
                .await
                .map_err(|e| e.to_string())
        }
        Some(path) => ask_tls(path, cfg, args).await,
    }
}

/// HTTPS through ioto-transport's verified TLS connector over tokio TCP.
async fn ask_tls(path: &str, cfg: ClientConfig, args: &Args) -> Result<(), String> {
    use ioto_transport::tls::{READ_BUF_FULL, TlsBuffers};

    let ca = std::fs::read(path).map_err(|e| format!("cannot read --ca {path}: {e}"))?;
    let (mut read, mut write) = (vec![0u8; READ_BUF_FULL], vec![0u8; 4096]);
    let buffers = TlsBuffers::new(&mut read, &mut write);
    let mut connector = platform::tls_connector(&buffers, &ca);
    let http = platform::https(&mut connector);
    let result = ask(Client::new(http, HostClock::new(), HostDelay, cfg), args).await;
    result.map_err(|e| match connector.last_error() {
        Some(reason) => format!("{e}: {reason}"),
        None => e.to_string(),
    })
}

/// Sends the prompt (running the tool loop with `--tools demo`) and prints the answer.
async fn ask<T: HttpTransport>(mut client: HostClient<T>, args: &Args) -> Result<(), Error> {
    let fan = Cell::new(0.0);
    let next_job = Cell::new(0u32);
    let state = RefCell::new(BTreeMap::from([("mode".to_string(), "auto".to_string())]));
    let mut reg = ToolRegistry::new(16);
    if args.tools {
        builtins::read_sensor(&mut reg, &["temperature", "vibration"], |s| {
            Some(if s == "temperature" { 61.5 } else { 0.82 })
        })?;
        builtins::set_actuator(
            &mut reg,
            &[Actuator {
                name: "fan",
                min: 0.0,
                max: 3000.0,
            }],
            |_, v| {
                fan.set(v);
                Ok(())
            },
        )?;
        builtins::state(&mut reg, &state, &["mode"])?;
        builtins::schedule(&mut reg, &["inspect", "restart"], 86_400, |_, _| {
            next_job.set(next_job.get() + 1);
            Ok(next_job.get())
        })?;
    }
    let caps = LoopCaps {
        stream: args.stream,
        ..LoopCaps::default()
    };
    let mut out = std::io::stdout();
    let mut on_text = |t: &str| {
        let _ = out.write_all(t.as_bytes());
        let _ = out.flush();
    };
    let usage = match args.api.as_str() {
        "chat" => {
            let req = ChatRequest::new(args.model.as_deref().unwrap_or("gpt-4o-mini"))
                .message(ChatMessage::User(args.prompt.clone()));
            let (c, calls) = run_chat(&mut client, &mut reg, req, caps, &mut on_text).await?;
            if !args.stream {
                println!("{}", c.content);
            }
            print_calls(&calls);
            c.usage
        }
        "responses" => {
            let req = ResponsesRequest::new(args.model.as_deref().unwrap_or("gpt-4.1-mini"))
                .input(InputItem::user(&args.prompt));
            let (r, calls) = run_responses(
                &mut client,
                &mut reg,
                req,
                Chaining::FullHistory,
                caps,
                &mut on_text,
            )
            .await?;
            if !args.stream {
                println!("{}", r.output_text());
            }
            print_calls(&calls);
            r.usage
        }
        _ => {
            let req =
                AnthropicRequest::new(args.model.as_deref().unwrap_or("claude-sonnet-4-5"), 1024)
                    .message(AnthropicMessage::user(&args.prompt));
            let (r, calls) = run_anthropic(&mut client, &mut reg, req, caps, &mut on_text).await?;
            if !args.stream {
                println!("{}", r.text());
            }
            print_calls(&calls);
            Some(r.usage)
        }
    };
    if args.stream {
        println!();
    }
    if let Some(u) = usage {
        eprintln!(
            "[usage] input {} output {} tokens",
            u.input_tokens, u.output_tokens
        );
    }
    Ok(())
}
