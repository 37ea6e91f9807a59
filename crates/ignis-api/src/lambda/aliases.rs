//! Aliases: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use ignis_core::model::{AliasConfig, RoutingConfig};
use ignis_core::{arn, validate, AwsError, AwsResult};
use serde::Deserialize;
use serde_json::json;

use super::functions::{
    alias_not_found, check_revision, function_meta, function_not_found, required,
};
use super::util::{json, new_revision, no_content, page, parse_body, Query};
use crate::error::ApiResult;
use crate::state::{AppState, SharedState};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AliasRequest {
    name: Option<String>,
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingConfig>,
    revision_id: Option<String>,
}

fn function_name(state: &AppState, path: &str) -> AwsResult<String> {
    let r = arn::parse_function_ref(path, &state.account, &state.region)?;
    Ok(r.name)
}

/// Check that the alias's version and routing versions exist.
async fn check_versions(
    state: &AppState,
    name: &str,
    version: &str,
    routing: Option<&RoutingConfig>,
) -> ApiResult<()> {
    validate::validate_alias_function_version(version)?;
    if state.meta.get_version(name, version).await?.is_none() {
        return Err(function_not_found(state, name, Some(version)).into());
    }
    if let Some(rc) = routing {
        let weights: Vec<(String, f64)> = rc
            .additional_version_weights
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        validate::validate_routing_config(&weights, version)?;
        for v in rc.additional_version_weights.keys() {
            if state.meta.get_version(name, v).await?.is_none() {
                return Err(function_not_found(state, name, Some(v)).into());
            }
        }
    }
    Ok(())
}

fn normalise(rc: Option<RoutingConfig>) -> Option<RoutingConfig> {
    rc.filter(|rc| !rc.additional_version_weights.is_empty())
}

/// `POST /2015-03-31/functions/{name}/aliases`
pub async fn create_alias(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let req: AliasRequest = parse_body(&body)?;
    let fname = function_name(&state, &name)?;
    let alias = required(req.name, "name")?;
    validate::validate_alias_name(&alias)?;
    let version = required(req.function_version, "functionVersion")?;
    let description = req.description.unwrap_or_default();
    validate::validate_description(&description)?;
    let _w = state.meta.lock_writes().await;
    function_meta(&state, &fname).await?;
    check_versions(&state, &fname, &version, req.routing_config.as_ref()).await?;
    let alias_arn = arn::qualified_function_arn(&state.region, &state.account, &fname, &alias);
    if state.meta.get_alias(&fname, &alias).await?.is_some() {
        return Err(AwsError::conflict(format!("Alias already exists: {alias_arn}")).into());
    }
    let cfg = AliasConfig {
        alias_arn,
        name: alias,
        function_version: version,
        description,
        routing_config: normalise(req.routing_config),
        revision_id: new_revision()?,
    };
    state.meta.put_alias(&fname, &cfg).await?;
    Ok(json(StatusCode::CREATED, &cfg))
}

/// `GET /2015-03-31/functions/{name}/aliases/{alias}`
pub async fn get_alias(
    State(state): State<SharedState>,
    Path((name, alias)): Path<(String, String)>,
) -> ApiResult<Response> {
    let fname = function_name(&state, &name)?;
    validate::validate_alias_name(&alias)?;
    let cfg = state
        .meta
        .get_alias(&fname, &alias)
        .await?
        .ok_or_else(|| alias_not_found(&state, &fname, &alias))?;
    Ok(json(StatusCode::OK, &cfg))
}

/// `PUT /2015-03-31/functions/{name}/aliases/{alias}`
pub async fn update_alias(
    State(state): State<SharedState>,
    Path((name, alias)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    let req: AliasRequest = parse_body(&body)?;
    let fname = function_name(&state, &name)?;
    validate::validate_alias_name(&alias)?;
    let _w = state.meta.lock_writes().await;
    let mut cfg = state
        .meta
        .get_alias(&fname, &alias)
        .await?
        .ok_or_else(|| alias_not_found(&state, &fname, &alias))?;
    check_revision(req.revision_id.as_deref(), &cfg.revision_id)?;
    if let Some(d) = req.description {
        validate::validate_description(&d)?;
        cfg.description = d;
    }
    if let Some(v) = req.function_version {
        cfg.function_version = v;
    }
    if let Some(rc) = req.routing_config {
        cfg.routing_config = normalise(Some(rc));
    }
    check_versions(
        &state,
        &fname,
        &cfg.function_version,
        cfg.routing_config.as_ref(),
    )
    .await?;
    cfg.revision_id = new_revision()?;
    state.meta.put_alias(&fname, &cfg).await?;
    Ok(json(StatusCode::OK, &cfg))
}

/// `DELETE /2015-03-31/functions/{name}/aliases/{alias}`
pub async fn delete_alias(
    State(state): State<SharedState>,
    Path((name, alias)): Path<(String, String)>,
) -> ApiResult<Response> {
    let fname = function_name(&state, &name)?;
    validate::validate_alias_name(&alias)?;
    let _w = state.meta.lock_writes().await;
    function_meta(&state, &fname).await?;
    state.meta.delete_alias(&fname, &alias).await?;
    Ok(no_content())
}

/// `GET /2015-03-31/functions/{name}/aliases`
pub async fn list_aliases(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let max = q.max_items(50, 10_000)?;
    let fname = function_name(&state, &name)?;
    function_meta(&state, &fname).await?;
    let mut aliases = state.meta.list_aliases(&fname).await?;
    if let Some(v) = q.get("FunctionVersion") {
        aliases.retain(|a| a.function_version == v);
    }
    let (items, next) = page(aliases, q.get("Marker"), max, |a| a.name.clone());
    let mut out = json!({ "Aliases": items });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(json(StatusCode::OK, &out))
}
