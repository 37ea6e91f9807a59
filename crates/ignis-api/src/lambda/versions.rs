//! Versions: PublishVersion and ListVersionsByFunction.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use ignis_core::model::LATEST;
use ignis_core::{arn, validate, AwsError};
use serde::Deserialize;
use serde_json::json;

use super::functions::{
    check_revision, function_meta, function_not_found, publish_fingerprint, published_copy,
};
use super::util::{json, parse_body, Query};
use crate::error::ApiResult;
use crate::state::SharedState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishVersionRequest {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

/// `POST /2015-03-31/functions/{name}/versions`
pub async fn publish_version(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let req: PublishVersionRequest = parse_body(&body)?;
    let r = arn::parse_function_ref(&name, &state.account, &state.region)?;
    if let Some(d) = &req.description {
        validate::validate_description(d)?;
    }
    let _w = state.meta.lock_writes().await;
    let mut meta = function_meta(&state, &r.name).await?;
    let latest = state
        .meta
        .get_version(&r.name, LATEST)
        .await?
        .ok_or_else(|| function_not_found(&state, &r.name, None))?;
    check_revision(req.revision_id.as_deref(), &latest.revision_id)?;
    if let Some(sha) = &req.code_sha256 {
        if sha != &latest.code_sha256 {
            return Err(AwsError::invalid(format!(
                "CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST ({}). Please try again with current CodeSHA256.",
                latest.code_sha256
            ))
            .into());
        }
    }
    // An unchanged $LATEST publishes nothing new: AWS returns the last published version.
    let fingerprint = publish_fingerprint(&latest);
    if let Some((published, version)) = &meta.last_published {
        if published == &fingerprint {
            if let Some(existing) = state.meta.get_version(&r.name, version).await? {
                return Ok(json(StatusCode::CREATED, &existing));
            }
        }
    }
    let version = meta.next_version.to_string();
    let v = published_copy(&state, &latest, &version, req.description.as_deref())?;
    meta.next_version += 1;
    meta.last_published = Some((fingerprint, version));
    state.meta.put_version(&v, Some(&meta)).await?;
    Ok(json(StatusCode::CREATED, &v))
}

/// `GET /2015-03-31/functions/{name}/versions`
pub async fn list_versions_by_function(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let max = q.max_items(50, 10_000)?;
    let r = arn::parse_function_ref(&name, &state.account, &state.region)?;
    function_meta(&state, &r.name).await?;
    let after = q.get("Marker").and_then(ignis_store::meta::version_number);
    let mut items = state
        .meta
        .list_versions(&r.name, after, max as i64 + 1)
        .await?;
    for cfg in &mut items {
        if cfg.version == LATEST {
            cfg.function_arn =
                arn::qualified_function_arn(&state.region, &state.account, &r.name, LATEST);
        }
    }
    let next = if items.len() > max {
        items.truncate(max);
        items.last().map(|c| c.version.clone())
    } else {
        None
    };
    let mut out = json!({ "Versions": items });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(json(StatusCode::OK, &out))
}
