//! What a proxied call needs to know about its installation, kept for a few
//! seconds so that a busy app's calls do not each read the installation, the
//! app, the account and the sealed secure settings, parse the manifest and
//! decrypt every secure value again.
//!
//! An entry ([`ProxyEntry`]) is keyed by (account, installation) and holds
//! the installation as stored (with `enabled`) and the proxy's
//! [`InstallationContext`] built from it ([`super::context`]): plain and
//! opened secure settings with their scopes, `domainWhitelist`, the account's
//! subdomain. Secure values live only there, as [`zaffre_proxy::SettingValue`]s
//! whose `Debug` prints `[redacted]`; [`ProxyEntry`] has no `Debug` or
//! `Serialize` of its own, and nothing here logs.
//!
//! # How stale an entry can be
//! It uses [`crate::cache`]'s expiring map with the same rules:
//! - **On this node, never.** Every write that could change an entry goes
//!   through the Apps API or `zaffre dev`, whose shared functions
//!   ([`crate::api::apps::install_app`], [`crate::api::apps::change_installation`])
//!   and handlers (app update and deletion, uninstall) call
//!   [`ProxyContextCache::invalidate_account`] after writing. So a disabled
//!   installation is refused, and a changed secure setting or manifest used,
//!   from the very next call on this node. A read that raced with the write
//!   is not stored (the map's generation number).
//! - **Elsewhere, at most [`PROXY_CONTEXT_TTL`].** A change made on another
//!   node (or by the CLI against the same database) is seen here once the
//!   entry expires: for up to that long after disabling an installation,
//!   another node may still proxy its calls with the old settings.
//!
//! Failures (no such installation, an unreadable manifest, a secret that does
//! not open) are never cached.

use std::sync::Arc;
use std::time::{Duration, Instant};

use zaffre_domain::apps::{Installation, SecretValue};
use zaffre_domain::{AccountId, InstallationId};
use zaffre_proxy::InstallationContext;

use super::context::{installation_context, ContextParts};
use crate::cache::TtlMap;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long an installation's proxy context is reused without reading the
/// store: bounds how long a change made on another node takes to apply here.
pub const PROXY_CONTEXT_TTL: Duration = Duration::from_secs(5);

/// Most installations whose contexts are kept.
const MAX_ENTRIES: usize = 10_000;

/// One installation as the proxy sees it. The context's `user_id` is 0: the
/// caller's id is set per call.
pub struct ProxyEntry {
    pub installation: Installation,
    pub context: InstallationContext,
}

/// Installation contexts by (account, installation). Cheap to clone.
#[derive(Clone)]
pub struct ProxyContextCache {
    map: Arc<TtlMap<(AccountId, InstallationId), Arc<ProxyEntry>>>,
}

impl Default for ProxyContextCache {
    fn default() -> Self {
        ProxyContextCache {
            map: Arc::new(TtlMap::new(PROXY_CONTEXT_TTL, MAX_ENTRIES)),
        }
    }
}

impl ProxyContextCache {
    /// The installation and its context, from the cache when they were read
    /// less than [`PROXY_CONTEXT_TTL`] ago, else from the store.
    pub async fn get(
        &self,
        state: &AppState,
        account: AccountId,
        id: InstallationId,
    ) -> ApiResult<Arc<ProxyEntry>> {
        let key = (account, id);
        if let Some(entry) = self.map.get(&key) {
            return Ok(entry);
        }
        let generation = self.map.generation();
        let asked = Instant::now();
        let entry = Arc::new(load(state, account, id).await?);
        self.map.insert(key, Arc::clone(&entry), generation, asked);
        Ok(entry)
    }

    /// Forgets every installation of the account: call after writing an
    /// installation, its settings or an app of the account.
    pub fn invalidate_account(&self, account: AccountId) {
        self.map.invalidate(|(a, _), _| *a == account);
    }
}

/// Reads the installation, its app (manifest), the account's subdomain and
/// the sealed secure settings, and opens them.
async fn load(state: &AppState, account: AccountId, id: InstallationId) -> ApiResult<ProxyEntry> {
    let installation = state.store.get_installation(account, id).await?;
    let app = state.store.get_app(account, installation.app_id).await?;
    let manifest = crate::api::apps::manifest_of(&app)
        .ok_or_else(|| ApiError::Internal(format!("app {} has an unreadable manifest", app.id)))?;
    let subdomain = state.store.get_account(account).await?.subdomain;
    let sealed = state
        .store
        .get_installation_secrets(account, installation.id)
        .await?;
    let secrets = sealed
        .iter()
        .map(|s| {
            let value: SecretValue = state.secrets.open(account, installation.id, s)?;
            Ok((s.name.clone(), value))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let context = installation_context(ContextParts {
        account_id: account.get(),
        account_subdomain: &subdomain,
        installation_id: installation.id.get(),
        app_id: installation.app_id.get(),
        user_id: 0,
        manifest: &manifest,
        plain_settings: &installation.settings,
        secrets,
    });
    Ok(ProxyEntry {
        installation,
        context,
    })
}
