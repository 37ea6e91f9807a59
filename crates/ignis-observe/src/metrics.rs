//! Prometheus metrics of a server (prometheus-client, OpenMetrics text for `GET /metrics`).
//!
//! Per function, labelled `function` (name) and `resource` (`NAME` for unqualified invokes,
//! `NAME:QUALIFIER` for a version or alias, as CloudWatch's `Resource` dimension): invocations,
//! errors, throttles, duration, concurrent executions, init (cold start) count and duration,
//! provisioned concurrency utilization. Async invocation: queue depth, oldest event age, dropped
//! events, destination delivery failures. Server: environments by state, sandbox creations and
//! destructions with durations, API requests by operation and status with latency.
//!
//! Durations are in milliseconds, like the Lambda metrics they mirror.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Histogram buckets in milliseconds (1 ms to 15 min, Lambda's longest timeout).
const MS_BUCKETS: [f64; 18] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 120000.0, 300000.0, 900000.0,
];

fn ms_histogram() -> Histogram {
    Histogram::new(MS_BUCKETS.iter().copied())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Labels of per-function metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FunctionLabels {
    /// Function name.
    pub function: String,
    /// `NAME` or `NAME:QUALIFIER`.
    pub resource: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NameLabel {
    function: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DestinationLabels {
    function: String,
    destination: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    operation: String,
    status: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// All metrics of one server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    invocations: Family<FunctionLabels, Counter>,
    errors: Family<FunctionLabels, Counter>,
    throttles: Family<FunctionLabels, Counter>,
    duration: HistogramFamily<FunctionLabels>,
    concurrent: Family<FunctionLabels, Gauge>,
    inits: Family<FunctionLabels, Counter>,
    init_duration: HistogramFamily<FunctionLabels>,
    pc_utilization: Family<FunctionLabels, Gauge<f64, AtomicU64>>,
    pc_envs: Family<FunctionLabels, Gauge>,
    pc_busy: Family<FunctionLabels, Gauge>,
    queue_depth: Family<NameLabel, Gauge>,
    queue_age: Family<NameLabel, Gauge>,
    dropped: Family<NameLabel, Counter>,
    destination_failures: Family<DestinationLabels, Counter>,
    async_events: Gauge,
    async_oldest: Gauge,
    async_outcomes: Family<OutcomeLabel, Counter>,
    envs: Family<StateLabel, Gauge>,
    sandbox_creates: Counter,
    sandbox_create_failures: Counter,
    sandbox_destroys: Counter,
    sandbox_create_duration: Histogram,
    sandbox_destroy_duration: Histogram,
    api_requests: Family<ApiLabels, Counter>,
    api_duration: HistogramFamily<ApiLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts one in-flight invocation in ConcurrentExecutions until dropped.
#[derive(Debug)]
pub struct InFlight {
    gauge: Gauge,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

fn labels(function: &str, resource: &str) -> FunctionLabels {
    FunctionLabels {
        function: function.to_string(),
        resource: resource.to_string(),
    }
}

impl Metrics {
    /// Create and register every metric.
    pub fn new() -> Self {
        let mut m = Self {
            registry: Registry::default(),
            invocations: Family::default(),
            errors: Family::default(),
            throttles: Family::default(),
            duration: Family::new_with_constructor(ms_histogram),
            concurrent: Family::default(),
            inits: Family::default(),
            init_duration: Family::new_with_constructor(ms_histogram),
            pc_utilization: Family::default(),
            pc_envs: Family::default(),
            pc_busy: Family::default(),
            queue_depth: Family::default(),
            queue_age: Family::default(),
            dropped: Family::default(),
            destination_failures: Family::default(),
            async_events: Gauge::default(),
            async_oldest: Gauge::default(),
            async_outcomes: Family::default(),
            envs: Family::default(),
            sandbox_creates: Counter::default(),
            sandbox_create_failures: Counter::default(),
            sandbox_destroys: Counter::default(),
            sandbox_create_duration: ms_histogram(),
            sandbox_destroy_duration: ms_histogram(),
            api_requests: Family::default(),
            api_duration: Family::new_with_constructor(ms_histogram),
        };
        let r = &mut m.registry;
        r.register(
            "ignis_function_invocations",
            "Invocations that reached the function (Lambda Invocations)",
            m.invocations.clone(),
        );
        r.register(
            "ignis_function_errors",
            "Invocations that ended in a function error (Lambda Errors)",
            m.errors.clone(),
        );
        r.register(
            "ignis_function_throttles",
            "Invocations rejected for concurrency (Lambda Throttles)",
            m.throttles.clone(),
        );
        r.register(
            "ignis_function_duration_milliseconds",
            "Time the function spent on an invocation (Lambda Duration)",
            m.duration.clone(),
        );
        r.register(
            "ignis_function_concurrent_executions",
            "Invocations in progress (Lambda ConcurrentExecutions)",
            m.concurrent.clone(),
        );
        r.register(
            "ignis_function_inits",
            "Execution environments initialised (cold starts)",
            m.inits.clone(),
        );
        r.register(
            "ignis_function_init_duration_milliseconds",
            "Init phase duration of new execution environments",
            m.init_duration.clone(),
        );
        r.register(
            "ignis_function_provisioned_concurrency_utilization",
            "Busy share of provisioned environments (Lambda ProvisionedConcurrencyUtilization)",
            m.pc_utilization.clone(),
        );
        r.register(
            "ignis_function_provisioned_environments",
            "Provisioned-concurrency environments alive",
            m.pc_envs.clone(),
        );
        r.register(
            "ignis_async_queue_depth",
            "Asynchronous invocations waiting in the queue",
            m.queue_depth.clone(),
        );
        r.register(
            "ignis_async_event_age_milliseconds",
            "Age of the oldest queued asynchronous event (Lambda AsyncEventAge)",
            m.queue_age.clone(),
        );
        r.register(
            "ignis_async_events_dropped",
            "Asynchronous events dropped (Lambda AsyncEventsDropped)",
            m.dropped.clone(),
        );
        r.register(
            "ignis_destination_delivery_failures",
            "Failed deliveries to destinations (Lambda DestinationDeliveryFailures)",
            m.destination_failures.clone(),
        );
        r.register(
            "ignis_async_queue_events",
            "Asynchronous events stored in the queue, all functions",
            m.async_events.clone(),
        );
        r.register(
            "ignis_async_oldest_event_age_milliseconds",
            "Age of the oldest queued asynchronous event, all functions",
            m.async_oldest.clone(),
        );
        r.register(
            "ignis_async_events",
            "Asynchronous events by outcome (enqueued, succeeded, function_error, throttled, expired, retries_exhausted, dropped, destination_delivered, destination_failed, recovered)",
            m.async_outcomes.clone(),
        );
        r.register(
            "ignis_environments",
            "Execution environments by state",
            m.envs.clone(),
        );
        r.register(
            "ignis_sandbox_creates",
            "Sandboxes created",
            m.sandbox_creates.clone(),
        );
        r.register(
            "ignis_sandbox_create_failures",
            "Sandbox creations that failed",
            m.sandbox_create_failures.clone(),
        );
        r.register(
            "ignis_sandbox_destroys",
            "Sandboxes destroyed",
            m.sandbox_destroys.clone(),
        );
        r.register(
            "ignis_sandbox_create_duration_milliseconds",
            "Time to create a sandbox",
            m.sandbox_create_duration.clone(),
        );
        r.register(
            "ignis_sandbox_destroy_duration_milliseconds",
            "Time to destroy a sandbox",
            m.sandbox_destroy_duration.clone(),
        );
        r.register(
            "ignis_api_requests",
            "API requests by operation and HTTP status",
            m.api_requests.clone(),
        );
        r.register(
            "ignis_api_request_duration_milliseconds",
            "API request latency by operation and HTTP status",
            m.api_duration.clone(),
        );
        m
    }

    /// One invocation that reached the function: its duration and whether it was a function error.
    pub fn record_invoke(&self, function: &str, resource: &str, duration: Duration, error: bool) {
        let l = labels(function, resource);
        self.invocations.get_or_create(&l).inc();
        self.duration.get_or_create(&l).observe(ms(duration));
        if error {
            self.errors.get_or_create(&l).inc();
        }
    }

    /// One new execution environment initialised (a cold start) in `duration`.
    pub fn record_init(&self, function: &str, resource: &str, duration: Duration) {
        let l = labels(function, resource);
        self.inits.get_or_create(&l).inc();
        self.init_duration.get_or_create(&l).observe(ms(duration));
    }

    /// One invocation throttled.
    pub fn record_throttle(&self, function: &str, resource: &str) {
        self.throttles
            .get_or_create(&labels(function, resource))
            .inc();
    }

    /// Count an invocation as in progress until the returned guard is dropped.
    pub fn in_flight(&self, function: &str, resource: &str) -> InFlight {
        let gauge = self
            .concurrent
            .get_or_create(&labels(function, resource))
            .clone();
        gauge.inc();
        InFlight { gauge }
    }

    /// ProvisionedConcurrencyUtilization (0.0 to 1.0) of a version or alias.
    pub fn set_provisioned_utilization(&self, function: &str, resource: &str, ratio: f64) {
        self.pc_utilization
            .get_or_create(&labels(function, resource))
            .set(ratio);
    }

    /// A provisioned environment of `resource` created (`delta` 1) or destroyed (-1).
    pub fn provisioned_environments(&self, function: &str, resource: &str, delta: i64) {
        let l = labels(function, resource);
        self.pc_envs.get_or_create(&l).inc_by(delta);
        self.update_utilization(&l);
    }

    /// A provisioned environment of `resource` starts (`delta` 1) or ends (-1) an invocation.
    pub fn provisioned_busy(&self, function: &str, resource: &str, delta: i64) {
        let l = labels(function, resource);
        self.pc_busy.get_or_create(&l).inc_by(delta);
        self.update_utilization(&l);
    }

    fn update_utilization(&self, l: &FunctionLabels) {
        let total = self.pc_envs.get_or_create(l).get();
        let busy = self.pc_busy.get_or_create(l).get();
        let ratio = if total > 0 {
            (busy as f64 / total as f64).clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.pc_utilization.get_or_create(l).set(ratio);
    }

    /// Depth of a function's async queue and age of its oldest event.
    pub fn set_async_queue(&self, function: &str, depth: u64, oldest_age: Duration) {
        let l = NameLabel {
            function: function.to_string(),
        };
        self.queue_depth
            .get_or_create(&l)
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        self.queue_age
            .get_or_create(&l)
            .set(i64::try_from(oldest_age.as_millis()).unwrap_or(i64::MAX));
    }

    /// An async event dropped (retries or maximum age exhausted, no destination took it).
    pub fn record_async_dropped(&self, function: &str) {
        self.dropped
            .get_or_create(&NameLabel {
                function: function.to_string(),
            })
            .inc();
    }

    /// A failed delivery to a destination (`destination`: `sqs`, `sns`, `lambda`, `eventbridge`, ...).
    pub fn record_destination_failure(&self, function: &str, destination: &str) {
        self.destination_failures
            .get_or_create(&DestinationLabels {
                function: function.to_string(),
                destination: destination.to_string(),
            })
            .inc();
    }

    /// Server-wide async queue state: events stored, age of the oldest, and cumulative counts by
    /// outcome (counters move up to each new cumulative value).
    pub fn set_async_totals(&self, depth: u64, oldest_age_ms: u64, outcomes: &[(&str, u64)]) {
        self.async_events
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        self.async_oldest
            .set(i64::try_from(oldest_age_ms).unwrap_or(i64::MAX));
        for (outcome, total) in outcomes {
            let c = self.async_outcomes.get_or_create(&OutcomeLabel {
                outcome: (*outcome).to_string(),
            });
            let seen = c.get();
            if *total > seen {
                c.inc_by(total - seen);
            }
        }
    }

    /// Number of execution environments in `state` (e.g. `idle`, `busy`, `provisioned`).
    pub fn set_environments(&self, state: &str, count: u64) {
        self.envs
            .get_or_create(&StateLabel {
                state: state.to_string(),
            })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Change the number of execution environments in `state` by `delta`.
    pub fn add_environments(&self, state: &str, delta: i64) {
        self.envs
            .get_or_create(&StateLabel {
                state: state.to_string(),
            })
            .inc_by(delta);
    }

    /// A sandbox creation attempt and how long it took.
    pub fn record_sandbox_create(&self, duration: Duration, ok: bool) {
        if ok {
            self.sandbox_creates.inc();
            self.sandbox_create_duration.observe(ms(duration));
        } else {
            self.sandbox_create_failures.inc();
        }
    }

    /// A sandbox destroyed and how long it took.
    pub fn record_sandbox_destroy(&self, duration: Duration) {
        self.sandbox_destroys.inc();
        self.sandbox_destroy_duration.observe(ms(duration));
    }

    /// One API request: its operation, HTTP status and latency.
    pub fn record_api_request(&self, operation: &str, status: u16, duration: Duration) {
        let l = ApiLabels {
            operation: operation.to_string(),
            status: status.to_string(),
        };
        self.api_requests.get_or_create(&l).inc();
        self.api_duration.get_or_create(&l).observe(ms(duration));
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_counts_in_text() {
        let m = Metrics::new();
        for i in 0..5 {
            m.record_invoke("f", "f", Duration::from_millis(3), i == 4);
        }
        m.record_invoke("f", "f:prod", Duration::from_millis(200), false);
        m.record_throttle("f", "f");
        m.record_init("f", "f", Duration::from_millis(40));
        m.record_api_request("Invoke", 200, Duration::from_millis(2));
        m.record_sandbox_create(Duration::from_millis(5), true);
        m.set_environments("idle", 3);
        m.set_async_queue("f", 7, Duration::from_millis(1500));
        m.record_destination_failure("f", "sqs");
        m.set_async_totals(4, 900, &[("dropped", 2), ("enqueued", 10)]);
        m.set_async_totals(3, 100, &[("dropped", 5), ("enqueued", 10)]);
        m.provisioned_environments("f", "f:1", 4);
        m.provisioned_busy("f", "f:1", 1);
        let guard = m.in_flight("f", "f");
        let text = m.encode();
        assert!(
            text.contains("ignis_function_invocations_total{function=\"f\",resource=\"f\"} 5\n")
        );
        assert!(text
            .contains("ignis_function_invocations_total{function=\"f\",resource=\"f:prod\"} 1\n"));
        assert!(text.contains("ignis_function_errors_total{function=\"f\",resource=\"f\"} 1\n"));
        assert!(text.contains("ignis_function_throttles_total{function=\"f\",resource=\"f\"} 1\n"));
        assert!(text.contains(
            "ignis_function_duration_milliseconds_count{function=\"f\",resource=\"f\"} 5\n"
        ));
        assert!(text.contains(
            "ignis_function_duration_milliseconds_bucket{le=\"5.0\",function=\"f\",resource=\"f\"} 5\n"
        ));
        assert!(text.contains("ignis_function_inits_total{function=\"f\",resource=\"f\"} 1\n"));
        assert!(text
            .contains("ignis_function_concurrent_executions{function=\"f\",resource=\"f\"} 1\n"));
        drop(guard);
        assert!(m
            .encode()
            .contains("ignis_function_concurrent_executions{function=\"f\",resource=\"f\"} 0\n"));
        assert!(text.contains("ignis_api_requests_total{operation=\"Invoke\",status=\"200\"} 1\n"));
        assert!(text.contains("ignis_sandbox_creates_total 1\n"));
        assert!(text.contains("ignis_environments{state=\"idle\"} 3\n"));
        assert!(text.contains("ignis_async_queue_depth{function=\"f\"} 7\n"));
        assert!(text.contains("ignis_async_event_age_milliseconds{function=\"f\"} 1500\n"));
        assert!(text.contains(
            "ignis_destination_delivery_failures_total{function=\"f\",destination=\"sqs\"} 1\n"
        ));
        assert!(text.contains(
            "ignis_function_provisioned_concurrency_utilization{function=\"f\",resource=\"f:1\"} 0.25\n"
        ));
        assert!(text.contains("ignis_async_queue_events 3\n"));
        assert!(text.contains("ignis_async_oldest_event_age_milliseconds 100\n"));
        assert!(text.contains("ignis_async_events_total{outcome=\"dropped\"} 5\n"));
        assert!(text.contains("ignis_async_events_total{outcome=\"enqueued\"} 10\n"));
        assert!(text.ends_with("# EOF\n"));
    }

    /// Cost of the per-invoke metric calls (run with `--ignored --nocapture`).
    #[test]
    #[ignore]
    fn bench_record_cost() {
        let m = Metrics::new();
        let n = 200_000u32;
        let t = std::time::Instant::now();
        for i in 0..n {
            let _g = m.in_flight("bench-fn", "bench-fn");
            m.record_invoke(
                "bench-fn",
                "bench-fn",
                Duration::from_micros(u64::from(i % 5000)),
                false,
            );
        }
        let per = t.elapsed() / n;
        println!("metrics: in_flight + record_invoke = {per:?} per invoke");
        assert!(per < Duration::from_micros(20));
    }
}
