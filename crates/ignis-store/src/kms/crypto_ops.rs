//! Cryptographic operations of the key service (Encrypt, Decrypt, GenerateDataKey[WithoutPlaintext])
//! with AWS's key-state checks, each reported to the key-use observer.

use super::*;

impl KeyService {
    fn report(
        &self,
        operation: KeyOperation,
        user: KeyUser<'_>,
        ctx: &EncryptionContext,
        key: Option<&KeyRecord>,
        error: Option<&KmsError>,
    ) {
        self.keyring.notify(&KeyUse {
            key_id: key.map(|k| k.key_id.as_str()),
            key_arn: key.map(|k| k.arn.as_str()),
            caller: user.caller,
            purpose: user.purpose,
            operation,
            encryption_context: ctx,
            error_code: error.map(KmsError::code),
        });
    }

    /// The key for a new ciphertext (resolved, usable, rotated if due) and its current material.
    async fn key_for_encrypt(
        &self,
        key_ref: &str,
        seen: &mut Option<KeyRecord>,
    ) -> KmsResult<(KeyRecord, Arc<Vec<u8>>)> {
        let key = self.resolve(key_ref, true).await?;
        *seen = Some(key.clone());
        Self::check_usable(&key)?;
        let key = self.rotate_if_due(key).await?;
        let sealed = self
            .material(&key.key_id, key.current_version)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "key {} lacks material version {}",
                    key.key_id, key.current_version
                ))
            })?;
        Ok((key, sealed))
    }

    /// Encrypt: `plaintext` under the key's current material; returns the blob and the key ARN.
    pub async fn encrypt(
        &self,
        key_ref: &str,
        plaintext: &[u8],
        ctx: &EncryptionContext,
        user: KeyUser<'_>,
    ) -> KmsResult<(Vec<u8>, String)> {
        let mut seen = None;
        let result = self.encrypt_inner(key_ref, plaintext, ctx, &mut seen).await;
        self.report(
            KeyOperation::Encrypt,
            user,
            ctx,
            seen.as_ref(),
            result.as_ref().err(),
        );
        result
    }

    async fn encrypt_inner(
        &self,
        key_ref: &str,
        plaintext: &[u8],
        ctx: &EncryptionContext,
        seen: &mut Option<KeyRecord>,
    ) -> KmsResult<(Vec<u8>, String)> {
        let (key, sealed) = self.key_for_encrypt(key_ref, seen).await?;
        let v = SealedVersion {
            key_id: &key.key_id,
            version: key.current_version,
            sealed: &sealed,
        };
        let blob = self
            .keyring
            .encrypt(&v, plaintext, ctx)
            .map_err(Self::crypto)?;
        Ok((blob, key.arn))
    }

    /// ReEncrypt: open `blob` (its own key, `src_ctx`; `src_ref` must name that key when given) and
    /// seal the plaintext under `dest_ref` with `dest_ctx`, never returning it. Returns the new blob,
    /// the source key ARN and the destination key ARN. Reported once per key.
    #[allow(clippy::too_many_arguments)]
    pub async fn re_encrypt(
        &self,
        blob: &[u8],
        src_ctx: &EncryptionContext,
        src_ref: Option<&str>,
        dest_ref: &str,
        dest_ctx: &EncryptionContext,
        user: KeyUser<'_>,
    ) -> KmsResult<(Vec<u8>, String, String)> {
        let mut seen = None;
        let opened = self.decrypt_inner(blob, src_ctx, src_ref, &mut seen).await;
        self.report(
            KeyOperation::ReEncrypt,
            user,
            src_ctx,
            seen.as_ref(),
            opened.as_ref().err(),
        );
        let (plaintext, src_arn) = opened?;
        let mut seen = None;
        let sealed = self
            .encrypt_inner(dest_ref, &plaintext, dest_ctx, &mut seen)
            .await;
        self.report(
            KeyOperation::ReEncrypt,
            user,
            dest_ctx,
            seen.as_ref(),
            sealed.as_ref().err(),
        );
        let (new_blob, dest_arn) = sealed?;
        Ok((new_blob, src_arn, dest_arn))
    }

    /// GenerateDataKey (`with_plaintext`) or GenerateDataKeyWithoutPlaintext: `len` random bytes.
    pub async fn generate_data_key(
        &self,
        key_ref: &str,
        len: usize,
        ctx: &EncryptionContext,
        with_plaintext: bool,
        user: KeyUser<'_>,
    ) -> KmsResult<GeneratedDataKey> {
        let mut seen = None;
        let result = async {
            let (key, sealed) = self.key_for_encrypt(key_ref, &mut seen).await?;
            let v = SealedVersion {
                key_id: &key.key_id,
                version: key.current_version,
                sealed: &sealed,
            };
            let dk = self
                .keyring
                .generate_data_key(&v, len, ctx)
                .map_err(Self::crypto)?;
            Ok(GeneratedDataKey {
                key: dk,
                key_arn: key.arn,
            })
        }
        .await;
        let op = if with_plaintext {
            KeyOperation::GenerateDataKey
        } else {
            KeyOperation::GenerateDataKeyWithoutPlaintext
        };
        self.report(op, user, ctx, seen.as_ref(), result.as_ref().err());
        result
    }

    /// Decrypt: the key and material version come from the blob; `key_ref`, when given, must name
    /// the same key. Returns the plaintext and the key ARN.
    pub async fn decrypt(
        &self,
        blob: &[u8],
        ctx: &EncryptionContext,
        key_ref: Option<&str>,
        user: KeyUser<'_>,
    ) -> KmsResult<(Vec<u8>, String)> {
        let mut seen = None;
        let result = self.decrypt_inner(blob, ctx, key_ref, &mut seen).await;
        self.report(
            KeyOperation::Decrypt,
            user,
            ctx,
            seen.as_ref(),
            result.as_ref().err(),
        );
        result
    }

    async fn decrypt_inner(
        &self,
        blob: &[u8],
        ctx: &EncryptionContext,
        key_ref: Option<&str>,
        seen: &mut Option<KeyRecord>,
    ) -> KmsResult<(Vec<u8>, String)> {
        let header = parse_blob(blob).map_err(|_| KmsError::InvalidCiphertext)?;
        let requested = match key_ref {
            Some(r) => Some(self.resolve(r, true).await?),
            None => None,
        };
        if let Some(req) = &requested {
            if req.key_id != header.key_id {
                *seen = requested.clone();
                return Err(KmsError::IncorrectKey);
            }
        }
        let key = match requested {
            Some(k) => k,
            None => match self.load(&header.key_id).await {
                Ok(k) => k,
                Err(KmsError::NotFound(_)) => {
                    return Err(KmsError::AccessDenied(
                        "The ciphertext refers to a customer master key that does not exist, \
                         does not exist in this region, or you are not allowed to access."
                            .into(),
                    ))
                }
                Err(e) => return Err(e),
            },
        };
        *seen = Some(key.clone());
        Self::check_usable(&key)?;
        let sealed = self
            .material(&key.key_id, header.version)
            .await?
            .ok_or(KmsError::InvalidCiphertext)?;
        let v = SealedVersion {
            key_id: &key.key_id,
            version: header.version,
            sealed: &sealed,
        };
        let plaintext = self
            .keyring
            .decrypt(&v, blob, ctx)
            .map_err(|_| KmsError::InvalidCiphertext)?;
        Ok((plaintext, key.arn))
    }
}

/// The `KeyMaterialId` of a key's material version (64 hex characters, stable, not secret).
pub fn key_material_id(key_id: &str, version: u32) -> String {
    ignis_crypto::sha256_hex(format!("ignis-kms-material-id\0{key_id}\0{version}").as_bytes())
}

/// The data-key length of GenerateDataKey: exactly one of NumberOfBytes (1–1024) or KeySpec
/// (`AES_256` = 32, `AES_128` = 16).
pub fn data_key_len(number_of_bytes: Option<i64>, key_spec: Option<&str>) -> KmsResult<usize> {
    match (number_of_bytes, key_spec) {
        (Some(_), Some(_)) | (None, None) => Err(KmsError::Validation(
            "Please specify either number of bytes or key spec.".into(),
        )),
        (Some(n), None) => {
            if n < 1 {
                Err(KmsError::validation(
                    &n.to_string(),
                    "numberOfBytes",
                    "Member must have value greater than or equal to 1",
                ))
            } else if n > 1024 {
                Err(KmsError::validation(
                    &n.to_string(),
                    "numberOfBytes",
                    "Member must have value less than or equal to 1024",
                ))
            } else {
                usize::try_from(n).map_err(|_| KmsError::Validation("numberOfBytes".into()))
            }
        }
        (None, Some("AES_256")) => Ok(32),
        (None, Some("AES_128")) => Ok(16),
        (None, Some(other)) => Err(KmsError::validation(
            other,
            "keySpec",
            "Member must satisfy enum value set: [AES_256, AES_128]",
        )),
    }
}
