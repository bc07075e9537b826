//! Fuzzes the tool-argument gate: any bytes as model-supplied arguments must be
//! rejected with a typed error or accepted only if they really match the schema, and
//! the device function must only ever see schema-valid arguments.
#![no_main]

use ioto_cloud::schema::Schema;
use ioto_cloud::tools::{CallStatus, ToolRegistry};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn schema() -> Schema {
    Schema::object()
        .field("rpm", "", Schema::integer().range(0, 3000))
        .field("mode", "", Schema::string().one_of(&["eco", "boost"]))
        .optional("gain", "", Schema::number().between(0.0, 1.0))
        .optional(
            "tags",
            "",
            Schema::array(Schema::string().max_len(4)).max_items(3),
        )
        .optional(
            "nested",
            "",
            Schema::object().field("on", "", Schema::boolean()),
        )
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let mut ran = false;
    let mut reg = ToolRegistry::new(2);
    reg.register("pump", "", schema(), |args: &Value| {
        // Whatever reached the function must satisfy the schema.
        assert!(schema().validate(args).is_ok());
        let rpm = args["rpm"].as_i64().unwrap_or(-1);
        assert!((0..=3000).contains(&rpm));
        Ok(Value::Null)
    })
    .unwrap_or_default();
    let (out, status) = reg.dispatch("pump", text);
    if status == CallStatus::Ok {
        ran = true;
        assert_eq!(out, "null");
    } else {
        assert!(out.starts_with("{\"error\":"));
    }
    // The validator alone agrees with the registry.
    let direct = ioto_cloud::tools::parse_and_validate(&schema(), text).is_ok();
    assert_eq!(direct, ran);
    let (_, unknown) = reg.dispatch("pump2", text);
    assert!(matches!(unknown, CallStatus::Rejected(_)));
});
