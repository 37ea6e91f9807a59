//! Digest files: every interval (and at shutdown) a signed summary of the records written since the
//! previous digest, linked to that digest by its file hash and signature. Deleting, reordering or
//! rewriting any digested record (even with the chain recomputed) breaks a signature or a link.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{AuditError, AuditResult};

/// Where a record sits: its segment file name and 1-based line, and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordPosition {
    /// Segment file name (`YYYYMMDDTHH.jsonl`).
    pub segment: String,
    /// 1-based line in the segment.
    pub line: u64,
    /// The record's chain hash.
    pub hash: String,
}

/// The signed content of a digest file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// Sequence number (1, 2, ...), also the file name.
    pub sequence: u64,
    /// Time of the previous digest (or of the first record).
    pub digest_start_time: String,
    /// Time this digest was made.
    pub digest_end_time: String,
    /// SHA-256 (hex) of the previous digest file's bytes; empty for the first.
    pub previous_digest_hash: String,
    /// Signature (base64) of the previous digest; empty for the first.
    pub previous_digest_signature: String,
    /// Records covered by this digest.
    pub record_count: u64,
    /// First record covered.
    pub first_record: Option<RecordPosition>,
    /// Last record covered (the chain head when the digest was made).
    pub last_record: Option<RecordPosition>,
    /// Hex Ed25519 public key that signed this digest.
    pub public_key: String,
    /// Always `Ed25519`.
    pub signature_algorithm: String,
}

/// A digest file as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct DigestFile<'a> {
    /// The signed bytes.
    #[serde(borrow)]
    pub digest: &'a RawValue,
    /// Base64 Ed25519 signature of `digest`'s exact bytes.
    pub signature: String,
}

/// Path of digest `sequence` in `dir`.
pub fn path(dir: &Path, sequence: u64) -> PathBuf {
    dir.join(format!("{sequence:08}.json"))
}

/// Render a digest file: `{"digest": ..., "signature": ...}` with the signature over the digest bytes.
pub fn render(digest: &Digest, sign: impl Fn(&[u8]) -> Vec<u8>) -> AuditResult<(String, String)> {
    let body = serde_json::to_string(digest).map_err(|e| AuditError::Malformed {
        what: "digest".into(),
        detail: e.to_string(),
    })?;
    let signature = base64::engine::general_purpose::STANDARD.encode(sign(body.as_bytes()));
    Ok((
        format!("{{\"digest\":{body},\"signature\":\"{signature}\"}}\n"),
        signature,
    ))
}

/// Sorted sequence numbers of the digest files in `dir`.
pub fn list(dir: &Path) -> AuditResult<Vec<u64>> {
    let mut out = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let name = entry?.file_name();
                let name = name.to_string_lossy();
                if let Some(n) = name.strip_suffix(".json").and_then(|s| s.parse().ok()) {
                    out.push(n);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    out.sort_unstable();
    Ok(out)
}
