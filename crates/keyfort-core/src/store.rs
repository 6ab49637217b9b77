//! The persistence boundary. keyfort-store implements [`Store`] for SQLite (and later
//! PostgreSQL); one shared test suite (`keyfort_store::conformance`) runs on every backend.
//!
//! Methods are synchronous: the SQLite backend is synchronous and fast for reads, and
//! the server runs every mutating operation on the blocking pool. Each write method is
//! durable when it returns (the SQLite backend runs with `synchronous=FULL`).

use crate::grant::GrantRecord;
use crate::iam::{IamEntity, IamKind};
use crate::model::{
    AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord, AliasRecord, KeyRecord,
    ServiceRecord,
};

/// A storage failure. Carries its source for the log; the client only ever sees
/// KMSInternalException.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed.
    #[error("storage backend: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A row could not be decoded into a record (corruption or a schema bug).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// An insert collided with an existing row (a unique constraint).
    #[error("already exists")]
    Conflict,
    /// An update found no row to change.
    #[error("no such row")]
    Missing,
}

/// A page request: items strictly after `after` (in the listing's order), at most `limit`.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// Exclusive lower bound in listing order.
    pub after: Option<&'a str>,
    /// Maximum number of items.
    pub limit: usize,
}

/// Everything keyfort persists.
pub trait Store: Send + Sync + 'static {
    /// Creates an account; `Conflict` if it exists.
    fn create_account(&self, account: &AccountRecord) -> Result<(), StoreError>;
    /// Reads an account.
    fn get_account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError>;
    /// Lists all accounts, by id.
    fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError>;

    /// Registers an integrating service, replacing any registration of that name.
    fn put_service(&self, service: &ServiceRecord) -> Result<(), StoreError>;
    /// Reads a registered service by name.
    fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>, StoreError>;
    /// Lists registered services, by name.
    fn list_services(&self) -> Result<Vec<ServiceRecord>, StoreError>;
    /// Removes a service's registration. Returns whether it existed.
    fn delete_service(&self, name: &str) -> Result<bool, StoreError>;

    /// Stores a new access key; `Conflict` if the id exists.
    fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError>;
    /// Reads an access key by id.
    fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;
    /// The access keys of one principal (an IAM user's ARN), by creation time.
    fn list_access_keys(
        &self,
        account: &AccountId,
        principal_arn: &str,
    ) -> Result<Vec<AccessKeyRecord>, StoreError>;
    /// Sets an access key's status; `Missing` if absent.
    fn set_access_key_status(
        &self,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<(), StoreError>;
    /// Deletes an access key (its sealed secret overwritten first). Returns whether it
    /// existed.
    fn delete_access_key(&self, access_key_id: &str) -> Result<bool, StoreError>;

    /// Stores a new IAM entity; `Conflict` if (account, kind, name ignoring case) or
    /// its unique id is taken.
    fn create_iam_entity(&self, entity: &IamEntity) -> Result<(), StoreError>;
    /// Replaces an IAM entity's document; `Missing` if absent.
    fn update_iam_entity(&self, entity: &IamEntity) -> Result<(), StoreError>;
    /// Reads an IAM entity by name (ignoring case).
    fn get_iam_entity(
        &self,
        account: &AccountId,
        kind: IamKind,
        name: &str,
    ) -> Result<Option<IamEntity>, StoreError>;
    /// Deletes an IAM entity. Returns whether it existed.
    fn delete_iam_entity(
        &self,
        account: &AccountId,
        kind: IamKind,
        name: &str,
    ) -> Result<bool, StoreError>;
    /// Lists IAM entities of one kind, ascending by lowercased name; `page.after` is a
    /// lowercased name.
    fn list_iam_entities(
        &self,
        account: &AccountId,
        kind: IamKind,
        page: Page<'_>,
    ) -> Result<Vec<IamEntity>, StoreError>;

    /// Stores a new key with its backing keys; `Conflict` if (region, id) exists.
    fn create_key(&self, key: &KeyRecord) -> Result<(), StoreError>;
    /// Replaces a key's mutable fields (state, description, dates, policy, tags,
    /// rotation schedule) and appends any backing keys not stored yet. Stored backing
    /// keys keep their material, except imported material: its import fields are
    /// replaced, and its sealed bytes too when they change (removed material is
    /// overwritten before it is dropped). `Missing` if absent.
    fn update_key(&self, key: &KeyRecord) -> Result<(), StoreError>;
    /// Like [`Store::update_key`], but only if the key's current backing key (the newest
    /// not pending rotation) is still `expected_current`; returns whether it wrote.
    /// This is how a rotation happens once even when several nodes race to do it.
    fn rotate_key(&self, key: &KeyRecord, expected_current: &[u8; 32]) -> Result<bool, StoreError>;
    /// Reads a key with its backing keys.
    fn get_key(&self, region: &str, key_id: &str) -> Result<Option<KeyRecord>, StoreError>;
    /// Lists key ids of an account in a region, ascending by id.
    fn list_key_ids(
        &self,
        account: &AccountId,
        region: &str,
        page: Page<'_>,
    ) -> Result<Vec<String>, StoreError>;
    /// Keys (region, id) in PendingDeletion whose deletion time is at or before `now_ms`.
    fn keys_due_for_deletion(&self, now_ms: i64) -> Result<Vec<(String, String)>, StoreError>;
    /// Keys (region, id) that are Enabled, have automatic rotation enabled, and whose
    /// next rotation is due at or before `now_ms`.
    fn keys_due_for_rotation(&self, now_ms: i64) -> Result<Vec<(String, String)>, StoreError>;
    /// Keys (region, id) holding imported material (IMPORTED) whose ValidTo is at or
    /// before `now_ms`.
    fn keys_with_expired_material(&self, now_ms: i64) -> Result<Vec<(String, String)>, StoreError>;
    /// Deletes a key for good: its row, its aliases, its grants, and its backing keys, whose sealed
    /// material is overwritten before the rows are removed. Returns whether it existed.
    fn destroy_key(&self, region: &str, key_id: &str) -> Result<bool, StoreError>;
    /// Makes sure no copy of destroyed data survives in the backend's own logs (for
    /// SQLite: a TRUNCATE checkpoint of the WAL). Called after a batch of destroy_key.
    fn purge_destroyed(&self) -> Result<(), StoreError>;

    /// Creates an alias; `Conflict` if the name is taken in (account, region).
    fn create_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;
    /// Points an existing alias at another key; `Missing` if absent.
    fn update_alias(&self, alias: &AliasRecord) -> Result<(), StoreError>;
    /// Deletes an alias. Returns whether it existed.
    fn delete_alias(
        &self,
        account: &AccountId,
        region: &str,
        name: &str,
    ) -> Result<bool, StoreError>;
    /// Reads an alias.
    fn get_alias(
        &self,
        account: &AccountId,
        region: &str,
        name: &str,
    ) -> Result<Option<AliasRecord>, StoreError>;
    /// Lists aliases of an account in a region (optionally only those of one key),
    /// ascending by name.
    fn list_aliases(
        &self,
        account: &AccountId,
        region: &str,
        key_id: Option<&str>,
        page: Page<'_>,
    ) -> Result<Vec<AliasRecord>, StoreError>;

    /// Stores a new grant; `Conflict` if its id exists.
    fn create_grant(&self, grant: &GrantRecord) -> Result<(), StoreError>;
    /// Reads a grant of a key.
    fn get_grant(
        &self,
        region: &str,
        key_id: &str,
        grant_id: &str,
    ) -> Result<Option<GrantRecord>, StoreError>;
    /// Lists the grants of a key, ascending by grant id.
    fn list_grants(
        &self,
        region: &str,
        key_id: &str,
        page: Page<'_>,
    ) -> Result<Vec<GrantRecord>, StoreError>;
    /// Lists the grants in a region whose retiring principal is `retiring_principal`,
    /// ascending by grant id.
    fn list_retirable_grants(
        &self,
        region: &str,
        retiring_principal: &str,
        page: Page<'_>,
    ) -> Result<Vec<GrantRecord>, StoreError>;
    /// Deletes a grant of a key. Returns whether it existed.
    fn delete_grant(&self, region: &str, key_id: &str, grant_id: &str) -> Result<bool, StoreError>;
}
