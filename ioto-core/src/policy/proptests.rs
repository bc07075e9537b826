//! Property tests: budgets hold for what is actually sent; private values never leave.
#![allow(clippy::unwrap_used)]

extern crate std;

use super::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, VecDeque};
use std::string::String;
use std::vec::Vec;

// ---------------------------------------------------------------- budgets

/// One event as the agent sees it.
#[derive(Clone, Debug)]
struct Event {
    /// Time since the previous event, µs.
    dt: u64,
    score: f32,
    online: bool,
    /// Share of the reserved tokens the call really uses, percent (≤ 100).
    used_pct: u32,
}

fn event() -> impl Strategy<Value = Event> {
    let dt = prop_oneof![
        4 => 0u64..5_000_000,                 // bursts: seconds apart
        3 => 0u64..(20 * 60 * 1_000_000),     // minutes apart
        1 => 0u64..(30 * 3_600 * 1_000_000),  // hours apart (crosses days)
    ];
    (dt, 0.0f32..=1.0, any::<bool>(), 0u32..=100).prop_map(|(dt, score, online, used_pct)| Event {
        dt,
        score,
        online,
        used_pct,
    })
}

fn limits() -> impl Strategy<Value = (BudgetLimits, u32)> {
    (0u32..6, 0u32..12, 0u32..4_000, 0u32..12_000, 1u32..1_500).prop_map(
        |(cph, cpd, tph, tpd, per_call)| {
            (
                BudgetLimits {
                    calls_per_hour: cph,
                    calls_per_day: cpd,
                    tokens_per_hour: tph,
                    tokens_per_day: tpd,
                },
                per_call,
            )
        },
    )
}

/// Checks a ledger of sent calls `(instant µs, tokens charged)` against one window.
fn check_windows(
    sent: &[(u64, u32)],
    window_us: u64,
    max_calls: u32,
    max_tokens: u32,
) -> Result<(), TestCaseError> {
    let mut per: BTreeMap<u64, (u32, u64)> = BTreeMap::new();
    for &(at, tokens) in sent {
        let e = per.entry(at / window_us).or_default();
        e.0 += 1;
        e.1 += u64::from(tokens);
    }
    for (window, (calls, tokens)) in per {
        if max_calls != 0 {
            prop_assert!(
                calls <= max_calls,
                "window {window}: {calls} calls > {max_calls}"
            );
        }
        if max_tokens != 0 {
            prop_assert!(
                tokens <= u64::from(max_tokens),
                "window {window}: {tokens} tokens > {max_tokens}"
            );
        }
    }
    Ok(())
}

proptest! {
    /// Whatever the events and limits, what the agent actually sends — online
    /// escalations at once, deferred ones later from its queue — never exceeds a
    /// call or token budget of any hour or day window.
    #[test]
    fn sent_escalations_never_exceed_any_budget(
        (limits, per_call) in limits(),
        report_cooldown_s in 0u32..300,
        escalate_cooldown_s in 0u32..1_200,
        events in proptest::collection::vec(event(), 1..200),
    ) {
        let mut p = Policy::new(PolicyConfig {
            report_cooldown_s,
            escalate_cooldown_s,
            budget: limits,
            tokens_per_call: per_call,
            ..PolicyConfig::DEFAULT
        })
        .unwrap();
        let mut now = 0u64;
        let mut queue: VecDeque<u32> = VecDeque::new(); // deferred: used_pct
        let mut sent: Vec<(u64, u32)> = Vec::new();
        for e in events {
            now += e.dt;
            let at = Instant(now);
            let link = if e.online { Link::Online } else { Link::Offline };
            let d = p.decide(at, e.score, link);
            prop_assert_eq!(d.deferred, d.action == Action::Escalate && !e.online);
            if d.action == Action::Escalate && !d.deferred {
                // decide checked the same budget at the same instant: it fits.
                let r = p.reserve_escalation(at);
                prop_assert!(r.is_ok(), "online escalation refused at reserve");
                let r = r.unwrap();
                prop_assert_eq!(r.tokens(), per_call);
                let used = per_call * e.used_pct / 100;
                p.settle(r, used);
                sent.push((now, used));
            } else if d.deferred && queue.len() < 8 {
                queue.push_back(e.used_pct);
            }
            if e.online {
                while let Some(pct) = queue.pop_front() {
                    if let Ok(r) = p.reserve_escalation(at) {
                        let used = r.tokens() * pct / 100;
                        p.settle(r, used);
                        sent.push((now, used));
                    } // refused: dropped (a report goes instead)
                }
            }
        }
        check_windows(&sent, HOUR_US, limits.calls_per_hour, limits.tokens_per_hour)?;
        check_windows(&sent, DAY_US, limits.calls_per_day, limits.tokens_per_day)?;
    }
}

// ---------------------------------------------------------------- privacy

/// Characters only private values are made of; public text never holds them.
const MARKS: [char; 3] = ['Ω', 'Ж', '𝔛'];

const NAMES: [&str; 8] = ["a", "b\"q", "c\\", "d\n", "é", "f\u{1}", "g☃", "h"];

#[derive(Clone, Debug)]
enum Value {
    F32(f32),
    U32(u32),
    U64(u64),
    I32(i32),
    Bool(bool),
    Str(String),
    Window(Vec<f32>),
}

fn float() -> impl Strategy<Value = f32> {
    prop_oneof![
        3 => -1.0e6f32..1.0e6,
        1 => any::<f32>(), // NaN, infinities, subnormals, extremes
    ]
}

fn public_text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| {
        s.chars()
            .map(|c| if MARKS.contains(&c) { '_' } else { c })
            .collect()
    })
}

fn value(text: BoxedStrategy<String>) -> impl Strategy<Value = Value> {
    prop_oneof![
        float().prop_map(Value::F32),
        any::<u32>().prop_map(Value::U32),
        any::<u64>().prop_map(Value::U64),
        any::<i32>().prop_map(Value::I32),
        any::<bool>().prop_map(Value::Bool),
        text.prop_map(Value::Str),
        proptest::collection::vec(float(), 0..12).prop_map(Value::Window),
    ]
}

fn entry() -> impl Strategy<Value = (Privacy, Value)> {
    prop_oneof![
        (Just(Privacy::Public), value(public_text().boxed())),
        (Just(Privacy::Summary), value(public_text().boxed())),
        (Just(Privacy::Private), value("[ΩЖ𝔛]{1,16}".boxed())),
    ]
}

fn write(w: &mut JsonRecord<'_>, field: &Field, v: &Value) -> Result<(), RecordError> {
    match v {
        Value::F32(x) => w.f32(field, *x),
        Value::U32(x) => w.u32(field, *x),
        Value::U64(x) => w.u64(field, *x),
        Value::I32(x) => w.i32(field, *x),
        Value::Bool(x) => w.bool(field, *x),
        Value::Str(x) => w.str(field, x),
        Value::Window(x) => w.window(field, x),
    }
    .map(|_| ())
}

/// A JSON number (or null for non-finite) equal to `x` at f32 precision.
fn same_float(j: &serde_json::Value, x: f32) -> bool {
    if x.is_finite() {
        j.as_f64().is_some_and(|v| v as f32 == x)
    } else {
        j.is_null()
    }
}

/// Checks one written public/summary field against the value given.
fn check_field(j: &serde_json::Value, privacy: Privacy, v: &Value) -> Result<(), TestCaseError> {
    use serde_json::json;
    match (privacy, v) {
        (_, Value::F32(x)) => prop_assert!(same_float(j, *x), "{j} vs {x}"),
        (_, Value::U32(x)) => prop_assert_eq!(j, &json!(*x)),
        (_, Value::U64(x)) => prop_assert_eq!(j, &json!(*x)),
        (_, Value::I32(x)) => prop_assert_eq!(j, &json!(*x)),
        (_, Value::Bool(x)) => prop_assert_eq!(j, &json!(*x)),
        (Privacy::Summary, Value::Str(x)) => prop_assert_eq!(j, &json!({ "len": x.len() })),
        (_, Value::Str(x)) => prop_assert_eq!(j.as_str(), Some(x.as_str())),
        (Privacy::Summary, Value::Window(xs)) => {
            let o = j.as_object().unwrap();
            let keys: Vec<&str> = o.keys().map(String::as_str).collect();
            let mut expected = ["max", "mean", "min", "n", "rms"];
            expected.sort_unstable();
            let mut got = keys.clone();
            got.sort_unstable();
            prop_assert_eq!(got, expected.to_vec(), "summary keys");
            prop_assert_eq!(&o["n"], &json!(xs.len()));
            if xs.is_empty() || xs.iter().any(|x| !x.is_finite()) {
                for k in ["mean", "rms", "min", "max"] {
                    prop_assert!(o[k].is_null());
                }
            } else {
                let min = xs.iter().copied().fold(f32::INFINITY, f32::min);
                let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                prop_assert!(same_float(&o["min"], min));
                prop_assert!(same_float(&o["max"], max));
                let n = xs.len() as f64;
                let mean = xs.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
                let rms = (xs.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / n).sqrt();
                let close = |j: &serde_json::Value, want: f64| {
                    j.as_f64()
                        .is_some_and(|g| (g - want).abs() <= 1e-5 * want.abs().max(1.0))
                };
                prop_assert!(close(&o["mean"], mean), "mean {} vs {mean}", o["mean"]);
                prop_assert!(close(&o["rms"], rms), "rms {} vs {rms}", o["rms"]);
            }
        }
        (_, Value::Window(xs)) => {
            let a = j.as_array().unwrap();
            prop_assert_eq!(a.len(), xs.len());
            for (j, &x) in a.iter().zip(xs) {
                prop_assert!(same_float(j, x), "{j} vs {x}");
            }
        }
    }
    Ok(())
}

proptest! {
    /// Any mix of public, summary and private fields: the output is one JSON object
    /// holding exactly the non-private fields with their values (summaries only as
    /// aggregates), and no private value's character appears anywhere in it — also
    /// when the buffer is too small and fields are refused.
    #[test]
    fn private_values_never_leave_and_the_output_is_json(
        entries in proptest::collection::vec(entry(), 0..NAMES.len()),
        small in 0usize..160,
    ) {
        let fields: Vec<Field> = entries
            .iter()
            .zip(NAMES)
            .map(|((privacy, _), name)| Field::new(name, *privacy))
            .collect();

        let mut buf = [0u8; 4096];
        let mut w = JsonRecord::new(&mut buf);
        for (field, (_, v)) in fields.iter().zip(&entries) {
            write(&mut w, field, v).unwrap();
        }
        let out = w.finish().unwrap();
        let text = core::str::from_utf8(out).unwrap();
        prop_assert!(!text.contains(MARKS), "private mark in {text}");
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        let obj = json.as_object().unwrap();
        let shown = fields.iter().filter(|f| f.privacy != Privacy::Private).count();
        prop_assert_eq!(obj.len(), shown);
        for (field, (privacy, v)) in fields.iter().zip(&entries) {
            match obj.get(field.name) {
                Some(j) => {
                    prop_assert!(*privacy != Privacy::Private);
                    check_field(j, *privacy, v)?;
                }
                None => prop_assert_eq!(*privacy, Privacy::Private),
            }
        }

        // A small buffer: refused fields are dropped whole.
        let mut buf = std::vec![0u8; small];
        let mut w = JsonRecord::new(&mut buf);
        for (field, (_, v)) in fields.iter().zip(&entries) {
            let _ = write(&mut w, field, v);
        }
        if let Ok(out) = w.finish() {
            let text = core::str::from_utf8(out).unwrap();
            prop_assert!(!text.contains(MARKS));
            let json: serde_json::Value = serde_json::from_str(text).unwrap();
            prop_assert!(json.is_object());
        } else {
            prop_assert!(small < 2);
        }
    }
}
