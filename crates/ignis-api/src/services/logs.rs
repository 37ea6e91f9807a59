//! CloudWatch Logs (`X-Amz-Target: Logs_20140328.<Op>`): glue to the log store's API in
//! `ignis-observe` (the operations and their validation live there).

use ignis_core::AwsError;
use serde_json::Value;

use crate::state::{Caller, SharedState};

/// Run one CloudWatch Logs operation.
pub async fn handle(
    state: &SharedState,
    _caller: &Caller,
    op: &str,
    input: Value,
) -> Result<Value, AwsError> {
    match &state.logs {
        Some(api) => api.handle(op, input).await,
        None => Err(AwsError::other(
            "ServiceUnavailableException",
            500,
            "The log store is not enabled on this server.",
        )),
    }
}
