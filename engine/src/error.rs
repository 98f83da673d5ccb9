//! The stable error codes of contract §3, in its order: where several rules fail, the first
//! that applies is the one reported.

use std::fmt;

/// Why an event is rejected. The order of the variants is the contract's order of precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorCode {
    InvalidRoute,
    TooLarge,
    MalformedJson,
    MissingField,
    UnknownType,
    InvalidEventId,
    InvalidSubjectId,
    UnknownItem,
    RetiredItem,
    ItemKindMismatch,
    InvalidTime,
    InvalidValue,
    FieldTooLong,
    RecordConflict,
}

impl ErrorCode {
    /// Every code, in precedence order.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::InvalidRoute,
        ErrorCode::TooLarge,
        ErrorCode::MalformedJson,
        ErrorCode::MissingField,
        ErrorCode::UnknownType,
        ErrorCode::InvalidEventId,
        ErrorCode::InvalidSubjectId,
        ErrorCode::UnknownItem,
        ErrorCode::RetiredItem,
        ErrorCode::ItemKindMismatch,
        ErrorCode::InvalidTime,
        ErrorCode::InvalidValue,
        ErrorCode::FieldTooLong,
        ErrorCode::RecordConflict,
    ];

    /// The code on the wire (`Credence-Error`, `{"error": {"code"}}`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRoute => "invalid_route",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::InvalidEventId => "invalid_event_id",
            ErrorCode::InvalidSubjectId => "invalid_subject_id",
            ErrorCode::UnknownItem => "unknown_item",
            ErrorCode::RetiredItem => "retired_item",
            ErrorCode::ItemKindMismatch => "item_kind_mismatch",
            ErrorCode::InvalidTime => "invalid_time",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::FieldTooLong => "field_too_long",
            ErrorCode::RecordConflict => "record_conflict",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected event: the code, and a detail in words that never holds a personal identifier
/// (static text: nothing is allocated for a rejection on the hot path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: ErrorCode,
    pub detail: &'static str,
}

impl Rejection {
    pub const fn new(code: ErrorCode, detail: &'static str) -> Rejection {
        Rejection { code, detail }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for Rejection {}
