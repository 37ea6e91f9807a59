//! The root key: 32 random bytes kept in a 0600 file beside (never inside) the database. It seals the
//! data keys of every envelope and the secrets stored in the metadata store.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

use crate::{random_array, CryptoError};

/// The master key that wraps data keys (AES-256-GCM).
pub struct RootKey {
    key: LessSafeKey,
}

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootKey(..)")
    }
}

impl RootKey {
    /// A root key from raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::Encrypt)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
        })
    }

    /// A fresh random root key (tests and first start).
    pub fn generate() -> Result<Self, CryptoError> {
        Self::from_bytes(&random_array::<32>()?)
    }

    /// Load the key from `path` (hex, one line), creating it with mode 0600 if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptoError> {
        let err = |reason: String| CryptoError::RootKeyFile {
            path: path.display().to_string(),
            reason,
        };
        match fs::read_to_string(path) {
            Ok(text) => {
                let mode = fs::metadata(path)
                    .map_err(|e| err(e.to_string()))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(err(format!(
                        "permissions {:o} are too open; expected 0600",
                        mode & 0o777
                    )));
                }
                let raw = hex::decode(text.trim()).map_err(|e| err(e.to_string()))?;
                let bytes: [u8; 32] = raw
                    .try_into()
                    .map_err(|_| err("expected 32 bytes of hex".into()))?;
                Self::from_bytes(&bytes)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let bytes = random_array::<32>()?;
                crate::write_secret_file(path, format!("{}\n", hex::encode(bytes)).as_bytes())
                    .map_err(|e| err(e.to_string()))?;
                Self::from_bytes(&bytes)
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    /// Encrypt `plaintext` bound to `context` (authenticated, not secret): `nonce || ciphertext || tag`.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal_with(&self.key, plaintext, context)
    }

    /// Decrypt what [`RootKey::seal`] produced under the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open_with(&self.key, sealed, context)
    }
}

/// AES-256-GCM with a random 96-bit nonce prefixed to the output.
pub(crate) fn seal_with(
    key: &LessSafeKey,
    plaintext: &[u8],
    context: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let nonce_bytes = random_array::<NONCE_LEN>()?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(context),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| CryptoError::Encrypt)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Inverse of [`seal_with`].
pub(crate) fn open_with(
    key: &LessSafeKey,
    sealed: &[u8],
    context: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(CryptoError::Decrypt);
    }
    let (nonce, rest) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
    let mut buf = rest.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(context), &mut buf)
        .map_err(|_| CryptoError::Decrypt)?;
    let len = plain.len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let k = RootKey::generate().unwrap();
        let s = k.seal(b"secret", b"ctx").unwrap();
        assert_ne!(&s[12..18], b"secret");
        assert_eq!(k.open(&s, b"ctx").unwrap(), b"secret");
        assert!(k.open(&s, b"other").is_err());
        let mut t = s.clone();
        t[14] ^= 1;
        assert!(k.open(&t, b"ctx").is_err());
        assert!(k.open(&s[..5], b"ctx").is_err());
        assert!(RootKey::generate().unwrap().open(&s, b"ctx").is_err());
    }

    #[test]
    fn key_file_is_created_0600_and_reloaded() {
        let dir = std::env::temp_dir().join(format!("ignis-rk-{}", std::process::id()));
        let _ = fs::create_dir_all(&dir);
        let path = dir.join("root.key");
        let _ = fs::remove_file(&path);
        let a = RootKey::load_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = RootKey::load_or_create(&path).unwrap();
        let sealed = a.seal(b"x", b"").unwrap();
        assert_eq!(b.open(&sealed, b"").unwrap(), b"x");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(RootKey::load_or_create(&path).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
