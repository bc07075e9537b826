//! [`MqttUplink`]: ioto-core's [`Uplink`] port over this crate's MQTT [`Client`].
//!
//! Publishes go out only while connected (the agent's [`Outbox`] holds records until
//! then, so nothing sits in two queues); a QoS 1 publish returns a ticket that the
//! matching PUBACK reports as [`UplinkEvent::Delivered`]. The adapter subscribes to
//! its command filters after every connect whose session the broker did not keep.

use crate::mqtt::client::{Client, Error, Event, Publication, PublishOptions};
use crate::mqtt::connector::Connector;
use crate::mqtt::packet::{QoS, SubscribeOptions, Subscription};
use crate::mqtt::properties::Properties;
use embedded_hal_async::delay::DelayNs;
use ioto_core::outbox::Outbox;
use ioto_core::uplink::{Delivery, Message, Uplink, UplinkEvent};
use ioto_core::{Clock, Entropy};

/// Most command filters one uplink subscribes to.
pub const MAX_FILTERS: usize = 4;

/// The MQTT client as an [`Uplink`].
pub struct MqttUplink<'a, C, Q, D, K, E>
where
    C: Connector,
{
    client: Client<'a, C, Q, D, K, E>,
    filters: &'a [&'a str],
    resubscribe: bool,
}

impl<C, Q, D, K, E> core::fmt::Debug for MqttUplink<'_, C, Q, D, K, E>
where
    C: Connector,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MqttUplink")
            .field("filters", &self.filters)
            .finish_non_exhaustive()
    }
}

impl<'a, C: Connector, Q, D, K, E> MqttUplink<'a, C, Q, D, K, E> {
    /// Wraps `client`; `filters` (at most [`MAX_FILTERS`]) are subscribed with QoS 1
    /// after every connect.
    pub fn new(client: Client<'a, C, Q, D, K, E>, filters: &'a [&'a str]) -> Self {
        let filters = &filters[..filters.len().min(MAX_FILTERS)];
        Self {
            client,
            filters,
            resubscribe: false,
        }
    }

    /// The client (statistics, queue depth, disconnect).
    pub fn client(&mut self) -> &mut Client<'a, C, Q, D, K, E> {
        &mut self.client
    }

    /// The command filters as QoS 1 subscriptions (the first `filters.len()` entries).
    fn subscriptions(&self) -> [Subscription<'a>; MAX_FILTERS] {
        let one = |filter| Subscription {
            filter,
            options: SubscribeOptions::qos(QoS::AtLeastOnce),
        };
        let mut subs = [one(""); MAX_FILTERS];
        for (s, f) in subs.iter_mut().zip(self.filters) {
            *s = one(f);
        }
        subs
    }
}

impl<'a, C, Q, D, K, E> Uplink for MqttUplink<'a, C, Q, D, K, E>
where
    C: Connector + 'a,
    Q: Outbox,
    D: DelayNs,
    K: Clock,
    E: Entropy,
{
    type Error = Error;

    async fn publish(&mut self, message: &Message<'_>) -> Result<Option<u32>, Error> {
        if !self.client.is_connected() {
            return Err(Error::NotConnected);
        }
        let qos = match message.delivery {
            Delivery::AtMostOnce => QoS::AtMostOnce,
            Delivery::AtLeastOnce => QoS::AtLeastOnce,
        };
        let opts = PublishOptions {
            retain: message.retain,
            ..PublishOptions::default()
        };
        match self
            .client
            .publish(message.topic, message.payload, qos, &opts)
            .await?
        {
            Publication::Sent { packet_id } if qos == QoS::AtLeastOnce => {
                Ok(Some(u32::from(packet_id)))
            }
            Publication::Sent { .. } => Ok(None),
            // Queued behind earlier publishes (window full): its id is assigned when
            // it goes out, so no ticket; the caller's record stays in its outbox and
            // is sent again (at least once).
            Publication::Queued | Publication::Discarded => Ok(None),
        }
    }

    async fn poll(&mut self, max_wait_ms: u32) -> Result<Option<UplinkEvent<'_>>, Error> {
        if self.resubscribe && self.client.is_connected() {
            if !self.filters.is_empty() {
                let subs = self.subscriptions();
                let subs = &subs[..self.filters.len()];
                self.client.subscribe(subs, Properties::default()).await?;
            }
            self.resubscribe = false;
        }
        Ok(match self.client.poll_timeout(max_wait_ms).await? {
            None => None,
            Some(Event::Connected { session_present }) => {
                // Subscribed on the next poll: the event borrows the client.
                self.resubscribe = !session_present;
                Some(UplinkEvent::Connected)
            }
            Some(Event::Disconnected(_)) => Some(UplinkEvent::Disconnected),
            Some(Event::Published { packet_id, reason }) if reason.is_success() => {
                Some(UplinkEvent::Delivered(u32::from(packet_id)))
            }
            // Refused by the broker, or by the client (a queued publish larger than
            // the broker's maximum packet size). Packet id 0: a QoS 0 publish, which
            // had no ticket.
            Some(Event::Published { packet_id: 0, .. }) => None,
            Some(Event::Published { packet_id, .. }) => {
                Some(UplinkEvent::Refused(u32::from(packet_id)))
            }
            Some(Event::Message(p)) => Some(UplinkEvent::Command {
                topic: p.topic,
                payload: p.payload,
            }),
            Some(Event::ConnectFailed(_) | Event::Subscribed(_) | Event::Unsubscribed(_)) => None,
        })
    }

    fn is_connected(&self) -> bool {
        self.client.is_connected()
    }
}
