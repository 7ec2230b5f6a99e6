//! `cargo xtask fuzz`: runs the cargo-fuzz targets of `crates/zaffre-manifest`
//! (the manifest parser and the zip reader) for a bounded time each.
//!
//! Fuzzing needs a nightly toolchain (libFuzzer's sanitizer flags) and the
//! `cargo-fuzz` subcommand. This installs `cargo-fuzz` from crates.io when it
//! is missing, and fails naming the missing piece when nightly is absent: a
//! fuzz run that did not run must not look like a clean one.

use std::process::Command;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::proc;

/// The targets in `crates/zaffre-manifest/fuzz/fuzz_targets`.
const TARGETS: &[&str] = &["manifest", "zip_reader"];

/// Options of `cargo xtask fuzz`.
#[derive(Debug, Args)]
pub struct FuzzArgs {
    /// Seconds to fuzz each target.
    #[arg(long, default_value_t = 60)]
    seconds: u32,
    /// Only this target (default: all).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(TARGETS))]
    target: Option<String>,
}

/// Runs every (or the chosen) fuzz target for `seconds` each.
pub fn run(args: &FuzzArgs) -> Result<()> {
    let root = proc::workspace_root();
    let fuzz_dir = root.join("crates/zaffre-manifest/fuzz");
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output();
    if !nightly.is_ok_and(|o| o.status.success()) {
        bail!("fuzzing needs a nightly toolchain (`rustup toolchain install nightly`), and none is installed");
    }
    let has_cargo_fuzz = proc::cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        proc::run(proc::cargo().args(["install", "cargo-fuzz", "--locked"]))
            .context("could not install cargo-fuzz from crates.io")?;
    }
    let chosen: Vec<&str> = match &args.target {
        Some(t) => vec![t.as_str()],
        None => TARGETS.to_vec(),
    };
    for target in chosen {
        println!("==== fuzzing {target} for {} s ====", args.seconds);
        // libFuzzer exits non-zero on a crash and leaves the input under artifacts/.
        proc::run(
            Command::new("cargo")
                .current_dir(&fuzz_dir)
                .env_remove("CARGO")
                .args(["+nightly", "fuzz", "run", target, "--"])
                .arg(format!("-max_total_time={}", args.seconds)),
        )
        .with_context(|| format!("the fuzz target {target} found a failure (see crates/zaffre-manifest/fuzz/artifacts/{target})"))?;
    }
    println!("fuzzing finished: no failures");
    Ok(())
}
