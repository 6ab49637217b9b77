//! TLS through rustls with the aws-lc-rs provider: certificate files, or a self-signed
//! certificate (rcgen) kept in the data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

use crate::bootstrap::{BootstrapError, write_private_file};
use crate::config::TlsSource;

/// A rustls server config and, for a self-signed certificate, its path.
pub type TlsSetup = (Arc<rustls::ServerConfig>, Option<PathBuf>);

/// The rustls server config for a TLS source, and the certificate path to print for
/// self-signed certificates (to give the SDKs as `AWS_CA_BUNDLE`).
pub fn server_config(
    source: &TlsSource,
    data_dir: &Path,
    hostnames: &[String],
) -> Result<Option<TlsSetup>, BootstrapError> {
    let (cert, key, printed) = match source {
        TlsSource::None => return Ok(None),
        TlsSource::Files { cert, key } => (cert.clone(), key.clone(), None),
        TlsSource::SelfSigned => {
            let dir = data_dir.join("tls");
            let cert = dir.join("self-signed-cert.pem");
            let key = dir.join("self-signed-key.pem");
            if !cert.exists() || !key.exists() {
                std::fs::create_dir_all(&dir).map_err(|e| BootstrapError::io(&dir, e))?;
                let made = rcgen::generate_simple_self_signed(hostnames.to_vec())
                    .map_err(|e| BootstrapError::Tls(e.to_string()))?;
                write_private_file(&key, made.signing_key.serialize_pem().as_bytes())?;
                write_private_file(&cert, made.cert.pem().as_bytes())?;
            }
            (cert.clone(), key, Some(cert))
        }
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .map_err(|e| BootstrapError::Tls(format!("{}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| BootstrapError::Tls(format!("{}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(&key)
        .map_err(|e| BootstrapError::Tls(format!("{}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BootstrapError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| BootstrapError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some((Arc::new(config), printed)))
}
