//! Condition operators, parsed once into typed values and evaluated against the
//! request's condition keys.
//!
//! Semantics (IAM JSON policy reference, "Condition operators" and "Conditions
//! with multiple context keys or values"):
//!
//! - operators in a block AND, keys under one operator AND, values of one key OR;
//!   a negated operator (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...) is
//!   true when no value matches (NOR);
//! - a key absent from the request makes a positive operator false and a negated
//!   operator true; `...IfExists` makes any operator true when the key is absent;
//!   `Null` tests presence itself;
//! - `ForAnyValue:` is true when at least one request value satisfies the operator
//!   (false for an absent or empty key); `ForAllValues:` is true when every
//!   request value does (true for an absent or empty key). With a negated
//!   operator each request value is tested with NOR against the policy values;
//! - without a qualifier a multi-valued key behaves as `ForAnyValue:` for positive
//!   operators and as its negation for negated ones.

use std::net::IpAddr;

use serde_json::Value;

use crate::context::{Request, normalize_key};
use crate::date::parse_date;
use crate::error::PolicyError;
use crate::ip::Cidr;
use crate::wildcard::{Pattern, Syntax, Token};

/// A comparison for the numeric and date operators.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn test<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// Set qualifier.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Qualifier {
    None,
    ForAnyValue,
    ForAllValues,
}

/// An ARN pattern: six components, each matched on its own. A policy value with
/// fewer than six components matches nothing, except `*` alone, which matches
/// any value.
#[derive(Debug, Clone, PartialEq)]
enum ArnPattern {
    Parts(Box<[Pattern; 6]>),
    Any,
    Never,
}

/// The policy values of one key, typed for the operator.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    StrEquals(Vec<Pattern>),
    StrEqualsIgnoreCase(Vec<Pattern>),
    StrLike(Vec<Pattern>),
    Numeric(Cmp, Vec<f64>),
    Date(Cmp, Vec<i64>),
    Bool(Vec<bool>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<Cidr>),
    Arn(Vec<ArnPattern>),
    Null(Vec<bool>),
}

/// One `operator: { key: values }` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    /// The operator as written (for round trips).
    operator: Box<str>,
    /// The key as written.
    key_raw: Box<str>,
    /// The normalized key, for lookups.
    key: Box<str>,
    /// The values as written (as strings).
    raw_values: Vec<String>,
    negated: bool,
    if_exists: bool,
    qualifier: Qualifier,
    values: Values,
}

/// The operator families by lowercase base name (without qualifier or IfExists):
/// (name, family, negated).
const OPERATORS: &[(&str, Family, bool)] = &[
    ("stringequals", Family::StrEquals, false),
    ("stringnotequals", Family::StrEquals, true),
    ("stringequalsignorecase", Family::StrEqualsIgnoreCase, false),
    (
        "stringnotequalsignorecase",
        Family::StrEqualsIgnoreCase,
        true,
    ),
    ("stringlike", Family::StrLike, false),
    ("stringnotlike", Family::StrLike, true),
    ("numericequals", Family::Numeric(Cmp::Eq), false),
    ("numericnotequals", Family::Numeric(Cmp::Eq), true),
    ("numericlessthan", Family::Numeric(Cmp::Lt), false),
    ("numericlessthanequals", Family::Numeric(Cmp::Le), false),
    ("numericgreaterthan", Family::Numeric(Cmp::Gt), false),
    ("numericgreaterthanequals", Family::Numeric(Cmp::Ge), false),
    ("dateequals", Family::Date(Cmp::Eq), false),
    ("datenotequals", Family::Date(Cmp::Eq), true),
    ("datelessthan", Family::Date(Cmp::Lt), false),
    ("datelessthanequals", Family::Date(Cmp::Le), false),
    ("dategreaterthan", Family::Date(Cmp::Gt), false),
    ("dategreaterthanequals", Family::Date(Cmp::Ge), false),
    ("bool", Family::Bool, false),
    ("binaryequals", Family::Binary, false),
    ("ipaddress", Family::Ip, false),
    ("notipaddress", Family::Ip, true),
    ("arnequals", Family::Arn, false),
    ("arnlike", Family::Arn, false),
    ("arnnotequals", Family::Arn, true),
    ("arnnotlike", Family::Arn, true),
    ("null", Family::Null, false),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    StrEquals,
    StrEqualsIgnoreCase,
    StrLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// Splits `ForAnyValue:StringLikeIfExists` into its parts; operator names are
/// matched ignoring case.
fn parse_operator(name: &str) -> Option<(Qualifier, Family, bool, bool)> {
    let lower = name.to_ascii_lowercase();
    let (qualifier, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
        (Qualifier::ForAnyValue, r)
    } else if let Some(r) = lower.strip_prefix("forallvalues:") {
        (Qualifier::ForAllValues, r)
    } else {
        (Qualifier::None, lower.as_str())
    };
    let (base, if_exists) = match rest.strip_suffix("ifexists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let &(_, family, negated) = OPERATORS.iter().find(|(n, _, _)| *n == base)?;
    if family == Family::Null && (if_exists || qualifier != Qualifier::None) {
        return None;
    }
    Some((qualifier, family, negated, if_exists))
}

/// A condition value as a string: JSON strings, numbers and booleans are accepted.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Splits an ARN pattern's tokens at the first five `:` of its literal text.
fn arn_pattern(p: Pattern) -> ArnPattern {
    let mut parts: Vec<Vec<Token>> = vec![Vec::new()];
    for t in p.tokens() {
        match t {
            Token::Lit(l) if parts.len() < 6 => {
                let mut pieces = l.splitn(7 - parts.len(), ':');
                if let (Some(first), Some(comp)) =
                    (pieces.next().filter(|f| !f.is_empty()), parts.last_mut())
                {
                    comp.push(Token::Lit(first.into()));
                }
                for piece in pieces {
                    let mut comp = Vec::new();
                    if !piece.is_empty() {
                        comp.push(Token::Lit(piece.into()));
                    }
                    parts.push(comp);
                }
            }
            other => {
                if let Some(comp) = parts.last_mut() {
                    comp.push(other.clone());
                }
            }
        }
    }
    match <[Vec<Token>; 6]>::try_from(parts) {
        Ok(six) => ArnPattern::Parts(Box::new(six.map(Pattern::from_tokens))),
        Err(_) if p.is_any() => ArnPattern::Any,
        Err(_) => ArnPattern::Never,
    }
}

impl Condition {
    /// Parses one operator block (`{"key": value-or-values, ...}`) into conditions.
    pub(crate) fn parse_block(
        operator: &str,
        block: &Value,
        variables: bool,
        location: &str,
        out: &mut Vec<Condition>,
    ) -> Result<(), PolicyError> {
        let Some((qualifier, family, negated, if_exists)) = parse_operator(operator) else {
            return Err(PolicyError::UnknownOperator {
                operator: operator.to_owned(),
                location: location.to_owned(),
            });
        };
        let Value::Object(keys) = block else {
            return Err(PolicyError::BadType {
                element: format!("Condition {operator}"),
                expected: "an object of condition keys",
                location: location.to_owned(),
            });
        };
        for (key, vals) in keys {
            let element = || format!("Condition {operator} {key}");
            if key.is_empty() {
                return Err(PolicyError::BadValue {
                    element: format!("Condition {operator} key"),
                    value: String::new(),
                    reason: "condition keys must not be empty",
                    location: location.to_owned(),
                });
            }
            let list: Vec<&Value> = match vals {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            if list.is_empty() {
                return Err(PolicyError::BadValue {
                    element: element(),
                    value: "[]".into(),
                    reason: "a condition needs at least one value",
                    location: location.to_owned(),
                });
            }
            let mut raw_values = Vec::with_capacity(list.len());
            for v in list {
                let Some(s) = scalar(v) else {
                    return Err(PolicyError::BadType {
                        element: element(),
                        expected: "a string, number or boolean, or an array of them",
                        location: location.to_owned(),
                    });
                };
                raw_values.push(s);
            }
            let bad = |value: &str, reason: &'static str| PolicyError::BadValue {
                element: element(),
                value: value.to_owned(),
                reason,
                location: location.to_owned(),
            };
            let pats = |wildcards: bool| {
                raw_values
                    .iter()
                    .map(|s| {
                        Pattern::new(
                            s,
                            Syntax {
                                wildcards,
                                variables,
                                case_insensitive: false,
                            },
                        )
                    })
                    .collect::<Vec<_>>()
            };
            let values = match family {
                Family::StrEquals => Values::StrEquals(pats(false)),
                Family::StrEqualsIgnoreCase => Values::StrEqualsIgnoreCase(pats(false)),
                Family::StrLike => Values::StrLike(pats(true)),
                Family::Arn => Values::Arn(pats(true).into_iter().map(arn_pattern).collect()),
                Family::Numeric(cmp) => Values::Numeric(
                    cmp,
                    raw_values
                        .iter()
                        .map(|s| parse_number(s).ok_or_else(|| bad(s, "not a number")))
                        .collect::<Result<_, _>>()?,
                ),
                Family::Date(cmp) => Values::Date(
                    cmp,
                    raw_values
                        .iter()
                        .map(|s| {
                            parse_date(s)
                                .ok_or_else(|| bad(s, "not an ISO 8601 date or epoch seconds"))
                        })
                        .collect::<Result<_, _>>()?,
                ),
                Family::Bool => Values::Bool(
                    raw_values
                        .iter()
                        .map(|s| parse_bool(s).ok_or_else(|| bad(s, "expected true or false")))
                        .collect::<Result<_, _>>()?,
                ),
                Family::Null => Values::Null(
                    raw_values
                        .iter()
                        .map(|s| parse_bool(s).ok_or_else(|| bad(s, "expected true or false")))
                        .collect::<Result<_, _>>()?,
                ),
                Family::Binary => Values::Binary(
                    raw_values
                        .iter()
                        .map(|s| crate::b64::decode(s).ok_or_else(|| bad(s, "not base64")))
                        .collect::<Result<_, _>>()?,
                ),
                Family::Ip => Values::Ip(
                    raw_values
                        .iter()
                        .map(|s| {
                            Cidr::parse(s)
                                .ok_or_else(|| bad(s, "not an IPv4 or IPv6 address or CIDR block"))
                        })
                        .collect::<Result<_, _>>()?,
                ),
            };
            out.push(Condition {
                operator: operator.into(),
                key_raw: key.as_str().into(),
                key: normalize_key(key).into(),
                raw_values,
                negated,
                if_exists,
                qualifier,
                values,
            });
        }
        Ok(())
    }

    /// The operator as written.
    pub(crate) fn operator(&self) -> &str {
        &self.operator
    }

    /// The key as written.
    pub(crate) fn key_as_written(&self) -> &str {
        &self.key_raw
    }

    /// The values as written.
    pub(crate) fn raw_values(&self) -> &[String] {
        &self.raw_values
    }

    /// Evaluates this condition for `req`.
    pub(crate) fn matches(&self, req: &Request<'_>) -> bool {
        let found = req.lookup(&self.key);
        if let Values::Null(expect) = &self.values {
            let absent = found.is_none();
            return expect.contains(&absent);
        }
        let Some(set) = found else {
            return match self.qualifier {
                Qualifier::ForAllValues => true,
                Qualifier::ForAnyValue => self.if_exists,
                Qualifier::None => self.if_exists || self.negated,
            };
        };
        match self.qualifier {
            Qualifier::None => {
                let any = set.iter().any(|c| self.any_value_matches(c, req));
                any != self.negated
            }
            Qualifier::ForAnyValue => set
                .iter()
                .any(|c| self.any_value_matches(c, req) != self.negated),
            Qualifier::ForAllValues => set
                .iter()
                .all(|c| self.any_value_matches(c, req) != self.negated),
        }
    }

    /// Does request value `c` match at least one policy value (positive sense)?
    fn any_value_matches(&self, c: &str, req: &Request<'_>) -> bool {
        match &self.values {
            Values::StrEquals(ps) | Values::StrLike(ps) => ps.iter().any(|p| p.matches(c, req)),
            Values::StrEqualsIgnoreCase(ps) => ps.iter().any(|p| p.eq_ignore_case(c, req)),
            Values::Numeric(cmp, vs) => {
                parse_number(c).is_some_and(|n| vs.iter().any(|&v| cmp.test(n, v)))
            }
            Values::Date(cmp, vs) => {
                parse_date(c).is_some_and(|d| vs.iter().any(|&v| cmp.test(d, v)))
            }
            Values::Bool(vs) => parse_bool(c).is_some_and(|b| vs.contains(&b)),
            Values::Binary(vs) => crate::b64::decode(c).is_some_and(|b| vs.contains(&b)),
            Values::Ip(vs) => c
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| vs.iter().any(|n| n.contains(ip))),
            Values::Arn(vs) => vs.iter().any(|p| arn_matches(p, c, req)),
            Values::Null(_) => false,
        }
    }
}

fn arn_matches(p: &ArnPattern, c: &str, req: &Request<'_>) -> bool {
    match p {
        ArnPattern::Any => true,
        ArnPattern::Never => false,
        ArnPattern::Parts(parts) => {
            let mut it = c.splitn(6, ':');
            parts
                .iter()
                .all(|p| it.next().is_some_and(|comp| p.matches(comp, req)))
        }
    }
}
