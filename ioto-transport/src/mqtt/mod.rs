//! MQTT 3.1.1 and 5.0: a no-alloc codec and an async client.
//!
//! * [`packet`] — every control packet of both versions, [`packet::decode`] and
//!   [`packet::Packet::encode`] over caller buffers.
//! * [`properties`] — MQTT 5.0 properties.
//! * [`topic`] — topic-filter matching.
//! * [`client`] — the reconnecting client over a [`connector::Connector`].

pub mod client;
mod connect;
pub mod connector;
pub mod packet;
pub mod properties;
mod publish;
mod subscribe;
pub mod topic;
pub mod wire;

pub use packet::{
    Ack, ConnAck, Connect, LastWill, Packet, ProtocolVersion, Publish, QoS, ReasonCode,
    RetainHandling, SubAck, Subscribe, SubscribeOptions, Subscription, SubscriptionList, TopicList,
    Unsubscribe, decode,
};
pub use properties::{Properties, UserProperties};
pub use wire::{DecodeError, EncodeError};
