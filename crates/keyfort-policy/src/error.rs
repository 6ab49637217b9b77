//! The one error type of this crate: why a policy document was refused.

use thiserror::Error;

/// Why a policy document is malformed. The `Display` text names the element and
/// the problem; callers return it as `MalformedPolicyDocumentException` (KMS) or
/// `MalformedPolicyDocument` (IAM/STS).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The text is not JSON.
    #[error("policy is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The document is JSON but not an object.
    #[error("policy document must be a JSON object")]
    NotAnObject,
    /// An element this crate does not know (top level or in a statement).
    #[error("unknown element {element:?} in {location}")]
    UnknownElement {
        /// The element name as written.
        element: String,
        /// "policy" or "statement N".
        location: String,
    },
    /// A required element is absent.
    #[error("{location} is missing {element}")]
    Missing {
        /// What is missing, e.g. "Effect" or "Action or NotAction".
        element: &'static str,
        /// "policy" or "statement N".
        location: String,
    },
    /// Two mutually exclusive elements are both present.
    #[error("{location} has both {first} and {second}")]
    Conflict {
        /// First element name.
        first: &'static str,
        /// Second element name.
        second: &'static str,
        /// "statement N".
        location: String,
    },
    /// An element that this kind of policy must not contain.
    #[error("{location}: {element} is not allowed in {kind}")]
    NotAllowed {
        /// The element name.
        element: &'static str,
        /// The policy kind, e.g. "an identity policy".
        kind: &'static str,
        /// "statement N".
        location: String,
    },
    /// A JSON value of the wrong type.
    #[error("{location}: {element} must be {expected}")]
    BadType {
        /// The element name.
        element: String,
        /// What was expected, e.g. "a string or an array of strings".
        expected: &'static str,
        /// "policy" or "statement N".
        location: String,
    },
    /// A value of the right type whose content is invalid.
    #[error("{location}: invalid {element} {value:?}: {reason}")]
    BadValue {
        /// The element name.
        element: String,
        /// The offending value.
        value: String,
        /// Why it is invalid.
        reason: &'static str,
        /// "policy" or "statement N".
        location: String,
    },
    /// A condition operator IAM does not define.
    #[error("{location}: unknown condition operator {operator:?}")]
    UnknownOperator {
        /// The operator as written.
        operator: String,
        /// "statement N".
        location: String,
    },
    /// Two statements share a Sid.
    #[error("duplicate Sid {0:?}: statement ids must be unique")]
    DuplicateSid(String),
    /// Version is neither "2012-10-17" nor "2008-10-17".
    #[error("unsupported policy Version {0:?} (expected \"2012-10-17\" or \"2008-10-17\")")]
    Version(String),
}

/// Location text for statement `i` (1-based, as a person counts).
pub(crate) fn stmt_loc(i: usize, sid: Option<&str>) -> String {
    match sid {
        Some(s) => format!("statement {} (Sid {s:?})", i + 1),
        None => format!("statement {}", i + 1),
    }
}
