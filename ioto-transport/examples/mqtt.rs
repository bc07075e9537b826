//! `mqtt`: publish and subscribe from the command line with the ioto-transport client,
//! riding out broker restarts (reconnect with backoff, re-send, offline queue).
//!
//! ```text
//! cargo run -p ioto-transport --features std --example mqtt -- \
//!     --url mqtt://HOST:PORT|mqtts://HOST:PORT [--ca FILE] [--protocol 5|3.1.1] \
//!     [--client-id ID] [--persistent] COMMAND
//!
//!   pub TOPIC [--qos N] [--count N] [--message S] [--interval-ms N]
//!   sub FILTER [--qos N] [--count N] [--timeout SECONDS]
//! ```
//!
//! `pub` sends `--count` messages (payloads `0`..`count-1` unless `--message` is
//! given) and exits 0 once every QoS >= 1 publish is acknowledged. `sub` prints each
//! payload on its own line and exits 0 after `--count` messages, 1 on `--timeout`.
//! Exit status 2 means bad usage.
//!
//! `mqtts://` connects over TLS 1.3 and verifies the broker's certificate against the
//! CA in `--ca FILE` (PEM or DER; required, since this tool uses no system trust
//! store) for the URL's host name or IP address (`std` includes the `tls` feature).
//! A certificate that fails verification ends the tool with
//! status 1 and the reason (no retrying); `--ca` with `mqtt://` is a usage error.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ioto_board_host::platform::{HostDelay, TokioNet};
use ioto_board_host::{HostClock, HostEntropy};
use ioto_core::Entropy;
use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
use ioto_transport::mqtt::client::{
    Backoff, Buffers, Client, ClientConfig, Error, Event, Publication, PublishOptions, SessionMode,
};
use ioto_transport::mqtt::connector::{Connector, TcpConnector};
use ioto_transport::mqtt::{ProtocolVersion, QoS, SubscribeOptions, Subscription};

const USAGE: &str =
    "usage: mqtt --url mqtt://HOST:PORT|mqtts://HOST:PORT [--ca FILE] [--protocol 5|3.1.1] \
[--client-id ID] [--persistent] COMMAND
  pub TOPIC [--qos N] [--count N] [--message S] [--interval-ms N]
  sub FILTER [--qos N] [--count N] [--timeout SECONDS]";

/// Parsed command line.
struct Args {
    host: String,
    port: u16,
    /// The `--ca` file (required with, and only with, `mqtts://`).
    ca: Option<String>,
    version: ProtocolVersion,
    client_id: Option<String>,
    persistent: bool,
    command: Command,
}

enum Command {
    Pub {
        topic: String,
        qos: QoS,
        count: u64,
        message: Option<String>,
        interval: Duration,
    },
    Sub {
        filter: String,
        qos: QoS,
        count: Option<u64>,
        timeout: Option<Duration>,
    },
}

fn parse_qos(s: &str) -> Result<QoS, String> {
    match s {
        "0" => Ok(QoS::AtMostOnce),
        "1" => Ok(QoS::AtLeastOnce),
        "2" => Ok(QoS::ExactlyOnce),
        other => Err(format!("--qos must be 0, 1 or 2, not {other}")),
    }
}

fn number<T: std::str::FromStr>(flag: &str, s: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{flag} needs a number, not {s:?}"))
}

fn parse_url(url: &str) -> Result<(bool, String, u16), String> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("mqtt://") {
        (false, r)
    } else if let Some(r) = url.strip_prefix("mqtts://") {
        (true, r)
    } else {
        return Err(format!(
            "--url must start with mqtt:// or mqtts://, got {url:?}"
        ));
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, number("--url port", p)?),
        None => (rest, if tls { 8883 } else { 1883 }),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err("--url has no host".into());
    }
    Ok((tls, host.to_string(), port))
}

fn parse_args(argv: &[String]) -> Result<Args, String> {
    let mut it = argv.iter();
    let mut url = None;
    let (mut ca, mut client_id, mut persistent, mut version) =
        (None, None, false, ProtocolVersion::V5);
    let mut positional = Vec::new();
    let (mut qos, mut count, mut message, mut interval_ms, mut timeout) =
        (QoS::AtMostOnce, None, None, 0u64, None);
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--url" => url = Some(value()?),
            "--ca" => ca = Some(value()?),
            "--protocol" => {
                version = match value()?.as_str() {
                    "5" | "5.0" => ProtocolVersion::V5,
                    "3.1.1" | "4" => ProtocolVersion::V3_1_1,
                    other => return Err(format!("--protocol must be 5 or 3.1.1, not {other}")),
                }
            }
            "--client-id" => client_id = Some(value()?),
            "--persistent" => persistent = true,
            "--qos" => qos = parse_qos(&value()?)?,
            "--count" => count = Some(number("--count", &value()?)?),
            "--message" => message = Some(value()?),
            "--interval-ms" => interval_ms = number("--interval-ms", &value()?)?,
            "--timeout" => timeout = Some(Duration::from_secs_f64(number("--timeout", &value()?)?)),
            "-h" | "--help" => return Err(String::new()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            _ => positional.push(a.clone()),
        }
    }
    let (tls, host, port) = parse_url(&url.ok_or("--url is required")?)?;
    match (tls, &ca) {
        (true, None) => {
            return Err(
                "mqtts:// needs --ca FILE (the CA that issued the broker's certificate; \
                 this tool has no system trust store)"
                    .into(),
            );
        }
        (false, Some(_)) => return Err("--ca applies only to mqtts:// URLs".into()),
        _ => {}
    }
    let command = match positional.as_slice() {
        [cmd, topic] if cmd == "pub" => Command::Pub {
            topic: topic.clone(),
            qos,
            count: count.unwrap_or(1),
            message,
            interval: Duration::from_millis(interval_ms),
        },
        [cmd, filter] if cmd == "sub" => Command::Sub {
            filter: filter.clone(),
            qos,
            count,
            timeout,
        },
        _ => return Err("expected `pub TOPIC` or `sub FILTER`".into()),
    };
    Ok(Args {
        host,
        port,
        ca,
        version,
        client_id,
        persistent,
        command,
    })
}

/// The client over any connector: plain TCP, or verified TLS for `mqtts://`.
type Cli<'a, C> = Client<'a, C, RamQueue<'a>, HostDelay, HostClock, HostEntropy>;

/// Why reconnecting cannot help (a TLS certificate failure), if that is the case.
type Fatal<'f> = &'f dyn Fn() -> Option<String>;

/// Reports a connection event; false when the tool must give up.
fn report(ev: &Event<'_>, fatal: Fatal<'_>) -> bool {
    match ev {
        Event::Connected { session_present } => {
            eprintln!("mqtt: connected (session present: {session_present})")
        }
        Event::ConnectFailed(f) => {
            if let Some(reason) = fatal() {
                eprintln!("mqtt: connect failed: {reason}");
                return false;
            }
            eprintln!("mqtt: connect failed: {f:?}; retrying")
        }
        Event::Disconnected(r) => eprintln!("mqtt: disconnected: {r:?}; reconnecting"),
        _ => {}
    }
    true
}

async fn run_pub<C: Connector>(
    c: &mut Cli<'_, C>,
    topic: &str,
    qos: QoS,
    count: u64,
    message: Option<&str>,
    interval: Duration,
    fatal: Fatal<'_>,
) -> bool {
    let opts = PublishOptions::default();
    let (mut next, mut acked, mut failed) = (0u64, 0u64, 0u64);
    let mut next_at = Instant::now();
    let acks_wanted = if qos == QoS::AtMostOnce { 0 } else { count };
    loop {
        let all_sent = next >= count;
        if all_sent && acked + failed >= acks_wanted && c.is_idle() {
            break;
        }
        if !all_sent && Instant::now() >= next_at {
            let payload = message.map_or_else(|| next.to_string(), str::to_string);
            match c.publish(topic, payload.as_bytes(), qos, &opts).await {
                Ok(sent @ (Publication::Sent { .. } | Publication::Queued)) => {
                    next += 1;
                    next_at = Instant::now() + interval;
                    if matches!(sent, Publication::Sent { .. }) && interval.is_zero() {
                        continue;
                    }
                }
                // The message is in flight or queued; it goes out after the reconnect.
                Err(Error::ConnectionLost) => {
                    next += 1;
                    next_at = Instant::now() + interval;
                }
                // Full: wait for acknowledgements below.
                Err(Error::QueueFull) | Ok(Publication::Discarded) => {}
                Err(e) => {
                    eprintln!("mqtt: publish failed: {e:?}");
                    return false;
                }
            }
        }
        let until_next = next_at
            .saturating_duration_since(Instant::now())
            .as_millis();
        let wait_ms = if all_sent {
            1000
        } else {
            until_next.clamp(1, 1000) as u32
        };
        match c.poll_timeout(wait_ms).await {
            Ok(Some(Event::Published { reason, packet_id })) => {
                if reason.is_success() {
                    acked += 1;
                } else {
                    eprintln!(
                        "mqtt: publish {packet_id} refused: reason 0x{:02X}",
                        reason.0
                    );
                    failed += 1;
                }
            }
            Ok(Some(ev)) => {
                if !report(&ev, fatal) {
                    return false;
                }
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("mqtt: {e:?}");
                return false;
            }
        }
    }
    c.disconnect().await;
    eprintln!("mqtt: {count} published, {acked} acknowledged, {failed} refused");
    failed == 0
}

async fn run_sub<C: Connector>(
    c: &mut Cli<'_, C>,
    filter: &str,
    qos: QoS,
    count: Option<u64>,
    timeout: Option<Duration>,
    persistent: bool,
    fatal: Fatal<'_>,
) -> bool {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut received = 0u64;
    let mut stdout = std::io::stdout().lock();
    let subs = [Subscription {
        filter,
        options: SubscribeOptions::qos(qos),
    }];
    let mut pending_subscribe = false;
    while count.is_none_or(|n| received < n) {
        if pending_subscribe {
            match c.subscribe(&subs, Default::default()).await {
                Ok(_) => pending_subscribe = false,
                Err(e) => eprintln!("mqtt: subscribe: {e:?}"),
            }
        }
        let wait_ms = match deadline {
            Some(d) if Instant::now() >= d => {
                eprintln!("mqtt: timeout after {received} messages");
                return false;
            }
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .as_millis()
                .clamp(1, 1000) as u32,
            None => 1000,
        };
        match c.poll_timeout(wait_ms).await {
            Ok(Some(Event::Message(m))) => {
                received += 1;
                let ok = stdout
                    .write_all(m.payload)
                    .and_then(|()| stdout.write_all(b"\n"))
                    .and_then(|()| stdout.flush());
                if ok.is_err() {
                    return false;
                }
            }
            Ok(Some(Event::Subscribed(ack))) => {
                if ack.reason_codes.iter().any(|&r| r >= 0x80) {
                    eprintln!("mqtt: subscription refused: {:02X?}", ack.reason_codes);
                    return false;
                }
            }
            Ok(Some(ev)) => {
                if !report(&ev, fatal) {
                    return false;
                }
                if let Event::Connected { session_present } = ev {
                    // A resumed persistent session keeps its subscriptions; otherwise
                    // (first connect, or the broker lost the session) subscribe.
                    pending_subscribe = !(persistent && session_present);
                }
            }
            Ok(None) => {}
            Err(e) => {
                eprintln!("mqtt: {e:?}");
                return false;
            }
        }
    }
    c.disconnect().await;
    true
}

/// Runs the command over plain TCP, or over verified TLS when `ca` (the `--ca` file's
/// contents) is given.
async fn run(args: Args, ca: Option<Vec<u8>>) -> bool {
    let net = TokioNet;
    let host = args.host.clone();
    let tcp = TcpConnector::new(&net, &net, &host, args.port);
    match ca {
        None => run_with(&tcp, args, &|| None).await,
        Some(ca) => run_tls(tcp, &host, &ca, args).await,
    }
}

async fn run_tls(
    tcp: TcpConnector<'_, TokioNet, TokioNet>,
    host: &str,
    ca: &[u8],
    args: Args,
) -> bool {
    use ioto_transport::tls::{READ_BUF_FULL, TlsBuffers, TlsError, TlsMqttConnector};
    let (mut read, mut write) = (vec![0u8; READ_BUF_FULL], vec![0u8; 4096]);
    let buffers = TlsBuffers::new(&mut read, &mut write);
    let connector = TlsMqttConnector::new(
        tcp,
        &buffers,
        ca,
        host,
        rand_core::OsRng,
        ioto_board_host::platform::unix_time,
    );
    let fatal = || {
        connector
            .last_error()
            .filter(TlsError::is_verification_failure)
            .map(|e| format!("TLS: {e}"))
    };
    run_with(&connector, args, &fatal).await
}

async fn run_with<C: Connector>(connector: &C, args: Args, fatal: Fatal<'_>) -> bool {
    let random_id;
    let client_id = match &args.client_id {
        Some(id) => id.as_str(),
        None => {
            random_id = format!("ioto-{:08x}", HostEntropy::default().next_u32());
            &random_id
        }
    };
    let mut cfg = ClientConfig::new(args.version, client_id);
    cfg.keep_alive_secs = 30;
    cfg.ping_timeout_ms = 5_000;
    cfg.connect_timeout_ms = 5_000;
    cfg.backoff = Backoff {
        base_ms: 100,
        max_ms: 5_000,
    };
    if args.persistent {
        cfg.session = SessionMode::Persistent {
            expiry_secs: 86_400,
        };
    }
    let (mut rx, mut tx, mut inflight, mut ids, mut queue) = (
        vec![0u8; 64 * 1024],
        vec![0u8; 64 * 1024],
        vec![0u8; 256 * 1024],
        vec![0u16; 64],
        vec![0u8; 1024 * 1024],
    );
    let buffers = Buffers {
        rx: &mut rx,
        tx: &mut tx,
        inflight: &mut inflight,
        incoming_qos2: &mut ids,
    };
    let queue = OfflineQueue::new(RamQueue::new(&mut queue, 100_000), QueuePolicy::Reject);
    let mut client = Client::new(
        cfg,
        connector,
        buffers,
        queue,
        HostDelay,
        HostClock::new(),
        HostEntropy::default(),
    );
    match args.command {
        Command::Pub {
            topic,
            qos,
            count,
            message,
            interval,
        } => {
            run_pub(
                &mut client,
                &topic,
                qos,
                count,
                message.as_deref(),
                interval,
                fatal,
            )
            .await
        }
        Command::Sub {
            filter,
            qos,
            count,
            timeout,
        } => {
            run_sub(
                &mut client,
                &filter,
                qos,
                count,
                timeout,
                args.persistent,
                fatal,
            )
            .await
        }
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&argv) {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("mqtt: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let ca = match &args.ca {
        None => None,
        Some(path) => match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                eprintln!("mqtt: cannot read --ca {path}: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mqtt: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if rt.block_on(run(args, ca)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
