//! Escape and isolation tests of the process sandbox (run as root, as CI does).
//!
//! Each test runs code inside a real environment and checks one protection from the inside (and
//! from the host where that is the only place to see it). Each would fail if the protection were
//! removed: the comment on each test names what it proves and what would make it fail.

mod common;

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::{pid_exists, Fixture, Output, SECOND};
use ignis_sandbox::{Sandbox, SandboxError, SandboxOptions};

/// A command runs; its stdout and stderr are captured separately, its exit code is reported, and
/// its environment is exactly the spec's (nothing inherited from the host).
#[test]
fn runs_a_command_and_captures_its_output() {
    let fx = Fixture::new("output");
    let mut spec = fx.sh(
        "run",
        "echo out; echo err >&2; echo \"foo=$FOO\"; env | sort | tr '\\n' ' '; exit 3",
    );
    spec.env.push(("FOO".into(), "bar baz".into()));
    std::env::set_var("IGNIS_HOST_ONLY", "leak");
    let out = fx.run(&spec, 5 * SECOND);
    assert_eq!(out.code(), Some(3), "{out:?}");
    assert!(out.stdout.starts_with("out\nfoo=bar baz\n"), "{out:?}");
    assert_eq!(out.stderr, "err\n");
    assert!(out.stdout.contains("FOO=bar baz"), "{out:?}");
    assert!(
        !out.stdout.contains("IGNIS_HOST_ONLY"),
        "host env leaked: {out:?}"
    );
    assert!(!out.stdout.contains("CARGO"), "host env leaked: {out:?}");
}

/// The Runtime API listener handed to the host accepts a connection made from inside the env to
/// 127.0.0.1:9001 (python3 inside writes, the test reads on the host side).
#[test]
fn runtime_api_listener_is_reachable_from_inside() {
    let fx = Fixture::new("listener");
    let spec = fx.python(
        "py",
        "import socket\n\
         s = socket.create_connection(('127.0.0.1', 9001), timeout=5)\n\
         s.sendall(b'hello from inside\\n')\n\
         print('reply:', s.makefile().readline().strip(), flush=True)\n",
    );
    let mut env = fx.create(&spec);
    let listener = env.take_runtime_api_listener().expect("listener");
    assert!(env.take_runtime_api_listener().is_none(), "taken once");
    assert_eq!(
        listener.local_addr().unwrap(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 9001))
    );
    let out = Output::capture(&mut env);
    let mut conn = accept_within(&listener, 10 * SECOND);
    let mut line = String::new();
    let mut byte = [0u8; 1];
    while !line.ends_with('\n') {
        conn.read_exact(&mut byte).expect("read from env");
        line.push(byte[0] as char);
    }
    assert_eq!(line, "hello from inside\n");
    conn.write_all(b"pong\n").unwrap();
    let status = env.wait_timeout(10 * SECOND).expect("exits");
    fx.sandbox.destroy(env).unwrap();
    let (stdout, stderr) = out.finish();
    assert!(status.success(), "{status:?} {stderr}");
    assert_eq!(stdout, "reply: pong\n");
}

fn accept_within(listener: &TcpListener, timeout: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(timeout)).unwrap();
                return stream;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("no connection from the env: {e}"),
        }
    }
}

/// /proc is the env's own: only its processes; pid 1 is the env's init and pid 2 the env's command.
/// Fails without the pid namespace (host pids would show) or without a fresh /proc mount.
#[test]
fn proc_shows_only_the_envs_processes() {
    let fx = Fixture::new("proc");
    let spec = fx.sh(
        "proc",
        "marker=pid-ns-check; ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '; echo; \
         tr '\\0' ' ' < /proc/1/cmdline; echo; tr '\\0' ' ' < /proc/2/cmdline; echo; \
         cat /proc/self/status | grep -E '^NSpid'",
    );
    let out = fx.run(&spec, 5 * SECOND);
    assert_eq!(out.code(), Some(0), "{out:?}");
    let mut lines = out.stdout.lines();
    let pids: Vec<u32> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert!(pids.contains(&1), "{pids:?}");
    assert!(pids.len() <= 5, "more processes than the env has: {pids:?}");
    assert!(pids.iter().all(|p| *p < 100), "host pids visible: {pids:?}");
    assert!(!pids.contains(&std::process::id()));
    assert!(lines.next().unwrap().starts_with("ignis-sandbox-init "));
    assert!(lines.next().unwrap().contains("marker=pid-ns-check"));
}

/// Nothing of the host's filesystem is visible but the read-only userland: not /root, /work,
/// /home, the sandbox's state dir, nor files in the host's /tmp. Fails without pivot_root (or
/// with a bind of the host's /).
#[test]
fn host_paths_are_invisible() {
    let fx = Fixture::new("paths");
    let secret = fx.base.join("host-secret");
    fs::write(&secret, "secret").unwrap();
    let script = format!(
        "for p in /root /work /home /boot /mnt /srv /run /sys /var/lib /etc/shadow /etc/ssh \
         {secret} {base}; do [ -e $p ] && echo VISIBLE $p; done; ls -A / | tr '\\n' ' '",
        secret = secret.display(),
        base = fx.base.display()
    );
    let out = fx.run(&fx.sh("paths", &script), 5 * SECOND);
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert!(!out.stdout.contains("VISIBLE"), "{}", out.stdout);
    let root: Vec<&str> = out.stdout.split_whitespace().collect();
    for entry in &root {
        assert!(
            [
                "bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "opt", "proc", "sbin",
                "tmp", "usr", "var"
            ]
            .contains(entry),
            "unexpected /{entry} in {root:?}"
        );
    }
}

/// /var/task, /opt and /var/runtime are read-only even though their host directories are
/// world-writable; /, /etc and /usr cannot be written either. Fails without the read-only binds.
#[test]
fn code_layers_runtime_and_root_are_read_only() {
    let fx = Fixture::new("readonly");
    let layers = fx.base.join("layers");
    let runtime = fx.base.join("runtime");
    for dir in [&fx.code, &layers, &runtime] {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join("file"), "original").unwrap();
        fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).unwrap();
        fs::set_permissions(dir.join("file"), fs::Permissions::from_mode(0o666)).unwrap();
    }
    let mut spec = fx.sh(
        "ro",
        "for d in /var/task /opt /var/runtime; do \
           cat $d/file; echo; \
           (echo changed > $d/file) 2>&1; touch $d/new 2>&1; \
         done; \
         for d in / /etc /usr /dev /proc; do touch $d/new 2>&1; done; \
         echo x > /dev/null && echo devnull-ok",
    );
    spec.layers_dir = Some(layers.clone());
    spec.runtime_dir = Some(runtime.clone());
    let out = fx.run(&spec, 5 * SECOND);
    assert_eq!(out.stdout.matches("original").count(), 3, "{out:?}");
    // 2 per bound directory, plus /, /etc, /usr and /dev.
    assert_eq!(
        out.stdout.matches("Read-only file system").count(),
        10,
        "{}",
        out.stdout
    );
    for file in ["//new", "/etc/new", "/usr/new", "/dev/new", "/proc/new"] {
        assert!(
            out.stdout
                .contains(&format!("touch: cannot touch '{file}'")),
            "{file} writable: {}",
            out.stdout
        );
    }
    assert!(out.stdout.contains("devnull-ok"), "{}", out.stdout);
    for dir in [&fx.code, &layers, &runtime] {
        assert_eq!(fs::read_to_string(dir.join("file")).unwrap(), "original");
        assert!(!dir.join("new").exists());
    }
}

/// /tmp is a private tmpfs owned by the runtime's uid, writable up to tmp_mb and no further
/// (ENOSPC). Fails if /tmp were unlimited or shared with the host.
#[test]
fn tmp_is_private_writable_and_limited() {
    let fx = Fixture::new("tmp");
    let mut spec = fx.sh(
        "tmp",
        "stat -c 'owner=%u' /tmp; ls -A /tmp | wc -l; \
         dd if=/dev/zero of=/tmp/a bs=1M count=7 2>/dev/null && echo wrote-7; rm /tmp/a; \
         dd if=/dev/zero of=/tmp/b bs=1M count=9 2>&1; echo dd-exit=$?",
    );
    spec.tmp_mb = 8;
    let out = fx.run(&spec, 5 * SECOND);
    assert!(out.stdout.starts_with("owner=993\n0\n"), "{out:?}");
    assert!(out.stdout.contains("wrote-7"), "{out:?}");
    assert!(out.stdout.contains("No space left on device"), "{out:?}");
    assert!(out.stdout.contains("dd-exit=1"), "{out:?}");
}

/// The runtime runs as uid 993 / gid 990 inside, mapped to an unprivileged host uid, with every
/// capability set empty (including the bounding set), no_new_privs and a seccomp filter.
#[test]
fn runs_unprivileged() {
    let fx = Fixture::new("creds");
    let spec = fx.sh(
        "creds",
        "id -u; id -g; id -G; grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status; \
         echo ready; sleep 10",
    );
    let mut env = fx.create(&spec);
    let out = Output::capture(&mut env);
    out.wait_for("ready", 5 * SECOND);
    // From the host: the process runs as the mapped, non-root uid/gid, without supplementary groups.
    let status = fs::read_to_string(format!("/proc/{}/status", env.pid())).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap()
            .to_owned()
    };
    let defaults = SandboxOptions::default();
    let host_uid = env.host_uid().expect("a live env has a host uid");
    assert!(
        (defaults.host_uid..defaults.host_uid + defaults.host_uid_count).contains(&host_uid),
        "{host_uid}"
    );
    let host_gid = defaults.host_gid;
    let ids = |line: String| -> Vec<u32> {
        line.split_whitespace()
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect()
    };
    assert_eq!(ids(field("Uid:")), [host_uid; 4]);
    assert_eq!(ids(field("Gid:")), [host_gid; 4]);
    assert_eq!(field("Groups:").trim(), "Groups:");
    let uid_map = fs::read_to_string(format!("/proc/{}/uid_map", env.pid())).unwrap();
    assert_eq!(
        uid_map.split_whitespace().collect::<Vec<_>>(),
        ["993", &host_uid.to_string(), "1"]
    );
    fx.sandbox.destroy(env).unwrap();
    let (stdout, _) = out.finish();
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("993"));
    assert_eq!(lines.next(), Some("990"));
    assert_eq!(lines.next(), Some("990"));
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert!(
            stdout.contains(&format!("{cap}:\t0000000000000000")),
            "{cap} not empty: {stdout}"
        );
    }
    assert!(stdout.contains("NoNewPrivs:\t1"), "{stdout}");
    assert!(stdout.contains("Seccomp:\t2"), "{stdout}");
}

/// Dangerous syscalls fail with EPERM because of the seccomp filter: each probe is chosen so that
/// without the filter it would give another result (mount of a missing target: ENOENT; unshare of
/// a user namespace and PTRACE_TRACEME: success; ...).
#[test]
fn dangerous_syscalls_fail_with_eperm() {
    let fx = Fixture::new("seccomp");
    let script = r#"
import ctypes, os, platform, threading
libc = ctypes.CDLL(None, use_errno=True)
def errno_of(fn, *args):
    ctypes.set_errno(0)
    rc = fn(*args)
    return 0 if rc == 0 else ctypes.get_errno()
c = ctypes.c_char_p
results = {
    'mount': errno_of(libc.mount, c(b'none'), c(b'/no-such-dir'), c(b'tmpfs'), 0, None),
    'umount2': errno_of(libc.umount2, c(b'/no-such-dir'), 0),
    'unshare_user': errno_of(libc.unshare, 0x10000000),
    'unshare_net': errno_of(libc.unshare, 0x40000000),
    'setns': errno_of(libc.setns, os.open('/proc/self/ns/uts', os.O_RDONLY), 0),
    'ptrace_traceme': errno_of(libc.ptrace, 0, 0, None, None),
}
if platform.machine() == 'x86_64':
    sc = libc.syscall
    results.update({
        'pivot_root': errno_of(sc, 155, c(b'/no-such-dir'), c(b'/no-such-dir')),
        'init_module': errno_of(sc, 175, None, 0, c(b'')),
        'finit_module': errno_of(sc, 313, -1, c(b''), 0),
        'kexec_load': errno_of(sc, 246, 0, 0, None, 0),
        'bpf': errno_of(sc, 321, 0, None, 0),
        'perf_event_open': errno_of(sc, 298, None, 0, -1, -1, 0),
        'keyctl': errno_of(sc, 250, 0, -3, 0),
        'add_key': errno_of(sc, 248, c(b'user'), c(b'k'), c(b'v'), 1, -3),
        'open_by_handle_at': errno_of(sc, 304, -100, None, 0),
        'clock_settime': errno_of(sc, 227, 0, None),
        'swapon': errno_of(sc, 167, c(b'/no-such-file'), 0),
        'reboot': errno_of(sc, 169, 0, 0, 0, None),
        'acct': errno_of(sc, 163, c(b'/no-such-file')),
        'process_vm_readv': errno_of(sc, 310, os.getpid(), None, 0, None, 0, 0),
        'clone_newuser': errno_of(sc, 56, 0x10000000 | 17, None, None, None, 0),
        'clone3': errno_of(sc, 435, None, 0),
    })
# Ordinary things still work: threads (clone without namespace flags) and fork.
t = threading.Thread(target=lambda: None); t.start(); t.join()
pid = os.fork()
if pid == 0:
    os._exit(7)
results['fork_exit'] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
for k, v in sorted(results.items()):
    print(k, v)
"#;
    let out = fx.run(&fx.python("sc", script), 10 * SECOND);
    assert_eq!(out.code(), Some(0), "{out:?}");
    let results: std::collections::HashMap<&str, i32> = out
        .stdout
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k, v.parse().unwrap())
        })
        .collect();
    for (name, errno) in &results {
        let expected = match *name {
            "fork_exit" => 7,
            "clone3" => libc::ENOSYS,
            _ => libc::EPERM,
        };
        assert_eq!(*errno, expected, "{name}: {}", out.stdout);
    }
    assert!(results.len() >= 7, "{}", out.stdout);
}

/// A process allocating past memory_mb is OOM-killed, `oom_killed()` says so, and a neighbouring
/// env is unaffected. Fails without the memory limit (the allocation would succeed).
#[test]
fn memory_hog_is_oom_killed() {
    let fx = Fixture::new("oom");
    let neighbour = fx.sh("calm", "echo up; sleep 20");
    let mut calm = fx.create(&neighbour);
    let calm_out = Output::capture(&mut calm);
    calm_out.wait_for("up", 5 * SECOND);

    let mut spec = fx.python(
        "hog",
        "import sys\nprint('allocating', flush=True)\nx = bytearray(b'\\x01') * (256 << 20)\nprint('survived', flush=True)",
    );
    spec.memory_mb = 64;
    let out = fx.run(&spec, 20 * SECOND);
    assert!(out.stdout.contains("allocating"), "{out:?}");
    assert!(!out.stdout.contains("survived"), "{out:?}");
    assert_eq!(
        out.status.and_then(|s| s.signal()),
        Some(libc::SIGKILL),
        "{out:?}"
    );
    assert!(out.oom, "oom_killed() should report the kill: {out:?}");
    let peak = out.max_memory.expect("peak memory");
    assert!(peak > 32 << 20 && peak <= 64 << 20, "peak {peak}");

    assert!(calm.try_wait().is_none(), "the neighbour env died");
    assert!(!calm.oom_killed());
    fx.sandbox.destroy(calm).unwrap();
    calm_out.finish();
}

/// A fork bomb hits pids_max (forks fail, the controller counts refusals) and other envs keep
/// working; destroy then removes every process of the bomb. Fails without the pids limit.
#[test]
fn fork_bomb_is_contained_by_pids_max() {
    let fx = Fixture::new("forkbomb");
    let mut spec = fx.sh(
        "bomb",
        "n=0; while [ $n -lt 200 ]; do sleep 30 & n=$((n+1)); done; echo spawned-all",
    );
    spec.pids_max = 16;
    let mut env = fx.create(&spec);
    let out = Output::capture(&mut env);
    let status = env.wait_timeout(10 * SECOND);
    let procs = env
        .cgroup_dirs()
        .iter()
        .map(|d| fs::read_to_string(d.join("cgroup.procs")).unwrap_or_default())
        .map(|t| t.lines().count())
        .max()
        .unwrap();
    let events = env.cgroup_dirs().iter().find_map(|d| {
        fs::read_to_string(d.join("pids.events"))
            .ok()
            .and_then(|t| {
                t.trim()
                    .strip_prefix("max ")
                    .map(|v| v.parse::<u64>().unwrap())
            })
    });
    // Meanwhile a second env works normally.
    let other = fx.run(&fx.sh("other", "echo fine"), 5 * SECOND);
    assert_eq!(other.stdout, "fine\n");
    let pids: Vec<i32> = env
        .cgroup_dirs()
        .iter()
        .flat_map(|d| {
            fs::read_to_string(d.join("cgroup.procs"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    fx.sandbox.destroy(env).unwrap();
    let (stdout, stderr) = out.finish();
    assert!(!stdout.contains("spawned-all"), "{stdout} {stderr}");
    assert!(
        stderr.contains("fork") || stderr.contains("Resource temporarily unavailable"),
        "{stderr}"
    );
    assert!(status.is_some(), "the shell should give up when fork fails");
    assert!(procs <= 16, "{procs} processes despite pids_max 16");
    assert!(events.unwrap_or(0) > 0, "no fork was refused: {events:?}");
    assert!(
        pids.iter().all(|p| !pid_exists(*p)),
        "bomb processes survived destroy"
    );
}

/// A port opened inside the env (on 0.0.0.0) is not reachable from the host's 127.0.0.1. Fails
/// without the network namespace.
#[test]
fn listener_inside_is_unreachable_from_the_host() {
    let fx = Fixture::new("netns");
    let port = {
        let probe = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        probe.local_addr().unwrap().port()
    };
    let script = format!(
        "import socket, time\n\
         s = socket.socket()\n\
         s.bind(('0.0.0.0', {port}))\n\
         s.listen()\n\
         c = socket.create_connection(('127.0.0.1', {port}))\n\
         print('listening', flush=True)\n\
         time.sleep(20)\n"
    );
    let mut env = fx.create(&fx.python("listen", &script));
    let out = Output::capture(&mut env);
    out.wait_for("listening", 10 * SECOND);
    let err = TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)), SECOND)
        .expect_err("the env's port is reachable from the host");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    fx.sandbox.destroy(env).unwrap();
    out.finish();
}

/// Destroy kills every process of the env (not just pid 1), and leaves no cgroup, mount or
/// per-env file on the host.
#[test]
fn destroy_leaves_nothing_behind() {
    let fx = Fixture::new("destroy");
    let spec = fx.sh(
        "destroy",
        "sleep 100 & sleep 100 & (sleep 100 &) ; echo data > /tmp/data; echo started; wait",
    );
    let mut env = fx.create(&spec);
    let out = Output::capture(&mut env);
    out.wait_for("started", 5 * SECOND);
    let dirs = env.cgroup_dirs().to_vec();
    assert!(!dirs.is_empty());
    let pids: Vec<i32> = fs::read_to_string(dirs[0].join("cgroup.procs"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 5, "init, sh and three sleeps: {pids:?}");
    assert!(pids.iter().all(|p| pid_exists(*p)));
    fx.sandbox.destroy(env).expect("destroy");
    out.finish();
    for pid in &pids {
        assert!(!pid_exists(*pid), "process {pid} survived");
    }
    for dir in &dirs {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&fx.base.display().to_string()),
        "host mount table changed"
    );
    let mut state: Vec<String> = fs::read_dir(fx.base.join("state"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    state.sort();
    assert_eq!(
        state,
        ["lock", "rootfs"],
        "per-env files left in the state dir"
    );
}

/// Two envs cannot see each other: not the other's /tmp, code, processes or environment
/// variables (a secret in one env's environment does not appear anywhere in the other's /proc).
#[test]
fn envs_are_isolated_from_each_other() {
    let fx = Fixture::new("cross");
    let code_a = fx.base.join("code-a");
    let code_b = fx.base.join("code-b");
    for (dir, file) in [(&code_a, "a.txt"), (&code_b, "b.txt")] {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(file), "x").unwrap();
    }
    let mut a = fx.sh("a", "echo secret-a > /tmp/secret; echo ready; sleep 20");
    a.code_dir = code_a;
    a.env.push(("SECRET_A".into(), "hunter2-a".into()));
    let mut env_a = fx.create(&a);
    let out_a = Output::capture(&mut env_a);
    out_a.wait_for("ready", 5 * SECOND);

    let mut b = fx.sh(
        "b",
        "ls -A /tmp | wc -l; ls /var/task; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' \
         | grep -c hunter2; ls /proc | grep -cE '^[0-9]+$'",
    );
    b.code_dir = code_b;
    let out = fx.run(&b, 5 * SECOND);
    fx.sandbox.destroy(env_a).unwrap();
    out_a.finish();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "0", "the other env's /tmp is visible: {out:?}");
    assert_eq!(
        lines[1], "b.txt",
        "the other env's code is visible: {out:?}"
    );
    assert_eq!(
        lines[2], "0",
        "the other env's environment is visible: {out:?}"
    );
    let procs: u32 = lines[3].parse().unwrap();
    assert!(procs <= 6, "the other env's processes are visible: {out:?}");
}

/// The runtime runs under an init (pid 1), as on Lambda: a runtime that SIGKILLs itself dies of it
/// (and that status is what the env reports), and orphaned processes are reaped instead of piling
/// up as zombies. Checked against `init: false` (runtime as pid 1), where both go wrong, so the
/// test fails if the init stops doing its job.
#[test]
fn runtime_runs_under_an_init() {
    let script = "import os, time\n\
                  for _ in range(6):\n\
                  \x20   pid = os.fork()\n\
                  \x20   if pid == 0:\n\
                  \x20       if os.fork() == 0: os._exit(0)\n\
                  \x20       os._exit(0)\n\
                  \x20   os.waitpid(pid, 0)\n\
                  time.sleep(0.5)\n\
                  z = [p for p in os.listdir('/proc') if p.isdigit() and \
                  ') Z ' in open('/proc/%s/stat' % p).read()]\n\
                  print('zombies=%d' % len(z), flush=True)\n\
                  os.kill(os.getpid(), 9)\n\
                  time.sleep(0.5)\n\
                  print('survived', flush=True)\n";
    for init in [true, false] {
        let fx = Fixture::with_options(
            if init { "init-on" } else { "init-off" },
            SandboxOptions {
                cpu_quota: false,
                init,
                ..SandboxOptions::default()
            },
        );
        let out = fx.run(&fx.python("init", script), 5 * SECOND);
        let status = out.status.expect("exited");
        if init {
            assert!(out.stdout.contains("zombies=0"), "{out:?}");
            assert!(!out.stdout.contains("survived"), "{out:?}");
            assert_eq!(status.signal(), Some(libc::SIGKILL), "{out:?}");
        } else {
            assert!(!out.stdout.contains("zombies=0"), "{out:?}");
            assert!(out.stdout.contains("survived"), "{out:?}");
            assert_eq!(status.code(), Some(0), "{out:?}");
        }
    }
}

/// Per-user kernel budgets kept in the host's user namespace (inotify instances, pending signals,
/// message queue bytes) are not shared between envs: each live env runs as its own host uid, so
/// one env exhausting its inotify instances (128 by default) leaves another env unaffected. Fails
/// if envs share a host uid (then `inotify_init1` fails with EMFILE in the second env).
#[test]
fn per_user_kernel_budgets_are_not_shared() {
    let fx = Fixture::new("budgets");
    let hog = fx.python(
        "hog",
        "import ctypes, time\n\
         libc = ctypes.CDLL(None, use_errno=True)\n\
         fds = []\n\
         while len(fds) < 100000:\n\
         \x20   fd = libc.inotify_init1(0)\n\
         \x20   if fd < 0: break\n\
         \x20   fds.append(fd)\n\
         print('held', len(fds), ctypes.get_errno(), flush=True)\n\
         time.sleep(20)\n",
    );
    let mut hog_env = fx.create(&hog);
    let hog_out = Output::capture(&mut hog_env);
    hog_out.wait_for("held", 10 * SECOND);
    let held = hog_out.stdout_now();
    let other = fx.python(
        "other",
        "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n\
         print('fd', libc.inotify_init1(0) >= 0, ctypes.get_errno())\n",
    );
    let out = fx.run(&other, 10 * SECOND);
    let hog_uid = hog_env.host_uid();
    fx.sandbox.destroy(hog_env).unwrap();
    hog_out.finish();
    assert!(
        held.contains(&format!(" {}", libc::EMFILE)),
        "the hog was not capped: {held}"
    );
    assert!(
        out.stdout.contains("fd True 0"),
        "{out:?} (hog: {held}, uid {hog_uid:?})"
    );
}

/// The cgroup limits follow the spec: memory (and memory+swap) = memory_mb, pids.max, and a CPU
/// quota of 1 vCPU per 1,769 MB (with the default options).
#[test]
fn cgroup_limits_follow_the_spec() {
    let fx = Fixture::with_options("limits", SandboxOptions::default());
    let mut spec = fx.sh("limits", "echo up; sleep 10");
    spec.memory_mb = 512;
    spec.pids_max = 42;
    let mut env = fx.create(&spec);
    let out = Output::capture(&mut env);
    out.wait_for("up", 5 * SECOND);
    let read = |file: &str| -> Option<String> {
        env.cgroup_dirs()
            .iter()
            .find_map(|d| fs::read_to_string(d.join(file)).ok())
            .map(|s| s.trim().to_owned())
    };
    if let Some(limit) = read("memory.limit_in_bytes") {
        assert_eq!(limit, (512u64 << 20).to_string());
        if let Some(memsw) = read("memory.memsw.limit_in_bytes") {
            assert_eq!(memsw, (512u64 << 20).to_string());
        }
        assert_eq!(read("pids.max").unwrap(), "42");
        assert_eq!(
            read("cpu.cfs_quota_us").unwrap(),
            (512 * 100_000 / 1769).to_string()
        );
        assert_eq!(read("cpu.shares").unwrap(), (512 * 1024 / 1769).to_string());
    } else {
        assert_eq!(read("memory.max").unwrap(), (512u64 << 20).to_string());
        assert_eq!(read("pids.max").unwrap(), "42");
        assert_eq!(
            read("cpu.max").unwrap(),
            format!("{} 100000", 512 * 100_000 / 1769)
        );
    }
    // The runtime itself is in the cgroup.
    let procs = read("cgroup.procs").unwrap();
    assert!(procs.lines().any(|l| l == env.pid().to_string()), "{procs}");
    assert!(env.max_memory_bytes().unwrap() > 0);
    assert!(!env.oom_killed());
    fx.sandbox.destroy(env).unwrap();
    out.finish();
}

/// With `init_cpu_boost`, a small env starts with one full vCPU of quota and drops to its
/// proportional share when the boost ends.
#[test]
fn init_cpu_boost_lifts_the_quota_until_ended() {
    let fx = Fixture::with_options("boost", SandboxOptions::default());
    let mut spec = fx.sh("boost", "echo up; sleep 10");
    spec.memory_mb = 128;
    spec.init_cpu_boost = true;
    let mut env = fx.create(&spec);
    let out = Output::capture(&mut env);
    out.wait_for("up", 5 * SECOND);
    let read = |env: &ignis_sandbox::Env| -> Option<String> {
        env.cgroup_dirs().iter().find_map(|d| {
            fs::read_to_string(d.join("cpu.cfs_quota_us"))
                .or_else(|_| fs::read_to_string(d.join("cpu.max")))
                .ok()
                .map(|s| s.split_whitespace().next().unwrap_or_default().to_owned())
        })
    };
    if let Some(quota) = read(&env) {
        assert_eq!(quota, "100000");
        env.end_init_boost().unwrap();
        assert_eq!(read(&env).unwrap(), (128 * 100_000 / 1769).to_string());
    }
    fx.sandbox.destroy(env).unwrap();
    out.finish();
}

/// Errors are reported clearly and leave nothing behind: a missing program, a non-executable
/// file, a bad spec, a duplicate id.
#[test]
fn errors_are_reported_and_cleaned_up() {
    let fx = Fixture::new("errors");
    fs::write(fx.code.join("data.txt"), "not a program").unwrap();

    let missing = fx.spec("missing", &["/var/task/nope"]);
    match fx.sandbox.create(&missing) {
        Err(SandboxError::Exec { path, source }) => {
            assert_eq!(path, "/var/task/nope");
            assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
        }
        other => panic!("expected an exec error, got {other:?}"),
    }
    let not_exec = fx.spec("notexec", &["/var/task/data.txt"]);
    match fx.sandbox.create(&not_exec) {
        Err(SandboxError::Exec { source, .. }) => {
            assert_eq!(source.raw_os_error(), Some(libc::EACCES))
        }
        other => panic!("expected an exec error, got {other:?}"),
    }
    let by_path = fx.spec("bypath", &["true"]);
    let out = fx.run(&by_path, 5 * SECOND);
    assert_eq!(out.code(), Some(0), "PATH lookup: {out:?}");

    let mut bad = fx.spec("bad", &["/bin/true"]);
    bad.id = "Bad/Id".into();
    assert!(matches!(
        fx.sandbox.create(&bad),
        Err(SandboxError::InvalidSpec(_))
    ));
    let mut bad = fx.spec("bad", &["/bin/true"]);
    bad.code_dir = fx.base.join("missing-dir");
    assert!(matches!(
        fx.sandbox.create(&bad),
        Err(SandboxError::InvalidSpec(_))
    ));

    let dup = fx.sh("dup", "sleep 10");
    let first = fx.create(&dup);
    assert!(matches!(
        fx.sandbox.create(&dup),
        Err(SandboxError::AlreadyExists(_))
    ));
    let dirs = first.cgroup_dirs().to_vec();
    fx.sandbox.destroy(first).unwrap();
    assert!(dirs.iter().all(|d| !d.exists()));

    // Failed creations left no cgroup behind: the parent directories hold nothing.
    for parent in dirs.iter().map(|d| d.parent().unwrap()) {
        let children: Vec<_> = fs::read_dir(parent)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .collect();
        assert!(
            children.is_empty(),
            "{children:?} left in {}",
            parent.display()
        );
    }
}

/// The managed-runtime interpreters start inside an env (python3 with TLS certificates and
/// user lookup, node) and see Lambda's layout.
#[test]
fn interpreters_run_inside() {
    let fx = Fixture::new("interp");
    let out = fx.run(
        &fx.python(
            "python",
            "import os, ssl, pwd, socket\n\
             ctx = ssl.create_default_context()\n\
             print(len(ctx.get_ca_certs()) > 0 or os.path.exists('/etc/ssl/certs/ca-certificates.crt'))\n\
             print(pwd.getpwuid(os.getuid()).pw_name, os.getcwd(), socket.gethostname())\n",
        ),
        10 * SECOND,
    );
    assert_eq!(out.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, "True\nsbx_user1051 /var/task localhost\n");
    if std::path::Path::new("/usr/bin/node").exists() {
        let out = fx.run(
            &fx.spec("node", &["/usr/bin/node", "-e", "console.log(6 * 7)"]),
            15 * SECOND,
        );
        assert_eq!(out.code(), Some(0), "{out:?}");
        assert_eq!(out.stdout, "42\n");
    }
}

/// Many envs created and destroyed concurrently from several threads all work (the clone path
/// is safe in a multi-threaded host), and the host process keeps its own dumpable setting (the
/// children share its memory map, whose dumpable flag every credential change resets).
#[test]
fn concurrent_creates_work() {
    // SAFETY: PR_GET_DUMPABLE only reads a flag of this process.
    let dumpable = || unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) };
    let before = dumpable();
    let fx = Fixture::new("concurrent");
    std::thread::scope(|s| {
        for t in 0..4 {
            let fx = &fx;
            s.spawn(move || {
                for i in 0..10 {
                    let out = fx.run(&fx.sh(&format!("c{t}-{i}"), "echo $((6*7))"), 5 * SECOND);
                    assert_eq!(out.stdout, "42\n", "{out:?}");
                }
            });
        }
    });
    assert_eq!(dumpable(), before);
}
