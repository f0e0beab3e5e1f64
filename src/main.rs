//! The `parley` binary: parse the command line, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use parley::cli::Cli;

fn main() -> ExitCode {
    parley::memory::limit_arenas();
    let cli = Cli::parse();
    parley::app::init_logging(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("parley: cannot start the async runtime: {error}");
            return ExitCode::from(parley::error::EXIT_FAILURE);
        }
    };
    match runtime.block_on(parley::app::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("parley: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
