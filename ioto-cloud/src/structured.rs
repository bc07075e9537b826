//! Structured outputs: ask for a JSON-schema-constrained answer and parse it into a
//! typed decision, rejecting anything that does not match.
//!
//! ```
//! use ioto_cloud::structured::{Diagnosis, Severity, parse_decision};
//! let d: Diagnosis = parse_decision(r#"{"severity":"high","cause":"bearing wear","action":"schedule_maintenance"}"#).unwrap();
//! assert_eq!(d.severity, Severity::High);
//! assert!(parse_decision::<Diagnosis>(r#"{"severity":"apocalyptic","cause":"x","action":"none"}"#).is_err());
//! ```

use crate::error::{Error, bounded};
use crate::schema::Schema;
use alloc::string::String;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A named JSON-schema answer format (`response_format` / `text.format`).
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseFormat {
    /// Format name (`[A-Za-z0-9_-]`, up to 64).
    pub name: String,
    /// The JSON Schema.
    pub schema: Value,
    /// Strict schema adherence.
    pub strict: bool,
}

impl ResponseFormat {
    /// The format for decision type `D`.
    pub fn for_decision<D: Decision>() -> Self {
        let schema = D::schema();
        Self {
            name: D::NAME.into(),
            strict: schema.all_required(),
            schema: schema.to_json(),
        }
    }

    /// Chat Completions form: `{"type":"json_schema","json_schema":{...}}`.
    pub fn chat_json(&self) -> Value {
        json!({"type": "json_schema",
               "json_schema": {"name": self.name, "schema": self.schema, "strict": self.strict}})
    }

    /// Responses form (`text.format`): `{"type":"json_schema","name":...,"schema":...}`.
    pub fn responses_json(&self) -> Value {
        json!({"type": "json_schema", "name": self.name, "schema": self.schema, "strict": self.strict})
    }
}

/// A typed answer with a schema.
pub trait Decision: DeserializeOwned {
    /// Format name sent to the model.
    const NAME: &'static str;
    /// The schema the answer must match (validated before deserializing).
    fn schema() -> Schema;
}

/// Validates `text` against `D::schema()` and deserializes it.
pub fn parse_decision<D: Decision>(text: &str) -> Result<D, Error> {
    if text.len() > 16 * 1024 {
        return Err(Error::LimitExceeded("decision"));
    }
    let v: Value = serde_json::from_str(text).map_err(|_| Error::Json("decision is not JSON"))?;
    D::schema().validate(&v).map_err(Error::Schema)?;
    serde_json::from_value(v).map_err(|_| Error::Json("decision does not deserialize"))
}

/// How bad an anomaly is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Informational.
    Low,
    /// Watch it.
    Medium,
    /// Act soon.
    High,
    /// Act now.
    Critical,
}

/// What the device should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Nothing.
    None,
    /// Keep watching more closely.
    Monitor,
    /// Book maintenance.
    ScheduleMaintenance,
    /// Stop the machine.
    Shutdown,
}

/// An example decision: the model's diagnosis of an anomaly.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    /// How bad it is.
    pub severity: Severity,
    /// Likely cause (short text).
    pub cause: String,
    /// What to do.
    pub action: Action,
}

impl Decision for Diagnosis {
    const NAME: &'static str = "diagnosis";
    fn schema() -> Schema {
        Schema::object()
            .field(
                "severity",
                "How bad the anomaly is",
                Schema::string().one_of(&["low", "medium", "high", "critical"]),
            )
            .field(
                "cause",
                "Most likely cause, one sentence",
                Schema::string().max_len(200),
            )
            .field(
                "action",
                "What the device should do",
                Schema::string().one_of(&["none", "monitor", "schedule_maintenance", "shutdown"]),
            )
    }
}

impl core::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{:?}: {} -> {:?}",
            self.severity,
            bounded(&self.cause, 200),
            self.action
        )
    }
}
