//! Device functions as tools: declared once (name, description, argument schema),
//! called only through [`ToolRegistry::dispatch`], which rejects unknown names and
//! validates arguments against the schema before the function runs, and logs every
//! call with its arguments.

use crate::error::{Error, bounded};
use crate::schema::{Schema, ValidationError};
use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Value, json};

/// Largest argument string accepted from a model (bytes).
pub const MAX_ARGS_BYTES: usize = 4 * 1024;
/// Largest result a tool may return (bytes of JSON).
pub const MAX_RESULT_BYTES: usize = 4 * 1024;
/// Longest tool name (OpenAI allows 64: letters, digits, `_`, `-`).
pub const MAX_NAME: usize = 64;

/// A tool name as a model sent it, kept for lookup. Names longer than any declared
/// one ([`MAX_NAME`]) are cut, but never to [`MAX_NAME`] or less: a cut name stays
/// longer than every registered name, so it can only miss, never match one.
pub(crate) fn call_name(name: &str) -> String {
    // `bounded` backs off at most 3 bytes to a char boundary: still > MAX_NAME.
    bounded(name, 4 * MAX_NAME)
}

/// Why a tool call did not produce a result. Sent back to the model as an error output.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolError {
    /// No tool with that name is declared.
    UnknownTool(String),
    /// The arguments were not a JSON object.
    InvalidJson,
    /// The arguments were longer than [`MAX_ARGS_BYTES`].
    ArgsTooLarge,
    /// The arguments broke the schema.
    Invalid(ValidationError),
    /// The device function ran and failed.
    Failed(String),
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownTool(n) => write!(f, "unknown tool {:?}", bounded(n, MAX_NAME)),
            Self::InvalidJson => f.write_str("arguments are not a JSON object"),
            Self::ArgsTooLarge => f.write_str("arguments too large"),
            Self::Invalid(e) => write!(f, "invalid arguments: {e}"),
            Self::Failed(m) => write!(f, "tool failed: {m}"),
        }
    }
}

/// A device function: receives validated arguments, returns a JSON result.
pub trait DeviceFunction {
    /// Runs the function.
    fn call(&mut self, args: &Value) -> Result<Value, String>;
}

impl<F: FnMut(&Value) -> Result<Value, String>> DeviceFunction for F {
    fn call(&mut self, args: &Value) -> Result<Value, String> {
        self(args)
    }
}

struct Tool<'a> {
    name: String,
    description: String,
    schema: Schema,
    func: Box<dyn DeviceFunction + 'a>,
}

/// The outcome recorded for one call.
#[derive(Clone, Debug, PartialEq)]
pub enum CallStatus {
    /// The function ran and returned a result.
    Ok,
    /// Rejected or failed (the reason is also what the model is told).
    Rejected(ToolError),
}

/// One logged call.
#[derive(Clone, Debug, PartialEq)]
pub struct CallRecord {
    /// Tool name as the model sent it (bounded).
    pub name: String,
    /// Arguments as the model sent them (bounded).
    pub arguments: String,
    /// What happened.
    pub status: CallStatus,
}

/// Declared tools plus a bounded log of the calls made to them.
pub struct ToolRegistry<'a> {
    tools: Vec<Tool<'a>>,
    log: VecDeque<CallRecord>,
    log_capacity: usize,
    logged_total: u64,
    on_call: Option<fn(&CallRecord)>,
}

impl fmt::Debug for ToolRegistry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.tools.iter().map(|t| t.name.as_str()).collect();
        f.debug_struct("ToolRegistry")
            .field("tools", &names)
            .field("logged_total", &self.logged_total)
            .finish()
    }
}

impl Default for ToolRegistry<'_> {
    fn default() -> Self {
        Self::new(16)
    }
}

impl<'a> ToolRegistry<'a> {
    /// An empty registry keeping the last `log_capacity` calls.
    pub fn new(log_capacity: usize) -> Self {
        Self {
            tools: Vec::new(),
            log: VecDeque::new(),
            log_capacity: log_capacity.max(1),
            logged_total: 0,
            on_call: None,
        }
    }

    /// Also hands every call record to `hook` (e.g. a device logger).
    pub fn on_call(mut self, hook: fn(&CallRecord)) -> Self {
        self.on_call = Some(hook);
        self
    }

    /// Declares a tool. `schema` must be an object schema; names must be unique and
    /// made of `[A-Za-z0-9_-]` (1..=64 chars).
    pub fn register(
        &mut self,
        name: &str,
        description: &str,
        schema: Schema,
        func: impl DeviceFunction + 'a,
    ) -> Result<(), Error> {
        let valid_name = !name.is_empty()
            && name.len() <= MAX_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_name {
            return Err(Error::BadToolDeclaration("invalid name"));
        }
        if !matches!(schema, Schema::Object(_)) {
            return Err(Error::BadToolDeclaration(
                "arguments must be an object schema",
            ));
        }
        if self.tools.iter().any(|t| t.name == name) {
            return Err(Error::BadToolDeclaration("duplicate name"));
        }
        self.tools.push(Tool {
            name: name.into(),
            description: description.into(),
            schema,
            func: Box::new(func),
        });
        Ok(())
    }

    /// Number of declared tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// True when no tool is declared.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// Validates `arguments` for tool `name` without running it.
    pub fn check(&self, name: &str, arguments: &str) -> Result<Value, ToolError> {
        let tool = self
            .tools
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| ToolError::UnknownTool(bounded(name, MAX_NAME)))?;
        parse_and_validate(&tool.schema, arguments)
    }

    /// Validates and runs one call. Always returns the text to send back to the
    /// model: the function's JSON result, or `{"error": "..."}`.
    pub fn dispatch(&mut self, name: &str, arguments: &str) -> (String, CallStatus) {
        let outcome = self.check(name, arguments).and_then(|args| {
            let tool = self
                .tools
                .iter_mut()
                .find(|t| t.name == name)
                .ok_or_else(|| ToolError::UnknownTool(bounded(name, MAX_NAME)))?;
            tool.func
                .call(&args)
                .map_err(|m| ToolError::Failed(bounded(&m, 256)))
        });
        let (text, status) = match outcome {
            Ok(v) => {
                let s = v.to_string();
                if s.len() > MAX_RESULT_BYTES {
                    let e = ToolError::Failed("result too large".into());
                    (error_output(&e), CallStatus::Rejected(e))
                } else {
                    (s, CallStatus::Ok)
                }
            }
            Err(e) => (error_output(&e), CallStatus::Rejected(e)),
        };
        self.record(CallRecord {
            name: bounded(name, MAX_NAME),
            arguments: bounded(arguments, 512),
            status: status.clone(),
        });
        (text, status)
    }

    fn record(&mut self, rec: CallRecord) {
        if let Some(hook) = self.on_call {
            hook(&rec);
        }
        if self.log.len() == self.log_capacity {
            self.log.pop_front();
        }
        self.log.push_back(rec);
        self.logged_total += 1;
    }

    /// The most recent calls, oldest first.
    pub fn log(&self) -> impl Iterator<Item = &CallRecord> {
        self.log.iter()
    }

    /// Calls made since the registry was created (including ones no longer in the log).
    pub fn calls_total(&self) -> u64 {
        self.logged_total
    }

    /// Tools in Chat Completions form (`[{"type":"function","function":{...}}]`).
    pub fn chat_tools(&self) -> Value {
        self.tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {"name": t.name,
                    "description": t.description, "parameters": t.schema.to_json(),
                    "strict": t.schema.all_required()}})
            })
            .collect()
    }

    /// Tools in Responses / Realtime form (`[{"type":"function","name":...}]`).
    /// Realtime rejects `strict`, so it is only added when `strict` is true.
    pub fn function_tools(&self, strict: bool) -> Value {
        self.tools
            .iter()
            .map(|t| {
                let mut v = json!({"type": "function", "name": t.name,
                    "description": t.description, "parameters": t.schema.to_json()});
                if strict && let Value::Object(m) = &mut v {
                    m.insert("strict".into(), Value::Bool(t.schema.all_required()));
                }
                v
            })
            .collect()
    }

    /// Tools in Anthropic form (`[{"name","description","input_schema"}]`).
    pub fn anthropic_tools(&self) -> Value {
        self.tools
            .iter()
            .map(|t| {
                json!({"name": t.name, "description": t.description,
                       "input_schema": t.schema.to_json()})
            })
            .collect()
    }
}

/// Parses model-supplied arguments (bounded) and validates them against `schema`.
/// An empty string counts as `{}` (Anthropic sends that for argument-less tools).
pub fn parse_and_validate(schema: &Schema, arguments: &str) -> Result<Value, ToolError> {
    if arguments.len() > MAX_ARGS_BYTES {
        return Err(ToolError::ArgsTooLarge);
    }
    let text = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let args: Value = serde_json::from_str(text).map_err(|_| ToolError::InvalidJson)?;
    if !args.is_object() {
        return Err(ToolError::InvalidJson);
    }
    schema.validate(&args).map_err(ToolError::Invalid)?;
    Ok(args)
}

/// The JSON text a model receives for a failed call.
pub fn error_output(e: &ToolError) -> String {
    json!({ "error": e.to_string() }).to_string()
}
