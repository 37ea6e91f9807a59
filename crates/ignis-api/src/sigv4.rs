//! AWS Signature Version 4 verification of incoming requests (and signing, for our own clients).
//!
//! Requests are canonicalized exactly as botocore (boto3, aws CLI v1) and aws-sdk-rust build the
//! canonical request for non-S3 services:
//!
//! - **Canonical URI**: the path as received on the wire (still percent-encoded) is normalized the
//!   way botocore does it (dot segments and empty segments removed, trailing slash kept), then every
//!   byte except the unreserved set `A-Za-z0-9-_.~` and `/` is percent-encoded *again*. An ARN's `:`
//!   arrives as `%3A` and is signed as `%253A`. If that does not match, the path normalization of
//!   aws-sdk-rust (which differs only for paths with dot segments) is tried as well.
//! - **Canonical query**: every `key=value` pair is form-decoded and re-encoded with the AWS rules
//!   (space as `%20`), pairs sorted by encoded key then value; `X-Amz-Signature` is left out for
//!   presigned URLs.
//! - **Canonical headers**: the `SignedHeaders`, in the order listed, lowercased, values trimmed with
//!   inner whitespace runs collapsed, repeated headers joined with `,`. `host` must be signed.
//! - **Payload hash**: the `x-amz-content-sha256` header if present (a hex digest is then checked
//!   against the body; `UNSIGNED-PAYLOAD` is accepted), else the hex SHA-256 of the body. Presigned
//!   URLs may be signed over the body hash (botocore's generic presigner) or `UNSIGNED-PAYLOAD`
//!   (S3-style presigners); both are accepted.
//!
//! [`parse`] extracts the [`Claim`] (who claims to sign, and for which scope) from the
//! `Authorization` header or the `X-Amz-*` query parameters; the caller looks up the secret key of
//! [`Claim::access_key_id`], checks the scope with [`Claim::check_scope`], then calls [`verify`].
//! Nothing here panics on request data: every malformed input becomes an AWS-shaped error.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::{digest, hmac};
use axum::http::HeaderMap;
use ignis_core::{AwsError, ErrorKind};
use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// The only signing algorithm supported (SigV4 with HMAC-SHA256).
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The payload-hash placeholder for a body that is not covered by the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// How far the request time may be from the server clock for header-signed requests (15 minutes).
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// The longest validity of a presigned URL (`X-Amz-Expires`), one week as in AWS.
pub const MAX_PRESIGN_EXPIRES_SECS: u64 = 604_800;

/// The message AWS sends with an `InvalidSignatureException` for a wrong signature.
pub const SIGNATURE_MISMATCH_MESSAGE: &str = "The request signature we calculated does not match \
the signature you provided. Check your AWS Secret Access Key and signing method. Consult the \
service documentation for details.";

/// The message AWS sends with an `UnrecognizedClientException` (unknown key or bad session token).
pub const UNRECOGNIZED_CLIENT_MESSAGE: &str =
    "The security token included in the request is invalid.";

const TERMINATOR: &str = "aws4_request";

/// Everything except the unreserved characters `A-Za-z0-9-_.~` (RFC 3986) is percent-encoded.
const URI_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Like [`URI_ENCODE_SET`] but keeps `/`, for whole paths.
const PATH_ENCODE_SET: &AsciiSet = &URI_ENCODE_SET.remove(b'/');

/// Headers botocore never signs (they may be changed by proxies or the HTTP client).
const UNSIGNABLE_HEADERS: &[&str] = &[
    "authorization",
    "baggage",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

const Q_ALGORITHM: &str = "X-Amz-Algorithm";
const Q_CREDENTIAL: &str = "X-Amz-Credential";
const Q_DATE: &str = "X-Amz-Date";
const Q_EXPIRES: &str = "X-Amz-Expires";
const Q_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
const Q_SIGNATURE: &str = "X-Amz-Signature";
const Q_SECURITY_TOKEN: &str = "X-Amz-Security-Token";
const Q_CONTENT_SHA256: &str = "X-Amz-Content-Sha256";

const H_DATE: &str = "x-amz-date";
const H_SECURITY_TOKEN: &str = "x-amz-security-token";
const H_CONTENT_SHA256: &str = "x-amz-content-sha256";

/// The parts of a request SigV4 covers.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The HTTP method, as sent (`GET`, `POST`, ...).
    pub method: &'a str,
    /// Path exactly as received on the wire (still percent-encoded), without the query string.
    pub raw_path: &'a str,
    /// Raw query string as received (without '?'), if any.
    pub raw_query: Option<&'a str>,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The request body (already fully read).
    pub body: &'a [u8],
}

impl<'a> RequestParts<'a> {
    /// The parts of an `http` request head plus its body.
    ///
    /// `parts.uri` must be the URI as received: behind a nested axum router, take the path from
    /// `axum::extract::OriginalUri` instead.
    pub fn from_http(parts: &'a axum::http::request::Parts, body: &'a [u8]) -> Self {
        Self {
            method: parts.method.as_str(),
            raw_path: parts.uri.path(),
            raw_query: parts.uri.query(),
            headers: &parts.headers,
            body,
        }
    }
}

/// Where the signature of a request was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `Authorization` header.
    Header,
    /// `X-Amz-*` query parameters (presigned URL), with `X-Amz-Expires` if given.
    Query { expires: Option<u64> },
}

/// What the Authorization header (or presigned query) claims.
#[derive(Clone, PartialEq, Eq)]
pub struct Claim {
    /// The access key id from the credential scope.
    pub access_key_id: String,
    /// The date of the credential scope (`yyyymmdd`).
    pub date: String,
    /// The region of the credential scope.
    pub region: String,
    /// The service of the credential scope.
    pub service: String,
    /// The session token (`X-Amz-Security-Token`) of temporary credentials, if any.
    pub session_token: Option<String>,
    /// The request time in ISO-8601 basic format (`20150830T123600Z`), as signed.
    amz_date: String,
    /// The request time in seconds since the Unix epoch.
    timestamp: i64,
    /// The signed header names, in the order the client listed them.
    signed_headers: Vec<String>,
    /// The signature the client sent (lowercase hex).
    signature: String,
    mode: Mode,
}

impl fmt::Debug for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("access_key_id", &self.access_key_id)
            .field("date", &self.date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("amz_date", &self.amz_date)
            .field("signed_headers", &self.signed_headers)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Claim {
    /// The request time as signed, in ISO-8601 basic format (`20150830T123600Z`).
    pub fn amz_date(&self) -> &str {
        &self.amz_date
    }

    /// The signed header names, in the order the client listed them.
    pub fn signed_headers(&self) -> &[String] {
        &self.signed_headers
    }

    /// Whether the signature came in the query string (a presigned URL).
    pub fn is_presigned(&self) -> bool {
        matches!(self.mode, Mode::Query { .. })
    }

    /// `X-Amz-Expires` of a presigned URL, if given.
    pub fn expires_secs(&self) -> Option<u64> {
        match self.mode {
            Mode::Query { expires } => expires,
            Mode::Header => None,
        }
    }

    /// Checks that the credential scope names this server's `region` and `service`, with AWS's
    /// `InvalidSignatureException` wording otherwise.
    pub fn check_scope(&self, region: &str, service: &str) -> Result<(), AwsError> {
        if self.region != region {
            return Err(invalid_signature(format!(
                "Credential should be scoped to a valid region, not '{}'.",
                self.region
            )));
        }
        if self.service != service {
            return Err(invalid_signature(format!(
                "Credential should be scoped to correct service: '{service}'."
            )));
        }
        Ok(())
    }
}

/// The `UnrecognizedClientException` AWS sends for an unknown access key id or session token.
pub fn unrecognized_client() -> AwsError {
    AwsError::new(ErrorKind::UnrecognizedClient, UNRECOGNIZED_CLIENT_MESSAGE)
}

fn incomplete(message: impl Into<String>) -> AwsError {
    AwsError::new(ErrorKind::IncompleteSignature, message)
}

fn invalid_signature(message: impl Into<String>) -> AwsError {
    AwsError::new(ErrorKind::InvalidSignature, message)
}

fn signature_mismatch() -> AwsError {
    invalid_signature(SIGNATURE_MISMATCH_MESSAGE)
}

/// Parse the Authorization header or X-Amz-* query parameters. Missing both -> MissingAuthenticationToken
/// ("Missing Authentication Token"); malformed -> IncompleteSignature with AWS-like message.
pub fn parse(req: &RequestParts) -> Result<Claim, AwsError> {
    let header = req.headers.get(axum::http::header::AUTHORIZATION);
    let query_params = req.raw_query.map(decode_query_params).unwrap_or_default();
    let query_auth = query_params
        .iter()
        .any(|(k, _)| k == Q_ALGORITHM || k == Q_CREDENTIAL || k == Q_SIGNATURE);
    match (header, query_auth) {
        (Some(_), true) => Err(incomplete(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
             Signature query string parameter or the Authorization header should be specified",
        )),
        (Some(value), false) => {
            let value = value.to_str().map_err(|_| {
                incomplete("Authorization header contains characters that are not visible ASCII.")
            })?;
            parse_header_auth(value, req.headers)
        }
        (None, true) => parse_query_auth(&query_params),
        (None, false) => Err(AwsError::new(
            ErrorKind::MissingAuthenticationToken,
            "Missing Authentication Token",
        )),
    }
}

fn parse_header_auth(value: &str, headers: &HeaderMap) -> Result<Claim, AwsError> {
    let trimmed = value.trim();
    let (algorithm, rest) = trimmed
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((trimmed, ""));

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    if algorithm == ALGORITHM {
        for component in rest.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            let Some((key, val)) = component.split_once('=') else {
                return Err(incomplete(format!(
                    "'{component}' not a valid key=value pair (missing equal-sign) in \
                     Authorization header: '{value}'."
                )));
            };
            let slot = match key.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(val.trim());
            }
        }
    }

    let date = match headers.get(H_DATE) {
        Some(v) => Some((H_DATE, v)),
        None => headers.get(axum::http::header::DATE).map(|v| ("date", v)),
    };

    let mut problems = String::new();
    if credential.is_none() {
        problems.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        problems.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        problems.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if date.is_none() {
        problems.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some((date_name, date))) =
        (credential, signed_headers, signature, date)
    else {
        return Err(incomplete(format!("{problems}Authorization={value}")));
    };

    let scope = parse_credential(credential)?;
    let signed_headers = parse_signed_headers(signed_headers)?;
    let date = date.to_str().unwrap_or_default();
    let parsed = if date_name == H_DATE {
        parse_basic_date(date)
    } else {
        parse_basic_date(date).or_else(|| parse_http_date(date))
    };
    let Some(timestamp) = parsed else {
        return Err(bad_date(date));
    };
    let session_token = match headers.get(H_SECURITY_TOKEN) {
        Some(v) => Some(v.to_str().map_err(|_| unrecognized_client())?.to_owned()),
        None => None,
    };
    Ok(Claim {
        access_key_id: scope.access_key_id.to_owned(),
        date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        session_token,
        amz_date: format_amz_date(timestamp),
        timestamp,
        signed_headers,
        signature: signature.to_owned(),
        mode: Mode::Header,
    })
}

fn parse_query_auth(params: &[(String, String)]) -> Result<Claim, AwsError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let required = [
        Q_ALGORITHM,
        Q_CREDENTIAL,
        Q_SIGNATURE,
        Q_SIGNED_HEADERS,
        Q_DATE,
    ];
    let missing: String = required
        .iter()
        .filter(|name| get(name).is_none())
        .map(|name| format!("AWS query-string parameters must include '{name}'. "))
        .collect();
    let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(date)) = (
        get(Q_ALGORITHM),
        get(Q_CREDENTIAL),
        get(Q_SIGNATURE),
        get(Q_SIGNED_HEADERS),
        get(Q_DATE),
    ) else {
        return Err(incomplete(format!(
            "{missing}Re-examine the query-string parameters."
        )));
    };
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "X-Amz-Algorithm only supports \"{ALGORITHM}\", not \"{algorithm}\"."
        )));
    }
    let expires = match get(Q_EXPIRES) {
        None => None,
        Some(v) => {
            let secs: u64 = v
                .parse()
                .map_err(|_| incomplete("X-Amz-Expires should be a number"))?;
            if secs > MAX_PRESIGN_EXPIRES_SECS {
                return Err(incomplete(format!(
                    "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                     X-Amz-Expires must be less than {MAX_PRESIGN_EXPIRES_SECS} seconds"
                )));
            }
            Some(secs)
        }
    };
    let scope = parse_credential(credential)?;
    let signed_headers = parse_signed_headers(signed_headers)?;
    let timestamp = parse_basic_date(date).ok_or_else(|| bad_date(date))?;
    Ok(Claim {
        access_key_id: scope.access_key_id.to_owned(),
        date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        session_token: get(Q_SECURITY_TOKEN).map(str::to_owned),
        amz_date: date.to_owned(),
        timestamp,
        signed_headers,
        signature: signature.to_owned(),
        mode: Mode::Query { expires },
    })
}

struct Scope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

fn parse_credential(credential: &str) -> Result<Scope<'_>, AwsError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{credential}'"
        )));
    };
    if terminator != TERMINATOR {
        return Err(incomplete(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not \
             '{terminator}'."
        )));
    }
    Ok(Scope {
        access_key_id,
        date,
        region,
        service,
    })
}

fn parse_signed_headers(list: &str) -> Result<Vec<String>, AwsError> {
    let names: Vec<String> = list.split(';').map(str::to_owned).collect();
    if !names.iter().any(|n| n.eq_ignore_ascii_case("host")) {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(names)
}

fn bad_date(date: &str) -> AwsError {
    incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{date}'. See \
         http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// Verify the signature with the secret key for claim.access_key_id at time `now`.
/// Clock skew beyond 15 minutes (header form) -> InvalidSignature with AWS's "Signature expired: ... is now earlier than ..." / "Signature not yet current: ..." wording; presigned URL past X-Amz-Expires -> AWS's expiry error; wrong signature -> InvalidSignature with "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
///
/// The credential-scope date must match the request date. A hex `x-amz-content-sha256` that
/// does not match the body is rejected once the signature itself is valid.
pub fn verify(
    req: &RequestParts,
    claim: &Claim,
    secret_access_key: &str,
    now: SystemTime,
) -> Result<(), AwsError> {
    let day = claim.amz_date.get(..8).unwrap_or_default();
    if claim.date != day {
        return Err(invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '{}' != '{day}', from '{}'.",
            claim.date, claim.amz_date
        )));
    }
    check_time(claim, unix_secs(now))?;

    // Payload hashes the client may have signed, and the body digest they must match (if any).
    let body_hash = hex::encode(digest::digest(&digest::SHA256, req.body));
    let declared = match req.headers.get(H_CONTENT_SHA256) {
        Some(v) => Some(v.to_str().map_err(|_| bad_content_sha256())?.to_owned()),
        None if claim.is_presigned() => req.raw_query.and_then(|q| {
            decode_query_params(q)
                .into_iter()
                .find(|(k, _)| k == Q_CONTENT_SHA256)
                .map(|(_, v)| v)
        }),
        None => None,
    };
    let payload_candidates: Vec<&str> = match &declared {
        Some(v) => vec![v.as_str()],
        None if claim.is_presigned() => vec![body_hash.as_str(), UNSIGNED_PAYLOAD],
        None => vec![body_hash.as_str()],
    };

    let Ok(provided) = hex::decode(&claim.signature) else {
        return Err(signature_mismatch());
    };
    let key = signing_key(
        secret_access_key,
        &claim.date,
        &claim.region,
        &claim.service,
    );
    let query = canonical_query(req.raw_query, claim.is_presigned());
    let mut headers = Vec::new();
    for name in &claim.signed_headers {
        let lower = name.to_ascii_lowercase();
        let values = req
            .headers
            .get_all(lower.as_str())
            .iter()
            .map(|v| v.as_bytes());
        write_canonical_header(&mut headers, name, values);
    }
    let signed_line = claim.signed_headers.join(";");
    let scope = credential_scope(&claim.date, &claim.region, &claim.service);

    let primary_uri = canonical_uri(req.raw_path);
    let sdk_rust_uri = encode_path(&normalize_path_sdk_rust(req.raw_path));
    let mut uris = vec![primary_uri];
    if !uris.contains(&sdk_rust_uri) {
        uris.push(sdk_rust_uri);
    }

    for uri in &uris {
        for payload in &payload_candidates {
            let creq = canonical_request(req.method, uri, &query, &headers, &signed_line, payload);
            let sts = string_to_sign(&claim.amz_date, &scope, &creq);
            if hmac::verify(&key, sts.as_bytes(), &provided).is_ok() {
                return check_declared_payload(declared.as_deref(), &body_hash);
            }
        }
    }
    Err(signature_mismatch())
}

/// The request time must be within the clock-skew window (header form) or within
/// `X-Amz-Expires` of the signing time (presigned URLs).
fn check_time(claim: &Claim, now: i64) -> Result<(), AwsError> {
    let ts = claim.timestamp;
    let skew = MAX_CLOCK_SKEW_SECS;
    if ts > now.saturating_add(skew) {
        return Err(invalid_signature(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            claim.amz_date,
            format_amz_date(now.saturating_add(skew)),
            format_amz_date(now)
        )));
    }
    match claim.mode {
        Mode::Query {
            expires: Some(expires),
        } => {
            let expires = i64::try_from(expires).unwrap_or(i64::MAX);
            if now > ts.saturating_add(expires) {
                return Err(invalid_signature(format!(
                    "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
                    claim.amz_date,
                    format_amz_date(now.saturating_sub(expires)),
                    format_amz_date(now)
                )));
            }
        }
        Mode::Header | Mode::Query { expires: None } => {
            if ts < now.saturating_sub(skew) {
                return Err(invalid_signature(format!(
                    "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                    claim.amz_date,
                    format_amz_date(now.saturating_sub(skew)),
                    format_amz_date(now)
                )));
            }
        }
    }
    Ok(())
}

fn bad_content_sha256() -> AwsError {
    incomplete("x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a valid sha256 value.")
}

/// A signed `x-amz-content-sha256` must be `UNSIGNED-PAYLOAD` or the body's digest: other
/// values (streaming chunk signatures) are not supported.
fn check_declared_payload(declared: Option<&str>, body_hash: &str) -> Result<(), AwsError> {
    match declared {
        None => Ok(()),
        Some(UNSIGNED_PAYLOAD) => Ok(()),
        Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
            if v.eq_ignore_ascii_case(body_hash) {
                Ok(())
            } else {
                Err(invalid_signature(
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ))
            }
        }
        Some(_) => Err(bad_content_sha256()),
    }
}

/// Sign a request the way botocore does (header form), used by our own tests and benchmark client: returns the headers to add (authorization, x-amz-date, and x-amz-security-token if given).
///
/// `headers` must include `host`. All of them are signed except those botocore never signs
/// (`user-agent`, `expect`, `transfer-encoding`, ...); `authorization`, `x-amz-date` and
/// `x-amz-security-token` in `headers` are ignored and replaced. `raw_path` and `raw_query` are
/// the wire forms (already percent-encoded). The payload hash is `x-amz-content-sha256` from
/// `headers` if given, else the SHA-256 of `body`.
#[allow(clippy::too_many_arguments)]
pub fn sign(
    method: &str,
    raw_path: &str,
    raw_query: Option<&str>,
    headers: &[(String, String)],
    body: &[u8],
    access_key_id: &str,
    secret: &str,
    session_token: Option<&str>,
    region: &str,
    service: &str,
    now: SystemTime,
) -> Vec<(String, String)> {
    let amz_date = format_amz_date(unix_secs(now));
    let date = amz_date.get(..8).unwrap_or_default();

    let mut to_sign = collect_signable_headers(headers);
    to_sign.insert(H_DATE.to_owned(), vec![amz_date.clone()]);
    if let Some(token) = session_token {
        to_sign.insert(H_SECURITY_TOKEN.to_owned(), vec![token.to_owned()]);
    }
    let payload = match to_sign.get(H_CONTENT_SHA256).and_then(|v| v.first()) {
        Some(v) => v.trim().to_owned(),
        None => hex::encode(digest::digest(&digest::SHA256, body)),
    };
    let (canonical_headers, signed_line) = canonical_headers_of(&to_sign);
    let creq = canonical_request(
        &method.to_ascii_uppercase(),
        &canonical_uri(raw_path),
        &canonical_query(raw_query, false),
        &canonical_headers,
        &signed_line,
        &payload,
    );
    let scope = credential_scope(date, region, service);
    let sts = string_to_sign(&amz_date, &scope, &creq);
    let key = signing_key(secret, date, region, service);
    let signature = hex::encode(hmac::sign(&key, sts.as_bytes()));

    let mut out = vec![
        (
            "authorization".to_owned(),
            format!(
                "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={signed_line}, \
                 Signature={signature}"
            ),
        ),
        (H_DATE.to_owned(), amz_date),
    ];
    if let Some(token) = session_token {
        out.push((H_SECURITY_TOKEN.to_owned(), token.to_owned()));
    }
    out
}

/// The inputs of [`presign_query`].
#[derive(Debug, Clone, Copy)]
pub struct Presign<'a> {
    /// The HTTP method the URL is for (usually `GET`).
    pub method: &'a str,
    /// The wire path (already percent-encoded).
    pub raw_path: &'a str,
    /// The operation's own query string (wire form, without '?'), if any.
    pub raw_query: Option<&'a str>,
    /// Headers the client will send and that are signed; must include `host`.
    pub headers: &'a [(String, String)],
    /// The access key id.
    pub access_key_id: &'a str,
    /// The secret access key.
    pub secret: &'a str,
    /// The session token of temporary credentials, if any.
    pub session_token: Option<&'a str>,
    /// The region of the credential scope.
    pub region: &'a str,
    /// The service of the credential scope.
    pub service: &'a str,
    /// The signing time.
    pub now: SystemTime,
    /// How long the URL stays valid (at most [`MAX_PRESIGN_EXPIRES_SECS`] to be accepted).
    pub expires_secs: u64,
}

/// Presign a URL (query-string form, payload `UNSIGNED-PAYLOAD`): returns the full query string
/// to append after `?` — the operation's own parameters, the `X-Amz-*` authentication
/// parameters and `X-Amz-Signature` last, as botocore lays them out.
pub fn presign_query(p: &Presign) -> String {
    let amz_date = format_amz_date(unix_secs(p.now));
    let date = amz_date.get(..8).unwrap_or_default();
    let scope = credential_scope(date, p.region, p.service);

    let to_sign = collect_signable_headers(p.headers);
    let (canonical_headers, signed_line) = canonical_headers_of(&to_sign);

    let mut auth = vec![
        (Q_ALGORITHM, ALGORITHM.to_owned()),
        (Q_CREDENTIAL, format!("{}/{scope}", p.access_key_id)),
        (Q_DATE, amz_date.clone()),
        (Q_EXPIRES, p.expires_secs.to_string()),
        (Q_SIGNED_HEADERS, signed_line.clone()),
    ];
    if let Some(token) = p.session_token {
        auth.push((Q_SECURITY_TOKEN, token.to_owned()));
    }
    let mut query = p.raw_query.unwrap_or_default().to_owned();
    for (name, value) in &auth {
        if !query.is_empty() {
            query.push('&');
        }
        let _ = write!(query, "{name}={}", uri_encode(value.as_bytes()));
    }

    let creq = canonical_request(
        &p.method.to_ascii_uppercase(),
        &canonical_uri(p.raw_path),
        &canonical_query(Some(&query), true),
        &canonical_headers,
        &signed_line,
        UNSIGNED_PAYLOAD,
    );
    let sts = string_to_sign(&amz_date, &scope, &creq);
    let key = signing_key(p.secret, date, p.region, p.service);
    let signature = hex::encode(hmac::sign(&key, sts.as_bytes()));
    let _ = write!(query, "&{Q_SIGNATURE}={signature}");
    query
}

/// Lowercased headers a client signs, grouped by name in sorted order.
fn collect_signable_headers(headers: &[(String, String)]) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        let lower = name.trim().to_ascii_lowercase();
        if UNSIGNABLE_HEADERS.contains(&lower.as_str())
            || lower == H_DATE
            || lower == H_SECURITY_TOKEN
        {
            continue;
        }
        map.entry(lower).or_default().push(value.clone());
    }
    map
}

/// The canonical header lines and the `SignedHeaders` list of sorted, grouped headers.
fn canonical_headers_of(headers: &BTreeMap<String, Vec<String>>) -> (Vec<u8>, String) {
    let mut lines = Vec::new();
    for (name, values) in headers {
        write_canonical_header(&mut lines, name, values.iter().map(|v| v.as_bytes()));
    }
    let signed = headers
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(";");
    (lines, signed)
}

/// Appends `name:v1,v2\n`, each value trimmed with inner whitespace runs collapsed.
fn write_canonical_header<'v>(
    out: &mut Vec<u8>,
    name: &str,
    values: impl Iterator<Item = &'v [u8]>,
) {
    out.extend_from_slice(name.to_ascii_lowercase().as_bytes());
    out.push(b':');
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let words = value
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        for (j, word) in words.enumerate() {
            if j > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(word);
        }
    }
    out.push(b'\n');
}

fn canonical_request(
    method: &str,
    uri: &str,
    query: &str,
    headers: &[u8],
    signed_headers: &str,
    payload: &str,
) -> Vec<u8> {
    let mut creq = Vec::with_capacity(
        method.len() + uri.len() + query.len() + headers.len() + signed_headers.len() + 80,
    );
    for part in [method, uri, query] {
        creq.extend_from_slice(part.as_bytes());
        creq.push(b'\n');
    }
    creq.extend_from_slice(headers);
    creq.push(b'\n');
    creq.extend_from_slice(signed_headers.as_bytes());
    creq.push(b'\n');
    creq.extend_from_slice(payload.as_bytes());
    creq
}

fn credential_scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/{TERMINATOR}")
}

fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &[u8]) -> String {
    let hash = hex::encode(digest::digest(&digest::SHA256, canonical_request));
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{hash}")
}

/// HMAC("AWS4" + secret, date) -> region -> service -> "aws4_request".
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mut key = hmac::Key::new(hmac::HMAC_SHA256, format!("AWS4{secret}").as_bytes());
    for part in [date, region, service, TERMINATOR] {
        let tag = hmac::sign(&key, part.as_bytes());
        key = hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref());
    }
    key
}

/// Percent-encodes every byte except the unreserved characters.
fn uri_encode(bytes: &[u8]) -> String {
    percent_encode(bytes, URI_ENCODE_SET).to_string()
}

/// Percent-encodes every byte except the unreserved characters and `/`.
fn encode_path(path: &str) -> String {
    percent_encode(path.as_bytes(), PATH_ENCODE_SET).to_string()
}

/// The canonical URI of a wire path as botocore computes it for non-S3 services:
/// `quote(remove_dot_segments(path), safe='/~')`, i.e. the wire path encoded a second time.
pub fn canonical_uri(raw_path: &str) -> String {
    encode_path(&normalize_path_botocore(raw_path))
}

/// botocore's `normalize_url_path`: RFC 3986 dot-segment removal that also drops empty
/// segments, keeping the leading and (for a non-empty result) trailing slash.
fn normalize_path_botocore(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// aws-sdk-rust's `normalize_uri_path`: paths without a `.` are only made absolute; others are
/// normalized like `std::path::Path` components (which also drops the trailing slash).
fn normalize_path_sdk_rust(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let absolute = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    if !absolute.contains('.') {
        return absolute;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in absolute.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
}

/// Form-decodes a query component to bytes: `+` is a space, `%XX` a byte.
fn form_decode(component: &str) -> Vec<u8> {
    let plus_as_space: Vec<u8> = component
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&plus_as_space).collect()
}

/// The raw query as decoded `(key, value)` strings (lossy UTF-8), in order.
fn decode_query_params(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                String::from_utf8_lossy(&form_decode(k)).into_owned(),
                String::from_utf8_lossy(&form_decode(v)).into_owned(),
            )
        })
        .collect()
}

/// The canonical query string: pairs decoded, re-encoded with AWS's rules, sorted by encoded
/// key then value; `X-Amz-Signature` left out when `presigned`.
fn canonical_query(raw: Option<&str>, presigned: bool) -> String {
    let Some(raw) = raw else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = form_decode(k);
            if presigned && key == Q_SIGNATURE.as_bytes() {
                return None;
            }
            Some((uri_encode(&key), uri_encode(&form_decode(v))))
        })
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(raw.len() + 16);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Seconds since the Unix epoch (negative before it).
fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// ISO-8601 basic format (`20150830T123600Z`) of a Unix time.
fn format_amz_date(secs: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => secs.to_string(),
    }
}

fn unix_from_parts(year: i32, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<i64> {
    let month = time::Month::try_from(month).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let time = time::Time::from_hms(hour, minute, second).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses `20150830T123600Z`.
fn parse_basic_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    unix_from_parts(
        digits(s.get(0..4)?)?,
        digits(s.get(4..6)?)?,
        digits(s.get(6..8)?)?,
        digits(s.get(9..11)?)?,
        digits(s.get(11..13)?)?,
        digits(s.get(13..15)?)?,
    )
}

/// Parses an RFC 1123 / RFC 2822 date in UTC (`Sun, 30 Aug 2015 12:36:00 GMT`, or with
/// `-0000`/`+0000` as botocore's `formatdate` writes it).
fn parse_http_date(s: &str) -> Option<i64> {
    let mut words: Vec<&str> = s.split_ascii_whitespace().collect();
    if words.first().is_some_and(|w| w.ends_with(',')) {
        words.remove(0);
    }
    let [day, month, year, clock, zone] = words[..] else {
        return None;
    };
    if !matches!(zone, "GMT" | "UTC" | "UT" | "Z" | "+0000" | "-0000") {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))?;
    let mut hms = clock.split(':');
    let (Some(h), Some(m), Some(sec), None) = (hms.next(), hms.next(), hms.next(), hms.next())
    else {
        return None;
    };
    if year.len() != 4 || day.len() > 2 || h.len() != 2 || m.len() != 2 || sec.len() != 2 {
        return None;
    }
    unix_from_parts(
        digits(year)?,
        u8::try_from(month + 1).ok()?,
        digits(day)?,
        digits(h)?,
        digits(m)?,
        digits(sec)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};
    use std::time::Duration;

    const SUITE_AKID: &str = "AKIDEXAMPLE";
    const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    /// 2015-08-30T12:36:00Z
    const SUITE_TIME: u64 = 1_440_938_160;

    const BOTO_AKID: &str = "AKIAIOSFODNN7EXAMPLE";
    const BOTO_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const BOTO_TOKEN: &str = "FwoGZXIvYXdzEXAMPLETOKEN+/=";
    /// 2024-05-17T09:30:15Z
    const BOTO_TIME: u64 = 1_715_938_215;

    const ARN_PATH: &str = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/configuration";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn header_map(headers: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("test header name"),
                HeaderValue::from_str(value).expect("test header value"),
            );
        }
        map
    }

    fn owned(headers: &[(&str, &str)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn parts<'a>(
        method: &'a str,
        path: &'a str,
        query: Option<&'a str>,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> RequestParts<'a> {
        RequestParts {
            method,
            raw_path: path,
            raw_query: query,
            headers,
            body,
        }
    }

    fn check(req: &RequestParts, secret: &str, now: SystemTime) -> Result<Claim, AwsError> {
        let claim = parse(req)?;
        verify(req, &claim, secret, now)?;
        Ok(claim)
    }

    /// One case of the AWS SigV4 test suite: the request (with its wire path and query) is
    /// signed with `sign()` to the expected signature, and the signed request verifies.
    fn suite_case(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &[(&str, &str)],
        body: &[u8],
        signed_headers: &str,
        signature: &str,
    ) {
        suite_case_with_token(
            method,
            path,
            query,
            headers,
            body,
            None,
            signed_headers,
            signature,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn suite_case_with_token(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &[(&str, &str)],
        body: &[u8],
        token: Option<&str>,
        signed_headers: &str,
        signature: &str,
    ) {
        let expected = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders={signed_headers}, Signature={signature}"
        );
        let mut all = vec![("host", "example.amazonaws.com")];
        all.extend_from_slice(headers);
        let added = sign(
            method,
            path,
            query,
            &owned(&all),
            body,
            SUITE_AKID,
            SUITE_SECRET,
            token,
            "us-east-1",
            "service",
            at(SUITE_TIME),
        );
        assert_eq!(added[0], ("authorization".to_owned(), expected.clone()));
        assert_eq!(
            added[1],
            ("x-amz-date".to_owned(), "20150830T123600Z".to_owned())
        );

        // The request as the server receives it.
        let mut wire = all.clone();
        wire.push(("x-amz-date", "20150830T123600Z"));
        wire.push(("authorization", &expected));
        if let Some(token) = token {
            wire.push(("x-amz-security-token", token));
        }
        let map = header_map(&wire);
        let req = parts(method, path, query, &map, body);
        let claim = check(&req, SUITE_SECRET, at(SUITE_TIME)).expect("suite vector verifies");
        assert_eq!(claim.access_key_id, SUITE_AKID);
        assert_eq!(claim.date, "20150830");
        assert_eq!(claim.region, "us-east-1");
        assert_eq!(claim.service, "service");
        assert_eq!(claim.session_token.as_deref(), token);
    }

    #[test]
    fn suite_get_vanilla() {
        suite_case(
            "GET",
            "/",
            None,
            &[],
            b"",
            "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        );
    }

    #[test]
    fn suite_get_vanilla_query() {
        suite_case(
            "GET",
            "/",
            Some("Param1=value1"),
            &[],
            b"",
            "host;x-amz-date",
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
        );
    }

    #[test]
    fn suite_get_vanilla_query_order_key_case() {
        suite_case(
            "GET",
            "/",
            Some("Param2=value2&Param1=value1"),
            &[],
            b"",
            "host;x-amz-date",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        );
    }

    #[test]
    fn suite_get_vanilla_query_unreserved() {
        let unreserved = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        suite_case(
            "GET",
            "/",
            Some(&format!("{unreserved}={unreserved}")),
            &[],
            b"",
            "host;x-amz-date",
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        );
    }

    #[test]
    fn suite_get_vanilla_utf8_query() {
        suite_case(
            "GET",
            "/",
            Some("%E1%88%B4=bar"),
            &[],
            b"",
            "host;x-amz-date",
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        );
    }

    #[test]
    fn suite_get_unreserved_path() {
        suite_case(
            "GET",
            "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            None,
            &[],
            b"",
            "host;x-amz-date",
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        );
    }

    #[test]
    fn suite_get_header_key_duplicate() {
        suite_case(
            "GET",
            "/",
            None,
            &[
                ("My-Header1", "value2"),
                ("My-Header1", "value2"),
                ("My-Header1", "value1"),
            ],
            b"",
            "host;my-header1;x-amz-date",
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
        );
    }

    #[test]
    fn suite_get_header_value_order() {
        suite_case(
            "GET",
            "/",
            None,
            &[
                ("My-Header1", "value4"),
                ("My-Header1", "value1"),
                ("My-Header1", "value3"),
                ("My-Header1", "value2"),
            ],
            b"",
            "host;my-header1;x-amz-date",
            "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
        );
    }

    #[test]
    fn suite_get_header_value_trim() {
        suite_case(
            "GET",
            "/",
            None,
            &[("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            b"",
            "host;my-header1;my-header2;x-amz-date",
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        );
    }

    #[test]
    fn suite_post_vanilla_and_header_cases() {
        let sig = "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b";
        suite_case("POST", "/", None, &[], b"", "host;x-amz-date", sig);
        suite_case(
            "POST",
            "/",
            None,
            &[("My-Header1", "value1")],
            b"",
            "host;my-header1;x-amz-date",
            "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
        );
        suite_case(
            "POST",
            "/",
            None,
            &[("My-Header1", "VALUE1")],
            b"",
            "host;my-header1;x-amz-date",
            "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
        );
    }

    #[test]
    fn suite_post_vanilla_query() {
        suite_case(
            "POST",
            "/",
            Some("Param1=value1"),
            &[],
            b"",
            "host;x-amz-date",
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        );
    }

    #[test]
    fn suite_post_vanilla_query_nonunreserved() {
        // Keys `@#$%^` and `+`, value "/,?><`\";:\\|][{}", as botocore encodes them on the wire.
        suite_case(
            "POST",
            "/",
            Some("%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D"),
            &[],
            b"",
            "host;x-amz-date",
            "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e",
        );
    }

    #[test]
    fn suite_post_sts_header_before() {
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        suite_case_with_token(
            "POST",
            "/",
            None,
            &[],
            b"",
            Some(token),
            "host;x-amz-date;x-amz-security-token",
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        );
    }

    #[test]
    fn suite_post_x_www_form_urlencoded() {
        suite_case(
            "POST",
            "/",
            None,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"Param1=value1",
            "content-type;host;x-amz-date",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        );
        suite_case(
            "POST",
            "/",
            None,
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf8",
            )],
            b"Param1=value1",
            "content-type;host;x-amz-date",
            "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
        );
    }

    #[test]
    fn suite_normalize_path() {
        let vanilla = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        for path in ["/example/..", "/./", "/example1/example2/../.."] {
            suite_case("GET", path, None, &[], b"", "host;x-amz-date", vanilla);
        }
        // get-slashes
        suite_case(
            "GET",
            "//example//",
            None,
            &[],
            b"",
            "host;x-amz-date",
            "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
        );
        // get-slash-pointless-dot
        suite_case(
            "GET",
            "/./example",
            None,
            &[],
            b"",
            "host;x-amz-date",
            "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
        );
        // Computed by botocore 1.44.5 (canonical URI "/a/c/").
        suite_case(
            "GET",
            "/a/./b/../c/",
            None,
            &[],
            b"",
            "host;x-amz-date",
            "03815191a982245f233767bed9d5022ca4cf6dc96e4c7598525bfdbc1932b50c",
        );
        // A space, sent as %20, is signed double-encoded (%2520) as botocore does.
        suite_case(
            "GET",
            "/example%20space/",
            None,
            &[],
            b"",
            "host;x-amz-date",
            "446b817944c553435b35e813c261ff4e161fff982d1bacdef1c87f6785dd1662",
        );
    }

    #[test]
    fn canonical_uri_double_encodes_and_normalizes() {
        assert_eq!(
            canonical_uri(ARN_PATH),
            "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-east-1%253A000000000000%253Afunction%253Af/configuration"
        );
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("//example//"), "/example/");
        assert_eq!(canonical_uri("/a/b/../../.."), "/");
        assert_eq!(canonical_uri("/%24LATEST/x y"), "/%2524LATEST/x%20y");
        assert_eq!(normalize_path_sdk_rust("/a/./b/"), "/a/b");
        assert_eq!(normalize_path_sdk_rust("/a//b/"), "/a//b/");
    }

    #[test]
    fn canonical_query_rules() {
        assert_eq!(canonical_query(None, false), "");
        assert_eq!(
            canonical_query(Some("b=2&a=x+y&a=%2B&c"), false),
            "a=%2B&a=x%20y&b=2&c="
        );
        assert_eq!(
            canonical_query(Some("X-Amz-Signature=abc&Z=1"), true),
            "Z=1"
        );
        assert_eq!(
            canonical_query(Some("X-Amz-Signature=abc"), false),
            "X-Amz-Signature=abc"
        );
    }

    /// Headers botocore 1.44.5 produced for `lambda.get_function_configuration` with an ARN
    /// (client with endpoint http://localhost:9000, session token, fixed clock).
    fn boto_get_function_configuration() -> HeaderMap {
        header_map(&[
            ("host", "localhost:9000"),
            ("user-agent", "Botocore/1.44.5 ua/2.1 os/linux#6.18.44-fc-v782 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/Z,b,e,N,E cfg/retry-mode#standard"),
            ("x-amz-date", "20240517T093015Z"),
            ("x-amz-security-token", BOTO_TOKEN),
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240517/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=7335d98fec2cf1fa804ee0d5e79e3645f164470bbbd36df9b96b66c30b5d2ff9"),
            ("amz-sdk-invocation-id", "e087964d-f1c7-4063-8303-02f38e46b959"),
            ("amz-sdk-request", "attempt=1; max=3"),
        ])
    }

    #[test]
    fn botocore_get_function_configuration_with_arn() {
        let headers = boto_get_function_configuration();
        let req = parts("GET", ARN_PATH, None, &headers, b"");
        let claim = check(&req, BOTO_SECRET, at(BOTO_TIME + 3)).expect("botocore request verifies");
        assert_eq!(claim.access_key_id, BOTO_AKID);
        assert_eq!(claim.session_token.as_deref(), Some(BOTO_TOKEN));
        assert_eq!(claim.region, "us-east-1");
        assert_eq!(claim.service, "lambda");
        assert!(claim.check_scope("us-east-1", "lambda").is_ok());
        assert!(!claim.is_presigned());

        // Our own signer produces the same signature.
        let added = sign(
            "GET",
            ARN_PATH,
            None,
            &owned(&[("Host", "localhost:9000"), ("User-Agent", "anything")]),
            b"",
            BOTO_AKID,
            BOTO_SECRET,
            Some(BOTO_TOKEN),
            "us-east-1",
            "lambda",
            at(BOTO_TIME),
        );
        assert_eq!(
            Some(added[0].1.as_str()),
            headers.get("authorization").and_then(|v| v.to_str().ok())
        );
        assert_eq!(
            added[2],
            ("x-amz-security-token".to_owned(), BOTO_TOKEN.to_owned())
        );
    }

    #[test]
    fn botocore_invoke_with_json_body() {
        let headers = header_map(&[
            ("host", "localhost:9000"),
            ("user-agent", "Botocore/1.44.5 ua/2.1 os/linux#6.18.44-fc-v782 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/Z,b,e,N,E cfg/retry-mode#standard"),
            ("x-amz-date", "20240517T093015Z"),
            ("x-amz-security-token", BOTO_TOKEN),
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240517/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=b76990d68a5ef3ef91ad6bd47b2712b0f790f5eb0d0615206fd4a0f4f1e33c0f"),
            ("amz-sdk-invocation-id", "5321c718-e7aa-402f-9e39-8121ccd77b85"),
            ("amz-sdk-request", "attempt=1; max=3"),
            ("content-length", "26"),
        ]);
        let path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations";
        let body = br#"{"hello": "world", "n": 1}"#;
        let req = parts("POST", path, Some("Qualifier=%24LATEST"), &headers, body);
        check(&req, BOTO_SECRET, at(BOTO_TIME)).expect("botocore invoke verifies");

        let tampered = br#"{"hello": "world", "n": 2}"#;
        let req = parts(
            "POST",
            path,
            Some("Qualifier=%24LATEST"),
            &headers,
            tampered,
        );
        let err = check(&req, BOTO_SECRET, at(BOTO_TIME)).expect_err("tampered body");
        assert_eq!(err.kind, ErrorKind::InvalidSignature);
        assert_eq!(err.message, SIGNATURE_MISMATCH_MESSAGE);
    }

    #[test]
    fn botocore_list_functions_with_encoded_query() {
        let headers = header_map(&[
            ("host", "localhost:9000"),
            ("x-amz-date", "20240517T093015Z"),
            ("x-amz-security-token", BOTO_TOKEN),
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240517/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=e20cd21a824c810628f1088e62e40dbe22a0ee1091485a0d504c9a1989b52ffa"),
        ]);
        let query = Some("MaxItems=5&Marker=a%20b%2Bc%2Fd");
        let req = parts("GET", "/2015-03-31/functions", query, &headers, b"");
        check(&req, BOTO_SECRET, at(BOTO_TIME)).expect("botocore list_functions verifies");
        // `+` on the wire is a space, the same as %20: the canonical query is unchanged.
        let req = parts(
            "GET",
            "/2015-03-31/functions",
            Some("Marker=a+b%2Bc%2Fd&MaxItems=5"),
            &headers,
            b"",
        );
        check(&req, BOTO_SECRET, at(BOTO_TIME)).expect("equivalent query verifies");
        let req = parts(
            "GET",
            "/2015-03-31/functions",
            Some("MaxItems=6&Marker=a%20b%2Bc%2Fd"),
            &headers,
            b"",
        );
        assert!(check(&req, BOTO_SECRET, at(BOTO_TIME)).is_err());
    }

    #[test]
    fn botocore_date_header_fallback() {
        // botocore signs with `Date` (RFC 2822) instead of X-Amz-Date when a Date header is set.
        let headers = header_map(&[
            ("host", "localhost:9000"),
            ("content-type", "application/json"),
            ("date", "Fri, 17 May 2024 09:30:15 -0000"),
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240517/us-east-1/lambda/aws4_request, SignedHeaders=content-type;date;host, Signature=fa0164cec17d80cf30e75a8c795cb84c4e90cd87b3cfbb56e42392337a415799"),
        ]);
        let req = parts(
            "DELETE",
            "/2015-03-31/functions/my-func",
            None,
            &headers,
            b"",
        );
        let claim = check(&req, BOTO_SECRET, at(BOTO_TIME)).expect("Date fallback verifies");
        assert_eq!(claim.amz_date(), "20240517T093015Z");
    }

    #[test]
    fn botocore_presigned_url() {
        // botocore SigV4QueryAuth (expires=300): signed over the SHA-256 of the empty body.
        let query = "Qualifier=%24LATEST&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240517%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Date=20240517T093015Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=50dfa1e9cd057e0158562e0f0d95c1adbd1bbc1544819d7b51c47d6256b58e48";
        let headers = header_map(&[("host", "localhost:9000")]);
        let req = parts("GET", ARN_PATH, Some(query), &headers, b"");
        let claim = check(&req, BOTO_SECRET, at(BOTO_TIME + 299)).expect("presigned verifies");
        assert!(claim.is_presigned());
        assert_eq!(claim.expires_secs(), Some(300));
        assert_eq!(claim.session_token, None);

        let err = check(&req, BOTO_SECRET, at(BOTO_TIME + 301)).expect_err("expired");
        assert_eq!(err.kind, ErrorKind::InvalidSignature);
        assert_eq!(
            err.message,
            "Signature expired: 20240517T093015Z is now earlier than 20240517T093016Z \
             (20240517T093516Z - 300 sec.)"
        );
    }

    #[test]
    fn sign_verify_round_trip_lambda_arn() {
        let body = br#"{"FunctionName":"f"}"#;
        let mut wire = vec![
            ("Host".to_owned(), "127.0.0.1:9001".to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), "ignis-bench/1.0".to_owned()),
        ];
        let added = sign(
            "POST",
            ARN_PATH,
            Some("Qualifier=prod"),
            &wire,
            body,
            "AKIDLOCAL",
            "local-secret",
            None,
            "eu-west-1",
            "lambda",
            at(BOTO_TIME),
        );
        assert_eq!(added.len(), 2);
        assert!(added[0]
            .1
            .contains("SignedHeaders=content-type;host;x-amz-date,"));
        wire.extend(added);
        let pairs: Vec<(&str, &str)> = wire.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let headers = header_map(&pairs);
        let now = at(BOTO_TIME + 60);

        let req = parts("POST", ARN_PATH, Some("Qualifier=prod"), &headers, body);
        let claim = check(&req, "local-secret", now).expect("round trip verifies");
        assert_eq!(claim.region, "eu-west-1");
        let err = claim
            .check_scope("us-east-1", "lambda")
            .expect_err("wrong region");
        assert_eq!(
            err.message,
            "Credential should be scoped to a valid region, not 'eu-west-1'."
        );
        let err = claim
            .check_scope("eu-west-1", "s3")
            .expect_err("wrong service");
        assert_eq!(
            err.message,
            "Credential should be scoped to correct service: 's3'."
        );

        let mismatch = |req: RequestParts, secret: &str| {
            let err = check(&req, secret, now).expect_err("must not verify");
            assert_eq!(err.kind, ErrorKind::InvalidSignature);
            assert_eq!(err.message, SIGNATURE_MISMATCH_MESSAGE);
        };
        // Wrong secret.
        mismatch(
            parts("POST", ARN_PATH, Some("Qualifier=prod"), &headers, body),
            "other",
        );
        // Tampered body, path, query, method.
        mismatch(
            parts("POST", ARN_PATH, Some("Qualifier=prod"), &headers, b"{}"),
            "local-secret",
        );
        let other_path = ARN_PATH.replace("function%3Af", "function%3Ag");
        mismatch(
            parts("POST", &other_path, Some("Qualifier=prod"), &headers, body),
            "local-secret",
        );
        // The single-encoded (raw ':') path is a different request.
        let decoded_path = ARN_PATH.replace("%3A", ":");
        mismatch(
            parts(
                "POST",
                &decoded_path,
                Some("Qualifier=prod"),
                &headers,
                body,
            ),
            "local-secret",
        );
        mismatch(
            parts("POST", ARN_PATH, Some("Qualifier=dev"), &headers, body),
            "local-secret",
        );
        mismatch(
            parts("POST", ARN_PATH, None, &headers, body),
            "local-secret",
        );
        mismatch(
            parts("PUT", ARN_PATH, Some("Qualifier=prod"), &headers, body),
            "local-secret",
        );
        // Tampered signed header; an unsigned header may change.
        let mut changed = headers.clone();
        changed.insert("content-type", HeaderValue::from_static("text/plain"));
        mismatch(
            parts("POST", ARN_PATH, Some("Qualifier=prod"), &changed, body),
            "local-secret",
        );
        let mut changed = headers.clone();
        changed.insert("user-agent", HeaderValue::from_static("curl/8"));
        let req = parts("POST", ARN_PATH, Some("Qualifier=prod"), &changed, body);
        check(&req, "local-secret", now).expect("unsigned header may change");
        // Extra whitespace in a signed header value is canonicalized away.
        let mut changed = headers.clone();
        changed.insert(
            "content-type",
            HeaderValue::from_static("application/json   "),
        );
        let req = parts("POST", ARN_PATH, Some("Qualifier=prod"), &changed, body);
        check(&req, "local-secret", now).expect("whitespace is canonical");
    }

    #[test]
    fn clock_skew_both_directions() {
        let headers_at = |ts: u64| {
            let mut wire = owned(&[("host", "localhost:9000")]);
            wire.extend(sign(
                "GET",
                "/2015-03-31/functions/",
                None,
                &wire,
                b"",
                "AKID",
                "secret",
                None,
                "us-east-1",
                "lambda",
                at(ts),
            ));
            let pairs: Vec<(&str, &str)> =
                wire.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            header_map(&pairs)
        };
        let headers = headers_at(BOTO_TIME);
        let req = parts("GET", "/2015-03-31/functions/", None, &headers, b"");
        check(&req, "secret", at(BOTO_TIME + 14 * 60)).expect("within skew");
        check(&req, "secret", at(BOTO_TIME - 14 * 60)).expect("within skew");

        let err = check(&req, "secret", at(BOTO_TIME + 16 * 60)).expect_err("expired");
        assert_eq!(err.kind, ErrorKind::InvalidSignature);
        assert_eq!(
            err.message,
            "Signature expired: 20240517T093015Z is now earlier than 20240517T093115Z \
             (20240517T094615Z - 15 min.)"
        );
        let err = check(&req, "secret", at(BOTO_TIME - 16 * 60)).expect_err("future");
        assert_eq!(err.kind, ErrorKind::InvalidSignature);
        assert_eq!(
            err.message,
            "Signature not yet current: 20240517T093015Z is still later than 20240517T092915Z \
             (20240517T091415Z + 15 min.)"
        );
    }

    #[test]
    fn presign_round_trip_and_expiry() {
        let host = owned(&[("host", "localhost:9000")]);
        let presign = Presign {
            method: "GET",
            raw_path: ARN_PATH,
            raw_query: Some("Qualifier=%24LATEST"),
            headers: &host,
            access_key_id: "AKIDLOCAL",
            secret: "local-secret",
            session_token: Some("tok/en+=="),
            region: "us-east-1",
            service: "lambda",
            now: at(BOTO_TIME),
            expires_secs: 600,
        };
        let query = presign_query(&presign);
        assert!(query.starts_with("Qualifier=%24LATEST&X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
        assert!(query.contains("&X-Amz-Security-Token=tok%2Fen%2B%3D%3D&X-Amz-Signature="));
        let headers = header_map(&[("host", "localhost:9000")]);

        let req = parts("GET", ARN_PATH, Some(&query), &headers, b"");
        let claim = check(&req, "local-secret", at(BOTO_TIME + 599)).expect("presigned verifies");
        assert_eq!(claim.session_token.as_deref(), Some("tok/en+=="));
        assert_eq!(claim.expires_secs(), Some(600));

        let err = check(&req, "local-secret", at(BOTO_TIME + 601)).expect_err("expired");
        assert_eq!(err.kind, ErrorKind::InvalidSignature);
        assert!(err
            .message
            .starts_with("Signature expired: 20240517T093015Z is now earlier than"));
        assert!(err.message.ends_with("- 600 sec.)"));

        let err = check(&req, "local-secret", at(BOTO_TIME - 16 * 60)).expect_err("future");
        assert!(err.message.starts_with("Signature not yet current"));

        let tampered = query.replace("Qualifier=%24LATEST", "Qualifier=1");
        let req = parts("GET", ARN_PATH, Some(&tampered), &headers, b"");
        let err = check(&req, "local-secret", at(BOTO_TIME)).expect_err("tampered");
        assert_eq!(err.message, SIGNATURE_MISMATCH_MESSAGE);

        let longer = query.replace("X-Amz-Expires=600", "X-Amz-Expires=6000");
        let req = parts("GET", ARN_PATH, Some(&longer), &headers, b"");
        assert!(check(&req, "local-secret", at(BOTO_TIME)).is_err());

        let too_long = query.replace("X-Amz-Expires=600", "X-Amz-Expires=604801");
        let req = parts("GET", ARN_PATH, Some(&too_long), &headers, b"");
        let err = parse(&req).expect_err("more than a week");
        assert_eq!(err.kind, ErrorKind::IncompleteSignature);
    }

    #[test]
    fn content_sha256_header() {
        let body = b"payload";
        let mut wire = owned(&[
            ("host", "localhost:9000"),
            ("x-amz-content-sha256", UNSIGNED_PAYLOAD),
        ]);
        wire.extend(sign(
            "POST",
            "/",
            None,
            &wire,
            body,
            "AKID",
            "secret",
            None,
            "us-east-1",
            "lambda",
            at(BOTO_TIME),
        ));
        let pairs: Vec<(&str, &str)> = wire.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let headers = header_map(&pairs);
        // UNSIGNED-PAYLOAD: the body is not covered.
        let req = parts("POST", "/", None, &headers, b"anything else");
        check(&req, "secret", at(BOTO_TIME)).expect("unsigned payload");

        // A declared digest must match the body even though the signature covers only the digest.
        let digest = hex::encode(digest::digest(&digest::SHA256, body));
        let mut wire = owned(&[
            ("host", "localhost:9000"),
            ("x-amz-content-sha256", &digest),
        ]);
        wire.extend(sign(
            "POST",
            "/",
            None,
            &wire,
            body,
            "AKID",
            "secret",
            None,
            "us-east-1",
            "lambda",
            at(BOTO_TIME),
        ));
        let pairs: Vec<(&str, &str)> = wire.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let headers = header_map(&pairs);
        let req = parts("POST", "/", None, &headers, body);
        check(&req, "secret", at(BOTO_TIME)).expect("matching digest");
        let req = parts("POST", "/", None, &headers, b"other");
        let err = check(&req, "secret", at(BOTO_TIME)).expect_err("digest mismatch");
        assert_eq!(
            err.message,
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        );
    }

    #[test]
    fn parse_errors() {
        let body: &[u8] = b"";
        let headers = header_map(&[("host", "h")]);
        let err = parse(&parts("GET", "/", None, &headers, body)).expect_err("none");
        assert_eq!(err.kind, ErrorKind::MissingAuthenticationToken);
        assert_eq!(err.message, "Missing Authentication Token");
        // Unrelated query parameters are not an authentication attempt.
        let err =
            parse(&parts("GET", "/", Some("X-Amz-Date=1&a=b"), &headers, body)).expect_err("none");
        assert_eq!(err.kind, ErrorKind::MissingAuthenticationToken);

        let auth = |value: &str, extra: &[(&str, &str)]| {
            let mut all = vec![("host", "h"), ("authorization", value)];
            all.extend_from_slice(extra);
            let headers = header_map(&all);
            parse(&parts("GET", "/", None, &headers, b""))
        };
        let date = [("x-amz-date", "20150830T123600Z")];

        let err = auth("Bearer abc", &date).expect_err("not sigv4");
        assert_eq!(err.kind, ErrorKind::IncompleteSignature);
        assert_eq!(
            err.message,
            "Authorization header requires 'Credential' parameter. Authorization header requires \
             'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
             Authorization=Bearer abc"
        );

        let err = auth(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/lambda/aws4_request, \
             SignedHeaders=host, Signature=00",
            &[],
        )
        .expect_err("no date");
        assert!(err.message.starts_with(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        ));

        let err = auth("AWS4-HMAC-SHA256 Credential", &date).expect_err("no equal sign");
        assert_eq!(
            err.message,
            "'Credential' not a valid key=value pair (missing equal-sign) in Authorization \
             header: 'AWS4-HMAC-SHA256 Credential'."
        );

        let err = auth(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/lambda, SignedHeaders=host, \
             Signature=00",
            &date,
        )
        .expect_err("short credential");
        assert_eq!(
            err.message,
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got 'AKID/20150830/us-east-1/lambda'"
        );

        let err = auth(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/lambda/aws4_req, \
             SignedHeaders=host, Signature=00",
            &date,
        )
        .expect_err("terminator");
        assert_eq!(
            err.message,
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_req'."
        );

        let err = auth(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/lambda/aws4_request, \
             SignedHeaders=x-amz-date, Signature=00",
            &date,
        )
        .expect_err("host unsigned");
        assert_eq!(
            err.message,
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        );

        let err = auth(
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/lambda/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=00",
            &[("x-amz-date", "2015-08-30T12:36:00Z")],
        )
        .expect_err("bad date");
        assert_eq!(
            err.message,
            "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See \
             http://en.wikipedia.org/wiki/ISO_8601"
        );

        // Both mechanisms at once.
        let headers = header_map(&[("host", "h"), ("authorization", "AWS4-HMAC-SHA256 x=y")]);
        let err = parse(&parts(
            "GET",
            "/",
            Some("X-Amz-Algorithm=AWS4-HMAC-SHA256"),
            &headers,
            body,
        ))
        .expect_err("both");
        assert_eq!(err.kind, ErrorKind::IncompleteSignature);

        // Incomplete presigned query.
        let headers = header_map(&[("host", "h")]);
        let err = parse(&parts(
            "GET",
            "/",
            Some("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123600Z"),
            &headers,
            body,
        ))
        .expect_err("incomplete query");
        assert_eq!(
            err.message,
            "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string \
             parameters must include 'X-Amz-Signature'. AWS query-string parameters must include \
             'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
        );
    }

    #[test]
    fn credential_date_must_match_request_date() {
        let headers = header_map(&[
            ("host", "h"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20150831/us-east-1/lambda/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=00",
            ),
        ]);
        let req = parts("GET", "/", None, &headers, b"");
        let claim = parse(&req).expect("parses");
        let err = verify(&req, &claim, "secret", at(SUITE_TIME)).expect_err("date mismatch");
        assert_eq!(err.kind, ErrorKind::InvalidSignature);
        assert_eq!(
            err.message,
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '20150831' != '20150830', from '20150830T123600Z'."
        );
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let values = [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 ",
            "AWS4-HMAC-SHA256 ,,,=,=",
            "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;;host;;, Signature=zz",
            "AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=0",
            "AWS4-HMAC-SHA256 Credential=é/ü/c/d/aws4_request, SignedHeaders=host;Ä, Signature=ü",
        ];
        let dates = [
            "",
            "20150830T123600",
            "2015083ÄT12360Z",
            "99999999T999999Z",
            "Sun, 99 Foo",
        ];
        for value in values {
            for date in dates {
                let mut map = HeaderMap::new();
                map.insert("host", HeaderValue::from_static("h"));
                if let Ok(v) = HeaderValue::from_bytes(value.as_bytes()) {
                    map.insert("authorization", v);
                }
                if let Ok(v) = HeaderValue::from_bytes(date.as_bytes()) {
                    map.insert("x-amz-date", v);
                }
                for path in ["", "/..", "/%", "/%zz/./../", "//"] {
                    let req = parts("GET", path, Some("%&=&&a=%F0%28"), &map, b"");
                    if let Ok(claim) = parse(&req) {
                        let _ = verify(&req, &claim, "s", at(0));
                        let _ = verify(&req, &claim, "s", UNIX_EPOCH - Duration::from_secs(5));
                    }
                }
            }
        }
    }
}
