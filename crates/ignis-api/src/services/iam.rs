//! IAM (Query protocol, `2010-05-08`): users, access keys, roles, inline and managed policies and
//! their attachments, shaped as botocore's `iam` model renders them. Every operation is authorized
//! as `iam:<Action>` on the entity's ARN; every write drops the authorization caches.

use ignis_core::policy::{Policy, PolicyKind};
use ignis_core::AwsError;
use ignis_store::iam::{AccessKeyMeta, IamRole, IamUser, ManagedPolicy, Owner};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::query::{envelope, escape, QueryParams};
use crate::authorize::{self, Target};
use crate::identity::{identity_of, Identity};
use crate::state::{AppState, Caller, RequestId};

/// Characters left as they are when URL-encoding policy documents (RFC 3986 unreserved).
const DOC_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Largest trust policy (`ACLSizePerRole`).
const MAX_TRUST_POLICY: usize = 2048;
/// Largest managed policy (`PolicySize`).
const MAX_MANAGED_POLICY: usize = 6144;
/// Aggregate inline policy size of a user.
const MAX_USER_INLINE: usize = 2048;
/// Aggregate inline policy size of a role.
const MAX_ROLE_INLINE: usize = 10240;
/// Access keys per user.
const MAX_KEYS_PER_USER: usize = 2;

/// AWS managed policies Ignis knows: (path, name, document).
const AWS_MANAGED: &[(&str, &str, &str)] = &[
    (
        "/",
        "AdministratorAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "/",
        "AWSLambda_FullAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:*","logs:*"],"Resource":"*"},{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}}]}"#,
    ),
    (
        "/",
        "AWSLambda_ReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:Get*","lambda:List*","logs:DescribeLogGroups","logs:DescribeLogStreams","logs:GetLogEvents","logs:FilterLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "/service-role/",
        "AWSLambdaBasicExecutionRole",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "/service-role/",
        "AWSLambdaRole",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}"#,
    ),
    (
        "/",
        "IAMFullAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}"#,
    ),
];

fn no_such(msg: impl Into<String>) -> AwsError {
    AwsError::other("NoSuchEntity", 404, msg)
}

fn already_exists(msg: impl Into<String>) -> AwsError {
    AwsError::other("EntityAlreadyExists", 409, msg)
}

fn malformed(msg: impl Into<String>) -> AwsError {
    AwsError::other("MalformedPolicyDocument", 400, msg)
}

fn limit(msg: impl Into<String>) -> AwsError {
    AwsError::other("LimitExceeded", 409, msg)
}

fn delete_conflict(msg: impl Into<String>) -> AwsError {
    AwsError::other("DeleteConflict", 409, msg)
}

/// IAM's ValidationError in the "1 validation error detected" wording.
pub(crate) fn validation(value: Option<&str>, field: &str, constraint: &str) -> AwsError {
    let value = match value {
        Some(v) => format!("'{v}'"),
        None => "null".to_string(),
    };
    AwsError::other(
        "ValidationError",
        400,
        format!("1 validation error detected: Value {value} at '{field}' failed to satisfy constraint: {constraint}"),
    )
}

fn store_err(e: ignis_store::StoreError) -> AwsError {
    tracing::error!(error = %e, "IAM storage failure");
    AwsError::internal()
}

/// A required parameter.
pub(crate) fn required<'a>(
    params: &'a QueryParams,
    name: &str,
    field: &str,
) -> Result<&'a str, AwsError> {
    params
        .get(name)
        .ok_or_else(|| validation(None, field, "Member must not be null"))
}

/// `[\w+=,.@-]+` within `min..=max` characters (user, role, policy and session names).
pub(crate) fn check_name(value: &str, field: &str, min: usize, max: usize) -> Result<(), AwsError> {
    let len = value.chars().count();
    if len < min {
        return Err(validation(
            Some(value),
            field,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if len > max {
        return Err(validation(
            Some(value),
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(validation(
            Some(value),
            field,
            r"Member must satisfy regular expression pattern: [\w+=,.@-]+",
        ));
    }
    Ok(())
}

/// `Path`: `/` or `/.../` of printable ASCII, at most 512 characters.
fn check_path(params: &QueryParams) -> Result<String, AwsError> {
    let Some(p) = params.get("Path") else {
        return Ok("/".into());
    };
    let ok = p.len() <= 512
        && (p == "/"
            || (p.len() >= 3
                && p.starts_with('/')
                && p.ends_with('/')
                && p.bytes().all(|b| (0x21..=0x7e).contains(&b))));
    if !ok {
        return Err(validation(
            Some(p),
            "path",
            r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
        ));
    }
    Ok(p.to_string())
}

fn now_iso() -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// A new unique id: `prefix` + 17 base32 characters (AIDA, AROA, ANPA).
fn new_id(prefix: &str) -> Result<String, AwsError> {
    let a = ignis_crypto::ids::access_key_id().map_err(|_| AwsError::internal())?;
    let b = ignis_crypto::ids::access_key_id().map_err(|_| AwsError::internal())?;
    Ok(format!("{prefix}{}{}", &a[4..], &b[4..5]))
}

/// URL-encode a policy document as IAM returns it (botocore decodes it back to a dict).
fn encode_doc(doc: &str) -> String {
    utf8_percent_encode(doc, DOC_ENCODE).to_string()
}

/// Policy size as IAM counts it: without whitespace.
fn doc_size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

fn parse_doc(doc: &str, kind: PolicyKind) -> Result<Policy, AwsError> {
    Policy::parse(doc, kind).map_err(|e| malformed(e.0))
}

fn el(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

fn user_xml(u: &IamUser) -> String {
    [
        el("Path", &u.path),
        el("UserName", &u.user_name),
        el("UserId", &u.user_id),
        el("Arn", &u.arn),
        el("CreateDate", &u.create_date),
    ]
    .concat()
}

fn role_xml(r: &IamRole) -> String {
    let mut out = [
        el("Path", &r.path),
        el("RoleName", &r.role_name),
        el("RoleId", &r.role_id),
        el("Arn", &r.arn),
        el("CreateDate", &r.create_date),
        el(
            "AssumeRolePolicyDocument",
            &encode_doc(&r.assume_role_policy_document),
        ),
    ]
    .concat();
    if let Some(d) = &r.description {
        out.push_str(&el("Description", d));
    }
    out.push_str(&el(
        "MaxSessionDuration",
        &r.max_session_duration.to_string(),
    ));
    out
}

fn policy_xml(p: &ManagedPolicy) -> String {
    let mut out = [
        el("PolicyName", &p.policy_name),
        el("PolicyId", &p.policy_id),
        el("Arn", &p.arn),
        el("Path", &p.path),
        el("DefaultVersionId", &p.default_version_id),
        el("AttachmentCount", &p.attachment_count.to_string()),
        el("PermissionsBoundaryUsageCount", "0"),
        el("IsAttachable", "true"),
    ]
    .concat();
    if let Some(d) = &p.description {
        out.push_str(&el("Description", d));
    }
    out.push_str(&el("CreateDate", &p.create_date));
    out.push_str(&el("UpdateDate", &p.update_date));
    out
}

fn key_meta_xml(k: &AccessKeyMeta) -> String {
    [
        el("UserName", &k.user_name),
        el("AccessKeyId", &k.access_key_id),
        el("Status", &k.status),
        el("CreateDate", &k.create_date),
    ]
    .concat()
}

/// One page of `items` (sorted by `key`) after `Marker`, at most `MaxItems` (default 100):
/// `<{list}>members</{list}><IsTruncated>..</IsTruncated>[<Marker>..</Marker>]`.
fn page<T>(
    params: &QueryParams,
    list: &str,
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    render: impl Fn(&T) -> String,
) -> Result<String, AwsError> {
    let max = match params.get("MaxItems") {
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(validation(
                    Some(m),
                    "maxItems",
                    "Member must have value less than or equal to 1000",
                ))
            }
        },
        None => 100,
    };
    let start = match params.get("Marker") {
        Some(m) => items
            .iter()
            .position(|i| key(i).as_str() >= m)
            .unwrap_or(items.len()),
        None => 0,
    };
    let rest = &items[start.min(items.len())..];
    let shown = &rest[..rest.len().min(max)];
    let mut out = format!("<{list}>");
    for item in shown {
        out.push_str("<member>");
        out.push_str(&render(item));
        out.push_str("</member>");
    }
    out.push_str(&format!("</{list}>"));
    match rest.get(max) {
        Some(next) => {
            out.push_str("<IsTruncated>true</IsTruncated>");
            out.push_str(&el("Marker", &key(next)));
        }
        None => out.push_str("<IsTruncated>false</IsTruncated>"),
    }
    Ok(out)
}

fn entity_arn(state: &AppState, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{}:{kind}{path}{name}", state.account)
}

async fn authz(
    state: &AppState,
    caller: &Caller,
    action: &str,
    resource: &str,
) -> Result<(), AwsError> {
    authorize::check(
        state,
        caller,
        &Target {
            action: format!("iam:{action}"),
            resource: resource.to_string(),
            function: None,
        },
        &[],
    )
    .await
}

async fn get_user_or_404(state: &AppState, name: &str) -> Result<IamUser, AwsError> {
    state
        .meta
        .iam_get_user(name)
        .await
        .map_err(store_err)?
        .ok_or_else(|| no_such(format!("The user with name {name} cannot be found.")))
}

async fn get_role_or_404(state: &AppState, name: &str) -> Result<IamRole, AwsError> {
    state
        .meta
        .iam_get_role(name)
        .await
        .map_err(store_err)?
        .ok_or_else(|| no_such(format!("The role with name {name} cannot be found.")))
}

/// The user an operation is about: `UserName`, or the calling user.
fn user_param(state: &AppState, caller: &Caller, params: &QueryParams) -> Result<String, AwsError> {
    if let Some(name) = params.get("UserName") {
        check_name(name, "userName", 1, 128)?;
        return Ok(name.to_string());
    }
    match identity_of(&state.account, &caller.principal_arn) {
        Identity::User { name, .. } => Ok(name),
        _ => Err(AwsError::other(
            "ValidationError",
            400,
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

/// Run IAM `action`; the full XML response document.
pub async fn handle(
    state: &AppState,
    caller: &Caller,
    request_id: &RequestId,
    action: &str,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let result = match action {
        "CreateUser" => create_user(state, caller, params).await?,
        "GetUser" => get_user(state, caller, params).await?,
        "ListUsers" => list_users(state, caller, params).await?,
        "DeleteUser" => delete_user(state, caller, params).await?,
        "CreateAccessKey" => create_access_key(state, caller, params).await?,
        "ListAccessKeys" => list_access_keys(state, caller, params).await?,
        "DeleteAccessKey" => delete_access_key(state, caller, params).await?,
        "CreateRole" => create_role(state, caller, params).await?,
        "GetRole" => get_role(state, caller, params).await?,
        "ListRoles" => list_roles(state, caller, params).await?,
        "DeleteRole" => delete_role(state, caller, params).await?,
        "PutUserPolicy" => put_inline(state, caller, params, Owner::User).await?,
        "PutRolePolicy" => put_inline(state, caller, params, Owner::Role).await?,
        "GetUserPolicy" => get_inline(state, caller, params, Owner::User).await?,
        "GetRolePolicy" => get_inline(state, caller, params, Owner::Role).await?,
        "DeleteUserPolicy" => delete_inline(state, caller, params, Owner::User).await?,
        "DeleteRolePolicy" => delete_inline(state, caller, params, Owner::Role).await?,
        "ListUserPolicies" => list_inline(state, caller, params, Owner::User).await?,
        "ListRolePolicies" => list_inline(state, caller, params, Owner::Role).await?,
        "CreatePolicy" => create_policy(state, caller, params).await?,
        "GetPolicy" => get_policy(state, caller, params).await?,
        "AttachUserPolicy" => attach(state, caller, params, Owner::User, true).await?,
        "AttachRolePolicy" => attach(state, caller, params, Owner::Role, true).await?,
        "DetachUserPolicy" => attach(state, caller, params, Owner::User, false).await?,
        "DetachRolePolicy" => attach(state, caller, params, Owner::Role, false).await?,
        "ListAttachedUserPolicies" => list_attached(state, caller, params, Owner::User).await?,
        "ListAttachedRolePolicies" => list_attached(state, caller, params, Owner::Role).await?,
        _ => {
            return Err(AwsError::other(
                "InvalidAction",
                400,
                format!("Could not find operation {action} for version 2010-05-08"),
            ))
        }
    };
    Ok(envelope("iam", action, &result, &request_id.0))
}

async fn create_user(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let name = required(params, "UserName", "userName")?;
    check_name(name, "userName", 1, 64)?;
    let path = check_path(params)?;
    let arn = entity_arn(state, "user/", &path[1..], name);
    authz(state, caller, "CreateUser", &arn).await?;
    let user = IamUser {
        user_name: name.to_string(),
        user_id: new_id("AIDA")?,
        path,
        arn,
        create_date: now_iso(),
    };
    if !state.meta.iam_create_user(&user).await.map_err(store_err)? {
        return Err(already_exists(format!(
            "User with name {name} already exists."
        )));
    }
    state.iam.invalidate();
    Ok(format!("<User>{}</User>", user_xml(&user)))
}

async fn get_user(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    if params.get("UserName").is_none()
        && identity_of(&state.account, &caller.principal_arn) == Identity::Root
    {
        let root = IamUser {
            user_name: String::new(),
            user_id: state.account.clone(),
            path: String::new(),
            arn: caller.principal_arn.clone(),
            create_date: "1970-01-01T00:00:00Z".into(),
        };
        return Ok(format!(
            "<User>{}{}{}</User>",
            el("UserId", &root.user_id),
            el("Arn", &root.arn),
            el("CreateDate", &root.create_date)
        ));
    }
    let name = user_param(state, caller, params)?;
    let user = state.meta.iam_get_user(&name).await.map_err(store_err)?;
    let arn = user
        .as_ref()
        .map(|u| u.arn.clone())
        .unwrap_or_else(|| entity_arn(state, "user/", "", &name));
    authz(state, caller, "GetUser", &arn).await?;
    let user =
        user.ok_or_else(|| no_such(format!("The user with name {name} cannot be found.")))?;
    Ok(format!("<User>{}</User>", user_xml(&user)))
}

fn path_prefix(params: &QueryParams) -> &str {
    params.get("PathPrefix").unwrap_or("/")
}

async fn list_users(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    authz(
        state,
        caller,
        "ListUsers",
        &entity_arn(state, "user/", "", ""),
    )
    .await?;
    let prefix = path_prefix(params);
    let users: Vec<IamUser> = state
        .meta
        .iam_list_users()
        .await
        .map_err(store_err)?
        .into_iter()
        .filter(|u| u.path.starts_with(prefix))
        .collect();
    page(params, "Users", users, |u| u.user_name.clone(), user_xml)
}

async fn delete_user(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let name = required(params, "UserName", "userName")?;
    check_name(name, "userName", 1, 128)?;
    let user = get_user_or_404(state, name).await;
    let arn = user
        .as_ref()
        .map(|u| u.arn.clone())
        .unwrap_or_else(|_| entity_arn(state, "user/", "", name));
    authz(state, caller, "DeleteUser", &arn).await?;
    let user = user?;
    let _w = state.meta.lock_writes().await;
    let (keys, inline, attached) = state
        .meta
        .iam_dependents(Owner::User, &user.user_name)
        .await
        .map_err(store_err)?;
    if keys > 0 {
        return Err(delete_conflict(
            "Cannot delete entity, must delete access keys first.",
        ));
    }
    if inline > 0 {
        return Err(delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if attached > 0 {
        return Err(delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    state
        .meta
        .iam_delete_user(&user.user_name)
        .await
        .map_err(store_err)?;
    state.iam.invalidate();
    Ok(String::new())
}

async fn create_access_key(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let name = user_param(state, caller, params)?;
    let user = get_user_or_404(state, &name).await;
    let arn = user
        .as_ref()
        .map(|u| u.arn.clone())
        .unwrap_or_else(|_| entity_arn(state, "user/", "", &name));
    authz(state, caller, "CreateAccessKey", &arn).await?;
    let user = user?;
    let _w = state.meta.lock_writes().await;
    let existing = state
        .meta
        .iam_list_access_keys(&user.user_name)
        .await
        .map_err(store_err)?;
    if existing.len() >= MAX_KEYS_PER_USER {
        return Err(limit(format!(
            "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
        )));
    }
    let key = AccessKeyMeta {
        access_key_id: ignis_crypto::ids::access_key_id().map_err(|_| AwsError::internal())?,
        user_name: user.user_name.clone(),
        status: "Active".into(),
        create_date: now_iso(),
    };
    let secret = ignis_crypto::ids::secret_access_key().map_err(|_| AwsError::internal())?;
    state
        .meta
        .iam_create_access_key(&key, &secret, &user.arn)
        .await
        .map_err(store_err)?;
    Ok(format!(
        "<AccessKey>{}{}{}{}{}</AccessKey>",
        el("UserName", &key.user_name),
        el("AccessKeyId", &key.access_key_id),
        el("Status", &key.status),
        el("SecretAccessKey", &secret),
        el("CreateDate", &key.create_date)
    ))
}

async fn list_access_keys(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let name = user_param(state, caller, params)?;
    let user = get_user_or_404(state, &name).await;
    let arn = user
        .as_ref()
        .map(|u| u.arn.clone())
        .unwrap_or_else(|_| entity_arn(state, "user/", "", &name));
    authz(state, caller, "ListAccessKeys", &arn).await?;
    let user = user?;
    let keys = state
        .meta
        .iam_list_access_keys(&user.user_name)
        .await
        .map_err(store_err)?;
    page(
        params,
        "AccessKeyMetadata",
        keys,
        |k| k.access_key_id.clone(),
        key_meta_xml,
    )
}

async fn delete_access_key(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let key_id = required(params, "AccessKeyId", "accessKeyId")?;
    let name = user_param(state, caller, params)?;
    let user = get_user_or_404(state, &name).await;
    let arn = user
        .as_ref()
        .map(|u| u.arn.clone())
        .unwrap_or_else(|_| entity_arn(state, "user/", "", &name));
    authz(state, caller, "DeleteAccessKey", &arn).await?;
    let user = user?;
    if !state
        .meta
        .iam_delete_access_key(&user.user_name, key_id)
        .await
        .map_err(store_err)?
    {
        return Err(no_such(format!(
            "The Access Key with id {key_id} cannot be found."
        )));
    }
    if let Ok(mut cache) = state.credentials.write() {
        cache.remove(key_id);
    }
    Ok(String::new())
}

async fn create_role(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let name = required(params, "RoleName", "roleName")?;
    check_name(name, "roleName", 1, 64)?;
    let doc = required(
        params,
        "AssumeRolePolicyDocument",
        "assumeRolePolicyDocument",
    )?;
    let path = check_path(params)?;
    let description = params.get("Description").map(str::to_string);
    if let Some(d) = &description {
        if d.chars().count() > 1000 {
            return Err(validation(
                Some(d),
                "description",
                "Member must have length less than or equal to 1000",
            ));
        }
    }
    let max_session = match params.get("MaxSessionDuration") {
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (3600..=43200).contains(&n) => n,
            Ok(n) if n < 3600 => {
                return Err(validation(
                    Some(v),
                    "maxSessionDuration",
                    "Member must have value greater than or equal to 3600",
                ))
            }
            _ => {
                return Err(validation(
                    Some(v),
                    "maxSessionDuration",
                    "Member must have value less than or equal to 43200",
                ))
            }
        },
        None => 3600,
    };
    let arn = format!("arn:aws:iam::{}:role{path}{name}", state.account);
    authz(state, caller, "CreateRole", &arn).await?;
    if doc_size(doc) > MAX_TRUST_POLICY {
        return Err(limit(format!(
            "Cannot exceed quota for ACLSizePerRole: {MAX_TRUST_POLICY}"
        )));
    }
    parse_doc(doc, PolicyKind::Trust)?;
    let role = IamRole {
        role_name: name.to_string(),
        role_id: new_id("AROA")?,
        path,
        arn,
        create_date: now_iso(),
        assume_role_policy_document: doc.to_string(),
        description,
        max_session_duration: max_session,
    };
    if !state.meta.iam_create_role(&role).await.map_err(store_err)? {
        return Err(already_exists(format!(
            "Role with name {name} already exists."
        )));
    }
    state.iam.invalidate();
    Ok(format!("<Role>{}</Role>", role_xml(&role)))
}

async fn get_role(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let name = required(params, "RoleName", "roleName")?;
    check_name(name, "roleName", 1, 64)?;
    let role = get_role_or_404(state, name).await;
    let arn = role
        .as_ref()
        .map(|r| r.arn.clone())
        .unwrap_or_else(|_| entity_arn(state, "role/", "", name));
    authz(state, caller, "GetRole", &arn).await?;
    Ok(format!("<Role>{}</Role>", role_xml(&role?)))
}

async fn list_roles(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    authz(
        state,
        caller,
        "ListRoles",
        &entity_arn(state, "role/", "", ""),
    )
    .await?;
    let prefix = path_prefix(params);
    let roles: Vec<IamRole> = state
        .meta
        .iam_list_roles()
        .await
        .map_err(store_err)?
        .into_iter()
        .filter(|r| r.path.starts_with(prefix))
        .collect();
    page(params, "Roles", roles, |r| r.role_name.clone(), role_xml)
}

async fn delete_role(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let name = required(params, "RoleName", "roleName")?;
    check_name(name, "roleName", 1, 64)?;
    let role = get_role_or_404(state, name).await;
    let arn = role
        .as_ref()
        .map(|r| r.arn.clone())
        .unwrap_or_else(|_| entity_arn(state, "role/", "", name));
    authz(state, caller, "DeleteRole", &arn).await?;
    let role = role?;
    let _w = state.meta.lock_writes().await;
    let (_, inline, attached) = state
        .meta
        .iam_dependents(Owner::Role, &role.role_name)
        .await
        .map_err(store_err)?;
    if inline > 0 {
        return Err(delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if attached > 0 {
        return Err(delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    state
        .meta
        .iam_delete_role(&role.role_name)
        .await
        .map_err(store_err)?;
    state.iam.invalidate();
    Ok(String::new())
}

/// The owner named by `UserName`/`RoleName`: (stored name, ARN, action suffix, error if absent).
async fn owner_of(
    state: &AppState,
    params: &QueryParams,
    owner: Owner,
) -> Result<(String, Result<String, AwsError>), AwsError> {
    match owner {
        Owner::User => {
            let name = required(params, "UserName", "userName")?;
            check_name(name, "userName", 1, 128)?;
            Ok(match get_user_or_404(state, name).await {
                Ok(u) => (u.arn.clone(), Ok(u.user_name)),
                Err(e) => (entity_arn(state, "user/", "", name), Err(e)),
            })
        }
        Owner::Role => {
            let name = required(params, "RoleName", "roleName")?;
            check_name(name, "roleName", 1, 64)?;
            Ok(match get_role_or_404(state, name).await {
                Ok(r) => (r.arn.clone(), Ok(r.role_name)),
                Err(e) => (entity_arn(state, "role/", "", name), Err(e)),
            })
        }
    }
}

fn kind_word(owner: Owner) -> &'static str {
    match owner {
        Owner::User => "User",
        Owner::Role => "Role",
    }
}

async fn put_inline(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
    owner: Owner,
) -> Result<String, AwsError> {
    let (arn, found) = owner_of(state, params, owner).await?;
    let policy_name = required(params, "PolicyName", "policyName")?;
    check_name(policy_name, "policyName", 1, 128)?;
    let doc = required(params, "PolicyDocument", "policyDocument")?;
    authz(
        state,
        caller,
        &format!("Put{}Policy", kind_word(owner)),
        &arn,
    )
    .await?;
    let owner_name = found?;
    parse_doc(doc, PolicyKind::Identity)?;
    let _w = state.meta.lock_writes().await;
    let others: usize = state
        .meta
        .iam_list_inline_policies(owner, &owner_name)
        .await
        .map_err(store_err)?
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(policy_name))
        .map(|(_, d)| doc_size(d))
        .sum();
    let (max, word) = match owner {
        Owner::User => (MAX_USER_INLINE, "user"),
        Owner::Role => (MAX_ROLE_INLINE, "role"),
    };
    if others + doc_size(doc) > max {
        return Err(limit(format!(
            "Maximum policy size of {max} bytes exceeded for {word} {owner_name}"
        )));
    }
    state
        .meta
        .iam_put_inline_policy(owner, &owner_name, policy_name, doc)
        .await
        .map_err(store_err)?;
    state.iam.invalidate();
    Ok(String::new())
}

async fn get_inline(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
    owner: Owner,
) -> Result<String, AwsError> {
    let (arn, found) = owner_of(state, params, owner).await?;
    let policy_name = required(params, "PolicyName", "policyName")?;
    check_name(policy_name, "policyName", 1, 128)?;
    authz(
        state,
        caller,
        &format!("Get{}Policy", kind_word(owner)),
        &arn,
    )
    .await?;
    let owner_name = found?;
    let (stored, doc) = state
        .meta
        .iam_get_inline_policy(owner, &owner_name, policy_name)
        .await
        .map_err(store_err)?
        .ok_or_else(|| {
            no_such(format!(
                "The {} policy with name {policy_name} cannot be found.",
                kind_word(owner).to_ascii_lowercase()
            ))
        })?;
    Ok([
        el(&format!("{}Name", kind_word(owner)), &owner_name),
        el("PolicyName", &stored),
        el("PolicyDocument", &encode_doc(&doc)),
    ]
    .concat())
}

async fn delete_inline(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
    owner: Owner,
) -> Result<String, AwsError> {
    let (arn, found) = owner_of(state, params, owner).await?;
    let policy_name = required(params, "PolicyName", "policyName")?;
    check_name(policy_name, "policyName", 1, 128)?;
    authz(
        state,
        caller,
        &format!("Delete{}Policy", kind_word(owner)),
        &arn,
    )
    .await?;
    let owner_name = found?;
    if !state
        .meta
        .iam_delete_inline_policy(owner, &owner_name, policy_name)
        .await
        .map_err(store_err)?
    {
        return Err(no_such(format!(
            "The {} policy with name {policy_name} cannot be found.",
            kind_word(owner).to_ascii_lowercase()
        )));
    }
    state.iam.invalidate();
    Ok(String::new())
}

async fn list_inline(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
    owner: Owner,
) -> Result<String, AwsError> {
    let (arn, found) = owner_of(state, params, owner).await?;
    authz(
        state,
        caller,
        &format!("List{}Policies", kind_word(owner)),
        &arn,
    )
    .await?;
    let owner_name = found?;
    let names: Vec<String> = state
        .meta
        .iam_list_inline_policies(owner, &owner_name)
        .await
        .map_err(store_err)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    page(params, "PolicyNames", names, String::clone, |n| escape(n))
}

async fn create_policy(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let name = required(params, "PolicyName", "policyName")?;
    check_name(name, "policyName", 1, 128)?;
    let doc = required(params, "PolicyDocument", "policyDocument")?;
    let path = check_path(params)?;
    let description = params.get("Description").map(str::to_string);
    let arn = format!("arn:aws:iam::{}:policy{path}{name}", state.account);
    authz(state, caller, "CreatePolicy", &arn).await?;
    if doc_size(doc) > MAX_MANAGED_POLICY {
        return Err(limit(format!(
            "Cannot exceed quota for PolicySize: {MAX_MANAGED_POLICY}"
        )));
    }
    parse_doc(doc, PolicyKind::Identity)?;
    let now = now_iso();
    let policy = ManagedPolicy {
        policy_name: name.to_string(),
        policy_id: new_id("ANPA")?,
        arn,
        path,
        default_version_id: "v1".into(),
        description,
        create_date: now.clone(),
        update_date: now,
        attachment_count: 0,
    };
    if !state
        .meta
        .iam_create_policy(&policy, doc)
        .await
        .map_err(store_err)?
    {
        return Err(already_exists(format!(
            "A policy called {name} already exists. Duplicate names are not allowed."
        )));
    }
    Ok(format!("<Policy>{}</Policy>", policy_xml(&policy)))
}

/// A managed policy by ARN; AWS managed policies Ignis knows are created on first use.
async fn managed_policy(
    state: &AppState,
    arn: &str,
) -> Result<Option<(ManagedPolicy, String)>, AwsError> {
    if let Some(found) = state.meta.iam_get_policy(arn).await.map_err(store_err)? {
        return Ok(Some(found));
    }
    let Some(rest) = arn.strip_prefix("arn:aws:iam::aws:policy") else {
        return Ok(None);
    };
    let Some((path, name, doc)) = AWS_MANAGED
        .iter()
        .find(|(p, n, _)| rest == format!("{p}{n}"))
    else {
        return Ok(None);
    };
    let policy = ManagedPolicy {
        policy_name: name.to_string(),
        policy_id: new_id("ANPA")?,
        arn: arn.to_string(),
        path: path.to_string(),
        default_version_id: "v1".into(),
        description: None,
        create_date: "2015-02-06T18:39:46Z".into(),
        update_date: "2015-02-06T18:39:46Z".into(),
        attachment_count: 0,
    };
    state
        .meta
        .iam_create_policy(&policy, doc)
        .await
        .map_err(store_err)?;
    state.meta.iam_get_policy(arn).await.map_err(store_err)
}

fn check_policy_arn(arn: &str) -> Result<(), AwsError> {
    if arn.len() < 20 || arn.len() > 2048 {
        return Err(validation(
            Some(arn),
            "policyArn",
            "Member must have length greater than or equal to 20",
        ));
    }
    if !arn.starts_with("arn:") {
        return Err(AwsError::other(
            "InvalidInput",
            400,
            format!("ARN {arn} is not valid."),
        ));
    }
    Ok(())
}

async fn get_policy(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
) -> Result<String, AwsError> {
    let arn = required(params, "PolicyArn", "policyArn")?;
    check_policy_arn(arn)?;
    authz(state, caller, "GetPolicy", arn).await?;
    let (policy, _) = managed_policy(state, arn)
        .await?
        .ok_or_else(|| no_such(format!("Policy {arn} does not exist or is not attachable.")))?;
    Ok(format!("<Policy>{}</Policy>", policy_xml(&policy)))
}

async fn attach(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
    owner: Owner,
    on: bool,
) -> Result<String, AwsError> {
    let (arn, found) = owner_of(state, params, owner).await?;
    let policy_arn = required(params, "PolicyArn", "policyArn")?;
    check_policy_arn(policy_arn)?;
    let verb = if on { "Attach" } else { "Detach" };
    authz(
        state,
        caller,
        &format!("{verb}{}Policy", kind_word(owner)),
        &arn,
    )
    .await?;
    let owner_name = found?;
    let _w = state.meta.lock_writes().await;
    if on {
        if managed_policy(state, policy_arn).await?.is_none() {
            return Err(no_such(format!(
                "Policy {policy_arn} does not exist or is not attachable."
            )));
        }
        state
            .meta
            .iam_attach_policy(owner, &owner_name, policy_arn)
            .await
            .map_err(store_err)?;
    } else if !state
        .meta
        .iam_detach_policy(owner, &owner_name, policy_arn)
        .await
        .map_err(store_err)?
    {
        return Err(no_such(format!("Policy {policy_arn} was not found.")));
    }
    state.iam.invalidate();
    Ok(String::new())
}

async fn list_attached(
    state: &AppState,
    caller: &Caller,
    params: &QueryParams,
    owner: Owner,
) -> Result<String, AwsError> {
    let (arn, found) = owner_of(state, params, owner).await?;
    authz(
        state,
        caller,
        &format!("ListAttached{}Policies", kind_word(owner)),
        &arn,
    )
    .await?;
    let owner_name = found?;
    let prefix = params.get("PathPrefix");
    let attached: Vec<(String, String, String)> = state
        .meta
        .iam_list_attached(owner, &owner_name)
        .await
        .map_err(store_err)?
        .into_iter()
        .filter(|(_, arn, _)| {
            prefix.is_none_or(|p| {
                arn.split_once(":policy")
                    .is_some_and(|(_, rest)| rest.starts_with(p))
            })
        })
        .collect();
    page(
        params,
        "AttachedPolicies",
        attached,
        |(_, arn, _)| arn.clone(),
        |(name, arn, _)| [el("PolicyName", name), el("PolicyArn", arn)].concat(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_encoding() {
        assert!(check_name("bob+x=y,z.w@v-u_1", "userName", 1, 64).is_ok());
        let e = check_name("bad name", "userName", 1, 64).unwrap_err();
        assert_eq!(e.kind.code(), "ValidationError");
        assert!(e.message.contains(r"[\w+=,.@-]+"), "{}", e.message);
        assert!(check_name(&"a".repeat(65), "userName", 1, 64).is_err());
        let p = QueryParams::from_request(None, b"Path=%2Fdiv%2F");
        assert_eq!(check_path(&p).unwrap(), "/div/");
        let p = QueryParams::from_request(None, b"Path=div");
        assert!(check_path(&p).is_err());
        assert_eq!(
            encode_doc(r#"{"A": "b c"}"#),
            "%7B%22A%22%3A%20%22b%20c%22%7D"
        );
        assert_eq!(doc_size("{ \"a\" :\n 1 }"), 7);
    }

    #[test]
    fn pages() {
        let items: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let p = QueryParams::from_request(None, b"MaxItems=2");
        let out = page(&p, "L", items.clone(), String::clone, |s| s.clone()).unwrap();
        assert_eq!(
            out,
            "<L><member>a</member><member>b</member></L><IsTruncated>true</IsTruncated><Marker>c</Marker>"
        );
        let p = QueryParams::from_request(None, b"Marker=c");
        let out = page(&p, "L", items, String::clone, |s| s.clone()).unwrap();
        assert_eq!(
            out,
            "<L><member>c</member></L><IsTruncated>false</IsTruncated>"
        );
    }
}
