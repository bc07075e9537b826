//! MQTT 5.0 properties: the optional, typed key/value fields that follow the variable
//! header of most packets. One [`Properties`] struct covers every packet type; fields
//! a packet does not use stay `None`.

use super::wire::{DecodeError, EncodeError, Reader, Writer, prefixed_len, var_int_len};

/// A property value type: how it is read, written and sized on the wire.
trait PropValue<'a>: Sized + Copy {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError>;
    fn write(self, w: &mut Writer<'_>) -> Result<(), EncodeError>;
    fn wire_len(self) -> usize;
}

impl<'a> PropValue<'a> for u8 {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.u8()
    }
    fn write(self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u8(self)
    }
    fn wire_len(self) -> usize {
        1
    }
}

impl<'a> PropValue<'a> for bool {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Invalid("boolean property is neither 0 nor 1")),
        }
    }
    fn write(self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u8(u8::from(self))
    }
    fn wire_len(self) -> usize {
        1
    }
}

impl<'a> PropValue<'a> for u16 {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.u16()
    }
    fn write(self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u16(self)
    }
    fn wire_len(self) -> usize {
        2
    }
}

impl<'a> PropValue<'a> for u32 {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.u32()
    }
    fn write(self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.u32(self)
    }
    fn wire_len(self) -> usize {
        4
    }
}

impl<'a> PropValue<'a> for &'a str {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.string()
    }
    fn write(self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.string(self)
    }
    fn wire_len(self) -> usize {
        prefixed_len(self.len())
    }
}

impl<'a> PropValue<'a> for &'a [u8] {
    fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.binary()
    }
    fn write(self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        w.binary(self)
    }
    fn wire_len(self) -> usize {
        prefixed_len(self.len())
    }
}

const USER_PROPERTY: u8 = 0x26;
const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;

macro_rules! properties {
    ($( $(#[$doc:meta])* $id:literal => $field:ident : $ty:ty, )*) => {
        /// The MQTT 5.0 properties of one packet. Decoding borrows strings and binary
        /// data from the receive buffer; nothing is copied or allocated.
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        pub struct Properties<'a> {
            $( $(#[$doc])* pub $field: Option<$ty>, )*
            /// Subscription Identifier (0x0B): on SUBSCRIBE the id to attach; on an
            /// incoming PUBLISH the first of the ids of the matching subscriptions.
            pub subscription_identifier: Option<u32>,
            /// User Property (0x26) name/value pairs, in wire order.
            pub user: UserProperties<'a>,
        }

        impl<'a> Properties<'a> {
            fn decode_one(&mut self, id: u8, r: &mut Reader<'a>) -> Result<(), DecodeError> {
                match id {
                    $( $id => {
                        if self.$field.is_some() {
                            return Err(DecodeError::DuplicateProperty(id));
                        }
                        self.$field = Some(<$ty as PropValue<'a>>::read(r)?);
                    } )*
                    SUBSCRIPTION_IDENTIFIER => {
                        let v = r.var_int()?;
                        if v == 0 {
                            return Err(DecodeError::Invalid("subscription identifier 0"));
                        }
                        self.subscription_identifier.get_or_insert(v);
                    }
                    USER_PROPERTY => {
                        r.string()?;
                        r.string()?;
                    }
                    _ => return Err(DecodeError::BadProperty(id)),
                }
                Ok(())
            }

            /// Bytes of the property list, without its length prefix.
            pub fn wire_len(&self) -> usize {
                let mut n = 0;
                $( if let Some(v) = self.$field { n += 1 + v.wire_len(); } )*
                if let Some(v) = self.subscription_identifier {
                    n += 1 + var_int_len(v);
                }
                for (k, v) in self.user.iter() {
                    n += 1 + prefixed_len(k.len()) + prefixed_len(v.len());
                }
                n
            }

            fn encode_body(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
                $( if let Some(v) = self.$field { w.u8($id)?; v.write(w)?; } )*
                if let Some(v) = self.subscription_identifier {
                    if v == 0 {
                        return Err(EncodeError::Invalid("subscription identifier 0"));
                    }
                    w.u8(SUBSCRIPTION_IDENTIFIER)?;
                    w.var_int(v)?;
                }
                for (k, v) in self.user.iter() {
                    w.u8(USER_PROPERTY)?;
                    w.string(k)?;
                    w.string(v)?;
                }
                Ok(())
            }
        }
    };
}

properties! {
    /// Payload Format Indicator (0x01): 1 = UTF-8 text.
    0x01 => payload_format_indicator: u8,
    /// Message Expiry Interval (0x02), seconds.
    0x02 => message_expiry_interval: u32,
    /// Content Type (0x03), e.g. a MIME type.
    0x03 => content_type: &'a str,
    /// Response Topic (0x08) for request/response.
    0x08 => response_topic: &'a str,
    /// Correlation Data (0x09) for request/response.
    0x09 => correlation_data: &'a [u8],
    /// Session Expiry Interval (0x11), seconds.
    0x11 => session_expiry_interval: u32,
    /// Assigned Client Identifier (0x12) from CONNACK.
    0x12 => assigned_client_identifier: &'a str,
    /// Server Keep Alive (0x13), seconds, overriding the client's keep-alive.
    0x13 => server_keep_alive: u16,
    /// Authentication Method (0x15).
    0x15 => authentication_method: &'a str,
    /// Authentication Data (0x16).
    0x16 => authentication_data: &'a [u8],
    /// Request Problem Information (0x17).
    0x17 => request_problem_information: u8,
    /// Will Delay Interval (0x18), seconds.
    0x18 => will_delay_interval: u32,
    /// Request Response Information (0x19).
    0x19 => request_response_information: u8,
    /// Response Information (0x1A).
    0x1A => response_information: &'a str,
    /// Server Reference (0x1C).
    0x1C => server_reference: &'a str,
    /// Reason String (0x1F), human-readable diagnostics.
    0x1F => reason_string: &'a str,
    /// Receive Maximum (0x21): QoS 1/2 publishes the sender accepts in flight.
    0x21 => receive_maximum: u16,
    /// Topic Alias Maximum (0x22).
    0x22 => topic_alias_maximum: u16,
    /// Topic Alias (0x23).
    0x23 => topic_alias: u16,
    /// Maximum QoS (0x24) the server supports.
    0x24 => maximum_qos: u8,
    /// Retain Available (0x25).
    0x25 => retain_available: bool,
    /// Maximum Packet Size (0x27) the sender accepts.
    0x27 => maximum_packet_size: u32,
    /// Wildcard Subscription Available (0x28).
    0x28 => wildcard_subscription_available: bool,
    /// Subscription Identifier Available (0x29).
    0x29 => subscription_identifier_available: bool,
    /// Shared Subscription Available (0x2A).
    0x2A => shared_subscription_available: bool,
}

impl<'a> Properties<'a> {
    /// Reads a length-prefixed property list.
    pub fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let len = r.var_int()? as usize;
        let block = r.bytes(len)?;
        let mut props = Properties::default();
        let mut pr = Reader::new(block);
        while pr.remaining() > 0 {
            let id = pr.u8()?;
            props.decode_one(id, &mut pr)?;
        }
        props.user = UserProperties::Raw(block);
        Ok(props)
    }

    /// Writes the property list with its length prefix.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), EncodeError> {
        let len = u32::try_from(self.wire_len()).map_err(|_| EncodeError::FieldTooLong)?;
        w.var_int(len)?;
        self.encode_body(w)
    }

    /// Bytes of the property list including its length prefix.
    pub fn prefixed_len(&self) -> usize {
        let n = self.wire_len();
        var_int_len(n as u32) + n
    }
}

/// User properties: a caller's slice when encoding, the validated raw property block
/// when decoded. Iterate with [`UserProperties::iter`].
#[derive(Clone, Copy, Debug)]
pub enum UserProperties<'a> {
    /// Pairs given by the application.
    List(&'a [(&'a str, &'a str)]),
    /// A decoded property block (already validated); user properties are picked out
    /// of it while iterating.
    Raw(&'a [u8]),
}

impl Default for UserProperties<'_> {
    fn default() -> Self {
        UserProperties::List(&[])
    }
}

impl PartialEq for UserProperties<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<'a> UserProperties<'a> {
    /// The name/value pairs in wire order.
    pub fn iter(&self) -> UserPropertyIter<'a> {
        match *self {
            UserProperties::List(list) => UserPropertyIter::List(list.iter()),
            UserProperties::Raw(block) => UserPropertyIter::Raw(Reader::new(block)),
        }
    }

    /// True when there are no user properties.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

/// Iterator over user properties, see [`UserProperties::iter`].
#[derive(Clone, Debug)]
pub enum UserPropertyIter<'a> {
    /// Over a caller's slice.
    List(core::slice::Iter<'a, (&'a str, &'a str)>),
    /// Over a decoded property block.
    Raw(Reader<'a>),
}

impl<'a> Iterator for UserPropertyIter<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            UserPropertyIter::List(it) => it.next().copied(),
            UserPropertyIter::Raw(r) => {
                // The block was validated by `Properties::decode`, so errors cannot
                // occur here; any that did would simply end the iteration.
                while r.remaining() > 0 {
                    let id = r.u8().ok()?;
                    if id == USER_PROPERTY {
                        return Some((r.string().ok()?, r.string().ok()?));
                    }
                    Properties::default().decode_one(id, r).ok()?;
                }
                None
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_user_properties() {
        let users = [("a", "1"), ("b", "2")];
        let p = Properties {
            message_expiry_interval: Some(60),
            content_type: Some("text/plain"),
            correlation_data: Some(b"xyz"),
            subscription_identifier: Some(300),
            retain_available: Some(true),
            user: UserProperties::List(&users),
            ..Properties::default()
        };
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf);
        p.encode(&mut w).unwrap();
        let n = w.len();
        assert_eq!(n, p.prefixed_len());
        let mut r = Reader::new(&buf[..n]);
        let q = Properties::decode(&mut r).unwrap();
        assert_eq!(p, q);
        assert_eq!(q.user.iter().count(), 2);
    }

    #[test]
    fn rejects_duplicates_and_unknown_ids() {
        let dup = [4, 0x24, 1, 0x24, 1];
        assert_eq!(
            Properties::decode(&mut Reader::new(&dup)),
            Err(DecodeError::DuplicateProperty(0x24))
        );
        let unknown = [2, 0x7F, 0];
        assert_eq!(
            Properties::decode(&mut Reader::new(&unknown)),
            Err(DecodeError::BadProperty(0x7F))
        );
        let bad_bool = [2, 0x25, 7];
        assert!(Properties::decode(&mut Reader::new(&bad_bool)).is_err());
    }
}
