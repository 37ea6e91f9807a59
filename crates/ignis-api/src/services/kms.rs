//! The key service on the shared endpoint: AWS KMS's JSON 1.1 protocol (`X-Amz-Target:
//! TrentService.<Operation>`), wire-compatible with botocore's `kms` 2014-11-01 model for the
//! symmetric-key subset. The logic lives in [`ignis_store::kms::KeyService`]; this module reads the
//! request members, calls it with the caller's identity, and renders the output.

mod audit_hook;
mod lambda_keys;
mod wire;

use ignis_core::AwsError;
use ignis_store::kms::{self, CreateKeyInput, KeyUser};
use serde_json::{json, Value};

use crate::state::{Caller, SharedState};
pub use audit_hook::KeyUseAudit;
pub use lambda_keys::{check_function_key, lambda_error, KeyCheck};
use wire::*;

/// Largest Plaintext of Encrypt.
const MAX_PLAINTEXT: usize = 4096;
/// Largest CiphertextBlob of Decrypt.
const MAX_CIPHERTEXT: usize = 6144;

const KEY_USAGES: &[&str] = &[
    "SIGN_VERIFY",
    "ENCRYPT_DECRYPT",
    "GENERATE_VERIFY_MAC",
    "KEY_AGREEMENT",
    "ENCAPSULATE_DECAPSULATE",
];
const KEY_SPECS: &[&str] = &[
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "SYMMETRIC_DEFAULT",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "SM2",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "ECC_NIST_EDWARDS25519",
    "ML_KEM_512",
    "ML_KEM_768",
    "ML_KEM_1024",
];
const ALGORITHMS: &[&str] = &[
    "SYMMETRIC_DEFAULT",
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "SM2PKE",
];

/// Run `TrentService.<op>` with `input`.
pub async fn handle(
    state: &SharedState,
    caller: &Caller,
    op: &str,
    input: Value,
) -> Result<Value, AwsError> {
    let svc = &state.kms;
    let purpose = format!("kms:{op}");
    let user = KeyUser {
        caller: &caller.principal_arn,
        purpose: &purpose,
    };
    let out = match op {
        "CreateKey" => create_key(state, &input).await?,
        "DescribeKey" => {
            let key = svc
                .describe_key(key_id(&input, "KeyId")?)
                .await
                .map_err(aws_error)?;
            json!({ "KeyMetadata": key_metadata(&state.account, &key) })
        }
        "ListKeys" => {
            let page = svc
                .list_keys(limit(&input, 100)?, marker(&input)?)
                .await
                .map_err(aws_error)?;
            let keys: Vec<Value> = page
                .items
                .iter()
                .map(|(id, arn)| json!({ "KeyId": id, "KeyArn": arn }))
                .collect();
            paged("Keys", keys, page.next_marker)
        }
        "UpdateKeyDescription" => {
            let description =
                opt_str(&input, "Description")?.ok_or_else(|| missing("Description"))?;
            svc.update_key_description(key_id(&input, "KeyId")?, description)
                .await
                .map_err(aws_error)?;
            json!({})
        }
        "EnableKey" => {
            svc.enable_key(key_id(&input, "KeyId")?)
                .await
                .map_err(aws_error)?;
            json!({})
        }
        "DisableKey" => {
            svc.disable_key(key_id(&input, "KeyId")?)
                .await
                .map_err(aws_error)?;
            json!({})
        }
        "ScheduleKeyDeletion" => {
            let key = svc
                .schedule_key_deletion(
                    key_id(&input, "KeyId")?,
                    opt_int(&input, "PendingWindowInDays")?,
                )
                .await
                .map_err(aws_error)?;
            json!({
                "KeyId": key.arn,
                "DeletionDate": date(key.deletion_ms.unwrap_or_default()),
                "KeyState": key.state.as_str(),
                "PendingWindowInDays": key.pending_window_days,
            })
        }
        "CancelKeyDeletion" => {
            let key = svc
                .cancel_key_deletion(key_id(&input, "KeyId")?)
                .await
                .map_err(aws_error)?;
            json!({ "KeyId": key.arn })
        }
        "EnableKeyRotation" => {
            svc.enable_key_rotation(
                key_id(&input, "KeyId")?,
                opt_int(&input, "RotationPeriodInDays")?,
            )
            .await
            .map_err(aws_error)?;
            json!({})
        }
        "DisableKeyRotation" => {
            svc.disable_key_rotation(key_id(&input, "KeyId")?)
                .await
                .map_err(aws_error)?;
            json!({})
        }
        "GetKeyRotationStatus" => {
            let key = svc
                .get_key_rotation_status(key_id(&input, "KeyId")?)
                .await
                .map_err(aws_error)?;
            let mut out = json!({
                "KeyRotationEnabled": key.rotation_enabled,
                "KeyId": key.key_id,
            });
            if let (Some(p), Some(next)) = (key.rotation_period_days, key.next_rotation_ms) {
                out["RotationPeriodInDays"] = p.into();
                out["NextRotationDate"] = date(next);
            }
            out
        }
        "RotateKeyOnDemand" => {
            let key = svc
                .rotate_key_on_demand(key_id(&input, "KeyId")?)
                .await
                .map_err(aws_error)?;
            json!({ "KeyId": key.key_id })
        }
        "ListKeyRotations" => {
            let id = key_id(&input, "KeyId")?;
            let key = svc.describe_key(id).await.map_err(aws_error)?;
            let rotations: Vec<Value> = svc
                .list_key_rotations(id)
                .await
                .map_err(aws_error)?
                .iter()
                .map(|r| {
                    json!({
                        "KeyId": key.key_id,
                        "KeyMaterialId": kms::key_material_id(&key.key_id, r.version),
                        "RotationDate": date(r.created_ms),
                        "RotationType": r.rotation_type,
                    })
                })
                .collect();
            json!({ "Rotations": rotations, "Truncated": false })
        }
        "CreateAlias" => {
            svc.create_alias(alias_name(&input)?, key_id(&input, "TargetKeyId")?)
                .await
                .map_err(aws_error)?;
            json!({})
        }
        "UpdateAlias" => {
            svc.update_alias(alias_name(&input)?, key_id(&input, "TargetKeyId")?)
                .await
                .map_err(aws_error)?;
            json!({})
        }
        "DeleteAlias" => {
            svc.delete_alias(alias_name(&input)?)
                .await
                .map_err(aws_error)?;
            json!({})
        }
        "ListAliases" => {
            let key = match opt_str(&input, "KeyId")? {
                Some(_) => Some(key_id(&input, "KeyId")?),
                None => None,
            };
            let page = svc
                .list_aliases(key, limit(&input, 50)?, marker(&input)?)
                .await
                .map_err(aws_error)?;
            let aliases: Vec<Value> = page
                .items
                .iter()
                .map(|a| {
                    json!({
                        "AliasName": a.alias_name,
                        "AliasArn": svc.alias_arn(&a.alias_name),
                        "TargetKeyId": a.key_id,
                        "CreationDate": date(a.created_ms),
                        "LastUpdatedDate": date(a.updated_ms),
                    })
                })
                .collect();
            paged("Aliases", aliases, page.next_marker)
        }
        "GetKeyPolicy" => {
            let name = opt_str(&input, "PolicyName")?;
            let policy = svc
                .get_key_policy(key_id(&input, "KeyId")?, name)
                .await
                .map_err(aws_error)?;
            json!({ "Policy": policy, "PolicyName": name.unwrap_or("default") })
        }
        "PutKeyPolicy" => {
            let policy = req_str(&input, "Policy")?;
            svc.put_key_policy(
                key_id(&input, "KeyId")?,
                opt_str(&input, "PolicyName")?,
                policy,
            )
            .await
            .map_err(aws_error)?;
            json!({})
        }
        "ListKeyPolicies" => {
            svc.get_key_policy(key_id(&input, "KeyId")?, None)
                .await
                .map_err(aws_error)?;
            json!({ "PolicyNames": ["default"], "Truncated": false })
        }
        "TagResource" => {
            if input.get("Tags").is_none_or(Value::is_null) {
                return Err(missing("Tags"));
            }
            let tags = tag_list(&input)?;
            svc.tag_resource(key_id(&input, "KeyId")?, &tags)
                .await
                .map_err(aws_error)?;
            json!({})
        }
        "UntagResource" => {
            let keys = match input.get("TagKeys") {
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|k| {
                        k.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| missing("TagKeys"))
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err(missing("TagKeys")),
            };
            svc.untag_resource(key_id(&input, "KeyId")?, &keys)
                .await
                .map_err(aws_error)?;
            json!({})
        }
        "ListResourceTags" => {
            let tags = svc
                .list_resource_tags(key_id(&input, "KeyId")?)
                .await
                .map_err(aws_error)?;
            let tags: Vec<Value> = tags
                .iter()
                .map(|(k, v)| json!({ "TagKey": k, "TagValue": v }))
                .collect();
            json!({ "Tags": tags, "Truncated": false })
        }
        "ReEncrypt" => {
            let ciphertext = blob(&input, "CiphertextBlob", MAX_CIPHERTEXT)?;
            let src_ctx = context(&input, "SourceEncryptionContext")?;
            let dest_ctx = context(&input, "DestinationEncryptionContext")?;
            let src_key = match opt_str(&input, "SourceKeyId")? {
                Some(_) => Some(key_id(&input, "SourceKeyId")?),
                None => None,
            };
            let dest_key = key_id(&input, "DestinationKeyId")?;
            for field in [
                "SourceEncryptionAlgorithm",
                "DestinationEncryptionAlgorithm",
            ] {
                check_algorithm(&input, field)?;
            }
            dry_run(&input)?;
            let (new_blob, src_arn, dest_arn) = svc
                .re_encrypt(&ciphertext, &src_ctx, src_key, dest_key, &dest_ctx, user)
                .await
                .map_err(aws_error)?;
            let mut out = json!({
                "CiphertextBlob": b64(&new_blob),
                "SourceKeyId": src_arn,
                "KeyId": dest_arn,
                "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            });
            if let Ok(h) = ignis_crypto::keyring::parse_blob(&ciphertext) {
                out["SourceKeyMaterialId"] = kms::key_material_id(&h.key_id, h.version).into();
            }
            if let Ok(h) = ignis_crypto::keyring::parse_blob(&new_blob) {
                out["DestinationKeyMaterialId"] = kms::key_material_id(&h.key_id, h.version).into();
            }
            out
        }
        "Encrypt" => {
            let key = key_id(&input, "KeyId")?;
            let plaintext = blob(&input, "Plaintext", MAX_PLAINTEXT)?;
            let ctx = context(&input, "EncryptionContext")?;
            check_algorithm(&input, "EncryptionAlgorithm")?;
            dry_run(&input)?;
            let (ciphertext, arn) = svc
                .encrypt(key, &plaintext, &ctx, user)
                .await
                .map_err(aws_error)?;
            json!({
                "CiphertextBlob": b64(&ciphertext),
                "KeyId": arn,
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            })
        }
        "Decrypt" => {
            let ciphertext = blob(&input, "CiphertextBlob", MAX_CIPHERTEXT)?;
            let ctx = context(&input, "EncryptionContext")?;
            let key = match opt_str(&input, "KeyId")? {
                Some(_) => Some(key_id(&input, "KeyId")?),
                None => None,
            };
            check_algorithm(&input, "EncryptionAlgorithm")?;
            if input.get("Recipient").is_some_and(|r| !r.is_null()) {
                return Err(AwsError::other(
                    "UnsupportedOperationException",
                    400,
                    "Recipient (Nitro Enclaves attestation) is not supported.",
                ));
            }
            dry_run(&input)?;
            let (plaintext, arn) = svc
                .decrypt(&ciphertext, &ctx, key, user)
                .await
                .map_err(aws_error)?;
            let mut out = json!({
                "KeyId": arn,
                "Plaintext": b64(&plaintext),
                "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
            });
            if let Ok(h) = ignis_crypto::keyring::parse_blob(&ciphertext) {
                out["KeyMaterialId"] = kms::key_material_id(&h.key_id, h.version).into();
            }
            out
        }
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => {
            let with_plaintext = op == "GenerateDataKey";
            let key = key_id(&input, "KeyId")?;
            let ctx = context(&input, "EncryptionContext")?;
            let spec = opt_str(&input, "KeySpec")?;
            check_enum(spec, "KeySpec", &["AES_256", "AES_128"])?;
            let len =
                kms::data_key_len(opt_int(&input, "NumberOfBytes")?, spec).map_err(aws_error)?;
            if with_plaintext && input.get("Recipient").is_some_and(|r| !r.is_null()) {
                return Err(AwsError::other(
                    "UnsupportedOperationException",
                    400,
                    "Recipient (Nitro Enclaves attestation) is not supported.",
                ));
            }
            dry_run(&input)?;
            let dk = svc
                .generate_data_key(key, len, &ctx, with_plaintext, user)
                .await
                .map_err(aws_error)?;
            let mut out = json!({
                "CiphertextBlob": b64(&dk.key.ciphertext_blob),
                "KeyId": dk.key_arn,
            });
            if with_plaintext {
                out["Plaintext"] = b64(&dk.key.plaintext).into();
            }
            if let Ok(h) = ignis_crypto::keyring::parse_blob(&dk.key.ciphertext_blob) {
                out["KeyMaterialId"] = kms::key_material_id(&h.key_id, h.version).into();
            }
            out
        }
        _ => {
            return Err(AwsError::other(
                "UnknownOperationException",
                400,
                format!("Unknown operation TrentService.{op}"),
            ))
        }
    };
    Ok(out)
}

async fn create_key(state: &SharedState, input: &Value) -> Result<Value, AwsError> {
    let description = opt_str(input, "Description")?;
    let key_usage = opt_str(input, "KeyUsage")?;
    check_enum(key_usage, "KeyUsage", KEY_USAGES)?;
    let key_spec = opt_str(input, "KeySpec")?;
    check_enum(key_spec, "KeySpec", KEY_SPECS)?;
    let cmk_spec = opt_str(input, "CustomerMasterKeySpec")?;
    if key_spec.is_some() && cmk_spec.is_some() {
        return Err(AwsError::other(
            "ValidationException",
            400,
            "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec parameter is deprecated. Use KeySpec only.",
        ));
    }
    check_enum(cmk_spec, "CustomerMasterKeySpec", KEY_SPECS)?;
    let origin = opt_str(input, "Origin")?;
    check_enum(
        origin,
        "Origin",
        &["AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"],
    )?;
    if opt_bool(input, "MultiRegion")? == Some(true) {
        return Err(AwsError::other(
            "UnsupportedOperationException",
            400,
            "Multi-Region keys are not supported.",
        ));
    }
    if opt_str(input, "CustomKeyStoreId")?.is_some() {
        return Err(AwsError::other(
            "UnsupportedOperationException",
            400,
            "Custom key stores are not supported.",
        ));
    }
    let policy = opt_str(input, "Policy")?;
    let tags = tag_list(input)?;
    let key = state
        .kms
        .create_key(CreateKeyInput {
            description: description.map(str::to_string),
            key_usage: key_usage.map(str::to_string),
            key_spec: key_spec.or(cmk_spec).map(str::to_string),
            origin: origin.map(str::to_string),
            policy: policy.map(str::to_string),
            tags,
        })
        .await
        .map_err(aws_error)?;
    Ok(json!({ "KeyMetadata": key_metadata(&state.account, &key) }))
}

fn alias_name(input: &Value) -> Result<&str, AwsError> {
    let name = req_str(input, "AliasName")?;
    if name.len() > 256 {
        return Err(invalid(
            Some(name),
            "AliasName",
            "Member must have length less than or equal to 256",
        ));
    }
    Ok(name)
}

fn marker(input: &Value) -> Result<Option<&str>, AwsError> {
    let m = opt_str(input, "Marker")?;
    if let Some(m) = m {
        if m.is_empty() || m.len() > 1024 {
            return Err(invalid(
                Some(m),
                "Marker",
                "Member must have length between 1 and 1024",
            ));
        }
    }
    Ok(m)
}

fn paged(field: &str, items: Vec<Value>, next_marker: Option<String>) -> Value {
    let mut out = json!({ field: items, "Truncated": next_marker.is_some() });
    if let Some(m) = next_marker {
        out["NextMarker"] = m.into();
    }
    out
}

/// Only SYMMETRIC_DEFAULT works with symmetric keys.
fn check_algorithm(input: &Value, field: &str) -> Result<(), AwsError> {
    let alg = opt_str(input, field)?;
    check_enum(alg, field, ALGORITHMS)?;
    match alg {
        Some(a) if a != "SYMMETRIC_DEFAULT" => Err(AwsError::other(
            "InvalidKeyUsageException",
            400,
            format!("The encryption algorithm {a} is not supported for symmetric keys."),
        )),
        _ => Ok(()),
    }
}

/// `DryRun: true` stops before doing anything, as AWS does.
fn dry_run(input: &Value) -> Result<(), AwsError> {
    if opt_bool(input, "DryRun")? == Some(true) {
        return Err(AwsError::other(
            "DryRunOperationException",
            412,
            "The request would have succeeded, but the DryRun option is set.",
        ));
    }
    Ok(())
}

/// `Tags: [{TagKey, TagValue}]` (empty when absent).
fn tag_list(input: &Value) -> Result<Vec<(String, String)>, AwsError> {
    match input.get("Tags") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|t| {
                let k = t.get("TagKey").and_then(Value::as_str);
                let v = t.get("TagValue").and_then(Value::as_str);
                match (k, v) {
                    (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
                    (None, _) => Err(missing("TagKey")),
                    (_, None) => Err(missing("TagValue")),
                }
            })
            .collect(),
        Some(_) => Err(AwsError::other(
            "SerializationException",
            400,
            "Unexpected value type for member Tags",
        )),
    }
}
