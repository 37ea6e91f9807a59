//! Per-environment AWS Lambda Runtime API (version `2018-06-01`) server.
//!
//! Every execution environment runs one runtime (a custom `bootstrap`, `awslambdaric`, the Node.js
//! runtime interface client, the `lambda_runtime` crate, ...) that talks plain HTTP/1.1 to
//! `AWS_LAMBDA_RUNTIME_API`. [`serve`] answers that API on a listener the sandbox bound inside the
//! environment (typically `127.0.0.1:9001` in the environment's network namespace), and the
//! returned [`RuntimeApi`] handle is how the invoke service drives the environment:
//!
//! * [`RuntimeApi::ready`] resolves once the runtime finished its init (first
//!   `GET /runtime/invocation/next`) or reported `POST /runtime/init/error`;
//! * [`RuntimeApi::invoke`] hands one [`Invocation`] to the runtime's long-polling `/next` call and
//!   resolves with the [`Outcome`] it posts back (`/response`, `/error`, `/init/error`, or a
//!   response over [`MAX_RESPONSE_BYTES`]).
//!
//! Endpoints served (everything else is `404`):
//!
//! | method | path | answer |
//! |---|---|---|
//! | `GET` | `/2018-06-01/runtime/invocation/next` | `200`, event payload, `Content-Type: application/json` and every `Lambda-Runtime-*` header (long-polls) |
//! | `POST` | `/2018-06-01/runtime/invocation/{id}/response` | `202 {"status":"OK"}`; `400 InvalidRequestID`; `413 RequestEntityTooLarge` |
//! | `POST` | `/2018-06-01/runtime/invocation/{id}/error` | `202 {"status":"OK"}`; `400 InvalidRequestID`; `413 RequestEntityTooLarge` |
//! | `POST` | `/2018-06-01/runtime/init/error` | `202 {"status":"OK"}`; the environment is failed from then on |
//!
//! The runtime is untrusted code: request bodies are bounded, malformed requests get an error
//! status (never a panic), and the number of simultaneous connections is capped. The wire lessons
//! of this machine (see `DESIGN.md`) are built in: `TCP_NODELAY` on every connection, each response
//! written as one piece with a `Content-Length`, request bodies always read to the end so that
//! keep-alive connections stay open.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod body;
mod handlers;
mod model;
mod server;
mod state;

pub use model::{Invocation, Outcome, RuntimeApiError};
pub use server::{serve, RuntimeApi};

/// Largest invocation response (or error body) a runtime may post, in bytes (6 MiB).
///
/// A larger body is answered `413` and the invocation resolves with
/// [`Outcome::ResponseTooLarge`].
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// Largest `/init/error` body kept, in bytes; a larger body is dropped (the environment is still
/// failed, with an empty error body).
pub const MAX_INIT_ERROR_BYTES: usize = 256 * 1024;

/// Error type the invoke service reports to the caller for [`Outcome::ResponseTooLarge`].
pub const RESPONSE_TOO_LARGE_ERROR_TYPE: &str = "Function.ResponseSizeTooLarge";

/// Function error body (exactly as AWS Lambda words it) the invoke service returns to the caller
/// for [`Outcome::ResponseTooLarge`].
pub const RESPONSE_TOO_LARGE_BODY: &str = "{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size (6291556 bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}";

/// Most connections served at once; further connections are accepted and closed at once.
pub const MAX_CONNECTIONS: usize = 64;
