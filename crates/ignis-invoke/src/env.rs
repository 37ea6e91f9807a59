//! One warm execution environment: a sandboxed runtime process, the Runtime API it polls, and its
//! captured output; created cold, run once per invocation, destroyed on failure, change or reaping.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ignis_core::model::FunctionConfig;
use ignis_runtime_api::{Invocation, Outcome, RuntimeApi};
use ignis_sandbox::{Env, EnvSpec, Sandbox};

use crate::logs::LogCapture;
use crate::{InvokeError, InvokeRequest};

/// Port of the Runtime API inside every environment.
pub const RUNTIME_API_PORT: u16 = 9001;
/// Most processes and threads per environment (AWS: 1,024).
const PIDS_MAX: u32 = 1024;

/// A running environment ready for (or serving) one invocation.
pub(crate) struct WarmEnv {
    env: Option<Env>,
    api: RuntimeApi,
    logs: LogCapture,
    /// When it was created.
    pub created: Instant,
    /// When it last finished an invocation.
    pub last_used: Instant,
    /// Its log stream name (`YYYY/MM/DD/[$LATEST]hex`).
    pub stream: String,
    /// Its log group (`/aws/lambda/NAME` or the function's `LoggingConfig.LogGroup`).
    pub log_group: String,
    /// When its current (or last) invocation started, ms since the epoch (START's timestamp).
    run_started_ms: i64,
    /// The function's log format and levels (`LoggingConfig`).
    log_format: crate::logs::LogFormat,
    /// Outcome of the last invocation as JSON system logs name it.
    last_status: &'static str,
    /// The stream's file, opened at the first append and kept for the env's life.
    log_file: Option<std::fs::File>,
    /// Created for provisioned concurrency: kept warm however long it idles.
    pub provisioned: bool,
    /// Server metrics (sandbox destructions, live environments).
    metrics: Option<Arc<ignis_observe::Metrics>>,
    /// The log store, whose file for this env's stream is closed when the env goes.
    log_store: Option<ignis_observe::LogStore>,
    /// Function name and `NAME:VERSION`, the labels of its provisioned-concurrency metrics.
    metric_labels: (String, String),
}

/// An environment that failed before serving: the function-error payload and what it printed.
pub(crate) struct EnvFailure {
    pub payload: Bytes,
    pub output: Vec<u8>,
}

/// What one invocation produced.
pub(crate) struct RunOutcome {
    pub payload: Bytes,
    pub function_error: Option<&'static str>,
    pub output: Vec<u8>,
    pub duration: Duration,
    pub env_reusable: bool,
    pub platform_line: Option<String>,
}

/// Inputs of [`create`].
pub(crate) struct CreateParams<'a> {
    pub sandbox: Arc<dyn Sandbox>,
    pub cfg: &'a FunctionConfig,
    pub runtime: &'a str,
    pub argv: Vec<String>,
    pub code_dir: PathBuf,
    pub layers_dir: Option<PathBuf>,
    pub runtime_dir: PathBuf,
    pub region: &'a str,
    pub seq: u64,
    pub init_timeout: Duration,
    /// Created ahead of traffic for provisioned concurrency.
    pub provisioned: bool,
    /// Server metrics (sandbox creations and destructions), if the server keeps them.
    pub metrics: Option<Arc<ignis_observe::Metrics>>,
    /// The execution role's temporary credentials, when the role exists.
    pub role_credentials: Option<crate::RoleCredentials>,
    /// The log store (the env's stream file is closed when the env is destroyed).
    pub logs: Option<ignis_observe::LogStore>,
}

/// Counts a provisioned environment as busy in the metrics until dropped.
struct ProvisionedBusy<'a> {
    metrics: &'a ignis_observe::Metrics,
    labels: &'a (String, String),
}

impl<'a> ProvisionedBusy<'a> {
    fn start(metrics: &'a ignis_observe::Metrics, labels: &'a (String, String)) -> Self {
        metrics.provisioned_busy(&labels.0, &labels.1, 1);
        Self { metrics, labels }
    }
}

impl Drop for ProvisionedBusy<'_> {
    fn drop(&mut self) {
        self.metrics
            .provisioned_busy(&self.labels.0, &self.labels.1, -1);
    }
}

/// Destroy a sandbox environment, timing it in the metrics.
fn destroy_env(sandbox: &dyn Sandbox, env: Env, metrics: Option<&ignis_observe::Metrics>) {
    let t = Instant::now();
    if let Err(e) = sandbox.destroy(env) {
        tracing::warn!(error = %e, "destroying environment failed");
    }
    if let Some(m) = metrics {
        m.record_sandbox_destroy(t.elapsed());
    }
}

fn error_json(error_type: &str, message: &str) -> Bytes {
    Bytes::from(serde_json::json!({"errorType": error_type, "errorMessage": message}).to_string())
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn log_stream_name(version: &str) -> String {
    let date = time::OffsetDateTime::now_utc();
    let suffix = ignis_crypto::random_array::<16>()
        .map(hex::encode)
        .unwrap_or_default();
    format!(
        "{:04}/{:02}/{:02}/[{version}]{suffix}",
        date.year(),
        date.month() as u8,
        date.day()
    )
}

/// The function's log group: `LoggingConfig.LogGroup`, else `/aws/lambda/NAME`.
pub(crate) fn log_group_of(cfg: &FunctionConfig) -> String {
    cfg.logging_config
        .log_group
        .clone()
        .unwrap_or_else(|| format!("/aws/lambda/{}", cfg.function_name))
}

/// Write the log of an invocation whose environment failed to initialise to a stream of its own
/// (AWS logs init failures too; there is no environment to own a stream).
pub(crate) fn write_init_failure_log(
    store: &ignis_observe::LogStore,
    cfg: &FunctionConfig,
    log: &[u8],
) {
    let stream = log_stream_name(&cfg.version);
    crate::logs::store_invocation_log(store, &log_group_of(cfg), &stream, None, log);
}

/// The environment variables AWS sets, then the function's own.
fn environment(p: &CreateParams<'_>, stream: &str) -> Vec<(String, String)> {
    let cfg = p.cfg;
    let log_group = log_group_of(cfg);
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_FUNCTION_NAME", cfg.function_name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", cfg.version.clone()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", cfg.memory_size.to_string()),
        ("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{RUNTIME_API_PORT}")),
        ("AWS_LAMBDA_LOG_GROUP_NAME", log_group),
        ("AWS_LAMBDA_LOG_STREAM_NAME", stream.to_string()),
        (
            "AWS_LAMBDA_INITIALIZATION_TYPE",
            if p.provisioned {
                "provisioned-concurrency"
            } else {
                "on-demand"
            }
            .into(),
        ),
        ("AWS_REGION", p.region.to_string()),
        ("AWS_DEFAULT_REGION", p.region.to_string()),
        ("AWS_EXECUTION_ENV", format!("AWS_Lambda_{}", p.runtime)),
        ("_HANDLER", cfg.handler.clone().unwrap_or_default()),
        ("LAMBDA_TASK_ROOT", "/var/task".into()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
        ("TZ", ":UTC".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("HOME", "/tmp".into()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
        (
            "LD_LIBRARY_PATH",
            "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib".into(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if p.runtime.starts_with("nodejs") {
        let major = p
            .runtime
            .trim_start_matches("nodejs")
            .trim_end_matches(".x");
        env.push((
            "NODE_PATH".into(),
            format!("/opt/nodejs/node{major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task"),
        ));
    }
    // LogFormat JSON: the runtime's logging library emits JSON at the application level.
    if cfg.logging_config.log_format.as_deref() == Some("JSON") {
        env.push(("AWS_LAMBDA_LOG_FORMAT".into(), "JSON".into()));
        if let Some(level) = &cfg.logging_config.application_log_level {
            env.push(("AWS_LAMBDA_LOG_LEVEL".into(), level.to_ascii_uppercase()));
        }
    }
    if let Some(c) = &p.role_credentials {
        env.push(("AWS_ACCESS_KEY_ID".into(), c.access_key_id.clone()));
        env.push(("AWS_SECRET_ACCESS_KEY".into(), c.secret_access_key.clone()));
        env.push(("AWS_SESSION_TOKEN".into(), c.session_token.clone()));
    }
    if let Some(vars) = cfg.environment.as_ref().map(|e| &e.variables) {
        for (k, v) in vars {
            env.retain(|(ek, _)| ek != k);
            env.push((k.clone(), v.clone()));
        }
    }
    env
}

/// Wait until the runtime process exits.
async fn exited(env: &mut Env) -> std::process::ExitStatus {
    loop {
        if let Some(status) = env.try_wait() {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn exit_text(status: std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (_, Some(9)) => "signal: killed".into(),
        (_, Some(sig)) => format!("signal: {sig}"),
        _ => "unknown".into(),
    }
}

/// Create and initialise an environment; `Ok(Err(..))` when the function's init failed.
pub(crate) async fn create(
    p: CreateParams<'_>,
) -> Result<Result<WarmEnv, EnvFailure>, InvokeError> {
    let stream = log_stream_name(&p.cfg.version);
    let spec = EnvSpec {
        id: format!("env-{}-{}", std::process::id(), p.seq),
        code_dir: p.code_dir.clone(),
        layers_dir: p.layers_dir.clone(),
        runtime_dir: Some(p.runtime_dir.clone()),
        argv: p.argv.clone(),
        env: environment(&p, &stream),
        memory_mb: p.cfg.memory_size,
        tmp_mb: p.cfg.ephemeral_storage.size,
        pids_max: PIDS_MAX,
        runtime_api_port: RUNTIME_API_PORT,
        // Init runs with at least one vCPU, so small functions do not pay a throttled cold start.
        init_cpu_boost: true,
    };
    let sandbox = p.sandbox.clone();
    let t = Instant::now();
    let created = tokio::task::spawn_blocking(move || sandbox.create(&spec))
        .await
        .map_err(|_| InvokeError::Internal("sandbox task failed".into()))?;
    if let Some(m) = &p.metrics {
        m.record_sandbox_create(t.elapsed(), created.is_ok());
    }
    let mut env = match created {
        Ok(env) => env,
        // The function's entry point cannot be executed (no `bootstrap`, not executable): the
        // function's fault, reported as AWS does, not a platform error.
        Err(ignis_sandbox::SandboxError::Exec { path, source }) => {
            let reason = match source.raw_os_error() {
                Some(code) if code == libc::ENOENT => "no such file or directory".to_string(),
                Some(code) if code == libc::EACCES => "permission denied".to_string(),
                _ => source.to_string(),
            };
            return Ok(Err(EnvFailure {
                payload: error_json(
                    "Runtime.InvalidEntrypoint",
                    &format!("Error: fork/exec {path}: {reason}"),
                ),
                output: Vec::new(),
            }));
        }
        Err(e) => return Err(InvokeError::Sandbox(e.to_string())),
    };
    let setup = (|| {
        let listener = env
            .take_runtime_api_listener()
            .ok_or_else(|| InvokeError::Sandbox("no runtime API listener".into()))?;
        let api =
            ignis_runtime_api::serve(listener).map_err(InvokeError::io("serving runtime API"))?;
        let (out, err) = env
            .take_output()
            .ok_or_else(|| InvokeError::Sandbox("no output pipes".into()))?;
        let logs = LogCapture::start(out, err).map_err(InvokeError::io("capturing output"))?;
        Ok::<_, InvokeError>((api, logs))
    })();
    let (api, logs) = match setup {
        Ok(x) => x,
        Err(e) => {
            destroy_env(p.sandbox.as_ref(), env, p.metrics.as_deref());
            return Err(e);
        }
    };
    let failure = tokio::select! {
        ready = api.ready() => match ready {
            Ok(()) => None,
            Err(Outcome::InitError { body, .. }) => Some(body),
            Err(_) => Some(error_json("Runtime.Unknown", "The runtime failed to start")),
        },
        status = exited(&mut env) => Some(error_json(
            "Runtime.ExitError",
            &format!("Error: Runtime exited with error: {}", exit_text(status)),
        )),
        _ = tokio::time::sleep(p.init_timeout) => Some(error_json(
            "Sandbox.Timedout",
            &format!("Error: Init timed out after {:.2} seconds", p.init_timeout.as_secs_f64()),
        )),
    };
    if let Some(payload) = failure {
        let output = logs.take();
        api.shutdown();
        let sandbox = p.sandbox.clone();
        let metrics = p.metrics.clone();
        let _ = tokio::task::spawn_blocking(move || {
            destroy_env(sandbox.as_ref(), env, metrics.as_deref())
        })
        .await;
        return Ok(Err(EnvFailure { payload, output }));
    }
    if let Err(e) = env.end_init_boost() {
        tracing::warn!(error = %e, "ending the init CPU boost failed");
    }
    let now = Instant::now();
    let metric_labels = (
        p.cfg.function_name.clone(),
        format!("{}:{}", p.cfg.function_name, p.cfg.version),
    );
    if let Some(m) = &p.metrics {
        m.add_environments("live", 1);
        if p.provisioned {
            m.provisioned_environments(&metric_labels.0, &metric_labels.1, 1);
        }
    }
    Ok(Ok(WarmEnv {
        env: Some(env),
        api,
        logs,
        created: now,
        last_used: now,
        stream,
        log_group: log_group_of(p.cfg),
        run_started_ms: 0,
        log_format: crate::logs::LogFormat::of(&p.cfg.logging_config),
        last_status: "success",
        log_file: None,
        provisioned: p.provisioned,
        metrics: p.metrics.clone(),
        log_store: p.logs.clone(),
        metric_labels,
    }))
}

impl WarmEnv {
    /// Append one invocation's log to this environment's stream file under `dir` (a page-cache
    /// write: logs are not worth an fsync on the invoke path).
    pub fn append_log(&mut self, dir: &std::path::Path, log: &[u8]) {
        use std::io::Write;
        if self.log_file.is_none() {
            let path = dir.join(self.stream.replace('/', "-"));
            self.log_file = std::fs::create_dir_all(dir)
                .and_then(|_| {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                })
                .map_err(|e| tracing::warn!(error = %e, "cannot open the log stream file"))
                .ok();
        }
        if let Some(f) = self.log_file.as_mut() {
            if let Err(e) = f.write_all(log) {
                tracing::warn!(error = %e, "cannot append to the log stream file");
            }
        }
    }

    /// Write one invocation's log to this environment's stream in the log store (one event per
    /// line; START carries the time the invocation started, the rest the time it ended), or to
    /// the stream file under `dir` when the server runs without a log store.
    pub fn write_log(
        &mut self,
        store: Option<&ignis_observe::LogStore>,
        dir: &std::path::Path,
        log: &[u8],
    ) {
        match store {
            Some(store) if self.log_format.json => {
                let now = ignis_observe::logs::store::now_ms();
                let json =
                    crate::logs::to_json_format(log, &self.log_format, self.last_status, now);
                crate::logs::store_invocation_log(
                    store,
                    &self.log_group,
                    &self.stream,
                    None,
                    &json,
                );
            }
            Some(store) => {
                let started = (self.run_started_ms > 0).then_some(self.run_started_ms);
                crate::logs::store_invocation_log(
                    store,
                    &self.log_group,
                    &self.stream,
                    started,
                    log,
                );
            }
            None => self.append_log(dir, log),
        }
    }

    /// Peak memory of the environment.
    pub fn max_memory(&self) -> Option<u64> {
        self.env.as_ref().and_then(Env::max_memory_bytes)
    }

    /// Run one invocation to its outcome.
    pub async fn run(&mut self, req: &InvokeRequest, request_id: &str) -> RunOutcome {
        let timeout = Duration::from_secs(u64::from(req.config.timeout));
        let inv = Invocation {
            request_id: request_id.to_string(),
            deadline_ms: epoch_ms() + timeout.as_millis() as u64,
            invoked_function_arn: req.invoked_arn.clone(),
            trace_id: req.trace_id.clone().unwrap_or_else(|| trace_id(request_id)),
            client_context: req.client_context.clone(),
            cognito_identity: None,
            payload: req.payload.clone(),
        };
        let start = Instant::now();
        self.run_started_ms = epoch_ms() as i64;
        let Some(env) = self.env.as_mut() else {
            return self.failed("Runtime.Unknown", "environment already destroyed", start);
        };
        let busy = self
            .metrics
            .as_ref()
            .filter(|_| self.provisioned)
            .map(|m| ProvisionedBusy::start(m, &self.metric_labels));
        let result = tokio::select! {
            r = tokio::time::timeout(timeout, self.api.invoke(inv)) => Ok(r),
            status = exited(env) => Err(status),
        };
        drop(busy);
        let duration = start.elapsed();
        let mut out = RunOutcome {
            payload: Bytes::new(),
            function_error: None,
            output: Vec::new(),
            duration,
            env_reusable: true,
            platform_line: None,
        };
        match result {
            Ok(Ok(Ok(Outcome::Response(p)))) => out.payload = p,
            Ok(Ok(Ok(Outcome::Error { body, .. }))) => {
                out.payload = body;
                out.function_error = Some("Unhandled");
            }
            Ok(Ok(Ok(Outcome::InitError { body, .. }))) => {
                out.payload = body;
                out.function_error = Some("Unhandled");
                out.env_reusable = false;
            }
            Ok(Ok(Ok(Outcome::ResponseTooLarge))) => {
                out.payload = error_json(
                    "Function.ResponseSizeTooLarge",
                    "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
                );
                out.function_error = Some("Unhandled");
            }
            Ok(Ok(Err(e))) => {
                out.payload = error_json(
                    "Runtime.Unknown",
                    &format!("RequestId: {request_id} Error: {e}"),
                );
                out.function_error = Some("Unhandled");
                out.env_reusable = false;
            }
            Ok(Err(_elapsed)) => {
                let secs = format!("{:.2}", timeout.as_secs_f64());
                out.payload = error_json(
                    "Sandbox.Timedout",
                    &format!("RequestId: {request_id} Error: Task timed out after {secs} seconds"),
                );
                out.function_error = Some("Unhandled");
                out.env_reusable = false;
                out.platform_line = Some(format!(
                    "{} {request_id} Task timed out after {secs} seconds\n",
                    now_rfc3339()
                ));
            }
            Err(status) => {
                let oom = env.oom_killed();
                let (kind, text) = if oom {
                    ("Runtime.OutOfMemory", "signal: killed".to_string())
                } else {
                    ("Runtime.ExitError", exit_text(status))
                };
                out.payload = error_json(
                    kind,
                    &format!("RequestId: {request_id} Error: Runtime exited with error: {text}"),
                );
                out.function_error = Some("Unhandled");
                out.env_reusable = false;
                out.platform_line = Some(format!(
                    "{} {request_id} Error: Runtime exited with error: {text}\nRuntime.{}\n",
                    now_rfc3339(),
                    if oom { "OutOfMemory" } else { "ExitError" }
                ));
            }
        }
        out.output = self.logs.take();
        self.last_status = match (&out.platform_line, out.function_error) {
            (Some(line), _) if line.contains("Task timed out") => "timeout",
            (Some(_), _) => "failure",
            (None, Some(_)) => "error",
            (None, None) => "success",
        };
        out
    }

    fn failed(&self, kind: &str, message: &str, start: Instant) -> RunOutcome {
        RunOutcome {
            payload: error_json(kind, message),
            function_error: Some("Unhandled"),
            output: Vec::new(),
            duration: start.elapsed(),
            env_reusable: false,
            platform_line: None,
        }
    }

    /// Kill and remove the environment.
    pub fn destroy(mut self, sandbox: &dyn Sandbox) {
        self.api.shutdown();
        if let Some(store) = &self.log_store {
            store.close_stream(&self.log_group, &self.stream);
        }
        if let Some(env) = self.env.take() {
            destroy_env(sandbox, env, self.metrics.as_deref());
            if let Some(m) = &self.metrics {
                m.add_environments("live", -1);
                if self.provisioned {
                    m.provisioned_environments(&self.metric_labels.0, &self.metric_labels.1, -1);
                }
            }
        }
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// An X-Ray trace header for an invocation without one.
fn trace_id(request_id: &str) -> String {
    let secs = epoch_ms() / 1000;
    let hex: String = request_id.chars().filter(|c| *c != '-').take(24).collect();
    format!(
        "Root=1-{secs:08x}-{hex};Parent={};Sampled=0",
        &hex[..16.min(hex.len())]
    )
}
