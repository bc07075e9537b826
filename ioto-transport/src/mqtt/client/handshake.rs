//! Connecting: one attempt after the backoff — connect through the [`Connector`],
//! CONNECT, CONNACK, all within the connect timeout — then the re-sending of the
//! in-flight store. What goes into CONNECT and what CONNACK means for the session are
//! plain functions of the configuration and the packet.

use super::Client;
use super::config::{ClientConfig, ConnectFailure, DisconnectReason, SessionMode};
use super::io::{read_some, write_packet};
use super::state::{Ready, ServerLimits, State};
use crate::mqtt::connector::Connector;
use crate::mqtt::packet::{ConnAck, Connect, Packet, decode};
use crate::mqtt::properties::Properties;
use crate::mqtt::wire::DecodeError;
use embassy_futures::select::{Either, select};
use embedded_hal_async::delay::DelayNs;
use ioto_core::{Clock, Entropy, Instant};

/// The CONNECT packet for `cfg`; MQTT 5.0 adds the session expiry, our receive maximum
/// (`receive_max`, the incoming QoS 2 table) and maximum packet size (`max_packet`,
/// the receive buffer).
fn connect_packet<'a>(
    cfg: &ClientConfig<'a>,
    receive_max: usize,
    max_packet: usize,
) -> Connect<'a> {
    let persistent = matches!(cfg.session, SessionMode::Persistent { .. });
    let mut properties = Properties::default();
    if cfg.version.is_v5() {
        if let SessionMode::Persistent { expiry_secs } = cfg.session {
            properties.session_expiry_interval = Some(expiry_secs);
        }
        properties.receive_maximum = Some(receive_max.clamp(1, usize::from(u16::MAX)) as u16);
        properties.maximum_packet_size = u32::try_from(max_packet).ok();
    }
    Connect {
        version: cfg.version,
        client_id: cfg.client_id,
        keep_alive: cfg.keep_alive_secs,
        clean_start: !persistent,
        username: cfg.username,
        password: cfg.password,
        will: cfg.will,
        properties,
    }
}

/// The broker's limits from CONNACK properties (defaults when absent).
fn server_limits(p: &Properties<'_>) -> ServerLimits {
    ServerLimits {
        receive_max: p
            .receive_maximum
            .unwrap_or(ServerLimits::DEFAULT.receive_max)
            .max(1),
        max_packet: p
            .maximum_packet_size
            .unwrap_or(ServerLimits::DEFAULT.max_packet),
        topic_alias_max: p.topic_alias_maximum.unwrap_or(0),
    }
}

/// What an accepted CONNACK tells.
#[derive(Clone, Copy, Debug)]
struct Accepted {
    /// The broker resumed our session.
    session_present: bool,
    /// Its limits on this connection.
    limits: ServerLimits,
    /// Its Server Keep Alive, if it set one.
    keep_alive: Option<u16>,
}

/// The broker's answer to CONNECT, or why it refused.
fn accepted(ack: &ConnAck<'_>) -> Result<Accepted, ConnectFailure> {
    if !ack.accepted() {
        return Err(ConnectFailure::Refused(ack.reason));
    }
    Ok(Accepted {
        session_present: ack.session_present,
        limits: server_limits(&ack.properties),
        keep_alive: ack.properties.server_keep_alive,
    })
}

impl<'a, C: Connector + 'a, Q, D: DelayNs, K: Clock, E: Entropy> Client<'a, C, Q, D, K, E> {
    /// One connection attempt (after the backoff), then the re-send of what is in
    /// flight; [`State::Connected`] only once all of it went out.
    pub(super) async fn connect(&mut self) -> Ready {
        if let State::Disconnected { retry_at, .. } = self.session.state {
            self.link.sleep_until(&self.clock, retry_at).await;
        }
        // Also after a cancelled attempt (`Connecting` without a connection).
        let attempt = self.session.attempt();
        self.session.state = State::Connecting { attempt };
        match self.handshake().await {
            Ok(session_present) => {
                // A failed re-send leaves the state `Lost`: reported by the next poll.
                if self.resend_inflight().await {
                    self.session.state = State::Connected;
                }
                Ready::Connected(session_present)
            }
            Err(f) => {
                self.rx_len = 0;
                let random = self.entropy.next_u32();
                self.session
                    .schedule_retry(&self.cfg.backoff, random, self.clock.now());
                Ready::ConnectFailed(f)
            }
        }
    }

    /// Connect, CONNECT, CONNACK; on success the connection is installed in the link.
    async fn handshake(&mut self) -> Result<bool, ConnectFailure> {
        let timeout_ms = self.cfg.connect_timeout_ms;
        let deadline = Instant(self.clock.now().0 + u64::from(timeout_ms) * 1_000);
        let connector: &'a C = self.connector;
        let mut conn = match select(connector.connect(), self.link.delay.delay_ms(timeout_ms)).await
        {
            Either::First(Ok(c)) => c,
            Either::First(Err(e)) => {
                return Err(ConnectFailure::Connect(embedded_io::Error::kind(&e)));
            }
            Either::Second(()) => return Err(ConnectFailure::Timeout),
        };
        let connect = connect_packet(&self.cfg, self.session.incoming.capacity(), self.rx.len());
        let n = Packet::Connect(connect)
            .encode(self.cfg.version, self.tx)
            .map_err(|_| ConnectFailure::Disconnected(DisconnectReason::PacketTooLarge))?;
        write_packet(&mut conn, &mut self.link.delay, timeout_ms, &self.tx[..n])
            .await
            .map_err(ConnectFailure::Disconnected)?;
        self.rx_len = 0;
        let (ack, ack_len) = loop {
            let protocol = |e| ConnectFailure::Disconnected(DisconnectReason::Protocol(e));
            match decode(&self.rx[..self.rx_len], self.cfg.version).map_err(protocol)? {
                Some((Packet::ConnAck(ack), len)) => break (accepted(&ack)?, len),
                Some(_) => {
                    return Err(protocol(DecodeError::Invalid(
                        "first packet is not CONNACK",
                    )));
                }
                None => {}
            }
            let now = self.clock.now();
            if now >= deadline {
                return Err(ConnectFailure::Timeout);
            }
            let Some(space) = self.rx.get_mut(self.rx_len..).filter(|s| !s.is_empty()) else {
                return Err(ConnectFailure::Disconnected(
                    DisconnectReason::PacketTooLarge,
                ));
            };
            let got = read_some(
                &mut conn,
                &mut self.link.delay,
                deadline.micros_since(now),
                space,
            )
            .await
            .map_err(ConnectFailure::Disconnected)?;
            self.rx_len += got.unwrap_or(0);
        };
        self.consume(ack_len);
        let keep_alive = ack.keep_alive.unwrap_or(self.cfg.keep_alive_secs);
        let now = self.clock.now();
        self.session
            .accepted(ack.limits, keep_alive, ack.session_present, now);
        self.link.install(conn);
        Ok(ack.session_present)
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::mqtt::types::{ProtocolVersion, ReasonCode};

    #[test]
    fn connect_carries_the_session_and_our_limits_only_in_mqtt_5() {
        let mut cfg = ClientConfig::new(ProtocolVersion::V5, "dev");
        cfg.session = SessionMode::Persistent { expiry_secs: 60 };
        let c = connect_packet(&cfg, 100_000, 2048);
        assert!(!c.clean_start);
        assert_eq!(c.properties.session_expiry_interval, Some(60));
        assert_eq!(c.properties.receive_maximum, Some(u16::MAX));
        assert_eq!(c.properties.maximum_packet_size, Some(2048));
        assert_eq!(
            connect_packet(&cfg, 0, 2048).properties.receive_maximum,
            Some(1)
        );
        cfg.version = ProtocolVersion::V3_1_1;
        cfg.session = SessionMode::Clean;
        let c = connect_packet(&cfg, 4, 2048);
        assert!(c.clean_start);
        assert_eq!(c.properties, Properties::default());
    }

    #[test]
    fn connack_limits_default_when_absent_and_refusals_are_typed() {
        let mut ack = ConnAck {
            session_present: true,
            reason: ReasonCode::SUCCESS,
            properties: Properties::default(),
        };
        let Ok(a) = accepted(&ack) else {
            panic!("accepted CONNACK refused");
        };
        assert_eq!((a.session_present, a.keep_alive), (true, None));
        assert_eq!(a.limits.receive_max, u16::MAX);
        assert_eq!(a.limits.max_packet, u32::MAX);
        assert_eq!(a.limits.topic_alias_max, 0);
        ack.properties.receive_maximum = Some(0);
        ack.properties.maximum_packet_size = Some(300);
        ack.properties.server_keep_alive = Some(20);
        let Ok(a) = accepted(&ack) else {
            panic!("accepted CONNACK refused");
        };
        let limits = a.limits;
        assert_eq!(
            (limits.receive_max, limits.max_packet, a.keep_alive),
            (1, 300, Some(20))
        );
        ack.reason = ReasonCode(0x87);
        assert_eq!(
            accepted(&ack).map(|_| ()),
            Err(ConnectFailure::Refused(ReasonCode(0x87)))
        );
    }
}
