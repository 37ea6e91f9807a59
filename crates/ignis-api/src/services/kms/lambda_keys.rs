//! Lambda's view of a function's customer key (`KMSKeyArn`): the checks CreateFunction /
//! UpdateFunctionConfiguration make (Lambda creates a KMS grant there, so a missing, alias or
//! pending-deletion key is an InvalidParameterValueException naming the KMS error), and the errors an
//! invoke answers when the key cannot decrypt (`KMSNotFoundException`, `KMSDisabledException`,
//! `KMSInvalidStateException`, `KMSAccessDeniedException`, all 502 in Lambda's model).

use ignis_core::AwsError;
use ignis_store::kms::{KeyService, KeyState, KmsError};

/// When the key is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCheck {
    /// CreateFunction / UpdateFunctionConfiguration: the key must exist, be a key (not an alias)
    /// and not be pending deletion; a disabled key is accepted (as AWS accepts it, failing later).
    Configure,
    /// Invoke (decrypting the environment / code): the key must be Enabled.
    Invoke,
}

/// Check `kms_key_arn` (a function's `KMSKeyArn`; empty = the default key, always fine) against
/// the key service (`&state.kms`).
pub async fn check_function_key(
    kms: &KeyService,
    kms_key_arn: &str,
    phase: KeyCheck,
) -> Result<(), AwsError> {
    if kms_key_arn.is_empty() {
        return Ok(());
    }
    match phase {
        KeyCheck::Configure => configure_check(kms, kms_key_arn).await,
        KeyCheck::Invoke => {
            let key = kms
                .describe_key(kms_key_arn)
                .await
                .map_err(|e| lambda_error(&e))?;
            KeyService::check_usable(&key).map_err(|e| lambda_error(&e))
        }
    }
}

async fn configure_check(kms: &KeyService, arn: &str) -> Result<(), AwsError> {
    let grant_error = |code: &str, msg: &str| {
        AwsError::invalid(format!(
            "Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: {code} KMS Message: {msg}"
        ))
    };
    if arn.starts_with("alias/") || (arn.starts_with("arn:") && arn.contains(":alias/")) {
        return Err(grant_error(
            "InvalidArnException",
            "Key Aliases are not supported for this operation.",
        ));
    }
    match kms.describe_key(arn).await {
        Ok(key) if key.state == KeyState::PendingDeletion => Err(grant_error(
            "KMSInvalidStateException",
            &format!("{} is pending deletion.", key.arn),
        )),
        Ok(_) => Ok(()),
        Err(e) if e.is_internal() => {
            tracing::error!(error = %e, "key service failure");
            Err(AwsError::internal())
        }
        Err(e) => Err(grant_error(e.code(), &e.to_string())),
    }
}

/// The Lambda error for a key-service failure while a function's key decrypts at invoke time.
pub fn lambda_error(e: &KmsError) -> AwsError {
    let (code, why) = match e {
        KmsError::Disabled(_) => ("KMSDisabledException", "the KMS key used is disabled"),
        KmsError::InvalidState(_) => (
            "KMSInvalidStateException",
            "the KMS key used is in an invalid state for Decrypt",
        ),
        KmsError::NotFound(_) => ("KMSNotFoundException", "the KMS key was not found"),
        KmsError::Store(_) | KmsError::Crypto(_) => {
            tracing::error!(error = %e, "key service failure");
            return AwsError::internal();
        }
        _ => ("KMSAccessDeniedException", "KMS access was denied"),
    };
    AwsError::other(
        code,
        502,
        format!(
            "Lambda was unable to decrypt the environment variables because {why}. Please check the function's KMS key settings. KMS Exception: {}KMS Message: {e}",
            e.code()
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ignis_crypto::RootKey;
    use ignis_store::kms::CreateKeyInput;
    use ignis_store::MetaStore;

    use super::*;

    #[tokio::test]
    async fn configure_and_invoke_errors() {
        let dir = std::env::temp_dir().join(format!("ignis-lambda-kms-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let meta =
            MetaStore::open_sqlite(&dir.join("meta.db"), Arc::new(RootKey::generate().unwrap()))
                .await
                .unwrap();
        let kms = KeyService::new(&meta, "us-east-1", "000000000000");
        let key = kms.create_key(CreateKeyInput::default()).await.unwrap();
        kms.create_alias("alias/fn", &key.key_id).await.unwrap();

        assert!(check_function_key(&kms, "", KeyCheck::Invoke).await.is_ok());
        assert!(check_function_key(&kms, &key.arn, KeyCheck::Configure)
            .await
            .is_ok());
        assert!(check_function_key(&kms, &key.arn, KeyCheck::Invoke)
            .await
            .is_ok());

        let alias_arn = "arn:aws:kms:us-east-1:000000000000:alias/fn";
        let e = check_function_key(&kms, alias_arn, KeyCheck::Configure)
            .await
            .unwrap_err();
        assert_eq!(e.kind.code(), "InvalidParameterValueException");
        assert!(e.message.ends_with(
            "KMS Exception: InvalidArnException KMS Message: Key Aliases are not supported for this operation."
        ));
        let missing = "arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555";
        let e = check_function_key(&kms, missing, KeyCheck::Configure)
            .await
            .unwrap_err();
        assert_eq!(e.kind.status(), 400);
        assert!(e.message.contains(&format!(
            "KMS Exception: NotFoundException KMS Message: Key '{missing}' does not exist"
        )));
        let e = check_function_key(&kms, missing, KeyCheck::Invoke)
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind.code(), e.kind.status()),
            ("KMSNotFoundException", 502)
        );

        kms.disable_key(&key.key_id).await.unwrap();
        // Lambda accepts a disabled key at configuration time and fails at invoke.
        assert!(check_function_key(&kms, &key.arn, KeyCheck::Configure)
            .await
            .is_ok());
        let e = check_function_key(&kms, &key.arn, KeyCheck::Invoke)
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind.code(), e.kind.status()),
            ("KMSDisabledException", 502)
        );
        assert!(e.message.contains(&format!(
            "KMS Exception: DisabledExceptionKMS Message: {} is disabled.",
            key.arn
        )));

        kms.schedule_key_deletion(&key.key_id, Some(7))
            .await
            .unwrap();
        let e = check_function_key(&kms, &key.arn, KeyCheck::Configure)
            .await
            .unwrap_err();
        assert_eq!(e.kind.code(), "InvalidParameterValueException");
        assert!(e.message.contains("KMSInvalidStateException"));
        let e = check_function_key(&kms, &key.arn, KeyCheck::Invoke)
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind.code(), e.kind.status()),
            ("KMSInvalidStateException", 502)
        );

        // Decrypting a deleted key's ciphertext at invoke time is KMS access denied.
        let e = lambda_error(&KmsError::AccessDenied("The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.".into()));
        assert_eq!(
            (e.kind.code(), e.kind.status()),
            ("KMSAccessDeniedException", 502)
        );
        assert!(e.message.starts_with(
            "Lambda was unable to decrypt the environment variables because KMS access was denied."
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
