//! Time-limited, signed download URLs for code and layer archives (GetFunction's `Code.Location`,
//! GetLayerVersion's `Content.Location`): `/_ignis/code/{sha256-hex}?Expires=..&Signature=..`, the
//! signature an HMAC-SHA256 over the digest and expiry under a per-process key. No SigV4 needed; the
//! URL itself is the authorization and dies at its expiry.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use ignis_core::{AwsError, ErrorKind};

use crate::error::error_response;
use crate::state::{AppState, SharedState};

/// Path prefix of download URLs.
pub const CODE_PATH_PREFIX: &str = "/_ignis/code/";
/// Lifetime of a download URL, as AWS's presigned S3 URLs (10 minutes).
pub const URL_TTL_SECS: u64 = 600;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn signature(state: &AppState, digest: &str, expires: u64) -> String {
    hex::encode(ignis_crypto::hmac_sha256(
        &state.presign_key,
        format!("code\n{digest}\n{expires}").as_bytes(),
    ))
}

/// A download URL for the artifact `digest`, on the host the caller used to reach us.
pub fn code_url(state: &AppState, headers: &HeaderMap, digest: &str) -> String {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let expires = now_secs() + URL_TTL_SECS;
    format!(
        "http://{host}{CODE_PATH_PREFIX}{digest}?Expires={expires}&Signature={}",
        signature(state, digest, expires)
    )
}

fn denied(message: &str) -> Response {
    error_response(&AwsError::new(ErrorKind::AccessDenied, message))
}

/// Serve a download URL: check signature and expiry, decrypt and send the archive.
pub async fn download(
    State(state): State<SharedState>,
    Path(digest): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut expires = None;
    let mut sig = None;
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "Expires" => expires = v.parse::<u64>().ok(),
            "Signature" => sig = hex::decode(v.as_bytes()).ok(),
            _ => {}
        }
    }
    let (Some(expires), Some(sig)) = (expires, sig) else {
        return denied("Request is missing the Expires or Signature parameter");
    };
    let msg = format!("code\n{digest}\n{expires}");
    if !ignis_crypto::hmac_sha256_verify(&state.presign_key, msg.as_bytes(), &sig) {
        return denied("The request signature does not match");
    }
    if now_secs() > expires {
        return denied("Request has expired");
    }
    match state.artifacts.get(&digest).await {
        Ok(Some(bytes)) => {
            (StatusCode::OK, [("content-type", "application/zip")], bytes).into_response()
        }
        Ok(None) => error_response(&AwsError::not_found("The specified key does not exist.")),
        Err(e) => {
            tracing::error!(error = %e, "artifact read failed");
            error_response(&AwsError::internal())
        }
    }
}
