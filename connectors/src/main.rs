//! The `credence` binary: parses the command line and runs one command.

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use credence_connectors::cli::{Cli, Command, ModelCommand};
use credence_models::Model;

/// mimalloc: the engine allocates small, short-lived buffers per message (the NATS client's
/// and its own); glibc's malloc spent a fifth of ingest CPU in `_int_malloc` and
/// `malloc_consolidate` (perf, cpu-clock, replaying 1.3 M events).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_tracing(&cli.log);
            runtime(true).map_or(ExitCode::FAILURE, |rt| {
                match rt.block_on(credence_connectors::serve::run(*args)) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        tracing::error!("{e:#}");
                        ExitCode::FAILURE
                    }
                }
            })
        }
        Command::Demo {
            scale,
            seconds,
            seed,
            rate,
            model,
            http,
            nats,
            in_process,
        } => {
            init_tracing(if cli.log == "info" { "warn" } else { &cli.log });
            let model_obj = match &model {
                Some(dir) => match load_model(dir) {
                    Some(m) => m,
                    None => return ExitCode::FAILURE,
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
                http,
                nats,
                in_process,
                model_dir: model,
            };
            let Some(rt) = runtime(true) else {
                return ExitCode::FAILURE;
            };
            match rt.block_on(credence_connectors::demo::run(opts, model_obj)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("demo: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::VerifyReceipts {
            nats,
            nats_creds,
            file,
            dump,
        } => verify_receipts(&nats, nats_creds, file, dump),
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
        Command::Model {
            command:
                ModelCommand::Push {
                    dir,
                    nats,
                    nats_creds,
                },
        } => {
            init_tracing(&cli.log);
            let Some(model) = load_model(&dir) else {
                return ExitCode::FAILURE;
            };
            let Some(rt) = runtime(false) else {
                return ExitCode::FAILURE;
            };
            match rt.block_on(credence_connectors::nats::push_model(
                &nats, nats_creds, &model,
            )) {
                Ok(seq) => {
                    println!(
                        "pushed model {} {} ({}) as control event seq {seq}",
                        model.name, model.version, model.content_hash
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("model push: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn verify_receipts(
    nats: &str,
    creds: Option<std::path::PathBuf>,
    file: Option<std::path::PathBuf>,
    dump: Option<std::path::PathBuf>,
) -> ExitCode {
    use credence_connectors::receipts;
    let lines: Result<Vec<receipts::Line>, String> = match file {
        Some(path) => std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(|text| {
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .enumerate()
                    .map(|(i, l)| {
                        serde_json::from_str(l)
                            .map_err(|e| format!("line {}: not a receipt ({e})", i + 1))
                    })
                    .collect()
            }),
        None => match runtime(false) {
            Some(rt) => rt.block_on(async {
                let opts = credence_connectors::nats::NatsOptions {
                    url: nats.to_owned(),
                    creds,
                    name: "credence-verify-receipts".into(),
                    ..Default::default()
                };
                let client =
                    credence_connectors::nats::connect(&opts, std::time::Duration::from_secs(10))
                        .await
                        .map_err(|e| e.to_string())?;
                let js = async_nats::jetstream::new(client);
                receipts::read_all(&js).await.map_err(|e| e.to_string())
            }),
            None => Err("no runtime".into()),
        },
    };
    let lines = match lines {
        Ok(l) => l,
        Err(e) => {
            eprintln!("verify-receipts: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = dump {
        let text: String = lines
            .iter()
            .filter_map(|l| serde_json::to_string(l).ok())
            .map(|l| l + "\n")
            .collect();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    match receipts::verify(&lines) {
        Ok(s) => {
            println!(
                "receipts verified: {} receipts in {} chains, every hash and link intact",
                s.receipts, s.chains
            );
            ExitCode::SUCCESS
        }
        Err(first_break) => {
            println!("receipts BROKEN: {first_break}");
            ExitCode::FAILURE
        }
    }
}

/// Loads a model directory, printing every problem on failure.
fn load_model(dir: &Path) -> Option<Model> {
    match credence_models::load_dir(dir) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            for p in e.problems() {
                eprintln!("  - {p}");
            }
            None
        }
    }
}

fn runtime(multi_thread: bool) -> Option<tokio::runtime::Runtime> {
    let built = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    built.map_err(|e| eprintln!("runtime: {e}")).ok()
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: logs read by tools and tests stay plain text.
    use std::io::IsTerminal as _;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
