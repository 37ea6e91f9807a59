//! Small helpers shared by the Lambda handlers: request parsing, timestamps, pagination, responses.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ignis_core::{AwsError, AwsResult, ErrorKind};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The current time as Lambda renders `LastModified`: `2024-01-01T00:00:00.000+0000`.
pub fn now_timestamp() -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
    );
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000+0000".into())
}

/// A fresh RevisionId.
pub fn new_revision() -> AwsResult<String> {
    ignis_crypto::ids::uuid_v4().map_err(|_| AwsError::internal())
}

/// Parse a JSON request body (an empty body is `{}`).
pub fn parse_body<T: DeserializeOwned>(body: &Bytes) -> AwsResult<T> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(text).map_err(|e| {
        AwsError::new(
            ErrorKind::InvalidRequestContent,
            format!("Could not parse request body into json: {e}"),
        )
    })
}

/// Query parameters, each name with all its values in order.
#[derive(Debug, Default)]
pub struct Query(HashMap<String, Vec<String>>);

impl Query {
    /// Parse a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            map.entry(k.into_owned()).or_default().push(v.into_owned());
        }
        Self(map)
    }

    /// First value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// All values of `name`.
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `MaxItems` within 1..=`max` (default `default`), with AWS's validation error otherwise.
    pub fn max_items(&self, default: usize, max: usize) -> AwsResult<usize> {
        match self.get("MaxItems") {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 1 && n as usize <= max => Ok(n as usize),
                Ok(n) if n < 1 => Err(AwsError::validation(
                    v,
                    "maxItems",
                    "Member must have value greater than or equal to 1",
                )),
                Ok(_) => Err(AwsError::validation(
                    v,
                    "maxItems",
                    &format!("Member must have value less than or equal to {max}"),
                )),
                Err(_) => Err(AwsError::invalid(format!(
                    "Invalid value for MaxItems: {v}"
                ))),
            },
        }
    }
}

/// A JSON response with `status`.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (status, [("content-type", "application/json")], body).into_response(),
        Err(_) => crate::error::error_response(&AwsError::internal()),
    }
}

/// An empty 204 response.
pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Take a page of `items` starting after the item whose key equals `marker`, returning the page and
/// the NextMarker (the key of its last item) if more remain.
pub fn page<T, F: Fn(&T) -> String>(
    items: Vec<T>,
    marker: Option<&str>,
    max: usize,
    key: F,
) -> (Vec<T>, Option<String>) {
    let start = match marker {
        Some(m) => items
            .iter()
            .position(|i| key(i) == m)
            .map(|p| p + 1)
            .unwrap_or(items.len()),
        None => 0,
    };
    let rest: Vec<T> = items.into_iter().skip(start).collect();
    let more = rest.len() > max;
    let page: Vec<T> = rest.into_iter().take(max).collect();
    let next = if more { page.last().map(&key) } else { None };
    (page, next)
}
