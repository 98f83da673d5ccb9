//! credence-engine: the pure core of Credence — identifiers, events, subject state and its
//! evaluation. No sockets, files, clock or async runtime in its public API: time is passed in.
//!
//! - [`id`]: USCC and resident ID parsing, the packed [`SubjectKey`], masking
//! - [`time`]: instants as microseconds, RFC 3339 in and out
//! - [`error`]: the stable rejection codes of contract §3, in precedence order
//! - [`event`]: decoding a NATS message into a typed event or one rejection

pub mod error;
pub mod event;
pub mod id;
pub mod time;

pub use credence_models as models;
pub use error::{ErrorCode, Rejection};
pub use event::{decode, Channel, Decoded, Event, Op};
pub use id::SubjectKey;
pub use time::Ts;
