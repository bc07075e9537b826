//! llmock (PyPI, the project's `.venv`), an OpenAI-compatible server, as a networked
//! suite's model: started on an ephemeral loopback port over plain HTTP
//! ([`start`], the shared `ioto_test_peers::llmock::Llmock`), scripted through its control
//! API (`POST /_llmock/scenario`), and asked afterwards what it received
//! (`GET /_llmock/requests`). Request bodies are checked against the OpenAI OpenAPI
//! spec with ioto-cloud's validator (`ioto-cloud/tests/spec/validate.py`).

use std::io::Write as _;
use std::process::{Command, Stdio};

use ioto_test_peers::llmock::Llmock;
use serde_json::{Value, json};

use crate::{Result, doctor, toolchain};

/// llmock's own server over plain HTTP, answering at once, run by the project's Python.
pub fn start() -> Result<Llmock> {
    Llmock::start(&python()?)
}

/// The project's Python, which must import llmock (and uvicorn).
pub fn python() -> Result<std::path::PathBuf> {
    ioto_test_peers::python_importing(doctor::python(), &["llmock", "uvicorn"])
}

/// Checks `body` against the OpenAI OpenAPI spec's schema `schema` (e.g.
/// `CreateResponse`, `CreateChatCompletionRequest`) with ioto-cloud's validator:
/// JSON Schema plus no top-level key the schema does not declare.
pub fn spec_valid(schema: &str, body: &Value) -> Result {
    let script = toolchain::repo_root().join("ioto-cloud/tests/spec/validate.py");
    let mut child = Command::new(doctor::python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let input = json!([{ "name": "request", "schema": schema, "body": body }]).to_string();
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| format!("validate.py: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("validate.py: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() && text.lines().any(|l| l == "ok request") {
        Ok(())
    } else {
        Err(format!("not a valid {schema}: {}", text.trim()))
    }
}

/// A suite's model: llmock scripted to answer the suite's one Responses request with
/// one `set_actuator` call on actuator 0 at `level` (drawn from the run's nonce, and
/// passed to the firmware as `level=`, so only an applied answer matches it).
pub struct ToolCallModel {
    server: Llmock,
    /// The level the scripted tool call sets.
    pub level: f64,
    /// Text the request must carry (e.g. the keyword the device heard).
    expect: &'static str,
}

impl ToolCallModel {
    /// Starts llmock and scripts the answer.
    pub fn start(nonce: u32, expect: &'static str) -> Result<ToolCallModel> {
        let server = start()?;
        let level = f64::from(10 + nonce % 90) / 100.0;
        server.script(json!([{
            "type": "reply",
            "text": "{\"severity\":\"info\",\"summary\":\"Light switched as asked.\"}",
            "tool_calls": [{"name": "set_actuator", "arguments": {"actuator": 0, "level": level}}]
        }]))?;
        Ok(ToolCallModel {
            server,
            level,
            expect,
        })
    }

    /// Its port on `127.0.0.1`.
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// Checks that llmock received exactly one request: a spec-valid Responses request
    /// offering the `set_actuator` tool, whose input carries the expected text.
    pub fn finish(self) -> Result {
        let requests = self.server.requests()?;
        let [request] = requests.as_slice() else {
            return Err(format!(
                "llmock received {} requests, want 1: {requests:?}",
                requests.len()
            ));
        };
        if request["path"] != "/v1/responses" {
            return Err(format!(
                "llmock got {}, want /v1/responses",
                request["path"]
            ));
        }
        let body = &request["body"];
        spec_valid("CreateResponse", body)?;
        let tools = body["tools"].as_array().map_or(&[][..], Vec::as_slice);
        if !tools.iter().any(|t| t["name"] == "set_actuator") {
            return Err(format!("the request offers no set_actuator tool: {body}"));
        }
        if !strings(&body["input"]).contains(self.expect) {
            return Err(format!(
                "the request's input does not mention `{}`: {body}",
                self.expect
            ));
        }
        Ok(())
    }
}

/// Every string in `v`, joined by newlines (the texts of a request's input items).
fn strings(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(strings).collect::<Vec<_>>().join("\n"),
        Value::Object(fields) => fields.values().map(strings).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// One HTTP/1.1 POST of `body` to `path`; the status line.
    fn post(port: u16, path: &str, body: &Value) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let body = body.to_string();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: 10.0.2.100\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out.lines().next().unwrap_or_default().to_string()
    }

    fn request(keyword: &str) -> Value {
        json!({
            "model": "gpt-4.1-mini",
            "instructions": "You are a device.",
            "input": [{"role": "user", "content": format!("{{\"keyword\":\"{keyword}\"}}")}],
            "tools": [{"type": "function", "name": "set_actuator", "description": "light",
                       "parameters": {"type": "object", "properties": {}}, "strict": true}],
            "store": false
        })
    }

    #[test]
    fn tool_call_model_passes_only_on_one_valid_request_with_the_keyword() {
        let expect = "\"keyword\":\"yes\"";
        let model = ToolCallModel::start(41, expect).unwrap();
        assert_eq!(model.level, 0.51);
        assert!(post(model.port(), "/v1/responses", &request("yes")).contains(" 200 "));
        model.finish().unwrap();

        let model = ToolCallModel::start(41, expect).unwrap();
        post(model.port(), "/v1/responses", &request("no"));
        let err = model.finish().unwrap_err();
        assert!(err.contains("does not mention"), "{err}");

        let model = ToolCallModel::start(41, expect).unwrap();
        let mut misspelt = request("yes");
        misspelt["instruction"] = json!("typo");
        post(model.port(), "/v1/responses", &misspelt);
        let err = model.finish().unwrap_err();
        assert!(err.contains("not a valid CreateResponse"), "{err}");

        let model = ToolCallModel::start(41, expect).unwrap();
        let err = model.finish().unwrap_err();
        assert!(err.contains("received 0 requests"), "{err}");
    }
}
