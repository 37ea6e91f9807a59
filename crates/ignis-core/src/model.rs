//! Control-plane records in their wire shape (botocore's Lambda service model), also the shape kept
//! in the metadata store. Field names follow the model exactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Default memory size (MB) of a new function.
pub const DEFAULT_MEMORY_MB: u32 = 128;
/// Default timeout (s) of a new function.
pub const DEFAULT_TIMEOUT_S: u32 = 3;
/// Default /tmp size (MB).
pub const DEFAULT_EPHEMERAL_MB: u32 = 512;
/// The mutable version name.
pub const LATEST: &str = "$LATEST";

/// `FunctionConfiguration`: one version's configuration (`$LATEST` or a published number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionConfig {
    /// Function name.
    pub function_name: String,
    /// ARN, qualified with the version for published versions.
    pub function_arn: String,
    /// Runtime identifier (absent for container images).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Execution role ARN.
    pub role: String,
    /// Handler (absent for container images).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Size of the deployment package in bytes.
    pub code_size: u64,
    /// Description ("" when unset).
    pub description: String,
    /// Timeout in seconds.
    pub timeout: u32,
    /// Memory in MB.
    pub memory_size: u32,
    /// Last modification, `2024-01-01T00:00:00.000+0000`.
    pub last_modified: String,
    /// Base64 SHA-256 of the deployment package.
    pub code_sha256: String,
    /// `$LATEST` or the version number.
    pub version: String,
    /// Environment variables, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Customer KMS key for environment variables, when set.
    #[serde(rename = "KMSKeyArn", skip_serializing_if = "Option::is_none")]
    pub kms_key_arn: Option<String>,
    /// X-Ray tracing mode.
    pub tracing_config: TracingConfig,
    /// Changes on every update of this record.
    pub revision_id: String,
    /// Layers, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<LayerRef>>,
    /// `Pending`, `Active`, `Inactive`, `Failed`.
    pub state: String,
    /// Why the state is what it is (transient states only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// Code of the state reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason_code: Option<String>,
    /// `InProgress`, `Successful`, `Failed`.
    pub last_update_status: String,
    /// Why the last update is in its status (transient statuses only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason: Option<String>,
    /// Code of the last update status reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason_code: Option<String>,
    /// `Zip` or `Image`.
    pub package_type: String,
    /// `x86_64` or `arm64`.
    pub architectures: Vec<String>,
    /// /tmp size.
    pub ephemeral_storage: EphemeralStorage,
    /// SnapStart (always off here).
    pub snap_start: SnapStart,
    /// Logging configuration.
    pub logging_config: LoggingConfig,
    /// Dead-letter target, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// VPC settings, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_config: Option<serde_json::Value>,
    /// File systems, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_system_configs: Option<serde_json::Value>,
}

impl FunctionConfig {
    /// The record as code and settings alone, serialised: without RevisionId, LastModified and the
    /// transient state reasons. Two records with equal identities run the same way (PublishVersion
    /// compares it to skip unchanged publishes; the invoke service keys warm environments by it).
    pub fn identity_json(&self) -> Vec<u8> {
        let mut c = self.clone();
        c.revision_id.clear();
        c.last_modified.clear();
        c.state_reason = None;
        c.state_reason_code = None;
        c.last_update_status_reason = None;
        c.last_update_status_reason_code = None;
        serde_json::to_vec(&c).unwrap_or_default()
    }
}

/// `EnvironmentResponse` / `Environment`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    /// Variable name → value.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
}

/// `TracingConfig`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    /// `Active` or `PassThrough`.
    pub mode: String,
}

impl Default for TracingConfig {
    fn default() -> Self {
        Self {
            mode: "PassThrough".into(),
        }
    }
}

/// `Layer` as referenced from a function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerRef {
    /// Layer version ARN.
    pub arn: String,
    /// Size of the layer archive.
    pub code_size: u64,
}

/// `EphemeralStorage`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EphemeralStorage {
    /// Size in MB.
    pub size: u32,
}

/// `SnapStartResponse`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnapStart {
    /// `None` or `PublishedVersions`.
    pub apply_on: String,
    /// `On` or `Off`.
    pub optimization_status: String,
}

impl Default for SnapStart {
    fn default() -> Self {
        Self {
            apply_on: "None".into(),
            optimization_status: "Off".into(),
        }
    }
}

/// `LoggingConfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    /// `Text` or `JSON`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<String>,
    /// Application log level (JSON format only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_log_level: Option<String>,
    /// System log level (JSON format only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_log_level: Option<String>,
    /// Log group name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group: Option<String>,
}

/// `DeadLetterConfig`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    /// Queue or topic ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
}

/// Function-level settings shared by all versions: tags, resource policy, reserved concurrency.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FunctionMeta {
    /// Tags on the function.
    pub tags: BTreeMap<String, String>,
    /// Reserved concurrency, if set.
    pub reserved_concurrency: Option<u32>,
    /// Next version number PublishVersion will assign (numbers are never reused).
    pub next_version: u64,
    /// `$LATEST`'s RevisionId when it was last published, and the version it became: publishing an
    /// unchanged `$LATEST` returns that version instead of a new one, as AWS does.
    #[serde(default)]
    pub last_published: Option<(String, String)>,
}

/// A resource-based policy document (`{"Version","Id","Statement":[...]}`) and its revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDoc {
    /// The statements, each a JSON object as AWS renders them.
    pub statements: Vec<serde_json::Value>,
    /// Changes on every change of the policy.
    pub revision_id: String,
}

/// `AliasConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasConfig {
    /// Alias ARN.
    pub alias_arn: String,
    /// Alias name.
    pub name: String,
    /// Target version.
    pub function_version: String,
    /// Description ("" when unset).
    pub description: String,
    /// Weighted routing to a second version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<RoutingConfig>,
    /// Changes on every update.
    pub revision_id: String,
}

/// `AliasRoutingConfiguration`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoutingConfig {
    /// Version → weight in [0, 1].
    #[serde(default)]
    pub additional_version_weights: BTreeMap<String, f64>,
}

/// A published layer version (`GetLayerVersionResponse` shape minus the presigned location).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerVersion {
    /// Layer ARN (no version).
    pub layer_arn: String,
    /// Layer version ARN.
    pub layer_version_arn: String,
    /// Description ("" when unset).
    pub description: String,
    /// Creation time.
    pub created_date: String,
    /// Version number.
    pub version: u64,
    /// Compatible runtimes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatible_runtimes: Option<Vec<String>>,
    /// Compatible architectures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatible_architectures: Option<Vec<String>>,
    /// License.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_info: Option<String>,
    /// Base64 SHA-256 of the archive.
    pub code_sha256: String,
    /// Archive size.
    pub code_size: u64,
}

/// A provisioned concurrency config of one qualifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedConfig {
    /// Qualified function ARN.
    pub function_arn: String,
    /// Requested environments.
    pub requested_provisioned_concurrent_executions: u32,
    /// Environments ready now.
    pub available_provisioned_concurrent_executions: u32,
    /// Environments allocated.
    pub allocated_provisioned_concurrent_executions: u32,
    /// `IN_PROGRESS`, `READY`, `FAILED`.
    pub status: String,
    /// Reason for FAILED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// Last change.
    pub last_modified: String,
}
