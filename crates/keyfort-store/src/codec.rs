//! Conversions between records and column values: AWS enum spellings, account ids,
//! access key status, and the tags JSON. Decoding failures are `Corrupt`.

use keyfort_core::model::{AccessKeyStatus, AccountId, Tag};
use keyfort_core::store::StoreError;

use crate::error::corrupt;

/// Parses an AWS-spelled enum column with the enum's own `parse`.
pub(crate) fn parse_enum<T>(
    table: &'static str,
    column: &str,
    text: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| corrupt(table, format!("{column}: unknown value {text:?}")))
}

/// Parses an account id column.
pub(crate) fn account(table: &'static str, text: &str) -> Result<AccountId, StoreError> {
    AccountId::parse(text).ok_or_else(|| corrupt(table, format!("bad account id {text:?}")))
}

/// The stored spelling of an access key status.
pub(crate) fn status_str(status: AccessKeyStatus) -> &'static str {
    match status {
        AccessKeyStatus::Active => "Active",
        AccessKeyStatus::Inactive => "Inactive",
    }
}

/// Parses a stored access key status.
pub(crate) fn parse_status(text: &str) -> Result<AccessKeyStatus, StoreError> {
    match text {
        "Active" => Ok(AccessKeyStatus::Active),
        "Inactive" => Ok(AccessKeyStatus::Inactive),
        other => Err(corrupt(
            "access_keys",
            format!("status: unknown value {other:?}"),
        )),
    }
}

/// Encodes tags as a JSON array of `[key, value]` pairs, preserving order.
pub(crate) fn tags_json(tags: &[Tag]) -> Result<String, StoreError> {
    let pairs: Vec<(&str, &str)> = tags
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();
    serde_json::to_string(&pairs).map_err(|e| StoreError::Backend(Box::new(e)))
}

/// Decodes the tags JSON.
pub(crate) fn parse_tags(text: &str) -> Result<Vec<Tag>, StoreError> {
    let pairs: Vec<(String, String)> =
        serde_json::from_str(text).map_err(|e| corrupt("keys", format!("tags: {e}")))?;
    Ok(pairs
        .into_iter()
        .map(|(key, value)| Tag { key, value })
        .collect())
}

/// A page limit as an SQL `LIMIT`; anything past `i64::MAX` means "all".
pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_in_order_with_unicode() {
        let tags = vec![
            Tag {
                key: "z".into(),
                value: "last \"quoted\"".into(),
            },
            Tag {
                key: "ä\u{1F511}".into(),
                value: String::new(),
            },
        ];
        let json = tags_json(&tags).unwrap();
        assert!(json.starts_with("[[\"z\","));
        assert_eq!(parse_tags(&json).unwrap(), tags);
        assert_eq!(tags_json(&[]).unwrap(), "[]");
    }

    #[test]
    fn bad_tags_are_corrupt() {
        for bad in ["", "{}", "[[\"a\"]]", "[[1,2]]"] {
            assert!(matches!(
                parse_tags(bad),
                Err(StoreError::Corrupt { table: "keys", .. })
            ));
        }
    }

    #[test]
    fn status_round_trips() {
        for s in [AccessKeyStatus::Active, AccessKeyStatus::Inactive] {
            assert_eq!(parse_status(status_str(s)).unwrap(), s);
        }
        assert!(parse_status("active").is_err());
    }
}
