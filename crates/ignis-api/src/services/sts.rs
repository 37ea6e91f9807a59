//! STS (Query protocol, `2011-06-15`): GetCallerIdentity and AssumeRole. AssumeRole evaluates the
//! caller's identity policies together with the role's trust policy (same-account: either may
//! grant when the trust policy names the caller; cross-account: both), then mints a session whose
//! token is sealed claims (see `ignis_store::iam`).

use ignis_core::policy::{evaluate, resource_policy_allows, Policy, PolicyKind};
use ignis_core::{AwsError, ErrorKind};

use super::iam::{check_name, required, validation};
use super::query::{envelope, escape, QueryParams};
use crate::authorize::context_for;
use crate::identity::{identity_of, mint_session, role_name_of_arn, Identity};
use crate::state::{AppState, Caller, RequestId};

/// Default session length.
const DEFAULT_DURATION_S: i64 = 3600;
/// Role chaining (a role session assuming a role) is limited to one hour.
const CHAINED_MAX_S: i64 = 3600;

fn el(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

fn iso(epoch: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

fn store_err(e: ignis_store::StoreError) -> AwsError {
    tracing::error!(error = %e, "STS storage failure");
    AwsError::internal()
}

/// Run STS `action`; the full XML response document.
pub async fn handle(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
    action: &str,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let result = match action {
        "GetCallerIdentity" => get_caller_identity(state, caller).await?,
        "AssumeRole" => assume_role(state, caller, params).await?,
        _ => {
            return Err(AwsError::other(
                "InvalidAction",
                400,
                format!("Could not find operation {action} for version 2011-06-15"),
            ))
        }
    };
    Ok(envelope("sts", action, &result, &request_id.0))
}

/// Never needs a permission (AWS answers it even under an explicit deny).
async fn get_caller_identity(state: &AppState, caller: &Caller) -> Result<String, AwsError> {
    let user_id = match identity_of(&state.account, &caller.principal_arn) {
        Identity::Root | Identity::Other(_) => state.account.clone(),
        Identity::User { name, .. } => state
            .meta
            .iam_get_user(&name)
            .await
            .map_err(store_err)?
            .map(|u| u.user_id)
            .unwrap_or_else(|| state.account.clone()),
        Identity::Session { role_name, arn } => {
            let session = arn.rsplit('/').next().unwrap_or_default();
            let role_id = state
                .iam
                .role(&state.meta, &role_name)
                .await
                .map_err(store_err)?
                .map(|r| r.role_id)
                .unwrap_or_default();
            format!("{role_id}:{session}")
        }
    };
    Ok([
        el("UserId", &user_id),
        el("Account", &state.account),
        el("Arn", &caller.principal_arn),
    ]
    .concat())
}

fn denied(caller: &Caller, role_arn: &str) -> AwsError {
    AwsError::new(
        ErrorKind::AccessDenied,
        format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.principal_arn
        ),
    )
}

async fn assume_role(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let role_arn = required(params, "RoleArn", "roleArn")?;
    if role_arn.chars().count() < 20 {
        return Err(validation(
            Some(role_arn),
            "roleArn",
            "Member must have length greater than or equal to 20",
        ));
    }
    let session_name = required(params, "RoleSessionName", "roleSessionName")?;
    check_name(session_name, "roleSessionName", 2, 64)?;
    let identity = identity_of(&state.account, &caller.principal_arn);
    let duration = match params.get("DurationSeconds") {
        Some(d) => match d.parse::<i64>() {
            Ok(n) if n < 900 => {
                return Err(validation(
                    Some(d),
                    "durationSeconds",
                    "Member must have value greater than or equal to 900",
                ))
            }
            Ok(n) if n <= 43200 => n,
            _ => {
                return Err(validation(
                    Some(d),
                    "durationSeconds",
                    "Member must have value less than or equal to 43200",
                ))
            }
        },
        None => DEFAULT_DURATION_S,
    };
    if params.get("Policy").is_some() || params.iter().any(|(k, _)| k.starts_with("PolicyArns.")) {
        // Session policies would narrow the session; accepting and ignoring them would hand out
        // broader credentials than asked for.
        return Err(AwsError::other(
            "ValidationError",
            400,
            "Session policies (Policy, PolicyArns) are not supported by this server.",
        ));
    }
    if identity == Identity::Root {
        return Err(AwsError::new(
            ErrorKind::AccessDenied,
            "Roles may not be assumed by root accounts.",
        ));
    }
    let role = match role_name_of_arn(&state.account, role_arn) {
        Some(name) => state
            .meta
            .iam_get_role(name)
            .await
            .map_err(store_err)?
            .filter(|r| r.arn == role_arn),
        None => None,
    };
    let Some(role) = role else {
        return Err(denied(caller, role_arn));
    };
    let trust = Policy::parse(&role.assume_role_policy_document, PolicyKind::Trust)
        .map_err(|_| denied(caller, role_arn))?;
    let policies = state
        .iam
        .identity_policies(&state.meta, &identity)
        .await
        .map_err(store_err)?;
    let mut ctx = context_for(state, caller, &identity, "sts:AssumeRole", role_arn).await;
    if let Some(ext) = params.get("ExternalId") {
        ctx.set("sts:ExternalId", ext);
    }
    ctx.set("sts:RoleSessionName", session_name);
    let refs: Vec<&Policy> = policies.iter().collect();
    // The trust policy must always allow; when it names only the account, the caller's own
    // policies must allow too (that part is `evaluate`'s same-account rule).
    if resource_policy_allows(&ctx, &trust).is_none()
        || !evaluate(&ctx, &refs, Some(&trust), &state.account).allowed()
    {
        return Err(denied(caller, role_arn));
    }
    if params.get("DurationSeconds").is_some() {
        if matches!(identity, Identity::Session { .. }) && duration > CHAINED_MAX_S {
            return Err(AwsError::other(
                "ValidationError",
                400,
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            ));
        }
        if duration > role.max_session_duration {
            return Err(AwsError::other(
                "ValidationError",
                400,
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
    }
    let creds = mint_session(&state.meta, &state.account, &role, session_name, duration).await?;
    Ok(format!(
        "<AssumedRoleUser>{}{}</AssumedRoleUser><Credentials>{}{}{}{}</Credentials>",
        el("AssumedRoleId", &creds.assumed_role_id),
        el("Arn", &creds.assumed_role_arn),
        el("AccessKeyId", &creds.access_key_id),
        el("SecretAccessKey", &creds.secret_access_key),
        el("SessionToken", &creds.session_token),
        el("Expiration", &iso(creds.expiration)),
    ))
}
