#![doc = include_str!("../README.md")]
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![allow(async_fn_in_trait)]

extern crate alloc;

pub mod advisor;
pub mod anthropic;
pub mod anthropic_stream;
pub mod api;
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
