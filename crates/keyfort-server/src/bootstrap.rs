//! First start and every start: the data directory, the root key, the store, the
//! default account and its root credentials.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyfort_core::clock::{Clock, SystemClock};
use keyfort_core::model::AccountId;
use keyfort_core::service::generate_access_key;
use keyfort_core::{Kms, KmsError};
use keyfort_crypto::{RootKey, SecretBytes};
use keyfort_store::SqliteStore;

/// Why keyfort could not start.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The root key could not be loaded or created.
    #[error("root key: {0}")]
    RootKey(#[source] keyfort_crypto::Error),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[source] keyfort_core::store::StoreError),
    /// The service refused a bootstrap step.
    #[error("bootstrap: {0}")]
    Kms(#[source] KmsError),
    /// The audit trail could not be opened.
    #[error("audit trail: {0}")]
    Audit(String),
    /// TLS configuration failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The configuration is not usable.
    #[error("{0}")]
    Config(String),
}

impl BootstrapError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> BootstrapError {
        BootstrapError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Root credentials created on this start (printed once by the binary).
#[derive(Debug)]
pub struct NewCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret (redacted in Debug).
    pub secret: SecretBytes,
    /// Where the credentials file was written.
    pub file: PathBuf,
}

/// An opened deployment.
pub struct Opened {
    /// The service.
    pub kms: Arc<Kms>,
    /// Credentials generated on this start, if any.
    pub new_credentials: Option<NewCredentials>,
}

/// Root credentials given through the environment.
pub struct GivenCredentials {
    /// KEYFORT_ROOT_ACCESS_KEY_ID.
    pub access_key_id: String,
    /// KEYFORT_ROOT_SECRET_ACCESS_KEY.
    pub secret: SecretBytes,
}

/// Writes a file readable only by its owner, atomically (temp file, fsync, rename).
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), BootstrapError> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| BootstrapError::io(&tmp, e))?;
    f.write_all(contents)
        .map_err(|e| BootstrapError::io(&tmp, e))?;
    f.sync_all().map_err(|e| BootstrapError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| BootstrapError::io(path, e))?;
    Ok(())
}

/// Creates the data directory (mode 0700) if needed.
pub fn ensure_data_dir(dir: &Path) -> Result<(), BootstrapError> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| BootstrapError::io(dir, e))?;
    }
    Ok(())
}

/// The SQLite database file in a data directory.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keyfort.db")
}

/// Opens (creating on first start) the deployment in `data_dir`: root key, store,
/// the default account and its root credentials.
pub fn open(
    data_dir: &Path,
    account: &AccountId,
    given: Option<GivenCredentials>,
    clock: Arc<dyn Clock>,
) -> Result<Opened, BootstrapError> {
    ensure_data_dir(data_dir)?;
    let (root, _created) =
        RootKey::load_or_create(&data_dir.join("root.key")).map_err(BootstrapError::RootKey)?;
    let store = SqliteStore::open(&database_path(data_dir)).map_err(BootstrapError::Store)?;
    let kms = Arc::new(Kms::new(Arc::new(store), root, clock));
    let created = kms.ensure_account(account).map_err(BootstrapError::Kms)?;
    let mut new_credentials = None;
    match given {
        Some(g) => match kms
            .credential(&g.access_key_id)
            .map_err(BootstrapError::Kms)?
        {
            Some(existing) if existing.secret.ct_eq(g.secret.expose()) => {}
            Some(_) => {
                return Err(BootstrapError::Config(format!(
                    "access key {} already exists with a different secret",
                    g.access_key_id
                )));
            }
            None => kms
                .add_root_access_key(account, &g.access_key_id, &g.secret)
                .map_err(BootstrapError::Kms)?,
        },
        None if created => {
            let (id, secret) = generate_access_key().map_err(BootstrapError::Kms)?;
            kms.add_root_access_key(account, &id, &secret)
                .map_err(BootstrapError::Kms)?;
            let file = data_dir.join("credentials");
            let text = zeroize::Zeroizing::new(format!(
                "[keyfort]\naws_access_key_id = {id}\naws_secret_access_key = {}\n",
                String::from_utf8_lossy(secret.expose())
            ));
            write_private_file(&file, text.as_bytes())?;
            new_credentials = Some(NewCredentials {
                access_key_id: id,
                secret,
                file,
            });
        }
        None => {}
    }
    Ok(Opened {
        kms,
        new_credentials,
    })
}

/// The audit database file in a data directory.
pub fn audit_database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("audit.db")
}

/// Opens the audit trail of a data directory and its signing key (made on first use,
/// sealed under the root key). This is the server's view: it owns the journal.
pub fn open_audit(
    data_dir: &Path,
    kms: &Kms,
) -> Result<
    (
        Arc<dyn keyfort_core::audit::AuditStore>,
        keyfort_audit::AuditSigningKey,
    ),
    BootstrapError,
> {
    let store = keyfort_store::SqliteAuditStore::open(&audit_database_path(data_dir))
        .map_err(BootstrapError::Store)?;
    with_key(Arc::new(store), kms)
}

/// Opens the audit trail for operator commands, beside a server that may be running
/// (its journal is read, never replayed or truncated).
pub fn open_audit_reader(
    data_dir: &Path,
    kms: &Kms,
) -> Result<
    (
        Arc<dyn keyfort_core::audit::AuditStore>,
        keyfort_audit::AuditSigningKey,
    ),
    BootstrapError,
> {
    let store = keyfort_store::SqliteAuditStore::open_beside_server(&audit_database_path(data_dir))
        .map_err(BootstrapError::Store)?;
    with_key(Arc::new(store), kms)
}

fn with_key(
    store: Arc<dyn keyfort_core::audit::AuditStore>,
    kms: &Kms,
) -> Result<
    (
        Arc<dyn keyfort_core::audit::AuditStore>,
        keyfort_audit::AuditSigningKey,
    ),
    BootstrapError,
> {
    let key = crate::audit::signing_key(kms, store.as_ref())
        .map_err(|e| BootstrapError::Audit(e.to_string()))?;
    Ok((store, key))
}

/// The system clock as a shared trait object.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
