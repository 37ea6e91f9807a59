//! Observability of Ignis: the function log store with its CloudWatch Logs API subset
//! ([`logs`]), Prometheus metrics ([`metrics`]) and usage metering ([`metering`]).

pub mod logs;
pub mod metering;
pub mod metrics;

pub use logs::{LogStore, LogStoreConfig, LogsApi};
pub use metrics::Metrics;
