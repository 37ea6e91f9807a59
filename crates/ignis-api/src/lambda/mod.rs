//! The AWS Lambda REST API (2015-03-31 and its dated siblings), one module per resource.

pub mod account;
pub mod aliases;
pub mod code;
pub mod concurrency;
pub mod event_invoke_config;
pub mod functions;
pub mod invoke;
pub mod layers;
pub mod permissions;
pub mod tags;
pub mod util;
pub mod versions;
