//! Shared state of the HTTP frontend.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use ignis_invoke::InvokeService;
use ignis_store::{ArtifactStore, MetaStore};

/// Identity of an authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Access key used to sign the request.
    pub access_key_id: String,
    /// Principal ARN (the account root for the admin key).
    pub principal_arn: String,
    /// The signing service of the request's credential scope (`lambda`, `iam`, `sts`, `logs`, ...).
    pub service: String,
}

/// The id of the request being served (also sent back as `x-amzn-RequestId`).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Everything handlers need.
#[derive(Debug)]
pub struct AppState {
    /// Metadata repository.
    pub meta: MetaStore,
    /// Encrypted artifact store.
    pub artifacts: ArtifactStore,
    /// Region this server answers for.
    pub region: String,
    /// Account id of this server's single account.
    pub account: String,
    /// Key that signs presigned code download URLs (random per process: URLs die with it).
    pub presign_key: [u8; 32],
    /// Access key id → (secret, principal) cache in front of the store.
    pub credentials: RwLock<HashMap<String, (String, String)>>,
    /// The invoke service (execution environments).
    pub invoke: Arc<InvokeService>,
    /// CloudWatch Logs API over the function log store (see [`AppState::with_observe`]).
    pub logs: Option<ignis_observe::LogsApi>,
    /// Prometheus metrics of the server.
    pub metrics: Arc<ignis_observe::Metrics>,
    /// IAM caches and settings (identity policies, roles, execution-role credentials).
    pub iam: crate::identity::IamState,
    /// The key service (KMS): customer master keys, aliases, encrypt/decrypt/data keys.
    pub kms: Arc<ignis_store::kms::KeyService>,
    /// The audit trail every API call is recorded in (see [`AppState::with_audit`]).
    pub audit: Option<Arc<ignis_audit::AuditTrail>>,
    /// Configuration history of functions and layers.
    pub history: Option<Arc<ignis_audit::ConfigHistory>>,
}

/// Handle passed to handlers.
pub type SharedState = Arc<AppState>;

impl AppState {
    /// Build the state around opened stores.
    pub fn new(
        meta: MetaStore,
        artifacts: ArtifactStore,
        region: String,
        account: String,
        invoke: Arc<InvokeService>,
    ) -> Result<Self, ignis_crypto::CryptoError> {
        let kms = Arc::new(ignis_store::kms::KeyService::new(&meta, &region, &account));
        Ok(Self {
            meta,
            artifacts,
            region,
            account,
            presign_key: ignis_crypto::random_array::<32>()?,
            credentials: RwLock::new(HashMap::new()),
            invoke,
            logs: None,
            metrics: Arc::new(ignis_observe::Metrics::new()),
            iam: Default::default(),
            kms,
            audit: None,
            history: None,
        })
    }

    /// Record every API call in `trail` and every change in `history` (and serve CloudTrail's
    /// LookupEvents and AWS Config's GetResourceConfigHistory from them).
    pub fn with_audit(
        mut self,
        trail: Arc<ignis_audit::AuditTrail>,
        history: Arc<ignis_audit::ConfigHistory>,
    ) -> Self {
        self.audit = Some(trail);
        self.history = Some(history);
        self
    }

    /// Serve the CloudWatch Logs API over `logs` and export `metrics`.
    pub fn with_observe(
        mut self,
        logs: ignis_observe::LogsApi,
        metrics: Arc<ignis_observe::Metrics>,
    ) -> Self {
        self.logs = Some(logs);
        self.metrics = metrics;
        self
    }

    /// Secret and principal of an access key, from the cache or the store.
    pub async fn credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(String, String)>, ignis_store::StoreError> {
        if let Ok(cache) = self.credentials.read() {
            if let Some(hit) = cache.get(access_key_id) {
                return Ok(Some(hit.clone()));
            }
        }
        let found = self.meta.get_credential(access_key_id).await?;
        if let Some(found) = &found {
            if let Ok(mut cache) = self.credentials.write() {
                cache.insert(access_key_id.to_string(), found.clone());
            }
        }
        Ok(found)
    }
}
