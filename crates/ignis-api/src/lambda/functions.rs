//! Functions: CreateFunction, GetFunction, GetFunctionConfiguration, ListFunctions,
//! UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use ignis_core::arn::{self, FunctionRef};
use ignis_core::model::{
    AliasConfig, DeadLetterConfig, Environment, EphemeralStorage, FunctionConfig, FunctionMeta,
    LayerRef, LoggingConfig, SnapStart, TracingConfig, DEFAULT_EPHEMERAL_MB, DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S, LATEST,
};
use ignis_core::{runtimes, validate, AwsError, AwsResult};
use serde::Deserialize;
use serde_json::json;

use super::code::{self, CodeSource};
use super::util::{json, new_revision, no_content, now_timestamp, parse_body, Query};
use crate::error::ApiResult;
use crate::state::{AppState, SharedState};

/// Settings accepted by both CreateFunction and UpdateFunctionConfiguration.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Settings {
    runtime: Option<String>,
    role: Option<String>,
    handler: Option<String>,
    description: Option<String>,
    timeout: Option<i64>,
    memory_size: Option<i64>,
    dead_letter_config: Option<DeadLetterConfig>,
    environment: Option<Environment>,
    #[serde(rename = "KMSKeyArn")]
    kms_key_arn: Option<String>,
    tracing_config: Option<TracingConfig>,
    layers: Option<Vec<String>>,
    ephemeral_storage: Option<EphemeralStorageIn>,
    logging_config: Option<LoggingConfig>,
    vpc_config: Option<serde_json::Value>,
    file_system_configs: Option<serde_json::Value>,
    image_config: Option<serde_json::Value>,
    snap_start: Option<serde_json::Value>,
    revision_id: Option<String>,
}

/// `EphemeralStorage` as sent (the size range is checked by us, not by serde).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EphemeralStorageIn {
    size: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateFunctionRequest {
    function_name: Option<String>,
    code: Option<CodeSource>,
    publish: Option<bool>,
    package_type: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    architectures: Option<Vec<String>>,
    #[serde(flatten)]
    settings: Settings,
}

/// A required member that is absent: AWS's "Member must not be null" validation error.
pub fn required<T>(value: Option<T>, field: &str) -> AwsResult<T> {
    value.ok_or_else(|| {
        AwsError::new(
            ignis_core::ErrorKind::Validation,
            format!("1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"),
        )
    })
}

/// The function named in the path, with the `Qualifier` query parameter merged in.
pub fn target(state: &AppState, path_name: &str, query: &Query) -> AwsResult<FunctionRef> {
    let r = arn::parse_function_ref(path_name, &state.account, &state.region)?;
    arn::merge_qualifier(r, query.get("Qualifier"))
}

/// "Function not found: ARN" as AWS words it.
pub fn function_not_found(state: &AppState, name: &str, qualifier: Option<&str>) -> AwsError {
    let arn = match qualifier {
        Some(q) => arn::qualified_function_arn(&state.region, &state.account, name, q),
        None => arn::function_arn(&state.region, &state.account, name),
    };
    AwsError::not_found(format!("Function not found: {arn}"))
}

/// Whether a qualifier names a version (`$LATEST` or a number) rather than an alias.
pub fn is_version(qualifier: &str) -> bool {
    qualifier == LATEST || (!qualifier.is_empty() && qualifier.bytes().all(|b| b.is_ascii_digit()))
}

/// The configuration a reference resolves to (through its alias, if any), with the FunctionArn
/// qualified as requested, plus the alias.
pub async fn resolve(
    state: &AppState,
    r: &FunctionRef,
) -> ApiResult<(FunctionConfig, Option<AliasConfig>)> {
    let q = r.qualifier.as_deref();
    let (version, alias) = match q {
        None => (LATEST.to_string(), None),
        Some(v) if is_version(v) => (v.to_string(), None),
        Some(a) => {
            let alias = state
                .meta
                .get_alias(&r.name, a)
                .await?
                .ok_or_else(|| function_not_found(state, &r.name, q))?;
            (alias.function_version.clone(), Some(alias))
        }
    };
    let mut cfg = state
        .meta
        .get_version(&r.name, &version)
        .await?
        .ok_or_else(|| function_not_found(state, &r.name, q))?;
    if let Some(q) = q {
        cfg.function_arn = arn::qualified_function_arn(&state.region, &state.account, &r.name, q);
    }
    Ok((cfg, alias))
}

/// The function-level settings, or "Function not found".
pub async fn function_meta(state: &AppState, name: &str) -> ApiResult<FunctionMeta> {
    Ok(state
        .meta
        .get_meta(name)
        .await?
        .ok_or_else(|| function_not_found(state, name, None))?)
}

/// "Cannot find alias arn: ARN" as AWS words it.
pub fn alias_not_found(state: &AppState, name: &str, alias: &str) -> AwsError {
    AwsError::not_found(format!(
        "Cannot find alias arn: {}",
        arn::qualified_function_arn(&state.region, &state.account, name, alias)
    ))
}

/// The function named in the path, refusing qualifiers: for operations on the function itself.
pub fn function_only(state: &AppState, path_name: &str) -> AwsResult<String> {
    let r = arn::parse_function_ref(path_name, &state.account, &state.region)?;
    if r.qualifier.is_some() {
        return Err(AwsError::invalid(
            "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation.",
        ));
    }
    Ok(r.name)
}

/// Check that a qualifier names an existing published version or alias.
pub async fn check_qualifier_exists(state: &AppState, name: &str, q: &str) -> ApiResult<()> {
    if is_version(q) {
        if state.meta.get_version(name, q).await?.is_none() {
            return Err(function_not_found(state, name, Some(q)).into());
        }
    } else if state.meta.get_alias(name, q).await?.is_none() {
        return Err(alias_not_found(state, name, q).into());
    }
    Ok(())
}

/// Give the resource behind a policy scope ("" = `$LATEST`, a version, or an alias) a new
/// RevisionId, as AWS does when its policy or tags change; returns (old, new).
pub async fn bump_revision(
    state: &AppState,
    name: &str,
    scope: &str,
) -> ApiResult<(String, String)> {
    let new = new_revision()?;
    if scope.is_empty() || is_version(scope) {
        let version = if scope.is_empty() { LATEST } else { scope };
        let mut cfg = state
            .meta
            .get_version(name, version)
            .await?
            .ok_or_else(|| function_not_found(state, name, (!scope.is_empty()).then_some(scope)))?;
        let old = std::mem::replace(&mut cfg.revision_id, new.clone());
        state.meta.put_version(&cfg, None).await?;
        Ok((old, new))
    } else {
        let mut alias = state
            .meta
            .get_alias(name, scope)
            .await?
            .ok_or_else(|| alias_not_found(state, name, scope))?;
        let old = std::mem::replace(&mut alias.revision_id, new.clone());
        state.meta.put_alias(name, &alias).await?;
        Ok((old, new))
    }
}

/// What PublishVersion compares to decide whether `$LATEST` changed since the last publish: the
/// configuration without its revision, timestamps and transient states.
pub fn publish_fingerprint(cfg: &FunctionConfig) -> String {
    ignis_crypto::sha256_hex(&cfg.identity_json())
}

/// Tags as the (key, value) pairs the validators take.
pub fn tag_pairs(tags: &BTreeMap<String, String>) -> Vec<(String, String)> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// RevisionId precondition as AWS words it.
pub fn check_revision(expected: Option<&str>, actual: &str) -> AwsResult<()> {
    match expected {
        Some(e) if e != actual => Err(AwsError::precondition(
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
        )),
        _ => Ok(()),
    }
}

async fn resolve_layers(state: &AppState, arns: &[String]) -> AwsResult<Vec<LayerRef>> {
    validate::validate_layers(arns)?;
    let mut out = Vec::with_capacity(arns.len());
    for layer_arn in arns {
        let (_region, account, name, version) = arn::parse_layer_version_arn(layer_arn)?;
        let found = if account == state.account {
            state.meta.get_layer(&name, version).await.map_err(|e| {
                tracing::error!(error = %e, "layer lookup failed");
                AwsError::internal()
            })?
        } else {
            None
        };
        let Some(layer) = found else {
            return Err(AwsError::invalid(format!(
                "Layer version {layer_arn} does not exist."
            )));
        };
        out.push(LayerRef {
            arn: layer.layer_version_arn,
            code_size: layer.code_size,
        });
    }
    Ok(out)
}

/// Validate and apply `s` onto `cfg` (fields absent from `s` keep their value).
async fn apply_settings(state: &AppState, cfg: &mut FunctionConfig, s: &Settings) -> AwsResult<()> {
    if let Some(rt) = &s.runtime {
        runtimes::validate_runtime_for_update(rt)?;
        state.invoke.check_runtime(rt).map_err(AwsError::invalid)?;
        cfg.runtime = Some(rt.clone());
    }
    if let Some(role) = &s.role {
        validate::validate_role(role)?;
        cfg.role = role.clone();
    }
    if let Some(h) = &s.handler {
        validate::validate_handler(h)?;
        cfg.handler = Some(h.clone());
    }
    if let Some(d) = &s.description {
        validate::validate_description(d)?;
        cfg.description = d.clone();
    }
    if let Some(t) = s.timeout {
        validate::validate_timeout(t)?;
        cfg.timeout = t as u32;
    }
    if let Some(m) = s.memory_size {
        validate::validate_memory_size(m)?;
        cfg.memory_size = m as u32;
    }
    if let Some(e) = &s.ephemeral_storage {
        validate::validate_ephemeral_storage(e.size)?;
        cfg.ephemeral_storage = EphemeralStorage {
            size: e.size as u32,
        };
    }
    if let Some(env) = &s.environment {
        let vars: Vec<(String, String)> = env
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        validate::validate_environment(&vars)?;
        cfg.environment = Some(env.clone());
    }
    if let Some(t) = &s.tracing_config {
        validate::validate_tracing_mode(&t.mode)?;
        cfg.tracing_config = t.clone();
    }
    if let Some(k) = &s.kms_key_arn {
        crate::services::kms::check_function_key(
            &state.kms,
            k,
            crate::services::kms::KeyCheck::Configure,
        )
        .await?;
        cfg.kms_key_arn = if k.is_empty() { None } else { Some(k.clone()) };
    }
    if let Some(d) = &s.dead_letter_config {
        cfg.dead_letter_config = match &d.target_arn {
            Some(t) if !t.is_empty() => Some(d.clone()),
            _ => None,
        };
    }
    if let Some(l) = &s.logging_config {
        if let Some(f) = &l.log_format {
            validate::check_enum(f, "loggingConfig.logFormat", &["JSON", "Text"])?;
        }
        let mut merged = l.clone();
        if merged.log_format.is_none() {
            merged.log_format = cfg.logging_config.log_format.clone();
        }
        if merged.log_group.is_none() {
            merged.log_group = cfg.logging_config.log_group.clone();
        }
        cfg.logging_config = merged;
    }
    if let Some(layers) = &s.layers {
        let refs = resolve_layers(state, layers).await?;
        cfg.layers = if refs.is_empty() { None } else { Some(refs) };
    }
    if let Some(v) = &s.vpc_config {
        cfg.vpc_config = Some(v.clone());
    }
    if let Some(f) = &s.file_system_configs {
        cfg.file_system_configs = Some(f.clone());
    }
    if s.image_config.is_some() {
        return Err(AwsError::invalid(
            "ImageConfig is only supported for functions with package type Image.",
        ));
    }
    if let Some(snap) = &s.snap_start {
        if snap
            .get("ApplyOn")
            .and_then(|v| v.as_str())
            .unwrap_or("None")
            != "None"
        {
            return Err(AwsError::invalid(
                "SnapStart is not supported by this server; set ApplyOn to None.",
            ));
        }
    }
    Ok(())
}

fn is_zip_runtime_ready(cfg: &FunctionConfig) -> AwsResult<()> {
    if cfg.runtime.is_none() || cfg.handler.is_none() {
        return Err(AwsError::invalid(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages.",
        ));
    }
    Ok(())
}

/// Mark a returned configuration as AWS shows it right after a create.
fn as_creating(mut cfg: FunctionConfig) -> FunctionConfig {
    cfg.state = "Pending".into();
    cfg.state_reason = Some("The function is being created.".into());
    cfg.state_reason_code = Some("Creating".into());
    cfg
}

/// Mark a returned configuration as AWS shows it right after an update.
fn as_updating(mut cfg: FunctionConfig) -> FunctionConfig {
    cfg.last_update_status = "InProgress".into();
    cfg.last_update_status_reason = Some("The function is being created.".into());
    cfg.last_update_status_reason_code = Some("Creating".into());
    cfg
}

/// `POST /2015-03-31/functions`
pub async fn create_function(State(state): State<SharedState>, body: Bytes) -> ApiResult<Response> {
    let req: CreateFunctionRequest = parse_body(&body)?;
    let name_in = required(req.function_name.as_deref(), "functionName")?;
    let r = arn::parse_function_ref(name_in, &state.account, &state.region)?;
    if r.qualifier.is_some() {
        return Err(AwsError::invalid(
            "Unqualified function name required for CreateFunction; remove the qualifier.",
        )
        .into());
    }
    validate::validate_function_name(&r.name)?;
    let role = required(req.settings.role.as_deref(), "role")?;
    validate::validate_role(role)?;
    let code_src = required(req.code.as_ref(), "code")?;
    match req.package_type.as_deref() {
        None | Some("Zip") => {}
        Some("Image") => return Err(AwsError::invalid(
            "Container images are not supported by this server yet; deploy a .zip file archive.",
        )
        .into()),
        Some(other) => {
            return Err(AwsError::validation(
                other,
                "packageType",
                "Member must satisfy enum value set: [Image, Zip]",
            )
            .into())
        }
    }
    let architectures = req
        .architectures
        .clone()
        .unwrap_or_else(|| vec!["x86_64".into()]);
    validate::validate_architectures(&architectures)?;
    let tags = req.tags.clone().unwrap_or_default();
    validate::validate_tags(&tag_pairs(&tags))?;

    let now = now_timestamp();
    let mut cfg = FunctionConfig {
        function_name: r.name.clone(),
        function_arn: arn::function_arn(&state.region, &state.account, &r.name),
        runtime: None,
        role: role.to_string(),
        handler: None,
        code_size: 0,
        description: String::new(),
        timeout: DEFAULT_TIMEOUT_S,
        memory_size: DEFAULT_MEMORY_MB,
        last_modified: now,
        code_sha256: String::new(),
        version: LATEST.into(),
        environment: None,
        kms_key_arn: None,
        tracing_config: TracingConfig::default(),
        revision_id: new_revision()?,
        layers: None,
        state: "Active".into(),
        state_reason: None,
        state_reason_code: None,
        last_update_status: "Successful".into(),
        last_update_status_reason: None,
        last_update_status_reason_code: None,
        package_type: "Zip".into(),
        architectures,
        ephemeral_storage: EphemeralStorage {
            size: DEFAULT_EPHEMERAL_MB,
        },
        snap_start: SnapStart::default(),
        logging_config: LoggingConfig {
            log_format: Some("Text".into()),
            log_group: Some(format!("/aws/lambda/{}", r.name)),
            ..Default::default()
        },
        dead_letter_config: None,
        vpc_config: None,
        file_system_configs: None,
    };
    if let Some(rt) = &req.settings.runtime {
        // Creation has the stricter deprecation schedule; check it before host availability.
        runtimes::validate_runtime(rt)?;
    }
    apply_settings(&state, &mut cfg, &req.settings).await?;
    is_zip_runtime_ready(&cfg)?;

    let _w = state.meta.lock_writes().await;
    if state.meta.get_meta(&r.name).await?.is_some() {
        return Err(AwsError::conflict(format!("Function already exist: {}", r.name)).into());
    }
    let stored = code::store_zip(&state, code_src).await?;
    check_unzipped_total(&cfg, &stored)?;
    cfg.code_sha256 = stored.sha256_b64;
    cfg.code_size = stored.size;
    let mut meta = FunctionMeta {
        tags,
        reserved_concurrency: None,
        next_version: 1,
        last_published: None,
    };
    if req.publish.unwrap_or(false) {
        let v1 = published_copy(&state, &cfg, "1", None)?;
        meta.next_version = 2;
        meta.last_published = Some((publish_fingerprint(&cfg), "1".into()));
        state.meta.create_function(&meta, &[&cfg, &v1]).await?;
        return Ok(json(StatusCode::CREATED, &as_creating(v1)));
    }
    state.meta.create_function(&meta, &[&cfg]).await?;
    Ok(json(StatusCode::CREATED, &as_creating(cfg)))
}

fn check_unzipped_total(cfg: &FunctionConfig, stored: &code::StoredCode) -> AwsResult<()> {
    let layers: u64 = cfg.layers.iter().flatten().map(|l| l.code_size).sum();
    if stored.unzipped.saturating_add(layers) > code::MAX_UNZIPPED_BYTES {
        return Err(AwsError::invalid(format!(
            "Function code combined with layers exceeds the maximum allowed size of {} bytes. The actual size is {} bytes.",
            code::MAX_UNZIPPED_BYTES,
            stored.unzipped.saturating_add(layers)
        )));
    }
    Ok(())
}

/// A published copy of `$LATEST` as version `version`.
pub fn published_copy(
    state: &AppState,
    latest: &FunctionConfig,
    version: &str,
    description: Option<&str>,
) -> AwsResult<FunctionConfig> {
    let mut v = latest.clone();
    v.version = version.to_string();
    v.function_arn = arn::qualified_function_arn(
        &state.region,
        &state.account,
        &latest.function_name,
        version,
    );
    v.revision_id = new_revision()?;
    if let Some(d) = description {
        v.description = d.to_string();
    }
    Ok(v)
}

/// `GET /2015-03-31/functions/{name}`
pub async fn get_function(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let r = target(&state, &name, &q)?;
    let (cfg, _) = resolve(&state, &r).await?;
    let meta = function_meta(&state, &r.name).await?;
    let location = ignis_crypto::hex_of_base64_digest(&cfg.code_sha256)
        .map(|d| crate::presign::code_url(&state, &headers, &d))
        .unwrap_or_default();
    let mut out = json!({
        "Configuration": cfg,
        "Code": {"RepositoryType": "S3", "Location": location},
    });
    if !meta.tags.is_empty() {
        out["Tags"] = json!(meta.tags);
    }
    if let Some(c) = meta.reserved_concurrency {
        out["Concurrency"] = json!({"ReservedConcurrentExecutions": c});
    }
    Ok(json(StatusCode::OK, &out))
}

/// `GET /2015-03-31/functions/{name}/configuration`
pub async fn get_function_configuration(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let r = target(&state, &name, &q)?;
    let (cfg, _) = resolve(&state, &r).await?;
    Ok(json(StatusCode::OK, &cfg))
}

/// `GET /2015-03-31/functions`
pub async fn list_functions(
    State(state): State<SharedState>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let max = q.max_items(50, 10_000)?;
    let all = match q.get("FunctionVersion") {
        None => false,
        Some("ALL") => true,
        Some(other) => {
            return Err(AwsError::validation(
                other,
                "functionVersion",
                "Member must satisfy enum value set: [ALL]",
            )
            .into())
        }
    };
    let marker = q.get("Marker").unwrap_or_default();
    let limit = max as i64 + 1;
    let mut items = if all {
        let (name, ver) = match marker.rsplit_once(':') {
            Some((n, v)) => (n, v.parse::<i64>().unwrap_or(-1)),
            None => (marker, -1),
        };
        let mut items = state.meta.list_all_versions((name, ver), limit).await?;
        for cfg in &mut items {
            if cfg.version == LATEST {
                cfg.function_arn = arn::qualified_function_arn(
                    &state.region,
                    &state.account,
                    &cfg.function_name,
                    LATEST,
                );
            }
        }
        items
    } else {
        state.meta.list_latest(marker, limit).await?
    };
    let next = if items.len() > max {
        items.truncate(max);
        items.last().map(|c| {
            if all {
                let n = ignis_store::meta::version_number(&c.version).unwrap_or(0);
                format!("{}:{n}", c.function_name)
            } else {
                c.function_name.clone()
            }
        })
    } else {
        None
    };
    let mut out = json!({ "Functions": items });
    if let Some(n) = next {
        out["NextMarker"] = json!(n);
    }
    Ok(json(StatusCode::OK, &out))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCodeRequest {
    #[serde(flatten)]
    code: CodeSource,
    architectures: Option<Vec<String>>,
    publish: Option<bool>,
    dry_run: Option<bool>,
    revision_id: Option<String>,
}

/// `PUT /2015-03-31/functions/{name}/code`
pub async fn update_function_code(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let req: UpdateCodeRequest = parse_body(&body)?;
    let r = unqualified(&state, &name)?;
    if let Some(a) = &req.architectures {
        validate::validate_architectures(a)?;
    }
    let _w = state.meta.lock_writes().await;
    let mut meta = function_meta(&state, &r.name).await?;
    let (mut cfg, _) = resolve(&state, &r).await?;
    check_revision(req.revision_id.as_deref(), &cfg.revision_id)?;
    let stored = code::store_zip(&state, &req.code).await?;
    check_unzipped_total(&cfg, &stored)?;
    if req.dry_run.unwrap_or(false) {
        let mut preview = cfg.clone();
        preview.code_sha256 = stored.sha256_b64;
        preview.code_size = stored.size;
        return Ok(json(StatusCode::OK, &preview));
    }
    cfg.code_sha256 = stored.sha256_b64;
    cfg.code_size = stored.size;
    if let Some(a) = req.architectures {
        cfg.architectures = a;
    }
    cfg.last_modified = now_timestamp();
    cfg.revision_id = new_revision()?;
    if req.publish.unwrap_or(false) {
        let version = meta.next_version.to_string();
        let v = published_copy(&state, &cfg, &version, None)?;
        meta.next_version += 1;
        meta.last_published = Some((publish_fingerprint(&cfg), version));
        state.meta.put_version(&cfg, Some(&meta)).await?;
        state.meta.put_version(&v, None).await?;
        state.invoke.retire_function(&r.name);
        return Ok(json(StatusCode::OK, &as_updating(v)));
    }
    state.meta.put_version(&cfg, None).await?;
    state.invoke.retire_function(&r.name);
    Ok(json(StatusCode::OK, &as_updating(cfg)))
}

/// The path's function, which must carry no qualifier (update operations act on `$LATEST`).
fn unqualified(state: &AppState, name: &str) -> AwsResult<FunctionRef> {
    let r = arn::parse_function_ref(name, &state.account, &state.region)?;
    match r.qualifier.as_deref() {
        None | Some(LATEST) => Ok(FunctionRef {
            name: r.name,
            qualifier: None,
        }),
        Some(_) => Err(AwsError::invalid(
            "Current operation does not support versions other than $LATEST. Please set version to $LATEST or do not set a version in your request.",
        )),
    }
}

/// `PUT /2015-03-31/functions/{name}/configuration`
pub async fn update_function_configuration(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let s: Settings = parse_body(&body)?;
    let r = unqualified(&state, &name)?;
    let _w = state.meta.lock_writes().await;
    let (mut cfg, _) = resolve(&state, &r).await?;
    check_revision(s.revision_id.as_deref(), &cfg.revision_id)?;
    apply_settings(&state, &mut cfg, &s).await?;
    cfg.last_modified = now_timestamp();
    cfg.revision_id = new_revision()?;
    state.meta.put_version(&cfg, None).await?;
    state.invoke.retire_function(&r.name);
    Ok(json(StatusCode::OK, &as_updating(cfg)))
}

/// `DELETE /2015-03-31/functions/{name}`
pub async fn delete_function(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let r = target(&state, &name, &q)?;
    let _w = state.meta.lock_writes().await;
    function_meta(&state, &r.name).await?;
    match r.qualifier.as_deref() {
        None => {
            let versions = state.meta.list_versions(&r.name, None, i64::MAX).await?;
            state.meta.delete_function(&r.name).await?;
            state.invoke.retire_function(&r.name);
            for v in versions {
                release_code(&state, &v.code_sha256).await;
            }
        }
        Some(LATEST) => {
            return Err(AwsError::invalid(
                "$LATEST version cannot be deleted without deleting the function.",
            )
            .into())
        }
        Some(q) if is_version(q) => {
            let Some(v) = state.meta.get_version(&r.name, q).await? else {
                return Err(function_not_found(&state, &r.name, Some(q)).into());
            };
            let users: Vec<String> = state
                .meta
                .list_aliases(&r.name)
                .await?
                .into_iter()
                .filter(|a| {
                    a.function_version == q
                        || a.routing_config
                            .as_ref()
                            .is_some_and(|rc| rc.additional_version_weights.contains_key(q))
                })
                .map(|a| a.name)
                .collect();
            if !users.is_empty() {
                return Err(AwsError::conflict(format!(
                    "Unable to delete version because the following aliases reference it: [{}]",
                    users.join(", ")
                ))
                .into());
            }
            state.meta.delete_version(&r.name, q).await?;
            release_code(&state, &v.code_sha256).await;
        }
        Some(_) => {
            return Err(AwsError::invalid(
                "Deletion of aliases is not supported through DeleteFunction; use DeleteAlias.",
            )
            .into())
        }
    }
    Ok(no_content())
}

/// Remove an artifact once no version references it any more.
pub async fn release_code(state: &AppState, code_sha256: &str) {
    let Some(digest) = ignis_crypto::hex_of_base64_digest(code_sha256) else {
        return;
    };
    match state.meta.code_in_use(code_sha256).await {
        Ok(false) => {
            if let Err(e) = state.artifacts.delete(&digest).await {
                tracing::warn!(error = %e, "could not delete unused artifact");
            }
        }
        Ok(true) => {}
        Err(e) => tracing::warn!(error = %e, "could not check artifact use"),
    }
}
