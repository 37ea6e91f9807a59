//! The forked child: everything that happens between `clone3` and `execve`.
//!
//! The host process is multi-threaded (tokio), so after the clone the child may only do what is
//! async-signal-safe: another thread may have held the allocator's lock (or any other lock) at the
//! moment of the clone, and that lock stays held forever in the child. So the parent prepares a
//! [`ChildPlan`] *before* cloning — every path as a `CString`, every file's contents, argv/envp
//! pointer arrays, the seccomp BPF — and [`run`] only walks that plan with raw syscalls: no heap
//! allocation, no locks, no formatting, no panics. Credentials are changed with raw `syscall(2)`
//! rather than glibc's wrappers, which would try to synchronise the (copied, non-existent) other
//! threads of the parent. Failures are reported to the parent as a fixed-size message (stage, index,
//! errno) over the sync socket, then the child `_exit`s.
//!
//! Sequence in the child:
//! 1. reset signal dispositions (signals stay blocked until just before exec), umask 022;
//! 2. bring up `lo` in the new network namespace, create the Runtime API listener on
//!    127.0.0.1:port, pass it to the parent with `SCM_RIGHTS`;
//! 3. set the hostname; run the plan's `pre` steps (private mount propagation, read-only bind of the
//!    root skeleton, read-only binds of the host userland and the function's code, /dev nodes, /proc);
//! 4. wait for the parent's "go" (uid/gid maps written, cgroups joined); `unshare(CLONE_NEWCGROUP)`;
//! 5. run the `post` steps (/tmp tmpfs owned by the runtime uid, pivot_root, read-only root);
//! 6. drop privileges: securebits, empty bounding and ambient sets, `setgroups([])`, setresgid,
//!    setresuid, zero capability sets, `no_new_privs`, rlimits;
//! 7. stdio (stdin from /dev/null, stdout/stderr pipes), mark every other fd close-on-exec, chdir;
//! 8. install the seccomp filter, unblock signals, `execve`.

use std::ffi::{c_char, c_int, c_ulong, CString};
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::ptr;

use super::sys;

// Constants not (or not uniformly) exported by the libc crate.
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;
const MOUNT_ATTR_NOEXEC: u64 = 0x8;
const AT_RECURSIVE: c_int = 0x8000;
const CLOSE_RANGE_CLOEXEC: c_ulong = 1 << 2;
const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const SECBIT_NOROOT: c_ulong = 1 << 0;
const SECBIT_NOROOT_LOCKED: c_ulong = 1 << 1;
const SECBIT_NO_SETUID_FIXUP_LOCKED: c_ulong = 1 << 3;
const SECBIT_KEEP_CAPS_LOCKED: c_ulong = 1 << 5;
const SECBIT_NO_CAP_AMBIENT_RAISE: c_ulong = 1 << 6;
const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: c_ulong = 1 << 7;
const SIOCSIFFLAGS: c_ulong = 0x8914;

/// Attributes for [`Step::SetAttr`]: read-only, no setuid, no device nodes.
pub(crate) const ATTR_RO_NOSUID_NODEV: u64 =
    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
/// Attributes for bound device nodes: read-only mount, no setuid, no exec.
pub(crate) const ATTR_DEV_NODE: u64 = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;

/// One filesystem step of the child's setup, with every argument prepared before the clone.
#[derive(Debug)]
pub(crate) enum Step {
    /// `mount(2)`.
    Mount {
        src: Option<CString>,
        target: CString,
        fstype: Option<CString>,
        flags: c_ulong,
        data: Option<CString>,
    },
    /// `mount_setattr(2)`: add `set` to the mount at `path` (and below it if `recursive`).
    SetAttr {
        path: CString,
        set: u64,
        recursive: bool,
    },
    /// `pivot_root` into `new_root` and detach the old root.
    PivotRoot { new_root: CString },
    /// `chdir(2)`.
    Chdir { path: CString },
}

fn lossy(c: &CString) -> String {
    c.to_string_lossy().into_owned()
}

impl Step {
    /// What the step does, for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Step::Mount {
                src,
                target,
                fstype,
                flags,
                ..
            } => {
                let kind = if flags & libc::MS_BIND != 0 {
                    "bind".to_owned()
                } else if flags & (libc::MS_PRIVATE | libc::MS_SLAVE) != 0 {
                    "make mounts private under".to_owned()
                } else {
                    format!("mount {}", fstype.as_ref().map(lossy).unwrap_or_default())
                };
                match src {
                    Some(src) if flags & libc::MS_BIND != 0 => {
                        format!("{kind} {} -> {}", lossy(src), lossy(target))
                    }
                    _ => format!("{kind} {}", lossy(target)),
                }
            }
            Step::SetAttr { path, .. } => format!("mount_setattr {}", lossy(path)),
            Step::PivotRoot { new_root } => format!("pivot_root into {}", lossy(new_root)),
            Step::Chdir { path } => format!("chdir {}", lossy(path)),
        }
    }
}

/// Everything the child needs, prepared by the parent before the clone.
pub(crate) struct ChildPlan<'a> {
    /// Child's end of the sync socket (close-on-exec: the parent sees EOF once exec succeeded).
    pub sync_fd: RawFd,
    /// Becomes the runtime's stdin (`/dev/null`).
    pub stdin_fd: RawFd,
    /// Becomes the runtime's stdout.
    pub stdout_fd: RawFd,
    /// Becomes the runtime's stderr.
    pub stderr_fd: RawFd,
    /// Hostname inside the UTS namespace.
    pub hostname: CString,
    /// Runtime API port on 127.0.0.1 inside the network namespace.
    pub listen_port: u16,
    /// Filesystem steps before the "go" (no uid mapping needed).
    pub pre: Vec<Step>,
    /// Filesystem steps after the "go".
    pub post: Vec<Step>,
    /// uid/gid inside the user namespace that the runtime runs as.
    pub uid: u32,
    /// See `uid`.
    pub gid: u32,
    /// Highest capability number of the running kernel.
    pub last_cap: u32,
    /// Resource limits to set: (resource, soft, hard).
    pub rlimits: Vec<(libc::__rlimit_resource_t, u64, u64)>,
    /// Program paths to try with execve, in order.
    pub programs: Vec<CString>,
    /// Keeps the argv strings alive for `argv_ptrs`.
    pub _argv: Vec<CString>,
    /// NULL-terminated argv pointer array.
    pub argv_ptrs: Vec<*const c_char>,
    /// Keeps the envp strings alive for `envp_ptrs`.
    pub _envp: Vec<CString>,
    /// NULL-terminated envp pointer array.
    pub envp_ptrs: Vec<*const c_char>,
    /// The seccomp filter program.
    pub seccomp: &'a [libc::sock_filter],
}

/// Where in [`run`] a failure happened (reported to the parent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Stage {
    NetSocket = 1,
    LoopbackUp,
    Bind,
    Listen,
    SendListener,
    Hostname,
    Pre,
    WaitGo,
    CgroupNs,
    Post,
    Securebits,
    Bounding,
    Ambient,
    Setgroups,
    Setgid,
    Setuid,
    Capset,
    NoNewPrivs,
    Rlimit,
    Stdio,
    CloseRange,
    Seccomp,
    Sigmask,
    Exec,
}

impl Stage {
    fn from_u32(v: u32) -> Option<Stage> {
        use Stage::*;
        const ALL: [Stage; 24] = [
            NetSocket,
            LoopbackUp,
            Bind,
            Listen,
            SendListener,
            Hostname,
            Pre,
            WaitGo,
            CgroupNs,
            Post,
            Securebits,
            Bounding,
            Ambient,
            Setgroups,
            Setgid,
            Setuid,
            Capset,
            NoNewPrivs,
            Rlimit,
            Stdio,
            CloseRange,
            Seccomp,
            Sigmask,
            Exec,
        ];
        ALL.into_iter().find(|s| *s as u32 == v)
    }
}

/// A failure reported by the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChildError {
    /// Where.
    pub stage: Stage,
    /// Step, capability, rlimit or program index within the stage.
    pub index: u32,
    /// The errno.
    pub errno: i32,
}

/// Tag byte of a child-to-parent message carrying the listener fd.
pub(crate) const MSG_LISTENER: u8 = b'L';
/// Tag byte of a child-to-parent error message.
pub(crate) const MSG_ERROR: u8 = b'E';
/// Length of an error message: tag, 3 padding bytes, stage, index, errno (little-endian u32/i32).
const ERROR_LEN: usize = 16;

impl ChildError {
    /// Parse an error message received from the child.
    pub(crate) fn parse(msg: &[u8]) -> Option<ChildError> {
        if msg.len() != ERROR_LEN || msg[0] != MSG_ERROR {
            return None;
        }
        let word = |i: usize| [msg[i], msg[i + 1], msg[i + 2], msg[i + 3]];
        Some(ChildError {
            stage: Stage::from_u32(u32::from_le_bytes(word(4)))?,
            index: u32::from_le_bytes(word(8)),
            errno: i32::from_le_bytes(word(12)),
        })
    }

    /// The errno as an `io::Error`.
    pub(crate) fn io_error(&self) -> io::Error {
        io::Error::from_raw_os_error(self.errno)
    }

    /// Describe where it happened, using the plan the child ran.
    pub(crate) fn describe(&self, plan: &ChildPlan<'_>) -> String {
        let step = |steps: &[Step]| {
            steps
                .get(self.index as usize)
                .map(Step::describe)
                .unwrap_or_else(|| format!("step {}", self.index))
        };
        match self.stage {
            Stage::NetSocket => "create the Runtime API socket".into(),
            Stage::LoopbackUp => "bring up the loopback interface".into(),
            Stage::Bind => format!("bind 127.0.0.1:{}", plan.listen_port),
            Stage::Listen => "listen on the Runtime API socket".into(),
            Stage::SendListener => "pass the Runtime API listener to the host".into(),
            Stage::Hostname => "set the hostname".into(),
            Stage::Pre => step(&plan.pre),
            Stage::WaitGo => "wait for the host (uid map, cgroups)".into(),
            Stage::CgroupNs => "unshare the cgroup namespace".into(),
            Stage::Post => step(&plan.post),
            Stage::Securebits => "set securebits".into(),
            Stage::Bounding => format!("drop capability {} from the bounding set", self.index),
            Stage::Ambient => "clear ambient capabilities".into(),
            Stage::Setgroups => "clear supplementary groups".into(),
            Stage::Setgid => format!("setresgid {}", plan.gid),
            Stage::Setuid => format!("setresuid {}", plan.uid),
            Stage::Capset => "clear capabilities".into(),
            Stage::NoNewPrivs => "set no_new_privs".into(),
            Stage::Rlimit => format!("set rlimit #{}", self.index),
            Stage::Stdio => format!("set up fd {}", self.index),
            Stage::CloseRange => "mark inherited fds close-on-exec".into(),
            Stage::Seccomp => "install the seccomp filter".into(),
            Stage::Sigmask => "unblock signals".into(),
            Stage::Exec => plan
                .programs
                .get(self.index as usize)
                .map(lossy)
                .unwrap_or_default(),
        }
    }
}

/// `struct clone_args` of `clone3(2)`.
#[repr(C)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// `struct ifreq` restricted to the `ifr_flags` member (40 bytes on 64-bit Linux).
#[repr(C)]
struct IfreqFlags {
    name: [u8; 16],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: c_int,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The new child: its host pid and a pidfd for it.
pub(crate) struct Spawned {
    pub pid: i32,
    pub pidfd: OwnedFd,
}

/// Namespaces every environment gets at clone time (the cgroup namespace is unshared later, once
/// the child sits in its own cgroup).
pub(crate) const NAMESPACES: u64 = (libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUTS) as u64;

/// Clone a child into new namespaces (and straight into `cgroup_fd` on cgroup v2) that runs `plan`
/// and never returns into Rust code of the host process.
///
/// Every signal is blocked on the calling thread around the clone so that no host signal handler can
/// run in the child before it resets them.
pub(crate) fn spawn(plan: &ChildPlan<'_>, cgroup_fd: Option<RawFd>) -> io::Result<Spawned> {
    let _blocked = sys::SignalBlock::new()?;
    let mut pidfd: RawFd = -1;
    let mut flags = NAMESPACES | CLONE_PIDFD;
    if cgroup_fd.is_some() {
        flags |= CLONE_INTO_CGROUP;
    }
    let mut args = CloneArgs {
        flags,
        pidfd: ptr::addr_of_mut!(pidfd) as u64,
        child_tid: 0,
        parent_tid: 0,
        exit_signal: libc::SIGCHLD as u64,
        stack: 0,
        stack_size: 0,
        tls: 0,
        set_tid: 0,
        set_tid_size: 0,
        cgroup: cgroup_fd.map_or(0, |fd| fd as u64),
    };
    // SAFETY: clone3 with a zero stack behaves like fork: the child gets a copy of this address
    // space and continues here on a copy of this thread's stack. `args` and `pidfd` are valid for the
    // call. The child branch only calls `run`, which never returns and is async-signal-safe.
    let mut ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            ptr::addr_of_mut!(args),
            size_of::<CloneArgs>(),
        )
    };
    if ret == -1
        && io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS)
        && cgroup_fd.is_none()
    {
        // Pre-5.3 kernels: clone(2) has the same fork-like semantics with a NULL stack; with
        // CLONE_PIDFD the pidfd is stored through the parent_tid argument.
        // SAFETY: as above; the pointer argument is valid for the call.
        ret = unsafe {
            libc::syscall(
                libc::SYS_clone,
                (NAMESPACES | CLONE_PIDFD) as c_ulong | libc::SIGCHLD as c_ulong,
                ptr::null_mut::<libc::c_void>(),
                ptr::addr_of_mut!(pidfd),
                ptr::null_mut::<c_int>(),
                0 as c_ulong,
            )
        };
    }
    if ret == 0 {
        // SAFETY: we are the freshly cloned child; `plan` is our private copy of the parent's plan.
        unsafe { run(plan) }
    }
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel stored a new pidfd owned by this process.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Spawned {
        pid: ret as i32,
        pidfd,
    })
}

/// The errno of the last failed libc call (reads thread-local `errno`; async-signal-safe).
fn errno() -> i32 {
    io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Report a failure to the parent and exit.
///
/// # Safety
/// Only for the cloned child: it terminates the process with `_exit`.
unsafe fn fail(plan: &ChildPlan<'_>, stage: Stage, index: u32, errno: i32) -> ! {
    let mut msg = [0u8; ERROR_LEN];
    msg[0] = MSG_ERROR;
    msg[4..8].copy_from_slice(&(stage as u32).to_le_bytes());
    msg[8..12].copy_from_slice(&index.to_le_bytes());
    msg[12..16].copy_from_slice(&errno.to_le_bytes());
    // SAFETY: `msg` is valid for ERROR_LEN bytes; a failed send changes nothing for us.
    unsafe {
        libc::send(
            plan.sync_fd,
            msg.as_ptr().cast(),
            ERROR_LEN,
            libc::MSG_NOSIGNAL,
        );
        libc::_exit(127)
    }
}

/// Check a `-1`-on-error return; on error report it and exit.
///
/// # Safety
/// Only for the cloned child (see [`fail`]).
unsafe fn check(plan: &ChildPlan<'_>, ret: libc::c_long, stage: Stage, index: u32) {
    if ret == -1 {
        // SAFETY: we are the child.
        unsafe { fail(plan, stage, index, errno()) }
    }
}

/// The child's whole life until `execve`. See the module docs for the sequence.
///
/// # Safety
/// Must only be called in a child freshly created by [`spawn`]: it changes process-wide state and
/// exits instead of returning.
unsafe fn run(plan: &ChildPlan<'_>) -> ! {
    // SAFETY (whole function): only raw syscalls and libc wrappers that are thin syscall wrappers
    // are used; every pointer passed comes from `plan` (prepared before the clone, alive in our copy
    // of the address space) or from locals on this stack. Nothing allocates or takes a lock.
    unsafe {
        // 1. Default signal dispositions (ignored signals such as SIGPIPE would survive execve).
        let mut dfl: libc::sigaction = zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        for sig in 1..65 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::sigaction(sig, &dfl, ptr::null_mut());
            }
        }
        libc::umask(0o022);

        // 2. Loopback up and the Runtime API listener, inside the new network namespace.
        let sock = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        check(plan, sock as libc::c_long, Stage::NetSocket, 0);
        let mut ifr = IfreqFlags {
            name: [0; 16],
            flags: (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short,
            _pad: [0; 22],
        };
        ifr.name[0] = b'l';
        ifr.name[1] = b'o';
        check(
            plan,
            libc::ioctl(sock, SIOCSIFFLAGS as _, ptr::addr_of_mut!(ifr)) as libc::c_long,
            Stage::LoopbackUp,
            0,
        );
        let mut addr: libc::sockaddr_in = zeroed();
        addr.sin_family = libc::AF_INET as libc::sa_family_t;
        addr.sin_port = plan.listen_port.to_be();
        addr.sin_addr.s_addr = u32::from_be_bytes([127, 0, 0, 1]).to_be();
        check(
            plan,
            libc::bind(
                sock,
                ptr::addr_of!(addr).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            ) as libc::c_long,
            Stage::Bind,
            0,
        );
        check(
            plan,
            libc::listen(sock, 128) as libc::c_long,
            Stage::Listen,
            0,
        );
        send_fd(plan, sock);
        libc::close(sock);

        // 3. Hostname, then the filesystem steps that need no uid mapping.
        check(
            plan,
            libc::sethostname(plan.hostname.as_ptr(), plan.hostname.as_bytes().len())
                as libc::c_long,
            Stage::Hostname,
            0,
        );
        run_steps(plan, &plan.pre, Stage::Pre);

        // 4. Wait for the parent: uid/gid maps written, cgroups joined.
        let mut go = [0u8; 1];
        let n = libc::recv(plan.sync_fd, go.as_mut_ptr().cast(), 1, 0);
        if n != 1 {
            // EOF: the parent gave up on us; an error: report it.
            let e = if n == 0 { libc::ECONNRESET } else { errno() };
            fail(plan, Stage::WaitGo, 0, e);
        }
        check(
            plan,
            libc::unshare(libc::CLONE_NEWCGROUP) as libc::c_long,
            Stage::CgroupNs,
            0,
        );

        // 5. /tmp, pivot_root, read-only root.
        run_steps(plan, &plan.post, Stage::Post);

        // 6. Drop privileges. Securebits and the bounding set need CAP_SETPCAP, so they come first.
        check(
            plan,
            libc::prctl(
                libc::PR_SET_SECUREBITS,
                SECBIT_NOROOT
                    | SECBIT_NOROOT_LOCKED
                    | SECBIT_NO_SETUID_FIXUP_LOCKED
                    | SECBIT_KEEP_CAPS_LOCKED
                    | SECBIT_NO_CAP_AMBIENT_RAISE
                    | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
                0,
                0,
                0,
            ) as libc::c_long,
            Stage::Securebits,
            0,
        );
        let mut cap = 0u32;
        while cap <= plan.last_cap {
            if libc::prctl(libc::PR_CAPBSET_DROP, cap as c_ulong, 0, 0, 0) == -1 {
                let e = errno();
                if e != libc::EINVAL {
                    fail(plan, Stage::Bounding, cap, e);
                }
            }
            cap += 1;
        }
        check(
            plan,
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL as c_ulong,
                0,
                0,
                0,
            ) as libc::c_long,
            Stage::Ambient,
            0,
        );
        check(
            plan,
            libc::syscall(libc::SYS_setgroups, 0, ptr::null::<libc::gid_t>()),
            Stage::Setgroups,
            0,
        );
        check(
            plan,
            libc::syscall(libc::SYS_setresgid, plan.gid, plan.gid, plan.gid),
            Stage::Setgid,
            0,
        );
        check(
            plan,
            libc::syscall(libc::SYS_setresuid, plan.uid, plan.uid, plan.uid),
            Stage::Setuid,
            0,
        );
        // Our in-namespace uid was never 0 (unmapped), so setresuid did not clear capabilities
        // by itself: clear every set explicitly.
        let mut header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        check(
            plan,
            libc::syscall(libc::SYS_capset, ptr::addr_of_mut!(header), data.as_ptr()),
            Stage::Capset,
            0,
        );
        check(
            plan,
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long,
            Stage::NoNewPrivs,
            0,
        );
        for (i, (resource, soft, hard)) in plan.rlimits.iter().enumerate() {
            let lim = libc::rlimit {
                rlim_cur: *soft,
                rlim_max: *hard,
            };
            check(
                plan,
                libc::setrlimit(*resource, &lim) as libc::c_long,
                Stage::Rlimit,
                i as u32,
            );
        }

        // 7. stdio; every other inherited fd (including ones leaked by other threads of the host
        //    without O_CLOEXEC) closes at exec.
        for (target, source) in [plan.stdin_fd, plan.stdout_fd, plan.stderr_fd]
            .into_iter()
            .enumerate()
        {
            check(
                plan,
                libc::dup2(source, target as c_int) as libc::c_long,
                Stage::Stdio,
                target as u32,
            );
        }
        check(
            plan,
            libc::syscall(
                libc::SYS_close_range,
                3 as c_ulong,
                c_ulong::from(u32::MAX),
                CLOSE_RANGE_CLOEXEC,
            ),
            Stage::CloseRange,
            0,
        );

        // 8. seccomp (no_new_privs is set, so no privilege is needed), unblock signals, exec.
        let prog = libc::sock_fprog {
            len: plan.seccomp.len() as libc::c_ushort,
            filter: plan.seccomp.as_ptr() as *mut libc::sock_filter,
        };
        check(
            plan,
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0 as c_ulong,
                ptr::addr_of!(prog),
            ),
            Stage::Seccomp,
            0,
        );
        let empty: libc::sigset_t = zeroed();
        check(
            plan,
            libc::sigprocmask(libc::SIG_SETMASK, &empty, ptr::null_mut()) as libc::c_long,
            Stage::Sigmask,
            0,
        );
        // Like execvp: try each candidate; report EACCES over ENOENT, like a shell would.
        let mut failure = (0u32, libc::ENOENT);
        for (i, program) in plan.programs.iter().enumerate() {
            libc::execve(
                program.as_ptr(),
                plan.argv_ptrs.as_ptr(),
                plan.envp_ptrs.as_ptr(),
            );
            let e = errno();
            if i == 0 || e != libc::ENOENT {
                failure = (i as u32, e);
            }
        }
        fail(plan, Stage::Exec, failure.0, failure.1)
    }
}

/// Run filesystem steps; report the first failure (with its index) and exit.
///
/// # Safety
/// Only for the cloned child (see [`run`]).
unsafe fn run_steps(plan: &ChildPlan<'_>, steps: &[Step], stage: Stage) {
    for (i, step) in steps.iter().enumerate() {
        // SAFETY: each call receives pointers to NUL-terminated strings / buffers owned by `plan`.
        let ret: libc::c_long = unsafe {
            match step {
                Step::Mount {
                    src,
                    target,
                    fstype,
                    flags,
                    data,
                } => libc::mount(
                    src.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                    target.as_ptr(),
                    fstype.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                    *flags,
                    data.as_ref()
                        .map_or(ptr::null(), |s| s.as_ptr().cast::<libc::c_void>()),
                ) as libc::c_long,
                Step::SetAttr {
                    path,
                    set,
                    recursive,
                } => {
                    let attr = MountAttr {
                        attr_set: *set,
                        attr_clr: 0,
                        propagation: 0,
                        userns_fd: 0,
                    };
                    let flags = if *recursive { AT_RECURSIVE } else { 0 };
                    libc::syscall(
                        libc::SYS_mount_setattr,
                        libc::AT_FDCWD,
                        path.as_ptr(),
                        flags as c_ulong,
                        ptr::addr_of!(attr),
                        size_of::<MountAttr>(),
                    )
                }
                Step::PivotRoot { new_root } => pivot_root(new_root),
                Step::Chdir { path } => libc::chdir(path.as_ptr()) as libc::c_long,
            }
        };
        if ret == -1 {
            // SAFETY: we are the child.
            unsafe { fail(plan, stage, i as u32, errno()) }
        }
    }
}

/// `pivot_root(new_root, new_root)` from inside `new_root`, then lazily detach the old root that
/// ends up stacked on `/`, so nothing of the host's tree stays reachable.
///
/// # Safety
/// Async-signal-safe raw syscalls only; for the child.
unsafe fn pivot_root(new_root: &CString) -> libc::c_long {
    const DOT: &[u8] = b".\0";
    const SLASH: &[u8] = b"/\0";
    // SAFETY: all strings are NUL-terminated.
    unsafe {
        if libc::chdir(new_root.as_ptr()) == -1 {
            return -1;
        }
        if libc::syscall(
            libc::SYS_pivot_root,
            DOT.as_ptr().cast::<c_char>(),
            DOT.as_ptr().cast::<c_char>(),
        ) == -1
        {
            return -1;
        }
        if libc::umount2(DOT.as_ptr().cast(), libc::MNT_DETACH) == -1 {
            return -1;
        }
        libc::chdir(SLASH.as_ptr().cast()) as libc::c_long
    }
}

/// Pass `fd` to the parent with `SCM_RIGHTS` in a one-byte [`MSG_LISTENER`] message; exit on error.
///
/// # Safety
/// Only for the cloned child.
unsafe fn send_fd(plan: &ChildPlan<'_>, fd: RawFd) {
    #[repr(C, align(8))]
    struct CmsgBuf([u8; 64]);
    let mut cbuf = CmsgBuf([0; 64]);
    let tag = [MSG_LISTENER];
    let mut iov = libc::iovec {
        iov_base: tag.as_ptr() as *mut libc::c_void,
        iov_len: 1,
    };
    // SAFETY: msghdr is plain data; the CMSG_* helpers compute offsets within `cbuf`, which is
    // large enough for one fd (CMSG_SPACE(4) = 24 bytes on 64-bit Linux).
    unsafe {
        let mut msg: libc::msghdr = zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(size_of::<RawFd>() as u32) as _;
        let hdr = libc::CMSG_FIRSTHDR(&msg);
        (*hdr).cmsg_level = libc::SOL_SOCKET;
        (*hdr).cmsg_type = libc::SCM_RIGHTS;
        (*hdr).cmsg_len = libc::CMSG_LEN(size_of::<RawFd>() as u32) as _;
        libc::CMSG_DATA(hdr).cast::<RawFd>().write_unaligned(fd);
        let n = libc::sendmsg(plan.sync_fd, &msg, libc::MSG_NOSIGNAL);
        check(plan, n as libc::c_long, Stage::SendListener, 0);
    }
}

/// Describe a failure message from the child as the right [`crate::SandboxError`].
pub(crate) fn to_error(err: ChildError, plan: &ChildPlan<'_>) -> crate::SandboxError {
    let what = err.describe(plan);
    match err.stage {
        Stage::Exec => crate::SandboxError::Exec {
            path: what,
            source: err.io_error(),
        },
        _ => crate::SandboxError::Setup {
            step: what,
            source: err.io_error(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_round_trip() {
        let mut msg = [0u8; ERROR_LEN];
        msg[0] = MSG_ERROR;
        msg[4..8].copy_from_slice(&(Stage::Post as u32).to_le_bytes());
        msg[8..12].copy_from_slice(&3u32.to_le_bytes());
        msg[12..16].copy_from_slice(&libc::EPERM.to_le_bytes());
        let err = ChildError::parse(&msg).unwrap();
        assert_eq!(
            err,
            ChildError {
                stage: Stage::Post,
                index: 3,
                errno: libc::EPERM
            }
        );
        assert!(ChildError::parse(&msg[..15]).is_none());
        assert!(ChildError::parse(b"L").is_none());
    }

    #[test]
    fn ifreq_has_the_kernel_size() {
        assert_eq!(size_of::<IfreqFlags>(), 40);
        assert_eq!(size_of::<CloneArgs>(), 88);
        assert_eq!(size_of::<MountAttr>(), 32);
    }
}
