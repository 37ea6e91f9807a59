//! Cryptography of Ignis: the root key sealed outside the database, envelope AES-256-GCM encryption of
//! artifacts and secrets, hashing, MACs and random identifiers. Everything goes through aws-lc-rs.

pub mod envelope;
pub mod ids;
pub mod keyring;
pub mod root_key;

pub use envelope::{open_envelope, seal_envelope};
pub use keyring::{KeyUse, KeyUseObserver, Keyring};
pub use root_key::RootKey;

use aws_lc_rs::{digest, hmac};

/// Errors of the cryptographic layer.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The ciphertext was altered, truncated, or sealed under another key or context.
    #[error("decryption failed: ciphertext corrupt or wrong key")]
    Decrypt,
    /// The system random generator failed.
    #[error("random generator failed")]
    Random,
    /// Encryption failed (only on an internal misuse such as an oversized input).
    #[error("encryption failed")]
    Encrypt,
    /// The root key file could not be read, written or parsed.
    #[error("root key file {path}: {reason}")]
    RootKeyFile {
        /// Path of the key file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(sha256(data))
}

/// The hex form of a base64 SHA-256 (`CodeSha256` → artifact key); `None` if not base64.
pub fn hex_of_base64_digest(b64: &str) -> Option<String> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .ok()
        .map(hex::encode)
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    let tag = hmac::sign(&k, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Constant-time HMAC-SHA256 check of `tag` over `data` under `key`.
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::verify(&k, data, tag).is_ok()
}

/// Fill a fresh buffer of `N` bytes from the system CSPRNG.
pub fn random_array<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

/// Create `path` (it must not exist) readable by the owner only (0600), write `data` and sync it:
/// how every key and secret file of Ignis is written.
pub fn write_secret_file(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_round_trip_and_rejects_other_data() {
        let tag = hmac_sha256(b"key", b"data");
        assert!(hmac_sha256_verify(b"key", b"data", &tag));
        assert!(!hmac_sha256_verify(b"key", b"datb", &tag));
        assert!(!hmac_sha256_verify(b"kez", b"data", &tag));
    }
}
