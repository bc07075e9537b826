//! Fuzzes a model's tool call into a device function: the first byte picks the
//! function (one of `TOOLS`, or an unknown name), the rest is the arguments text as
//! the model sent it. `advisor::checked_command` must answer a typed error or a
//! command of that function that passes the device limits; nothing may panic.
#![no_main]

use ioto_cloud::advisor::{checked_command, registry};
use ioto_cloud::types::ToolCall;
use ioto_core::device::{Limits, TOOLS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let name = TOOLS
        .get(usize::from(selector) % (TOOLS.len() + 1))
        .map_or("open_valve", |t| t.name);
    let call = ToolCall {
        id: "call_1".into(),
        name: name.into(),
        arguments: String::from_utf8_lossy(rest).into_owned(),
    };
    let Ok(reg) = registry(&TOOLS) else {
        panic!("the device tools do not make a registry");
    };
    let limits = Limits::default();
    if let Ok(command) = checked_command(&call, &reg, &limits) {
        assert_eq!(command.name(), name);
        assert!(limits.check(&command).is_ok());
    }
});
