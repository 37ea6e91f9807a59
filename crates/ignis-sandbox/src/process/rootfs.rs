//! The environment's root filesystem: a shared read-only skeleton plus per-env mounts.
//!
//! When the driver starts it builds a skeleton directory (`<state>/rootfs`) once, on the host:
//! empty mount points (`usr`, `var/task`, `opt`, `tmp`, `proc`, `dev/null`, ...), the host's
//! top-level symlinks as they are (Debian's merged `/usr`: `bin -> usr/bin`, ...), and a generated
//! minimal `/etc` (passwd, group, hosts, resolv.conf, nsswitch.conf, hostname, plus copies of the
//! host's CA certificates, alternatives, ld.so.cache, ...). Nothing per-env is ever written there.
//!
//! Each env's child then only mounts, inside its private mount namespace: the skeleton bound
//! read-only onto itself (so that it is a mount point, as `pivot_root` requires), the host's userland dirs (`/usr`, and `/lib*`, `/bin`,
//! `/sbin` where they are real directories) read-only, the function code at `/var/task`, layers at
//! `/opt`, the runtime at `/var/runtime` (all read-only, nosuid, nodev), the five device nodes, a
//! fresh `/proc`, and a size-limited tmpfs at `/tmp` owned by the runtime uid; then it pivots into
//! the root. Per-env setup therefore costs a couple of dozen mount syscalls and no file I/O.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::child::{Step, ATTR_DEV_NODE, ATTR_RO_NOSUID_NODEV};
use crate::{EnvSpec, SandboxError};

/// Top-level host paths that make up the userland: bound read-only when directories, recreated
/// when symlinks.
const USERLAND: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/// Host `/etc` entries copied into the skeleton when present (runtimes and TLS need them).
const ETC_COPIES: &[&str] = &[
    "ssl/certs",
    "ssl/openssl.cnf",
    "alternatives",
    "ld.so.cache",
    "localtime",
    "protocols",
    "services",
    "mime.types",
    "os-release",
];

/// Device nodes bound from the host's `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// Identity and naming inside environments, used to generate `/etc`.
pub(crate) struct Identity<'a> {
    /// uid of the runtime inside the env.
    pub uid: u32,
    /// gid of the runtime inside the env.
    pub gid: u32,
    /// User name for `uid` in `/etc/passwd`.
    pub user: &'a str,
    /// Hostname inside the env.
    pub hostname: &'a str,
}

/// The prepared skeleton and what each env must bind.
#[derive(Debug)]
pub(crate) struct Rootfs {
    /// The skeleton directory.
    skel: PathBuf,
    /// Top-level host directories bound read-only into every env (e.g. `usr`).
    userland_dirs: Vec<String>,
}

fn io_err(context: String) -> impl FnOnce(io::Error) -> SandboxError {
    move |e| SandboxError::io(context, e)
}

fn mkdir(path: &Path, mode: u32) -> Result<(), SandboxError> {
    fs::DirBuilder::new()
        .mode(mode)
        .create(path)
        .map_err(io_err(format!("mkdir {}", path.display())))?;
    // Independent of the process umask.
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(io_err(format!("chmod {}", path.display())))
}

fn write(path: &Path, contents: &[u8]) -> Result<(), SandboxError> {
    fs::write(path, contents).map_err(io_err(format!("write {}", path.display())))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644))
        .map_err(io_err(format!("chmod {}", path.display())))
}

/// Copy a file, symlink or directory tree (regular files, dirs and symlinks only; no special files).
fn copy_tree(src: &Path, dst: &Path) -> Result<(), SandboxError> {
    let meta = fs::symlink_metadata(src).map_err(io_err(format!("stat {}", src.display())))?;
    let ft = meta.file_type();
    if ft.is_symlink() {
        let target = fs::read_link(src).map_err(io_err(format!("readlink {}", src.display())))?;
        symlink(&target, dst).map_err(io_err(format!("symlink {}", dst.display())))
    } else if ft.is_dir() {
        mkdir(dst, 0o755)?;
        for entry in fs::read_dir(src).map_err(io_err(format!("read {}", src.display())))? {
            let entry = entry.map_err(io_err(format!("read {}", src.display())))?;
            copy_tree(&entry.path(), &dst.join(entry.file_name()))?;
        }
        Ok(())
    } else if ft.is_file() {
        // Files the host keeps private (mode without "other" read) are not copied.
        if meta.permissions().mode() & 0o004 == 0 {
            return Ok(());
        }
        fs::copy(src, dst).map_err(io_err(format!("copy {}", src.display())))?;
        fs::set_permissions(dst, fs::Permissions::from_mode(0o644))
            .map_err(io_err(format!("chmod {}", dst.display())))
    } else {
        Ok(())
    }
}

/// A `CString` from a path (paths with NUL bytes are rejected earlier, by spec validation).
pub(crate) fn cpath(path: &Path) -> Result<CString, SandboxError> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| SandboxError::InvalidSpec(format!("path {path:?} contains a NUL byte")))
}

fn cstr(s: &str) -> CString {
    // Only called with literals and formatted numbers, which contain no NUL.
    CString::new(s).unwrap_or_default()
}

impl Rootfs {
    /// Build the skeleton at `skel` from the host's layout (replacing an old one).
    pub(crate) fn prepare(skel: &Path, id: &Identity<'_>) -> Result<Self, SandboxError> {
        if fs::symlink_metadata(skel).is_ok() {
            fs::remove_dir_all(skel).map_err(io_err(format!("remove old {}", skel.display())))?;
        }
        mkdir(skel, 0o755)?;

        let mut userland_dirs = Vec::new();
        for name in USERLAND {
            let host = Path::new("/").join(name);
            let Ok(meta) = fs::symlink_metadata(&host) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                let target =
                    fs::read_link(&host).map_err(io_err(format!("readlink {}", host.display())))?;
                symlink(&target, skel.join(name))
                    .map_err(io_err(format!("symlink {}", skel.join(name).display())))?;
            } else if meta.is_dir() {
                mkdir(&skel.join(name), 0o755)?;
                userland_dirs.push((*name).to_owned());
            }
        }
        if !userland_dirs.iter().any(|d| d == "usr") {
            return Err(SandboxError::Unsupported(
                "the host has no /usr directory to bind into environments".into(),
            ));
        }

        for dir in [
            "var",
            "var/task",
            "var/runtime",
            "opt",
            "tmp",
            "proc",
            "dev",
        ] {
            mkdir(&skel.join(dir), 0o755)?;
        }
        for dev in DEVICES {
            write(&skel.join("dev").join(dev), b"")?;
        }
        for (name, target) in [
            ("fd", "/proc/self/fd"),
            ("stdin", "/proc/self/fd/0"),
            ("stdout", "/proc/self/fd/1"),
            ("stderr", "/proc/self/fd/2"),
        ] {
            symlink(target, skel.join("dev").join(name))
                .map_err(io_err(format!("symlink dev/{name}")))?;
        }

        let etc = skel.join("etc");
        mkdir(&etc, 0o755)?;
        let files = generated_etc(id);
        for (name, contents) in &files {
            write(&etc.join(name), contents.as_bytes())?;
        }
        for name in ETC_COPIES {
            let host = Path::new("/etc").join(name);
            if fs::symlink_metadata(&host).is_err() {
                continue;
            }
            let dst = etc.join(name);
            if let Some(parent) = dst.parent() {
                if !parent.exists() {
                    mkdir(parent, 0o755)?;
                }
            }
            copy_tree(&host, &dst)?;
        }
        Ok(Rootfs {
            skel: skel.to_path_buf(),
            userland_dirs,
        })
    }

    /// The child's filesystem steps for one env, ending in `pivot_root`. `host_uid`/`host_gid`
    /// own the env's /tmp (they appear as the env's uid/gid inside).
    pub(crate) fn steps(
        &self,
        spec: &EnvSpec,
        host_uid: u32,
        host_gid: u32,
    ) -> Result<Vec<Step>, SandboxError> {
        let root = self.skel.as_path();
        let mut pre = Vec::with_capacity(40);
        let target = |rel: &str| cpath(&root.join(rel));
        let bind_ro = |pre: &mut Vec<Step>, src: &Path, rel: &str| -> Result<(), SandboxError> {
            pre.push(Step::Mount {
                src: Some(cpath(src)?),
                target: target(rel)?,
                fstype: None,
                flags: libc::MS_BIND | libc::MS_REC,
                data: None,
            });
            pre.push(Step::SetAttr {
                path: target(rel)?,
                set: ATTR_RO_NOSUID_NODEV,
                recursive: true,
            });
            Ok(())
        };

        // Nothing mounted from here on may propagate back to the host.
        pre.push(Step::Mount {
            src: None,
            target: cstr("/"),
            fstype: None,
            flags: libc::MS_REC | libc::MS_PRIVATE,
            data: None,
        });
        // The skeleton, bound onto itself, becomes the root (a mount point, as pivot_root
        // requires), read-only; every env mounts its own things on it in its own namespace.
        pre.push(Step::Mount {
            src: Some(cpath(root)?),
            target: cpath(root)?,
            fstype: None,
            flags: libc::MS_BIND,
            data: None,
        });
        pre.push(Step::SetAttr {
            path: cpath(root)?,
            set: ATTR_RO_NOSUID_NODEV,
            recursive: false,
        });
        for dir in &self.userland_dirs {
            bind_ro(&mut pre, &Path::new("/").join(dir), dir)?;
        }
        bind_ro(&mut pre, &spec.code_dir, "var/task")?;
        if let Some(layers) = &spec.layers_dir {
            bind_ro(&mut pre, layers, "opt")?;
        }
        if let Some(runtime) = &spec.runtime_dir {
            bind_ro(&mut pre, runtime, "var/runtime")?;
        }
        for dev in DEVICES {
            let rel = format!("dev/{dev}");
            pre.push(Step::Mount {
                src: Some(cpath(&Path::new("/dev").join(dev))?),
                target: target(&rel)?,
                fstype: None,
                flags: libc::MS_BIND,
                data: None,
            });
            pre.push(Step::SetAttr {
                path: target(&rel)?,
                set: ATTR_DEV_NODE,
                recursive: false,
            });
        }
        // A fresh procfs of the env's pid namespace.
        pre.push(Step::Mount {
            src: Some(cstr("proc")),
            target: target("proc")?,
            fstype: Some(cstr("proc")),
            flags: libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            data: None,
        });

        pre.extend([
            Step::Mount {
                src: Some(cstr("tmpfs")),
                target: target("tmp")?,
                fstype: Some(cstr("tmpfs")),
                flags: libc::MS_NOSUID | libc::MS_NODEV,
                data: Some(cstr(&format!(
                    "size={}m,mode=1777,uid={host_uid},gid={host_gid}",
                    spec.tmp_mb
                ))),
            },
            Step::PivotRoot {
                new_root: cpath(root)?,
            },
            Step::Chdir {
                path: cstr("/var/task"),
            },
        ]);
        Ok(pre)
    }
}

/// The generated `/etc` files.
fn generated_etc(id: &Identity<'_>) -> Vec<(&'static str, String)> {
    let resolv = fs::read_to_string("/etc/resolv.conf")
        .ok()
        .filter(|s| s.len() <= 4096 && s.contains("nameserver"))
        .unwrap_or_else(|| "nameserver 127.0.0.1\n".to_owned());
    vec![
        (
            "passwd",
            format!(
                "root:x:0:0:root:/root:/usr/sbin/nologin\n\
                 {user}:x:{uid}:{gid}::/tmp:/usr/sbin/nologin\n\
                 nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                user = id.user,
                uid = id.uid,
                gid = id.gid
            ),
        ),
        (
            "group",
            format!(
                "root:x:0:\n{user}:x:{gid}:\nnogroup:x:65534:\n",
                user = id.user,
                gid = id.gid
            ),
        ),
        (
            "hosts",
            format!(
                "127.0.0.1\tlocalhost {host}\n::1\tlocalhost ip6-localhost ip6-loopback\n",
                host = id.hostname
            ),
        ),
        ("hostname", format!("{}\n", id.hostname)),
        ("resolv.conf", resolv),
        (
            "nsswitch.conf",
            "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n\
             protocols: files\nservices: files\nethers: files\nrpc: files\n"
                .to_owned(),
        ),
    ]
}
