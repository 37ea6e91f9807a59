//! JSON 1.1 wire helpers of the key service: reading request members with AWS's validation and
//! serialization errors, and rendering `KeyMetadata`, dates and [`KmsError`]s.

use base64::Engine;
use ignis_core::AwsError;
use ignis_crypto::keyring::EncryptionContext;
use ignis_store::kms::{key_material_id, KeyRecord, KeyState, KmsError};
use serde_json::{json, Map, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `KeyId` → `keyId`: how validation messages name a member.
fn wire_name(field: &str) -> String {
    let mut c = field.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn serialization(field: &str) -> AwsError {
    AwsError::other(
        "SerializationException",
        400,
        format!("Unexpected value type for member {field}"),
    )
}

/// "Value null at 'x' failed to satisfy constraint: Member must not be null".
pub fn missing(field: &str) -> AwsError {
    AwsError::other(
        "ValidationException",
        400,
        format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            wire_name(field)
        ),
    )
}

/// A ValidationException of one member.
pub fn invalid(value: Option<&str>, field: &str, constraint: &str) -> AwsError {
    let value = value.map(|v| format!(" '{v}'")).unwrap_or_default();
    AwsError::other(
        "ValidationException",
        400,
        format!(
            "1 validation error detected: Value{value} at '{}' failed to satisfy constraint: {constraint}",
            wire_name(field)
        ),
    )
}

/// An optional string member.
pub fn opt_str<'a>(input: &'a Value, field: &str) -> Result<Option<&'a str>, AwsError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(serialization(field)),
    }
}

/// A required string member (KMS identifiers: length 1..=2048 unless told otherwise).
pub fn req_str<'a>(input: &'a Value, field: &str) -> Result<&'a str, AwsError> {
    let s = opt_str(input, field)?.ok_or_else(|| missing(field))?;
    if s.is_empty() {
        return Err(invalid(
            Some(s),
            field,
            "Member must have length greater than or equal to 1",
        ));
    }
    Ok(s)
}

/// A KeyId-like member: 1..=2048 characters.
pub fn key_id<'a>(input: &'a Value, field: &str) -> Result<&'a str, AwsError> {
    let s = req_str(input, field)?;
    if s.len() > 2048 {
        return Err(invalid(
            Some(s),
            field,
            "Member must have length less than or equal to 2048",
        ));
    }
    Ok(s)
}

/// An optional integer member.
pub fn opt_int(input: &Value, field: &str) -> Result<Option<i64>, AwsError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| serialization(field)),
        Some(_) => Err(serialization(field)),
    }
}

/// An optional boolean member.
pub fn opt_bool(input: &Value, field: &str) -> Result<Option<bool>, AwsError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(serialization(field)),
    }
}

/// A required blob member (base64 on the wire) with its length range; sensitive values are not
/// echoed in messages.
pub fn blob(input: &Value, field: &str, max: usize) -> Result<Vec<u8>, AwsError> {
    let text = opt_str(input, field)?.ok_or_else(|| missing(field))?;
    let bytes = B64.decode(text).map_err(|_| {
        AwsError::other(
            "SerializationException",
            400,
            format!("Invalid base64 in member {field}"),
        )
    })?;
    if bytes.is_empty() {
        return Err(invalid(
            None,
            field,
            "Member must have length greater than or equal to 1",
        ));
    }
    if bytes.len() > max {
        return Err(invalid(
            None,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(bytes)
}

/// The `EncryptionContext` map (string → string); empty when absent.
pub fn context(input: &Value, field: &str) -> Result<EncryptionContext, AwsError> {
    match input.get(field) {
        None | Some(Value::Null) => Ok(EncryptionContext::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(serialization(field)),
            })
            .collect(),
        Some(_) => Err(serialization(field)),
    }
}

/// A `Limit` member: 1..=1000, `default` when absent.
pub fn limit(input: &Value, default: i64) -> Result<i64, AwsError> {
    match opt_int(input, "Limit")? {
        None => Ok(default),
        Some(n) if n < 1 => Err(invalid(
            Some(&n.to_string()),
            "Limit",
            "Member must have value greater than or equal to 1",
        )),
        Some(n) if n > 1000 => Err(invalid(
            Some(&n.to_string()),
            "Limit",
            "Member must have value less than or equal to 1000",
        )),
        Some(n) => Ok(n),
    }
}

/// Check a member against its model enum.
pub fn check_enum(value: Option<&str>, field: &str, allowed: &[&str]) -> Result<(), AwsError> {
    match value {
        Some(v) if !allowed.contains(&v) => Err(invalid(
            Some(v),
            field,
            &format!(
                "Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

/// Base64 of bytes.
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// A timestamp in the JSON protocol's default format: epoch seconds.
pub fn date(ms: i64) -> Value {
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

/// `KeyMetadata` of a key.
pub fn key_metadata(account: &str, key: &KeyRecord) -> Value {
    let mut m = Map::new();
    m.insert("AWSAccountId".into(), account.into());
    m.insert("KeyId".into(), key.key_id.clone().into());
    m.insert("Arn".into(), key.arn.clone().into());
    m.insert("CreationDate".into(), date(key.created_ms));
    m.insert("Enabled".into(), (key.state == KeyState::Enabled).into());
    m.insert("Description".into(), key.description.clone().into());
    m.insert("KeyUsage".into(), key.key_usage.clone().into());
    m.insert("KeyState".into(), key.state.as_str().into());
    if let Some(d) = key.deletion_ms {
        m.insert("DeletionDate".into(), date(d));
    }
    if let Some(w) = key.pending_window_days {
        m.insert("PendingDeletionWindowInDays".into(), w.into());
    }
    m.insert("Origin".into(), "AWS_KMS".into());
    m.insert("KeyManager".into(), "CUSTOMER".into());
    m.insert("CustomerMasterKeySpec".into(), key.key_spec.clone().into());
    m.insert("KeySpec".into(), key.key_spec.clone().into());
    m.insert("EncryptionAlgorithms".into(), json!(["SYMMETRIC_DEFAULT"]));
    m.insert("MultiRegion".into(), false.into());
    m.insert(
        "CurrentKeyMaterialId".into(),
        key_material_id(&key.key_id, key.current_version).into(),
    );
    Value::Object(m)
}

/// The AWS error for a key-service error (internal faults are logged, not shown).
pub fn aws_error(e: KmsError) -> AwsError {
    if e.is_internal() {
        tracing::error!(error = %e, "key service failure");
        return AwsError::other(
            "KMSInternalException",
            500,
            "An internal error occurred. The request can be retried.",
        );
    }
    AwsError::other(e.code(), e.status(), e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_messages() {
        let v = json!({"KeyId": "", "Limit": 0, "Plaintext": "!!", "EncryptionContext": {"a": 1}});
        assert_eq!(
            req_str(&v, "KeyId").unwrap_err().message,
            "1 validation error detected: Value '' at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1"
        );
        assert_eq!(
            req_str(&v, "AliasName").unwrap_err().message,
            "1 validation error detected: Value null at 'aliasName' failed to satisfy constraint: Member must not be null"
        );
        assert_eq!(
            limit(&v, 100).unwrap_err().kind.code(),
            "ValidationException"
        );
        assert_eq!(
            blob(&v, "Plaintext", 4096).unwrap_err().kind.code(),
            "SerializationException"
        );
        assert!(context(&v, "EncryptionContext").is_err());
        assert_eq!(date(1_700_000_000_000), json!(1_700_000_000));
        assert_eq!(date(1_700_000_000_250), json!(1_700_000_000.25));
    }
}
