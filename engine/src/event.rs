//! Event decoding (contract §3): a NATS subject and payload become a typed [`Event`], a
//! model [`Decoded::Control`] event, or exactly one [`Rejection`], the first in §3's order
//! that applies. Decoding borrows from the payload wherever JSON escapes allow, never panics,
//! and ignores unknown fields.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use credence_models::{ItemId, Kind, Model};
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::error::{ErrorCode as E, Rejection};
use crate::id::SubjectKey;
use crate::time::{parse_rfc3339, Ts};

/// The most bytes an event payload may have (control events are exempt).
pub const MAX_EVENT_BYTES: usize = 16 * 1024;
/// The most bytes of a `note`.
pub const MAX_NOTE_BYTES: usize = 1024;
/// The most bytes of `authority`, `document` and `basis`.
pub const MAX_PROVENANCE_BYTES: usize = 256;
/// The most characters of an event or record id.
pub const MAX_ID_CHARS: usize = 128;
/// The NATS subject of model control events.
pub const CONTROL_SUBJECT: &str = "credit.events.control.model";
/// The prefix of event subjects.
pub const EVENTS_PREFIX: &str = "credit.events.";

/// The five data channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    City,
    Gov,
    Grid,
    Utility,
    Agency,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::City,
        Channel::Gov,
        Channel::Grid,
        Channel::Utility,
        Channel::Agency,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::City => "city",
            Channel::Gov => "gov",
            Channel::Grid => "grid",
            Channel::Utility => "utility",
            Channel::Agency => "agency",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an event came from, read off its NATS subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// `credit.events.<channel>.<source>`.
    Producer { channel: Channel, source: &'a str },
    /// `credit.events.control.model`.
    Control,
}

/// Whether `s` is a valid producer name: `[a-z0-9_-]{1,32}`.
pub fn valid_source(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Reads the route off a NATS subject; `None` is `invalid_route`.
pub fn parse_route(subject: &str) -> Option<Route<'_>> {
    let rest = subject.strip_prefix(EVENTS_PREFIX)?;
    if rest == "control.model" {
        return Some(Route::Control);
    }
    let (channel, source) = rest.split_once('.')?;
    let channel = Channel::parse(channel)?;
    valid_source(source).then_some(Route::Producer { channel, source })
}

/// Whether `s` is a valid event or record id: 1–128 characters of `[A-Za-z0-9._:/-]`.
pub fn valid_event_id(s: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-'))
}

/// The three event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Add,
    Revoke,
    Repair,
}

impl Op {
    pub const fn as_str(self) -> &'static str {
        match self {
            Op::Add => "record.add",
            Op::Revoke => "record.revoke",
            Op::Repair => "record.repair",
        }
    }

    pub fn parse(s: &str) -> Option<Op> {
        match s {
            "record.add" => Some(Op::Add),
            "record.revoke" => Some(Op::Revoke),
            "record.repair" => Some(Op::Repair),
            _ => None,
        }
    }
}

/// A valid producer event, borrowing from its payload.
#[derive(Clone, Debug, PartialEq)]
pub struct Event<'a> {
    pub channel: Channel,
    pub source: &'a str,
    pub id: Cow<'a, str>,
    pub op: Op,
    pub subject: SubjectKey,
    pub record: Cow<'a, str>,
    /// The item of an add (`None` for revoke and repair).
    pub item: Option<ItemId>,
    pub occurred_at: Ts,
    pub value: Option<f64>,
    pub expires_at: Option<Ts>,
    pub note: Option<Cow<'a, str>>,
    pub authority: Option<Cow<'a, str>>,
    pub document: Option<Cow<'a, str>>,
    pub basis: Option<Cow<'a, str>>,
}

impl Event<'_> {
    /// A fingerprint of the event's content: every field but `id`, times as instants.
    /// Stable across processes and machines (FNV-1a, 64 bits), so it can be persisted.
    pub fn content_fingerprint(&self) -> u64 {
        let mut h = Fnv::new();
        h.bytes(self.source.as_bytes());
        h.bytes(self.op.as_str().as_bytes());
        h.bytes(&self.subject.to_bits().to_le_bytes());
        h.bytes(self.record.as_bytes());
        h.bytes(&u32::from(self.item.map_or(u16::MAX, |i| i)).to_le_bytes());
        h.bytes(&self.occurred_at.to_le_bytes());
        h.opt(
            self.value
                .map(|v| v.to_bits().to_le_bytes())
                .as_ref()
                .map(|b| &b[..]),
        );
        h.opt(
            self.expires_at
                .map(|v| v.to_le_bytes())
                .as_ref()
                .map(|b| &b[..]),
        );
        for text in [&self.note, &self.authority, &self.document, &self.basis] {
            h.opt(text.as_deref().map(str::as_bytes));
        }
        h.0
    }
}

/// FNV-1a 64 with length-prefixed fields (so that field boundaries count).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn raw(&mut self, b: &[u8]) {
        for byte in b {
            self.0 ^= *byte as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn bytes(&mut self, b: &[u8]) {
        self.raw(&(b.len() as u32).to_le_bytes());
        self.raw(b);
    }
    fn opt(&mut self, b: Option<&[u8]>) {
        match b {
            Some(b) => {
                self.raw(&[1]);
                self.bytes(b);
            }
            None => self.raw(&[0]),
        }
    }
}

/// What a message on `credit.events.>` is. Returned by value and consumed at once, never
/// stored: boxing the event would cost an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded<'a> {
    Event(Event<'a>),
    /// A model control event: the payload is the model JSON, checked when applied.
    Control(&'a [u8]),
}

/// Decodes one message of `CREDIT_EVENTS` against the model in force.
pub fn decode<'a>(
    subject: &'a str,
    payload: &'a [u8],
    model: &Model,
) -> Result<Decoded<'a>, Rejection> {
    let (channel, source) = match parse_route(subject) {
        None => {
            return Err(Rejection::new(
                E::InvalidRoute,
                "subject is not credit.events.<channel>.<source>",
            ))
        }
        Some(Route::Control) => return Ok(Decoded::Control(payload)),
        Some(Route::Producer { channel, source }) => (channel, source),
    };
    if payload.len() > MAX_EVENT_BYTES {
        return Err(Rejection::new(E::TooLarge, "payload is larger than 16 KiB"));
    }
    // One JSON object: serde would also read a struct from an array.
    if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Rejection::new(
            E::MalformedJson,
            "payload is not one JSON object",
        ));
    }
    let raw: RawEvent<'a> = serde_json::from_slice(payload)
        .map_err(|_| Rejection::new(E::MalformedJson, "payload is not one JSON object"))?;
    raw.check(channel, source, model).map(Decoded::Event)
}

/// A JSON value seen loosely: enough to tell a string or a number from anything else,
/// borrowing strings.
#[derive(Debug, Default)]
enum Loose<'a> {
    #[default]
    Null,
    Str(Cow<'a, str>),
    Num(f64),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LooseVisitor(PhantomData))
    }
}

struct LooseVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for LooseVisitor<'a> {
    type Value = Loose<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Loose::Str(Cow::Owned(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Loose::Num(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Loose::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Loose::Num(v as f64))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Loose::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Loose::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(LooseVisitor(PhantomData))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Other)
    }
}

/// The `subject` field seen loosely.
#[derive(Debug, Default)]
enum LooseSubject<'a> {
    #[default]
    Null,
    Obj {
        kind: Loose<'a>,
        id: Loose<'a>,
    },
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for LooseSubject<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SubjectVisitor(PhantomData))
    }
}

struct SubjectVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for SubjectVisitor<'a> {
    type Value = LooseSubject<'a>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a subject object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut kind, mut id) = (Loose::Null, Loose::Null);
        while let Some(key) = map.next_key::<Loose<'a>>()? {
            match key {
                Loose::Str(k) if k == "kind" => kind = map.next_value()?,
                Loose::Str(k) if k == "id" => id = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(LooseSubject::Obj { kind, id })
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LooseSubject::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LooseSubject::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(SubjectVisitor(PhantomData))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(LooseSubject::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(LooseSubject::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(LooseSubject::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(LooseSubject::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(LooseSubject::Other)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(LooseSubject::Other)
    }
}

/// The payload as parsed, before the rules of §3 are applied. Unknown fields are ignored;
/// `null` counts as absent.
#[derive(Deserialize, Debug)]
struct RawEvent<'a> {
    #[serde(borrow, default)]
    id: Loose<'a>,
    #[serde(borrow, default, rename = "type")]
    kind: Loose<'a>,
    #[serde(borrow, default)]
    subject: LooseSubject<'a>,
    #[serde(borrow, default)]
    record: Loose<'a>,
    #[serde(borrow, default)]
    item: Loose<'a>,
    #[serde(borrow, default)]
    occurred_at: Loose<'a>,
    #[serde(borrow, default)]
    value: Loose<'a>,
    #[serde(borrow, default)]
    expires_at: Loose<'a>,
    #[serde(borrow, default)]
    note: Loose<'a>,
    #[serde(borrow, default)]
    authority: Loose<'a>,
    #[serde(borrow, default)]
    document: Loose<'a>,
    #[serde(borrow, default)]
    basis: Loose<'a>,
}

fn present(v: &Loose<'_>) -> bool {
    !matches!(v, Loose::Null)
}

fn as_str<'b>(v: &'b Loose<'_>) -> Option<&'b str> {
    match v {
        Loose::Str(s) => Some(s),
        _ => None,
    }
}

fn take_str(v: Loose<'_>) -> Option<Cow<'_, str>> {
    match v {
        Loose::Str(s) => Some(s),
        _ => None,
    }
}

impl<'a> RawEvent<'a> {
    /// Applies §3's rules in §3's order.
    fn check(
        self,
        channel: Channel,
        source: &'a str,
        model: &Model,
    ) -> Result<Event<'a>, Rejection> {
        // missing_field
        let required = [&self.id, &self.kind, &self.record, &self.occurred_at];
        if required.iter().any(|v| !present(v)) || matches!(self.subject, LooseSubject::Null) {
            return Err(Rejection::new(
                E::MissingField,
                "id, type, subject, record and occurred_at are required",
            ));
        }
        let op = as_str(&self.kind).and_then(Op::parse);
        let item_code = as_str(&self.item);
        let item = item_code
            .and_then(|c| model.item_id(c))
            .map(|id| (id, model.item(id)));
        if op == Some(Op::Add) {
            if !present(&self.item) {
                return Err(Rejection::new(E::MissingField, "record.add requires item"));
            }
            if let Some((_, it)) = item {
                if it.per_unit.is_some() && !present(&self.value) {
                    return Err(Rejection::new(
                        E::MissingField,
                        "this item counts per unit: value is required",
                    ));
                }
            }
        }
        // unknown_type
        let Some(op) = op else {
            return Err(Rejection::new(
                E::UnknownType,
                "type is record.add, record.revoke or record.repair",
            ));
        };
        // invalid_event_id
        let id_ok = as_str(&self.id).is_some_and(valid_event_id);
        let record_ok = as_str(&self.record).is_some_and(valid_event_id);
        if !id_ok || !record_ok {
            return Err(Rejection::new(
                E::InvalidEventId,
                "id and record are 1-128 characters of [A-Za-z0-9._:/-]",
            ));
        }
        // invalid_subject_id
        let subject = match &self.subject {
            LooseSubject::Obj { kind, id } => {
                let kind = as_str(kind).and_then(Kind::from_str);
                match (kind, as_str(id)) {
                    (Some(kind), Some(id)) => SubjectKey::parse(kind, id).ok(),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some(subject) = subject else {
            return Err(Rejection::new(
                E::InvalidSubjectId,
                "subject is not a valid {kind, id}",
            ));
        };
        // unknown_item, retired_item, item_kind_mismatch (adds only; others ignore item)
        let item = if op == Op::Add {
            let Some((id, it)) = item else {
                return Err(Rejection::new(
                    E::UnknownItem,
                    "item is not a code of the catalogue",
                ));
            };
            if it.retired {
                return Err(Rejection::new(
                    E::RetiredItem,
                    "item is retired and takes no new records",
                ));
            }
            if it.kind != subject.kind() {
                return Err(Rejection::new(
                    E::ItemKindMismatch,
                    "item is for the other kind of subject",
                ));
            }
            Some(id)
        } else {
            None
        };
        // invalid_time
        let occurred_at = as_str(&self.occurred_at).and_then(parse_rfc3339);
        let Some(occurred_at) = occurred_at else {
            return Err(Rejection::new(
                E::InvalidTime,
                "occurred_at is not RFC 3339 with an offset",
            ));
        };
        let expires_at = match &self.expires_at {
            Loose::Null => None,
            v => match as_str(v).and_then(parse_rfc3339) {
                Some(t) if t > occurred_at => Some(t),
                Some(_) => {
                    return Err(Rejection::new(
                        E::InvalidTime,
                        "expires_at is not after occurred_at",
                    ))
                }
                None => {
                    return Err(Rejection::new(
                        E::InvalidTime,
                        "expires_at is not RFC 3339 with an offset",
                    ))
                }
            },
        };
        // invalid_value
        let value = match self.value {
            Loose::Null => None,
            Loose::Num(v) if v >= 0.0 && v.is_finite() => Some(v),
            _ => return Err(Rejection::new(E::InvalidValue, "value is a number >= 0")),
        };
        // field_too_long
        let text = |v: Loose<'a>, max: usize| -> Result<Option<Cow<'a, str>>, Rejection> {
            match v {
                Loose::Null => Ok(None),
                Loose::Str(s) if s.len() <= max => Ok(Some(s)),
                _ => Err(Rejection::new(E::FieldTooLong, "note is a string of at most 1024 bytes; authority, document and basis at most 256")),
            }
        };
        let note = text(self.note, MAX_NOTE_BYTES)?;
        let authority = text(self.authority, MAX_PROVENANCE_BYTES)?;
        let document = text(self.document, MAX_PROVENANCE_BYTES)?;
        let basis = text(self.basis, MAX_PROVENANCE_BYTES)?;
        Ok(Event {
            channel,
            source,
            id: take_str(self.id).unwrap_or_default(),
            op,
            subject,
            record: take_str(self.record).unwrap_or_default(),
            item,
            occurred_at,
            value,
            expires_at,
            note,
            authority,
            document,
            basis,
        })
    }
}

#[cfg(test)]
mod tests;
