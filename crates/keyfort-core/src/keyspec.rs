//! What each key spec is made of and may do: its material, the usages AWS allows for
//! it, and the algorithm lists DescribeKey and GetPublicKey report.

use keyfort_crypto::{AsymKey, AsymSpec, HmacKey, HmacSpec, SymmetricKey};

use crate::error::{KmsError, Result};
use crate::model::{KeySpec, KeyUsage};

/// The family of a key spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecClass {
    /// AES-256-GCM (SYMMETRIC_DEFAULT).
    Symmetric,
    /// RSA, ECC, Ed25519, ML-DSA.
    Asym(AsymSpec),
    /// HMAC.
    Hmac(HmacSpec),
}

/// The class of a spec; SM2 is refused because the crypto library has no SM2.
pub fn class(spec: KeySpec) -> Result<SpecClass> {
    if spec == KeySpec::SymmetricDefault {
        return Ok(SpecClass::Symmetric);
    }
    if let Some(a) = AsymSpec::parse(spec.as_str()) {
        return Ok(SpecClass::Asym(a));
    }
    if let Some(h) = HmacSpec::parse(spec.as_str()) {
        return Ok(SpecClass::Hmac(h));
    }
    Err(KmsError::UnsupportedOperation(format!(
        "KeySpec {spec} is not supported by keyfort: its crypto library (aws-lc) has no SM2 implementation, and keyfort does not fake one."
    )))
}

/// The usages AWS allows for a spec.
pub fn allowed_usages(spec: KeySpec) -> Result<&'static [KeyUsage]> {
    Ok(match class(spec)? {
        SpecClass::Symmetric => &[KeyUsage::EncryptDecrypt],
        SpecClass::Hmac(_) => &[KeyUsage::GenerateVerifyMac],
        SpecClass::Asym(a) if a.supports_encryption() => {
            &[KeyUsage::EncryptDecrypt, KeyUsage::SignVerify]
        }
        SpecClass::Asym(a) if a.supports_key_agreement() => {
            &[KeyUsage::SignVerify, KeyUsage::KeyAgreement]
        }
        SpecClass::Asym(_) => &[KeyUsage::SignVerify],
    })
}

/// Refuses a (spec, usage) pair AWS does not allow.
pub fn check_combination(spec: KeySpec, usage: KeyUsage) -> Result<()> {
    let allowed = allowed_usages(spec)?;
    if !allowed.contains(&usage) {
        let names: Vec<&str> = allowed.iter().map(|u| u.as_str()).collect();
        return Err(KmsError::Validation(format!(
            "KeyUsage {usage} is not compatible with KeySpec {spec}; use {}.",
            names.join(" or ")
        )));
    }
    Ok(())
}

/// The algorithm lists of a key, as DescribeKey and GetPublicKey report them.
#[derive(Debug, Default)]
pub struct Algorithms {
    /// EncryptionAlgorithms.
    pub encryption: Vec<&'static str>,
    /// SigningAlgorithms.
    pub signing: Vec<&'static str>,
    /// MacAlgorithms.
    pub mac: Vec<&'static str>,
    /// KeyAgreementAlgorithms.
    pub key_agreement: Vec<&'static str>,
}

/// The algorithms a key of `spec` and `usage` offers.
pub fn algorithms(spec: KeySpec, usage: KeyUsage) -> Algorithms {
    let mut out = Algorithms::default();
    match (class(spec), usage) {
        (Ok(SpecClass::Symmetric), _) => out.encryption.push("SYMMETRIC_DEFAULT"),
        (Ok(SpecClass::Hmac(h)), _) => out.mac.push(h.mac_algorithm()),
        (Ok(SpecClass::Asym(a)), KeyUsage::EncryptDecrypt) => {
            out.encryption = keyfort_crypto::encryption_algorithms(a)
                .iter()
                .map(|x| x.as_str())
                .collect();
        }
        (Ok(SpecClass::Asym(a)), KeyUsage::SignVerify) => {
            out.signing = keyfort_crypto::signing_algorithms(a)
                .iter()
                .map(|x| x.as_str())
                .collect();
        }
        (Ok(SpecClass::Asym(_)), KeyUsage::KeyAgreement) => out.key_agreement.push("ECDH"),
        _ => {}
    }
    out
}

/// One backing key's material, unsealed and parsed.
pub enum Material {
    /// AES-256.
    Symmetric(SymmetricKey),
    /// A private key (boxed: parsed RSA keys are large).
    Asym(Box<AsymKey>),
    /// An HMAC key (boxed: its prepared state is large).
    Hmac(Box<HmacKey>),
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Material::Symmetric(_) => "Material::Symmetric(<redacted>)",
            Material::Asym(_) => "Material::Asym(<redacted>)",
            Material::Hmac(_) => "Material::Hmac(<redacted>)",
        })
    }
}

/// New material for a spec, as the bytes to seal.
pub fn generate(spec: KeySpec) -> Result<keyfort_crypto::SecretBytes> {
    let bytes = match class(spec)? {
        SpecClass::Symmetric => {
            let k = SymmetricKey::generate().map_err(KmsError::Crypto)?;
            keyfort_crypto::SecretBytes::new(k.expose().to_vec())
        }
        SpecClass::Asym(a) => {
            let p = keyfort_crypto::generate_asym(a).map_err(KmsError::Crypto)?;
            keyfort_crypto::SecretBytes::new(p.expose().to_vec())
        }
        SpecClass::Hmac(h) => {
            let p = keyfort_crypto::generate_hmac(h).map_err(KmsError::Crypto)?;
            keyfort_crypto::SecretBytes::new(p.expose().to_vec())
        }
    };
    Ok(bytes)
}

/// Parses unsealed bytes into material for a spec.
pub fn load(spec: KeySpec, raw: &[u8]) -> Result<Material> {
    Ok(match class(spec)? {
        SpecClass::Symmetric => {
            Material::Symmetric(SymmetricKey::from_bytes(raw).map_err(KmsError::Crypto)?)
        }
        SpecClass::Asym(a) => Material::Asym(Box::new(
            AsymKey::from_private(a, raw).map_err(KmsError::Crypto)?,
        )),
        SpecClass::Hmac(h) => Material::Hmac(Box::new(
            HmacKey::from_bytes(h, raw).map_err(KmsError::Crypto)?,
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_combinations_follow_aws() {
        use KeySpec as S;
        use KeyUsage as U;
        for (spec, usage, ok) in [
            (S::SymmetricDefault, U::EncryptDecrypt, true),
            (S::SymmetricDefault, U::SignVerify, false),
            (S::Rsa2048, U::EncryptDecrypt, true),
            (S::Rsa4096, U::SignVerify, true),
            (S::Rsa2048, U::KeyAgreement, false),
            (S::EccNistP256, U::SignVerify, true),
            (S::EccNistP384, U::KeyAgreement, true),
            (S::EccNistP521, U::EncryptDecrypt, false),
            (S::EccSecgP256k1, U::KeyAgreement, false),
            (S::EccNistEdwards25519, U::SignVerify, true),
            (S::MlDsa65, U::SignVerify, true),
            (S::MlDsa65, U::EncryptDecrypt, false),
            (S::Hmac256, U::GenerateVerifyMac, true),
            (S::Hmac256, U::EncryptDecrypt, false),
        ] {
            assert_eq!(check_combination(spec, usage).is_ok(), ok, "{spec} {usage}");
        }
        assert_eq!(
            class(S::Sm2).map_err(|e| e.code()),
            Err("UnsupportedOperationException")
        );
    }

    #[test]
    fn algorithm_lists() {
        let a = algorithms(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
        assert_eq!(a.encryption, ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
        let a = algorithms(KeySpec::EccNistP384, KeyUsage::SignVerify);
        assert_eq!(a.signing, ["ECDSA_SHA_384"]);
        let a = algorithms(KeySpec::Hmac512, KeyUsage::GenerateVerifyMac);
        assert_eq!(a.mac, ["HMAC_SHA_512"]);
        let a = algorithms(KeySpec::EccNistP256, KeyUsage::KeyAgreement);
        assert_eq!(a.key_agreement, ["ECDH"]);
    }
}
