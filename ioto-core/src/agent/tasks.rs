//! The uplink and advisor tasks.

use embassy_sync::blocking_mutex::raw::RawMutex;
use embedded_hal_async::delay::DelayNs;

use super::documents;
use super::records::{self, RecordKind};
use super::{Agent, RECORD_MAX};
use crate::Entropy;
use crate::advisor::Advisor;
use crate::backoff::Backoff;
use crate::device::{Command, TOOLS};
use crate::outbox::Outbox;
use crate::state::{DeltaOutcome, KeyOutcome, parse_delta};
use crate::time::{Clock, Instant};
use crate::uplink::{Delivery, Message, Uplink, UplinkEvent};

/// Bytes before an escalation's context: when it was queued (sensor time, µs, LE).
pub(super) const ESCALATION_HEADER: usize = 8;

/// How long the uplink task waits for the link per poll.
const POLL_MS: u32 = 50;

/// A record sent and waiting for its acknowledgement.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    ticket: u32,
    kind: RecordKind,
    bytes: u64,
    sent_at: Instant,
    /// The connection it went out on (counted by `Disconnected` events).
    link: u32,
}

impl<M: RawMutex, O: Outbox, E: Outbox> Agent<'_, M, O, E> {
    /// The uplink task: sends the outbox in order, one record at a time, and removes
    /// a record only once the broker acknowledged it; passes incoming messages to
    /// `on_message` (which may return a command for the edge task, e.g. from a
    /// desired-state delta). After [`Agent::stop`] it keeps sending until the outbox
    /// is empty or `drain_deadline` (on `clock`) has passed.
    pub async fn run_uplink<U: Uplink, C: Clock>(
        &self,
        uplink: &mut U,
        clock: &C,
        drain_ms: u64,
        mut on_message: impl FnMut(&str, &[u8], &mut [Option<Command>; 4]),
    ) {
        let mut buf = [0u8; RECORD_MAX];
        let mut in_flight: Option<InFlight> = None;
        let mut deadline: Option<Instant> = None;
        let mut link = 0u32;
        loop {
            let now = clock.now();
            let (stopping, edge_done, advising) =
                self.with_status(|s| (s.stopping, s.edge_done, s.advisor_running));
            if stopping && edge_done && !advising {
                let d = *deadline.get_or_insert(Instant(now.0.saturating_add(drain_ms * 1_000)));
                let empty = in_flight.is_none() && self.outbox.lock().await.is_empty();
                if empty || now >= d {
                    return;
                }
            }
            if let Some(f) = in_flight
                && now.micros_since(f.sent_at) > u64::from(self.config.ack_timeout_ms) * 1_000
            {
                // Never acknowledged (a broker that lost the session): send it again.
                in_flight = None;
            }
            if in_flight.is_none() && uplink.is_connected() {
                in_flight = self.send_front(uplink, &mut buf, now, link).await;
            }
            let mut cmds = [None; 4];
            match uplink.poll(POLL_MS).await {
                Ok(Some(UplinkEvent::Connected)) => {
                    self.with_status(|s| s.online = true);
                    // A record sent on an earlier connection may never be acknowledged
                    // on this one: send it again now (at least once).
                    if in_flight.is_some_and(|f| f.link != link) {
                        in_flight = None;
                    }
                }
                Ok(Some(UplinkEvent::Disconnected)) => {
                    self.with_status(|s| s.online = false);
                    link = link.wrapping_add(1);
                }
                Ok(Some(UplinkEvent::Delivered(t))) => {
                    if let Some(f) = in_flight.filter(|f| f.ticket == t) {
                        in_flight = None;
                        let _ = self.outbox.lock().await.pop().await;
                        self.count(|m| {
                            m.delivered = m.delivered.saturating_add(1);
                            let k = &mut m.delivered_by_kind[f.kind as usize - 1];
                            *k = k.saturating_add(1);
                            m.sent_bytes = m.sent_bytes.saturating_add(f.bytes);
                        });
                    }
                }
                Ok(Some(UplinkEvent::Refused(t))) => {
                    if in_flight.is_some_and(|f| f.ticket == t) {
                        in_flight = None;
                        let _ = self.outbox.lock().await.pop().await;
                        self.count(|m| m.drops = m.drops.saturating_add(1));
                    }
                }
                Ok(Some(UplinkEvent::Command { topic, payload })) => {
                    if topic == self.config.topics.delta {
                        self.on_delta(payload, &mut cmds);
                    } else {
                        on_message(topic, payload, &mut cmds);
                    }
                }
                // Nothing happened: let the other tasks run even if this uplink
                // answered without waiting (a link that never blocks must not
                // starve the sensing and edge tasks on a single-threaded executor).
                Ok(None) | Err(_) => embassy_futures::yield_now().await,
            }
            self.with_status(|s| s.online = uplink.is_connected());
            for c in cmds.into_iter().flatten() {
                self.hand_over(c);
            }
        }
    }

    /// Gives a command to the edge task without waiting: when its channel is full
    /// (or the edge task has finished) the command is refused and counted.
    fn hand_over(&self, command: Command) {
        if self.with_status(|s| s.edge_done) || self.commands.try_send(command).is_err() {
            self.count(|m| m.commands_rejected = m.commands_rejected.saturating_add(1));
        }
    }

    /// A desired-state delta: every key through the device's limits (the same
    /// check as a model's tool call), then to the edge task as commands.
    fn on_delta(&self, payload: &[u8], cmds: &mut [Option<Command>; 4]) {
        let Ok(delta) = parse_delta(payload) else {
            self.count(|m| m.commands_rejected = m.commands_rejected.saturating_add(1));
            return;
        };
        let limits = self.config.limits;
        self.state.lock(|st| {
            if let DeltaOutcome::Applied(report) = st.borrow_mut().apply_delta(&delta, &limits) {
                let rejected = report
                    .iter()
                    .filter(|r| !matches!(r.outcome, KeyOutcome::Applied(_)))
                    .count();
                self.count(|m| {
                    m.commands_rejected = m.commands_rejected.saturating_add(rejected as u64);
                });
                for (slot, c) in cmds.iter_mut().zip(report.commands()) {
                    *slot = Some(c);
                }
            }
        });
        self.with_status(|s| s.state_dirty = true);
    }

    /// Publishes the outbox's oldest record; `Some` when an acknowledgement will follow.
    async fn send_front<U: Uplink>(
        &self,
        uplink: &mut U,
        buf: &mut [u8; RECORD_MAX],
        now: Instant,
        link: u32,
    ) -> Option<InFlight> {
        let len = {
            let mut q = self.outbox.lock().await;
            match q.front(buf).await {
                Ok(Some(n)) if n <= buf.len() => n,
                Ok(Some(_)) => {
                    // Longer than any record this agent writes: not ours, drop it.
                    let _ = q.pop().await;
                    self.count(|m| m.drops = m.drops.saturating_add(1));
                    return None;
                }
                _ => return None,
            }
        };
        let Some((kind, payload)) = records::split(&buf[..len]) else {
            let _ = self.outbox.lock().await.pop().await;
            self.count(|m| m.drops = m.drops.saturating_add(1));
            return None;
        };
        let topic = self.config.topics.of(kind);
        let msg = Message {
            topic,
            payload,
            delivery: Delivery::AtLeastOnce,
            retain: kind.retained(),
        };
        let bytes = (topic.len() + payload.len()) as u64;
        match uplink.publish(&msg).await {
            Ok(Some(ticket)) => Some(InFlight {
                ticket,
                kind,
                bytes,
                sent_at: now,
                link,
            }),
            Ok(None) => {
                // Accepted without a ticket (queued by the link itself): it will go out.
                let _ = self.outbox.lock().await.pop().await;
                self.count(|m| m.sent_bytes = m.sent_bytes.saturating_add(bytes));
                None
            }
            Err(_) => None,
        }
    }

    /// The advisor task: asks `advisor` about each queued escalation (oldest first)
    /// while the policy's budget allows, retries failures after a jittered
    /// [`Backoff`], drops an escalation after `escalation_attempts` failures or when
    /// older than `escalation_ttl_s`, and hands the answer's commands to the edge task.
    pub async fn run_advisor<A: Advisor, D: DelayNs, R: Entropy>(
        &self,
        advisor: &mut A,
        delay: &mut D,
        entropy: &mut R,
        backoff: Backoff,
    ) {
        let mut buf = [0u8; RECORD_MAX];
        let mut attempt = 0u32;
        self.with_status(|s| s.advisor_running = true);
        loop {
            if self.with_status(|s| s.stopping) {
                self.with_status(|s| s.advisor_running = false);
                return;
            }
            let len = {
                let mut q = self.escalations.lock().await;
                match q.read_front(&mut buf).await {
                    Ok(Some(n)) if (ESCALATION_HEADER..=buf.len()).contains(&n) => Some(n),
                    Ok(Some(_)) => {
                        let _ = q.pop_front().await;
                        None
                    }
                    _ => None,
                }
            };
            let Some(len) = len else {
                delay.delay_ms(POLL_MS).await;
                continue;
            };
            let mut at = [0u8; ESCALATION_HEADER];
            at.copy_from_slice(&buf[..ESCALATION_HEADER]);
            let queued = Instant(u64::from_le_bytes(at));
            let sensor_now = self.with_status(|s| s.sensor_now);
            let expired = sensor_now.micros_since(queued)
                > u64::from(self.config.escalation_ttl_s) * 1_000_000;
            let context = core::str::from_utf8(&buf[ESCALATION_HEADER..len]).unwrap_or("{}");
            let reserved = if expired {
                None
            } else {
                self.policy
                    .lock(|p| p.borrow_mut().reserve_escalation(sensor_now).ok())
            };
            let Some(reserved) = reserved else {
                // Over budget (or expired): this one is dropped, the next may fit later.
                let _ = self.escalations.lock().await.pop_front().await;
                self.count(|m| m.escalation_failures = m.escalation_failures.saturating_add(1));
                continue;
            };
            match advisor.advise(context, &TOOLS).await {
                Ok(advice) => {
                    attempt = 0;
                    self.policy
                        .lock(|p| p.borrow_mut().settle(reserved, advice.tokens));
                    let _ = self.escalations.lock().await.pop_front().await;
                    self.count(|m| m.escalations = m.escalations.saturating_add(1));
                    let mut rec = [0u8; RECORD_MAX];
                    let device = self.config.device;
                    self.record(RecordKind::Advice, &mut rec, |b| {
                        documents::advice(b, device, &advice)
                    })
                    .await;
                    for c in advice.commands() {
                        self.hand_over(*c);
                    }
                }
                Err(_) => {
                    self.policy.lock(|p| p.borrow_mut().settle(reserved, 0));
                    self.count(|m| m.escalation_failures = m.escalation_failures.saturating_add(1));
                    attempt += 1;
                    if attempt >= self.config.escalation_attempts.max(1) {
                        attempt = 0;
                        let _ = self.escalations.lock().await.pop_front().await;
                        continue;
                    }
                    // Wait in short steps, so a stop is not held up by a long backoff.
                    let mut wait = backoff.delay_ms(attempt - 1, entropy.next_u32());
                    while wait > 0 && !self.with_status(|s| s.stopping) {
                        let step = wait.min(POLL_MS);
                        delay.delay_ms(step).await;
                        wait -= step;
                    }
                }
            }
        }
    }
}
