//! Time as data: instants are `Ts`, microseconds since the Unix epoch (UTC), parsed from and
//! written as RFC 3339. Nothing here reads the clock: callers pass `now` in.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// An instant: microseconds since 1970-01-01T00:00:00Z.
pub type Ts = i64;

/// Microseconds in a day.
pub const DAY: Ts = 86_400_000_000;
/// Microseconds in a second.
pub const SECOND: Ts = 1_000_000;

/// Parses an RFC 3339 date-time with an offset (`2017-09-12T10:00:00+08:00`). Sub-microsecond
/// digits are truncated: instants are compared at microsecond precision.
pub fn parse_rfc3339(s: &str) -> Option<Ts> {
    // RFC 3339 is ASCII and short; reject early what cannot be one.
    if s.len() < 20 || s.len() > 40 || !s.is_ascii() {
        return None;
    }
    let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let us = dt.unix_timestamp_nanos().div_euclid(1000);
    Ts::try_from(us).ok()
}

/// Writes an instant as RFC 3339 in UTC (`2017-09-12T02:00:00Z`, with fractional seconds only
/// when there are any).
pub fn format_rfc3339(ts: Ts) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(ts as i128 * 1000) {
        Ok(dt) => dt.format(&Rfc3339).unwrap_or_else(|_| ts.to_string()),
        Err(_) => ts.to_string(),
    }
}

/// Adds whole days, saturating.
pub fn add_days(ts: Ts, days: u32) -> Ts {
    ts.saturating_add(days as Ts * DAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_as_instants() {
        let a = parse_rfc3339("2017-09-12T10:00:00+08:00").unwrap();
        let b = parse_rfc3339("2017-09-12T02:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(format_rfc3339(a), "2017-09-12T02:00:00Z");
        assert_eq!(
            parse_rfc3339("2017-09-12T02:00:00.5Z").unwrap(),
            b + 500_000
        );
        assert!(parse_rfc3339("2017-09-12 10:00:00").is_none());
        assert!(parse_rfc3339("2017-09-12T10:00:00").is_none());
        assert!(parse_rfc3339("2017-02-30T10:00:00Z").is_none());
        assert!(parse_rfc3339("").is_none());
        assert!(parse_rfc3339("9999-12-31T23:59:59Z").is_some());
    }
}
