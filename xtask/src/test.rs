//! `cargo xtask test`: the one command that runs every test.
//!
//! The steps run in a fixed order and the first failure stops the run with a
//! non-zero exit: prerequisites, `cargo fmt --check`, the debug build (the
//! browser tests drive `target/debug/zaffre`), `cargo test`, `cargo clippy`
//! (after the tests, so a lint never hides a test result), the TypeScript type
//! check, then node's test runner over the JavaScript and browser tests. A
//! closing summary lists every step and adds up the test counts.
//!
//! `--only rust,js,browser` narrows the run and `--skip fmt,clippy,tsc` leaves
//! out checks, for local work; CI runs the default, which is everything.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};

use crate::prereq;
use crate::proc::{self, Counts, Runner};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Run only these groups (comma-separated or repeated). Default: all of them.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Group>,
    /// Leave out these checks, for quicker local runs (CI never passes this).
    #[arg(long, value_enum, value_delimiter = ',')]
    skip: Vec<Check>,
}

/// Checks that `--skip` can leave out; tests themselves cannot be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Check {
    /// cargo fmt --check.
    Fmt,
    /// cargo clippy.
    Clippy,
    /// The TypeScript type check.
    Tsc,
}

/// The groups of steps `--only` can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Group {
    /// cargo fmt, cargo test (both storage engines when configured), clippy.
    Rust,
    /// TypeScript type check and the JavaScript tests under tests/ (not tests/browser).
    Js,
    /// The browser tests under tests/browser, in Debian's chromium.
    Browser,
}

/// Shared state the steps read and write.
struct Ctx {
    root: PathBuf,
    zaffre_bin: PathBuf,
    counts: Counts,
    /// A short note a step leaves for the summary line (e.g. its test counts).
    note: Option<String>,
}

type StepFn = Box<dyn FnOnce(&mut Ctx) -> Result<()>>;

struct Step {
    title: &'static str,
    run: StepFn,
}

enum Outcome {
    Ok,
    Failed,
    NotRun,
}

pub fn run(args: &TestArgs) -> Result<()> {
    let groups = if args.only.is_empty() {
        vec![Group::Rust, Group::Js, Group::Browser]
    } else {
        args.only.clone()
    };
    let has = |g: Group| groups.contains(&g);
    let root = proc::workspace_root();
    let zaffre_bin = proc::target_dir(&root).join("debug").join("zaffre");
    let mut ctx = Ctx {
        root,
        zaffre_bin,
        counts: Counts::default(),
        note: None,
    };

    let steps = plan(
        has(Group::Rust),
        has(Group::Js),
        has(Group::Browser),
        &args.skip,
    );
    if !args.skip.is_empty() {
        println!("note: leaving out {:?} as asked (--skip)", args.skip);
    }
    let total = steps.len();
    let mut results: Vec<(&'static str, Outcome, Duration, Option<String>)> = Vec::new();
    let mut failure = None;
    for (i, step) in steps.into_iter().enumerate() {
        if failure.is_some() {
            results.push((step.title, Outcome::NotRun, Duration::ZERO, None));
            continue;
        }
        println!("\n==== [{}/{total}] {} ====", i + 1, step.title);
        proc::flush();
        let started = Instant::now();
        let result = (step.run)(&mut ctx);
        let elapsed = started.elapsed();
        let note = ctx.note.take();
        match result {
            Ok(()) => results.push((step.title, Outcome::Ok, elapsed, note)),
            Err(err) => {
                results.push((step.title, Outcome::Failed, elapsed, note));
                failure = Some(err.context(format!("step \"{}\" failed", step.title)));
            }
        }
    }

    println!("\n==== Summary ====");
    for (title, outcome, elapsed, note) in &results {
        let (word, time) = match outcome {
            Outcome::Ok => ("ok", format!("{:>7.1} s", elapsed.as_secs_f64())),
            Outcome::Failed => ("FAILED", format!("{:>7.1} s", elapsed.as_secs_f64())),
            Outcome::NotRun => ("not run", String::new()),
        };
        let note = note.as_deref().unwrap_or("");
        println!("  {word:<8} {title:<44} {time:>9}  {note}");
    }
    if let Some(err) = &failure {
        println!("\nFAILED: {err:#}");
    } else {
        println!("\nAll {total} steps passed.");
    }
    let c = ctx.counts;
    // The closing line, in the plain form CI reads: "tests: N passed, N failed, N skipped".
    println!(
        "tests: {} passed, {} failed, {} skipped",
        c.passed, c.failed, c.skipped
    );
    proc::flush();
    match failure {
        Some(_) => Err(proc::Reported.into()),
        None => Ok(()),
    }
}

fn plan(rust: bool, js: bool, browser: bool, skip: &[Check]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    steps.push(Step {
        title: "Prerequisites",
        run: Box::new(move |ctx| {
            // The Rust tests need it too: crates/zaffre-cli/tests/apptest.rs runs `zaffre test`.
            if browser || rust {
                prereq::chromium()?;
            }
            if browser {
                prereq::certutil()?;
            }
            if js || browser {
                prereq::node_and_npm()?;
                prereq::node_modules(&ctx.root)?;
            }
            if rust {
                prereq::postgres()?;
            }
            Ok(())
        }),
    });
    if rust && !skip.contains(&Check::Fmt) {
        steps.push(Step {
            title: "Formatting (cargo fmt --check)",
            run: Box::new(|ctx| {
                proc::run(
                    proc::cargo()
                        .current_dir(&ctx.root)
                        .args(["fmt", "--all", "--", "--check"]),
                )
                .context("formatting differs: run `cargo fmt --all`")
            }),
        });
    }
    // Always built: the JavaScript and browser tests start target/debug/zaffre.
    steps.push(Step {
        title: "Build (cargo build --workspace --bins)",
        run: Box::new(|ctx| {
            proc::run(
                proc::cargo()
                    .current_dir(&ctx.root)
                    .args(["build", "--workspace", "--bins"]),
            )
        }),
    });
    if rust {
        steps.push(Step {
            title: "Rust tests (cargo test --workspace)",
            run: Box::new(|ctx| {
                let (counts, result) = proc::run_counting(
                    proc::cargo()
                        .current_dir(&ctx.root)
                        // Every test binary runs even when an earlier one fails,
                        // so one run shows every failure.
                        .args(["test", "--workspace", "--no-fail-fast"]),
                    Runner::Cargo,
                );
                record_counts(ctx, counts);
                result
            }),
        });
        if !skip.contains(&Check::Clippy) {
            steps.push(Step {
                title: "Lints (cargo clippy -D warnings)",
                run: Box::new(|ctx| {
                    proc::run(proc::cargo().current_dir(&ctx.root).args([
                        "clippy",
                        "--workspace",
                        "--all-targets",
                        "--",
                        "-D",
                        "warnings",
                    ]))
                }),
            });
        }
    }
    if js && !skip.contains(&Check::Tsc) {
        steps.push(Step {
            title: "TypeScript type check (tsc)",
            run: Box::new(|ctx| typecheck(&ctx.root)),
        });
    }
    if js {
        steps.push(Step {
            title: "JavaScript tests (node --test, tests/)",
            run: Box::new(|ctx| {
                let files = test_files(&ctx.root)?
                    .into_iter()
                    .filter(|f| !f.starts_with("tests/browser"))
                    .collect();
                node_tests(ctx, files, "tests/ (outside tests/browser)")
            }),
        });
    }
    if browser {
        steps.push(Step {
            title: "Browser tests (node --test, tests/browser)",
            run: Box::new(|ctx| {
                let files = test_files(&ctx.root)?
                    .into_iter()
                    .filter(|f| f.starts_with("tests/browser"))
                    .collect();
                node_tests(ctx, files, "tests/browser")
            }),
        });
    }
    steps
}

fn record_counts(ctx: &mut Ctx, counts: Counts) {
    ctx.counts.add(counts);
    ctx.note = Some(format!(
        "{} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.skipped
    ));
}

/// Type-checks the browser code with the project's own TypeScript.
fn typecheck(root: &Path) -> Result<()> {
    if !root.join("tsconfig.json").is_file() {
        bail!(
            "tsconfig.json is missing at the repository root, so the browser code cannot be \
             type-checked; it belongs with the web UI's TypeScript"
        );
    }
    let tsc = root.join("node_modules").join(".bin").join("tsc");
    if !tsc.is_file() {
        bail!(
            "node_modules/.bin/tsc is missing: add `typescript` to the devDependencies in \
             package.json and commit package-lock.json (npm ci installs it from there)"
        );
    }
    proc::run(
        Command::new(tsc)
            .current_dir(root)
            .args(["-p", "tsconfig.json"]),
    )
}

/// Runs node's test runner over `files`, one file at a time (the browser tests
/// share one machine's ports and a browser, so they must not overlap).
fn node_tests(ctx: &mut Ctx, files: Vec<String>, place: &str) -> Result<()> {
    if files.is_empty() {
        println!("no *.test.mjs files under {place}: nothing to run");
        ctx.note = Some("no test files".into());
        return Ok(());
    }
    if !ctx.zaffre_bin.is_file() {
        bail!(
            "{} is missing after the build step; the tests need it in ZAFFRE_BIN",
            ctx.zaffre_bin.display()
        );
    }
    let mut cmd = Command::new("node");
    cmd.current_dir(&ctx.root)
        .args([
            "--test",
            "--test-concurrency=1",
            // Named explicitly: node picks TAP when stdout is not a terminal,
            // and the spec reporter reads better in CI logs.
            "--test-reporter=spec",
        ])
        .args(&files)
        .env("ZAFFRE_BIN", &ctx.zaffre_bin)
        .env("ZAFFRE_CHROMIUM", prereq::CHROMIUM);
    let (counts, result) = proc::run_counting(&mut cmd, Runner::Node);
    record_counts(ctx, counts);
    result?;
    if counts.passed + counts.failed == 0 {
        bail!("node ran {} test file(s) but reported no test", files.len());
    }
    Ok(())
}

/// Every `*.test.mjs` (or `.test.js`, `.test.cjs`) under `tests/`, as paths
/// relative to the root with `/` separators, sorted. `node_modules` and
/// hidden folders are not searched.
fn test_files(root: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![root.join("tests")];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if name != "node_modules" && !name.starts_with('.') {
                    pending.push(path);
                }
            } else if is_test_file(&name) {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                found.push(
                    rel.components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
        }
    }
    found.sort();
    Ok(found)
}

fn is_test_file(name: &str) -> bool {
    [".test.mjs", ".test.js", ".test.cjs"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_files_are_recognised() {
        assert!(is_test_file("tickets.test.mjs"));
        assert!(is_test_file("a.test.js"));
        assert!(!is_test_file("helpers.mjs"));
        assert!(!is_test_file("test.mjs"));
    }

    #[test]
    fn test_files_are_found_outside_node_modules() {
        let dir = std::env::temp_dir().join(format!("xtask-test-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for file in [
            "tests/browser/b.test.mjs",
            "tests/browser/helpers.mjs",
            "tests/web/a.test.mjs",
            "tests/browser/node_modules/x/y.test.mjs",
        ] {
            let path = dir.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let found = test_files(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found, ["tests/browser/b.test.mjs", "tests/web/a.test.mjs"]);
    }
}
