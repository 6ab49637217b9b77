//! The `Principal` / `NotPrincipal` element: parsing and matching a caller.

use serde_json::Value;

use crate::context::{Principal, PrincipalKind};
use crate::error::PolicyError;

/// How an allow reached the caller (ordered: weaker first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AllowMatch {
    /// Only through the caller's account (`"111122223333"` or
    /// `arn:aws:iam::111122223333:root`): the account delegates to its IAM
    /// policies, which must allow too.
    Account,
    /// The caller specifically: its user ARN, its role's ARN (for a session),
    /// a service principal, or `"*"`. For identity and session policies, which
    /// have no principal, every allow is this.
    Principal,
    /// The assumed-role session ARN itself. Unlike a role ARN, this is not
    /// limited by the session policy.
    Session,
}

/// One value of a Principal element.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Spec {
    /// `"*"` or `{"AWS": "*"}`.
    Any,
    /// An account (12-digit id or `:root` ARN), stored as the account id.
    Account(Box<str>),
    /// An IAM user ARN.
    User(Box<str>),
    /// An IAM role ARN: matches its sessions.
    Role(Box<str>),
    /// An assumed-role session ARN.
    Session(Box<str>),
    /// A service principal name.
    Service(Box<str>),
    /// A Federated or CanonicalUser principal, or a unique id of a deleted
    /// principal: kept, never matched.
    Unmatched,
}

/// A parsed Principal element: the values with the JSON key they came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Principals {
    pub(crate) specs: Vec<Spec>,
    /// As written, for round trips.
    pub(crate) raw: Value,
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_aws(v: &str, location: &str) -> Result<Spec, PolicyError> {
    let bad = |reason: &'static str| PolicyError::BadValue {
        element: "Principal AWS".into(),
        value: v.to_owned(),
        reason,
        location: location.to_owned(),
    };
    if v == "*" {
        return Ok(Spec::Any);
    }
    if v.contains('*') || v.contains('?') {
        return Err(bad(
            "wildcards are not allowed in a principal except \"*\" alone",
        ));
    }
    if is_account_id(v) {
        return Ok(Spec::Account(v.into()));
    }
    // Unique ids (AIDA..., AROA...) appear where a named principal was deleted.
    if v.len() >= 16
        && (v.starts_with("AIDA") || v.starts_with("AROA"))
        && v.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Ok(Spec::Unmatched);
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(bad(
            "expected \"*\", a 12-digit account id, or an IAM user, role, root or assumed-role ARN",
        ));
    };
    if *arn != "arn" || partition.is_empty() || !region.is_empty() || !is_account_id(account) {
        return Err(bad(
            "expected arn:PARTITION:iam::ACCOUNT:... or arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION",
        ));
    }
    match *service {
        "iam" if *resource == "root" => Ok(Spec::Account((*account).into())),
        "iam" if resource.starts_with("user/") && resource.len() > 5 => Ok(Spec::User(v.into())),
        "iam" if resource.starts_with("role/") && resource.len() > 5 => Ok(Spec::Role(v.into())),
        "sts"
            if resource.strip_prefix("assumed-role/").is_some_and(|r| {
                r.split('/').count() == 2 && !r.contains("//") && !r.ends_with('/')
            }) =>
        {
            Ok(Spec::Session(v.into()))
        }
        _ => Err(bad(
            "an AWS principal must be an account, an IAM user or role, or an assumed-role session",
        )),
    }
}

fn strings<'v>(v: &'v Value, element: &str, location: &str) -> Result<Vec<&'v str>, PolicyError> {
    let bad = || PolicyError::BadType {
        element: element.to_owned(),
        expected: "a string or an array of strings",
        location: location.to_owned(),
    };
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(a) if !a.is_empty() => a.iter().map(|x| x.as_str().ok_or_else(bad)).collect(),
        _ => Err(bad()),
    }
}

impl Principals {
    /// Parses `"*"` or `{"AWS": ..., "Service": ..., "Federated": ..., "CanonicalUser": ...}`.
    pub(crate) fn parse(
        v: &Value,
        element: &str,
        location: &str,
    ) -> Result<Principals, PolicyError> {
        let mut specs = Vec::new();
        match v {
            Value::String(s) if s == "*" => specs.push(Spec::Any),
            Value::Object(map) if !map.is_empty() => {
                for (k, val) in map {
                    let elem = format!("{element} {k}");
                    let list = strings(val, &elem, location)?;
                    for s in list {
                        let spec = match k.as_str() {
                            "AWS" => parse_aws(s, location)?,
                            "Service" if !s.is_empty() && !s.contains('*') => {
                                Spec::Service(s.into())
                            }
                            "Federated" | "CanonicalUser" if !s.is_empty() => Spec::Unmatched,
                            "Service" | "Federated" | "CanonicalUser" => {
                                return Err(PolicyError::BadValue {
                                    element: elem,
                                    value: s.to_owned(),
                                    reason: "must be a non-empty name without wildcards",
                                    location: location.to_owned(),
                                });
                            }
                            _ => {
                                return Err(PolicyError::UnknownElement {
                                    element: k.clone(),
                                    location: format!("{location} {element}"),
                                });
                            }
                        };
                        specs.push(spec);
                    }
                }
            }
            _ => {
                return Err(PolicyError::BadType {
                    element: element.to_owned(),
                    expected: "\"*\" or an object with AWS, Service, Federated or CanonicalUser",
                    location: location.to_owned(),
                });
            }
        }
        Ok(Principals {
            specs,
            raw: v.clone(),
        })
    }

    /// The strongest way one of the values names `p`, if any does.
    pub(crate) fn best_match(&self, p: &Principal) -> Option<AllowMatch> {
        self.specs.iter().filter_map(|s| spec_match(s, p)).max()
    }

    /// For NotPrincipal: is `p` excluded? Only when every identity the request
    /// carries is listed: a user needs its ARN and its account, a session its
    /// session ARN, its role ARN and its account (as AWS documents for
    /// NotPrincipal with Deny).
    pub(crate) fn excludes(&self, p: &Principal) -> bool {
        if self.specs.contains(&Spec::Any) {
            return true;
        }
        let has = |f: &dyn Fn(&Spec) -> bool| self.specs.iter().any(f);
        let account = || has(&|s| matches!(s, Spec::Account(a) if **a == *p.account));
        match &p.kind {
            PrincipalKind::Root => account(),
            PrincipalKind::IamUser => {
                account() && has(&|s| matches!(s, Spec::User(a) if **a == *p.arn))
            }
            PrincipalKind::AssumedRole { role_arn, .. } => {
                account()
                    && has(&|s| matches!(s, Spec::Role(a) if **a == **role_arn))
                    && has(&|s| matches!(s, Spec::Session(a) if **a == *p.arn))
            }
            PrincipalKind::Service(name) => {
                has(&|s| matches!(s, Spec::Service(a) if **a == **name))
            }
            PrincipalKind::Anonymous => false,
        }
    }
}

fn spec_match(s: &Spec, p: &Principal) -> Option<AllowMatch> {
    let hit = match (s, &p.kind) {
        (Spec::Any, _) => return Some(AllowMatch::Principal),
        (Spec::Account(a), _) => p.has_account() && **a == *p.account,
        (Spec::User(a), PrincipalKind::IamUser) => **a == *p.arn,
        (Spec::Role(a), PrincipalKind::AssumedRole { role_arn, .. }) => **a == **role_arn,
        (Spec::Session(a), PrincipalKind::AssumedRole { .. }) => {
            return (**a == *p.arn).then_some(AllowMatch::Session);
        }
        (Spec::Service(a), PrincipalKind::Service(name)) => **a == **name,
        _ => false,
    };
    match s {
        Spec::Account(_) => hit.then_some(AllowMatch::Account),
        _ => hit.then_some(AllowMatch::Principal),
    }
}
