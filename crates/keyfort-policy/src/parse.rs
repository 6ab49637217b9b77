//! The policy grammar: JSON text to an indexed [`Policy`].

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::condition::Condition;
use crate::error::{PolicyError, stmt_loc};
use crate::principal::Principals;
use crate::wildcard::{Pattern, Syntax};

/// Which kind of policy a document is; decides which elements it must and must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// An IAM identity policy (inline or managed) attached to a user or role:
    /// no Principal; Resource required.
    Identity,
    /// A resource policy, here the KMS key policy: Principal and Resource required.
    Resource,
    /// An IAM role trust policy: Principal required; no Resource.
    Trust,
    /// An STS session policy (AssumeRole `Policy`/`PolicyArns`): like an identity policy.
    Session,
}

impl PolicyKind {
    fn article(self) -> &'static str {
        match self {
            PolicyKind::Identity => "an identity policy",
            PolicyKind::Resource => "a key (resource) policy",
            PolicyKind::Trust => "a trust policy",
            PolicyKind::Session => "a session policy",
        }
    }
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012,
    /// `2008-10-17`, or no Version: `${...}` is literal text.
    V2008,
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// The statement grants.
    Allow,
    /// The statement explicitly denies; an explicit deny always wins.
    Deny,
}

/// A list of patterns under Action/NotAction or Resource/NotResource.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PatternList {
    /// True for NotAction / NotResource.
    pub(crate) negated: bool,
    /// Some pattern is `*`.
    pub(crate) any: bool,
    pub(crate) patterns: Vec<Pattern>,
    /// The JSON value was a single string (for round trips).
    pub(crate) single: bool,
}

/// The principal element of a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PrincipalElement {
    /// Identity and session policies.
    Implicit,
    Principal(Principals),
    NotPrincipal(Principals),
}

/// One parsed statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) principal: PrincipalElement,
    pub(crate) actions: PatternList,
    /// `None` in trust policies.
    pub(crate) resources: Option<PatternList>,
    pub(crate) conditions: Vec<Condition>,
}

/// A parsed, validated policy, indexed for evaluation: actions lowercased,
/// patterns split into tokens, condition values typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) kind: PolicyKind,
    pub(crate) version: Version,
    /// Whether Version was written (for round trips).
    pub(crate) version_written: bool,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
    /// Statement was a single object (for round trips).
    pub(crate) single_statement: bool,
}

const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn string_list(
    v: &Value,
    element: &str,
    location: &str,
) -> Result<(Vec<String>, bool), PolicyError> {
    let bad = || PolicyError::BadType {
        element: element.to_owned(),
        expected: "a string or a non-empty array of strings",
        location: location.to_owned(),
    };
    match v {
        Value::String(s) => Ok((vec![s.clone()], true)),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| x.as_str().map(str::to_owned).ok_or_else(bad))
            .collect::<Result<_, _>>()
            .map(|l| (l, false)),
        _ => Err(bad()),
    }
}

fn action_list(v: &Value, negated: bool, location: &str) -> Result<PatternList, PolicyError> {
    let element = if negated { "NotAction" } else { "Action" };
    let (list, single) = string_list(v, element, location)?;
    let syntax = Syntax {
        wildcards: true,
        variables: false,
        case_insensitive: true,
    };
    let mut patterns = Vec::with_capacity(list.len());
    for a in &list {
        let ok = a == "*"
            || a.split_once(':')
                .is_some_and(|(svc, op)| !svc.is_empty() && !op.is_empty() && !op.contains(':'));
        if !ok {
            return Err(PolicyError::BadValue {
                element: element.into(),
                value: a.clone(),
                reason: "an action must be \"*\" or service:Action (e.g. kms:Encrypt)",
                location: location.to_owned(),
            });
        }
        patterns.push(Pattern::new(a, syntax));
    }
    Ok(PatternList {
        negated,
        any: patterns.iter().any(Pattern::is_any),
        patterns,
        single,
    })
}

fn resource_list(
    v: &Value,
    negated: bool,
    variables: bool,
    location: &str,
) -> Result<PatternList, PolicyError> {
    let element = if negated { "NotResource" } else { "Resource" };
    let (list, single) = string_list(v, element, location)?;
    let syntax = Syntax {
        wildcards: true,
        variables,
        case_insensitive: false,
    };
    let mut patterns = Vec::with_capacity(list.len());
    for r in &list {
        if r != "*" && !r.starts_with("arn:") {
            return Err(PolicyError::BadValue {
                element: element.into(),
                value: r.clone(),
                reason: "a resource must be \"*\" or an ARN",
                location: location.to_owned(),
            });
        }
        patterns.push(Pattern::new(r, syntax));
    }
    Ok(PatternList {
        negated,
        any: patterns.iter().any(Pattern::is_any),
        patterns,
        single,
    })
}

/// Takes exactly one of two exclusive elements.
fn one_of<'v>(
    obj: &'v Map<String, Value>,
    first: &'static str,
    second: &'static str,
    location: &str,
) -> Result<Option<(&'v Value, bool)>, PolicyError> {
    match (obj.get(first), obj.get(second)) {
        (Some(_), Some(_)) => Err(PolicyError::Conflict {
            first,
            second,
            location: location.to_owned(),
        }),
        (Some(v), None) => Ok(Some((v, false))),
        (None, Some(v)) => Ok(Some((v, true))),
        (None, None) => Ok(None),
    }
}

impl Statement {
    fn parse(
        v: &Value,
        index: usize,
        kind: PolicyKind,
        version: Version,
    ) -> Result<Statement, PolicyError> {
        let plain = stmt_loc(index, None);
        let Value::Object(obj) = v else {
            return Err(PolicyError::BadType {
                element: "Statement".into(),
                expected: "an object",
                location: plain,
            });
        };
        let sid = match obj.get("Sid") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(PolicyError::BadType {
                    element: "Sid".into(),
                    expected: "a string",
                    location: plain,
                });
            }
        };
        let loc = stmt_loc(index, sid.as_deref());
        if let Some(k) = obj
            .keys()
            .find(|k| !STATEMENT_ELEMENTS.contains(&k.as_str()))
        {
            return Err(PolicyError::UnknownElement {
                element: k.clone(),
                location: loc,
            });
        }
        let effect = match obj.get("Effect") {
            None => {
                return Err(PolicyError::Missing {
                    element: "Effect",
                    location: loc,
                });
            }
            Some(Value::String(s)) if s == "Allow" => Effect::Allow,
            Some(Value::String(s)) if s == "Deny" => Effect::Deny,
            Some(Value::String(s)) => {
                return Err(PolicyError::BadValue {
                    element: "Effect".into(),
                    value: s.clone(),
                    reason: "Effect must be \"Allow\" or \"Deny\"",
                    location: loc,
                });
            }
            Some(_) => {
                return Err(PolicyError::BadType {
                    element: "Effect".into(),
                    expected: "a string",
                    location: loc,
                });
            }
        };
        let principal = match (one_of(obj, "Principal", "NotPrincipal", &loc)?, kind) {
            (None, PolicyKind::Identity | PolicyKind::Session) => PrincipalElement::Implicit,
            (Some((_, neg)), PolicyKind::Identity | PolicyKind::Session) => {
                return Err(PolicyError::NotAllowed {
                    element: if neg { "NotPrincipal" } else { "Principal" },
                    kind: kind.article(),
                    location: loc,
                });
            }
            (None, _) => {
                return Err(PolicyError::Missing {
                    element: "Principal or NotPrincipal",
                    location: loc,
                });
            }
            (Some((_, true)), PolicyKind::Trust) => {
                return Err(PolicyError::NotAllowed {
                    element: "NotPrincipal",
                    kind: kind.article(),
                    location: loc,
                });
            }
            (Some((v, false)), _) => {
                PrincipalElement::Principal(Principals::parse(v, "Principal", &loc)?)
            }
            (Some((v, true)), _) => {
                PrincipalElement::NotPrincipal(Principals::parse(v, "NotPrincipal", &loc)?)
            }
        };
        let actions = match one_of(obj, "Action", "NotAction", &loc)? {
            Some((v, neg)) => action_list(v, neg, &loc)?,
            None => {
                return Err(PolicyError::Missing {
                    element: "Action or NotAction",
                    location: loc,
                });
            }
        };
        let variables = version == Version::V2012;
        let resources = match (one_of(obj, "Resource", "NotResource", &loc)?, kind) {
            (Some((_, neg)), PolicyKind::Trust) => {
                return Err(PolicyError::NotAllowed {
                    element: if neg { "NotResource" } else { "Resource" },
                    kind: kind.article(),
                    location: loc,
                });
            }
            (None, PolicyKind::Trust) => None,
            (Some((v, neg)), _) => Some(resource_list(v, neg, variables, &loc)?),
            (None, _) => {
                return Err(PolicyError::Missing {
                    element: "Resource or NotResource",
                    location: loc,
                });
            }
        };
        let mut conditions = Vec::new();
        match obj.get("Condition") {
            None => {}
            Some(Value::Object(ops)) => {
                for (op, block) in ops {
                    Condition::parse_block(op, block, variables, &loc, &mut conditions)?;
                }
            }
            Some(_) => {
                return Err(PolicyError::BadType {
                    element: "Condition".into(),
                    expected: "an object of condition operators",
                    location: loc,
                });
            }
        }
        Ok(Statement {
            sid,
            effect,
            principal,
            actions,
            resources,
            conditions,
        })
    }
}

impl Policy {
    /// Parses and validates a policy document of the given kind.
    ///
    /// # Errors
    ///
    /// A [`PolicyError`] naming what is wrong: invalid JSON, an unknown element,
    /// a missing or conflicting element, an element this kind of policy must not
    /// have, a value of the wrong type or content, an unknown condition operator,
    /// a duplicate Sid, or an unsupported Version.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let doc: Value = serde_json::from_str(text).map_err(PolicyError::Json)?;
        Policy::from_value(&doc, kind)
    }

    /// Like [`Policy::parse`], from an already decoded JSON value.
    ///
    /// # Errors
    ///
    /// As [`Policy::parse`], except invalid JSON.
    pub fn from_value(doc: &Value, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let Value::Object(obj) = doc else {
            return Err(PolicyError::NotAnObject);
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement"))
        {
            return Err(PolicyError::UnknownElement {
                element: k.clone(),
                location: "policy".into(),
            });
        }
        let version = match obj.get("Version") {
            None => Version::V2008,
            Some(Value::String(v)) if v == "2012-10-17" => Version::V2012,
            Some(Value::String(v)) if v == "2008-10-17" => Version::V2008,
            Some(Value::String(v)) => return Err(PolicyError::Version(v.clone())),
            Some(_) => {
                return Err(PolicyError::BadType {
                    element: "Version".into(),
                    expected: "a string",
                    location: "policy".into(),
                });
            }
        };
        let id = match obj.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(PolicyError::BadType {
                    element: "Id".into(),
                    expected: "a string",
                    location: "policy".into(),
                });
            }
        };
        let (list, single_statement): (Vec<&Value>, bool) = match obj.get("Statement") {
            None => {
                return Err(PolicyError::Missing {
                    element: "Statement",
                    location: "policy".into(),
                });
            }
            Some(Value::Array(a)) => (a.iter().collect(), false),
            Some(v @ Value::Object(_)) => (vec![v], true),
            Some(_) => {
                return Err(PolicyError::BadType {
                    element: "Statement".into(),
                    expected: "an object or an array of objects",
                    location: "policy".into(),
                });
            }
        };
        let mut statements = Vec::with_capacity(list.len());
        let mut sids = HashSet::new();
        for (i, v) in list.into_iter().enumerate() {
            let st = Statement::parse(v, i, kind, version)?;
            if let Some(sid) = &st.sid {
                if !sid.is_empty() && !sids.insert(sid.clone()) {
                    return Err(PolicyError::DuplicateSid(sid.clone()));
                }
            }
            statements.push(st);
        }
        Ok(Policy {
            kind,
            version,
            version_written: obj.contains_key("Version"),
            id,
            statements,
            single_statement,
        })
    }

    /// The kind this policy was parsed as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The language version (absent Version is [`Version::V2008`]).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The `Id` element.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The number of statements.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// The statement ids, in order (`None` where a statement has no Sid).
    pub fn sids(&self) -> impl Iterator<Item = Option<&str>> {
        self.statements.iter().map(|s| s.sid.as_deref())
    }

    /// The IAM user and role ARNs named in `Principal` and `NotPrincipal` elements,
    /// each with whether it is a role: for a caller that must check they exist, as
    /// AWS does before it accepts a key policy.
    pub fn named_users_and_roles(&self) -> Vec<(&str, bool)> {
        use crate::principal::Spec;
        let mut out = Vec::new();
        for st in &self.statements {
            let (PrincipalElement::Principal(p) | PrincipalElement::NotPrincipal(p)) =
                &st.principal
            else {
                continue;
            };
            for spec in &p.specs {
                match spec {
                    Spec::User(arn) => out.push((&**arn, false)),
                    Spec::Role(arn) => out.push((&**arn, true)),
                    _ => {}
                }
            }
        }
        out
    }
}
