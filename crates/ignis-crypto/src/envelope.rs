//! Envelope encryption: each object gets its own random AES-256 data key; the data key is wrapped by
//! the root key and stored in the object's header. Layout: `"IGE1" | u16 BE wrapped-key length |
//! wrapped key | nonce | ciphertext | tag`. The context (e.g. the artifact's digest) is bound to both
//! layers so a blob cannot be swapped for another.

use aws_lc_rs::aead::{LessSafeKey, UnboundKey, AES_256_GCM};

use crate::root_key::{open_with, seal_with};
use crate::{random_array, CryptoError, RootKey};

const MAGIC: &[u8; 4] = b"IGE1";

/// Encrypt `plaintext` under a fresh data key wrapped by `root`.
pub fn seal_envelope(
    root: &RootKey,
    plaintext: &[u8],
    context: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let data_key = random_array::<32>()?;
    let wrapped = root.seal(&data_key, context)?;
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &data_key).map_err(|_| CryptoError::Encrypt)?,
    );
    let body = seal_with(&key, plaintext, context)?;
    let wrapped_len = u16::try_from(wrapped.len()).map_err(|_| CryptoError::Encrypt)?;
    let mut out = Vec::with_capacity(6 + wrapped.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&wrapped_len.to_be_bytes());
    out.extend_from_slice(&wrapped);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decrypt an envelope made by [`seal_envelope`] with the same root key and context.
pub fn open_envelope(
    root: &RootKey,
    sealed: &[u8],
    context: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 6 || &sealed[..4] != MAGIC {
        return Err(CryptoError::Decrypt);
    }
    let wrapped_len = u16::from_be_bytes([sealed[4], sealed[5]]) as usize;
    let rest = &sealed[6..];
    if rest.len() < wrapped_len {
        return Err(CryptoError::Decrypt);
    }
    let (wrapped, body) = rest.split_at(wrapped_len);
    let data_key = root.open(wrapped, context)?;
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &data_key).map_err(|_| CryptoError::Decrypt)?,
    );
    open_with(&key, body, context)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trip_and_tamper_detection() {
        let root = RootKey::generate().unwrap();
        let data = vec![7u8; 10_000];
        let sealed = seal_envelope(&root, &data, b"sha:abc").unwrap();
        assert!(!sealed.windows(64).any(|w| w == &data[..64]));
        assert_eq!(open_envelope(&root, &sealed, b"sha:abc").unwrap(), data);
        assert!(open_envelope(&root, &sealed, b"sha:abd").is_err());
        let mut bad = sealed.clone();
        let n = bad.len() - 1;
        bad[n] ^= 0x80;
        assert!(open_envelope(&root, &bad, b"sha:abc").is_err());
        assert!(open_envelope(&root, b"IGE1", b"").is_err());
        assert!(open_envelope(&root, &[], b"").is_err());
        assert!(open_envelope(&root, b"IGE1\xff\xff", b"").is_err());
    }
}
