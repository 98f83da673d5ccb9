//! credence-connectors: everything of Credence that touches the outside world — the command
//! line, NATS JetStream, HTTP, auth, audit — and the `credence` binary that wires them around the engine.
//!
//! - [`cli`]: the `credence` command line (clap)
//! - [`demo`]: `credence demo`, the in-process first look
//! - [`model_check`]: `credence model check <dir>`: load, validate, summarise
//! - [`serve`]: `credence serve`, the tasks and the shutdown tree
//! - [`nats`]: connecting, the four streams, the model control event, acked publishing
//! - [`ingest`]: the durable pull consumer → store → DLQ and list changes → ack
//! - [`http`]: the HTTP API (axum), roles, the purpose rule, audit of natural persons' reads
//! - [`natsd`]: a nats-server of our own (demo, tests), killed on drop
//! - [`receipts`]: chained check receipts, their batched writer, and their verification
//! - [`reqrep`]: checks and reports over NATS request-reply; the access-log reader
//! - [`auth`]: the auth file, bearer tokens hashed and compared in constant time
//! - [`audit`]: the audit key, pseudonyms, the bounded audit queue
//! - [`snapshots`]: snapshot files: write (temp, fsync, rename, keep two), restore with fallback
//! - [`state`]: the shared state and the metrics

pub mod audit;
pub mod auth;
pub mod cli;
pub mod demo;
pub mod http;
pub mod ingest;
pub mod model_check;
pub mod nats;
pub mod natsd;
pub mod receipts;
pub mod reqrep;
pub mod serve;
pub mod snapshots;
pub mod state;

/// A legal person's identifier of the synthetic population, for examples.
pub fn synth_sample() -> String {
    credence_engine::synth::legal_id(3)
}
