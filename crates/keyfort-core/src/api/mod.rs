//! Typed KMS operations, decoded from the JSON 1.1 wire with every field limit of
//! botocore's model checked here (ValidationException), so handlers never see raw JSON.

mod audit_params;
mod grants;
mod material;
pub mod wire;

pub use audit_params::is_read_only;
pub use grants::{
    CreateGrant, GrantRef, GrantToken, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant,
};
pub use material::{GetParametersForImport, ImportKeyMaterial, ListKeyRotations};

use std::collections::BTreeMap;

use keyfort_crypto::{AsymSpec, MessageKind, SecretBytes, SigningAlgorithm};

use crate::arn::{KeyRef, is_alias_name};
use crate::error::KmsError;
use crate::model::{
    DataKeySpec, EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm, Origin, Tag,
};
use wire::{Blob, Req, SecretBlob, WireTag};

/// An encryption context: sorted, so its canonical form is its iteration order.
pub type EncryptionContext = BTreeMap<String, String>;

/// CreateKey.
#[derive(Debug)]
pub struct CreateKey {
    /// Key policy; the default policy when absent.
    pub policy: Option<String>,
    /// Description.
    pub description: String,
    /// Usage.
    pub usage: KeyUsage,
    /// Spec.
    pub spec: KeySpec,
    /// Origin.
    pub origin: Origin,
    /// Whether the lockout safety check is skipped.
    pub bypass_policy_lockout_safety_check: bool,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Multi-Region.
    pub multi_region: bool,
    /// A custom key store (keyfort has none).
    pub custom_key_store_id: Option<String>,
}

/// Encrypt.
#[derive(Debug)]
pub struct Encrypt {
    /// Key.
    pub key: KeyRef,
    /// Plaintext, 1..4096 bytes.
    pub plaintext: SecretBytes,
    /// Encryption context.
    pub context: EncryptionContext,
    /// Algorithm.
    pub algorithm: EncryptionAlgorithm,
    /// DryRun.
    pub dry_run: bool,
}

/// Decrypt.
#[derive(Debug)]
pub struct Decrypt {
    /// Optional key the caller expects.
    pub key: Option<KeyRef>,
    /// The blob.
    pub ciphertext: Vec<u8>,
    /// Encryption context.
    pub context: EncryptionContext,
    /// Algorithm.
    pub algorithm: EncryptionAlgorithm,
    /// DryRun.
    pub dry_run: bool,
}

/// ReEncrypt.
#[derive(Debug)]
pub struct ReEncrypt {
    /// The blob.
    pub ciphertext: Vec<u8>,
    /// Source context.
    pub source_context: EncryptionContext,
    /// Optional source key.
    pub source_key: Option<KeyRef>,
    /// Destination key.
    pub destination_key: KeyRef,
    /// Destination context.
    pub destination_context: EncryptionContext,
    /// Source algorithm.
    pub source_algorithm: EncryptionAlgorithm,
    /// Destination algorithm.
    pub destination_algorithm: EncryptionAlgorithm,
    /// DryRun.
    pub dry_run: bool,
}

/// GenerateDataKey and GenerateDataKeyWithoutPlaintext.
#[derive(Debug)]
pub struct GenerateDataKey {
    /// Key.
    pub key: KeyRef,
    /// Context.
    pub context: EncryptionContext,
    /// Data key length in bytes.
    pub number_of_bytes: usize,
    /// Whether the plaintext is returned.
    pub with_plaintext: bool,
    /// DryRun.
    pub dry_run: bool,
}

/// Sign and Verify.
#[derive(Debug)]
pub struct SignVerify {
    /// Key.
    pub key: KeyRef,
    /// The message or digest, 1..4096 bytes.
    pub message: SecretBytes,
    /// RAW, DIGEST or EXTERNAL_MU.
    pub message_type: MessageKind,
    /// Algorithm.
    pub algorithm: SigningAlgorithm,
    /// The signature to check (Verify only).
    pub signature: Option<Vec<u8>>,
    /// DryRun.
    pub dry_run: bool,
}

/// GenerateMac and VerifyMac.
#[derive(Debug)]
pub struct Mac {
    /// Key.
    pub key: KeyRef,
    /// The message, 1..4096 bytes.
    pub message: SecretBytes,
    /// Algorithm.
    pub algorithm: MacAlgorithm,
    /// The MAC to check (VerifyMac only).
    pub mac: Option<Vec<u8>>,
    /// DryRun.
    pub dry_run: bool,
}

/// GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext.
#[derive(Debug)]
pub struct GenerateDataKeyPair {
    /// The symmetric key that encrypts the private key.
    pub key: KeyRef,
    /// Context.
    pub context: EncryptionContext,
    /// The pair's spec.
    pub spec: AsymSpec,
    /// Whether the plaintext private key is returned.
    pub with_plaintext: bool,
    /// DryRun.
    pub dry_run: bool,
}

/// A list request's page.
#[derive(Debug, Clone)]
pub struct ListPage {
    /// 1..1000, default 100.
    pub limit: usize,
    /// The marker of the previous page.
    pub marker: Option<String>,
}

/// A typed KMS operation.
#[derive(Debug)]
pub enum Operation {
    /// CreateKey.
    CreateKey(CreateKey),
    /// DescribeKey.
    DescribeKey(KeyRef),
    /// ListKeys.
    ListKeys(ListPage),
    /// EnableKey.
    EnableKey(KeyRef),
    /// DisableKey.
    DisableKey(KeyRef),
    /// ScheduleKeyDeletion.
    ScheduleKeyDeletion {
        /// Key.
        key: KeyRef,
        /// 7..30.
        pending_window_days: u32,
    },
    /// CancelKeyDeletion.
    CancelKeyDeletion(KeyRef),
    /// UpdateKeyDescription.
    UpdateKeyDescription {
        /// Key.
        key: KeyRef,
        /// New description.
        description: String,
    },
    /// Encrypt.
    Encrypt(Encrypt),
    /// Decrypt.
    Decrypt(Decrypt),
    /// ReEncrypt.
    ReEncrypt(ReEncrypt),
    /// GenerateDataKey / GenerateDataKeyWithoutPlaintext.
    GenerateDataKey(GenerateDataKey),
    /// GenerateRandom.
    GenerateRandom {
        /// 1..1024.
        number_of_bytes: usize,
    },
    /// CreateAlias.
    CreateAlias {
        /// `alias/...`.
        name: String,
        /// Target key.
        target: KeyRef,
    },
    /// UpdateAlias.
    UpdateAlias {
        /// `alias/...`.
        name: String,
        /// New target key.
        target: KeyRef,
    },
    /// DeleteAlias.
    DeleteAlias {
        /// `alias/...`.
        name: String,
    },
    /// ListAliases.
    ListAliases {
        /// Only aliases of this key.
        key: Option<KeyRef>,
        /// Page.
        page: ListPage,
    },
    /// TagResource.
    TagResource {
        /// Key.
        key: KeyRef,
        /// Tags to add or overwrite.
        tags: Vec<Tag>,
    },
    /// UntagResource.
    UntagResource {
        /// Key.
        key: KeyRef,
        /// Tag keys to remove.
        tag_keys: Vec<String>,
    },
    /// ListResourceTags.
    ListResourceTags {
        /// Key.
        key: KeyRef,
        /// Page.
        page: ListPage,
    },
    /// GetKeyPolicy.
    GetKeyPolicy {
        /// Key.
        key: KeyRef,
        /// Always `default` in practice.
        policy_name: String,
    },
    /// PutKeyPolicy.
    PutKeyPolicy {
        /// Key.
        key: KeyRef,
        /// Must be `default`.
        policy_name: String,
        /// The document.
        policy: String,
        /// Whether the lockout safety check is skipped.
        bypass_policy_lockout_safety_check: bool,
    },
    /// ListKeyPolicies.
    ListKeyPolicies {
        /// Key.
        key: KeyRef,
        /// Page.
        page: ListPage,
    },
    /// Sign.
    Sign(SignVerify),
    /// Verify.
    Verify(SignVerify),
    /// GetPublicKey.
    GetPublicKey(KeyRef),
    /// GenerateMac.
    GenerateMac(Mac),
    /// VerifyMac.
    VerifyMac(Mac),
    /// DeriveSharedSecret.
    DeriveSharedSecret {
        /// Key.
        key: KeyRef,
        /// The peer's public key, DER SubjectPublicKeyInfo.
        public_key: Vec<u8>,
        /// DryRun.
        dry_run: bool,
    },
    /// GenerateDataKeyPair / GenerateDataKeyPairWithoutPlaintext.
    GenerateDataKeyPair(GenerateDataKeyPair),
    /// EnableKeyRotation.
    EnableKeyRotation {
        /// Key.
        key: KeyRef,
        /// 90..2560 days; 365 when absent.
        rotation_period_days: Option<u32>,
    },
    /// DisableKeyRotation.
    DisableKeyRotation(KeyRef),
    /// GetKeyRotationStatus.
    GetKeyRotationStatus(KeyRef),
    /// RotateKeyOnDemand.
    RotateKeyOnDemand(KeyRef),
    /// ListKeyRotations.
    ListKeyRotations(ListKeyRotations),
    /// GetParametersForImport.
    GetParametersForImport(GetParametersForImport),
    /// ImportKeyMaterial.
    ImportKeyMaterial(ImportKeyMaterial),
    /// DeleteImportedKeyMaterial.
    DeleteImportedKeyMaterial {
        /// Key.
        key: KeyRef,
        /// Which material; the current one when absent.
        key_material_id: Option<[u8; 32]>,
    },
    /// CreateGrant.
    CreateGrant(CreateGrant),
    /// ListGrants.
    ListGrants(ListGrants),
    /// ListRetirableGrants.
    ListRetirableGrants(ListRetirableGrants),
    /// RetireGrant.
    RetireGrant(RetireGrant),
    /// RevokeGrant.
    RevokeGrant(RevokeGrant),
}

impl Operation {
    /// Whether the operation changes stored state (and so runs off the async runtime).
    pub fn is_mutating(&self) -> bool {
        !matches!(
            self,
            Operation::DescribeKey(_)
                | Operation::ListKeys(_)
                | Operation::Encrypt(_)
                | Operation::Decrypt(_)
                | Operation::ReEncrypt(_)
                | Operation::GenerateDataKey(_)
                | Operation::GenerateRandom { .. }
                | Operation::ListAliases { .. }
                | Operation::ListResourceTags { .. }
                | Operation::GetKeyPolicy { .. }
                | Operation::ListKeyPolicies { .. }
                | Operation::Sign(_)
                | Operation::Verify(_)
                | Operation::GetPublicKey(_)
                | Operation::GenerateMac(_)
                | Operation::VerifyMac(_)
                | Operation::DeriveSharedSecret { .. }
                | Operation::GenerateDataKeyPair(_)
                | Operation::GetKeyRotationStatus(_)
                | Operation::ListKeyRotations(_)
                | Operation::ListGrants(_)
                | Operation::ListRetirableGrants(_)
        )
    }
}

/// Every operation name keyfort answers (the rest of the model's are UnsupportedOperation
/// or UnknownOperation).
pub const OPERATIONS: &[&str] = &[
    "CreateKey",
    "DescribeKey",
    "ListKeys",
    "EnableKey",
    "DisableKey",
    "ScheduleKeyDeletion",
    "CancelKeyDeletion",
    "UpdateKeyDescription",
    "Encrypt",
    "Decrypt",
    "ReEncrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateRandom",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "ListAliases",
    "TagResource",
    "UntagResource",
    "ListResourceTags",
    "GetKeyPolicy",
    "PutKeyPolicy",
    "ListKeyPolicies",
    "Sign",
    "Verify",
    "GetPublicKey",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "EnableKeyRotation",
    "DisableKeyRotation",
    "GetKeyRotationStatus",
    "RotateKeyOnDemand",
    "ListKeyRotations",
    "GetParametersForImport",
    "ImportKeyMaterial",
    "DeleteImportedKeyMaterial",
    "CreateGrant",
    "ListGrants",
    "ListRetirableGrants",
    "RetireGrant",
    "RevokeGrant",
];

/// Every operation in botocore's KMS model (2014-11-01). Those keyfort does not answer
/// yet get UnsupportedOperationException rather than UnknownOperationException.
pub const MODEL_OPERATIONS: &[&str] = &[
    "CancelKeyDeletion",
    "ConnectCustomKeyStore",
    "CreateAlias",
    "CreateCustomKeyStore",
    "CreateGrant",
    "CreateKey",
    "Decrypt",
    "DeleteAlias",
    "DeleteCustomKeyStore",
    "DeleteImportedKeyMaterial",
    "DeriveSharedSecret",
    "DescribeCustomKeyStores",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "DisconnectCustomKeyStore",
    "EnableKey",
    "EnableKeyRotation",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "GenerateRandom",
    "GetKeyLastUsage",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "GetParametersForImport",
    "GetPublicKey",
    "ImportKeyMaterial",
    "ListAliases",
    "ListGrants",
    "ListKeyPolicies",
    "ListKeyRotations",
    "ListKeys",
    "ListResourceTags",
    "ListRetirableGrants",
    "PutKeyPolicy",
    "ReEncrypt",
    "ReplicateKey",
    "RetireGrant",
    "RevokeGrant",
    "RotateKeyOnDemand",
    "ScheduleKeyDeletion",
    "Sign",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateCustomKeyStore",
    "UpdateKeyDescription",
    "UpdatePrimaryRegion",
    "Verify",
    "VerifyMac",
];

/// Decodes the body of `TrentService.<name>` into a typed operation.
pub fn parse(name: &str, body: &[u8]) -> Result<Operation, KmsError> {
    if !OPERATIONS.contains(&name) {
        if MODEL_OPERATIONS.contains(&name) {
            return Err(KmsError::UnsupportedOperation(format!(
                "{name} is an AWS KMS operation that keyfort does not support yet."
            )));
        }
        return Err(KmsError::UnknownOperation(format!(
            "{name} is not an operation of AWS KMS."
        )));
    }
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(KmsError::Serialization(
            "The request body must be a JSON object.".into(),
        ));
    }
    let r: Req = serde_json::from_slice(body).map_err(serialization_error)?;
    if let Some(tokens) = &r.grant_tokens {
        if tokens.len() > 10 {
            return Err(KmsError::field(
                "grantTokens",
                "Member must have length less than or equal to 10",
            ));
        }
        if tokens.iter().any(|t| t.is_empty() || t.len() > 8192) {
            return Err(KmsError::field(
                "grantTokens",
                "Member must have length between 1 and 8192",
            ));
        }
    }
    Ok(match name {
        "CreateKey" => Operation::CreateKey(create_key(r)?),
        "DescribeKey" => Operation::DescribeKey(key_ref(r.key_id, "keyId")?),
        "ListKeys" => Operation::ListKeys(page(r.limit, r.marker)?),
        "EnableKey" => Operation::EnableKey(key_ref(r.key_id, "keyId")?),
        "DisableKey" => Operation::DisableKey(key_ref(r.key_id, "keyId")?),
        "ScheduleKeyDeletion" => {
            let days = r.pending_window_in_days.unwrap_or(30);
            if !(7..=30).contains(&days) {
                return Err(KmsError::field(
                    "pendingWindowInDays",
                    "Member must have value between 7 and 30",
                ));
            }
            Operation::ScheduleKeyDeletion {
                key: key_ref(r.key_id, "keyId")?,
                pending_window_days: days as u32,
            }
        }
        "CancelKeyDeletion" => Operation::CancelKeyDeletion(key_ref(r.key_id, "keyId")?),
        "UpdateKeyDescription" => Operation::UpdateKeyDescription {
            key: key_ref(r.key_id, "keyId")?,
            description: description(
                r.description
                    .ok_or_else(|| KmsError::missing("description"))?,
            )?,
        },
        "Encrypt" => {
            let plaintext = plaintext(r.plaintext)?;
            Operation::Encrypt(Encrypt {
                key: key_ref(r.key_id, "keyId")?,
                plaintext,
                context: context(r.encryption_context, "encryptionContext")?,
                algorithm: algorithm(r.encryption_algorithm, "encryptionAlgorithm")?,
                dry_run: r.dry_run.unwrap_or(false),
            })
        }
        "Decrypt" => {
            no_recipient(&r.recipient)?;
            Operation::Decrypt(Decrypt {
                key: opt_key_ref(r.key_id, "keyId")?,
                ciphertext: ciphertext(r.ciphertext_blob)?,
                context: context(r.encryption_context, "encryptionContext")?,
                algorithm: algorithm(r.encryption_algorithm, "encryptionAlgorithm")?,
                dry_run: r.dry_run.unwrap_or(false),
            })
        }
        "ReEncrypt" => Operation::ReEncrypt(ReEncrypt {
            ciphertext: ciphertext(r.ciphertext_blob)?,
            source_context: context(r.source_encryption_context, "sourceEncryptionContext")?,
            source_key: opt_key_ref(r.source_key_id, "sourceKeyId")?,
            destination_key: key_ref(r.destination_key_id, "destinationKeyId")?,
            destination_context: context(
                r.destination_encryption_context,
                "destinationEncryptionContext",
            )?,
            source_algorithm: algorithm(
                r.source_encryption_algorithm,
                "sourceEncryptionAlgorithm",
            )?,
            destination_algorithm: algorithm(
                r.destination_encryption_algorithm,
                "destinationEncryptionAlgorithm",
            )?,
            dry_run: r.dry_run.unwrap_or(false),
        }),
        "GenerateDataKey" | "GenerateDataKeyWithoutPlaintext" => {
            no_recipient(&r.recipient)?;
            let number_of_bytes = match (r.number_of_bytes, r.key_spec.as_deref()) {
                (Some(_), Some(_)) => {
                    return Err(KmsError::Validation(
                        "KeySpec and NumberOfBytes are mutually exclusive; specify one.".into(),
                    ));
                }
                (None, None) => {
                    return Err(KmsError::Validation(
                        "Please specify either number of bytes or key spec.".into(),
                    ));
                }
                (Some(n), None) => number_of_bytes(Some(n))?,
                (None, Some(spec)) => match DataKeySpec::parse(spec) {
                    Some(DataKeySpec::Aes128) => 16,
                    Some(DataKeySpec::Aes256) => 32,
                    None => {
                        return Err(enum_error("keySpec", spec, &["AES_256", "AES_128"]));
                    }
                },
            };
            Operation::GenerateDataKey(GenerateDataKey {
                key: key_ref(r.key_id, "keyId")?,
                context: context(r.encryption_context, "encryptionContext")?,
                number_of_bytes,
                with_plaintext: name == "GenerateDataKey",
                dry_run: r.dry_run.unwrap_or(false),
            })
        }
        "GenerateRandom" => {
            no_recipient(&r.recipient)?;
            if r.custom_key_store_id.is_some() {
                return Err(KmsError::CustomKeyStoreNotFound(
                    "keyfort has no custom key stores.".into(),
                ));
            }
            Operation::GenerateRandom {
                number_of_bytes: number_of_bytes(r.number_of_bytes)?,
            }
        }
        "CreateAlias" => Operation::CreateAlias {
            name: alias_name(r.alias_name)?,
            target: key_ref(r.target_key_id, "targetKeyId")?,
        },
        "UpdateAlias" => Operation::UpdateAlias {
            name: alias_name(r.alias_name)?,
            target: key_ref(r.target_key_id, "targetKeyId")?,
        },
        "DeleteAlias" => Operation::DeleteAlias {
            name: alias_name(r.alias_name)?,
        },
        "ListAliases" => Operation::ListAliases {
            key: opt_key_ref(r.key_id, "keyId")?,
            page: page(r.limit, r.marker)?,
        },
        "TagResource" => Operation::TagResource {
            key: key_ref(r.key_id, "keyId")?,
            tags: tags(r.tags.ok_or_else(|| KmsError::missing("tags"))?)?,
        },
        "UntagResource" => {
            let tag_keys = r.tag_keys.ok_or_else(|| KmsError::missing("tagKeys"))?;
            if tag_keys
                .iter()
                .any(|k| k.is_empty() || k.chars().count() > 128)
            {
                return Err(KmsError::field(
                    "tagKeys",
                    "Member must have length between 1 and 128",
                ));
            }
            Operation::UntagResource {
                key: key_ref(r.key_id, "keyId")?,
                tag_keys,
            }
        }
        "ListResourceTags" => Operation::ListResourceTags {
            key: key_ref(r.key_id, "keyId")?,
            page: page(r.limit, r.marker)?,
        },
        "GetKeyPolicy" => Operation::GetKeyPolicy {
            key: key_ref(r.key_id, "keyId")?,
            policy_name: policy_name(r.policy_name)?,
        },
        "PutKeyPolicy" => Operation::PutKeyPolicy {
            key: key_ref(r.key_id, "keyId")?,
            policy_name: policy_name(r.policy_name)?,
            policy: policy(r.policy.ok_or_else(|| KmsError::missing("policy"))?)?,
            bypass_policy_lockout_safety_check: r
                .bypass_policy_lockout_safety_check
                .unwrap_or(false),
        },
        "ListKeyPolicies" => Operation::ListKeyPolicies {
            key: key_ref(r.key_id, "keyId")?,
            page: page(r.limit, r.marker)?,
        },
        "Sign" | "Verify" => {
            let signature = if name == "Verify" {
                Some(blob(r.signature, "signature", 6144)?)
            } else {
                None
            };
            let op = SignVerify {
                key: key_ref(r.key_id, "keyId")?,
                message: message(r.message)?,
                message_type: message_type(r.message_type)?,
                algorithm: signing_algorithm(r.signing_algorithm)?,
                signature,
                dry_run: r.dry_run.unwrap_or(false),
            };
            if name == "Sign" {
                Operation::Sign(op)
            } else {
                Operation::Verify(op)
            }
        }
        "GetPublicKey" => Operation::GetPublicKey(key_ref(r.key_id, "keyId")?),
        "GenerateMac" | "VerifyMac" => {
            let mac = if name == "VerifyMac" {
                Some(blob(r.mac, "mac", 6144)?)
            } else {
                None
            };
            let op = Mac {
                key: key_ref(r.key_id, "keyId")?,
                message: message(r.message)?,
                algorithm: match r.mac_algorithm {
                    None => return Err(KmsError::missing("macAlgorithm")),
                    Some(a) => parse_enum(
                        &a,
                        "macAlgorithm",
                        MacAlgorithm::parse,
                        MacAlgorithm::ALL,
                        MacAlgorithm::as_str,
                    )?,
                },
                mac,
                dry_run: r.dry_run.unwrap_or(false),
            };
            if name == "GenerateMac" {
                Operation::GenerateMac(op)
            } else {
                Operation::VerifyMac(op)
            }
        }
        "DeriveSharedSecret" => {
            no_recipient(&r.recipient)?;
            match r.key_agreement_algorithm.as_deref() {
                Some("ECDH") => {}
                None => return Err(KmsError::missing("keyAgreementAlgorithm")),
                Some(other) => return Err(enum_error("keyAgreementAlgorithm", other, &["ECDH"])),
            }
            Operation::DeriveSharedSecret {
                key: key_ref(r.key_id, "keyId")?,
                public_key: blob(r.public_key, "publicKey", 8192)?,
                dry_run: r.dry_run.unwrap_or(false),
            }
        }
        "GenerateDataKeyPair" | "GenerateDataKeyPairWithoutPlaintext" => {
            no_recipient(&r.recipient)?;
            Operation::GenerateDataKeyPair(GenerateDataKeyPair {
                key: key_ref(r.key_id, "keyId")?,
                context: context(r.encryption_context, "encryptionContext")?,
                spec: key_pair_spec(r.key_pair_spec)?,
                with_plaintext: name == "GenerateDataKeyPair",
                dry_run: r.dry_run.unwrap_or(false),
            })
        }
        "EnableKeyRotation" => Operation::EnableKeyRotation {
            key: key_ref(r.key_id, "keyId")?,
            rotation_period_days: material::rotation_period(r.rotation_period_in_days)?,
        },
        "DisableKeyRotation" => Operation::DisableKeyRotation(key_ref(r.key_id, "keyId")?),
        "GetKeyRotationStatus" => Operation::GetKeyRotationStatus(key_ref(r.key_id, "keyId")?),
        "RotateKeyOnDemand" => Operation::RotateKeyOnDemand(key_ref(r.key_id, "keyId")?),
        "ListKeyRotations" => Operation::ListKeyRotations(material::list_key_rotations(r)?),
        "GetParametersForImport" => {
            Operation::GetParametersForImport(material::get_parameters_for_import(r)?)
        }
        "ImportKeyMaterial" => Operation::ImportKeyMaterial(material::import_key_material(r)?),
        "DeleteImportedKeyMaterial" => Operation::DeleteImportedKeyMaterial {
            key: key_ref(r.key_id, "keyId")?,
            key_material_id: material::key_material_id(r.key_material_id)?,
        },
        "CreateGrant" => Operation::CreateGrant(grants::create_grant(r)?),
        "ListGrants" => Operation::ListGrants(grants::list_grants(r)?),
        "ListRetirableGrants" => Operation::ListRetirableGrants(grants::list_retirable_grants(r)?),
        "RetireGrant" => Operation::RetireGrant(grants::retire_grant(r)?),
        "RevokeGrant" => Operation::RevokeGrant(grants::revoke_grant(r)?),
        _ => return Err(KmsError::Internal("operation listed but not decoded")),
    })
}

/// Maps a serde error to AWS's SerializationException without echoing request values
/// (they may be secrets).
fn serialization_error(e: serde_json::Error) -> KmsError {
    use serde_json::error::Category;
    if e.to_string().contains(wire::BASE64_ERROR) {
        return KmsError::Serialization(format!(
            "A blob field is not valid base64 (line {}, column {}).",
            e.line(),
            e.column()
        ));
    }
    let what = match e.classify() {
        Category::Data => "A field has the wrong type",
        Category::Syntax | Category::Eof => "The request body is not valid JSON",
        Category::Io => "The request body could not be read",
    };
    KmsError::Serialization(format!(
        "{what} (line {}, column {}).",
        e.line(),
        e.column()
    ))
}

fn key_ref(v: Option<String>, field: &str) -> Result<KeyRef, KmsError> {
    KeyRef::parse(&v.ok_or_else(|| KmsError::missing(field))?)
}

fn opt_key_ref(v: Option<String>, _field: &str) -> Result<Option<KeyRef>, KmsError> {
    v.map(|s| KeyRef::parse(&s)).transpose()
}

fn enum_error(field: &str, value: &str, allowed: &[&str]) -> KmsError {
    KmsError::Validation(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    ))
}

fn parse_enum<T: Copy>(
    v: &str,
    field: &str,
    parse: fn(&str) -> Option<T>,
    all: &[T],
    show: fn(T) -> &'static str,
) -> Result<T, KmsError> {
    parse(v).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|x| show(*x)).collect();
        enum_error(field, v, &names)
    })
}

fn algorithm(v: Option<String>, field: &str) -> Result<EncryptionAlgorithm, KmsError> {
    match v {
        None => Ok(EncryptionAlgorithm::SymmetricDefault),
        Some(s) => parse_enum(
            &s,
            field,
            EncryptionAlgorithm::parse,
            EncryptionAlgorithm::ALL,
            EncryptionAlgorithm::as_str,
        ),
    }
}

fn plaintext(v: Option<SecretBlob>) -> Result<SecretBytes, KmsError> {
    let p = v.ok_or_else(|| KmsError::missing("plaintext"))?.0;
    if p.is_empty() || p.len() > 4096 {
        return Err(KmsError::field(
            "plaintext",
            "Member must have length between 1 and 4096",
        ));
    }
    Ok(p)
}

fn ciphertext(v: Option<Blob>) -> Result<Vec<u8>, KmsError> {
    let c = v.ok_or_else(|| KmsError::missing("ciphertextBlob"))?.0;
    if c.is_empty() || c.len() > 6144 {
        return Err(KmsError::field(
            "ciphertextBlob",
            "Member must have length between 1 and 6144",
        ));
    }
    Ok(c)
}

fn blob(v: Option<Blob>, field: &str, max: usize) -> Result<Vec<u8>, KmsError> {
    let b = v.ok_or_else(|| KmsError::missing(field))?.0;
    if b.is_empty() || b.len() > max {
        return Err(KmsError::field(
            field,
            &format!("Member must have length between 1 and {max}"),
        ));
    }
    Ok(b)
}

fn message(v: Option<SecretBlob>) -> Result<SecretBytes, KmsError> {
    let m = v.ok_or_else(|| KmsError::missing("message"))?.0;
    if m.is_empty() || m.len() > 4096 {
        return Err(KmsError::field(
            "message",
            "Member must have length between 1 and 4096",
        ));
    }
    Ok(m)
}

fn message_type(v: Option<String>) -> Result<MessageKind, KmsError> {
    match v {
        None => Ok(MessageKind::Raw),
        Some(s) => MessageKind::parse(&s)
            .ok_or_else(|| enum_error("messageType", &s, &["RAW", "DIGEST", "EXTERNAL_MU"])),
    }
}

fn signing_algorithm(v: Option<String>) -> Result<SigningAlgorithm, KmsError> {
    let s = v.ok_or_else(|| KmsError::missing("signingAlgorithm"))?;
    if s == "SM2DSA" {
        return Err(KmsError::InvalidKeyUsage(
            "SM2DSA needs an SM2 key, and keyfort has no SM2 (its crypto library does not implement it).".into(),
        ));
    }
    SigningAlgorithm::parse(&s).ok_or_else(|| {
        let mut names: Vec<&str> = SigningAlgorithm::ALL.iter().map(|a| a.as_str()).collect();
        names.push("SM2DSA");
        enum_error("signingAlgorithm", &s, &names)
    })
}

fn key_pair_spec(v: Option<String>) -> Result<AsymSpec, KmsError> {
    let s = v.ok_or_else(|| KmsError::missing("keyPairSpec"))?;
    if s == "SM2" {
        return Err(KmsError::UnsupportedOperation(
            "KeyPairSpec SM2 is not supported: keyfort's crypto library has no SM2.".into(),
        ));
    }
    match AsymSpec::parse(&s) {
        Some(a) if a.is_data_key_pair_spec() => Ok(a),
        _ => Err(enum_error(
            "keyPairSpec",
            &s,
            &[
                "RSA_2048",
                "RSA_3072",
                "RSA_4096",
                "ECC_NIST_P256",
                "ECC_NIST_P384",
                "ECC_NIST_P521",
                "ECC_SECG_P256K1",
                "SM2",
                "ECC_NIST_EDWARDS25519",
            ],
        )),
    }
}

/// The most bytes of encryption context keyfort accepts (keys and values together).
pub const MAX_CONTEXT_BYTES: usize = 8192;

fn context(v: Option<EncryptionContext>, field: &str) -> Result<EncryptionContext, KmsError> {
    let ctx = v.unwrap_or_default();
    let size: usize = ctx.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_CONTEXT_BYTES {
        return Err(KmsError::field(
            field,
            "Member must have a total size of keys and values of at most 8192 bytes",
        ));
    }
    if ctx.keys().any(String::is_empty) {
        return Err(KmsError::field(
            field,
            "Map keys must have length greater than or equal to 1",
        ));
    }
    Ok(ctx)
}

fn number_of_bytes(v: Option<i64>) -> Result<usize, KmsError> {
    match v {
        None => Err(KmsError::missing("numberOfBytes")),
        Some(n) if (1..=1024).contains(&n) => Ok(n as usize),
        Some(_) => Err(KmsError::field(
            "numberOfBytes",
            "Member must have value between 1 and 1024",
        )),
    }
}

fn no_recipient(v: &Option<serde_json::Value>) -> Result<(), KmsError> {
    match v {
        None => Ok(()),
        Some(_) => Err(KmsError::UnsupportedOperation(
            "Recipient (Nitro Enclaves attestation) is not supported by keyfort.".into(),
        )),
    }
}

/// A listing's `Limit` (1..=1000, default 100) and `Marker`.
fn page(limit: Option<i64>, marker: Option<String>) -> Result<ListPage, KmsError> {
    page_within(limit, marker, 100, 1000)
}

/// A listing's `Limit` (1..=`max`, `default` when absent) and `Marker` (1..=1024
/// characters when present).
pub(super) fn page_within(
    limit: Option<i64>,
    marker: Option<String>,
    default: usize,
    max: usize,
) -> Result<ListPage, KmsError> {
    let limit = match limit.map(usize::try_from) {
        None => default,
        Some(Ok(n)) if (1..=max).contains(&n) => n,
        Some(_) => {
            return Err(KmsError::field(
                "limit",
                &format!("Member must have value between 1 and {max}"),
            ));
        }
    };
    if let Some(m) = &marker {
        if m.is_empty() || m.len() > 1024 {
            return Err(KmsError::field(
                "marker",
                "Member must have length between 1 and 1024",
            ));
        }
    }
    Ok(ListPage { limit, marker })
}

fn description(d: String) -> Result<String, KmsError> {
    if d.chars().count() > 8192 {
        return Err(KmsError::field(
            "description",
            "Member must have length less than or equal to 8192",
        ));
    }
    Ok(d)
}

fn alias_name(v: Option<String>) -> Result<String, KmsError> {
    let name = v.ok_or_else(|| KmsError::missing("aliasName"))?;
    if name.is_empty() || name.len() > 256 {
        return Err(KmsError::field(
            "aliasName",
            "Member must have length between 1 and 256",
        ));
    }
    if !name
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b':' | b'/' | b'_' | b'-'))
    {
        return Err(KmsError::field(
            "aliasName",
            "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
        ));
    }
    if !is_alias_name(&name) {
        return Err(KmsError::InvalidAliasName(format!(
            "Alias must start with the prefix \"alias/\". Alias name {name} is not valid."
        )));
    }
    Ok(name)
}

fn policy_name(v: Option<String>) -> Result<String, KmsError> {
    let name = v.unwrap_or_else(|| "default".to_owned());
    if name.is_empty() || name.len() > 128 || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return Err(KmsError::field(
            "policyName",
            "Member must satisfy regular expression pattern: [\\w]+",
        ));
    }
    Ok(name)
}

/// Checks a key policy's size and character set (the model's constraints).
pub fn policy(p: String) -> Result<String, KmsError> {
    let n = p.chars().count();
    if n == 0 || n > 131_072 {
        return Err(KmsError::field(
            "policy",
            "Member must have length between 1 and 131072",
        ));
    }
    if !p
        .chars()
        .all(|c| matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{ff}'))
    {
        return Err(KmsError::field(
            "policy",
            "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
        ));
    }
    Ok(p)
}

/// The most tags a key may carry.
pub const MAX_TAGS: usize = 50;

fn tags(v: Vec<WireTag>) -> Result<Vec<Tag>, KmsError> {
    let mut out: Vec<Tag> = Vec::with_capacity(v.len());
    for t in v {
        let key = t
            .tag_key
            .ok_or_else(|| KmsError::missing("tags.member.tagKey"))?;
        let value = t
            .tag_value
            .ok_or_else(|| KmsError::missing("tags.member.tagValue"))?;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(KmsError::field(
                "tags.member.tagKey",
                "Member must have length between 1 and 128",
            ));
        }
        if value.chars().count() > 256 {
            return Err(KmsError::field(
                "tags.member.tagValue",
                "Member must have length less than or equal to 256",
            ));
        }
        if key.starts_with("aws:") {
            return Err(KmsError::Tag(
                "Tag keys beginning with 'aws:' are reserved.".into(),
            ));
        }
        if out.iter().any(|o| o.key == key) {
            return Err(KmsError::Tag(format!(
                "Duplicate tag key '{key}' in the request."
            )));
        }
        out.push(Tag { key, value });
    }
    if out.len() > MAX_TAGS {
        return Err(KmsError::Tag(format!(
            "A key can have at most {MAX_TAGS} tags."
        )));
    }
    Ok(out)
}

fn create_key(r: Req) -> Result<CreateKey, KmsError> {
    let spec = match (r.key_spec.as_deref(), r.customer_master_key_spec.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(KmsError::Validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.".into(),
            ));
        }
        (Some(s), None) => parse_enum(s, "keySpec", KeySpec::parse, KeySpec::ALL, KeySpec::as_str)?,
        (None, Some(s)) => parse_enum(
            s,
            "customerMasterKeySpec",
            KeySpec::parse,
            KeySpec::ALL,
            KeySpec::as_str,
        )?,
        (None, None) => KeySpec::SymmetricDefault,
    };
    let usage = match r.key_usage.as_deref() {
        None => KeyUsage::EncryptDecrypt,
        Some(s) => parse_enum(
            s,
            "keyUsage",
            KeyUsage::parse,
            KeyUsage::ALL,
            KeyUsage::as_str,
        )?,
    };
    let origin = match r.origin.as_deref() {
        None => Origin::AwsKms,
        Some(s) => parse_enum(s, "origin", Origin::parse, Origin::ALL, Origin::as_str)?,
    };
    if let Some(id) = &r.custom_key_store_id {
        if id.is_empty() || id.len() > 64 {
            return Err(KmsError::field(
                "customKeyStoreId",
                "Member must have length between 1 and 64",
            ));
        }
    }
    Ok(CreateKey {
        policy: r.policy.map(policy).transpose()?,
        description: description(r.description.unwrap_or_default())?,
        usage,
        spec,
        origin,
        bypass_policy_lockout_safety_check: r.bypass_policy_lockout_safety_check.unwrap_or(false),
        tags: tags(r.tags.unwrap_or_default())?,
        multi_region: r.multi_region.unwrap_or(false),
        custom_key_store_id: r.custom_key_store_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(name: &str, body: &str) -> &'static str {
        match parse(name, body.as_bytes()) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn decodes_and_checks_limits() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(
            code(
                "Encrypt",
                &format!(r#"{{"KeyId":"{id}","Plaintext":"aGk="}}"#)
            ),
            "ok"
        );
        assert_eq!(
            code("Encrypt", &format!(r#"{{"KeyId":"{id}","Plaintext":""}}"#)),
            "ValidationException"
        );
        assert_eq!(
            code("Encrypt", &format!(r#"{{"KeyId":"{id}"}}"#)),
            "ValidationException"
        );
        assert_eq!(
            code(
                "Encrypt",
                &format!(r#"{{"KeyId":"{id}","Plaintext":"!!"}}"#)
            ),
            "SerializationException"
        );
        assert_eq!(
            code("Encrypt", &format!(r#"{{"KeyId":{id:?},"Plaintext":5}}"#)),
            "SerializationException"
        );
        assert_eq!(code("Encrypt", "{"), "SerializationException");
        assert_eq!(code("Encrypt", "[]"), "SerializationException");
        let big =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vec![7u8; 4097]);
        assert_eq!(
            code(
                "Encrypt",
                &format!(r#"{{"KeyId":"{id}","Plaintext":"{big}"}}"#)
            ),
            "ValidationException"
        );
        assert_eq!(code("Nope", "{}"), "UnknownOperationException");
        assert_eq!(code("ReplicateKey", "{}"), "UnsupportedOperationException");
        for op in OPERATIONS {
            assert!(MODEL_OPERATIONS.contains(op), "{op} is not in the model");
        }
        assert_eq!(
            code("GenerateRandom", r#"{"NumberOfBytes":1025}"#),
            "ValidationException"
        );
        assert_eq!(
            code("GenerateRandom", r#"{"NumberOfBytes":0}"#),
            "ValidationException"
        );
        assert_eq!(code("GenerateRandom", r#"{"NumberOfBytes":1024}"#), "ok");
        assert_eq!(code("ListKeys", r#"{"Limit":0}"#), "ValidationException");
        assert_eq!(code("ListKeys", ""), "ok");
        assert_eq!(
            code(
                "ScheduleKeyDeletion",
                &format!(r#"{{"KeyId":"{id}","PendingWindowInDays":6}}"#)
            ),
            "ValidationException"
        );
        assert_eq!(
            code(
                "ScheduleKeyDeletion",
                &format!(r#"{{"KeyId":"{id}","PendingWindowInDays":31}}"#)
            ),
            "ValidationException"
        );
        assert_eq!(
            code("GenerateDataKey", &format!(r#"{{"KeyId":"{id}"}}"#)),
            "ValidationException"
        );
        assert_eq!(
            code(
                "GenerateDataKey",
                &format!(r#"{{"KeyId":"{id}","KeySpec":"AES_512"}}"#)
            ),
            "ValidationException"
        );
        assert_eq!(
            code(
                "CreateAlias",
                &format!(r#"{{"AliasName":"foo","TargetKeyId":"{id}"}}"#)
            ),
            "InvalidAliasNameException"
        );
        assert_eq!(
            code("CreateKey", r#"{"KeySpec":"NOPE"}"#),
            "ValidationException"
        );
        assert_eq!(
            code(
                "CreateKey",
                r#"{"Tags":[{"TagKey":"aws:x","TagValue":"v"}]}"#
            ),
            "TagException"
        );
    }

    #[test]
    fn serialization_errors_do_not_echo_values() {
        let e = parse(
            "Encrypt",
            br#"{"KeyId":"alias/a","Plaintext":["topsecretvalue"]}"#,
        );
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!msg.contains("topsecretvalue"), "{msg}");
        let e = parse("GenerateRandom", br#"{"NumberOfBytes":"topsecretvalue"}"#);
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!msg.contains("topsecretvalue"), "{msg}");
    }
}
