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
pub async fn ensure_ready(
    store: &dyn Store,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<FirstStart> {
    let account = match store
        .default_account()
        .await
        .context("could not read accounts")?
    {
        Some(account) => account,
        None => {
            let subdomain =
                env("ZAFFRE_ACCOUNT_SUBDOMAIN").unwrap_or_else(|| DEFAULT_SUBDOMAIN.to_owned());
            store
                .create_account(&subdomain, "zaffre")
                .await
                .context("could not create the account")?
        }
    };
    store
        .ensure_system_fields(account.id)
        .await
        .context("could not create the system ticket fields")?;

    let mut admin = None;
    if store
        .count_users(account.id)
        .await
        .context("could not count users")?
        == 0
    {
        let email = env("ZAFFRE_ADMIN_EMAIL").unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_owned());
        let (password, generated) = match env("ZAFFRE_ADMIN_PASSWORD") {
            Some(p) if !p.is_empty() => (p, false),
            _ => (zaffre_server::auth::random_token(), true),
        };
        let hash =
            zaffre_server::auth::hash_password(&password).map_err(|e| anyhow::anyhow!("{e}"))?;
        let user = NewUser {
            name: "Admin".into(),
            email: email.to_lowercase(),
            role: Role::Admin,
            organization_id: None,
            time_zone: "UTC".into(),
            locale: "en-US".into(),
            password_hash: Some(hash),
        };
        store
            .create_user(account.id, &user)
            .await
            .with_context(|| format!("could not create the admin {email}"))?;
        admin = Some((email, generated.then_some(password)));
    }
    Ok(FirstStart { account, admin })
}

/// The key file's name under the data directory.
pub const SECRET_KEY_FILE: &str = "secret.key";

/// Makes sure `config.secret_key` is set: when it is not configured, reads
/// `<data_dir>/secret.key`, creating it (32 random bytes in base64, mode
/// 0600) on first start. The key encrypts secure app settings at rest; see
/// docs/apps.md for running several nodes (they need the same key).
pub fn ensure_secret_key(config: &mut zaffre_server::Config) -> Result<()> {
    use zaffre_server::secrets::SecretBox;
    if !config.secret_key.expose().is_empty() {
        return Ok(());
    }
    let path = config.data_dir.join(SECRET_KEY_FILE);
    let key = if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read the key file {}", path.display()))?;
        SecretBox::from_base64(&text)
            .map_err(|e| anyhow::anyhow!("the key file {} is not valid: {e}", path.display()))?;
        text.trim().to_owned()
    } else {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "could not create the data directory {}",
                config.data_dir.display()
            )
        })?;
        let key = SecretBox::generate_base64();
        write_private(&path, &format!("{key}\n"))
            .with_context(|| format!("could not create the key file {}", path.display()))?;
        tracing::info!(path = %path.display(), "created the secret key file for secure app settings");
        key
    };
    config.secret_key = zaffre_server::Secret::new(key);
    Ok(())
}

/// Writes a new file readable by its owner only (`create_new`: never
/// overwrites a key that appeared meanwhile).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = zaffre_server::Config {
            data_dir: dir.path().join("data"),
            ..Default::default()
        };
        ensure_secret_key(&mut config).unwrap();
        let first = config.secret_key.expose().clone();
        assert!(zaffre_server::secrets::SecretBox::from_base64(&first).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("data/secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let mut again = zaffre_server::Config {
            data_dir: dir.path().join("data"),
            ..Default::default()
        };
        ensure_secret_key(&mut again).unwrap();
        assert_eq!(again.secret_key.expose(), &first);
        // A configured key wins and no file is needed.
        let mut configured = zaffre_server::Config {
            data_dir: dir.path().join("elsewhere"),
            secret_key: zaffre_server::Secret::new(first),
            ..Default::default()
        };
        ensure_secret_key(&mut configured).unwrap();
        assert!(!dir.path().join("elsewhere").exists());
        // A damaged file is refused, not replaced.
        std::fs::write(dir.path().join("data/secret.key"), "garbage").unwrap();
        let mut broken = zaffre_server::Config {
            data_dir: dir.path().join("data"),
            ..Default::default()
        };
        assert!(ensure_secret_key(&mut broken).is_err());
    }
}
