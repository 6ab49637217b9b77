//! The key specs and algorithm names, spelled as AWS KMS spells them on the wire.
//!
//! Every enum here has `as_str()` (the AWS name) and `parse()` (the inverse,
//! `None` for anything else, including names AWS knows but keyfort does not
//! represent, such as `SM2` and `SM2DSA`). `Display` prints the AWS name.

use core::fmt;

use aws_lc_rs::digest;

/// Defines `as_str`, `parse`, `ALL` and `Display` for a fieldless enum whose
/// variants map one to one onto AWS names.
macro_rules! aws_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in the order AWS lists them.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The AWS name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }

            /// The value for an AWS name (exact, case-sensitive match), or `None`.
            #[must_use]
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// An asymmetric key spec: AWS `KeySpec` (asymmetric values) and
/// `DataKeyPairSpec`, without `SM2` (China Regions only; aws-lc-rs has no SM2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsymSpec {
    /// RSA, 2048-bit modulus, e = 65537.
    Rsa2048,
    /// RSA, 3072-bit modulus, e = 65537.
    Rsa3072,
    /// RSA, 4096-bit modulus, e = 65537.
    Rsa4096,
    /// ECC on NIST P-256 (secp256r1).
    EccNistP256,
    /// ECC on NIST P-384 (secp384r1).
    EccNistP384,
    /// ECC on NIST P-521 (secp521r1).
    EccNistP521,
    /// ECC on secp256k1 (signing only).
    EccSecgP256k1,
    /// Ed25519 (signing only).
    EccNistEdwards25519,
    /// ML-DSA-44 (FIPS 204).
    MlDsa44,
    /// ML-DSA-65 (FIPS 204).
    MlDsa65,
    /// ML-DSA-87 (FIPS 204).
    MlDsa87,
}

aws_names!(AsymSpec {
    Rsa2048 => "RSA_2048",
    Rsa3072 => "RSA_3072",
    Rsa4096 => "RSA_4096",
    EccNistP256 => "ECC_NIST_P256",
    EccNistP384 => "ECC_NIST_P384",
    EccNistP521 => "ECC_NIST_P521",
    EccSecgP256k1 => "ECC_SECG_P256K1",
    EccNistEdwards25519 => "ECC_NIST_EDWARDS25519",
    MlDsa44 => "ML_DSA_44",
    MlDsa65 => "ML_DSA_65",
    MlDsa87 => "ML_DSA_87",
});

impl AsymSpec {
    /// The RSA modulus size in bits, or `None` for a non-RSA spec.
    #[must_use]
    pub const fn rsa_bits(self) -> Option<usize> {
        match self {
            AsymSpec::Rsa2048 => Some(2048),
            AsymSpec::Rsa3072 => Some(3072),
            AsymSpec::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    /// Whether AWS allows `KeyUsage` `ENCRYPT_DECRYPT` for this spec (RSA only).
    #[must_use]
    pub const fn supports_encryption(self) -> bool {
        self.rsa_bits().is_some()
    }

    /// Whether AWS allows `KeyUsage` `KEY_AGREEMENT` (ECDH) for this spec:
    /// the NIST prime curves only, not secp256k1 and not Ed25519.
    #[must_use]
    pub const fn supports_key_agreement(self) -> bool {
        matches!(
            self,
            AsymSpec::EccNistP256 | AsymSpec::EccNistP384 | AsymSpec::EccNistP521
        )
    }

    /// Whether the spec is a valid AWS `DataKeyPairSpec` (everything but ML-DSA).
    #[must_use]
    pub const fn is_data_key_pair_spec(self) -> bool {
        !matches!(
            self,
            AsymSpec::MlDsa44 | AsymSpec::MlDsa65 | AsymSpec::MlDsa87
        )
    }
}

/// An HMAC key spec (AWS `KeySpec` `HMAC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HmacSpec {
    /// HMAC-SHA-224.
    Hmac224,
    /// HMAC-SHA-256.
    Hmac256,
    /// HMAC-SHA-384.
    Hmac384,
    /// HMAC-SHA-512.
    Hmac512,
}

aws_names!(HmacSpec {
    Hmac224 => "HMAC_224",
    Hmac256 => "HMAC_256",
    Hmac384 => "HMAC_384",
    Hmac512 => "HMAC_512",
});

impl HmacSpec {
    /// The length of generated key material, as AWS generates it: the digest
    /// length (28, 32, 48 or 64 bytes).
    #[must_use]
    pub const fn key_len(self) -> usize {
        self.mac_len()
    }

    /// The key lengths [`crate::HmacKey::from_bytes`] accepts (for imported
    /// material, as AWS does): from the digest length up to the hash's block
    /// size (64 bytes for SHA-224/256, 128 for SHA-384/512).
    #[must_use]
    pub const fn key_len_range(self) -> core::ops::RangeInclusive<usize> {
        match self {
            HmacSpec::Hmac224 => 28..=64,
            HmacSpec::Hmac256 => 32..=64,
            HmacSpec::Hmac384 => 48..=128,
            HmacSpec::Hmac512 => 64..=128,
        }
    }

    /// The MAC length in bytes.
    #[must_use]
    pub const fn mac_len(self) -> usize {
        match self {
            HmacSpec::Hmac224 => 28,
            HmacSpec::Hmac256 => 32,
            HmacSpec::Hmac384 => 48,
            HmacSpec::Hmac512 => 64,
        }
    }

    /// The AWS `MacAlgorithmSpec` name, the only MAC algorithm of this spec.
    #[must_use]
    pub const fn mac_algorithm(self) -> &'static str {
        match self {
            HmacSpec::Hmac224 => "HMAC_SHA_224",
            HmacSpec::Hmac256 => "HMAC_SHA_256",
            HmacSpec::Hmac384 => "HMAC_SHA_384",
            HmacSpec::Hmac512 => "HMAC_SHA_512",
        }
    }
}

/// A signing algorithm (AWS `SigningAlgorithmSpec`, without `SM2DSA`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, salt length 32.
    RsassaPssSha256,
    /// RSASSA-PSS, SHA-384, MGF1-SHA-384, salt length 48.
    RsassaPssSha384,
    /// RSASSA-PSS, SHA-512, MGF1-SHA-512, salt length 64.
    RsassaPssSha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsassaPkcs1V15Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsassaPkcs1V15Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsassaPkcs1V15Sha512,
    /// ECDSA with SHA-256 (P-256, secp256k1), DER-encoded signature.
    EcdsaSha256,
    /// ECDSA with SHA-384 (P-384), DER-encoded signature.
    EcdsaSha384,
    /// ECDSA with SHA-512 (P-521), DER-encoded signature.
    EcdsaSha512,
    /// Pure Ed25519 (RFC 8032) over the raw message.
    Ed25519Sha512,
    /// Ed25519ph (RFC 8032 prehash variant); not supported by this build.
    Ed25519PhSha512,
    /// Pure ML-DSA (FIPS 204) with an empty context string.
    MlDsaShake256,
}

aws_names!(SigningAlgorithm {
    RsassaPssSha256 => "RSASSA_PSS_SHA_256",
    RsassaPssSha384 => "RSASSA_PSS_SHA_384",
    RsassaPssSha512 => "RSASSA_PSS_SHA_512",
    RsassaPkcs1V15Sha256 => "RSASSA_PKCS1_V1_5_SHA_256",
    RsassaPkcs1V15Sha384 => "RSASSA_PKCS1_V1_5_SHA_384",
    RsassaPkcs1V15Sha512 => "RSASSA_PKCS1_V1_5_SHA_512",
    EcdsaSha256 => "ECDSA_SHA_256",
    EcdsaSha384 => "ECDSA_SHA_384",
    EcdsaSha512 => "ECDSA_SHA_512",
    Ed25519Sha512 => "ED25519_SHA_512",
    Ed25519PhSha512 => "ED25519_PH_SHA_512",
    MlDsaShake256 => "ML_DSA_SHAKE_256",
});

impl SigningAlgorithm {
    /// The hash the algorithm applies to a `RAW` message, for the algorithms
    /// that accept `DIGEST` input; `None` for pure Ed25519 and ML-DSA.
    pub(crate) fn digest_algorithm(self) -> Option<&'static digest::Algorithm> {
        match self {
            SigningAlgorithm::RsassaPssSha256
            | SigningAlgorithm::RsassaPkcs1V15Sha256
            | SigningAlgorithm::EcdsaSha256 => Some(&digest::SHA256),
            SigningAlgorithm::RsassaPssSha384
            | SigningAlgorithm::RsassaPkcs1V15Sha384
            | SigningAlgorithm::EcdsaSha384 => Some(&digest::SHA384),
            SigningAlgorithm::RsassaPssSha512
            | SigningAlgorithm::RsassaPkcs1V15Sha512
            | SigningAlgorithm::EcdsaSha512
            | SigningAlgorithm::Ed25519PhSha512 => Some(&digest::SHA512),
            SigningAlgorithm::Ed25519Sha512 | SigningAlgorithm::MlDsaShake256 => None,
        }
    }

    /// The length a `DIGEST` message must have (the hash output length), or
    /// `None` if the algorithm takes no `DIGEST` input.
    #[must_use]
    pub fn digest_len(self) -> Option<usize> {
        self.digest_algorithm().map(digest::Algorithm::output_len)
    }
}

/// What the `message` passed to [`crate::AsymKey::sign`] is (AWS `MessageType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The message itself; the algorithm hashes it.
    Raw,
    /// A precomputed digest of the algorithm's hash length.
    Digest,
    /// ML-DSA's 64-byte message representative mu (FIPS 204, 6.2).
    ExternalMu,
}

aws_names!(MessageKind {
    Raw => "RAW",
    Digest => "DIGEST",
    ExternalMu => "EXTERNAL_MU",
});

/// Length of ML-DSA's external message representative mu.
pub const EXTERNAL_MU_LEN: usize = 64;

/// An RSA encryption algorithm (AWS `EncryptionAlgorithmSpec` `RSAES_OAEP_*`):
/// OAEP with MGF1 over the same hash and an empty label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaOaep {
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1.
    Sha1,
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256.
    Sha256,
}

aws_names!(RsaOaep {
    Sha1 => "RSAES_OAEP_SHA_1",
    Sha256 => "RSAES_OAEP_SHA_256",
});

impl RsaOaep {
    /// The hash output length (20 or 32 bytes).
    #[must_use]
    pub const fn hash_len(self) -> usize {
        match self {
            RsaOaep::Sha1 => 20,
            RsaOaep::Sha256 => 32,
        }
    }
}

/// The signing algorithms AWS lists for a key spec, in AWS's order.
///
/// `ECC_NIST_EDWARDS25519` lists `ED25519_PH_SHA_512` because AWS does, although
/// this build cannot perform it (see `docs/asymmetric.md`); signing or
/// verifying with it returns [`crate::Error::UnsupportedAlgorithm`].
#[must_use]
pub fn signing_algorithms(spec: AsymSpec) -> &'static [SigningAlgorithm] {
    use SigningAlgorithm as S;
    const RSA: &[SigningAlgorithm] = &[
        S::RsassaPssSha256,
        S::RsassaPssSha384,
        S::RsassaPssSha512,
        S::RsassaPkcs1V15Sha256,
        S::RsassaPkcs1V15Sha384,
        S::RsassaPkcs1V15Sha512,
    ];
    match spec {
        AsymSpec::Rsa2048 | AsymSpec::Rsa3072 | AsymSpec::Rsa4096 => RSA,
        AsymSpec::EccNistP256 | AsymSpec::EccSecgP256k1 => &[S::EcdsaSha256],
        AsymSpec::EccNistP384 => &[S::EcdsaSha384],
        AsymSpec::EccNistP521 => &[S::EcdsaSha512],
        AsymSpec::EccNistEdwards25519 => &[S::Ed25519Sha512, S::Ed25519PhSha512],
        AsymSpec::MlDsa44 | AsymSpec::MlDsa65 | AsymSpec::MlDsa87 => &[S::MlDsaShake256],
    }
}

/// The encryption algorithms AWS lists for a key spec (RSA keys only).
#[must_use]
pub fn encryption_algorithms(spec: AsymSpec) -> &'static [RsaOaep] {
    if spec.supports_encryption() {
        &[RsaOaep::Sha1, RsaOaep::Sha256]
    } else {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in AsymSpec::ALL {
            assert_eq!(AsymSpec::parse(s.as_str()), Some(*s));
            assert_eq!(s.to_string(), s.as_str());
        }
        for s in HmacSpec::ALL {
            assert_eq!(HmacSpec::parse(s.as_str()), Some(*s));
        }
        for a in SigningAlgorithm::ALL {
            assert_eq!(SigningAlgorithm::parse(a.as_str()), Some(*a));
        }
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Some(*k));
        }
        for o in RsaOaep::ALL {
            assert_eq!(RsaOaep::parse(o.as_str()), Some(*o));
        }
        assert_eq!(AsymSpec::ALL.len(), 11);
        assert_eq!(SigningAlgorithm::ALL.len(), 12);
        for unknown in [
            "SM2",
            "SM2DSA",
            "rsa_2048",
            "",
            "SYMMETRIC_DEFAULT",
            "RSA_2048 ",
        ] {
            assert_eq!(AsymSpec::parse(unknown), None);
            assert_eq!(SigningAlgorithm::parse(unknown), None);
        }
    }

    /// The names must be exactly the enum values in the botocore KMS model.
    #[test]
    fn names_are_aws_names() {
        let key_specs = [
            "RSA_2048",
            "RSA_3072",
            "RSA_4096",
            "ECC_NIST_P256",
            "ECC_NIST_P384",
            "ECC_NIST_P521",
            "ECC_SECG_P256K1",
            "ECC_NIST_EDWARDS25519",
            "ML_DSA_44",
            "ML_DSA_65",
            "ML_DSA_87",
        ];
        let got: Vec<_> = AsymSpec::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(got, key_specs);
        let algs = [
            "RSASSA_PSS_SHA_256",
            "RSASSA_PSS_SHA_384",
            "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256",
            "RSASSA_PKCS1_V1_5_SHA_384",
            "RSASSA_PKCS1_V1_5_SHA_512",
            "ECDSA_SHA_256",
            "ECDSA_SHA_384",
            "ECDSA_SHA_512",
            "ED25519_SHA_512",
            "ED25519_PH_SHA_512",
            "ML_DSA_SHAKE_256",
        ];
        let got: Vec<_> = SigningAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(got, algs);
    }

    #[test]
    fn algorithm_tables() {
        use SigningAlgorithm as S;
        assert_eq!(signing_algorithms(AsymSpec::Rsa3072).len(), 6);
        assert_eq!(signing_algorithms(AsymSpec::EccNistP256), &[S::EcdsaSha256]);
        assert_eq!(
            signing_algorithms(AsymSpec::EccSecgP256k1),
            &[S::EcdsaSha256]
        );
        assert_eq!(signing_algorithms(AsymSpec::EccNistP384), &[S::EcdsaSha384]);
        assert_eq!(signing_algorithms(AsymSpec::EccNistP521), &[S::EcdsaSha512]);
        assert_eq!(
            signing_algorithms(AsymSpec::EccNistEdwards25519),
            &[S::Ed25519Sha512, S::Ed25519PhSha512]
        );
        assert_eq!(signing_algorithms(AsymSpec::MlDsa65), &[S::MlDsaShake256]);
        assert_eq!(encryption_algorithms(AsymSpec::Rsa2048).len(), 2);
        assert!(encryption_algorithms(AsymSpec::EccNistP256).is_empty());
        let agreement: Vec<_> = AsymSpec::ALL
            .iter()
            .filter(|s| s.supports_key_agreement())
            .collect();
        assert_eq!(
            agreement,
            [
                &AsymSpec::EccNistP256,
                &AsymSpec::EccNistP384,
                &AsymSpec::EccNistP521
            ]
        );
        assert!(!AsymSpec::MlDsa44.is_data_key_pair_spec());
        assert!(AsymSpec::EccNistEdwards25519.is_data_key_pair_spec());
    }

    #[test]
    fn lengths() {
        assert_eq!(
            HmacSpec::ALL
                .iter()
                .map(|s| s.key_len())
                .collect::<Vec<_>>(),
            [28, 32, 48, 64]
        );
        assert_eq!(SigningAlgorithm::EcdsaSha384.digest_len(), Some(48));
        assert_eq!(SigningAlgorithm::RsassaPssSha256.digest_len(), Some(32));
        assert_eq!(SigningAlgorithm::Ed25519PhSha512.digest_len(), Some(64));
        assert_eq!(SigningAlgorithm::Ed25519Sha512.digest_len(), None);
        assert_eq!(SigningAlgorithm::MlDsaShake256.digest_len(), None);
    }
}
