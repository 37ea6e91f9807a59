//! Storage of Ignis: the metadata repository ([`MetaStore`], sqlx over SQLite in WAL mode; the SQL is
//! kept portable so a PostgreSQL backend can share it) and the encrypted artifact store
//! ([`ArtifactStore`], a local directory of envelope-encrypted blobs addressed by SHA-256).

pub mod artifacts;
pub mod event_config;
pub mod iam;
pub mod kms;
pub mod meta;
mod migrate;
pub mod queue;
pub mod usage;

pub use artifacts::ArtifactStore;
pub use event_config::EventInvokeConfig;
pub use meta::MetaStore;
pub use queue::AsyncQueue;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A stored document could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// Sealing or opening a secret or artifact failed.
    #[error("crypto: {0}")]
    Crypto(#[from] ignis_crypto::CryptoError),
    /// A filesystem operation failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;
