//! Encryption of secure app settings at rest.
//!
//! Values of `secure: true` parameters are sealed with XChaCha20-Poly1305
//! under the server's 32-byte key (`secret_key` in the configuration, or the
//! key file the command line creates under the data directory on first
//! start). Each value gets a fresh random 192-bit nonce, so nodes sharing a
//! key need no shared counter. The associated data binds a ciphertext to its
//! row, `(account, installation, setting name)`: a ciphertext copied into
//! another installation's row, or renamed, fails to open instead of leaking
//! one tenant's secret into another's requests.
//!
//! Every node of a multi-node install must use the same key (docs/apps.md).
//! Sealed values carry a `key_id` (a digest of the key, not the key) so that
//! a node with a different key reports that, rather than a bare failure.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use zaffre_domain::apps::{SealedSecret, SecretValue};
use zaffre_domain::{AccountId, InstallationId};

/// Why a sealed value could not be opened (or a key not read). Messages
/// never contain key material or values.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("secret_key must be 32 bytes encoded in base64 (`openssl rand -base64 32`)")]
    BadKey,
    #[error(
        "the secure setting {name:?} was encrypted with key {stored}, but this server's key is {ours}: \
         every server node must use the same secret_key"
    )]
    WrongKey {
        name: String,
        stored: String,
        ours: String,
    },
    #[error("the secure setting {name:?} could not be decrypted (tampered with, or moved to another row)")]
    Corrupt { name: String },
    #[error("the secure setting {name:?} could not be encrypted")]
    Seal { name: String },
}

/// The server's sealing key. `Debug` shows only the key id.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    key_id: String,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBox(key {})", self.key_id)
    }
}

impl SecretBox {
    /// A box for a raw 32-byte key.
    pub fn new(key: &[u8; 32]) -> Self {
        let digest = Sha256::digest([b"zaffre-secret-key-id\0".as_slice(), key].concat());
        SecretBox {
            cipher: XChaCha20Poly1305::new(key.into()),
            key_id: hex::encode(&digest[..6]),
        }
    }

    /// A box for a base64-encoded key, as configured.
    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| SecretError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey)?;
        Ok(SecretBox::new(&key))
    }

    /// A box with a new random key (kept only in memory).
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        SecretBox::new(&key.into())
    }

    /// A new random key, base64-encoded (for key files and `zaffre` setup).
    pub fn generate_base64() -> String {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// The key's id: the first 6 bytes of a SHA-256 of it, in hex. Safe to log.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts one setting value for one installation.
    pub fn seal(
        &self,
        account: AccountId,
        installation: InstallationId,
        name: &str,
        value: &SecretValue,
    ) -> Result<SealedSecret, SecretError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let aad = associated_data(account, installation, name);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: value.expose().as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SecretError::Seal { name: name.into() })?;
        Ok(SealedSecret {
            name: name.to_owned(),
            key_id: self.key_id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Decrypts a value sealed for this `(account, installation, name)`.
    pub fn open(
        &self,
        account: AccountId,
        installation: InstallationId,
        sealed: &SealedSecret,
    ) -> Result<SecretValue, SecretError> {
        let corrupt = || SecretError::Corrupt {
            name: sealed.name.clone(),
        };
        if sealed.key_id != self.key_id {
            return Err(SecretError::WrongKey {
                name: sealed.name.clone(),
                stored: sealed.key_id.clone(),
                ours: self.key_id.clone(),
            });
        }
        if sealed.nonce.len() != 24 {
            return Err(corrupt());
        }
        let nonce = XNonce::from_slice(&sealed.nonce);
        let aad = associated_data(account, installation, &sealed.name);
        let plain = self
            .cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| corrupt())?;
        String::from_utf8(plain)
            .map(SecretValue::new)
            .map_err(|_| corrupt())
    }
}

/// `zaffre-secure-setting-v1`, then the account id, installation id and the
/// setting's name, NUL-separated (ids are digits and names cannot be confused
/// across the separator because the ids come first and are fixed-form).
fn associated_data(account: AccountId, installation: InstallationId, name: &str) -> Vec<u8> {
    format!("zaffre-secure-setting-v1\0{account}\0{installation}\0{name}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(byte: u8) -> SecretBox {
        SecretBox::new(&[byte; 32])
    }

    fn value() -> SecretValue {
        SecretValue::new("hunter2-token".into())
    }

    #[test]
    fn round_trip_and_the_ciphertext_hides_the_value() {
        let b = boxed(1);
        let sealed = b
            .seal(AccountId(1), InstallationId(2), "token", &value())
            .unwrap();
        assert!(!sealed.ciphertext.windows(7).any(|w| w == b"hunter2"));
        let opened = b.open(AccountId(1), InstallationId(2), &sealed).unwrap();
        assert_eq!(opened.expose(), "hunter2-token");
        // Fresh nonces: sealing twice gives different ciphertexts.
        let again = b
            .seal(AccountId(1), InstallationId(2), "token", &value())
            .unwrap();
        assert_ne!(sealed.nonce, again.nonce);
        assert_ne!(sealed.ciphertext, again.ciphertext);
    }

    #[test]
    fn a_different_key_is_named_as_such() {
        let sealed = boxed(1)
            .seal(AccountId(1), InstallationId(2), "token", &value())
            .unwrap();
        let err = boxed(2)
            .open(AccountId(1), InstallationId(2), &sealed)
            .unwrap_err();
        assert!(matches!(err, SecretError::WrongKey { .. }), "{err}");
        // Even with a forged key id, the wrong key cannot open it.
        let mut forged = sealed;
        forged.key_id = boxed(2).key_id().to_owned();
        assert!(matches!(
            boxed(2).open(AccountId(1), InstallationId(2), &forged),
            Err(SecretError::Corrupt { .. })
        ));
    }

    #[test]
    fn swapped_rows_and_tampering_fail() {
        let b = boxed(7);
        let sealed = b
            .seal(AccountId(1), InstallationId(2), "token", &value())
            .unwrap();
        // Another installation, another account, another setting name.
        assert!(b.open(AccountId(1), InstallationId(3), &sealed).is_err());
        assert!(b.open(AccountId(9), InstallationId(2), &sealed).is_err());
        let mut renamed = sealed.clone();
        renamed.name = "other".into();
        assert!(b.open(AccountId(1), InstallationId(2), &renamed).is_err());
        // A flipped bit anywhere.
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(b.open(AccountId(1), InstallationId(2), &tampered).is_err());
        let mut bad_nonce = sealed;
        bad_nonce.nonce[3] ^= 1;
        assert!(b.open(AccountId(1), InstallationId(2), &bad_nonce).is_err());
        bad_nonce.nonce.truncate(5);
        assert!(b.open(AccountId(1), InstallationId(2), &bad_nonce).is_err());
    }

    #[test]
    fn keys_are_read_from_base64_and_never_printed() {
        let text = SecretBox::generate_base64();
        let b = SecretBox::from_base64(&text).unwrap();
        assert!(!format!("{b:?}").contains(&text));
        assert_eq!(
            SecretBox::from_base64("c2hvcnQ=").unwrap_err(),
            SecretError::BadKey
        );
        assert_eq!(
            SecretBox::from_base64("not base64!").unwrap_err(),
            SecretError::BadKey
        );
    }
}
