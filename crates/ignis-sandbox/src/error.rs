//! The error type shared by all sandbox drivers.

use std::io;

/// Why an environment could not be created, inspected or destroyed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The [`EnvSpec`](crate::EnvSpec) is malformed (bad id, relative path, empty argv, NUL byte, zero limit, ...).
    #[error("invalid environment spec: {0}")]
    InvalidSpec(String),

    /// This host lacks something the driver needs (a cgroup controller, a kernel feature, ...).
    #[error("unsupported host: {0}")]
    Unsupported(String),

    /// An environment with this id already exists (its cgroup or directory is in use).
    #[error("environment {0:?} already exists")]
    AlreadyExists(String),

    /// A host-side operation failed (cgroup file, directory, pipe, clone, ...).
    #[error("{context}: {source}")]
    Io {
        /// What was being done, e.g. `write /sys/fs/cgroup/memory/ignis/x/memory.limit_in_bytes`.
        context: String,
        /// The underlying OS error.
        #[source]
        source: io::Error,
    },

    /// A setup step inside the new environment failed before the runtime could be started.
    #[error("environment setup failed at {step}: {source}")]
    Setup {
        /// The step, e.g. `bind /usr -> /usr` or `pivot_root`.
        step: String,
        /// The errno reported by the step.
        #[source]
        source: io::Error,
    },

    /// The runtime command could not be executed inside the environment (missing file, not executable, ...).
    #[error("cannot execute {path:?} inside the environment: {source}")]
    Exec {
        /// The program (argv\[0\]) as seen inside the environment.
        path: String,
        /// The errno returned by execve.
        #[source]
        source: io::Error,
    },

    /// The environment did not finish its setup within the configured time.
    #[error("environment setup timed out after {0:?}")]
    Timeout(std::time::Duration),

    /// The environment's process died during setup without reporting why.
    #[error("environment process died during setup ({0})")]
    DiedDuringSetup(String),

    /// Destroying the environment left something behind; the message says what.
    #[error("teardown of environment {id:?} incomplete: {reason}")]
    Teardown {
        /// The environment id.
        id: String,
        /// What could not be removed or killed.
        reason: String,
    },
}

impl SandboxError {
    /// Shorthand for an [`SandboxError::Io`] with a context string.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        SandboxError::Io {
            context: context.into(),
            source,
        }
    }
}
