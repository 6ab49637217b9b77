//! Key identifiers as callers write them: key id, key ARN, alias name, alias ARN.

use crate::error::KmsError;
use crate::model::AccountId;

/// A parsed key identifier from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A bare key id.
    Id(String),
    /// `arn:aws:kms:{region}:{account}:key/{id}`.
    KeyArn {
        /// Region in the ARN.
        region: String,
        /// Account in the ARN.
        account: AccountId,
        /// Key id.
        id: String,
    },
    /// `alias/...`.
    AliasName(String),
    /// `arn:aws:kms:{region}:{account}:alias/...`.
    AliasArn {
        /// Region in the ARN.
        region: String,
        /// Account in the ARN.
        account: AccountId,
        /// The alias name, `alias/...`.
        name: String,
    },
}

/// Whether `s` has the shape of a key id keyfort issues: a lowercase UUID, or a
/// multi-Region id `mrk-` followed by 32 hex digits.
pub fn is_key_id(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix("mrk-") {
        return rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether `s` is a syntactically valid region name such as `us-east-1`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 5
        && s.len() <= 32
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
}

/// The name part of an alias must match `alias/[a-zA-Z0-9/_-]+`.
pub fn is_alias_name(s: &str) -> bool {
    s.len() <= 256
        && s.strip_prefix("alias/").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'_' | b'-'))
        })
}

impl KeyRef {
    /// Parses any of the four forms. Malformed ARNs are InvalidArnException; anything
    /// else that is not a key id is NotFoundException, as AWS answers.
    pub fn parse(s: &str) -> Result<KeyRef, KmsError> {
        if s.is_empty() || s.len() > 2048 {
            return Err(KmsError::field(
                "keyId",
                "Member must have length between 1 and 2048",
            ));
        }
        if let Some(rest) = s.strip_prefix("arn:") {
            return parse_arn(s, rest);
        }
        if s.starts_with("alias/") {
            if !is_alias_name(s) {
                return Err(KmsError::NotFound(format!("Alias '{s}' is not found.")));
            }
            return Ok(KeyRef::AliasName(s.to_owned()));
        }
        if is_key_id(s) {
            return Ok(KeyRef::Id(s.to_ascii_lowercase()));
        }
        Err(KmsError::NotFound(format!("Invalid keyId '{s}'")))
    }

    /// Whether this names an alias rather than a key.
    pub fn is_alias(&self) -> bool {
        matches!(self, KeyRef::AliasName(_) | KeyRef::AliasArn { .. })
    }
}

fn parse_arn(full: &str, rest: &str) -> Result<KeyRef, KmsError> {
    let invalid = || KmsError::InvalidArn(format!("Invalid arn {full}"));
    let mut parts = rest.splitn(5, ':');
    let partition = parts.next().ok_or_else(invalid)?;
    let service = parts.next().ok_or_else(invalid)?;
    let region = parts.next().ok_or_else(invalid)?;
    let account = parts.next().ok_or_else(invalid)?;
    let resource = parts.next().ok_or_else(invalid)?;
    if partition != "aws" || service != "kms" || !is_region(region) {
        return Err(invalid());
    }
    let account = AccountId::parse(account).ok_or_else(invalid)?;
    let region = region.to_owned();
    if let Some(id) = resource.strip_prefix("key/") {
        if !is_key_id(id) {
            return Err(invalid());
        }
        return Ok(KeyRef::KeyArn {
            region,
            account,
            id: id.to_ascii_lowercase(),
        });
    }
    if resource.starts_with("alias/") {
        if !is_alias_name(resource) {
            return Err(invalid());
        }
        return Ok(KeyRef::AliasArn {
            region,
            account,
            name: resource.to_owned(),
        });
    }
    Err(invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_four_forms() {
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(KeyRef::parse(id).ok(), Some(KeyRef::Id(id.into())));
        let arn = format!("arn:aws:kms:us-west-2:111122223333:key/{id}");
        assert!(
            matches!(KeyRef::parse(&arn), Ok(KeyRef::KeyArn { ref region, .. }) if region == "us-west-2")
        );
        assert_eq!(
            KeyRef::parse("alias/my-app/prod_1").ok(),
            Some(KeyRef::AliasName("alias/my-app/prod_1".into()))
        );
        assert!(matches!(
            KeyRef::parse("arn:aws:kms:eu-central-1:111122223333:alias/x"),
            Ok(KeyRef::AliasArn { ref name, .. }) if name == "alias/x"
        ));
        assert!(matches!(
            KeyRef::parse("mrk-1234abcd12ab34cd56ef1234567890ab"),
            Ok(KeyRef::Id(_))
        ));
    }

    #[test]
    fn rejects_malformed_with_aws_codes() {
        for bad in [
            "arn:aws:kms:us-east-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:s3:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:111122223333:key/nope",
            "arn:aws:kms:us-east-1:111122223333:grant/x",
            "arn:aws:kms",
        ] {
            assert_eq!(
                KeyRef::parse(bad).map_err(|e| e.code()),
                Err("InvalidArnException"),
                "{bad}"
            );
        }
        for bad in [
            "nope",
            "alias/",
            "alias/sp ace",
            "1234abcd-12ab-34cd-56ef-1234567890a",
        ] {
            assert_eq!(
                KeyRef::parse(bad).map_err(|e| e.code()),
                Err("NotFoundException"),
                "{bad}"
            );
        }
        assert_eq!(
            KeyRef::parse("").map_err(|e| e.code()),
            Err("ValidationException")
        );
    }

    #[test]
    fn regions() {
        assert!(is_region("us-east-1"));
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("us-east"));
        assert!(!is_region("US-east-1"));
        assert!(!is_region("us--1"));
    }
}
