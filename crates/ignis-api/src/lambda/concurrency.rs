//! Concurrency settings: reserved (Put/Get/DeleteFunctionConcurrency) and provisioned
//! (Put/Get/Delete/ListProvisionedConcurrencyConfig(s)).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use ignis_core::arn::FunctionRef;
use ignis_core::model::{ProvisionedConfig, LATEST};
use ignis_core::{arn, AwsError, ErrorKind};
use serde::Deserialize;
use serde_json::json;

use super::account::{ACCOUNT_CONCURRENCY, MIN_UNRESERVED};
use super::functions::{
    check_qualifier_exists, function_meta, function_only, is_version, required, resolve, target,
};
use super::util::{json, no_content, now_timestamp, page, parse_body, Query};
use crate::error::ApiResult;
use crate::state::{AppState, SharedState};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutConcurrencyRequest {
    reserved_concurrent_executions: Option<i64>,
}

fn plain_name(state: &AppState, path: &str) -> Result<String, AwsError> {
    function_only(state, path)
}

/// `PUT /2017-10-31/functions/{name}/concurrency`
pub async fn put_function_concurrency(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let req: PutConcurrencyRequest = parse_body(&body)?;
    let name = plain_name(&state, &name)?;
    let n = required(
        req.reserved_concurrent_executions,
        "reservedConcurrentExecutions",
    )?;
    if n < 0 {
        return Err(AwsError::validation(
            &n.to_string(),
            "reservedConcurrentExecutions",
            "Member must have value greater than or equal to 0",
        )
        .into());
    }
    let _w = state.meta.lock_writes().await;
    let mut meta = function_meta(&state, &name).await?;
    let others = state
        .meta
        .total_reserved()
        .await?
        .saturating_sub(u64::from(meta.reserved_concurrency.unwrap_or(0)));
    if others + n as u64 > ACCOUNT_CONCURRENCY - MIN_UNRESERVED {
        return Err(AwsError::invalid(format!(
            "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [{MIN_UNRESERVED}]."
        ))
        .into());
    }
    meta.reserved_concurrency = Some(n as u32);
    state.meta.put_meta(&name, &meta).await?;
    Ok(json(
        StatusCode::OK,
        &json!({"ReservedConcurrentExecutions": n}),
    ))
}

/// `GET /2019-09-30/functions/{name}/concurrency`
pub async fn get_function_concurrency(
    State(state): State<SharedState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let name = plain_name(&state, &name)?;
    let meta = function_meta(&state, &name).await?;
    let out = match meta.reserved_concurrency {
        Some(n) => json!({"ReservedConcurrentExecutions": n}),
        None => json!({}),
    };
    Ok(json(StatusCode::OK, &out))
}

/// `DELETE /2017-10-31/functions/{name}/concurrency`
pub async fn delete_function_concurrency(
    State(state): State<SharedState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let name = plain_name(&state, &name)?;
    let _w = state.meta.lock_writes().await;
    let mut meta = function_meta(&state, &name).await?;
    meta.reserved_concurrency = None;
    state.meta.put_meta(&name, &meta).await?;
    Ok(no_content())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutProvisionedRequest {
    provisioned_concurrent_executions: Option<i64>,
}

/// The qualifier of a provisioned concurrency request: must name a published version or an alias.
async fn provisioned_qualifier(
    state: &AppState,
    name: &str,
    q: Option<&str>,
    for_put: bool,
) -> ApiResult<String> {
    let q = required(q, "qualifier")?;
    function_meta(state, name).await?;
    if q == LATEST {
        let message = if for_put {
            "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
        } else {
            "The function resource provided must be an alias or a published version."
        };
        return Err(AwsError::invalid(message).into());
    }
    check_qualifier_exists(state, name, q).await?;
    Ok(q.to_string())
}

/// A version and an alias pointing at it cannot both carry provisioned concurrency.
async fn check_overlap(state: &AppState, name: &str, qualifier: &str) -> ApiResult<()> {
    let aliases = state.meta.list_aliases(name).await?;
    let clash = if is_version(qualifier) {
        let mut found = None;
        for a in aliases.iter().filter(|a| a.function_version == qualifier) {
            if state.meta.get_provisioned(name, &a.name).await?.is_some() {
                found = Some(format!(
                    "Alias {} is already configured with provisioned concurrency for version {qualifier}.",
                    a.name
                ));
                break;
            }
        }
        found
    } else {
        match aliases.iter().find(|a| a.name == qualifier) {
            Some(a) if state.meta.get_provisioned(name, &a.function_version).await?.is_some() => Some(
                format!(
                    "Version {} is already configured with provisioned concurrency; alias {qualifier} points to it.",
                    a.function_version
                ),
            ),
            _ => None,
        }
    };
    match clash {
        Some(message) => Err(AwsError::conflict(message).into()),
        None => Ok(()),
    }
}

fn not_configured() -> AwsError {
    AwsError::new(
        ErrorKind::ProvisionedConcurrencyConfigNotFound,
        "No Provisioned Concurrency Config found for this function",
    )
}

fn status_view(cfg: &ProvisionedConfig) -> serde_json::Value {
    let mut v = serde_json::to_value(cfg).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("FunctionArn");
    }
    v
}

/// `PUT /2019-09-30/functions/{name}/provisioned-concurrency?Qualifier=`
pub async fn put_provisioned_concurrency_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let req: PutProvisionedRequest = parse_body(&body)?;
    let q = Query::parse(q.as_deref());
    let r = target(&state, &name, &q)?;
    let n = required(
        req.provisioned_concurrent_executions,
        "provisionedConcurrentExecutions",
    )?;
    if n < 1 {
        return Err(AwsError::validation(
            &n.to_string(),
            "provisionedConcurrentExecutions",
            "Member must have value greater than or equal to 1",
        )
        .into());
    }
    let _w = state.meta.lock_writes().await;
    let qualifier = provisioned_qualifier(&state, &r.name, r.qualifier.as_deref(), true).await?;
    check_overlap(&state, &r.name, &qualifier).await?;
    let existing = state.meta.get_provisioned(&r.name, &qualifier).await?;
    let others = state.meta.total_provisioned().await?.saturating_sub(
        existing
            .as_ref()
            .map(|c| u64::from(c.requested_provisioned_concurrent_executions))
            .unwrap_or(0),
    );
    let meta = function_meta(&state, &r.name).await?;
    let cap = match meta.reserved_concurrency {
        Some(reserved) => u64::from(reserved),
        None => ACCOUNT_CONCURRENCY - MIN_UNRESERVED,
    };
    if n as u64 > cap || others + n as u64 > ACCOUNT_CONCURRENCY - MIN_UNRESERVED {
        return Err(AwsError::invalid(format!(
            "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function or the account's UnreservedConcurrentExecution minus its minimum value of [{MIN_UNRESERVED}]."
        ))
        .into());
    }
    let now = now_timestamp();
    let cfg = ProvisionedConfig {
        function_arn: arn::qualified_function_arn(
            &state.region,
            &state.account,
            &r.name,
            &qualifier,
        ),
        requested_provisioned_concurrent_executions: n as u32,
        available_provisioned_concurrent_executions: 0,
        allocated_provisioned_concurrent_executions: 0,
        status: "IN_PROGRESS".into(),
        status_reason: None,
        last_modified: now,
    };
    state
        .meta
        .put_provisioned(&r.name, &qualifier, Some(&cfg))
        .await?;
    tokio::spawn(provision(
        state.clone(),
        r.name.clone(),
        qualifier,
        cfg.clone(),
    ));
    Ok(json(StatusCode::ACCEPTED, &status_view(&cfg)))
}

/// At server start: create the environments of every stored provisioned concurrency config again
/// (environments do not survive a restart), reporting IN_PROGRESS until they are ready.
pub async fn reprovision_all(state: SharedState) {
    let configs = match state.meta.list_all_provisioned().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "listing provisioned concurrency configs failed");
            return;
        }
    };
    for (name, qualifier, mut cfg) in configs {
        cfg.status = "IN_PROGRESS".into();
        cfg.available_provisioned_concurrent_executions = 0;
        cfg.allocated_provisioned_concurrent_executions = 0;
        cfg.status_reason = None;
        if let Err(e) = state
            .meta
            .put_provisioned(&name, &qualifier, Some(&cfg))
            .await
        {
            tracing::error!(error = %e, "resetting provisioned concurrency failed");
            continue;
        }
        tokio::spawn(provision(state.clone(), name, qualifier, cfg));
    }
}

/// Create the environments of a provisioned concurrency config, then record READY (or FAILED).
async fn provision(
    state: SharedState,
    name: String,
    qualifier: String,
    requested: ProvisionedConfig,
) {
    let target = FunctionRef {
        name: name.clone(),
        qualifier: Some(qualifier.clone()),
    };
    let outcome = match resolve(&state, &target).await {
        Ok((cfg, _)) => state
            .invoke
            .provision(&cfg, requested.requested_provisioned_concurrent_executions)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.0.message),
    };
    let _w = state.meta.lock_writes().await;
    // Record the result only if the config is still the one this task was started for.
    match state.meta.get_provisioned(&name, &qualifier).await {
        Ok(Some(current)) if current == requested => {}
        _ => return,
    }
    let mut done = requested;
    match outcome {
        Ok(ready) => {
            done.status = "READY".into();
            done.allocated_provisioned_concurrent_executions = ready;
            done.available_provisioned_concurrent_executions = ready;
        }
        Err(reason) => {
            tracing::warn!(function = %name, %qualifier, %reason, "provisioned concurrency failed");
            done.status = "FAILED".into();
            done.status_reason = Some(reason);
        }
    }
    done.last_modified = now_timestamp();
    if let Err(e) = state
        .meta
        .put_provisioned(&name, &qualifier, Some(&done))
        .await
    {
        tracing::error!(error = %e, "recording provisioned concurrency failed");
    }
}

/// `GET /2019-09-30/functions/{name}/provisioned-concurrency` — one config, or all with `List=ALL`.
pub async fn get_provisioned_concurrency_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    if q.get("List") == Some("ALL") {
        let max = q.max_items(50, 50)?;
        let fname = plain_name(&state, &name)?;
        function_meta(&state, &fname).await?;
        let all = state.meta.list_provisioned(&fname).await?;
        let (items, next) = page(all, q.get("Marker"), max, |c| c.function_arn.clone());
        let mut out = json!({"ProvisionedConcurrencyConfigs": items});
        if let Some(n) = next {
            out["NextMarker"] = json!(n);
        }
        return Ok(json(StatusCode::OK, &out));
    }
    let r = target(&state, &name, &q)?;
    let qualifier = provisioned_qualifier(&state, &r.name, r.qualifier.as_deref(), false).await?;
    let cfg = state
        .meta
        .get_provisioned(&r.name, &qualifier)
        .await?
        .ok_or_else(not_configured)?;
    Ok(json(StatusCode::OK, &status_view(&cfg)))
}

/// `DELETE /2019-09-30/functions/{name}/provisioned-concurrency?Qualifier=`
pub async fn delete_provisioned_concurrency_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let r = target(&state, &name, &q)?;
    let _w = state.meta.lock_writes().await;
    let qualifier = provisioned_qualifier(&state, &r.name, r.qualifier.as_deref(), false).await?;
    // Deleting a config that does not exist answers 204, as AWS does. Its environments go with it.
    state.invoke.retire_function(&r.name);
    state
        .meta
        .put_provisioned(&r.name, &qualifier, None)
        .await?;
    Ok(no_content())
}
