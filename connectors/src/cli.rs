//! The `credence` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Credence: a streaming real-time credit-scoring engine.
#[derive(Debug, Parser)]
#[command(name = "credence", version, about)]
pub struct Cli {
    /// Log filter (tracing's env-filter syntax); also CREDENCE_LOG.
    #[arg(long, global = true, env = "CREDENCE_LOG", default_value = "info")]
    pub log: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the engine: consume CREDIT_EVENTS, serve checks and reports over HTTP.
    Serve(Box<crate::serve::ServeArgs>),
    /// A first look: a synthetic Bao'an population, a live event mix, sample reports.
    Demo {
        /// Share of Bao'an's 904,000 legal + 5,342,000 natural persons.
        #[arg(long, default_value_t = 0.02)]
        scale: f64,
        /// End after this many seconds of live events (default: run until Ctrl-C).
        #[arg(long)]
        seconds: Option<u64>,
        /// Where the API is served.
        #[arg(long, default_value = "127.0.0.1:8080")]
        http: std::net::SocketAddr,
        /// Join this NATS server (default: start a nats-server of its own, if there is one).
        #[arg(long)]
        nats: Option<String>,
        /// Feed events in process, without NATS, even if a nats-server could be had.
        #[arg(long)]
        in_process: bool,
        /// Seed of the synthetic population and events.
        #[arg(long, default_value_t = 2017)]
        seed: u64,
        /// Live events per second (0: as fast as one core goes).
        #[arg(long, default_value_t = 20_000)]
        rate: u64,
        /// The model directory (default: the bundled baoan model).
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Verify the stored check receipts: every hash recomputed, every chain unbroken; prints
    /// the first break and exits 1, or a summary.
    VerifyReceipts {
        /// NATS server URL (the receipts are read from CREDIT_AUDIT).
        #[arg(long, env = "CREDENCE_NATS", default_value = "nats://127.0.0.1:4222")]
        nats: String,
        /// NATS credentials file.
        #[arg(long, env = "CREDENCE_NATS_CREDS")]
        nats_creds: Option<PathBuf>,
        /// Verify receipt lines from this file (JSON lines) instead of the stream.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Also write the lines read from the stream to this file (JSON lines).
        #[arg(long)]
        dump: Option<PathBuf>,
    },
    /// Work with credit models.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Validate a model directory and publish it as a control event on
    /// credit.events.control.model: every instance applies it in stream order.
    Push {
        /// The model directory.
        dir: PathBuf,
        /// NATS server URL.
        #[arg(long, env = "CREDENCE_NATS", default_value = "nats://127.0.0.1:4222")]
        nats: String,
        /// NATS credentials file.
        #[arg(long, env = "CREDENCE_NATS_CREDS")]
        nats_creds: Option<PathBuf>,
    },
    /// Load and validate a model directory; print a summary, or every problem and exit 1.
    Check {
        /// The model directory (model.toml and items.toml, or model.json).
        dir: PathBuf,
    },
}
