//! Who a caller is (account root, IAM user, assumed-role session) and what their identity-based
//! policies say, with the caches that keep authorization off the hot path: compiled identity
//! policies per principal and role ids per role (session revocation), both dropped on every IAM
//! write. Also mints STS sessions (AssumeRole and execution-role credentials, cached per role and
//! session name until shortly before expiry).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use ignis_core::policy::{Policy, PolicyKind};
use ignis_core::AwsError;
use ignis_store::iam::{IamRole, Owner, StsSession};
use ignis_store::{MetaStore, StoreResult};

use crate::state::AppState;

/// Execution-role credentials are minted this much longer than the validity asked for, so one
/// session serves the environments started within that margin.
const EXEC_SESSION_SLACK_S: i64 = 3600;

/// The kind of principal behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The account root (the admin key): always allowed.
    Root,
    /// An IAM user.
    User {
        /// User name.
        name: String,
        /// User ARN.
        arn: String,
    },
    /// An assumed-role session.
    Session {
        /// Role name.
        role_name: String,
        /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
        arn: String,
    },
    /// Anything else (no policies).
    Other(String),
}

/// Classify a principal ARN of `account`.
pub fn identity_of(account: &str, principal_arn: &str) -> Identity {
    if principal_arn == format!("arn:aws:iam::{account}:root") {
        return Identity::Root;
    }
    if let Some(rest) = principal_arn.strip_prefix(&format!("arn:aws:iam::{account}:user/")) {
        if let Some(name) = rest.rsplit('/').next().filter(|n| !n.is_empty()) {
            return Identity::User {
                name: name.to_string(),
                arn: principal_arn.to_string(),
            };
        }
    }
    if let Some(rest) = principal_arn.strip_prefix(&format!("arn:aws:sts::{account}:assumed-role/"))
    {
        if let Some((role, _session)) = rest.split_once('/') {
            return Identity::Session {
                role_name: role.to_string(),
                arn: principal_arn.to_string(),
            };
        }
    }
    Identity::Other(principal_arn.to_string())
}

/// What the caches keep of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    /// `AROA...`.
    pub role_id: String,
    /// Role ARN (with its path).
    pub arn: String,
}

/// Temporary credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCredentials {
    /// `ASIA...`.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token (sealed claims).
    pub session_token: String,
    /// Expiry, epoch seconds.
    pub expiration: i64,
    /// The assumed-role ARN.
    pub assumed_role_arn: String,
    /// `AROA...:SESSION`.
    pub assumed_role_id: String,
}

/// IAM state of the frontend.
#[derive(Debug, Default)]
pub struct IamState {
    strict_roles: AtomicBool,
    generation: AtomicU64,
    policies: RwLock<HashMap<String, Arc<Vec<Policy>>>>,
    roles: RwLock<HashMap<String, Option<RoleInfo>>>,
    exec: tokio::sync::Mutex<HashMap<(String, String), RoleCredentials>>,
}

impl IamState {
    /// `--strict-roles`: CreateFunction refuses roles Lambda cannot assume.
    pub fn set_strict_roles(&self, on: bool) {
        self.strict_roles.store(on, Ordering::Relaxed);
    }

    /// Whether `--strict-roles` is on.
    pub fn strict_roles(&self) -> bool {
        self.strict_roles.load(Ordering::Relaxed)
    }

    /// Drop every cached policy and role (after any IAM write).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut p) = self.policies.write() {
            p.clear();
        }
        if let Ok(mut r) = self.roles.write() {
            r.clear();
        }
        if let Ok(mut e) = self.exec.try_lock() {
            e.clear();
        }
    }

    /// The compiled identity-based policies of a principal (inline and attached).
    pub async fn identity_policies(
        &self,
        meta: &MetaStore,
        identity: &Identity,
    ) -> StoreResult<Arc<Vec<Policy>>> {
        let (owner, name, key) = match identity {
            Identity::User { name, arn } => (Owner::User, name, arn),
            Identity::Session { role_name, .. } => (Owner::Role, role_name, role_name),
            Identity::Root | Identity::Other(_) => return Ok(Arc::new(Vec::new())),
        };
        let key = format!("{owner:?}/{}", key.to_ascii_lowercase());
        if let Ok(cache) = self.policies.read() {
            if let Some(hit) = cache.get(&key) {
                return Ok(hit.clone());
            }
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let mut docs: Vec<String> = meta
            .iam_list_inline_policies(owner, name)
            .await?
            .into_iter()
            .map(|(_, d)| d)
            .collect();
        docs.extend(
            meta.iam_list_attached(owner, name)
                .await?
                .into_iter()
                .map(|(_, _, d)| d),
        );
        let compiled: Vec<Policy> = docs
            .iter()
            .filter_map(|d| match Policy::parse(d, PolicyKind::Identity) {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(error = %e, "stored identity policy does not parse; ignored");
                    None
                }
            })
            .collect();
        let compiled = Arc::new(compiled);
        if self.generation.load(Ordering::SeqCst) == generation {
            if let Ok(mut cache) = self.policies.write() {
                cache.insert(key, compiled.clone());
            }
        }
        Ok(compiled)
    }

    /// The id and ARN of a role, if it exists.
    pub async fn role(&self, meta: &MetaStore, name: &str) -> StoreResult<Option<RoleInfo>> {
        let key = name.to_ascii_lowercase();
        if let Ok(cache) = self.roles.read() {
            if let Some(hit) = cache.get(&key) {
                return Ok(hit.clone());
            }
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let info = meta.iam_get_role(name).await?.map(|r| RoleInfo {
            role_id: r.role_id,
            arn: r.arn,
        });
        if self.generation.load(Ordering::SeqCst) == generation {
            if let Ok(mut cache) = self.roles.write() {
                cache.insert(key, info.clone());
            }
        }
        Ok(info)
    }
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The role name of a role ARN of `account` (`arn:aws:iam::ACCOUNT:role/path/NAME`).
pub fn role_name_of_arn<'a>(account: &str, arn: &'a str) -> Option<&'a str> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (acct, rest) = rest.split_once(':')?;
    if acct != account {
        return None;
    }
    rest.strip_prefix("role/")?
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
}

/// Mint and record a session of `role` named `session_name` lasting `duration_s` seconds.
pub async fn mint_session(
    meta: &MetaStore,
    account: &str,
    role: &IamRole,
    session_name: &str,
    duration_s: i64,
) -> Result<RoleCredentials, AwsError> {
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "minting session credentials failed");
        AwsError::internal()
    };
    let key = ignis_crypto::ids::access_key_id().map_err(|e| internal(&e))?;
    let secret = ignis_crypto::ids::secret_access_key().map_err(|e| internal(&e))?;
    let session = StsSession {
        access_key_id: format!("ASIA{}", &key[4..]),
        secret_access_key: secret,
        expiration: now_secs() + duration_s,
        role_arn: role.arn.clone(),
        role_id: role.role_id.clone(),
        assumed_role_arn: format!(
            "arn:aws:sts::{account}:assumed-role/{}/{session_name}",
            role.role_name
        ),
        assumed_role_id: format!("{}:{session_name}", role.role_id),
    };
    let token = meta
        .sts_put_session(&session, &role.role_name)
        .await
        .map_err(|e| internal(&e))?;
    Ok(RoleCredentials {
        access_key_id: session.access_key_id,
        secret_access_key: session.secret_access_key,
        session_token: token,
        expiration: session.expiration,
        assumed_role_arn: session.assumed_role_arn,
        assumed_role_id: session.assumed_role_id,
    })
}

/// Temporary credentials of a function's execution role (session name = the function name, as
/// Lambda does), valid for at least `min_validity_s` seconds — pass the environment's maximum
/// lifetime, since environment variables cannot be refreshed inside a running environment.
/// Cached per role and function and reissued once the cached session would expire too early.
/// `None` when the role does not exist in IAM (functions may name roles that were never created).
pub async fn issue_role_credentials(
    state: &AppState,
    role_arn: &str,
    function_name: &str,
    min_validity_s: i64,
) -> Result<Option<RoleCredentials>, AwsError> {
    state
        .iam
        .role_credentials(
            &state.meta,
            &state.account,
            role_arn,
            function_name,
            min_validity_s,
        )
        .await
}

impl IamState {
    /// [`issue_role_credentials`] against an explicit store and account.
    pub async fn role_credentials(
        &self,
        meta: &MetaStore,
        account: &str,
        role_arn: &str,
        function_name: &str,
        min_validity_s: i64,
    ) -> Result<Option<RoleCredentials>, AwsError> {
        let Some(role_name) = role_name_of_arn(account, role_arn) else {
            return Ok(None);
        };
        let key = (role_arn.to_string(), function_name.to_string());
        let mut cache = self.exec.lock().await;
        if let Some(hit) = cache.get(&key) {
            if hit.expiration - now_secs() >= min_validity_s {
                return Ok(Some(hit.clone()));
            }
        }
        let role = meta.iam_get_role(role_name).await.map_err(|e| {
            tracing::error!(error = %e, "role lookup failed");
            AwsError::internal()
        })?;
        let Some(role) = role.filter(|r| r.arn == role_arn) else {
            cache.remove(&key);
            return Ok(None);
        };
        let duration = min_validity_s.max(0) + EXEC_SESSION_SLACK_S;
        let creds = mint_session(meta, account, &role, function_name, duration).await?;
        cache.insert(key, creds.clone());
        Ok(Some(creds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn execution_role_credentials_are_cached_and_sealed() {
        let dir = std::env::temp_dir().join(format!("ignis-identity-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = Arc::new(ignis_crypto::RootKey::generate().unwrap());
        let meta = MetaStore::open_sqlite(&dir.join("meta.db"), root)
            .await
            .unwrap();
        let a = "123456789012";
        let role_arn = format!("arn:aws:iam::{a}:role/exec");
        let iam = IamState::default();
        assert_eq!(
            iam.role_credentials(&meta, a, &role_arn, "f", 600)
                .await
                .unwrap(),
            None,
            "a role never created yields no credentials"
        );
        meta.iam_create_role(&IamRole {
            role_name: "exec".into(),
            role_id: "AROAEXEC".into(),
            path: "/".into(),
            arn: role_arn.clone(),
            create_date: "2024-01-01T00:00:00Z".into(),
            assume_role_policy_document: "{}".into(),
            description: None,
            max_session_duration: 3600,
        })
        .await
        .unwrap();
        let c1 = iam
            .role_credentials(&meta, a, &role_arn, "f", 14 * 3600)
            .await
            .unwrap()
            .unwrap();
        assert!(c1.access_key_id.starts_with("ASIA"));
        assert_eq!(
            c1.assumed_role_arn,
            format!("arn:aws:sts::{a}:assumed-role/exec/f")
        );
        assert_eq!(c1.assumed_role_id, "AROAEXEC:f");
        assert!(c1.expiration - now_secs() >= 14 * 3600);
        let c2 = iam
            .role_credentials(&meta, a, &role_arn, "f", 14 * 3600)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c1, c2, "cached while valid long enough");
        let c3 = iam
            .role_credentials(&meta, a, &role_arn, "g", 600)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(
            c1.access_key_id, c3.access_key_id,
            "one session per function"
        );
        let c4 = iam
            .role_credentials(&meta, a, &role_arn, "f", 20 * 3600)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(
            c1.access_key_id, c4.access_key_id,
            "reissued when too short"
        );
        let opened = meta.open_session_token(&c4.session_token).unwrap();
        assert_eq!(opened.access_key_id, c4.access_key_id);
        assert_eq!(opened.secret_access_key, c4.secret_access_key);
        meta.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn identities() {
        let a = "123456789012";
        assert_eq!(
            identity_of(a, "arn:aws:iam::123456789012:root"),
            Identity::Root
        );
        assert_eq!(
            identity_of(a, "arn:aws:iam::123456789012:user/div/bob"),
            Identity::User {
                name: "bob".into(),
                arn: "arn:aws:iam::123456789012:user/div/bob".into()
            }
        );
        assert_eq!(
            identity_of(a, "arn:aws:sts::123456789012:assumed-role/r/s"),
            Identity::Session {
                role_name: "r".into(),
                arn: "arn:aws:sts::123456789012:assumed-role/r/s".into()
            }
        );
        assert!(matches!(
            identity_of(a, "arn:aws:iam::999999999999:root"),
            Identity::Other(_)
        ));
        assert_eq!(
            role_name_of_arn(a, "arn:aws:iam::123456789012:role/svc/r1"),
            Some("r1")
        );
        assert_eq!(
            role_name_of_arn(a, "arn:aws:iam::999999999999:role/r1"),
            None
        );
        assert_eq!(
            role_name_of_arn(a, "arn:aws:iam::123456789012:user/r1"),
            None
        );
    }
}
