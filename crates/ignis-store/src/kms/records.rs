//! Rows of the key service tables (`kms_keys`, `kms_key_material`, `kms_aliases`) and the SQL that
//! reads and writes them. No policy here: state checks live in [`super::KeyService`].

use std::collections::BTreeMap;

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};

use crate::{StoreError, StoreResult};

/// Tags of a key (TagKey → TagValue).
pub type Tags = BTreeMap<String, String>;

fn tags_json(tags: &Tags) -> StoreResult<String> {
    serde_json::to_string(tags).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Lifecycle state of a master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Usable.
    Enabled,
    /// Refuses cryptographic operations until enabled again.
    Disabled,
    /// Scheduled for deletion; refuses everything but describe/cancel.
    PendingDeletion,
}

impl KeyState {
    /// The wire (and stored) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::PendingDeletion => "PendingDeletion",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        match s {
            "Enabled" => Ok(Self::Enabled),
            "Disabled" => Ok(Self::Disabled),
            "PendingDeletion" => Ok(Self::PendingDeletion),
            other => Err(StoreError::Corrupt(format!("key state {other}"))),
        }
    }
}

/// A customer master key's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// UUID.
    pub key_id: String,
    /// `arn:aws:kms:<region>:<account>:key/<uuid>`.
    pub arn: String,
    /// Free-text description.
    pub description: String,
    /// Lifecycle state.
    pub state: KeyState,
    /// `ENCRYPT_DECRYPT`.
    pub key_usage: String,
    /// `SYMMETRIC_DEFAULT`.
    pub key_spec: String,
    /// Creation time, epoch milliseconds.
    pub created_ms: i64,
    /// When a pending deletion happens, epoch milliseconds.
    pub deletion_ms: Option<i64>,
    /// Waiting period of a pending deletion.
    pub pending_window_days: Option<i64>,
    /// Automatic rotation on?
    pub rotation_enabled: bool,
    /// Days between automatic rotations (when enabled).
    pub rotation_period_days: Option<i64>,
    /// Next automatic rotation, epoch milliseconds (when enabled).
    pub next_rotation_ms: Option<i64>,
    /// Material version used for new ciphertexts.
    pub current_version: u32,
}

/// An alias row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    /// `alias/...`.
    pub alias_name: String,
    /// Target key id.
    pub key_id: String,
    /// Creation time, epoch milliseconds.
    pub created_ms: i64,
    /// Last retarget time, epoch milliseconds.
    pub updated_ms: i64,
}

/// A rotation (material versions after the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationRecord {
    /// Material version made by the rotation.
    pub version: u32,
    /// When, epoch milliseconds.
    pub created_ms: i64,
    /// `AUTOMATIC` or `ON_DEMAND`.
    pub rotation_type: String,
}

const KEY_COLUMNS: &str = "key_id, arn, description, key_state, key_usage, key_spec, created_ms, \
     deletion_ms, pending_window_days, rotation_enabled, rotation_period_days, next_rotation_ms, \
     current_version";

fn key_from_row(row: &SqliteRow) -> StoreResult<KeyRecord> {
    let version: i64 = row.try_get("current_version")?;
    Ok(KeyRecord {
        key_id: row.try_get("key_id")?,
        arn: row.try_get("arn")?,
        description: row.try_get("description")?,
        state: KeyState::parse(row.try_get::<&str, _>("key_state")?)?,
        key_usage: row.try_get("key_usage")?,
        key_spec: row.try_get("key_spec")?,
        created_ms: row.try_get("created_ms")?,
        deletion_ms: row.try_get("deletion_ms")?,
        pending_window_days: row.try_get("pending_window_days")?,
        rotation_enabled: row.try_get::<i64, _>("rotation_enabled")? != 0,
        rotation_period_days: row.try_get("rotation_period_days")?,
        next_rotation_ms: row.try_get("next_rotation_ms")?,
        current_version: u32::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("key version {version}")))?,
    })
}

fn alias_from_row(row: &SqliteRow) -> StoreResult<AliasRecord> {
    Ok(AliasRecord {
        alias_name: row.try_get("alias_name")?,
        key_id: row.try_get("key_id")?,
        created_ms: row.try_get("created_ms")?,
        updated_ms: row.try_get("updated_ms")?,
    })
}

/// Insert a new key with its first material version (one transaction).
pub(super) async fn insert_key(
    pool: &SqlitePool,
    key: &KeyRecord,
    sealed_material: &[u8],
    policy: Option<&str>,
    tags: &Tags,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO kms_keys (key_id, arn, description, key_state, key_usage, key_spec, created_ms, \
         current_version, seq, policy, tags) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, (SELECT COALESCE(MAX(seq), 0) + 1 FROM kms_keys), \
         $9, $10)",
    )
    .bind(&key.key_id)
    .bind(&key.arn)
    .bind(&key.description)
    .bind(key.state.as_str())
    .bind(&key.key_usage)
    .bind(&key.key_spec)
    .bind(key.created_ms)
    .bind(i64::from(key.current_version))
    .bind(policy)
    .bind(tags_json(tags)?)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO kms_key_material (key_id, version, sealed, created_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(&key.key_id)
    .bind(i64::from(key.current_version))
    .bind(sealed_material)
    .bind(key.created_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The key with id `key_id`.
pub(super) async fn get_key(pool: &SqlitePool, key_id: &str) -> StoreResult<Option<KeyRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM kms_keys WHERE key_id = $1"
    ))
    .bind(key_id)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

/// Write back the mutable columns of `key`.
pub(super) async fn update_key(pool: &SqlitePool, key: &KeyRecord) -> StoreResult<()> {
    sqlx::query(
        "UPDATE kms_keys SET description = $2, key_state = $3, deletion_ms = $4, \
         pending_window_days = $5, rotation_enabled = $6, rotation_period_days = $7, \
         next_rotation_ms = $8 WHERE key_id = $1",
    )
    .bind(&key.key_id)
    .bind(&key.description)
    .bind(key.state.as_str())
    .bind(key.deletion_ms)
    .bind(key.pending_window_days)
    .bind(i64::from(key.rotation_enabled))
    .bind(key.rotation_period_days)
    .bind(key.next_rotation_ms)
    .execute(pool)
    .await?;
    Ok(())
}

/// Delete a key with its material and aliases.
pub(super) async fn delete_key(pool: &SqlitePool, key_id: &str) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for table in ["kms_aliases", "kms_key_material", "kms_keys"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE key_id = $1"))
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Keys past their deletion date (ids).
pub(super) async fn expired_keys(pool: &SqlitePool, now_ms: i64) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT key_id FROM kms_keys WHERE key_state = 'PendingDeletion' AND deletion_ms <= $1",
    )
    .bind(now_ms)
    .fetch_all(pool)
    .await?)
}

/// Up to `limit` keys (id, arn, seq) after creation sequence `after`, in creation order.
pub(super) async fn list_keys(
    pool: &SqlitePool,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<(String, String, i64)>> {
    let rows =
        sqlx::query("SELECT key_id, arn, seq FROM kms_keys WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("key_id")?, r.try_get("arn")?, r.try_get("seq")?)))
        .collect()
}

/// The sealed material of one version.
pub(super) async fn get_material(
    pool: &SqlitePool,
    key_id: &str,
    version: u32,
) -> StoreResult<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar(
            "SELECT sealed FROM kms_key_material WHERE key_id = $1 AND version = $2",
        )
        .bind(key_id)
        .bind(i64::from(version))
        .fetch_optional(pool)
        .await?,
    )
}

/// Add material version `version` and make it current; optionally move the next automatic rotation.
pub(super) async fn add_version(
    pool: &SqlitePool,
    key_id: &str,
    version: u32,
    sealed: &[u8],
    now_ms: i64,
    rotation_type: &str,
    next_rotation_ms: Option<i64>,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO kms_key_material (key_id, version, sealed, created_ms, rotation_type) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key_id)
    .bind(i64::from(version))
    .bind(sealed)
    .bind(now_ms)
    .bind(rotation_type)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE kms_keys SET current_version = $2, \
         next_rotation_ms = COALESCE($3, next_rotation_ms) WHERE key_id = $1",
    )
    .bind(key_id)
    .bind(i64::from(version))
    .bind(next_rotation_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Rotations of a key (material versions after the first), oldest first.
pub(super) async fn list_rotations(
    pool: &SqlitePool,
    key_id: &str,
) -> StoreResult<Vec<RotationRecord>> {
    let rows = sqlx::query(
        "SELECT version, created_ms, rotation_type FROM kms_key_material \
         WHERE key_id = $1 AND rotation_type IS NOT NULL ORDER BY version",
    )
    .bind(key_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let v: i64 = r.try_get("version")?;
            Ok(RotationRecord {
                version: u32::try_from(v)
                    .map_err(|_| StoreError::Corrupt(format!("key version {v}")))?,
                created_ms: r.try_get("created_ms")?,
                rotation_type: r.try_get("rotation_type")?,
            })
        })
        .collect()
}

/// The alias named `name`.
pub(super) async fn get_alias(pool: &SqlitePool, name: &str) -> StoreResult<Option<AliasRecord>> {
    let row = sqlx::query(
        "SELECT alias_name, key_id, created_ms, updated_ms FROM kms_aliases WHERE alias_name = $1",
    )
    .bind(name)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(alias_from_row).transpose()
}

/// Insert an alias; `false` if the name is taken.
pub(super) async fn insert_alias(pool: &SqlitePool, alias: &AliasRecord) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO kms_aliases (alias_name, key_id, created_ms, updated_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (alias_name) DO NOTHING",
    )
    .bind(&alias.alias_name)
    .bind(&alias.key_id)
    .bind(alias.created_ms)
    .bind(alias.updated_ms)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Point an existing alias at another key.
pub(super) async fn retarget_alias(
    pool: &SqlitePool,
    name: &str,
    key_id: &str,
    now_ms: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE kms_aliases SET key_id = $2, updated_ms = $3 WHERE alias_name = $1")
        .bind(name)
        .bind(key_id)
        .bind(now_ms)
        .execute(pool)
        .await?;
    Ok(())
}

/// Delete an alias; `false` if it did not exist.
pub(super) async fn delete_alias(pool: &SqlitePool, name: &str) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM kms_aliases WHERE alias_name = $1")
        .bind(name)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Up to `limit` aliases with names after `after`, optionally only those of `key_id`.
pub(super) async fn list_aliases(
    pool: &SqlitePool,
    key_id: Option<&str>,
    after: &str,
    limit: i64,
) -> StoreResult<Vec<AliasRecord>> {
    let rows = sqlx::query(
        "SELECT alias_name, key_id, created_ms, updated_ms FROM kms_aliases \
         WHERE alias_name > $1 AND ($2 IS NULL OR key_id = $2) ORDER BY alias_name LIMIT $3",
    )
    .bind(after)
    .bind(key_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(alias_from_row).collect()
}

/// The stored key policy (`None` = the default policy).
pub(super) async fn get_policy(pool: &SqlitePool, key_id: &str) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar::<_, Option<String>>("SELECT policy FROM kms_keys WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}

/// Replace the key policy.
pub(super) async fn put_policy(pool: &SqlitePool, key_id: &str, policy: &str) -> StoreResult<()> {
    sqlx::query("UPDATE kms_keys SET policy = $2 WHERE key_id = $1")
        .bind(key_id)
        .bind(policy)
        .execute(pool)
        .await?;
    Ok(())
}

/// The key's tags.
pub(super) async fn get_tags(pool: &SqlitePool, key_id: &str) -> StoreResult<Tags> {
    let text: Option<String> = sqlx::query_scalar("SELECT tags FROM kms_keys WHERE key_id = $1")
        .bind(key_id)
        .fetch_optional(pool)
        .await?;
    match text {
        Some(t) => serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(e.to_string())),
        None => Ok(Tags::new()),
    }
}

/// Replace the key's tags.
pub(super) async fn put_tags(pool: &SqlitePool, key_id: &str, tags: &Tags) -> StoreResult<()> {
    sqlx::query("UPDATE kms_keys SET tags = $2 WHERE key_id = $1")
        .bind(key_id)
        .bind(tags_json(tags)?)
        .execute(pool)
        .await?;
    Ok(())
}
