//! The HTTP client: one place that builds headers (the key goes only there), enforces
//! the budget before sending, retries 429/5xx with backoff honouring `Retry-After`,
//! caps response bytes and total time, and parses streams incrementally. Every API goes
//! through [`Client::call`] / [`Client::stream`], typed by its request
//! ([`ModelRequest`]).

use crate::anthropic::ANTHROPIC_VERSION;
use crate::api::{ModelAnswer, ModelRequest, StreamAccumulator};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::resilience::{Budget, BudgetLimits, RetryPolicy};
use crate::secret::Secret;
use crate::tools::ToolRegistry;
use crate::transport::{HttpRequest, HttpTransport, Method, io_error};
use crate::types::{AnswerLimits, Usage};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use embedded_hal_async::delay::DelayNs;
use embedded_io_async::Read;
use ioto_core::Clock;
use ioto_transport::sse::SseParser;
use serde_json::Value;

/// Hard limits of one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Response body bytes (whole or streamed) before [`Error::ResponseTooLarge`].
    pub max_response_bytes: usize,
    /// SSE buffer: longest line and largest event (bytes).
    pub max_event_bytes: usize,
    /// Read chunk size (bytes).
    pub read_chunk: usize,
    /// Wall time for one call including retries (ms).
    pub timeout_ms: u64,
    /// What an answer may accumulate.
    pub answer: AnswerLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_response_bytes: 256 * 1024,
            max_event_bytes: 8 * 1024,
            read_chunk: 512,
            timeout_ms: 60_000,
            answer: AnswerLimits::default(),
        }
    }
}

/// Which wire protocol an endpoint speaks (for headers and paths).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// OpenAI or compatible (`Authorization: Bearer`).
    OpenAi,
    /// Anthropic (`x-api-key`, `anthropic-version`).
    Anthropic,
}

/// Client configuration.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Where to send requests.
    pub endpoint: Endpoint,
    /// Header style.
    pub api: Api,
    /// API key (may be empty for local servers).
    pub key: Secret,
    /// Hard limits.
    pub limits: Limits,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Seed of the generator that draws the retry jitter. Boards pass the output of
    /// their [`ioto_core::Entropy`] (or use [`Client::with_entropy`]) so devices do not
    /// retry in step; the default 0 gives a fixed (but still spread) sequence.
    pub jitter_seed: u64,
    /// Call/token budget.
    pub budget: BudgetLimits,
    /// Tokens reserved per call when the request sets no output cap.
    pub default_expected_tokens: u32,
}

impl ClientConfig {
    /// Defaults for `endpoint` with `key`.
    pub fn new(endpoint: Endpoint, api: Api, key: Secret) -> Self {
        Self {
            endpoint,
            api,
            key,
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            jitter_seed: 0,
            budget: BudgetLimits::default(),
            default_expected_tokens: 1_000,
        }
    }
}

/// How the body of a successful response is consumed.
enum Sink<'s> {
    Whole(&'s mut Vec<u8>),
    Events(&'s mut dyn FnMut(&[u8]) -> Result<bool, Error>),
}

/// A model client over transport `T`, clock `C` and delay `D`.
#[derive(Debug)]
pub struct Client<T, C, D> {
    transport: T,
    clock: C,
    delay: D,
    cfg: ClientConfig,
    budget: Budget,
    last_usage: Option<Usage>,
    jitter: u64,
}

impl<T: HttpTransport, C: Clock, D: DelayNs> Client<T, C, D> {
    /// A client.
    pub fn new(transport: T, clock: C, delay: D, cfg: ClientConfig) -> Self {
        let budget = Budget::new(cfg.budget);
        Self {
            transport,
            clock,
            delay,
            jitter: cfg.jitter_seed,
            cfg,
            budget,
            last_usage: None,
        }
    }

    /// Reseeds the retry jitter from `rng` (the board's hardware RNG).
    pub fn with_entropy(mut self, rng: &mut impl ioto_core::Entropy) -> Self {
        let mut seed = [0u8; 8];
        rng.fill_bytes(&mut seed);
        self.jitter = u64::from_le_bytes(seed);
        self
    }

    /// 32 random bits for the next retry wait (SplitMix64: any seed, 0 included,
    /// gives a well-spread sequence).
    fn jitter_bits(&mut self) -> u32 {
        self.jitter = self.jitter.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.jitter;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 32) as u32
    }

    /// The wait (ms) before retrying after failed attempt `attempt` (1-based), or
    /// `None` when no attempts are left; draws fresh jitter bits.
    pub fn retry_delay_ms(&mut self, attempt: u32, retry_after_s: Option<u32>) -> Option<u32> {
        let random = self.jitter_bits();
        self.cfg.retry.delay_ms(attempt, retry_after_s, random)
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// The clock (tool loops use it for their time cap).
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The budget state.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Usage of the last successful call.
    pub fn last_usage(&self) -> Option<Usage> {
        self.last_usage
    }

    /// Sends `req` to its API and returns the whole answer. `tools` offers the
    /// registry's functions to the model (their calls come back in the answer; the
    /// [`tool_loop`](crate::tool_loop) runs them).
    pub async fn call<R: ModelRequest>(
        &mut self,
        req: &R,
        tools: Option<&ToolRegistry<'_>>,
    ) -> Result<R::Answer, Error> {
        self.ask(req, tools, None).await
    }

    /// Like [`call`](Self::call), with the answer streamed: `on_text` receives each
    /// text delta as it arrives.
    pub async fn stream<R: ModelRequest>(
        &mut self,
        req: &R,
        tools: Option<&ToolRegistry<'_>>,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<R::Answer, Error> {
        self.ask(req, tools, Some(on_text)).await
    }

    /// One call of any API: budget, send with retries, parse or accumulate, settle.
    async fn ask<R: ModelRequest>(
        &mut self,
        req: &R,
        tools: Option<&ToolRegistry<'_>>,
        on_text: Option<&mut dyn FnMut(&str)>,
    ) -> Result<R::Answer, Error> {
        let expected = req
            .max_output_tokens()
            .unwrap_or(self.cfg.default_expected_tokens);
        let body = req.to_json(tools, on_text.is_some());
        let answer = match on_text {
            None => {
                let mut buf = Vec::new();
                self.exchange(R::PATH, &body, expected, Sink::Whole(&mut buf))
                    .await?;
                R::parse(&buf)
            }
            Some(on_text) => {
                let mut acc = R::Stream::new(self.cfg.limits.answer);
                let mut on_event = |data: &[u8]| {
                    acc.on_data(data, on_text)?;
                    Ok(acc.is_done())
                };
                self.exchange(R::PATH, &body, expected, Sink::Events(&mut on_event))
                    .await?;
                acc.finish()
            }
        }
        .map_err(|e| self.scrub(e))?;
        let usage = answer.usage();
        self.budget
            .settle(expected, usage.map_or(expected, |u| u.total()));
        self.last_usage = usage;
        Ok(answer)
    }

    /// `e` with the key scrubbed out of any server text (every error a public
    /// method returns passes here).
    fn scrub(&self, e: Error) -> Error {
        e.scrubbed(&self.cfg.key)
    }

    /// Budget check, then send with retries; errors scrubbed.
    async fn exchange(
        &mut self,
        suffix: &str,
        body: &Value,
        expected_tokens: u32,
        sink: Sink<'_>,
    ) -> Result<(), Error> {
        let r = self
            .send_with_retries(suffix, body, expected_tokens, sink)
            .await;
        r.map_err(|e| self.scrub(e))
    }

    async fn send_with_retries(
        &mut self,
        suffix: &str,
        body: &Value,
        expected_tokens: u32,
        mut sink: Sink<'_>,
    ) -> Result<(), Error> {
        let start = self.clock.now();
        self.budget.check(start, expected_tokens)?;
        let body = serde_json::to_vec(body).map_err(|_| Error::Json("request"))?;
        let path = self.cfg.endpoint.path(suffix);
        let mut attempt = 1;
        loop {
            let streamed = matches!(sink, Sink::Events(_));
            // Every attempt starts from nothing: a whole body is collected afresh, a
            // stream with a fresh SSE parser.
            if let Sink::Whole(buf) = &mut sink {
                buf.clear();
            }
            let mut delivered = false;
            let err = match self
                .attempt(&path, &body, streamed, start, &mut sink, &mut delivered)
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            // Once an event reached the accumulator (and through it, perhaps, the
            // caller's callback), a retry would repeat text and append tool arguments
            // to the partial ones: the answer has started, so it fails as it is.
            if delivered {
                return Err(err);
            }
            let retry_after = match &err {
                Error::Http { retry_after, .. } => *retry_after,
                _ => None,
            };
            let wait = if RetryPolicy::retryable(&err) {
                self.retry_delay_ms(attempt, retry_after)
            } else {
                None
            };
            let Some(ms) = wait else { return Err(err) };
            let elapsed_ms = self.clock.now().micros_since(start) / 1000;
            if elapsed_ms + u64::from(ms) > self.cfg.limits.timeout_ms {
                return Err(err);
            }
            self.delay.delay_ms(ms).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &mut self,
        path: &str,
        body: &[u8],
        stream: bool,
        start: ioto_core::Instant,
        sink: &mut Sink<'_>,
        delivered: &mut bool,
    ) -> Result<(), Error> {
        let key = self.cfg.key.expose();
        // A secret too: wiped when this attempt ends.
        let bearer = self.cfg.key.bearer();
        let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        match self.cfg.api {
            Api::OpenAi => {
                if !key.is_empty() {
                    headers.push(("Authorization", bearer.expose()));
                }
            }
            Api::Anthropic => {
                headers.push(("x-api-key", key));
                headers.push(("anthropic-version", ANTHROPIC_VERSION));
            }
        }
        headers.push((
            "Accept",
            if stream {
                "text/event-stream"
            } else {
                "application/json"
            },
        ));
        let req = HttpRequest {
            method: Method::Post,
            endpoint: &self.cfg.endpoint,
            path,
            headers: &headers,
            body,
        };
        let limits = self.cfg.limits;
        let deadline = Deadline {
            clock: &self.clock,
            start,
            timeout_ms: limits.timeout_ms,
        };
        let mut resp = self.transport.send(&req).await?;
        if !(200..300).contains(&resp.status) {
            let mut err_body = Vec::new();
            // Best effort: the status is the error even if the body is cut or huge.
            let _ = read_whole(&mut resp.body, &mut err_body, 4096, &deadline).await;
            return Err(Error::Http {
                status: resp.status,
                retry_after: resp.retry_after,
                message: error_message(&err_body),
            });
        }
        match sink {
            Sink::Whole(buf) => {
                read_whole(&mut resp.body, buf, limits.max_response_bytes, &deadline).await
            }
            Sink::Events(on_event) => {
                read_events(&mut resp.body, &limits, &deadline, *on_event, delivered).await
            }
        }
    }
}

struct Deadline<'c, C> {
    clock: &'c C,
    start: ioto_core::Instant,
    timeout_ms: u64,
}

impl<C: Clock> Deadline<'_, C> {
    fn check(&self) -> Result<(), Error> {
        if self.clock.now().micros_since(self.start) / 1000 > self.timeout_ms {
            return Err(Error::Timeout);
        }
        Ok(())
    }
}

async fn read_whole<R: Read, C: Clock>(
    body: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
    deadline: &Deadline<'_, C>,
) -> Result<(), Error> {
    let mut chunk = [0u8; 256];
    loop {
        deadline.check()?;
        let n = body.read(&mut chunk).await.map_err(io_error)?;
        if n == 0 {
            return Ok(());
        }
        if buf.len() + n > limit {
            return Err(Error::ResponseTooLarge { limit });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn read_events<R: Read, C: Clock>(
    body: &mut R,
    limits: &Limits,
    deadline: &Deadline<'_, C>,
    on_event: &mut dyn FnMut(&[u8]) -> Result<bool, Error>,
    delivered: &mut bool,
) -> Result<(), Error> {
    let mut line_buf = vec![0u8; limits.max_event_bytes];
    let mut chunk = vec![0u8; limits.read_chunk.max(1)];
    let mut parser = SseParser::new(&mut line_buf);
    let mut total = 0usize;
    loop {
        deadline.check()?;
        let n = body.read(&mut chunk).await.map_err(io_error)?;
        if n == 0 {
            // A last event without its blank line is accepted if it parses; if it
            // does not, the stream was cut in the middle of it.
            if parser.finish()?
                && let Some(ev) = parser.event()
            {
                *delivered = true;
                on_event(ev.data).map_err(|_| Error::StreamIncomplete)?;
            }
            return Ok(());
        }
        total += n;
        if total > limits.max_response_bytes {
            return Err(Error::ResponseTooLarge {
                limit: limits.max_response_bytes,
            });
        }
        let mut input = &chunk[..n];
        while !input.is_empty() {
            let fed = parser.feed(input)?;
            input = &input[fed.consumed..];
            if let Some(ev) = parser.event() {
                *delivered = true;
                if on_event(ev.data)? {
                    return Ok(());
                }
            }
        }
    }
}

/// The server's error message from an OpenAI or Anthropic error body, whole (at most
/// the 4 KiB read): [`Client::exchange`] scrubs the key out of it, then bounds it.
fn error_message(body: &[u8]) -> String {
    let text = core::str::from_utf8(body).unwrap_or_default();
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(String::from))
        .unwrap_or_else(|| String::from(text))
}
