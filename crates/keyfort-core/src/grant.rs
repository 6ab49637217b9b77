//! Grants: a key's delegations of some of its operations to one principal, as stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::AccountId;

/// The operations a grant can allow, in AWS's names (`GrantOperation`).
pub const GRANT_OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
];

/// A grant's encryption context constraints (`GrantConstraints`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrantConstraints {
    /// The request's context must include these pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<BTreeMap<String, String>>,
    /// The request's context must be exactly these pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<BTreeMap<String, String>>,
}

impl GrantConstraints {
    /// Whether a request's encryption context satisfies the constraints. Operations
    /// without an encryption context (DescribeKey, RetireGrant, ...) see an empty one.
    pub fn allow(&self, ctx: &BTreeMap<String, String>) -> bool {
        let subset = self
            .encryption_context_subset
            .as_ref()
            .is_none_or(|want| want.iter().all(|(k, v)| ctx.get(k) == Some(v)));
        let equals = self
            .encryption_context_equals
            .as_ref()
            .is_none_or(|want| want == ctx);
        subset && equals
    }
}

/// One grant on one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    /// The grant id: 64 hex digits.
    pub grant_id: String,
    /// The key's region.
    pub region: String,
    /// The key's id.
    pub key_id: String,
    /// The key's account.
    pub account: AccountId,
    /// The grant's name, for CreateGrant's idempotency.
    pub name: Option<String>,
    /// Who the grant is for (an ARN or a service principal).
    pub grantee_principal: String,
    /// Who may retire it, besides the grantee (when it allows RetireGrant).
    pub retiring_principal: Option<String>,
    /// When it was created (milliseconds since the epoch).
    pub created_ms: i64,
    /// The rest, stored as one JSON document.
    pub details: GrantDetails,
}

/// The parts of a grant no store query looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrantDetails {
    /// The root of the account that created the grant (`arn:aws:iam::ID:root`).
    pub issuing_account: String,
    /// The operations it allows, in AWS's names.
    pub operations: Vec<String>,
    /// Its encryption context constraints.
    pub constraints: Option<GrantConstraints>,
}

impl GrantRecord {
    /// Whether the grant allows `operation` (AWS's name, without `kms:`) for a request
    /// with encryption context `ctx`.
    pub fn allows(&self, operation: &str, ctx: &BTreeMap<String, String>) -> bool {
        self.details.operations.iter().any(|o| o == operation)
            && self
                .details
                .constraints
                .as_ref()
                .is_none_or(|c| c.allow(ctx))
    }

    /// The key's ARN.
    pub fn key_arn(&self) -> String {
        format!(
            "arn:aws:kms:{}:{}:key/{}",
            self.region, self.account, self.key_id
        )
    }
}

/// The first field of keyfort's grant tokens (their format's version).
const TOKEN_PREFIX: &str = "kfgt1";

/// A grant token: the grant's region, key id and grant id with a nonce (hex) that
/// makes each token of the same grant different, base64url-encoded. Tokens only name a
/// grant (grants are effective at once, and RetireGrant still checks who may retire),
/// so they carry no secret and are not stored.
pub fn grant_token(region: &str, key_id: &str, grant_id: &str, nonce_hex: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{TOKEN_PREFIX}|{region}|{key_id}|{grant_id}|{nonce_hex}"
    ))
}

/// The (region, key id, grant id) a grant token names, or `None` if it is not one of
/// keyfort's.
pub fn parse_grant_token(token: &str) -> Option<(String, String, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    match text.split('|').collect::<Vec<_>>().as_slice() {
        [TOKEN_PREFIX, region, key_id, grant_id, nonce]
            if [region, key_id, grant_id, nonce]
                .iter()
                .all(|p| !p.is_empty()) =>
        {
            Some((
                (*region).to_owned(),
                (*key_id).to_owned(),
                (*grant_id).to_owned(),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn constraints_subset_and_equals() {
        let subset = GrantConstraints {
            encryption_context_subset: Some(ctx(&[("Dept", "IT")])),
            encryption_context_equals: None,
        };
        assert!(subset.allow(&ctx(&[("Dept", "IT")])));
        assert!(subset.allow(&ctx(&[("Dept", "IT"), ("Project", "X")])));
        assert!(!subset.allow(&ctx(&[("Dept", "HR")])));
        assert!(!subset.allow(&ctx(&[])));
        let equals = GrantConstraints {
            encryption_context_subset: None,
            encryption_context_equals: Some(ctx(&[("Dept", "IT")])),
        };
        assert!(equals.allow(&ctx(&[("Dept", "IT")])));
        assert!(!equals.allow(&ctx(&[("Dept", "IT"), ("Project", "X")])));
        assert!(!equals.allow(&ctx(&[("dept", "IT")])));
    }
}
