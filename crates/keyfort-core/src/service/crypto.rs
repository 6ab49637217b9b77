//! The data plane: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
//! GenerateRandom.

use keyfort_crypto::{RsaOaep, SecretBytes, canonical_encryption_context, parse_blob};
use serde::Serialize;

use super::authz::Access;
use super::{Caller, Kms, LiveKey, json, state_error};
use crate::api::wire::{ser_b64, ser_secret_b64};
use crate::api::{Decrypt, Encrypt, EncryptionContext, GenerateDataKey, ReEncrypt};
use crate::error::{KmsError, Result};
use crate::keyspec::Material;
use crate::model::{EncryptionAlgorithm, KeySpec, KeyState, KeyUsage, hex};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EncryptReply {
    #[serde(serialize_with = "ser_b64")]
    ciphertext_blob: Vec<u8>,
    key_id: String,
    encryption_algorithm: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DecryptReply {
    key_id: String,
    #[serde(serialize_with = "ser_secret_b64")]
    plaintext: SecretBytes,
    encryption_algorithm: &'static str,
    key_material_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReEncryptReply {
    #[serde(serialize_with = "ser_b64")]
    ciphertext_blob: Vec<u8>,
    source_key_id: String,
    key_id: String,
    source_encryption_algorithm: &'static str,
    destination_encryption_algorithm: &'static str,
    source_key_material_id: String,
    destination_key_material_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DataKeyReply {
    #[serde(serialize_with = "ser_b64")]
    ciphertext_blob: Vec<u8>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::api::wire::ser_opt_secret_b64"
    )]
    plaintext: Option<SecretBytes>,
    key_id: String,
    key_material_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RandomReply {
    #[serde(serialize_with = "ser_secret_b64")]
    plaintext: SecretBytes,
}

/// Checks that a key can encrypt or decrypt now with `algorithm`.
pub(super) fn require_encrypt_use(key: &LiveKey, algorithm: EncryptionAlgorithm) -> Result<()> {
    let r = &key.record;
    if r.state != KeyState::Enabled {
        return Err(state_error(r));
    }
    if r.usage != KeyUsage::EncryptDecrypt {
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} key usage is {} which is not valid for this operation.",
            r.arn(),
            r.usage
        )));
    }
    let symmetric = r.spec == KeySpec::SymmetricDefault;
    if symmetric != (algorithm == EncryptionAlgorithm::SymmetricDefault) {
        return Err(KmsError::InvalidKeyUsage(format!(
            "The encryption algorithm {algorithm} is not valid for {} (KeySpec {}).",
            r.arn(),
            r.spec
        )));
    }
    Ok(())
}

fn oaep(algorithm: EncryptionAlgorithm) -> Result<RsaOaep> {
    RsaOaep::parse(algorithm.as_str()).ok_or_else(|| {
        KmsError::InvalidKeyUsage(format!("{algorithm} is not an RSA encryption algorithm."))
    })
}

fn no_context(ctx: &EncryptionContext) -> Result<()> {
    if !ctx.is_empty() {
        return Err(KmsError::Validation(
            "EncryptionContext is only valid with symmetric encryption keys; RSA encryption does not support it.".into(),
        ));
    }
    Ok(())
}

fn context_aad(ctx: &EncryptionContext) -> Vec<u8> {
    canonical_encryption_context(ctx.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

impl Kms {
    /// Encrypts under a key's current backing key (already checked with
    /// `require_encrypt_use`). Returns (ciphertext, backing key id).
    pub(super) fn encrypt_with(
        key: &LiveKey,
        algorithm: EncryptionAlgorithm,
        plaintext: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<(Vec<u8>, [u8; 32])> {
        let (bid, material) = key.current()?;
        match material {
            Material::Symmetric(k) => {
                let blob = keyfort_crypto::encrypt_symmetric(
                    k,
                    &key.record.id,
                    bid,
                    plaintext,
                    &context_aad(ctx),
                )
                .map_err(KmsError::Crypto)?;
                Ok((blob, *bid))
            }
            Material::Asym(k) => {
                no_context(ctx)?;
                let alg = oaep(algorithm)?;
                let max = k.rsa_max_plaintext(alg).unwrap_or(0);
                if plaintext.len() > max {
                    return Err(KmsError::Validation(format!(
                        "Plaintext of {} bytes is too long for {} with {algorithm}; the limit is {max} bytes.",
                        plaintext.len(),
                        key.record.spec
                    )));
                }
                let ct = k.rsa_encrypt(alg, plaintext).map_err(KmsError::Crypto)?;
                Ok((ct, *bid))
            }
            Material::Hmac(_) => Err(KmsError::Internal(
                "encrypt with an HMAC key passed the usage check",
            )),
        }
    }

    /// Decrypts a ciphertext for `caller`. Symmetric blobs name their key; RSA
    /// ciphertext needs the key named in the request. Returns the key, the plaintext
    /// and the backing key id.
    fn open_blob(
        &self,
        caller: &Caller<'_>,
        blob: &[u8],
        expected: Option<&crate::arn::KeyRef>,
        access: &Access<'_>,
        algorithm: EncryptionAlgorithm,
        dry_run: bool,
    ) -> Result<(std::sync::Arc<LiveKey>, SecretBytes, [u8; 32])> {
        let empty_context = EncryptionContext::new();
        let ctx = access.encryption_context.unwrap_or(&empty_context);
        let invalid = || {
            KmsError::InvalidCiphertext(
                "The ciphertext is invalid or was not made by this key service.".into(),
            )
        };
        let want = expected
            .map(|k| self.resolve(caller, k, access))
            .transpose()?;
        if let Some(want) = &want {
            if want.record.spec != KeySpec::SymmetricDefault {
                require_encrypt_use(want, algorithm)?;
                no_context(ctx)?;
                if dry_run {
                    return Err(KmsError::DryRun);
                }
                let (bid, material) = want.current()?;
                let Material::Asym(k) = material else {
                    return Err(invalid());
                };
                let plaintext = k
                    .rsa_decrypt(oaep(algorithm)?, blob)
                    .map_err(|_| invalid())?;
                return Ok((std::sync::Arc::clone(want), plaintext, *bid));
            }
        }
        let parsed = parse_blob(blob).map_err(|_| invalid())?;
        // The blob names its key, which may belong to another account (cross-account
        // Decrypt needs no KeyId): the key named in the request was authorized above,
        // any other is authorized here.
        let key = match &want {
            Some(want) if want.record.id == parsed.key_id() => std::sync::Arc::clone(want),
            Some(_) => {
                return Err(KmsError::IncorrectKey(
                    "The key ID in the request does not identify a KMS key that can perform this operation.".into(),
                ));
            }
            None => match self.load_key(caller.region, parsed.key_id())? {
                Some(k) => {
                    if &k.record.account == caller.account() {
                        caller.resources.record(k.arn());
                    }
                    self.authorize_key(caller, &k, access, None)?;
                    k
                }
                None => return Err(Self::key_not_found(caller, parsed.key_id())),
            },
        };
        require_encrypt_use(&key, algorithm)?;
        if dry_run {
            return Err(KmsError::DryRun);
        }
        let bid = *parsed.backing_key_id();
        // A backing key the cache lacks may have been added by another node.
        let key = match key.backing(&bid) {
            Some(_) => key,
            None => match self.refresh_key(&key)? {
                Some(fresh) => {
                    require_encrypt_use(&fresh, algorithm)?;
                    fresh
                }
                None => key,
            },
        };
        let Some(Material::Symmetric(material)) = key.backing(&bid) else {
            return Err(invalid());
        };
        let plaintext = keyfort_crypto::decrypt_symmetric(material, &parsed, &context_aad(ctx))
            .map_err(|_| invalid())?;
        Ok((key, plaintext, bid))
    }

    pub(super) fn encrypt(&self, caller: &Caller<'_>, req: Encrypt) -> Result<Vec<u8>> {
        let access = Access::new("kms:Encrypt")
            .context(&req.context)
            .with("kms:EncryptionAlgorithm", req.algorithm.as_str());
        let key = self.resolve(caller, &req.key, &access)?;
        require_encrypt_use(&key, req.algorithm)?;
        if req.dry_run {
            return Err(KmsError::DryRun);
        }
        let (blob, _) =
            Self::encrypt_with(&key, req.algorithm, req.plaintext.expose(), &req.context)?;
        json(&EncryptReply {
            ciphertext_blob: blob,
            key_id: key.arn(),
            encryption_algorithm: req.algorithm.as_str(),
        })
    }

    pub(super) fn decrypt(&self, caller: &Caller<'_>, req: Decrypt) -> Result<Vec<u8>> {
        let access = Access::new("kms:Decrypt")
            .context(&req.context)
            .with("kms:EncryptionAlgorithm", req.algorithm.as_str());
        let (key, plaintext, bid) = self.open_blob(
            caller,
            &req.ciphertext,
            req.key.as_ref(),
            &access,
            req.algorithm,
            req.dry_run,
        )?;
        json(&DecryptReply {
            key_id: key.arn(),
            plaintext,
            encryption_algorithm: req.algorithm.as_str(),
            key_material_id: hex(&bid),
        })
    }

    pub(super) fn re_encrypt(&self, caller: &Caller<'_>, req: ReEncrypt) -> Result<Vec<u8>> {
        // kms:ReEncryptOnSameKey needs both keys: find them before authorizing either.
        let (dest, dest_alias) = self.find_key(caller, &req.destination_key, "kms:ReEncryptTo")?;
        let source_id = match &req.source_key {
            Some(k) => Some(
                self.find_key(caller, k, "kms:ReEncryptFrom")?
                    .0
                    .record
                    .id
                    .clone(),
            ),
            None => parse_blob(&req.ciphertext)
                .ok()
                .map(|b| b.key_id().to_owned()),
        };
        let same = source_id.as_deref() == Some(dest.record.id.as_str());
        let to = Access::new("kms:ReEncryptTo")
            .context(&req.destination_context)
            .with(
                "kms:EncryptionAlgorithm",
                req.destination_algorithm.as_str(),
            )
            .with_bool("kms:ReEncryptOnSameKey", same);
        self.authorize_key(caller, &dest, &to, dest_alias)?;
        require_encrypt_use(&dest, req.destination_algorithm)?;
        let from = Access::new("kms:ReEncryptFrom")
            .context(&req.source_context)
            .with("kms:EncryptionAlgorithm", req.source_algorithm.as_str())
            .with_bool("kms:ReEncryptOnSameKey", same);
        let (source, plaintext, source_bid) = self.open_blob(
            caller,
            &req.ciphertext,
            req.source_key.as_ref(),
            &from,
            req.source_algorithm,
            req.dry_run,
        )?;
        let (blob, dest_bid) = Self::encrypt_with(
            &dest,
            req.destination_algorithm,
            plaintext.expose(),
            &req.destination_context,
        )?;
        json(&ReEncryptReply {
            ciphertext_blob: blob,
            source_key_id: source.arn(),
            key_id: dest.arn(),
            source_encryption_algorithm: req.source_algorithm.as_str(),
            destination_encryption_algorithm: req.destination_algorithm.as_str(),
            source_key_material_id: hex(&source_bid),
            destination_key_material_id: hex(&dest_bid),
        })
    }

    pub(super) fn generate_data_key(
        &self,
        caller: &Caller<'_>,
        req: GenerateDataKey,
    ) -> Result<Vec<u8>> {
        let action = if req.with_plaintext {
            "kms:GenerateDataKey"
        } else {
            "kms:GenerateDataKeyWithoutPlaintext"
        };
        let access = Access::new(action)
            .context(&req.context)
            .with("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT");
        let key = self.resolve(caller, &req.key, &access)?;
        require_symmetric_key(&key)?;
        if req.dry_run {
            return Err(KmsError::DryRun);
        }
        let data_key =
            keyfort_crypto::random_bytes(req.number_of_bytes).map_err(KmsError::Crypto)?;
        let (blob, bid) = Self::encrypt_with(
            &key,
            EncryptionAlgorithm::SymmetricDefault,
            data_key.expose(),
            &req.context,
        )?;
        json(&DataKeyReply {
            ciphertext_blob: blob,
            plaintext: req.with_plaintext.then_some(data_key),
            key_id: key.arn(),
            key_material_id: hex(&bid),
        })
    }

    pub(super) fn generate_random(&self, caller: &Caller<'_>, n: usize) -> Result<Vec<u8>> {
        self.authorize_identity(caller, &Access::new("kms:GenerateRandom"), "*")?;
        let plaintext = keyfort_crypto::random_bytes(n).map_err(KmsError::Crypto)?;
        json(&RandomReply { plaintext })
    }
}

/// Data keys (and data key pairs) are encrypted only under symmetric encryption keys.
pub(super) fn require_symmetric_key(key: &LiveKey) -> Result<()> {
    let r = &key.record;
    if r.spec != KeySpec::SymmetricDefault {
        if r.state != KeyState::Enabled {
            return Err(state_error(r));
        }
        return Err(KmsError::InvalidKeyUsage(format!(
            "{} is not a symmetric encryption key (KeySpec {}); data keys need one.",
            r.arn(),
            r.spec
        )));
    }
    require_encrypt_use(key, EncryptionAlgorithm::SymmetricDefault)
}
