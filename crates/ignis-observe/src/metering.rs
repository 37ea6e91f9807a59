//! Usage metering: requests and compute (billed duration, rounded up to 1 ms, × memory) per
//! function and UTC day, aggregated in memory by the invoke path and flushed periodically into the
//! metadata store (a crash loses at most one flush interval); and the monthly bill arithmetic of
//! `ignis usage` (free tier, configurable prices, rounding to cents).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ignis_store::usage::UsageRow;
use ignis_store::{MetaStore, StoreError};

/// MB-milliseconds in one GB-second (1024 MB × 1000 ms).
pub const MB_MS_PER_GB_S: u64 = 1024 * 1000;

/// Usage counters of one (function, day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counters {
    requests: u64,
    mb_ms: u64,
    provisioned_mb_ms: u64,
}

/// The in-memory meter of a server: cheap to record into (one mutex, one map entry).
#[derive(Debug)]
pub struct Meter {
    account: String,
    pending: Mutex<HashMap<(String, String), Counters>>,
    /// When provisioned concurrency was last sampled.
    last_sample: Mutex<Instant>,
}

/// Today's UTC date as `YYYY-MM-DD`.
pub fn utc_day() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

/// The current UTC month as `YYYY-MM`.
pub fn utc_month() -> String {
    utc_day()[..7].to_string()
}

impl Meter {
    /// A meter of the account `account`.
    pub fn new(account: impl Into<String>) -> Self {
        Self {
            account: account.into(),
            pending: Mutex::new(HashMap::new()),
            last_sample: Mutex::new(Instant::now()),
        }
    }

    fn add(&self, function: &str, day: String, c: Counters) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        let e = pending.entry((function.to_string(), day)).or_default();
        e.requests = e.requests.saturating_add(c.requests);
        e.mb_ms = e.mb_ms.saturating_add(c.mb_ms);
        e.provisioned_mb_ms = e.provisioned_mb_ms.saturating_add(c.provisioned_mb_ms);
    }

    /// One request of `function` billed `billed_ms` at `memory_mb`.
    pub fn record_invoke(&self, function: &str, billed_ms: u64, memory_mb: u32) {
        self.add(
            function,
            utc_day(),
            Counters {
                requests: 1,
                mb_ms: billed_ms.saturating_mul(u64::from(memory_mb)),
                provisioned_mb_ms: 0,
            },
        );
    }

    /// `ms` milliseconds of provisioned concurrency of `memory_mb` (summed over environments).
    pub fn record_provisioned(&self, function: &str, ms: u64, memory_mb: u32) {
        self.add(
            function,
            utc_day(),
            Counters {
                provisioned_mb_ms: ms.saturating_mul(u64::from(memory_mb)),
                ..Counters::default()
            },
        );
    }

    /// Meter provisioned concurrency since the last sample: the time elapsed × the allocated
    /// environments of every provisioned concurrency config × the memory of its version. Sampled
    /// at each flush, so a change of allocation is billed from the next sample on.
    pub async fn sample_provisioned(&self, store: &MetaStore) -> Result<(), StoreError> {
        let elapsed_ms = match self.last_sample.lock() {
            Ok(mut last) => {
                let now = Instant::now();
                let ms = now.duration_since(*last).as_millis() as u64;
                *last = now;
                ms
            }
            Err(_) => return Ok(()),
        };
        for (name, qualifier, cfg) in store.list_all_provisioned().await? {
            let envs = u64::from(cfg.allocated_provisioned_concurrent_executions);
            if envs == 0 {
                continue;
            }
            let version = match store.get_alias(&name, &qualifier).await? {
                Some(alias) => alias.function_version,
                None => qualifier,
            };
            if let Some(f) = store.get_version(&name, &version).await? {
                self.record_provisioned(&name, elapsed_ms.saturating_mul(envs), f.memory_size);
            }
        }
        Ok(())
    }

    /// Take everything recorded since the last take.
    pub fn take(&self) -> Vec<UsageRow> {
        let drained = match self.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return Vec::new(),
        };
        drained
            .into_iter()
            .map(|((function_name, day), c)| UsageRow {
                account: self.account.clone(),
                function_name,
                day,
                requests: c.requests,
                mb_ms: c.mb_ms,
                provisioned_mb_ms: c.provisioned_mb_ms,
            })
            .collect()
    }

    /// Put back rows whose flush failed (they are retried with the next flush).
    fn restore(&self, rows: Vec<UsageRow>) {
        for r in rows {
            self.add(
                &r.function_name,
                r.day,
                Counters {
                    requests: r.requests,
                    mb_ms: r.mb_ms,
                    provisioned_mb_ms: r.provisioned_mb_ms,
                },
            );
        }
    }

    /// Add what was recorded to the store; on failure keep it for the next flush.
    pub async fn flush(&self, store: &MetaStore) -> Result<(), StoreError> {
        let rows = self.take();
        if rows.is_empty() {
            return Ok(());
        }
        match store.add_usage(&rows).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.restore(rows);
                Err(e)
            }
        }
    }

    /// Sample provisioned concurrency and flush to `store` every `interval`, until
    /// [`Flusher::stop`] (which does both once more).
    pub fn spawn_flusher(self: &Arc<Self>, store: MetaStore, interval: Duration) -> Flusher {
        let meter = self.clone();
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                // Only the wait is cancelled by a stop, never a flush under way.
                let last = tokio::select! {
                    _ = tick.tick() => false,
                    _ = &mut stopped => true,
                };
                if let Err(e) = meter.sample_provisioned(&store).await {
                    tracing::warn!(error = %e, "metering provisioned concurrency failed");
                }
                if let Err(e) = meter.flush(&store).await {
                    tracing::warn!(error = %e, "flushing usage metering failed; will retry");
                }
                if last {
                    return;
                }
            }
        });
        Flusher { stop, task }
    }
}

/// The periodic flush task of a [`Meter`].
#[derive(Debug)]
pub struct Flusher {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Flusher {
    /// Flush one last time and end the task (at shutdown, after the last invocation).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Prices and free tier of a bill (USD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// Price of one million requests (AWS x86: $0.20).
    pub per_million_requests: f64,
    /// Price of one GB-second of compute (AWS x86: $0.0000166667).
    pub per_gb_second: f64,
    /// Price of one GB-second of provisioned concurrency (AWS x86: $0.0000041667; no free tier).
    pub per_provisioned_gb_second: f64,
    /// Requests free per month (1,000,000).
    pub free_requests: u64,
    /// GB-seconds free per month (400,000).
    pub free_gb_seconds: f64,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            per_million_requests: 0.20,
            per_gb_second: 0.000_016_666_7,
            per_provisioned_gb_second: 0.000_004_166_7,
            free_requests: 1_000_000,
            free_gb_seconds: 400_000.0,
        }
    }
}

/// Usage of one function over the month.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunctionUsage {
    /// Function name.
    pub function_name: String,
    /// Requests.
    pub requests: u64,
    /// Compute, MB-ms (exact).
    pub mb_ms: u64,
    /// Provisioned concurrency, MB-ms (exact).
    pub provisioned_mb_ms: u64,
}

impl FunctionUsage {
    /// Compute in GB-seconds.
    pub fn gb_seconds(&self) -> f64 {
        gb_seconds(self.mb_ms)
    }

    /// Provisioned concurrency in GB-seconds.
    pub fn provisioned_gb_seconds(&self) -> f64 {
        gb_seconds(self.provisioned_mb_ms)
    }
}

/// GB-seconds of `mb_ms` MB-milliseconds.
pub fn gb_seconds(mb_ms: u64) -> f64 {
    mb_ms as f64 / MB_MS_PER_GB_S as f64
}

/// Round a USD amount to cents, half away from zero (each charge is rounded, the total is the sum
/// of the rounded charges, as on an invoice).
pub fn round_cents(usd: f64) -> f64 {
    // Amounts are derived by float arithmetic; nudge by a tiny epsilon so that exact half cents
    // computed as x.xx4999999 still round up.
    ((usd * 100.0) + 1e-7).round() / 100.0
}

/// A month's bill of one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Bill {
    /// Account id.
    pub account: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Per-function usage, by name.
    pub functions: Vec<FunctionUsage>,
    /// Total requests.
    pub requests: u64,
    /// Total compute, GB-seconds.
    pub gb_seconds: f64,
    /// Total provisioned concurrency, GB-seconds.
    pub provisioned_gb_seconds: f64,
    /// Requests beyond the free tier.
    pub billable_requests: u64,
    /// GB-seconds beyond the free tier.
    pub billable_gb_seconds: f64,
    /// Requests charge, rounded to cents.
    pub request_charge: f64,
    /// Compute charge, rounded to cents.
    pub compute_charge: f64,
    /// Provisioned concurrency charge, rounded to cents.
    pub provisioned_charge: f64,
    /// Sum of the three charges.
    pub total: f64,
    /// The prices applied.
    pub prices: Prices,
}

/// Bill `account` for `month` from the stored daily rows (rows of other accounts are ignored).
pub fn bill(account: &str, month: &str, rows: &[UsageRow], prices: Prices) -> Bill {
    let mut per_fn: BTreeMap<&str, FunctionUsage> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.account == account && r.day.starts_with(month))
    {
        let f = per_fn
            .entry(r.function_name.as_str())
            .or_insert_with(|| FunctionUsage {
                function_name: r.function_name.clone(),
                ..FunctionUsage::default()
            });
        f.requests = f.requests.saturating_add(r.requests);
        f.mb_ms = f.mb_ms.saturating_add(r.mb_ms);
        f.provisioned_mb_ms = f.provisioned_mb_ms.saturating_add(r.provisioned_mb_ms);
    }
    let functions: Vec<FunctionUsage> = per_fn.into_values().collect();
    let requests = functions.iter().map(|f| f.requests).sum::<u64>();
    let mb_ms = functions.iter().map(|f| f.mb_ms).sum::<u64>();
    let pc_mb_ms = functions.iter().map(|f| f.provisioned_mb_ms).sum::<u64>();
    let billable_requests = requests.saturating_sub(prices.free_requests);
    let gb_s = gb_seconds(mb_ms);
    let billable_gb_seconds = (gb_s - prices.free_gb_seconds).max(0.0);
    let request_charge =
        round_cents(billable_requests as f64 / 1_000_000.0 * prices.per_million_requests);
    let compute_charge = round_cents(billable_gb_seconds * prices.per_gb_second);
    let provisioned_charge = round_cents(gb_seconds(pc_mb_ms) * prices.per_provisioned_gb_second);
    Bill {
        account: account.to_string(),
        month: month.to_string(),
        functions,
        requests,
        gb_seconds: gb_s,
        provisioned_gb_seconds: gb_seconds(pc_mb_ms),
        billable_requests,
        billable_gb_seconds,
        request_charge,
        compute_charge,
        provisioned_charge,
        total: round_cents(request_charge + compute_charge + provisioned_charge),
        prices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(f: &str, day: &str, requests: u64, mb_ms: u64) -> UsageRow {
        UsageRow {
            account: "123456789012".into(),
            function_name: f.into(),
            day: day.into(),
            requests,
            mb_ms,
            provisioned_mb_ms: 0,
        }
    }

    /// GB-seconds as MB-ms.
    fn gbs(gb_s: u64) -> u64 {
        gb_s * MB_MS_PER_GB_S
    }

    #[test]
    fn within_the_free_tier_costs_nothing() {
        let b = bill(
            "123456789012",
            "2026-11",
            &[
                row("a", "2026-11-01", 10, 25_600),
                row("a", "2026-11-02", 5, 1_000),
                row("b", "2026-11-30", 999_985, gbs(399_999)),
                row("a", "2026-10-31", 7, 7),
            ],
            Prices::default(),
        );
        assert_eq!(b.functions.len(), 2);
        assert_eq!(b.functions[0].requests, 15);
        assert_eq!(b.functions[0].mb_ms, 26_600);
        assert_eq!(b.requests, 1_000_000);
        assert_eq!(b.billable_requests, 0);
        assert_eq!(b.billable_gb_seconds, 0.0);
        assert_eq!(b.total, 0.0);
    }

    #[test]
    fn free_tier_partially_used_up() {
        // 3 M requests of 512 MB × 1000 ms: 1.5 M GB-s.
        // Requests: (3 M − 1 M) × $0.20 / M = $0.40.
        // Compute: (1,500,000 − 400,000) × $0.0000166667 = $18.33337 → $18.33.
        let rows = [row("a", "2026-11-05", 3_000_000, 3_000_000 * 512 * 1000)];
        let b = bill("123456789012", "2026-11", &rows, Prices::default());
        assert_eq!(b.gb_seconds, 1_500_000.0);
        assert_eq!(b.billable_requests, 2_000_000);
        assert_eq!(b.billable_gb_seconds, 1_100_000.0);
        assert_eq!(b.request_charge, 0.40);
        assert_eq!(b.compute_charge, 18.33);
        assert_eq!(b.total, 18.73);
    }

    #[test]
    fn aws_pricing_page_example() {
        // AWS example: 3 M requests, 120 ms, 1536 MB → 540,000 GB-s; 140,000 billable GB-s ×
        // $0.0000166667 = $2.33; 2 M billable requests = $0.40; total $2.73.
        let rows = [row("f", "2026-11-05", 3_000_000, 3_000_000 * 120 * 1536)];
        let b = bill("123456789012", "2026-11", &rows, Prices::default());
        assert_eq!(b.gb_seconds, 540_000.0);
        assert_eq!(b.compute_charge, 2.33);
        assert_eq!(b.request_charge, 0.40);
        assert_eq!(b.total, 2.73);
    }

    #[test]
    fn free_tier_fully_used_and_custom_prices_round_half_cents_up() {
        // No free tier, $1 per M requests, $0.00001 per GB-s: 1,500,000 requests = $1.50;
        // 250 GB-s = $0.0025 → $0.00 (rounds to 0), 1,250 GB-s = $0.0125 → $0.01;
        // 1,500 GB-s → $0.015 → $0.02 (half up).
        let prices = Prices {
            per_million_requests: 1.0,
            per_gb_second: 0.000_01,
            free_requests: 0,
            free_gb_seconds: 0.0,
            ..Prices::default()
        };
        let b = bill(
            "123456789012",
            "2026-11",
            &[row("a", "2026-11-01", 1_500_000, gbs(1_500))],
            prices,
        );
        assert_eq!(b.request_charge, 1.50);
        assert_eq!(b.compute_charge, 0.02);
        assert_eq!(b.total, 1.52);
        let b = bill(
            "123456789012",
            "2026-11",
            &[row("a", "2026-11-01", 0, gbs(1_250))],
            prices,
        );
        assert_eq!(b.compute_charge, 0.01);
    }

    #[test]
    fn other_accounts_are_not_billed() {
        let mut r = row("a", "2026-11-01", 5_000_000, 0);
        r.account = "999999999999".into();
        let b = bill("123456789012", "2026-11", &[r], Prices::default());
        assert_eq!(b.requests, 0);
        assert!(b.functions.is_empty());
    }

    #[tokio::test]
    async fn flusher_persists_on_stop_and_flushes_add_up() {
        let dir = std::env::temp_dir().join(format!("ignis-metering-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = Arc::new(ignis_crypto::RootKey::generate().unwrap());
        let store = MetaStore::open_sqlite(&dir.join("meta.db"), root)
            .await
            .unwrap();
        let m = Arc::new(Meter::new("123456789012"));
        m.record_invoke("a", 51, 256);
        m.flush(&store).await.unwrap();
        let flusher = m.spawn_flusher(store.clone(), Duration::from_secs(3600));
        m.record_invoke("a", 2, 256);
        flusher.stop().await;
        let rows = store.list_usage(&utc_month()).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].requests, rows[0].mb_ms), (2, 53 * 256));
        store.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn meter_aggregates_per_function_and_day() {
        let m = Meter::new("123456789012");
        m.record_invoke("a", 51, 256);
        m.record_invoke("a", 3, 256);
        m.record_invoke("b", 1, 128);
        m.record_provisioned("b", 1000, 128);
        let mut rows = m.take();
        rows.sort_by(|x, y| x.function_name.cmp(&y.function_name));
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].requests, rows[0].mb_ms), (2, 54 * 256));
        assert_eq!(
            (rows[1].requests, rows[1].mb_ms, rows[1].provisioned_mb_ms),
            (1, 128, 128_000)
        );
        assert_eq!(rows[0].day, utc_day());
        assert!(m.take().is_empty());
        m.restore(rows);
        assert_eq!(m.take().len(), 2);
    }
}
