//! [`Uplink`]: the device's message link to the cloud — publish telemetry and events,
//! receive commands. `ioto-transport` implements it over its MQTT client
//! (`ioto_transport::uplink::MqttUplink`).
//!
//! The contract is the one the agent needs to lose nothing: a record leaves the
//! [`Outbox`](crate::outbox::Outbox) only after the uplink reported it
//! [`UplinkEvent::Delivered`] (the broker's acknowledgement), so a reset between the
//! publish and the acknowledgement sends it again (at least once, in order).

/// Delivery guarantee asked for one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Delivery {
    /// Fire and forget (MQTT QoS 0): no acknowledgement follows.
    AtMostOnce,
    /// Acknowledged by the broker (MQTT QoS 1): an [`UplinkEvent::Delivered`] follows.
    AtLeastOnce,
}

/// One outgoing message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// Topic (MQTT) or path the message goes to.
    pub topic: &'a str,
    /// The bytes to send.
    pub payload: &'a [u8],
    /// Delivery guarantee.
    pub delivery: Delivery,
    /// Whether the broker keeps it as the topic's last value (device state,
    /// discovery documents).
    pub retain: bool,
}

/// What the uplink reports from [`Uplink::poll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UplinkEvent<'a> {
    /// The link is (again) up; subscriptions are in place.
    Connected,
    /// The link went down; it reconnects by itself (with [`crate::backoff::Backoff`]).
    Disconnected,
    /// The broker acknowledged the message whose ticket [`Uplink::publish`] returned.
    Delivered(u32),
    /// The broker refused the message with this ticket (an MQTT 5.0 reason code of
    /// 0x80 or more): sending it again would not help.
    Refused(u32),
    /// A message arrived on a subscribed topic.
    Command {
        /// The topic it arrived on.
        topic: &'a str,
        /// Its bytes.
        payload: &'a [u8],
    },
}

/// A message link: publish, and poll for what happened. Subscriptions are the
/// adapter's configuration (it renews them after every reconnect).
#[allow(async_fn_in_trait)]
pub trait Uplink {
    /// Link failure (not connected, message too large, I/O...).
    type Error: core::fmt::Debug;

    /// Sends `message` now. For [`Delivery::AtLeastOnce`] returns a ticket that a later
    /// [`UplinkEvent::Delivered`] carries; `None` for fire-and-forget. Fails (storing
    /// nothing) while disconnected: the caller's outbox keeps the record.
    async fn publish(&mut self, message: &Message<'_>) -> Result<Option<u32>, Self::Error>;

    /// Does the link's I/O (reconnect, keep-alive, reading) for at most `max_wait_ms`
    /// and returns the first event, or `None` when the time passed without one.
    async fn poll(&mut self, max_wait_ms: u32) -> Result<Option<UplinkEvent<'_>>, Self::Error>;

    /// True while connected.
    fn is_connected(&self) -> bool;
}
