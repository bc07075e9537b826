//! # ioto-cloud
//!
//! Foundation-model clients for devices: OpenAI Chat Completions, Responses and
//! Realtime, Anthropic Messages and any OpenAI-compatible endpoint, with tool calls
//! routed only to declared device functions whose arguments are checked against
//! their JSON Schema.
//!
//! `no_std` + `alloc`, async, generic over the HTTP transport ([`transport::HttpTransport`]),
//! with hard limits on every buffer ([`client::Limits`]). Module map:
//!
//! | module | holds |
//! |---|---|
//! | [`secret`], [`endpoint`] | API keys that never print; endpoints that refuse plain HTTP unless marked local |
//! | [`schema`], [`tools`], [`builtins`] | JSON Schema builder + validator, the device-function registry, example tools |
//! | [`chat`], [`chat_stream`] | Chat Completions request/response and the streaming chunk accumulator |
//! | [`responses`], [`responses_stream`] | Responses API request/response and its streaming events |
//! | [`anthropic`], [`anthropic_stream`] | Anthropic Messages request/response and its streaming events |
//! | [`structured`] | JSON-schema answers parsed into typed decisions |
//! | [`realtime`] | Realtime API (GA) client and server events, tool routing |
//! | [`client`], [`tool_loop`] | the HTTP client with retry/budget/caps, and the tool loops |
//! | [`resilience`], [`escalation`] | jittered retry policy, call/token budget, offline escalation queue on an `Outbox` |
//! | [`advisor`] | `CloudAdvisor`: ioto-core's `Advisor` port, device tools in, checked `Command`s out |
//! | [`transport`] | the transport trait (+ `StdHttp` with the `std` feature) |
//! | [`types`] | tool calls, usage and finish reasons shared by every API |
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![allow(async_fn_in_trait)]

extern crate alloc;

pub mod advisor;
pub mod anthropic;
pub mod anthropic_stream;
pub mod builtins;
pub mod chat;
pub mod chat_stream;
pub mod client;
pub mod endpoint;
pub mod error;
pub mod escalation;
pub mod realtime;
pub mod resilience;
pub mod responses;
pub mod responses_stream;
pub mod schema;
pub mod secret;
pub mod structured;
pub mod tool_loop;
pub mod tools;
pub mod transport;
pub mod types;

pub use error::Error;
pub use secret::Secret;
