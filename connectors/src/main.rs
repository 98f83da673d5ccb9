//! The `credence` binary.

use std::process::ExitCode;

/// mimalloc: the engine allocates small, short-lived buffers per message (the NATS client's
/// and its own); glibc's malloc spent a fifth of ingest CPU in `_int_malloc` and
/// `malloc_consolidate` (perf, cpu-clock, replaying 1.3 M events).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use credence_connectors::cli::{Cli, Command, ModelCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_tracing(&cli.log);
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(credence_connectors::serve::run(*args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Demo {
            scale,
            seconds,
            seed,
            rate,
            model,
        } => {
            let model = match model {
                Some(dir) => match credence_models::load_dir(&dir) {
                    Ok(m) => m,
                    Err(e) => {
                        eprintln!("{}: {e}", dir.display());
                        for p in e.problems() {
                            eprintln!("  - {p}");
                        }
                        return ExitCode::FAILURE;
                    }
                },
                None => credence_models::bundled(),
            };
            if !(scale > 0.0 && scale <= 1.0) {
                eprintln!("--scale is in (0, 1]");
                return ExitCode::FAILURE;
            }
            let opts = credence_connectors::demo::DemoOptions {
                scale,
                seconds,
                seed,
                rate,
            };
            match credence_connectors::demo::run(&opts, model, &mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("demo: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Model {
            command: ModelCommand::Check { dir },
        } => match credence_connectors::model_check::check(&dir) {
            Ok(summary) => {
                print!("{summary}");
                ExitCode::SUCCESS
            }
            Err(problems) => {
                eprint!("{problems}");
                ExitCode::FAILURE
            }
        },
    }
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
