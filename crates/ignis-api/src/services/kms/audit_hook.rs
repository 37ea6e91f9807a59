//! Key uses into the audit trail: a [`KeyUseObserver`] that records every use of a master key made
//! on behalf of another service (Lambda decrypting a function's environment or code, ...) as a
//! CloudTrail-shaped `kms.amazonaws.com` event with the key, caller, purpose and outcome. Uses made
//! by KMS API calls (`purpose` = `kms:<Operation>`) are skipped: the audit middleware already records
//! those requests, with their parameters and result.

use std::sync::Arc;

use ignis_audit::{AuditEvent, AuditTrail, Resource, UserIdentity};
use ignis_crypto::{KeyUse, KeyUseObserver};
use serde_json::json;

/// Records internal key uses in the audit trail.
#[derive(Debug)]
pub struct KeyUseAudit {
    trail: Arc<AuditTrail>,
    region: String,
    account: String,
}

impl KeyUseAudit {
    /// An observer writing to `trail` for the server's region and account.
    pub fn new(trail: Arc<AuditTrail>, region: &str, account: &str) -> Self {
        Self {
            trail,
            region: region.to_string(),
            account: account.to_string(),
        }
    }
}

/// The CloudTrail identity type of a caller ARN.
fn identity_type(caller: &str) -> &'static str {
    if caller.ends_with(".amazonaws.com") {
        "AWSService"
    } else if caller.ends_with(":root") {
        "Root"
    } else if caller.contains(":assumed-role/") {
        "AssumedRole"
    } else if caller.contains(":user/") {
        "IAMUser"
    } else {
        "Unknown"
    }
}

impl KeyUseObserver for KeyUseAudit {
    fn key_used(&self, e: &KeyUse<'_>) {
        if e.purpose.starts_with("kms:") {
            return;
        }
        let service = e
            .purpose
            .split_once(':')
            .map(|(s, _)| format!("{s}.amazonaws.com"))
            .unwrap_or_else(|| "ignis.internal".into());
        let id = || ignis_crypto::ids::uuid_v4().unwrap_or_default();
        let event = AuditEvent {
            event_version: "1.08".into(),
            user_identity: UserIdentity {
                kind: identity_type(e.caller).into(),
                arn: e.caller.to_string(),
                account_id: self.account.clone(),
                ..Default::default()
            },
            event_time: ignis_audit::now_rfc3339(),
            event_source: "kms.amazonaws.com".into(),
            event_name: e.operation.name().into(),
            aws_region: self.region.clone(),
            source_ip_address: service.clone(),
            user_agent: service,
            error_code: e.error_code.map(str::to_string),
            error_message: None,
            request_parameters: Some(json!({
                "keyId": e.key_arn,
                "encryptionContext": e.encryption_context,
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "purpose": e.purpose,
            })),
            response_elements: None,
            request_id: id(),
            event_id: id(),
            read_only: true,
            resources: e
                .key_arn
                .map(|arn| {
                    vec![Resource {
                        arn: arn.to_string(),
                        kind: "AWS::KMS::Key".into(),
                    }]
                })
                .unwrap_or_default(),
            event_type: "AwsApiCall".into(),
            management_event: true,
            recipient_account_id: self.account.clone(),
            event_category: "Management".into(),
        };
        self.trail.record(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_types() {
        assert_eq!(identity_type("lambda.amazonaws.com"), "AWSService");
        assert_eq!(identity_type("arn:aws:iam::000000000000:root"), "Root");
        assert_eq!(
            identity_type("arn:aws:sts::000000000000:assumed-role/r/s"),
            "AssumedRole"
        );
        assert_eq!(identity_type("arn:aws:iam::000000000000:user/u"), "IAMUser");
    }
}
