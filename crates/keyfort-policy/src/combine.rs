//! Combining the policies that apply to one request into a decision, with
//! AWS's rules for KMS keys, role trust (AssumeRole) and identity-only (IAM) checks.

use crate::context::{PrincipalKind, Request};
use crate::parse::{Policy, PolicyKind};
use crate::principal::AllowMatch;

/// The final answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// A Deny statement matched in a policy of this kind; nothing can override it.
    ExplicitDeny(PolicyKind),
    /// Nothing allowed the request (the default). The kind names the side that
    /// lacked an allow: the resource (key or trust) policy, the identity
    /// policies, or the session policy.
    ImplicitDeny(PolicyKind),
}

impl Decision {
    /// True only for [`Decision::Allow`].
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }

    /// True for [`Decision::ExplicitDeny`].
    pub fn is_explicit_deny(self) -> bool {
        matches!(self, Decision::ExplicitDeny(_))
    }

    /// The end of AWS's AccessDenied message for this decision, e.g. `"with an
    /// explicit deny in a resource-based policy"` or `"because no identity-based
    /// policy allows the kms:Encrypt action"`; `None` for [`Decision::Allow`].
    /// AWS's message is `User: {principal ARN} is not authorized to perform:
    /// {action} on resource: {resource ARN} {reason}`.
    pub fn denial_reason(self, action: &str) -> Option<String> {
        let policy = |kind: PolicyKind| match kind {
            PolicyKind::Resource | PolicyKind::Trust => "resource-based",
            PolicyKind::Identity => "identity-based",
            PolicyKind::Session => "session",
        };
        match self {
            Decision::Allow => None,
            Decision::ExplicitDeny(kind) => {
                let article = if kind == PolicyKind::Identity {
                    "an"
                } else {
                    "a"
                };
                Some(format!(
                    "with an explicit deny in {article} {} policy",
                    policy(kind)
                ))
            }
            Decision::ImplicitDeny(kind) => Some(format!(
                "because no {} policy allows the {action} action",
                policy(kind)
            )),
        }
    }
}

/// Everything that decides a request on a resource with a resource policy (a KMS
/// key and its key policy, or a role and its trust policy).
#[derive(Debug, Clone, Copy)]
pub struct AuthzInput<'a> {
    /// The request; its `resource` is the key (or role) ARN.
    pub request: Request<'a>,
    /// The 12-digit account that owns the resource.
    pub resource_account: &'a str,
    /// The key policy (or trust policy). `None` means no resource policy: only a
    /// grant can then allow.
    pub resource_policy: Option<&'a Policy>,
    /// The caller's identity policies (those attached to the user, or to the role
    /// of a session). Ignored for the root user, which has none.
    pub identity_policies: &'a [&'a Policy],
    /// The session policy of an assumed-role session, if the session has one.
    pub session_policy: Option<&'a Policy>,
    /// A KMS grant for this principal, operation and key matched (with its
    /// constraints). Grants only allow; they never override an explicit deny.
    pub grant_allows: bool,
}

/// Each policy evaluated once: the first explicit deny (resource, then identity,
/// then session policy), or what each side allows.
struct Sides {
    resource: Option<AllowMatch>,
    /// The identity side: root implicitly; users and sessions through an
    /// identity policy. Not yet limited by the session policy.
    identity: bool,
    /// The session policy allows, or there is none.
    session: bool,
}

fn evaluate_sides(input: &AuthzInput<'_>) -> Result<Sides, PolicyKind> {
    let req = &input.request;
    let resource = match input.resource_policy.map(|p| p.evaluate(req)) {
        Some(e) if e.explicit_deny => return Err(PolicyKind::Resource),
        Some(e) => e.allow,
        None => None,
    };
    let identity = match req.principal.kind {
        PrincipalKind::Root => true,
        PrincipalKind::IamUser | PrincipalKind::AssumedRole { .. } => {
            let mut allowed = false;
            for p in input.identity_policies {
                let e = p.evaluate(req);
                if e.explicit_deny {
                    return Err(PolicyKind::Identity);
                }
                allowed |= e.allow.is_some();
            }
            allowed
        }
        // Services and anonymous callers have no identity policies.
        PrincipalKind::Service(_) | PrincipalKind::Anonymous => false,
    };
    let session = match input.session_policy.map(|p| p.evaluate(req)) {
        Some(e) if e.explicit_deny => return Err(PolicyKind::Session),
        Some(e) => e.allow.is_some(),
        None => true,
    };
    Ok(Sides {
        resource,
        identity,
        session,
    })
}

/// Decides a request on a KMS key (AWS KMS's rules, DESIGN.md):
///
/// 1. an explicit Deny in the key policy, an identity policy or the session
///    policy denies;
/// 2. same account (or a service or anonymous caller): allowed if the key policy
///    allows the principal specifically (a session ARN named directly is not
///    limited by the session policy; a user or role ARN, or `"*"`, is); or the
///    key policy allows the account principal (delegation to IAM) and the
///    identity side allows (the root user implicitly; users and sessions by an
///    identity policy, within the session policy);
/// 3. cross account: allowed if the key policy allows the caller's account or
///    the caller AND the identity side allows;
/// 4. otherwise a grant allows, or it is an implicit deny.
pub fn authorize(input: &AuthzInput<'_>) -> Decision {
    let sides = match evaluate_sides(input) {
        Ok(s) => s,
        Err(kind) => return Decision::ExplicitDeny(kind),
    };
    let p = input.request.principal;
    let same_account = !p.has_account() || p.account == input.resource_account;
    // The side that lacks an allow, if any.
    let identity_gap = if !sides.identity {
        Some(PolicyKind::Identity)
    } else if !sides.session {
        Some(PolicyKind::Session)
    } else {
        None
    };
    let resource_gap = input
        .resource_policy
        .map_or(PolicyKind::Resource, Policy::kind);
    let gap = match (same_account, sides.resource) {
        (_, None) => Some(resource_gap),
        (true, Some(AllowMatch::Session)) => None,
        (true, Some(AllowMatch::Principal)) => (!sides.session).then_some(PolicyKind::Session),
        (true, Some(AllowMatch::Account)) | (false, Some(_)) => identity_gap,
    };
    match gap {
        None => Decision::Allow,
        Some(_) if input.grant_allows => Decision::Allow,
        Some(kind) => Decision::ImplicitDeny(kind),
    }
}

/// Decides `sts:AssumeRole` (or `sts:TagSession`, `sts:SetSourceIdentity`): the
/// request's resource is the role ARN and `resource_policy` its trust policy.
///
/// The same rules as [`authorize`] without grants: the trust policy must allow
/// the caller; a same-account caller named specifically needs nothing else, one
/// allowed only through its account also needs an identity policy allowing
/// `sts:AssumeRole` on the role; a cross-account caller always needs both. The
/// root user cannot assume roles (AWS refuses it), so root is an implicit deny.
pub fn authorize_assume_role(input: &AuthzInput<'_>) -> Decision {
    if input.request.principal.kind == PrincipalKind::Root {
        return Decision::ImplicitDeny(PolicyKind::Identity);
    }
    authorize(&AuthzInput {
        grant_allows: false,
        ..*input
    })
}

/// Decides an action on a resource without a resource policy (IAM and STS
/// actions such as `iam:CreateUser`):
/// an explicit deny in an identity or session policy denies; the root user of
/// the account is allowed; a user or session needs an identity policy allow,
/// within its session policy; services and anonymous callers are denied.
pub fn authorize_identity(
    req: &Request<'_>,
    identity_policies: &[&Policy],
    session_policy: Option<&Policy>,
) -> Decision {
    let input = AuthzInput {
        request: *req,
        resource_account: &req.principal.account,
        resource_policy: None,
        identity_policies,
        session_policy,
        grant_allows: false,
    };
    match evaluate_sides(&input) {
        Err(kind) => Decision::ExplicitDeny(kind),
        Ok(s) if !s.identity => Decision::ImplicitDeny(PolicyKind::Identity),
        Ok(s) if !s.session => Decision::ImplicitDeny(PolicyKind::Session),
        Ok(_) => Decision::Allow,
    }
}
