//! Aliases of the key service: `alias/<name>` pointing at one key; CreateAlias, UpdateAlias,
//! DeleteAlias and ListAliases with AWS's name rules.

use super::*;

impl KeyService {
    fn check_alias_name(name: &str) -> KmsResult<()> {
        if !name.starts_with("alias/") {
            return Err(KmsError::Validation(
                "Alias must start with the prefix \"alias/\". Please see \
                 https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
                    .into(),
            ));
        }
        if name.len() > 256 {
            return Err(KmsError::validation(
                name,
                "aliasName",
                "Member must have length less than or equal to 256",
            ));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'/' | b'_' | b'-'))
        {
            return Err(KmsError::validation(
                name,
                "aliasName",
                "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
            ));
        }
        if name.contains(':') || name == "alias/" {
            return Err(KmsError::Validation(format!(
                "{name} contains invalid characters for an alias"
            )));
        }
        Ok(())
    }

    /// The key an alias may point at: a key id or key ARN (not an alias), not pending deletion.
    async fn alias_target(&self, target: &str) -> KmsResult<KeyRecord> {
        if let KeyRef::Alias(_) = self.classify(target)? {
            return Err(KmsError::Validation(
                "Aliases must refer to keys. Not aliases".into(),
            ));
        }
        let key = self.resolve(target, false).await?;
        Self::not_pending(&key)?;
        Ok(key)
    }

    /// CreateAlias.
    pub async fn create_alias(&self, alias_name: &str, target: &str) -> KmsResult<()> {
        Self::check_alias_name(alias_name)?;
        if alias_name.starts_with("alias/aws/") {
            return Err(KmsError::NotAuthorized(String::new()));
        }
        let _w = self.writes.lock().await;
        if records::get_alias(&self.pool, alias_name).await?.is_some() {
            return Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                self.alias_arn(alias_name)
            )));
        }
        let key = self.alias_target(target).await?;
        let now = now_ms();
        let inserted = records::insert_alias(
            &self.pool,
            &AliasRecord {
                alias_name: alias_name.to_string(),
                key_id: key.key_id,
                created_ms: now,
                updated_ms: now,
            },
        )
        .await?;
        if !inserted {
            return Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                self.alias_arn(alias_name)
            )));
        }
        Ok(())
    }

    /// UpdateAlias: point an existing alias at another key.
    pub async fn update_alias(&self, alias_name: &str, target: &str) -> KmsResult<()> {
        Self::check_alias_name(alias_name)?;
        let _w = self.writes.lock().await;
        if records::get_alias(&self.pool, alias_name).await?.is_none() {
            return Err(self.alias_missing(alias_name));
        }
        let key = self.alias_target(target).await?;
        records::retarget_alias(&self.pool, alias_name, &key.key_id, now_ms()).await?;
        Ok(())
    }

    /// DeleteAlias.
    pub async fn delete_alias(&self, alias_name: &str) -> KmsResult<()> {
        Self::check_alias_name(alias_name)?;
        let _w = self.writes.lock().await;
        if !records::delete_alias(&self.pool, alias_name).await? {
            return Err(self.alias_missing(alias_name));
        }
        Ok(())
    }

    /// ListAliases, optionally of one key (id or ARN).
    pub async fn list_aliases(
        &self,
        key_ref: Option<&str>,
        limit: i64,
        marker: Option<&str>,
    ) -> KmsResult<Page<AliasRecord>> {
        self.purge_expired().await?;
        let key_id = match key_ref {
            Some(r) => Some(self.resolve(r, false).await?.key_id),
            None => None,
        };
        let after = match marker {
            None => "",
            Some(m) if m.starts_with("alias/") => m,
            Some(_) => return Err(KmsError::InvalidMarker("Invalid marker".into())),
        };
        let mut rows =
            records::list_aliases(&self.pool, key_id.as_deref(), after, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(0));
        let next_marker = if more {
            rows.last().map(|a| a.alias_name.clone())
        } else {
            None
        };
        Ok(Page {
            items: rows,
            next_marker,
        })
    }
}
