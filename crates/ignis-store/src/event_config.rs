//! Event invoke configs (`FunctionEventInvokeConfig`): per function and qualifier, the retry count,
//! maximum event age and destinations of asynchronous invocations, stored in their wire shape.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{MetaStore, StoreError, StoreResult};

/// `FunctionEventInvokeConfig` as AWS renders it (absent limits are omitted; both destinations are
/// always present, `{}` when unset).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInvokeConfig {
    /// Qualified function ARN (`...:function:name:$LATEST` for the unqualified function).
    pub function_arn: String,
    /// Last change, epoch seconds with milliseconds.
    pub last_modified: f64,
    /// Retries after a function error (0–2), when set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maximum_retry_attempts: Option<u32>,
    /// Maximum age of an event in seconds (60–21600), when set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub maximum_event_age_in_seconds: Option<u32>,
    /// On-success and on-failure destinations.
    #[serde(default)]
    pub destination_config: DestinationConfig,
}

/// `DestinationConfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfig {
    /// Where records of successful invocations go.
    #[serde(default)]
    pub on_success: Destination,
    /// Where records of discarded events go.
    #[serde(default)]
    pub on_failure: Destination,
}

/// `OnSuccess` / `OnFailure`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Destination {
    /// Destination ARN, when set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub destination: Option<String>,
}

fn decode(text: &str) -> StoreResult<EventInvokeConfig> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl MetaStore {
    /// The event invoke config of `(name, qualifier)` (`$LATEST` for the unqualified function).
    pub async fn get_event_invoke_config(
        &self,
        name: &str,
        qualifier: &str,
    ) -> StoreResult<Option<EventInvokeConfig>> {
        let row: Option<String> = sqlx::query_scalar(
            "SELECT config FROM event_invoke_configs WHERE name = $1 AND qualifier = $2",
        )
        .bind(name)
        .bind(qualifier)
        .fetch_optional(&self.pool)
        .await?;
        row.as_deref().map(decode).transpose()
    }

    /// Insert or replace the event invoke config of `(name, qualifier)`.
    pub async fn put_event_invoke_config(
        &self,
        name: &str,
        qualifier: &str,
        cfg: &EventInvokeConfig,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(cfg).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO event_invoke_configs (name, qualifier, config) VALUES ($1, $2, $3) \
             ON CONFLICT (name, qualifier) DO UPDATE SET config = excluded.config",
        )
        .bind(name)
        .bind(qualifier)
        .bind(text)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Delete the event invoke config of `(name, qualifier)`; whether one existed.
    pub async fn delete_event_invoke_config(
        &self,
        name: &str,
        qualifier: &str,
    ) -> StoreResult<bool> {
        let done =
            sqlx::query("DELETE FROM event_invoke_configs WHERE name = $1 AND qualifier = $2")
                .bind(name)
                .bind(qualifier)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every event invoke config of a function, by qualifier.
    pub async fn list_event_invoke_configs(
        &self,
        name: &str,
    ) -> StoreResult<Vec<EventInvokeConfig>> {
        let rows = sqlx::query(
            "SELECT config FROM event_invoke_configs WHERE name = $1 ORDER BY qualifier",
        )
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| decode(&r.try_get::<String, _>("config")?))
            .collect()
    }
}
