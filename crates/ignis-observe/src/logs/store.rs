//! The log store: log groups of log streams, each stream a series of append-only segment files.
//!
//! Layout under the store's directory: `<hex(group)>/group` (creation time, retention), and per
//! stream `<hex(group)>/<hex(stream)>/stream` (creation time) plus `<id:016x>.seg` segments (see
//! [`segment`](super::segment)). Writes go through a buffered writer per stream (flushed before
//! any read and by the periodic sweep); segment ids are unique in the store, so an event's key
//! `(timestamp, segment, offset)` orders events across streams and doubles as its `eventId` and
//! pagination position. Within a stream timestamps never decrease, so key order is file order.
//!
//! Bounds: a per-group byte cap drops the group's oldest segments, and the retention sweep drops
//! segments whose newest event is older than the group's retention.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::pattern::Pattern;
use super::segment;

/// Largest message of one event; longer lines are split (CloudWatch Logs: 256 KB per event,
/// including 26 bytes of overhead).
pub const MAX_EVENT_BYTES: usize = 256 * 1024 - 26;
/// Largest page of events returned by one read (CloudWatch Logs: 1 MB).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// Per-event overhead counted against [`MAX_PAGE_BYTES`].
const EVENT_OVERHEAD: usize = 26;
const MS_PER_DAY: i64 = 86_400_000;

/// Errors of the log store.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The log group does not exist.
    #[error("The specified log group does not exist.")]
    GroupNotFound,
    /// The log stream does not exist.
    #[error("The specified log stream does not exist.")]
    StreamNotFound,
    /// CreateLogGroup of an existing group.
    #[error("The specified log group already exists")]
    GroupExists,
    /// CreateLogStream of an existing stream.
    #[error("The specified log stream already exists")]
    StreamExists,
    /// A filesystem operation failed.
    #[error("log store: {0}: {1}")]
    Io(&'static str, std::io::Error),
    /// Sealing a message failed.
    #[error("log store: sealing a record: {0}")]
    Seal(String),
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> LogError {
    move |e| LogError::Io(what, e)
}

/// Settings of a [`LogStore`].
#[derive(Debug, Clone)]
pub struct LogStoreConfig {
    /// Directory holding the store.
    pub dir: PathBuf,
    /// Most bytes kept per log group; the oldest segments are dropped beyond it.
    pub max_group_bytes: u64,
    /// A stream starts a new segment once its current one reaches this size.
    pub segment_bytes: u64,
    /// Seals every message at rest (AES-256-GCM, the record's times as associated data); `None`
    /// stores plaintext (tests only: the server always seals).
    pub sealer: Option<Arc<ignis_crypto::RootKey>>,
}

impl LogStoreConfig {
    /// Defaults: 256 MiB per group, 8 MiB segments.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_group_bytes: 256 << 20,
            segment_bytes: 8 << 20,
            sealer: None,
        }
    }
}

/// Position of an event: orders events across the streams of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    /// Event timestamp (ms).
    pub timestamp: i64,
    /// Segment id (unique in the store).
    pub segment: u64,
    /// Byte offset in the segment.
    pub offset: u64,
}

impl EventKey {
    /// Before every event.
    pub const MIN: EventKey = EventKey {
        timestamp: i64::MIN,
        segment: 0,
        offset: 0,
    };
    /// After every event.
    pub const MAX: EventKey = EventKey {
        timestamp: i64::MAX,
        segment: u64::MAX,
        offset: u64::MAX,
    };

    /// 56 decimal digits, the shape of a CloudWatch Logs `eventId`.
    pub fn id(&self) -> String {
        format!(
            "{:020}{:020}{:016}",
            self.timestamp.max(0),
            self.segment,
            self.offset
        )
    }

    /// Inverse of [`EventKey::id`].
    pub fn parse_id(s: &str) -> Option<Self> {
        if s.len() != 56 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self {
            timestamp: s[..20].parse().ok()?,
            segment: s[20..40].parse().ok()?,
            offset: s[40..].parse().ok()?,
        })
    }
}

/// An event read back from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its position.
    pub key: EventKey,
    /// Its stream.
    pub stream: String,
    /// Event timestamp (ms).
    pub timestamp: i64,
    /// Ingestion time (ms).
    pub ingestion_time: i64,
    /// The message (invalid UTF-8 replaced).
    pub message: String,
}

/// Which streams of a group a read covers.
#[derive(Debug, Clone)]
pub enum StreamSelect {
    /// Every stream.
    All,
    /// Exactly one stream (an error if it does not exist).
    One(String),
    /// The listed streams that exist.
    Names(Vec<String>),
    /// Streams whose name starts with the prefix.
    Prefix(String),
}

/// Direction of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first, events after the cursor.
    Forward,
    /// Newest first, events before the cursor.
    Backward,
}

/// A read of events.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// Events at or after this timestamp.
    pub start: Option<i64>,
    /// Events before this timestamp (exclusive).
    pub end: Option<i64>,
    /// Exclusive position to continue from, in `direction`.
    pub cursor: Option<EventKey>,
    /// Which way to read.
    pub direction: Direction,
    /// Most events returned.
    pub limit: usize,
    /// Only matching events.
    pub pattern: Option<&'a Pattern>,
}

/// The result of a read.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Events in the read's direction.
    pub events: Vec<StoredEvent>,
    /// Whether more events may follow in the read's direction.
    pub more: bool,
}

/// A log group as DescribeLogGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// Name.
    pub name: String,
    /// Creation time (ms).
    pub creation_time: i64,
    /// Retention in days, if set.
    pub retention_days: Option<u32>,
    /// Bytes stored.
    pub stored_bytes: u64,
}

/// A log stream as DescribeLogStreams shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    /// Name.
    pub name: String,
    /// Creation time (ms).
    pub creation_time: i64,
    /// Timestamp of its first stored event.
    pub first_event: Option<i64>,
    /// Timestamp of its last event.
    pub last_event: Option<i64>,
    /// Ingestion time of its last event.
    pub last_ingestion: Option<i64>,
    /// Bytes stored.
    pub stored_bytes: u64,
}

#[derive(Debug, Clone)]
struct Segment {
    id: u64,
    path: PathBuf,
    len: u64,
    first_ts: i64,
    last_ts: i64,
}

#[derive(Debug)]
struct Stream {
    dir: PathBuf,
    creation: i64,
    segments: Vec<Segment>,
    writer: Option<(u64, BufWriter<File>)>,
    last_ts: Option<i64>,
    last_ingestion: Option<i64>,
}

#[derive(Debug)]
struct Group {
    dir: PathBuf,
    creation: i64,
    retention_days: Option<u32>,
    streams: BTreeMap<String, Stream>,
    stored: u64,
}

#[derive(Debug, Default)]
struct State {
    groups: BTreeMap<String, Group>,
}

#[derive(Debug)]
struct Inner {
    cfg: LogStoreConfig,
    state: Mutex<State>,
    next_segment: AtomicU64,
}

/// The function log store (cheap to clone; one per server).
#[derive(Debug, Clone)]
pub struct LogStore {
    inner: Arc<Inner>,
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The small metadata file of a group or stream.
#[derive(Debug, Default)]
struct Meta {
    name: Option<String>,
    created: i64,
    retention: Option<u32>,
}

fn write_meta(
    path: &Path,
    name: &str,
    created: i64,
    retention: Option<u32>,
) -> Result<(), LogError> {
    let mut text = format!("name {}\ncreated {created}\n", hex::encode(name));
    if let Some(days) = retention {
        text.push_str(&format!("retention {days}\n"));
    }
    std::fs::write(path, text).map_err(io("writing log metadata"))
}

fn read_meta(path: &Path) -> Meta {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut meta = Meta::default();
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("name", v)) => {
                meta.name = hex::decode(v).ok().and_then(|b| String::from_utf8(b).ok())
            }
            Some(("created", v)) => meta.created = v.parse().unwrap_or(0),
            Some(("retention", v)) => meta.retention = v.parse().ok(),
            _ => {}
        }
    }
    meta
}

/// The name of a group or stream directory: its metadata's, else the hex-encoded directory name.
fn name_of(dir: &Path, meta: &Meta) -> Option<String> {
    if let Some(name) = &meta.name {
        return Some(name.clone());
    }
    let name = dir.file_name()?.to_str()?;
    String::from_utf8(hex::decode(name).ok()?).ok()
}

/// A new directory for `name` under `parent`: its hex encoding, or for names too long for a file
/// name a hash of it (the name itself is kept in the metadata file).
fn entry_dir(parent: &Path, name: &str) -> PathBuf {
    let encoded = hex::encode(name);
    if encoded.len() <= 200 {
        return parent.join(encoded);
    }
    // FNV-1a: a stable, dependency-free spread; collisions get a numeric suffix.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (0u32..)
        .map(|i| parent.join(format!("x{hash:016x}-{i}")))
        .find(|p| !p.exists())
        .unwrap_or_else(|| parent.join(format!("x{hash:016x}")))
}

impl LogStore {
    /// Open (or create) the store at `cfg.dir`, rebuilding its index from the segment files.
    pub fn open(cfg: LogStoreConfig) -> Result<Self, LogError> {
        std::fs::create_dir_all(&cfg.dir).map_err(io("creating the log store"))?;
        let mut state = State::default();
        let mut max_segment = 0u64;
        for g in std::fs::read_dir(&cfg.dir).map_err(io("listing log groups"))? {
            let gdir = g.map_err(io("listing log groups"))?.path();
            let gmeta = read_meta(&gdir.join("group"));
            let Some(gname) = name_of(&gdir, &gmeta) else {
                continue;
            };
            let (creation, retention_days) = (gmeta.created, gmeta.retention);
            let mut group = Group {
                dir: gdir.clone(),
                creation,
                retention_days,
                streams: BTreeMap::new(),
                stored: 0,
            };
            for s in std::fs::read_dir(&gdir).map_err(io("listing log streams"))? {
                let sdir = s.map_err(io("listing log streams"))?.path();
                if !sdir.is_dir() {
                    continue;
                }
                let smeta = read_meta(&sdir.join("stream"));
                let Some(sname) = name_of(&sdir, &smeta) else {
                    continue;
                };
                let screation = smeta.created;
                let mut segments = Vec::new();
                for f in std::fs::read_dir(&sdir).map_err(io("listing segments"))? {
                    let path = f.map_err(io("listing segments"))?.path();
                    let Some(id) = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.strip_suffix(".seg"))
                        .and_then(|n| u64::from_str_radix(n, 16).ok())
                    else {
                        continue;
                    };
                    max_segment = max_segment.max(id);
                    let s = segment::summarize(&path).map_err(io("reading a segment"))?;
                    if s.events == 0 {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    segments.push((
                        Segment {
                            id,
                            path,
                            len: s.len,
                            first_ts: s.first_ts,
                            last_ts: s.last_ts,
                        },
                        s.last_ingestion,
                    ));
                }
                segments.sort_by_key(|(s, _)| s.id);
                let last_ts = segments.iter().map(|(s, _)| s.last_ts).max();
                let last_ingestion = segments.iter().map(|(_, i)| *i).max();
                let segments: Vec<Segment> = segments.into_iter().map(|(s, _)| s).collect();
                group.stored += segments.iter().map(|s| s.len).sum::<u64>();
                group.streams.insert(
                    sname,
                    Stream {
                        dir: sdir,
                        creation: screation,
                        segments,
                        writer: None,
                        last_ts,
                        last_ingestion,
                    },
                );
            }
            state.groups.insert(gname, group);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                cfg,
                state: Mutex::new(state),
                next_segment: AtomicU64::new(max_segment + 1),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough state (appends are whole
        // records); keep serving rather than poisoning the store for the process's life.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn segment_limit(&self) -> u64 {
        self.inner
            .cfg
            .segment_bytes
            .min(self.inner.cfg.max_group_bytes / 4)
            .max(64)
    }

    fn ensure_group<'s>(
        &self,
        state: &'s mut State,
        name: &str,
    ) -> Result<&'s mut Group, LogError> {
        if !state.groups.contains_key(name) {
            let dir = entry_dir(&self.inner.cfg.dir, name);
            std::fs::create_dir_all(&dir).map_err(io("creating a log group"))?;
            let creation = now_ms();
            write_meta(&dir.join("group"), name, creation, None)?;
            state.groups.insert(
                name.to_string(),
                Group {
                    dir,
                    creation,
                    retention_days: None,
                    streams: BTreeMap::new(),
                    stored: 0,
                },
            );
        }
        state.groups.get_mut(name).ok_or(LogError::GroupNotFound)
    }

    /// CreateLogGroup.
    pub fn create_group(&self, name: &str) -> Result<(), LogError> {
        let mut state = self.lock();
        if state.groups.contains_key(name) {
            return Err(LogError::GroupExists);
        }
        self.ensure_group(&mut state, name).map(|_| ())
    }

    /// CreateLogStream (empty until events are appended).
    pub fn create_stream(&self, group: &str, stream: &str) -> Result<(), LogError> {
        let mut state = self.lock();
        let g = state.groups.get_mut(group).ok_or(LogError::GroupNotFound)?;
        if g.streams.contains_key(stream) {
            return Err(LogError::StreamExists);
        }
        new_stream(g, stream, now_ms())
    }

    /// DeleteLogStream: removes the stream and its events.
    pub fn delete_stream(&self, group: &str, stream: &str) -> Result<(), LogError> {
        let mut state = self.lock();
        let g = state.groups.get_mut(group).ok_or(LogError::GroupNotFound)?;
        let s = g.streams.remove(stream).ok_or(LogError::StreamNotFound)?;
        g.stored = g
            .stored
            .saturating_sub(s.segments.iter().map(|x| x.len).sum());
        drop(s.writer);
        std::fs::remove_dir_all(&s.dir).map_err(io("deleting a log stream"))
    }

    /// DeleteLogGroup: removes the group and every event in it.
    pub fn delete_group(&self, name: &str) -> Result<(), LogError> {
        let group = self
            .lock()
            .groups
            .remove(name)
            .ok_or(LogError::GroupNotFound)?;
        std::fs::remove_dir_all(&group.dir).map_err(io("deleting a log group"))
    }

    /// PutRetentionPolicy / DeleteRetentionPolicy (`None`).
    pub fn set_retention(&self, name: &str, days: Option<u32>) -> Result<(), LogError> {
        let mut state = self.lock();
        let group = state.groups.get_mut(name).ok_or(LogError::GroupNotFound)?;
        write_meta(&group.dir.join("group"), name, group.creation, days)?;
        group.retention_days = days;
        Ok(())
    }

    /// Every log group, by name.
    pub fn groups(&self) -> Vec<GroupInfo> {
        self.lock()
            .groups
            .iter()
            .map(|(name, g)| GroupInfo {
                name: name.clone(),
                creation_time: g.creation,
                retention_days: g.retention_days,
                stored_bytes: g.stored,
            })
            .collect()
    }

    /// The streams of a group, by name.
    pub fn streams(&self, group: &str) -> Result<Vec<StreamInfo>, LogError> {
        let state = self.lock();
        let g = state.groups.get(group).ok_or(LogError::GroupNotFound)?;
        Ok(g.streams
            .iter()
            .map(|(name, s)| StreamInfo {
                name: name.clone(),
                creation_time: s.creation,
                first_event: s.segments.first().map(|x| x.first_ts),
                last_event: s.last_ts,
                last_ingestion: s.last_ingestion,
                stored_bytes: s.segments.iter().map(|x| x.len).sum(),
            })
            .collect())
    }

    /// Append events (timestamp, message) to a stream, creating the group and stream as needed
    /// (as Lambda does). Timestamps earlier than the stream's last event are raised to it.
    pub fn append(
        &self,
        group: &str,
        stream: &str,
        events: &[(i64, &[u8])],
    ) -> Result<(), LogError> {
        if events.is_empty() {
            return Ok(());
        }
        let ingestion = now_ms();
        let segment_limit = self.segment_limit();
        let mut state = self.lock();
        let g = self.ensure_group(&mut state, group)?;
        if !g.streams.contains_key(stream) {
            new_stream(g, stream, ingestion)?;
        }
        let s = g.streams.get_mut(stream).ok_or(LogError::StreamNotFound)?;
        let mut buf = Vec::with_capacity(events.iter().map(|(_, m)| m.len() + 20).sum());
        let mut added = 0u64;
        for (ts, message) in events {
            let ts = (*ts).max(s.last_ts.unwrap_or(i64::MIN)).max(0);
            let full = s.segments.last().map(|x| x.len).unwrap_or(0) >= segment_limit;
            if s.writer.is_none() && !full {
                s.writer = reopen_last(&s.segments);
            }
            // Roll to a new segment when the current one is full (between records only).
            if s.writer.is_none() || full {
                if let Some((_, mut w)) = s.writer.take() {
                    if !buf.is_empty() {
                        w.write_all(&buf).map_err(io("appending to a segment"))?;
                        buf.clear();
                    }
                    w.flush().map_err(io("flushing a segment"))?;
                }
                let id = self.inner.next_segment.fetch_add(1, Ordering::Relaxed);
                let path = s.dir.join(format!("{id:016x}.seg"));
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(io("creating a segment"))?;
                s.writer = Some((id, BufWriter::with_capacity(64 * 1024, file)));
                s.segments.push(Segment {
                    id,
                    path,
                    len: 0,
                    first_ts: ts,
                    last_ts: ts,
                });
            }
            let Some(seg) = s.segments.last_mut() else {
                continue;
            };
            let before = buf.len();
            match &self.inner.cfg.sealer {
                Some(key) => {
                    let sealed = key
                        .seal(message, &record_context(ts, ingestion))
                        .map_err(|e| LogError::Seal(e.to_string()))?;
                    segment::encode(&mut buf, ts, ingestion, &sealed);
                }
                None => segment::encode(&mut buf, ts, ingestion, message),
            }
            let n = (buf.len() - before) as u64;
            seg.len += n;
            seg.last_ts = ts;
            added += n;
            s.last_ts = Some(ts);
            s.last_ingestion = Some(ingestion);
        }
        if let Some((_, w)) = s.writer.as_mut() {
            w.write_all(&buf).map_err(io("appending to a segment"))?;
        }
        g.stored += added;
        if g.stored > self.inner.cfg.max_group_bytes {
            enforce_cap(g, self.inner.cfg.max_group_bytes);
        }
        Ok(())
    }

    /// Append a block of output as one event per line (each message keeps its `\n`, as Lambda's
    /// do); lines longer than [`MAX_EVENT_BYTES`] are split. All events get `timestamp`.
    pub fn append_text(
        &self,
        group: &str,
        stream: &str,
        timestamp: i64,
        text: &[u8],
    ) -> Result<(), LogError> {
        let events: Vec<(i64, &[u8])> = split_lines(text).map(|l| (timestamp, l)).collect();
        self.append(group, stream, &events)
    }

    /// Read events of a group (flushes pending writes first; the file reading happens without
    /// holding the store's lock).
    pub fn read(
        &self,
        group: &str,
        select: &StreamSelect,
        q: &Query<'_>,
    ) -> Result<Page, LogError> {
        let snapshot = {
            let mut state = self.lock();
            let g = state.groups.get_mut(group).ok_or(LogError::GroupNotFound)?;
            if let StreamSelect::One(name) = select {
                if !g.streams.contains_key(name) {
                    return Err(LogError::StreamNotFound);
                }
            }
            let mut snap = Vec::new();
            for (name, s) in g.streams.iter_mut() {
                let selected = match select {
                    StreamSelect::All => true,
                    StreamSelect::One(n) => n == name,
                    StreamSelect::Names(ns) => ns.iter().any(|n| n == name),
                    StreamSelect::Prefix(p) => name.starts_with(p.as_str()),
                };
                if !selected || s.segments.is_empty() {
                    continue;
                }
                if let Some((_, w)) = s.writer.as_mut() {
                    w.flush().map_err(io("flushing a segment"))?;
                }
                snap.push((name.clone(), s.segments.clone()));
            }
            snap
        };
        let cap = q.limit.saturating_add(1);
        let mut all = Vec::new();
        for (name, segments) in &snapshot {
            all.extend(scan_stream(
                name,
                segments,
                q,
                cap,
                self.inner.cfg.sealer.as_deref(),
            )?);
        }
        match q.direction {
            Direction::Forward => all.sort_by_key(|e| e.key),
            Direction::Backward => all.sort_by_key(|e| std::cmp::Reverse(e.key)),
        }
        let mut more = all.len() > q.limit;
        all.truncate(q.limit);
        let mut bytes = 0usize;
        let mut keep = all.len();
        for (i, e) in all.iter().enumerate() {
            bytes += e.message.len() + EVENT_OVERHEAD;
            if bytes > MAX_PAGE_BYTES && i > 0 {
                keep = i;
                more = true;
                break;
            }
        }
        all.truncate(keep);
        Ok(Page { events: all, more })
    }

    /// Write every buffered event to its segment file (at shutdown; the sweep does it too).
    pub fn flush(&self) {
        let mut state = self.lock();
        for g in state.groups.values_mut() {
            flush_group(g);
        }
    }

    /// Flush every pending write, close the files of streams idle for [`IDLE_CLOSE_MS`] (every
    /// environment has a stream: open files must not grow with cold starts), and drop segments past
    /// their group's retention (at `now`).
    pub fn sweep(&self, now: i64) {
        let mut state = self.lock();
        for g in state.groups.values_mut() {
            flush_group(g);
            for s in g.streams.values_mut() {
                if s.writer.is_some()
                    && now.saturating_sub(s.last_ingestion.unwrap_or(0)) > IDLE_CLOSE_MS
                {
                    s.writer = None;
                }
            }
            let Some(days) = g.retention_days else {
                continue;
            };
            let cutoff = now.saturating_sub(i64::from(days) * MS_PER_DAY);
            let mut freed = 0;
            for s in g.streams.values_mut() {
                let (old, keep): (Vec<Segment>, Vec<Segment>) =
                    s.segments.drain(..).partition(|x| x.last_ts < cutoff);
                s.segments = keep;
                for seg in old {
                    if s.writer.as_ref().is_some_and(|(id, _)| *id == seg.id) {
                        s.writer = None;
                    }
                    freed += seg.len;
                    let _ = std::fs::remove_file(&seg.path);
                }
            }
            g.stored = g.stored.saturating_sub(freed);
            // Streams left empty and older than the retention go too.
            let empty: Vec<String> = g
                .streams
                .iter()
                .filter(|(_, s)| s.segments.is_empty() && s.creation < cutoff)
                .map(|(n, _)| n.clone())
                .collect();
            for name in empty {
                if let Some(s) = g.streams.remove(&name) {
                    let _ = std::fs::remove_dir_all(&s.dir);
                }
            }
        }
    }

    /// Flush and close the file of a stream whose writer is gone (its environment was destroyed);
    /// a later append reopens it.
    pub fn close_stream(&self, group: &str, stream: &str) {
        let mut state = self.lock();
        if let Some(s) = state
            .groups
            .get_mut(group)
            .and_then(|g| g.streams.get_mut(stream))
        {
            if let Some((_, mut w)) = s.writer.take() {
                if let Err(e) = w.flush() {
                    tracing::warn!(error = %e, "flushing a closed log stream failed");
                }
            }
        }
    }

    /// Run [`LogStore::sweep`] every `every` until the store is dropped (needs a tokio runtime).
    pub fn spawn_sweeper(&self, every: Duration) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                let store = LogStore { inner };
                let _ = tokio::task::spawn_blocking(move || store.sweep(now_ms())).await;
            }
        });
    }
}

/// A stream's segment file is closed after this long without appends.
pub const IDLE_CLOSE_MS: i64 = 10_000;

/// Reopen a stream's last segment for appending, if it ends exactly where its complete records
/// end (a torn tail from a crash means a new segment instead).
fn reopen_last(segments: &[Segment]) -> Option<(u64, BufWriter<File>)> {
    let last = segments.last()?;
    let file = OpenOptions::new().append(true).open(&last.path).ok()?;
    if file.metadata().ok()?.len() != last.len {
        return None;
    }
    Some((last.id, BufWriter::with_capacity(64 * 1024, file)))
}

fn new_stream(g: &mut Group, name: &str, creation: i64) -> Result<(), LogError> {
    let dir = entry_dir(&g.dir, name);
    std::fs::create_dir_all(&dir).map_err(io("creating a log stream"))?;
    write_meta(&dir.join("stream"), name, creation, None)?;
    g.streams.insert(
        name.to_string(),
        Stream {
            dir,
            creation,
            segments: Vec::new(),
            writer: None,
            last_ts: None,
            last_ingestion: None,
        },
    );
    Ok(())
}

fn flush_group(g: &mut Group) {
    for s in g.streams.values_mut() {
        if let Some((_, w)) = s.writer.as_mut() {
            if let Err(e) = w.flush() {
                tracing::warn!(error = %e, "flushing a log segment failed");
            }
        }
    }
}

/// Split output into Lambda-style events: one per line, each keeping its newline.
pub fn split_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split_inclusive(|b| *b == b'\n')
        .flat_map(|line| line.chunks(MAX_EVENT_BYTES))
}

/// Drop a group's oldest segments until it is within `cap`.
fn enforce_cap(g: &mut Group, cap: u64) {
    while g.stored > cap {
        let oldest = g
            .streams
            .iter()
            .flat_map(|(name, s)| {
                s.segments
                    .iter()
                    .map(move |seg| (seg.last_ts, seg.id, name))
            })
            .min();
        let Some((_, id, name)) = oldest else { break };
        let name = name.clone();
        let Some(s) = g.streams.get_mut(&name) else {
            break;
        };
        let Some(pos) = s.segments.iter().position(|x| x.id == id) else {
            break;
        };
        let seg = s.segments.remove(pos);
        if s.writer.as_ref().is_some_and(|(wid, _)| *wid == id) {
            s.writer = None;
        }
        g.stored = g.stored.saturating_sub(seg.len);
        if let Err(e) = std::fs::remove_file(&seg.path) {
            tracing::warn!(error = %e, "removing a log segment failed");
        }
    }
}

/// Read up to `cap` matching events of one stream in the query's direction, stopping once they
/// exceed a page's bytes (later events of this stream could not be on the page).
fn scan_stream(
    name: &str,
    segments: &[Segment],
    q: &Query<'_>,
    cap: usize,
    sealer: Option<&ignis_crypto::RootKey>,
) -> Result<Vec<StoredEvent>, LogError> {
    let start = q.start.unwrap_or(i64::MIN);
    let end = q.end.unwrap_or(i64::MAX);
    let mut out = Vec::new();
    let mut bytes = 0usize;
    let event = |seg: &Segment, r: segment::Record| StoredEvent {
        key: EventKey {
            timestamp: r.timestamp,
            segment: seg.id,
            offset: r.offset,
        },
        stream: name.to_string(),
        timestamp: r.timestamp,
        ingestion_time: r.ingestion,
        message: match sealer {
            Some(key) => match key.open(&r.message, &record_context(r.timestamp, r.ingestion)) {
                Ok(plain) => String::from_utf8_lossy(&plain).into_owned(),
                Err(_) => "[log record failed its integrity check]".to_string(),
            },
            None => String::from_utf8_lossy(&r.message).into_owned(),
        },
    };
    let wanted = |e: &StoredEvent| {
        e.timestamp >= start && e.timestamp < end && q.pattern.is_none_or(|p| p.matches(&e.message))
    };
    match q.direction {
        Direction::Forward => {
            let after = q.cursor.unwrap_or(EventKey::MIN);
            for seg in segments {
                if seg.last_ts < start || seg.last_ts < after.timestamp {
                    continue;
                }
                if seg.first_ts >= end || out.len() >= cap || bytes > MAX_PAGE_BYTES {
                    break;
                }
                let from = if after.segment == seg.id {
                    after.offset
                } else {
                    0
                };
                let mut stop = false;
                let read = segment::scan(&seg.path, from, seg.len, |r| {
                    if r.timestamp >= end {
                        stop = true;
                        return false;
                    }
                    let e = event(seg, r);
                    if e.key > after && wanted(&e) {
                        bytes += e.message.len() + EVENT_OVERHEAD;
                        out.push(e);
                    }
                    out.len() < cap && bytes <= MAX_PAGE_BYTES
                });
                skip_missing(read)?;
                if stop {
                    break;
                }
            }
        }
        Direction::Backward => {
            let before = q.cursor.unwrap_or(EventKey::MAX);
            for seg in segments.iter().rev() {
                if seg.first_ts >= end || seg.first_ts > before.timestamp {
                    continue;
                }
                if seg.last_ts < start || out.len() >= cap || bytes > MAX_PAGE_BYTES {
                    break;
                }
                let mut found = Vec::new();
                let read = segment::scan(&seg.path, 0, seg.len, |r| {
                    let e = event(seg, r);
                    if e.key >= before {
                        return false;
                    }
                    if wanted(&e) {
                        found.push(e);
                    }
                    true
                });
                skip_missing(read)?;
                for e in found.into_iter().rev() {
                    if out.len() >= cap || bytes > MAX_PAGE_BYTES {
                        break;
                    }
                    bytes += e.message.len() + EVENT_OVERHEAD;
                    out.push(e);
                }
            }
            out.truncate(cap);
        }
    }
    Ok(out)
}

/// A segment removed (cap, retention) between the snapshot and the read is simply skipped.
fn skip_missing(r: std::io::Result<()>) -> Result<(), LogError> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other.map_err(io("reading a segment")),
    }
}

/// A fresh directory for a test.
#[cfg(test)]
pub(crate) fn test_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ignis-observe-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test dir");
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(tag: &str, cap: u64, segment: u64) -> (LogStore, PathBuf) {
        let dir = test_dir(tag);
        let s = LogStore::open(LogStoreConfig {
            dir: dir.clone(),
            max_group_bytes: cap,
            segment_bytes: segment,
            sealer: None,
        })
        .unwrap();
        (s, dir)
    }

    fn q(direction: Direction, cursor: Option<EventKey>, limit: usize) -> Query<'static> {
        Query {
            start: None,
            end: None,
            cursor,
            direction,
            limit,
            pattern: None,
        }
    }

    fn messages(p: &Page) -> Vec<&str> {
        p.events.iter().map(|e| e.message.as_str()).collect()
    }

    #[test]
    fn append_lines_and_paginate_both_ways() {
        let (s, dir) = store("paginate", 1 << 30, 64);
        s.append_text("/aws/lambda/f", "st", 1000, b"a\nb\nc\nd\ne")
            .unwrap();
        let one = StreamSelect::One("st".into());
        let p1 = s
            .read("/aws/lambda/f", &one, &q(Direction::Forward, None, 2))
            .unwrap();
        assert_eq!(messages(&p1), ["a\n", "b\n"]);
        assert!(p1.more);
        let p2 = s
            .read(
                "/aws/lambda/f",
                &one,
                &q(Direction::Forward, Some(p1.events[1].key), 2),
            )
            .unwrap();
        assert_eq!(messages(&p2), ["c\n", "d\n"]);
        let p3 = s
            .read(
                "/aws/lambda/f",
                &one,
                &q(Direction::Forward, Some(p2.events[1].key), 2),
            )
            .unwrap();
        assert_eq!(messages(&p3), ["e"]);
        assert!(!p3.more);
        let back = s
            .read("/aws/lambda/f", &one, &q(Direction::Backward, None, 2))
            .unwrap();
        assert_eq!(messages(&back), ["e", "d\n"]);
        let back2 = s
            .read(
                "/aws/lambda/f",
                &one,
                &q(Direction::Backward, Some(back.events[1].key), 10),
            )
            .unwrap();
        assert_eq!(messages(&back2), ["c\n", "b\n", "a\n"]);
        // Small segments: the five records span several files.
        let segs = std::fs::read_dir(
            dir.join(hex::encode("/aws/lambda/f"))
                .join(hex::encode("st")),
        )
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "seg")
        })
        .count();
        assert!(segs >= 2, "{segs} segments");
        assert!(matches!(
            s.read(
                "/aws/lambda/f",
                &StreamSelect::One("nope".into()),
                &q(Direction::Forward, None, 1)
            ),
            Err(LogError::StreamNotFound)
        ));
        assert!(matches!(
            s.read(
                "/aws/lambda/g",
                &StreamSelect::All,
                &q(Direction::Forward, None, 1)
            ),
            Err(LogError::GroupNotFound)
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn filter_interleaves_streams_by_time_with_pattern_and_range() {
        let (s, dir) = store("filter", 1 << 30, 1 << 20);
        s.append_text("g", "s1", 100, b"START one\nuser MARK x\n")
            .unwrap();
        s.append_text("g", "s2", 150, b"user MARK y\nnoise\n")
            .unwrap();
        s.append_text("g", "s1", 200, b"user MARK z\n").unwrap();
        let p = Pattern::parse("MARK").unwrap();
        let mut query = q(Direction::Forward, None, 10);
        query.pattern = Some(&p);
        let page = s.read("g", &StreamSelect::All, &query).unwrap();
        assert_eq!(
            messages(&page),
            ["user MARK x\n", "user MARK y\n", "user MARK z\n"]
        );
        assert_eq!(page.events[1].stream, "s2");
        query.start = Some(150);
        query.end = Some(200);
        let page = s.read("g", &StreamSelect::All, &query).unwrap();
        assert_eq!(messages(&page), ["user MARK y\n"]);
        // Pagination across streams by key.
        let mut query = q(Direction::Forward, None, 1);
        query.pattern = Some(&p);
        let mut seen = Vec::new();
        loop {
            let page = s
                .read("g", &StreamSelect::Prefix("s".into()), &query)
                .unwrap();
            seen.extend(page.events.iter().map(|e| e.message.clone()));
            if !page.more {
                break;
            }
            query.cursor = page.events.last().map(|e| e.key);
        }
        assert_eq!(seen, ["user MARK x\n", "user MARK y\n", "user MARK z\n"]);
        let names = StreamSelect::Names(vec!["s2".into()]);
        assert_eq!(
            s.read("g", &names, &q(Direction::Forward, None, 10))
                .unwrap()
                .events
                .len(),
            2
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn pages_stop_at_one_megabyte_across_streams() {
        let (s, dir) = store("page-bytes", 1 << 30, 1 << 20);
        let big = vec![b'q'; 100_000];
        for i in 0..30i64 {
            let stream = format!("s{}", i % 3);
            s.append("g", &stream, &[(i, big.as_slice())]).unwrap();
        }
        let mut query = q(Direction::Forward, None, 10_000);
        let mut total = 0;
        let mut pages = 0;
        loop {
            let page = s.read("g", &StreamSelect::All, &query).unwrap();
            let bytes: usize = page
                .events
                .iter()
                .map(|e| e.message.len() + EVENT_OVERHEAD)
                .sum();
            assert!(bytes <= MAX_PAGE_BYTES, "{bytes}");
            total += page.events.len();
            pages += 1;
            if !page.more {
                break;
            }
            query.cursor = page.events.last().map(|e| e.key);
        }
        assert_eq!((total, pages), (30, 3));
        let mut back = q(Direction::Backward, None, 10_000);
        let page = s.read("g", &StreamSelect::All, &back).unwrap();
        assert_eq!(page.events.len(), 10);
        assert_eq!(page.events[0].timestamp, 29);
        back.cursor = page.events.last().map(|e| e.key);
        assert_eq!(
            s.read("g", &StreamSelect::All, &back).unwrap().events[0].timestamp,
            19
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn timestamps_never_go_back_within_a_stream() {
        let (s, dir) = store("monotonic", 1 << 30, 1 << 20);
        s.append_text("g", "s", 500, b"late\n").unwrap();
        s.append_text("g", "s", 100, b"early\n").unwrap();
        let page = s
            .read("g", &StreamSelect::All, &q(Direction::Forward, None, 10))
            .unwrap();
        assert_eq!(page.events[1].timestamp, 500);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reopen_keeps_events_groups_and_retention() {
        let (s, dir) = store("reopen", 1 << 30, 1 << 20);
        let t0 = now_ms();
        s.append_text("g", "s", t0, b"one\ntwo\n").unwrap();
        s.set_retention("g", Some(7)).unwrap();
        s.sweep(now_ms());
        drop(s);
        let s = LogStore::open(LogStoreConfig::new(&dir)).unwrap();
        let groups = s.groups();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].retention_days, Some(7));
        assert_eq!(groups[0].stored_bytes, 2 * segment::HEADER_BYTES + 8);
        s.append_text("g", "s", t0 + 200, b"three\n").unwrap();
        let page = s
            .read("g", &StreamSelect::All, &q(Direction::Forward, None, 10))
            .unwrap();
        assert_eq!(messages(&page), ["one\n", "two\n", "three\n"]);
        let info = &s.streams("g").unwrap()[0];
        assert_eq!(
            (info.first_event, info.last_event),
            (Some(t0), Some(t0 + 200))
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn retention_sweep_drops_old_segments() {
        let (s, dir) = store("retention", 1 << 30, 4096);
        let day = MS_PER_DAY;
        let now = 100 * day;
        s.append("g", "old", &[(now - 10 * day, b"old\n".as_slice())])
            .unwrap();
        s.append("g", "new", &[(now - day, b"new\n".as_slice())])
            .unwrap();
        s.sweep(now);
        assert_eq!(
            s.read("g", &StreamSelect::All, &q(Direction::Forward, None, 10))
                .unwrap()
                .events
                .len(),
            2
        );
        s.set_retention("g", Some(7)).unwrap();
        s.sweep(now);
        let page = s
            .read("g", &StreamSelect::All, &q(Direction::Forward, None, 10))
            .unwrap();
        assert_eq!(messages(&page), ["new\n"]);
        assert_eq!(s.groups()[0].stored_bytes, segment::HEADER_BYTES + 4);
        s.set_retention("g", None).unwrap();
        assert_eq!(s.groups()[0].retention_days, None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn group_cap_drops_oldest_segments() {
        let cap = 64 * 1024;
        let (s, dir) = store("cap", cap, 1 << 20);
        let line = vec![b'x'; 999];
        for i in 0..300i64 {
            let mut msg = line.clone();
            msg.extend_from_slice(format!("{i:04}\n").as_bytes());
            s.append("g", if i % 2 == 0 { "a" } else { "b" }, &[(i, &msg)])
                .unwrap();
        }
        let stored = s.groups()[0].stored_bytes;
        assert!(stored <= cap, "{stored} > {cap}");
        let on_disk: u64 = walk(&dir);
        assert!(on_disk <= cap + 1024, "{on_disk} bytes on disk");
        let page = s
            .read(
                "g",
                &StreamSelect::All,
                &q(Direction::Forward, None, 10_000),
            )
            .unwrap();
        assert!(page.events.len() > 30);
        // What survives is the newest.
        assert!(page.events.last().unwrap().message.ends_with("0299\n"));
        assert!(page.events.first().unwrap().timestamp > 100);
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn walk(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p)
                } else if p.extension().is_some_and(|x| x == "seg") {
                    p.metadata().unwrap().len()
                } else {
                    0
                }
            })
            .sum()
    }

    #[test]
    fn names_too_long_for_a_file_name_work_and_reopen() {
        let (s, dir) = store("long-names", 1 << 30, 1 << 20);
        let group = format!("/{}", "g".repeat(511));
        let stream = "s".repeat(512);
        s.append_text(&group, &stream, 7, b"deep\n").unwrap();
        drop(s);
        let s = LogStore::open(LogStoreConfig::new(&dir)).unwrap();
        assert_eq!(s.groups()[0].name, group);
        assert_eq!(s.streams(&group).unwrap()[0].name, stream);
        let one = StreamSelect::One(stream.clone());
        let page = s
            .read(&group, &one, &q(Direction::Forward, None, 10))
            .unwrap();
        assert_eq!(messages(&page), ["deep\n"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn create_and_delete_groups() {
        let (s, dir) = store("groups", 1 << 30, 1 << 20);
        s.create_group("x").unwrap();
        assert!(matches!(s.create_group("x"), Err(LogError::GroupExists)));
        s.append_text("x", "s", 1, b"hi\n").unwrap();
        s.delete_group("x").unwrap();
        assert!(s.groups().is_empty());
        assert!(matches!(s.delete_group("x"), Err(LogError::GroupNotFound)));
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn long_lines_are_split_and_event_ids_round_trip() {
        let long = vec![b'y'; MAX_EVENT_BYTES + 10];
        let parts: Vec<&[u8]> = split_lines(&long).collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].len(), 10);
        let k = EventKey {
            timestamp: 1_700_000_000_000,
            segment: 42,
            offset: 1234,
        };
        assert_eq!(k.id().len(), 56);
        assert_eq!(EventKey::parse_id(&k.id()), Some(k));
        assert_eq!(EventKey::parse_id("12"), None);
    }

    /// Cost of writing one typical invocation's log (START, two user lines, END, REPORT) to a
    /// stream: the logging cost added to a warm invoke (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn bench_invoke_sized_append() {
        let (s, dir) = store("bench-invoke", 1 << 40, 8 << 20);
        let log = b"START RequestId: 0b1e7c52-3d0a-4c47-9b5e-2f8f0f3a9d11 Version: $LATEST\n\
hello from the handler\nsecond line of output\n\
END RequestId: 0b1e7c52-3d0a-4c47-9b5e-2f8f0f3a9d11\n\
REPORT RequestId: 0b1e7c52-3d0a-4c47-9b5e-2f8f0f3a9d11\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n";
        let n = 100_000u32;
        let mut samples = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let t = std::time::Instant::now();
            s.append_text("/aws/lambda/bench", "2026/01/01/[$LATEST]00", now_ms(), log)
                .unwrap();
            samples.push(t.elapsed());
        }
        samples.sort();
        let p50 = samples[samples.len() / 2];
        let p99 = samples[samples.len() * 99 / 100];
        println!(
            "log store: invoke-sized append ({} bytes, 5 events) p50 {p50:?} p99 {p99:?}",
            log.len()
        );
        std::fs::remove_dir_all(dir).unwrap();
        assert!(p50 < std::time::Duration::from_micros(20));
    }

    /// Write throughput (run with `--ignored --nocapture`; target >= 50 MB/s).
    #[test]
    #[ignore]
    fn bench_write_throughput() {
        let (s, dir) = store("bench", 1 << 40, 8 << 20);
        // One invocation's worth of output per append: 64 lines of 100 bytes.
        let mut block = Vec::new();
        for i in 0..64 {
            block.extend_from_slice(format!("{i:04} {}\n", "z".repeat(94)).as_bytes());
        }
        let rounds = 40_000;
        let t = std::time::Instant::now();
        for i in 0..rounds {
            s.append_text(
                "/aws/lambda/bench",
                &format!("s{}", i % 8),
                now_ms(),
                &block,
            )
            .unwrap();
        }
        s.sweep(now_ms());
        let secs = t.elapsed().as_secs_f64();
        let mb = (block.len() * rounds) as f64 / 1e6;
        println!(
            "log store: {mb:.0} MB in {secs:.2} s = {:.0} MB/s, {:.2} us per 64-line append",
            mb / secs,
            secs * 1e6 / rounds as f64
        );
        let t = std::time::Instant::now();
        let p = Pattern::parse("0042").unwrap();
        let mut query = q(Direction::Forward, None, 100);
        query.pattern = Some(&p);
        let page = s
            .read("/aws/lambda/bench", &StreamSelect::All, &query)
            .unwrap();
        println!(
            "filter over {mb:.0} MB: first page of {} in {:?}",
            page.events.len(),
            t.elapsed()
        );
        std::fs::remove_dir_all(dir).unwrap();
        assert!(mb / secs >= 50.0);
    }
}

/// Associated data of a sealed record: its timestamps, so a message cannot be moved to another time.
fn record_context(timestamp: i64, ingestion: i64) -> [u8; 20] {
    let mut c = [0u8; 20];
    c[..4].copy_from_slice(b"log1");
    c[4..12].copy_from_slice(&timestamp.to_le_bytes());
    c[12..].copy_from_slice(&ingestion.to_le_bytes());
    c
}

#[cfg(test)]
mod sealing_tests {
    use super::*;

    #[test]
    fn sealed_store_keeps_no_plaintext_and_reads_back() {
        let dir = test_dir("sealed");
        let mut cfg = LogStoreConfig::new(&dir);
        cfg.sealer = Some(Arc::new(
            ignis_crypto::RootKey::generate().expect("root key"),
        ));
        let store = LogStore::open(cfg.clone()).expect("open");
        let marker = "marker-5f1b2c-never-in-plaintext";
        store
            .append("/aws/lambda/f", "s1", &[(1000, marker.as_bytes())])
            .expect("append");
        store.flush();
        let mut plain_found = false;
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if std::fs::read(&p)
                    .expect("read")
                    .windows(marker.len())
                    .any(|w| w == marker.as_bytes())
                {
                    plain_found = true;
                }
            }
        }
        assert!(!plain_found, "a sealed store wrote plaintext");
        drop(store);
        let reopened = LogStore::open(cfg).expect("reopen");
        let page = reopened
            .read(
                "/aws/lambda/f",
                &StreamSelect::One("s1".into()),
                &Query {
                    start: None,
                    end: None,
                    cursor: None,
                    direction: Direction::Forward,
                    limit: 10,
                    pattern: None,
                },
            )
            .expect("read");
        assert_eq!(page.events[0].message, marker);
        std::fs::remove_dir_all(dir).expect("cleanup");
    }
}
