//! credence-connectors: everything of Credence that touches the outside world — the command
//! line, model files — and the `credence` binary that wires them around the engine.
//!
//! - [`cli`]: the `credence` command line (clap)
//! - [`demo`]: `credence demo`, the in-process first look
//! - [`model_check`]: `credence model check <dir>`: load, validate, summarise

pub mod cli;
pub mod demo;
pub mod model_check;
