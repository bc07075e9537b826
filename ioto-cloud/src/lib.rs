//! # ioto-cloud
//!
//! Foundation-model clients for devices: OpenAI Chat Completions, Responses and
//! Realtime, Anthropic Messages and any OpenAI-compatible endpoint, with tool calls
//! routed only to declared device functions whose arguments are checked against
//! their JSON Schema.
#![no_std]
#![deny(missing_docs)]
