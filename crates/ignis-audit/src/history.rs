//! Configuration history (AWS-Config-like): after every change to a function (code, configuration,
//! aliases, policy, concurrency, tags) or layer version, a full snapshot of the resource as a
//! versioned configuration item, kept after the resource is deleted. One append-only JSON-lines
//! file per resource under `history/<type>/<id>.jsonl`; served as AWS Config's
//! `GetResourceConfigHistory` and by `ignis history`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use ignis_core::AwsError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::AuditResult;

/// AWS Config's JSON 1.1 target prefix.
pub const TARGET_PREFIX: &str = "StarlingDoveService";

/// One configuration item, shaped as AWS Config's `ConfigurationItem`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigItem {
    /// Item format version (`1.3`).
    pub version: String,
    /// Account of the resource.
    pub account_id: String,
    /// When the snapshot was taken (epoch seconds).
    pub configuration_item_capture_time: f64,
    /// `OK`, `ResourceDiscovered` (first item) or `ResourceDeleted`.
    pub configuration_item_status: String,
    /// Increasing id of this item within the resource (`1`, `2`, ...).
    pub configuration_state_id: String,
    /// ARN of the resource.
    pub arn: String,
    /// `AWS::Lambda::Function` or `AWS::Lambda::LayerVersion`.
    pub resource_type: String,
    /// The function name (or layer version ARN).
    pub resource_id: String,
    /// Same as the id for Lambda resources.
    pub resource_name: String,
    /// Region.
    pub aws_region: String,
    /// Tags at the time.
    #[serde(default)]
    pub tags: Map<String, Value>,
    /// Audit trail event ids of the change that produced the item.
    #[serde(default)]
    pub related_events: Vec<String>,
    /// The resource's configuration as a JSON string (absent once deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<String>,
    /// Aliases, policy, concurrency: name → JSON string.
    #[serde(default)]
    pub supplementary_configuration: Map<String, Value>,
}

/// The history store.
#[derive(Debug)]
pub struct ConfigHistory {
    dir: PathBuf,
    write: Mutex<()>,
}

impl ConfigHistory {
    /// Open (or create) the history under `dir`.
    pub fn open(dir: &Path) -> AuditResult<Self> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            write: Mutex::new(()),
        })
    }

    fn file(&self, resource_type: &str, resource_id: &str) -> PathBuf {
        let kind: String = resource_type
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        self.dir
            .join(kind)
            .join(format!("{}.jsonl", hex::encode(resource_id.as_bytes())))
    }

    /// Append `item`, numbering it after the resource's previous items (a resource's first item is
    /// `ResourceDiscovered`). Blocking IO: call from a blocking context.
    pub fn append(&self, mut item: ConfigItem) -> AuditResult<ConfigItem> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.file(&item.resource_type, &item.resource_id);
        if let Some(parent) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
        let previous = read_items(&path)?;
        item.configuration_state_id = (previous.len() + 1).to_string();
        let was_deleted = previous
            .last()
            .is_none_or(|p| p.configuration_item_status == "ResourceDeleted");
        if item.configuration_item_status == "OK" && was_deleted {
            item.configuration_item_status = "ResourceDiscovered".into();
        }
        let line = serde_json::to_string(&item).map_err(|e| crate::AuditError::Malformed {
            what: "configuration item".into(),
            detail: e.to_string(),
        })?;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(format!("{line}\n").as_bytes())?;
        Ok(item)
    }

    /// Every item of a resource, oldest first.
    pub fn items(&self, resource_type: &str, resource_id: &str) -> AuditResult<Vec<ConfigItem>> {
        read_items(&self.file(resource_type, resource_id))
    }

    /// AWS Config's `GetResourceConfigHistory` (the only operation served).
    pub fn handle(&self, operation: &str, input: &Value) -> Result<Value, AwsError> {
        if operation != "GetResourceConfigHistory" {
            return Err(AwsError::other(
                "ValidationException",
                400,
                format!("The operation {operation} is not supported by this server."),
            ));
        }
        let resource_type = str_field(input, "resourceType")?;
        let resource_id = str_field(input, "resourceId")?;
        let limit = match input.get("limit").and_then(Value::as_i64) {
            None | Some(0) => 10,
            Some(n @ 1..=100) => n as usize,
            Some(n) => {
                return Err(AwsError::other(
                    "InvalidLimitException",
                    400,
                    format!("Value '{n}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"),
                ))
            }
        };
        let later = input.get("laterTime").and_then(Value::as_f64);
        let earlier = input.get("earlierTime").and_then(Value::as_f64);
        if let (Some(l), Some(e)) = (later, earlier) {
            if e > l {
                return Err(AwsError::other(
                    "InvalidTimeRangeException",
                    400,
                    "The earlierTime must be before the laterTime.",
                ));
            }
        }
        let mut items = self
            .items(resource_type, resource_id)
            .map_err(|_| AwsError::internal())?;
        if items.is_empty() {
            return Err(AwsError::other(
                "ResourceNotDiscoveredException",
                400,
                format!("Resource {resource_id} of resourceType:{resource_type} is unknown or has not been discovered"),
            ));
        }
        items.retain(|i| {
            later.is_none_or(|l| i.configuration_item_capture_time <= l)
                && earlier.is_none_or(|e| i.configuration_item_capture_time >= e)
        });
        if input.get("chronologicalOrder").and_then(Value::as_str) != Some("Forward") {
            items.reverse();
        }
        let start = match input.get("nextToken").and_then(Value::as_str) {
            Some(t) => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|n| *n <= items.len())
                .ok_or_else(|| {
                    AwsError::other(
                        "InvalidNextTokenException",
                        400,
                        "The nextToken provided is invalid",
                    )
                })?,
            None => 0,
        };
        let end = (start + limit).min(items.len());
        let mut out = json!({ "configurationItems": items[start..end] });
        if end < items.len() {
            out["nextToken"] = Value::String(
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(end.to_string()),
            );
        }
        Ok(out)
    }
}

fn str_field<'a>(input: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    input
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            AwsError::other(
                "ValidationException",
                400,
                format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"),
            )
        })
}

fn read_items(path: &Path) -> AuditResult<Vec<ConfigItem>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    Ok(BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(status: &str, t: f64) -> ConfigItem {
        ConfigItem {
            version: "1.3".into(),
            account_id: "1".into(),
            configuration_item_capture_time: t,
            configuration_item_status: status.into(),
            configuration_state_id: String::new(),
            arn: "arn:aws:lambda:us-east-1:1:function:f".into(),
            resource_type: "AWS::Lambda::Function".into(),
            resource_id: "f".into(),
            resource_name: "f".into(),
            aws_region: "us-east-1".into(),
            tags: Map::new(),
            related_events: vec![],
            configuration: Some("{}".into()),
            supplementary_configuration: Map::new(),
        }
    }

    #[test]
    fn versions_survive_deletion_and_page() {
        let dir = std::env::temp_dir().join(format!(
            "ignis-history-{}",
            ignis_crypto::ids::uuid_v4().expect("uuid")
        ));
        let h = ConfigHistory::open(&dir).expect("open");
        h.append(item("OK", 1.0)).expect("1");
        h.append(item("OK", 2.0)).expect("2");
        h.append(item("ResourceDeleted", 3.0)).expect("3");
        h.append(item("OK", 4.0)).expect("4");
        let all = h.items("AWS::Lambda::Function", "f").expect("items");
        let statuses: Vec<&str> = all
            .iter()
            .map(|i| i.configuration_item_status.as_str())
            .collect();
        assert_eq!(
            statuses,
            [
                "ResourceDiscovered",
                "OK",
                "ResourceDeleted",
                "ResourceDiscovered"
            ]
        );
        let page = h
            .handle(
                "GetResourceConfigHistory",
                &json!({"resourceType": "AWS::Lambda::Function", "resourceId": "f", "limit": 3}),
            )
            .expect("page");
        assert_eq!(page["configurationItems"][0]["configurationStateId"], "4");
        let next = page["nextToken"].as_str().expect("token");
        let rest = h
            .handle(
                "GetResourceConfigHistory",
                &json!({"resourceType": "AWS::Lambda::Function", "resourceId": "f", "limit": 3, "nextToken": next}),
            )
            .expect("rest");
        assert_eq!(rest["configurationItems"][0]["configurationStateId"], "1");
        let missing = h
            .handle(
                "GetResourceConfigHistory",
                &json!({"resourceType": "AWS::Lambda::Function", "resourceId": "g"}),
            )
            .unwrap_err();
        assert_eq!(missing.kind.code(), "ResourceNotDiscoveredException");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
