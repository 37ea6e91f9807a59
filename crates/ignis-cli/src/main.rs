//! The `ignis` binary: `ignis server` runs the whole platform on one machine with embedded storage.

mod credentials;
mod usage;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ignis_api::AppState;
use ignis_crypto::RootKey;
use ignis_store::{ArtifactStore, MetaStore};

#[derive(Parser, Debug)]
#[command(
    name = "ignis",
    version,
    about = "Self-hosted serverless functions, AWS Lambda compatible"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the API server with embedded storage (SQLite + local encrypted artifacts).
    Server(ServerArgs),
    /// Audit trail tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The configuration history of a function (every change, kept after deletion).
    History {
        /// Function name (or a layer version ARN with --layer).
        name: String,
        /// NAME is a layer version ARN.
        #[arg(long)]
        layer: bool,
        /// Print the configuration items as JSON.
        #[arg(long)]
        json: bool,
        /// The server's data directory.
        #[arg(long, env = "IGNIS_DATA_DIR", default_value = "./ignis-data")]
        data_dir: PathBuf,
    },
    /// A month's bill from metered usage (requests, GB-seconds; free tier applied).
    Usage(usage::UsageArgs),
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Check the audit trail's hash chain and signed digests; exit 1 and name the first tampered
    /// record if anything was altered, removed or re-signed.
    Verify {
        /// The server's data directory.
        #[arg(long, env = "IGNIS_DATA_DIR", default_value = "./ignis-data")]
        data_dir: PathBuf,
        /// The digest public key (hex) printed at server start; default: the one in the trail.
        #[arg(long)]
        public_key: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "IGNIS_LISTEN", default_value = "127.0.0.1:9001")]
    listen: SocketAddr,
    /// Directory holding the database, artifacts, root key and admin credentials.
    #[arg(long, env = "IGNIS_DATA_DIR", default_value = "./ignis-data")]
    data_dir: PathBuf,
    /// Region reported in ARNs.
    #[arg(long, env = "IGNIS_REGION", default_value = "us-east-1")]
    region: String,
    /// Account id reported in ARNs.
    #[arg(long, env = "IGNIS_ACCOUNT_ID", default_value = "000000000000")]
    account_id: String,
    /// Concurrent executions allowed in the account.
    #[arg(long, env = "IGNIS_ACCOUNT_CONCURRENCY", default_value_t = 1000)]
    account_concurrency: u32,
    /// Asynchronous invocation: delay before the first retry after a function error, in
    /// milliseconds (the second waits twice as long; throttle backoff scales with it). AWS: 60000.
    #[arg(long, env = "IGNIS_ASYNC_RETRY_BASE_MS", default_value_t = 60_000)]
    async_retry_base_ms: u64,
    /// Asynchronous invocation: most events processed at once.
    #[arg(long, env = "IGNIS_ASYNC_CONCURRENCY", default_value_t = 64)]
    async_concurrency: usize,
    /// Asynchronous invocation: milliseconds that one second of MaximumEventAgeInSeconds lasts
    /// (1000; lower only to test event expiry quickly).
    #[arg(long, env = "IGNIS_ASYNC_EVENT_AGE_UNIT_MS", default_value_t = 1000)]
    async_event_age_unit_ms: u64,
    /// Seconds an idle execution environment is kept warm.
    #[arg(long, env = "IGNIS_IDLE_TIMEOUT", default_value_t = 600)]
    idle_timeout: u64,
    /// Hard maximum lifetime of an execution environment, in seconds.
    #[arg(long, env = "IGNIS_MAX_ENV_LIFETIME", default_value_t = 14 * 3600)]
    max_env_lifetime: u64,
    /// Most megabytes of function logs kept per log group (the oldest are dropped beyond it).
    #[arg(long, env = "IGNIS_LOG_GROUP_MAX_MB", default_value_t = 256)]
    log_group_max_mb: u64,
    /// Directory for unpacked function code (plaintext; default: a root-only directory on /dev/shm,
    /// outside the data dir).
    #[arg(long, env = "IGNIS_CODE_CACHE_DIR")]
    code_cache_dir: Option<PathBuf>,
    /// Seconds between signed digests of the audit trail (CloudTrail: one hour).
    #[arg(long, env = "IGNIS_AUDIT_DIGEST_INTERVAL", default_value_t = 3600)]
    audit_digest_interval: u64,
    /// Serve HTTPS with a self-signed certificate kept in DATA_DIR/tls (generated on first start;
    /// its SHA-256 fingerprint is printed at start).
    #[arg(
        long,
        env = "IGNIS_TLS",
        conflicts_with = "tls_cert",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    tls: bool,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, env = "IGNIS_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "IGNIS_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Refuse CreateFunction/UpdateFunctionConfiguration with a role that does not exist in IAM or
    /// does not trust lambda.amazonaws.com (as AWS does); off by default for compatibility.
    #[arg(
        long,
        env = "IGNIS_STRICT_ROLES",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    strict_roles: bool,
    /// Seconds between flushes of usage metering to the database (a crash loses at most this).
    #[arg(long, env = "IGNIS_USAGE_FLUSH_INTERVAL", default_value_t = 5)]
    usage_flush_interval: u64,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("IGNIS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match cli.command {
        Command::Server(args) => runtime.block_on(server(args)),
        Command::Audit(AuditCommand::Verify {
            data_dir,
            public_key,
        }) => audit_verify(&data_dir, public_key.as_deref()),
        Command::History {
            name,
            layer,
            json,
            data_dir,
        } => history(&data_dir, &name, layer, json),
        Command::Usage(args) => runtime.block_on(usage::run(args)),
    }
}

fn audit_verify(data_dir: &Path, public_key: Option<&str>) -> anyhow::Result<()> {
    let dir = data_dir.join("audit");
    let report = ignis_audit::verify(&dir, public_key)
        .with_context(|| format!("reading the audit trail in {}", dir.display()))?;
    println!(
        "records: {}  digests: {}  records after the last digest: {}",
        report.records, report.digests, report.undigested
    );
    if report.ok() {
        println!("audit trail intact");
        return Ok(());
    }
    for p in &report.problems {
        println!("TAMPERED: {p}");
    }
    std::process::exit(1);
}

fn history(data_dir: &Path, name: &str, layer: bool, as_json: bool) -> anyhow::Result<()> {
    let history = ignis_audit::ConfigHistory::open(&data_dir.join("history"))?;
    let kind = if layer {
        "AWS::Lambda::LayerVersion"
    } else {
        "AWS::Lambda::Function"
    };
    let items = history.items(kind, name)?;
    anyhow::ensure!(
        !items.is_empty(),
        "no configuration history for {kind} {name}"
    );
    if as_json {
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    println!(
        "{:<4} {:<22} {:<19} {:<46} REVISION / CODE",
        "#", "CAPTURED (UTC)", "STATUS", "EVENT"
    );
    for item in &items {
        let cfg: serde_json::Value = item
            .configuration
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or_default();
        let captured =
            time::OffsetDateTime::from_unix_timestamp(item.configuration_item_capture_time as i64)
                .map(ignis_audit::trail_time)
                .unwrap_or_default();
        println!(
            "{:<4} {:<22} {:<19} {:<46} {} {}",
            item.configuration_state_id,
            captured,
            item.configuration_item_status,
            item.related_events
                .first()
                .map(String::as_str)
                .unwrap_or(""),
            cfg.get("RevisionId")
                .and_then(|v| v.as_str())
                .unwrap_or("-"),
            cfg.get("CodeSha256").and_then(|v| v.as_str()).unwrap_or("")
        );
    }
    Ok(())
}

/// Where unpacked code lives: `--code-cache-dir`, else a root-only directory on the memory-backed
/// /dev/shm (named after the data dir, so restarts reuse it), else the system temp dir. Never inside
/// the data dir: the data dir holds only ciphertext of customer code.
fn code_cache_dir(args: &ServerArgs) -> anyhow::Result<PathBuf> {
    let dir = match &args.code_cache_dir {
        Some(d) => d.clone(),
        None => {
            let data =
                std::fs::canonicalize(&args.data_dir).unwrap_or_else(|_| args.data_dir.clone());
            let id = &ignis_crypto::sha256_hex(data.as_os_str().as_encoded_bytes())[..16];
            let shm = Path::new("/dev/shm");
            let base = if shm.is_dir() {
                shm.to_path_buf()
            } else {
                std::env::temp_dir()
            };
            base.join(format!("ignis-code-{id}"))
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", dir.display()))?;
    Ok(dir)
}

/// Execution-role credentials for environments, minted by the server's IAM service.
struct RoleCredentialsFromIam(std::sync::Weak<AppState>);

impl ignis_invoke::RoleCredentialSource for RoleCredentialsFromIam {
    fn credentials<'a>(
        &'a self,
        role_arn: &'a str,
        function_name: &'a str,
        min_validity_s: i64,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Option<ignis_invoke::RoleCredentials>> + Send + 'a>,
    > {
        Box::pin(async move {
            let state = self.0.upgrade()?;
            let c = ignis_api::identity::issue_role_credentials(
                &state,
                role_arn,
                function_name,
                min_validity_s,
            )
            .await
            .ok()??;
            Some(ignis_invoke::RoleCredentials {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                session_token: c.session_token,
            })
        })
    }
}

fn check_args(args: &ServerArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.account_id.len() == 12 && args.account_id.bytes().all(|b| b.is_ascii_digit()),
        "--account-id must be 12 digits"
    );
    anyhow::ensure!(
        !args.region.is_empty()
            && args
                .region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "--region must look like us-east-1"
    );
    Ok(())
}

fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("restricting {}", dir.display()))?;
    Ok(())
}

async fn server(args: ServerArgs) -> anyhow::Result<()> {
    check_args(&args)?;
    prepare_data_dir(&args.data_dir)?;
    let root = Arc::new(
        RootKey::load_or_create(&args.data_dir.join("root.key")).context("loading the root key")?,
    );
    let meta = MetaStore::open_sqlite(&args.data_dir.join("meta.db"), root.clone())
        .await
        .context("opening the metadata store")?;
    let trail = Arc::new(
        ignis_audit::AuditTrail::open(
            ignis_audit::TrailConfig {
                dir: args.data_dir.join("audit"),
                digest_interval: std::time::Duration::from_secs(args.audit_digest_interval.max(1)),
            },
            &root,
        )
        .context("opening the audit trail")?,
    );
    tracing::info!(public_key = %trail.public_key_hex(), "audit trail digests are signed with this Ed25519 key");
    let artifacts = ArtifactStore::open(&args.data_dir.join("artifacts"), root.clone())
        .context("opening the artifact store")?;
    let principal = format!("arn:aws:iam::{}:root", args.account_id);
    credentials::ensure_admin(&meta, &args.data_dir, &principal).await?;

    let sandbox = ignis_sandbox::ProcessSandbox::new(&args.data_dir.join("sandbox"))
        .context("preparing the process sandbox (needs root or user namespaces and cgroups)")?;
    let invoke = ignis_invoke::InvokeService::start(
        ignis_invoke::InvokeConfig {
            state_dir: args.data_dir.join("worker"),
            code_cache_dir: code_cache_dir(&args)?,
            region: args.region.clone(),
            account_concurrency: args.account_concurrency,
            idle_timeout: std::time::Duration::from_secs(args.idle_timeout),
            max_env_lifetime: std::time::Duration::from_secs(args.max_env_lifetime),
            init_timeout: std::time::Duration::from_secs(10),
        },
        Arc::new(sandbox),
        meta.clone(),
        artifacts.clone(),
    )
    .context("starting the invoke service")?;
    let mut log_cfg = ignis_observe::LogStoreConfig::new(args.data_dir.join("logs"));
    log_cfg.sealer = Some(root.clone());
    log_cfg.max_group_bytes = args.log_group_max_mb.max(1).saturating_mul(1 << 20);
    let log_store = ignis_observe::LogStore::open(log_cfg).context("opening the log store")?;
    // Buffered log writes reach their files within a second; retention is enforced as often.
    log_store.spawn_sweeper(std::time::Duration::from_secs(1));
    let metrics = Arc::new(ignis_observe::Metrics::new());
    let meter = Arc::new(ignis_observe::metering::Meter::new(args.account_id.clone()));
    let meter_flusher = meter.spawn_flusher(
        meta.clone(),
        std::time::Duration::from_secs(args.usage_flush_interval.max(1)),
    );
    invoke.set_observer(ignis_invoke::logs::Observer {
        logs: log_store.clone(),
        metrics: metrics.clone(),
        meter: meter.clone(),
    });
    let state = Arc::new(
        AppState::new(
            meta.clone(),
            artifacts,
            args.region.clone(),
            args.account_id.clone(),
            invoke.clone(),
        )?
        .with_observe(
            ignis_observe::LogsApi::new(
                log_store.clone(),
                args.region.clone(),
                args.account_id.clone(),
            ),
            metrics,
        )
        .with_audit(
            trail.clone(),
            Arc::new(
                ignis_audit::ConfigHistory::open(&args.data_dir.join("history"))
                    .context("opening the configuration history")?,
            ),
        ),
    );
    state.iam.set_strict_roles(args.strict_roles);
    tokio::spawn(ignis_api::lambda::concurrency::reprovision_all(
        state.clone(),
    ));
    let mut async_settings = ignis_invoke::AsyncSettings::new(args.account_id.clone());
    async_settings.retry_base = std::time::Duration::from_millis(args.async_retry_base_ms.max(1));
    async_settings.max_in_flight = args.async_concurrency.max(1);
    async_settings.event_age_unit =
        std::time::Duration::from_millis(args.async_event_age_unit_ms.max(1));
    let pollers = invoke
        .start_pollers(async_settings)
        .await
        .context("starting the asynchronous invocation pollers")?;
    invoke.set_role_credentials(Arc::new(RoleCredentialsFromIam(Arc::downgrade(&state))));
    state
        .kms
        .keyring()
        .set_observer(Arc::new(ignis_api::services::kms::KeyUseAudit::new(
            trail.clone(),
            &args.region,
            &args.account_id,
        )));
    let app = ignis_api::router(state)
        .into_make_service_with_connect_info::<ignis_api::listener::PeerAddr>();
    let tcp = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ignis_api::listener::CertSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ if args.tls => Some(ignis_api::listener::CertSource::SelfSigned {
            dir: args.data_dir.join("tls"),
            listen: args.listen,
        }),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(listen = %args.listen, scheme, data_dir = %args.data_dir.display(), region = %args.region, "ignis server ready");
    match tls {
        Some(source) => {
            let (config, fingerprint) = ignis_api::listener::server_config(&source)?;
            tracing::info!(sha256_fingerprint = %fingerprint, "TLS certificate");
            let listener =
                ignis_api::listener::TlsListener::new(tcp, config).context("starting TLS")?;
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .context("serving")?;
        }
        None => {
            if !args.listen.ip().is_loopback() {
                tracing::warn!(
                    "listening on non-loopback address {} without TLS; use only on trusted networks (see --tls)",
                    args.listen
                );
            }
            let listener = ignis_api::listener::PlainListener(tcp);
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .context("serving")?;
        }
    }
    pollers.shutdown().await;
    invoke.shutdown();
    log_store.flush();
    meter_flusher.stop().await;
    trail.close().await;
    meta.close().await;
    tracing::info!("ignis server stopped");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutdown requested; draining in-flight requests");
}
