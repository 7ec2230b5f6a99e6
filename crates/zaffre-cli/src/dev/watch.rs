//! Live reload: watch each dev app's folder and reload the app when its files
//! change.
//!
//! Events from `notify` are filtered (dot-folders such as `.zaffre/` and
//! `.git/`, `node_modules/`, `tmp/`, `zcli.apps.config.json` and the app's
//! `.zcliignore` entries are not the app), then debounced: a batch is
//! processed once the folder has been quiet for [`QUIET`], so an editor's
//! save-rename-chmod sequence or a `git checkout` is one reload. The reload
//! itself is the server's ([`zaffre_server::dev::reload`]): re-validate,
//! then update the files or report `app.invalid`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use zaffre_domain::AppId;
use zaffre_manifest::{IgnoreRules, Report};
use zaffre_server::dev::ReloadOutcome;
use zaffre_server::AppState;

use super::Printer;

/// How long a folder must be quiet before a batch of changes is reloaded.
pub const QUIET: Duration = Duration::from_millis(200);

/// Watches `apps` (app id, folder) until `stop` is cancelled. The returned
/// watchers must be kept alive for as long as watching should go on.
pub fn start(
    state: AppState,
    apps: Vec<(AppId, PathBuf)>,
    out: Printer,
    stop: CancellationToken,
) -> Result<(Vec<notify::RecommendedWatcher>, tokio::task::JoinHandle<()>)> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(AppId, String)>();
    let mut watchers = Vec::new();
    for (app_id, folder) in &apps {
        let root = folder
            .canonicalize()
            .with_context(|| format!("cannot watch {}", folder.display()))?;
        let tx = tx.clone();
        let app_id = *app_id;
        let watch_root = root.clone();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let Ok(event) = res else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            for path in event.paths {
                if let Some(rel) = relative(&watch_root, &path) {
                    let _ = tx.send((app_id, rel));
                }
            }
        })
        .context("could not start watching files")?;
        watcher
            .watch(&root, RecursiveMode::Recursive)
            .with_context(|| format!("cannot watch {}", root.display()))?;
        watchers.push(watcher);
    }
    let folders: BTreeMap<AppId, PathBuf> = apps.into_iter().collect();
    let task = tokio::spawn(async move {
        loop {
            let first = tokio::select! {
                () = stop.cancelled() => return,
                got = rx.recv() => match got { Some(x) => x, None => return },
            };
            let mut batch: BTreeMap<AppId, BTreeSet<String>> = BTreeMap::new();
            batch.entry(first.0).or_default().insert(first.1);
            // Debounce: keep collecting until the folder has been quiet for QUIET.
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    got = tokio::time::timeout(QUIET, rx.recv()) => match got {
                        Ok(Some((id, rel))) => { batch.entry(id).or_default().insert(rel); }
                        Ok(None) => return,
                        Err(_) => break,
                    },
                }
            }
            for (app_id, paths) in batch {
                let Some(folder) = folders.get(&app_id) else {
                    continue;
                };
                let ignore = ignore_rules(folder);
                let changed: Vec<String> =
                    paths.into_iter().filter(|p| counts(p, &ignore)).collect();
                let changed = drop_vanished_temp_files(&state, app_id, folder, changed).await;
                if changed.is_empty() {
                    continue;
                }
                reload_one(&state, app_id, changed, &out).await;
            }
        }
    });
    Ok((watchers, task))
}

async fn reload_one(state: &AppState, app_id: AppId, changed: Vec<String>, out: &Printer) {
    let name = state
        .dev
        .as_ref()
        .and_then(|d| d.app(app_id))
        .map_or_else(|| format!("app {app_id}"), |a| a.name);
    let list = changed.join(", ");
    match zaffre_server::dev::reload(state, app_id, changed).await {
        Ok(ReloadOutcome::Reloaded { version }) => {
            out(&format!("reloaded {name} (version {version}): {list}"));
        }
        Ok(ReloadOutcome::Invalid { findings }) => {
            let report = Report { findings };
            out(&format!(
                "{name} no longer validates after changes to {list}; the last good version keeps running:"
            ));
            out(super::render_findings(&report).trim_end());
        }
        Err(e) => out(&format!("could not reload {name}: {e}")),
    }
}

/// Leaves out paths that no longer exist and were never app files (an
/// editor's or `sed -i`'s temporary files); a deleted app file stays listed.
async fn drop_vanished_temp_files(
    state: &AppState,
    app_id: AppId,
    folder: &Path,
    changed: Vec<String>,
) -> Vec<String> {
    let Some(account) = state.dev.as_ref().map(|d| d.account) else {
        return changed;
    };
    let mut kept = Vec::with_capacity(changed.len());
    for rel in changed {
        if folder.join(&rel).exists()
            || state
                .store
                .get_app_file(account, app_id, &rel)
                .await
                .is_ok()
        {
            kept.push(rel);
        }
    }
    kept
}

/// The `.zcliignore` rules of a folder, re-read at each batch (it may change too).
fn ignore_rules(folder: &Path) -> IgnoreRules {
    std::fs::read_to_string(folder.join(".zcliignore"))
        .map(|t| IgnoreRules::parse(&t))
        .unwrap_or_default()
}

/// A path relative to the watched root, `/`-separated; `None` outside it.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Whether a change to `rel` concerns the app (what packaging would read).
pub fn counts(rel: &str, ignore: &IgnoreRules) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts
        .iter()
        .any(|p| p.starts_with('.') || *p == "node_modules")
    {
        return false;
    }
    if parts[0] == "tmp" || rel == super::settings::CONFIG_FILE {
        return false;
    }
    !ignore.is_ignored(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_app_files_count() {
        let ignore = IgnoreRules::parse("*.md\nsrc/**\n");
        assert!(counts("assets/iframe.html", &ignore));
        assert!(counts("manifest.json", &ignore));
        assert!(!counts(".zaffre/zaffre.db", &ignore));
        assert!(!counts(".git/index", &ignore));
        assert!(!counts("node_modules/x/index.js", &ignore));
        assert!(!counts("assets/.iframe.html.swp", &ignore));
        assert!(!counts("tmp/app.zip", &ignore));
        assert!(!counts("zcli.apps.config.json", &ignore));
        assert!(!counts("README.md", &ignore));
        assert!(!counts("src/app.js", &ignore));
    }
}
