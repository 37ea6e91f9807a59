//! Function logs: the log store (groups, streams, segment files, retention, disk cap), filter
//! patterns, and the CloudWatch Logs API subset served over it.

pub mod api;
pub mod pattern;
pub mod segment;
pub mod store;

pub use api::LogsApi;
pub use pattern::Pattern;
pub use store::{LogError, LogStore, LogStoreConfig};
