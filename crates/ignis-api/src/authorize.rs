//! Authorization of every signed request: maps each Lambda route (method + path template, as the
//! service model defines them) to the IAM action AWS uses (`lambda:InvokeFunction`, ...) and the
//! resource ARN (qualified when a qualifier is given), then evaluates the caller's identity-based
//! policies and — when those do not allow — the function's resource-based policy (AddPermission).
//! The account root (the admin key) is always allowed. CreateFunction and
//! UpdateFunctionConfiguration with a `Role` also need `iam:PassRole` on that role; with
//! `--strict-roles` the role must exist and trust `lambda.amazonaws.com`.
//!
//! IAM and STS (`POST /`) authorize per action inside their service modules through [`check`].

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use ignis_core::arn::{self, NameShape};
use ignis_core::policy::{
    access_denied_message, evaluate, Policy, PolicyKind, Principal, RequestContext,
};
use ignis_core::{AwsError, ErrorKind};
use percent_encoding::percent_decode_str;

use crate::error::error_response;
use crate::identity::{identity_of, now_secs, role_name_of_arn, Identity};
use crate::state::{AppState, Caller, SharedState};

/// Lambda operations by method and request URI (botocore's `lambda/2015-03-31` model).
const ROUTES: &[(&str, &str, &str)] = &[
    (
        "POST",
        "/2014-11-13/functions/{FunctionName}/invoke-async",
        "InvokeAsync",
    ),
    (
        "POST",
        "/2015-03-31/event-source-mappings",
        "CreateEventSourceMapping",
    ),
    (
        "GET",
        "/2015-03-31/event-source-mappings",
        "ListEventSourceMappings",
    ),
    (
        "DELETE",
        "/2015-03-31/event-source-mappings/{UUID}",
        "DeleteEventSourceMapping",
    ),
    (
        "GET",
        "/2015-03-31/event-source-mappings/{UUID}",
        "GetEventSourceMapping",
    ),
    (
        "PUT",
        "/2015-03-31/event-source-mappings/{UUID}",
        "UpdateEventSourceMapping",
    ),
    ("POST", "/2015-03-31/functions", "CreateFunction"),
    ("GET", "/2015-03-31/functions", "ListFunctions"),
    (
        "DELETE",
        "/2015-03-31/functions/{FunctionName}",
        "DeleteFunction",
    ),
    ("GET", "/2015-03-31/functions/{FunctionName}", "GetFunction"),
    (
        "POST",
        "/2015-03-31/functions/{FunctionName}/aliases",
        "CreateAlias",
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/aliases",
        "ListAliases",
    ),
    (
        "DELETE",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        "DeleteAlias",
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        "GetAlias",
    ),
    (
        "PUT",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        "UpdateAlias",
    ),
    (
        "PUT",
        "/2015-03-31/functions/{FunctionName}/code",
        "UpdateFunctionCode",
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/configuration",
        "GetFunctionConfiguration",
    ),
    (
        "PUT",
        "/2015-03-31/functions/{FunctionName}/configuration",
        "UpdateFunctionConfiguration",
    ),
    (
        "POST",
        "/2015-03-31/functions/{FunctionName}/invocations",
        "InvokeFunction",
    ),
    (
        "POST",
        "/2015-03-31/functions/{FunctionName}/policy",
        "AddPermission",
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/policy",
        "GetPolicy",
    ),
    (
        "DELETE",
        "/2015-03-31/functions/{FunctionName}/policy/{StatementId}",
        "RemovePermission",
    ),
    (
        "GET",
        "/2015-03-31/functions/{FunctionName}/versions",
        "ListVersionsByFunction",
    ),
    (
        "POST",
        "/2015-03-31/functions/{FunctionName}/versions",
        "PublishVersion",
    ),
    ("GET", "/2016-08-19/account-settings", "GetAccountSettings"),
    ("GET", "/2017-03-31/tags/{Resource}", "ListTags"),
    ("POST", "/2017-03-31/tags/{Resource}", "TagResource"),
    ("DELETE", "/2017-03-31/tags/{Resource}", "UntagResource"),
    (
        "DELETE",
        "/2017-10-31/functions/{FunctionName}/concurrency",
        "DeleteFunctionConcurrency",
    ),
    (
        "PUT",
        "/2017-10-31/functions/{FunctionName}/concurrency",
        "PutFunctionConcurrency",
    ),
    ("GET", "/2018-10-31/layers", "ListLayers"),
    (
        "GET",
        "/2018-10-31/layers/{LayerName}/versions",
        "ListLayerVersions",
    ),
    (
        "POST",
        "/2018-10-31/layers/{LayerName}/versions",
        "PublishLayerVersion",
    ),
    (
        "DELETE",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}",
        "DeleteLayerVersion",
    ),
    (
        "GET",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}",
        "GetLayerVersion",
    ),
    (
        "POST",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy",
        "AddLayerVersionPermission",
    ),
    (
        "GET",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy",
        "GetLayerVersionPolicy",
    ),
    (
        "DELETE",
        "/2018-10-31/layers/{LayerName}/versions/{VersionNumber}/policy/{StatementId}",
        "RemoveLayerVersionPermission",
    ),
    (
        "DELETE",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "DeleteFunctionEventInvokeConfig",
    ),
    (
        "GET",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "GetFunctionEventInvokeConfig",
    ),
    (
        "PUT",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "PutFunctionEventInvokeConfig",
    ),
    (
        "POST",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "UpdateFunctionEventInvokeConfig",
    ),
    (
        "GET",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config/list",
        "ListFunctionEventInvokeConfigs",
    ),
    (
        "GET",
        "/2019-09-30/functions/{FunctionName}/concurrency",
        "GetFunctionConcurrency",
    ),
    (
        "DELETE",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        "DeleteProvisionedConcurrencyConfig",
    ),
    (
        "GET",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        "GetProvisionedConcurrencyConfig",
    ),
    (
        "PUT",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        "PutProvisionedConcurrencyConfig",
    ),
    (
        "POST",
        "/2020-04-22/code-signing-configs",
        "CreateCodeSigningConfig",
    ),
    (
        "GET",
        "/2020-04-22/code-signing-configs",
        "ListCodeSigningConfigs",
    ),
    (
        "DELETE",
        "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}",
        "DeleteCodeSigningConfig",
    ),
    (
        "GET",
        "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}",
        "GetCodeSigningConfig",
    ),
    (
        "PUT",
        "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}",
        "UpdateCodeSigningConfig",
    ),
    (
        "GET",
        "/2020-04-22/code-signing-configs/{CodeSigningConfigArn}/functions",
        "ListFunctionsByCodeSigningConfig",
    ),
    (
        "DELETE",
        "/2020-06-30/functions/{FunctionName}/code-signing-config",
        "DeleteFunctionCodeSigningConfig",
    ),
    (
        "GET",
        "/2020-06-30/functions/{FunctionName}/code-signing-config",
        "GetFunctionCodeSigningConfig",
    ),
    (
        "PUT",
        "/2020-06-30/functions/{FunctionName}/code-signing-config",
        "PutFunctionCodeSigningConfig",
    ),
    (
        "GET",
        "/2021-07-20/functions/{FunctionName}/runtime-management-config",
        "GetRuntimeManagementConfig",
    ),
    (
        "PUT",
        "/2021-07-20/functions/{FunctionName}/runtime-management-config",
        "PutRuntimeManagementConfig",
    ),
    (
        "POST",
        "/2021-10-31/functions/{FunctionName}/url",
        "CreateFunctionUrlConfig",
    ),
    (
        "DELETE",
        "/2021-10-31/functions/{FunctionName}/url",
        "DeleteFunctionUrlConfig",
    ),
    (
        "GET",
        "/2021-10-31/functions/{FunctionName}/url",
        "GetFunctionUrlConfig",
    ),
    (
        "PUT",
        "/2021-10-31/functions/{FunctionName}/url",
        "UpdateFunctionUrlConfig",
    ),
    (
        "GET",
        "/2021-10-31/functions/{FunctionName}/urls",
        "ListFunctionUrlConfigs",
    ),
    (
        "POST",
        "/2021-11-15/functions/{FunctionName}/response-streaming-invocations",
        "InvokeFunction",
    ),
    (
        "GET",
        "/2024-08-31/functions/{FunctionName}/recursion-config",
        "GetFunctionRecursionConfig",
    ),
    (
        "PUT",
        "/2024-08-31/functions/{FunctionName}/recursion-config",
        "PutFunctionRecursionConfig",
    ),
];

/// What an authorization check is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `lambda:GetFunction`.
    pub action: String,
    /// Resource ARN or `*`.
    pub resource: String,
    /// For function resources: (function name, policy scope: qualifier or "") whose resource-based
    /// policy may grant the action.
    pub function: Option<(String, String)>,
}

fn decode(seg: &str) -> String {
    percent_decode_str(seg).decode_utf8_lossy().into_owned()
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The Lambda operation of a request: (operation, captured path parameters).
fn match_route<'a>(
    method: &str,
    path: &'a str,
    query: Option<&str>,
) -> Option<(&'static str, Vec<(&'static str, &'a str)>)> {
    let path = path.trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').collect();
    for (m, template, op) in ROUTES {
        if *m != method {
            continue;
        }
        let tsegs: Vec<&str> = template.split('/').collect();
        if tsegs.len() != segs.len() {
            continue;
        }
        let mut params = Vec::new();
        let ok = tsegs.iter().zip(&segs).all(|(t, s)| {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                params.push((name, *s));
                !s.is_empty()
            } else {
                t == s
            }
        });
        if ok {
            let op = match *op {
                "ListLayers" if query_param(query, "find").as_deref() == Some("LayerVersion") => {
                    "GetLayerVersion"
                }
                "GetProvisionedConcurrencyConfig"
                    if query_param(query, "List").as_deref() == Some("ALL") =>
                {
                    "ListProvisionedConcurrencyConfigs"
                }
                op => op,
            };
            return Some((op, params));
        }
    }
    None
}

/// The action and resource of a Lambda request; `None` for paths that are no Lambda operation.
pub fn lambda_target(
    region: &str,
    account: &str,
    method: &str,
    path: &str,
    query: Option<&str>,
) -> Option<Target> {
    let (op, params) = match_route(method, path, query)?;
    let param = |n: &str| params.iter().find(|(k, _)| *k == n).map(|(_, v)| decode(v));
    let mut function = None;
    let resource = if let Some(name) = param("FunctionName") {
        let (fname, derived) = match arn::parse_function_locator(&name, NameShape::Namespaced) {
            Ok(loc) => (loc.name, loc.qualifier),
            Err(_) => (name.clone(), None),
        };
        let qualifier = if param("Name").is_some() {
            None
        } else {
            derived.or_else(|| query_param(query, "Qualifier"))
        };
        function = Some((fname.clone(), qualifier.clone().unwrap_or_default()));
        match qualifier {
            Some(q) => arn::qualified_function_arn(region, account, &fname, &q),
            None => arn::function_arn(region, account, &fname),
        }
    } else if let Some(layer) = param("LayerName") {
        let name = match arn::parse_layer_name_or_arn(&layer) {
            Ok(loc) => loc.name,
            Err(_) => layer,
        };
        let base = arn::layer_arn(region, account, &name);
        match param("VersionNumber") {
            Some(v) => format!("{base}:{v}"),
            None if op == "ListLayerVersions" => "*".to_string(),
            None => base,
        }
    } else if op == "GetLayerVersion" {
        query_param(query, "Arn").unwrap_or_else(|| "*".into())
    } else if let Some(arn) = param("Resource").or_else(|| param("CodeSigningConfigArn")) {
        arn
    } else if let Some(uuid) = param("UUID") {
        format!("arn:aws:lambda:{region}:{account}:event-source-mapping:{uuid}")
    } else {
        "*".to_string()
    };
    Some(Target {
        action: format!("lambda:{op}"),
        resource,
        function,
    })
}

/// The policy-evaluation principal of an identity.
async fn principal_of(state: &AppState, identity: &Identity, arn: &str) -> Principal {
    let role_arn = match identity {
        Identity::Session { role_name, .. } => state
            .iam
            .role(&state.meta, role_name)
            .await
            .ok()
            .flatten()
            .map(|r| r.arn),
        _ => None,
    };
    let account = arn.split(':').nth(4).unwrap_or_default().to_string();
    Principal::Aws {
        arn: arn.to_string(),
        account,
        role_arn,
    }
}

/// The request context of a caller for `action` on `resource`, with the global keys Ignis knows.
pub async fn context_for(
    state: &AppState,
    caller: &Caller,
    identity: &Identity,
    action: &str,
    resource: &str,
) -> RequestContext {
    let principal = principal_of(state, identity, &caller.principal_arn).await;
    let mut ctx = RequestContext::new(principal, action, resource);
    let now = now_secs();
    ctx.set("aws:EpochTime", now.to_string());
    if let Ok(t) = time::OffsetDateTime::from_unix_timestamp(now) {
        let fmt =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
        if let Ok(s) = t.format(&fmt) {
            ctx.set("aws:CurrentTime", s);
        }
    }
    ctx.set("aws:RequestedRegion", state.region.clone());
    match identity {
        Identity::User { name, .. } => {
            ctx.set("aws:username", name.clone());
            ctx.set("aws:PrincipalType", "User");
        }
        Identity::Session { .. } => ctx.set("aws:PrincipalType", "AssumedRole"),
        Identity::Root => ctx.set("aws:PrincipalType", "Account"),
        Identity::Other(_) => {}
    }
    ctx
}

/// Decide whether `caller` may perform `target`; `extra` adds condition keys. The account root is
/// always allowed. Errors are AccessDeniedException in AWS's words.
pub async fn check(
    state: &AppState,
    caller: &Caller,
    target: &Target,
    extra: &[(&str, String)],
) -> Result<(), AwsError> {
    let identity = identity_of(&state.account, &caller.principal_arn);
    if identity == Identity::Root {
        return Ok(());
    }
    let policies = state
        .iam
        .identity_policies(&state.meta, &identity)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "loading identity policies failed");
            AwsError::internal()
        })?;
    let mut ctx = context_for(state, caller, &identity, &target.action, &target.resource).await;
    for (k, v) in extra {
        ctx.set(k, v.clone());
    }
    let refs: Vec<&Policy> = policies.iter().collect();
    let mut decision = evaluate(&ctx, &refs, None, &state.account);
    // Lambda resource policies hold Allow statements only: read one just when identity policies
    // do not already allow (keeps the allowed path free of a database read).
    if !decision.allowed() {
        if let Some((name, scope)) = &target.function {
            if let Some(rp) = function_policy(state, name, scope).await? {
                decision = evaluate(&ctx, &refs, Some(&rp), &state.account);
            }
        }
    }
    match decision {
        ignis_core::policy::Decision::Allow => Ok(()),
        ignis_core::policy::Decision::Deny(reason) => Err(AwsError::new(
            ErrorKind::AccessDenied,
            access_denied_message(
                &caller.principal_arn,
                &target.action,
                &target.resource,
                reason,
            ),
        )),
    }
}

/// The resource-based policy of a function scope, compiled.
async fn function_policy(
    state: &AppState,
    name: &str,
    scope: &str,
) -> Result<Option<Policy>, AwsError> {
    let doc = state.meta.get_policy(name, scope).await.map_err(|e| {
        tracing::error!(error = %e, "loading a function policy failed");
        AwsError::internal()
    })?;
    let Some(doc) = doc else { return Ok(None) };
    let value = serde_json::json!({"Version": "2012-10-17", "Statement": doc.statements});
    match Policy::from_value(&value, PolicyKind::Resource) {
        Ok(p) => Ok(Some(p)),
        Err(e) => {
            tracing::warn!(error = %e, function = name, "function policy does not parse; ignored");
            Ok(None)
        }
    }
}

/// May AWS service `service` (an event source such as `s3.amazonaws.com`) invoke the function
/// `resource` (ARN, qualified or not) for `source_arn`/`source_account`? Only a resource-based
/// policy can grant it; its conditions see `aws:SourceArn` and `aws:SourceAccount`.
pub fn service_may_invoke(
    policy: Option<&Policy>,
    account: &str,
    service: &str,
    resource: &str,
    source_arn: Option<&str>,
    source_account: Option<&str>,
) -> bool {
    let Some(policy) = policy else {
        return false;
    };
    let mut ctx = RequestContext::new(
        Principal::Service(service.to_string()),
        "lambda:InvokeFunction",
        resource,
    );
    if let Some(a) = source_arn {
        ctx.set("aws:SourceArn", a);
    }
    if let Some(a) = source_account {
        ctx.set("aws:SourceAccount", a);
    }
    evaluate(&ctx, &[], Some(policy), account).allowed()
}

/// [`service_may_invoke`] with the function's stored policy (`qualifier` selects the alias or
/// version policy); AccessDeniedException when it does not grant the invoke.
pub async fn check_service_invoke(
    state: &AppState,
    service: &str,
    function: &str,
    qualifier: Option<&str>,
    source_arn: Option<&str>,
    source_account: Option<&str>,
) -> Result<(), AwsError> {
    let resource = match qualifier {
        Some(q) => arn::qualified_function_arn(&state.region, &state.account, function, q),
        None => arn::function_arn(&state.region, &state.account, function),
    };
    let policy = function_policy(state, function, qualifier.unwrap_or_default()).await?;
    if service_may_invoke(
        policy.as_ref(),
        &state.account,
        service,
        &resource,
        source_arn,
        source_account,
    ) {
        Ok(())
    } else {
        Err(AwsError::new(
            ErrorKind::AccessDenied,
            access_denied_message(
                service,
                "lambda:InvokeFunction",
                &resource,
                ignis_core::policy::DenyReason::NoResourceAllow,
            ),
        ))
    }
}

/// `iam:PassRole` on `role_arn` for a non-root caller; with `--strict-roles`, the role must exist
/// and trust `lambda.amazonaws.com`.
async fn check_role(state: &AppState, caller: &Caller, role_arn: &str) -> Result<(), AwsError> {
    check(
        state,
        caller,
        &Target {
            action: "iam:PassRole".into(),
            resource: role_arn.to_string(),
            function: None,
        },
        &[("iam:PassedToService", "lambda.amazonaws.com".to_string())],
    )
    .await?;
    strict_role_check(state, role_arn).await
}

/// Does the role exist and does its trust policy let `lambda.amazonaws.com` assume it?
pub async fn lambda_can_assume(state: &AppState, role_arn: &str) -> Result<bool, AwsError> {
    let Some(name) = role_name_of_arn(&state.account, role_arn) else {
        return Ok(false);
    };
    let role = state.meta.iam_get_role(name).await.map_err(|e| {
        tracing::error!(error = %e, "role lookup failed");
        AwsError::internal()
    })?;
    let Some(role) = role.filter(|r| r.arn == role_arn) else {
        return Ok(false);
    };
    let Ok(trust) = Policy::parse(&role.assume_role_policy_document, PolicyKind::Trust) else {
        return Ok(false);
    };
    let ctx = RequestContext::new(
        Principal::Service("lambda.amazonaws.com".into()),
        "sts:AssumeRole",
        role.arn.clone(),
    );
    Ok(evaluate(&ctx, &[], Some(&trust), &state.account).allowed())
}

/// The action of a JSON 1.1 request (`X-Amz-Target: Prefix.Operation`): `<signing service>:
/// <Operation>` on `*`.
fn json_target(caller: &Caller, headers: &axum::http::HeaderMap) -> Option<Target> {
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    let op = target.rsplit('.').next().filter(|op| !op.is_empty())?;
    Some(Target {
        action: format!("{}:{op}", caller.service),
        resource: "*".into(),
        function: None,
    })
}

/// Middleware: authorize Lambda requests (after [`crate::auth::authenticate`]).
pub async fn authorize(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await; // public paths
    };
    let is_root = identity_of(&state.account, &caller.principal_arn) == Identity::Root;
    if req.uri().path() == "/" {
        // IAM and STS (Query) authorize per action in their modules. JSON 1.1 services get a
        // coarse `<service>:<Operation>` check on `*` here unless they authorize themselves.
        if let Some(target) = json_target(&caller, req.headers()).filter(|_| !is_root) {
            if let Err(e) = check(&state, &caller, &target, &[]).await {
                return crate::services::json_error(&e);
            }
        }
        return next.run(req).await;
    }
    if is_root && !state.iam.strict_roles() {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_string();
    let Some(mut target) = lambda_target(
        &state.region,
        &state.account,
        &method,
        req.uri().path(),
        req.uri().query(),
    ) else {
        return next.run(req).await; // not a Lambda operation: the router answers
    };
    let needs_body = matches!(
        target.action.as_str(),
        "lambda:CreateFunction" | "lambda:UpdateFunctionConfiguration"
    );
    if !needs_body {
        if !is_root {
            if let Err(e) = check(&state, &caller, &target, &[]).await {
                return error_response(&e);
            }
        }
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let body = crate::auth::body_bytes(body).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let role = v.get("Role").and_then(|r| r.as_str()).map(str::to_string);
    if target.action == "lambda:CreateFunction" {
        if let Some(name) = v.get("FunctionName").and_then(|n| n.as_str()) {
            let name = arn::parse_create_function_name(name, &state.account, &state.region)
                .unwrap_or_else(|_| name.to_string());
            target.resource = arn::function_arn(&state.region, &state.account, &name);
        }
    }
    if !is_root {
        if let Err(e) = check(&state, &caller, &target, &[]).await {
            return error_response(&e);
        }
    }
    if let Some(role) = role {
        let result = if is_root {
            strict_role_check(&state, &role).await
        } else {
            check_role(&state, &caller, &role).await
        };
        if let Err(e) = result {
            return error_response(&e);
        }
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// With `--strict-roles`, the role must exist and trust `lambda.amazonaws.com`.
async fn strict_role_check(state: &AppState, role_arn: &str) -> Result<(), AwsError> {
    if state.iam.strict_roles() && !lambda_can_assume(state, role_arn).await? {
        return Err(AwsError::invalid(
            "The role defined for the function cannot be assumed by Lambda.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_map_to_actions() {
        let cases = [
            ("GET", "/2015-03-31/functions/f", None, Some("GetFunction")),
            ("GET", "/2015-03-31/functions/", None, Some("ListFunctions")),
            (
                "POST",
                "/2015-03-31/functions/f/invocations",
                None,
                Some("InvokeFunction"),
            ),
            (
                "GET",
                "/2015-03-31/functions/f/configuration",
                None,
                Some("GetFunctionConfiguration"),
            ),
            (
                "DELETE",
                "/2015-03-31/functions/f/policy/s1",
                None,
                Some("RemovePermission"),
            ),
            (
                "GET",
                "/2018-10-31/layers",
                Some("find=LayerVersion&Arn=x"),
                Some("GetLayerVersion"),
            ),
            ("GET", "/2018-10-31/layers", None, Some("ListLayers")),
            (
                "GET",
                "/2019-09-30/functions/f/provisioned-concurrency",
                Some("List=ALL"),
                Some("ListProvisionedConcurrencyConfigs"),
            ),
            (
                "GET",
                "/2019-09-30/functions/f/provisioned-concurrency",
                Some("Qualifier=1"),
                Some("GetProvisionedConcurrencyConfig"),
            ),
            ("PATCH", "/2015-03-31/functions/f", None, None),
            ("GET", "/2015-03-31/functions//configuration", None, None),
            ("GET", "/health", None, None),
        ];
        for (m, p, q, want) in cases {
            assert_eq!(match_route(m, p, q).map(|r| r.0), want, "{m} {p}");
        }
    }

    #[test]
    fn event_sources_need_a_matching_resource_policy() {
        let a = "123456789012";
        let f = "arn:aws:lambda:us-east-1:123456789012:function:f";
        // As AddPermission stores it (Principal s3, SourceArn and SourceAccount conditions).
        let policy = Policy::from_value(
            &serde_json::json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "lambda:InvokeFunction", "Resource": f,
                "Condition": {"StringEquals": {"AWS:SourceAccount": a},
                              "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::in-*"}}}]}),
            PolicyKind::Resource,
        )
        .unwrap();
        let p = Some(&policy);
        let s3 = "s3.amazonaws.com";
        assert!(service_may_invoke(
            p,
            a,
            s3,
            f,
            Some("arn:aws:s3:::in-bucket"),
            Some(a)
        ));
        assert!(!service_may_invoke(
            p,
            a,
            s3,
            f,
            Some("arn:aws:s3:::other"),
            Some(a)
        ));
        assert!(!service_may_invoke(
            p,
            a,
            s3,
            f,
            Some("arn:aws:s3:::in-bucket"),
            Some("999999999999")
        ));
        assert!(!service_may_invoke(p, a, s3, f, None, Some(a)));
        assert!(!service_may_invoke(
            p,
            a,
            "sns.amazonaws.com",
            f,
            Some("arn:aws:s3:::in-bucket"),
            Some(a)
        ));
        assert!(!service_may_invoke(
            p,
            a,
            s3,
            &format!("{f}:1"),
            Some("arn:aws:s3:::in-bucket"),
            Some(a)
        ));
        assert!(!service_may_invoke(
            None,
            a,
            s3,
            f,
            Some("arn:aws:s3:::in-bucket"),
            Some(a)
        ));
    }

    #[test]
    fn targets_carry_qualified_resources() {
        let (r, a) = ("us-east-1", "123456789012");
        let t = lambda_target(
            r,
            a,
            "POST",
            "/2015-03-31/functions/f/invocations",
            Some("Qualifier=prod"),
        )
        .unwrap();
        assert_eq!(t.action, "lambda:InvokeFunction");
        assert_eq!(
            t.resource,
            "arn:aws:lambda:us-east-1:123456789012:function:f:prod"
        );
        assert_eq!(t.function, Some(("f".into(), "prod".into())));
        let t = lambda_target(r, a, "GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ag%3A3", None).unwrap();
        assert_eq!(
            t.resource,
            "arn:aws:lambda:us-east-1:123456789012:function:g:3"
        );
        let t = lambda_target(r, a, "GET", "/2015-03-31/functions/g/aliases/live", None).unwrap();
        assert_eq!(
            (t.action.as_str(), t.resource.as_str()),
            (
                "lambda:GetAlias",
                "arn:aws:lambda:us-east-1:123456789012:function:g"
            )
        );
        let t = lambda_target(r, a, "GET", "/2015-03-31/functions", None).unwrap();
        assert_eq!(
            (t.action.as_str(), t.resource.as_str()),
            ("lambda:ListFunctions", "*")
        );
        let t = lambda_target(r, a, "GET", "/2018-10-31/layers/lib/versions/2", None).unwrap();
        assert_eq!(
            t.resource,
            "arn:aws:lambda:us-east-1:123456789012:layer:lib:2"
        );
        let t = lambda_target(r, a, "POST", "/2018-10-31/layers/lib/versions", None).unwrap();
        assert_eq!(
            (t.action.as_str(), t.resource.as_str()),
            (
                "lambda:PublishLayerVersion",
                "arn:aws:lambda:us-east-1:123456789012:layer:lib"
            )
        );
    }
}
