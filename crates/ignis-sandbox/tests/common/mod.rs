//! Helpers shared by the sandbox integration tests: a per-test sandbox in its own temporary state
//! directory, spec builders, and output collection with timeouts.

#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ignis_sandbox::{Env, EnvSpec, ProcessSandbox, Sandbox, SandboxOptions};

/// A sandbox with its own state directory and an empty code directory; removed on drop.
pub struct Fixture {
    pub base: PathBuf,
    pub code: PathBuf,
    pub sandbox: ProcessSandbox,
    name: String,
}

impl Fixture {
    /// Default options except CPU quotas off, so that interpreters start quickly in small envs.
    pub fn new(name: &str) -> Fixture {
        Self::with_options(
            name,
            SandboxOptions {
                cpu_quota: false,
                ..SandboxOptions::default()
            },
        )
    }

    pub fn with_options(name: &str, options: SandboxOptions) -> Fixture {
        let base = std::env::temp_dir().join(format!("ignis-sbx-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let code = base.join("code");
        fs::create_dir_all(&code).unwrap();
        let sandbox = ProcessSandbox::with_options(&base.join("state"), options)
            .unwrap_or_else(|e| panic!("cannot create the sandbox (tests must run as root): {e}"));
        Fixture {
            base,
            code,
            sandbox,
            name: name.to_owned(),
        }
    }

    /// A spec with a unique id, the fixture's code dir, and generous limits.
    pub fn spec(&self, suffix: &str, argv: &[&str]) -> EnvSpec {
        EnvSpec {
            id: format!("t{}-{}-{suffix}", std::process::id(), self.name),
            code_dir: self.code.clone(),
            layers_dir: None,
            runtime_dir: None,
            argv: argv.iter().map(|s| s.to_string()).collect(),
            env: vec![
                ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
                ("LANG".into(), "C.UTF-8".into()),
            ],
            memory_mb: 256,
            tmp_mb: 64,
            pids_max: 64,
            runtime_api_port: 9001,
            init_cpu_boost: false,
        }
    }

    pub fn sh(&self, suffix: &str, script: &str) -> EnvSpec {
        self.spec(suffix, &["/bin/sh", "-c", script])
    }

    pub fn python(&self, suffix: &str, script: &str) -> EnvSpec {
        self.spec(suffix, &["/usr/bin/python3", "-S", "-c", script])
    }

    pub fn create(&self, spec: &EnvSpec) -> Env {
        self.sandbox
            .create(spec)
            .unwrap_or_else(|e| panic!("create {}: {e}", spec.id))
    }

    /// Run `spec` to completion (at most `timeout`), destroy the env, return what happened.
    pub fn run(&self, spec: &EnvSpec, timeout: Duration) -> Outcome {
        let mut env = self.create(spec);
        let out = Output::capture(&mut env);
        let status = env.wait_timeout(timeout);
        let oom = env.oom_killed();
        let max_memory = env.max_memory_bytes();
        let pids_events = read_pids_events(&env);
        self.sandbox.destroy(env).expect("destroy");
        let (stdout, stderr) = out.finish();
        Outcome {
            status,
            stdout,
            stderr,
            oom,
            max_memory,
            pids_max_events: pids_events,
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

/// The result of [`Fixture::run`].
#[derive(Debug)]
pub struct Outcome {
    /// `None` if the process had not exited within the timeout (it was then killed).
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub oom: bool,
    pub max_memory: Option<u64>,
    /// The `max` counter of the pids controller (forks refused), if readable.
    pub pids_max_events: Option<u64>,
}

impl Outcome {
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }
}

fn read_pids_events(env: &Env) -> Option<u64> {
    env.cgroup_dirs().iter().find_map(|dir| {
        let text = fs::read_to_string(dir.join("pids.events")).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("max ").and_then(|v| v.trim().parse().ok()))
    })
}

/// Reads an env's stdout and stderr on background threads.
pub struct Output {
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    threads: Vec<JoinHandle<()>>,
}

fn reader(fd: OwnedFd, buf: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut file = fs::File::from(fd);
        let mut chunk = [0u8; 8192];
        loop {
            match file.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.lock().unwrap().extend_from_slice(&chunk[..n]),
            }
        }
    })
}

impl Output {
    pub fn capture(env: &mut Env) -> Output {
        let (out, err) = env.take_output().expect("output not taken yet");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let threads = vec![reader(out, stdout.clone()), reader(err, stderr.clone())];
        Output {
            stdout,
            stderr,
            threads,
        }
    }

    pub fn stdout_now(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Wait until stdout contains `needle`; panics (with what was printed) after `timeout`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.stdout_now().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!(
            "stdout never contained {needle:?}: stdout {:?} stderr {:?}",
            self.stdout_now(),
            String::from_utf8_lossy(&self.stderr.lock().unwrap())
        );
    }

    /// Join the readers (the env must be destroyed, or its output closed) and return everything.
    pub fn finish(self) -> (String, String) {
        for t in self.threads {
            let _ = t.join();
        }
        let get =
            |b: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&b.lock().unwrap()).into_owned();
        (get(&self.stdout), get(&self.stderr))
    }
}

/// Whether a process with this pid exists on the host.
pub fn pid_exists(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

pub const SECOND: Duration = Duration::from_secs(1);
