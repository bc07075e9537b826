//! A small typed JSON Schema: build a tool's argument schema once, emit it as JSON for
//! the model, and validate the model's arguments against it (types, ranges, enums,
//! required fields, no extra fields) before any device code runs.
//!
//! ```
//! use ioto_cloud::schema::Schema;
//! let s = Schema::object()
//!     .field("channel", "ADC channel", Schema::integer().range(0, 7))
//!     .field("unit", "Unit", Schema::string().one_of(&["C", "F"]))
//!     .optional("label", "Free text", Schema::string().max_len(16));
//! let ok = serde_json::json!({"channel": 3, "unit": "C"});
//! assert!(s.validate(&ok).is_ok());
//! assert!(s.validate(&serde_json::json!({"channel": 9, "unit": "C"})).is_err());
//! ```

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde_json::{Map, Value, json};

/// Deepest nesting a schema may validate (objects/arrays inside each other).
pub const MAX_DEPTH: usize = 8;

/// One field of an object schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Property name.
    pub name: String,
    /// Description shown to the model.
    pub description: String,
    /// Value schema.
    pub schema: Schema,
    /// Whether the field must be present.
    pub required: bool,
}

/// A JSON Schema subset that devices need.
#[derive(Clone, Debug, PartialEq)]
pub enum Schema {
    /// `{"type":"object", "additionalProperties": false}` with fields.
    Object(Vec<Field>),
    /// An integer with optional inclusive bounds.
    Integer {
        /// Minimum.
        min: Option<i64>,
        /// Maximum.
        max: Option<i64>,
    },
    /// A number with optional inclusive bounds.
    Number {
        /// Minimum.
        min: Option<f64>,
        /// Maximum.
        max: Option<f64>,
    },
    /// A string, optionally one of a fixed set, optionally length-limited.
    String {
        /// Allowed values (`enum`).
        one_of: Option<Vec<String>>,
        /// Maximum length in characters.
        max_len: Option<usize>,
    },
    /// `true` / `false`.
    Boolean,
    /// An array of one item type.
    Array {
        /// Item schema.
        items: Box<Schema>,
        /// Maximum number of items.
        max_items: Option<usize>,
    },
}

impl Schema {
    /// An object without fields yet.
    pub fn object() -> Self {
        Self::Object(Vec::new())
    }
    /// An unbounded integer.
    pub fn integer() -> Self {
        Self::Integer {
            min: None,
            max: None,
        }
    }
    /// An unbounded number.
    pub fn number() -> Self {
        Self::Number {
            min: None,
            max: None,
        }
    }
    /// Any string.
    pub fn string() -> Self {
        Self::String {
            one_of: None,
            max_len: None,
        }
    }
    /// A boolean.
    pub fn boolean() -> Self {
        Self::Boolean
    }
    /// An array of `items`.
    pub fn array(items: Schema) -> Self {
        Self::Array {
            items: Box::new(items),
            max_items: None,
        }
    }

    /// Adds a required field (objects only; other schemas are returned unchanged).
    pub fn field(self, name: &str, description: &str, schema: Schema) -> Self {
        self.push_field(name, description, schema, true)
    }

    /// Adds an optional field (objects only).
    pub fn optional(self, name: &str, description: &str, schema: Schema) -> Self {
        self.push_field(name, description, schema, false)
    }

    fn push_field(mut self, name: &str, description: &str, schema: Schema, required: bool) -> Self {
        if let Self::Object(fields) = &mut self {
            fields.push(Field {
                name: name.into(),
                description: description.into(),
                schema,
                required,
            });
        }
        self
    }

    /// Inclusive integer bounds (integers only).
    pub fn range(mut self, lo: i64, hi: i64) -> Self {
        if let Self::Integer { min, max } = &mut self {
            *min = Some(lo);
            *max = Some(hi);
        }
        self
    }

    /// Inclusive number bounds (numbers only).
    pub fn between(mut self, lo: f64, hi: f64) -> Self {
        if let Self::Number { min, max } = &mut self {
            *min = Some(lo);
            *max = Some(hi);
        }
        self
    }

    /// Allowed string values (strings only).
    pub fn one_of(mut self, values: &[&str]) -> Self {
        if let Self::String { one_of, .. } = &mut self {
            *one_of = Some(values.iter().map(|v| v.to_string()).collect());
        }
        self
    }

    /// Maximum string length in characters (strings only).
    pub fn max_len(mut self, n: usize) -> Self {
        if let Self::String { max_len, .. } = &mut self {
            *max_len = Some(n);
        }
        self
    }

    /// Maximum number of items (arrays only).
    pub fn max_items(mut self, n: usize) -> Self {
        if let Self::Array { max_items, .. } = &mut self {
            *max_items = Some(n);
        }
        self
    }

    /// True when every field of every object is required (OpenAI `strict` mode needs it).
    pub fn all_required(&self) -> bool {
        match self {
            Self::Object(fields) => fields.iter().all(|f| f.required && f.schema.all_required()),
            Self::Array { items, .. } => items.all_required(),
            _ => true,
        }
    }

    /// The schema as JSON Schema.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Object(fields) => {
                let mut props = Map::new();
                for f in fields {
                    let mut v = f.schema.to_json();
                    if let (Value::Object(m), false) = (&mut v, f.description.is_empty()) {
                        m.insert("description".into(), Value::String(f.description.clone()));
                    }
                    props.insert(f.name.clone(), v);
                }
                let required: Vec<Value> = fields
                    .iter()
                    .filter(|f| f.required)
                    .map(|f| Value::String(f.name.clone()))
                    .collect();
                json!({"type": "object", "properties": props, "required": required,
                       "additionalProperties": false})
            }
            Self::Integer { min, max } => {
                let mut m = json!({"type": "integer"});
                put(&mut m, "minimum", min.map(Value::from));
                put(&mut m, "maximum", max.map(Value::from));
                m
            }
            Self::Number { min, max } => {
                let mut m = json!({"type": "number"});
                put(&mut m, "minimum", min.map(Value::from));
                put(&mut m, "maximum", max.map(Value::from));
                m
            }
            Self::String { one_of, max_len } => {
                let mut m = json!({"type": "string"});
                put(
                    &mut m,
                    "enum",
                    one_of.as_ref().map(|v| Value::from(v.clone())),
                );
                put(&mut m, "maxLength", max_len.map(Value::from));
                m
            }
            Self::Boolean => json!({"type": "boolean"}),
            Self::Array { items, max_items } => {
                let mut m = json!({"type": "array", "items": items.to_json()});
                put(&mut m, "maxItems", max_items.map(Value::from));
                m
            }
        }
    }

    /// Checks `value` against the schema.
    pub fn validate(&self, value: &Value) -> Result<(), ValidationError> {
        let mut path = String::new();
        self.check(value, &mut path, 0)
    }

    fn check(&self, value: &Value, path: &mut String, depth: usize) -> Result<(), ValidationError> {
        let fail = |kind: Violation, path: &String| Err(ValidationError::new(path, kind));
        if depth > MAX_DEPTH {
            return fail(Violation::TooDeep, path);
        }
        match (self, value) {
            (Self::Object(fields), Value::Object(map)) => {
                for key in map.keys() {
                    if !fields.iter().any(|f| &f.name == key) {
                        return Err(ValidationError::new(
                            path,
                            Violation::UnknownField(key.into()),
                        ));
                    }
                }
                for f in fields {
                    let len = path.len();
                    path.push('.');
                    path.push_str(&f.name);
                    let r = match map.get(&f.name) {
                        Some(v) => f.schema.check(v, path, depth + 1),
                        None if f.required => fail(Violation::Missing, path),
                        None => Ok(()),
                    };
                    path.truncate(len);
                    r?;
                }
                Ok(())
            }
            (Self::Integer { min, max }, Value::Number(n)) => match n.as_i64() {
                None => fail(Violation::WrongType("integer"), path),
                Some(i) if min.is_some_and(|m| i < m) || max.is_some_and(|m| i > m) => {
                    fail(Violation::OutOfRange, path)
                }
                Some(_) => Ok(()),
            },
            (Self::Number { min, max }, Value::Number(n)) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if x.is_nan() || min.is_some_and(|m| x < m) || max.is_some_and(|m| x > m) {
                    fail(Violation::OutOfRange, path)
                } else {
                    Ok(())
                }
            }
            (Self::String { one_of, max_len }, Value::String(s)) => {
                if one_of
                    .as_ref()
                    .is_some_and(|vals| !vals.iter().any(|v| v == s))
                {
                    fail(Violation::NotInEnum, path)
                } else if max_len.is_some_and(|m| s.chars().count() > m) {
                    fail(Violation::TooLong, path)
                } else {
                    Ok(())
                }
            }
            (Self::Boolean, Value::Bool(_)) => Ok(()),
            (Self::Array { items, max_items }, Value::Array(a)) => {
                if max_items.is_some_and(|m| a.len() > m) {
                    return fail(Violation::TooLong, path);
                }
                for (i, v) in a.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&alloc::format!("[{i}]"));
                    let r = items.check(v, path, depth + 1);
                    path.truncate(len);
                    r?;
                }
                Ok(())
            }
            (s, _) => fail(Violation::WrongType(s.type_name()), path),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Self::Object(_) => "object",
            Self::Integer { .. } => "integer",
            Self::Number { .. } => "number",
            Self::String { .. } => "string",
            Self::Boolean => "boolean",
            Self::Array { .. } => "array",
        }
    }
}

fn put(m: &mut Value, key: &str, v: Option<Value>) {
    if let (Value::Object(map), Some(v)) = (m, v) {
        map.insert(key.into(), v);
    }
}

/// What was wrong with a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// The JSON type differs (expected type named).
    WrongType(&'static str),
    /// Below the minimum or above the maximum.
    OutOfRange,
    /// Not one of the allowed strings.
    NotInEnum,
    /// String or array too long.
    TooLong,
    /// A required field is missing.
    Missing,
    /// A field the schema does not declare.
    UnknownField(String),
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// A schema violation and where it happened (`.field[2].sub`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON path of the offending value (`""` for the root).
    pub path: String,
    /// What was wrong.
    pub violation: Violation,
}

impl ValidationError {
    fn new(path: &str, violation: Violation) -> Self {
        Self {
            path: crate::error::bounded(path, 128),
            violation,
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "$"
        } else {
            &self.path
        };
        match &self.violation {
            Violation::WrongType(t) => write!(f, "{at}: expected {t}"),
            Violation::OutOfRange => write!(f, "{at}: out of range"),
            Violation::NotInEnum => write!(f, "{at}: not an allowed value"),
            Violation::TooLong => write!(f, "{at}: too long"),
            Violation::Missing => write!(f, "{at}: required field missing"),
            Violation::UnknownField(k) => {
                write!(f, "{at}: unknown field {:?}", crate::error::bounded(k, 64))
            }
            Violation::TooDeep => write!(f, "{at}: nested too deeply"),
        }
    }
}
