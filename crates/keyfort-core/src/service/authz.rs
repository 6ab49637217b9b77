//! Authorization of every KMS request, as AWS KMS decides it: the key policy (parsed
//! once and cached with the key), the caller's identity-based policies
//! ([`Kms::identity_policies`]), a role session's session policy, and grants, combined
//! by [`keyfort_policy::authorize`]. Operations without a key (CreateKey, ListKeys,
//! ListAliases, GenerateRandom, ...) are authorized by the identity side alone.
//!
//! The condition context of a request is built here: the `kms:` keys AWS documents for
//! the operation (from the [`Access`] the handler describes), the key's own facts
//! (`kms:KeySpec`, `aws:ResourceTag/*`, `kms:ResourceAliases`, ...) and the global keys
//! (`aws:SourceIp`, `aws:SecureTransport`, `aws:CurrentTime`, `aws:PrincipalTag/*`;
//! `aws:PrincipalArn` and friends come from the engine's [`policy::Principal`]).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use keyfort_policy::date::format_iso8601;
use keyfort_policy::{self as policy, AuthzInput, Context, Decision, Policy, PolicyKind, Request};

use super::{Caller, Kms, LiveKey, Principal, PrincipalKind, read, write};
use crate::api::EncryptionContext;
use crate::error::{KmsError, Result};
use crate::iam::IamKind;
use crate::model::Tag;

/// What a request asks of a key: the action and the request's own condition keys.
#[derive(Debug)]
pub(crate) struct Access<'r> {
    /// The IAM action, e.g. `kms:Encrypt`.
    pub(crate) action: &'static str,
    /// The request's encryption context (`kms:EncryptionContext:*`,
    /// `kms:EncryptionContextKeys`; grant constraints are checked against it).
    pub(crate) encryption_context: Option<&'r EncryptionContext>,
    /// Further condition keys of the request (`kms:EncryptionAlgorithm`, ...).
    extra: Vec<(&'static str, Vec<String>)>,
    /// For CreateGrant: the new grant's operations and constraints (a grant that
    /// allows CreateGrant allows only grants within its own).
    pub(crate) child_grant: Option<(&'r [String], Option<&'r crate::grant::GrantConstraints>)>,
}

impl<'r> Access<'r> {
    /// A request for `action` with no condition keys of its own.
    pub(crate) fn new(action: &'static str) -> Access<'r> {
        Access {
            action,
            encryption_context: None,
            extra: Vec::new(),
            child_grant: None,
        }
    }

    /// Adds the request's encryption context.
    #[must_use]
    pub(crate) fn context(mut self, ctx: &'r EncryptionContext) -> Access<'r> {
        self.encryption_context = Some(ctx);
        self
    }

    /// Adds a single-valued condition key.
    #[must_use]
    pub(crate) fn with(mut self, key: &'static str, value: impl Into<String>) -> Access<'r> {
        self.extra.push((key, vec![value.into()]));
        self
    }

    /// Adds a boolean condition key (`true` / `false`).
    #[must_use]
    pub(crate) fn with_bool(self, key: &'static str, value: bool) -> Access<'r> {
        self.with(key, if value { "true" } else { "false" })
    }

    /// Adds a multi-valued condition key (absent when `values` is empty).
    #[must_use]
    pub(crate) fn with_all(mut self, key: &'static str, values: Vec<String>) -> Access<'r> {
        if !values.is_empty() {
            self.extra.push((key, values));
        }
        self
    }

    /// Adds `aws:RequestTag/*` and `aws:TagKeys` for tags in the request.
    #[must_use]
    pub(crate) fn request_tags(mut self, tags: &[Tag]) -> Access<'r> {
        for t in tags {
            self.extra
                .push(("aws:RequestTag/", vec![t.key.clone(), t.value.clone()]));
        }
        self.with_all("aws:TagKeys", tags.iter().map(|t| t.key.clone()).collect())
    }

    fn fill(&self, ctx: &mut Context) {
        if let Some(ec) = self.encryption_context {
            for (k, v) in ec {
                ctx.insert(&format!("kms:EncryptionContext:{k}"), v.as_str());
            }
            if !ec.is_empty() {
                ctx.set("kms:EncryptionContextKeys", ec.keys().cloned().collect());
            }
        }
        for (key, values) in &self.extra {
            if *key == "aws:RequestTag/" {
                if let [k, v] = values.as_slice() {
                    ctx.insert(&format!("aws:RequestTag/{k}"), v.as_str());
                }
            } else {
                ctx.set(key, values.clone());
            }
        }
    }
}

/// Operations AWS lets a principal of another account perform on a key, given by its
/// key ARN (the KMS permissions reference's "cross-account use: yes").
pub(crate) fn cross_account_action(action: &str) -> bool {
    matches!(
        action,
        "kms:CreateGrant"
            | "kms:Decrypt"
            | "kms:DeriveSharedSecret"
            | "kms:DescribeKey"
            | "kms:Encrypt"
            | "kms:GenerateDataKey"
            | "kms:GenerateDataKeyPair"
            | "kms:GenerateDataKeyPairWithoutPlaintext"
            | "kms:GenerateDataKeyWithoutPlaintext"
            | "kms:GenerateMac"
            | "kms:GetKeyRotationStatus"
            | "kms:GetPublicKey"
            | "kms:ListGrants"
            | "kms:ReEncryptFrom"
            | "kms:ReEncryptTo"
            | "kms:RetireGrant"
            | "kms:RevokeGrant"
            | "kms:Sign"
            | "kms:Verify"
            | "kms:VerifyMac"
    )
}

/// The engine's view of an authenticated caller.
pub(crate) fn engine_principal(p: &Principal) -> policy::Principal {
    let (kind, username) = match &p.kind {
        PrincipalKind::Root => (policy::PrincipalKind::Root, None),
        PrincipalKind::User { name } => (policy::PrincipalKind::IamUser, Some(name.clone())),
        PrincipalKind::AssumedRole {
            role_arn,
            session_name,
        } => (
            policy::PrincipalKind::AssumedRole {
                role_arn: role_arn.clone(),
                session_name: session_name.clone(),
            },
            None,
        ),
    };
    policy::Principal {
        arn: p.arn.clone(),
        account: p.account.as_str().to_owned(),
        kind,
        userid: p.user_id.clone(),
        username,
    }
}

/// AWS's AccessDeniedException message: who, what, on which resource, and why.
pub(crate) fn access_denied(
    principal_arn: &str,
    action: &str,
    resource: &str,
    decision: Decision,
) -> KmsError {
    let why = decision
        .denial_reason(action)
        .unwrap_or_else(|| format!("because no resource-based policy allows the {action} action"));
    KmsError::AccessDenied(format!(
        "User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {why}"
    ))
}

/// The denial for a key of another account that does not exist (or that the action
/// cannot reach): worded exactly as a key whose policy does not allow the caller, so
/// that no reply tells whether another account's key exists.
pub(crate) fn foreign_key_denied(caller: &Caller<'_>, action: &str, key_arn: &str) -> KmsError {
    access_denied(
        &caller.principal.arn,
        action,
        key_arn,
        Decision::ImplicitDeny(PolicyKind::Resource),
    )
}

/// Parses a key policy document (MalformedPolicyDocumentException with the engine's
/// reason).
pub(crate) fn parse_key_policy(text: &str) -> Result<Policy> {
    let malformed = |why: &dyn std::fmt::Display| {
        KmsError::MalformedPolicyDocument(format!("The new key policy is not valid: {why}."))
    };
    let policy = Policy::parse(text, PolicyKind::Resource).map_err(|e| malformed(&e))?;
    // The engine takes an empty list (IAM would); a key policy that can never allow
    // anything is refused, as KMS does.
    if policy.statement_count() == 0 {
        return Err(malformed(&"policy has no statement"));
    }
    Ok(policy)
}

/// The aliases of each key (`kms:ResourceAliases`), cached by key id (with its region,
/// so a lookup allocates nothing) and dropped whole on any alias change.
#[derive(Debug, Default)]
pub(crate) struct AliasIndex(RwLock<HashMap<String, (String, KeyAliases)>>);

/// The alias names of one key.
type KeyAliases = Arc<[String]>;

impl AliasIndex {
    pub(crate) fn clear(&self) {
        write(&self.0).clear();
    }
}

impl Kms {
    /// AWS refuses a key policy that names an IAM user or role that does not exist
    /// (it resolves each to the principal's unique id when it stores the policy):
    /// MalformedPolicyDocumentException, with AWS's message.
    pub(crate) fn check_named_principals(&self, policy: &Policy) -> Result<()> {
        for (named, is_role) in policy.named_users_and_roles() {
            let kind = if is_role {
                IamKind::Role
            } else {
                IamKind::User
            };
            // The entity of that name, whose ARN (with its stored path) is the one named.
            let exists = crate::iam::split_arn(named).is_some_and(|(account, _, name)| {
                self.iam_path(&account, kind, name)
                    .is_some_and(|path| crate::iam::arn(&account, kind, &path, name) == named)
            });
            if !exists {
                return Err(KmsError::MalformedPolicyDocument(
                    "Policy contains a statement with one or more invalid principals.".into(),
                ));
            }
        }
        Ok(())
    }

    /// The condition keys every request has: the connection's and the caller's.
    fn request_context(&self, caller: &Caller<'_>) -> Context {
        let mut ctx = Context::new();
        let now = self.now_ms();
        ctx.insert("aws:CurrentTime", format_iso8601(now));
        ctx.insert("aws:EpochTime", now.div_euclid(1000).to_string());
        ctx.insert(
            "aws:SecureTransport",
            if caller.secure_transport {
                "true"
            } else {
                "false"
            },
        );
        if let Some(ip) = caller.source_ip {
            ctx.insert("aws:SourceIp", ip.to_string());
        }
        // A request through a registered service (docs/rotation.md): kms:ViaService
        // names it, and aws:ViaAWSService says a service made the call.
        if let Some(service) = caller.via_service {
            ctx.insert(
                "kms:ViaService",
                format!("{service}.{}.amazonaws.com", caller.region),
            );
        }
        ctx.insert(
            "aws:ViaAWSService",
            if caller.via_service.is_some() {
                "true"
            } else {
                "false"
            },
        );
        for (k, v) in &caller.principal.tags {
            ctx.insert(&format!("aws:PrincipalTag/{k}"), v.as_str());
        }
        ctx
    }

    /// The aliases of a key, through the cache.
    fn resource_aliases(&self, key: &LiveKey) -> Result<Arc<[String]>> {
        if let Some((region, a)) = read(&self.alias_index.0).get(key.record.id.as_str()) {
            if *region == key.record.region {
                return Ok(Arc::clone(a));
            }
        }
        let mut names = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store.list_aliases(
                &key.record.account,
                &key.record.region,
                Some(&key.record.id),
                crate::store::Page {
                    after: after.as_deref(),
                    limit: 1000,
                },
            )?;
            let done = page.len() < 1000;
            after = page.last().map(|a| a.name.clone());
            names.extend(page.into_iter().map(|a| a.name));
            if done {
                break;
            }
        }
        let names: Arc<[String]> = Arc::from(names);
        write(&self.alias_index.0).insert(
            key.record.id.clone(),
            (key.record.region.clone(), Arc::clone(&names)),
        );
        Ok(names)
    }

    /// The full condition context of a request on `key`.
    fn key_context(
        &self,
        caller: &Caller<'_>,
        key: &LiveKey,
        access: &Access<'_>,
        request_alias: Option<&str>,
    ) -> Result<Context> {
        let mut ctx = self.request_context(caller);
        let r = &key.record;
        ctx.insert("kms:KeySpec", r.spec.as_str());
        ctx.insert("kms:KeyUsage", r.usage.as_str());
        ctx.insert("kms:KeyOrigin", r.origin.as_str());
        ctx.insert("kms:KeyManager", r.manager.as_str());
        for t in &r.tags {
            ctx.insert(&format!("aws:ResourceTag/{}", t.key), t.value.as_str());
        }
        if let Some(a) = request_alias {
            ctx.insert("kms:RequestAlias", a);
        }
        let aliases = self.resource_aliases(key)?;
        if !aliases.is_empty() {
            ctx.set("kms:ResourceAliases", aliases.to_vec());
        }
        access.fill(&mut ctx);
        Ok(ctx)
    }

    /// Decides whether `caller` may perform `access` on `key` (named through
    /// `request_alias` when it was named by alias). AccessDeniedException otherwise.
    pub(crate) fn authorize_key(
        &self,
        caller: &Caller<'_>,
        key: &LiveKey,
        access: &Access<'_>,
        request_alias: Option<&str>,
    ) -> Result<()> {
        let principal = engine_principal(caller.principal);
        let ctx = self.key_context(caller, key, access, request_alias)?;
        let identity = self.identity_policies(caller.principal)?;
        let identity: Vec<&Policy> = identity.iter().map(Arc::as_ref).collect();
        let arn = key.arn();
        let mut input = AuthzInput {
            request: Request {
                principal: &principal,
                action: access.action,
                resource: &arn,
                context: &ctx,
            },
            resource_account: key.record.account.as_str(),
            resource_policy: key.policy.as_deref(),
            identity_policies: &identity,
            session_policy: caller.principal.session_policy.as_deref(),
            grant_allows: false,
        };
        let mut decision = policy::authorize(&input);
        // Grants are looked at only when no policy allows (an explicit deny still wins).
        if matches!(decision, Decision::ImplicitDeny(_))
            && self.grant_allows(caller, key, access, &ctx)?
        {
            input.grant_allows = true;
            decision = policy::authorize(&input);
        }
        if decision.is_allowed() {
            // A key of another account is noted for the audit record only now.
            if key.record.account != caller.principal.account {
                caller.resources.record(arn);
            }
            return Ok(());
        }
        Err(access_denied(&principal.arn, access.action, &arn, decision))
    }

    /// Decides an action that no key policy governs (CreateKey, ListKeys,
    /// GenerateRandom, an alias, ...): the caller's identity side alone.
    pub(crate) fn authorize_identity(
        &self,
        caller: &Caller<'_>,
        access: &Access<'_>,
        resource: &str,
    ) -> Result<()> {
        let principal = engine_principal(caller.principal);
        let mut ctx = self.request_context(caller);
        access.fill(&mut ctx);
        let identity = self.identity_policies(caller.principal)?;
        let identity: Vec<&Policy> = identity.iter().map(Arc::as_ref).collect();
        let req = Request {
            principal: &principal,
            action: access.action,
            resource,
            context: &ctx,
        };
        let decision =
            policy::authorize_identity(&req, &identity, caller.principal.session_policy.as_deref());
        if decision.is_allowed() {
            return Ok(());
        }
        // Without any identity-side statement, AWS words the denial for the missing
        // identity-based policy.
        Err(access_denied(
            &principal.arn,
            access.action,
            resource,
            decision,
        ))
    }

    /// Authorizes an action of another service that keyfort answers (CloudTrail's
    /// `cloudtrail:LookupEvents`) on `resource` by the caller's identity side; the
    /// account root is allowed. AccessDeniedException otherwise.
    pub fn authorize_service_action(
        &self,
        caller: &Caller<'_>,
        action: &'static str,
        resource: &str,
    ) -> Result<()> {
        self.authorize_identity(caller, &Access::new(action), resource)
    }

    /// The policy lockout safety check: would the caller still be allowed to call
    /// PutKeyPolicy on a key (ARN `key_arn` in the caller's account) whose policy is
    /// `new_policy`? MalformedPolicyDocumentException when not.
    pub(crate) fn lockout_check(
        &self,
        caller: &Caller<'_>,
        key_arn: &str,
        new_policy: &Policy,
    ) -> Result<()> {
        let principal = engine_principal(caller.principal);
        let ctx = self.request_context(caller);
        let identity = self.identity_policies(caller.principal)?;
        let identity: Vec<&Policy> = identity.iter().map(Arc::as_ref).collect();
        let input = AuthzInput {
            request: Request {
                principal: &principal,
                action: "kms:PutKeyPolicy",
                resource: key_arn,
                context: &ctx,
            },
            resource_account: caller.principal.account.as_str(),
            resource_policy: Some(new_policy),
            identity_policies: &identity,
            session_policy: caller.principal.session_policy.as_deref(),
            grant_allows: false,
        };
        if policy::authorize(&input).is_allowed() {
            return Ok(());
        }
        Err(KmsError::MalformedPolicyDocument(
            "The new key policy will not allow you to update the key policy in the future.".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_fills_encryption_context_and_tags() {
        let mut ec = EncryptionContext::new();
        ec.insert("Dept".into(), "Sales".into());
        ec.insert("Project".into(), "X".into());
        let tags = vec![Tag {
            key: "Env".into(),
            value: "prod".into(),
        }];
        let a = Access::new("kms:Encrypt")
            .context(&ec)
            .with("kms:EncryptionAlgorithm", "SYMMETRIC_DEFAULT")
            .request_tags(&tags);
        let mut ctx = Context::new();
        a.fill(&mut ctx);
        assert_eq!(
            ctx.get("kms:EncryptionContext:Dept"),
            Some(&["Sales".to_owned()][..])
        );
        assert_eq!(ctx.get("kms:encryptioncontext:dept"), None);
        assert_eq!(
            ctx.get("kms:EncryptionContextKeys").map(<[String]>::len),
            Some(2)
        );
        assert_eq!(
            ctx.get("kms:encryptionalgorithm"),
            Some(&["SYMMETRIC_DEFAULT".to_owned()][..])
        );
        assert_eq!(
            ctx.get("aws:RequestTag/Env"),
            Some(&["prod".to_owned()][..])
        );
        assert_eq!(ctx.get("aws:TagKeys"), Some(&["Env".to_owned()][..]));
    }

    #[test]
    fn denial_message_is_shaped_like_aws() {
        let e = access_denied(
            "arn:aws:iam::111122223333:root",
            "kms:Encrypt",
            "arn:aws:kms:us-east-1:111122223333:key/k",
            Decision::ImplicitDeny(PolicyKind::Resource),
        );
        assert_eq!(
            e.to_string(),
            "User: arn:aws:iam::111122223333:root is not authorized to perform: kms:Encrypt on resource: arn:aws:kms:us-east-1:111122223333:key/k because no resource-based policy allows the kms:Encrypt action"
        );
    }
}
