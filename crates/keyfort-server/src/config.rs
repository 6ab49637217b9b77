//! Validated server configuration. The binary turns flags, environment and the TOML
//! file into this (flags win over environment over file).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use keyfort_core::model::AccountId;
use serde::Deserialize;

/// The default listen address: loopback, port 4599.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4599";
/// The default data directory.
pub const DEFAULT_DATA_DIR: &str = "keyfort-data";
/// The default account.
pub const DEFAULT_ACCOUNT: &str = "111122223333";
/// The largest request body accepted (bytes). The largest KMS request is a PutKeyPolicy
/// with a 131,072-character policy, which JSON escaping can at most sextuple.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Where TLS comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// Plain HTTP (only allowed on loopback).
    None,
    /// A PEM certificate chain and private key.
    Files {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
    /// A self-signed certificate kept in the data directory.
    SelfSigned,
}

/// Settings that may come from the TOML file (`--config`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Listen address.
    pub listen: Option<String>,
    /// Data directory.
    pub data_dir: Option<PathBuf>,
    /// Default account id.
    pub account_id: Option<String>,
    /// TLS certificate (PEM).
    pub tls_cert: Option<PathBuf>,
    /// TLS key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Make a self-signed certificate.
    pub tls_self_signed: Option<bool>,
    /// Regions served; absent or empty means any well-formed region.
    pub regions: Option<Vec<String>>,
    /// Maximum request body in bytes.
    pub max_body_bytes: Option<usize>,
    /// How often the deletion job looks for keys at the end of their waiting period.
    pub deletion_check_seconds: Option<u64>,
    /// How often a signed digest of the audit chain is made.
    pub audit_digest_seconds: Option<u64>,
}

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Default account id.
    pub account_id: AccountId,
    /// TLS.
    pub tls: TlsSource,
    /// Regions served (empty: any well-formed region).
    pub regions: Vec<String>,
    /// Maximum request body in bytes.
    pub max_body_bytes: usize,
    /// Allowed clock skew for SigV4.
    pub max_skew: Duration,
    /// Deletion job interval.
    pub deletion_interval: Duration,
    /// Audit digest interval.
    pub audit_digest_interval: Duration,
}

impl Config {
    /// A configuration for tests: loopback port 0, the given data directory.
    pub fn for_tests(data_dir: PathBuf) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            account_id: default_account(),
            tls: TlsSource::None,
            regions: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY,
            max_skew: Duration::from_secs(15 * 60),
            deletion_interval: Duration::from_secs(60),
            audit_digest_interval: Duration::from_secs(60),
        }
    }

    /// Whether `region` is served.
    pub fn serves_region(&self, region: &str) -> bool {
        if self.regions.is_empty() {
            keyfort_core::arn::is_region(region)
        } else {
            self.regions.iter().any(|r| r == region)
        }
    }
}

/// The default account id.
#[allow(clippy::expect_used)]
pub fn default_account() -> AccountId {
    AccountId::parse(DEFAULT_ACCOUNT).expect("DEFAULT_ACCOUNT is twelve digits")
}
