"""Escape attempts run as function code: Python functions deployed through the real API try to break
out of their execution environment (privileges, syscalls, host files and processes, network, other
functions, resource limits), and every attempt must end in its concrete blocked outcome.

One probe function runs most single-env checks in one invocation (so the file stays fast); each
test then asserts one of its answers. Resource limits, cross-function isolation and teardown get
their own functions.
"""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import pytest

from helpers import ROLE, unique

PY = "python3.11"
# host uids of envs' runtimes: one per live env from this range (see crates/ignis-sandbox/README.md)
SANDBOX_UIDS = range(0x7F000000 + 993, 0x7F000000 + 993 + 65536)


def zip_files(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    return buf.getvalue()


def deploy(lam, cleanup, code: str, **kw) -> str:
    name = unique("esc")
    cleanup.append(name)
    kw.setdefault("Runtime", PY)
    lam.create_function(FunctionName=name, Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_files({"app.py": code})}, **kw)
    return name


def invoke(lam, name, payload=None):
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(payload if payload is not None else {}))
    body = json.loads(resp["Payload"].read() or b"null")
    return resp.get("FunctionError"), body


def ok(lam, name, payload=None):
    err, body = invoke(lam, name, payload)
    assert err is None, body
    return body


# -- the probe ------------------------------------------------------------------------------------

PROBE = r'''
import ctypes, errno, os, socket, struct, sys, time

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def sc(nr, *args):
    """Raw syscall; returns 0/the result, or the errno name."""
    ctypes.set_errno(0)
    conv = [ctypes.c_char_p(a) if isinstance(a, bytes) else ctypes.c_long(a) for a in args]
    r = libc.syscall(ctypes.c_long(nr), *conv)
    if r == -1:
        return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
    if r >= 0 and nr in FD_RESULT:
        os.close(r)
    return "ok"

def attempt(f):
    try:
        r = f()
        return "ok" if r is None else r
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))

# x86_64 numbers
NR = dict(mount=165, umount2=166, pivot_root=155, chroot=161, unshare=272, setns=308, keyctl=250,
          add_key=248, request_key=249, bpf=321, perf_event_open=298, ptrace=101, kexec_load=246,
          kexec_file_load=320, init_module=175, finit_module=313, delete_module=176,
          open_by_handle_at=304, name_to_handle_at=303, reboot=169, swapon=167, swapoff=168,
          acct=163, settimeofday=164, clock_settime=227, syslog=103, userfaultfd=323,
          io_uring_setup=425, process_vm_readv=310, sethostname=170, setdomainname=171,
          mknod=133, iopl=172, ioperm=173, fsopen=430, open_tree=428, quotactl=179, kcmp=312,
          pidfd_getfd=438, fanotify_init=300, setuid=105, setgid=106, vhangup=153)
FD_RESULT = {NR["bpf"], NR["perf_event_open"], NR["userfaultfd"], NR["io_uring_setup"],
             NR["fsopen"], NR["open_tree"], NR["fanotify_init"], NR["open_by_handle_at"]}

def syscalls():
    os.makedirs("/tmp/mnt", exist_ok=True)
    buf = ctypes.create_string_buffer(256)
    nsfd = os.open("/proc/self/ns/net", os.O_RDONLY)
    attr = ctypes.create_string_buffer(128)      # perf_event_attr: type SOFTWARE, cpu clock
    struct.pack_into("IIQ", attr, 0, 1, 128, 0)
    r = {
        "mount_tmpfs": sc(NR["mount"], b"none", b"/tmp/mnt", b"tmpfs", 0, 0),
        "mount_proc": sc(NR["mount"], b"proc", b"/tmp/mnt", b"proc", 0, 0),
        "umount2_tmp": sc(NR["umount2"], b"/tmp", 2),           # MNT_DETACH
        "pivot_root": sc(NR["pivot_root"], b"/tmp", b"/tmp/mnt"),
        "chroot": sc(NR["chroot"], b"/tmp"),
        "unshare_user": sc(NR["unshare"], 0x10000000),
        "unshare_mnt": sc(NR["unshare"], 0x00020000),
        "unshare_net": sc(NR["unshare"], 0x40000000),
        "unshare_pid": sc(NR["unshare"], 0x20000000),
        "setns": sc(NR["setns"], nsfd, 0),
        "keyctl": sc(NR["keyctl"], 0, -3, 1),                    # KEYCTL_GET_KEYRING_ID(session, create)
        "add_key": sc(NR["add_key"], b"user", b"x", b"secret", 6, -4),
        "request_key": sc(NR["request_key"], b"user", b"x", 0, 0),
        "bpf": sc(NR["bpf"], 0, ctypes.addressof(buf), 72),       # BPF_MAP_CREATE
        "perf_event_open": sc(NR["perf_event_open"], ctypes.addressof(attr), 0, -1, -1, 0),
        "ptrace_traceme": sc(NR["ptrace"], 0, 0, 0, 0),
        "kexec_load": sc(NR["kexec_load"], 0, 0, 0, 0),
        "kexec_file_load": sc(NR["kexec_file_load"], -1, -1, 0, 0, 4),
        "init_module": sc(NR["init_module"], ctypes.addressof(buf), 256, b""),
        "finit_module": sc(NR["finit_module"], 0, b"", 0),
        "delete_module": sc(NR["delete_module"], b"ext4", 0),
        "open_by_handle_at": sc(NR["open_by_handle_at"], -100, ctypes.addressof(buf), 0),
        "name_to_handle_at": sc(NR["name_to_handle_at"], -100, b"/", ctypes.addressof(buf),
                                ctypes.addressof(attr), 0),
        "reboot": sc(NR["reboot"], 0xfee1dead, 672274793, 0x4321FEDC, 0),   # POWER_OFF
        "swapon": sc(NR["swapon"], b"/tmp/mnt", 0),
        "swapoff": sc(NR["swapoff"], b"/tmp/mnt"),
        "acct": sc(NR["acct"], 0),
        "settimeofday": sc(NR["settimeofday"], 0, 0),
        "clock_settime": sc(NR["clock_settime"], 0, ctypes.addressof(buf)),
        "syslog_read_all": sc(NR["syslog"], 3, ctypes.addressof(buf), 256),
        "userfaultfd": sc(NR["userfaultfd"], 0),
        "io_uring_setup": sc(NR["io_uring_setup"], 1, ctypes.addressof(buf)),
        "process_vm_readv": sc(NR["process_vm_readv"], os.getpid(), 0, 0, 0, 0, 0),
        "sethostname": sc(NR["sethostname"], b"pwned", 5),
        "setdomainname": sc(NR["setdomainname"], b"pwned", 5),
        "mknod_kvm": sc(NR["mknod"], b"/tmp/kvm", 0o20666, (10 << 8) | 232),
        "mknod_sda": sc(NR["mknod"], b"/tmp/sda", 0o60666, (8 << 8) | 0),
        "iopl": sc(NR["iopl"], 3),
        "ioperm": sc(NR["ioperm"], 0x80, 1, 1),
        "fsopen": sc(NR["fsopen"], b"tmpfs", 0),
        "open_tree": sc(NR["open_tree"], -100, b"/tmp", 1),       # OPEN_TREE_CLONE
        "quotactl": sc(NR["quotactl"], 0x800002, b"/tmp", 0, 0),
        "kcmp": sc(NR["kcmp"], os.getpid(), os.getpid(), 0, 0, 0),
        "fanotify_init": sc(NR["fanotify_init"], 0, 0),
        "setuid_0": sc(NR["setuid"], 0),
        "setgid_0": sc(NR["setgid"], 0),
        "vhangup": sc(NR["vhangup"]),
    }
    os.close(nsfd)
    return r

def status():
    out = {}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        if k in ("Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                 "Seccomp", "Groups"):
            out[k] = v.split()
    return out

def processes():
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    cmds = {}
    for p in pids:
        try:
            cmds[p] = open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            pass
    return {"pids": pids, "cmdlines": cmds}

def fs(event):
    r = {}
    def read(path):
        def f():
            with open(path, "rb") as fh:
                fh.read(64)
        return attempt(f)
    def write(path):
        def f():
            with open(path, "wb") as fh:
                fh.write(b"x")
        return attempt(f)
    for p in ["/etc/shadow", "/etc/gshadow", "/root", "/work", "/home", "/var/lib", "/boot",
              "/proc/1/root/etc/shadow", "/sys", "/sys/fs/cgroup", event["data_dir"],
              event["data_dir"] + "/credentials", event["workdir"], "/proc/kcore", "/proc/kmsg",
              "/proc/sysrq-trigger", "/dev/kmsg"]:
        r["exists:" + p] = os.path.exists(p)
    r["read:/proc/kcore"] = read("/proc/kcore")
    r["read:/proc/kmsg"] = read("/proc/kmsg")
    for p in ["/var/task/x", "/opt/x", "/x", "/etc/x", "/etc/passwd", "/usr/x", "/var/runtime/x",
              "/var/x", "/proc/sys/kernel/hostname", "/proc/sys/vm/drop_caches",
              "/proc/sysrq-trigger", "/proc/sys/kernel/core_pattern", "/proc/self/oom_score_adj"]:
        r["write:" + p] = write(p)
    # kallsyms addresses must be hidden (all zero) from the env
    try:
        lines = open("/proc/kallsyms").read().splitlines()[:200]
        r["kallsyms_nonzero"] = sum(1 for l in lines if int(l.split()[0], 16) != 0)
        r["kallsyms_lines"] = len(lines)
    except OSError as e:
        r["kallsyms_nonzero"] = 0
        r["kallsyms_lines"] = errno.errorcode.get(e.errno)
    # /dev
    r["dev"] = sorted(os.listdir("/dev"))
    r["write:/dev/null"] = write("/dev/null")
    # tmp: size and flags
    st = os.statvfs("/tmp")
    r["tmp_bytes"] = st.f_blocks * st.f_frsize
    r["tmp_nodev"] = bool(st.f_flag & os.ST_NODEV)
    r["tmp_nosuid"] = bool(st.f_flag & os.ST_NOSUID)
    r["usr_nosuid"] = bool(os.statvfs("/usr/bin").f_flag & os.ST_NOSUID)
    r["usr_readonly"] = bool(os.statvfs("/usr/bin").f_flag & os.ST_RDONLY)
    setuid = [f"/usr/bin/{n}" for n in os.listdir("/usr/bin")
              if os.stat(f"/usr/bin/{n}").st_mode & 0o4000 and os.path.isfile(f"/usr/bin/{n}")]
    r["setuid_binaries"] = setuid
    # symlink / hardlink / .. tricks out of /tmp
    try:
        os.symlink("/../../../../etc/shadow", "/tmp/shadow-link")
    except FileExistsError:
        pass
    r["symlink_to_shadow"] = read("/tmp/shadow-link")
    r["hardlink_task_to_tmp"] = attempt(lambda: os.link("/var/task/app.py", "/tmp/hl"))
    r["hardlink_passwd_to_tmp"] = attempt(lambda: os.link("/etc/passwd", "/tmp/hl2"))
    fd = os.open("/", os.O_RDONLY)
    os.chdir("/tmp")
    for _ in range(20):
        os.chdir("..")
    r["dotdot_escape_is_root"] = sorted(os.listdir(".")) == sorted(os.listdir("/"))
    r["root_listing"] = sorted(os.listdir("/"))
    os.close(fd)
    os.chdir("/var/task")
    # host code dirs: mountinfo shows the host path of /var/task; its siblings must not be reachable
    host_task = None
    for line in open("/proc/self/mountinfo"):
        parts = line.split()
        if parts[4] == "/var/task":
            host_task = parts[3]
    r["host_task_path"] = host_task
    if host_task:
        r["host_task_parent_listing"] = attempt(lambda: os.listdir(os.path.dirname(host_task)))
    # cgroups
    r["proc_self_cgroup"] = open("/proc/self/cgroup").read().split()
    return r

def network(event):
    r = {"interfaces": [n for _, n in socket.if_nameindex()]}
    def connect(host, port):
        def f():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(2)
            try:
                s.connect((host, port))
            finally:
                s.close()
        return attempt(f)
    r["connect_api_loopback"] = connect("127.0.0.1", event["api_port"])
    r["connect_host_addrs"] = {a: connect(a, event["api_port"]) for a in event["host_addrs"]}
    r["connect_public"] = connect("1.1.1.1", 443)
    r["raw_icmp"] = attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close())
    r["packet"] = attempt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0).close())
    # netlink: add an address to lo (RTM_NEWADDR) and set lo down (RTM_NEWLINK); want -EPERM acks
    def nl(msgtype, payload):
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        try:
            flags = 0x1 | 0x4 | 0x400 | 0x200   # REQUEST | ACK | CREATE | EXCL
            s.send(struct.pack("=IHHII", 16 + len(payload), msgtype, flags, 1, 0) + payload)
            data = s.recv(4096)
            _len, typ = struct.unpack_from("=IH", data)
            if typ != 2:
                return f"type {typ}"
            err = -struct.unpack_from("=i", data, 16)[0]
            return "ok" if err == 0 else errno.errorcode.get(err, str(err))
        finally:
            s.close()
    addr = struct.pack("=BBBBI", socket.AF_INET, 8, 0, 0, 1) + struct.pack("=HH", 8, 2) + socket.inet_aton("10.9.9.9")
    r["netlink_add_addr"] = attempt(lambda: nl(20, addr))
    link = struct.pack("=BxHiII", 0, 0, 1, 0, 1)   # ifinfomsg: index 1, change IFF_UP, flags 0 (down)
    r["netlink_link_down"] = attempt(lambda: nl(16, link))
    # bind a privileged port / listen on all addresses (allowed, but only inside the env)
    return r

def ipc():
    r = {}
    libc.shmget.restype = ctypes.c_int
    libc.msgget.restype = ctypes.c_int
    ctypes.set_errno(0)
    r["shm_peer"] = libc.shmget(0x1957, 4096, 0) >= 0
    r["shm_peer_errno"] = errno.errorcode.get(ctypes.get_errno())
    r["msg_peer"] = libc.msgget(0x1957, 0) >= 0
    return r

def ptrace_sibling():
    pid = os.fork()
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    try:
        return {"ptrace_attach_child": sc(NR["ptrace"], 16, pid, 0, 0),   # PTRACE_ATTACH
                "ptrace_seize_child": sc(NR["ptrace"], 0x4206, pid, 0, 0),
                "process_vm_readv_child": sc(NR["process_vm_readv"], pid, 0, 0, 0, 0, 0)}
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)

def misc():
    r = {"hostname": socket.gethostname(), "uid": os.getuid(), "euid": os.geteuid(),
         "gid": os.getgid(), "groups": os.getgroups()}
    r["setuid_0_py"] = attempt(lambda: os.setuid(0))
    r["kill_host_init"] = attempt(lambda: os.kill(1, 0))   # pid 1 is the env's init
    rl = __import__("resource")
    r["rlimit_core"] = rl.getrlimit(rl.RLIMIT_CORE)
    r["rlimit_nofile"] = rl.getrlimit(rl.RLIMIT_NOFILE)
    return r

def handler(event, context):
    out = {}
    for name, f in [("status", status), ("proc", processes), ("sys", syscalls), ("fs", lambda: fs(event)),
                    ("net", lambda: network(event)), ("ipc", ipc), ("ptrace", ptrace_sibling),
                    ("misc", misc)]:
        try:
            out[name] = f()
        except Exception as e:    # a probe crashing is reported, and the test on it fails
            out[name] = {"probe_error": repr(e)}
    return out
'''


def host_addresses() -> list[str]:
    """Non-loopback IPv4 addresses of this host (plus its default gateway when known)."""
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    addrs = [line.split()[3].split("/")[0] for line in out.splitlines() if " lo " not in line]
    route = subprocess.run(["ip", "-4", "route", "show", "default"], capture_output=True, text=True).stdout.split()
    if "via" in route:
        addrs.append(route[route.index("via") + 1])
    return [a for a in addrs if not a.startswith("127.")] or ["10.255.255.1"]


@pytest.fixture(scope="module")
def probe(server):
    """Deploy the probe once and run it once; every test below asserts one part of its answer."""
    lam = server.client()
    name = unique("esc")
    lam.create_function(FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler", Timeout=30,
                        Code={"ZipFile": zip_files({"app.py": PROBE})})
    # a neighbour holding SysV IPC objects, whose key the probe looks for
    ipc_name = unique("esc")
    lam.create_function(FunctionName=ipc_name, Runtime=PY, Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_files({"app.py": IPC_OWNER})})
    try:
        owner = ok(lam, ipc_name)
        assert owner["shm"] >= 0 and owner["msg"] >= 0, owner
        out = ok(lam, name, {
            "data_dir": str(server.data_dir), "workdir": str(server.workdir),
            "api_port": server.port, "host_addrs": host_addresses(),
        })
        # the probe's own sanity check: its env still serves invocations afterwards
        ok(lam, name, {"data_dir": "/nonexistent", "workdir": "/nonexistent", "api_port": 1,
                       "host_addrs": []})
        yield out
    finally:
        for n in (name, ipc_name):
            lam.delete_function(FunctionName=n)


IPC_OWNER = r'''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def handler(event, context):
    return {"shm": libc.shmget(0x1957, 4096, 0o1666), "msg": libc.msgget(0x1957, 0o1666)}
'''


def section(probe, name):
    got = probe[name]
    assert "probe_error" not in got, got
    return got


# -- privileges -----------------------------------------------------------------------------------

def test_not_root_and_no_capabilities(probe):
    st = section(probe, "status")
    assert st["Uid"] == ["993"] * 4 and st["Gid"] == ["990"] * 4, st
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap][0], 16) == 0, (cap, st[cap])
    assert st["NoNewPrivs"] == ["1"]
    assert st["Seccomp"] == ["2"]
    m = section(probe, "misc")
    assert m["uid"] == m["euid"] == 993 and m["groups"] == []
    # uid/gid 0 are not mapped in the env's user namespace: there is no root to become
    assert m["setuid_0_py"] == "EINVAL"
    sys_ = section(probe, "sys")
    assert sys_["setuid_0"] == "EINVAL" and sys_["setgid_0"] == "EINVAL", sys_


def test_setuid_binaries_do_not_elevate(probe):
    fs = section(probe, "fs")
    # no_new_privs is set (above) and /usr is mounted nosuid and read-only
    assert fs["usr_nosuid"] is True and fs["usr_readonly"] is True
    assert fs["tmp_nosuid"] is True and fs["tmp_nodev"] is True


def test_rlimits_as_on_lambda(probe):
    m = section(probe, "misc")
    assert m["rlimit_core"] == [0, 0]
    assert m["rlimit_nofile"] == [1024, 1024]


# -- syscalls -------------------------------------------------------------------------------------

EPERM_SYSCALLS = [
    "mount_tmpfs", "mount_proc", "umount2_tmp", "pivot_root", "chroot", "unshare_user", "unshare_mnt",
    "unshare_net", "unshare_pid", "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
    "ptrace_traceme", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "open_by_handle_at", "name_to_handle_at", "reboot", "swapon", "swapoff", "acct", "settimeofday",
    "clock_settime", "syslog_read_all", "userfaultfd", "io_uring_setup", "process_vm_readv",
    "sethostname", "setdomainname", "mknod_kvm", "mknod_sda", "iopl", "ioperm", "fsopen", "open_tree",
    "quotactl", "kcmp", "fanotify_init", "vhangup",
]


@pytest.mark.parametrize("probe_name", EPERM_SYSCALLS)
def test_dangerous_syscall_is_eperm(probe, probe_name):
    got = section(probe, "sys")[probe_name]
    assert got == "EPERM", f"{probe_name} returned {got}"


def test_ptrace_and_memory_access_of_a_sibling_process_denied(probe):
    got = section(probe, "ptrace")
    assert got == {"ptrace_attach_child": "EPERM", "ptrace_seize_child": "EPERM",
                   "process_vm_readv_child": "EPERM"}, got


# -- processes ------------------------------------------------------------------------------------

def test_proc_shows_only_the_environment(probe):
    proc = section(probe, "proc")
    # pid 1 is the env's init, pid 2 the runtime (its handler), maybe a forked child
    assert proc["pids"][:2] == [1, 2] and len(proc["pids"]) <= 4, proc
    assert max(proc["pids"]) < 100, proc
    assert proc["cmdlines"]["1"].startswith("ignis-sandbox-init "), proc
    for pid, cmd in proc["cmdlines"].items():
        if pid != "1":
            assert "python" in cmd, (pid, cmd)
            assert "ignis" not in cmd and "pytest" not in cmd, (pid, cmd)
    assert section(probe, "misc")["kill_host_init"] == "ok"  # pid 1 is the env's own init, not host's


# -- host files -----------------------------------------------------------------------------------

def test_host_files_invisible(probe, server):
    fs = section(probe, "fs")
    for p in ["/etc/shadow", "/etc/gshadow", "/root", "/work", "/home", "/var/lib", "/boot",
              "/proc/1/root/etc/shadow", "/sys", "/sys/fs/cgroup", str(server.data_dir),
              str(server.data_dir) + "/credentials", str(server.workdir)]:
        assert fs["exists:" + p] is False, p
    assert fs["symlink_to_shadow"] == "ENOENT"
    # the host path of /var/task is visible in mountinfo (documented) but not reachable
    assert fs["host_task_path"], fs
    assert fs["host_task_parent_listing"] == "ENOENT", fs
    assert set(fs["root_listing"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "opt",
                                       "proc", "sbin", "tmp", "usr", "var"}, fs["root_listing"]
    assert fs["dotdot_escape_is_root"] is True


def test_kernel_memory_and_symbols_hidden(probe):
    fs = section(probe, "fs")
    # /proc/kcore is absent from some kernels (this VM's): then ENOENT, else root-only
    assert fs["read:/proc/kcore"] == ("EACCES" if Path("/proc/kcore").exists() else "ENOENT")
    assert fs["read:/proc/kmsg"] == "EACCES"
    assert fs["kallsyms_nonzero"] == 0, fs["kallsyms_lines"]


@pytest.mark.parametrize("path,expected", [
    ("/var/task/x", "EROFS"), ("/opt/x", "EROFS"), ("/x", "EROFS"), ("/etc/x", "EROFS"),
    ("/etc/passwd", "EROFS"), ("/usr/x", "EROFS"), ("/var/runtime/x", "EROFS"), ("/var/x", "EROFS"),
    ("/proc/sys/kernel/hostname", "EACCES"), ("/proc/sys/vm/drop_caches", "EACCES"),
    ("/proc/sysrq-trigger", "EACCES"), ("/proc/sys/kernel/core_pattern", "EACCES"),
])
def test_write_outside_tmp_denied(probe, path, expected):
    if not Path(path).exists() and path.startswith("/proc/"):
        expected = "ENOENT"  # e.g. no sysrq in this kernel
    got = section(probe, "fs")["write:" + path]
    assert got == expected, f"write {path}: {got}"


def test_hardlinks_out_of_tmp_fail(probe):
    fs = section(probe, "fs")
    assert fs["hardlink_task_to_tmp"] == "EXDEV"
    assert fs["hardlink_passwd_to_tmp"] == "EXDEV"


def test_dev_holds_only_the_harmless_nodes(probe):
    fs = section(probe, "fs")
    assert set(fs["dev"]) <= {"null", "zero", "full", "random", "urandom", "fd", "stdin", "stdout",
                              "stderr", "shm", "pts", "ptmx"}, fs["dev"]
    assert {"null", "zero", "full", "random", "urandom"} <= set(fs["dev"])
    assert fs["write:/dev/null"] == "ok"
    assert fs["exists:/dev/kmsg"] is False


def test_tmp_is_sized_to_ephemeral_storage(probe):
    assert section(probe, "fs")["tmp_bytes"] == 512 * 1024 * 1024


def test_cgroup_namespace_hides_the_hierarchy(probe):
    entries = section(probe, "fs")["proc_self_cgroup"]
    assert entries and all(e.endswith(":/") for e in entries), entries


# -- network --------------------------------------------------------------------------------------

def test_only_loopback_interface(probe):
    assert section(probe, "net")["interfaces"] == ["lo"]


def test_server_api_unreachable_from_inside(probe):
    net = section(probe, "net")
    assert net["connect_api_loopback"] == "ECONNREFUSED", net
    assert net["connect_host_addrs"], net
    for addr, got in net["connect_host_addrs"].items():
        assert got == "ENETUNREACH", (addr, got)
    assert net["connect_public"] == "ENETUNREACH"


def test_raw_and_packet_sockets_denied(probe):
    net = section(probe, "net")
    assert net["raw_icmp"] == "EPERM"
    assert net["packet"] == "EPERM"


def test_netlink_route_changes_denied(probe):
    net = section(probe, "net")
    assert net["netlink_add_addr"] == "EPERM", net
    assert net["netlink_link_down"] == "EPERM", net


# -- namespaces -----------------------------------------------------------------------------------

def test_hostname_is_private(probe):
    assert section(probe, "misc")["hostname"] == "localhost"
    assert socket.gethostname() != "pwned"


def test_sysv_ipc_of_another_env_invisible(probe):
    ipc = section(probe, "ipc")
    assert ipc["shm_peer"] is False and ipc["shm_peer_errno"] == "ENOENT", ipc
    assert ipc["msg_peer"] is False, ipc


# -- resource limits ------------------------------------------------------------------------------

MEMORY_HOG = r'''
def handler(event, context):
    if event.get("hog"):
        chunks = []
        for _ in range(event["hog"]):
            chunks.append(bytearray(b"x" * (1 << 20)))   # touched, so really resident
        return len(chunks)
    return "alive"
'''


def test_memory_past_memory_size_is_oom_for_this_env_only(lam, cleanup):
    hog = deploy(lam, cleanup, MEMORY_HOG, MemorySize=128)
    neighbour = deploy(lam, cleanup, MEMORY_HOG, MemorySize=128)
    assert ok(lam, neighbour) == "alive"
    err, body = invoke(lam, hog, {"hog": 400})
    assert err == "Unhandled", body
    assert body["errorType"] == "Runtime.OutOfMemory", body
    # the neighbour's warm env survived and the hog's next env works
    assert ok(lam, neighbour) == "alive"
    assert ok(lam, hog) == "alive"
    assert ok(lam, hog, {"hog": 20}) == 20   # well below the limit: fine


FORK_BOMB = r'''
import errno, os, time
def handler(event, context):
    if not event.get("bomb"):
        return "alive"
    n, err = 0, None
    while n < 5000:
        try:
            pid = os.fork()
        except OSError as e:
            err = errno.errorcode.get(e.errno)
            break
        if pid == 0:
            time.sleep(event["bomb"])
            os._exit(0)
        n += 1
    return {"forked": n, "error": err}
'''


def test_fork_bomb_stops_at_the_pids_limit_and_others_keep_working(lam, cleanup):
    bomb = deploy(lam, cleanup, FORK_BOMB, MemorySize=1024, Timeout=30)
    neighbour = deploy(lam, cleanup, FORK_BOMB)
    assert ok(lam, neighbour) == "alive"
    got = ok(lam, bomb, {"bomb": 4})
    assert got["error"] == "EAGAIN", got
    assert 900 <= got["forked"] < 1024, got     # pids.max 1024 for the whole env
    # while the bomb's processes still exist: the neighbour and a new function work
    assert ok(lam, neighbour) == "alive"
    fresh = deploy(lam, cleanup, FORK_BOMB)
    assert ok(lam, fresh) == "alive"
    # once they exit, the bomb's own env works again
    deadline = time.monotonic() + 20
    while True:
        err, body = invoke(lam, bomb)
        if err is None or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (err, body) == (None, "alive")


CPU_BURN = r'''
import os, time
def handler(event, context):
    if event.get("forever"):
        while True:
            pass
    seconds = event["seconds"]
    t0, c0 = time.monotonic(), os.times()
    kids = []
    for _ in range(2):                 # two busy processes: without a quota they get 2 CPUs here
        pid = os.fork()
        if pid == 0:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                pass
            os._exit(0)
        kids.append(pid)
    for pid in kids:
        os.waitpid(pid, 0)
    c1 = os.times()
    cpu = (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system)
    return {"cpu": cpu, "wall": time.monotonic() - t0}
'''


def test_cpu_is_capped_in_proportion_to_memory(lam, cleanup):
    name = deploy(lam, cleanup, CPU_BURN, MemorySize=256, Timeout=10)   # 256/1769 = 0.145 vCPU
    got = ok(lam, name, {"seconds": 1.5})
    share = got["cpu"] / got["wall"]
    assert share < 0.25, got


def test_timeout_kills_a_busy_loop_and_the_function_recovers(lam, cleanup):
    name = deploy(lam, cleanup, CPU_BURN, Timeout=1)
    t0 = time.monotonic()
    err, body = invoke(lam, name, {"forever": True})
    assert err == "Unhandled", body
    assert "Task timed out after 1.00 seconds" in body["errorMessage"], body
    assert time.monotonic() - t0 < 6
    got = ok(lam, name, {"seconds": 0.05})
    assert got["wall"] < 1


FILL_TMP = r'''
import errno, os
def handler(event, context):
    written, err = 0, None
    chunk = b"\0" * (1 << 20)
    with open("/tmp/fill", "wb") as f:
        try:
            while written < event["limit_mb"] << 20:
                written += f.write(chunk)
                f.flush()
        except OSError as e:
            err = errno.errorcode.get(e.errno)
    os.remove("/tmp/fill")
    return {"written_mb": written / (1 << 20), "error": err}
'''


def test_filling_tmp_past_ephemeral_storage_is_enospc(lam, cleanup):
    name = deploy(lam, cleanup, FILL_TMP, MemorySize=1024, EphemeralStorage={"Size": 600}, Timeout=30)
    got = ok(lam, name, {"limit_mb": 700})
    assert got["error"] == "ENOSPC", got
    assert 590 <= got["written_mb"] <= 600, got


# -- other functions, other environments ---------------------------------------------------------

SPY = r'''
import os, subprocess, sys
def scan(token):
    found = []
    for root in ["/tmp", "/var/task", "/opt"]:
        for dirpath, _dirs, files in os.walk(root):
            for f in files:
                p = os.path.join(dirpath, f)
                try:
                    if token in open(p, "rb").read() or token.decode() in f:
                        found.append(p)
                except OSError:
                    pass
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for what in ("environ", "cmdline"):
                try:
                    if token in open(f"/proc/{pid}/{what}", "rb").read():
                        found.append(f"/proc/{pid}/{what}")
                except OSError:
                    pass
    return found

def handler(event, context):
    token = event["token"].encode()
    if event.get("plant"):
        with open(f"/tmp/secret-{event['token']}", "wb") as f:
            f.write(token)
        os.environ["SECRET"] = event["token"]
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", event["token"]],
                         env={"SECRET": event["token"]}, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return {"found": scan(token), "task": sorted(os.listdir("/var/task"))}
'''


def host_pids_with(token: str) -> list[tuple[int, int]]:
    """Host processes whose command line holds `token`, with their real uid."""
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if token.encode() in (p / "cmdline").read_bytes():
                    uid = next(int(l.split()[1]) for l in (p / "status").read_text().splitlines()
                               if l.startswith("Uid:"))
                    out.append((int(p.name), uid))
            except (OSError, StopIteration):
                pass
    return out


def test_one_function_cannot_see_anothers_tmp_env_or_processes(lam, cleanup):
    a = deploy(lam, cleanup, SPY)
    b = deploy(lam, cleanup, SPY)
    token = unique("secret")
    planted = ok(lam, a, {"token": token, "plant": True})
    # positive control: the same scan finds A's secrets from inside A's env
    assert f"/tmp/secret-{token}" in planted["found"], planted
    assert any(f.endswith("/environ") for f in planted["found"]), planted
    assert any(f.endswith("/cmdline") for f in planted["found"]), planted
    spied = ok(lam, b, {"token": token})
    assert spied["found"] == [], spied
    assert spied["task"] == ["app.py"]
    # the planted process runs as the unprivileged sandbox uid on the host
    procs = host_pids_with(token)
    assert procs and all(uid in SANDBOX_UIDS for _, uid in procs), procs


INOTIFY_HOG = r'''
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
HELD = []
def handler(event, context):
    while len(HELD) < event["n"]:
        fd = libc.inotify_init1(0)
        if fd < 0:
            return {"held": len(HELD), "errno": errno.errorcode.get(ctypes.get_errno())}
        HELD.append(fd)
    return {"held": len(HELD), "errno": None}
'''


def test_per_user_kernel_budgets_are_not_shared_between_functions(lam, cleanup):
    """inotify instances are budgeted per host uid (128): one function holding all of its own must
    leave other functions able to use inotify (each env runs as its own host uid)."""
    a = deploy(lam, cleanup, INOTIFY_HOG)
    b = deploy(lam, cleanup, INOTIFY_HOG)
    got = ok(lam, a, {"n": 100000})
    assert got["errno"] == "EMFILE" and got["held"] >= 100, got
    assert ok(lam, b, {"n": 1}) == {"held": 1, "errno": None}


def test_new_environment_after_code_update_sees_nothing_of_the_old_one(lam, cleanup):
    from helpers import wait_ready
    a = deploy(lam, cleanup, SPY)
    token = unique("secret")
    ok(lam, a, {"token": token, "plant": True})
    assert f"/tmp/secret-{token}" in ok(lam, a, {"token": token})["found"]   # warm: still there
    assert host_pids_with(token)
    lam.update_function_code(FunctionName=a, ZipFile=zip_files({"app.py": SPY + "\n# v2\n"}))
    wait_ready(lam, a)
    assert ok(lam, a, {"token": token})["found"] == []
    # the old env was torn down: its background process is gone from the host
    deadline = time.monotonic() + 10
    while host_pids_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_pids_with(token) == []


def test_configuration_change_tears_down_background_processes(lam, cleanup):
    from helpers import wait_ready
    a = deploy(lam, cleanup, SPY)
    token = unique("secret")
    ok(lam, a, {"token": token, "plant": True})
    procs = host_pids_with(token)
    assert procs, "background process not found on the host"
    lam.update_function_configuration(FunctionName=a, Environment={"Variables": {"VERSION": "2"}})
    wait_ready(lam, a)
    deadline = time.monotonic() + 10
    while host_pids_with(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert host_pids_with(token) == []


@pytest.mark.xfail(strict=True, reason=(
    "/tmp is a tmpfs whose pages are charged to the env's memory cgroup, so with MemorySize 128 "
    "filling /tmp (512 MB) OOM-kills the env (Runtime.OutOfMemory) instead of failing with ENOSPC "
    "as Lambda's disk-backed /tmp does; needs a disk-backed /tmp (per-env quota'd directory or "
    "image). Contained to the env either way."))
def test_filling_tmp_does_not_count_against_memory(lam, cleanup):
    name = deploy(lam, cleanup, FILL_TMP, MemorySize=128, Timeout=30)
    err, got = invoke(lam, name, {"limit_mb": 600})
    assert err is None and got["error"] == "ENOSPC", got


SIGNALS = r'''
import os, signal, time
def handler(event, context):
    if event.get("kill_self"):
        os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(1)
        return "survived SIGKILL"
    if event.get("orphans"):
        for _ in range(event["orphans"]):
            pid = os.fork()
            if pid == 0:                     # double fork: the grandchild is orphaned at once
                if os.fork() == 0:
                    os._exit(0)
                os._exit(0)
            os.waitpid(pid, 0)
        time.sleep(0.5)
        states = [open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0]
                  for p in os.listdir("/proc") if p.isdigit()]
        return {"zombies": states.count("Z"), "pid": os.getpid()}
    return os.getpid()
'''

# The runtime runs as pid 2 under a minimal init (pid 1), as on Lambda: were it pid 1 itself, the
# kernel would drop the signals it sends itself, and orphans would be reparented to it and never
# reaped (zombies counting against pids.max).

def test_runtime_that_kills_itself_dies(lam, cleanup):
    name = deploy(lam, cleanup, SIGNALS)
    err, body = invoke(lam, name, {"kill_self": True})
    assert err == "Unhandled" and body["errorType"] == "Runtime.ExitError", body
    assert "signal: killed" in body["errorMessage"], body


def test_orphaned_processes_are_reaped(lam, cleanup):
    name = deploy(lam, cleanup, SIGNALS)
    got = ok(lam, name, {"orphans": 20})
    assert got["zombies"] == 0, got
    assert got["pid"] == 2, got   # pid 1 is the env's init


KILL_ALL = r'''
import os, signal, time
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("kill_all"):
        child = os.fork()
        if child == 0:
            time.sleep(30)
            os._exit(0)
        os.kill(-1, signal.SIGKILL)      # every process it may signal, except itself and init
        _, status = os.waitpid(child, 0)
        return {"child_signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}
    return COUNT
'''


def test_kill_minus_one_only_reaches_the_own_env(lam, cleanup, server):
    neighbour = deploy(lam, cleanup, KILL_ALL)
    killer = deploy(lam, cleanup, KILL_ALL)
    assert ok(lam, neighbour) == 1
    assert ok(lam, killer, {"kill_all": True}) == {"child_signal": 9}   # its own child: reached
    assert ok(lam, neighbour) == 2          # the neighbour's warm env: untouched
    assert ok(lam, killer) == 2             # and its own init and runtime survived
    assert server.proc.poll() is None


# -- crashes leave nothing behind -----------------------------------------------------------------

CRASHER = r'''
import os, signal
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("crash") == "exit":
        os._exit(3)
    if event.get("crash") == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    return COUNT
'''


def descendants(pid: int) -> list[int]:
    """Every host process below `pid` (not its threads)."""
    children: dict[int, list[int]] = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(p.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def resources(srv) -> dict[str, object]:
    """What the server holds on the host: env processes, cgroup dirs, mounts, open fds."""
    pid = srv.proc.pid
    procs = descendants(pid)
    instances = set()
    for p in procs:
        try:
            for line in Path(f"/proc/{p}/cgroup").read_text().splitlines():
                path = line.split(":", 2)[2]
                if "/ignis/" in path:
                    instances.add(path.rsplit("/", 1)[0])
        except OSError:
            pass
    cgroups = sorted(str(d) for inst in instances for d in Path("/sys/fs/cgroup").glob(f"*{inst}/*")
                     if d.is_dir())
    return {
        "processes": len(procs),
        "sandbox_uid_processes": sum(1 for p in procs if _uid(p) in SANDBOX_UIDS),
        "instances": instances,
        "cgroup_dirs": len(cgroups),
        "mounts": len(Path(f"/proc/{pid}/mountinfo").read_text().splitlines()),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "log_segment_fds": _log_segment_fds(pid),
    }


def _log_segment_fds(pid: int) -> int:
    n = 0
    for f in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{f}").endswith(".seg")
        except OSError:
            pass
    return n


def _uid(pid: int) -> int | None:
    try:
        return next(int(l.split()[1]) for l in Path(f"/proc/{pid}/status").read_text().splitlines()
                    if l.startswith("Uid:"))
    except (OSError, StopIteration):
        return None


def test_thousand_invokes_with_crashes_leak_nothing(fresh_server):
    srv = fresh_server()
    lam = srv.client()
    name = unique("esc")
    lam.create_function(FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler", MemorySize=1769,
                        Code={"ZipFile": zip_files({"app.py": CRASHER})})
    assert ok(lam, name) == 1
    before = resources(srv)
    assert before["processes"] >= 1 and before["instances"], before
    t0 = time.monotonic()
    crashes = 0
    for i in range(1, 1001):
        crash = (None, "exit", "kill")[(i // 10) % 2 + 1] if i % 10 == 0 else None
        err, body = invoke(lam, name, {"crash": crash})
        if crash:
            crashes += 1
            assert err == "Unhandled" and body["errorType"] == "Runtime.ExitError", (i, body)
        else:
            assert err is None, (i, body)
    elapsed = time.monotonic() - t0
    assert crashes == 100
    assert ok(lam, name) >= 1
    deadline = time.monotonic() + 10
    while True:     # destroys run in the background: allow them to finish
        after = resources(srv)
        if (after["processes"], after["cgroup_dirs"], after["mounts"]) == (
                before["processes"], before["cgroup_dirs"], before["mounts"]) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print(f"\n1000 invokes (100 crashes) in {elapsed:.1f}s; before {before}; after {after}")
    assert after["processes"] == before["processes"], (before, after)
    assert after["sandbox_uid_processes"] == before["sandbox_uid_processes"], (before, after)
    assert after["cgroup_dirs"] == before["cgroup_dirs"], (before, after)
    assert after["mounts"] == before["mounts"], (before, after)
    # log segments are counted apart (see the xfail below); every other fd must be released
    grown = (after["fds"] - after["log_segment_fds"]) - (before["fds"] - before["log_segment_fds"])
    assert grown <= 4, (before, after)
    assert elapsed < 60


def test_log_stream_files_are_closed(fresh_server):
    """Every environment has its own log stream: its file is closed when the environment goes, so
    open files do not grow with cold starts."""
    srv = fresh_server()
    lam = srv.client()
    name = unique("esc")
    lam.create_function(FunctionName=name, Runtime=PY, Role=ROLE, Handler="app.handler", MemorySize=1769,
                        Code={"ZipFile": zip_files({"app.py": CRASHER})})
    ok(lam, name)
    before = _log_segment_fds(srv.proc.pid)
    for _ in range(20):
        assert invoke(lam, name, {"crash": "exit"})[0] == "Unhandled"
    time.sleep(0.5)
    assert _log_segment_fds(srv.proc.pid) <= before + 2
