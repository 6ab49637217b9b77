//! Imported key material (Origin EXTERNAL): GetParametersForImport, ImportKeyMaterial,
//! DeleteImportedKeyMaterial, and the expiry the server's scheduler runs
//! ([`Kms::run_material_expiry`]).
//!
//! Wrapping keys live only in memory: GetParametersForImport makes a fresh RSA key pair
//! and an import token (random bytes naming it), valid for 24 hours and bound to the
//! key it was issued for. A token is therefore usable only on the node that issued it,
//! and not after a restart (the caller asks again); no wrapping private key ever
//! reaches the store. Imported material is sealed under the root key like generated
//! material; the plaintext lives only in zeroizing buffers.

use std::collections::HashMap;
use std::sync::Arc;

use keyfort_crypto::{AsymKey, AsymSpec, ImportWrapping, SecretBytes};
use serde::Serialize;

use super::{Caller, Kms, json};
use crate::api::wire::{ser_b64, ser_epoch};
use crate::api::{GetParametersForImport, ImportKeyMaterial};
use crate::arn::KeyRef;
use crate::clock::DAY_MS;
use crate::error::{KmsError, Result};
use crate::model::{
    BackingKeyRecord, ExpirationModel, ImportState, ImportType, ImportedMaterial, KeyRecord,
    KeySpec, KeyState, Origin, WrappingAlgorithm, WrappingKeySpec, hex,
};

/// How long a wrapping key and its import token are valid.
pub const IMPORT_PARAMETERS_VALID_MS: i64 = DAY_MS;
/// The latest ValidTo ImportKeyMaterial accepts, from now.
pub const MAX_VALID_TO_MS: i64 = 365 * DAY_MS;
/// Outstanding import tokens kept per key; older ones are dropped.
const TOKENS_PER_KEY: usize = 8;
/// Import tokens start with these bytes (then a version byte and 32 random bytes).
const TOKEN_MAGIC: &[u8; 4] = b"KFIT";
const TOKEN_LEN: usize = 4 + 1 + 32;

/// One outstanding GetParametersForImport.
pub(crate) struct ImportParameters {
    region: String,
    key_id: String,
    wrapping_key: Arc<AsymKey>,
    algorithm: ImportWrapping,
    issued_ms: i64,
    valid_to_ms: i64,
}

/// Outstanding import parameters by token id.
#[derive(Default)]
pub(crate) struct ImportTokens(HashMap<[u8; 32], ImportParameters>);

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ParametersReply {
    key_id: String,
    #[serde(serialize_with = "ser_b64")]
    import_token: Vec<u8>,
    #[serde(serialize_with = "ser_b64")]
    public_key: Vec<u8>,
    #[serde(serialize_with = "ser_epoch")]
    parameters_valid_to: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MaterialReply {
    key_id: String,
    key_material_id: String,
}

/// The KeyMaterialId of imported material: computed from the key id and the material,
/// as AWS does, so a reimport can be recognised after the material itself is gone.
pub(crate) fn imported_material_id(key_id: &str, material: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(48 + key_id.len() + material.len());
    input.extend_from_slice(b"keyfort:imported-key-material-id:v1|");
    input.extend_from_slice(key_id.as_bytes());
    input.push(b'|');
    input.extend_from_slice(material);
    let id = keyfort_crypto::sha256(&input);
    zeroize::Zeroize::zeroize(&mut input);
    id
}

/// The key must be EXTERNAL; importing also needs it not pending deletion (deleting
/// imported material is allowed then, as in AWS, and leaves the state alone).
fn require_external(r: &KeyRecord, importing: bool) -> Result<()> {
    if r.origin != Origin::External {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} has Origin {}; key material can be imported only into keys with Origin EXTERNAL.",
            r.arn(),
            r.origin
        )));
    }
    if importing && r.state == KeyState::PendingDeletion {
        return Err(super::state_error(r));
    }
    Ok(())
}

fn wrapping(alg: WrappingAlgorithm) -> Result<ImportWrapping> {
    match alg {
        WrappingAlgorithm::RsaesOaepSha1 => Ok(ImportWrapping::RsaOaepSha1),
        WrappingAlgorithm::RsaesOaepSha256 => Ok(ImportWrapping::RsaOaepSha256),
        WrappingAlgorithm::RsaAesKeyWrapSha1 => Ok(ImportWrapping::RsaAesKeyWrapSha1),
        WrappingAlgorithm::RsaAesKeyWrapSha256 => Ok(ImportWrapping::RsaAesKeyWrapSha256),
        WrappingAlgorithm::RsaesPkcs1V15 => Err(KmsError::UnsupportedOperation(
            "The RSAES_PKCS1_V1_5 wrapping algorithm is no longer supported by AWS KMS; use RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256.".into(),
        )),
        WrappingAlgorithm::Sm2Pke => Err(KmsError::UnsupportedOperation(
            "SM2PKE wrapping needs SM2, which keyfort's crypto library does not implement.".into(),
        )),
    }
}

/// Marks imported material as gone: zero-length sealed bytes (the store overwrites the
/// old ones first) and PENDING_IMPORT. As in AWS, losing any material that is
/// permanently associated with the key (anything but material pending rotation) puts
/// an Enabled or Disabled key in PendingImport; a key pending deletion stays so.
fn remove_material(r: &mut KeyRecord, id: &[u8; 32]) {
    let mut permanent = false;
    if let Some(b) = r.backing_keys.iter_mut().find(|b| &b.id == id) {
        permanent = !b.is_pending_rotation();
        b.sealed.clear();
        if let Some(imp) = b.import.as_mut() {
            imp.state = ImportState::PendingImport;
        }
    }
    if permanent && matches!(r.state, KeyState::Enabled | KeyState::Disabled) {
        r.state = KeyState::PendingImport;
    }
}

/// Whether every material permanently associated with the key is present.
pub(super) fn all_permanent_present(r: &KeyRecord) -> bool {
    r.current_backing_key().is_some()
        && r.backing_keys
            .iter()
            .filter(|b| !b.is_pending_rotation())
            .all(BackingKeyRecord::is_present)
}

impl Kms {
    pub(super) fn get_parameters_for_import(
        &self,
        caller: &Caller<'_>,
        req: GetParametersForImport,
    ) -> Result<Vec<u8>> {
        let access = super::authz::Access::new("kms:GetParametersForImport")
            .with("kms:WrappingAlgorithm", req.algorithm.as_str())
            .with("kms:WrappingKeySpec", req.wrapping_key_spec.as_str());
        let live = self.resolve(caller, &req.key, &access)?;
        require_external(&live.record, true)?;
        let algorithm = wrapping(req.algorithm)?;
        let spec = match req.wrapping_key_spec {
            WrappingKeySpec::Rsa2048 => AsymSpec::Rsa2048,
            WrappingKeySpec::Rsa3072 => AsymSpec::Rsa3072,
            WrappingKeySpec::Rsa4096 => AsymSpec::Rsa4096,
            WrappingKeySpec::Sm2 => {
                return Err(KmsError::UnsupportedOperation(
                    "SM2 wrapping keys need SM2, which keyfort's crypto library does not implement."
                        .into(),
                ));
            }
        };
        let private = keyfort_crypto::generate_asym(spec).map_err(KmsError::Crypto)?;
        let wrapping_key =
            AsymKey::from_private(spec, private.expose()).map_err(KmsError::Crypto)?;
        let public_key = wrapping_key.public_key_der().map_err(KmsError::Crypto)?;
        let mut token_id = [0u8; 32];
        keyfort_crypto::fill_random(&mut token_id).map_err(KmsError::Crypto)?;
        let now = self.now_ms();
        let valid_to_ms = now + IMPORT_PARAMETERS_VALID_MS;
        {
            let mut tokens = self.imports.lock().unwrap_or_else(|e| e.into_inner());
            tokens.0.retain(|_, p| p.valid_to_ms > now);
            let mut mine: Vec<([u8; 32], i64)> = tokens
                .0
                .iter()
                .filter(|(_, p)| p.key_id == live.record.id && p.region == live.record.region)
                .map(|(id, p)| (*id, p.issued_ms))
                .collect();
            if mine.len() >= TOKENS_PER_KEY {
                mine.sort_by_key(|(_, issued)| *issued);
                for (id, _) in &mine[..=mine.len() - TOKENS_PER_KEY] {
                    tokens.0.remove(id);
                }
            }
            tokens.0.insert(
                token_id,
                ImportParameters {
                    region: live.record.region.clone(),
                    key_id: live.record.id.clone(),
                    wrapping_key: Arc::new(wrapping_key),
                    algorithm,
                    issued_ms: now,
                    valid_to_ms,
                },
            );
        }
        let mut import_token = Vec::with_capacity(TOKEN_LEN);
        import_token.extend_from_slice(TOKEN_MAGIC);
        import_token.push(1);
        import_token.extend_from_slice(&token_id);
        json(&ParametersReply {
            key_id: live.arn(),
            import_token,
            public_key,
            parameters_valid_to: valid_to_ms,
        })
    }

    /// Finds the parameters of a token issued for `r`.
    fn import_parameters(
        &self,
        r: &KeyRecord,
        token: &[u8],
    ) -> Result<(Arc<AsymKey>, ImportWrapping)> {
        let invalid = || {
            KmsError::InvalidImportToken(
                "The import token is invalid or was not issued for this KMS key.".into(),
            )
        };
        if token.len() != TOKEN_LEN || &token[..4] != TOKEN_MAGIC || token[4] != 1 {
            return Err(invalid());
        }
        let mut id = [0u8; 32];
        id.copy_from_slice(&token[5..]);
        let tokens = self.imports.lock().unwrap_or_else(|e| e.into_inner());
        let p = tokens.0.get(&id).ok_or_else(invalid)?;
        if p.key_id != r.id || p.region != r.region {
            return Err(invalid());
        }
        if self.now_ms() >= p.valid_to_ms {
            return Err(KmsError::ExpiredImportToken(
                "The import token has expired; call GetParametersForImport again.".into(),
            ));
        }
        Ok((Arc::clone(&p.wrapping_key), p.algorithm))
    }

    pub(super) fn import_key_material(
        &self,
        caller: &Caller<'_>,
        req: ImportKeyMaterial,
    ) -> Result<Vec<u8>> {
        let now = self.now_ms();
        let _w = self.lock_writer();
        let access = super::authz::Access::new("kms:ImportKeyMaterial")
            .with("kms:ExpirationModel", req.expiration.as_str());
        let mut r = self.resolve_for_write(caller, &req.key, &access)?;
        require_external(&r, true)?;
        let (wrapping_key, algorithm) = self.import_parameters(&r, &req.import_token)?;
        let material: SecretBytes =
            keyfort_crypto::unwrap_key_material(&wrapping_key, algorithm, &req.encrypted_key_material)
                .map_err(|_| {
                    KmsError::InvalidCiphertext(
                        "The encrypted key material could not be unwrapped with the wrapping key of this import token.".into(),
                    )
                })?;
        // The material must be a key of the key's spec (loading it checks that).
        crate::keyspec::load(r.spec, material.expose()).map_err(|_| {
            KmsError::IncorrectKeyMaterial(format!(
                "The imported key material is not valid {} key material.",
                r.spec
            ))
        })?;
        if let Some(valid_to) = req.valid_to_ms {
            if valid_to <= now || valid_to > now + MAX_VALID_TO_MS {
                return Err(KmsError::Validation(
                    "ValidTo must be in the future and at most 365 days from now.".into(),
                ));
            }
        }
        let id = imported_material_id(&r.id, material.expose());
        let sealed = self
            .root
            .seal(material.expose(), &Self::backing_aad(&r.id, &id))
            .map_err(KmsError::Crypto)?;
        drop(material);
        let import_type = req.import_type.unwrap_or(if r.backing_keys.is_empty() {
            ImportType::NewKeyMaterial
        } else {
            ImportType::ExistingKeyMaterial
        });
        let info = |description: Option<String>, pending_rotation: bool| ImportedMaterial {
            state: ImportState::Imported,
            expiration: req.expiration,
            valid_to_ms: if req.expiration == ExpirationModel::Expires {
                req.valid_to_ms
            } else {
                None
            },
            description: description.unwrap_or_default(),
            pending_rotation,
        };
        match import_type {
            ImportType::NewKeyMaterial => {
                if r.backing_keys.iter().any(|b| b.id == id) {
                    return Err(KmsError::IncorrectKeyMaterial(
                        "This key material is already associated with the KMS key; reimport it with ImportType EXISTING_KEY_MATERIAL.".into(),
                    ));
                }
                let first = r.backing_keys.is_empty();
                if !first {
                    if r.spec != KeySpec::SymmetricDefault {
                        return Err(KmsError::IncorrectKeyMaterial(format!(
                            "{} already has key material; asymmetric and HMAC keys cannot take new key material.",
                            r.arn()
                        )));
                    }
                    if r.backing_keys
                        .iter()
                        .any(|b| b.is_pending_rotation() && b.is_present())
                    {
                        return Err(KmsError::UnsupportedOperation(format!(
                            "{} already has key material pending rotation; rotate to it (RotateKeyOnDemand) or delete it first.",
                            r.arn()
                        )));
                    }
                }
                r.backing_keys.push(BackingKeyRecord {
                    id,
                    sealed,
                    created_ms: now,
                    rotation_type: None,
                    rotated_ms: None,
                    import: Some(info(req.description, !first)),
                });
            }
            ImportType::ExistingKeyMaterial => {
                if req.key_material_id.is_some_and(|want| want != id) {
                    return Err(KmsError::IncorrectKeyMaterial(
                        "The key material does not match the KeyMaterialId in the request.".into(),
                    ));
                }
                let Some(b) = r.backing_keys.iter_mut().find(|b| b.id == id) else {
                    return Err(KmsError::IncorrectKeyMaterial(format!(
                        "The key material is not the key material previously imported into {}.",
                        r.arn()
                    )));
                };
                let old = b.import.take();
                let pending = old.as_ref().is_some_and(|i| i.pending_rotation);
                let description = req.description.or_else(|| old.map(|i| i.description));
                b.sealed = sealed;
                b.import = Some(info(description, pending));
            }
        }
        if r.state == KeyState::PendingImport && all_permanent_present(&r) {
            r.state = KeyState::Enabled;
        }
        self.store.update_key(&r)?;
        let arn = r.arn();
        self.cache_key(r)?;
        json(&MaterialReply {
            key_id: arn,
            key_material_id: hex(&id),
        })
    }

    pub(super) fn delete_imported_key_material(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        material_id: Option<&[u8; 32]>,
    ) -> Result<Vec<u8>> {
        let access = super::authz::Access::new("kms:DeleteImportedKeyMaterial");
        let ((), r) = self.mutate_key(caller, key, &access, |r| {
            require_external(r, false)?;
            let target = match material_id {
                Some(id) => *id,
                None => match r.current_backing_key() {
                    Some(b) => b.id,
                    None => {
                        return Err(KmsError::InvalidState(format!(
                            "{} has no imported key material.",
                            r.arn()
                        )));
                    }
                },
            };
            if !r.backing_keys.iter().any(|b| b.id == target) {
                return Err(KmsError::NotFound(format!(
                    "Key material {} is not associated with {}.",
                    hex(&target),
                    r.arn()
                )));
            }
            remove_material(r, &target);
            Ok(())
        })?;
        self.note_destroyed();
        let id = material_id
            .copied()
            .or_else(|| r.current_backing_key().map(|b| b.id))
            .map(|id| hex(&id))
            .unwrap_or_default();
        json(&MaterialReply {
            key_id: r.arn(),
            key_material_id: id,
        })
    }

    /// Deletes imported material whose ValidTo has passed (a key whose current
    /// material expires goes to PendingImport). Returns the ARNs of the keys touched,
    /// for the audit trail.
    pub fn run_material_expiry(&self) -> Result<Vec<String>> {
        let now = self.now_ms();
        let mut done = Vec::new();
        for (region, id) in self.store.keys_with_expired_material(now)? {
            let _w = self.lock_writer();
            let Some(mut r) = self.store.get_key(&region, &id)? else {
                continue;
            };
            let expired: Vec<[u8; 32]> = r
                .backing_keys
                .iter()
                .filter(|b| {
                    b.import.as_ref().is_some_and(|i| {
                        i.state == ImportState::Imported && i.valid_to_ms.is_some_and(|t| t <= now)
                    })
                })
                .map(|b| b.id)
                .collect();
            if expired.is_empty() {
                continue;
            }
            for bid in &expired {
                remove_material(&mut r, bid);
            }
            self.store.update_key(&r)?;
            self.note_destroyed();
            let arn = r.arn();
            self.cache_key(r)?;
            tracing::info!(key_id = %id, %region, count = expired.len(), "imported key material expired and was deleted");
            done.push(arn);
        }
        Ok(done)
    }
}
