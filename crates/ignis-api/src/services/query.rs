//! AWS Query protocol plumbing (IAM, STS): form parameters in, XML out.

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ignis_core::AwsError;

/// The parameters of a Query request (body and query string; the body wins on duplicates).
#[derive(Debug, Default)]
pub struct QueryParams(HashMap<String, String>);

impl QueryParams {
    /// Parse the query string and the form-encoded body.
    pub fn from_request(raw_query: Option<&str>, body: &[u8]) -> Self {
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes()) {
            map.insert(k.into_owned(), v.into_owned());
        }
        for (k, v) in form_urlencoded::parse(body) {
            map.insert(k.into_owned(), v.into_owned());
        }
        Self(map)
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The members of a Query list `name.member.1`, `name.member.2`, ... in order.
    pub fn list(&self, name: &str) -> Vec<&str> {
        (1..)
            .map_while(|i| self.get(&format!("{name}.member.{i}")))
            .collect()
    }

    /// All parameters.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// XML namespace of a Query service's documents.
pub fn namespace(service: &str) -> &'static str {
    match service {
        "sts" => "https://sts.amazonaws.com/doc/2011-06-15/",
        _ => "https://iam.amazonaws.com/doc/2010-05-08/",
    }
}

/// Escape text for an XML element or attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The standard envelope: `<{action}Response xmlns=..><{action}Result>{result}</{action}Result>
/// <ResponseMetadata><RequestId>..</RequestId></ResponseMetadata></{action}Response>`.
pub fn envelope(service: &str, action: &str, result_xml: &str, request_id: &str) -> String {
    let ns = namespace(service);
    let result = if result_xml.is_empty() {
        String::new()
    } else {
        format!("<{action}Result>{result_xml}</{action}Result>")
    };
    format!(
        "<{action}Response xmlns=\"{ns}\">{result}<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        escape(request_id)
    )
}

/// A successful Query response carrying `xml`.
pub fn ok_response(xml: String) -> Response {
    let mut resp = (StatusCode::OK, xml).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    resp
}

/// A Query error: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.
pub fn error_response(service: &str, err: &AwsError, request_id: &str) -> Response {
    let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let fault = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let code = query_code(err);
    let xml = format!(
        "<ErrorResponse xmlns=\"{}\"><Error><Type>{fault}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
        namespace(service),
        escape(code),
        escape(&err.message),
        escape(request_id)
    );
    let mut resp = (status, xml).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(code) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

/// Query services name the common authentication errors without the `Exception` suffix.
fn query_code(err: &AwsError) -> &'static str {
    match err.kind.code() {
        "InvalidSignatureException" => "SignatureDoesNotMatch",
        "UnrecognizedClientException" => "InvalidClientTokenId",
        "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
        "IncompleteSignatureException" => "IncompleteSignature",
        "AccessDeniedException" => "AccessDenied",
        "ServiceException" => "ServiceFailure",
        code => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_escaping() {
        let p = QueryParams::from_request(
            Some("Action=ListUsers"),
            b"Action=GetUser&Tags.member.1=a&Tags.member.2=b%26c&UserName=x",
        );
        assert_eq!(p.get("Action"), Some("GetUser"));
        assert_eq!(p.list("Tags"), vec!["a", "b&c"]);
        assert_eq!(escape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;");
        let env = envelope("sts", "GetCallerIdentity", "<Account>1</Account>", "r1");
        assert!(env.starts_with(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Account>1</Account>"
        ));
    }
}
