//! Integrating services acting on behalf of callers (`kms:ViaService`).
//!
//! In AWS a service such as S3 calls KMS for its caller, and KMS authorizes the
//! request as that caller with `kms:ViaService` = `s3.<region>.amazonaws.com`: that is
//! how AWS managed keys (`alias/aws/s3`), whose policy allows use only through the
//! service, become usable. keyfort's contract (docs/rotation.md): the operator
//! registers a service with `keyfort admin service register`, naming the IAM user that
//! is the service's identity; the service signs each request with that user's access
//! key and names, in two signed headers, the service and the principal it acts for.
//! [`Kms::act_for`] checks the pairing and returns the principal to authorize.
//!
//! Only the operator can register a service (the admin command works on the data
//! directory; no API does it), because whoever holds the registered user's access
//! keys can act as any root or IAM user of any account through it.

use super::{Kms, Principal, PrincipalKind};
use crate::error::{KmsError, Result};
use crate::iam::IamKind;
use crate::model::{AccountId, ServiceRecord};

/// The header naming the service a request comes through (`s3`).
pub const VIA_SERVICE_HEADER: &str = "x-keyfort-via-service";
/// The header naming the principal ARN the service acts for.
pub const CALLER_HEADER: &str = "x-keyfort-caller";

/// Whether `name` can name a service: 1-63 of `a-z`, `0-9`, `-`, starting with a
/// letter or digit (the shape of AWS service names in `<name>.amazonaws.com`).
pub fn valid_service_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0] != b'-'
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

impl Kms {
    /// Registers `name` as an integrating service whose identity is the IAM user
    /// `user_name` of `account` (replacing an earlier registration of the name).
    ///
    /// # Errors
    /// `Validation` for a malformed name; `NotFound` if the user does not exist.
    pub fn register_service(
        &self,
        name: &str,
        account: &AccountId,
        user_name: &str,
    ) -> Result<ServiceRecord> {
        if !valid_service_name(name) {
            return Err(KmsError::Validation(format!(
                "{name:?} is not a service name: 1-63 lower-case letters, digits and hyphens"
            )));
        }
        let Some(user) = self
            .store
            .get_iam_entity(account, IamKind::User, user_name)?
        else {
            return Err(KmsError::NotFound(format!(
                "IAM user {user_name:?} does not exist in account {account}"
            )));
        };
        let record = ServiceRecord {
            name: name.to_owned(),
            account: account.clone(),
            // As stored (IAM user names are unique ignoring case).
            user_name: user.name,
            user_id: user.id,
            created_ms: self.now_ms(),
        };
        self.store.put_service(&record)?;
        Ok(record)
    }

    /// The registered services, by name.
    ///
    /// # Errors
    /// A store failure.
    pub fn services(&self) -> Result<Vec<ServiceRecord>> {
        Ok(self.store.list_services()?)
    }

    /// Removes a service's registration; whether it existed.
    ///
    /// # Errors
    /// A store failure.
    pub fn unregister_service(&self, name: &str) -> Result<bool> {
        Ok(self.store.delete_service(name)?)
    }

    /// The principal that `service_principal`, claiming to be the registered service
    /// `service`, acts for: the account root or IAM user named by `caller_arn`.
    ///
    /// # Errors
    /// `AccessDenied` when `service` is not registered or `service_principal` is not
    /// its registered user; `Validation` when `caller_arn` is not the ARN of an
    /// existing account root or IAM user (role sessions cannot be named: their
    /// session policy and tags live in their session token, which the service does
    /// not hold).
    pub fn act_for(
        &self,
        service_principal: &Principal,
        service: &str,
        caller_arn: &str,
    ) -> Result<Principal> {
        let registered = if valid_service_name(service) {
            self.store.get_service(service)?
        } else {
            None
        };
        // The very user registered: same account, same unique id (a user deleted and
        // made again under the name is someone else).
        let is_its_user = registered.as_ref().is_some_and(|r| {
            r.account == service_principal.account
                && matches!(service_principal.kind, PrincipalKind::User { .. })
                && service_principal.user_id == r.user_id
        });
        if !is_its_user {
            return Err(KmsError::AccessDenied(format!(
                "User: {} is not the registered identity of a service named {service:?}, so it cannot act on behalf of other principals",
                service_principal.arn
            )));
        }
        let not_caller = || {
            KmsError::Validation(format!(
                "{CALLER_HEADER} must be the ARN of an existing account root or IAM user, not {caller_arn:?}"
            ))
        };
        let (account, resource, _) = crate::iam::split_arn(caller_arn).ok_or_else(not_caller)?;
        if !matches!(resource, "root" | "user") {
            return Err(not_caller());
        }
        if self.store.get_account(&account)?.is_none() {
            return Err(not_caller());
        }
        self.key_principal(account, service_principal.access_key_id.clone(), caller_arn)?
            .ok_or_else(not_caller)
    }
}

#[cfg(test)]
mod tests {
    use super::valid_service_name;

    #[test]
    fn service_names() {
        for ok in ["s3", "ebs", "secretsmanager", "my-service-2", "a"] {
            assert!(valid_service_name(ok), "{ok}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "-s3",
            "S3",
            "s3.amazonaws.com",
            "s 3",
            "s3/",
            long.as_str(),
        ] {
            assert!(!valid_service_name(bad), "{bad}");
        }
    }
}
