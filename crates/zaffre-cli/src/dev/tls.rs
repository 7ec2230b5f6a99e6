//! `zaffre dev --https`: a local certificate authority, created once under
//! the user's configuration directory, and leaf certificates signed by it at
//! every start: one for `localhost`, `127.0.0.1` and the app origins known at
//! start, and one per further app origin (`app-<id>.localhost`) minted on
//! demand from the name the browser asks for (SNI).
//!
//! Why per-origin leaves: Chromium treats `localhost` like a top-level domain
//! and refuses a `*.localhost` wildcard (ERR_CERT_COMMON_NAME_INVALID), so
//! each app origin must be named exactly. Apps installed after the start (an
//! upload in the admin, or ones a persistent dev database already holds) get
//! their leaf when first visited.
//!
//! The CA's private key never leaves that directory (mode 0600). rcgen here
//! cannot read a certificate back, so the CA certificate is re-derived from
//! its stored key and fixed name at each start; the leaves it signs chain to
//! the stored `ca.pem` because issuer name and key are the same.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The CA's file names inside its directory.
pub const CA_CERT: &str = "ca.pem";
pub const CA_KEY: &str = "ca-key.pem";

/// The CA's common name (also how it shows in trust stores).
const CA_NAME: &str = "zaffre dev CA";

/// How many minted app-origin leaves are kept; past it the cache starts over
/// (a browser asking for endless names costs signatures, not memory).
const MAX_MINTED: usize = 256;

/// The certificates to serve with.
pub struct DevCerts {
    pub ca_dir: PathBuf,
    pub ca_pem: String,
    /// Whether the CA was created by this start (print how to trust it).
    pub ca_created: bool,
    /// Leaf then CA.
    pub chain_pem: String,
    pub key_pem: String,
    /// The names the start leaf carries (beside `127.0.0.1`).
    names: Vec<String>,
    /// The CA, to sign app-origin leaves on demand.
    issuer: Arc<Issuer>,
}

/// The loaded CA: its re-derived certificate, key, and the stored `ca.pem` as DER.
struct Issuer {
    cert: Certificate,
    key: KeyPair,
    ca_der: CertificateDer<'static>,
}

impl Issuer {
    /// A fresh leaf for `names` (and `127.0.0.1` when `with_ip`), valid 90 days.
    fn leaf(&self, names: &[String], with_ip: bool) -> Result<(Certificate, KeyPair)> {
        let mut params = CertificateParams::new(names.to_vec())
            .context("invalid host name for the certificate")?;
        if with_ip {
            params
                .subject_alt_names
                .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
        }
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, names.first().map_or("localhost", |n| n));
        params.distinguished_name = name;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let (y, m, d) = ymd(-1);
        params.not_before = rcgen::date_time_ymd(y, m, d);
        let (y, m, d) = ymd(90);
        params.not_after = rcgen::date_time_ymd(y, m, d);
        let key = KeyPair::generate().context("could not generate the certificate key")?;
        let leaf = params
            .signed_by(&key, &self.cert, &self.key)
            .context("could not sign the certificate")?;
        Ok((leaf, key))
    }

    /// A leaf for `names` with the CA after it, ready for rustls.
    fn certified(
        &self,
        names: &[String],
        with_ip: bool,
        provider: &CryptoProvider,
    ) -> Result<CertifiedKey> {
        let (leaf, key) = self.leaf(names, with_ip)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        CertifiedKey::from_der(vec![leaf.der().clone(), self.ca_der.clone()], key, provider)
            .context("rustls refused the dev certificate")
    }
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

/// The CA (created on first use) and a fresh leaf for `localhost`,
/// `127.0.0.1` and `extra_names` (the app origins known now; others are
/// minted by [`server_config`]'s resolver when asked for). `*.localhost` is
/// kept for clients that accept it, though Chromium does not.
pub fn dev_certs(dir: &Path, extra_names: &[String]) -> Result<DevCerts> {
    let (ca_pem, ca_key, ca_created) = ensure_ca(dir)?;
    let ca_cert = ca_params()?
        .self_signed(&ca_key)
        .context("could not load the CA certificate")?;
    let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .with_context(|| format!("{} is not a PEM certificate", dir.join(CA_CERT).display()))?;
    let issuer = Arc::new(Issuer {
        cert: ca_cert,
        key: ca_key,
        ca_der,
    });
    let mut names = vec!["localhost".to_owned(), "*.localhost".to_owned()];
    names.extend(extra_names.iter().cloned());
    let (leaf, key) = issuer.leaf(&names, true)?;
    Ok(DevCerts {
        ca_dir: dir.to_owned(),
        chain_pem: format!("{}{}", leaf.pem(), ca_pem),
        ca_pem,
        ca_created,
        key_pem: key.serialize_pem(),
        names,
        issuer,
    })
}

/// The rustls configuration for `zaffre dev --https` (HTTP/1.1, ring, like
/// `zaffre_server::tls::server_config`): the start leaf, and for an app
/// origin it does not name, a leaf minted for exactly that name.
pub fn server_config(certs: &DevCerts) -> Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::from_pem_slice(certs.key_pem.as_bytes())
        .context("the dev certificate's key is not valid PEM")?;
    let chain = CertificateDer::pem_slice_iter(certs.chain_pem.as_bytes())
        .collect::<Result<Vec<CertificateDer<'static>>, _>>()
        .context("the dev certificate is not valid PEM")?;
    let base = CertifiedKey::from_der(chain, key, &provider)
        .context("the dev certificate and key do not match")?;
    let resolver = AppOriginResolver {
        issuer: certs.issuer.clone(),
        base: Arc::new(base),
        names: certs.names.clone(),
        provider: provider.clone(),
        minted: Mutex::new(HashMap::new()),
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Picks the certificate for a handshake by the name the client asked for.
struct AppOriginResolver {
    issuer: Arc<Issuer>,
    base: Arc<CertifiedKey>,
    names: Vec<String>,
    provider: Arc<CryptoProvider>,
    minted: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for AppOriginResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No keys in debug output.
        f.debug_struct("AppOriginResolver")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for AppOriginResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = match hello.server_name() {
            Some(name) => name.to_ascii_lowercase(),
            None => return Some(self.base.clone()),
        };
        if !is_app_origin_host(&name) || self.names.contains(&name) {
            return Some(self.base.clone());
        }
        let mut minted = self.minted.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = minted.get(&name) {
            return Some(key.clone());
        }
        match self
            .issuer
            .certified(std::slice::from_ref(&name), false, &self.provider)
        {
            Ok(key) => {
                if minted.len() >= MAX_MINTED {
                    minted.clear();
                }
                let key = Arc::new(key);
                minted.insert(name, key.clone());
                Some(key)
            }
            Err(e) => {
                tracing::warn!(error = %e, host = %name, "could not mint a dev certificate");
                Some(self.base.clone())
            }
        }
    }
}

/// `app-<digits>.localhost`: the only names leaves are minted for.
fn is_app_origin_host(name: &str) -> bool {
    name.strip_prefix("app-")
        .and_then(|rest| rest.strip_suffix(".localhost"))
        .is_some_and(|id| {
            !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit())
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

    /// A full TLS handshake in memory, the client trusting only `ca_pem`;
    /// returns the chain the server presented.
    fn handshake(
        config: Arc<rustls::ServerConfig>,
        ca_pem: &str,
        name: &str,
    ) -> Result<Vec<CertificateDer<'static>>, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap())
            .unwrap();
        let client_config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let server_name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
        let mut client = rustls::ClientConnection::new(Arc::new(client_config), server_name)?;
        let mut server = rustls::ServerConnection::new(config)?;
        for _ in 0..10 {
            let mut bytes = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut bytes).unwrap();
            }
            server.read_tls(&mut &bytes[..]).unwrap();
            server.process_new_packets()?;
            bytes.clear();
            while server.wants_write() {
                server.write_tls(&mut bytes).unwrap();
            }
            client.read_tls(&mut &bytes[..]).unwrap();
            client.process_new_packets()?;
            if !client.is_handshaking() && !server.is_handshaking() {
                break;
            }
        }
        assert!(!client.is_handshaking(), "the handshake finished");
        Ok(client.peer_certificates().unwrap().to_vec())
    }

    fn names(der: &CertificateDer<'_>, name: &str) -> bool {
        // A dNSName SAN is the name's bytes as they are.
        der.as_ref()
            .windows(name.len())
            .any(|w| w == name.as_bytes())
    }

    #[test]
    fn an_app_origin_unknown_at_start_gets_a_leaf_naming_it_exactly() {
        // Chromium refuses `*.localhost`, so app-42 (installed after the start) needs its own name.
        let tmp = tempfile::tempdir().unwrap();
        let certs = dev_certs(&tmp.path().join("ca"), &["app-1.localhost".into()]).unwrap();
        let config = server_config(&certs).unwrap();

        let chain = handshake(config.clone(), &certs.ca_pem, "app-42.localhost").unwrap();
        assert_eq!(chain.len(), 2, "leaf then CA");
        assert!(names(&chain[0], "app-42.localhost"));
        assert!(!names(&chain[0], "*.localhost"), "a leaf of its own");
        let again = handshake(config.clone(), &certs.ca_pem, "APP-42.localhost").unwrap();
        assert_eq!(again[0], chain[0], "minted once, then reused");

        // Names the start leaf carries, and anything else, get the start leaf.
        for name in ["localhost", "app-1.localhost"] {
            let chain = handshake(config.clone(), &certs.ca_pem, name).unwrap();
            assert!(names(&chain[0], "*.localhost") && names(&chain[0], "app-1.localhost"));
        }
        let other = handshake(config.clone(), &certs.ca_pem, "example.com");
        assert!(other.is_err(), "no leaf is minted for other names");

        // Control: a client trusting another CA refuses the minted leaf.
        let stranger = dev_certs(&tmp.path().join("other-ca"), &[]).unwrap();
        assert!(handshake(config, &stranger.ca_pem, "app-43.localhost").is_err());
    }

    #[test]
    fn leaves_are_minted_only_for_app_origins() {
        for yes in ["app-1.localhost", "app-12345678901234567890.localhost"] {
            assert!(is_app_origin_host(yes), "{yes}");
        }
        for no in [
            "localhost",
            "app-.localhost",
            "app-x.localhost",
            "app-1a.localhost",
            "evil.localhost",
            "app-1.localhost.example",
            "app-1.example",
            "app-123456789012345678901.localhost",
        ] {
            assert!(!is_app_origin_host(no), "{no}");
        }
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
