//! Observability of Ignis: the function log store with its CloudWatch Logs API subset
//! ([`logs`]), and Prometheus metrics ([`metrics`]).

pub mod logs;
pub mod metrics;

pub use logs::{LogStore, LogStoreConfig, LogsApi};
pub use metrics::Metrics;
