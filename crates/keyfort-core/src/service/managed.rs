//! AWS managed keys (`alias/aws/<service>`) and keyfort's AWS owned keys.
//!
//! An AWS managed key is made in the caller's account and region the first time its
//! alias is used there (by an integrated service or directly, as DescribeKey does in
//! AWS). It is a symmetric encryption key with KeyManager AWS, rotated every year
//! (automatic rotation is always on, 365 days), and its key policy is AWS's default
//! policy for AWS managed keys: principals of the account may use it through the
//! service (`kms:ViaService` = `<service>.<region>.amazonaws.com` and
//! `kms:CallerAccount`), and the account may read its metadata. Customers cannot
//! change it: every customer mutation (policy, enable/disable, deletion, description,
//! tags, rotation, aliases) is refused with AccessDeniedException, as AWS's policy
//! refuses them. Enforcing `kms:ViaService` itself is the authorization layer's.
//!
//! The key id is derived from (account, region, service), so nodes that race to make
//! the same key write the same rows; the loser's insert is a no-op.
//!
//! AWS owned keys are keys a service uses for itself and customers never see. keyfort's
//! are its internal secrets (the audit signing key): they are sealed under the root key
//! with their own AAD ([`Kms::seal_internal`]) and stored outside the key table, so no
//! KMS operation can list, describe or use them.

use super::{Caller, Kms};
use crate::clock::DAY_MS;
use crate::error::{KmsError, Result};
use crate::model::{
    AccountId, AliasRecord, KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, Origin,
};
use crate::store::StoreError;

use super::rotation::DEFAULT_ROTATION_PERIOD_DAYS;

/// Services that have an AWS managed key (`alias/aws/<name>`), as in AWS.
pub const AWS_MANAGED_SERVICES: &[&str] = &[
    "acm",
    "backup",
    "cloud9",
    "cloudtrail",
    "codeartifact",
    "codecommit",
    "connect",
    "dms",
    "dynamodb",
    "ebs",
    "ecr",
    "elasticfilesystem",
    "es",
    "fsx",
    "glue",
    "kafka",
    "kinesis",
    "kinesisvideo",
    "lambda",
    "lightsail",
    "rds",
    "redshift",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "xray",
];

/// The service of an AWS managed key alias (`alias/aws/<service>`), if it names one.
pub fn aws_managed_service(alias: &str) -> Option<&'static str> {
    let service = alias.strip_prefix("alias/aws/")?;
    AWS_MANAGED_SERVICES.iter().copied().find(|s| *s == service)
}

/// AWS's key policy for an AWS managed key of `service`.
pub(crate) fn aws_managed_policy(account: &AccountId, region: &str, service: &str) -> String {
    format!(
        r#"{{
  "Version" : "2012-10-17",
  "Id" : "auto-{service}-1",
  "Statement" : [ {{
    "Sid" : "Allow access through {service} for all principals in the account that are authorized to use {service}",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "*"
    }},
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {{
      "StringEquals" : {{
        "kms:ViaService" : "{service}.{region}.amazonaws.com",
        "kms:CallerAccount" : "{account}"
      }}
    }}
  }}, {{
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {{
      "AWS" : "arn:aws:iam::{account}:root"
    }},
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant" ],
    "Resource" : "*"
  }} ]
}}"#
    )
}

/// The key id of the AWS managed key of `service` in (account, region): a version 4
/// UUID layout filled from a SHA-256 of the three.
fn managed_key_id(account: &AccountId, region: &str, service: &str) -> String {
    let digest = keyfort_crypto::sha256(
        format!("keyfort:aws-managed-key:v1|{account}|{region}|{service}").as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Refuses a customer's change to an AWS managed key, as its key policy does.
pub(crate) fn require_customer_managed(r: &KeyRecord) -> Result<()> {
    if r.manager == KeyManager::Aws {
        return Err(KmsError::AccessDenied(format!(
            "{} is an AWS managed key: its key policy does not allow this operation, and customers cannot change AWS managed keys.",
            r.arn()
        )));
    }
    Ok(())
}

impl Kms {
    /// Returns the id of the AWS managed key of `service` in the caller's account and
    /// region, making the key and its alias first if they do not exist. Takes no
    /// writer lock (it can be reached from a mutation that holds it).
    pub(super) fn ensure_aws_managed_key(
        &self,
        caller: &Caller<'_>,
        service: &str,
    ) -> Result<String> {
        let _m = self.managed.lock().unwrap_or_else(|e| e.into_inner());
        let name = format!("alias/aws/{service}");
        if let Some(a) = self
            .store
            .get_alias(caller.account(), caller.region, &name)?
        {
            return Ok(a.target_key_id);
        }
        let account = caller.account().clone();
        let id = managed_key_id(&account, caller.region, service);
        let now = self.now_ms();
        let existing = self.store.get_key(caller.region, &id)?;
        if existing.is_none() {
            let record = KeyRecord {
                backing_keys: vec![self.new_backing_key(&id, KeySpec::SymmetricDefault)?],
                id: id.clone(),
                account: account.clone(),
                region: caller.region.to_owned(),
                description: format!(
                    "Default key that protects my {service} data when no other key is defined"
                ),
                state: KeyState::Enabled,
                usage: KeyUsage::EncryptDecrypt,
                spec: KeySpec::SymmetricDefault,
                origin: Origin::AwsKms,
                manager: KeyManager::Aws,
                created_ms: now,
                deletion_ms: None,
                pending_window_days: None,
                policy: aws_managed_policy(&account, caller.region, service),
                tags: Vec::new(),
                rotation_period_days: Some(DEFAULT_ROTATION_PERIOD_DAYS),
                next_rotation_ms: Some(now + i64::from(DEFAULT_ROTATION_PERIOD_DAYS) * DAY_MS),
            };
            match self.store.create_key(&record) {
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
            tracing::info!(key_id = %id, region = caller.region, service, "created an AWS managed key");
        }
        let alias = AliasRecord {
            account,
            region: caller.region.to_owned(),
            name,
            target_key_id: id.clone(),
            created_ms: now,
            updated_ms: now,
        };
        match self.store.create_alias(&alias) {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_policy_is_valid_and_names_the_service() {
        let acct = AccountId::parse("111122223333").unwrap();
        let p = aws_managed_policy(&acct, "eu-west-1", "s3");
        assert!(super::super::authz::parse_key_policy(&p).is_ok());
        let v: serde_json::Value = serde_json::from_str(&p).unwrap();
        assert_eq!(
            v["Statement"][0]["Condition"]["StringEquals"]["kms:ViaService"],
            "s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            v["Statement"][0]["Condition"]["StringEquals"]["kms:CallerAccount"],
            "111122223333"
        );
    }

    #[test]
    fn managed_key_ids_are_stable_and_distinct() {
        let a = AccountId::parse("111122223333").unwrap();
        let b = AccountId::parse("444455556666").unwrap();
        let id = managed_key_id(&a, "us-east-1", "s3");
        assert_eq!(id, managed_key_id(&a, "us-east-1", "s3"));
        assert!(crate::arn::is_key_id(&id));
        assert_ne!(id, managed_key_id(&b, "us-east-1", "s3"));
        assert_ne!(id, managed_key_id(&a, "us-west-2", "s3"));
        assert_ne!(id, managed_key_id(&a, "us-east-1", "ebs"));
        assert_eq!(aws_managed_service("alias/aws/s3"), Some("s3"));
        assert_eq!(aws_managed_service("alias/aws/nope"), None);
        assert_eq!(aws_managed_service("alias/s3"), None);
    }
}
