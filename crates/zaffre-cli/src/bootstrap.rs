//! First start: an empty database gets its account, its system ticket fields
//! and an admin, so that `zaffre serve` on a fresh machine is immediately usable.

use anyhow::{Context, Result};
use zaffre_domain::{Account, NewUser, Role};
use zaffre_store::Store;

/// The subdomain of the account created on first start.
pub const DEFAULT_SUBDOMAIN: &str = "support";
/// The admin's email when `ZAFFRE_ADMIN_EMAIL` is not set.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@example.com";

/// What first start did, for the banner.
#[derive(Debug)]
pub struct FirstStart {
    pub account: Account,
    /// Set when an admin was created: their email and, if zaffre chose it, the password.
    pub admin: Option<(String, Option<String>)>,
}

/// Makes sure the default account, its system fields and an admin exist.
pub async fn ensure_ready(store: &dyn Store, env: &dyn Fn(&str) -> Option<String>) -> Result<FirstStart> {
    let account = match store.default_account().await.context("could not read accounts")? {
        Some(account) => account,
        None => {
            let subdomain = env("ZAFFRE_ACCOUNT_SUBDOMAIN").unwrap_or_else(|| DEFAULT_SUBDOMAIN.to_owned());
            store.create_account(&subdomain, "zaffre").await.context("could not create the account")?
        }
    };
    store.ensure_system_fields(account.id).await.context("could not create the system ticket fields")?;

    let mut admin = None;
    if store.count_users(account.id).await.context("could not count users")? == 0 {
        let email = env("ZAFFRE_ADMIN_EMAIL").unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_owned());
        let (password, generated) = match env("ZAFFRE_ADMIN_PASSWORD") {
            Some(p) if !p.is_empty() => (p, false),
            _ => (zaffre_server::auth::random_token(), true),
        };
        let hash = zaffre_server::auth::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
        let user = NewUser {
            name: "Admin".into(),
            email: email.to_lowercase(),
            role: Role::Admin,
            organization_id: None,
            time_zone: "UTC".into(),
            locale: "en-US".into(),
            password_hash: Some(hash),
        };
        store.create_user(account.id, &user).await.with_context(|| format!("could not create the admin {email}"))?;
        admin = Some((email, generated.then_some(password)));
    }
    Ok(FirstStart { account, admin })
}
