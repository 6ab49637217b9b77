//! Unwrapping imported key material (AWS KMS GetParametersForImport /
//! ImportKeyMaterial). The caller wraps its material with the RSA public key keyfort
//! handed out:
//!
//! - `RSAES_OAEP_SHA_1` / `RSAES_OAEP_SHA_256`: the material itself, RSA-OAEP with MGF1
//!   over the same hash and an empty label;
//! - `RSA_AES_KEY_WRAP_SHA_1` / `_SHA_256` (PKCS#11 `CKM_RSA_AES_KEY_WRAP`): a fresh
//!   AES-256 key, RSA-OAEP-wrapped as above, followed by the material wrapped under that
//!   AES key with AES Key Wrap with Padding (RFC 5649, NIST SP 800-38F KWP). The first
//!   part is exactly the modulus size long.
//!
//! Every failure is [`Error::Decrypt`] and says nothing about why.

use aws_lc_rs::error::Unspecified;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
use zeroize::Zeroizing;

use crate::asym::{AsymKey, RsaOaep};
use crate::error::Error;
use crate::secret::SecretBytes;

/// How imported material was wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportWrapping {
    /// RSAES_OAEP_SHA_1.
    RsaOaepSha1,
    /// RSAES_OAEP_SHA_256.
    RsaOaepSha256,
    /// RSA_AES_KEY_WRAP_SHA_1.
    RsaAesKeyWrapSha1,
    /// RSA_AES_KEY_WRAP_SHA_256.
    RsaAesKeyWrapSha256,
}

impl ImportWrapping {
    fn oaep(self) -> RsaOaep {
        match self {
            ImportWrapping::RsaOaepSha1 | ImportWrapping::RsaAesKeyWrapSha1 => RsaOaep::Sha1,
            ImportWrapping::RsaOaepSha256 | ImportWrapping::RsaAesKeyWrapSha256 => RsaOaep::Sha256,
        }
    }
}

/// Unwraps `wrapped` with the private half of `wrapping_key` (an RSA key).
pub fn unwrap_key_material(
    wrapping_key: &AsymKey,
    alg: ImportWrapping,
    wrapped: &[u8],
) -> Result<SecretBytes, Error> {
    let fail = || Error::Decrypt(Unspecified);
    match alg {
        ImportWrapping::RsaOaepSha1 | ImportWrapping::RsaOaepSha256 => wrapping_key
            .rsa_decrypt(alg.oaep(), wrapped)
            .map_err(|_| fail()),
        ImportWrapping::RsaAesKeyWrapSha1 | ImportWrapping::RsaAesKeyWrapSha256 => {
            let k = wrapping_key.spec().rsa_bits().ok_or_else(fail)? / 8;
            if wrapped.len() <= k {
                return Err(fail());
            }
            let (head, tail) = wrapped.split_at(k);
            let aes = wrapping_key
                .rsa_decrypt(alg.oaep(), head)
                .map_err(|_| fail())?;
            if aes.expose().len() != 32 {
                return Err(fail());
            }
            let kek = AesKek::new(&AES_256, aes.expose()).map_err(|_| fail())?;
            let mut out = Zeroizing::new(vec![0u8; tail.len()]);
            let n = kek
                .unwrap_with_padding(tail, &mut out)
                .map_err(|_| fail())?
                .len();
            Ok(SecretBytes::new(out[..n].to_vec()))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::asym::{AsymSpec, generate_asym};

    /// Wraps like a client would (the inverse of `unwrap_key_material`), using only
    /// aws-lc-rs primitives. The independent cross-checks (Python `cryptography` and
    /// the openssl CLI wrapping material for keyfort) are in the workspace's
    /// tests/kms/import.rs.
    fn wrap(key: &AsymKey, alg: ImportWrapping, material: &[u8]) -> Vec<u8> {
        match alg {
            ImportWrapping::RsaOaepSha1 | ImportWrapping::RsaOaepSha256 => {
                key.rsa_encrypt(alg.oaep(), material).unwrap()
            }
            _ => {
                let aes = crate::random_bytes(32).unwrap();
                let mut out = key.rsa_encrypt(alg.oaep(), aes.expose()).unwrap();
                let kek = AesKek::new(&AES_256, aes.expose()).unwrap();
                let mut buf = vec![0u8; material.len() + 16];
                let n = kek.wrap_with_padding(material, &mut buf).unwrap().len();
                out.extend_from_slice(&buf[..n]);
                out
            }
        }
    }

    #[test]
    fn round_trips_and_rejects_tampering() {
        let pk = generate_asym(AsymSpec::Rsa2048).unwrap();
        let key = AsymKey::from_private(AsymSpec::Rsa2048, pk.expose()).unwrap();
        let material: Vec<u8> = (0..32u8).collect();
        let big: Vec<u8> = (0..1200u32).map(|i| (i * 7) as u8).collect();
        for alg in [
            ImportWrapping::RsaOaepSha1,
            ImportWrapping::RsaOaepSha256,
            ImportWrapping::RsaAesKeyWrapSha1,
            ImportWrapping::RsaAesKeyWrapSha256,
        ] {
            let w = wrap(&key, alg, &material);
            assert_eq!(
                unwrap_key_material(&key, alg, &w).unwrap().expose(),
                &material[..]
            );
            let mut bad = w.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(unwrap_key_material(&key, alg, &bad).is_err(), "{alg:?}");
            assert!(unwrap_key_material(&key, alg, &w[..w.len() - 1]).is_err());
            if matches!(
                alg,
                ImportWrapping::RsaAesKeyWrapSha1 | ImportWrapping::RsaAesKeyWrapSha256
            ) {
                let w = wrap(&key, alg, &big);
                assert_eq!(
                    unwrap_key_material(&key, alg, &w).unwrap().expose(),
                    &big[..]
                );
            }
        }
        // The hash is part of the algorithm.
        let w = wrap(&key, ImportWrapping::RsaOaepSha1, &material);
        assert!(unwrap_key_material(&key, ImportWrapping::RsaOaepSha256, &w).is_err());
    }
}
