//! The client's protocol state, kept apart from I/O the way smoltcp's TCP socket and
//! rumqttc's `MqttState` keep theirs: where the connection is ([`State`]), the
//! broker's limits, keep-alive timers, packet ids, bound topic aliases and the two QoS
//! stores. Nothing here reads, writes or waits: methods take the time as an argument
//! and say what to send or report; `handshake.rs`, `inbound.rs`, `outbound.rs` and
//! `poll.rs` do the I/O around them.

use super::config::{ConnectFailure, DisconnectReason, Stats};
use super::inflight::{InFlight, IncomingQos2};
use crate::mqtt::types::ReasonCode;
use ioto_core::Instant;
use ioto_core::backoff::Backoff;

/// Packet id written into queued QoS 1/2 publishes; replaced when they are sent.
pub(super) const PLACEHOLDER_ID: u16 = 0xFFFF;

/// Where the connection is. The client matches on this instead of keeping separate
/// flags; every transition is in this file or names the state it leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// No connection. The next attempt is due at `retry_at`; `attempt` attempts failed
    /// in a row (it scales the backoff).
    Disconnected {
        /// Failed attempts in a row.
        attempt: u32,
        /// When the next attempt may start.
        retry_at: Instant,
    },
    /// An attempt is under way: connect, CONNECT / CONNACK, then re-sending the
    /// in-flight store. A poll that finds this state was cancelled in the middle.
    Connecting {
        /// Failed attempts before this one.
        attempt: u32,
    },
    /// Up: publishes go out directly, incoming messages are delivered.
    Connected,
    /// `disconnect` is settling open QoS 1/2 handshakes: new messages are neither
    /// acknowledged nor delivered, finished publishes are kept for the next poll.
    Disconnecting,
    /// The connection broke (the first reason is kept); the next poll drops it and
    /// reports [`Ready::Disconnected`].
    Lost(DisconnectReason),
}

/// What a step of the client produced; copied out so the receive buffer can be
/// borrowed afresh for the event.
#[derive(Clone, Copy, Debug)]
pub(super) enum Ready {
    /// CONNACK accepted (session present).
    Connected(bool),
    /// An attempt failed.
    ConnectFailed(ConnectFailure),
    /// The connection ended.
    Disconnected(DisconnectReason),
    /// An outgoing publish finished (or was refused).
    Published(u16, ReasonCode),
    /// A PUBLISH, SUBACK or UNSUBACK of this length at the start of the receive buffer.
    Packet(usize),
}

/// What the broker told us in CONNACK.
#[derive(Clone, Copy, Debug)]
pub(super) struct ServerLimits {
    /// Receive maximum: QoS 1/2 publishes it takes in flight.
    pub receive_max: u16,
    /// Maximum packet size.
    pub max_packet: u32,
    /// Topic alias maximum.
    pub topic_alias_max: u16,
}

impl ServerLimits {
    /// Before CONNACK, and for what CONNACK leaves out.
    pub const DEFAULT: ServerLimits = ServerLimits {
        receive_max: u16::MAX,
        max_packet: u32::MAX,
        topic_alias_max: 0,
    };

    /// True when a packet of `len` bytes is within the broker's maximum packet size.
    pub fn allows(&self, len: usize) -> bool {
        len as u64 <= u64::from(self.max_packet)
    }
}

/// What the keep-alive timer asks for now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KeepAlive {
    /// Nothing is due for this many microseconds (`None`: no deadline).
    Wait(Option<u64>),
    /// Send PINGREQ.
    Ping,
    /// A PINGREQ went unanswered for the ping timeout: the connection is dead.
    Dead,
}

/// The protocol state of one client (see the [module documentation](self)).
#[derive(Debug)]
pub(super) struct Session<'a> {
    /// Where the connection is.
    pub state: State,
    /// Outgoing QoS 1/2 publishes not yet fully acknowledged.
    pub inflight: InFlight<'a>,
    /// Incoming QoS 2 packet ids awaiting PUBREL.
    pub incoming: IncomingQos2<'a>,
    /// The broker's limits on this connection.
    pub server: ServerLimits,
    /// Keep-alive in force (the broker's Server Keep Alive, else ours), seconds.
    pub keep_alive_secs: u16,
    /// Last packet written.
    pub last_tx: Instant,
    /// Last bytes read.
    pub last_rx: Instant,
    /// When the unanswered PINGREQ went out.
    pub ping_sent: Option<Instant>,
    /// Diagnostic counters.
    pub stats: Stats,
    /// Bit n-1 set: outgoing topic alias n (1..=64) is bound on this connection.
    aliases_bound: u64,
    next_packet_id: u16,
}

impl<'a> Session<'a> {
    /// A session that connects at once.
    pub fn new(
        inflight: InFlight<'a>,
        incoming: IncomingQos2<'a>,
        keep_alive_secs: u16,
        now: Instant,
    ) -> Self {
        Session {
            state: State::Disconnected {
                attempt: 0,
                retry_at: now,
            },
            inflight,
            incoming,
            server: ServerLimits::DEFAULT,
            keep_alive_secs,
            last_tx: now,
            last_rx: now,
            ping_sent: None,
            stats: Stats::default(),
            aliases_bound: 0,
            next_packet_id: 0,
        }
    }

    /// The connection broke for `reason`. The first reason wins; without a
    /// connection (or one that is already lost) nothing changes.
    pub fn lose(&mut self, reason: DisconnectReason) {
        if matches!(
            self.state,
            State::Connecting { .. } | State::Connected | State::Disconnecting
        ) {
            self.state = State::Lost(reason);
        }
    }

    /// Failed attempts in a row so far (0 once connected).
    pub fn attempt(&self) -> u32 {
        match self.state {
            State::Disconnected { attempt, .. } | State::Connecting { attempt } => attempt,
            _ => 0,
        }
    }

    /// The attempt failed or the connection ended: the next one waits the backoff
    /// (`random` draws the jitter).
    pub fn schedule_retry(&mut self, backoff: &Backoff, random: u32, now: Instant) {
        let attempt = self.attempt();
        let wait_ms = backoff.delay_ms(attempt, random);
        self.state = State::Disconnected {
            attempt: attempt.saturating_add(1),
            retry_at: Instant(now.0 + u64::from(wait_ms) * 1_000),
        };
    }

    /// CONNACK accepted: the broker's limits and keep-alive hold from now on, timers
    /// restart, no alias is bound yet; a new session forgets incoming QoS 2 ids.
    pub fn accepted(
        &mut self,
        server: ServerLimits,
        keep_alive_secs: u16,
        session_present: bool,
        now: Instant,
    ) {
        self.server = server;
        self.keep_alive_secs = keep_alive_secs;
        self.last_tx = now;
        self.last_rx = now;
        self.ping_sent = None;
        self.aliases_bound = 0;
        if !session_present {
            self.incoming.clear();
        }
        self.stats.connects = self.stats.connects.saturating_add(1);
    }

    /// What the keep-alive timer asks for at `now`.
    pub fn keep_alive(&self, now: Instant, ping_timeout_ms: u32) -> KeepAlive {
        let keep_alive_us = u64::from(self.keep_alive_secs) * 1_000_000;
        let deadline = match self.ping_sent {
            Some(sent) => sent.0 + u64::from(ping_timeout_ms) * 1_000,
            None if keep_alive_us > 0 => self.last_tx.min(self.last_rx).0 + keep_alive_us,
            None => return KeepAlive::Wait(None),
        };
        match deadline.checked_sub(now.0) {
            Some(wait) if wait > 0 => KeepAlive::Wait(Some(wait)),
            _ if self.ping_sent.is_some() => KeepAlive::Dead,
            _ => KeepAlive::Ping,
        }
    }

    /// True while another QoS 1/2 publish may go out (ours and the broker's limit).
    pub fn window_open(&self, max_inflight: u16) -> bool {
        let window = max_inflight.min(self.server.receive_max);
        self.inflight.len() < usize::from(window)
    }

    /// A packet id not in flight (never 0 or the queue placeholder).
    pub fn alloc_packet_id(&mut self) -> u16 {
        loop {
            self.next_packet_id = self.next_packet_id.wrapping_add(1);
            let id = self.next_packet_id;
            if id != 0 && id != PLACEHOLDER_ID && !self.inflight.contains(id) {
                return id;
            }
        }
    }

    /// Marks outgoing topic alias `alias` bound; true when it already was (the topic
    /// name can then be left out).
    pub fn bind_alias(&mut self, alias: u16) -> bool {
        let bit = 1u64
            .checked_shl(u32::from(alias).wrapping_sub(1))
            .unwrap_or(0);
        let bound = self.aliases_bound & bit != 0;
        self.aliases_bound |= bit;
        bound
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    fn session<'a>(store: &'a mut [u8], ids: &'a mut [u16]) -> Session<'a> {
        Session::new(InFlight::new(store), IncomingQos2::new(ids), 10, Instant(0))
    }

    #[test]
    fn losing_keeps_the_first_reason_and_needs_a_connection() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 2]);
        let mut s = session(&mut store, &mut ids);
        s.lose(DisconnectReason::Closed);
        assert!(matches!(s.state, State::Disconnected { .. }));
        s.state = State::Connected;
        s.lose(DisconnectReason::WriteTimeout);
        s.lose(DisconnectReason::Closed);
        assert_eq!(s.state, State::Lost(DisconnectReason::WriteTimeout));
    }

    #[test]
    fn retries_count_failed_attempts_and_reset_once_connected() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 2]);
        let mut s = session(&mut store, &mut ids);
        let backoff = Backoff {
            base_ms: 100,
            max_ms: 1_000,
        };
        s.state = State::Connecting { attempt: 3 };
        s.schedule_retry(&backoff, u32::MAX, Instant(5_000));
        let State::Disconnected { attempt, retry_at } = s.state else {
            panic!("{:?}", s.state);
        };
        assert_eq!(attempt, 4);
        let wait_us = u64::from(backoff.delay_ms(3, u32::MAX)) * 1_000;
        assert_eq!(retry_at, Instant(5_000 + wait_us));
        s.state = State::Connected;
        assert_eq!(s.attempt(), 0);
    }

    #[test]
    fn keep_alive_pings_then_declares_the_connection_dead() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 2]);
        let mut s = session(&mut store, &mut ids);
        assert_eq!(
            s.keep_alive(Instant(4_000_000), 500),
            KeepAlive::Wait(Some(6_000_000))
        );
        assert_eq!(s.keep_alive(Instant(10_000_000), 500), KeepAlive::Ping);
        s.ping_sent = Some(Instant(10_000_000));
        assert_eq!(
            s.keep_alive(Instant(10_200_000), 500),
            KeepAlive::Wait(Some(300_000))
        );
        assert_eq!(s.keep_alive(Instant(10_500_000), 500), KeepAlive::Dead);
        s.keep_alive_secs = 0;
        s.ping_sent = None;
        assert_eq!(s.keep_alive(Instant(u64::MAX), 500), KeepAlive::Wait(None));
    }

    #[test]
    fn packet_ids_skip_zero_the_placeholder_and_ids_in_flight() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 2]);
        let mut s = session(&mut store, &mut ids);
        s.next_packet_id = PLACEHOLDER_ID - 1;
        assert_eq!(s.alloc_packet_id(), 1);
        let spare = s.inflight.spare();
        spare[..2].copy_from_slice(&[0x32, 0x00]);
        s.inflight.commit(2, 2);
        assert_eq!(s.alloc_packet_id(), 3);
    }

    #[test]
    fn aliases_are_bound_once_and_out_of_range_ones_never() {
        let (mut store, mut ids) = ([0u8; 64], [0u16; 2]);
        let mut s = session(&mut store, &mut ids);
        assert!(!s.bind_alias(1));
        assert!(s.bind_alias(1));
        assert!(!s.bind_alias(64));
        assert!(s.bind_alias(64));
        assert!(!s.bind_alias(65));
        assert!(!s.bind_alias(65));
        assert!(!s.bind_alias(0));
    }
}
