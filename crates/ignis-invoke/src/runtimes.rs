//! Managed runtimes on this host: which interpreters exist (discovered once at start), the command
//! that starts each runtime inside an environment, and the embedded bootstraps (stdlib-only runtime
//! clients kept under `runtimes/`) written to the read-only `/var/runtime` of every environment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::InvokeError;

/// The Python bootstrap (runtime client), embedded in the binary.
pub const PYTHON_BOOTSTRAP: &str = include_str!("../../../runtimes/python/bootstrap.py");
/// The Node.js bootstrap (runtime client), embedded in the binary.
pub const NODE_BOOTSTRAP: &str = include_str!("../../../runtimes/nodejs/bootstrap.js");

/// Interpreters found on the host.
#[derive(Debug, Clone, Default)]
pub struct HostRuntimes {
    /// `python3.11` → /usr/bin/python3.11, for each minor version present.
    python: BTreeMap<String, PathBuf>,
    /// `nodejs20.x` → /usr/bin/node.
    node: BTreeMap<String, PathBuf>,
    /// Interpreter → file name of the bootstrap compiled for it, in the runtime directory.
    compiled: BTreeMap<PathBuf, String>,
}

impl HostRuntimes {
    /// Look for Debian's interpreters under /usr/bin (never a version-manager shim).
    pub fn discover() -> Self {
        let mut found = Self::default();
        for minor in 6..=20 {
            let p = PathBuf::from(format!("/usr/bin/python3.{minor}"));
            if p.is_file() {
                found.python.insert(format!("python3.{minor}"), p);
            }
        }
        let node = Path::new("/usr/bin/node");
        if node.is_file() {
            if let Some(major) = node_major(node) {
                found
                    .node
                    .insert(format!("nodejs{major}.x"), node.to_path_buf());
            }
        }
        found
    }

    /// Runtime ids whose exact interpreter version is installed.
    pub fn exact(&self) -> Vec<String> {
        self.python
            .keys()
            .chain(self.node.keys())
            .cloned()
            .collect()
    }

    /// The interpreter serving `runtime`: the exact version if installed, else the newest of the same
    /// family (a `python3.12` function runs on the host's Python 3 when 3.12 is absent).
    fn interpreter(&self, runtime: &str) -> Option<&PathBuf> {
        let family = if runtime.starts_with("python3") {
            &self.python
        } else if runtime.starts_with("nodejs") {
            &self.node
        } else {
            return None;
        };
        family.get(runtime).or_else(|| family.values().last())
    }

    /// Whether functions of `runtime` can run here; the error names what is available.
    pub fn check_available(&self, runtime: &str) -> Result<(), String> {
        if runtime.starts_with("provided") || self.interpreter(runtime).is_some() {
            return Ok(());
        }
        let mut available = self.exact();
        available.extend(["provided.al2023", "provided.al2", "provided"].map(String::from));
        Err(format!(
            "The runtime {runtime} is not available on this Ignis server. Available runtimes: {}.",
            available.join(", ")
        ))
    }

    /// The command (argv inside the environment) that starts `runtime`.
    pub fn launch(&self, runtime: &str) -> Result<Vec<String>, InvokeError> {
        if runtime.starts_with("provided") {
            return Ok(vec!["/var/task/bootstrap".into()]);
        }
        let interp = self
            .interpreter(runtime)
            .ok_or_else(|| InvokeError::RuntimeUnavailable(runtime.to_string()))?;
        let argv = if runtime.starts_with("python") {
            // The bootstrap precompiled for this interpreter saves ~8 ms of every cold start.
            let script = match self.compiled.get(interp) {
                Some(pyc) => format!("/var/runtime/{pyc}"),
                None => "/var/runtime/bootstrap.py".into(),
            };
            vec![
                interp.display().to_string(),
                "-S".into(),
                "-u".into(),
                script,
            ]
        } else {
            vec![
                interp.display().to_string(),
                "/var/runtime/bootstrap.js".into(),
            ]
        };
        Ok(argv)
    }
}

fn node_major(node: &Path) -> Option<u32> {
    let out = std::process::Command::new(node)
        .arg("--version")
        .output()
        .ok()?;
    let v = String::from_utf8(out.stdout).ok()?;
    v.trim()
        .trim_start_matches('v')
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// Write the embedded bootstraps into `dir` (the host side of `/var/runtime`), read-only, and
/// compile the Python bootstrap once for each Python interpreter found.
pub fn install_bootstraps(dir: &Path, host: &mut HostRuntimes) -> Result<(), InvokeError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).map_err(InvokeError::io("creating runtime dir"))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .map_err(InvokeError::io("chmod runtime dir"))?;
    for (name, text) in [
        ("bootstrap.py", PYTHON_BOOTSTRAP),
        ("bootstrap.js", NODE_BOOTSTRAP),
    ] {
        let path = dir.join(name);
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, text).map_err(InvokeError::io("writing bootstrap"))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444))
            .map_err(InvokeError::io("chmod bootstrap"))?;
    }
    let interpreters: Vec<(String, PathBuf)> = host
        .python
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (runtime, interp) in interpreters {
        let name = format!("bootstrap-{runtime}.pyc");
        let target = dir.join(&name);
        let _ = std::fs::remove_file(&target);
        let status = std::process::Command::new(&interp)
            .args(["-S", "-c", "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)"])
            .arg(dir.join("bootstrap.py"))
            .arg(&target)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        if matches!(status, Ok(s) if s.success()) {
            let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o444));
            host.compiled.insert(interp, name);
        } else {
            tracing::warn!(interpreter = %interp.display(), "could not precompile the Python bootstrap");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provided_needs_no_interpreter_and_unknown_families_are_refused() {
        let host = HostRuntimes::default();
        assert!(host.check_available("provided.al2023").is_ok());
        let err = host.check_available("java21").unwrap_err();
        assert!(
            err.contains("java21") && err.contains("provided.al2023"),
            "{err}"
        );
        assert_eq!(
            host.launch("provided.al2").unwrap(),
            vec!["/var/task/bootstrap"]
        );
        assert!(host.launch("python3.12").is_err());
    }

    #[test]
    fn python_falls_back_to_the_hosts_python3() {
        let mut host = HostRuntimes::default();
        host.python
            .insert("python3.11".into(), PathBuf::from("/usr/bin/python3.11"));
        assert!(host.check_available("python3.13").is_ok());
        let argv = host.launch("python3.13").unwrap();
        assert_eq!(argv[0], "/usr/bin/python3.11");
        assert!(host.check_available("nodejs20.x").is_err());
    }
}
