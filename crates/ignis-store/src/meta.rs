//! The metadata repository: functions, versions, aliases, policies, provisioned concurrency configs,
//! layers and credentials, as JSON documents in SQLite (WAL, `synchronous=FULL`: a write is on disk
//! when its call returns). Environment variables and access-key secrets are sealed with the root key.
//!
//! Writers serialise read-modify-write sequences with [`MetaStore::lock_writes`]; each method runs
//! one statement or one transaction.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ignis_core::model::{
    AliasConfig, Environment, FunctionConfig, FunctionMeta, LayerVersion, PolicyDoc,
    ProvisionedConfig, LATEST,
};
use ignis_crypto::RootKey;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use tokio::sync::{Mutex, MutexGuard};

use crate::{StoreError, StoreResult};

/// Handle to the metadata database.
#[derive(Clone, Debug)]
pub struct MetaStore {
    pub(crate) pool: SqlitePool,
    pub(crate) root: Arc<RootKey>,
    writes: Arc<Mutex<()>>,
}

/// Version number of `$LATEST` in the `versions` table.
const LATEST_NUM: i64 = 0;

/// Map `$LATEST` / `"7"` to the stored number; `None` for anything else.
pub fn version_number(version: &str) -> Option<i64> {
    if version == LATEST {
        Some(LATEST_NUM)
    } else if !version.is_empty()
        && version.len() <= 18
        && version.bytes().all(|b| b.is_ascii_digit())
    {
        version.parse().ok().filter(|n| *n > 0)
    } else {
        None
    }
}

fn to_json<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl MetaStore {
    /// Open (creating if needed) the SQLite database at `path` and apply migrations.
    pub async fn open_sqlite(path: &Path, root: Arc<RootKey>) -> StoreResult<Self> {
        let url = format!("sqlite://{}", path.display());
        let opts = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .min_connections(2)
            .max_connections(8)
            .connect_with(opts)
            .await?;
        crate::migrate::run(&pool).await?;
        Ok(Self {
            pool,
            root,
            writes: Arc::new(Mutex::new(())),
        })
    }

    /// Serialise a read-modify-write sequence against other writers of this process.
    pub async fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    /// Close the pool (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- credentials ----

    /// Store an access key with its secret sealed under the root key.
    pub async fn put_credential(
        &self,
        access_key_id: &str,
        secret: &str,
        principal: &str,
    ) -> StoreResult<()> {
        let sealed = self
            .root
            .seal(secret.as_bytes(), access_key_id.as_bytes())?;
        sqlx::query(
            "INSERT INTO credentials (access_key_id, secret, principal) VALUES ($1, $2, $3) \
             ON CONFLICT (access_key_id) DO UPDATE SET secret = excluded.secret, principal = excluded.principal",
        )
        .bind(access_key_id)
        .bind(sealed)
        .bind(principal)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The secret and principal ARN of an access key.
    pub async fn get_credential(
        &self,
        access_key_id: &str,
    ) -> StoreResult<Option<(String, String)>> {
        let row = sqlx::query("SELECT secret, principal FROM credentials WHERE access_key_id = $1")
            .bind(access_key_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Vec<u8> = row.try_get("secret")?;
        let secret = self.root.open(&sealed, access_key_id.as_bytes())?;
        let secret = String::from_utf8(secret).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some((secret, row.try_get("principal")?)))
    }

    /// Number of stored access keys.
    pub async fn credential_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM credentials")
            .fetch_one(&self.pool)
            .await?)
    }

    // ---- functions and versions ----

    /// Function-level settings, `None` if the function does not exist.
    pub async fn get_meta(&self, name: &str) -> StoreResult<Option<FunctionMeta>> {
        let row: Option<String> = sqlx::query_scalar("SELECT meta FROM functions WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_deref().map(from_json).transpose()
    }

    /// Replace function-level settings.
    pub async fn put_meta(&self, name: &str, meta: &FunctionMeta) -> StoreResult<()> {
        sqlx::query("UPDATE functions SET meta = $1 WHERE name = $2")
            .bind(to_json(meta)?)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn seal_env(&self, cfg: &FunctionConfig) -> StoreResult<(String, Option<Vec<u8>>)> {
        let mut plain = cfg.clone();
        let env = plain.environment.take();
        let sealed = match env {
            Some(env) => Some(
                self.root
                    .seal(to_json(&env)?.as_bytes(), env_context(cfg).as_bytes())?,
            ),
            None => None,
        };
        Ok((to_json(&plain)?, sealed))
    }

    fn open_env(&self, config: &str, env: Option<Vec<u8>>) -> StoreResult<FunctionConfig> {
        let mut cfg: FunctionConfig = from_json(config)?;
        if let Some(sealed) = env {
            let plain = self.root.open(&sealed, env_context(&cfg).as_bytes())?;
            let env: Environment =
                serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            cfg.environment = Some(env);
        }
        Ok(cfg)
    }

    /// Create a function: its settings and `$LATEST` (and optionally version 1) in one transaction.
    pub async fn create_function(
        &self,
        meta: &FunctionMeta,
        versions: &[&FunctionConfig],
    ) -> StoreResult<()> {
        let Some(first) = versions.first() else {
            return Ok(());
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO functions (name, meta) VALUES ($1, $2)")
            .bind(&first.function_name)
            .bind(to_json(meta)?)
            .execute(&mut *tx)
            .await?;
        for cfg in versions {
            let (config, env) = self.seal_env(cfg)?;
            sqlx::query(
                "INSERT INTO versions (name, version, config, env) VALUES ($1, $2, $3, $4)",
            )
            .bind(&cfg.function_name)
            .bind(version_number(&cfg.version).unwrap_or(LATEST_NUM))
            .bind(config)
            .bind(env)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Insert or replace one version's configuration, optionally with new function settings, atomically.
    pub async fn put_version(
        &self,
        cfg: &FunctionConfig,
        meta: Option<&FunctionMeta>,
    ) -> StoreResult<()> {
        let (config, env) = self.seal_env(cfg)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO versions (name, version, config, env) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name, version) DO UPDATE SET config = excluded.config, env = excluded.env",
        )
        .bind(&cfg.function_name)
        .bind(version_number(&cfg.version).unwrap_or(LATEST_NUM))
        .bind(config)
        .bind(env)
        .execute(&mut *tx)
        .await?;
        if let Some(meta) = meta {
            sqlx::query("UPDATE functions SET meta = $1 WHERE name = $2")
                .bind(to_json(meta)?)
                .bind(&cfg.function_name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One version (`$LATEST` or a number) of a function.
    pub async fn get_version(
        &self,
        name: &str,
        version: &str,
    ) -> StoreResult<Option<FunctionConfig>> {
        let Some(num) = version_number(version) else {
            return Ok(None);
        };
        let row = sqlx::query("SELECT config, env FROM versions WHERE name = $1 AND version = $2")
            .bind(name)
            .bind(num)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| self.open_env(&r.try_get::<String, _>("config")?, r.try_get("env")?))
            .transpose()
    }

    /// Versions of one function in order (`$LATEST` first), after `after` (a stored number), at most `limit`.
    pub async fn list_versions(
        &self,
        name: &str,
        after: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<FunctionConfig>> {
        let rows = sqlx::query(
            "SELECT config, env FROM versions WHERE name = $1 AND version > $2 ORDER BY version LIMIT $3",
        )
        .bind(name)
        .bind(after.unwrap_or(-1))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| self.open_env(&r.try_get::<String, _>("config")?, r.try_get("env")?))
            .collect()
    }

    /// `$LATEST` of every function in name order after `after`, at most `limit`.
    pub async fn list_latest(&self, after: &str, limit: i64) -> StoreResult<Vec<FunctionConfig>> {
        let rows = sqlx::query(
            "SELECT config, env FROM versions WHERE version = 0 AND name > $1 ORDER BY name LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| self.open_env(&r.try_get::<String, _>("config")?, r.try_get("env")?))
            .collect()
    }

    /// Every version of every function in (name, version) order after (`name`, `version`), at most `limit`.
    pub async fn list_all_versions(
        &self,
        after: (&str, i64),
        limit: i64,
    ) -> StoreResult<Vec<FunctionConfig>> {
        let rows = sqlx::query(
            "SELECT config, env FROM versions WHERE name > $1 OR (name = $2 AND version > $3) \
             ORDER BY name, version LIMIT $4",
        )
        .bind(after.0)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| self.open_env(&r.try_get::<String, _>("config")?, r.try_get("env")?))
            .collect()
    }

    /// Delete a function with all its versions, aliases, policies and provisioned configs.
    pub async fn delete_function(&self, name: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for table in [
            "functions",
            "versions",
            "aliases",
            "policies",
            "provisioned",
            "event_invoke_configs",
        ] {
            sqlx::query(&format!("DELETE FROM {table} WHERE name = $1"))
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Delete one published version (and its qualifier-scoped policy and provisioned config).
    pub async fn delete_version(&self, name: &str, version: &str) -> StoreResult<()> {
        let Some(num) = version_number(version) else {
            return Ok(());
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM versions WHERE name = $1 AND version = $2")
            .bind(name)
            .bind(num)
            .execute(&mut *tx)
            .await?;
        for table in ["policies", "provisioned", "event_invoke_configs"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE name = $1 AND qualifier = $2"
            ))
            .bind(name)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Number of functions and total code size of all versions (for GetAccountSettings).
    pub async fn usage(&self) -> StoreResult<(i64, i64)> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM functions")
            .fetch_one(&self.pool)
            .await?;
        let rows: Vec<String> = sqlx::query_scalar("SELECT config FROM versions")
            .fetch_all(&self.pool)
            .await?;
        let mut size = 0i64;
        for r in rows {
            let cfg: FunctionConfig = from_json(&r)?;
            size += cfg.code_size as i64;
        }
        Ok((count, size))
    }

    /// Whether any function version or layer version still references the code digest
    /// (base64 `CodeSha256`), so its artifact must be kept.
    pub async fn code_in_use(&self, code_sha256_b64: &str) -> StoreResult<bool> {
        let needle = format!("%\"CodeSha256\":\"{code_sha256_b64}\"%");
        let n: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM versions WHERE config LIKE $1) + \
             (SELECT COUNT(*) FROM layers WHERE config LIKE $2)",
        )
        .bind(&needle)
        .bind(&needle)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    // ---- aliases ----

    /// One alias.
    pub async fn get_alias(&self, name: &str, alias: &str) -> StoreResult<Option<AliasConfig>> {
        let row: Option<String> =
            sqlx::query_scalar("SELECT config FROM aliases WHERE name = $1 AND alias = $2")
                .bind(name)
                .bind(alias)
                .fetch_optional(&self.pool)
                .await?;
        row.as_deref().map(from_json).transpose()
    }

    /// Insert or replace an alias.
    pub async fn put_alias(&self, name: &str, cfg: &AliasConfig) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO aliases (name, alias, config) VALUES ($1, $2, $3) \
             ON CONFLICT (name, alias) DO UPDATE SET config = excluded.config",
        )
        .bind(name)
        .bind(&cfg.name)
        .bind(to_json(cfg)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Delete an alias and its qualifier-scoped policy and provisioned config.
    pub async fn delete_alias(&self, name: &str, alias: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for table in ["aliases"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE name = $1 AND alias = $2"
            ))
            .bind(name)
            .bind(alias)
            .execute(&mut *tx)
            .await?;
        }
        for table in ["policies", "provisioned", "event_invoke_configs"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE name = $1 AND qualifier = $2"
            ))
            .bind(name)
            .bind(alias)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// All aliases of a function in name order.
    pub async fn list_aliases(&self, name: &str) -> StoreResult<Vec<AliasConfig>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT config FROM aliases WHERE name = $1 ORDER BY alias")
                .bind(name)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| from_json(r)).collect()
    }

    // ---- resource policies ----

    /// The JSON document of `(name, qualifier)` in a table keyed that way (`policies.doc`,
    /// `provisioned.config`).
    async fn get_scoped<T: DeserializeOwned>(
        &self,
        table: Scoped,
        name: &str,
        qualifier: &str,
    ) -> StoreResult<Option<T>> {
        let (table, col) = table.names();
        let row: Option<String> = sqlx::query_scalar(&format!(
            "SELECT {col} FROM {table} WHERE name = $1 AND qualifier = $2"
        ))
        .bind(name)
        .bind(qualifier)
        .fetch_optional(&self.pool)
        .await?;
        row.as_deref().map(from_json).transpose()
    }

    /// Insert or replace (or with `None`, delete) the document of `(name, qualifier)`.
    async fn put_scoped<T: Serialize>(
        &self,
        table: Scoped,
        name: &str,
        qualifier: &str,
        doc: Option<&T>,
    ) -> StoreResult<()> {
        let (table, col) = table.names();
        let sql = match doc {
            Some(_) => format!(
                "INSERT INTO {table} (name, qualifier, {col}) VALUES ($1, $2, $3) \
                 ON CONFLICT (name, qualifier) DO UPDATE SET {col} = excluded.{col}"
            ),
            None => format!("DELETE FROM {table} WHERE name = $1 AND qualifier = $2"),
        };
        let mut query = sqlx::query(&sql).bind(name).bind(qualifier);
        if let Some(doc) = doc {
            query = query.bind(to_json(doc)?);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// The resource policy of a function (`qualifier` "" for the unqualified function).
    pub async fn get_policy(&self, name: &str, qualifier: &str) -> StoreResult<Option<PolicyDoc>> {
        self.get_scoped(Scoped::Policies, name, qualifier).await
    }

    /// Replace (or with `None`, delete) a resource policy.
    pub async fn put_policy(
        &self,
        name: &str,
        qualifier: &str,
        doc: Option<&PolicyDoc>,
    ) -> StoreResult<()> {
        self.put_scoped(Scoped::Policies, name, qualifier, doc)
            .await
    }

    // ---- provisioned concurrency ----

    /// The provisioned concurrency config of a qualifier.
    pub async fn get_provisioned(
        &self,
        name: &str,
        qualifier: &str,
    ) -> StoreResult<Option<ProvisionedConfig>> {
        self.get_scoped(Scoped::Provisioned, name, qualifier).await
    }

    /// Insert or replace (or with `None`, delete) a provisioned concurrency config.
    pub async fn put_provisioned(
        &self,
        name: &str,
        qualifier: &str,
        cfg: Option<&ProvisionedConfig>,
    ) -> StoreResult<()> {
        self.put_scoped(Scoped::Provisioned, name, qualifier, cfg)
            .await
    }

    /// Every provisioned concurrency config of a function, by qualifier.
    pub async fn list_provisioned(&self, name: &str) -> StoreResult<Vec<ProvisionedConfig>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT config FROM provisioned WHERE name = $1 ORDER BY qualifier")
                .bind(name)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| from_json(r)).collect()
    }

    /// Every provisioned concurrency config: (function name, qualifier, config).
    pub async fn list_all_provisioned(
        &self,
    ) -> StoreResult<Vec<(String, String, ProvisionedConfig)>> {
        let rows =
            sqlx::query("SELECT name, qualifier, config FROM provisioned ORDER BY name, qualifier")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get("name")?,
                    r.try_get("qualifier")?,
                    from_json(&r.try_get::<String, _>("config")?)?,
                ))
            })
            .collect()
    }

    /// Sum of provisioned concurrency across all functions.
    pub async fn total_provisioned(&self) -> StoreResult<u64> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT config FROM provisioned")
            .fetch_all(&self.pool)
            .await?;
        let mut total = 0u64;
        for r in rows {
            let cfg: ProvisionedConfig = from_json(&r)?;
            total += u64::from(cfg.requested_provisioned_concurrent_executions);
        }
        Ok(total)
    }

    /// Sum of reserved concurrency across all functions.
    pub async fn total_reserved(&self) -> StoreResult<u64> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT meta FROM functions")
            .fetch_all(&self.pool)
            .await?;
        let mut total = 0u64;
        for r in rows {
            let meta: FunctionMeta = from_json(&r)?;
            total += u64::from(meta.reserved_concurrency.unwrap_or(0));
        }
        Ok(total)
    }

    // ---- layers ----

    /// Allocate the next version number of a layer (numbers are never reused).
    pub async fn next_layer_version(&self, name: &str) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let current: Option<i64> =
            sqlx::query_scalar("SELECT next_version FROM layer_names WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        let version = current.unwrap_or(1);
        sqlx::query(
            "INSERT INTO layer_names (name, next_version) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET next_version = excluded.next_version",
        )
        .bind(name)
        .bind(version + 1)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version as u64)
    }

    /// Store a layer version.
    pub async fn put_layer(&self, name: &str, layer: &LayerVersion) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO layers (name, version, config) VALUES ($1, $2, $3) \
             ON CONFLICT (name, version) DO UPDATE SET config = excluded.config",
        )
        .bind(name)
        .bind(layer.version as i64)
        .bind(to_json(layer)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One layer version.
    pub async fn get_layer(&self, name: &str, version: u64) -> StoreResult<Option<LayerVersion>> {
        let row: Option<String> =
            sqlx::query_scalar("SELECT config FROM layers WHERE name = $1 AND version = $2")
                .bind(name)
                .bind(version as i64)
                .fetch_optional(&self.pool)
                .await?;
        row.as_deref().map(from_json).transpose()
    }

    /// Versions of a layer, newest first.
    pub async fn list_layer_versions(&self, name: &str) -> StoreResult<Vec<LayerVersion>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT config FROM layers WHERE name = $1 ORDER BY version DESC")
                .bind(name)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| from_json(r)).collect()
    }

    /// Every layer version of every layer, by name then newest first.
    pub async fn list_all_layers(&self) -> StoreResult<Vec<(String, LayerVersion)>> {
        let rows = sqlx::query("SELECT name, config FROM layers ORDER BY name, version DESC")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get("name")?,
                    from_json(&r.try_get::<String, _>("config")?)?,
                ))
            })
            .collect()
    }

    /// Delete a layer version and its policy.
    pub async fn delete_layer(&self, name: &str, version: u64) -> StoreResult<()> {
        sqlx::query("DELETE FROM layers WHERE name = $1 AND version = $2")
            .bind(name)
            .bind(version as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The policy of a layer version.
    pub async fn get_layer_policy(
        &self,
        name: &str,
        version: u64,
    ) -> StoreResult<Option<PolicyDoc>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT policy FROM layers WHERE name = $1 AND version = $2")
                .bind(name)
                .bind(version as i64)
                .fetch_optional(&self.pool)
                .await?;
        row.flatten().as_deref().map(from_json).transpose()
    }

    /// Replace (or with `None`, clear) the policy of a layer version.
    pub async fn put_layer_policy(
        &self,
        name: &str,
        version: u64,
        doc: Option<&PolicyDoc>,
    ) -> StoreResult<()> {
        let doc = doc.map(to_json).transpose()?;
        sqlx::query("UPDATE layers SET policy = $1 WHERE name = $2 AND version = $3")
            .bind(doc)
            .bind(name)
            .bind(version as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Tables keyed by (function name, qualifier) holding one JSON document.
#[derive(Clone, Copy)]
enum Scoped {
    Policies,
    Provisioned,
}

impl Scoped {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Policies => ("policies", "doc"),
            Self::Provisioned => ("provisioned", "config"),
        }
    }
}

fn env_context(cfg: &FunctionConfig) -> String {
    format!("env:{}:{}", cfg.function_name, cfg.version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ignis_core::model::*;

    fn cfg(name: &str, version: &str) -> FunctionConfig {
        FunctionConfig {
            function_name: name.into(),
            function_arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{name}"),
            runtime: Some("python3.11".into()),
            role: "arn:aws:iam::000000000000:role/r".into(),
            handler: Some("app.handler".into()),
            code_size: 10,
            description: String::new(),
            timeout: 3,
            memory_size: 128,
            last_modified: "2024-01-01T00:00:00.000+0000".into(),
            code_sha256: "abc".into(),
            version: version.into(),
            environment: Some(Environment {
                variables: [("SECRET_TOKEN".to_string(), "hunter2-plaintext".to_string())].into(),
            }),
            kms_key_arn: None,
            tracing_config: TracingConfig::default(),
            revision_id: "r1".into(),
            layers: None,
            state: "Active".into(),
            state_reason: None,
            state_reason_code: None,
            last_update_status: "Successful".into(),
            last_update_status_reason: None,
            last_update_status_reason_code: None,
            package_type: "Zip".into(),
            architectures: vec!["x86_64".into()],
            ephemeral_storage: EphemeralStorage { size: 512 },
            snap_start: SnapStart::default(),
            logging_config: LoggingConfig::default(),
            dead_letter_config: None,
            vpc_config: None,
            file_system_configs: None,
        }
    }

    #[tokio::test]
    async fn functions_round_trip_env_sealed_and_survive_reopen() {
        let dir = std::env::temp_dir().join(format!("ignis-meta-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("meta.db");
        let root = Arc::new(RootKey::generate().unwrap());
        let store = MetaStore::open_sqlite(&db, root.clone()).await.unwrap();
        let meta = FunctionMeta {
            next_version: 1,
            ..Default::default()
        };
        store
            .create_function(&meta, &[&cfg("a", LATEST)])
            .await
            .unwrap();
        store
            .create_function(&meta, &[&cfg("b", LATEST), &cfg("b", "1")])
            .await
            .unwrap();
        assert!(store
            .create_function(&meta, &[&cfg("a", LATEST)])
            .await
            .is_err());
        assert_eq!(
            store.get_version("a", LATEST).await.unwrap().unwrap(),
            cfg("a", LATEST)
        );
        assert_eq!(store.list_latest("", 10).await.unwrap().len(), 2);
        assert_eq!(
            store.list_latest("a", 10).await.unwrap()[0].function_name,
            "b"
        );
        assert_eq!(
            store.list_all_versions(("", -1), 10).await.unwrap().len(),
            3
        );
        assert_eq!(store.list_versions("b", None, 10).await.unwrap().len(), 2);
        store
            .put_credential("AKIATEST", "s3cr3t-value", "arn:aws:iam::000000000000:root")
            .await
            .unwrap();
        store.close().await;
        // Secrets never reach the database file in plaintext.
        for file in std::fs::read_dir(&dir).unwrap() {
            let Ok(bytes) = std::fs::read(file.unwrap().path()) else {
                continue;
            };
            assert!(!bytes.windows(17).any(|w| w == b"hunter2-plaintext"));
            assert!(!bytes.windows(12).any(|w| w == b"s3cr3t-value"));
        }
        let store = MetaStore::open_sqlite(&db, root).await.unwrap();
        assert_eq!(
            store.get_version("b", "1").await.unwrap().unwrap(),
            cfg("b", "1")
        );
        assert_eq!(
            store.get_credential("AKIATEST").await.unwrap().unwrap().0,
            "s3cr3t-value"
        );
        store.delete_function("b").await.unwrap();
        assert!(store.get_version("b", "1").await.unwrap().is_none());
        assert!(store.get_meta("b").await.unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn version_numbers() {
        assert_eq!(version_number("$LATEST"), Some(0));
        assert_eq!(version_number("12"), Some(12));
        assert_eq!(version_number("0"), None);
        assert_eq!(version_number("abc"), None);
        assert_eq!(version_number("99999999999999999999999"), None);
    }
}
