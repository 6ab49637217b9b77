//! Asymmetric keys (RSA, ECDSA, Ed25519, ML-DSA), RSA-OAEP, ECDH and HMAC.
//!
//! Everything is aws-lc-rs: key generation, every private-key operation,
//! verification and randomness. What is stored, and what AWS offers that this
//! module cannot do, is in `docs/asymmetric.md`.
//!
//! The flow for a KMS key: [`generate_asym`] or [`generate_hmac`] makes the
//! material as [`PrivateKeyBytes`]; the caller seals `expose()` under the
//! [`crate::RootKey`] and stores it. To use the key it unseals the bytes and
//! loads them once with [`AsymKey::from_private`] or [`HmacKey::from_bytes`],
//! then caches the loaded key (both are `Send + Sync`).
//!
//! ```
//! use keyfort_crypto::*;
//!
//! let material = generate_asym(AsymSpec::EccNistP256)?;
//! let key = AsymKey::from_private(AsymSpec::EccNistP256, material.expose())?;
//! let sig = key.sign(SigningAlgorithm::EcdsaSha256, MessageKind::Raw, b"hello")?;
//! assert!(key.verify(SigningAlgorithm::EcdsaSha256, MessageKind::Raw, b"hello", &sig)?);
//! assert!(!key.verify(SigningAlgorithm::EcdsaSha256, MessageKind::Raw, b"hellO", &sig)?);
//! let spki = key.public_key_der()?; // what GetPublicKey returns
//! # assert_eq!(spki[0], 0x30);
//! # Ok::<(), keyfort_crypto::Error>(())
//! ```

use core::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::pkcs8::Document;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, PqdsaKeyPair};
use zeroize::Zeroize;

use crate::Error;

mod ecdh;
mod hmac;
mod key;
mod rsa_oaep;
mod sign;
mod spec;

#[cfg(test)]
mod tests;

pub use hmac::{HmacKey, generate_hmac};
pub use key::AsymKey;
pub use spec::{
    AsymSpec, EXTERNAL_MU_LEN, HmacSpec, MessageKind, RsaOaep, SigningAlgorithm,
    encryption_algorithms, signing_algorithms,
};

/// Private key material as stored (sealed by the caller under the root key).
///
/// For asymmetric keys: unencrypted PKCS#8 v1 (RFC 5208) `PrivateKeyInfo` DER.
/// RSA and EC keys carry the usual `RSAPrivateKey` / `ECPrivateKey` (with
/// named curve and public point); Ed25519 the 32-byte seed (RFC 8410); ML-DSA
/// the 32-byte seed in the `seed [0]` choice of the IETF LAMPS ML-DSA private
/// key format. For HMAC keys: the raw key bytes.
///
/// `Debug` prints only the length; the buffer is zeroized on drop.
pub struct PrivateKeyBytes(Vec<u8>);

impl PrivateKeyBytes {
    /// Takes ownership of `bytes` without copying them (e.g. unsealed material).
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The key material. The single way to read it.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (not secret).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison with `other` (the lengths are not secret).
    #[must_use]
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        crate::ct_eq(&self.0, other)
    }

    /// Copies an aws-lc PKCS#8 document (which zeroizes itself on drop).
    fn from_document(doc: &Document) -> Self {
        Self(doc.as_ref().to_vec())
    }

    /// Mutable access for filling the buffer in place inside this crate.
    pub(crate) fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

impl Drop for PrivateKeyBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for PrivateKeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKeyBytes(<redacted {} bytes>)", self.0.len())
    }
}

/// Generates a new key pair for `spec` and returns its PKCS#8 DER.
///
/// RSA keys have public exponent 65537. All randomness comes from aws-lc.
///
/// # Errors
/// [`Error::KeyGeneration`] or [`Error::KeyEncoding`] on internal failure.
pub fn generate_asym(spec: AsymSpec) -> Result<PrivateKeyBytes, Error> {
    use aws_lc_rs::signature as sig;
    let doc = match spec {
        AsymSpec::Rsa2048 | AsymSpec::Rsa3072 | AsymSpec::Rsa4096 => {
            let size = match spec {
                AsymSpec::Rsa2048 => KeySize::Rsa2048,
                AsymSpec::Rsa3072 => KeySize::Rsa3072,
                _ => KeySize::Rsa4096,
            };
            let pair = aws_lc_rs::rsa::KeyPair::generate(size).map_err(Error::KeyGeneration)?;
            let der = pair.as_der().map_err(Error::KeyEncoding)?;
            return Ok(PrivateKeyBytes(der.as_ref().to_vec()));
        }
        AsymSpec::EccNistP256 => ecdsa_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING)?,
        AsymSpec::EccNistP384 => ecdsa_pkcs8(&sig::ECDSA_P384_SHA384_ASN1_SIGNING)?,
        AsymSpec::EccNistP521 => ecdsa_pkcs8(&sig::ECDSA_P521_SHA512_ASN1_SIGNING)?,
        AsymSpec::EccSecgP256k1 => ecdsa_pkcs8(&sig::ECDSA_P256K1_SHA256_ASN1_SIGNING)?,
        AsymSpec::EccNistEdwards25519 => Ed25519KeyPair::generate()
            .map_err(Error::KeyGeneration)?
            .to_pkcs8v1()
            .map_err(Error::KeyEncoding)?,
        AsymSpec::MlDsa44 => mldsa_pkcs8(&sig::ML_DSA_44_SIGNING)?,
        AsymSpec::MlDsa65 => mldsa_pkcs8(&sig::ML_DSA_65_SIGNING)?,
        AsymSpec::MlDsa87 => mldsa_pkcs8(&sig::ML_DSA_87_SIGNING)?,
    };
    Ok(PrivateKeyBytes::from_document(&doc))
}

fn ecdsa_pkcs8(
    alg: &'static aws_lc_rs::signature::EcdsaSigningAlgorithm,
) -> Result<Document, Error> {
    EcdsaKeyPair::generate(alg)
        .map_err(Error::KeyGeneration)?
        .to_pkcs8v1()
        .map_err(Error::KeyEncoding)
}

fn mldsa_pkcs8(
    alg: &'static aws_lc_rs::signature::PqdsaSigningAlgorithm,
) -> Result<Document, Error> {
    PqdsaKeyPair::generate(alg)
        .map_err(Error::KeyGeneration)?
        .to_pkcs8v1()
        .map_err(Error::KeyEncoding)
}

/// A fresh key pair for `GenerateDataKeyPair`: the PKCS#8 DER private key
/// (what AWS returns as `PrivateKeyPlaintext`) and the DER
/// SubjectPublicKeyInfo public key.
///
/// Every AWS `DataKeyPairSpec` except `SM2` (not representable in
/// [`AsymSpec`]) is supported.
///
/// # Errors
/// [`Error::IncompatibleKey`] for the ML-DSA specs, which are not data key pair
/// specs; [`Error::KeyGeneration`] or [`Error::KeyEncoding`] on internal failure.
pub fn generate_data_key_pair(spec: AsymSpec) -> Result<(PrivateKeyBytes, Vec<u8>), Error> {
    if !spec.is_data_key_pair_spec() {
        return Err(Error::IncompatibleKey {
            spec,
            operation: "GenerateDataKeyPair",
        });
    }
    let private = generate_asym(spec)?;
    let public = AsymKey::from_private(spec, private.expose())?.public_key_der()?;
    Ok((private, public))
}
