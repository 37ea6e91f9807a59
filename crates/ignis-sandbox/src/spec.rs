//! [`EnvSpec`]: what to run in a new environment, and its validation.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::SandboxError;

/// Longest accepted environment id (it becomes a cgroup and directory name).
pub const MAX_ID_LEN: usize = 64;

/// What to run in a new environment.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvSpec {
    /// Unique id, `[a-z0-9-]` (1–64 chars, not starting with `-`); used for cgroup and directory names.
    pub id: String,
    /// Host directory with the unpacked function code, bound read-only at `/var/task`. It must be
    /// readable by the env's unprivileged uid (world-readable files, world-searchable directories).
    pub code_dir: PathBuf,
    /// Host directory with the merged layers, bound read-only at `/opt` (empty `/opt` if `None`).
    pub layers_dir: Option<PathBuf>,
    /// Host directory with the runtime bootstrap, bound read-only at `/var/runtime` (empty if `None`).
    pub runtime_dir: Option<PathBuf>,
    /// Command inside the env, e.g. `["/usr/bin/python3", "-S", "/var/runtime/bootstrap.py"]`.
    /// `argv[0]` is resolved against `PATH` from [`EnvSpec::env`] when it contains no `/`.
    pub argv: Vec<String>,
    /// Full environment of the process (nothing is inherited from the host).
    pub env: Vec<(String, String)>,
    /// Memory limit of the env's cgroup in MiB (swap is disabled where the host allows it); the CPU
    /// quota is proportional to it (1,769 MiB = 1 vCPU).
    pub memory_mb: u32,
    /// Size of the tmpfs mounted at `/tmp`, in MiB.
    pub tmp_mb: u32,
    /// Maximum number of processes and threads in the env (cgroup pids limit).
    pub pids_max: u32,
    /// Port of the Runtime API listener inside the env, bound to `127.0.0.1` there (normally 9001).
    pub runtime_api_port: u16,
    /// Run the init phase with at least one full vCPU, whatever the memory size; the caller ends
    /// the boost with [`crate::Env::end_init_boost`] once the runtime is ready.
    pub init_cpu_boost: bool,
}

impl fmt::Debug for EnvSpec {
    // Environment values may hold credentials (AWS_SECRET_ACCESS_KEY, ...): print only the names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("EnvSpec")
            .field("id", &self.id)
            .field("code_dir", &self.code_dir)
            .field("layers_dir", &self.layers_dir)
            .field("runtime_dir", &self.runtime_dir)
            .field("argv", &self.argv)
            .field("env (names only)", &env_names)
            .field("memory_mb", &self.memory_mb)
            .field("tmp_mb", &self.tmp_mb)
            .field("pids_max", &self.pids_max)
            .field("runtime_api_port", &self.runtime_api_port)
            .finish()
    }
}

impl EnvSpec {
    /// Check every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), SandboxError> {
        validate_id(&self.id)?;
        check_dir("code_dir", &self.code_dir)?;
        if let Some(dir) = &self.layers_dir {
            check_dir("layers_dir", dir)?;
        }
        if let Some(dir) = &self.runtime_dir {
            check_dir("runtime_dir", dir)?;
        }
        let bad = |msg: String| Err(SandboxError::InvalidSpec(msg));
        match self.argv.first() {
            None => return bad("argv is empty".into()),
            Some(a0) if a0.is_empty() => return bad("argv[0] is empty".into()),
            Some(_) => {}
        }
        if let Some(arg) = self.argv.iter().find(|a| a.contains('\0')) {
            return bad(format!("argv element {arg:?} contains a NUL byte"));
        }
        for (key, value) in &self.env {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return bad(format!("environment variable name {key:?} is invalid"));
            }
            if value.contains('\0') {
                return bad(format!(
                    "environment variable {key:?} has a value with a NUL byte"
                ));
            }
        }
        if self.memory_mb < 16 {
            return bad(format!(
                "memory_mb {} is below the minimum of 16",
                self.memory_mb
            ));
        }
        if u64::from(self.memory_mb) > (1 << 24) {
            return bad(format!("memory_mb {} is too large", self.memory_mb));
        }
        if self.tmp_mb == 0 {
            return bad("tmp_mb must be at least 1".into());
        }
        if self.pids_max == 0 {
            return bad("pids_max must be at least 1".into());
        }
        if self.runtime_api_port == 0 {
            return bad("runtime_api_port must not be 0".into());
        }
        Ok(())
    }
}

/// Check that `id` is usable as a cgroup and directory name: `[a-z0-9-]{1,64}`, not starting with `-`.
pub fn validate_id(id: &str) -> Result<(), SandboxError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && !id.starts_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(SandboxError::InvalidSpec(format!(
            "id {id:?} must be 1-{MAX_ID_LEN} characters of [a-z0-9-], not starting with '-'"
        )))
    }
}

fn check_dir(field: &str, path: &Path) -> Result<(), SandboxError> {
    if !path.is_absolute() {
        return Err(SandboxError::InvalidSpec(format!(
            "{field} {path:?} is not an absolute path"
        )));
    }
    if path.as_os_str().as_encoded_bytes().contains(&0) {
        return Err(SandboxError::InvalidSpec(format!(
            "{field} {path:?} contains a NUL byte"
        )));
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(SandboxError::InvalidSpec(format!(
            "{field} {path:?} is not a directory"
        ))),
        Err(e) => Err(SandboxError::InvalidSpec(format!(
            "{field} {path:?} is not accessible: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> EnvSpec {
        EnvSpec {
            id: "fn-1".into(),
            code_dir: "/".into(),
            argv: vec!["/bin/true".into()],
            memory_mb: 128,
            tmp_mb: 512,
            pids_max: 64,
            runtime_api_port: 9001,
            ..Default::default()
        }
    }

    #[test]
    fn accepts_a_good_spec() {
        good().validate().unwrap();
    }

    #[test]
    fn rejects_bad_ids() {
        for id in ["", "-x", "A", "a_b", "a/b", "..", &"a".repeat(65)] {
            let spec = EnvSpec {
                id: id.into(),
                ..good()
            };
            assert!(
                matches!(spec.validate(), Err(SandboxError::InvalidSpec(_))),
                "{id:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_fields() {
        let cases = [
            EnvSpec {
                code_dir: "relative".into(),
                ..good()
            },
            EnvSpec {
                code_dir: "/nonexistent-ignis-dir".into(),
                ..good()
            },
            EnvSpec {
                code_dir: "/etc/passwd".into(),
                ..good()
            },
            EnvSpec {
                argv: vec![],
                ..good()
            },
            EnvSpec {
                argv: vec!["a\0b".into()],
                ..good()
            },
            EnvSpec {
                env: vec![("A=B".into(), "x".into())],
                ..good()
            },
            EnvSpec {
                env: vec![("A".into(), "x\0".into())],
                ..good()
            },
            EnvSpec {
                memory_mb: 1,
                ..good()
            },
            EnvSpec {
                tmp_mb: 0,
                ..good()
            },
            EnvSpec {
                pids_max: 0,
                ..good()
            },
            EnvSpec {
                runtime_api_port: 0,
                ..good()
            },
        ];
        for spec in cases {
            assert!(
                matches!(spec.validate(), Err(SandboxError::InvalidSpec(_))),
                "{spec:?}"
            );
        }
    }

    #[test]
    fn debug_hides_env_values() {
        let spec = EnvSpec {
            env: vec![("AWS_SECRET_ACCESS_KEY".into(), "s3cr3t".into())],
            ..good()
        };
        let text = format!("{spec:?}");
        assert!(text.contains("AWS_SECRET_ACCESS_KEY"));
        assert!(!text.contains("s3cr3t"));
    }
}
