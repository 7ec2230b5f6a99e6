//! Finding and starting headless Chromium for `zaffre test`.
//!
//! The browser gets nothing but a sign-in link: the test runner lives in the
//! app's page (see `zaffre_server::apptest`), so no remote-control protocol
//! is needed, only a browser that stays open until it is killed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context as _};
use tokio::process::{Child, Command};

/// The names tried on `PATH`, in order.
const NAMES: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The browser to use: `explicit` (`--chromium`), else `$CHROMIUM`, else
/// `$CHROME`, else the first of [`NAMES`] on `PATH`.
pub fn find(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
    path_var: Option<OsString>,
) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return check(p.to_path_buf(), "--chromium");
    }
    for var in ["CHROMIUM", "CHROME"] {
        if let Some(p) = env(var).filter(|v| !v.is_empty()) {
            return check(PathBuf::from(p), &format!("${var}"));
        }
    }
    if let Some(path) = path_var {
        for dir in std::env::split_paths(&path) {
            for name in NAMES {
                let candidate = dir.join(name);
                if is_executable(&candidate) {
                    return Ok(candidate);
                }
            }
        }
    }
    bail!(
        "no Chromium found: pass --chromium PATH, set $CHROMIUM or $CHROME, or install one of {} \
         (Debian: apt-get install chromium)",
        NAMES.join(", ")
    )
}

fn check(path: PathBuf, from: &str) -> anyhow::Result<PathBuf> {
    if is_executable(&path) {
        Ok(path)
    } else {
        bail!(
            "{from} names {}, which is not an executable file",
            path.display()
        )
    }
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Starts `browser` headless on `url` with a throwaway profile under
/// `profile`; its output goes to `log`. Killed when the handle is dropped.
pub fn launch(browser: &Path, url: &str, profile: &Path, log: &Path) -> anyhow::Result<Child> {
    let log_file = std::fs::File::create(log)
        .with_context(|| format!("could not create {}", log.display()))?;
    let log_err = log_file
        .try_clone()
        .context("could not share the browser log")?;
    Command::new(browser)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("could not start {}", browser.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_then_env_then_path() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("chromium");
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let none = |_: &str| None;
        let path = Some(dir.path().as_os_str().to_owned());
        assert_eq!(find(None, &none, path.clone()).unwrap(), fake);
        assert_eq!(find(Some(&fake), &none, None).unwrap(), fake);
        let env = |k: &str| (k == "CHROME").then(|| fake.display().to_string());
        assert_eq!(find(None, &env, None).unwrap(), fake);

        let missing = dir.path().join("nope");
        let err = find(Some(&missing), &none, path).unwrap_err().to_string();
        assert!(
            err.contains("--chromium names") && err.contains("nope"),
            "{err}"
        );
        let bad_env = |k: &str| (k == "CHROMIUM").then(|| "/no/such/browser".to_owned());
        let err = find(None, &bad_env, None).unwrap_err().to_string();
        assert!(err.contains("$CHROMIUM names /no/such/browser"), "{err}");
        let err = find(None, &none, Some(OsString::from("/no/such/dir")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no Chromium found"), "{err}");
    }
}
