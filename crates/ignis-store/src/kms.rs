//! The key service (KMS-like): customer master keys with their lifecycle (Enabled, Disabled,
//! PendingDeletion), material versions (rotation), aliases, and the cryptographic operations with
//! the state checks AWS applies. Key material is generated and sealed by the
//! [`ignis_crypto::Keyring`] under the root key; only the sealed form reaches the database.
//!
//! Every encrypt / decrypt / generate-data-key, successful or refused, is reported to the keyring's
//! [`ignis_crypto::KeyUseObserver`] with the key, caller and purpose.
//!
//! Errors are [`KmsError`], one variant per AWS KMS error code with AWS's messages; the API layer
//! renders them and Lambda maps them to its own `KMS*Exception`s.

mod aliases;
mod crypto_ops;
mod lifecycle;
mod policy_tags;
mod records;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ignis_crypto::keyring::{
    parse_blob, DataKey, EncryptionContext, KeyOperation, KeyUse, SealedVersion,
};
use ignis_crypto::{CryptoError, Keyring};
use sqlx::SqlitePool;
use tokio::sync::Mutex;

pub use crypto_ops::{data_key_len, key_material_id};
pub use records::{AliasRecord, KeyRecord, KeyState, RotationRecord, Tags};

use crate::{MetaStore, StoreError};

/// Default waiting period of ScheduleKeyDeletion.
pub const DEFAULT_PENDING_WINDOW_DAYS: i64 = 30;
/// Default automatic rotation period.
pub const DEFAULT_ROTATION_PERIOD_DAYS: i64 = 365;
const DAY_MS: i64 = 86_400_000;
/// Only key usage supported (symmetric keys).
pub const KEY_USAGE: &str = "ENCRYPT_DECRYPT";
/// Only key spec supported.
pub const KEY_SPEC: &str = "SYMMETRIC_DEFAULT";

/// An error of the key service, as AWS KMS names it.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// NotFoundException.
    #[error("{0}")]
    NotFound(String),
    /// DisabledException.
    #[error("{0}")]
    Disabled(String),
    /// KMSInvalidStateException.
    #[error("{0}")]
    InvalidState(String),
    /// InvalidCiphertextException (AWS sends no message).
    #[error("")]
    InvalidCiphertext,
    /// IncorrectKeyException: Decrypt's KeyId is not the ciphertext's key.
    #[error("The key ID in the request does not identify a CMK that can perform this operation.")]
    IncorrectKey,
    /// AccessDeniedException (e.g. a ciphertext of a deleted key).
    #[error("{0}")]
    AccessDenied(String),
    /// AlreadyExistsException.
    #[error("{0}")]
    AlreadyExists(String),
    /// ValidationException.
    #[error("{0}")]
    Validation(String),
    /// NotAuthorizedException (reserved `alias/aws/` names).
    #[error("{0}")]
    NotAuthorized(String),
    /// InvalidMarkerException.
    #[error("{0}")]
    InvalidMarker(String),
    /// UnsupportedOperationException.
    #[error("{0}")]
    Unsupported(String),
    /// TagException.
    #[error("{0}")]
    Tag(String),
    /// MalformedPolicyDocumentException.
    #[error("{0}")]
    MalformedPolicy(String),
    /// KMSInternalException: the store failed.
    #[error("internal: {0}")]
    Store(#[from] StoreError),
    /// KMSInternalException: a cryptographic primitive failed (not a bad ciphertext).
    #[error("internal: {0}")]
    Crypto(CryptoError),
}

impl KmsError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NotFoundException",
            Self::Disabled(_) => "DisabledException",
            Self::InvalidState(_) => "KMSInvalidStateException",
            Self::InvalidCiphertext => "InvalidCiphertextException",
            Self::IncorrectKey => "IncorrectKeyException",
            Self::AccessDenied(_) => "AccessDeniedException",
            Self::AlreadyExists(_) => "AlreadyExistsException",
            Self::Validation(_) => "ValidationException",
            Self::NotAuthorized(_) => "NotAuthorizedException",
            Self::InvalidMarker(_) => "InvalidMarkerException",
            Self::Unsupported(_) => "UnsupportedOperationException",
            Self::Tag(_) => "TagException",
            Self::MalformedPolicy(_) => "MalformedPolicyDocumentException",
            Self::Store(_) | Self::Crypto(_) => "KMSInternalException",
        }
    }

    /// The HTTP status (KMS answers 400 for every client error, 500 for internal faults).
    pub fn status(&self) -> u16 {
        match self {
            Self::Store(_) | Self::Crypto(_) => 500,
            _ => 400,
        }
    }

    /// True for internal faults (their message must not reach the client).
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Store(_) | Self::Crypto(_))
    }

    /// A "1 validation error detected" ValidationException.
    pub fn validation(value: &str, field: &str, constraint: &str) -> Self {
        Self::Validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }
}

/// Result of the key service.
pub type KmsResult<T> = Result<T, KmsError>;

/// Who uses a key and why (reported to the key-use observer).
#[derive(Debug, Clone, Copy)]
pub struct KeyUser<'a> {
    /// Principal ARN of the caller (or a service principal).
    pub caller: &'a str,
    /// `kms:<Operation>` for API calls, else an internal purpose (`lambda:environment`, ...).
    pub purpose: &'a str,
}

/// A data key made by [`KeyService::generate_data_key`].
#[derive(Debug)]
pub struct GeneratedDataKey {
    /// Plaintext and ciphertext blob.
    pub key: DataKey,
    /// ARN of the master key.
    pub key_arn: String,
}

/// Options of CreateKey.
#[derive(Debug, Default, Clone)]
pub struct CreateKeyInput {
    /// Description (may be empty).
    pub description: Option<String>,
    /// KeyUsage (`ENCRYPT_DECRYPT` only).
    pub key_usage: Option<String>,
    /// KeySpec / CustomerMasterKeySpec (`SYMMETRIC_DEFAULT` only).
    pub key_spec: Option<String>,
    /// Origin (`AWS_KMS` only).
    pub origin: Option<String>,
    /// Key policy document (`None` = the default policy).
    pub policy: Option<String>,
    /// Tags (TagKey, TagValue).
    pub tags: Vec<(String, String)>,
}

/// A page of a listing with the marker of the next page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Entries of this page.
    pub items: Vec<T>,
    /// Marker for the next page; `None` when this is the last.
    pub next_marker: Option<String>,
}

/// Sealed material by (key id, version).
type MaterialCache = HashMap<(String, u32), Arc<Vec<u8>>>;

/// The key service of one account and region.
#[derive(Debug)]
pub struct KeyService {
    pool: SqlitePool,
    keyring: Arc<Keyring>,
    region: String,
    account: String,
    writes: Mutex<()>,
    /// Sealed material by (key id, version): immutable once written, so cached for the process.
    materials: std::sync::RwLock<MaterialCache>,
}

/// Current time, epoch milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Is `s` shaped like a key id (lowercase or uppercase UUID)?
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// What a KeyId parameter names.
enum KeyRef {
    Key(String),
    Alias(String),
}

impl KeyService {
    /// The key service over `meta`'s database, its material sealed under `meta`'s root key.
    pub fn new(meta: &MetaStore, region: &str, account: &str) -> Self {
        Self {
            pool: meta.pool.clone(),
            keyring: Arc::new(Keyring::new(meta.root.clone())),
            region: region.to_string(),
            account: account.to_string(),
            writes: Mutex::new(()),
            materials: std::sync::RwLock::new(HashMap::new()),
        }
    }

    /// The keyring (install the key-use observer with `keyring().set_observer(..)`).
    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// ARN of key `key_id`.
    pub fn key_arn(&self, key_id: &str) -> String {
        format!("arn:aws:kms:{}:{}:key/{key_id}", self.region, self.account)
    }

    /// ARN of alias `alias/...`.
    pub fn alias_arn(&self, alias_name: &str) -> String {
        format!("arn:aws:kms:{}:{}:{alias_name}", self.region, self.account)
    }

    fn key_missing(&self, key_id: &str) -> KmsError {
        KmsError::NotFound(format!("Key '{}' does not exist", self.key_arn(key_id)))
    }

    fn alias_missing(&self, alias_name: &str) -> KmsError {
        KmsError::NotFound(format!(
            "Alias {} is not found.",
            self.alias_arn(alias_name)
        ))
    }

    /// Classify a KeyId parameter (key id, key ARN, alias name, alias ARN).
    fn classify(&self, key_ref: &str) -> KmsResult<KeyRef> {
        let invalid = || KmsError::NotFound(format!("Invalid keyId {key_ref}"));
        if let Some(rest) = key_ref.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            let [partition, service, region, account, resource] = parts[..] else {
                return Err(invalid());
            };
            if !partition.starts_with("aws") || service != "kms" {
                return Err(invalid());
            }
            let here = region == self.region && account == self.account;
            if let Some(id) = resource.strip_prefix("key/") {
                if !here {
                    return Err(KmsError::NotFound(format!(
                        "Key '{key_ref}' does not exist"
                    )));
                }
                return if is_uuid(id) {
                    Ok(KeyRef::Key(id.to_string()))
                } else {
                    Err(KmsError::NotFound(format!(
                        "Key '{key_ref}' does not exist"
                    )))
                };
            }
            if resource.starts_with("alias/") {
                if !here {
                    return Err(KmsError::NotFound(format!("Alias {key_ref} is not found.")));
                }
                return Ok(KeyRef::Alias(resource.to_string()));
            }
            return Err(invalid());
        }
        if key_ref.starts_with("alias/") {
            return Ok(KeyRef::Alias(key_ref.to_string()));
        }
        if is_uuid(key_ref) {
            return Ok(KeyRef::Key(key_ref.to_string()));
        }
        Err(invalid())
    }

    /// Load a key, deleting it (and answering not found) if its deletion date has passed.
    async fn load(&self, key_id: &str) -> KmsResult<KeyRecord> {
        let key = records::get_key(&self.pool, key_id)
            .await?
            .ok_or_else(|| self.key_missing(key_id))?;
        if key.state == KeyState::PendingDeletion && key.deletion_ms.is_some_and(|d| d <= now_ms())
        {
            self.delete_key(key_id).await?;
            return Err(self.key_missing(key_id));
        }
        Ok(key)
    }

    /// Resolve a KeyId parameter; aliases only where the operation accepts them.
    async fn resolve(&self, key_ref: &str, allow_alias: bool) -> KmsResult<KeyRecord> {
        match self.classify(key_ref)? {
            KeyRef::Key(id) => self.load(&id).await,
            KeyRef::Alias(name) => {
                if !allow_alias {
                    return Err(KmsError::NotFound(format!("Invalid keyId {key_ref}")));
                }
                let alias = records::get_alias(&self.pool, &name)
                    .await?
                    .ok_or_else(|| self.alias_missing(&name))?;
                self.load(&alias.key_id).await
            }
        }
    }

    /// Refuse cryptographic use of a key that is not Enabled, as AWS words it.
    pub fn check_usable(key: &KeyRecord) -> KmsResult<()> {
        match key.state {
            KeyState::Enabled => Ok(()),
            KeyState::Disabled => Err(KmsError::Disabled(format!("{} is disabled.", key.arn))),
            KeyState::PendingDeletion => Err(KmsError::InvalidState(format!(
                "{} is pending deletion.",
                key.arn
            ))),
        }
    }

    fn not_pending(key: &KeyRecord) -> KmsResult<()> {
        if key.state == KeyState::PendingDeletion {
            return Err(KmsError::InvalidState(format!(
                "{} is pending deletion.",
                key.arn
            )));
        }
        Ok(())
    }

    /// Sealed material of one version (cached; `None` if the version does not exist).
    async fn material(&self, key_id: &str, version: u32) -> KmsResult<Option<Arc<Vec<u8>>>> {
        let cache_key = (key_id.to_string(), version);
        if let Some(hit) = self
            .materials
            .read()
            .ok()
            .and_then(|m| m.get(&cache_key).cloned())
        {
            return Ok(Some(hit));
        }
        let Some(found) = records::get_material(&self.pool, key_id, version).await? else {
            return Ok(None);
        };
        let found = Arc::new(found);
        if let Ok(mut m) = self.materials.write() {
            m.insert(cache_key, found.clone());
        }
        Ok(Some(found))
    }

    /// Delete a key with its material and aliases, and forget its cached material.
    async fn delete_key(&self, key_id: &str) -> KmsResult<()> {
        records::delete_key(&self.pool, key_id).await?;
        if let Ok(mut m) = self.materials.write() {
            m.retain(|(id, _), _| id != key_id);
        }
        Ok(())
    }

    fn crypto(e: CryptoError) -> KmsError {
        KmsError::Crypto(e)
    }
}

#[cfg(test)]
mod tests;
