//! Resource-based policies: AddPermission, RemovePermission, GetPolicy (functions) and
//! AddLayerVersionPermission, RemoveLayerVersionPermission, GetLayerVersionPolicy (layers).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use ignis_core::model::{PolicyDoc, LATEST};
use ignis_core::{arn, validate, AwsError, AwsResult};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::functions::{
    bump_revision, check_qualifier_exists, check_revision, function_meta, function_not_found,
    is_version, required,
};
use super::layers::{parse_version, resource_missing};
use super::util::{json, new_revision, no_content, parse_body, Query};
use crate::error::ApiResult;
use crate::state::{AppState, SharedState};

/// Largest policy document (20 KB, as AWS).
const MAX_POLICY_BYTES: usize = 20_480;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddPermissionRequest {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    source_arn: Option<String>,
    source_account: Option<String>,
    event_source_token: Option<String>,
    qualifier: Option<String>,
    revision_id: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    principal_org_id: Option<String>,
    function_url_auth_type: Option<String>,
}

/// The policy JSON AWS returns: `{"Version","Id","Statement":[...]}`.
fn policy_json(doc: &PolicyDoc) -> String {
    json!({"Version": "2012-10-17", "Id": "default", "Statement": doc.statements}).to_string()
}

/// A principal as a policy's `Principal` element.
fn principal_element(p: &str) -> Value {
    if p == "*" {
        json!("*")
    } else if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        json!({"AWS": format!("arn:aws:iam::{p}:root")})
    } else if p.starts_with("arn:") {
        json!({"AWS": p})
    } else {
        json!({"Service": p})
    }
}

/// The policy scope of a qualifier: "" for the unqualified function.
async fn policy_scope(state: &AppState, name: &str, qualifier: Option<&str>) -> ApiResult<String> {
    function_meta(state, name).await?;
    let Some(q) = qualifier else {
        return Ok(String::new());
    };
    validate::validate_qualifier(q)?;
    if q == LATEST {
        return Err(
            AwsError::invalid("We currently do not support adding policies for $LATEST.").into(),
        );
    }
    check_qualifier_exists(state, name, q).await?;
    Ok(q.to_string())
}

/// The RevisionId of the resource a policy scope belongs to (policies share it, as on AWS).
async fn scope_revision(state: &AppState, name: &str, scope: &str) -> ApiResult<String> {
    if scope.is_empty() || is_version(scope) {
        let version = if scope.is_empty() { LATEST } else { scope };
        let cfg = state
            .meta
            .get_version(name, version)
            .await?
            .ok_or_else(|| function_not_found(state, name, None))?;
        Ok(cfg.revision_id)
    } else {
        let alias = state
            .meta
            .get_alias(name, scope)
            .await?
            .ok_or_else(|| function_not_found(state, name, Some(scope)))?;
        Ok(alias.revision_id)
    }
}

fn sid_of(s: &Value) -> Option<&str> {
    s.get("Sid").and_then(Value::as_str)
}

/// A new statement id must not exist in the policy yet.
fn check_new_sid(doc: &PolicyDoc, sid: &str) -> AwsResult<()> {
    if doc.statements.iter().any(|s| sid_of(s) == Some(sid)) {
        return Err(AwsError::conflict(format!(
            "The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement."
        )));
    }
    Ok(())
}

/// Remove the statement `sid`, which must exist.
fn remove_statement(doc: &mut PolicyDoc, sid: &str) -> AwsResult<()> {
    let before = doc.statements.len();
    doc.statements.retain(|s| sid_of(s) != Some(sid));
    if doc.statements.len() == before {
        return Err(AwsError::not_found(format!(
            "Statement {sid} is not found in resource policy."
        )));
    }
    Ok(())
}

/// `POST /2015-03-31/functions/{name}/policy`
pub async fn add_permission(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let req: AddPermissionRequest = parse_body(&body)?;
    let q = Query::parse(q.as_deref());
    let r = arn::parse_function_ref(&name, &state.account, &state.region)?;
    let r = arn::merge_qualifier(r, req.qualifier.as_deref().or(q.get("Qualifier")))?;
    let sid = required(req.statement_id, "statementId")?;
    validate::validate_statement_id(&sid)?;
    let action = required(req.action, "action")?;
    validate::validate_action(&action)?;
    let principal = required(req.principal, "principal")?;
    validate::validate_principal(&principal)?;

    let _w = state.meta.lock_writes().await;
    let scope = policy_scope(&state, &r.name, r.qualifier.as_deref()).await?;
    let mut doc = state
        .meta
        .get_policy(&r.name, &scope)
        .await?
        .unwrap_or(PolicyDoc {
            statements: Vec::new(),
            revision_id: String::new(),
        });
    check_revision(
        req.revision_id.as_deref(),
        &scope_revision(&state, &r.name, &scope).await?,
    )?;
    check_new_sid(&doc, &sid)?;
    let resource = match r.qualifier.as_deref() {
        Some(q) => arn::qualified_function_arn(&state.region, &state.account, &r.name, q),
        None => arn::function_arn(&state.region, &state.account, &r.name),
    };
    let mut condition = Map::new();
    let mut string_equals = Map::new();
    if let Some(a) = &req.source_account {
        string_equals.insert("AWS:SourceAccount".into(), json!(a));
    }
    if let Some(t) = &req.event_source_token {
        string_equals.insert("lambda:EventSourceToken".into(), json!(t));
    }
    if let Some(o) = &req.principal_org_id {
        string_equals.insert("aws:PrincipalOrgID".into(), json!(o));
    }
    if let Some(t) = &req.function_url_auth_type {
        if t != "NONE" && t != "AWS_IAM" {
            return Err(AwsError::validation(
                t,
                "functionUrlAuthType",
                "Member must satisfy enum value set: [NONE, AWS_IAM]",
            )
            .into());
        }
        string_equals.insert("lambda:FunctionUrlAuthType".into(), json!(t));
    }
    if !string_equals.is_empty() {
        condition.insert("StringEquals".into(), Value::Object(string_equals));
    }
    if let Some(s) = &req.source_arn {
        condition.insert("ArnLike".into(), json!({"AWS:SourceArn": s}));
    }
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal_element(&principal),
        "Action": action,
        "Resource": resource,
    });
    if !condition.is_empty() {
        statement["Condition"] = Value::Object(condition);
    }
    doc.statements.push(statement.clone());
    if policy_json(&doc).len() > MAX_POLICY_BYTES {
        return Err(AwsError::new(
            ignis_core::ErrorKind::PolicyLengthExceeded,
            "The final policy size is bigger than the limit.",
        )
        .into());
    }
    doc.revision_id = bump_revision(&state, &r.name, &scope).await?.1;
    state.meta.put_policy(&r.name, &scope, Some(&doc)).await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({ "Statement": statement.to_string() }),
    ))
}

/// `DELETE /2015-03-31/functions/{name}/policy/{sid}`
pub async fn remove_permission(
    State(state): State<SharedState>,
    Path((name, sid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let r = arn::parse_function_ref(&name, &state.account, &state.region)?;
    let r = arn::merge_qualifier(r, q.get("Qualifier"))?;
    let _w = state.meta.lock_writes().await;
    let scope = policy_scope(&state, &r.name, r.qualifier.as_deref()).await?;
    let mut doc = state
        .meta
        .get_policy(&r.name, &scope)
        .await?
        .ok_or_else(|| AwsError::not_found("No policy is associated with the given resource."))?;
    check_revision(
        q.get("RevisionId"),
        &scope_revision(&state, &r.name, &scope).await?,
    )?;
    remove_statement(&mut doc, &sid)?;
    doc.revision_id = bump_revision(&state, &r.name, &scope).await?.1;
    let keep = (!doc.statements.is_empty()).then_some(&doc);
    state.meta.put_policy(&r.name, &scope, keep).await?;
    Ok(no_content())
}

/// `GET /2015-03-31/functions/{name}/policy`
pub async fn get_policy(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let r = arn::parse_function_ref(&name, &state.account, &state.region)?;
    let r = arn::merge_qualifier(r, q.get("Qualifier"))?;
    let scope = policy_scope(&state, &r.name, r.qualifier.as_deref()).await?;
    let doc = state
        .meta
        .get_policy(&r.name, &scope)
        .await?
        .ok_or_else(resource_missing)?;
    let revision = scope_revision(&state, &r.name, &scope).await?;
    Ok(json(
        StatusCode::OK,
        &json!({"Policy": policy_json(&doc), "RevisionId": revision}),
    ))
}

/// RevisionId precondition of layer policies, as AWS words it.
fn check_layer_revision(expected: Option<&str>, actual: &str) -> AwsResult<()> {
    match expected {
        Some(e) if e != actual => Err(AwsError::precondition(
            "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id",
        )),
        _ => Ok(()),
    }
}

/// "Layer version ARN does not exist."
fn layer_missing(state: &AppState, name: &str, version: u64) -> AwsError {
    AwsError::not_found(format!(
        "Layer version {} does not exist.",
        arn::layer_version_arn(&state.region, &state.account, name, version)
    ))
}

/// "No policy is associated with the given resource."
fn no_policy() -> AwsError {
    AwsError::not_found("No policy is associated with the given resource.")
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddLayerPermissionRequest {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    organization_id: Option<String>,
}

fn layer_principal(p: &str) -> AwsResult<Value> {
    if p == "*" {
        Ok(json!("*"))
    } else if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        Ok(json!({"AWS": format!("arn:aws:iam::{p}:root")}))
    } else if p.starts_with("arn:aws:iam::") {
        Ok(json!({"AWS": p}))
    } else {
        Err(AwsError::validation(
            p,
            "principal",
            "Member must satisfy regular expression pattern: \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root",
        ))
    }
}

/// `POST /2018-10-31/layers/{layer}/versions/{version}/policy`
pub async fn add_layer_version_permission(
    State(state): State<SharedState>,
    Path((layer, version)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let req: AddLayerPermissionRequest = parse_body(&body)?;
    let q = Query::parse(q.as_deref());
    let name = arn::parse_layer_name(&layer)?;
    let version = parse_version(&version)?;
    let sid = required(req.statement_id, "statementId")?;
    validate::validate_statement_id(&sid)?;
    let action = required(req.action, "action")?;
    if action != "lambda:GetLayerVersion" {
        return Err(AwsError::validation(
            &action,
            "action",
            "Member must satisfy regular expression pattern: lambda:GetLayerVersion",
        )
        .into());
    }
    let principal = layer_principal(&required(req.principal, "principal")?)?;
    let _w = state.meta.lock_writes().await;
    let layer_cfg = state
        .meta
        .get_layer(&name, version)
        .await?
        .ok_or_else(|| layer_missing(&state, &name, version))?;
    let mut doc = state
        .meta
        .get_layer_policy(&name, version)
        .await?
        .unwrap_or(PolicyDoc {
            statements: Vec::new(),
            revision_id: String::new(),
        });
    if !doc.revision_id.is_empty() {
        check_layer_revision(q.get("RevisionId"), &doc.revision_id)?;
    }
    check_new_sid(&doc, &sid)?;
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": layer_cfg.layer_version_arn,
    });
    if let Some(org) = &req.organization_id {
        statement["Condition"] = json!({"StringEquals": {"aws:PrincipalOrgID": org}});
    }
    doc.statements.push(statement.clone());
    doc.revision_id = new_revision()?;
    state
        .meta
        .put_layer_policy(&name, version, Some(&doc))
        .await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({"Statement": statement.to_string(), "RevisionId": doc.revision_id}),
    ))
}

/// `DELETE /2018-10-31/layers/{layer}/versions/{version}/policy/{sid}`
pub async fn remove_layer_version_permission(
    State(state): State<SharedState>,
    Path((layer, version, sid)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let name = arn::parse_layer_name(&layer)?;
    let version = parse_version(&version)?;
    let _w = state.meta.lock_writes().await;
    state
        .meta
        .get_layer(&name, version)
        .await?
        .ok_or_else(|| layer_missing(&state, &name, version))?;
    let mut doc = state
        .meta
        .get_layer_policy(&name, version)
        .await?
        .ok_or_else(no_policy)?;
    check_layer_revision(q.get("RevisionId"), &doc.revision_id)?;
    remove_statement(&mut doc, &sid)?;
    doc.revision_id = new_revision()?;
    let keep = (!doc.statements.is_empty()).then_some(&doc);
    state.meta.put_layer_policy(&name, version, keep).await?;
    Ok(no_content())
}

/// `GET /2018-10-31/layers/{layer}/versions/{version}/policy`
pub async fn get_layer_version_policy(
    State(state): State<SharedState>,
    Path((layer, version)): Path<(String, String)>,
) -> ApiResult<Response> {
    let name = arn::parse_layer_name(&layer)?;
    let version = parse_version(&version)?;
    state
        .meta
        .get_layer(&name, version)
        .await?
        .ok_or_else(|| layer_missing(&state, &name, version))?;
    let doc = state
        .meta
        .get_layer_policy(&name, version)
        .await?
        .ok_or_else(no_policy)?;
    Ok(json(
        StatusCode::OK,
        &json!({"Policy": policy_json(&doc), "RevisionId": doc.revision_id}),
    ))
}
