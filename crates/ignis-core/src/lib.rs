//! Pure domain of Ignis: ARNs and names, limits and validation, AWS error kinds. No IO, no async.

pub mod arn;
pub mod error;
pub mod model;
pub mod policy;
pub mod runtimes;
pub mod validate;

pub use error::{AwsError, AwsResult, ErrorKind};
