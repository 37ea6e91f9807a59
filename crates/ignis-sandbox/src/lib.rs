//! Execution environments for Ignis: the [`Sandbox`] trait and its drivers.
//!
//! An execution environment ("env") runs one function version's runtime process, isolated from the
//! host and from every other env. The invoke service creates envs through the [`Sandbox`] trait and
//! talks to the runtime inside only through the Runtime API listener and the stdout/stderr pipes that
//! [`Env`] hands out.
//!
//! Drivers:
//! - [`ProcessSandbox`] (module [`process`]): Linux namespaces (user, pid, mount, net, ipc, uts,
//!   cgroup), cgroups v1 or v2 (memory, cpu, pids), a seccomp-bpf filter, no capabilities, and a
//!   `pivot_root` into a per-env root with read-only binds of the host's userland. See the crate's
//!   `README.md` for the design and its threat model.
//! - a KVM microVM driver is planned behind the same trait.

#![deny(missing_docs)]
#![cfg(target_os = "linux")]

mod env;
mod error;
pub mod process;
mod spec;

pub use env::Env;
pub use error::SandboxError;
pub use process::{ProcessSandbox, SandboxOptions};
pub use spec::EnvSpec;

/// A driver that creates and destroys isolated execution environments.
///
/// Both methods block (they make syscalls and wait for the env's setup or teardown, typically a few
/// milliseconds); async callers should run them on a blocking thread (`tokio::task::spawn_blocking`).
pub trait Sandbox: Send + Sync + 'static {
    /// Create and start an environment for `spec`; returns once the runtime process has been
    /// `execve`d inside the fully isolated env (or with the reason it could not be).
    fn create(&self, spec: &EnvSpec) -> Result<Env, SandboxError>;

    /// Kill every process of the env (its whole pid namespace), then remove its cgroups, mounts and
    /// per-env directories, so that nothing of it (including /tmp content) survives.
    fn destroy(&self, env: Env) -> Result<(), SandboxError>;
}
