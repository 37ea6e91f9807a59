//! The `ignis` binary: `ignis server` runs the whole platform on one machine with embedded storage.

mod credentials;

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
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
    /// Seconds an idle execution environment is kept warm.
    #[arg(long, env = "IGNIS_IDLE_TIMEOUT", default_value_t = 600)]
    idle_timeout: u64,
    /// Hard maximum lifetime of an execution environment, in seconds.
    #[arg(long, env = "IGNIS_MAX_ENV_LIFETIME", default_value_t = 14 * 3600)]
    max_env_lifetime: u64,
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
    let artifacts = ArtifactStore::open(&args.data_dir.join("artifacts"), root)
        .context("opening the artifact store")?;
    let principal = format!("arn:aws:iam::{}:root", args.account_id);
    credentials::ensure_admin(&meta, &args.data_dir, &principal).await?;

    let sandbox = ignis_sandbox::ProcessSandbox::new(&args.data_dir.join("sandbox"))
        .context("preparing the process sandbox (needs root or user namespaces and cgroups)")?;
    let invoke = ignis_invoke::InvokeService::start(
        ignis_invoke::InvokeConfig {
            state_dir: args.data_dir.join("worker"),
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
    let state = Arc::new(AppState::new(
        meta.clone(),
        artifacts,
        args.region.clone(),
        args.account_id.clone(),
        invoke.clone(),
    )?);
    tokio::spawn(ignis_api::lambda::concurrency::reprovision_all(
        state.clone(),
    ));
    let app = ignis_api::router(state);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    if !args.listen.ip().is_loopback() {
        tracing::warn!(
            "listening on non-loopback address {} without TLS; use only on trusted networks",
            args.listen
        );
    }
    tracing::info!(listen = %args.listen, data_dir = %args.data_dir.display(), region = %args.region, "ignis server ready");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;
    invoke.shutdown();
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
