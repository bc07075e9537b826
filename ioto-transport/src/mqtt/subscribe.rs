//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK layouts.

use super::properties::Properties;
use super::publish::nonzero_id;
use super::types::{ProtocolVersion, QoS};
use super::wire::{DecodeError, EncodeError, Reader, Writer};

/// MQTT 5.0 retain handling of a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RetainHandling {
    /// Send retained messages on every subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// Send retained messages only if the subscription is new.
    SendIfNew = 1,
    /// Never send retained messages for this subscription.
    DoNotSend = 2,
}

/// Per-filter subscription options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubscribeOptions {
    /// Maximum QoS to deliver with.
    pub qos: QoS,
    /// MQTT 5.0: do not receive our own publishes.
    pub no_local: bool,
    /// MQTT 5.0: keep the retain flag as published.
    pub retain_as_published: bool,
    /// MQTT 5.0: when retained messages are sent.
    pub retain_handling: RetainHandling,
}

impl SubscribeOptions {
    /// Options with only a QoS set (what MQTT 3.1.1 can express).
    pub const fn qos(qos: QoS) -> Self {
        SubscribeOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
        }
    }

    fn to_byte(self, version: ProtocolVersion) -> u8 {
        let mut b = self.qos as u8;
        if version.is_v5() {
            b |= (u8::from(self.no_local) << 2)
                | (u8::from(self.retain_as_published) << 3)
                | ((self.retain_handling as u8) << 4);
        }
        b
    }

    fn from_byte(b: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let reserved = if version.is_v5() { 0xC0 } else { 0xFC };
        if b & reserved != 0 {
            return Err(DecodeError::Invalid(
                "reserved subscription option bits set",
            ));
        }
        let retain_handling = match (b >> 4) & 0x03 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(DecodeError::Invalid("retain handling 3")),
        };
        Ok(SubscribeOptions {
            qos: QoS::from_bits(b & 0x03)?,
            no_local: b & 0x04 != 0,
            retain_as_published: b & 0x08 != 0,
            retain_handling,
        })
    }
}

/// One topic filter with its options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subscription<'a> {
    /// Topic filter (may contain `+` and `#`).
    pub filter: &'a str,
    /// Options for this filter.
    pub options: SubscribeOptions,
}

/// The filters of a SUBSCRIBE: the application's slice, or a decoded payload.
#[derive(Clone, Copy, Debug)]
pub enum SubscriptionList<'a> {
    /// Given by the application.
    List(&'a [Subscription<'a>]),
    /// A validated SUBSCRIBE payload and the version it was decoded with.
    Raw(&'a [u8], ProtocolVersion),
}

impl<'a> SubscriptionList<'a> {
    /// The subscriptions in wire order.
    pub fn iter(&self) -> impl Iterator<Item = Subscription<'a>> + use<'a> {
        let (list, raw) = match *self {
            SubscriptionList::List(l) => (l, None),
            SubscriptionList::Raw(b, v) => (&[][..], Some((Reader::new(b), v))),
        };
        let mut raw = raw;
        list.iter().copied().chain(core::iter::from_fn(move || {
            let (r, v) = raw.as_mut()?;
            if r.remaining() == 0 {
                return None;
            }
            let filter = r.string().ok()?;
            let options = SubscribeOptions::from_byte(r.u8().ok()?, *v).ok()?;
            Some(Subscription { filter, options })
        }))
    }
}

impl PartialEq for SubscriptionList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

/// SUBSCRIBE.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Subscribe<'a> {
    /// Packet identifier.
    pub packet_id: u16,
    /// MQTT 5.0 properties (subscription identifier, user properties).
    pub properties: Properties<'a>,
    /// At least one filter.
    pub subscriptions: SubscriptionList<'a>,
}

impl<'a> Subscribe<'a> {
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let (packet_id, properties, payload) =
            decode_request(r, version, "SUBSCRIBE without filters", |entry| {
                check_filter(entry.string()?)?;
                SubscribeOptions::from_byte(entry.u8()?, version).map(|_| ())
            })?;
        Ok(Subscribe {
            packet_id,
            properties,
            subscriptions: SubscriptionList::Raw(payload, version),
        })
    }

    pub(crate) fn encode(
        &self,
        w: &mut Writer<'_>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        let entries = self
            .subscriptions
            .iter()
            .map(|s| (s.filter, Some(s.options.to_byte(version))));
        encode_request(w, version, self.packet_id, &self.properties, entries)
            .map_err(|e| e.or_empty("SUBSCRIBE without filters"))
    }
}

/// Packet id, MQTT 5.0 properties and the non-empty filter payload of a SUBSCRIBE or
/// UNSUBSCRIBE; `entry` reads and checks one payload entry.
fn decode_request<'a>(
    r: &mut Reader<'a>,
    version: ProtocolVersion,
    empty: &'static str,
    entry: impl Fn(&mut Reader<'a>) -> Result<(), DecodeError>,
) -> Result<(u16, Properties<'a>, &'a [u8]), DecodeError> {
    let packet_id = nonzero_id(r.u16()?)?;
    let properties = if version.is_v5() {
        Properties::decode(r)?
    } else {
        Properties::default()
    };
    let payload = r.rest();
    let mut check = Reader::new(payload);
    if check.remaining() == 0 {
        return Err(DecodeError::Invalid(empty));
    }
    while check.remaining() > 0 {
        entry(&mut check)?;
    }
    Ok((packet_id, properties, payload))
}

/// Why [`encode_request`] failed: the writer's error, or no filters at all.
enum RequestError {
    Encode(EncodeError),
    Empty,
}

impl RequestError {
    fn or_empty(self, empty: &'static str) -> EncodeError {
        match self {
            RequestError::Encode(e) => e,
            RequestError::Empty => EncodeError::Invalid(empty),
        }
    }
}

impl From<EncodeError> for RequestError {
    fn from(e: EncodeError) -> Self {
        RequestError::Encode(e)
    }
}

/// Writes the variable header and the filters (each with its options byte, if any)
/// of a SUBSCRIBE or UNSUBSCRIBE.
fn encode_request<'f>(
    w: &mut Writer<'_>,
    version: ProtocolVersion,
    packet_id: u16,
    properties: &Properties<'_>,
    entries: impl Iterator<Item = (&'f str, Option<u8>)>,
) -> Result<(), RequestError> {
    w.u16(packet_id)?;
    if version.is_v5() {
        properties.encode(w)?;
    }
    let mut any = false;
    for (filter, options) in entries {
        check_filter(filter).map_err(|_| EncodeError::Invalid("malformed topic filter"))?;
        w.string(filter)?;
        if let Some(o) = options {
            w.u8(o)?;
        }
        any = true;
    }
    if any {
        Ok(())
    } else {
        Err(RequestError::Empty)
    }
}

/// Checks a topic filter: non-empty, `#` only as the whole last level, `+` only as a
/// whole level.
pub fn check_filter(filter: &str) -> Result<(), DecodeError> {
    if filter.is_empty() {
        return Err(DecodeError::Invalid("empty topic filter"));
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        let bad_hash = level.contains('#') && (level != "#" || !last);
        let bad_plus = level.contains('+') && level != "+";
        if bad_hash || bad_plus {
            return Err(DecodeError::Invalid("misplaced wildcard in topic filter"));
        }
    }
    Ok(())
}

/// The filters of an UNSUBSCRIBE: the application's slice, or a decoded payload.
#[derive(Clone, Copy, Debug)]
pub enum TopicList<'a> {
    /// Given by the application.
    List(&'a [&'a str]),
    /// A validated UNSUBSCRIBE payload.
    Raw(&'a [u8]),
}

impl<'a> TopicList<'a> {
    /// The filters in wire order.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        let (list, mut raw) = match *self {
            TopicList::List(l) => (l, None),
            TopicList::Raw(b) => (&[][..], Some(Reader::new(b))),
        };
        list.iter().copied().chain(core::iter::from_fn(move || {
            let r = raw.as_mut()?;
            if r.remaining() == 0 {
                None
            } else {
                r.string().ok()
            }
        }))
    }
}

impl PartialEq for TopicList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

/// UNSUBSCRIBE.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unsubscribe<'a> {
    /// Packet identifier.
    pub packet_id: u16,
    /// MQTT 5.0 properties (user properties).
    pub properties: Properties<'a>,
    /// At least one filter.
    pub filters: TopicList<'a>,
}

impl<'a> Unsubscribe<'a> {
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let (packet_id, properties, payload) =
            decode_request(r, version, "UNSUBSCRIBE without filters", |entry| {
                check_filter(entry.string()?)
            })?;
        Ok(Unsubscribe {
            packet_id,
            properties,
            filters: TopicList::Raw(payload),
        })
    }

    pub(crate) fn encode(
        &self,
        w: &mut Writer<'_>,
        version: ProtocolVersion,
    ) -> Result<(), EncodeError> {
        let entries = self.filters.iter().map(|f| (f, None));
        encode_request(w, version, self.packet_id, &self.properties, entries)
            .map_err(|e| e.or_empty("UNSUBSCRIBE without filters"))
    }
}

/// SUBACK or UNSUBACK: one reason code per filter (UNSUBACK of 3.1.1 has none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SubAck<'a> {
    /// Packet identifier of the request.
    pub packet_id: u16,
    /// MQTT 5.0 properties (reason string, user properties).
    pub properties: Properties<'a>,
    /// Granted QoS (0..=2) or failure code (>= 0x80), one per filter.
    pub reason_codes: &'a [u8],
}

impl<'a> SubAck<'a> {
    pub(crate) fn decode(
        r: &mut Reader<'a>,
        version: ProtocolVersion,
        has_codes: bool,
    ) -> Result<Self, DecodeError> {
        let packet_id = nonzero_id(r.u16()?)?;
        let properties = if version.is_v5() {
            Properties::decode(r)?
        } else {
            Properties::default()
        };
        let reason_codes = if has_codes { r.rest() } else { &[] };
        if has_codes && reason_codes.is_empty() {
            return Err(DecodeError::Invalid("acknowledgement without reason codes"));
        }
        Ok(SubAck {
            packet_id,
            properties,
            reason_codes,
        })
    }

    pub(crate) fn encode(
        &self,
        w: &mut Writer<'_>,
        version: ProtocolVersion,
        has_codes: bool,
    ) -> Result<(), EncodeError> {
        w.u16(self.packet_id)?;
        if version.is_v5() {
            self.properties.encode(w)?;
        }
        if has_codes {
            w.bytes(self.reason_codes)?;
        }
        Ok(())
    }
}
