//! [`AsymKey`]: a private key parsed once from PKCS#8, with its public half.

use core::fmt;

use aws_lc_rs::agreement;
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::error::{KeyRejected, Unspecified};
use aws_lc_rs::rsa::{
    OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{
    self as sig, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair, ParsedPublicKey,
    PqdsaKeyPair, PqdsaSigningAlgorithm, VerificationAlgorithm,
};

use super::{AsymSpec, SigningAlgorithm, signing_algorithms};
use crate::Error;

/// A loaded asymmetric private key, ready for signing, verification, RSA-OAEP
/// and ECDH. Parse once with [`AsymKey::from_private`] and cache it; it is
/// `Send + Sync`, and every operation takes `&self`.
///
/// The private key lives only inside aws-lc objects (which cleanse it when
/// freed). `Debug` prints the spec and nothing else.
pub struct AsymKey {
    spec: AsymSpec,
    /// The DER SubjectPublicKeyInfo, as GetPublicKey returns it.
    public_der: Vec<u8>,
    pub(super) private: Private,
    /// One parsed public key per signing algorithm the key can verify.
    verifiers: Vec<(SigningAlgorithm, ParsedPublicKey)>,
}

/// The aws-lc private key objects for each key family.
pub(super) enum Private {
    Rsa {
        signer: aws_lc_rs::rsa::KeyPair,
        decrypter: OaepPrivateDecryptingKey,
        encrypter: OaepPublicEncryptingKey,
    },
    Ecdsa {
        signer: EcdsaKeyPair,
        /// The same key for ECDH, on the curves where AWS allows KEY_AGREEMENT.
        agreement: Option<agreement::PrivateKey>,
    },
    Ed25519(Ed25519KeyPair),
    MlDsa(PqdsaKeyPair),
}

impl AsymKey {
    /// Parses PKCS#8 DER private key material of the given spec (as made by
    /// [`crate::generate_asym`], or imported).
    ///
    /// Checks that the material really is a `spec` key: the algorithm, the
    /// curve, the ML-DSA parameter set and the RSA modulus size must match,
    /// and aws-lc validates the key's consistency.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] if not; [`Error::KeyEncoding`] if the public key
    /// cannot be encoded (internal).
    pub fn from_private(spec: AsymSpec, pkcs8: &[u8]) -> Result<AsymKey, Error> {
        let invalid = |source: KeyRejected| Error::InvalidKey {
            spec,
            source: Some(source),
        };
        let (private, public_der) = match spec {
            AsymSpec::Rsa2048 | AsymSpec::Rsa3072 | AsymSpec::Rsa4096 => {
                let signer = aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8).map_err(invalid)?;
                if Some(signer.public_modulus_len() * 8) != spec.rsa_bits() {
                    return Err(Error::InvalidKey { spec, source: None });
                }
                let public_der = der(signer.public_key().as_der())?;
                let decrypter = PrivateDecryptingKey::from_pkcs8(pkcs8)
                    .map_err(invalid)
                    .and_then(|k| OaepPrivateDecryptingKey::new(k).map_err(Error::KeyEncoding))?;
                let encrypter = PublicEncryptingKey::from_der(&public_der)
                    .map_err(invalid)
                    .and_then(|k| OaepPublicEncryptingKey::new(k).map_err(Error::KeyEncoding))?;
                let private = Private::Rsa {
                    signer,
                    decrypter,
                    encrypter,
                };
                (private, public_der)
            }
            AsymSpec::EccNistP256
            | AsymSpec::EccNistP384
            | AsymSpec::EccNistP521
            | AsymSpec::EccSecgP256k1 => {
                let (signing, agreement_alg) = ecdsa_algorithms(spec);
                let signer = EcdsaKeyPair::from_pkcs8(signing, pkcs8).map_err(invalid)?;
                let agreement = match agreement_alg {
                    Some(alg) => Some(
                        agreement::PrivateKey::from_private_key_der(alg, pkcs8).map_err(invalid)?,
                    ),
                    None => None,
                };
                let public_der = der(signer.public_key().as_der())?;
                (Private::Ecdsa { signer, agreement }, public_der)
            }
            AsymSpec::EccNistEdwards25519 => {
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(invalid)?;
                let public_der = der(pair.public_key().as_der())?;
                (Private::Ed25519(pair), public_der)
            }
            AsymSpec::MlDsa44 | AsymSpec::MlDsa65 | AsymSpec::MlDsa87 => {
                let pair =
                    PqdsaKeyPair::from_pkcs8(mldsa_algorithm(spec), pkcs8).map_err(invalid)?;
                let public_der = der(pair.public_key().as_der())?;
                (Private::MlDsa(pair), public_der)
            }
        };
        let mut verifiers = Vec::new();
        for &alg in signing_algorithms(spec) {
            if let Some(verification) = verification_algorithm(spec, alg) {
                let parsed = ParsedPublicKey::new(verification, &public_der).map_err(invalid)?;
                verifiers.push((alg, parsed));
            }
        }
        Ok(AsymKey {
            spec,
            public_der,
            private,
            verifiers,
        })
    }

    /// The key's spec.
    #[must_use]
    pub fn spec(&self) -> AsymSpec {
        self.spec
    }

    /// The public key as DER SubjectPublicKeyInfo (RFC 5280), as AWS
    /// `GetPublicKey` returns it: `rsaEncryption`, `id-ecPublicKey` with a
    /// named curve and an uncompressed point, `id-Ed25519` (RFC 8410), or
    /// `id-ml-dsa-44/65/87`.
    ///
    /// # Errors
    /// None today (the encoding is made once when the key is loaded); the
    /// `Result` leaves room for lazily encoded keys.
    pub fn public_key_der(&self) -> Result<Vec<u8>, Error> {
        Ok(self.public_der.clone())
    }

    /// The parsed public key for `alg`, if the key can verify it.
    pub(super) fn verifier(&self, alg: SigningAlgorithm) -> Option<&ParsedPublicKey> {
        self.verifiers
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, key)| key)
    }
}

impl fmt::Debug for AsymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsymKey")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// Copies an aws-lc DER encoding out, mapping failure to [`Error::KeyEncoding`].
fn der(encoded: Result<PublicKeyX509Der<'static>, Unspecified>) -> Result<Vec<u8>, Error> {
    encoded
        .map(|d| d.as_ref().to_vec())
        .map_err(Error::KeyEncoding)
}

/// The ECDSA signing algorithm (DER signatures) and, where AWS allows
/// KEY_AGREEMENT, the ECDH algorithm for an ECC spec.
pub(super) fn ecdsa_algorithms(
    spec: AsymSpec,
) -> (
    &'static EcdsaSigningAlgorithm,
    Option<&'static agreement::Algorithm>,
) {
    match spec {
        AsymSpec::EccNistP384 => (
            &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
            Some(&agreement::ECDH_P384),
        ),
        AsymSpec::EccNistP521 => (
            &sig::ECDSA_P521_SHA512_ASN1_SIGNING,
            Some(&agreement::ECDH_P521),
        ),
        AsymSpec::EccSecgP256k1 => (&sig::ECDSA_P256K1_SHA256_ASN1_SIGNING, None),
        // Only the ECC specs reach here; P-256 is the remaining one.
        _ => (
            &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
            Some(&agreement::ECDH_P256),
        ),
    }
}

/// The ML-DSA parameter set for an ML-DSA spec.
fn mldsa_algorithm(spec: AsymSpec) -> &'static PqdsaSigningAlgorithm {
    match spec {
        AsymSpec::MlDsa44 => &sig::ML_DSA_44_SIGNING,
        AsymSpec::MlDsa65 => &sig::ML_DSA_65_SIGNING,
        // Only the ML-DSA specs reach here; 87 is the remaining one.
        _ => &sig::ML_DSA_87_SIGNING,
    }
}

/// The aws-lc verification algorithm for `alg` on a `spec` key, or `None`
/// where aws-lc-rs has none (Ed25519ph) or the pair is not valid.
fn verification_algorithm(
    spec: AsymSpec,
    alg: SigningAlgorithm,
) -> Option<&'static dyn VerificationAlgorithm> {
    use SigningAlgorithm as S;
    Some(match (spec, alg) {
        (_, S::RsassaPssSha256) => &sig::RSA_PSS_2048_8192_SHA256,
        (_, S::RsassaPssSha384) => &sig::RSA_PSS_2048_8192_SHA384,
        (_, S::RsassaPssSha512) => &sig::RSA_PSS_2048_8192_SHA512,
        (_, S::RsassaPkcs1V15Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
        (_, S::RsassaPkcs1V15Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
        (_, S::RsassaPkcs1V15Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
        (AsymSpec::EccNistP256, S::EcdsaSha256) => &sig::ECDSA_P256_SHA256_ASN1,
        (AsymSpec::EccSecgP256k1, S::EcdsaSha256) => &sig::ECDSA_P256K1_SHA256_ASN1,
        (AsymSpec::EccNistP384, S::EcdsaSha384) => &sig::ECDSA_P384_SHA384_ASN1,
        (AsymSpec::EccNistP521, S::EcdsaSha512) => &sig::ECDSA_P521_SHA512_ASN1,
        (_, S::Ed25519Sha512) => &sig::ED25519,
        (AsymSpec::MlDsa44, S::MlDsaShake256) => &sig::ML_DSA_44,
        (AsymSpec::MlDsa65, S::MlDsaShake256) => &sig::ML_DSA_65,
        (AsymSpec::MlDsa87, S::MlDsaShake256) => &sig::ML_DSA_87,
        _ => return None,
    })
}
