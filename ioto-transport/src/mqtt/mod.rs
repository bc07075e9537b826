//! MQTT 3.1.1 and 5.0: a no-alloc codec and an async client.
//!
//! * [`types`] — [`ProtocolVersion`], [`QoS`], [`ReasonCode`]: the values every layer
//!   below shares; they depend on nothing but [`wire`] errors.
//! * [`packet`] — every control packet of both versions, [`packet::decode`] and
//!   [`packet::Packet::encode`] over caller buffers.
//! * [`properties`] — MQTT 5.0 properties.
//! * [`topic`] — topic-filter matching.
//! * [`client`] — the reconnecting client over a [`connector::Connector`].
//!
//! Layering (each module imports only from the ones below it): [`wire`] → [`types`],
//! [`properties`] → the packet layouts (CONNECT/CONNACK, PUBLISH and acks,
//! SUBSCRIBE/UNSUBSCRIBE) → [`packet`] (fixed header, [`Packet`], [`decode`]) →
//! [`topic`], [`client`].

pub mod client;
mod connect;
pub mod connector;
pub mod packet;
pub mod properties;
mod publish;
mod subscribe;
pub mod topic;
pub mod types;
pub mod wire;

pub use packet::{
    Ack, ConnAck, Connect, LastWill, Packet, Publish, RetainHandling, SubAck, Subscribe,
    SubscribeOptions, Subscription, SubscriptionList, TopicList, Unsubscribe, decode,
};
pub use properties::{Properties, UserProperties};
pub use types::{ProtocolVersion, QoS, ReasonCode};
pub use wire::{DecodeError, EncodeError};
