//! What an operation's audit record shows as `requestParameters`: built from the typed
//! operation, field by field, so no plaintext, ciphertext, message, signature, MAC or
//! key material can reach the trail by accident. Encryption context is recorded, as
//! AWS CloudTrail does.

use serde_json::{Map, Value, json};

use super::{ListPage, Operation};
use crate::arn::KeyRef;

fn key(k: &KeyRef) -> Value {
    Value::String(match k {
        KeyRef::Id(id) => id.clone(),
        KeyRef::KeyArn {
            region,
            account,
            id,
        } => format!("arn:aws:kms:{region}:{account}:key/{id}"),
        KeyRef::AliasName(n) => n.clone(),
        KeyRef::AliasArn {
            region,
            account,
            name,
        } => format!("arn:aws:kms:{region}:{account}:{name}"),
    })
}

fn page(m: &mut Map<String, Value>, p: &ListPage) {
    m.insert("limit".into(), json!(p.limit));
    if let Some(marker) = &p.marker {
        m.insert("marker".into(), json!(marker));
    }
}

impl Operation {
    /// The CloudTrail `requestParameters` of this operation.
    pub fn audit_parameters(&self) -> Value {
        let mut m = Map::new();
        match self {
            Operation::CreateKey(c) => {
                m.insert("keySpec".into(), json!(c.spec.as_str()));
                m.insert("keyUsage".into(), json!(c.usage.as_str()));
                m.insert("origin".into(), json!(c.origin.as_str()));
                m.insert("description".into(), json!(c.description));
                m.insert(
                    "bypassPolicyLockoutSafetyCheck".into(),
                    json!(c.bypass_policy_lockout_safety_check),
                );
                if !c.tags.is_empty() {
                    let tags: Vec<Value> = c
                        .tags
                        .iter()
                        .map(|t| json!({"tagKey": t.key, "tagValue": t.value}))
                        .collect();
                    m.insert("tags".into(), Value::Array(tags));
                }
            }
            Operation::DescribeKey(k)
            | Operation::EnableKey(k)
            | Operation::DisableKey(k)
            | Operation::CancelKeyDeletion(k)
            | Operation::GetPublicKey(k)
            | Operation::DisableKeyRotation(k)
            | Operation::GetKeyRotationStatus(k)
            | Operation::RotateKeyOnDemand(k) => {
                m.insert("keyId".into(), key(k));
            }
            Operation::ListKeys(p) => page(&mut m, p),
            Operation::ScheduleKeyDeletion {
                key: k,
                pending_window_days,
            } => {
                m.insert("keyId".into(), key(k));
                m.insert("pendingWindowInDays".into(), json!(pending_window_days));
            }
            Operation::UpdateKeyDescription {
                key: k,
                description,
            } => {
                m.insert("keyId".into(), key(k));
                m.insert("description".into(), json!(description));
            }
            Operation::Encrypt(e) => {
                m.insert("keyId".into(), key(&e.key));
                m.insert("encryptionAlgorithm".into(), json!(e.algorithm.as_str()));
                m.insert("encryptionContext".into(), json!(e.context));
                m.insert("dryRun".into(), json!(e.dry_run));
            }
            Operation::Decrypt(d) => {
                if let Some(k) = &d.key {
                    m.insert("keyId".into(), key(k));
                }
                m.insert("encryptionAlgorithm".into(), json!(d.algorithm.as_str()));
                m.insert("encryptionContext".into(), json!(d.context));
                m.insert("dryRun".into(), json!(d.dry_run));
            }
            Operation::ReEncrypt(r) => {
                if let Some(k) = &r.source_key {
                    m.insert("sourceKeyId".into(), key(k));
                }
                m.insert("destinationKeyId".into(), key(&r.destination_key));
                m.insert("sourceEncryptionContext".into(), json!(r.source_context));
                m.insert(
                    "destinationEncryptionContext".into(),
                    json!(r.destination_context),
                );
                m.insert(
                    "sourceEncryptionAlgorithm".into(),
                    json!(r.source_algorithm.as_str()),
                );
                m.insert(
                    "destinationEncryptionAlgorithm".into(),
                    json!(r.destination_algorithm.as_str()),
                );
            }
            Operation::GenerateDataKey(g) => {
                m.insert("keyId".into(), key(&g.key));
                m.insert("numberOfBytes".into(), json!(g.number_of_bytes));
                m.insert("encryptionContext".into(), json!(g.context));
            }
            Operation::GenerateRandom { number_of_bytes } => {
                m.insert("numberOfBytes".into(), json!(number_of_bytes));
            }
            Operation::CreateAlias { name, target } | Operation::UpdateAlias { name, target } => {
                m.insert("aliasName".into(), json!(name));
                m.insert("targetKeyId".into(), key(target));
            }
            Operation::DeleteAlias { name } => {
                m.insert("aliasName".into(), json!(name));
            }
            Operation::ListAliases { key: k, page: p } => {
                if let Some(k) = k {
                    m.insert("keyId".into(), key(k));
                }
                page(&mut m, p);
            }
            Operation::TagResource { key: k, tags } => {
                m.insert("keyId".into(), key(k));
                let tags: Vec<Value> = tags
                    .iter()
                    .map(|t| json!({"tagKey": t.key, "tagValue": t.value}))
                    .collect();
                m.insert("tags".into(), Value::Array(tags));
            }
            Operation::UntagResource { key: k, tag_keys } => {
                m.insert("keyId".into(), key(k));
                m.insert("tagKeys".into(), json!(tag_keys));
            }
            Operation::ListResourceTags { key: k, page: p }
            | Operation::ListKeyPolicies { key: k, page: p } => {
                m.insert("keyId".into(), key(k));
                page(&mut m, p);
            }
            Operation::GetKeyPolicy {
                key: k,
                policy_name,
            } => {
                m.insert("keyId".into(), key(k));
                m.insert("policyName".into(), json!(policy_name));
            }
            Operation::PutKeyPolicy {
                key: k,
                policy_name,
                policy,
                bypass_policy_lockout_safety_check,
            } => {
                m.insert("keyId".into(), key(k));
                m.insert("policyName".into(), json!(policy_name));
                m.insert("policy".into(), json!(policy));
                m.insert(
                    "bypassPolicyLockoutSafetyCheck".into(),
                    json!(bypass_policy_lockout_safety_check),
                );
            }
            Operation::Sign(s) | Operation::Verify(s) => {
                m.insert("keyId".into(), key(&s.key));
                m.insert("messageType".into(), json!(s.message_type.as_str()));
                m.insert("signingAlgorithm".into(), json!(s.algorithm.as_str()));
            }
            Operation::GenerateMac(x) | Operation::VerifyMac(x) => {
                m.insert("keyId".into(), key(&x.key));
                m.insert("macAlgorithm".into(), json!(x.algorithm.as_str()));
            }
            Operation::DeriveSharedSecret { key: k, .. } => {
                m.insert("keyId".into(), key(k));
                m.insert("keyAgreementAlgorithm".into(), json!("ECDH"));
            }
            Operation::GenerateDataKeyPair(g) => {
                m.insert("keyId".into(), key(&g.key));
                m.insert("keyPairSpec".into(), json!(g.spec.as_str()));
                m.insert("encryptionContext".into(), json!(g.context));
            }
            Operation::EnableKeyRotation {
                key: k,
                rotation_period_days,
            } => {
                m.insert("keyId".into(), key(k));
                if let Some(days) = rotation_period_days {
                    m.insert("rotationPeriodInDays".into(), json!(days));
                }
            }
            Operation::ListKeyRotations(l) => {
                m.insert("keyId".into(), key(&l.key));
                m.insert(
                    "includeKeyMaterial".into(),
                    json!(if l.all_key_material {
                        "ALL_KEY_MATERIAL"
                    } else {
                        "ROTATIONS_ONLY"
                    }),
                );
                page(&mut m, &l.page);
            }
            Operation::GetParametersForImport(g) => {
                m.insert("keyId".into(), key(&g.key));
                m.insert("wrappingAlgorithm".into(), json!(g.algorithm.as_str()));
                m.insert(
                    "wrappingKeySpec".into(),
                    json!(g.wrapping_key_spec.as_str()),
                );
            }
            // Never the token or the wrapped material.
            Operation::ImportKeyMaterial(i) => {
                m.insert("keyId".into(), key(&i.key));
                m.insert("expirationModel".into(), json!(i.expiration.as_str()));
                if let Some(ms) = i.valid_to_ms {
                    m.insert("validTo".into(), json!(ms / 1000));
                }
                if let Some(t) = i.import_type {
                    m.insert("importType".into(), json!(t.as_str()));
                }
                if let Some(d) = &i.description {
                    m.insert("keyMaterialDescription".into(), json!(d));
                }
                if let Some(id) = &i.key_material_id {
                    m.insert("keyMaterialId".into(), json!(crate::model::hex(id)));
                }
            }
            Operation::DeleteImportedKeyMaterial {
                key: k,
                key_material_id,
            } => {
                m.insert("keyId".into(), key(k));
                if let Some(id) = key_material_id {
                    m.insert("keyMaterialId".into(), json!(crate::model::hex(id)));
                }
            }
            Operation::CreateGrant(g) => {
                m.insert("keyId".into(), key(&g.key));
                m.insert("granteePrincipal".into(), json!(g.grantee));
                if let Some(r) = &g.retiring {
                    m.insert("retiringPrincipal".into(), json!(r));
                }
                m.insert("operations".into(), json!(g.operations));
                if let Some(c) = &g.constraints {
                    let mut cm = Map::new();
                    if let Some(s) = &c.encryption_context_subset {
                        cm.insert("encryptionContextSubset".into(), json!(s));
                    }
                    if let Some(e) = &c.encryption_context_equals {
                        cm.insert("encryptionContextEquals".into(), json!(e));
                    }
                    m.insert("constraints".into(), Value::Object(cm));
                }
                if let Some(n) = &g.name {
                    m.insert("name".into(), json!(n));
                }
            }
            Operation::ListGrants(l) => {
                m.insert("keyId".into(), key(&l.key));
                if let Some(g) = &l.grant_id {
                    m.insert("grantId".into(), json!(g));
                }
                if let Some(p) = &l.grantee {
                    m.insert("granteePrincipal".into(), json!(p));
                }
                page(&mut m, &l.page);
            }
            Operation::ListRetirableGrants(l) => {
                m.insert("retiringPrincipal".into(), json!(l.retiring));
                page(&mut m, &l.page);
            }
            // CloudTrail records RetireGrant with null requestParameters: the grant
            // token is never written anywhere.
            Operation::RetireGrant(_) => return Value::Null,
            Operation::RevokeGrant(r) => {
                m.insert("keyId".into(), key(&r.key));
                m.insert("grantId".into(), json!(r.grant_id));
            }
        }
        Value::Object(m)
    }
}

/// Whether an operation (by name) only reads, as CloudTrail's `readOnly` says: the
/// cryptographic operations and the Describe/List/Get family.
pub fn is_read_only(name: &str) -> bool {
    name.starts_with("Describe")
        || name.starts_with("List")
        || name.starts_with("Get")
        || matches!(
            name,
            "Encrypt"
                | "Decrypt"
                | "ReEncrypt"
                | "GenerateDataKey"
                | "GenerateDataKeyWithoutPlaintext"
                | "GenerateDataKeyPair"
                | "GenerateDataKeyPairWithoutPlaintext"
                | "GenerateRandom"
                | "Sign"
                | "Verify"
                | "GenerateMac"
                | "VerifyMac"
                | "DeriveSharedSecret"
                | "LookupEvents"
        )
}
