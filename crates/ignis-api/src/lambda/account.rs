//! GetAccountSettings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::code::{MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES};
use super::util::json;
use crate::error::ApiResult;
use crate::state::SharedState;

/// Total code storage per account (75 GB, as AWS's default quota).
pub const TOTAL_CODE_SIZE: u64 = 80_530_636_800;
/// Account concurrency limit.
pub const ACCOUNT_CONCURRENCY: u64 = 1000;
/// Concurrency that must stay unreserved.
pub const MIN_UNRESERVED: u64 = 100;

/// `GET /2016-08-19/account-settings`
pub async fn get_account_settings(State(state): State<SharedState>) -> ApiResult<Response> {
    let (count, size) = state.meta.usage().await?;
    let reserved = state.meta.total_reserved().await?;
    Ok(json(
        StatusCode::OK,
        &json!({
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_SIZE,
                "CodeSizeUnzipped": MAX_UNZIPPED_BYTES,
                "CodeSizeZipped": MAX_ZIPPED_BYTES,
                "ConcurrentExecutions": ACCOUNT_CONCURRENCY,
                "UnreservedConcurrentExecutions": ACCOUNT_CONCURRENCY.saturating_sub(reserved),
            },
            "AccountUsage": {"TotalCodeSize": size, "FunctionCount": count},
        }),
    ))
}
