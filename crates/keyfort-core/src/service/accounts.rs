//! Accounts and their access keys: bootstrap, creation, and the authentication lookup.

use std::sync::Arc;

use keyfort_crypto::SecretBytes;

use super::{Kms, read, write};
use crate::error::{KmsError, Result};
use crate::model::{AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord};
use crate::store::StoreError;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The caller's account.
    pub account: AccountId,
    /// The caller's ARN: `arn:aws:iam::{account}:root` for account root credentials,
    /// `arn:aws:iam::{account}:user/{path}{name}` for an IAM user,
    /// `arn:aws:sts::{account}:assumed-role/{role name}/{session name}` for a role
    /// session.
    pub arn: String,
    /// The access key the request was signed with.
    pub access_key_id: String,
    /// What kind of identity this is.
    pub kind: PrincipalKind,
    /// `aws:userid`: the account id for the root, the user's unique id (`AIDA...`),
    /// or `{role id}:{session name}` for a role session.
    pub user_id: String,
    /// `aws:PrincipalTag/*`: the user's or role's tags, and a session's tags.
    pub tags: Vec<(String, String)>,
    /// The inline session policy of a role session (AssumeRole `Policy`), which
    /// limits what the role's identity policies allow.
    pub session_policy: Option<Arc<keyfort_policy::Policy>>,
    /// When a role session was issued (AssumeRole), milliseconds since the epoch.
    pub session_issued_ms: Option<i64>,
}

/// The kind of an authenticated identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user.
    Root,
    /// An IAM user.
    User {
        /// The user's name (`aws:username`).
        name: String,
    },
    /// A session of an IAM role (STS AssumeRole).
    AssumedRole {
        /// The role's ARN (`arn:aws:iam::{account}:role/{path}{name}`).
        role_arn: String,
        /// The session name given to AssumeRole.
        session_name: String,
    },
}

impl Principal {
    /// The root user of `account`, signing with `access_key_id`.
    pub fn root(account: AccountId, access_key_id: impl Into<String>) -> Principal {
        Principal {
            arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.to_string(),
            account,
            access_key_id: access_key_id.into(),
            kind: PrincipalKind::Root,
            tags: Vec::new(),
            session_policy: None,
            session_issued_ms: None,
        }
    }

    /// `aws:username` (IAM users only) and CloudTrail's userName.
    pub fn user_name(&self) -> Option<&str> {
        match &self.kind {
            PrincipalKind::Root => None,
            PrincipalKind::User { name } => Some(name),
            PrincipalKind::AssumedRole { .. } => None,
        }
    }
}

/// An access key with its secret unsealed, as the authenticator needs it.
#[derive(Debug)]
pub struct Credential {
    /// Who the key authenticates as.
    pub principal: Principal,
    /// The secret access key (redacted in Debug, zeroized on drop).
    pub secret: SecretBytes,
    /// Whether the key is active.
    pub active: bool,
}

/// Characters of generated access key ids.
const AKID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Characters of generated secrets (base64 alphabet, as AWS's secrets use).
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_string(alphabet: &[u8], len: usize) -> Result<String> {
    let raw = keyfort_crypto::random_bytes(len).map_err(KmsError::Crypto)?;
    // Both alphabets have a power-of-two length, so masking is unbiased.
    let mask = alphabet.len() - 1;
    Ok(raw
        .expose()
        .iter()
        .map(|b| alphabet[*b as usize & mask] as char)
        .collect())
}

/// A new access key id (`AKIA` + 16 characters) and secret (40 characters).
pub fn generate_access_key() -> Result<(String, SecretBytes)> {
    let id = format!("AKIA{}", random_string(AKID_ALPHABET, 16)?);
    let secret = random_string(SECRET_ALPHABET, 40)?;
    Ok((id, SecretBytes::new(secret.into_bytes())))
}

impl Kms {
    pub(crate) fn access_key_aad(access_key_id: &str, account: &AccountId) -> Vec<u8> {
        format!("keyfort:access-key:v1|{access_key_id}|{account}").into_bytes()
    }

    /// Creates `account` if it does not exist yet. Returns whether it was created.
    pub fn ensure_account(&self, account: &AccountId) -> Result<bool> {
        let _w = self.lock_writer();
        if self.store.get_account(account)?.is_some() {
            return Ok(false);
        }
        self.store.create_account(&AccountRecord {
            id: account.clone(),
            created_ms: self.now_ms(),
        })?;
        Ok(true)
    }

    /// Lists the accounts of the deployment.
    pub fn list_accounts(&self) -> Result<Vec<AccountRecord>> {
        Ok(self.store.list_accounts()?)
    }

    /// Stores an access key for the root of `account`, sealing its secret.
    /// `AlreadyExists` if the id is taken.
    pub fn add_root_access_key(
        &self,
        account: &AccountId,
        access_key_id: &str,
        secret: &SecretBytes,
    ) -> Result<()> {
        if access_key_id.len() < 16
            || access_key_id.len() > 128
            || !access_key_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(KmsError::Validation(
                "An access key id is 16 to 128 letters and digits.".into(),
            ));
        }
        if secret.is_empty() || secret.len() > 128 {
            return Err(KmsError::Validation(
                "A secret access key is 1 to 128 bytes.".into(),
            ));
        }
        let sealed = self
            .root
            .seal(
                secret.expose(),
                &Self::access_key_aad(access_key_id, account),
            )
            .map_err(KmsError::Crypto)?;
        let record = AccessKeyRecord {
            access_key_id: access_key_id.to_owned(),
            account: account.clone(),
            principal_arn: format!("arn:aws:iam::{account}:root"),
            sealed_secret: sealed,
            status: AccessKeyStatus::Active,
            created_ms: self.now_ms(),
        };
        let _w = self.lock_writer();
        match self.store.create_access_key(&record) {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict) => Err(KmsError::AlreadyExists(format!(
                "Access key {access_key_id} already exists."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether an access key id is stored.
    pub fn access_key_exists(&self, access_key_id: &str) -> Result<bool> {
        Ok(self.store.get_access_key(access_key_id)?.is_some())
    }

    /// Looks up an access key for authentication, through the cache. `None` if unknown.
    pub fn credential(&self, access_key_id: &str) -> Result<Option<Arc<Credential>>> {
        if let Some(c) = read(&self.credentials).get(access_key_id) {
            return Ok(Some(Arc::clone(c)));
        }
        let Some(rec) = self.store.get_access_key(access_key_id)? else {
            return Ok(None);
        };
        let secret = self
            .root
            .open(
                &rec.sealed_secret,
                &Self::access_key_aad(&rec.access_key_id, &rec.account),
            )
            .map_err(KmsError::Crypto)?;
        // A root key, or an IAM user's (whose user must still exist).
        let Some(principal) =
            self.key_principal(rec.account, rec.access_key_id, &rec.principal_arn)?
        else {
            return Ok(None);
        };
        let cred = Arc::new(Credential {
            principal,
            secret,
            active: rec.status == AccessKeyStatus::Active,
        });
        write(&self.credentials).insert(access_key_id.to_owned(), Arc::clone(&cred));
        Ok(Some(cred))
    }
}
