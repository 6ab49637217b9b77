//! `keyfort admin ...`: operator commands on a data directory. They work whether the
//! server is running or not: the store is SQLite in WAL mode, and the server looks up
//! an access key it has not cached in the store, so a new account's root credentials
//! work at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use keyfort_core::Kms;
use keyfort_core::model::AccountId;
use keyfort_core::service::generate_access_key;
use keyfort_crypto::RootKey;
use keyfort_server::bootstrap;

/// `keyfort admin` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Accounts of the deployment.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Integrating services that call KMS on behalf of their callers
    /// (`kms:ViaService`; see docs/rotation.md).
    #[command(subcommand)]
    Service(ServiceCommand),
}

/// `keyfort admin service` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// Register a service: requests signed by the IAM user `--user` of `--account`
    /// that name the service and a caller (headers `X-Keyfort-Via-Service` and
    /// `X-Keyfort-Caller`, both signed) are authorized as that caller with
    /// `kms:ViaService` = `<name>.<region>.amazonaws.com`. Replaces an earlier
    /// registration of the name.
    Register {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The service's name as in `alias/aws/<name>` (`s3`, `ebs`, ...).
        #[arg(long)]
        name: String,
        /// The account of the service's IAM user.
        #[arg(long)]
        account: String,
        /// The IAM user that is the service's identity (it must exist).
        #[arg(long)]
        user: String,
    },
    /// List the registered services.
    List {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// `text` (default) or `json`.
        #[arg(long, default_value = "text")]
        output: Output,
    },
    /// Remove a service's registration (its user can no longer act for others).
    Remove {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The service's name.
        #[arg(long)]
        name: String,
    },
}

/// `keyfort admin account` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AccountCommand {
    /// Create an account with root credentials (written to
    /// `<data-dir>/credentials-<account>` under profile `[keyfort-<account>]`).
    Create {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// The new account's 12-digit id [default: a random one].
        #[arg(long)]
        account_id: Option<String>,
        /// `text` (default) or `json` (account id and credentials, for scripts).
        #[arg(long, default_value = "text")]
        output: Output,
    },
    /// List the accounts.
    List {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// `text` (default) or `json`.
        #[arg(long, default_value = "text")]
        output: Output,
    },
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For scripts.
    Json,
}

fn dir(d: Option<PathBuf>) -> PathBuf {
    d.unwrap_or_else(|| keyfort_server::config::DEFAULT_DATA_DIR.into())
}

/// Opens the service of an existing data directory (never creates one: an admin
/// command on a mistyped path must not start a new deployment).
fn open(data_dir: &Path) -> anyhow::Result<Kms> {
    let db = bootstrap::database_path(data_dir);
    if !db.exists() {
        bail!(
            "{} holds no keyfort data (start `keyfort serve --data-dir {}` once first)",
            data_dir.display(),
            data_dir.display()
        );
    }
    let (root, _) = RootKey::load_or_create(&data_dir.join("root.key"))
        .with_context(|| format!("root key in {}", data_dir.display()))?;
    let store = keyfort_store::SqliteStore::open(&db)
        .with_context(|| format!("opening {}", db.display()))?;
    Ok(Kms::new(Arc::new(store), root, bootstrap::system_clock()))
}

/// A random 12-digit account id that does not start with 0.
fn random_account_id() -> anyhow::Result<AccountId> {
    let raw = keyfort_crypto::random_bytes(8).context("random account id")?;
    let mut n = [0u8; 8];
    n.copy_from_slice(raw.expose());
    let id = 100_000_000_000 + u64::from_le_bytes(n) % 900_000_000_000;
    AccountId::parse(&id.to_string()).context("generated account id")
}

/// Runs an admin command; returns the exit code.
pub fn run(cmd: AdminCommand) -> anyhow::Result<u8> {
    match cmd {
        AdminCommand::Account(AccountCommand::Create {
            data_dir,
            account_id,
            output,
        }) => {
            let data_dir = dir(data_dir);
            let kms = open(&data_dir)?;
            let account = match account_id {
                Some(a) => match AccountId::parse(&a) {
                    Some(id) => id,
                    None => bail!("--account-id {a:?} is not a 12-digit account id"),
                },
                None => random_account_id()?,
            };
            if !kms.ensure_account(&account)? {
                bail!("account {account} already exists");
            }
            let (id, secret) = generate_access_key()?;
            kms.add_root_access_key(&account, &id, &secret)?;
            let secret_text = zeroize::Zeroizing::new(
                String::from_utf8(secret.expose().to_vec()).context("generated secret")?,
            );
            let file = data_dir.join(format!("credentials-{account}"));
            let text = zeroize::Zeroizing::new(format!(
                "[keyfort-{account}]\naws_access_key_id = {id}\naws_secret_access_key = {}\n",
                secret_text.as_str()
            ));
            bootstrap::write_private_file(&file, text.as_bytes())?;
            match output {
                Output::Json => {
                    let v = serde_json::json!({
                        "AccountId": account.as_str(),
                        "Arn": format!("arn:aws:iam::{account}:root"),
                        "AccessKeyId": id,
                        "SecretAccessKey": secret_text.as_str(),
                        "CredentialsFile": file.display().to_string(),
                        "Profile": format!("keyfort-{account}"),
                    });
                    println!("{v}");
                }
                Output::Text => println!(
                    "Created account {account} with root credentials (shown once; also written to {} under profile [keyfort-{account}]):\n  aws_access_key_id = {id}\n  aws_secret_access_key = {}",
                    file.display(),
                    secret_text.as_str()
                ),
            }
            Ok(0)
        }
        AdminCommand::Account(AccountCommand::List { data_dir, output }) => {
            let kms = open(&dir(data_dir))?;
            let accounts = kms.list_accounts()?;
            match output {
                Output::Json => {
                    let list: Vec<_> = accounts
                        .iter()
                        .map(|a| {
                            serde_json::json!({
                                "AccountId": a.id.as_str(),
                                "CreatedMs": a.created_ms,
                            })
                        })
                        .collect();
                    println!("{}", serde_json::json!({ "Accounts": list }));
                }
                Output::Text => {
                    for a in &accounts {
                        println!("{}", a.id);
                    }
                }
            }
            Ok(0)
        }
        AdminCommand::Service(ServiceCommand::Register {
            data_dir,
            name,
            account,
            user,
        }) => {
            let kms = open(&dir(data_dir))?;
            let Some(account) = AccountId::parse(&account) else {
                bail!("--account {account:?} is not a 12-digit account id");
            };
            let r = kms
                .register_service(&name, &account, &user)
                .map_err(|e| anyhow::anyhow!("{}", e.client_message()))?;
            println!(
                "Registered service {} as IAM user {} of account {}: its signed requests with {} and {} act for the named caller",
                r.name,
                r.user_name,
                r.account,
                keyfort_core::service::VIA_SERVICE_HEADER,
                keyfort_core::service::CALLER_HEADER
            );
            Ok(0)
        }
        AdminCommand::Service(ServiceCommand::List { data_dir, output }) => {
            let kms = open(&dir(data_dir))?;
            let services = kms.services()?;
            match output {
                Output::Json => {
                    let list: Vec<_> = services
                        .iter()
                        .map(|s| {
                            serde_json::json!({
                                "Name": s.name,
                                "AccountId": s.account.as_str(),
                                "UserName": s.user_name,
                                "UserId": s.user_id,
                                "CreatedMs": s.created_ms,
                            })
                        })
                        .collect();
                    println!("{}", serde_json::json!({ "Services": list }));
                }
                Output::Text => {
                    for s in &services {
                        println!("{}\t{}\t{}", s.name, s.account, s.user_name);
                    }
                }
            }
            Ok(0)
        }
        AdminCommand::Service(ServiceCommand::Remove { data_dir, name }) => {
            let kms = open(&dir(data_dir))?;
            if !kms.unregister_service(&name)? {
                bail!("no service named {name:?} is registered");
            }
            println!("Removed service {name}");
            Ok(0)
        }
    }
}
