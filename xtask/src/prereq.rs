//! What the tests need from the machine, installed when it is missing and can
//! be (Debian's `chromium` and `libnss3-tools` through apt-get as root,
//! JavaScript tooling through `npm ci`), otherwise a failure that names the
//! missing piece. Nothing here lets a test pass by being skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

use crate::{pg, proc};

/// Where Debian's chromium package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Where Debian's libnss3-tools package puts `certutil`.
pub const CERTUTIL: &str = "/usr/bin/certutil";

/// Makes sure Debian's chromium is installed, installing it as root.
pub fn chromium() -> Result<PathBuf> {
    apt_package("chromium", CHROMIUM, "the browser tests")
}

/// Makes sure `certutil` is installed (Debian's libnss3-tools), installing it
/// as root: tests/browser/dev-https.test.mjs trusts `zaffre dev --https`'s CA
/// in a throwaway NSS database, the way Chromium on Linux reads trust anchors.
pub fn certutil() -> Result<PathBuf> {
    apt_package("libnss3-tools", CERTUTIL, "the browser tests")
}

/// Makes sure Debian's `package` is installed, judged by the file `path` it
/// provides, installing it with apt-get as root.
fn apt_package(package: &str, path: &str, needed_by: &str) -> Result<PathBuf> {
    let file = PathBuf::from(path);
    if file.is_file() {
        println!("ok: {package} ({path})");
        return Ok(file);
    }
    if !proc::is_root() {
        bail!(
            "{needed_by} need Debian's {package} ({path}), which is missing, and we are not \
             root: run `sudo apt-get install -y {package}`"
        );
    }
    println!("{path} is missing: installing Debian's {package}");
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        // No prompts: CI has no standard input.
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        proc::run(&mut cmd)
    };
    apt(&["update"]).with_context(|| format!("apt-get update, before installing {package}"))?;
    apt(&["install", "-y", package])
        .with_context(|| format!("installing {package} with apt-get"))?;
    if !file.is_file() {
        bail!("apt-get installed {package}, but {path} is still missing");
    }
    println!("ok: {package} installed ({path})");
    Ok(file)
}

/// node and npm must be there: they are how the JavaScript and browser tests run.
pub fn node_and_npm() -> Result<()> {
    for tool in ["node", "npm"] {
        if proc::find_on_path(tool).is_none() {
            bail!(
                "`{tool}` is not on PATH: the JavaScript and browser tests need Node.js and npm \
                 (Debian: `apt-get install -y nodejs npm`)"
            );
        }
    }
    let version = proc::output(Command::new("node").arg("--version"))?;
    println!("ok: node {version}, npm on PATH");
    Ok(())
}

/// Runs `npm ci` in every folder whose `package-lock.json` is newer than its
/// `node_modules`: the repository root and any folder directly under `tests/`.
pub fn node_modules(root: &Path) -> Result<()> {
    let mut dirs = vec![root.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(root.join("tests")) {
        let mut sub: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("package.json").is_file())
            .collect();
        sub.sort();
        dirs.extend(sub);
    }
    for dir in dirs {
        let shown = dir.strip_prefix(root).unwrap_or(&dir).display().to_string();
        // The root's files are named plainly: "package.json", not "./package.json".
        let slash = if shown.is_empty() { "" } else { "/" };
        let lock = dir.join("package-lock.json");
        if !lock.is_file() {
            if dir.join("package.json").is_file() {
                bail!(
                    "{shown}{slash}package.json has no package-lock.json beside it, so `npm ci` cannot \
                     install exactly what the tests were written against: run `npm install` there \
                     and commit the lock file"
                );
            }
            continue;
        }
        // npm writes node_modules/.package-lock.json on every install, so its
        // age says when node_modules last matched a lock file.
        let installed = dir.join("node_modules").join(".package-lock.json");
        if modified(&installed).is_some_and(|at| Some(at) >= modified(&lock)) {
            println!("ok: {shown}{slash}node_modules is up to date with its package-lock.json");
            continue;
        }
        println!(
            "{shown}{slash}node_modules is missing or older than package-lock.json: running npm ci"
        );
        let mut cmd = Command::new("npm");
        cmd.current_dir(&dir)
            .args(["ci", "--no-audit", "--no-fund"])
            // Never ask: CI has no standard input.
            .env("npm_config_yes", "true");
        proc::run(&mut cmd).with_context(|| format!("npm ci in {}", dir.display()))?;
    }
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The PostgreSQL half of the conformance suite runs when
/// `ZAFFRE_TEST_POSTGRES_URL` is set; then the server must answer.
pub fn postgres() -> Result<()> {
    match std::env::var("ZAFFRE_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => pg::ensure_running(url.trim()),
        _ => {
            println!(
                "note: ZAFFRE_TEST_POSTGRES_URL is not set, so the PostgreSQL half of the \
                 conformance suite is not run here (SQLite always is; .ci/run sets it)"
            );
            Ok(())
        }
    }
}
