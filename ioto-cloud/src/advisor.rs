//! [`CloudAdvisor`]: ioto-core's [`Advisor`] port over a [`Client`]. One request per
//! event: the device's role as system prompt, the agent's context JSON as the user
//! message, the device functions ([`ioto_core::device::TOOLS`]) as strict function
//! tools. The model's tool calls are validated against the same schemas, turned into
//! [`Command`]s and checked against the device [`Limits`]; a call that fails any of
//! these refuses the whole answer (nothing of it is applied). The agent applies the
//! commands and reports on its own: there is no second round trip.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use ioto_cloud::advisor::{AdvisorConfig, CloudAdvisor};
//! use ioto_cloud::client::{Api, Client, ClientConfig};
//! use ioto_cloud::{Secret, endpoint::Endpoint};
//! use ioto_board_host::platform::{HostClock, HostDelay, StdHttp};
//!
//! let cfg = ClientConfig::new(Endpoint::openai(), Api::OpenAi, Secret::new(""));
//! let client = Client::new(StdHttp::default(), HostClock::new(), HostDelay, cfg);
//! let advisor = CloudAdvisor::new(client, AdvisorConfig::new("gpt-4o-mini"));
//! let body = advisor.request_preview(r#"{"rms":0.91,"score":7.2}"#).unwrap();
//! assert!(body.contains(r#""name":"set_sensitivity""#));
//! # }
//! ```

use crate::anthropic::{AnthropicMessage, AnthropicRequest};
use crate::api::{ModelAnswer, ModelRequest};
use crate::chat::{ChatMessage, ChatRequest};
use crate::client::{Api, Client};
use crate::error::{Error, bounded};
use crate::responses::{InputItem, ResponsesRequest};
use crate::schema::{Field, Schema, Violation};
use crate::structured::{Decision, parse_decision};
use crate::tools::{MAX_NAME, ToolError, ToolRegistry};
use crate::transport::HttpTransport;
use crate::types::{ToolCall, Usage};
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use embedded_hal_async::delay::DelayNs;
use ioto_core::Clock;
use ioto_core::advisor::{Advice, Advisor, MAX_COMMANDS, Severity};
use ioto_core::device::{Command, Limits, Rejected, TOOLS, ToolSpec};
use serde::Deserialize;
use serde_json::Value;

/// The device's role, sent as the system prompt.
pub const SYSTEM_PROMPT: &str = "You are the on-device assistant of a vibration monitor \
mounted on an industrial machine. The user message is a compact JSON context from the \
device: vibration features (RMS, peak, crest factor, band energies), anomaly scores, \
recent decisions and the device state. Decide what the device should do. Act only by \
calling the device functions offered as tools, with arguments inside their limits, \
and/or answer with exactly one JSON object and nothing else: \
{\"severity\":\"info|warning|critical\",\"summary\":\"one sentence, at most 160 bytes\"}.";

/// Which API of the endpoint the advisor speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// Chat Completions (`/chat/completions`).
    Chat,
    /// Responses (`/responses`, `store: false`).
    Responses,
    /// Anthropic Messages (`/v1/messages`).
    Anthropic,
}

/// What the advisor asks and how it checks the answer.
#[derive(Clone, Debug, PartialEq)]
pub struct AdvisorConfig {
    /// Model name.
    pub model: String,
    /// API to use; `None`: Chat Completions for [`Api::OpenAi`], Messages for
    /// [`Api::Anthropic`].
    pub wire: Option<Wire>,
    /// Output token cap of the answer (also what the budget reserves).
    pub max_output_tokens: u32,
    /// The system prompt (default [`SYSTEM_PROMPT`]).
    pub system_prompt: String,
    /// The device's limits every command is checked against.
    pub limits: Limits,
    /// Ask for the answer as a server-sent event stream (`"stream": true`) instead of
    /// one JSON body: the answer is accumulated as it arrives (with the same caps) and
    /// checked whole, exactly as an unstreamed one. Default `false`.
    pub stream: bool,
}

impl AdvisorConfig {
    /// Defaults for `model`: API from the client, 400 output tokens, [`SYSTEM_PROMPT`],
    /// default [`Limits`].
    pub fn new(model: &str) -> Self {
        Self {
            model: model.into(),
            wire: None,
            max_output_tokens: 400,
            system_prompt: SYSTEM_PROMPT.into(),
            limits: Limits::default(),
            stream: false,
        }
    }
}

/// Why no advice came back.
#[derive(Clone, Debug, PartialEq)]
pub enum AdvisorError {
    /// The request failed (link, HTTP status, bad body, model refusal...).
    Cloud(Error),
    /// The call/token budget of this hour or day is spent (which one).
    Budget(&'static str),
    /// A tool call of the answer was refused; nothing of the answer is applied.
    RefusedCall {
        /// Tool name as the model sent it (bounded).
        name: String,
        /// Why: unknown function, arguments off-schema, or outside the device limits.
        why: Rejected,
        /// The validator's or the limit check's message (bounded).
        detail: String,
    },
    /// The answer called more than [`MAX_COMMANDS`] functions; it is refused whole
    /// (not truncated: a cut list could drop the call that mattered).
    TooManyCommands {
        /// Calls in the answer.
        given: usize,
    },
    /// A [`ToolSpec`]'s parameters are not a JSON Schema the validator supports.
    BadToolSpec {
        /// The tool.
        name: &'static str,
    },
}

impl fmt::Display for AdvisorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cloud(e) => write!(f, "{e}"),
            Self::Budget(w) => write!(f, "budget exceeded: {w}"),
            Self::RefusedCall { name, why, detail } => {
                write!(f, "refused call {name:?} ({why:?}): {detail}")
            }
            Self::TooManyCommands { given } => {
                write!(f, "{given} tool calls, at most {MAX_COMMANDS} allowed")
            }
            Self::BadToolSpec { name } => write!(f, "tool {name:?}: unsupported schema"),
        }
    }
}

impl core::error::Error for AdvisorError {}

impl From<Error> for AdvisorError {
    fn from(e: Error) -> Self {
        match e {
            Error::BudgetExceeded(w) => Self::Budget(w),
            e => Self::Cloud(e),
        }
    }
}

/// An [`Advisor`] over a model client.
#[derive(Debug)]
pub struct CloudAdvisor<T, C, D> {
    client: Client<T, C, D>,
    cfg: AdvisorConfig,
}

/// One request, in the form of the API it goes to.
enum Request {
    Chat(ChatRequest),
    Responses(ResponsesRequest),
    Anthropic(AnthropicRequest),
}

impl<T: HttpTransport, C: Clock, D: DelayNs> CloudAdvisor<T, C, D> {
    /// An advisor asking through `client`.
    pub fn new(client: Client<T, C, D>, cfg: AdvisorConfig) -> Self {
        Self { client, cfg }
    }

    /// The client (budget, last usage).
    pub fn client(&self) -> &Client<T, C, D> {
        &self.client
    }

    /// The configuration.
    pub fn config(&self) -> &AdvisorConfig {
        &self.cfg
    }

    /// The API this advisor speaks.
    pub fn wire(&self) -> Wire {
        self.cfg.wire.unwrap_or(match self.client.config().api {
            Api::OpenAi => Wire::Chat,
            Api::Anthropic => Wire::Anthropic,
        })
    }

    /// The exact JSON body [`advise`](Advisor::advise) would send for `context` with
    /// the device's [`TOOLS`] (what a demo prints when no API key is configured).
    pub fn request_preview(&self, context: &str) -> Result<String, AdvisorError> {
        let registry = registry(&TOOLS)?;
        let body = match self.request(context) {
            Request::Chat(r) => r.to_json(Some(&registry), self.cfg.stream),
            Request::Responses(r) => r.to_json(Some(&registry), self.cfg.stream),
            Request::Anthropic(r) => r.to_json(Some(&registry), self.cfg.stream),
        };
        serde_json::to_string(&body).map_err(|_| AdvisorError::Cloud(Error::Json("request")))
    }

    fn request(&self, context: &str) -> Request {
        let cfg = &self.cfg;
        match self.wire() {
            Wire::Chat => Request::Chat(
                ChatRequest::new(&cfg.model)
                    .message(ChatMessage::System(cfg.system_prompt.clone()))
                    .message(ChatMessage::User(context.into()))
                    .max_tokens(cfg.max_output_tokens),
            ),
            Wire::Responses => {
                let mut r = ResponsesRequest::new(&cfg.model)
                    .instructions(&cfg.system_prompt)
                    .input(InputItem::user(context));
                r.store = Some(false);
                r.max_output_tokens = Some(cfg.max_output_tokens);
                Request::Responses(r)
            }
            Wire::Anthropic => Request::Anthropic(
                AnthropicRequest::new(&cfg.model, cfg.max_output_tokens)
                    .system(&cfg.system_prompt)
                    .message(AnthropicMessage::user(context)),
            ),
        }
    }
}

impl<T: HttpTransport, C: Clock, D: DelayNs> CloudAdvisor<T, C, D> {
    /// One whole-answer call of any API: its text, calls and usage; a refusal is an
    /// error.
    async fn ask<R: ModelRequest>(
        &mut self,
        req: &R,
        tools: Option<&ToolRegistry<'_>>,
    ) -> Result<(String, Vec<ToolCall>, Option<Usage>), AdvisorError> {
        let answer = if self.cfg.stream {
            self.client.stream(req, tools, &mut |_| {}).await?
        } else {
            self.client.call(req, tools).await?
        };
        if let Some(t) = answer.refusal() {
            return Err(AdvisorError::Cloud(Error::Refusal(bounded(&t, 256))));
        }
        Ok((answer.text(), answer.tool_calls(), answer.usage()))
    }
}

impl<T: HttpTransport, C: Clock, D: DelayNs> Advisor for CloudAdvisor<T, C, D> {
    type Error = AdvisorError;

    async fn advise(&mut self, context: &str, tools: &[ToolSpec]) -> Result<Advice, AdvisorError> {
        let registry = registry(tools)?;
        let reg = Some(&registry);
        let (text, calls, usage) = match self.request(context) {
            Request::Chat(r) => self.ask(&r, reg).await?,
            Request::Responses(r) => self.ask(&r, reg).await?,
            Request::Anthropic(r) => self.ask(&r, reg).await?,
        };
        advice_from(&text, &calls, usage, &registry, &self.cfg.limits)
    }
}

/// Checks every call and builds the advice: commands in the model's order, tokens
/// from `usage`, severity and summary from the JSON decision in `text` (else
/// [`Severity::Info`] and the start of `text`).
pub fn advice_from(
    text: &str,
    calls: &[ToolCall],
    usage: Option<Usage>,
    registry: &ToolRegistry<'_>,
    limits: &Limits,
) -> Result<Advice, AdvisorError> {
    if calls.len() > MAX_COMMANDS {
        return Err(AdvisorError::TooManyCommands { given: calls.len() });
    }
    let mut advice = Advice::default();
    for call in calls {
        let command = checked_command(call, registry, limits)?;
        // Cannot fail: at most MAX_COMMANDS calls were checked above.
        advice.push_command(command);
    }
    advice.tokens = usage.map_or(0, |u| u.total());
    match parse_decision::<WireDecision>(strip_fences(text)) {
        Ok(d) => {
            advice.severity = d.severity.into();
            advice.set_summary(&d.summary);
        }
        Err(_) => advice.set_summary(text.trim()),
    }
    Ok(advice)
}

/// Validates one call against its schema, builds the [`Command`], checks the limits.
pub fn checked_command(
    call: &ToolCall,
    registry: &ToolRegistry<'_>,
    limits: &Limits,
) -> Result<Command, AdvisorError> {
    let refuse = |why: Rejected, detail: String| AdvisorError::RefusedCall {
        name: bounded(&call.name, MAX_NAME),
        why,
        detail: bounded(&detail, 128),
    };
    let args = registry.check(&call.name, &call.arguments).map_err(|e| {
        let why = match &e {
            ToolError::UnknownTool(_) => Rejected::UnknownFunction,
            ToolError::Invalid(v) if v.violation == Violation::OutOfRange => Rejected::OutOfRange,
            _ => Rejected::BadArguments,
        };
        refuse(why, e.to_string())
    })?;
    let command =
        command(&call.name, &args).map_err(|why| refuse(why, "no such command".into()))?;
    limits
        .check(&command)
        .map_err(|why| refuse(why, "outside the device limits".into()))?;
    Ok(command)
}

/// The [`Command`] for device function `name` with schema-valid `args`.
pub fn command(name: &str, args: &Value) -> Result<Command, Rejected> {
    let num = |key: &str| args[key].as_f64().ok_or(Rejected::BadArguments);
    let uint = |key: &str| args[key].as_u64().ok_or(Rejected::BadArguments);
    let index =
        |key: &str| uint(key).and_then(|v| u8::try_from(v).map_err(|_| Rejected::NoSuchTarget));
    Ok(match name {
        "set_sensitivity" => Command::SetSensitivity {
            level: num("level")? as f32,
        },
        "set_actuator" => Command::SetActuator {
            actuator: index("actuator")?,
            level: num("level")? as f32,
        },
        "schedule_report" => Command::ScheduleReport {
            after_s: u32::try_from(uint("after_s")?).map_err(|_| Rejected::OutOfRange)?,
        },
        "read_sensor" => Command::ReadSensor {
            channel: index("channel")?,
        },
        _ => return Err(Rejected::UnknownFunction),
    })
}

/// A registry declaring `tools` (for the request and for validation; nothing runs).
pub fn registry(tools: &[ToolSpec]) -> Result<ToolRegistry<'static>, AdvisorError> {
    let mut reg = ToolRegistry::new(1);
    for spec in tools {
        let bad = || AdvisorError::BadToolSpec { name: spec.name };
        let json: Value = serde_json::from_str(spec.parameters).map_err(|_| bad())?;
        let schema = schema_from_json(&json, 0).ok_or_else(bad)?;
        let declare_only = |_: &Value| -> Result<Value, String> { Ok(Value::Null) };
        reg.register(spec.name, spec.description, schema, declare_only)
            .map_err(|_| bad())?;
    }
    Ok(reg)
}

/// The [`Schema`] of a JSON Schema text in the subset the validator supports (object,
/// integer, number, string, boolean, array with their bounds), or `None`.
pub fn schema_from_json(v: &Value, depth: usize) -> Option<Schema> {
    if depth > crate::schema::MAX_DEPTH {
        return None;
    }
    let int = |k: &str| {
        v.get(k)
            .map(|x| x.as_i64())
            .map_or(Some(None), |x| x.map(Some))
    };
    let float = |k: &str| {
        v.get(k)
            .map(|x| x.as_f64())
            .map_or(Some(None), |x| x.map(Some))
    };
    let count = |k: &str| {
        v.get(k)
            .map(|x| x.as_u64().and_then(|n| usize::try_from(n).ok()))
            .map_or(Some(None), |x| x.map(Some))
    };
    Some(match v.get("type")?.as_str()? {
        "object" => {
            if v.get("additionalProperties").is_some_and(|a| a != false) {
                return None;
            }
            let required = v
                .get("required")
                .map_or(Some(&[][..]), |r| r.as_array().map(Vec::as_slice))?;
            let mut fields = Vec::new();
            for (name, p) in v
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                fields.push(Field {
                    name: name.clone(),
                    description: p
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .into(),
                    schema: schema_from_json(p, depth + 1)?,
                    required: required.iter().any(|r| r == name.as_str()),
                });
            }
            Schema::Object(fields)
        }
        "integer" => Schema::Integer {
            min: int("minimum")?,
            max: int("maximum")?,
        },
        "number" => Schema::Number {
            min: float("minimum")?,
            max: float("maximum")?,
        },
        "string" => Schema::String {
            one_of: match v.get("enum") {
                None => None,
                Some(e) => Some(
                    e.as_array()?
                        .iter()
                        .map(|s| s.as_str().map(String::from))
                        .collect::<Option<Vec<_>>>()?,
                ),
            },
            max_len: count("maxLength")?,
        },
        "boolean" => Schema::Boolean,
        "array" => Schema::Array {
            items: Box::new(schema_from_json(v.get("items")?, depth + 1)?),
            max_items: count("maxItems")?,
        },
        _ => return None,
    })
}

/// The decision the system prompt asks for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireDecision {
    severity: WireSeverity,
    summary: String,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WireSeverity {
    Info,
    Warning,
    Critical,
}

impl From<WireSeverity> for Severity {
    fn from(s: WireSeverity) -> Self {
        match s {
            WireSeverity::Info => Severity::Info,
            WireSeverity::Warning => Severity::Warning,
            WireSeverity::Critical => Severity::Critical,
        }
    }
}

impl Decision for WireDecision {
    const NAME: &'static str = "device_decision";
    fn schema() -> Schema {
        Schema::object()
            .field(
                "severity",
                "How serious the event is",
                Schema::string().one_of(&["info", "warning", "critical"]),
            )
            .field("summary", "One sentence", Schema::string().max_len(1024))
    }
}

/// `text` without surrounding whitespace and a Markdown code fence, if any.
fn strip_fences(text: &str) -> &str {
    let t = text.trim();
    let Some(inner) = t.strip_prefix("```").and_then(|r| r.strip_suffix("```")) else {
        return t;
    };
    let inner = inner.strip_prefix("json").unwrap_or(inner);
    inner.trim()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(name: &str, arguments: &str) -> ToolCall {
        ToolCall {
            id: "c1".into(),
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    #[test]
    fn device_tools_round_trip_into_strict_validators() {
        let reg = registry(&TOOLS).unwrap();
        let tools = reg.chat_tools();
        for (t, spec) in tools.as_array().unwrap().iter().zip(TOOLS) {
            assert_eq!(t["function"]["name"], spec.name);
            assert_eq!(t["function"]["strict"], true);
            // The schema itself, compared with the spec text as the peer receives it:
            // tests/advisor_llmock.rs.
        }
        let unsupported = json!({"type": "object", "properties": {"x": {"type": "null"}}});
        assert_eq!(schema_from_json(&unsupported, 0), None);
        let open = json!({"type": "object", "additionalProperties": true});
        assert_eq!(schema_from_json(&open, 0), None);
    }

    #[test]
    fn calls_become_checked_commands_or_typed_refusals() {
        let reg = registry(&TOOLS).unwrap();
        let l = Limits::default();
        let ok = |n, a| checked_command(&call(n, a), &reg, &l).unwrap();
        let why = |n, a| match checked_command(&call(n, a), &reg, &l) {
            Err(AdvisorError::RefusedCall { why, .. }) => why,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            ok("set_sensitivity", r#"{"level":1.5}"#),
            Command::SetSensitivity { level: 1.5 }
        );
        assert_eq!(
            ok("set_actuator", r#"{"actuator":0,"level":0.25}"#),
            Command::SetActuator {
                actuator: 0,
                level: 0.25
            }
        );
        assert_eq!(
            ok("schedule_report", r#"{"after_s":60}"#),
            Command::ScheduleReport { after_s: 60 }
        );
        assert_eq!(
            ok("read_sensor", r#"{"channel":2}"#),
            Command::ReadSensor { channel: 2 }
        );
        // Schema: max 4.
        assert_eq!(
            why("set_sensitivity", r#"{"level":9}"#),
            Rejected::OutOfRange
        );
        assert_eq!(
            why("set_sensitivity", r#"{"level":"high"}"#),
            Rejected::BadArguments
        );
        assert_eq!(
            why("set_sensitivity", r#"{"level":1,"x":1}"#),
            Rejected::BadArguments
        );
        assert_eq!(why("set_sensitivity", "not json"), Rejected::BadArguments);
        assert_eq!(why("self_destruct", "{}"), Rejected::UnknownFunction);
        // Schema allows actuator 0..=255, the device has one actuator and three channels.
        assert_eq!(
            why("set_actuator", r#"{"actuator":3,"level":0.5}"#),
            Rejected::NoSuchTarget
        );
        assert_eq!(
            why("read_sensor", r#"{"channel":3}"#),
            Rejected::NoSuchTarget
        );
    }

    #[test]
    fn answer_text_gives_severity_and_summary_or_falls_back() {
        let reg = registry(&TOOLS).unwrap();
        let l = Limits::default();
        let usage = Some(Usage {
            input_tokens: 120,
            output_tokens: 30,
        });
        let text = "```json\n{\"severity\":\"critical\",\"summary\":\"Bearing wear likely.\"}\n```";
        let a = advice_from(text, &[], usage, &reg, &l).unwrap();
        assert_eq!(
            (a.severity, a.summary(), a.tokens),
            (Severity::Critical, "Bearing wear likely.", 150)
        );
        let long = "x".repeat(300);
        let a = advice_from(&long, &[], None, &reg, &l).unwrap();
        assert_eq!(
            (a.severity, a.summary().len(), a.tokens),
            (Severity::Info, 160, 0)
        );
        let off = r#"{"severity":"apocalyptic","summary":"s"}"#;
        let a = advice_from(off, &[], None, &reg, &l).unwrap();
        assert_eq!((a.severity, a.summary()), (Severity::Info, off));
        let five: Vec<ToolCall> = (0..5)
            .map(|_| call("read_sensor", r#"{"channel":0}"#))
            .collect();
        assert_eq!(
            advice_from("", &five, None, &reg, &l),
            Err(AdvisorError::TooManyCommands { given: 5 })
        );
        let a = advice_from("", &five[..4], None, &reg, &l).unwrap();
        assert_eq!(a.commands().count(), 4);
    }
}
