//! keyfort's one policy engine: IAM identity policies, KMS key policies, IAM
//! role trust policies and STS session policies, with AWS's documented grammar
//! and evaluation semantics. A pure library: no I/O, no clock (the caller puts
//! `aws:CurrentTime` and friends in the [`Context`]).
//!
//! # Using it
//!
//! 1. [`Policy::parse`] a document once, when it is stored (PutKeyPolicy,
//!    CreateRole, PutUserPolicy, AssumeRole's session policy). A
//!    [`PolicyError`]'s text is the message for `MalformedPolicyDocumentException`.
//!    Keep the parsed [`Policy`]: it is indexed for evaluation (actions
//!    lowercased, wildcard patterns split into tokens, condition values typed),
//!    so evaluating does not re-parse and hardly allocates.
//! 2. For each request, build a [`Request`]: the [`Principal`] (ARN, account,
//!    [`PrincipalKind`], `aws:userid`, `aws:username`), the action
//!    (`"kms:Encrypt"`), the resource ARN and the [`Context`] of condition keys.
//! 3. Decide with [`authorize`] (KMS key: key policy + identity policies +
//!    session policy + grants), [`authorize_assume_role`] (trust policy) or
//!    [`authorize_identity`] (IAM actions). [`Policy::evaluate`] answers for one
//!    policy alone.
//!
//! # The evaluation model
//!
//! A statement applies when its principal, action, resource and every condition
//! match. A policy's [`Evaluation`] records whether a Deny statement applied
//! (explicit deny) and the strongest way an Allow statement applied
//! ([`AllowMatch`]): through the caller's account only (the account principal
//! delegates to IAM), to the caller specifically (user or role ARN, service,
//! `"*"`), or to the assumed-role session ARN itself.
//!
//! Across policies: an explicit deny anywhere wins. Otherwise, for a KMS key in
//! the caller's account, the key policy allowing the caller specifically is
//! enough; the key policy allowing the account needs an identity policy allow as
//! well (the root user's identity side is implicit). Across accounts, both the
//! key policy and the caller's identity policy must allow. A grant allows on its
//! own. A session policy limits what a session's identity policies (and a key
//! policy naming its role) grant, but not a key policy naming the session ARN.
//!
//! # Grammar details
//!
//! - `Version` `2012-10-17` substitutes policy variables (`${aws:username}`,
//!   `${aws:userid}`, `${aws:PrincipalTag/K}`, `${aws:PrincipalAccount}`, any
//!   condition key, defaults `${key, 'value'}`, and `${*}` `${?}` `${$}` for
//!   literal characters) in Resource and in `String*` / `Arn*` condition values.
//!   `2008-10-17` or no Version: `${...}` is text. An unresolved variable
//!   never matches.
//! - Actions match ignoring case; resources and string conditions with case;
//!   `*` and `?` are wildcards in Action, Resource, `StringLike` and `Arn*`.
//! - Condition key names ignore case, except the part after
//!   `kms:EncryptionContext:` and tag keys; see [`normalize_key`].
//! - Condition operators and the set qualifiers are described in the
//!   `condition` module docs: absent keys make positive operators false and
//!   negated operators true, `...IfExists` true, `ForAllValues:` true and
//!   `ForAnyValue:` false.

#![forbid(unsafe_code)]

mod b64;
mod combine;
mod condition;
mod context;
mod date;
mod error;
mod evaluate;
mod ip;
mod parse;
mod principal;
mod wildcard;

#[cfg(test)]
mod tests_combine;
#[cfg(test)]
mod tests_conditions;
#[cfg(test)]
mod tests_parse;
#[cfg(test)]
mod tests_prop;

pub use combine::{AuthzInput, Decision, authorize, authorize_assume_role, authorize_identity};
pub use context::{Context, Principal, PrincipalKind, Request, normalize_key};
pub use error::PolicyError;
pub use evaluate::Evaluation;
pub use parse::{Effect, Policy, PolicyKind, Version};
pub use principal::AllowMatch;
