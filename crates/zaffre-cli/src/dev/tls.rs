//! `zaffre dev --https`: a local certificate authority, created once under
//! the user's configuration directory, and a leaf certificate for
//! `localhost`, `*.localhost` (the app origins) and `127.0.0.1`, signed by it
//! at every start.
//!
//! The CA's private key never leaves that directory (mode 0600). rcgen here
//! cannot read a certificate back, so the CA certificate is re-derived from
//! its stored key and fixed name at each start; the leaf it signs chains to
//! the stored `ca.pem` because issuer name and key are the same.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

/// The CA's file names inside its directory.
pub const CA_CERT: &str = "ca.pem";
pub const CA_KEY: &str = "ca-key.pem";

/// The CA's common name (also how it shows in trust stores).
const CA_NAME: &str = "zaffre dev CA";

/// The certificates to serve with.
pub struct DevCerts {
    pub ca_dir: PathBuf,
    pub ca_pem: String,
    /// Whether the CA was created by this start (print how to trust it).
    pub ca_created: bool,
    /// Leaf then CA.
    pub chain_pem: String,
    pub key_pem: String,
}

/// Where the CA lives: `ZAFFRE_DEV_CA_DIR`, else
/// `$XDG_CONFIG_HOME/zaffre/dev-ca`, else `~/.config/zaffre/dev-ca`.
pub fn ca_dir(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    if let Some(dir) = env("ZAFFRE_DEV_CA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(config) = env("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(config).join("zaffre").join("dev-ca"));
    }
    let home = env("HOME")
        .filter(|d| !d.is_empty())
        .context("cannot find a home folder for the dev CA: set ZAFFRE_DEV_CA_DIR")?;
    Ok(PathBuf::from(home)
        .join(".config")
        .join("zaffre")
        .join("dev-ca"))
}

fn ca_params() -> Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    name.push(DnType::OrganizationName, "zaffre development");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let (y, m, d) = ymd(-1);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = ymd(3650);
    params.not_after = rcgen::date_time_ymd(y, m, d);
    Ok(params)
}

/// The UTC date `days` from today as year, month, day (what rcgen takes).
fn ymd(days: i64) -> (i32, u8, u8) {
    use chrono::Datelike;
    let date = (chrono::Utc::now() + chrono::Duration::days(days)).date_naive();
    // Months and days always fit in a u8.
    (date.year(), date.month() as u8, date.day() as u8)
}

/// Loads the CA from `dir`, creating it (key mode 0600) when absent.
fn ensure_ca(dir: &Path) -> Result<(String, KeyPair, bool)> {
    let cert_path = dir.join(CA_CERT);
    let key_path = dir.join(CA_KEY);
    if cert_path.exists() && key_path.exists() {
        let cert = std::fs::read_to_string(&cert_path)
            .with_context(|| format!("could not read {}", cert_path.display()))?;
        let key = std::fs::read_to_string(&key_path)
            .with_context(|| format!("could not read {}", key_path.display()))?;
        let key = KeyPair::from_pem(&key).with_context(|| {
            format!(
                "{} is not a valid key; remove {} to create a new CA",
                key_path.display(),
                dir.display()
            )
        })?;
        return Ok((cert, key, false));
    }
    create_private_dir(dir)?;
    let key = KeyPair::generate().context("could not generate the CA key")?;
    let cert = ca_params()?
        .self_signed(&key)
        .context("could not create the CA certificate")?;
    write_file(&key_path, &key.serialize_pem(), true)?;
    write_file(&cert_path, &cert.pem(), false)?;
    Ok((cert.pem(), key, true))
}

/// The CA (created on first use) and a fresh leaf for the local host names;
/// `extra_names` are added as explicit names (browsers that refuse a
/// wildcard directly under `localhost` still accept those).
pub fn dev_certs(dir: &Path, extra_names: &[String]) -> Result<DevCerts> {
    let (ca_pem, ca_key, ca_created) = ensure_ca(dir)?;
    let ca_cert = ca_params()?
        .self_signed(&ca_key)
        .context("could not load the CA certificate")?;
    let mut names = vec!["localhost".to_owned(), "*.localhost".to_owned()];
    names.extend(extra_names.iter().cloned());
    let mut params =
        CertificateParams::new(names).context("invalid host name for the certificate")?;
    params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    params.distinguished_name = name;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let (y, m, d) = ymd(-1);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = ymd(90);
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let key = KeyPair::generate().context("could not generate the certificate key")?;
    let leaf = params
        .signed_by(&key, &ca_cert, &ca_key)
        .context("could not sign the certificate")?;
    Ok(DevCerts {
        ca_dir: dir.to_owned(),
        chain_pem: format!("{}{}", leaf.pem(), ca_pem),
        ca_pem,
        ca_created,
        key_pem: key.serialize_pem(),
    })
}

/// How to trust the CA, for the terminal.
pub fn trust_instructions(dir: &Path) -> String {
    let ca = dir.join(CA_CERT);
    let ca = ca.display();
    format!(
        "The local CA is {ca} (its key stays in {dir}). Trust it once:\n\
         \x20 Chrome/Chromium on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n zaffre-dev -i {ca}\n\
         \x20 Debian/Ubuntu system-wide: sudo cp {ca} /usr/local/share/ca-certificates/zaffre-dev.crt && sudo update-ca-certificates\n\
         \x20 macOS: sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}",
        dir = dir.display()
    )
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("could not create {}", dir.display()))
}

fn write_file(path: &Path, text: &str, private: bool) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(path)
        .with_context(|| format!("could not create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("could not write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_made_once_with_a_private_key_and_reused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ca");
        let first = dev_certs(&dir, &[]).unwrap();
        assert!(first.ca_created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(CA_KEY))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let second = dev_certs(&dir, &["app-7.localhost".into()]).unwrap();
        assert!(!second.ca_created);
        assert_eq!(first.ca_pem, second.ca_pem);
        assert_ne!(first.key_pem, second.key_pem, "a new leaf each start");
        assert!(zaffre_server::tls::server_config(&second.chain_pem, &second.key_pem).is_ok());
    }

    #[test]
    fn the_ca_dir_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            ca_dir(&env(&[("ZAFFRE_DEV_CA_DIR", "/x"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/x")
        );
        assert_eq!(
            ca_dir(&env(&[("XDG_CONFIG_HOME", "/c"), ("HOME", "/h")])).unwrap(),
            PathBuf::from("/c/zaffre/dev-ca")
        );
        assert_eq!(
            ca_dir(&env(&[("HOME", "/h")])).unwrap(),
            PathBuf::from("/h/.config/zaffre/dev-ca")
        );
        assert!(ca_dir(&env(&[])).is_err());
    }
}
