//! IAM's records: users, roles, groups and managed policies of an account, as the
//! [`crate::store::Store`] keeps them, and the name and document rules IAM applies.
//!
//! The store keeps every IAM entity as one row (account, kind, name, unique id) with
//! its details as a JSON document ([`UserDoc`], [`RoleDoc`], [`GroupDoc`],
//! [`ManagedPolicyDoc`]): IAM entities are small, read whole and changed whole, and
//! a document lets IAM grow (permissions boundaries, policy versions) without a
//! migration per field. Access keys stay in their own table (the authentication
//! lookup reads them by id).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::AccountId;

mod error;

pub use error::IamError;

/// The kind of an IAM entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IamKind {
    /// An IAM user.
    User,
    /// An IAM role.
    Role,
    /// An IAM group.
    Group,
    /// A customer managed policy.
    Policy,
}

impl IamKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            IamKind::User => "user",
            IamKind::Role => "role",
            IamKind::Group => "group",
            IamKind::Policy => "policy",
        }
    }
    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<IamKind> {
        [
            IamKind::User,
            IamKind::Role,
            IamKind::Group,
            IamKind::Policy,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
    /// The prefix of the unique ids IAM gives this kind (`AIDA`, `AROA`, `AGPA`, `ANPA`).
    pub fn id_prefix(self) -> &'static str {
        match self {
            IamKind::User => "AIDA",
            IamKind::Role => "AROA",
            IamKind::Group => "AGPA",
            IamKind::Policy => "ANPA",
        }
    }
}

impl fmt::Display for IamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored IAM entity. Names are unique per (account, kind) ignoring case, as
/// IAM's are ([`IamEntity::name_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamEntity {
    /// The account.
    pub account: AccountId,
    /// What it is.
    pub kind: IamKind,
    /// The name as given.
    pub name: String,
    /// The unique id (`AIDA...`, `AROA...`, ...).
    pub id: String,
    /// The JSON document with the details.
    pub doc: String,
    /// Creation time, milliseconds since the epoch.
    pub created_ms: i64,
}

impl IamEntity {
    /// The key names are unique under: IAM names ignore case.
    pub fn name_key(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

/// Tags, in the order they were added (IAM returns them so).
pub type Tags = Vec<(String, String)>;

/// An IAM user's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDoc {
    /// The path (`/` by default).
    pub path: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Inline policies by name (the document as given).
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    #[serde(default)]
    pub attached: Vec<String>,
    /// Groups the user is in, by name.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// An IAM role's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDoc {
    /// The path.
    pub path: String,
    /// The trust policy document.
    pub trust: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// Longest session AssumeRole grants, in seconds (3600..=43200).
    pub max_session_seconds: u32,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
    /// Inline policies by name.
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    #[serde(default)]
    pub attached: Vec<String>,
}

/// An IAM group's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDoc {
    /// The path.
    pub path: String,
    /// Inline policies by name.
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    #[serde(default)]
    pub attached: Vec<String>,
}

/// A customer managed policy (one version, `v1`: CreatePolicyVersion is not offered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicyDoc {
    /// The path.
    pub path: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// The policy document.
    pub document: String,
    /// Tags.
    #[serde(default)]
    pub tags: Tags,
}

/// The ARN of a user, role, group or managed policy.
pub fn arn(account: &AccountId, kind: IamKind, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{}{path}{name}", kind.as_str())
}

/// Splits an IAM ARN, `arn:aws:iam::<account>:<type>/<path><name>` or
/// `arn:aws:iam::<account>:root`, into its account, its resource type (`user`, `role`,
/// ..., or `root`) and its name (the last segment; empty for `root`). The path is left
/// out: a caller checks it by comparing the whole ARN with [`arn`] of the stored entity.
pub fn split_arn(arn: &str) -> Option<(AccountId, &str, &str)> {
    let (account, resource) = arn.strip_prefix("arn:aws:iam::")?.split_once(':')?;
    let account = AccountId::parse(account)?;
    if resource == "root" {
        return Some((account, "root", ""));
    }
    let (kind, path_and_name) = resource.split_once('/')?;
    let name = path_and_name.rsplit('/').next().unwrap_or_default();
    (!name.is_empty()).then_some((account, kind, name))
}

/// Whether `name` is a valid IAM user, role or group name (`[\w+=,.@-]+`, 1..=max).
pub fn valid_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// Whether `path` is a valid IAM path: `/`, or `/` ... `/` of printable ASCII, up to 512.
pub fn valid_path(path: &str) -> bool {
    path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_split_into_account_type_and_name() {
        fn a(s: &str) -> Option<(String, &str, &str)> {
            split_arn(s).map(|(acct, t, n)| (acct.to_string(), t, n))
        }
        let acct = "111122223333".to_owned();
        assert_eq!(
            a("arn:aws:iam::111122223333:user/team/a/alice"),
            Some((acct.clone(), "user", "alice"))
        );
        assert_eq!(
            a("arn:aws:iam::111122223333:role/r"),
            Some((acct.clone(), "role", "r"))
        );
        assert_eq!(
            a("arn:aws:iam::111122223333:root"),
            Some((acct, "root", ""))
        );
        for bad in [
            "arn:aws:iam::11112222333:user/a",
            "arn:aws:sts::111122223333:assumed-role/r/s",
            "arn:aws:iam::111122223333:user/",
            "arn:aws:iam::111122223333:user",
            "user/a",
        ] {
            assert_eq!(a(bad), None, "{bad}");
        }
        // The inverse of `arn` up to the path.
        let account = AccountId::parse("111122223333").unwrap();
        let built = arn(&account, IamKind::User, "/team/", "alice");
        assert_eq!(
            split_arn(&built).map(|(_, t, n)| (t, n)),
            Some(("user", "alice"))
        );
    }

    #[test]
    fn names_and_paths() {
        assert!(valid_name("alice.smith+dev@example,com=x_y-z", 64));
        assert!(!valid_name("", 64));
        assert!(!valid_name("has space", 64));
        assert!(!valid_name("slash/no", 64));
        assert!(!valid_name(&"a".repeat(65), 64));
        assert!(valid_path("/"));
        assert!(valid_path("/dev/team/"));
        assert!(!valid_path("dev/"));
        assert!(!valid_path("/dev"));
        assert!(!valid_path("/d v/"));
    }

    #[test]
    fn arns_and_kinds() {
        let a = AccountId::parse("111122223333").expect("account");
        assert_eq!(
            arn(&a, IamKind::User, "/dev/", "alice"),
            "arn:aws:iam::111122223333:user/dev/alice"
        );
        for k in [
            IamKind::User,
            IamKind::Role,
            IamKind::Group,
            IamKind::Policy,
        ] {
            assert_eq!(IamKind::parse(k.as_str()), Some(k));
        }
    }
}
