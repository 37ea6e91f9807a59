//! The writer of the trail: records go through a channel to one thread that appends them to the
//! hour's segment (one `fdatasync` per batch), keeps the chain head, and writes signed digests on an
//! interval and at close. Recording never blocks the API path.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ignis_crypto::RootKey;

use crate::chain::{self, Line, GENESIS};
use crate::digest::{self, Digest, DigestFile, RecordPosition};
use crate::record::AuditEvent;
use crate::signer::Signer;
use crate::{AuditError, AuditResult};

/// Largest batch written between two syncs.
const MAX_BATCH: usize = 1024;

/// Data events (Invoke) alone are synced at most this often: an invoke is never delayed by a
/// disk flush, and a crash loses at most this much of the data-event tail. Management events and
/// explicit flushes sync at once.
const DATA_EVENT_SYNC: Duration = Duration::from_millis(100);

/// Where the trail lives and how often it is digested.
#[derive(Debug, Clone)]
pub struct TrailConfig {
    /// The trail directory (`DATA_DIR/audit`).
    pub dir: PathBuf,
    /// Time between digests (CloudTrail: one hour).
    pub digest_interval: Duration,
}

enum Msg {
    Record(Box<AuditEvent>),
    Flush {
        digest: bool,
        done: tokio::sync::oneshot::Sender<()>,
    },
}

/// The audit trail of one server.
#[derive(Debug)]
pub struct AuditTrail {
    tx: Mutex<Option<mpsc::Sender<Msg>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    dir: PathBuf,
    public_key: String,
}

impl AuditTrail {
    /// Open (or create) the trail in `config.dir` and start its writer thread.
    pub fn open(config: TrailConfig, root: &RootKey) -> AuditResult<Self> {
        for d in [
            &config.dir,
            &config.dir.join("records"),
            &config.dir.join("digests"),
        ] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(d)?;
        }
        let signer = Signer::load_or_create(&config.dir, root)?;
        let public_key = signer.public_hex().to_string();
        let mut writer = Writer::recover(&config.dir, signer)?;
        let (tx, rx) = mpsc::channel();
        let interval = config.digest_interval.max(Duration::from_millis(100));
        let thread = std::thread::Builder::new()
            .name("ignis-audit".into())
            .spawn(move || writer.run(rx, interval))?;
        Ok(Self {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            dir: config.dir,
            public_key,
        })
    }

    /// The trail directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Hex public key that verifies the digests.
    pub fn public_key_hex(&self) -> &str {
        &self.public_key
    }

    /// Append `event` (asynchronously; `flush` waits for it to be on disk).
    pub fn record(&self, event: AuditEvent) {
        if let Ok(tx) = self.tx.lock() {
            if let Some(tx) = tx.as_ref() {
                let _ = tx.send(Msg::Record(Box::new(event)));
            }
        }
    }

    async fn send_flush(&self, digest: bool) {
        let (done, wait) = tokio::sync::oneshot::channel();
        let sent = match self.tx.lock() {
            Ok(tx) => tx
                .as_ref()
                .map(|tx| tx.send(Msg::Flush { digest, done }).is_ok())
                .unwrap_or(false),
            Err(_) => false,
        };
        if sent {
            let _ = wait.await;
        }
    }

    /// Wait until every record handed over so far is written and synced.
    pub async fn flush(&self) {
        self.send_flush(false).await;
    }

    /// Flush and write a digest now (if records arrived since the last one).
    pub async fn digest_now(&self) {
        self.send_flush(true).await;
    }

    /// Flush, digest and stop the writer.
    pub async fn close(&self) {
        self.digest_now().await;
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

struct Segment {
    name: String,
    file: File,
    lines: u64,
}

struct Writer {
    records_dir: PathBuf,
    digests_dir: PathBuf,
    signer: Signer,
    head: String,
    segment: Option<Segment>,
    first_pending: Option<RecordPosition>,
    last: Option<RecordPosition>,
    pending: u64,
    digest_seq: u64,
    prev_digest_hash: String,
    prev_digest_sig: String,
    last_digest_time: String,
}

impl Writer {
    /// Rebuild the writer's state from the files: chain head from the newest segment (a torn last
    /// line from a crash is cut off), digest links from the newest digest.
    fn recover(dir: &Path, signer: Signer) -> AuditResult<Self> {
        let records_dir = dir.join("records");
        let digests_dir = dir.join("digests");
        let mut head = GENESIS.to_string();
        let mut last = None;
        if let Some(name) = segments(&records_dir)?.pop() {
            let path = records_dir.join(&name);
            let (lines, last_hash) = recover_segment(&path)?;
            if let Some(hash) = last_hash {
                head = hash.clone();
                last = Some(RecordPosition {
                    segment: name,
                    line: lines,
                    hash,
                });
            }
        }
        let mut w = Self {
            records_dir,
            digests_dir,
            signer,
            head,
            segment: None,
            first_pending: None,
            last: last.clone(),
            pending: 0,
            digest_seq: 0,
            prev_digest_hash: String::new(),
            prev_digest_sig: String::new(),
            last_digest_time: now_rfc3339(),
        };
        if let Some(seq) = digest::list(&w.digests_dir)?.pop() {
            let bytes = std::fs::read(digest::path(&w.digests_dir, seq))?;
            let file: DigestFile<'_> =
                serde_json::from_slice(&bytes).map_err(|e| AuditError::Malformed {
                    what: format!("digest {seq}"),
                    detail: e.to_string(),
                })?;
            let d: Digest =
                serde_json::from_str(file.digest.get()).map_err(|e| AuditError::Malformed {
                    what: format!("digest {seq}"),
                    detail: e.to_string(),
                })?;
            w.digest_seq = seq;
            w.prev_digest_hash = ignis_crypto::sha256_hex(&bytes);
            w.prev_digest_sig = file.signature.clone();
            w.last_digest_time = d.digest_end_time.clone();
            let digested_head = d.last_record.as_ref().map(|p| p.hash.as_str());
            if last.is_some() && digested_head != last.as_ref().map(|p| p.hash.as_str()) {
                // Records after the last digest, written before a crash: the next digest covers them.
                w.pending = 1;
            }
        } else if last.is_some() {
            w.pending = 1;
        }
        Ok(w)
    }

    fn run(&mut self, rx: mpsc::Receiver<Msg>, interval: Duration) {
        let mut next_digest = Instant::now() + interval;
        let mut unsynced_since: Option<Instant> = None;
        loop {
            let mut wake = next_digest;
            if let Some(t) = unsynced_since {
                wake = wake.min(t + DATA_EVENT_SYNC);
            }
            let wait = wake.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(first) => {
                    let mut waiters = Vec::new();
                    let mut digest = false;
                    let mut management = false;
                    let mut msg = Some(first);
                    let mut n = 0;
                    while let Some(m) = msg.take() {
                        match m {
                            Msg::Record(event) => {
                                management |= event.management_event;
                                self.append(&event);
                            }
                            Msg::Flush { digest: d, done } => {
                                digest |= d;
                                waiters.push(done);
                            }
                        }
                        n += 1;
                        if n < MAX_BATCH {
                            msg = rx.try_recv().ok();
                        }
                    }
                    if management || !waiters.is_empty() {
                        self.sync();
                        unsynced_since = None;
                    } else if unsynced_since.is_none() {
                        unsynced_since = Some(Instant::now());
                    }
                    if digest {
                        self.write_digest();
                        next_digest = Instant::now() + interval;
                    }
                    for w in waiters {
                        let _ = w.send(());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if unsynced_since.take().is_some() {
                        self.sync();
                    }
                    if Instant::now() >= next_digest {
                        self.write_digest();
                        next_digest = Instant::now() + interval;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.sync();
                    self.write_digest();
                    return;
                }
            }
        }
    }

    fn append(&mut self, event: &AuditEvent) {
        if let Err(e) = self.try_append(event) {
            tracing::error!(error = %e, event = %event.event_name, "audit record not written");
        }
    }

    fn try_append(&mut self, event: &AuditEvent) -> AuditResult<()> {
        let record = serde_json::to_string(event).map_err(|e| AuditError::Malformed {
            what: "record".into(),
            detail: e.to_string(),
        })?;
        let name = segment_name();
        if self.segment.as_ref().map(|s| s.name.as_str()) != Some(name.as_str()) {
            self.sync();
            let path = self.records_dir.join(&name);
            let lines = if path.exists() {
                recover_segment(&path)?.0
            } else {
                0
            };
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&path)?;
            self.segment = Some(Segment { name, file, lines });
        }
        let Some(seg) = self.segment.as_mut() else {
            return Ok(());
        };
        let (mut line, hash) = chain::make_line(&self.head, &record);
        line.push('\n');
        seg.file.write_all(line.as_bytes())?;
        seg.lines += 1;
        let pos = RecordPosition {
            segment: seg.name.clone(),
            line: seg.lines,
            hash: hash.clone(),
        };
        if self.first_pending.is_none() {
            self.first_pending = Some(pos.clone());
        }
        self.last = Some(pos);
        self.head = hash;
        self.pending += 1;
        Ok(())
    }

    fn sync(&mut self) {
        if let Some(seg) = self.segment.as_ref() {
            if let Err(e) = seg.file.sync_data() {
                tracing::error!(error = %e, "audit segment sync failed");
            }
        }
    }

    fn write_digest(&mut self) {
        if self.pending == 0 {
            return;
        }
        if let Err(e) = self.try_write_digest() {
            tracing::error!(error = %e, "audit digest not written");
        }
    }

    fn try_write_digest(&mut self) -> AuditResult<()> {
        let end = now_rfc3339();
        let d = Digest {
            sequence: self.digest_seq + 1,
            digest_start_time: self.last_digest_time.clone(),
            digest_end_time: end.clone(),
            previous_digest_hash: self.prev_digest_hash.clone(),
            previous_digest_signature: self.prev_digest_sig.clone(),
            record_count: self.pending,
            first_record: self.first_pending.clone(),
            last_record: self.last.clone(),
            public_key: self.signer.public_hex().to_string(),
            signature_algorithm: "Ed25519".into(),
        };
        let (text, signature) = digest::render(&d, |m| self.signer.sign(m))?;
        let path = digest::path(&self.digests_dir, d.sequence);
        let tmp = path.with_extension("tmp");
        {
            let mut f = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        File::open(&self.digests_dir)?.sync_all()?;
        self.digest_seq = d.sequence;
        self.prev_digest_hash = ignis_crypto::sha256_hex(text.as_bytes());
        self.prev_digest_sig = signature;
        self.last_digest_time = end;
        self.pending = 0;
        self.first_pending = None;
        Ok(())
    }
}

/// Sorted segment file names in `dir`.
pub(crate) fn segments(dir: &Path) -> AuditResult<Vec<String>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".jsonl") {
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Count the complete lines of a segment and return the last record's hash, cutting off a torn
/// final line left by a crash mid-write.
fn recover_segment(path: &Path) -> AuditResult<(u64, Option<String>)> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let mut reader = BufReader::new(&mut file);
    let mut lines = 0;
    let mut good_len = 0u64;
    let mut last_hash = None;
    let mut buf = String::new();
    loop {
        buf.clear();
        let n = reader.read_line(&mut buf)?;
        if n == 0 {
            break;
        }
        if !buf.ends_with('\n') {
            break;
        }
        if let Ok(line) = serde_json::from_str::<Line<'_>>(buf.trim_end()) {
            last_hash = Some(line.hash);
        }
        lines += 1;
        good_len += n as u64;
    }
    drop(reader);
    if file.metadata()?.len() > good_len {
        tracing::warn!(path = %path.display(), "cutting a torn audit record left by a crash");
        file.set_len(good_len)?;
        file.seek(SeekFrom::End(0))?;
        file.sync_all()?;
    }
    Ok((lines, last_hash))
}

fn segment_name() -> String {
    let fmt = time::macros::format_description!("[year][month][day]T[hour].jsonl");
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "19700101T00.jsonl".into())
}

/// Now as CloudTrail writes times: `2024-01-01T00:00:00Z`.
pub fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

/// `t` as `2024-01-01T00:00:00Z`.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}
