//! Segment files: the append-only on-disk form of a log stream. A record is a fixed header
//! (event timestamp, ingestion time, message length; little-endian) followed by the message bytes.
//! A torn record at the end of a file (a crash mid-write) is ignored when reading.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// Bytes of a record header: timestamp (i64), ingestion time (i64), message length (u32).
pub const HEADER_BYTES: u64 = 20;

/// Append one record to `out`.
pub fn encode(out: &mut Vec<u8>, timestamp: i64, ingestion: i64, message: &[u8]) {
    out.extend_from_slice(&timestamp.to_le_bytes());
    out.extend_from_slice(&ingestion.to_le_bytes());
    out.extend_from_slice(&(message.len() as u32).to_le_bytes());
    out.extend_from_slice(message);
}

/// One record read back: its offset in the segment and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Byte offset of the record's header in the segment.
    pub offset: u64,
    /// Event timestamp (ms since the epoch).
    pub timestamp: i64,
    /// Ingestion time (ms since the epoch).
    pub ingestion: i64,
    /// Message bytes.
    pub message: Vec<u8>,
}

/// Summary of a segment file, computed when a store is reopened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Bytes of complete records.
    pub len: u64,
    /// Number of records.
    pub events: u64,
    /// Smallest and largest event timestamps.
    pub first_ts: i64,
    /// Largest event timestamp.
    pub last_ts: i64,
    /// Largest ingestion time.
    pub last_ingestion: i64,
}

fn read_header(r: &mut impl Read) -> std::io::Result<Option<(i64, i64, u32)>> {
    let mut h = [0u8; HEADER_BYTES as usize];
    let mut filled = 0;
    while filled < h.len() {
        match r.read(&mut h[filled..]) {
            Ok(0) => return Ok(None),
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let ts = i64::from_le_bytes(h[0..8].try_into().unwrap_or_default());
    let ing = i64::from_le_bytes(h[8..16].try_into().unwrap_or_default());
    let len = u32::from_le_bytes(h[16..20].try_into().unwrap_or_default());
    Ok(Some((ts, ing, len)))
}

/// Walk the record headers of a segment (skipping messages) to rebuild its summary.
pub fn summarize(path: &Path) -> std::io::Result<Summary> {
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut r = BufReader::with_capacity(64 * 1024, file);
    let mut s = Summary::default();
    let mut pos = 0u64;
    while let Some((ts, ing, len)) = read_header(&mut r)? {
        let end = pos + HEADER_BYTES + u64::from(len);
        if end > size {
            break;
        }
        if s.events == 0 {
            s.first_ts = ts;
        }
        s.last_ts = s.last_ts.max(ts);
        s.last_ingestion = s.last_ingestion.max(ing);
        s.events += 1;
        pos = end;
        r.seek_relative(i64::from(len))?;
    }
    s.len = pos;
    Ok(s)
}

/// Read the records of `path` from byte `from` up to byte `len` (the complete part known to the
/// store), calling `visit` for each; `visit` returns false to stop early.
pub fn scan(
    path: &Path,
    from: u64,
    len: u64,
    mut visit: impl FnMut(Record) -> bool,
) -> std::io::Result<()> {
    let mut file = File::open(path)?;
    if from > 0 {
        file.seek(SeekFrom::Start(from))?;
    }
    let mut r = BufReader::with_capacity(64 * 1024, file);
    let mut pos = from;
    while pos + HEADER_BYTES <= len {
        let Some((timestamp, ingestion, n)) = read_header(&mut r)? else {
            break;
        };
        let end = pos + HEADER_BYTES + u64::from(n);
        if end > len {
            break;
        }
        let mut message = vec![0u8; n as usize];
        match r.read_exact(&mut message) {
            Ok(()) => {}
            // The file is shorter than the store believed (a failed write): stop there.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        let go_on = visit(Record {
            offset: pos,
            timestamp,
            ingestion,
            message,
        });
        pos = end;
        if !go_on {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_scan_summarize_round_trip_and_torn_tail() {
        let dir = crate::logs::store::test_dir("segment");
        let path = dir.join("a.seg");
        let mut buf = Vec::new();
        encode(&mut buf, 10, 11, b"one\n");
        encode(&mut buf, 12, 13, b"two\n");
        let complete = buf.len() as u64;
        // A torn record: header promises more bytes than exist.
        encode(&mut buf, 14, 15, b"three\n");
        buf.truncate(buf.len() - 2);
        std::fs::write(&path, &buf).unwrap();
        let s = summarize(&path).unwrap();
        assert_eq!(s.len, complete);
        assert_eq!(
            (s.events, s.first_ts, s.last_ts, s.last_ingestion),
            (2, 10, 12, 13)
        );
        let mut got = Vec::new();
        scan(&path, 0, s.len, |r| {
            got.push((r.offset, r.timestamp, r.message));
            true
        })
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], (HEADER_BYTES + 4, 12, b"two\n".to_vec()));
        let mut second = Vec::new();
        scan(&path, HEADER_BYTES + 4, s.len, |r| {
            second.push(r.message);
            true
        })
        .unwrap();
        assert_eq!(second, vec![b"two\n".to_vec()]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
