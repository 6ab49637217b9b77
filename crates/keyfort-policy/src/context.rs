//! The request side: who calls ([`Principal`]), what they ask ([`Request`]) and
//! the condition keys that describe the call ([`Context`]).

use crate::wildcard::Resolver;

/// Condition key prefixes whose suffix keeps its case: the encryption context key
/// (KMS documents it as case-sensitive) and tag keys.
const CASE_KEEPING_PREFIXES: [&str; 5] = [
    "kms:encryptioncontext:",
    "aws:principaltag/",
    "aws:resourcetag/",
    "aws:requesttag/",
    "iam:resourcetag/",
];

/// Normalizes a condition key name: key names are case-insensitive, except the
/// part after `kms:EncryptionContext:` and the tag key after `aws:PrincipalTag/`,
/// `aws:ResourceTag/`, `aws:RequestTag/` and `iam:ResourceTag/`, which keep their case.
pub fn normalize_key(key: &str) -> String {
    let lower = key.to_ascii_lowercase();
    for prefix in CASE_KEEPING_PREFIXES {
        if lower.starts_with(prefix) {
            // The prefix is ASCII, so its byte length is a char boundary in `key`.
            return format!("{prefix}{}", &key[prefix.len()..]);
        }
    }
    lower
}

/// The condition keys of a request: key name to one or many string values.
///
/// Key names are normalized with [`normalize_key`] on insert and lookup. A key
/// with no values counts as absent. Keys derived from the principal
/// (`aws:PrincipalArn`, `aws:PrincipalAccount`, `kms:CallerAccount`, `aws:userid`,
/// `aws:username`, `aws:PrincipalType`, `aws:PrincipalServiceName`) need not be inserted: they
/// are answered from the [`Principal`] when the context does not hold them.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Sorted by normalized key: a request has a handful of keys, and a binary
    /// search over them beats hashing (and cannot be flooded into collisions).
    entries: Vec<(String, Vec<String>)>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Context {
        Context::default()
    }

    /// Adds one value to `key` (a key may hold several, e.g. `kms:EncryptionContextKeys`).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> &mut Context {
        let value = value.into();
        self.slot(key).push(value);
        self
    }

    /// Replaces the values of `key`.
    pub fn set(&mut self, key: &str, values: Vec<String>) -> &mut Context {
        *self.slot(key) = values;
        self
    }

    /// The value list of `key`, created empty if absent.
    fn slot(&mut self, key: &str) -> &mut Vec<String> {
        let key = normalize_key(key);
        let i = match self.entries.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, Vec::new()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Builder form of [`Context::insert`].
    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Context {
        self.insert(key, value);
        self
    }

    /// The values of `key` (any case), if present and non-empty.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_normalized(&normalize_key(key))
    }

    pub(crate) fn get_normalized(&self, key: &str) -> Option<&[String]> {
        let i = self
            .entries
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()?;
        self.entries
            .get(i)
            .map(|(_, v)| v.as_slice())
            .filter(|v| !v.is_empty())
    }
}

/// What kind of principal is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account root user (`arn:aws:iam::ACCOUNT:root`).
    Root,
    /// An IAM user.
    IamUser,
    /// An assumed-role session (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`).
    AssumedRole {
        /// The role's ARN (`arn:aws:iam::ACCOUNT:role/PATH/ROLE`).
        role_arn: String,
        /// The session name.
        session_name: String,
    },
    /// An AWS service principal, e.g. `"logs.amazonaws.com"`.
    Service(String),
    /// An unauthenticated caller.
    Anonymous,
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The principal's ARN (the session ARN for an assumed role; empty for services
    /// and anonymous callers).
    pub arn: String,
    /// The principal's 12-digit account id (empty for services and anonymous callers).
    pub account: String,
    /// What kind of principal this is.
    pub kind: PrincipalKind,
    /// `aws:userid`: the unique id (e.g. `AIDA...`, `AROA...:session`, or the account id for root).
    pub userid: String,
    /// `aws:username`: the IAM user's friendly name (IAM users only).
    pub username: Option<String>,
}

impl Principal {
    /// The root user of `account` (partition `aws`).
    pub fn root(account: &str) -> Principal {
        Principal {
            arn: format!("arn:aws:iam::{account}:root"),
            account: account.to_owned(),
            kind: PrincipalKind::Root,
            userid: account.to_owned(),
            username: None,
        }
    }

    /// The IAM user `name` (optionally with a path such as `"dev/alice"`; the user
    /// name is the last part) of `account`, with unique id `userid`.
    pub fn user(account: &str, path_and_name: &str, userid: &str) -> Principal {
        let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
        Principal {
            arn: format!("arn:aws:iam::{account}:user/{path_and_name}"),
            account: account.to_owned(),
            kind: PrincipalKind::IamUser,
            userid: userid.to_owned(),
            username: Some(name.to_owned()),
        }
    }

    /// A session `session` of role `path_and_name` of `account`; `role_id` is the
    /// role's unique id (`AROA...`).
    pub fn assumed_role(
        account: &str,
        path_and_name: &str,
        session: &str,
        role_id: &str,
    ) -> Principal {
        let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
        Principal {
            arn: format!("arn:aws:sts::{account}:assumed-role/{name}/{session}"),
            account: account.to_owned(),
            kind: PrincipalKind::AssumedRole {
                role_arn: format!("arn:aws:iam::{account}:role/{path_and_name}"),
                session_name: session.to_owned(),
            },
            userid: format!("{role_id}:{session}"),
            username: None,
        }
    }

    /// The service principal `name`, e.g. `"logs.amazonaws.com"`.
    pub fn service(name: &str) -> Principal {
        Principal {
            arn: String::new(),
            account: String::new(),
            kind: PrincipalKind::Service(name.to_owned()),
            userid: name.to_owned(),
            username: None,
        }
    }

    /// An unauthenticated caller.
    pub fn anonymous() -> Principal {
        Principal {
            arn: String::new(),
            account: String::new(),
            kind: PrincipalKind::Anonymous,
            userid: "anonymous".to_owned(),
            username: None,
        }
    }

    /// `aws:PrincipalType` as AWS reports it.
    pub fn principal_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::IamUser => "User",
            PrincipalKind::AssumedRole { .. } => "AssumedRole",
            PrincipalKind::Service(_) => "Service",
            PrincipalKind::Anonymous => "Anonymous",
        }
    }

    /// True for principals that belong to an account (root, users, sessions).
    pub(crate) fn has_account(&self) -> bool {
        matches!(
            self.kind,
            PrincipalKind::Root | PrincipalKind::IamUser | PrincipalKind::AssumedRole { .. }
        )
    }
}

/// One authorization question: may `principal` do `action` on `resource`, given `context`?
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The caller.
    pub principal: &'a Principal,
    /// The action, `service:Operation`, e.g. `"kms:Encrypt"` (any case).
    pub action: &'a str,
    /// The resource ARN, e.g. the key ARN.
    pub resource: &'a str,
    /// The condition keys.
    pub context: &'a Context,
}

/// The values of one condition key in a request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ValueSet<'a> {
    Many(&'a [String]),
    One(&'a str),
}

impl<'a> ValueSet<'a> {
    pub(crate) fn iter(self) -> impl Iterator<Item = &'a str> {
        let (many, one) = match self {
            ValueSet::Many(v) => (v, None),
            ValueSet::One(s) => (&[][..], Some(s)),
        };
        many.iter().map(String::as_str).chain(one)
    }
}

impl<'a> Request<'a> {
    /// The values of a normalized condition key: the context first, then what the
    /// principal implies.
    pub(crate) fn lookup(&self, key: &str) -> Option<ValueSet<'a>> {
        if let Some(v) = self.context.get_normalized(key) {
            return Some(ValueSet::Many(v));
        }
        let p = self.principal;
        let derived: Option<&'a str> = match key {
            "aws:principalarn" if !p.arn.is_empty() => match &p.kind {
                // aws:PrincipalArn of a session is the role's ARN.
                PrincipalKind::AssumedRole { role_arn, .. } => Some(role_arn),
                _ => Some(&p.arn),
            },
            "aws:principalaccount" | "kms:calleraccount" if p.has_account() => Some(&p.account),
            "aws:userid" => Some(&p.userid),
            "aws:username" => p.username.as_deref(),
            "aws:principaltype" => Some(p.principal_type()),
            "aws:principalservicename" => match &p.kind {
                PrincipalKind::Service(s) => Some(s),
                _ => None,
            },
            _ => None,
        };
        derived.map(ValueSet::One)
    }
}

impl Resolver for Request<'_> {
    fn resolve(&self, key: &str) -> Option<&str> {
        match self.lookup(key)? {
            ValueSet::One(s) => Some(s),
            ValueSet::Many([one]) => Some(one),
            // Several values: no single value to substitute.
            ValueSet::Many(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_normalization() {
        assert_eq!(normalize_key("AWS:SourceIp"), "aws:sourceip");
        assert_eq!(
            normalize_key("kms:EncryptionContext:Department"),
            "kms:encryptioncontext:Department"
        );
        assert_eq!(
            normalize_key("KMS:ENCRYPTIONCONTEXTKEYS"),
            "kms:encryptioncontextkeys"
        );
        assert_eq!(
            normalize_key("aws:PrincipalTag/CostCenter"),
            "aws:principaltag/CostCenter"
        );
    }

    #[test]
    fn derived_keys() {
        let p = Principal::assumed_role("111122223333", "ops/Admin", "s1", "AROAX");
        let ctx = Context::new();
        let r = Request {
            principal: &p,
            action: "kms:Encrypt",
            resource: "*",
            context: &ctx,
        };
        assert_eq!(
            r.resolve("aws:principalarn"),
            Some("arn:aws:iam::111122223333:role/ops/Admin")
        );
        assert_eq!(r.resolve("aws:userid"), Some("AROAX:s1"));
        assert_eq!(r.resolve("aws:username"), None);
        assert_eq!(r.resolve("aws:principalaccount"), Some("111122223333"));
        assert_eq!(p.arn, "arn:aws:sts::111122223333:assumed-role/Admin/s1");
        let ctx = Context::new()
            .with("aws:PrincipalArn", "override")
            .with("k", "a")
            .with("K", "b");
        let r = Request { context: &ctx, ..r };
        assert_eq!(r.resolve("aws:principalarn"), Some("override"));
        assert_eq!(r.resolve("k"), None);
        assert_eq!(ctx.get("K").map(<[String]>::len), Some(2));
    }
}
