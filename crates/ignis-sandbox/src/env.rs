//! [`Env`]: a running execution environment and the handles the caller uses to drive it.

use std::net::TcpListener;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use crate::process::cgroup::EnvCgroup;
use crate::process::sys;

/// A running environment, as returned by [`Sandbox::create`](crate::Sandbox::create).
///
/// Hand it back to [`Sandbox::destroy`](crate::Sandbox::destroy) to tear it down and learn whether
/// that fully succeeded. Dropping an `Env` without destroying it still kills its processes and removes
/// what it can (best effort, errors ignored), so an env never outlives its handle.
pub struct Env {
    pub(crate) id: String,
    pub(crate) pid: i32,
    pub(crate) pidfd: OwnedFd,
    pub(crate) listener: Option<TcpListener>,
    pub(crate) output: Option<(OwnedFd, OwnedFd)>,
    /// `None` only while `create` is still making it (cgroup v1).
    pub(crate) cgroup: Option<EnvCgroup>,
    /// The host uid this env runs as; returned to the sandbox's pool once the env is gone.
    pub(crate) uid: Option<crate::process::ids::UidLease>,
    /// Read end of the pipe on which the env's init reports the runtime's wait status.
    pub(crate) status_pipe: Option<OwnedFd>,
    pub(crate) status: Option<ExitStatus>,
    /// Set once teardown ran (by `destroy` or `Drop`).
    pub(crate) torn_down: bool,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("id", &self.id)
            .field("pid", &self.pid)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Env {
    /// The env's id (from its [`EnvSpec`](crate::EnvSpec)).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Host pid of the env's first process (pid 1 of the env's pid namespace): the env's init,
    /// whose only child is the runtime (or the runtime itself with `SandboxOptions::init` off).
    /// The env lives exactly as long as this process.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The runtime's raw wait status as reported by the env's init once it exited (`None` when
    /// there is no init, or pid 1 died without reporting, e.g. killed by `destroy`).
    fn runtime_status(&mut self) -> Option<i32> {
        let fd = self.status_pipe.take()?;
        let mut buf = [0u8; 4];
        // SAFETY: reads at most 4 bytes into a local buffer from a pipe we own. Pid 1 is dead, so
        // every write end is closed and the read cannot block.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        (n == 4).then(|| i32::from_ne_bytes(buf))
    }

    /// The host uid the env's processes run as (unique among live envs of this sandbox; uid 993
    /// inside).
    pub fn host_uid(&self) -> Option<u32> {
        self.uid.as_ref().map(|u| u.uid())
    }

    /// A pidfd of the runtime process. It becomes readable when the process exits, so async callers
    /// can wait for a crash without polling (e.g. with `tokio::io::unix::AsyncFd`).
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// The Runtime API listening socket. It was created inside the env's network namespace, bound to
    /// `127.0.0.1:runtime_api_port` there, so only processes of this env can connect to it; the caller
    /// accepts and serves HTTP on it from the host's event loop. Returned in blocking mode: call
    /// `set_nonblocking(true)` before handing it to tokio. `None` once taken.
    pub fn take_runtime_api_listener(&mut self) -> Option<TcpListener> {
        self.listener.take()
    }

    /// Read ends of the runtime's stdout and stderr pipes, in that order, close-on-exec and in
    /// blocking mode (set `O_NONBLOCK` before using them with an event loop). The caller must keep
    /// draining them: a full pipe blocks the runtime's writes. `None` once taken.
    pub fn take_output(&mut self) -> Option<(OwnedFd, OwnedFd)> {
        self.output.take()
    }

    /// Peak memory use of the env's cgroup in bytes (for the REPORT line's "Max Memory Used").
    pub fn max_memory_bytes(&self) -> Option<u64> {
        self.cgroup.as_ref()?.max_memory_bytes()
    }

    /// Current memory use of the env's cgroup in bytes.
    pub fn memory_bytes(&self) -> Option<u64> {
        self.cgroup.as_ref()?.memory_bytes()
    }

    /// Whether the kernel's OOM killer killed a process of this env since it was created.
    pub fn oom_killed(&self) -> bool {
        self.cgroup.as_ref().is_some_and(EnvCgroup::oom_killed)
    }

    /// End the init-phase CPU boost of [`crate::EnvSpec::init_cpu_boost`]: from now on the CPU
    /// quota is proportional to memory (1,769 MB = one vCPU). A no-op without a boost.
    pub fn end_init_boost(&mut self) -> Result<(), crate::SandboxError> {
        match self.cgroup.as_mut() {
            Some(cg) => cg.end_boost(),
            None => Ok(()),
        }
    }

    /// The env's cgroup directories on the host (one per v1 controller, or the single v2 directory).
    pub fn cgroup_dirs(&self) -> &[PathBuf] {
        self.cgroup.as_ref().map_or(&[], EnvCgroup::dirs)
    }

    /// Non-blocking: `Some(status)` once the runtime process has exited (its status is kept, so later
    /// calls return it again).
    ///
    /// If another part of the program reaped the process first (e.g. a `waitpid(-1)` loop), the real
    /// status is lost and an exit code of 255 is reported.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            match sys::waitpid_nohang(self.pid) {
                Ok(Some(raw)) => {
                    let raw = self.runtime_status().unwrap_or(raw);
                    self.status = Some(ExitStatus::from_raw(raw));
                }
                Ok(None) => {}
                Err(_) => self.status = Some(ExitStatus::from_raw(255 << 8)),
            }
        }
        self.status
    }

    /// Wait up to `timeout` for the runtime process to exit; `Some(status)` if it did.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.try_wait() {
            return Some(status);
        }
        // A pidfd polls readable once the process has exited.
        if sys::poll_readable(self.pidfd.as_raw_fd(), Some(timeout)).unwrap_or(false) {
            return self.try_wait();
        }
        None
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if !self.torn_down {
            let _ = crate::process::teardown(self);
        }
    }
}
