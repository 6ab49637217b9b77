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
    /// A user or role that no longer exists has none (an implicit deny).
    pub fn identity_policies(&self, principal: &Principal) -> Result<Arc<[Arc<Policy>]>> {
        match principal.kind {
            PrincipalKind::Root => Ok(Arc::from(Vec::new())),
            // Parsed once and cached per user or role; any IAM change clears the cache.
            PrincipalKind::User { .. } | PrincipalKind::AssumedRole { .. } => {
                self.identity_policies_of(principal)
            }
        }
    }
}
