//! IAM and STS records in the metadata store: users, access keys (secrets sealed in the
//! `credentials` table under the root key), roles with their trust policy, inline user/role
//! policies, managed policies and their attachments, and STS sessions (secret sealed). Session
//! tokens are AEAD-sealed claims, so a request carrying one is verified without a database read.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::meta::MetaStore;
use crate::{StoreError, StoreResult};

/// Context bound into every sealed session token.
const TOKEN_CONTEXT: &[u8] = b"ignis-sts-session-token-v1";

/// An IAM user (`User` shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamUser {
    /// `UserName`.
    pub user_name: String,
    /// `UserId` (`AIDA...`).
    pub user_id: String,
    /// `Path`.
    pub path: String,
    /// `Arn`.
    pub arn: String,
    /// `CreateDate` (ISO 8601).
    pub create_date: String,
}

/// An IAM role (`Role` shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamRole {
    /// `RoleName`.
    pub role_name: String,
    /// `RoleId` (`AROA...`).
    pub role_id: String,
    /// `Path`.
    pub path: String,
    /// `Arn`.
    pub arn: String,
    /// `CreateDate`.
    pub create_date: String,
    /// The trust policy, as given.
    pub assume_role_policy_document: String,
    /// `Description`.
    pub description: Option<String>,
    /// `MaxSessionDuration` in seconds.
    pub max_session_duration: i64,
}

/// Metadata of a user's access key (`AccessKeyMetadata`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyMeta {
    /// `AccessKeyId`.
    pub access_key_id: String,
    /// `UserName`.
    pub user_name: String,
    /// `Active` / `Inactive`.
    pub status: String,
    /// `CreateDate`.
    pub create_date: String,
}

/// A customer managed policy (`Policy` shape) and its default version's document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// `PolicyName`.
    pub policy_name: String,
    /// `PolicyId` (`ANPA...`).
    pub policy_id: String,
    /// `Arn`.
    pub arn: String,
    /// `Path`.
    pub path: String,
    /// `DefaultVersionId`.
    pub default_version_id: String,
    /// `Description`.
    pub description: Option<String>,
    /// `CreateDate`.
    pub create_date: String,
    /// `UpdateDate`.
    pub update_date: String,
    /// Number of users and roles it is attached to (filled on read).
    #[serde(skip)]
    pub attachment_count: i64,
}

/// Who an inline policy or attachment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// An IAM user.
    User,
    /// An IAM role.
    Role,
}

impl Owner {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Role => "role",
        }
    }
}

/// An STS session: temporary credentials of an assumed role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsSession {
    /// `ASIA...`.
    #[serde(rename = "k")]
    pub access_key_id: String,
    /// The secret access key (sealed at rest).
    #[serde(rename = "s")]
    pub secret_access_key: String,
    /// Expiry, epoch seconds.
    #[serde(rename = "e")]
    pub expiration: i64,
    /// The role's ARN.
    #[serde(rename = "r")]
    pub role_arn: String,
    /// The role's id (`AROA...`): a role deleted and re-created does not honour old sessions.
    #[serde(rename = "ri")]
    pub role_id: String,
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    #[serde(rename = "a")]
    pub assumed_role_arn: String,
    /// `AROA...:SESSION`.
    #[serde(rename = "ai")]
    pub assumed_role_id: String,
}

fn to_json<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl MetaStore {
    // ---- users ----

    /// Create a user; `false` if one with that name (any case) exists.
    pub async fn iam_create_user(&self, user: &IamUser) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO iam_users (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&user.user_name)
        .bind(to_json(user)?)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A user by name (case-insensitive).
    pub async fn iam_get_user(&self, name: &str) -> StoreResult<Option<IamUser>> {
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM iam_users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        doc.as_deref().map(from_json).transpose()
    }

    /// All users, by name.
    pub async fn iam_list_users(&self) -> StoreResult<Vec<IamUser>> {
        let docs: Vec<String> = sqlx::query_scalar("SELECT doc FROM iam_users ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        docs.iter().map(|d| from_json(d)).collect()
    }

    /// Delete a user; `false` if absent.
    pub async fn iam_delete_user(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM iam_users WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    // ---- access keys ----

    /// Store a new access key of `user` (secret sealed, principal = the user's ARN).
    pub async fn iam_create_access_key(
        &self,
        key: &AccessKeyMeta,
        secret: &str,
        user_arn: &str,
    ) -> StoreResult<()> {
        let sealed = self
            .root
            .seal(secret.as_bytes(), key.access_key_id.as_bytes())?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO credentials (access_key_id, secret, principal) VALUES ($1, $2, $3)",
        )
        .bind(&key.access_key_id)
        .bind(sealed)
        .bind(user_arn)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO iam_access_keys (access_key_id, user_name, status, create_date) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&key.access_key_id)
        .bind(&key.user_name)
        .bind(&key.status)
        .bind(&key.create_date)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The access keys of a user, oldest first.
    pub async fn iam_list_access_keys(&self, user: &str) -> StoreResult<Vec<AccessKeyMeta>> {
        let rows = sqlx::query(
            "SELECT access_key_id, user_name, status, create_date FROM iam_access_keys \
             WHERE user_name = $1 ORDER BY create_date, access_key_id",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AccessKeyMeta {
                    access_key_id: r.try_get("access_key_id")?,
                    user_name: r.try_get("user_name")?,
                    status: r.try_get("status")?,
                    create_date: r.try_get("create_date")?,
                })
            })
            .collect()
    }

    /// The owner and status of an IAM user's access key (`None` for other keys).
    pub async fn iam_access_key_owner(
        &self,
        access_key_id: &str,
    ) -> StoreResult<Option<AccessKeyMeta>> {
        let row = sqlx::query(
            "SELECT user_name, status, create_date FROM iam_access_keys WHERE access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(AccessKeyMeta {
                access_key_id: access_key_id.to_string(),
                user_name: r.try_get("user_name")?,
                status: r.try_get("status")?,
                create_date: r.try_get("create_date")?,
            })
        })
        .transpose()
    }

    /// Delete a user's access key (and its sealed secret); `false` if the user has no such key.
    pub async fn iam_delete_access_key(
        &self,
        user: &str,
        access_key_id: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done =
            sqlx::query("DELETE FROM iam_access_keys WHERE access_key_id = $1 AND user_name = $2")
                .bind(access_key_id)
                .bind(user)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM credentials WHERE access_key_id = $1")
            .bind(access_key_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    // ---- roles ----

    /// Create a role; `false` if one with that name exists.
    pub async fn iam_create_role(&self, role: &IamRole) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO iam_roles (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&role.role_name)
        .bind(to_json(role)?)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A role by name.
    pub async fn iam_get_role(&self, name: &str) -> StoreResult<Option<IamRole>> {
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM iam_roles WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        doc.as_deref().map(from_json).transpose()
    }

    /// All roles, by name.
    pub async fn iam_list_roles(&self) -> StoreResult<Vec<IamRole>> {
        let docs: Vec<String> = sqlx::query_scalar("SELECT doc FROM iam_roles ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        docs.iter().map(|d| from_json(d)).collect()
    }

    /// Delete a role and its sessions; `false` if absent.
    pub async fn iam_delete_role(&self, name: &str) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM iam_roles WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sts_sessions WHERE role_name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    // ---- inline policies ----

    /// Create or replace an inline policy of a user or role.
    pub async fn iam_put_inline_policy(
        &self,
        owner: Owner,
        owner_name: &str,
        policy_name: &str,
        document: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO iam_inline_policies (kind, owner, policy_name, document) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, owner, policy_name) DO UPDATE SET document = excluded.document",
        )
        .bind(owner.as_str())
        .bind(owner_name)
        .bind(policy_name)
        .bind(document)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// An inline policy's (stored name, document).
    pub async fn iam_get_inline_policy(
        &self,
        owner: Owner,
        owner_name: &str,
        policy_name: &str,
    ) -> StoreResult<Option<(String, String)>> {
        let row = sqlx::query(
            "SELECT policy_name, document FROM iam_inline_policies \
             WHERE kind = $1 AND owner = $2 AND policy_name = $3",
        )
        .bind(owner.as_str())
        .bind(owner_name)
        .bind(policy_name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((r.try_get("policy_name")?, r.try_get("document")?)))
            .transpose()
    }

    /// All inline policies of an owner: (name, document), by name.
    pub async fn iam_list_inline_policies(
        &self,
        owner: Owner,
        owner_name: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT policy_name, document FROM iam_inline_policies \
             WHERE kind = $1 AND owner = $2 ORDER BY policy_name",
        )
        .bind(owner.as_str())
        .bind(owner_name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("policy_name")?, r.try_get("document")?)))
            .collect()
    }

    /// Delete an inline policy; `false` if absent.
    pub async fn iam_delete_inline_policy(
        &self,
        owner: Owner,
        owner_name: &str,
        policy_name: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM iam_inline_policies WHERE kind = $1 AND owner = $2 AND policy_name = $3",
        )
        .bind(owner.as_str())
        .bind(owner_name)
        .bind(policy_name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    // ---- managed policies and attachments ----

    /// Create a managed policy; `false` if its ARN exists.
    pub async fn iam_create_policy(
        &self,
        policy: &ManagedPolicy,
        document: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO iam_managed_policies (arn, doc, document) VALUES ($1, $2, $3) \
             ON CONFLICT (arn) DO NOTHING",
        )
        .bind(&policy.arn)
        .bind(to_json(policy)?)
        .bind(document)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A managed policy with its attachment count, and its document.
    pub async fn iam_get_policy(&self, arn: &str) -> StoreResult<Option<(ManagedPolicy, String)>> {
        let row = sqlx::query(
            "SELECT doc, document, \
             (SELECT COUNT(*) FROM iam_attachments a WHERE a.policy_arn = p.arn) AS n \
             FROM iam_managed_policies p WHERE arn = $1",
        )
        .bind(arn)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut policy: ManagedPolicy = from_json(&row.try_get::<String, _>("doc")?)?;
        policy.attachment_count = row.try_get("n")?;
        Ok(Some((policy, row.try_get("document")?)))
    }

    /// Attach a managed policy (idempotent).
    pub async fn iam_attach_policy(
        &self,
        owner: Owner,
        owner_name: &str,
        policy_arn: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO iam_attachments (kind, owner, policy_arn) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, owner, policy_arn) DO NOTHING",
        )
        .bind(owner.as_str())
        .bind(owner_name)
        .bind(policy_arn)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Detach a managed policy; `false` if it was not attached.
    pub async fn iam_detach_policy(
        &self,
        owner: Owner,
        owner_name: &str,
        policy_arn: &str,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM iam_attachments WHERE kind = $1 AND owner = $2 AND policy_arn = $3",
        )
        .bind(owner.as_str())
        .bind(owner_name)
        .bind(policy_arn)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The managed policies attached to an owner: (name, ARN, document), by name.
    pub async fn iam_list_attached(
        &self,
        owner: Owner,
        owner_name: &str,
    ) -> StoreResult<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT p.doc, p.document, p.arn FROM iam_attachments a \
             JOIN iam_managed_policies p ON p.arn = a.policy_arn \
             WHERE a.kind = $1 AND a.owner = $2 ORDER BY p.arn",
        )
        .bind(owner.as_str())
        .bind(owner_name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let p: ManagedPolicy = from_json(&r.try_get::<String, _>("doc")?)?;
                Ok((p.policy_name, r.try_get("arn")?, r.try_get("document")?))
            })
            .collect()
    }

    /// How many access keys, inline policies and attached policies an owner has (DeleteConflict).
    pub async fn iam_dependents(
        &self,
        owner: Owner,
        owner_name: &str,
    ) -> StoreResult<(i64, i64, i64)> {
        let keys: i64 = match owner {
            Owner::User => {
                sqlx::query_scalar("SELECT COUNT(*) FROM iam_access_keys WHERE user_name = $1")
                    .bind(owner_name)
                    .fetch_one(&self.pool)
                    .await?
            }
            Owner::Role => 0,
        };
        let inline: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM iam_inline_policies WHERE kind = $1 AND owner = $2",
        )
        .bind(owner.as_str())
        .bind(owner_name)
        .fetch_one(&self.pool)
        .await?;
        let attached: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM iam_attachments WHERE kind = $1 AND owner = $2",
        )
        .bind(owner.as_str())
        .bind(owner_name)
        .fetch_one(&self.pool)
        .await?;
        Ok((keys, inline, attached))
    }

    // ---- STS sessions ----

    /// Record a session (secret sealed) and return its session token: the sealed claims.
    pub async fn sts_put_session(
        &self,
        session: &StsSession,
        role_name: &str,
    ) -> StoreResult<String> {
        let sealed = self.root.seal(
            session.secret_access_key.as_bytes(),
            session.access_key_id.as_bytes(),
        )?;
        let mut public = session.clone();
        public.secret_access_key = String::new();
        sqlx::query(
            "INSERT INTO sts_sessions (access_key_id, secret, role_name, doc, expiration) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&session.access_key_id)
        .bind(sealed)
        .bind(role_name)
        .bind(to_json(&public)?)
        .bind(session.expiration)
        .execute(&self.pool)
        .await?;
        self.seal_session_token(session)
    }

    /// A recorded session with its secret.
    pub async fn sts_get_session(&self, access_key_id: &str) -> StoreResult<Option<StsSession>> {
        let row = sqlx::query("SELECT secret, doc FROM sts_sessions WHERE access_key_id = $1")
            .bind(access_key_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut session: StsSession = from_json(&row.try_get::<String, _>("doc")?)?;
        let sealed: Vec<u8> = row.try_get("secret")?;
        let secret = self.root.open(&sealed, access_key_id.as_bytes())?;
        session.secret_access_key =
            String::from_utf8(secret).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Some(session))
    }

    /// Forget sessions that expired before `now` (epoch seconds); returns how many.
    pub async fn sts_purge_expired(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sts_sessions WHERE expiration < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// The session token of `session`: its claims sealed under the root key, base64.
    pub fn seal_session_token(&self, session: &StsSession) -> StoreResult<String> {
        let sealed = self
            .root
            .seal(to_json(session)?.as_bytes(), TOKEN_CONTEXT)?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
    }

    /// The claims of a session token; `None` if it is not one this root key sealed (forged,
    /// altered or from another installation). Expiry is the caller's check.
    pub fn open_session_token(&self, token: &str) -> Option<StsSession> {
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .ok()?;
        let plain = self.root.open(&sealed, TOKEN_CONTEXT).ok()?;
        serde_json::from_slice(&plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ignis_crypto::RootKey;

    use super::*;

    async fn store(tag: &str) -> (MetaStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ignis-iam-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = Arc::new(RootKey::generate().unwrap());
        (
            MetaStore::open_sqlite(&dir.join("meta.db"), root)
                .await
                .unwrap(),
            dir,
        )
    }

    fn user(name: &str) -> IamUser {
        IamUser {
            user_name: name.into(),
            user_id: format!("AIDA{}", name.to_uppercase()),
            path: "/".into(),
            arn: format!("arn:aws:iam::123456789012:user/{name}"),
            create_date: "2024-01-01T00:00:00Z".into(),
        }
    }

    fn role(name: &str) -> IamRole {
        IamRole {
            role_name: name.into(),
            role_id: format!("AROA{}", name.to_uppercase()),
            path: "/".into(),
            arn: format!("arn:aws:iam::123456789012:role/{name}"),
            create_date: "2024-01-01T00:00:00Z".into(),
            assume_role_policy_document: "{}".into(),
            description: None,
            max_session_duration: 3600,
        }
    }

    #[tokio::test]
    async fn users_keys_and_policies() {
        let (s, dir) = store("users").await;
        assert!(s.iam_create_user(&user("bob")).await.unwrap());
        assert!(
            !s.iam_create_user(&user("BOB")).await.unwrap(),
            "names ignore case"
        );
        assert_eq!(
            s.iam_get_user("Bob").await.unwrap().unwrap().user_name,
            "bob"
        );
        assert!(s.iam_create_user(&user("alice")).await.unwrap());
        let names: Vec<_> = s
            .iam_list_users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.user_name)
            .collect();
        assert_eq!(names, ["alice", "bob"]);

        let key = AccessKeyMeta {
            access_key_id: "AKIAEXAMPLEKEY00001".into(),
            user_name: "bob".into(),
            status: "Active".into(),
            create_date: "2024-01-01T00:00:00Z".into(),
        };
        s.iam_create_access_key(&key, "top-secret-value-123", &user("bob").arn)
            .await
            .unwrap();
        assert_eq!(
            s.get_credential(&key.access_key_id).await.unwrap(),
            Some(("top-secret-value-123".into(), user("bob").arn))
        );
        assert_eq!(
            s.iam_list_access_keys("bob").await.unwrap(),
            vec![key.clone()]
        );
        assert_eq!(
            s.iam_access_key_owner(&key.access_key_id)
                .await
                .unwrap()
                .unwrap()
                .user_name,
            "bob"
        );
        assert_eq!(
            s.iam_dependents(Owner::User, "bob").await.unwrap(),
            (1, 0, 0)
        );
        assert!(!s
            .iam_delete_access_key("alice", &key.access_key_id)
            .await
            .unwrap());
        assert!(s
            .iam_delete_access_key("bob", &key.access_key_id)
            .await
            .unwrap());
        assert!(s
            .get_credential(&key.access_key_id)
            .await
            .unwrap()
            .is_none());

        s.iam_put_inline_policy(Owner::User, "bob", "p1", "{\"a\":1}")
            .await
            .unwrap();
        s.iam_put_inline_policy(Owner::User, "bob", "P1", "{\"a\":2}")
            .await
            .unwrap();
        assert_eq!(
            s.iam_get_inline_policy(Owner::User, "bob", "p1")
                .await
                .unwrap(),
            Some(("p1".into(), "{\"a\":2}".into()))
        );
        assert!(s
            .iam_get_inline_policy(Owner::Role, "bob", "p1")
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            s.iam_list_inline_policies(Owner::User, "bob")
                .await
                .unwrap()
                .len(),
            1
        );
        assert!(s
            .iam_delete_inline_policy(Owner::User, "bob", "p1")
            .await
            .unwrap());
        assert!(!s
            .iam_delete_inline_policy(Owner::User, "bob", "p1")
            .await
            .unwrap());

        let mp = ManagedPolicy {
            policy_name: "mp".into(),
            policy_id: "ANPAX".into(),
            arn: "arn:aws:iam::123456789012:policy/mp".into(),
            path: "/".into(),
            default_version_id: "v1".into(),
            description: None,
            create_date: "2024-01-01T00:00:00Z".into(),
            update_date: "2024-01-01T00:00:00Z".into(),
            attachment_count: 0,
        };
        assert!(s.iam_create_policy(&mp, "{\"doc\":1}").await.unwrap());
        assert!(!s.iam_create_policy(&mp, "{}").await.unwrap());
        s.iam_attach_policy(Owner::User, "bob", &mp.arn)
            .await
            .unwrap();
        s.iam_attach_policy(Owner::User, "bob", &mp.arn)
            .await
            .unwrap();
        let (got, doc) = s.iam_get_policy(&mp.arn).await.unwrap().unwrap();
        assert_eq!((got.attachment_count, doc.as_str()), (1, "{\"doc\":1}"));
        assert_eq!(
            s.iam_list_attached(Owner::User, "bob").await.unwrap(),
            vec![("mp".into(), mp.arn.clone(), "{\"doc\":1}".into())]
        );
        assert!(s
            .iam_detach_policy(Owner::User, "bob", &mp.arn)
            .await
            .unwrap());
        assert!(!s
            .iam_detach_policy(Owner::User, "bob", &mp.arn)
            .await
            .unwrap());
        assert!(s.iam_delete_user("bob").await.unwrap());
        assert!(!s.iam_delete_user("bob").await.unwrap());
        s.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn roles_and_sessions() {
        let (s, dir) = store("roles").await;
        assert!(s.iam_create_role(&role("worker")).await.unwrap());
        assert!(!s.iam_create_role(&role("Worker")).await.unwrap());
        assert_eq!(s.iam_list_roles().await.unwrap().len(), 1);
        let session = StsSession {
            access_key_id: "ASIAEXAMPLE000000001".into(),
            secret_access_key: "session-secret-xyz-0123456789".into(),
            expiration: 2_000_000_000,
            role_arn: role("worker").arn,
            role_id: role("worker").role_id,
            assumed_role_arn: "arn:aws:sts::123456789012:assumed-role/worker/s1".into(),
            assumed_role_id: "AROAWORKER:s1".into(),
        };
        let token = s.sts_put_session(&session, "worker").await.unwrap();
        assert!(!token.contains("session-secret"));
        assert_eq!(s.open_session_token(&token), Some(session.clone()));
        assert_eq!(
            s.sts_get_session(&session.access_key_id).await.unwrap(),
            Some(session.clone())
        );
        // A token altered in one character does not open.
        let mut forged = token.clone().into_bytes();
        forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
        assert!(s
            .open_session_token(&String::from_utf8(forged).unwrap())
            .is_none());
        assert!(s.open_session_token("not base64 !!").is_none());
        assert_eq!(s.sts_purge_expired(1_000).await.unwrap(), 0);
        assert!(s.iam_delete_role("worker").await.unwrap());
        assert!(s
            .sts_get_session(&session.access_key_id)
            .await
            .unwrap()
            .is_none());
        s.close().await;
        // Secrets never reach the database file in plaintext.
        for file in std::fs::read_dir(&dir).unwrap() {
            let Ok(bytes) = std::fs::read(file.unwrap().path()) else {
                continue;
            };
            assert!(!bytes.windows(14).any(|w| w == b"session-secret"));
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
