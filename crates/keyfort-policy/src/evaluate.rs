//! Evaluating one policy against one request, and writing a policy back as JSON.

use serde_json::{Map, Value, json};

use crate::context::Request;
use crate::parse::{Effect, PatternList, Policy, PrincipalElement, Statement, Version};
use crate::principal::AllowMatch;
use crate::wildcard::Resolver;

/// The outcome of one policy for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Evaluation {
    /// A Deny statement matched: the request is denied whatever else allows it.
    pub explicit_deny: bool,
    /// The strongest way an Allow statement matched, if one did. For identity
    /// and session policies this is [`AllowMatch::Principal`].
    pub allow: Option<AllowMatch>,
}

impl Evaluation {
    /// An Allow matched and no Deny did.
    pub fn is_allowed(&self) -> bool {
        !self.explicit_deny && self.allow.is_some()
    }
}

fn list_matches(list: &PatternList, text: &str, vars: &dyn Resolver) -> bool {
    let hit = list.any || list.patterns.iter().any(|p| p.matches(text, vars));
    hit != list.negated
}

impl Statement {
    /// How the statement applies to the request's principal: `None` if it does not.
    fn principal_match(&self, req: &Request<'_>) -> Option<AllowMatch> {
        match &self.principal {
            PrincipalElement::Implicit => Some(AllowMatch::Principal),
            PrincipalElement::Principal(p) => p.best_match(req.principal),
            PrincipalElement::NotPrincipal(p) => {
                (!p.excludes(req.principal)).then_some(AllowMatch::Principal)
            }
        }
    }

    /// Action, resource and conditions (the principal is checked separately).
    fn applies(&self, req: &Request<'_>) -> bool {
        list_matches(&self.actions, req.action, req)
            && self
                .resources
                .as_ref()
                .is_none_or(|r| list_matches(r, req.resource, req))
            && self.conditions.iter().all(|c| c.matches(req))
    }
}

impl Policy {
    /// Evaluates this policy for `req`. Stops at the first matching Deny.
    pub fn evaluate(&self, req: &Request<'_>) -> Evaluation {
        let mut out = Evaluation::default();
        for st in &self.statements {
            // An Allow cannot improve on Session; skip the work.
            if st.effect == Effect::Allow && out.allow == Some(AllowMatch::Session) {
                continue;
            }
            let Some(how) = st.principal_match(req) else {
                continue;
            };
            if !st.applies(req) {
                continue;
            }
            match st.effect {
                Effect::Deny => {
                    out.explicit_deny = true;
                    return out;
                }
                Effect::Allow => out.allow = out.allow.max(Some(how)),
            }
        }
        out
    }

    /// The policy as JSON, canonical in layout (Version first, Statement as
    /// written: object or array) but keeping every value as written.
    /// `Policy::from_value(&p.to_value(), p.kind())` is equivalent to `p`.
    pub fn to_value(&self) -> Value {
        let mut doc = Map::new();
        if self.version_written {
            let v = match self.version {
                Version::V2012 => "2012-10-17",
                Version::V2008 => "2008-10-17",
            };
            doc.insert("Version".into(), json!(v));
        }
        if let Some(id) = &self.id {
            doc.insert("Id".into(), json!(id));
        }
        let statements: Vec<Value> = self.statements.iter().map(Statement::to_value).collect();
        let st = match (self.single_statement, statements.as_slice()) {
            (true, [one]) => one.clone(),
            _ => Value::Array(statements),
        };
        doc.insert("Statement".into(), st);
        Value::Object(doc)
    }
}

fn list_value(list: &PatternList) -> Value {
    match (list.single, list.patterns.as_slice()) {
        (true, [one]) => json!(one.raw()),
        _ => Value::Array(list.patterns.iter().map(|p| json!(p.raw())).collect()),
    }
}

impl Statement {
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        if let Some(sid) = &self.sid {
            m.insert("Sid".into(), json!(sid));
        }
        let effect = match self.effect {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        };
        m.insert("Effect".into(), json!(effect));
        match &self.principal {
            PrincipalElement::Implicit => {}
            PrincipalElement::Principal(p) => {
                m.insert("Principal".into(), p.raw.clone());
            }
            PrincipalElement::NotPrincipal(p) => {
                m.insert("NotPrincipal".into(), p.raw.clone());
            }
        }
        let key = if self.actions.negated {
            "NotAction"
        } else {
            "Action"
        };
        m.insert(key.into(), list_value(&self.actions));
        if let Some(r) = &self.resources {
            let key = if r.negated { "NotResource" } else { "Resource" };
            m.insert(key.into(), list_value(r));
        }
        if !self.conditions.is_empty() {
            let mut ops = Map::new();
            for c in &self.conditions {
                let block = ops
                    .entry(c.operator())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(keys) = block {
                    let vals = c.raw_values();
                    let v = match vals {
                        [one] => json!(one),
                        _ => json!(vals),
                    };
                    keys.insert(c.key_as_written().to_owned(), v);
                }
            }
            m.insert("Condition".into(), Value::Object(ops));
        }
        Value::Object(m)
    }
}
