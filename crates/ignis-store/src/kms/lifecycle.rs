//! Key lifecycle of the key service: CreateKey, DescribeKey, ListKeys, enable/disable, scheduled
//! deletion and its cancellation, and rotation (automatic and on demand; old material versions stay).

use super::*;

impl KeyService {
    /// CreateKey: a new enabled symmetric key with fresh material.
    pub async fn create_key(&self, input: CreateKeyInput) -> KmsResult<KeyRecord> {
        let description = input.description.unwrap_or_default();
        if description.chars().count() > 8192 {
            return Err(KmsError::validation(
                &description,
                "description",
                "Member must have length less than or equal to 8192",
            ));
        }
        let key_usage = input.key_usage.unwrap_or_else(|| KEY_USAGE.to_string());
        if key_usage != KEY_USAGE {
            return Err(KmsError::Unsupported(format!(
                "KeyUsage {key_usage} is not supported; only ENCRYPT_DECRYPT (symmetric) keys are."
            )));
        }
        let key_spec = input.key_spec.unwrap_or_else(|| KEY_SPEC.to_string());
        if key_spec != KEY_SPEC {
            return Err(KmsError::Unsupported(format!(
                "KeySpec {key_spec} is not supported; only SYMMETRIC_DEFAULT keys are."
            )));
        }
        if let Some(origin) = input.origin.filter(|o| o != "AWS_KMS") {
            return Err(KmsError::Unsupported(format!(
                "Origin {origin} is not supported; only AWS_KMS is."
            )));
        }
        let tags = Self::check_tags(&input.tags)?;
        if let Some(policy) = &input.policy {
            Self::check_policy(policy)?;
        }
        let key_id = ignis_crypto::ids::uuid_v4().map_err(Self::crypto)?;
        let sealed = self
            .keyring
            .new_material(&key_id, 1)
            .map_err(Self::crypto)?;
        let key = KeyRecord {
            arn: self.key_arn(&key_id),
            key_id,
            description,
            state: KeyState::Enabled,
            key_usage,
            key_spec,
            created_ms: now_ms(),
            deletion_ms: None,
            pending_window_days: None,
            rotation_enabled: false,
            rotation_period_days: None,
            next_rotation_ms: None,
            current_version: 1,
        };
        let _w = self.writes.lock().await;
        records::insert_key(&self.pool, &key, &sealed, input.policy.as_deref(), &tags).await?;
        Ok(key)
    }

    /// DescribeKey (accepts aliases).
    pub async fn describe_key(&self, key_ref: &str) -> KmsResult<KeyRecord> {
        self.resolve(key_ref, true).await
    }

    /// ListKeys: `limit` keys (id, arn) after `marker`.
    pub async fn list_keys(
        &self,
        limit: i64,
        marker: Option<&str>,
    ) -> KmsResult<Page<(String, String)>> {
        self.purge_expired().await?;
        let after = match marker {
            None => 0,
            Some(m) => m
                .strip_prefix("k")
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| KmsError::InvalidMarker("Invalid marker".into()))?,
        };
        let mut rows = records::list_keys(&self.pool, after, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_marker = if more {
            rows.last().map(|(_, _, seq)| format!("k{seq}"))
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|(id, arn, _)| (id, arn)).collect(),
            next_marker,
        })
    }

    /// Delete every key whose deletion date has passed.
    pub async fn purge_expired(&self) -> KmsResult<()> {
        for key_id in records::expired_keys(&self.pool, now_ms()).await? {
            let _w = self.writes.lock().await;
            self.delete_key(&key_id).await?;
        }
        Ok(())
    }

    /// UpdateKeyDescription.
    pub async fn update_key_description(&self, key_ref: &str, description: &str) -> KmsResult<()> {
        let _w = self.writes.lock().await;
        let mut key = self.resolve(key_ref, false).await?;
        Self::not_pending(&key)?;
        key.description = description.to_string();
        records::update_key(&self.pool, &key).await?;
        Ok(())
    }

    /// EnableKey.
    pub async fn enable_key(&self, key_ref: &str) -> KmsResult<()> {
        self.set_enabled(key_ref, true).await
    }

    /// DisableKey.
    pub async fn disable_key(&self, key_ref: &str) -> KmsResult<()> {
        self.set_enabled(key_ref, false).await
    }

    async fn set_enabled(&self, key_ref: &str, enabled: bool) -> KmsResult<()> {
        let _w = self.writes.lock().await;
        let mut key = self.resolve(key_ref, false).await?;
        Self::not_pending(&key)?;
        key.state = if enabled {
            KeyState::Enabled
        } else {
            KeyState::Disabled
        };
        records::update_key(&self.pool, &key).await?;
        Ok(())
    }

    /// ScheduleKeyDeletion: the key becomes PendingDeletion for `days` (7–30, default 30).
    pub async fn schedule_key_deletion(
        &self,
        key_ref: &str,
        days: Option<i64>,
    ) -> KmsResult<KeyRecord> {
        let days = days.unwrap_or(DEFAULT_PENDING_WINDOW_DAYS);
        if days < 7 {
            return Err(KmsError::validation(
                &days.to_string(),
                "pendingWindowInDays",
                "Member must have value greater than or equal to 7",
            ));
        }
        if days > 30 {
            return Err(KmsError::validation(
                &days.to_string(),
                "pendingWindowInDays",
                "Member must have value less than or equal to 30",
            ));
        }
        let _w = self.writes.lock().await;
        let mut key = self.resolve(key_ref, false).await?;
        Self::not_pending(&key)?;
        key.state = KeyState::PendingDeletion;
        key.deletion_ms = Some(now_ms() + days * DAY_MS);
        key.pending_window_days = Some(days);
        records::update_key(&self.pool, &key).await?;
        Ok(key)
    }

    /// CancelKeyDeletion: the key goes back to Disabled (as in AWS).
    pub async fn cancel_key_deletion(&self, key_ref: &str) -> KmsResult<KeyRecord> {
        let _w = self.writes.lock().await;
        let mut key = self.resolve(key_ref, false).await?;
        if key.state != KeyState::PendingDeletion {
            return Err(KmsError::InvalidState(format!(
                "{} is not pending deletion.",
                key.arn
            )));
        }
        key.state = KeyState::Disabled;
        key.deletion_ms = None;
        key.pending_window_days = None;
        records::update_key(&self.pool, &key).await?;
        Ok(key)
    }

    // ---- rotation ----

    /// EnableKeyRotation (period 90–2560 days, default 365).
    pub async fn enable_key_rotation(&self, key_ref: &str, period: Option<i64>) -> KmsResult<()> {
        let period = period.unwrap_or(DEFAULT_ROTATION_PERIOD_DAYS);
        if !(90..=2560).contains(&period) {
            let constraint = if period < 90 {
                "Member must have value greater than or equal to 90"
            } else {
                "Member must have value less than or equal to 2560"
            };
            return Err(KmsError::validation(
                &period.to_string(),
                "rotationPeriodInDays",
                constraint,
            ));
        }
        let _w = self.writes.lock().await;
        let mut key = self.resolve(key_ref, false).await?;
        Self::check_usable(&key)?;
        key.rotation_enabled = true;
        key.rotation_period_days = Some(period);
        key.next_rotation_ms = Some(now_ms() + period * DAY_MS);
        records::update_key(&self.pool, &key).await?;
        Ok(())
    }

    /// DisableKeyRotation.
    pub async fn disable_key_rotation(&self, key_ref: &str) -> KmsResult<()> {
        let _w = self.writes.lock().await;
        let mut key = self.resolve(key_ref, false).await?;
        Self::check_usable(&key)?;
        key.rotation_enabled = false;
        key.rotation_period_days = None;
        key.next_rotation_ms = None;
        records::update_key(&self.pool, &key).await?;
        Ok(())
    }

    /// GetKeyRotationStatus.
    pub async fn get_key_rotation_status(&self, key_ref: &str) -> KmsResult<KeyRecord> {
        let key = self.resolve(key_ref, false).await?;
        Self::not_pending(&key)?;
        Ok(key)
    }

    /// RotateKeyOnDemand: new material version, used for every new ciphertext from now on; older
    /// versions stay to decrypt older ciphertexts.
    pub async fn rotate_key_on_demand(&self, key_ref: &str) -> KmsResult<KeyRecord> {
        let _w = self.writes.lock().await;
        let key = self.resolve(key_ref, false).await?;
        Self::check_usable(&key)?;
        self.add_version(&key, "ON_DEMAND", None).await?;
        self.load(&key.key_id).await
    }

    /// ListKeyRotations.
    pub async fn list_key_rotations(&self, key_ref: &str) -> KmsResult<Vec<RotationRecord>> {
        let key = self.resolve(key_ref, false).await?;
        Self::not_pending(&key)?;
        Ok(records::list_rotations(&self.pool, &key.key_id).await?)
    }

    async fn add_version(
        &self,
        key: &KeyRecord,
        rotation_type: &str,
        next_rotation_ms: Option<i64>,
    ) -> KmsResult<u32> {
        let version = key
            .current_version
            .checked_add(1)
            .ok_or_else(|| KmsError::Unsupported("Too many rotations.".into()))?;
        let sealed = self
            .keyring
            .new_material(&key.key_id, version)
            .map_err(Self::crypto)?;
        records::add_version(
            &self.pool,
            &key.key_id,
            version,
            &sealed,
            now_ms(),
            rotation_type,
            next_rotation_ms,
        )
        .await?;
        Ok(version)
    }

    /// Rotate automatically if the key's rotation date has passed; returns the fresh record.
    pub(super) async fn rotate_if_due(&self, key: KeyRecord) -> KmsResult<KeyRecord> {
        let due = key.rotation_enabled && key.next_rotation_ms.is_some_and(|t| t <= now_ms());
        if !due {
            return Ok(key);
        }
        let _w = self.writes.lock().await;
        let key = self.load(&key.key_id).await?;
        if key.rotation_enabled && key.next_rotation_ms.is_some_and(|t| t <= now_ms()) {
            let period = key
                .rotation_period_days
                .unwrap_or(DEFAULT_ROTATION_PERIOD_DAYS);
            self.add_version(&key, "AUTOMATIC", Some(now_ms() + period * DAY_MS))
                .await?;
            return self.load(&key.key_id).await;
        }
        Ok(key)
    }
}
