//! `Sign` and `Verify`: [`AsymKey::sign`] and [`AsymKey::verify`].

use aws_lc_rs::digest::Digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, RsaEncoding};

use super::key::Private;
use super::spec::EXTERNAL_MU_LEN;
use super::{AsymKey, AsymSpec, MessageKind, SigningAlgorithm, signing_algorithms};
use crate::Error;

/// Why Ed25519ph cannot be offered (shown to operators via the error).
const ED25519PH_UNSUPPORTED: &str = "ED25519_PH_SHA_512 (Ed25519ph): aws-lc-rs has no safe API for \
     Ed25519ph signing or verification (only pure Ed25519)";

/// The input to sign or verify, after the request has been checked.
enum Input<'a> {
    /// The message; the algorithm hashes it (or, for Ed25519/ML-DSA, signs it whole).
    Raw(&'a [u8]),
    /// A precomputed digest of the algorithm's hash length.
    Digest(Digest),
}

/// Checks `alg` against the key's spec, `kind` against `alg` and the message
/// length against the hash, in the order AWS validates them.
fn prepare<'a>(
    spec: AsymSpec,
    alg: SigningAlgorithm,
    kind: MessageKind,
    message: &'a [u8],
) -> Result<Input<'a>, Error> {
    use SigningAlgorithm as S;
    if !signing_algorithms(spec).contains(&alg) {
        return Err(Error::IncompatibleKey {
            spec,
            operation: alg.as_str(),
        });
    }
    let invalid = Err(Error::InvalidMessageType {
        algorithm: alg,
        kind,
    });
    let check_len = |expected: usize| {
        if message.len() == expected {
            Ok(())
        } else {
            Err(Error::DigestLength {
                expected,
                got: message.len(),
            })
        }
    };
    match (alg, kind) {
        // AWS: ED25519_PH_SHA_512 requires DIGEST (a 64-byte SHA-512 value,
        // which KMS hashes once more as Ed25519ph's prehash).
        (S::Ed25519PhSha512, MessageKind::Digest) => {
            check_len(64)?;
            Err(Error::UnsupportedAlgorithm(ED25519PH_UNSUPPORTED))
        }
        (S::Ed25519PhSha512, _) => invalid,
        // AWS: ED25519_SHA_512 requires RAW.
        (S::Ed25519Sha512, MessageKind::Raw) => Ok(Input::Raw(message)),
        (S::Ed25519Sha512, _) => invalid,
        (S::MlDsaShake256, MessageKind::Raw) => Ok(Input::Raw(message)),
        (S::MlDsaShake256, MessageKind::ExternalMu) => {
            check_len(EXTERNAL_MU_LEN)?;
            Err(Error::UnsupportedMessageType {
                algorithm: alg,
                kind,
            })
        }
        (S::MlDsaShake256, MessageKind::Digest) => invalid,
        // RSA and ECDSA.
        (_, MessageKind::Raw) => Ok(Input::Raw(message)),
        (_, MessageKind::ExternalMu) => invalid,
        (_, MessageKind::Digest) => {
            let Some(hash) = alg.digest_algorithm() else {
                return invalid;
            };
            check_len(hash.output_len())?;
            Digest::import_less_safe(message, hash)
                .map(Input::Digest)
                .map_err(|_| Error::DigestLength {
                    expected: hash.output_len(),
                    got: message.len(),
                })
        }
    }
}

/// The aws-lc RSA signature encoding (PSS salt length = digest length).
fn rsa_encoding(alg: SigningAlgorithm) -> &'static dyn RsaEncoding {
    use SigningAlgorithm as S;
    match alg {
        S::RsassaPssSha256 => &sig::RSA_PSS_SHA256,
        S::RsassaPssSha384 => &sig::RSA_PSS_SHA384,
        S::RsassaPssSha512 => &sig::RSA_PSS_SHA512,
        S::RsassaPkcs1V15Sha256 => &sig::RSA_PKCS1_SHA256,
        S::RsassaPkcs1V15Sha384 => &sig::RSA_PKCS1_SHA384,
        // `prepare` admits only the six RSA algorithms for RSA keys.
        _ => &sig::RSA_PKCS1_SHA512,
    }
}

impl AsymKey {
    /// Signs `message` with `alg`, as AWS `Sign` does.
    ///
    /// `kind` says what `message` is: [`MessageKind::Raw`] (the message; up to
    /// 4096 bytes at the API, not enforced here) or [`MessageKind::Digest`]
    /// (RSA and ECDSA only; exactly the hash length). Signatures are PKCS#1
    /// (RSA, PSS salt = hash length), DER `ECDSA-Sig-Value` (ECDSA), 64 bytes
    /// (Ed25519) or the FIPS 204 encoding (ML-DSA, pure, empty context).
    ///
    /// # Errors
    /// - [`Error::IncompatibleKey`] if `alg` is not in [`signing_algorithms`] for the spec;
    /// - [`Error::InvalidMessageType`] if AWS rejects `kind` with `alg` too;
    /// - [`Error::DigestLength`] for a `DIGEST` (or `EXTERNAL_MU`) of the wrong length;
    /// - [`Error::UnsupportedAlgorithm`] for `ED25519_PH_SHA_512`;
    /// - [`Error::UnsupportedMessageType`] for ML-DSA with `EXTERNAL_MU`;
    /// - [`Error::Sign`] on internal failure.
    pub fn sign(
        &self,
        alg: SigningAlgorithm,
        kind: MessageKind,
        message: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let input = prepare(self.spec(), alg, kind, message)?;
        let rng = SystemRandom::new();
        match (&self.private, input) {
            (Private::Rsa { signer, .. }, input) => {
                let mut out = vec![0; signer.public_modulus_len()];
                match input {
                    Input::Raw(m) => signer.sign(rsa_encoding(alg), &rng, m, &mut out),
                    Input::Digest(d) => signer.sign_digest(rsa_encoding(alg), &d, &mut out),
                }
                .map_err(Error::Sign)?;
                Ok(out)
            }
            (Private::Ecdsa { signer, .. }, Input::Raw(m)) => signer
                .sign(&rng, m)
                .map(|s| s.as_ref().to_vec())
                .map_err(Error::Sign),
            (Private::Ecdsa { signer, .. }, Input::Digest(d)) => signer
                .sign_digest(&d)
                .map(|s| s.as_ref().to_vec())
                .map_err(Error::Sign),
            (Private::Ed25519(pair), Input::Raw(m)) => pair
                .try_sign(m)
                .map(|s| s.as_ref().to_vec())
                .map_err(Error::Sign),
            (Private::MlDsa(pair), Input::Raw(m)) => {
                let mut out = vec![0; pair.algorithm().signature_len()];
                let len = pair.sign(m, &mut out).map_err(Error::Sign)?;
                out.truncate(len);
                Ok(out)
            }
            // `prepare` returns `Input::Digest` only for RSA and ECDSA.
            (Private::Ed25519(_) | Private::MlDsa(_), Input::Digest(_)) => {
                Err(Error::InvalidMessageType {
                    algorithm: alg,
                    kind,
                })
            }
        }
    }

    /// Verifies `signature` over `message` with the key's public half, as AWS
    /// `Verify` does. `Ok(false)` for any signature that does not verify
    /// (wrong key, wrong message, modified or malformed signature).
    ///
    /// # Errors
    /// The same request errors as [`AsymKey::sign`] (never for a bad signature).
    pub fn verify(
        &self,
        alg: SigningAlgorithm,
        kind: MessageKind,
        message: &[u8],
        signature: &[u8],
    ) -> Result<bool, Error> {
        let input = prepare(self.spec(), alg, kind, message)?;
        let Some(public) = self.verifier(alg) else {
            // Every algorithm `prepare` admits has a verifier; be explicit anyway.
            return Err(Error::UnsupportedAlgorithm(ED25519PH_UNSUPPORTED));
        };
        let verified = match input {
            Input::Raw(m) => public.verify_sig(m, signature),
            Input::Digest(d) => public.verify_digest_sig(&d, signature),
        };
        Ok(verified.is_ok())
    }
}
