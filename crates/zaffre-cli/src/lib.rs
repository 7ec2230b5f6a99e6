//! zaffre's command line.
//!
//! Parses the arguments ([`args`]), loads the one configuration struct
//! ([`settings`]: defaults < config file < environment < flags), and runs the
//! command: `serve`, `db migrate`, `user create`, `token create`,
//! `config example`, `app validate|package|new`. Errors are reported once, here, as a readable chain.

pub mod app;
pub mod apptest;
pub mod args;
pub mod bootstrap;
pub mod commands;
pub mod demo;
pub mod dev;
pub mod fixtures;
pub mod logging;
pub mod settings;

use std::process::ExitCode;

use clap::Parser;

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // `zaffre test` tells failed tests (1) from tests that could not run (2).
            ExitCode::from(apptest::exit_code(&e))
        }
    }
}
