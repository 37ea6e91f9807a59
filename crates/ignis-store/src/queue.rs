//! The durable queue of asynchronous invocations, in the metadata database.
//!
//! - **Writes are group-committed**: enqueues, completions and reschedules of concurrent callers go
//!   to one writer task that applies a whole batch in one transaction (one fsync under
//!   `synchronous=FULL`); each call returns only once its write is durable, so the API answers 202
//!   after the commit.
//! - **Payloads** are envelope-encrypted (a fresh AES-256-GCM data key per event, wrapped by the root
//!   key) and bound to the event's request id.
//! - **Claims** take up to `n` visible events of one function in a single `UPDATE ... RETURNING`
//!   statement and hide them for a visibility timeout; an event whose poller died becomes visible
//!   again. On SQLite the statement is the single writer; on PostgreSQL the same statement takes
//!   [`SKIP_LOCKED`] in its sub-select so concurrent pollers never claim the same row.
//! - **Completion** deletes the row (idempotent) in the same transaction that enqueues follow-up
//!   events (destination records), so a record is never lost nor produced without its completion.
//! - **Reschedule** stores the new attempt counters and visibility under the claim token only, so a
//!   poller whose claim expired cannot overwrite another's.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ignis_crypto::{open_envelope, seal_envelope};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use tokio::sync::{mpsc, oneshot, Notify};

use crate::{MetaStore, StoreError, StoreResult};

/// Lock clause of the claim's sub-select: empty on SQLite (one writer at a time), `FOR UPDATE SKIP
/// LOCKED` on PostgreSQL.
pub const SKIP_LOCKED: &str = "";

/// Most rows one group commit writes.
const MAX_BATCH: usize = 512;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An event to enqueue.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Request id (also the function's `aws_request_id`); the row's key.
    pub request_id: String,
    /// Function name.
    pub function_name: String,
    /// Version or alias invoked, `None` for the unqualified function.
    pub qualifier: Option<String>,
    /// Event payload (plaintext; sealed before it is stored).
    pub payload: Vec<u8>,
    /// X-Ray trace header, if any.
    pub trace_id: Option<String>,
}

/// The last function error of an event, kept for the failure record.
#[derive(Debug, Clone, PartialEq)]
pub struct LastResponse {
    /// Status code of the invoke (200 when the function ran).
    pub status: i64,
    /// `Unhandled` / `Handled`.
    pub function_error: Option<String>,
    /// Version that ran.
    pub executed_version: String,
    /// The error payload.
    pub payload: Vec<u8>,
}

/// A claimed event, payload opened.
#[derive(Debug, Clone)]
pub struct ClaimedEvent {
    /// Request id.
    pub request_id: String,
    /// Function name.
    pub function_name: String,
    /// Qualifier invoked, `None` when unqualified.
    pub qualifier: Option<String>,
    /// Event payload.
    pub payload: Vec<u8>,
    /// X-Ray trace header.
    pub trace_id: Option<String>,
    /// When it was accepted (epoch ms).
    pub enqueued_at: i64,
    /// Invocations that reached the function so far.
    pub attempts: u32,
    /// Function errors so far.
    pub failures: u32,
    /// Throttles and system errors so far.
    pub throttles: u32,
    /// Times claimed (including this one).
    pub claims: u32,
    /// Token of this claim (needed to reschedule).
    pub claim_token: String,
    /// The last function error, if any.
    pub last_response: Option<LastResponse>,
}

/// New state of an event put back on the queue.
#[derive(Debug, Clone)]
pub struct Reschedule {
    /// When it becomes visible again (epoch ms).
    pub visible_at: i64,
    /// Invocations that reached the function.
    pub attempts: u32,
    /// Function errors.
    pub failures: u32,
    /// Throttles and system errors.
    pub throttles: u32,
    /// The last function error, if any.
    pub last_response: Option<LastResponse>,
}

/// Depth and age of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    /// Events stored (waiting, scheduled for retry or being processed).
    pub depth: u64,
    /// Enqueue time of the oldest event (epoch ms), if any.
    pub oldest_enqueued_at: Option<i64>,
}

/// A write handed to the group-commit writer.
enum Op {
    /// Store a new event.
    Insert(SealedRow),
    /// Delete a processed event; if it was still stored, insert its follow-ups.
    Complete {
        request_id: String,
        follow_ups: Vec<SealedRow>,
    },
    /// Put a claimed event back (only under its claim token).
    Reschedule(SealedReschedule),
}

struct SealedReschedule {
    request_id: String,
    token: String,
    visible_at: i64,
    attempts: i64,
    failures: i64,
    throttles: i64,
    status: Option<i64>,
    error: Option<String>,
    version: Option<String>,
    response: Option<Vec<u8>>,
}

struct Pending {
    op: Op,
    /// Whether the write changed a row (completion: the event was stored; reschedule: the claim
    /// was held).
    done: oneshot::Sender<StoreResult<bool>>,
}

struct SealedRow {
    request_id: String,
    function_name: String,
    qualifier: String,
    payload: Vec<u8>,
    trace_id: Option<String>,
    at: i64,
}

/// Handle to the queue (cheap to clone).
#[derive(Clone, Debug)]
pub struct AsyncQueue {
    meta: MetaStore,
    tx: mpsc::Sender<Pending>,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending(..)")
    }
}

fn payload_context(request_id: &str) -> Vec<u8> {
    format!("event:{request_id}").into_bytes()
}

fn response_context(request_id: &str) -> Vec<u8> {
    format!("event-response:{request_id}").into_bytes()
}

const INSERT: &str = "INSERT INTO async_events \
     (request_id, function_name, qualifier, payload, trace_id, enqueued_at, visible_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_id) DO NOTHING";

impl AsyncQueue {
    /// Start the queue's group-commit writer (must be called inside a tokio runtime).
    pub fn start(meta: MetaStore) -> Self {
        let (tx, rx) = mpsc::channel::<Pending>(8192);
        let wake = Arc::new(Notify::new());
        tokio::spawn(writer(meta.clone(), rx, wake.clone()));
        Self { meta, tx, wake }
    }

    /// Notified after every commit that added events (pollers wait on it).
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    fn seal(&self, ev: &NewEvent, at: i64) -> StoreResult<SealedRow> {
        Ok(SealedRow {
            request_id: ev.request_id.clone(),
            function_name: ev.function_name.clone(),
            qualifier: ev.qualifier.clone().unwrap_or_default(),
            payload: seal_envelope(
                &self.meta.root,
                &ev.payload,
                &payload_context(&ev.request_id),
            )?,
            trace_id: ev.trace_id.clone(),
            at,
        })
    }

    /// Hand `op` to the group-commit writer and wait for its commit.
    async fn write(&self, op: Op) -> StoreResult<bool> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Pending { op, done })
            .await
            .map_err(|_| StoreError::Corrupt("the queue writer stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Corrupt("the queue writer stopped".into()))?
    }

    /// Store an event durably; returns once it is committed.
    pub async fn enqueue(&self, ev: &NewEvent) -> StoreResult<()> {
        let row = self.seal(ev, now_ms())?;
        self.write(Op::Insert(row)).await.map(|_| ())
    }

    /// Release every claim (the process restarted: nobody holds them any more). Only valid while
    /// this process is the database's only poller (embedded SQLite). Returns how many were held.
    pub async fn release_all_claims(&self) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE async_events SET visible_at = $1, claimed_by = NULL WHERE claimed_by IS NOT NULL",
        )
        .bind(now_ms())
        .execute(&self.meta.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Functions with visible events at `now` and how many each has, longest-waiting first.
    pub async fn ready_functions(&self, now: i64, limit: i64) -> StoreResult<Vec<(String, u64)>> {
        let rows = sqlx::query(
            "SELECT function_name, COUNT(*) AS n FROM async_events WHERE visible_at <= $1 \
             GROUP BY function_name ORDER BY MIN(visible_at) LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.meta.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("function_name")?,
                    r.try_get::<i64, _>("n")?.max(0) as u64,
                ))
            })
            .collect()
    }

    /// The earliest time after `after` at which a stored event becomes visible.
    pub async fn next_visible_after(&self, after: i64) -> StoreResult<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(visible_at) FROM async_events WHERE visible_at > $1")
                .bind(after)
                .fetch_one(&self.meta.pool)
                .await?,
        )
    }

    /// Claim up to `limit` visible events of `function`, hiding them until `now + visibility_ms`.
    pub async fn claim(
        &self,
        function: &str,
        now: i64,
        limit: i64,
        visibility_ms: i64,
    ) -> StoreResult<Vec<ClaimedEvent>> {
        let token = ignis_crypto::ids::uuid_v4()?;
        let sql = format!(
            "UPDATE async_events SET visible_at = $1, claimed_by = $2, claims = claims + 1 \
             WHERE request_id IN (SELECT request_id FROM async_events \
                 WHERE function_name = $3 AND visible_at <= $4 \
                 ORDER BY visible_at, enqueued_at LIMIT $5{SKIP_LOCKED}) \
             RETURNING request_id, function_name, qualifier, payload, trace_id, enqueued_at, \
                 attempts, failures, throttles, claims, last_status, last_error, last_version, \
                 last_response"
        );
        let rows = sqlx::query(&sql)
            .bind(now.saturating_add(visibility_ms))
            .bind(&token)
            .bind(function)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.meta.pool)
            .await?;
        let mut out: Vec<ClaimedEvent> = rows
            .iter()
            .map(|r| self.open_row(r, &token))
            .collect::<StoreResult<_>>()?;
        out.sort_by_key(|e| e.enqueued_at);
        Ok(out)
    }

    fn open_row(&self, r: &SqliteRow, token: &str) -> StoreResult<ClaimedEvent> {
        let request_id: String = r.try_get("request_id")?;
        let sealed: Vec<u8> = r.try_get("payload")?;
        let payload = open_envelope(&self.meta.root, &sealed, &payload_context(&request_id))?;
        let qualifier: String = r.try_get("qualifier")?;
        let last_status: Option<i64> = r.try_get("last_status")?;
        let last_response = match last_status {
            Some(status) => {
                let sealed: Option<Vec<u8>> = r.try_get("last_response")?;
                let payload = match sealed {
                    Some(s) => open_envelope(&self.meta.root, &s, &response_context(&request_id))?,
                    None => Vec::new(),
                };
                Some(LastResponse {
                    status,
                    function_error: r.try_get("last_error")?,
                    executed_version: r
                        .try_get::<Option<String>, _>("last_version")?
                        .unwrap_or_default(),
                    payload,
                })
            }
            None => None,
        };
        let count = |col: &str| -> StoreResult<u32> {
            Ok(r.try_get::<i64, _>(col)?.clamp(0, i64::from(u32::MAX)) as u32)
        };
        Ok(ClaimedEvent {
            function_name: r.try_get("function_name")?,
            qualifier: (!qualifier.is_empty()).then_some(qualifier),
            payload,
            trace_id: r.try_get("trace_id")?,
            enqueued_at: r.try_get("enqueued_at")?,
            attempts: count("attempts")?,
            failures: count("failures")?,
            throttles: count("throttles")?,
            claims: count("claims")?,
            claim_token: token.to_string(),
            last_response,
            request_id,
        })
    }

    /// Put a claimed event back with new counters; a no-op if the claim is no longer held.
    /// Returns whether the claim was still held.
    pub async fn reschedule(&self, ev: &ClaimedEvent, next: &Reschedule) -> StoreResult<bool> {
        let (status, error, version, response) = match &next.last_response {
            Some(l) => (
                Some(l.status),
                l.function_error.clone(),
                Some(l.executed_version.clone()),
                Some(seal_envelope(
                    &self.meta.root,
                    &l.payload,
                    &response_context(&ev.request_id),
                )?),
            ),
            None => (None, None, None, None),
        };
        self.write(Op::Reschedule(SealedReschedule {
            request_id: ev.request_id.clone(),
            token: ev.claim_token.clone(),
            visible_at: next.visible_at,
            attempts: i64::from(next.attempts),
            failures: i64::from(next.failures),
            throttles: i64::from(next.throttles),
            status,
            error,
            version,
            response,
        }))
        .await
    }

    /// Remove a processed event and, in the same transaction, enqueue its follow-ups (destination
    /// records). Idempotent: completing an already completed event only adds nothing twice (the
    /// follow-ups' request ids are keys). Returns whether the event was still stored.
    pub async fn complete(&self, request_id: &str, follow_ups: &[NewEvent]) -> StoreResult<bool> {
        let at = now_ms();
        let follow_ups: Vec<SealedRow> = follow_ups
            .iter()
            .map(|f| self.seal(f, at))
            .collect::<StoreResult<_>>()?;
        self.write(Op::Complete {
            request_id: request_id.to_string(),
            follow_ups,
        })
        .await
    }

    /// Per function: number of stored events and the enqueue time of the oldest.
    pub async fn depth_by_function(&self) -> StoreResult<Vec<(String, QueueDepth)>> {
        let rows = sqlx::query(
            "SELECT function_name, COUNT(*) AS n, MIN(enqueued_at) AS oldest FROM async_events \
             GROUP BY function_name ORDER BY function_name",
        )
        .fetch_all(&self.meta.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("function_name")?,
                    QueueDepth {
                        depth: r.try_get::<i64, _>("n")?.max(0) as u64,
                        oldest_enqueued_at: r.try_get("oldest")?,
                    },
                ))
            })
            .collect()
    }

    /// Number of stored events and the enqueue time of the oldest.
    pub async fn depth(&self) -> StoreResult<QueueDepth> {
        let row = sqlx::query("SELECT COUNT(*) AS n, MIN(enqueued_at) AS oldest FROM async_events")
            .fetch_one(&self.meta.pool)
            .await?;
        Ok(QueueDepth {
            depth: row.try_get::<i64, _>("n")?.max(0) as u64,
            oldest_enqueued_at: row.try_get("oldest")?,
        })
    }
}

async fn insert(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, row: &SealedRow) -> StoreResult<()> {
    sqlx::query(INSERT)
        .bind(&row.request_id)
        .bind(&row.function_name)
        .bind(&row.qualifier)
        .bind(&row.payload)
        .bind(&row.trace_id)
        .bind(row.at)
        .bind(row.at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The group-commit loop: take what is waiting (up to [`MAX_BATCH`] writes: enqueues, completions,
/// reschedules), apply it in one transaction (one fsync), answer every caller.
async fn writer(meta: MetaStore, mut rx: mpsc::Receiver<Pending>, wake: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        match write_batch(&meta, &batch).await {
            Ok((changed, added)) => {
                if added {
                    wake.notify_one();
                }
                for (p, c) in batch.into_iter().zip(changed) {
                    let _ = p.done.send(Ok(c));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "asynchronous queue write failed");
                for p in batch {
                    let _ = p
                        .done
                        .send(Err(StoreError::Corrupt(format!("queue write failed: {e}"))));
                }
            }
        }
    }
}

/// Apply a batch in one transaction: per write whether it changed a row, and whether events were
/// added.
async fn write_batch(meta: &MetaStore, batch: &[Pending]) -> StoreResult<(Vec<bool>, bool)> {
    let mut tx = meta.pool.begin().await?;
    let mut changed = Vec::with_capacity(batch.len());
    let mut added = false;
    for p in batch {
        let c = match &p.op {
            Op::Insert(row) => {
                insert(&mut tx, row).await?;
                added = true;
                true
            }
            Op::Complete {
                request_id,
                follow_ups,
            } => {
                let done = sqlx::query("DELETE FROM async_events WHERE request_id = $1")
                    .bind(request_id)
                    .execute(&mut *tx)
                    .await?;
                let existed = done.rows_affected() > 0;
                if existed {
                    for row in follow_ups {
                        insert(&mut tx, row).await?;
                        added = true;
                    }
                }
                existed
            }
            Op::Reschedule(r) => {
                let done = sqlx::query(
                    "UPDATE async_events SET visible_at = $1, claimed_by = NULL, attempts = $2, \
                     failures = $3, throttles = $4, last_status = $5, last_error = $6, \
                     last_version = $7, last_response = $8 WHERE request_id = $9 AND claimed_by = $10",
                )
                .bind(r.visible_at)
                .bind(r.attempts)
                .bind(r.failures)
                .bind(r.throttles)
                .bind(r.status)
                .bind(&r.error)
                .bind(&r.version)
                .bind(&r.response)
                .bind(&r.request_id)
                .bind(&r.token)
                .execute(&mut *tx)
                .await?;
                done.rows_affected() > 0
            }
        };
        changed.push(c);
    }
    tx.commit().await?;
    Ok((changed, added))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ignis_crypto::RootKey;

    async fn open(tag: &str) -> (MetaStore, AsyncQueue, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ignis-queue-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = Arc::new(RootKey::generate().unwrap());
        let meta = MetaStore::open_sqlite(&dir.join("meta.db"), root)
            .await
            .unwrap();
        let q = AsyncQueue::start(meta.clone());
        (meta, q, dir)
    }

    fn ev(id: &str, function: &str, payload: &str) -> NewEvent {
        NewEvent {
            request_id: id.into(),
            function_name: function.into(),
            qualifier: None,
            payload: payload.as_bytes().to_vec(),
            trace_id: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn enqueue_is_durable_encrypted_and_claims_hide_events() {
        let (meta, q, dir) = open("claim").await;
        // Concurrent enqueues share group commits.
        let mut tasks = Vec::new();
        for i in 0..50 {
            let q = q.clone();
            tasks.push(tokio::spawn(async move {
                q.enqueue(&ev(
                    &format!("r{i:03}"),
                    "f",
                    &format!("{{\"marker\":\"PLAINTEXT-MARK-{i}\"}}"),
                ))
                .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(q.depth().await.unwrap().depth, 50);
        let now = now_ms();
        assert_eq!(
            q.ready_functions(now, 10).await.unwrap(),
            vec![("f".to_string(), 50)]
        );
        let first = q.claim("f", now, 20, 60_000).await.unwrap();
        assert_eq!(first.len(), 20);
        assert!(std::str::from_utf8(&first[0].payload)
            .unwrap()
            .contains("PLAINTEXT-MARK-"));
        assert_eq!(first[0].claims, 1);
        // Claimed events are invisible to another claim until their visibility timeout.
        let second = q.claim("f", now, 100, 60_000).await.unwrap();
        assert_eq!(second.len(), 30);
        assert!(q.claim("f", now, 100, 60_000).await.unwrap().is_empty());
        // ...and visible again after it.
        let later = q.claim("f", now + 60_001, 100, 1_000).await.unwrap();
        assert_eq!(later.len(), 50);
        assert!(later.iter().all(|e| e.claims == 2));
        // A stale claim (token of the first claim) cannot reschedule.
        let stale = Reschedule {
            visible_at: now,
            attempts: 1,
            failures: 1,
            throttles: 0,
            last_response: None,
        };
        assert!(!q.reschedule(&first[0], &stale).await.unwrap());
        meta.close().await;
        for file in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(file.unwrap().path()).unwrap_or_default();
            assert!(!bytes.windows(15).any(|w| w == b"PLAINTEXT-MARK-"));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn complete_is_idempotent_and_atomic_with_follow_ups() {
        let (meta, q, dir) = open("complete").await;
        q.enqueue(&ev("a", "f", "{}")).await.unwrap();
        // Enqueue is idempotent on the request id.
        q.enqueue(&ev("a", "f", "{\"other\":1}")).await.unwrap();
        assert_eq!(q.depth().await.unwrap().depth, 1);
        let claimed = q.claim("f", now_ms(), 10, 60_000).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].payload, b"{}");
        let follow = ev("a-dest", "g", "{\"record\":true}");
        assert!(q
            .complete("a", std::slice::from_ref(&follow))
            .await
            .unwrap());
        assert!(!q
            .complete("a", std::slice::from_ref(&follow))
            .await
            .unwrap());
        let depth = q.depth().await.unwrap();
        assert_eq!(depth.depth, 1);
        let g = q.claim("g", now_ms(), 10, 60_000).await.unwrap();
        assert_eq!(g[0].payload, b"{\"record\":true}");
        meta.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reschedule_keeps_counters_and_last_response_and_release_recovers_claims() {
        let (meta, q, dir) = open("resched").await;
        q.enqueue(&ev("x", "f", "{}")).await.unwrap();
        let now = now_ms();
        let c = q.claim("f", now, 1, 60_000).await.unwrap().remove(0);
        let next = Reschedule {
            visible_at: now + 5_000,
            attempts: 1,
            failures: 1,
            throttles: 3,
            last_response: Some(LastResponse {
                status: 200,
                function_error: Some("Unhandled".into()),
                executed_version: "$LATEST".into(),
                payload: b"{\"errorMessage\":\"boom\"}".to_vec(),
            }),
        };
        assert!(q.reschedule(&c, &next).await.unwrap());
        assert!(q
            .claim("f", now + 4_999, 1, 60_000)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(q.next_visible_after(now).await.unwrap(), Some(now + 5_000));
        assert_eq!(q.next_visible_after(now + 5_000).await.unwrap(), None);
        let again = q
            .claim("f", now + 5_000, 1, 60_000)
            .await
            .unwrap()
            .remove(0);
        assert_eq!((again.attempts, again.failures, again.throttles), (1, 1, 3));
        assert_eq!(again.last_response, next.last_response);
        // A crash: the claim is held by nobody; release makes it visible at once.
        assert_eq!(q.release_all_claims().await.unwrap(), 1);
        assert_eq!(q.claim("f", now_ms(), 1, 60_000).await.unwrap().len(), 1);
        meta.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ready_functions_lists_every_function_so_a_busy_one_cannot_hide_others() {
        let (meta, q, dir) = open("fair").await;
        for i in 0..200 {
            q.enqueue(&ev(&format!("busy-{i}"), "busy", "{}"))
                .await
                .unwrap();
        }
        q.enqueue(&ev("calm-0", "calm", "{}")).await.unwrap();
        let now = now_ms();
        let ready = q.ready_functions(now, 10).await.unwrap();
        assert_eq!(ready.len(), 2);
        assert!(ready.contains(&("calm".to_string(), 1)));
        // Claims are per function: the busy function's backlog does not consume the calm one's.
        assert_eq!(q.claim("busy", now, 8, 60_000).await.unwrap().len(), 8);
        assert_eq!(q.claim("calm", now, 8, 60_000).await.unwrap().len(), 1);
        let per_fn = q.depth_by_function().await.unwrap();
        assert_eq!(per_fn.len(), 2);
        assert_eq!((per_fn[0].0.as_str(), per_fn[0].1.depth), ("busy", 200));
        assert_eq!((per_fn[1].0.as_str(), per_fn[1].1.depth), ("calm", 1));
        meta.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
