//! Pure domain of Ignis: ARNs and names, limits and validation, AWS error kinds. No IO, no async.

pub mod error;
pub mod model;

pub use error::{AwsError, AwsResult, ErrorKind};
