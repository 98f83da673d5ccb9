//! The `credence` binary.

use std::process::ExitCode;

use clap::Parser;
use credence_connectors::cli::{Cli, Command, ModelCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
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
