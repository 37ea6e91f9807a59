//! One audit record, shaped like a CloudTrail event (the `CloudTrailEvent` JSON of LookupEvents).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who made the call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// `Root`, `IAMUser`, `AssumedRole` or `Unknown` (unauthenticated or failed authentication).
    #[serde(rename = "type")]
    pub kind: String,
    /// Stable id of the principal (the access key id owner).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub principal_id: String,
    /// ARN of the principal.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arn: String,
    /// Account of the principal.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account_id: String,
    /// Access key used to sign the request.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub access_key_id: String,
    /// User or role name (LookupEvents' `Username`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_name: String,
}

/// A resource an event touched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    /// Its ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
    /// Its type (`AWS::Lambda::Function`, ...).
    #[serde(rename = "type")]
    pub kind: String,
}

/// One API call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// CloudTrail record format version.
    pub event_version: String,
    /// The caller.
    pub user_identity: UserIdentity,
    /// When the request arrived (`2024-01-01T00:00:00Z`).
    pub event_time: String,
    /// `lambda.amazonaws.com`, `iam.amazonaws.com`, ...
    pub event_source: String,
    /// The operation (`CreateFunction`).
    pub event_name: String,
    /// Region of the server.
    pub aws_region: String,
    /// Peer address of the client.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// The client's User-Agent.
    pub user_agent: String,
    /// Error code when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Error message when the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Request parameters with secrets redacted (`null` when none are recorded).
    pub request_parameters: Option<Value>,
    /// Response elements of mutating calls, secrets redacted (`null` otherwise).
    pub response_elements: Option<Value>,
    /// The request id sent back to the caller.
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// Unique id of this record.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Whether the call only read.
    pub read_only: bool,
    /// Resources the call named.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// `AwsApiCall`.
    pub event_type: String,
    /// Management events are every control-plane call.
    pub management_event: bool,
    /// The account the call was made in.
    pub recipient_account_id: String,
    /// `Management` or `Data` (Invoke).
    pub event_category: String,
}

impl AuditEvent {
    /// The resource type of an ARN (`AWS::Lambda::Function`, ...), as CloudTrail names it.
    pub fn resource_type(arn: &str) -> &'static str {
        let mut parts = arn.splitn(7, ':');
        let service = parts.nth(2).unwrap_or_default();
        let rest = arn.splitn(6, ':').nth(5).unwrap_or_default();
        match (service, rest.split([':', '/']).next().unwrap_or_default()) {
            ("lambda", "function") => "AWS::Lambda::Function",
            ("lambda", "layer") => "AWS::Lambda::LayerVersion",
            ("iam", "user") => "AWS::IAM::User",
            ("iam", "role") => "AWS::IAM::Role",
            ("iam", "policy") => "AWS::IAM::Policy",
            ("kms", "key") => "AWS::KMS::Key",
            ("kms", "alias") => "AWS::KMS::Alias",
            ("logs", _) => "AWS::Logs::LogGroup",
            _ => "AWS::Unknown",
        }
    }
}

/// Replace the values of secret-bearing keys anywhere in `value` with `"HIDDEN_DUE_TO_SECURITY_REASONS"`
/// (CloudTrail's wording), recursively.
pub fn redact(value: &mut Value) {
    const SECRET_KEYS: &[&str] = &[
        "ZipFile",
        "Variables",
        "Plaintext",
        "SecretAccessKey",
        "SessionToken",
        "Password",
        "Payload",
        "CiphertextBlob",
    ];
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if SECRET_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s)) {
                    *v = Value::String("HIDDEN_DUE_TO_SECURITY_REASONS".into());
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_nested_secrets() {
        let mut v = serde_json::json!({
            "FunctionName": "f",
            "Code": {"ZipFile": "UEsDB..."},
            "Environment": {"Variables": {"DB_PASSWORD": "hunter2"}},
            "list": [{"SecretAccessKey": "abc"}]
        });
        redact(&mut v);
        let s = v.to_string();
        assert!(!s.contains("hunter2") && !s.contains("UEsDB") && !s.contains("abc"));
        assert!(s.contains("\"FunctionName\":\"f\""));
    }

    #[test]
    fn resource_types() {
        assert_eq!(
            AuditEvent::resource_type("arn:aws:lambda:us-east-1:1:function:f:live"),
            "AWS::Lambda::Function"
        );
        assert_eq!(
            AuditEvent::resource_type("arn:aws:iam::1:role/r"),
            "AWS::IAM::Role"
        );
    }
}
