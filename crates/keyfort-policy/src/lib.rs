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
//! ```
//! use keyfort_policy::*;
//!
//! # fn main() -> Result<(), PolicyError> {
//! let key_policy = Policy::parse(
//!     r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
//!         "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
//!         "Action": "kms:*", "Resource": "*"}]}"#,
//!     PolicyKind::Resource,
//! )?;
//! let identity = Policy::parse(
//!     r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
//!         "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*",
//!         "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "${aws:PrincipalTag/Dept}"}}}}"#,
//!     PolicyKind::Identity,
//! )?;
//! let alice = Principal::user("111122223333", "alice", "AIDAEXAMPLE");
//! let context = Context::new()
//!     .with("kms:EncryptionContext:Dept", "Sales")
//!     .with("aws:PrincipalTag/Dept", "Sales");
//! let input = AuthzInput {
//!     request: Request {
//!         principal: &alice,
//!         action: "kms:Encrypt",
//!         resource: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
//!         context: &context,
//!     },
//!     resource_account: "111122223333",
//!     resource_policy: Some(&key_policy),
//!     identity_policies: &[&identity],
//!     session_policy: None,
//!     grant_allows: false,
//! };
//! assert_eq!(authorize(&input), Decision::Allow);
//! # Ok(())
//! # }
//! ```
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
//! - Every IAM condition operator: `String{Equals,NotEquals,EqualsIgnoreCase,
//!   NotEqualsIgnoreCase,Like,NotLike}`, `Numeric*`, `Date*` (ISO 8601 or epoch
//!   seconds), `Bool`, `BinaryEquals` (base64), `IpAddress`/`NotIpAddress` (IPv4
//!   and IPv6 CIDR), `Arn{Equals,Like,NotEquals,NotLike}` (each of the six ARN
//!   components matched on its own), `Null`, each with `IfExists`, and the
//!   `ForAnyValue:` / `ForAllValues:` qualifiers. Operator names ignore case.
//! - In a Condition block operators AND, keys AND, values OR; a negated
//!   operator holds when no value matches (NOR). A key absent from the request
//!   makes a positive operator false and a negated one true (as the IAM
//!   reference says); `...IfExists` makes it true; `Null` tests presence.
//!   `ForAnyValue:` holds when some request value satisfies the operator (false
//!   for an absent key), `ForAllValues:` when every one does (true for an absent
//!   key); with a negated operator each request value is tested with NOR.
//!   Without a qualifier a multi-valued key behaves as `ForAnyValue:` for
//!   positive operators and as the negation of that for negated ones.

//!
//! # Deliberately not here
//!
//! - Permissions boundaries, SCPs and RCPs (keyfort has no organizations).
//! - `Federated` and `CanonicalUser` principals parse but never match (keyfort
//!   has no web-identity, SAML or S3 principals); nor do unique ids (`AIDA...`)
//!   that AWS leaves in a policy after a principal is deleted.
//! - `NotPrincipal` in a trust policy is refused.
//! - IAM's per-service validation (that an action or condition key exists) and
//!   the document size limits: the caller checks sizes before parsing.
//! - Request-time keys (`aws:CurrentTime`, `aws:SourceIp`, `kms:*` keys, tags)
//!   come from the caller; only keys derived from the [`Principal`] are filled in.
//! - The KMS key policy lockout safety check is the caller's: run [`authorize`]
//!   for `kms:PutKeyPolicy` with the new policy and the caller's identity policies.

#![forbid(unsafe_code)]

mod b64;
mod combine;
mod condition;
mod context;
pub mod date;
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
pub use parse::{Policy, PolicyKind, Version};
pub use principal::AllowMatch;
