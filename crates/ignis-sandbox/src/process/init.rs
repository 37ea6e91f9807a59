//! The env's init: a minimal pid 1 that runs the runtime as pid 2.
//!
//! Without it the runtime itself would be pid 1 of the env's pid namespace, and two kernel rules
//! for a namespace's init would apply to it, unlike on Lambda (where `/var/rapid/init` is pid 1):
//! signals with the default action sent from inside the namespace are dropped (a function that
//! SIGKILLs or SIGTERMs itself, or calls `abort()`, survives or dies differently), and orphaned
//! processes are reparented to it, so a runtime that does not reap them accumulates zombies,
//! which count against `pids.max`.
//!
//! The child (see [`super::child`]), once fully confined, clones the runtime with
//! `CLONE_VM | CLONE_VFORK` on a second prepared stack, and after the runtime has exec'd it execs
//! *this program* (the host's own executable, through an `O_PATH` fd opened when the sandbox was
//! created) with `argv = [ARGV0, "<fd>"]`. A constructor in `.init_array` — which runs before
//! `main` in any executable linking this crate — recognises that argv (and pid 1) and never returns:
//! it reaps every child, and when the runtime (pid 2) ends it writes the runtime's raw wait status
//! to `<fd>` (a pipe to the host, read by `Env::try_wait`) and exits, which makes the kernel kill
//! whatever else runs in the env. It only makes syscalls (no allocation, no Rust runtime) and runs
//! with the env's credentials, seccomp filter and blocked signals, which it keeps.

use std::ffi::{c_char, c_int, CStr};

/// `argv[0]` of the init process.
pub(crate) const ARGV0: &CStr = c"ignis-sandbox-init";
/// The runtime's pid inside the env: the init's first and only direct child.
pub(crate) const RUNTIME_PID: libc::pid_t = 2;

/// The `.init_array` entry. glibc calls constructors with `(argc, argv, envp)`.
#[used]
#[link_section = ".init_array"]
pub(crate) static HOOK: extern "C" fn(c_int, *const *const c_char, *const *const c_char) = hook;

extern "C" fn hook(argc: c_int, argv: *const *const c_char, _envp: *const *const c_char) {
    if argc != 2 || argv.is_null() {
        return;
    }
    // SAFETY: glibc passes the process's argv: `argc` valid pointers to NUL-terminated strings.
    // getpid has no preconditions.
    let fd = unsafe {
        let arg0 = *argv;
        let arg1 = *argv.add(1);
        if arg0.is_null() || arg1.is_null() || CStr::from_ptr(arg0) != ARGV0 || libc::getpid() != 1
        {
            return;
        }
        parse_fd(CStr::from_ptr(arg1).to_bytes())
    };
    if let Some(fd) = fd {
        // SAFETY: we are the env's pid 1, started by the sandbox with this argv.
        unsafe { serve(fd) }
    }
}

/// A decimal fd number.
fn parse_fd(s: &[u8]) -> Option<c_int> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, d| n * 10 + c_int::from(d - b'0')))
}

/// Reap children until the runtime ends; report its status on `status_fd` and exit.
///
/// # Safety
/// Only for the env's init: it never returns and exits the process.
unsafe fn serve(status_fd: c_int) -> ! {
    // SAFETY: raw syscalls on our own fds and children, with pointers to locals.
    unsafe {
        // The runtime has its own copies of the output pipes; ours would only delay EOF.
        libc::close(1);
        libc::close(2);
        loop {
            let mut status: c_int = 0;
            let pid = libc::wait4(-1, &mut status, libc::__WALL, std::ptr::null_mut());
            if pid == RUNTIME_PID {
                libc::write(
                    status_fd,
                    (&status as *const c_int).cast(),
                    std::mem::size_of::<c_int>(),
                );
                let code = if libc::WIFEXITED(status) {
                    libc::WEXITSTATUS(status)
                } else {
                    128 + libc::WTERMSIG(status)
                };
                libc::_exit(code);
            }
            if pid < 0 && *libc::__errno_location() != libc::EINTR {
                libc::_exit(127); // no children left: the runtime is gone
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_argument() {
        assert_eq!(parse_fd(b"7"), Some(7));
        assert_eq!(parse_fd(b"1023"), Some(1023));
        assert_eq!(parse_fd(b""), None);
        assert_eq!(parse_fd(b"-1"), None);
        assert_eq!(parse_fd(b"12345678901"), None);
    }

    #[test]
    fn hook_ignores_other_processes() {
        // Not pid 1 and not the init's argv: returns at once (else this test would never end).
        let argv = [ARGV0.as_ptr(), c"3".as_ptr(), std::ptr::null()];
        (HOOK)(2, argv.as_ptr(), std::ptr::null());
        let argv = [c"other".as_ptr(), std::ptr::null()];
        (HOOK)(1, argv.as_ptr(), std::ptr::null());
    }
}
