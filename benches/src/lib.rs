//! credence-benches: criterion benches of Credence's core paths (see `benches/`), and the
//! sample inputs they share.

/// A typical producer event (the contract's example), as it arrives on the wire.
pub const SAMPLE_EVENT: &str = r#"{"id":"safety-2017-000123","type":"record.add","subject":{"kind":"legal","id":"91440306AY4CL12TH9"},"record":"safety/2017/000123","item":"L-SUP-001","occurred_at":"2017-09-12T10:00:00+08:00","value":12.5,"expires_at":"2020-09-12T00:00:00+08:00","note":"safety exit blocked at the production site","authority":"Bao'an District Emergency Management Bureau","document":"深宝应急罚〔2017〕123号","basis":"Work Safety Law art. 88"}"#;

/// A minimal event: only the required fields.
pub const SMALL_EVENT: &str = r#"{"id":"u-1","type":"record.add","subject":{"kind":"natural","id":"440306195606190590"},"record":"bill/1","item":"N-OTH-001","occurred_at":"2024-01-01T00:00:00+08:00"}"#;
