//! Usage metering aggregates (`usage_daily`): per account, function and UTC day, request counts and
//! compute in MB-milliseconds, added to by each flush of the server's meter, listed by month for
//! `ignis usage` (which may read through a read-only connection while the server runs).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};

use crate::{MetaStore, StoreResult};

/// One aggregate row: usage of a function on a UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsageRow {
    /// Account id.
    pub account: String,
    /// Function name.
    pub function_name: String,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Requests.
    pub requests: u64,
    /// Billed duration (ms, rounded up) × memory (MB), summed.
    pub mb_ms: u64,
    /// Provisioned concurrency: time configured (ms) × memory (MB), summed.
    pub provisioned_mb_ms: u64,
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

async fn upsert(pool: &SqlitePool, rows: &[UsageRow]) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for r in rows {
        sqlx::query(
            "INSERT INTO usage_daily (account, function_name, day, requests, mb_ms, provisioned_mb_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account, function_name, day) DO UPDATE SET \
             requests = requests + excluded.requests, mb_ms = mb_ms + excluded.mb_ms, \
             provisioned_mb_ms = provisioned_mb_ms + excluded.provisioned_mb_ms",
        )
        .bind(&r.account)
        .bind(&r.function_name)
        .bind(&r.day)
        .bind(to_i64(r.requests))
        .bind(to_i64(r.mb_ms))
        .bind(to_i64(r.provisioned_mb_ms))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn list(pool: &SqlitePool, month: &str) -> StoreResult<Vec<UsageRow>> {
    let rows = sqlx::query(
        "SELECT account, function_name, day, requests, mb_ms, provisioned_mb_ms FROM usage_daily \
         WHERE substr(day, 1, 7) = $1 ORDER BY account, function_name, day",
    )
    .bind(month)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let n = |col: &str| -> StoreResult<u64> { Ok(r.try_get::<i64, _>(col)?.max(0) as u64) };
            Ok(UsageRow {
                account: r.try_get("account")?,
                function_name: r.try_get("function_name")?,
                day: r.try_get("day")?,
                requests: n("requests")?,
                mb_ms: n("mb_ms")?,
                provisioned_mb_ms: n("provisioned_mb_ms")?,
            })
        })
        .collect()
}

impl MetaStore {
    /// Add `rows` to the stored aggregates (one transaction: all or nothing).
    pub async fn add_usage(&self, rows: &[UsageRow]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let _w = self.lock_writes().await;
        upsert(&self.pool, rows).await
    }

    /// Aggregates of the days of `month` (`YYYY-MM`).
    pub async fn list_usage(&self, month: &str) -> StoreResult<Vec<UsageRow>> {
        list(&self.pool, month).await
    }
}

/// Read-only access to the aggregates of a metadata database (no root key, no migrations; safe
/// while the server runs).
#[derive(Debug)]
pub struct UsageReader {
    pool: SqlitePool,
}

impl UsageReader {
    /// Open the database at `path` read-only.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let url = format!("sqlite://{}", path.display());
        let opts = SqliteConnectOptions::from_str(&url)?
            .read_only(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        Ok(Self { pool })
    }

    /// Aggregates of the days of `month` (`YYYY-MM`); none if the database predates metering.
    pub async fn list(&self, month: &str) -> StoreResult<Vec<UsageRow>> {
        let has_table: Option<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'usage_daily'",
        )
        .fetch_optional(&self.pool)
        .await?;
        if has_table.is_none() {
            return Ok(Vec::new());
        }
        list(&self.pool, month).await
    }

    /// Close the connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ignis_crypto::RootKey;
    use std::sync::Arc;

    fn row(f: &str, day: &str, requests: u64, mb_ms: u64) -> UsageRow {
        UsageRow {
            account: "123456789012".into(),
            function_name: f.into(),
            day: day.into(),
            requests,
            mb_ms,
            provisioned_mb_ms: 0,
        }
    }

    #[tokio::test]
    async fn usage_adds_up_per_day_and_lists_by_month_read_only() {
        let dir = std::env::temp_dir().join(format!("ignis-usage-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("meta.db");
        let store = MetaStore::open_sqlite(&db, Arc::new(RootKey::generate().unwrap()))
            .await
            .unwrap();
        store
            .add_usage(&[
                row("a", "2026-11-01", 2, 256),
                row("b", "2026-11-01", 1, 128),
            ])
            .await
            .unwrap();
        store
            .add_usage(&[row("a", "2026-11-01", 3, 512), row("a", "2026-12-01", 1, 1)])
            .await
            .unwrap();
        let nov = store.list_usage("2026-11").await.unwrap();
        assert_eq!(
            nov,
            vec![
                row("a", "2026-11-01", 5, 768),
                row("b", "2026-11-01", 1, 128)
            ]
        );
        let reader = UsageReader::open(&db).await.unwrap();
        assert_eq!(
            reader.list("2026-12").await.unwrap(),
            vec![row("a", "2026-12-01", 1, 1)]
        );
        assert!(reader.list("2027-01").await.unwrap().is_empty());
        reader.close().await;
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
