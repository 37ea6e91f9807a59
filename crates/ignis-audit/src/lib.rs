//! The audit trail of Ignis (CloudTrail-like): one record per API call, appended to hourly segment
//! files as hash-chained JSON lines (`{"prev": hex, "hash": hex, "record": {...}}` where
//! `hash = SHA-256(prev || record bytes)`), and periodic digest files signed with an Ed25519 key that
//! link to the previous digest. `verify` recomputes the chain and checks every digest and signature,
//! reporting the first tampered record; `lookup` answers CloudTrail's `LookupEvents`.
//!
//! Layout under the trail directory:
//! - `records/YYYYMMDDTHH.jsonl` — records of one UTC hour, in order;
//! - `digests/NNNNNNNN.json` — `{"digest": {...}, "signature": base64}`;
//! - `signing.key` — the Ed25519 private key (PKCS#8) sealed under the root key; `signing.pub` — the
//!   public key (hex), whose fingerprint the server prints at start for out-of-band pinning.

mod chain;
mod digest;
pub mod history;
pub mod lookup;
mod record;
mod signer;
mod trail;
mod verify;

pub use history::{ConfigHistory, ConfigItem};
pub use record::{redact, AuditEvent, Resource, UserIdentity};
pub use signer::Signer;
pub use trail::{now_rfc3339, rfc3339 as trail_time, AuditTrail, TrailConfig};
pub use verify::{verify, VerifyReport};

/// Errors of the audit trail.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Reading or writing trail files failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A record or digest is not valid JSON of the expected shape.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which file/line.
        what: String,
        /// The parser's complaint.
        detail: String,
    },
    /// Key generation, sealing or signing failed.
    #[error("crypto: {0}")]
    Crypto(String),
}

impl From<ignis_crypto::CryptoError> for AuditError {
    fn from(e: ignis_crypto::CryptoError) -> Self {
        Self::Crypto(e.to_string())
    }
}

/// Result alias of the audit trail.
pub type AuditResult<T> = Result<T, AuditError>;
