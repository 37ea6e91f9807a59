//! The hash chain: each line of a segment is `{"prev": hex, "hash": hex, "record": {...}}` with
//! `hash = SHA-256(prev_hex || record_json_bytes)`; the first record's `prev` is 64 zeros.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `prev` of the first record of a trail.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored line, borrowing the record's exact bytes.
#[derive(Debug, Deserialize, Serialize)]
pub struct Line<'a> {
    /// Hash of the previous record.
    pub prev: String,
    /// Hash of this record.
    pub hash: String,
    /// The record exactly as written.
    #[serde(borrow)]
    pub record: &'a RawValue,
}

/// The hash linking `record` (exact JSON bytes) to `prev`.
pub fn link(prev: &str, record: &str) -> String {
    let mut data = Vec::with_capacity(prev.len() + record.len());
    data.extend_from_slice(prev.as_bytes());
    data.extend_from_slice(record.as_bytes());
    ignis_crypto::sha256_hex(&data)
}

/// Serialize a line for `record` after `prev`; returns (line without newline, hash).
pub fn make_line(prev: &str, record: &str) -> (String, String) {
    let hash = link(prev, record);
    (
        format!("{{\"prev\":\"{prev}\",\"hash\":\"{hash}\",\"record\":{record}}}"),
        hash,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_round_trip_keeps_record_bytes() {
        let record = r#"{"b":1,"a":"x"}"#;
        let (line, hash) = make_line(GENESIS, record);
        let parsed: Line<'_> = serde_json::from_str(&line).expect("parses");
        assert_eq!(parsed.record.get(), record);
        assert_eq!(parsed.hash, hash);
        assert_eq!(link(&parsed.prev, parsed.record.get()), hash);
        assert_ne!(link(GENESIS, r#"{"b":2,"a":"x"}"#), hash);
    }
}
