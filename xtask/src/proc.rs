//! Running child processes the way every xtask command wants them run: echoed
//! before they start, with a failure that names the command, and, for test
//! runners, their standard output read line by line so the closing summary can
//! add up how many tests passed and failed.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// The workspace root: xtask lives one folder below it, and cargo tells us
/// where xtask's manifest is at compile time, whatever the current directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// cargo's target directory, honouring `CARGO_TARGET_DIR` like cargo does.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

/// The cargo that started us (cargo sets `CARGO` for `cargo run`), so a
/// toolchain chosen with `cargo +x xtask` is used for the nested builds too.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A command as a person would type it, for echoing and error messages.
pub fn display(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program())
        .file_name()
        .unwrap_or_else(|| cmd.get_program())
        .to_string_lossy()
        .into_owned();
    std::iter::once(program)
        .chain(cmd.get_args().map(quote))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(arg: &OsStr) -> String {
    let arg = arg.to_string_lossy();
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@+%".contains(c))
    {
        arg.into_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Runs `cmd` with inherited standard streams; fails unless it exits 0.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = display(cmd);
    println!("$ {shown}");
    flush();
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs `cmd` and returns its standard output, trimmed; fails unless it exits 0.
pub fn output(cmd: &mut Command) -> Result<String> {
    let shown = display(cmd);
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !out.status.success() {
        bail!("`{shown}` failed ({})", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Test counts read off a test runner's closing lines.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

/// Which test runner's summary lines to look for.
#[derive(Debug, Clone, Copy)]
pub enum Runner {
    /// libtest: `test result: ok. 3 passed; 0 failed; 1 ignored; ...`, once per test binary.
    Cargo,
    /// node's test runner: `ℹ pass 3` (spec reporter) or `# pass 3` (TAP).
    Node,
}

/// Runs a test runner, echoing its standard output as it comes, and adds up
/// the counts it reports. The counts are returned even when the runner fails,
/// so the summary can show them; the error says the command failed.
pub fn run_counting(cmd: &mut Command, runner: Runner) -> (Counts, Result<()>) {
    let shown = display(cmd);
    println!("$ {shown}");
    flush();
    let mut child = match cmd.stdout(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(err) => {
            return (
                Counts::default(),
                Err(err).with_context(|| format!("could not start `{shown}`")),
            )
        }
    };
    let mut counts = Counts::default();
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout().lock();
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            // Echo failures are not worth stopping the tests for.
            let _ = out.write_all(&line);
            let _ = out.write_all(b"\n");
            let _ = out.flush();
            let text = String::from_utf8_lossy(&line);
            match runner {
                Runner::Cargo => {
                    if let Some(c) = parse_libtest_result(&text) {
                        counts.add(c);
                    }
                }
                Runner::Node => apply_node_summary(&text, &mut counts),
            }
        }
    }
    let result = match child.wait() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(anyhow::anyhow!("`{shown}` failed ({status})")),
        Err(err) => Err(err).with_context(|| format!("waiting for `{shown}`")),
    };
    (counts, result)
}

/// Parses libtest's per-binary closing line.
pub fn parse_libtest_result(line: &str) -> Option<Counts> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let mut counts = Counts::default();
    for part in rest.split(';') {
        // The first part reads "ok. 3 passed" or "FAILED. 3 passed".
        let part = part.rsplit(". ").next().unwrap_or(part).trim();
        let mut words = part.split_whitespace();
        let (Some(n), Some(what)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(n) = n.parse::<u64>() else { continue };
        match what {
            "passed" => counts.passed += n,
            "failed" => counts.failed += n,
            "ignored" => counts.skipped += n,
            _ => {}
        }
    }
    Some(counts)
}

/// Reads node's closing summary lines (`ℹ pass 3`, `# fail 0`, ...). Each
/// appears once per run, so the values are set rather than added.
pub fn apply_node_summary(line: &str, counts: &mut Counts) {
    let line = line.trim();
    let Some(rest) = line.strip_prefix("ℹ ").or_else(|| line.strip_prefix("# ")) else {
        return;
    };
    let mut words = rest.split_whitespace();
    let (Some(what), Some(n), None) = (words.next(), words.next(), words.next()) else {
        return;
    };
    let Ok(n) = n.parse::<u64>() else { return };
    match what {
        "pass" => counts.passed = n,
        // A cancelled test did not pass; count it with the failures.
        "fail" => counts.failed = n,
        "cancelled" => counts.failed += n,
        "skipped" => counts.skipped = n,
        "todo" => counts.skipped += n,
        _ => {}
    }
}

/// Whether `name` is an executable somewhere on `PATH`.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Whether we run as root, read from `/proc` so no libc binding is needed.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                // The fields are real, effective, saved and filesystem uid.
                .and_then(|uids| uids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// An error whose details a command has already printed, so `main` only
/// sets the exit code.
#[derive(Debug)]
pub struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed (reported above)")
    }
}

impl std::error::Error for Reported {}

/// Flushes stdout so our own lines appear before a child's output.
pub fn flush() {
    let _ = std::io::stdout().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtest_lines_are_counted() {
        let ok = "test result: ok. 12 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(
            parse_libtest_result(ok),
            Some(Counts {
                passed: 12,
                failed: 0,
                skipped: 2
            })
        );
        let failed = "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s";
        assert_eq!(
            parse_libtest_result(failed),
            Some(Counts {
                passed: 3,
                failed: 1,
                skipped: 0
            })
        );
        assert_eq!(parse_libtest_result("test foo ... ok"), None);
    }

    #[test]
    fn node_summaries_are_read() {
        let mut counts = Counts::default();
        for line in [
            "ℹ tests 5",
            "ℹ pass 3",
            "ℹ fail 1",
            "ℹ cancelled 1",
            "ℹ skipped 0",
            "ℹ todo 0",
            "ℹ duration_ms 12.5",
            "# pass nothing",
            "ℹ pass 3 extra",
        ] {
            apply_node_summary(line, &mut counts);
        }
        assert_eq!(
            counts,
            Counts {
                passed: 3,
                failed: 2,
                skipped: 0
            }
        );
    }

    #[test]
    fn commands_are_displayed_quoted() {
        let mut cmd = Command::new("/usr/bin/psql");
        cmd.args(["-c", "CREATE DATABASE x", "it's"]);
        assert_eq!(display(&cmd), r"psql -c 'CREATE DATABASE x' 'it'\''s'");
    }
}
