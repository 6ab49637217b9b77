//! KeyMetadata as DescribeKey and CreateKey return it, and key policy documents.

use serde::Serialize;

use crate::api::wire::{ser_epoch, ser_opt_epoch};
use crate::model::{AccountId, ImportState, KeyRecord, KeyState, hex};

/// The wire KeyMetadata structure.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyMetadata<'a> {
    #[serde(rename = "AWSAccountId")]
    aws_account_id: &'a str,
    key_id: &'a str,
    arn: String,
    #[serde(serialize_with = "ser_epoch")]
    creation_date: i64,
    enabled: bool,
    description: &'a str,
    key_usage: &'static str,
    key_state: &'static str,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_epoch"
    )]
    deletion_date: Option<i64>,
    origin: &'static str,
    key_manager: &'static str,
    customer_master_key_spec: &'static str,
    key_spec: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    encryption_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    signing_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mac_algorithms: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    key_agreement_algorithms: Vec<&'static str>,
    multi_region: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pending_deletion_window_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current_key_material_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_model: Option<&'static str>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_epoch"
    )]
    valid_to: Option<i64>,
}

impl<'a> KeyMetadata<'a> {
    pub(crate) fn of(r: &'a KeyRecord) -> KeyMetadata<'a> {
        let pending = r.state == KeyState::PendingDeletion;
        let algs = crate::keyspec::algorithms(r.spec, r.usage);
        let imported = r.current_backing_key().and_then(|b| b.import.as_ref());
        KeyMetadata {
            aws_account_id: r.account.as_str(),
            key_id: &r.id,
            arn: r.arn(),
            creation_date: r.created_ms,
            enabled: r.state == KeyState::Enabled,
            description: &r.description,
            key_usage: r.usage.as_str(),
            key_state: r.state.as_str(),
            deletion_date: if pending { r.deletion_ms } else { None },
            origin: r.origin.as_str(),
            key_manager: r.manager.as_str(),
            customer_master_key_spec: r.spec.as_str(),
            key_spec: r.spec.as_str(),
            encryption_algorithms: algs.encryption,
            signing_algorithms: algs.signing,
            mac_algorithms: algs.mac,
            key_agreement_algorithms: algs.key_agreement,
            multi_region: false,
            pending_deletion_window_in_days: if pending { r.pending_window_days } else { None },
            current_key_material_id: r.current_backing_key().map(|b| hex(&b.id)),
            // For imported material: the current material's, while it is present.
            expiration_model: imported
                .filter(|i| i.state == ImportState::Imported)
                .map(|i| i.expiration.as_str()),
            valid_to: imported
                .filter(|i| i.state == ImportState::Imported)
                .and_then(|i| i.valid_to_ms),
        }
    }
}

/// The policy a key gets when CreateKey names none: the account's IAM policies decide.
pub(crate) fn default_policy(account: &AccountId) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {{
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : "kms:*",
    "Resource" : "*"
  }} ]
}}"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid() {
        let acct = AccountId::parse("111122223333").unwrap();
        assert!(super::super::authz::parse_key_policy(&default_policy(&acct)).is_ok());
    }

    #[test]
    fn malformed_policies_are_refused_with_the_reason() {
        for bad in [
            "not json",
            "[]",
            "{}",
            r#"{"Statement":[]}"#,
            r#"{"Statement":{"Effect":"Maybe","Principal":"*","Action":"kms:*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*"}}"#,
            r#"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*"}}"#,
        ] {
            let e = super::super::authz::parse_key_policy(bad).unwrap_err();
            assert_eq!(e.code(), "MalformedPolicyDocumentException", "{bad}");
            assert!(
                e.to_string()
                    .starts_with("The new key policy is not valid: ")
            );
        }
    }
}
