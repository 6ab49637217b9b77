//! Asymmetric, HMAC and key-agreement operations: Sign, Verify, GetPublicKey,
//! GenerateMac, VerifyMac, DeriveSharedSecret, GenerateDataKeyPair(WithoutPlaintext).

use keyfort_crypto::{AsymKey, SecretBytes};
use serde::Serialize;

use super::authz::Access;
use super::crypto::require_symmetric_key;
use super::{Caller, Kms, LiveKey, json, state_error};
use crate::api::wire::{ser_b64, ser_secret_b64};
use crate::api::{GenerateDataKeyPair, Mac, SignVerify};
use crate::arn::KeyRef;
use crate::error::{KmsError, Result};
use crate::keyspec::{self, Material};
use crate::model::{EncryptionAlgorithm, KeyState, KeyUsage, hex};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SignReply {
    key_id: String,
    #[serde(serialize_with = "ser_b64")]
    signature: Vec<u8>,
    signing_algorithm: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyReply {
    key_id: String,
    signature_valid: bool,
    signing_algorithm: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PublicKeyReply {
    key_id: String,
    #[serde(serialize_with = "ser_b64")]
    public_key: Vec<u8>,
    customer_master_key_spec: &'static str,
    key_spec: &'static str,
    key_usage: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    encryption_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    signing_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    key_agreement_algorithms: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MacReply {
    #[serde(serialize_with = "ser_b64")]
    mac: Vec<u8>,
    mac_algorithm: &'static str,
    key_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyMacReply {
    key_id: String,
    mac_valid: bool,
    mac_algorithm: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SharedSecretReply {
    key_id: String,
    #[serde(serialize_with = "ser_secret_b64")]
    shared_secret: SecretBytes,
    key_agreement_algorithm: &'static str,
    key_origin: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DataKeyPairReply {
    #[serde(serialize_with = "ser_b64")]
    private_key_ciphertext_blob: Vec<u8>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::api::wire::ser_opt_secret_b64"
    )]
    private_key_plaintext: Option<SecretBytes>,
    #[serde(serialize_with = "ser_b64")]
    public_key: Vec<u8>,
    key_id: String,
    key_pair_spec: &'static str,
    key_material_id: String,
}

/// Checks state and usage, then returns the current material.
fn usable(key: &LiveKey, usage: KeyUsage) -> Result<&Material> {
    let r = &key.record;
    if r.state != KeyState::Enabled {
        return Err(state_error(r));
    }
    if r.usage != usage {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key usage is {} which is not valid for this operation (it needs {usage}).",
            r.arn(),
            r.usage
        )));
    }
    Ok(key.current()?.1)
}

fn asym(material: &Material) -> Result<&AsymKey> {
    match material {
        Material::Asym(k) => Ok(k),
        _ => Err(KmsError::Internal(
            "asymmetric usage on non-asymmetric material",
        )),
    }
}

/// Maps a crypto error from an operation on caller-supplied input to AWS's error;
/// anything else is internal.
fn input_error(e: keyfort_crypto::Error) -> KmsError {
    use keyfort_crypto::Error as E;
    match e {
        E::DigestLength { expected, got } => KmsError::Validation(format!(
            "The digest is {got} bytes; the signing algorithm needs exactly {expected} (MessageType DIGEST)."
        )),
        E::InvalidMessageType { algorithm, kind } => KmsError::Validation(format!(
            "MessageType {kind} is not valid with signing algorithm {algorithm}."
        )),
        E::UnsupportedMessageType { algorithm, kind } => KmsError::UnsupportedOperation(format!(
            "MessageType {kind} with {algorithm} is not supported by keyfort's crypto library."
        )),
        E::UnsupportedAlgorithm(what) => KmsError::UnsupportedOperation(format!(
            "Not supported by keyfort's crypto library: {what}"
        )),
        E::InvalidPeerKey(why) => KmsError::Validation(format!(
            "PublicKey is not a DER SubjectPublicKeyInfo of a point on the key's curve: {why}."
        )),
        other => KmsError::Crypto(other),
    }
}

impl Kms {
    fn signing_key(
        &self,
        caller: &Caller<'_>,
        req: &SignVerify,
    ) -> Result<(std::sync::Arc<LiveKey>, ())> {
        let action = if req.signature.is_some() {
            "kms:Verify"
        } else {
            "kms:Sign"
        };
        let access = Access::new(action)
            .with("kms:SigningAlgorithm", req.algorithm.as_str())
            .with("kms:MessageType", req.message_type.as_str());
        let key = self.resolve(caller, &req.key, &access)?;
        {
            let material = usable(&key, KeyUsage::SignVerify)?;
            let k = asym(material)?;
            if !keyfort_crypto::signing_algorithms(k.spec()).contains(&req.algorithm) {
                return Err(KmsError::InvalidKeyUsage(format!(
                    "Signing algorithm {} is not compatible with {} (KeySpec {}).",
                    req.algorithm,
                    key.arn(),
                    key.record.spec
                )));
            }
        }
        if req.dry_run {
            return Err(KmsError::DryRun);
        }
        Ok((key, ()))
    }

    pub(super) fn sign(&self, caller: &Caller<'_>, req: SignVerify) -> Result<Vec<u8>> {
        let (key, ()) = self.signing_key(caller, &req)?;
        let k = asym(key.current()?.1)?;
        let signature = k
            .sign(req.algorithm, req.message_type, req.message.expose())
            .map_err(input_error)?;
        json(&SignReply {
            key_id: key.arn(),
            signature,
            signing_algorithm: req.algorithm.as_str(),
        })
    }

    pub(super) fn verify(&self, caller: &Caller<'_>, req: SignVerify) -> Result<Vec<u8>> {
        let (key, ()) = self.signing_key(caller, &req)?;
        let k = asym(key.current()?.1)?;
        let signature = req.signature.as_deref().unwrap_or_default();
        let valid = k
            .verify(
                req.algorithm,
                req.message_type,
                req.message.expose(),
                signature,
            )
            .map_err(input_error)?;
        if !valid {
            return Err(KmsError::InvalidSignature(
                "The signature is not valid for this message, key and algorithm.".into(),
            ));
        }
        json(&VerifyReply {
            key_id: key.arn(),
            signature_valid: true,
            signing_algorithm: req.algorithm.as_str(),
        })
    }

    pub(super) fn get_public_key(&self, caller: &Caller<'_>, key: &KeyRef) -> Result<Vec<u8>> {
        let key = self.resolve(caller, key, &Access::new("kms:GetPublicKey"))?;
        let r = &key.record;
        if r.state != KeyState::Enabled {
            return Err(state_error(r));
        }
        let Material::Asym(k) = key.current()?.1 else {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} is a {} key; only asymmetric keys have a public key.",
                r.arn(),
                r.spec
            )));
        };
        let algs = keyspec::algorithms(r.spec, r.usage);
        json(&PublicKeyReply {
            key_id: r.arn(),
            public_key: k.public_key_der().map_err(KmsError::Crypto)?,
            customer_master_key_spec: r.spec.as_str(),
            key_spec: r.spec.as_str(),
            key_usage: r.usage.as_str(),
            encryption_algorithms: algs.encryption,
            signing_algorithms: algs.signing,
            key_agreement_algorithms: algs.key_agreement,
        })
    }

    fn mac_key(&self, caller: &Caller<'_>, req: &Mac) -> Result<std::sync::Arc<LiveKey>> {
        let action = if req.mac.is_some() {
            "kms:VerifyMac"
        } else {
            "kms:GenerateMac"
        };
        let access = Access::new(action).with("kms:MacAlgorithm", req.algorithm.as_str());
        let key = self.resolve(caller, &req.key, &access)?;
        {
            let Material::Hmac(h) = usable(&key, KeyUsage::GenerateVerifyMac)? else {
                return Err(KmsError::Internal("MAC usage on non-HMAC material"));
            };
            if h.spec().mac_algorithm() != req.algorithm.as_str() {
                return Err(KmsError::InvalidKeyUsage(format!(
                    "MAC algorithm {} is not compatible with {} (KeySpec {}).",
                    req.algorithm,
                    key.arn(),
                    key.record.spec
                )));
            }
        }
        if req.dry_run {
            return Err(KmsError::DryRun);
        }
        Ok(key)
    }

    pub(super) fn generate_mac(&self, caller: &Caller<'_>, req: Mac) -> Result<Vec<u8>> {
        let key = self.mac_key(caller, &req)?;
        let Material::Hmac(h) = key.current()?.1 else {
            return Err(KmsError::Internal("not HMAC"));
        };
        json(&MacReply {
            mac: h.mac(req.message.expose()),
            mac_algorithm: req.algorithm.as_str(),
            key_id: key.arn(),
        })
    }

    pub(super) fn verify_mac(&self, caller: &Caller<'_>, req: Mac) -> Result<Vec<u8>> {
        let key = self.mac_key(caller, &req)?;
        let Material::Hmac(h) = key.current()?.1 else {
            return Err(KmsError::Internal("not HMAC"));
        };
        if !h.verify(req.message.expose(), req.mac.as_deref().unwrap_or_default()) {
            return Err(KmsError::InvalidMac(
                "The MAC is not valid for this message, key and algorithm.".into(),
            ));
        }
        json(&VerifyMacReply {
            key_id: key.arn(),
            mac_valid: true,
            mac_algorithm: req.algorithm.as_str(),
        })
    }

    pub(super) fn derive_shared_secret(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        public_key: &[u8],
        dry_run: bool,
    ) -> Result<Vec<u8>> {
        let access =
            Access::new("kms:DeriveSharedSecret").with("kms:KeyAgreementAlgorithm", "ECDH");
        let key = self.resolve(caller, key, &access)?;
        let k = asym(usable(&key, KeyUsage::KeyAgreement)?)?;
        if dry_run {
            return Err(KmsError::DryRun);
        }
        let shared_secret = k.derive_shared_secret(public_key).map_err(input_error)?;
        json(&SharedSecretReply {
            key_id: key.arn(),
            shared_secret,
            key_agreement_algorithm: "ECDH",
            key_origin: key.record.origin.as_str(),
        })
    }

    pub(super) fn generate_data_key_pair(
        &self,
        caller: &Caller<'_>,
        req: GenerateDataKeyPair,
    ) -> Result<Vec<u8>> {
        let action = if req.with_plaintext {
            "kms:GenerateDataKeyPair"
        } else {
            "kms:GenerateDataKeyPairWithoutPlaintext"
        };
        let access = Access::new(action)
            .context(&req.context)
            .with("kms:DataKeyPairSpec", req.spec.as_str())
            .with("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        let key = self.resolve(caller, &req.key, &access)?;
        require_symmetric_key(&key)?;
        if req.dry_run {
            return Err(KmsError::DryRun);
        }
        let (private, public_key) =
            keyfort_crypto::generate_data_key_pair(req.spec).map_err(input_error)?;
        let (blob, bid) = Self::encrypt_with(
            &key,
            EncryptionAlgorithm::SymmetricDefault,
            private.expose(),
            &req.context,
        )?;
        json(&DataKeyPairReply {
            private_key_ciphertext_blob: blob,
            private_key_plaintext: req
                .with_plaintext
                .then(|| SecretBytes::new(private.expose().to_vec())),
            public_key,
            key_id: key.arn(),
            key_pair_spec: req.spec.as_str(),
            key_material_id: hex(&bid),
        })
    }
}
