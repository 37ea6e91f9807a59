//! Key policies and tags of the key service: GetKeyPolicy / PutKeyPolicy / ListKeyPolicies (one
//! policy named `default`, AWS's default document until one is put) and TagResource /
//! UntagResource / ListResourceTags. Policies are stored, not evaluated: every caller of this
//! single-account server is authorized by IAM, not by key policies.

use super::*;

/// The only key policy name.
pub const POLICY_NAME: &str = "default";

impl KeyService {
    /// AWS's default key policy: the account root may do everything with the key.
    pub fn default_policy(&self) -> String {
        format!(
            "{{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {{\n    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n    \"Principal\" : {{\n      \"AWS\" : \"arn:aws:iam::{}:root\"\n    }},\n    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  }} ]\n}}",
            self.account
        )
    }

    pub(super) fn check_policy(policy: &str) -> KmsResult<()> {
        let doc: serde_json::Value = serde_json::from_str(policy)
            .map_err(|_| KmsError::MalformedPolicy("Policy contains invalid JSON.".into()))?;
        if !doc
            .get("Statement")
            .is_some_and(|s| s.is_array() || s.is_object())
        {
            return Err(KmsError::MalformedPolicy(
                "Policy is missing required element - 'Statement'.".into(),
            ));
        }
        Ok(())
    }

    fn check_policy_name(name: Option<&str>) -> KmsResult<()> {
        match name {
            None | Some(POLICY_NAME) => Ok(()),
            Some(other) => Err(KmsError::NotFound(format!(
                "No such policy exists: {other}"
            ))),
        }
    }

    pub(super) fn check_tags(tags: &[(String, String)]) -> KmsResult<Tags> {
        let mut out = Tags::new();
        for (k, v) in tags {
            if k.is_empty() || k.chars().count() > 128 {
                return Err(KmsError::validation(
                    k,
                    "tags.member.tagKey",
                    "Member must have length between 1 and 128",
                ));
            }
            if v.chars().count() > 256 {
                return Err(KmsError::validation(
                    v,
                    "tags.member.tagValue",
                    "Member must have length less than or equal to 256",
                ));
            }
            if k.starts_with("aws:") {
                return Err(KmsError::Tag(
                    "Tags beginning with aws: are reserved.".into(),
                ));
            }
            out.insert(k.clone(), v.clone());
        }
        Ok(out)
    }

    /// GetKeyPolicy.
    pub async fn get_key_policy(&self, key_ref: &str, name: Option<&str>) -> KmsResult<String> {
        let key = self.resolve(key_ref, false).await?;
        Self::check_policy_name(name)?;
        Ok(records::get_policy(&self.pool, &key.key_id)
            .await?
            .unwrap_or_else(|| self.default_policy()))
    }

    /// PutKeyPolicy.
    pub async fn put_key_policy(
        &self,
        key_ref: &str,
        name: Option<&str>,
        policy: &str,
    ) -> KmsResult<()> {
        Self::check_policy_name(name)?;
        Self::check_policy(policy)?;
        let _w = self.writes.lock().await;
        let key = self.resolve(key_ref, false).await?;
        Self::not_pending(&key)?;
        records::put_policy(&self.pool, &key.key_id, policy).await?;
        Ok(())
    }

    /// ListResourceTags.
    pub async fn list_resource_tags(&self, key_ref: &str) -> KmsResult<Tags> {
        let key = self.resolve(key_ref, false).await?;
        Ok(records::get_tags(&self.pool, &key.key_id).await?)
    }

    /// TagResource: add or overwrite tags.
    pub async fn tag_resource(&self, key_ref: &str, tags: &[(String, String)]) -> KmsResult<()> {
        let new = Self::check_tags(tags)?;
        let _w = self.writes.lock().await;
        let key = self.resolve(key_ref, false).await?;
        Self::not_pending(&key)?;
        let mut all = records::get_tags(&self.pool, &key.key_id).await?;
        all.extend(new);
        if all.len() > 50 {
            return Err(KmsError::Tag("A KMS key can have at most 50 tags.".into()));
        }
        records::put_tags(&self.pool, &key.key_id, &all).await?;
        Ok(())
    }

    /// UntagResource.
    pub async fn untag_resource(&self, key_ref: &str, tag_keys: &[String]) -> KmsResult<()> {
        let _w = self.writes.lock().await;
        let key = self.resolve(key_ref, false).await?;
        Self::not_pending(&key)?;
        let mut all = records::get_tags(&self.pool, &key.key_id).await?;
        for k in tag_keys {
            all.remove(k);
        }
        records::put_tags(&self.pool, &key.key_id, &all).await?;
        Ok(())
    }
}
