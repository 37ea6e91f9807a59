//! `ignis audit verify`: recompute the hash chain over every segment, then check every digest (its
//! signature, its link to the previous digest, and that the record it signed is still there with the
//! same hash). Reports the first problem found in chain order.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use base64::Engine;

use crate::chain::{link, Line, GENESIS};
use crate::digest::{self, Digest, DigestFile};
use crate::signer::verify_signature;
use crate::trail::segments;
use crate::{AuditError, AuditResult};

/// What verification found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records whose chain links were checked.
    pub records: u64,
    /// Digest files checked.
    pub digests: u64,
    /// Records written after the last digest (protected by the chain only).
    pub undigested: u64,
    /// Every problem, the first tampering first.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether the trail is intact.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verify the trail in `dir` against `public_key_hex` (default: the trail's `signing.pub`; pass the
/// key pinned at start-up to detect a replaced key).
pub fn verify(dir: &Path, public_key_hex: Option<&str>) -> AuditResult<VerifyReport> {
    let public = match public_key_hex {
        Some(k) => k.trim().to_string(),
        None => std::fs::read_to_string(dir.join("signing.pub"))?
            .trim()
            .to_string(),
    };
    let mut report = VerifyReport::default();
    let mut positions: HashMap<(String, u64), String> = HashMap::new();
    let mut order: Vec<(String, u64)> = Vec::new();
    let records_dir = dir.join("records");
    let mut head = GENESIS.to_string();
    let mut chain_ok = true;
    'segments: for name in segments(&records_dir)? {
        let file = std::fs::File::open(records_dir.join(&name))?;
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line?;
            let n = i as u64 + 1;
            let parsed: Line<'_> = match serde_json::from_str(&line) {
                Ok(l) => l,
                Err(e) => {
                    report
                        .problems
                        .push(format!("{name} line {n}: not a valid record ({e})"));
                    chain_ok = false;
                    break 'segments;
                }
            };
            let event_id = event_id(parsed.record.get());
            if parsed.prev != head {
                report.problems.push(format!(
                    "{name} line {n} (eventID {event_id}): chain broken — a record before it was removed or reordered"
                ));
                chain_ok = false;
                break 'segments;
            }
            if link(&parsed.prev, parsed.record.get()) != parsed.hash {
                report.problems.push(format!(
                    "{name} line {n} (eventID {event_id}): record altered — its hash does not match its content"
                ));
                chain_ok = false;
                break 'segments;
            }
            head = parsed.hash.clone();
            positions.insert((name.clone(), n), parsed.hash);
            order.push((name.clone(), n));
            report.records += 1;
        }
    }

    let digests_dir = dir.join("digests");
    let mut prev_hash = String::new();
    let mut prev_sig = String::new();
    let mut last_digested: Option<(String, u64)> = None;
    for (i, seq) in digest::list(&digests_dir)?.into_iter().enumerate() {
        let expected = i as u64 + 1;
        if seq != expected {
            report
                .problems
                .push(format!("digest {expected} is missing (found {seq} next)"));
        }
        let bytes = std::fs::read(digest::path(&digests_dir, seq))?;
        let file: DigestFile<'_> = match serde_json::from_slice(&bytes) {
            Ok(f) => f,
            Err(e) => {
                report
                    .problems
                    .push(format!("digest {seq}: not a valid digest file ({e})"));
                continue;
            }
        };
        let sig = base64::engine::general_purpose::STANDARD
            .decode(&file.signature)
            .unwrap_or_default();
        if !verify_signature(&public, file.digest.get().as_bytes(), &sig) {
            report.problems.push(format!(
                "digest {seq}: signature invalid — the digest was altered or signed by another key"
            ));
        }
        let d: Digest =
            serde_json::from_str(file.digest.get()).map_err(|e| AuditError::Malformed {
                what: format!("digest {seq}"),
                detail: e.to_string(),
            })?;
        if d.previous_digest_hash != prev_hash || d.previous_digest_signature != prev_sig {
            report.problems.push(format!(
                "digest {seq}: does not link to digest {} — a digest was replaced",
                seq.saturating_sub(1)
            ));
        }
        if let Some(last) = &d.last_record {
            let key = (last.segment.clone(), last.line);
            match positions.get(&key) {
                Some(h) if *h == last.hash => {}
                Some(_) => report.problems.push(format!(
                    "digest {seq}: record {} line {} no longer has the signed hash — records up to it were altered",
                    last.segment, last.line
                )),
                None if chain_ok => report.problems.push(format!(
                    "digest {seq}: signed record {} line {} is missing — records were deleted",
                    last.segment, last.line
                )),
                None => {}
            }
            last_digested = Some(key);
        }
        prev_hash = ignis_crypto::sha256_hex(&bytes);
        prev_sig = file.signature.clone();
        report.digests += 1;
    }
    report.undigested = match last_digested {
        Some(key) => order
            .iter()
            .position(|p| *p == key)
            .map(|i| (order.len() - i - 1) as u64)
            .unwrap_or(0),
        None => order.len() as u64,
    };
    Ok(report)
}

fn event_id(record: &str) -> String {
    serde_json::from_str::<serde_json::Value>(record)
        .ok()
        .and_then(|v| {
            v.get("eventID")
                .and_then(|e| e.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| "?".into())
}
