//! Example device tools: read a sensor, get/set device state, drive an actuator within
//! limits, schedule an action. They are examples — nothing is registered unless you
//! call these functions — and each shows the pattern: a tight schema (enums and
//! ranges), then device-side checks the schema cannot express.

use crate::error::Error;
use crate::schema::Schema;
use crate::tools::ToolRegistry;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use serde_json::{Value, json};

/// Declares `read_sensor(sensor)`: `sensor` is one of `names`; `read` returns the value.
pub fn read_sensor<'a>(
    reg: &mut ToolRegistry<'a>,
    names: &[&str],
    mut read: impl FnMut(&str) -> Option<f64> + 'a,
) -> Result<(), Error> {
    let schema = Schema::object().field(
        "sensor",
        "Which sensor to read",
        Schema::string().one_of(names),
    );
    reg.register(
        "read_sensor",
        "Read the current value of one device sensor.",
        schema,
        move |a: &Value| {
            let name = a["sensor"].as_str().unwrap_or_default();
            read(name)
                .map(|v| json!({ "sensor": name, "value": v }))
                .ok_or_else(|| String::from("sensor unavailable"))
        },
    )
}

/// Declares `get_state(key)` and `set_state(key, value)` over `state`, restricted to
/// `keys`; values are strings up to 32 characters.
pub fn state<'a>(
    reg: &mut ToolRegistry<'a>,
    state: &'a RefCell<BTreeMap<String, String>>,
    keys: &[&str],
) -> Result<(), Error> {
    let key = || Schema::string().one_of(keys);
    reg.register(
        "get_state",
        "Read one device state value.",
        Schema::object().field("key", "State key", key()),
        move |a: &Value| {
            let k = a["key"].as_str().unwrap_or_default();
            Ok(json!({ "key": k, "value": state.borrow().get(k) }))
        },
    )?;
    reg.register(
        "set_state",
        "Change one device state value.",
        Schema::object().field("key", "State key", key()).field(
            "value",
            "New value",
            Schema::string().max_len(32),
        ),
        move |a: &Value| {
            let k = a["key"].as_str().unwrap_or_default();
            let v = a["value"].as_str().unwrap_or_default();
            state.borrow_mut().insert(k.into(), v.into());
            Ok(json!({ "ok": true }))
        },
    )
}

/// An actuator the model may drive, with its inclusive limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Actuator<'n> {
    /// Name the model uses.
    pub name: &'n str,
    /// Lowest allowed setting.
    pub min: f64,
    /// Highest allowed setting.
    pub max: f64,
}

/// Declares `set_actuator(actuator, value)`. The schema allows the union of all ranges;
/// each actuator's own limits are checked before `apply` runs.
pub fn set_actuator<'a>(
    reg: &mut ToolRegistry<'a>,
    actuators: &[Actuator<'_>],
    mut apply: impl FnMut(&str, f64) -> Result<(), String> + 'a,
) -> Result<(), Error> {
    let names: Vec<&str> = actuators.iter().map(|a| a.name).collect();
    let lo = actuators
        .iter()
        .map(|a| a.min)
        .fold(f64::INFINITY, f64::min);
    let hi = actuators
        .iter()
        .map(|a| a.max)
        .fold(f64::NEG_INFINITY, f64::max);
    let limits: Vec<(String, f64, f64)> = actuators
        .iter()
        .map(|a| (a.name.into(), a.min, a.max))
        .collect();
    let schema = Schema::object()
        .field(
            "actuator",
            "Which actuator",
            Schema::string().one_of(&names),
        )
        .field("value", "Setting", Schema::number().between(lo, hi));
    reg.register(
        "set_actuator",
        "Set an actuator within its safe limits.",
        schema,
        move |a: &Value| {
            let name = a["actuator"].as_str().unwrap_or_default();
            let value = a["value"].as_f64().unwrap_or(f64::NAN);
            let ok = limits
                .iter()
                .any(|(n, min, max)| n == name && value >= *min && value <= *max);
            if !ok {
                return Err(String::from("value outside this actuator's limits"));
            }
            apply(name, value)?;
            Ok(json!({ "actuator": name, "value": value }))
        },
    )
}

/// Declares `schedule(action, delay_s)`: `action` one of `actions`, delay up to
/// `max_delay_s`; `schedule` returns a job id.
pub fn schedule<'a>(
    reg: &mut ToolRegistry<'a>,
    actions: &[&str],
    max_delay_s: u32,
    mut schedule: impl FnMut(&str, u32) -> Result<u32, String> + 'a,
) -> Result<(), Error> {
    let schema = Schema::object()
        .field("action", "What to do", Schema::string().one_of(actions))
        .field(
            "delay_s",
            "Seconds from now",
            Schema::integer().range(0, i64::from(max_delay_s)),
        );
    reg.register(
        "schedule",
        "Schedule a device action for later.",
        schema,
        move |a: &Value| {
            let action = a["action"].as_str().unwrap_or_default();
            let delay = a["delay_s"]
                .as_u64()
                .and_then(|d| u32::try_from(d).ok())
                .unwrap_or(0);
            let id = schedule(action, delay)?;
            Ok(json!({ "job": id }))
        },
    )
}
