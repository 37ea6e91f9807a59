//! The Ed25519 key that signs digest files: generated once, the private key (PKCS#8) sealed under the
//! root key in `signing.key`, the public key in `signing.pub` (hex).

use std::path::Path;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use ignis_crypto::RootKey;

use crate::{AuditError, AuditResult};

const SEAL_CONTEXT: &[u8] = b"ignis-audit-signing-key";

/// The digest signing key.
pub struct Signer {
    pair: Ed25519KeyPair,
    public_hex: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("public_hex", &self.public_hex)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Load the key from `dir`, or create it.
    pub fn load_or_create(dir: &Path, root: &RootKey) -> AuditResult<Self> {
        let key_path = dir.join("signing.key");
        let pkcs8 = match std::fs::read(&key_path) {
            Ok(sealed) => root.open(&sealed, SEAL_CONTEXT)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                    .map_err(|_| AuditError::Crypto("generating the signing key".into()))?;
                let pkcs8 = doc.as_ref().to_vec();
                ignis_crypto::write_secret_file(&key_path, &root.seal(&pkcs8, SEAL_CONTEXT)?)?;
                pkcs8
            }
            Err(e) => return Err(e.into()),
        };
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| {
            AuditError::Crypto("the sealed signing key is not Ed25519 PKCS#8".into())
        })?;
        let public_hex = hex::encode(pair.public_key().as_ref());
        let pub_path = dir.join("signing.pub");
        if std::fs::read_to_string(&pub_path).ok().as_deref() != Some(public_hex.as_str()) {
            std::fs::write(&pub_path, &public_hex)?;
        }
        Ok(Self { pair, public_hex })
    }

    /// The public key, hex.
    pub fn public_hex(&self) -> &str {
        &self.public_hex
    }

    /// Sign `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

/// Whether `sig` is a valid Ed25519 signature of `message` by the hex public key.
pub fn verify_signature(public_hex: &str, message: &[u8], sig: &[u8]) -> bool {
    let Ok(public) = hex::decode(public_hex.trim()) else {
        return false;
    };
    UnparsedPublicKey::new(&signature::ED25519, public)
        .verify(message, sig)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_persists_and_signs() {
        let dir = std::env::temp_dir().join(format!(
            "ignis-audit-signer-{}",
            ignis_crypto::ids::uuid_v4().expect("uuid")
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let root = RootKey::generate().expect("root");
        let a = Signer::load_or_create(&dir, &root).expect("create");
        let b = Signer::load_or_create(&dir, &root).expect("load");
        assert_eq!(a.public_hex(), b.public_hex());
        let sig = a.sign(b"digest");
        assert!(verify_signature(b.public_hex(), b"digest", &sig));
        assert!(!verify_signature(b.public_hex(), b"digesT", &sig));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
