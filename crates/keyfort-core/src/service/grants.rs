//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant, and
//! the check [`Kms::grant_allows`] that the authorization layer asks when no policy
//! allows a request.
//!
//! A grant is effective as soon as CreateGrant returns (one store, one cache), so a
//! grant token is never needed to use it; the token names the grant for RetireGrant.
//! Tokens are not stored: one is the grant's region, key and id with a random nonce,
//! base64url-encoded, so CreateGrant's idempotent repeat returns the same grant id with
//! another token, as AWS's does.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use keyfort_policy::{Context, Policy, Request};
use serde::Serialize;

use super::authz::{Access, engine_principal};
use super::{Caller, Kms, LiveKey, PrincipalKind, json, read, write};
use crate::api::wire::ser_epoch;
use crate::api::{
    CreateGrant, EncryptionContext, GrantRef, ListGrants, ListRetirableGrants, RetireGrant,
    RevokeGrant,
};
use crate::error::{KmsError, Result};
use crate::grant::{GrantConstraints, GrantDetails, GrantRecord, grant_token, parse_grant_token};
use crate::model::{KeySpec, KeyState, KeyUsage};
use crate::store::{Page, StoreError};

/// The grants of each key, cached by (region, key id); an entry is dropped whenever
/// a grant of the key changes.
#[derive(Debug, Default)]
pub(crate) struct GrantCache(RwLock<HashMap<(String, String), KeyGrants>>);

/// The grants of one key.
type KeyGrants = Arc<[GrantRecord]>;

impl GrantCache {
    pub(crate) fn forget(&self, region: &str, key_id: &str) {
        write(&self.0).remove(&(region.to_owned(), key_id.to_owned()));
    }
}

/// A new grant token for a grant.
fn new_token(g: &GrantRecord) -> Result<String> {
    let nonce = keyfort_crypto::random_bytes(16).map_err(KmsError::Crypto)?;
    Ok(grant_token(
        &g.region,
        &g.key_id,
        &g.grant_id,
        &crate::model::hex(nonce.expose()),
    ))
}

/// The (region, key id, grant id) a token names.
fn parse_token(token: &str) -> Result<(String, String, String)> {
    parse_grant_token(token)
        .ok_or_else(|| KmsError::InvalidGrantToken("The grant token is not valid.".into()))
}

/// How a grant's principal names the caller.
#[derive(Debug, PartialEq, Eq)]
enum Named {
    /// The caller itself (its ARN, or the role of its session).
    Exactly,
    /// The caller's account (its root ARN): the caller's identity policies must
    /// allow the action too, unless the caller is that root.
    ThroughAccount,
    No,
}

fn names(principal: &str, caller: &super::Principal) -> Named {
    if principal == caller.arn {
        return Named::Exactly;
    }
    if let PrincipalKind::AssumedRole { role_arn, .. } = &caller.kind {
        if principal == role_arn {
            return Named::Exactly;
        }
    }
    let account = caller.account.as_str();
    if principal == format!("arn:aws:iam::{account}:root") || principal == account {
        return Named::ThroughAccount;
    }
    Named::No
}

/// Whether an operation makes sense on a key of this kind (CreateGrant refuses the
/// rest with ValidationException, as AWS does).
fn operation_fits(op: &str, usage: KeyUsage, spec: KeySpec) -> bool {
    let symmetric = spec == KeySpec::SymmetricDefault;
    match op {
        "Encrypt" | "Decrypt" | "ReEncryptFrom" | "ReEncryptTo" => {
            usage == KeyUsage::EncryptDecrypt
        }
        "GenerateDataKey"
        | "GenerateDataKeyWithoutPlaintext"
        | "GenerateDataKeyPair"
        | "GenerateDataKeyPairWithoutPlaintext" => symmetric,
        "Sign" | "Verify" => usage == KeyUsage::SignVerify,
        "GenerateMac" | "VerifyMac" => usage == KeyUsage::GenerateVerifyMac,
        "DeriveSharedSecret" => usage == KeyUsage::KeyAgreement,
        "GetPublicKey" => !symmetric && usage != KeyUsage::GenerateVerifyMac,
        _ => true,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateGrantReply {
    grant_token: String,
    grant_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GrantEntry<'a> {
    key_id: String,
    grant_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(serialize_with = "ser_epoch")]
    creation_date: i64,
    grantee_principal: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retiring_principal: Option<&'a str>,
    issuing_account: &'a str,
    operations: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    constraints: Option<&'a GrantConstraints>,
}

impl<'a> GrantEntry<'a> {
    fn of(g: &'a GrantRecord) -> GrantEntry<'a> {
        GrantEntry {
            key_id: g.key_arn(),
            grant_id: &g.grant_id,
            name: g.name.as_deref(),
            creation_date: g.created_ms,
            grantee_principal: &g.grantee_principal,
            retiring_principal: g.retiring_principal.as_deref(),
            issuing_account: &g.details.issuing_account,
            operations: &g.details.operations,
            constraints: g.details.constraints.as_ref(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListGrantsReply<'a> {
    grants: Vec<GrantEntry<'a>>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

fn not_found(grant_id: &str) -> KmsError {
    KmsError::NotFound(format!("Grant ID {grant_id} not found"))
}

fn same_parameters(g: &GrantRecord, req: &CreateGrant) -> bool {
    let mut a = g.details.operations.clone();
    let mut b = req.operations.clone();
    a.sort();
    b.sort();
    g.grantee_principal == req.grantee
        && g.retiring_principal == req.retiring
        && a == b
        && g.details.constraints == req.constraints
}

impl Kms {
    /// Every grant of a key, through the cache.
    fn key_grants(&self, key: &LiveKey) -> Result<KeyGrants> {
        let ck = (key.record.region.clone(), key.record.id.clone());
        if let Some(g) = read(&self.grant_cache.0).get(&ck) {
            return Ok(Arc::clone(g));
        }
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list_grants(
                &key.record.region,
                &key.record.id,
                Page {
                    after: after.as_deref(),
                    limit: 1000,
                },
            )?;
            let done = page.len() < 1000;
            after = page.last().map(|g| g.grant_id.clone());
            all.extend(page);
            if done {
                break;
            }
        }
        let grants: KeyGrants = Arc::from(all);
        write(&self.grant_cache.0).insert(ck, Arc::clone(&grants));
        Ok(grants)
    }

    /// Whether a grant of `key` allows `caller` the request: the grant names the
    /// caller (or the caller's account, whose identity policies must then allow the
    /// action), lists the operation, and its constraints hold for the request's
    /// encryption context. A grant that allows CreateGrant lets its grantee create
    /// grants for no more operations, and no looser constraints, than its own.
    pub(crate) fn grant_allows(
        &self,
        caller: &Caller<'_>,
        key: &LiveKey,
        access: &Access<'_>,
        ctx: &Context,
    ) -> Result<bool> {
        let Some(operation) = access.action.strip_prefix("kms:") else {
            return Ok(false);
        };
        let grants = self.key_grants(key)?;
        if grants.is_empty() {
            return Ok(false);
        }
        let empty = EncryptionContext::new();
        let request_ctx = access.encryption_context.unwrap_or(&empty);
        let mut identity_checked: Option<bool> = None;
        for g in grants.iter() {
            let named = names(&g.grantee_principal, caller.principal);
            if named == Named::No || !g.allows(operation, request_ctx) {
                continue;
            }
            if let Some((ops, constraints)) = access.child_grant {
                if !ops.iter().all(|o| g.details.operations.contains(o)) {
                    continue;
                }
                if g.details.constraints.is_some() && g.details.constraints.as_ref() != constraints
                {
                    continue;
                }
            }
            if named == Named::ThroughAccount && caller.principal.kind != PrincipalKind::Root {
                let allowed = match identity_checked {
                    Some(a) => a,
                    None => {
                        let a = self.identity_allows(caller, access.action, &key.arn(), ctx)?;
                        identity_checked = Some(a);
                        a
                    }
                };
                if !allowed {
                    continue;
                }
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// Whether the caller's identity side alone allows `action` on `resource`.
    fn identity_allows(
        &self,
        caller: &Caller<'_>,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> Result<bool> {
        let principal = engine_principal(caller.principal);
        let identity = self.identity_policies(caller.principal)?;
        let identity: Vec<&Policy> = identity.iter().map(Arc::as_ref).collect();
        let req = Request {
            principal: &principal,
            action,
            resource,
            context: ctx,
        };
        Ok(keyfort_policy::authorize_identity(
            &req,
            &identity,
            caller.principal.session_policy.as_deref(),
        )
        .is_allowed())
    }

    pub(super) fn create_grant(&self, caller: &Caller<'_>, req: CreateGrant) -> Result<Vec<u8>> {
        let mut constraint_types = Vec::new();
        if let Some(c) = &req.constraints {
            if c.encryption_context_subset.is_some() {
                constraint_types.push("EncryptionContextSubset".to_owned());
            }
            if c.encryption_context_equals.is_some() {
                constraint_types.push("EncryptionContextEquals".to_owned());
            }
        }
        let mut access = Access::new("kms:CreateGrant")
            .with("kms:GranteePrincipal", req.grantee.clone())
            .with_all("kms:GrantOperations", req.operations.clone())
            .with_all("kms:GrantConstraintType", constraint_types)
            .with_bool("kms:GrantIsForAWSResource", caller.via_service.is_some());
        if let Some(r) = &req.retiring {
            access = access.with("kms:RetiringPrincipal", r.clone());
        }
        access.child_grant = Some((&req.operations, req.constraints.as_ref()));
        let _w = self.lock_writer();
        let key = self.resolve(caller, &req.key, &access)?;
        let r = &key.record;
        if matches!(r.state, KeyState::PendingDeletion | KeyState::Unavailable) {
            return Err(super::state_error(r));
        }
        if let Some(op) = req
            .operations
            .iter()
            .find(|op| !operation_fits(op, r.usage, r.spec))
        {
            return Err(KmsError::Validation(format!(
                "Grant operation {op} is not valid for {} (KeyUsage {}, KeySpec {}).",
                r.arn(),
                r.usage,
                r.spec
            )));
        }
        if req.constraints.is_some() && r.spec != KeySpec::SymmetricDefault {
            return Err(KmsError::Validation(
                "Encryption context grant constraints are supported only on symmetric encryption keys.".into(),
            ));
        }
        if req.dry_run {
            return Err(KmsError::DryRun);
        }
        // A name makes CreateGrant idempotent: the same name and parameters return
        // the existing grant (with a new token).
        if let Some(name) = &req.name {
            let existing = self.key_grants(&key)?;
            if let Some(g) = existing
                .iter()
                .find(|g| g.name.as_deref() == Some(name) && same_parameters(g, &req))
            {
                return json(&CreateGrantReply {
                    grant_token: new_token(g)?,
                    grant_id: g.grant_id.clone(),
                });
            }
        }
        let raw = keyfort_crypto::random_bytes(32).map_err(KmsError::Crypto)?;
        let grant = GrantRecord {
            grant_id: crate::model::hex(raw.expose()),
            region: r.region.clone(),
            key_id: r.id.clone(),
            account: r.account.clone(),
            name: req.name,
            grantee_principal: req.grantee,
            retiring_principal: req.retiring,
            created_ms: self.now_ms(),
            details: GrantDetails {
                issuing_account: format!("arn:aws:iam::{}:root", caller.principal.account),
                operations: req.operations,
                constraints: req.constraints,
            },
        };
        match self.store.create_grant(&grant) {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Err(KmsError::Internal("grant id collision")),
            Err(e) => return Err(e.into()),
        }
        self.grant_cache.forget(&grant.region, &grant.key_id);
        json(&CreateGrantReply {
            grant_token: new_token(&grant)?,
            grant_id: grant.grant_id,
        })
    }

    pub(super) fn list_grants(&self, caller: &Caller<'_>, req: &ListGrants) -> Result<Vec<u8>> {
        let access = Access::new("kms:ListGrants")
            .with_bool("kms:GrantIsForAWSResource", caller.via_service.is_some());
        let key = self.resolve(caller, &req.key, &access)?;
        if let Some(m) = &req.page.marker {
            if m.len() != 64 || !m.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(KmsError::InvalidMarker("The marker is not valid.".into()));
            }
        }
        let all = self.key_grants(&key)?;
        let matching: Vec<&GrantRecord> = all
            .iter()
            .filter(|g| req.page.marker.as_ref().is_none_or(|m| &g.grant_id > m))
            .filter(|g| req.grant_id.as_ref().is_none_or(|id| &g.grant_id == id))
            .filter(|g| {
                req.grantee
                    .as_ref()
                    .is_none_or(|p| &g.grantee_principal == p)
            })
            .collect();
        let truncated = matching.len() > req.page.limit;
        let page: Vec<&GrantRecord> = matching.into_iter().take(req.page.limit).collect();
        let next_marker = if truncated {
            page.last().map(|g| g.grant_id.clone())
        } else {
            None
        };
        json(&ListGrantsReply {
            grants: page.into_iter().map(GrantEntry::of).collect(),
            truncated,
            next_marker,
        })
    }

    pub(super) fn list_retirable_grants(
        &self,
        caller: &Caller<'_>,
        req: &ListRetirableGrants,
    ) -> Result<Vec<u8>> {
        self.authorize_identity(caller, &Access::new("kms:ListRetirableGrants"), "*")?;
        if let Some(m) = &req.page.marker {
            if m.len() != 64 || !m.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(KmsError::InvalidMarker("The marker is not valid.".into()));
            }
        }
        let mut rows = self.store.list_retirable_grants(
            caller.region,
            &req.retiring,
            Page {
                after: req.page.marker.as_deref(),
                limit: req.page.limit + 1,
            },
        )?;
        let truncated = rows.len() > req.page.limit;
        rows.truncate(req.page.limit);
        let next_marker = if truncated {
            rows.last().map(|g| g.grant_id.clone())
        } else {
            None
        };
        json(&ListGrantsReply {
            grants: rows.iter().map(GrantEntry::of).collect(),
            truncated,
            next_marker,
        })
    }

    pub(super) fn retire_grant(&self, caller: &Caller<'_>, req: &RetireGrant) -> Result<Vec<u8>> {
        let _w = self.lock_writer();
        let (key, grant) = match &req.grant {
            GrantRef::Token(t) => {
                let (region, key_id, grant_id) = parse_token(&t.0)?;
                if region != caller.region {
                    return Err(KmsError::InvalidGrantToken(
                        "The grant token is not valid in this region.".into(),
                    ));
                }
                let key = self
                    .load_key(caller.region, &key_id)?
                    .ok_or_else(|| not_found(&grant_id))?;
                if key.record.account == caller.principal.account {
                    caller.resources.record(key.arn());
                }
                (key, grant_id)
            }
            GrantRef::Id { key, grant_id } => {
                let (key, _) = self.find_key(caller, key, "kms:RetireGrant")?;
                (key, grant_id.clone())
            }
        };
        let Some(g) = self
            .store
            .get_grant(&key.record.region, &key.record.id, &grant)?
        else {
            return Err(not_found(&grant));
        };
        // The retiring principal, the grantee of a grant that allows RetireGrant, the
        // account that created the grant, or a policy that allows kms:RetireGrant.
        let p = caller.principal;
        let may = g.retiring_principal.as_deref() == Some(p.arn.as_str())
            || g.retiring_principal
                .as_deref()
                .is_some_and(|r| names(r, p) == Named::Exactly)
            || (names(&g.grantee_principal, p) == Named::Exactly
                && g.details.operations.iter().any(|o| o == "RetireGrant"))
            || (p.kind == PrincipalKind::Root
                && g.details.issuing_account == format!("arn:aws:iam::{}:root", p.account));
        if !may {
            self.authorize_key(caller, &key, &Access::new("kms:RetireGrant"), None)?;
        }
        if req.dry_run {
            return Err(KmsError::DryRun);
        }
        self.store
            .delete_grant(&key.record.region, &key.record.id, &g.grant_id)?;
        self.grant_cache.forget(&key.record.region, &key.record.id);
        Ok(b"{}".to_vec())
    }

    pub(super) fn revoke_grant(&self, caller: &Caller<'_>, req: &RevokeGrant) -> Result<Vec<u8>> {
        let _w = self.lock_writer();
        let access = Access::new("kms:RevokeGrant")
            .with_bool("kms:GrantIsForAWSResource", caller.via_service.is_some());
        let key = self.resolve(caller, &req.key, &access)?;
        if req.dry_run {
            return Err(KmsError::DryRun);
        }
        if !self
            .store
            .delete_grant(&key.record.region, &key.record.id, &req.grant_id)?
        {
            return Err(not_found(&req.grant_id));
        }
        self.grant_cache.forget(&key.record.region, &key.record.id);
        Ok(b"{}".to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_grant_and_differ_each_time() {
        let g = GrantRecord {
            grant_id: "ab".repeat(32),
            region: "us-east-1".into(),
            key_id: "k1".into(),
            account: crate::model::AccountId::parse("111122223333").unwrap(),
            name: None,
            grantee_principal: "arn:aws:iam::111122223333:root".into(),
            retiring_principal: None,
            created_ms: 0,
            details: GrantDetails {
                issuing_account: "arn:aws:iam::111122223333:root".into(),
                operations: vec!["Decrypt".into()],
                constraints: None,
            },
        };
        let (a, b) = (new_token(&g).unwrap(), new_token(&g).unwrap());
        assert_ne!(a, b);
        assert_eq!(
            parse_token(&a).unwrap(),
            ("us-east-1".into(), "k1".into(), "ab".repeat(32))
        );
        let foreign = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("other|a|b|c|d")
        };
        for bad in ["", "!!!", &foreign] {
            assert_eq!(
                parse_token(bad).unwrap_err().code(),
                "InvalidGrantTokenException"
            );
        }
    }

    #[test]
    fn operations_must_fit_the_key() {
        use KeySpec::*;
        assert!(operation_fits(
            "Decrypt",
            KeyUsage::EncryptDecrypt,
            SymmetricDefault
        ));
        assert!(!operation_fits(
            "Sign",
            KeyUsage::EncryptDecrypt,
            SymmetricDefault
        ));
        assert!(!operation_fits(
            "GetPublicKey",
            KeyUsage::EncryptDecrypt,
            SymmetricDefault
        ));
        assert!(operation_fits(
            "DescribeKey",
            KeyUsage::GenerateVerifyMac,
            Hmac256
        ));
    }
}
