//! credence-engine: the pure core of Credence — identifiers, events, subject state and its
//! evaluation. No sockets, files, clock or async runtime in its public API: time is passed in.
//!
//! - [`id`]: USCC and resident ID parsing, the packed [`SubjectKey`], masking
//! - [`time`]: instants as microseconds, RFC 3339 in and out
//! - [`error`]: the stable rejection codes of contract §3, in precedence order
//! - [`event`]: decoding a NATS message into a typed event or one rejection
//! - [`subject`]: one subject's records (64-byte records + one string arena) and idempotence
//! - [`eval`]: evaluation — score, grade, lists with since/until, decisions, next change
//! - [`store`]: the concurrent subject map, model history, time index, counters, `apply`
//! - [`answer`]: checks and reports as the contract's JSON
//! - [`snapshot`]: the versioned, checksummed bincode snapshot format
//! - [`intern`]: shared strings (producers, authorities, legal bases)
//! - [`synth`]: the seeded synthetic Bao'an population and event mix

pub mod answer;
pub mod error;
pub mod event;
pub mod id;
pub mod time;

pub use credence_models as models;
pub use error::{ErrorCode, Rejection};
pub use event::{decode, Channel, Decoded, Event, Op};
pub use id::SubjectKey;
pub use time::Ts;
pub mod eval;
pub mod intern;
pub mod snapshot;
pub mod store;
pub mod subject;
pub mod synth;

pub use eval::{evaluate, Assessment, Judge};
pub use store::{Applied, Cause, ListChange, Outcome, Store};
pub use subject::Subject;
