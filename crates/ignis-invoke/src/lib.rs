//! The invoke service: finds or creates an execution environment for a function version (one
//! invocation at a time per environment, warm reuse, cold start through the [`Sandbox`]), enforces
//! account and reserved concurrency, the timeout and the runtime's failures, and produces the
//! invocation's logs with AWS's START / END / REPORT lines. Event invokes go through the durable
//! queue and its pollers ([`async_invoke`]).

pub mod async_invoke;
pub mod code_cache;
mod env;
pub mod logs;
pub mod runtimes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ignis_core::model::FunctionConfig;
use ignis_sandbox::Sandbox;
use ignis_store::{ArtifactStore, AsyncQueue, MetaStore};

use crate::async_invoke::AsyncCounters;
pub use crate::async_invoke::{AsyncPollers, AsyncSettings, AsyncStats};
use crate::code_cache::CodeCache;
use crate::env::{EnvFailure, WarmEnv};
use crate::runtimes::HostRuntimes;

/// Errors of the invoke service (not function errors: those are results).
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// Concurrency limit reached; the `Reason` AWS gives.
    #[error("throttled: {0}")]
    Throttled(&'static str),
    /// The function's runtime has no interpreter on this host.
    #[error("runtime {0} is not available on this host")]
    RuntimeUnavailable(String),
    /// The sandbox could not create an environment.
    #[error("sandbox: {0}")]
    Sandbox(String),
    /// A filesystem operation failed.
    #[error("{0}: {1}")]
    Io(&'static str, std::io::Error),
    /// Anything else that is the platform's fault.
    #[error("internal: {0}")]
    Internal(String),
}

impl InvokeError {
    /// Adapter for `map_err` on io results.
    pub fn io(what: &'static str) -> impl Fn(std::io::Error) -> InvokeError {
        move |e| InvokeError::Io(what, e)
    }
}

/// Temporary credentials of an execution role, as a function's environment receives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleCredentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: String,
}

/// Mints execution-role credentials (the IAM service of the server); `None` when the role does
/// not exist, in which case the environment gets no credentials.
pub trait RoleCredentialSource: Send + Sync + 'static {
    /// Credentials of `role_arn` for `function_name`, valid for at least `min_validity_s` seconds.
    fn credentials<'a>(
        &'a self,
        role_arn: &'a str,
        function_name: &'a str,
        min_validity_s: i64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<RoleCredentials>> + Send + 'a>>;
}

/// Settings of the invoke service.
#[derive(Debug, Clone)]
pub struct InvokeConfig {
    /// Directory for runtime files and environment state.
    pub state_dir: PathBuf,
    /// Directory for unpacked code and layers: plaintext, so it belongs in memory (tmpfs) outside
    /// the data directory, readable by root only (see `ignis server --code-cache-dir`).
    pub code_cache_dir: PathBuf,
    /// Region (environment variables).
    pub region: String,
    /// Account concurrency limit.
    pub account_concurrency: u32,
    /// Idle environments are destroyed after this long.
    pub idle_timeout: Duration,
    /// Environments are destroyed after this long, busy or not (at their next release).
    pub max_env_lifetime: Duration,
    /// Time a runtime has to finish its init phase.
    pub init_timeout: Duration,
}

/// One synchronous invocation.
#[derive(Debug, Clone)]
pub struct InvokeRequest {
    /// The resolved version's configuration (with environment variables).
    pub config: FunctionConfig,
    /// The ARN the caller invoked (qualified with the alias or version if given).
    pub invoked_arn: String,
    /// Event payload.
    pub payload: Bytes,
    /// Whether the caller wants the log tail.
    pub tail: bool,
    /// Base64 client context, passed through.
    pub client_context: Option<String>,
    /// Reserved concurrency of the function, if set.
    pub reserved_concurrency: Option<u32>,
    /// Incoming X-Ray trace header, if any.
    pub trace_id: Option<String>,
    /// Request id to use (the frontend's, or an async event's across retries); fresh when `None`.
    pub request_id: Option<String>,
}

/// The result of an invocation that reached the function.
#[derive(Debug, Clone)]
pub struct InvokeResult {
    /// Request id of the invocation.
    pub request_id: String,
    /// Version that ran.
    pub executed_version: String,
    /// `Unhandled` for function errors.
    pub function_error: Option<&'static str>,
    /// Response or error payload.
    pub payload: Bytes,
    /// Base64 of the last 4 KB of the invocation's log, when asked for.
    pub log_tail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PoolKey {
    name: String,
    version: String,
    fingerprint: String,
}

impl PoolKey {
    fn of(cfg: &FunctionConfig) -> Self {
        Self {
            name: cfg.function_name.clone(),
            version: cfg.version.clone(),
            fingerprint: ignis_crypto::sha256_hex(&cfg.identity_json()),
        }
    }
}

#[derive(Default)]
struct Counts {
    per_function: HashMap<String, u32>,
    total: u32,
}

/// The invoke service of one server.
pub struct InvokeService {
    cfg: InvokeConfig,
    sandbox: Arc<dyn Sandbox>,
    meta: MetaStore,
    code: CodeCache,
    runtimes: HostRuntimes,
    idle: Mutex<HashMap<PoolKey, Vec<WarmEnv>>>,
    counts: Mutex<Counts>,
    generation: Mutex<HashMap<String, u64>>,
    seq: AtomicU64,
    /// Log store and metrics, once the server sets them ([`InvokeService::set_observer`]).
    observer: std::sync::OnceLock<logs::Observer>,
    /// Mints execution-role credentials ([`InvokeService::set_role_credentials`]).
    role_credentials: std::sync::OnceLock<Arc<dyn RoleCredentialSource>>,
    queue: AsyncQueue,
    async_counters: AsyncCounters,
}

impl std::fmt::Debug for InvokeService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvokeService").finish_non_exhaustive()
    }
}

/// Releases a concurrency slot when dropped.
struct Slot<'a> {
    svc: &'a InvokeService,
    name: String,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Ok(mut c) = self.svc.counts.lock() {
            c.total = c.total.saturating_sub(1);
            if let Some(n) = c.per_function.get_mut(&self.name) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

impl InvokeService {
    /// Start the service: install the runtime bootstraps and the background reaper.
    pub fn start(
        cfg: InvokeConfig,
        sandbox: Arc<dyn Sandbox>,
        meta: MetaStore,
        artifacts: ArtifactStore,
    ) -> Result<Arc<Self>, InvokeError> {
        let mut host = HostRuntimes::discover();
        runtimes::install_bootstraps(&cfg.state_dir.join("runtime"), &mut host)?;
        let code = CodeCache::new(&cfg.code_cache_dir, artifacts)?;
        let queue = AsyncQueue::start(meta.clone());
        let svc = Arc::new(Self {
            runtimes: host,
            cfg,
            sandbox,
            meta,
            code,
            idle: Mutex::new(HashMap::new()),
            counts: Mutex::new(Counts::default()),
            generation: Mutex::new(HashMap::new()),
            seq: AtomicU64::new(0),
            observer: std::sync::OnceLock::new(),
            role_credentials: std::sync::OnceLock::new(),
            queue,
            async_counters: AsyncCounters::default(),
        });
        let weak = Arc::downgrade(&svc);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                let Some(svc) = weak.upgrade() else { return };
                svc.reap();
            }
        });
        Ok(svc)
    }

    /// Send function logs to the log store and invocation metrics to `observer` (once, at start).
    pub fn set_observer(&self, observer: logs::Observer) {
        let _ = self.observer.set(observer);
    }

    /// Give new environments their execution role's temporary credentials from `source`.
    pub fn set_role_credentials(&self, source: Arc<dyn RoleCredentialSource>) {
        let _ = self.role_credentials.set(source);
    }

    /// Whether `runtime` can run on this host (for CreateFunction/UpdateFunctionConfiguration).
    pub fn check_runtime(&self, runtime: &str) -> Result<(), String> {
        self.runtimes.check_available(runtime)
    }

    /// Directory of the runtime bootstraps.
    fn runtime_dir(&self) -> PathBuf {
        self.cfg.state_dir.join("runtime")
    }

    fn admit(&self, name: &str, reserved: Option<u32>) -> Result<Slot<'_>, InvokeError> {
        let mut c = self
            .counts
            .lock()
            .map_err(|_| InvokeError::Internal("counts poisoned".into()))?;
        let mine = c.per_function.get(name).copied().unwrap_or(0);
        if let Some(limit) = reserved {
            if mine >= limit {
                return Err(InvokeError::Throttled(
                    "ReservedFunctionConcurrentInvocationLimitExceeded",
                ));
            }
        }
        if c.total >= self.cfg.account_concurrency {
            return Err(InvokeError::Throttled("ConcurrentInvocationLimitExceeded"));
        }
        c.total += 1;
        *c.per_function.entry(name.to_string()).or_default() += 1;
        Ok(Slot {
            svc: self,
            name: name.to_string(),
        })
    }

    fn generation_of(&self, name: &str) -> u64 {
        self.generation
            .lock()
            .map(|g| g.get(name).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Destroy every idle environment of a function (its code or configuration changed, or it was
    /// deleted); busy ones are destroyed when their invocation ends.
    pub fn retire_function(&self, name: &str) {
        if let Ok(mut g) = self.generation.lock() {
            *g.entry(name.to_string()).or_default() += 1;
        }
        let doomed: Vec<WarmEnv> = match self.idle.lock() {
            Ok(mut idle) => {
                let keys: Vec<PoolKey> = idle.keys().filter(|k| k.name == name).cloned().collect();
                keys.into_iter()
                    .filter_map(|k| idle.remove(&k))
                    .flatten()
                    .collect()
            }
            Err(_) => Vec::new(),
        };
        self.destroy_all(doomed);
    }

    fn destroy_all(&self, envs: Vec<WarmEnv>) {
        if envs.is_empty() {
            return;
        }
        let sandbox = self.sandbox.clone();
        tokio::task::spawn_blocking(move || {
            for e in envs {
                e.destroy(sandbox.as_ref());
            }
        });
    }

    fn reap(&self) {
        let now = Instant::now();
        let doomed: Vec<WarmEnv> = match self.idle.lock() {
            Ok(mut idle) => {
                let mut out = Vec::new();
                for envs in idle.values_mut() {
                    let (keep, old): (Vec<_>, Vec<_>) = envs.drain(..).partition(|e| {
                        (e.provisioned || now.duration_since(e.last_used) < self.cfg.idle_timeout)
                            && now.duration_since(e.created) < self.cfg.max_env_lifetime
                    });
                    *envs = keep;
                    out.extend(old);
                }
                idle.retain(|_, v| !v.is_empty());
                if let Some(o) = self.observer.get() {
                    let count = idle.values().map(|v| v.len() as u64).sum();
                    o.metrics.set_environments("idle", count);
                }
                out
            }
            Err(_) => Vec::new(),
        };
        self.destroy_all(doomed);
    }

    /// Provisioned concurrency: create `count` initialised environments of the version `cfg` ahead
    /// of traffic and keep them warm (exempt from idle reaping; used like any warm environment).
    /// Stops early if the function changes meanwhile. Returns how many are ready.
    pub async fn provision(&self, cfg: &FunctionConfig, count: u32) -> Result<u32, InvokeError> {
        let key = PoolKey::of(cfg);
        let generation = self.generation_of(&cfg.function_name);
        let mut ready = 0;
        for _ in 0..count {
            let env = match self.create_env(cfg, true).await? {
                Ok(env) => env,
                Err(failure) => {
                    return Err(InvokeError::Internal(format!(
                        "function initialisation failed: {}",
                        String::from_utf8_lossy(&failure.payload)
                    )))
                }
            };
            if generation != self.generation_of(&cfg.function_name) {
                self.destroy_all(vec![env]);
                break;
            }
            if let Ok(mut idle) = self.idle.lock() {
                idle.entry(key.clone()).or_default().push(env);
            }
            ready += 1;
        }
        Ok(ready)
    }

    /// Destroy every environment (server shutdown).
    pub fn shutdown(&self) {
        let all: Vec<WarmEnv> = match self.idle.lock() {
            Ok(mut idle) => idle.drain().flat_map(|(_, v)| v).collect(),
            Err(_) => Vec::new(),
        };
        for e in all {
            e.destroy(self.sandbox.as_ref());
        }
    }

    /// Run one synchronous invocation.
    pub async fn invoke(&self, req: InvokeRequest) -> Result<InvokeResult, InvokeError> {
        let cfg = &req.config;
        let metrics = self.observer.get().map(|o| o.metrics.as_ref());
        let resource = logs::resource_of(&req.invoked_arn);
        let _slot = self
            .admit(&cfg.function_name, req.reserved_concurrency)
            .inspect_err(|e| {
                if let (Some(m), InvokeError::Throttled(_)) = (metrics, e) {
                    m.record_throttle(&cfg.function_name, resource);
                }
            })?;
        let _in_flight = metrics.map(|m| m.in_flight(&cfg.function_name, resource));
        let key = PoolKey::of(cfg);
        let generation = self.generation_of(&cfg.function_name);
        let request_id = match &req.request_id {
            Some(id) => id.clone(),
            None => {
                ignis_crypto::ids::uuid_v4().map_err(|_| InvokeError::Internal("random".into()))?
            }
        };

        let warm = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.get_mut(&key).and_then(Vec::pop));
        let (mut env, init) = match warm {
            Some(env) => (env, None),
            None => {
                let t = Instant::now();
                match self.create_env(cfg, false).await? {
                    Ok(env) => {
                        let init = t.elapsed();
                        if let Some(m) = metrics {
                            m.record_init(&cfg.function_name, resource, init);
                        }
                        (env, Some(init))
                    }
                    Err(failure) => {
                        return Ok(self.init_failure(&req, &request_id, failure, t.elapsed()));
                    }
                }
            }
        };

        let outcome = env.run(&req, &request_id).await;
        let keep = outcome.env_reusable
            && generation == self.generation_of(&cfg.function_name)
            && env.created.elapsed() < self.cfg.max_env_lifetime;
        let log = logs_for(
            &req,
            &request_id,
            &outcome.output,
            outcome.duration,
            env.max_memory(),
            init,
            outcome.platform_line.as_deref(),
        );
        env.write_log(
            self.observer.get().map(|o| &o.logs),
            &self.cfg.state_dir.join("logs").join(&cfg.function_name),
            &log,
        );
        if keep {
            env.last_used = Instant::now();
            if let Ok(mut idle) = self.idle.lock() {
                idle.entry(key).or_default().push(env);
            }
        } else {
            self.destroy_all(vec![env]);
        }
        if let Some(o) = self.observer.get() {
            o.metrics.record_invoke(
                &cfg.function_name,
                resource,
                outcome.duration,
                outcome.function_error.is_some(),
            );
            let billed = logs::billed_ms(outcome.duration);
            o.meter
                .record_invoke(&cfg.function_name, billed, cfg.memory_size);
        }
        Ok(InvokeResult {
            request_id,
            executed_version: cfg.version.clone(),
            function_error: outcome.function_error,
            payload: outcome.payload,
            log_tail: req.tail.then(|| logs::tail_base64(&log)),
        })
    }

    fn init_failure(
        &self,
        req: &InvokeRequest,
        request_id: &str,
        failure: EnvFailure,
        init: Duration,
    ) -> InvokeResult {
        let log = logs_for(
            req,
            request_id,
            &failure.output,
            Duration::ZERO,
            None,
            Some(init),
            None,
        );
        if let Some(o) = self.observer.get() {
            env::write_init_failure_log(&o.logs, &req.config, &log);
            let name = &req.config.function_name;
            let resource = logs::resource_of(&req.invoked_arn);
            o.metrics.record_init(name, resource, init);
            o.metrics
                .record_invoke(name, resource, Duration::ZERO, true);
            let billed = logs::billed_ms(Duration::ZERO);
            o.meter.record_invoke(name, billed, req.config.memory_size);
        }
        InvokeResult {
            request_id: request_id.to_string(),
            executed_version: req.config.version.clone(),
            function_error: Some("Unhandled"),
            payload: failure.payload,
            log_tail: req.tail.then(|| logs::tail_base64(&log)),
        }
    }

    async fn create_env(
        &self,
        cfg: &FunctionConfig,
        provisioned: bool,
    ) -> Result<Result<WarmEnv, EnvFailure>, InvokeError> {
        let runtime = cfg
            .runtime
            .clone()
            .unwrap_or_else(|| "provided.al2023".into());
        let argv = self.runtimes.launch(&runtime)?;
        let digest = ignis_crypto::hex_of_base64_digest(&cfg.code_sha256)
            .ok_or_else(|| InvokeError::Internal("bad CodeSha256".into()))?;
        let code_dir = self.code.code_dir(&digest).await?;
        let mut layer_digests = Vec::new();
        for layer in cfg.layers.iter().flatten() {
            let (_, _, name, version) = ignis_core::arn::parse_layer_version_arn(&layer.arn)
                .map_err(|e| InvokeError::Internal(e.message))?;
            let l = self
                .meta
                .get_layer(&name, version)
                .await
                .map_err(|e| InvokeError::Internal(e.to_string()))?
                .ok_or_else(|| InvokeError::Internal(format!("layer {} is gone", layer.arn)))?;
            layer_digests.push(
                ignis_crypto::hex_of_base64_digest(&l.code_sha256)
                    .ok_or_else(|| InvokeError::Internal("bad layer digest".into()))?,
            );
        }
        let layers_dir = self.code.layers_dir(&layer_digests).await?;
        let role_credentials = match self.role_credentials.get() {
            // Environment variables cannot be refreshed: valid for the environment's whole life
            // (STS caps sessions at 12 hours).
            Some(source) => {
                let life = self.cfg.max_env_lifetime.as_secs().min(12 * 3600) as i64;
                source
                    .credentials(&cfg.role, &cfg.function_name, life)
                    .await
            }
            None => None,
        };
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        env::create(env::CreateParams {
            sandbox: self.sandbox.clone(),
            cfg,
            runtime: &runtime,
            argv,
            code_dir,
            layers_dir,
            runtime_dir: self.runtime_dir(),
            region: &self.cfg.region,
            seq,
            init_timeout: self.cfg.init_timeout,
            provisioned,
            metrics: self.observer.get().map(|o| o.metrics.clone()),
            role_credentials,
            logs: self.observer.get().map(|o| o.logs.clone()),
        })
        .await
    }
}

/// The whole log of one invocation: platform lines around the runtime's output.
fn logs_for(
    req: &InvokeRequest,
    request_id: &str,
    output: &[u8],
    duration: Duration,
    max_memory: Option<u64>,
    init: Option<Duration>,
    platform_line: Option<&str>,
) -> Vec<u8> {
    let mut log = logs::start_line(request_id, &req.config.version).into_bytes();
    log.extend_from_slice(output);
    if !output.is_empty() && !output.ends_with(b"\n") {
        log.push(b'\n');
    }
    if let Some(line) = platform_line {
        log.extend_from_slice(line.as_bytes());
    }
    log.extend_from_slice(logs::end_line(request_id).as_bytes());
    log.extend_from_slice(
        logs::report_line(
            request_id,
            duration,
            req.config.memory_size,
            max_memory,
            init,
        )
        .as_bytes(),
    );
    log
}
