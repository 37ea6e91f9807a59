//! Layers: PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn, ListLayers,
//! ListLayerVersions, DeleteLayerVersion.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ignis_core::model::LayerVersion;
use ignis_core::{arn, validate, AwsError, AwsResult};
use serde::Deserialize;
use serde_json::{json, Value};

use super::code::{self, CodeSource};
use super::functions::required;
use super::util::{json, no_content, now_timestamp, page, parse_body, Query};
use crate::error::ApiResult;
use crate::state::{AppState, SharedState};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PublishLayerRequest {
    description: Option<String>,
    content: Option<CodeSource>,
    compatible_runtimes: Option<Vec<String>>,
    compatible_architectures: Option<Vec<String>>,
    license_info: Option<String>,
}

/// "The resource you requested does not exist."
pub fn resource_missing() -> AwsError {
    AwsError::not_found("The resource you requested does not exist.")
}

/// Parse the `{version}` path segment.
pub fn parse_version(v: &str) -> AwsResult<u64> {
    match v.parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n as u64),
        Ok(_) => Err(AwsError::invalid("Layer Version Cannot be less than 1")),
        Err(_) => Err(AwsError::invalid(format!(
            "Invalid layer version number: {v}"
        ))),
    }
}

/// The wire shape of a layer version with its download URL.
fn render(state: &AppState, headers: &HeaderMap, l: &LayerVersion) -> Value {
    let location = ignis_crypto::hex_of_base64_digest(&l.code_sha256)
        .map(|d| crate::presign::code_url(state, headers, &d))
        .unwrap_or_default();
    let mut v = json!({
        "Content": {"Location": location, "CodeSha256": l.code_sha256, "CodeSize": l.code_size},
        "LayerArn": l.layer_arn,
        "LayerVersionArn": l.layer_version_arn,
        "Description": l.description,
        "CreatedDate": l.created_date,
        "Version": l.version,
    });
    if let Some(r) = &l.compatible_runtimes {
        v["CompatibleRuntimes"] = json!(r);
    }
    if let Some(a) = &l.compatible_architectures {
        v["CompatibleArchitectures"] = json!(a);
    }
    if let Some(li) = &l.license_info {
        v["LicenseInfo"] = json!(li);
    }
    v
}

/// `LayerVersionsListItem`.
fn list_item(l: &LayerVersion) -> Value {
    let mut v = json!({
        "LayerVersionArn": l.layer_version_arn,
        "Version": l.version,
        "Description": l.description,
        "CreatedDate": l.created_date,
    });
    if let Some(r) = &l.compatible_runtimes {
        v["CompatibleRuntimes"] = json!(r);
    }
    if let Some(a) = &l.compatible_architectures {
        v["CompatibleArchitectures"] = json!(a);
    }
    if let Some(li) = &l.license_info {
        v["LicenseInfo"] = json!(li);
    }
    v
}

/// `POST /2018-10-31/layers/{layer}/versions`
pub async fn publish_layer_version(
    State(state): State<SharedState>,
    Path(layer): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let req: PublishLayerRequest = parse_body(&body)?;
    let name = arn::parse_layer_name(&layer)?;
    let content = required(req.content.as_ref(), "content")?;
    let description = req.description.clone().unwrap_or_default();
    validate::validate_description(&description)?;
    if let Some(rts) = &req.compatible_runtimes {
        validate::validate_compatible_runtimes(rts)?;
    }
    if let Some(archs) = &req.compatible_architectures {
        validate::validate_compatible_architectures(archs)?;
    }
    if let Some(li) = &req.license_info {
        validate::check_string(li, "licenseInfo", 0, 512, None)?;
    }
    let stored = code::store_zip(&state, content).await?;
    let _w = state.meta.lock_writes().await;
    let version = state.meta.next_layer_version(&name).await?;
    let layer = LayerVersion {
        layer_arn: arn::layer_arn(&state.region, &state.account, &name),
        layer_version_arn: arn::layer_version_arn(&state.region, &state.account, &name, version),
        description,
        created_date: now_timestamp(),
        version,
        compatible_runtimes: req.compatible_runtimes,
        compatible_architectures: req.compatible_architectures,
        license_info: req.license_info,
        code_sha256: stored.sha256_b64,
        code_size: stored.size,
    };
    state.meta.put_layer(&name, &layer).await?;
    Ok(json(StatusCode::CREATED, &render(&state, &headers, &layer)))
}

async fn get_layer(state: &AppState, name: &str, version: u64) -> ApiResult<LayerVersion> {
    Ok(state
        .meta
        .get_layer(name, version)
        .await?
        .ok_or_else(resource_missing)?)
}

/// `GET /2018-10-31/layers/{layer}/versions/{version}`
pub async fn get_layer_version(
    State(state): State<SharedState>,
    Path((layer, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let name = arn::parse_layer_name(&layer)?;
    let l = get_layer(&state, &name, parse_version(&version)?).await?;
    Ok(json(StatusCode::OK, &render(&state, &headers, &l)))
}

/// `GET /2018-10-31/layers` — ListLayers, or GetLayerVersionByArn when `find=LayerVersion`.
pub async fn list_layers(
    State(state): State<SharedState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    if q.get("find") == Some("LayerVersion") {
        let layer_arn = required(q.get("Arn"), "arn")?;
        let (_region, account, name, version) = arn::parse_layer_version_arn(layer_arn)?;
        if account != state.account {
            return Err(resource_missing().into());
        }
        let l = get_layer(&state, &name, version).await?;
        return Ok(json(StatusCode::OK, &render(&state, &headers, &l)));
    }
    let max = q.max_items(50, 50)?;
    let all = state.meta.list_all_layers().await?;
    let mut latest: Vec<(String, LayerVersion)> = Vec::new();
    for (name, l) in all {
        if !matches(&q, &l) || latest.last().is_some_and(|(n, _)| n == &name) {
            continue;
        }
        latest.push((name, l));
    }
    let (items, next) = page(latest, q.get("Marker"), max, |(n, _)| n.clone());
    let layers: Vec<Value> = items
        .iter()
        .map(|(n, l)| {
            json!({"LayerName": n, "LayerArn": l.layer_arn, "LatestMatchingVersion": list_item(l)})
        })
        .collect();
    let mut out = json!({ "Layers": layers });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(json(StatusCode::OK, &out))
}

fn matches(q: &Query, l: &LayerVersion) -> bool {
    let rt_ok = q.get("CompatibleRuntime").is_none_or(|rt| {
        l.compatible_runtimes
            .as_ref()
            .is_some_and(|v| v.iter().any(|x| x == rt))
    });
    let arch_ok = q.get("CompatibleArchitecture").is_none_or(|a| {
        l.compatible_architectures
            .as_ref()
            .is_some_and(|v| v.iter().any(|x| x == a))
    });
    rt_ok && arch_ok
}

/// `GET /2018-10-31/layers/{layer}/versions`
pub async fn list_layer_versions(
    State(state): State<SharedState>,
    Path(layer): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let max = q.max_items(50, 50)?;
    let name = arn::parse_layer_name(&layer)?;
    let mut versions = state.meta.list_layer_versions(&name).await?;
    versions.retain(|l| matches(&q, l));
    let (items, next) = page(versions, q.get("Marker"), max, |l| l.version.to_string());
    let items: Vec<Value> = items.iter().map(list_item).collect();
    let mut out = json!({ "LayerVersions": items });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(json(StatusCode::OK, &out))
}

/// `DELETE /2018-10-31/layers/{layer}/versions/{version}` (idempotent, as on AWS).
pub async fn delete_layer_version(
    State(state): State<SharedState>,
    Path((layer, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let name = arn::parse_layer_name(&layer)?;
    let version = parse_version(&version)?;
    let _w = state.meta.lock_writes().await;
    if let Some(l) = state.meta.get_layer(&name, version).await? {
        state.meta.delete_layer(&name, version).await?;
        super::functions::release_code(&state, &l.code_sha256).await;
    }
    Ok(no_content())
}
