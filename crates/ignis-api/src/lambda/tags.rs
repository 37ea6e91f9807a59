//! Tags: TagResource, UntagResource, ListTags (functions).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use ignis_core::{arn, validate};
use serde::Deserialize;
use serde_json::json;

use super::functions::{function_meta, required};
use super::util::{json, no_content, parse_body, Query};
use crate::error::ApiResult;
use crate::state::SharedState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagRequest {
    tags: Option<BTreeMap<String, String>>,
}

/// `POST /2017-03-31/tags/{arn}`
pub async fn tag_resource(
    State(state): State<SharedState>,
    Path(resource): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let req: TagRequest = parse_body(&body)?;
    let name = arn::parse_taggable_function_arn(&resource, &state.account, &state.region)?;
    let tags = required(req.tags, "tags")?;
    let _w = state.meta.lock_writes().await;
    let mut meta = function_meta(&state, &name).await?;
    let mut merged = meta.tags.clone();
    merged.extend(tags);
    validate::validate_tags(&super::functions::tag_pairs(&merged))?;
    meta.tags = merged;
    state.meta.put_meta(&name, &meta).await?;
    super::functions::bump_revision(&state, &name, "").await?;
    Ok(no_content())
}

/// `DELETE /2017-03-31/tags/{arn}?tagKeys=..`
pub async fn untag_resource(
    State(state): State<SharedState>,
    Path(resource): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let name = arn::parse_taggable_function_arn(&resource, &state.account, &state.region)?;
    let _w = state.meta.lock_writes().await;
    let mut meta = function_meta(&state, &name).await?;
    for k in q.all("tagKeys") {
        meta.tags.remove(k);
    }
    state.meta.put_meta(&name, &meta).await?;
    super::functions::bump_revision(&state, &name, "").await?;
    Ok(no_content())
}

/// `GET /2017-03-31/tags/{arn}`
pub async fn list_tags(
    State(state): State<SharedState>,
    Path(resource): Path<String>,
) -> ApiResult<Response> {
    let name = arn::parse_taggable_function_arn(&resource, &state.account, &state.region)?;
    let meta = function_meta(&state, &name).await?;
    Ok(json(StatusCode::OK, &json!({ "Tags": meta.tags })))
}
