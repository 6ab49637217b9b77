//! The keyfort binary: `keyfort serve` runs the service.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod admin_cmd;
mod audit_cmd;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use keyfort_core::model::AccountId;
use keyfort_crypto::SecretBytes;
use keyfort_server::bootstrap::{self, GivenCredentials};
use keyfort_server::config::{self, Config, FileConfig, TlsSource};

/// mimalloc instead of glibc malloc: the request path allocates many small, short-lived
/// buffers, often freed on another thread than the one that made them (the audit
/// writer frees what request tasks built), where glibc takes an arena lock.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// keyfort: a key management service that speaks the AWS KMS API.
#[derive(Debug, Parser)]
#[command(name = "keyfort", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Read and check the audit trail.
    #[command(subcommand)]
    Audit(audit_cmd::AuditCommand),
    /// Operator commands: accounts.
    #[command(subcommand)]
    Admin(admin_cmd::AdminCommand),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:4599].
    #[arg(long, env = "KEYFORT_LISTEN")]
    listen: Option<String>,
    /// Data directory [default: ./keyfort-data].
    #[arg(long, env = "KEYFORT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// The default account's id [default: 111122223333].
    #[arg(long, env = "KEYFORT_ACCOUNT_ID")]
    account_id: Option<String>,
    /// A TOML file with further settings (flags win over environment over file).
    #[arg(long, env = "KEYFORT_CONFIG")]
    config: Option<PathBuf>,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "KEYFORT_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "KEYFORT_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve TLS with a self-signed certificate kept in the data directory.
    #[arg(long, env = "KEYFORT_TLS_SELF_SIGNED", conflicts_with = "tls_cert")]
    tls_self_signed: bool,
    /// A region to serve (repeatable); by default any well-formed region.
    #[arg(long = "region")]
    regions: Vec<String>,
    /// Run without the audit trail. Only for measuring what the trail costs: requests
    /// are then not recorded anywhere.
    #[arg(long)]
    no_audit: bool,
}

impl ServeArgs {
    /// Merges flags, environment (already folded in by clap) and the file into a
    /// validated configuration.
    fn into_config(self) -> anyhow::Result<Config> {
        let file: FileConfig = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let listen = self
            .listen
            .or(file.listen)
            .unwrap_or_else(|| config::DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen.parse().with_context(|| {
            format!("--listen {listen:?} is not an address such as 127.0.0.1:4599")
        })?;
        let account = self
            .account_id
            .or(file.account_id)
            .unwrap_or_else(|| config::DEFAULT_ACCOUNT.to_owned());
        let Some(account_id) = AccountId::parse(&account) else {
            bail!("--account-id {account:?} is not a 12-digit account id");
        };
        let tls = match (
            self.tls_cert.or(file.tls_cert),
            self.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => TlsSource::Files { cert, key },
            (None, None) if self.tls_self_signed || file.tls_self_signed.unwrap_or(false) => {
                TlsSource::SelfSigned
            }
            (None, None) => TlsSource::None,
            _ => bail!("--tls-cert and --tls-key go together"),
        };
        if tls == TlsSource::None && !listen.ip().is_loopback() {
            bail!(
                "refusing to listen on {listen} without TLS: plain HTTP is only allowed on loopback. \
                 Give --tls-cert/--tls-key or --tls-self-signed."
            );
        }
        let regions = if self.regions.is_empty() {
            file.regions.unwrap_or_default()
        } else {
            self.regions
        };
        if let Some(bad) = regions.iter().find(|r| !keyfort_core::arn::is_region(r)) {
            bail!("{bad:?} is not a region name such as us-east-1");
        }
        let mut config = Config::for_tests(
            self.data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| config::DEFAULT_DATA_DIR.into()),
        );
        config.listen = listen;
        config.account_id = account_id;
        config.tls = tls;
        config.regions = regions;
        if let Some(n) = file.max_body_bytes {
            config.max_body_bytes = n;
        }
        if let Some(s) = file.audit_digest_seconds {
            config.audit_digest_interval = std::time::Duration::from_secs(s.max(1));
        }
        if let Some(s) = file.deletion_check_seconds {
            config.deletion_interval = std::time::Duration::from_secs(s.max(1));
        }
        Ok(config)
    }
}

fn given_credentials() -> anyhow::Result<Option<GivenCredentials>> {
    let id = std::env::var("KEYFORT_ROOT_ACCESS_KEY_ID").ok();
    let secret = std::env::var("KEYFORT_ROOT_SECRET_ACCESS_KEY").ok();
    match (id, secret) {
        (Some(access_key_id), Some(secret)) => Ok(Some(GivenCredentials {
            access_key_id,
            secret: SecretBytes::new(secret.into_bytes()),
        })),
        (None, None) => Ok(None),
        _ => bail!(
            "set both KEYFORT_ROOT_ACCESS_KEY_ID and KEYFORT_ROOT_SECRET_ACCESS_KEY, or neither"
        ),
    }
}

/// Registers for SIGINT and SIGTERM at once (so a signal that arrives while starting is
/// not lost to the default action) and returns a future that completes on either.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down: no new connections, finishing requests in flight");
    })
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let shutdown = shutdown_signal()?;
    let no_audit = args.no_audit;
    let config = args.into_config()?;
    let given = given_credentials()?;
    let data_dir = config.data_dir.clone();
    let account = config.account_id.clone();
    let opened = tokio::task::spawn_blocking(move || {
        bootstrap::open(&data_dir, &account, given, bootstrap::system_clock())
    })
    .await
    .context("bootstrap task")??;
    let audit = if no_audit {
        tracing::warn!("running WITHOUT the audit trail (--no-audit): requests are not recorded");
        None
    } else {
        let data_dir = config.data_dir.clone();
        let kms = Arc::clone(&opened.kms);
        let (audit_store, audit_key) =
            tokio::task::spawn_blocking(move || bootstrap::open_audit(&data_dir, &kms))
                .await
                .context("audit task")??;
        Some(keyfort_server::audit::AuditLog::start(
            audit_store,
            audit_key,
            config.audit_digest_interval,
        )?)
    };
    if let Some(c) = &opened.new_credentials {
        println!(
            "Created account {} with root credentials (shown once; also written to {} under profile [keyfort]):\n  aws_access_key_id = {}\n  aws_secret_access_key = {}",
            config.account_id,
            c.file.display(),
            c.access_key_id,
            String::from_utf8_lossy(c.secret.expose())
        );
    }
    let mut hostnames = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if !config.listen.ip().is_unspecified() {
        hostnames.push(config.listen.ip().to_string());
    }
    let tls = keyfort_server::tls::server_config(&config.tls, &config.data_dir, &hostnames)?;
    let (tls, printed) = match tls {
        Some((c, p)) => (Some(c), p),
        None => (None, None),
    };
    if let Some(path) = printed {
        println!(
            "Self-signed TLS certificate; give it to the AWS SDKs and CLI with:\n  export AWS_CA_BUNDLE={}",
            path.display()
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!(
        "keyfort listening on {scheme}://{addr} (data in {})",
        config.data_dir.display()
    );
    tracing::info!(%addr, "listening");
    let audit_for_shutdown = audit.clone();
    let jobs = tokio::spawn(keyfort_server::jobs::deletion_loop(
        Arc::clone(&opened.kms),
        audit.clone(),
        config.deletion_interval,
    ));
    // Rotation and imported-material expiry run on the same tick as deletion.
    let rotation_job = tokio::spawn(keyfort_server::jobs::rotation_loop(
        Arc::clone(&opened.kms),
        audit.clone(),
        config.deletion_interval,
    ));
    let state = Arc::new(keyfort_server::AppState {
        audit,
        ..keyfort_server::AppState::new(Arc::clone(&opened.kms), config)
    });
    keyfort_server::serve(listener, state, tls, shutdown).await?;
    jobs.abort();
    rotation_job.abort();
    if let Some(audit) = &audit_for_shutdown {
        // Move the journal's records into the database before exiting.
        if let Err(e) = audit.store().maintain() {
            tracing::warn!(error = %e, "audit trail not flushed at shutdown (the journal keeps it)");
        }
    }
    drop(opened);
    tracing::info!("stopped");
    Ok(())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keyfort: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)).map(|()| 0),
        Command::Audit(cmd) => {
            runtime.block_on(async { tokio::task::block_in_place(|| audit_cmd::run(cmd)) })
        }
        Command::Admin(cmd) => {
            runtime.block_on(async { tokio::task::block_in_place(|| admin_cmd::run(cmd)) })
        }
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("keyfort: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
