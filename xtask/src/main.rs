//! `cargo xtask`: zaffre's project automation, written in Rust so that it needs
//! nothing on the machine but cargo.
//!
//! - `cargo xtask test` runs every test the project has (the README's second
//!   command, and the one `.ci/run` calls): prerequisites, formatting, the Rust
//!   build and tests, lints, the TypeScript type check, and the JavaScript and
//!   browser tests.
//! - `cargo xtask fuzz` runs the package reader's fuzz targets for a while.
//! - `cargo xtask bench api` measures the REST API of a release build on
//!   loopback and can record the figures in `docs/benchmarks.md`.
//! - `cargo xtask bench proxy` measures the egress proxy against a direct
//!   call and nginx, the same way.
//! - `cargo xtask bench sdk` measures the ZAF SDK's round trips and app
//!   registration in headless Chromium (see [`bench_sdk`]).
//!
//! Modules: [`test`] plans and runs the test steps, [`prereq`] checks and
//! installs what they need, [`pg`] holds the few PostgreSQL chores both commands
//! share, [`proc`] runs child processes, [`bench`] drives the server for a
//! benchmark, [`bench_proxy`] the proxy benchmark, [`loadgen`] is the HTTP load generator, and [`record`] writes the
//! benchmark figures and machine facts to the docs.

mod bench;
mod bench_proxy;
mod bench_sdk;
mod fuzz;
mod loadgen;
mod pg;
mod prereq;
mod proc;
mod record;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// zaffre's project automation.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every test: prerequisites, fmt, build, cargo test, clippy, tsc, JS and browser tests.
    Test(test::TestArgs),
    /// Fuzz the manifest parser and the zip reader for a bounded time.
    Fuzz(fuzz::FuzzArgs),
    /// Measure performance (a benchmark, not a timed test).
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

#[derive(Debug, Subcommand)]
enum BenchTarget {
    /// Ticket reads and updates over the REST API, on SQLite and PostgreSQL.
    Api(bench::ApiArgs),
    /// The egress proxy endpoint against a direct call and nginx `proxy_pass`.
    Proxy(bench_proxy::ProxyArgs),
    /// The ZAF SDK in headless Chromium: get round trips, bulk get, registration, sizes.
    Sdk(bench_sdk::SdkArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Test(args) => test::run(&args),
        Command::Fuzz(args) => fuzz::run(&args),
        Command::Bench {
            target: BenchTarget::Api(args),
        } => bench::run_api(&args),
        Command::Bench {
            target: BenchTarget::Proxy(args),
        } => bench_proxy::run(&args),
        Command::Bench {
            target: BenchTarget::Sdk(args),
        } => bench_sdk::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.is::<proc::Reported>() => ExitCode::FAILURE,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line, which reads
            // better at the end of a long CI log than a multi-line backtrace.
            eprintln!("\nxtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
