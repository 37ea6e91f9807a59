//! Asynchronous invocation: the pollers that drain the durable queue ([`ignis_store::AsyncQueue`]).
//!
//! One dispatcher task claims batches per function and runs each event as its own task:
//! - **Fair**: every round lists the functions with visible events and gives each an equal share of
//!   the free slots before handing leftovers to the longest backlogs; one function never holds more
//!   than three quarters of the slots (nor more than its reserved concurrency).
//! - **Concurrency**: an event refused by the invoke service (reserved or account limit) or hit by a
//!   system error goes back to the queue with exponential backoff (AWS: 1 s doubling to 5 min) until
//!   its maximum age; it is never dropped for that.
//! - **Retries**: a function error is retried `MaximumRetryAttempts` times (default 2) after
//!   `retry_base` and then `2 × retry_base` (AWS: 1 and 2 minutes).
//! - **Discards**: an event past `MaximumEventAgeInSeconds` (default 6 h) or out of retries goes to
//!   the on-failure destination and the function's dead-letter target when those are functions;
//!   otherwise it is dropped and counted. Successes go to the on-success destination. Records are
//!   AWS's invocation record (`version` 1.0), delivered as Event invokes of the destination, enqueued
//!   in the same transaction that completes the source event.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ignis_core::arn::{self, NameShape};
use ignis_core::model::{FunctionConfig, LATEST};
use ignis_store::queue::{now_ms, ClaimedEvent, LastResponse, NewEvent, Reschedule};
use ignis_store::{EventInvokeConfig, StoreError};
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};

use crate::{InvokeError, InvokeRequest, InvokeService};

/// AWS's default `MaximumRetryAttempts`.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// AWS's default `MaximumEventAgeInSeconds` (6 hours).
pub const DEFAULT_MAX_EVENT_AGE_S: u32 = 21_600;
/// Largest asynchronous payload (1 MB).
pub const MAX_ASYNC_PAYLOAD: usize = 1_048_576;

/// Settings of the pollers.
#[derive(Debug, Clone)]
pub struct AsyncSettings {
    /// Account id (ARNs in records).
    pub account: String,
    /// Delay before the first retry after a function error (the second waits twice as long).
    /// Throttle backoff starts at `retry_base / 60` and stops growing at `5 × retry_base`.
    pub retry_base: Duration,
    /// Most events being processed at once.
    pub max_in_flight: usize,
    /// How long a claimed event stays hidden (longer than any invocation can take).
    pub visibility: Duration,
    /// How long one second of `MaximumEventAgeInSeconds` lasts (1 s; shorter only to test expiry
    /// without waiting minutes — the API's validation is AWS's either way).
    pub event_age_unit: Duration,
}

impl AsyncSettings {
    /// AWS-like defaults for `account`.
    pub fn new(account: String) -> Self {
        Self {
            account,
            retry_base: Duration::from_secs(60),
            max_in_flight: 64,
            visibility: Duration::from_secs(20 * 60),
            event_age_unit: Duration::from_secs(1),
        }
    }

    fn max_age_ms(&self, seconds: u32) -> i64 {
        (self.event_age_unit.as_millis() as i64).saturating_mul(i64::from(seconds))
    }

    fn retry_delay_ms(&self, failures: u32) -> i64 {
        let base = self.retry_base.as_millis() as i64;
        base.saturating_mul(i64::from(failures.max(1)))
    }

    fn throttle_delay_ms(&self, throttles: u32) -> i64 {
        let base = (self.retry_base.as_millis() as i64 / 60).max(1);
        let cap = (self.retry_base.as_millis() as i64)
            .saturating_mul(5)
            .max(base);
        base.saturating_mul(1i64 << throttles.min(30)).min(cap)
    }
}

/// Counters of the asynchronous path since the process started (plus queue gauges).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AsyncStats {
    /// Events stored in the queue (waiting, scheduled for a retry or being processed).
    pub queue_depth: u64,
    /// Age of the oldest stored event, in milliseconds.
    pub oldest_event_age_ms: u64,
    /// Events accepted (202).
    pub enqueued: u64,
    /// Invocations that succeeded.
    pub succeeded: u64,
    /// Invocations that returned a function error.
    pub function_errors: u64,
    /// Events put back because of a throttle or a system error.
    pub throttled: u64,
    /// Events discarded because they exceeded their maximum age.
    pub expired: u64,
    /// Events discarded after their last retry.
    pub retries_exhausted: u64,
    /// Discarded events that reached no destination (none configured or none deliverable), plus
    /// events of functions deleted meanwhile.
    pub dropped: u64,
    /// Records handed to destinations (including dead-letter targets).
    pub destination_deliveries: u64,
    /// Records that could not be delivered (target missing or not a function).
    pub destination_failures: u64,
    /// Claims released at start-up (events interrupted by a crash; they run again).
    pub recovered_claims: u64,
}

/// Live counters behind [`AsyncStats`].
#[derive(Debug, Default)]
pub(crate) struct AsyncCounters {
    enqueued: AtomicU64,
    succeeded: AtomicU64,
    function_errors: AtomicU64,
    throttled: AtomicU64,
    expired: AtomicU64,
    retries_exhausted: AtomicU64,
    dropped: AtomicU64,
    destination_deliveries: AtomicU64,
    destination_failures: AtomicU64,
    recovered_claims: AtomicU64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl InvokeService {
    /// Accept an Event invocation: durable (committed) when this returns.
    pub async fn enqueue(&self, event: NewEvent) -> Result<(), InvokeError> {
        self.queue
            .enqueue(&event)
            .await
            .map_err(|e| InvokeError::Internal(format!("enqueue: {e}")))?;
        bump(&self.async_counters.enqueued, 1);
        Ok(())
    }

    /// Queue gauges and counters of the asynchronous path.
    pub async fn async_stats(&self) -> Result<AsyncStats, InvokeError> {
        let depth = self
            .queue
            .depth()
            .await
            .map_err(|e| InvokeError::Internal(e.to_string()))?;
        let c = &self.async_counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Ok(AsyncStats {
            queue_depth: depth.depth,
            oldest_event_age_ms: depth
                .oldest_enqueued_at
                .map(|t| (now_ms() - t).max(0) as u64)
                .unwrap_or(0),
            enqueued: get(&c.enqueued),
            succeeded: get(&c.succeeded),
            function_errors: get(&c.function_errors),
            throttled: get(&c.throttled),
            expired: get(&c.expired),
            retries_exhausted: get(&c.retries_exhausted),
            dropped: get(&c.dropped),
            destination_deliveries: get(&c.destination_deliveries),
            destination_failures: get(&c.destination_failures),
            recovered_claims: get(&c.recovered_claims),
        })
    }

    /// Per function with stored events: (name, depth, age of the oldest event).
    pub async fn async_queue_by_function(
        &self,
    ) -> Result<Vec<(String, u64, Duration)>, InvokeError> {
        let now = now_ms();
        Ok(self
            .queue
            .depth_by_function()
            .await
            .map_err(|e| InvokeError::Internal(e.to_string()))?
            .into_iter()
            .map(|(name, d)| {
                let age = d
                    .oldest_enqueued_at
                    .map(|t| Duration::from_millis((now - t).max(0) as u64))
                    .unwrap_or_default();
                (name, d.depth, age)
            })
            .collect())
    }

    fn count_dropped(&self, function: &str) {
        bump(&self.async_counters.dropped, 1);
        if let Some(o) = self.observer.get() {
            o.metrics.record_async_dropped(function);
        }
    }

    fn count_destination_failure(&self, function: &str, destination: &str) {
        bump(&self.async_counters.destination_failures, 1);
        if let Some(o) = self.observer.get() {
            let kind = if destination.starts_with("kafka://") {
                "kafka"
            } else {
                match destination.split(':').nth(2) {
                    Some("events") => "eventbridge",
                    Some(service) if !service.is_empty() => service,
                    _ => "unknown",
                }
            };
            o.metrics.record_destination_failure(function, kind);
        }
    }

    /// Refresh the per-function queue gauges of the metrics (functions that emptied read 0).
    async fn export_queue_gauges(&self, shown: &mut Vec<String>) {
        let Some(o) = self.observer.get() else { return };
        let Ok(now) = self.async_queue_by_function().await else {
            return;
        };
        for (name, depth, age) in &now {
            o.metrics.set_async_queue(name, *depth, *age);
        }
        for old in shown.iter() {
            if !now.iter().any(|(n, _, _)| n == old) {
                o.metrics.set_async_queue(old, 0, Duration::ZERO);
            }
        }
        *shown = now.into_iter().map(|(n, _, _)| n).collect();
    }

    /// Start the pollers; stop them with [`AsyncPollers::shutdown`].
    pub async fn start_pollers(
        self: &Arc<Self>,
        settings: AsyncSettings,
    ) -> Result<AsyncPollers, InvokeError> {
        let released = self
            .queue
            .release_all_claims()
            .await
            .map_err(|e| InvokeError::Internal(e.to_string()))?;
        if released > 0 {
            tracing::warn!(
                events = released,
                "asynchronous events interrupted by the last shutdown run again"
            );
        }
        bump(&self.async_counters.recovered_claims, released);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(dispatch(self.clone(), Arc::new(settings), stopped));
        Ok(AsyncPollers { stop, task })
    }
}

/// Running pollers.
#[derive(Debug)]
pub struct AsyncPollers {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl AsyncPollers {
    /// Stop claiming, let running events finish (bounded), and return. Unfinished events are
    /// picked up again at the next start.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Events in flight, in total and per function.
#[derive(Default)]
struct InFlight {
    total: AtomicUsize,
    per_fn: Mutex<HashMap<String, usize>>,
    done: Notify,
}

impl InFlight {
    fn of(&self, name: &str) -> usize {
        self.per_fn
            .lock()
            .map(|m| m.get(name).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn take(self: &Arc<Self>, name: &str) -> Flight {
        self.total.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut m) = self.per_fn.lock() {
            *m.entry(name.to_string()).or_default() += 1;
        }
        Flight {
            inflight: self.clone(),
            name: name.to_string(),
        }
    }
}

/// One slot, released when the event's task ends.
struct Flight {
    inflight: Arc<InFlight>,
    name: String,
}

impl Drop for Flight {
    fn drop(&mut self) {
        self.inflight.total.fetch_sub(1, Ordering::SeqCst);
        if let Ok(mut m) = self.inflight.per_fn.lock() {
            if let Some(n) = m.get_mut(&self.name) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    m.remove(&self.name);
                }
            }
        }
        self.inflight.done.notify_one();
    }
}

/// Longest a drain waits for running events at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest the dispatcher sleeps when nothing is due.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// How long a function's reserved concurrency is cached by the dispatcher.
const META_TTL: Duration = Duration::from_secs(1);
/// How often the per-function queue gauges are refreshed.
const GAUGE_PERIOD: Duration = Duration::from_secs(1);

async fn dispatch(
    svc: Arc<InvokeService>,
    st: Arc<AsyncSettings>,
    mut stop: watch::Receiver<bool>,
) {
    let wake = svc.queue.wake();
    let inflight = Arc::new(InFlight::default());
    let mut reserved: HashMap<String, (Instant, Option<u32>)> = HashMap::new();
    let mut rotate = 0usize;
    let mut gauges_at = Instant::now();
    let mut shown = Vec::new();
    svc.export_queue_gauges(&mut shown).await;
    loop {
        if *stop.borrow() {
            break;
        }
        if gauges_at.elapsed() >= GAUGE_PERIOD {
            gauges_at = Instant::now();
            svc.export_queue_gauges(&mut shown).await;
        }
        let claimed = match round(&svc, &st, &inflight, &mut reserved, &mut rotate).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "asynchronous queue poll failed");
                0
            }
        };
        if claimed > 0 && inflight.total.load(Ordering::SeqCst) < st.max_in_flight {
            continue;
        }
        // Nothing more to claim now: events already visible are blocked by capacity (a finishing
        // event wakes us), so sleep until the next scheduled one, a new event, or a finish.
        let wait = if inflight.total.load(Ordering::SeqCst) >= st.max_in_flight {
            IDLE_POLL
        } else {
            let now = now_ms();
            match svc.queue.next_visible_after(now).await {
                Ok(Some(t)) => Duration::from_millis((t - now).clamp(1, 1000) as u64),
                _ => IDLE_POLL,
            }
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = inflight.done.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    while inflight.total.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(50), inflight.done.notified()).await;
    }
}

/// One claim round; returns how many events were claimed.
async fn round(
    svc: &Arc<InvokeService>,
    st: &Arc<AsyncSettings>,
    inflight: &Arc<InFlight>,
    reserved: &mut HashMap<String, (Instant, Option<u32>)>,
    rotate: &mut usize,
) -> Result<usize, StoreError> {
    let total = inflight.total.load(Ordering::SeqCst);
    let free = st.max_in_flight.saturating_sub(total);
    if free == 0 {
        return Ok(0);
    }
    let now = now_ms();
    let ready = svc.queue.ready_functions(now, 1000).await?;
    if ready.is_empty() {
        return Ok(0);
    }
    let n = ready.len();
    let start = *rotate % n;
    *rotate = rotate.wrapping_add(1);
    let fn_cap_default = (st.max_in_flight * 3 / 4).max(1);
    // (name, waiting, room) in this round's order.
    let mut wants: Vec<(String, usize, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        let (name, waiting) = &ready[(start + i) % n];
        let limit = reserved_of(svc, reserved, name).await;
        let cap = limit
            .map(|r| (r as usize).min(fn_cap_default))
            .unwrap_or(fn_cap_default)
            .max(1);
        let room = cap.saturating_sub(inflight.of(name));
        let waiting = usize::try_from(*waiting).unwrap_or(usize::MAX);
        wants.push((name.clone(), waiting, room));
    }
    let takes = plan_round(free, &wants.iter().map(|w| (w.1, w.2)).collect::<Vec<_>>());
    let plan: Vec<(String, usize)> = wants
        .into_iter()
        .zip(takes)
        .map(|(w, take)| (w.0, take))
        .collect();
    let mut claimed = 0;
    let vis = st.visibility.as_millis() as i64;
    for (name, take) in plan {
        if take == 0 {
            continue;
        }
        let events = svc.queue.claim(&name, now, take as i64, vis).await?;
        claimed += events.len();
        for ev in events {
            let flight = inflight.take(&name);
            let svc = svc.clone();
            let st = st.clone();
            tokio::spawn(async move {
                let _flight = flight;
                process(&svc, &st, ev).await;
            });
        }
    }
    Ok(claimed)
}

/// How many events each function gets this round, from `free` slots and per function (events
/// waiting, room under its own cap): an equal share first, then leftovers in order.
fn plan_round(free: usize, wants: &[(usize, usize)]) -> Vec<usize> {
    if wants.is_empty() {
        return Vec::new();
    }
    let share = (free / wants.len()).max(1);
    let mut left = free;
    let mut takes: Vec<usize> = wants
        .iter()
        .map(|&(waiting, room)| {
            let take = waiting.min(room).min(share).min(left);
            left -= take;
            take
        })
        .collect();
    for (take, &(waiting, room)) in takes.iter_mut().zip(wants) {
        if left == 0 {
            break;
        }
        let extra = waiting.min(room).saturating_sub(*take).min(left);
        *take += extra;
        left -= extra;
    }
    takes
}

async fn reserved_of(
    svc: &InvokeService,
    cache: &mut HashMap<String, (Instant, Option<u32>)>,
    name: &str,
) -> Option<u32> {
    if let Some((at, r)) = cache.get(name) {
        if at.elapsed() < META_TTL {
            return *r;
        }
    }
    let r = svc
        .meta
        .get_meta(name)
        .await
        .ok()
        .flatten()
        .and_then(|m| m.reserved_concurrency);
    if cache.len() > 10_000 {
        cache.clear();
    }
    cache.insert(name.to_string(), (Instant::now(), r));
    r
}

fn is_version(q: &str) -> bool {
    q == LATEST || (!q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()))
}

/// The configuration an event's (function, qualifier) resolves to now, with its ARN qualified as
/// invoked; `None` when the function, version or alias is gone.
async fn resolve(
    svc: &InvokeService,
    region: &str,
    account: &str,
    name: &str,
    qualifier: Option<&str>,
) -> Result<Option<FunctionConfig>, StoreError> {
    let (version, alias) = match qualifier {
        None => (LATEST.to_string(), None),
        Some(v) if is_version(v) => (v.to_string(), None),
        Some(a) => match svc.meta.get_alias(name, a).await? {
            Some(alias) => (alias.function_version.clone(), Some(alias)),
            None => return Ok(None),
        },
    };
    let Some(mut cfg) = svc.meta.get_version(name, &version).await? else {
        return Ok(None);
    };
    if let Some(q) = qualifier {
        cfg.function_arn = arn::qualified_function_arn(region, account, name, q);
    }
    if let Some(rc) = alias.as_ref().and_then(|a| a.routing_config.as_ref()) {
        let roll = ignis_crypto::random_array::<8>()
            .map(|b| u64::from_le_bytes(b) as f64 / u64::MAX as f64)
            .unwrap_or(1.0);
        let mut acc = 0.0;
        for (v, weight) in &rc.additional_version_weights {
            acc += weight;
            if roll < acc {
                if let Some(mut other) = svc.meta.get_version(name, v).await? {
                    other.function_arn = cfg.function_arn.clone();
                    return Ok(Some(other));
                }
            }
        }
    }
    Ok(Some(cfg))
}

/// Why an event is discarded (the record's `condition`).
#[derive(Debug, Clone, Copy)]
enum Discard {
    RetriesExhausted,
    EventAgeExceeded,
}

impl Discard {
    fn condition(self) -> &'static str {
        match self {
            Self::RetriesExhausted => "RetriesExhausted",
            Self::EventAgeExceeded => "EventAgeExceeded",
        }
    }
}

async fn process(svc: &Arc<InvokeService>, st: &AsyncSettings, ev: ClaimedEvent) {
    if let Err(e) = process_inner(svc, st, &ev).await {
        // Storage trouble: the claim lapses after the visibility timeout and the event runs again.
        tracing::error!(request_id = %ev.request_id, error = %e, "asynchronous event processing failed");
    }
}

async fn process_inner(
    svc: &Arc<InvokeService>,
    st: &AsyncSettings,
    ev: &ClaimedEvent,
) -> Result<(), StoreError> {
    let counters = &svc.async_counters;
    let region = svc.cfg.region.clone();
    let name = ev.function_name.as_str();
    let config_qualifier = ev.qualifier.as_deref().unwrap_or(LATEST);
    let eic = svc
        .meta
        .get_event_invoke_config(name, config_qualifier)
        .await?;
    let max_retries = eic
        .as_ref()
        .and_then(|c| c.maximum_retry_attempts)
        .unwrap_or(DEFAULT_MAX_RETRIES);
    let max_age_ms = st.max_age_ms(
        eic.as_ref()
            .and_then(|c| c.maximum_event_age_in_seconds)
            .unwrap_or(DEFAULT_MAX_EVENT_AGE_S),
    );

    let meta = svc.meta.get_meta(name).await?;
    let cfg = match meta {
        Some(_) => resolve(svc, &region, &st.account, name, ev.qualifier.as_deref()).await?,
        None => None,
    };
    let (Some(meta), Some(cfg)) = (meta, cfg) else {
        tracing::warn!(request_id = %ev.request_id, function = name, "asynchronous event dropped: the function, version or alias no longer exists");
        svc.count_dropped(name);
        svc.queue.complete(&ev.request_id, &[]).await?;
        return Ok(());
    };

    let now = now_ms();
    if now - ev.enqueued_at >= max_age_ms {
        bump(&counters.expired, 1);
        let last = ev.last_response.clone();
        return discard(
            svc,
            st,
            ev,
            &cfg,
            eic.as_ref(),
            Discard::EventAgeExceeded,
            ev.attempts,
            last.as_ref(),
        )
        .await;
    }

    let req = InvokeRequest {
        invoked_arn: cfg.function_arn.clone(),
        config: cfg.clone(),
        payload: Bytes::from(ev.payload.clone()),
        tail: false,
        client_context: None,
        reserved_concurrency: meta.reserved_concurrency,
        trace_id: ev.trace_id.clone(),
        request_id: Some(ev.request_id.clone()),
    };
    match svc.invoke(req).await {
        Err(e) => {
            if !matches!(e, InvokeError::Throttled(_)) {
                tracing::warn!(request_id = %ev.request_id, error = %e, "asynchronous invoke failed; retrying later");
            }
            bump(&counters.throttled, 1);
            let next = Reschedule {
                visible_at: now_ms() + st.throttle_delay_ms(ev.throttles),
                attempts: ev.attempts,
                failures: ev.failures,
                throttles: ev.throttles.saturating_add(1),
                last_response: ev.last_response.clone(),
            };
            svc.queue.reschedule(ev, &next).await?;
            Ok(())
        }
        Ok(result) => {
            let attempts = ev.attempts.saturating_add(1);
            let response = LastResponse {
                status: 200,
                function_error: result.function_error.map(str::to_string),
                executed_version: result.executed_version.clone(),
                payload: result.payload.to_vec(),
            };
            if result.function_error.is_none() {
                bump(&counters.succeeded, 1);
                let mut follow = Vec::new();
                if let Some(dest) = eic
                    .as_ref()
                    .and_then(|c| c.destination_config.on_success.destination.as_deref())
                    .filter(|d| !d.is_empty())
                {
                    let record = invocation_record(
                        &region,
                        &st.account,
                        ev,
                        "Success",
                        attempts,
                        Some(&response),
                    );
                    match destination_event(svc, &region, &st.account, dest, record, ev).await? {
                        Some(e) => {
                            bump(&counters.destination_deliveries, 1);
                            follow.push(e);
                        }
                        None => svc.count_destination_failure(name, dest),
                    }
                }
                svc.queue.complete(&ev.request_id, &follow).await?;
                return Ok(());
            }
            bump(&counters.function_errors, 1);
            let failures = ev.failures.saturating_add(1);
            if failures > max_retries {
                bump(&counters.retries_exhausted, 1);
                return discard(
                    svc,
                    st,
                    ev,
                    &cfg,
                    eic.as_ref(),
                    Discard::RetriesExhausted,
                    attempts,
                    Some(&response),
                )
                .await;
            }
            let next = Reschedule {
                visible_at: now_ms() + st.retry_delay_ms(failures),
                attempts,
                failures,
                throttles: ev.throttles,
                last_response: Some(response),
            };
            svc.queue.reschedule(ev, &next).await?;
            Ok(())
        }
    }
}

/// Send a discarded event to its on-failure destination and dead-letter target, then complete it.
#[allow(clippy::too_many_arguments)]
async fn discard(
    svc: &Arc<InvokeService>,
    st: &AsyncSettings,
    ev: &ClaimedEvent,
    cfg: &FunctionConfig,
    eic: Option<&EventInvokeConfig>,
    why: Discard,
    attempts: u32,
    last: Option<&LastResponse>,
) -> Result<(), StoreError> {
    let counters = &svc.async_counters;
    let region = svc.cfg.region.clone();
    let mut follow = Vec::new();
    if let Some(dest) = eic
        .and_then(|c| c.destination_config.on_failure.destination.as_deref())
        .filter(|d| !d.is_empty())
    {
        let record = invocation_record(&region, &st.account, ev, why.condition(), attempts, last);
        match destination_event(svc, &region, &st.account, dest, record, ev).await? {
            Some(e) => follow.push(e),
            None => svc.count_destination_failure(&ev.function_name, dest),
        }
    }
    if let Some(dlq) = cfg
        .dead_letter_config
        .as_ref()
        .and_then(|d| d.target_arn.as_deref())
        .filter(|d| !d.is_empty())
    {
        // A dead-letter target receives the event itself, without response details.
        match destination_event(svc, &region, &st.account, dlq, ev.payload.clone(), ev).await? {
            Some(e) => follow.push(e),
            None => svc.count_destination_failure(&ev.function_name, dlq),
        }
    }
    if follow.is_empty() {
        tracing::warn!(request_id = %ev.request_id, function = %ev.function_name, condition = why.condition(), "asynchronous event discarded without a destination");
        svc.count_dropped(&ev.function_name);
    } else {
        bump(&counters.destination_deliveries, follow.len() as u64);
    }
    svc.queue.complete(&ev.request_id, &follow).await?;
    Ok(())
}

/// The Event invoke that delivers `payload` to the function named by `target` (a function ARN,
/// optionally qualified); `None` (logged) when the target is not a function of this server.
async fn destination_event(
    svc: &InvokeService,
    region: &str,
    account: &str,
    target: &str,
    payload: impl Into<Vec<u8>>,
    source: &ClaimedEvent,
) -> Result<Option<NewEvent>, StoreError> {
    let Some((name, qualifier)) = local_function(target, region, account) else {
        tracing::warn!(request_id = %source.request_id, destination = target, "destination is not a function of this server; record not delivered");
        return Ok(None);
    };
    if resolve(svc, region, account, &name, qualifier.as_deref())
        .await?
        .is_none()
    {
        tracing::warn!(request_id = %source.request_id, destination = target, "destination function does not exist; record not delivered");
        return Ok(None);
    }
    let request_id = ignis_crypto::ids::uuid_v4()?;
    Ok(Some(NewEvent {
        request_id,
        function_name: name,
        qualifier,
        payload: payload.into(),
        trace_id: None,
    }))
}

/// (name, qualifier) of a Lambda function ARN of this region and account.
pub fn local_function(
    target: &str,
    region: &str,
    account: &str,
) -> Option<(String, Option<String>)> {
    if !target.starts_with("arn:") {
        return None;
    }
    let loc = arn::parse_function_locator(target, NameShape::Function).ok()?;
    if loc.region.as_deref() != Some(region) || loc.account.as_deref() != Some(account) {
        return None;
    }
    Some((loc.name, loc.qualifier))
}

/// A payload as JSON when it is JSON, else as a string (empty: null).
fn as_json(bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn record_timestamp() -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::now_utc()
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}

/// AWS's invocation record for destinations. `responseContext` / `responsePayload` are left out
/// when the function was never reached (an event that aged out while throttled).
fn invocation_record(
    region: &str,
    account: &str,
    ev: &ClaimedEvent,
    condition: &str,
    attempts: u32,
    response: Option<&LastResponse>,
) -> Vec<u8> {
    let function_arn = arn::qualified_function_arn(
        region,
        account,
        &ev.function_name,
        ev.qualifier.as_deref().unwrap_or(LATEST),
    );
    let mut record = json!({
        "version": "1.0",
        "timestamp": record_timestamp(),
        "requestContext": {
            "requestId": ev.request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": as_json(&ev.payload),
    });
    if let (Some(r), Some(obj)) = (response, record.as_object_mut()) {
        let mut ctx = json!({
            "statusCode": r.status,
            "executedVersion": r.executed_version,
        });
        if let (Some(fe), Some(c)) = (&r.function_error, ctx.as_object_mut()) {
            c.insert("functionError".into(), Value::String(fe.clone()));
        }
        obj.insert("responseContext".into(), ctx);
        obj.insert("responsePayload".into(), as_json(&r.payload));
    }
    serde_json::to_vec(&record).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> ClaimedEvent {
        ClaimedEvent {
            request_id: "11111111-2222-4333-8444-555555555555".into(),
            function_name: "f".into(),
            qualifier: None,
            payload: b"{\"k\":1}".to_vec(),
            trace_id: None,
            enqueued_at: 0,
            attempts: 2,
            failures: 2,
            throttles: 0,
            claims: 3,
            claim_token: "t".into(),
            last_response: None,
        }
    }

    #[test]
    fn failure_record_has_aws_shape() {
        let resp = LastResponse {
            status: 200,
            function_error: Some("Unhandled".into()),
            executed_version: "$LATEST".into(),
            payload: b"{\"errorMessage\":\"boom\"}".to_vec(),
        };
        let rec: Value = serde_json::from_slice(&invocation_record(
            "us-east-1",
            "000000000000",
            &event(),
            "RetriesExhausted",
            3,
            Some(&resp),
        ))
        .unwrap();
        assert_eq!(rec["version"], "1.0");
        assert_eq!(rec["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(rec["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(
            rec["requestContext"]["functionArn"],
            "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST"
        );
        assert_eq!(rec["requestPayload"], json!({"k": 1}));
        assert_eq!(
            rec["responseContext"],
            json!({"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"})
        );
        assert_eq!(rec["responsePayload"]["errorMessage"], "boom");
        let ts = rec["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
        let never = invocation_record(
            "us-east-1",
            "000000000000",
            &event(),
            "EventAgeExceeded",
            0,
            None,
        );
        let never: Value = serde_json::from_slice(&never).unwrap();
        assert!(never.get("responseContext").is_none());
    }

    #[test]
    fn rounds_share_slots_fairly_then_hand_out_leftovers() {
        // A busy function (1000 waiting) and a calm one (2 waiting) share 16 free slots: the calm
        // one gets all it needs, the busy one the rest.
        assert_eq!(plan_round(16, &[(1000, 48), (2, 48)]), vec![14, 2]);
        assert_eq!(plan_round(16, &[(2, 48), (1000, 48)]), vec![2, 14]);
        // Caps (reserved concurrency, per-function share of the pollers) hold.
        assert_eq!(plan_round(16, &[(1000, 3), (1000, 48)]), vec![3, 13]);
        // More functions than slots: each gets at most one, in round order, until slots run out.
        assert_eq!(plan_round(2, &[(5, 5), (5, 5), (5, 5)]), vec![1, 1, 0]);
        // A function with no room gets nothing.
        assert_eq!(plan_round(8, &[(5, 0), (5, 8)]), vec![0, 5]);
        assert!(plan_round(8, &[]).is_empty());
    }

    #[test]
    fn backoff_follows_aws_shape_scaled_by_the_base() {
        let st = AsyncSettings::new("000000000000".into());
        assert_eq!(st.retry_delay_ms(1), 60_000);
        assert_eq!(st.retry_delay_ms(2), 120_000);
        assert_eq!(st.throttle_delay_ms(0), 1_000);
        assert_eq!(st.throttle_delay_ms(3), 8_000);
        assert_eq!(st.throttle_delay_ms(40), 300_000);
    }

    #[test]
    fn destinations_must_be_local_function_arns() {
        let (r, a) = ("us-east-1", "000000000000");
        assert_eq!(
            local_function("arn:aws:lambda:us-east-1:000000000000:function:d", r, a),
            Some(("d".into(), None))
        );
        assert_eq!(
            local_function(
                "arn:aws:lambda:us-east-1:000000000000:function:d:live",
                r,
                a
            ),
            Some(("d".into(), Some("live".into())))
        );
        assert_eq!(
            local_function("arn:aws:sqs:us-east-1:000000000000:q", r, a),
            None
        );
        assert_eq!(
            local_function("arn:aws:lambda:eu-west-1:000000000000:function:d", r, a),
            None
        );
        assert_eq!(local_function("d", r, a), None);
    }
}
