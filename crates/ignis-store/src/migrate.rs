//! Schema migrations: an ordered list of SQL scripts applied once each, recorded in `schema_version`.

use sqlx::{Executor, SqlitePool};

use crate::StoreResult;

/// (version, script) in order.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_async.sql")),
    (3, include_str!("../migrations/0003_iam.sql")),
    (4, include_str!("../migrations/0004_kms.sql")),
    (5, include_str!("../migrations/0005_usage.sql")),
];

/// Apply every migration newer than the database's recorded version, each in its own transaction.
pub(crate) async fn run(pool: &SqlitePool) -> StoreResult<()> {
    pool.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .await?;
    let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_version")
        .fetch_one(pool)
        .await?;
    let current = current.unwrap_or(0);
    for (version, script) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let mut tx = pool.begin().await?;
        tx.execute(*script).await?;
        sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}
