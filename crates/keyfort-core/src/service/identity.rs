//! Identity-based policies: what IAM says a principal may do, the identity side of
//! every authorization decision (the key policy is the resource side).

use std::sync::Arc;

use keyfort_policy::Policy;

use super::{Kms, Principal, PrincipalKind};
use crate::error::Result;

impl Kms {
    /// The identity-based policies that apply to `principal`: for an IAM user its
    /// inline and attached managed policies and those of its groups; for a role
    /// session the role's. The root user has none: its identity side is implicitly
    /// allowed (keyfort_policy::authorize knows).
    ///
    /// Until IAM users and roles exist (the identity work of the authorization
    /// issue), no principal other than a root user can authenticate, and an empty
    /// list is both what is stored and the safe answer (an implicit deny).
    pub fn identity_policies(&self, principal: &Principal) -> Result<Arc<[Arc<Policy>]>> {
        match principal.kind {
            PrincipalKind::Root => Ok(Arc::from(Vec::new())),
            PrincipalKind::User { .. } | PrincipalKind::AssumedRole { .. } => {
                Ok(Arc::from(Vec::new()))
            }
        }
    }
}
