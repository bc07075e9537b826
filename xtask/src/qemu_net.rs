//! Networked suites on the virtual boards: the loopback services a suite declares,
//! QEMU's user-mode network fenced to them, and the host-side checks after the run.
//!
//! A suite lists what it needs in [`SUITES`]. Before QEMU starts, [`Session::start`]
//! starts each service on an ephemeral `127.0.0.1` port and [`Network`] turns them into
//!
//! ```text
//! -netdev user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:7-tcp:127.0.0.1:<port>,guestfwd=...
//! -net nic,netdev=n0,model=lan9118,macaddr=<mac>          (mps2: the on-board LAN9118)
//! -device virtio-net-device,netdev=n0,mac=<mac>           (virt: a virtio-mmio slot)
//! -append "echo=10.0.2.100:7 mqtt=10.0.2.100:1883 fenced=10.0.2.2:<port> nonce=.. topic=.. mac=.."
//! ```
//!
//! `restrict=on` keeps the guest inside: it reaches the `guestfwd` addresses and
//! nothing else (no DNS, no gateway — which slirp would otherwise map to the host's
//! loopback —, no outside address). The firmware reads the `-append` words over
//! semihosting (`ioto_board_qemu::args`). QEMU connects each `guestfwd` to its service
//! once, when it starts, and carries one guest connection over it: a suite opens one
//! connection per service.
//!
//! After the run, [`Session::finish`] checks what the services saw (the echo server's
//! byte count, the message the broker retained) and stops them.

use crate::{
    Result,
    boards::{Board, Nic},
    qemu_tls,
};

pub mod llmock;
mod services;

pub use services::{EchoServer, Mosquitto};

/// Where the forwarded services appear to the guest.
pub const SERVICES_ADDRESS: &str = "10.0.2.100";
/// slirp's gateway: the host's loopback unless `restrict=on` fences it off.
const GATEWAY: &str = "10.0.2.2";

/// A loopback service a suite can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// A TCP echo server; the run must have echoed exactly `bytes`.
    Echo {
        /// Bytes the suite sends through it.
        bytes: u64,
    },
    /// A fresh mosquitto; the run must leave a retained message on the suite's topic
    /// (`topic=`) whose payload is `<board> <nonce>`.
    Mqtt,
    /// llmock over plain HTTP, scripted to answer with one `set_actuator` call at the
    /// level passed as `level=` ([`llmock::ToolCallModel`]); the run must leave exactly
    /// one spec-valid Responses request whose input carries `expect`.
    ToolCallModel {
        /// Text the request's input must carry.
        expect: &'static str,
    },
    /// The anomaly monitor's broker: mosquitto over TLS with the run's own CA
    /// ([`qemu_tls::MonitorServices`], which checks what it got).
    MonitorBroker,
    /// The anomaly monitor's model: llmock over HTTPS, scripted with a tool call.
    MonitorModel,
}

impl Service {
    /// The `key=` under which the firmware finds the service's guest address.
    fn key(self) -> &'static str {
        match self {
            Service::Echo { .. } => "echo",
            Service::Mqtt => "mqtt",
            Service::ToolCallModel { .. } => "llm",
            Service::MonitorBroker => "mqtts",
            Service::MonitorModel => "https",
        }
    }
}

/// Suites that run on the network, and what each needs: services, each reached at
/// `10.0.2.100:<guest port>`.
pub const SUITES: &[(&str, &[(Service, u16)])] = &[
    (
        "net",
        &[
            (Service::Echo { bytes: 64 * 1024 }, 7),
            (Service::Mqtt, 1883),
        ],
    ),
    (
        "keyword_to_cloud",
        &[(
            Service::ToolCallModel {
                expect: "\"keyword\":\"yes\"",
            },
            8080,
        )],
    ),
    (
        "anomaly_monitor",
        &[(Service::MonitorBroker, 8883), (Service::MonitorModel, 443)],
    ),
];

/// One forwarded TCP service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forward {
    /// The port the guest connects to at [`SERVICES_ADDRESS`].
    pub guest_port: u16,
    /// The service's port on `127.0.0.1`.
    pub host_port: u16,
}

/// A restricted user-mode network for one QEMU run.
#[derive(Clone, Debug, Default)]
pub struct Network {
    /// The forwarded services.
    pub forwards: Vec<Forward>,
    /// The NIC's MAC address (`52:54:00:xx:xx:xx`).
    pub mac: String,
}

impl Network {
    /// The QEMU options: the netdev with one `guestfwd` per service, and the board's
    /// NIC on it.
    pub fn qemu_args(&self, board: &Board) -> Result<Vec<String>> {
        let mut netdev = String::from("user,id=n0,restrict=on");
        for f in &self.forwards {
            netdev += &format!(
                ",guestfwd=tcp:{SERVICES_ADDRESS}:{}-tcp:127.0.0.1:{}",
                f.guest_port, f.host_port
            );
        }
        let nic = match board.nic {
            Some(Nic::OnBoard(model)) => {
                vec![
                    "-net".into(),
                    format!("nic,netdev=n0,model={model},macaddr={}", self.mac),
                ]
            }
            Some(Nic::Device(device)) => {
                vec![
                    "-device".into(),
                    format!("{device},netdev=n0,mac={}", self.mac),
                ]
            }
            None => return Err(format!("{} has no network controller", board.name)),
        };
        let mut args = vec!["-netdev".into(), netdev];
        args.extend(nic);
        Ok(args)
    }
}

/// The services of one networked suite run, started before QEMU.
pub struct Session {
    board: &'static str,
    network: Network,
    words: Vec<String>,
    nonce: u32,
    topic: String,
    echo: Option<(EchoServer, u64)>,
    broker: Option<Mosquitto>,
    model: Option<llmock::ToolCallModel>,
    monitor: Option<qemu_tls::MonitorServices>,
}

impl Session {
    /// Starts what `suite` declares in [`SUITES`] for a run on `board`; `None` for a
    /// suite without network.
    pub fn start(suite: &str, board: &Board) -> Result<Option<Session>> {
        let Some((_, services)) = SUITES.iter().find(|(name, _)| *name == suite) else {
            return Ok(None);
        };
        let nonce = nonce();
        let [a, b, c, _] = nonce.to_be_bytes();
        let topic = format!("ioto/hil/{suite}/{}", board.name);
        let mut s = Session {
            board: board.name,
            network: Network {
                forwards: vec![],
                mac: format!("52:54:00:{a:02x}:{b:02x}:{c:02x}"),
            },
            words: vec![],
            nonce,
            topic,
            echo: None,
            broker: None,
            model: None,
            monitor: None,
        };
        for &(service, guest_port) in *services {
            let host_port = match service {
                Service::Echo { bytes } => {
                    let server = EchoServer::start()?;
                    let port = server.port;
                    s.echo = Some((server, bytes));
                    port
                }
                Service::Mqtt => {
                    let broker = Mosquitto::start()?;
                    let port = broker.port;
                    s.broker = Some(broker);
                    port
                }
                Service::ToolCallModel { expect } => {
                    let model = llmock::ToolCallModel::start(nonce, expect)?;
                    let port = model.port();
                    s.words.push(format!("level={}", model.level));
                    s.model = Some(model);
                    port
                }
                Service::MonitorBroker | Service::MonitorModel => {
                    if s.monitor.is_none() {
                        let device = format!("hil-{}-{nonce}", board.name);
                        s.monitor = Some(qemu_tls::MonitorServices::start(&device, nonce)?);
                    }
                    let m = s.monitor.as_ref().ok_or("monitor services")?;
                    m.host_port(service == Service::MonitorModel)
                }
            };
            s.network.forwards.push(Forward {
                guest_port,
                host_port,
            });
            s.words
                .push(format!("{}={SERVICES_ADDRESS}:{guest_port}", service.key()));
        }
        // A live loopback service behind the gateway: what the suite must NOT reach
        // (slirp maps the gateway to the host's loopback unless restrict=on). No address
        // off the machine is ever given to the firmware.
        if let Some(f) = s.network.forwards.first() {
            s.words.push(format!("fenced={GATEWAY}:{}", f.host_port));
        }
        if let Some(m) = &s.monitor {
            let guest = |x| {
                services
                    .iter()
                    .find(|(v, _)| *v == x)
                    .map_or(0, |(_, p)| *p)
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let (mqtts, https) = (guest(Service::MonitorBroker), guest(Service::MonitorModel));
            s.words.extend(m.words(mqtts, https, now));
        }
        s.words.push(format!("nonce={nonce}"));
        s.words.push(format!("topic={}", s.topic));
        s.words.push(format!("mac={}", s.network.mac));
        Ok(Some(s))
    }

    /// QEMU options for the run: the network and `-append` with the suite's words.
    pub fn qemu_args(&self, board: &Board) -> Result<Vec<String>> {
        let mut args = self.network.qemu_args(board)?;
        args.extend(["-append".into(), self.words.join(" ")]);
        Ok(args)
    }

    /// Checks what the services saw, then stops them.
    pub fn finish(self) -> Result {
        let mut problems = Vec::new();
        if let Some((server, want)) = self.echo {
            let got = server.stop();
            if got != want {
                problems.push(format!("the echo server echoed {got} bytes, want {want}"));
            }
        }
        if let Some(broker) = self.broker {
            let want = format!("{} {}", self.board, self.nonce);
            match broker.retained(&self.topic) {
                Ok(got) if got == want => {}
                Ok(got) => problems.push(format!(
                    "mosquitto holds `{got}` on {}, want `{want}`",
                    self.topic
                )),
                Err(e) => problems.push(e),
            }
        }
        if let Some(model) = self.model
            && let Err(e) = model.finish()
        {
            problems.push(e);
        }
        if let Some(monitor) = self.monitor
            && let Err(e) = monitor.finish()
        {
            problems.push(e);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

/// A per-run number the firmware must echo back (so a stale message cannot pass).
fn nonce() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ d.as_secs() as u32)
        .unwrap_or(0);
    (nanos ^ std::process::id().rotate_left(16)) | 1
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::boards;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::process::Command;

    #[test]
    fn restricted_netdev_and_nic_per_machine() {
        let net = Network {
            forwards: vec![
                Forward {
                    guest_port: 7,
                    host_port: 40001,
                },
                Forward {
                    guest_port: 1883,
                    host_port: 40002,
                },
            ],
            mac: "52:54:00:01:02:03".into(),
        };
        let netdev = "user,id=n0,restrict=on,\
                      guestfwd=tcp:10.0.2.100:7-tcp:127.0.0.1:40001,\
                      guestfwd=tcp:10.0.2.100:1883-tcp:127.0.0.1:40002";
        assert_eq!(
            net.qemu_args(boards::find("qemu-m4f").unwrap()).unwrap(),
            [
                "-netdev",
                netdev,
                "-net",
                "nic,netdev=n0,model=lan9118,macaddr=52:54:00:01:02:03"
            ]
        );
        assert_eq!(
            net.qemu_args(boards::find("qemu-rv32").unwrap()).unwrap(),
            [
                "-netdev",
                netdev,
                "-device",
                "virtio-net-device,netdev=n0,mac=52:54:00:01:02:03"
            ]
        );
        assert!(net.qemu_args(boards::find("nrf52840").unwrap()).is_err());
    }

    #[test]
    fn echo_server_echoes_and_counts() {
        let server = EchoServer::start().unwrap();
        let mut c = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        c.write_all(b"ioto").unwrap();
        let mut back = [0u8; 4];
        c.read_exact(&mut back).unwrap();
        assert_eq!(&back, b"ioto");
        drop(c);
        assert_eq!(server.stop(), 4);
    }

    /// What the firmware of the `net` suite does to the services, from the host.
    fn play_the_firmware(s: &Session, payload: &str) {
        let (echo, _) = s.echo.as_ref().unwrap();
        let mut c = TcpStream::connect(("127.0.0.1", echo.port)).unwrap();
        let sent = vec![0x5a; 64 * 1024];
        c.write_all(&sent).unwrap();
        let mut back = vec![0; sent.len()];
        c.read_exact(&mut back).unwrap();
        assert_eq!(back, sent);
        let broker = s.broker.as_ref().unwrap();
        let ok = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
            .args(["-t", &s.topic, "-m", payload, "-r", "-q", "1"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "mosquitto_pub failed");
    }

    #[test]
    fn net_session_passes_only_on_the_expected_traffic() {
        let board = boards::find("qemu-rv32").unwrap();
        let s = Session::start("net", board).unwrap().unwrap();
        let words = s.qemu_args(board).unwrap().pop().unwrap();
        for key in [
            "echo=10.0.2.100:7 ",
            "mqtt=10.0.2.100:1883 ",
            "fenced=10.0.2.2:",
        ] {
            assert!(words.contains(key), "{key} missing from `{words}`");
        }
        assert!(words.contains(&format!("nonce={}", s.nonce)));
        let payload = format!("qemu-rv32 {}", s.nonce);
        play_the_firmware(&s, &payload);
        s.finish().unwrap();

        let s = Session::start("net", board).unwrap().unwrap();
        play_the_firmware(&s, "qemu-rv32 1");
        let err = s.finish().unwrap_err();
        assert!(err.contains("mosquitto holds `qemu-rv32 1`"), "{err}");

        // Nothing happened at all: both checks fail.
        let err = Session::start("net", board)
            .unwrap()
            .unwrap()
            .finish()
            .unwrap_err();
        assert!(err.contains("echoed 0 bytes, want 65536"), "{err}");
        assert!(err.contains("no retained message"), "{err}");
    }

    #[test]
    fn suites_without_network_get_nothing() {
        let board = boards::find("qemu-m4f").unwrap();
        assert!(Session::start("smoke", board).unwrap().is_none());
    }
}
