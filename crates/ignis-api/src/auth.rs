//! Authentication middleware: reads the body (bounded), verifies SigV4 against the caller's secret,
//! and hands the handler a request carrying the [`Caller`] and the already-read body.

use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use ignis_core::{AwsError, ErrorKind};

use crate::services;
use crate::sigv4;
use crate::state::{Caller, RequestId, SharedState};

/// Largest request body accepted (a 50 MB zip, base64-encoded, inside JSON).
pub const MAX_REQUEST_BYTES: usize = 70_167_211;

/// Paths served without SigV4 (they carry their own authorization or none is needed).
fn is_public(path: &str) -> bool {
    path == "/health" || path == "/metrics" || path.starts_with(crate::presign::CODE_PATH_PREFIX)
}

/// Verify the signature of every request except the public paths.
pub async fn authenticate(
    State(state): State<SharedState>,
    mut req: Request,
    next: Next,
) -> Response {
    let request_id = ignis_crypto::ids::uuid_v4().unwrap_or_default();
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let mut resp = if is_public(req.uri().path()) {
        next.run(req).await
    } else {
        let protocol = services::protocol_of(req.uri().path(), req.headers());
        let service = signing_service(req.headers());
        match verify(&state, req).await {
            Ok(req) => {
                // The caller travels back on the response for the outer layers (audit, metrics).
                let caller = req.extensions().get::<Caller>().cloned();
                let mut resp = next.run(req).await;
                if let Some(caller) = caller {
                    resp.extensions_mut().insert(caller);
                }
                resp
            }
            Err(e) => services::error_for(protocol, &service, &e, &request_id),
        }
    };
    if let Ok(v) = request_id.parse() {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    resp
}

async fn verify(state: &SharedState, req: Request) -> Result<Request, AwsError> {
    let (mut parts, body) = req.into_parts();
    let body = read_body(body).await?;
    let raw_path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().map(str::to_string);
    let request = sigv4::RequestParts {
        method: parts.method.as_str(),
        raw_path: &raw_path,
        raw_query: raw_query.as_deref(),
        headers: &parts.headers,
        body: &body,
    };
    let claim = sigv4::parse(&request)?;
    check_scope(&claim, &state.region)?;
    let (secret, principal) = if claim.access_key_id.starts_with("ASIA") {
        session_credential(
            state,
            &parts.headers,
            raw_query.as_deref(),
            &claim.access_key_id,
        )
        .await?
    } else {
        state
            .credential(&claim.access_key_id)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "credential lookup failed");
                AwsError::internal()
            })?
            .ok_or_else(invalid_token)?
    };
    sigv4::verify(&request, &claim, &secret, SystemTime::now())?;
    parts.extensions.insert(Caller {
        access_key_id: claim.access_key_id,
        principal_arn: principal,
        service: claim.service,
    });
    Ok(Request::from_parts(parts, Body::from(body)))
}

fn invalid_token() -> AwsError {
    AwsError::new(
        ErrorKind::UnrecognizedClient,
        "The security token included in the request is invalid.",
    )
}

/// Secret and principal (the assumed-role ARN) of temporary credentials: the session token
/// (`X-Amz-Security-Token` header or query parameter) is sealed claims, opened without a database
/// read; it must belong to the signing key, be unexpired, and its role must still exist (deleting
/// a role revokes its sessions).
async fn session_credential(
    state: &SharedState,
    headers: &axum::http::HeaderMap,
    raw_query: Option<&str>,
    access_key_id: &str,
) -> Result<(String, String), AwsError> {
    let token = match headers
        .get("x-amz-security-token")
        .and_then(|v| v.to_str().ok())
    {
        Some(t) => t.to_string(),
        None => form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "X-Amz-Security-Token")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(invalid_token)?,
    };
    let session = check_session(
        state.meta.open_session_token(&token),
        access_key_id,
        crate::identity::now_secs(),
    )?;
    let role_name = crate::identity::role_name_of_arn(&state.account, &session.role_arn)
        .ok_or_else(invalid_token)?;
    let role = state.iam.role(&state.meta, role_name).await.map_err(|e| {
        tracing::error!(error = %e, "role lookup failed");
        AwsError::internal()
    })?;
    if role.is_none_or(|r| r.role_id != session.role_id) {
        return Err(invalid_token());
    }
    Ok((session.secret_access_key, session.assumed_role_arn))
}

/// The claims of an opened session token must name the signing key and be unexpired at `now`.
fn check_session(
    session: Option<ignis_store::iam::StsSession>,
    access_key_id: &str,
    now: i64,
) -> Result<ignis_store::iam::StsSession, AwsError> {
    let session = session
        .filter(|s| s.access_key_id == access_key_id)
        .ok_or_else(invalid_token)?;
    if session.expiration <= now {
        return Err(AwsError::other(
            "ExpiredTokenException",
            403,
            "The security token included in the request is expired",
        ));
    }
    Ok(session)
}

/// The request must be signed for a service this endpoint serves, and (except for the global
/// services) for this server's region.
fn check_scope(claim: &sigv4::Claim, region: &str) -> Result<(), AwsError> {
    let service = claim.service.as_str();
    if !services::SIGNING_SERVICES.contains(&service) {
        return claim.check_scope(region, "lambda");
    }
    let region = if services::is_global_service(service) {
        claim.region.as_str()
    } else {
        region
    };
    claim.check_scope(region, service)
}

/// The signing service named in an `Authorization` header's credential scope (for error rendering
/// before the signature is verified); `lambda` when absent.
fn signing_service(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|cred| cred.split(['/', ',']).nth(3))
        .unwrap_or("lambda")
        .to_string()
}

async fn read_body(body: Body) -> Result<Bytes, AwsError> {
    let limited = http_body_util::Limited::new(body, MAX_REQUEST_BYTES);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(AwsError::new(
            ErrorKind::RequestEntityTooLarge,
            format!("Request must be smaller than {MAX_REQUEST_BYTES} bytes for the operation"),
        )),
        Err(_) => Err(AwsError::new(
            ErrorKind::InvalidRequestContent,
            "Could not read the request body",
        )),
    }
}

/// Body of a request whose middleware already read it (cheap: the bytes are shared).
pub async fn body_bytes(body: Body) -> Bytes {
    body.collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default()
}

/// Respond 200 "ok" for health checks.
pub async fn health() -> impl IntoResponse {
    (
        [("content-type", "application/json")],
        "{\"status\":\"ok\"}",
    )
}

#[cfg(test)]
mod session_tests {
    use super::*;
    use ignis_store::iam::StsSession;

    fn session(exp: i64) -> StsSession {
        StsSession {
            access_key_id: "ASIAKEY".into(),
            secret_access_key: "s".into(),
            expiration: exp,
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            role_id: "AROAX".into(),
            assumed_role_arn: "arn:aws:sts::123456789012:assumed-role/r/s".into(),
            assumed_role_id: "AROAX:s".into(),
        }
    }

    #[test]
    fn sessions_must_match_and_be_unexpired() {
        assert!(check_session(Some(session(1000)), "ASIAKEY", 999).is_ok());
        let expired = check_session(Some(session(1000)), "ASIAKEY", 1000).unwrap_err();
        assert_eq!(expired.kind.code(), "ExpiredTokenException");
        assert_eq!(expired.kind.status(), 403);
        assert_eq!(
            expired.message,
            "The security token included in the request is expired"
        );
        let other = check_session(Some(session(1000)), "ASIAOTHER", 1).unwrap_err();
        assert_eq!(other.kind, ErrorKind::UnrecognizedClient);
        let forged = check_session(None, "ASIAKEY", 1).unwrap_err();
        assert_eq!(
            forged.message,
            "The security token included in the request is invalid."
        );
    }
}
