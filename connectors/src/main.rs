//! The `credence` binary.

use std::process::ExitCode;

use clap::Parser;
use credence_connectors::cli::{Cli, Command, ModelCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
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
