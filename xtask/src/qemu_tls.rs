//! The services of the `anomaly_monitor` suite: the firmware's broker and model over
//! verified TLS, and the host-side checks of what they saw.
//!
//! [`MonitorServices::start`] makes a throw-away PKI with the `openssl` CLI (a P-256
//! CA, and one server certificate each for [`BROKER_NAME`] and [`LLM_NAME`], both also
//! valid for `127.0.0.1` so the host's own clients can verify them), then starts
//!
//! * mosquitto with a TLS listener (that certificate), and a `mosquitto_sub` watcher
//!   subscribed to everything, before the firmware runs;
//! * llmock's app served by uvicorn twice in one process, sharing its state: over HTTPS
//!   (that certificate) for the firmware, and over plain HTTP on another loopback port
//!   for the control API ([`Llmock::control`]), scripted (`POST /_llmock/scenario`) to
//!   answer the first request with a `set_sensitivity` tool call at a level drawn from
//!   the run's nonce. Only the HTTPS port is forwarded to the guest.
//!
//! The firmware gets `broker=broker.hil.test:8883 llm=https://llm.hil.test:443/v1`,
//! the CA (`ca=`, DER in hex), the host's time (`now=`) and its device name
//! (`device=hil-<board>-<nonce>`). [`MonitorServices::finish`] then requires that
//!
//! * the broker got telemetry, the device state before the command (sensitivity 1)
//!   and after it (the scripted level), and the model's advice record;
//! * llmock got exactly one Chat Completions request (`"stream": true`: the answer comes
//!   back over SSE), answered 200, valid against the
//!   OpenAI OpenAPI spec (`ioto-cloud/tests/spec/validate.py`), offering the device's
//!   functions as tools and carrying this device's escalation context.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use ioto_test_peers::{free_port, llmock::Llmock};
use serde_json::Value;

use crate::{
    Result,
    qemu_net::{
        Mosquitto,
        llmock::{self},
    },
};

/// The broker's name, as the firmware looks it up and verifies it.
pub const BROKER_NAME: &str = "broker.hil.test";
/// The model endpoint's name, as the firmware looks it up and verifies it.
pub const LLM_NAME: &str = "llm.hil.test";
/// The Chat Completions request schema in the OpenAI spec.
const CHAT_SCHEMA: &str = "CreateChatCompletionRequest";

const OPENSSL_CNF: &str = "\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = Ioto-rs HIL test CA
[ ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ broker ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:broker.hil.test,IP:127.0.0.1
[ llm ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:llm.hil.test,IP:127.0.0.1
";

/// A CA and the two server certificates it issued, in one directory.
pub struct Pki {
    /// The CA certificate (PEM).
    pub ca: PathBuf,
    /// The CA certificate (DER), as the firmware gets it.
    pub ca_der: Vec<u8>,
    dir: PathBuf,
}

impl Pki {
    /// Makes the CA and the `broker` and `llm` certificates in `dir` (P-256, SHA-256,
    /// valid for two days from now).
    pub fn generate(dir: &Path) -> Result<Pki> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cnf = dir.join("openssl.cnf");
        std::fs::write(&cnf, OPENSSL_CNF).map_err(|e| format!("{}: {e}", cnf.display()))?;
        let path = |name: &str| dir.join(name).display().to_string();
        let cnf = cnf.display().to_string();
        for name in ["ca", "broker", "llm"] {
            openssl(
                &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
                &path(&format!("{name}.key")),
            )?;
        }
        openssl(
            &[
                "req",
                "-new",
                "-x509",
                "-sha256",
                "-days",
                "2",
                "-config",
                &cnf,
                "-extensions",
                "ca",
            ]
            .iter()
            .copied()
            .chain(["-key", &path("ca.key")])
            .collect::<Vec<_>>(),
            &path("ca.pem"),
        )?;
        for (name, cn) in [("broker", BROKER_NAME), ("llm", LLM_NAME)] {
            let subject = format!("/CN={cn}");
            let key = path(&format!("{name}.key"));
            let csr = path(&format!("{name}.csr"));
            openssl(
                &[
                    "req", "-new", "-config", &cnf, "-subj", &subject, "-key", &key,
                ],
                &csr,
            )?;
            let serial = format!("{}", 0x1000 + name.len());
            openssl(
                &[
                    "x509",
                    "-req",
                    "-sha256",
                    "-days",
                    "2",
                    "-in",
                    &csr,
                    "-CA",
                    &path("ca.pem"),
                    "-CAkey",
                    &path("ca.key"),
                    "-set_serial",
                    &serial,
                    "-extfile",
                    &cnf,
                    "-extensions",
                    name,
                ],
                &path(&format!("{name}.pem")),
            )?;
        }
        openssl(
            &["x509", "-in", &path("ca.pem"), "-outform", "DER"],
            &path("ca.der"),
        )?;
        let ca_der = std::fs::read(path("ca.der")).map_err(|e| format!("ca.der: {e}"))?;
        Ok(Pki {
            ca: dir.join("ca.pem"),
            ca_der,
            dir: dir.to_path_buf(),
        })
    }

    /// The certificate and key of the server named `name` (`broker` or `llm`).
    pub fn server(&self, name: &str) -> (PathBuf, PathBuf) {
        (
            self.dir.join(format!("{name}.pem")),
            self.dir.join(format!("{name}.key")),
        )
    }
}

/// `openssl <args> -out <out>`, failing with openssl's message.
fn openssl(args: &[&str], out: &str) -> Result {
    let run = Command::new("openssl")
        .args(args)
        .args(["-out", out])
        .output()
        .map_err(|e| format!("cannot run openssl: {e} (run `cargo xtask doctor --install`)"))?;
    if run.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {}: {}",
            args.first().unwrap_or(&""),
            String::from_utf8_lossy(&run.stderr).trim()
        ))
    }
}

/// The broker, its watcher and the model server of one run.
pub struct MonitorServices {
    device: String,
    level: f64,
    pki: Pki,
    broker: Mosquitto,
    watcher: Child,
    watched: PathBuf,
    llmock: Llmock,
    https_port: u16,
    dir: PathBuf,
}

impl MonitorServices {
    /// Starts everything for the firmware `device` (see the module doc), its files in
    /// a fresh temporary directory.
    pub fn start(device: &str, nonce: u32) -> Result<MonitorServices> {
        let dir = std::env::temp_dir().join(format!("ioto-hil-{device}-{}", std::process::id()));
        let pki = Pki::generate(&dir.join("pki"))?;
        let (cert, key) = pki.server("broker");
        let tls = format!(
            "cafile {}\ncertfile {}\nkeyfile {}\n",
            pki.ca.display(),
            cert.display(),
            key.display()
        );
        let broker = Mosquitto::start_with(&tls)?;
        let watched = dir.join("watched.txt");
        let watcher = watch(&broker, &pki.ca, &watched)?;
        let (llmock, https_port) = start_llmock(&pki)?;
        // 0.50 ..= 3.49, never the default 1.00: the state must change.
        let level = match 50 + nonce % 300 {
            100 => 1.5,
            l => f64::from(l) / 100.0,
        };
        llmock.script(serde_json::json!([{
            "type": "reply",
            "times": 1,
            "tool_calls": [{ "name": "set_sensitivity", "arguments": { "level": level } }],
        }]))?;
        Ok(MonitorServices {
            device: device.into(),
            level,
            pki,
            broker,
            watcher,
            watched,
            llmock,
            https_port,
            dir,
        })
    }

    /// The loopback port of the broker (`mqtts`) or the model server (`https`).
    pub fn host_port(&self, https: bool) -> u16 {
        if https {
            self.https_port
        } else {
            self.broker.port
        }
    }

    /// The firmware's command-line words, the services at guest ports `mqtts` and
    /// `https`.
    pub fn words(&self, mqtts: u16, https: u16, now_unix: u64) -> Vec<String> {
        let ca: String = self.pki.ca_der.iter().map(|b| format!("{b:02x}")).collect();
        vec![
            format!("broker={BROKER_NAME}:{mqtts}"),
            format!("llm=https://{LLM_NAME}:{https}/v1"),
            format!("ca={ca}"),
            format!("now={now_unix}"),
            format!("device={}", self.device),
        ]
    }

    /// Checks what the broker and the model server saw (module doc), then stops them.
    pub fn finish(mut self) -> Result {
        // The last messages may still be on their way to the watcher.
        std::thread::sleep(Duration::from_millis(200));
        let _ = self.watcher.kill();
        let _ = self.watcher.wait();
        let watched = std::fs::read_to_string(&self.watched).unwrap_or_default();
        let mut problems = Vec::new();
        if let Err(e) = self.check_broker(&watched) {
            problems.push(format!(
                "{e}\nbroker log:\n{}",
                tail(&self.broker.log(), 30)
            ));
        }
        if let Err(e) = self.check_model() {
            problems.push(e);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Telemetry, the state before and after the command, and the advice.
    fn check_broker(&self, watched: &str) -> Result {
        let on = |topic: &str| -> Vec<&str> {
            watched
                .lines()
                .filter_map(|l| l.split_once(' '))
                .filter(|(t, _)| *t == topic)
                .map(|(_, payload)| payload)
                .collect()
        };
        let device = &self.device;
        let telemetry = on(&format!("ioto/{device}/telemetry"));
        if telemetry.len() < 3
            || telemetry
                .iter()
                .any(|p| serde_json::from_str::<Value>(p).is_err())
        {
            return Err(format!(
                "the broker got {} telemetry messages (want ≥ 3, JSON)",
                telemetry.len()
            ));
        }
        let states: Vec<Option<f64>> = on(&format!("$aws/things/{device}/shadow/update"))
            .iter()
            .map(|p| {
                let v: Value = serde_json::from_str(p).ok()?;
                v["state"]["reported"]["sensitivity"].as_f64()
            })
            .collect();
        let near = |s: &Option<f64>, want: f64| s.is_some_and(|s| (s - want).abs() < 1e-3);
        let changed = states.first().is_some_and(|s| near(s, 1.0))
            && states.last().is_some_and(|s| near(s, self.level));
        if !changed {
            return Err(format!(
                "the broker got device states with sensitivities {states:?}: want 1 first and \
                 the model's {} last",
                self.level
            ));
        }
        let advice = on(&format!("ioto/{device}/advice"));
        if advice.is_empty() {
            return Err("the broker got no advice record".into());
        }
        Ok(())
    }

    /// One spec-valid, streamed Chat Completions request from this device, answered.
    fn check_model(&self) -> Result {
        let served = self.llmock.requests()?;
        let chats: Vec<&Value> = served
            .iter()
            .filter(|r| {
                r["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("/chat/completions"))
            })
            .collect();
        let [chat] = chats.as_slice() else {
            return Err(format!(
                "llmock served {} chat completions (want 1); journal: {served:?}",
                chats.len()
            ));
        };
        if chat["method"] != "POST" || chat["status"] != 200 {
            return Err(format!("llmock's record of the request: {chat}"));
        }
        let body = &chat["body"];
        llmock::spec_valid(CHAT_SCHEMA, body)?;
        let offers = body["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["function"]["name"] == "set_sensitivity"));
        let from_us = body["messages"].as_array().is_some_and(|m| {
            m.iter().any(|m| {
                m["role"] == "user"
                    && m["content"]
                        .as_str()
                        .is_some_and(|c| c.contains(&self.device))
            })
        });
        // The firmware asks for the answer as a server-sent event stream.
        let streamed = body["stream"] == true;
        if !offers || !from_us || !streamed {
            return Err(format!(
                "the request offers set_sensitivity: {offers}, carries {}'s context: {from_us}, asks for a stream: {streamed}; body: {body}",
                self.device
            ));
        }
        Ok(())
    }
}

impl Drop for MonitorServices {
    fn drop(&mut self) {
        let _ = self.watcher.kill();
        let _ = self.watcher.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// uvicorn serving one llmock app over HTTPS (the `llm` certificate; its port is
/// returned) and over plain HTTP (the [`Llmock`]'s port, for the control API).
fn start_llmock(pki: &Pki) -> Result<(Llmock, u16)> {
    let (https, control) = (free_port()?, free_port()?);
    let (cert, key) = pki.server("llm");
    let mut cmd = Command::new(llmock::python()?);
    cmd.args([
        "-c",
        TWO_LISTENERS,
        &https.to_string(),
        &control.to_string(),
    ])
    .arg(&cert)
    .arg(&key)
    .env("LLMOCK_LATENCY_MS", "0")
    .env("LLMOCK_RESPONSE_STYLE", "hello")
    .env("LLMOCK_TOOL_MODE", "auto");
    let server = Llmock::spawn(&mut cmd, control)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", https)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("llmock does not listen for HTTPS on {https}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((server, https))
}

/// One llmock app behind two uvicorn servers: HTTPS on `argv[1]`, plain HTTP on `argv[2]`.
const TWO_LISTENERS: &str = r#"
import asyncio, sys, uvicorn
from llmock.main import create_app
app = create_app()
https, plain, cert, key = sys.argv[1:5]
def server(port, **tls):
    return uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=int(port),
                                         log_level="warning", **tls))
async def main():
    await asyncio.gather(server(https, ssl_certfile=cert, ssl_keyfile=key).serve(),
                         server(plain).serve())
asyncio.run(main())
"#;

/// `mosquitto_sub` on every topic (and the `$aws/` shadow topics, which `#` does not
/// match) of `broker`, verified against `ca`, writing `topic payload` lines to `out`;
/// returns once the broker confirmed the subscription.
fn watch(broker: &Mosquitto, ca: &Path, out: &Path) -> Result<Child> {
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut child = Command::new("mosquitto_sub")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &broker.port.to_string(),
            "--cafile",
        ])
        .arg(ca)
        .args([
            "-i",
            "ioto-hil-watch",
            "-q",
            "1",
            "-v",
            "-t",
            "#",
            "-t",
            "$aws/#",
        ])
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            format!("cannot run mosquitto_sub: {e} (run `cargo xtask doctor --install`)")
        })?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !broker.log().contains("Sending SUBACK to ioto-hil-watch") {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "mosquitto_sub exited ({status}); broker log:\n{}",
                broker.log()
            ));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!(
                "mosquitto_sub did not subscribe; broker log:\n{}",
                broker.log()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(child)
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Publishes `payload` on `topic` to the broker over TLS, verified against the CA.
    fn publish(m: &MonitorServices, topic: &str, payload: &str) {
        let ok = Command::new("mosquitto_pub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &m.broker.port.to_string(),
                "--cafile",
            ])
            .arg(&m.pki.ca)
            .args(["-q", "1", "-t", topic, "-m", payload])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// POSTs `body` to llmock's Chat Completions over HTTPS, verified against the CA.
    fn ask(m: &MonitorServices, body: &Value) {
        let script = "import ssl, sys, urllib.request\n\
            ctx = ssl.create_default_context(cafile=sys.argv[2])\n\
            req = urllib.request.Request(sys.argv[1], data=sys.argv[3].encode(), \
            headers={'Content-Type': 'application/json'})\n\
            print(urllib.request.urlopen(req, context=ctx).status)";
        let url = format!("https://127.0.0.1:{}/v1/chat/completions", m.https_port);
        let out = Command::new(llmock::python().unwrap())
            .args(["-c", script, &url])
            .arg(&m.pki.ca)
            .arg(body.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What the firmware does: telemetry, the state, the request, the advice and the
    /// state after the command (at `level`), with `field` added to the request body.
    fn play_the_firmware(m: &MonitorServices, level: f64, field: Option<(&str, Value)>) {
        let device = m.device.clone();
        for t in [0, 10, 20] {
            publish(
                m,
                &format!("ioto/{device}/telemetry"),
                &format!("{{\"t_ms\":{t}}}"),
            );
        }
        let state = |s: f64| format!("{{\"state\":{{\"reported\":{{\"sensitivity\":{s}}}}}}}");
        let shadow = format!("$aws/things/{device}/shadow/update");
        publish(m, &shadow, &state(1.0));
        let mut body = serde_json::json!({
            "model": "gpt-4.1-mini",
            "messages": [
                {"role": "system", "content": "You are a device."},
                {"role": "user", "content": format!("{{\"device\":\"{device}\"}}")}
            ],
            "tools": [{"type": "function", "function": {"name": "set_sensitivity",
                "parameters": {"type": "object", "properties": {"level": {"type": "number"}},
                               "required": ["level"], "additionalProperties": false},
                "strict": true}}],
            "max_tokens": 400,
            "stream": true
        });
        if let Some((k, v)) = field {
            body[k] = v;
        }
        ask(m, &body);
        publish(
            m,
            &format!("ioto/{device}/advice"),
            "{\"commands\":\"set_sensitivity\"}",
        );
        publish(m, &shadow, &state(level));
    }

    #[test]
    fn monitor_services_pass_only_on_the_expected_traffic() {
        let m = MonitorServices::start("hil-test-board-7", 7).unwrap();
        assert_eq!(m.level, 0.57);
        let words = m.words(8883, 443, 1_800_000_000);
        assert_eq!(words[0], "broker=broker.hil.test:8883");
        assert_eq!(words[1], "llm=https://llm.hil.test:443/v1");
        assert!(words[2].starts_with("ca=3082"), "{}", words[2]);
        let level = m.level;
        play_the_firmware(&m, level, None);
        m.finish().unwrap();

        // The state never takes the model's level, and the request has a misspelt field.
        let m = MonitorServices::start("hil-test-board-8", 8).unwrap();
        play_the_firmware(&m, 1.0, Some(("max_token", Value::from(1))));
        let err = m.finish().unwrap_err();
        assert!(
            err.contains("sensitivities [Some(1.0), Some(1.0)]"),
            "{err}"
        );
        assert!(
            err.contains("not a valid CreateChatCompletionRequest"),
            "{err}"
        );
    }
}
