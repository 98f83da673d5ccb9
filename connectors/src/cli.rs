//! The `credence` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Credence: a streaming real-time credit-scoring engine.
#[derive(Debug, Parser)]
#[command(name = "credence", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with credit models.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Load and validate a model directory; print a summary, or every problem and exit 1.
    Check {
        /// The model directory (model.toml and items.toml, or model.json).
        dir: PathBuf,
    },
}
