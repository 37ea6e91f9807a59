//! The `process` driver: each environment is a process tree isolated with Linux namespaces,
//! cgroups, capabilities, seccomp and `pivot_root`.
//!
//! [`ProcessSandbox::create`](crate::Sandbox::create) in short (details in the private `child`
//! and `rootfs` modules, and in the crate's README):
//! 1. the parent validates the spec, creates the env's cgroup with its limits, the stdout/stderr
//!    pipes and a `SOCK_SEQPACKET` sync socket pair, and prepares everything the child will need
//!    (paths, argv/envp, mount steps, id maps, seccomp BPF);
//! 2. `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)` into new pid, mount, net, ipc and uts
//!    namespaces: the child shares the host's memory (nothing is copied, so the server's size does
//!    not matter) and the cloning thread sleeps until the child has exec'd or died;
//! 3. the child joins its cgroups, creates the Runtime API listener in its network namespace and
//!    passes it back with `SCM_RIGHTS`, builds its root and pivots into it, becomes the
//!    unprivileged host uid, enters a user namespace of its own that maps it to uid 993, drops
//!    every capability, installs seccomp and `execve`s the runtime, which is pid 1 of the env;
//! 4. the parent collects the listener (or the child's error report) and returns the [`Env`].
//!
//! `destroy` SIGKILLs pid 1 through its pidfd — the kernel then kills every other process of the
//! pid namespace, and the mount namespace (with /tmp and every mount of the env) goes with them —
//! reaps it, and removes the cgroup. Nothing per-env is ever written to the host's filesystem.

pub(crate) mod cgroup;
pub(crate) mod child;
pub(crate) mod ids;
pub(crate) mod init;
pub(crate) mod rootfs;
pub mod seccomp;
pub(crate) mod sys;

use std::ffi::CString;
use std::fs;
use std::io::{self};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

use self::cgroup::{CgroupLayout, Limits};
use self::child::{ChildError, ChildPlan, MSG_LISTENER};
use self::rootfs::{Identity, Rootfs};
use crate::{Env, EnvSpec, Sandbox, SandboxError};

/// Tunables of the [`ProcessSandbox`]; the defaults match AWS Lambda's environment.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// cgroup directory (relative to each hierarchy's mount point) under which env cgroups are
    /// created. `None` (the default) means `ignis/<instance>`, where `<instance>` is a hash of the
    /// state directory's path, so that sandboxes with different state directories never touch each
    /// other's envs. Everything under it belongs to this sandbox: leftovers (from a crash) are
    /// killed and removed when it starts.
    pub cgroup_parent: Option<String>,
    /// uid the runtime runs as inside the env. Default 993 (as on Lambda).
    pub uid: u32,
    /// gid the runtime runs as inside the env. Default 990 (as on Lambda).
    pub gid: u32,
    /// First host uid that [`SandboxOptions::uid`] maps to (the env's user namespace maps nothing
    /// else, so in particular not root). Each live env leases its own host uid from
    /// `host_uid .. host_uid + host_uid_count` (see `ids.rs`: per-user kernel budgets such as
    /// inotify instances must not be shared between functions). Default 0x7f00_0000 + 993, far from
    /// real users and from the usual subordinate-uid ranges. Sandboxes sharing a host should use
    /// disjoint ranges.
    pub host_uid: u32,
    /// How many host uids envs lease from (so at most this many envs live at once). Default 65,536.
    pub host_uid_count: u32,
    /// Host gid that [`SandboxOptions::gid`] maps to. Default 0x7f00_0000 + 990.
    pub host_gid: u32,
    /// User name of [`SandboxOptions::uid`] in the env's `/etc/passwd`. Default `sbx_user1051`.
    pub user_name: String,
    /// Hostname inside envs. Default `localhost`.
    pub hostname: String,
    /// Cap CPU with a CFS quota proportional to memory (1,769 MiB = 1 vCPU), as Lambda does.
    /// When false only the proportional weight (shares) applies. Default true.
    pub cpu_quota: bool,
    /// Soft and hard `RLIMIT_NOFILE` inside envs (only ever lowered: root here lacks
    /// CAP_SYS_RESOURCE). Default 1024, as on Lambda.
    pub nofile: u64,
    /// Run a minimal init as pid 1 of each env, with the runtime as pid 2 (see `init.rs`), as
    /// Lambda does. Without it the runtime is pid 1: signals it sends itself are dropped and
    /// orphans are never reaped. Needs the host executable to be executable by the env's uid.
    /// Default true.
    pub init: bool,
    /// How long `create` waits for the child's setup report after the clone returned. (The clone
    /// itself returns once the child has exec'd the runtime or died: its setup is local kernel
    /// work, typically ~1 ms.) Default 10 s.
    pub setup_timeout: Duration,
}

/// Base of the host uid/gid range that env identities map to.
const HOST_ID_BASE: u32 = 0x7f00_0000;

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            cgroup_parent: None,
            uid: 993,
            gid: 990,
            host_uid: HOST_ID_BASE + 993,
            host_uid_count: 65_536,
            host_gid: HOST_ID_BASE + 990,
            user_name: "sbx_user1051".into(),
            hostname: "localhost".into(),
            cpu_quota: true,
            nofile: 1024,
            init: true,
            setup_timeout: Duration::from_secs(10),
        }
    }
}

/// The process driver. Create one per worker and state directory; it is `Send + Sync`, and
/// `create`/`destroy` may run concurrently from many threads.
///
/// Needs root (it maps uids, writes cgroups and binds host directories) and Linux ≥ 5.12
/// (`mount_setattr`, `close_range`, `clone3`, pidfds).
#[derive(Debug)]
pub struct ProcessSandbox {
    /// Held (flock) for the sandbox's lifetime: one sandbox per state directory.
    _lock: fs::File,
    cgroups: CgroupLayout,
    /// Host uids leased to live envs.
    uids: Arc<ids::UidPool>,
    rootfs: Rootfs,
    seccomp: seccomp::Program,
    devnull: OwnedFd,
    /// `O_PATH` fd of this process's executable, exec'd as each env's init.
    init_exe: Option<OwnedFd>,
    last_cap: u32,
    nofile: u64,
    /// This process's dumpable setting, restored after each clone (see `child::spawn`).
    dumpable: Option<libc::c_int>,
    options: SandboxOptions,
}

impl ProcessSandbox {
    /// A driver keeping its shared root skeleton under `state_dir` (created if missing), with
    /// default [`SandboxOptions`]. Detects cgroup v2 or v1.
    pub fn new(state_dir: &Path) -> Result<Self, SandboxError> {
        Self::with_options(state_dir, SandboxOptions::default())
    }

    /// Like [`ProcessSandbox::new`] with explicit options.
    ///
    /// Envs left over under this sandbox's cgroup parent by a previous process (e.g. after a
    /// crash) are killed and their cgroups removed.
    pub fn with_options(state_dir: &Path, options: SandboxOptions) -> Result<Self, SandboxError> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err(SandboxError::Unsupported(
                "the process sandbox must run as root".into(),
            ));
        }
        validate_options(&options)?;
        let state_dir = if state_dir.is_absolute() {
            state_dir.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|e| SandboxError::io("current directory", e))?
                .join(state_dir)
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&state_dir)
            .map_err(|e| SandboxError::io(format!("mkdir {}", state_dir.display()), e))?;
        let lock = lock_state_dir(&state_dir)?;
        let cgroup_parent = match &options.cgroup_parent {
            Some(parent) => parent.clone(),
            None => format!(
                "ignis/{:016x}",
                fnv1a(state_dir.as_os_str().as_encoded_bytes())
            ),
        };
        let cgroups = CgroupLayout::detect(&cgroup_parent)?;
        cgroups.purge_all();

        let identity = Identity {
            uid: options.uid,
            gid: options.gid,
            user: &options.user_name,
            hostname: &options.hostname,
        };
        let rootfs = Rootfs::prepare(&state_dir.join("rootfs"), &identity)?;
        let seccomp = seccomp::build_filter()?;
        let devnull = sys::open(c"/dev/null", libc::O_RDONLY)
            .and_then(sys::above_stdio)
            .map_err(|e| SandboxError::io("open /dev/null", e))?;
        let init_exe = match options.init {
            true => {
                let exe = sys::open(c"/proc/self/exe", libc::O_PATH)
                    .and_then(sys::above_stdio)
                    .map_err(|e| SandboxError::io("open /proc/self/exe", e))?;
                // The env's unprivileged uid execs it as the init: say so now rather than at
                // every create.
                let mode = fs::metadata(format!("/proc/self/fd/{}", exe.as_raw_fd()))
                    .map_err(|e| SandboxError::io("stat /proc/self/exe", e))?
                    .permissions()
                    .mode();
                if mode & 0o001 == 0 {
                    return Err(SandboxError::Unsupported(format!(
                        "this executable (mode {mode:o}) must be executable by others: envs run \
                         it as their init (or set SandboxOptions::init to false)"
                    )));
                }
                Some(exe)
            }
            false => None,
        };
        let (_, hard) = sys::getrlimit(libc::RLIMIT_NOFILE)
            .map_err(|e| SandboxError::io("getrlimit NOFILE", e))?;
        Ok(ProcessSandbox {
            _lock: lock,
            cgroups,
            uids: ids::UidPool::new(options.host_uid, options.host_uid_count),
            rootfs,
            seccomp,
            devnull,
            init_exe,
            last_cap: sys::cap_last_cap(),
            nofile: options.nofile.min(hard),
            // SAFETY: PR_GET_DUMPABLE only reads a flag of this process.
            dumpable: match unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) } {
                d @ (0 | 1) => Some(d),
                _ => None,
            },
            options,
        })
    }

    /// The host's cgroup setup as detected, e.g. `cgroup v1 under /sys/fs/cgroup/memory/ignis/…`.
    pub fn cgroup_description(&self) -> String {
        self.cgroups.describe()
    }

    /// Everything the child needs, prepared before the clone.
    fn plan<'a>(
        &'a self,
        spec: &EnvSpec,
        cgroup: &cgroup::EnvCgroup,
        fds: ChildFds<'_>,
        host_uid: u32,
    ) -> Result<ChildPlan<'a>, SandboxError> {
        let ChildFds {
            sync: sync_fd,
            stdout: stdout_w,
            stderr: stderr_w,
            status: status_w,
        } = fds;
        let o = &self.options;
        let steps = self.rootfs.steps(spec, host_uid, o.host_gid)?;
        let to_c = |s: &str| {
            CString::new(s).map_err(|_| SandboxError::InvalidSpec(format!("{s:?} contains NUL")))
        };
        let argv = spec
            .argv
            .iter()
            .map(|a| to_c(a))
            .collect::<Result<Vec<_>, _>>()?;
        let envp = spec
            .env
            .iter()
            .map(|(k, v)| to_c(&format!("{k}={v}")))
            .collect::<Result<Vec<_>, _>>()?;
        let programs = resolve_program(&spec.argv[0], &spec.env)
            .iter()
            .map(|p| to_c(p))
            .collect::<Result<Vec<_>, _>>()?;
        if programs.is_empty() {
            return Err(SandboxError::InvalidSpec(format!(
                "argv[0] {:?} has no '/' and PATH has no absolute directory",
                spec.argv[0]
            )));
        }
        let cgroup_procs = cgroup
            .dirs()
            .iter()
            .map(|d| rootfs::cpath(&d.join("cgroup.procs")))
            .collect::<Result<Vec<_>, _>>()?;
        let argv_ptrs = argv
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let envp_ptrs = envp
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        Ok(ChildPlan {
            sync_fd: sync_fd.as_raw_fd(),
            stdin_fd: self.devnull.as_raw_fd(),
            stdout_fd: stdout_w.as_raw_fd(),
            stderr_fd: stderr_w.as_raw_fd(),
            cgroup_procs,
            hostname: to_c(&o.hostname)?,
            listen_port: spec.runtime_api_port,
            steps,
            rlimits: vec![
                (libc::RLIMIT_CORE, 0, 0),
                (libc::RLIMIT_NOFILE, self.nofile, self.nofile),
            ],
            host_uid,
            host_gid: o.host_gid,
            uid_map: format!("{} {} 1\n", o.uid, host_uid).into_bytes(),
            gid_map: format!("{} {} 1\n", o.gid, o.host_gid).into_bytes(),
            last_cap: self.last_cap,
            programs,
            _argv: argv,
            argv_ptrs,
            _envp: envp,
            envp_ptrs,
            seccomp: &self.seccomp,
            init: match (&self.init_exe, status_w) {
                (Some(exe), Some(status_w)) => {
                    let argv = vec![
                        init::ARGV0.to_owned(),
                        to_c(&status_w.as_raw_fd().to_string())?,
                    ];
                    let argv_ptrs = argv
                        .iter()
                        .map(|a| a.as_ptr())
                        .chain(std::iter::once(std::ptr::null()))
                        .collect();
                    Some(child::InitPlan {
                        exe_fd: exe.as_raw_fd(),
                        status_fd: status_w.as_raw_fd(),
                        _argv: argv,
                        argv_ptrs,
                        envp_ptrs: [std::ptr::null()],
                    })
                }
                _ => None,
            },
            runtime_stack: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            runtime_failed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn create_env(&self, spec: &EnvSpec) -> Result<Env, SandboxError> {
        spec.validate()?;
        let limits = Limits {
            memory_mb: spec.memory_mb,
            pids_max: spec.pids_max,
            cpu_quota: self.options.cpu_quota,
            boost: spec.init_cpu_boost,
        };
        let io = |what: &str| {
            let what = what.to_owned();
            move |e: io::Error| SandboxError::io(what, e)
        };
        // Dropped (removed) on any error before the Env owns it.
        let cgroup = self.cgroups.create(&spec.id, limits)?;
        let (parent_sock, child_sock) = sys::seqpacket_pair().map_err(io("socketpair"))?;
        let (stdout_r, stdout_w) = sys::pipe().map_err(io("pipe"))?;
        let (stderr_r, stderr_w) = sys::pipe().map_err(io("pipe"))?;
        let stdout_w = sys::above_stdio(stdout_w).map_err(io("fcntl"))?;
        let stderr_w = sys::above_stdio(stderr_w).map_err(io("fcntl"))?;
        let child_sock = sys::above_stdio(child_sock).map_err(io("fcntl"))?;
        let uid = self.uids.lease()?;
        // The init reports the runtime's wait status through this pipe.
        let (status_r, status_w) = match self.init_exe {
            Some(_) => {
                let (r, w) = sys::pipe().map_err(io("pipe"))?;
                (Some(r), Some(sys::above_stdio(w).map_err(io("fcntl"))?))
            }
            None => (None, None),
        };
        let fds = ChildFds {
            sync: &child_sock,
            stdout: &stdout_w,
            stderr: &stderr_w,
            status: status_w.as_ref(),
        };
        let plan = self.plan(spec, &cgroup, fds, uid.uid())?;

        // Returns once the child has exec'd the runtime or died trying.
        let spawned = child::spawn(&plan, self.dumpable).map_err(io("clone"))?;
        // Ours must go so that EOF on the sync socket means the child's copy closed too.
        drop((child_sock, stdout_w, stderr_w, status_w));
        let mut env = Env {
            id: spec.id.clone(),
            pid: spawned.pid,
            pidfd: spawned.pidfd,
            listener: None,
            output: Some((stdout_r, stderr_r)),
            cgroup: Some(cgroup),
            uid: Some(uid),
            status_pipe: status_r,
            status: None,
            torn_down: false,
        };
        // From here on, an early return drops `env`, which kills the child and cleans up.

        let deadline = Instant::now() + self.options.setup_timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if !sys::poll_readable(parent_sock.as_raw_fd(), Some(left)).map_err(io("poll"))? {
                return Err(SandboxError::Timeout(self.options.setup_timeout));
            }
            match sys::recv_message(parent_sock.as_raw_fd()).map_err(io("recvmsg"))? {
                sys::Message::Eof => break,
                sys::Message::Data(data, fd) => {
                    if data.first() == Some(&MSG_LISTENER) {
                        if let Some(fd) = fd {
                            env.listener = Some(TcpListener::from(fd));
                        }
                    } else if let Some(err) = ChildError::parse(&data) {
                        return Err(child::to_error(err, &plan));
                    } else {
                        return Err(SandboxError::DiedDuringSetup(format!(
                            "unexpected message of {} bytes from the env",
                            data.len()
                        )));
                    }
                }
            }
        }
        if env.listener.is_none() {
            // EOF without the listener: the child died before it could even set up its network.
            let status = env
                .wait_timeout(Duration::from_secs(1))
                .map(describe_status)
                .unwrap_or_else(|| "still running".into());
            return Err(SandboxError::DiedDuringSetup(status));
        }
        Ok(env)
    }
}

/// The host-side fds a child's plan refers to (kept open by `create_env` until the clone returned).
struct ChildFds<'f> {
    /// Child's end of the sync socket.
    sync: &'f OwnedFd,
    /// Write end of the runtime's stdout pipe.
    stdout: &'f OwnedFd,
    /// Write end of the runtime's stderr pipe.
    stderr: &'f OwnedFd,
    /// Write end of the init's status pipe (with an init).
    status: Option<&'f OwnedFd>,
}

impl Drop for ProcessSandbox {
    fn drop(&mut self) {
        // Envs still alive keep their cgroups (and so the parents) busy; this only tidies up.
        self.cgroups.remove_parents();
    }
}

impl Sandbox for ProcessSandbox {
    fn create(&self, spec: &EnvSpec) -> Result<Env, SandboxError> {
        self.create_env(spec)
    }

    fn destroy(&self, mut env: Env) -> Result<(), SandboxError> {
        teardown(&mut env)
    }
}

fn validate_options(options: &SandboxOptions) -> Result<(), SandboxError> {
    let bad = |msg: String| Err(SandboxError::InvalidSpec(msg));
    if options.hostname.is_empty()
        || options.hostname.len() > 64
        || !options
            .hostname
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return bad(format!(
            "hostname {:?} is not a valid host name",
            options.hostname
        ));
    }
    if options.user_name.is_empty()
        || !options
            .user_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return bad(format!("user name {:?} is not valid", options.user_name));
    }
    if options.uid == 0 || options.host_uid == 0 || options.gid == 0 || options.host_gid == 0 {
        return bad("the env's uid/gid and the host ids they map to must not be 0".into());
    }
    if options.host_uid_count == 0
        || options
            .host_uid
            .checked_add(options.host_uid_count)
            .is_none()
    {
        return bad("host_uid_count must be at least 1 and the uid range must fit in u32".into());
    }
    if options.nofile == 0 {
        return bad("nofile must be at least 1".into());
    }
    Ok(())
}

/// Take an exclusive lock on `<state_dir>/lock`, so that two sandboxes never share a state
/// directory (and so a cgroup parent).
fn lock_state_dir(state_dir: &Path) -> Result<fs::File, SandboxError> {
    let path = state_dir.join("lock");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| SandboxError::io(format!("open {}", path.display()), e))?;
    // SAFETY: flock on an fd we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            return Err(SandboxError::Unsupported(format!(
                "state directory {} is in use by another sandbox",
                state_dir.display()
            )));
        }
        return Err(SandboxError::io(format!("flock {}", path.display()), e));
    }
    Ok(file)
}

/// 64-bit FNV-1a: a stable, dependency-free hash for naming the cgroup parent.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `argv[0]` candidates for execve: itself if it contains a `/`, else each absolute `PATH` entry
/// (from the env's own environment, or a default) joined with it.
fn resolve_program(arg0: &str, env: &[(String, String)]) -> Vec<String> {
    if arg0.contains('/') {
        return vec![arg0.to_owned()];
    }
    let path = env
        .iter()
        .rev()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str())
        .unwrap_or("/usr/local/bin:/usr/bin:/bin");
    path.split(':')
        .filter(|d| d.starts_with('/'))
        .map(|d| format!("{}/{arg0}", d.trim_end_matches('/')))
        .collect()
}

fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (_, Some(sig)) => format!("killed by signal {sig}"),
        _ => format!("{status}"),
    }
}

/// Kill the env's processes, reap pid 1, remove its cgroup. Used by `destroy` (which reports the
/// error) and by `Env`'s `Drop` (which ignores it).
pub(crate) fn teardown(env: &mut Env) -> Result<(), SandboxError> {
    env.torn_down = true;
    let mut problems = Vec::new();
    if env.status.is_none() {
        // Killing pid 1 makes the kernel kill every other process of its pid namespace; pid 1 is
        // reported dead only once they are all gone.
        if let Err(e) = sys::pidfd_send_signal(env.pidfd.as_raw_fd(), libc::SIGKILL) {
            if e.raw_os_error() != Some(libc::ESRCH) {
                problems.push(format!("kill: {e}"));
            }
        }
        if env.wait_timeout(Duration::from_secs(10)).is_none() {
            problems.push(format!("process {} did not exit after SIGKILL", env.pid));
            if let Some(uid) = env.uid.as_mut() {
                uid.retire();
            }
        }
    }
    if let Some(cgroup) = &env.cgroup {
        // Belt and braces: nothing may be left in the cgroup (there is no way out of the pid
        // namespace, but a process stuck in the kernel could linger).
        if !cgroup.procs().is_empty() {
            cgroup.kill_all();
        }
        if let Err(e) = cgroup.remove(Duration::from_secs(2)) {
            problems.push(e.to_string());
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SandboxError::Teardown {
            id: env.id.clone(),
            reason: problems.join("; "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_resolution() {
        assert_eq!(resolve_program("/bin/sh", &[]), vec!["/bin/sh"]);
        assert_eq!(
            resolve_program(
                "python3",
                &[("PATH".into(), "/opt/bin:/usr/bin:rel".into())]
            ),
            vec!["/opt/bin/python3", "/usr/bin/python3"]
        );
        assert_eq!(resolve_program("sh", &[]).len(), 3);
        assert!(resolve_program("sh", &[("PATH".into(), "rel".into())]).is_empty());
    }

    #[test]
    fn default_options_are_valid_and_unprivileged() {
        let o = SandboxOptions::default();
        validate_options(&o).unwrap();
        assert_ne!(o.uid, 0);
        assert!(o.host_uid > 1 << 30);
        assert!(o.host_gid > 1 << 30);
        let bad = SandboxOptions {
            hostname: "a b".into(),
            ..SandboxOptions::default()
        };
        assert!(validate_options(&bad).is_err());
        let root = SandboxOptions {
            host_uid: 0,
            ..SandboxOptions::default()
        };
        assert!(validate_options(&root).is_err());
    }

    #[test]
    fn instance_hash_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fnv1a(b"/var/lib/ignis"), fnv1a(b"/var/lib/ignis2"));
    }
}
