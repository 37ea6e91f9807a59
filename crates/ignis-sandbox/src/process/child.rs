//! The cloned child: everything that happens between `clone` and `execve`.
//!
//! The child is created with `CLONE_VM | CLONE_VFORK` (like `posix_spawn`): it runs on its own small
//! stack inside the host process's address space while the cloning thread sleeps until the child
//! has called `execve` (or died). Nothing is copied, so creating an env costs the same whether the
//! server uses 20 MiB or 20 GiB (a fork-style clone of a 1 GiB process costs ~30 ms here, and
//! another ~30 ms when the child execs and drops the copied page tables).
//!
//! The host process is multi-threaded (tokio) and its memory is shared, so the child may only do
//! what is async-signal-safe and must not touch anything another thread could be using: the parent
//! prepares a [`ChildPlan`] *before* cloning — every path as a `CString`, every file's contents,
//! argv/envp pointer arrays, the seccomp BPF — and [`run`] only walks that plan with syscalls: no
//! heap allocation, no locks, no formatting, no panics. Credentials are changed with raw
//! `syscall(2)` rather than glibc's wrappers, which would try to synchronise the parent's threads.
//! The shared state the child does write is `errno`, in the TLS of the cloning thread, which is
//! asleep in `clone` and does not read it, and the memory map's "dumpable" flag, which the kernel
//! resets on every credential change: the child needs it set to open its own `/proc/self/*_map`
//! files, so clones are serialised process-wide (a mutex around [`spawn`], which takes ~1.5 ms) and
//! the parent restores the host's own setting after each one. Failures are reported to the parent as a fixed-size
//! message (stage, index, errno) over the sync socket, then the child `_exit`s.
//!
//! Because the child does all the work itself, the parent has no part to play after the clone,
//! which is what makes `CLONE_VFORK` possible. Sequence in the child (pid 1 of new pid, mount, net,
//! ipc and uts namespaces, still host root):
//! 1. reset signal dispositions (signals stay blocked until just before exec), umask 022;
//! 2. join the env's cgroups (`cgroup.procs`), then `unshare(CLONE_NEWCGROUP)`;
//! 3. bring up `lo`, create the Runtime API listener on 127.0.0.1:port and pass it to the parent
//!    with `SCM_RIGHTS`; set the hostname;
//! 4. the filesystem steps (see [`super::rootfs`]): private propagation, read-only binds of the
//!    root skeleton, the host userland and the function's code, /dev nodes, /proc, the /tmp tmpfs,
//!    `pivot_root`;
//! 5. clear supplementary groups, set rlimits, become the unprivileged host uid/gid (which clears
//!    every capability), stay dumpable;
//! 6. `unshare(CLONE_NEWUSER)` and map the env's uid/gid (993/990) onto that host uid/gid, writing
//!    our own maps as any unprivileged process may (`setgroups` denied first);
//! 7. drop what the new user namespace granted: securebits, empty bounding and ambient sets, zero
//!    capability sets, `no_new_privs`;
//! 8. stdio (stdin from /dev/null, stdout/stderr pipes), mark every other fd close-on-exec;
//! 9. install the seccomp filter; clone the runtime (pid 2, `CLONE_VM | CLONE_VFORK` on a second
//!    prepared stack), which unblocks signals and `execve`s; once it has, exec the env's init
//!    (see [`super::init`]) as pid 1. Without an init plan the child execs the runtime itself.

use std::ffi::{c_char, c_int, c_ulong, c_void, CString};
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Mutex;

use super::sys;

// Constants not (or not uniformly) exported by the libc crate.
const CLONE_PIDFD: c_int = 0x1000;
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
/// Size of the child's stack (it needs a few KiB; debug builds use more).
const STACK_SIZE: usize = 256 << 10;

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
                if flags & libc::MS_BIND != 0 {
                    let src = src.as_ref().map(lossy).unwrap_or_default();
                    format!("bind {src} -> {}", lossy(target))
                } else if flags & (libc::MS_PRIVATE | libc::MS_SLAVE) != 0 {
                    format!("make mounts private under {}", lossy(target))
                } else {
                    let fstype = fstype.as_ref().map(lossy).unwrap_or_default();
                    format!("mount {fstype} on {}", lossy(target))
                }
            }
            Step::SetAttr { path, .. } => format!("make {} read-only", lossy(path)),
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
    /// `cgroup.procs` files of the env's cgroups, to join by writing "0".
    pub cgroup_procs: Vec<CString>,
    /// Hostname inside the UTS namespace.
    pub hostname: CString,
    /// Runtime API port on 127.0.0.1 inside the network namespace.
    pub listen_port: u16,
    /// Filesystem steps, ending with `pivot_root`.
    pub steps: Vec<Step>,
    /// Resource limits to set: (resource, soft, hard).
    pub rlimits: Vec<(libc::__rlimit_resource_t, u64, u64)>,
    /// Host uid the runtime runs as (mapped to the env's uid).
    pub host_uid: u32,
    /// Host gid the runtime runs as (mapped to the env's gid).
    pub host_gid: u32,
    /// Contents for `/proc/self/uid_map`, e.g. `993 2130707425 1`.
    pub uid_map: Vec<u8>,
    /// Contents for `/proc/self/gid_map`.
    pub gid_map: Vec<u8>,
    /// Highest capability number of the running kernel.
    pub last_cap: u32,
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
    /// Run the runtime under an init as pid 1 (see [`super::init`]); `None`: the runtime is pid 1.
    pub init: Option<InitPlan>,
    /// Top of the runtime's stack when there is an init (set by [`spawn`]).
    pub runtime_stack: AtomicPtr<c_void>,
    /// Set by the runtime's process when its exec failed (shared memory: read by pid 1).
    pub runtime_failed: AtomicBool,
}

/// How pid 1 becomes the env's init.
pub(crate) struct InitPlan {
    /// `O_PATH` fd of the host's executable (which carries the init's constructor).
    pub exe_fd: RawFd,
    /// Write end of the status pipe (close-on-exec until pid 1 keeps it for the init).
    pub status_fd: RawFd,
    /// Keeps the argv strings alive for `argv_ptrs`.
    pub _argv: Vec<CString>,
    /// NULL-terminated `[ARGV0, "<status_fd>"]`.
    pub argv_ptrs: Vec<*const c_char>,
    /// An empty, NULL-terminated environment.
    pub envp_ptrs: [*const c_char; 1],
}

macro_rules! stages {
    ($($name:ident),* $(,)?) => {
        /// Where in [`run`] a failure happened (reported to the parent).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u32)]
        pub(crate) enum Stage { $($name),* }
        impl Stage {
            fn from_u32(v: u32) -> Option<Stage> {
                [$(Stage::$name),*].into_iter().find(|s| *s as u32 == v)
            }
        }
    };
}

stages!(
    Cgroup,
    CgroupNs,
    NetSocket,
    LoopbackUp,
    Bind,
    Listen,
    SendListener,
    Hostname,
    Step,
    Setgroups,
    Rlimit,
    Setgid,
    Setuid,
    Dumpable,
    UserNs,
    IdMap,
    Securebits,
    Bounding,
    Ambient,
    Capset,
    NoNewPrivs,
    Stdio,
    CloseRange,
    Seccomp,
    Sigmask,
    Exec,
    RuntimeClone,
    InitExec,
);

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
        let i = self.index as usize;
        match self.stage {
            Stage::Cgroup => format!(
                "join cgroup {}",
                plan.cgroup_procs.get(i).map(lossy).unwrap_or_default()
            ),
            Stage::CgroupNs => "unshare the cgroup namespace".into(),
            Stage::NetSocket => "create the Runtime API socket".into(),
            Stage::LoopbackUp => "bring up the loopback interface".into(),
            Stage::Bind => format!("bind 127.0.0.1:{}", plan.listen_port),
            Stage::Listen => "listen on the Runtime API socket".into(),
            Stage::SendListener => "pass the Runtime API listener to the host".into(),
            Stage::Hostname => "set the hostname".into(),
            Stage::Step => plan
                .steps
                .get(i)
                .map(Step::describe)
                .unwrap_or_else(|| format!("step {i}")),
            Stage::Setgroups => "clear supplementary groups".into(),
            Stage::Rlimit => format!("set rlimit #{i}"),
            Stage::Setgid => format!("setresgid {}", plan.host_gid),
            Stage::Setuid => format!("setresuid {}", plan.host_uid),
            Stage::Dumpable => "stay dumpable".into(),
            Stage::UserNs => "unshare the user namespace (are unprivileged user namespaces \
                              enabled?)"
                .into(),
            Stage::IdMap => ["deny setgroups", "write gid_map", "write uid_map"]
                .get(i)
                .copied()
                .unwrap_or("write id maps")
                .into(),
            Stage::Securebits => "set securebits".into(),
            Stage::Bounding => format!("drop capability {i} from the bounding set"),
            Stage::Ambient => "clear ambient capabilities".into(),
            Stage::Capset => "clear capabilities".into(),
            Stage::NoNewPrivs => "set no_new_privs".into(),
            Stage::Stdio => format!("set up fd {i}"),
            Stage::CloseRange => "mark inherited fds close-on-exec".into(),
            Stage::Seccomp => "install the seccomp filter".into(),
            Stage::Sigmask => "unblock signals".into(),
            Stage::Exec => plan.programs.get(i).map(lossy).unwrap_or_default(),
            Stage::RuntimeClone => "start the runtime under the env's init".into(),
            Stage::InitExec => "exec the env's init (the host executable must be executable by \
                                the env's uid)"
                .into(),
        }
    }
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

/// Namespaces every environment gets at clone time. The cgroup namespace is unshared once the
/// child sits in its own cgroup, the user namespace at the very end (see the module docs).
pub(crate) const NAMESPACES: c_int = libc::CLONE_NEWPID
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUTS;

/// An anonymous mapping used as the child's stack, with a guard page at its low end.
struct Stack {
    base: *mut c_void,
    len: usize,
}

impl Stack {
    fn new(len: usize) -> io::Result<Stack> {
        // SAFETY: a fresh anonymous private mapping; no existing memory is affected.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack { base, len };
        // SAFETY: the first page of our own mapping becomes the guard page.
        if unsafe { libc::mprotect(base, 4096, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The initial stack pointer (stacks grow down), 16-byte aligned.
    fn top(&self) -> *mut c_void {
        // SAFETY: one past the end of our mapping, which is page-aligned.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `new`; with CLONE_VFORK the child has
        // exec'd or exited before `spawn` returns, so nothing runs on it any more.
        unsafe {
            libc::munmap(self.base, self.len);
        }
    }
}

extern "C" fn runtime_entry(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `&ChildPlan` pid 1 passed to clone; pid 1 (and the host thread above
    // it) are suspended by CLONE_VFORK until this process execs or exits.
    unsafe { exec_runtime(&*(arg as *const ChildPlan<'_>)) }
}

extern "C" fn child_entry(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `&ChildPlan` passed to clone by `spawn`, which stays alive (the parent
    // thread is suspended by CLONE_VFORK) until this child execs or exits; `run` never returns.
    unsafe { run(&*(arg as *const ChildPlan<'_>)) }
}

/// Clone the env's first process into new namespaces; it runs `plan` and execs the runtime (or
/// reports why it could not) before this returns.
///
/// Every signal is blocked on the calling thread around the clone so that no host signal handler
/// can run in the child (on shared memory) before it resets them.
///
/// The child's credential changes reset the (shared) memory map's dumpable flag; it is set back to
/// `dumpable` (the host process's own setting, 0 or 1) afterwards. One clone at a time per process.
pub(crate) fn spawn(plan: &ChildPlan<'_>, dumpable: Option<c_int>) -> io::Result<Spawned> {
    static SPAWN_LOCK: Mutex<()> = Mutex::new(());
    let _serial = SPAWN_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let stack = Stack::new(STACK_SIZE)?;
    // The runtime's own stack below an init: used from its clone until its exec.
    let runtime_stack = match plan.init {
        Some(_) => Some(Stack::new(STACK_SIZE)?),
        None => None,
    };
    if let Some(rs) = &runtime_stack {
        plan.runtime_stack.store(rs.top(), Ordering::SeqCst);
    }
    // Keep the init's constructor linked into every executable that can create envs.
    std::hint::black_box(&super::init::HOOK);
    let blocked = sys::SignalBlock::new()?;
    let mut pidfd: RawFd = -1;
    let flags = NAMESPACES | libc::CLONE_VM | libc::CLONE_VFORK | CLONE_PIDFD | libc::SIGCHLD;
    // SAFETY: glibc's clone runs `child_entry(plan)` on `stack` in a child that shares our memory;
    // with CLONE_VFORK this thread sleeps until the child has exec'd or exited, so `plan` and the
    // stack outlive the child's use of them. With CLONE_PIDFD the pidfd is stored through the
    // parent-tid argument, which points at `pidfd`.
    let pid = unsafe {
        libc::clone(
            child_entry,
            stack.top(),
            flags,
            plan as *const ChildPlan<'_> as *mut c_void,
            ptr::addr_of_mut!(pidfd),
            ptr::null_mut::<c_void>(),
            ptr::null_mut::<c_int>(),
        )
    };
    let err = io::Error::last_os_error();
    if let Some(dumpable) = dumpable {
        // SAFETY: prctl with scalar arguments on our own process.
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, dumpable as c_ulong, 0, 0, 0);
        }
    }
    drop(blocked);
    drop(stack);
    drop(runtime_stack);
    if pid < 0 {
        return Err(err);
    }
    // SAFETY: the kernel stored a new pidfd owned by this process.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Spawned { pid, pidfd })
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

/// Create nothing, open `path` for writing and write `contents`; `-1` with errno set on failure.
///
/// # Safety
/// Async-signal-safe raw syscalls only; for the child.
unsafe fn write_file(path: *const c_char, contents: &[u8]) -> libc::c_long {
    // SAFETY: `path` is NUL-terminated; `contents` is a valid buffer of its length.
    unsafe {
        let fd = libc::open(path, libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return -1;
        }
        let n = libc::write(fd, contents.as_ptr().cast(), contents.len());
        let ok = n >= 0 && n as usize == contents.len();
        let saved = errno();
        libc::close(fd);
        if ok {
            0
        } else {
            *libc::__errno_location() = if n < 0 { saved } else { libc::EIO };
            -1
        }
    }
}

/// Drop every capability from the bounding set, clear ambient and all other sets.
///
/// # Safety
/// Only for the cloned child.
unsafe fn drop_capabilities(plan: &ChildPlan<'_>) {
    // SAFETY: prctl/capset with scalar arguments or pointers to locals.
    unsafe {
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
    }
}

/// The child's whole life until `execve`. See the module docs for the sequence.
///
/// # Safety
/// Must only be called in a child freshly created by [`spawn`]: it changes process-wide state and
/// exits instead of returning.
unsafe fn run(plan: &ChildPlan<'_>) -> ! {
    // SAFETY (whole function): only syscalls and libc wrappers that are thin syscall wrappers are
    // used; every pointer passed comes from `plan` (prepared before the clone, alive until we exec)
    // or from locals on this stack. Nothing allocates or takes a lock.
    unsafe {
        // 1. Default signal dispositions (ignored signals such as SIGPIPE would survive execve,
        //    and a handler must never run here, on memory shared with the host).
        let mut dfl: libc::sigaction = zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        for sig in 1..65 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::sigaction(sig, &dfl, ptr::null_mut());
            }
        }
        libc::umask(0o022);

        // 2. Our cgroups: from here on memory, pids and CPU are accounted to the env.
        for (i, procs) in plan.cgroup_procs.iter().enumerate() {
            check(
                plan,
                write_file(procs.as_ptr(), b"0"),
                Stage::Cgroup,
                i as u32,
            );
        }
        check(
            plan,
            libc::unshare(libc::CLONE_NEWCGROUP) as libc::c_long,
            Stage::CgroupNs,
            0,
        );

        // 3. Loopback up and the Runtime API listener, inside the new network namespace.
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
        check(
            plan,
            libc::sethostname(plan.hostname.as_ptr(), plan.hostname.as_bytes().len())
                as libc::c_long,
            Stage::Hostname,
            0,
        );

        // 4. The root filesystem, ending in pivot_root.
        run_steps(plan);

        // 5. Become the unprivileged host uid/gid. Going from uid 0 to non-zero clears the
        //    permitted and effective capability sets.
        check(
            plan,
            libc::syscall(libc::SYS_setgroups, 0, ptr::null::<libc::gid_t>()),
            Stage::Setgroups,
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
        check(
            plan,
            libc::syscall(
                libc::SYS_setresgid,
                plan.host_gid,
                plan.host_gid,
                plan.host_gid,
            ),
            Stage::Setgid,
            0,
        );
        check(
            plan,
            libc::syscall(
                libc::SYS_setresuid,
                plan.host_uid,
                plan.host_uid,
                plan.host_uid,
            ),
            Stage::Setuid,
            0,
        );
        // The credential change made the memory map (shared with the host, see the module docs)
        // non-dumpable, which hands /proc/self/* to root: take it back for the id maps below.
        // `spawn` serialises clones, so no other child flips it meanwhile.
        check(
            plan,
            libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) as libc::c_long,
            Stage::Dumpable,
            0,
        );

        // 6. A user namespace of our own (owned by the host uid), mapping the env's ids onto our
        //    host ids, as any unprivileged process may do for its own ids.
        check(
            plan,
            libc::unshare(libc::CLONE_NEWUSER) as libc::c_long,
            Stage::UserNs,
            0,
        );
        for (i, (path, contents)) in [
            (c"/proc/self/setgroups", b"deny".as_slice()),
            (c"/proc/self/gid_map", plan.gid_map.as_slice()),
            (c"/proc/self/uid_map", plan.uid_map.as_slice()),
        ]
        .into_iter()
        .enumerate()
        {
            check(
                plan,
                write_file(path.as_ptr(), contents),
                Stage::IdMap,
                i as u32,
            );
        }

        // 7. The new user namespace granted every capability (in it) and reset securebits and the
        //    bounding set: take all of that away again.
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
        drop_capabilities(plan);
        check(
            plan,
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) as libc::c_long,
            Stage::NoNewPrivs,
            0,
        );

        // 8. stdio; every other inherited fd (including ones leaked by other threads of the host
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

        // 9. seccomp (no_new_privs is set, so no privilege is needed), unblock signals, exec.
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
        let Some(init) = &plan.init else {
            exec_runtime(plan)
        };
        // The runtime becomes pid 2; this thread (and the host's) resume once it has exec'd.
        let pid = libc::clone(
            runtime_entry,
            plan.runtime_stack.load(Ordering::SeqCst),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            plan as *const ChildPlan<'_> as *mut c_void,
        );
        check(plan, pid as libc::c_long, Stage::RuntimeClone, 0);
        if plan.runtime_failed.load(Ordering::SeqCst) {
            libc::_exit(127); // it reported why
        }
        if pid != super::init::RUNTIME_PID {
            fail(plan, Stage::RuntimeClone, 1, libc::EINVAL);
        }
        check(
            plan,
            libc::fcntl(init.status_fd, libc::F_SETFD, 0) as libc::c_long,
            Stage::InitExec,
            0,
        );
        libc::syscall(
            libc::SYS_execveat,
            init.exe_fd,
            c"".as_ptr(),
            init.argv_ptrs.as_ptr(),
            init.envp_ptrs.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
        fail(plan, Stage::InitExec, 1, errno())
    }
}

/// Unblock signals and exec the runtime (trying each candidate program), or report why not.
///
/// # Safety
/// Only for the cloned child or the runtime process it cloned (see [`run`]).
unsafe fn exec_runtime(plan: &ChildPlan<'_>) -> ! {
    // SAFETY: as in `run`: thin syscall wrappers with pointers into `plan` or locals.
    unsafe {
        let empty: libc::sigset_t = zeroed();
        if libc::sigprocmask(libc::SIG_SETMASK, &empty, ptr::null_mut()) != 0 {
            plan.runtime_failed.store(true, Ordering::SeqCst);
            fail(plan, Stage::Sigmask, 0, errno());
        }
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
        plan.runtime_failed.store(true, Ordering::SeqCst);
        fail(plan, Stage::Exec, failure.0, failure.1)
    }
}

/// Run the filesystem steps; report the first failure (with its index) and exit.
///
/// # Safety
/// Only for the cloned child (see [`run`]).
unsafe fn run_steps(plan: &ChildPlan<'_>) {
    for (i, step) in plan.steps.iter().enumerate() {
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
                        .map_or(ptr::null(), |s| s.as_ptr().cast::<c_void>()),
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
            unsafe { fail(plan, Stage::Step, i as u32, errno()) }
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
        iov_base: tag.as_ptr() as *mut c_void,
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
        msg[4..8].copy_from_slice(&(Stage::Step as u32).to_le_bytes());
        msg[8..12].copy_from_slice(&3u32.to_le_bytes());
        msg[12..16].copy_from_slice(&libc::EPERM.to_le_bytes());
        let err = ChildError::parse(&msg).unwrap();
        assert_eq!(
            err,
            ChildError {
                stage: Stage::Step,
                index: 3,
                errno: libc::EPERM
            }
        );
        assert!(ChildError::parse(&msg[..15]).is_none());
        assert!(ChildError::parse(b"L").is_none());
        assert_eq!(Stage::from_u32(Stage::Exec as u32), Some(Stage::Exec));
        assert_eq!(Stage::from_u32(9999), None);
    }

    #[test]
    fn kernel_struct_sizes() {
        assert_eq!(size_of::<IfreqFlags>(), 40);
        assert_eq!(size_of::<MountAttr>(), 32);
    }
}
