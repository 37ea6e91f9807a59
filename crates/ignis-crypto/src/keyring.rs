//! Customer master keys (KMS-like): symmetric AES-256 key material, one backing version per rotation,
//! kept only sealed under the [`RootKey`]; ciphertext blobs that name the key and material version
//! they were made with and bind the caller's encryption context; data-key generation; and the
//! key-use hook ([`KeyUseObserver`]) through which every use of a key reaches the audit trail.
//!
//! Ciphertext blob (`CiphertextBlob` on the wire):
//! `"IKC1" | key id (16 raw UUID bytes) | material version (u32 BE) | nonce (12) | ciphertext | tag (16)`.
//! The AES-256-GCM additional data is the 24-byte header followed by the canonical encoding of the
//! encryption context (pairs sorted by key, each string u32-BE length-prefixed), so a blob opens only
//! under the key version it names and with exactly the context it was made with.
//!
//! Sealed material: `RootKey::seal(material, "ignis-kms-material\0<key id>\0<version>")`, so a sealed
//! version cannot be moved to another key or version.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

use crate::{random_array, CryptoError, RootKey};

/// Magic of a ciphertext blob.
const BLOB_MAGIC: &[u8; 4] = b"IKC1";
/// Bytes before the nonce: magic, key id, version.
const HEADER_LEN: usize = 4 + 16 + 4;
/// Length of an AES-GCM tag.
const TAG_LEN: usize = 16;
/// Bytes of a key version's material (AES-256).
pub const KEY_MATERIAL_LEN: usize = 32;

/// The encryption context: non-secret key/value pairs bound to a ciphertext.
pub type EncryptionContext = BTreeMap<String, String>;

/// What a ciphertext blob says about itself, readable without any key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobHeader {
    /// Key id (UUID, lowercase) of the customer master key.
    pub key_id: String,
    /// Material version the blob was sealed with.
    pub version: u32,
}

/// One backing version of a master key, as stored (sealed under the root key).
#[derive(Debug, Clone, Copy)]
pub struct SealedVersion<'a> {
    /// Key id (UUID).
    pub key_id: &'a str,
    /// Material version.
    pub version: u32,
    /// The material sealed by [`Keyring::new_material`].
    pub sealed: &'a [u8],
}

/// A generated data key: the plaintext key and the same key encrypted under the master key.
pub struct DataKey {
    /// The plaintext data key (never store it).
    pub plaintext: Vec<u8>,
    /// The data key as a ciphertext blob of the master key.
    pub ciphertext_blob: Vec<u8>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("plaintext", &"<redacted>")
            .field("ciphertext_blob_len", &self.ciphertext_blob.len())
            .finish()
    }
}

/// The kind of key use reported to the [`KeyUseObserver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOperation {
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
    /// GenerateDataKey.
    GenerateDataKey,
    /// GenerateDataKeyWithoutPlaintext.
    GenerateDataKeyWithoutPlaintext,
    /// ReEncrypt (reported for the source and for the destination key).
    ReEncrypt,
}

impl KeyOperation {
    /// The KMS operation name (`eventName` in the audit trail).
    pub fn name(self) -> &'static str {
        match self {
            Self::Encrypt => "Encrypt",
            Self::Decrypt => "Decrypt",
            Self::GenerateDataKey => "GenerateDataKey",
            Self::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            Self::ReEncrypt => "ReEncrypt",
        }
    }
}

/// One use of a master key, successful or refused.
#[derive(Debug, Clone)]
pub struct KeyUse<'a> {
    /// Key id (UUID) when the key was resolved; `None` if the reference matched no key.
    pub key_id: Option<&'a str>,
    /// Key ARN when resolved.
    pub key_arn: Option<&'a str>,
    /// The caller's principal ARN (or a service principal such as `lambda.amazonaws.com`).
    pub caller: &'a str,
    /// Why the key was used: `kms:<Operation>` for API calls, or an internal purpose such as
    /// `lambda:environment` or `lambda:artifact`.
    pub purpose: &'a str,
    /// The operation.
    pub operation: KeyOperation,
    /// The encryption context of the call (not secret).
    pub encryption_context: &'a EncryptionContext,
    /// `None` on success, else the AWS error code the use failed with.
    pub error_code: Option<&'a str>,
}

/// Receives every use of a master key (the audit trail implements it).
pub trait KeyUseObserver: Send + Sync {
    /// Called once per encrypt / decrypt / generate-data-key, after the outcome is known. Must not
    /// block for long: it runs on the request path.
    fn key_used(&self, event: &KeyUse<'_>);
}

/// The cryptographic half of the key service: material generation and sealing, blob encryption and
/// decryption, and the key-use hook. Key metadata and state checks live in the store.
pub struct Keyring {
    root: Arc<RootKey>,
    observer: RwLock<Option<Arc<dyn KeyUseObserver>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(..)")
    }
}

fn material_aad(key_id: &str, version: u32) -> Vec<u8> {
    format!("ignis-kms-material\0{key_id}\0{version}").into_bytes()
}

/// The 16 raw bytes of a UUID string (`8-4-4-4-12` hex).
fn uuid_bytes(id: &str) -> Result<[u8; 16], CryptoError> {
    let hexed: String = id.chars().filter(|c| *c != '-').collect();
    if id.len() != 36 || hexed.len() != 32 {
        return Err(CryptoError::Encrypt);
    }
    let raw = hex::decode(hexed).map_err(|_| CryptoError::Encrypt)?;
    raw.try_into().map_err(|_| CryptoError::Encrypt)
}

fn uuid_string(b: &[u8]) -> String {
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Canonical bytes of an encryption context (sorted, length-prefixed).
fn context_bytes(ctx: &EncryptionContext) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in ctx {
        for s in [k, v] {
            // Context strings are bounded by the request size, far below u32::MAX.
            out.extend_from_slice(&(s.len() as u32).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

/// Read the key id and material version of a ciphertext blob; `Decrypt` if it is not one of ours.
pub fn parse_blob(blob: &[u8]) -> Result<BlobHeader, CryptoError> {
    if blob.len() < HEADER_LEN + NONCE_LEN + TAG_LEN || &blob[..4] != BLOB_MAGIC {
        return Err(CryptoError::Decrypt);
    }
    let key_id = uuid_string(&blob[4..20]);
    let version = u32::from_be_bytes([blob[20], blob[21], blob[22], blob[23]]);
    Ok(BlobHeader { key_id, version })
}

impl Keyring {
    /// A keyring whose material is sealed under `root`.
    pub fn new(root: Arc<RootKey>) -> Self {
        Self {
            root,
            observer: RwLock::new(None),
        }
    }

    /// Install (or replace) the observer of key uses.
    pub fn set_observer(&self, observer: Arc<dyn KeyUseObserver>) {
        if let Ok(mut slot) = self.observer.write() {
            *slot = Some(observer);
        }
    }

    /// Report a key use to the observer, if any.
    pub fn notify(&self, event: &KeyUse<'_>) {
        let observer = self.observer.read().ok().and_then(|o| o.clone());
        if let Some(observer) = observer {
            observer.key_used(event);
        }
    }

    /// Fresh random material for `version` of `key_id`, returned sealed under the root key (the
    /// plaintext never leaves this function).
    pub fn new_material(&self, key_id: &str, version: u32) -> Result<Vec<u8>, CryptoError> {
        let material = random_array::<KEY_MATERIAL_LEN>()?;
        self.root.seal(&material, &material_aad(key_id, version))
    }

    fn unseal(&self, v: &SealedVersion<'_>) -> Result<LessSafeKey, CryptoError> {
        let material = self
            .root
            .open(v.sealed, &material_aad(v.key_id, v.version))?;
        let unbound = UnboundKey::new(&AES_256_GCM, &material).map_err(|_| CryptoError::Decrypt)?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Encrypt `plaintext` under the given key version, binding `ctx`.
    pub fn encrypt(
        &self,
        key: &SealedVersion<'_>,
        plaintext: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<Vec<u8>, CryptoError> {
        let aes = self.unseal(key)?;
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(BLOB_MAGIC);
        out.extend_from_slice(&uuid_bytes(key.key_id)?);
        out.extend_from_slice(&key.version.to_be_bytes());
        let mut aad = out.clone();
        aad.extend_from_slice(&context_bytes(ctx));
        let nonce = random_array::<NONCE_LEN>()?;
        out.extend_from_slice(&nonce);
        let body_at = out.len();
        out.extend_from_slice(plaintext);
        let tag = aes
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_slice()),
                &mut out[body_at..],
            )
            .map_err(|_| CryptoError::Encrypt)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypt a blob made by [`Keyring::encrypt`]; `key` must be the version the blob names
    /// (see [`parse_blob`]) and `ctx` the context it was made with.
    pub fn decrypt(
        &self,
        key: &SealedVersion<'_>,
        blob: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<Vec<u8>, CryptoError> {
        let header = parse_blob(blob)?;
        if header.key_id != key.key_id || header.version != key.version {
            return Err(CryptoError::Decrypt);
        }
        let aes = self.unseal(key)?;
        let mut aad = blob[..HEADER_LEN].to_vec();
        aad.extend_from_slice(&context_bytes(ctx));
        let nonce = Nonce::try_assume_unique_for_key(&blob[HEADER_LEN..HEADER_LEN + NONCE_LEN])
            .map_err(|_| CryptoError::Decrypt)?;
        let mut buf = blob[HEADER_LEN + NONCE_LEN..].to_vec();
        let len = aes
            .open_in_place(nonce, Aad::from(aad.as_slice()), &mut buf)
            .map_err(|_| CryptoError::Decrypt)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    /// A random data key of `len` bytes, plus its ciphertext blob under `key` bound to `ctx`.
    pub fn generate_data_key(
        &self,
        key: &SealedVersion<'_>,
        len: usize,
        ctx: &EncryptionContext,
    ) -> Result<DataKey, CryptoError> {
        let mut plaintext = vec![0u8; len];
        aws_lc_rs::rand::fill(&mut plaintext).map_err(|_| CryptoError::Random)?;
        let ciphertext_blob = self.encrypt(key, &plaintext, ctx)?;
        Ok(DataKey {
            plaintext,
            ciphertext_blob,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    fn ring() -> Keyring {
        Keyring::new(Arc::new(RootKey::generate().unwrap()))
    }

    fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn round_trip_and_header() {
        let r = ring();
        let sealed = r.new_material(ID, 1).unwrap();
        assert_ne!(sealed.len(), KEY_MATERIAL_LEN);
        let v = SealedVersion {
            key_id: ID,
            version: 1,
            sealed: &sealed,
        };
        let c = ctx(&[("purpose", "test"), ("a", "b")]);
        let blob = r.encrypt(&v, b"hello kms", &c).unwrap();
        assert!(!blob.windows(9).any(|w| w == b"hello kms"));
        assert_eq!(
            parse_blob(&blob).unwrap(),
            BlobHeader {
                key_id: ID.into(),
                version: 1
            }
        );
        assert_eq!(r.decrypt(&v, &blob, &c).unwrap(), b"hello kms");
        // Empty plaintext is still authenticated.
        let empty = r.encrypt(&v, b"", &c).unwrap();
        assert_eq!(r.decrypt(&v, &empty, &c).unwrap(), b"");
    }

    #[test]
    fn wrong_context_refused() {
        let r = ring();
        let sealed = r.new_material(ID, 1).unwrap();
        let v = SealedVersion {
            key_id: ID,
            version: 1,
            sealed: &sealed,
        };
        let blob = r.encrypt(&v, b"x", &ctx(&[("k", "v")])).unwrap();
        assert!(r.decrypt(&v, &blob, &ctx(&[])).is_err());
        assert!(r.decrypt(&v, &blob, &ctx(&[("k", "w")])).is_err());
        assert!(r
            .decrypt(&v, &blob, &ctx(&[("k", "v"), ("x", "")]))
            .is_err());
        // Length prefixes keep ("ab","c") apart from ("a","bc").
        let b2 = r.encrypt(&v, b"x", &ctx(&[("ab", "c")])).unwrap();
        assert!(r.decrypt(&v, &b2, &ctx(&[("a", "bc")])).is_err());
        assert!(r.decrypt(&v, &blob, &ctx(&[("k", "v")])).is_ok());
    }

    #[test]
    fn versions_are_independent_and_bound() {
        let r = ring();
        let s1 = r.new_material(ID, 1).unwrap();
        let s2 = r.new_material(ID, 2).unwrap();
        let v1 = SealedVersion {
            key_id: ID,
            version: 1,
            sealed: &s1,
        };
        let v2 = SealedVersion {
            key_id: ID,
            version: 2,
            sealed: &s2,
        };
        let c = ctx(&[]);
        let old = r.encrypt(&v1, b"old", &c).unwrap();
        let new = r.encrypt(&v2, b"new", &c).unwrap();
        assert_eq!(r.decrypt(&v1, &old, &c).unwrap(), b"old");
        assert_eq!(r.decrypt(&v2, &new, &c).unwrap(), b"new");
        assert!(r.decrypt(&v2, &old, &c).is_err());
        // Material sealed for version 1 cannot be passed off as version 2.
        let swapped = SealedVersion {
            key_id: ID,
            version: 2,
            sealed: &s1,
        };
        assert!(r.decrypt(&swapped, &new, &c).is_err());
    }

    #[test]
    fn tampered_blob_refused() {
        let r = ring();
        let sealed = r.new_material(ID, 1).unwrap();
        let v = SealedVersion {
            key_id: ID,
            version: 1,
            sealed: &sealed,
        };
        let c = ctx(&[]);
        let blob = r.encrypt(&v, b"payload", &c).unwrap();
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(r.decrypt(&v, &bad, &c).is_err(), "flip at {i} accepted");
        }
        assert!(r.decrypt(&v, &blob[..blob.len() - 1], &c).is_err());
        assert!(parse_blob(b"IKC1").is_err());
        assert!(parse_blob(&[]).is_err());
        // Another root key cannot unseal the material.
        assert!(ring().decrypt(&v, &blob, &c).is_err());
    }

    #[test]
    fn data_keys_and_observer() {
        struct Seen(Mutex<Vec<String>>);
        impl KeyUseObserver for Seen {
            fn key_used(&self, e: &KeyUse<'_>) {
                self.0.lock().unwrap().push(format!(
                    "{}:{}:{}",
                    e.operation.name(),
                    e.caller,
                    e.key_id.unwrap_or("-")
                ));
            }
        }
        let r = ring();
        let sealed = r.new_material(ID, 1).unwrap();
        let v = SealedVersion {
            key_id: ID,
            version: 1,
            sealed: &sealed,
        };
        let c = ctx(&[("f", "g")]);
        let dk = r.generate_data_key(&v, 16, &c).unwrap();
        assert_eq!(dk.plaintext.len(), 16);
        assert_eq!(
            r.decrypt(&v, &dk.ciphertext_blob, &c).unwrap(),
            dk.plaintext
        );
        assert!(!format!("{dk:?}").contains(&format!("{:?}", dk.plaintext)));
        let seen = Arc::new(Seen(Mutex::new(Vec::new())));
        r.notify(&KeyUse {
            key_id: Some(ID),
            key_arn: None,
            caller: "nobody",
            purpose: "kms:Encrypt",
            operation: KeyOperation::Encrypt,
            encryption_context: &c,
            error_code: None,
        });
        r.set_observer(seen.clone());
        r.notify(&KeyUse {
            key_id: Some(ID),
            key_arn: None,
            caller: "arn:aws:iam::000000000000:root",
            purpose: "kms:Decrypt",
            operation: KeyOperation::Decrypt,
            encryption_context: &c,
            error_code: None,
        });
        assert_eq!(
            *seen.0.lock().unwrap(),
            vec![format!("Decrypt:arn:aws:iam::000000000000:root:{ID}")]
        );
    }
}
