//! The AWS IoT Device Shadow contract (classic, unnamed shadow): topics, the
//! reported-state update, and the documents the cloud sends back.
//!
//! | topic (`$aws/things/<thing>/shadow/…`) | direction | handled by |
//! |---|---|---|
//! | `update` | device → cloud | [`encode_reported`] |
//! | `update/delta` | cloud → device | [`parse_delta`], then [`DeviceState::apply_delta`](super::DeviceState::apply_delta) |
//! | `update/accepted` | cloud → device | [`parse_update_accepted`] |
//! | `update/rejected` | cloud → device | [`parse_update_rejected`] (409 → get again) |
//! | `get` | device → cloud | empty payload (or `{"clientToken":…}`) |
//! | `get/accepted` | cloud → device | [`parse_get_accepted`], then [`DeviceState::apply_get`](super::DeviceState::apply_get) |
//!
//! Documents may carry any extra fields (`metadata`, `timestamp`…); they are skipped.

use serde::Serialize;

use super::json::{Kind, Reader};
use super::{Field, Reported, SliceWriter, StateError, StateFields};

/// Longest thing name AWS IoT allows.
pub const THING_NAME_MAX: usize = 128;

/// Whether `name` is a valid AWS IoT thing name: 1..=128 of `[a-zA-Z0-9:_-]`.
pub fn is_valid_thing_name(name: &str) -> bool {
    (1..=THING_NAME_MAX).contains(&name.len())
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b':' | b'_' | b'-'))
}

/// One of the classic shadow's topics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ShadowTopic {
    /// `shadow/update`: publish the reported state.
    Update,
    /// `shadow/update/accepted`.
    UpdateAccepted,
    /// `shadow/update/rejected`.
    UpdateRejected,
    /// `shadow/update/delta`: desired differs from reported.
    UpdateDelta,
    /// `shadow/get`: ask for the whole document.
    Get,
    /// `shadow/get/accepted`.
    GetAccepted,
    /// `shadow/get/rejected`.
    GetRejected,
}

impl ShadowTopic {
    /// Every topic, in declaration order.
    pub const ALL: [ShadowTopic; 7] = [
        ShadowTopic::Update,
        ShadowTopic::UpdateAccepted,
        ShadowTopic::UpdateRejected,
        ShadowTopic::UpdateDelta,
        ShadowTopic::Get,
        ShadowTopic::GetAccepted,
        ShadowTopic::GetRejected,
    ];

    /// The topics a device subscribes to.
    pub const SUBSCRIBE: [ShadowTopic; 5] = [
        ShadowTopic::UpdateDelta,
        ShadowTopic::UpdateAccepted,
        ShadowTopic::UpdateRejected,
        ShadowTopic::GetAccepted,
        ShadowTopic::GetRejected,
    ];

    /// The part after `$aws/things/<thing>/shadow/`.
    pub const fn suffix(self) -> &'static str {
        match self {
            ShadowTopic::Update => "update",
            ShadowTopic::UpdateAccepted => "update/accepted",
            ShadowTopic::UpdateRejected => "update/rejected",
            ShadowTopic::UpdateDelta => "update/delta",
            ShadowTopic::Get => "get",
            ShadowTopic::GetAccepted => "get/accepted",
            ShadowTopic::GetRejected => "get/rejected",
        }
    }
}

const PREFIX: &str = "$aws/things/";
const SHADOW: &str = "/shadow/";

/// Builds and recognises the shadow topics of one thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShadowTopics<'t> {
    thing: &'t str,
}

impl<'t> ShadowTopics<'t> {
    /// Topics of `thing`; [`StateError::InvalidName`] unless it is a valid thing name.
    pub fn new(thing: &'t str) -> Result<Self, StateError> {
        if is_valid_thing_name(thing) {
            Ok(Self { thing })
        } else {
            Err(StateError::InvalidName)
        }
    }

    /// The thing name.
    pub fn thing(&self) -> &'t str {
        self.thing
    }

    /// Writes the full topic into `buf`; returns it.
    pub fn write<'b>(&self, topic: ShadowTopic, buf: &'b mut [u8]) -> Result<&'b str, StateError> {
        let mut w = SliceWriter::new(buf);
        w.push(PREFIX)?;
        w.push(self.thing)?;
        w.push(SHADOW)?;
        w.push(topic.suffix())?;
        w.finish()
    }

    /// Which of this thing's shadow topics `topic` is, if any.
    pub fn classify(&self, topic: &str) -> Option<ShadowTopic> {
        let rest = topic
            .strip_prefix(PREFIX)?
            .strip_prefix(self.thing)?
            .strip_prefix(SHADOW)?;
        ShadowTopic::ALL.into_iter().find(|t| t.suffix() == rest)
    }
}

/// Longest client token AWS IoT accepts, bytes.
pub const CLIENT_TOKEN_MAX: usize = 64;

#[derive(Serialize)]
struct ReportedSection<'r, 'a> {
    reported: &'r Reported<'a>,
}

#[derive(Serialize)]
struct UpdateDoc<'r, 'a> {
    state: ReportedSection<'r, 'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u64>,
    #[serde(rename = "clientToken", skip_serializing_if = "str::is_empty")]
    client_token: &'r str,
}

/// Writes the `/update` document `{"state":{"reported":{…}},"version":N,"clientToken":"…"}`
/// into `out`; returns its length.
///
/// `version` = `Some` makes the update conditional (AWS answers 409 if the shadow
/// moved on); an empty `client_token` is left out. Non-finite numbers are written
/// as `null`. Errors: [`StateError::InvalidName`] for a token over 64 bytes,
/// [`StateError::BufferTooSmall`].
pub fn encode_reported(
    reported: &Reported<'_>,
    version: Option<u64>,
    client_token: &str,
    out: &mut [u8],
) -> Result<usize, StateError> {
    if client_token.len() > CLIENT_TOKEN_MAX {
        return Err(StateError::InvalidName);
    }
    let doc = UpdateDoc {
        state: ReportedSection { reported },
        version,
        client_token,
    };
    serde_json_core::to_slice(&doc, out).map_err(|_| StateError::BufferTooSmall)
}

/// An `/update/delta` document.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delta<'j> {
    /// Shadow version the delta belongs to.
    pub version: u64,
    /// Seconds since the epoch, if given.
    pub timestamp: Option<u64>,
    /// The keys whose desired value differs from the reported one.
    pub state: StateFields<'j>,
    /// Client token of the update that caused it, if any (raw JSON text).
    pub client_token: Option<&'j str>,
}

/// Reads one state object: numbers, nulls, other types (flagged), unknown keys.
fn state_fields<'j>(r: &mut Reader<'j>) -> Result<StateFields<'j>, StateError> {
    if r.kind()? != Kind::Object {
        return Err(StateError::WrongType);
    }
    let mut fields = StateFields::default();
    r.object(|r, key| {
        let value = match r.kind()? {
            Kind::Number => Field::Number(r.number()?.parse().map_err(|_| StateError::WrongType)?),
            Kind::Null => {
                r.skip()?;
                Field::Null
            }
            _ => {
                r.skip()?;
                Field::WrongType
            }
        };
        fields.set(key, value);
        Ok(())
    })?;
    Ok(fields)
}

fn opt_string<'j>(r: &mut Reader<'j>) -> Result<Option<&'j str>, StateError> {
    match r.kind()? {
        Kind::String => r.string().map(Some),
        Kind::Null => r.skip().map(|()| None),
        _ => Err(StateError::WrongType),
    }
}

/// The keys every response document may carry.
struct Common<'j> {
    version: Option<u64>,
    timestamp: Option<u64>,
    client_token: Option<&'j str>,
}

impl Common<'_> {
    /// The shadow version, which the document must carry.
    fn version(&self) -> Result<u64, StateError> {
        self.version.ok_or(StateError::Missing("version"))
    }
}

/// Reads a whole response document: `version`, `timestamp` and `clientToken` here,
/// every other key through `other` (which must consume its value).
fn response<'j>(
    json: &'j [u8],
    mut other: impl FnMut(&mut Reader<'j>, &'j str) -> Result<(), StateError>,
) -> Result<Common<'j>, StateError> {
    let mut r = Reader::new(json);
    let mut common = Common {
        version: None,
        timestamp: None,
        client_token: None,
    };
    r.object(|r, key| {
        match key {
            "version" => common.version = Some(r.u64()?),
            "timestamp" => common.timestamp = Some(r.u64()?),
            "clientToken" => common.client_token = opt_string(r)?,
            _ => other(r, key)?,
        }
        Ok(())
    })?;
    r.finish()?;
    Ok(common)
}

/// Parses an `/update/delta` document
/// (`{"version":N,"timestamp":T,"state":{…},"metadata":{…}}`).
pub fn parse_delta(json: &[u8]) -> Result<Delta<'_>, StateError> {
    let mut state = None;
    let common = response(json, |r, key| match key {
        "state" => state_fields(r).map(|s| state = Some(s)),
        _ => r.skip(),
    })?;
    Ok(Delta {
        version: common.version()?,
        timestamp: common.timestamp,
        state: state.ok_or(StateError::Missing("state"))?,
        client_token: common.client_token,
    })
}

/// A `/get/accepted` document: the whole shadow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GetAccepted<'j> {
    /// Shadow version.
    pub version: u64,
    /// Seconds since the epoch, if given.
    pub timestamp: Option<u64>,
    /// `state.desired` (empty if absent).
    pub desired: StateFields<'j>,
    /// `state.delta` (empty if absent: desired and reported agree).
    pub delta: StateFields<'j>,
    /// Client token of the `/get` request, if any.
    pub client_token: Option<&'j str>,
}

/// Parses a `/get/accepted` document
/// (`{"state":{"desired":{…},"reported":{…},"delta":{…}},"metadata":{…},"version":N,"timestamp":T}`).
pub fn parse_get_accepted(json: &[u8]) -> Result<GetAccepted<'_>, StateError> {
    let (mut desired, mut delta) = (StateFields::default(), StateFields::default());
    let common = response(json, |r, key| {
        if key != "state" {
            return r.skip();
        }
        if r.kind()? != Kind::Object {
            return Err(StateError::WrongType);
        }
        r.object(|r, section| {
            let null = r.kind()? == Kind::Null;
            match section {
                "desired" if !null => desired = state_fields(r)?,
                "delta" if !null => delta = state_fields(r)?,
                _ => r.skip()?,
            }
            Ok(())
        })
    })?;
    Ok(GetAccepted {
        version: common.version()?,
        timestamp: common.timestamp,
        desired,
        delta,
        client_token: common.client_token,
    })
}

/// The parts of an `/update/accepted` document the device needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateAccepted<'j> {
    /// The shadow's version after the update.
    pub version: u64,
    /// Seconds since the epoch, if given.
    pub timestamp: Option<u64>,
    /// The update's client token, if any.
    pub client_token: Option<&'j str>,
}

/// Parses an `/update/accepted` document (`{"state":{…},"metadata":{…},"version":N,…}`).
pub fn parse_update_accepted(json: &[u8]) -> Result<UpdateAccepted<'_>, StateError> {
    let common = response(json, |r, _| r.skip())?;
    Ok(UpdateAccepted {
        version: common.version()?,
        timestamp: common.timestamp,
        client_token: common.client_token,
    })
}

/// Why the shadow service refused a request (its documented error codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ShadowRejection {
    /// 400: malformed document or request.
    BadRequest,
    /// 401: not authorised.
    Unauthorized,
    /// 403: forbidden.
    Forbidden,
    /// 404: no such thing or shadow.
    NotFound,
    /// 409: the version in the update is not the shadow's: get the shadow again.
    VersionConflict,
    /// 413: document too large.
    PayloadTooLarge,
    /// 415: unsupported document encoding.
    UnsupportedEncoding,
    /// 429: throttled.
    TooManyRequests,
    /// 500: service error.
    InternalError,
    /// Any other code.
    Other(u16),
}

impl ShadowRejection {
    /// The rejection for an HTTP-style error code.
    pub const fn from_code(code: u16) -> Self {
        match code {
            400 => Self::BadRequest,
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            409 => Self::VersionConflict,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedEncoding,
            429 => Self::TooManyRequests,
            500 => Self::InternalError,
            other => Self::Other(other),
        }
    }

    /// Whether the agent should `/get` the shadow again before its next update.
    pub const fn should_resync(self) -> bool {
        matches!(self, Self::VersionConflict)
    }
}

/// An `/update/rejected` (or `/get/rejected`) document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UpdateRejected<'j> {
    /// Error code (409 = version conflict).
    pub code: u16,
    /// Typed reading of [`UpdateRejected::code`].
    pub rejection: ShadowRejection,
    /// The service's message (raw JSON text), empty if absent.
    pub message: &'j str,
    /// Seconds since the epoch, if given.
    pub timestamp: Option<u64>,
    /// The request's client token, if any.
    pub client_token: Option<&'j str>,
}

/// Parses an error document
/// (`{"code":409,"message":"Version conflict","timestamp":T,"clientToken":"…"}`).
pub fn parse_update_rejected(json: &[u8]) -> Result<UpdateRejected<'_>, StateError> {
    let (mut code, mut message) = (None, "");
    let common = response(json, |r, key| {
        match key {
            "code" => {
                code = Some(u16::try_from(r.u64()?).map_err(|_| StateError::WrongType)?);
            }
            "message" => message = opt_string(r)?.unwrap_or(""),
            _ => r.skip()?,
        }
        Ok(())
    })?;
    let code = code.ok_or(StateError::Missing("code"))?;
    Ok(UpdateRejected {
        code,
        rejection: ShadowRejection::from_code(code),
        message,
        timestamp: common.timestamp,
        client_token: common.client_token,
    })
}
