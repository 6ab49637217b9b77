//! The shared [`Store`] test suite, written once against the trait and run on every
//! backend (SQLite in memory and on disk here; PostgreSQL when it lands).
//!
//! Each case gets a fresh, empty store from the caller's factory:
//!
//! ```ignore
//! keyfort_store::conformance::run_all(&|| Box::new(MyStore::new_empty()));
//! ```
//!
//! Cases return a [`Failure`] instead of panicking, so one run reports every failing
//! case by name. Orderings are byte order of UTF-8 (SQLite's `BINARY` collation; a
//! PostgreSQL backend needs `COLLATE "C"`).

use std::fmt;

use keyfort_core::model::{
    AccountId, AccountRecord, AliasRecord, BackingKeyRecord, KeyManager, KeyRecord, KeySpec,
    KeyState, KeyUsage, Origin,
};
use keyfort_core::store::{Store, StoreError};

/// Returns a [`Failure`] from the enclosing case unless the condition holds.
macro_rules! check {
    ($cond:expr) => {
        check!($cond, "check failed: {}", stringify!($cond))
    };
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::conformance::Failure::at(file!(), line!(), format!($($fmt)+)));
        }
    };
}

/// Returns a [`Failure`] unless both sides are equal, showing both.
macro_rules! check_eq {
    ($left:expr, $right:expr $(,)?) => {{
        let (left, right) = (&$left, &$right);
        check!(
            left == right,
            "{} != {}\n   left: {:?}\n  right: {:?}",
            stringify!($left),
            stringify!($right),
            left,
            right
        );
    }};
}

/// Returns a [`Failure`] unless the expression is `Err` matching the pattern.
macro_rules! check_err {
    ($result:expr, $pattern:pat) => {{
        let result = $result;
        check!(
            matches!(result, Err($pattern)),
            "{} returned {:?}, expected Err({})",
            stringify!($result),
            result,
            stringify!($pattern)
        );
    }};
}

mod accounts;
mod aliases;
mod grants;
mod iam;
mod keys;
mod rotation;

/// Why a case failed: where, and what was seen.
#[derive(Debug)]
pub struct Failure {
    message: String,
}

impl Failure {
    /// A failure at a source location.
    pub fn at(file: &str, line: u32, message: String) -> Failure {
        Failure {
            message: format!("{file}:{line}: {message}"),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        let mut message = format!("unexpected store error: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        Failure { message }
    }
}

/// One conformance case: gets a fresh, empty store.
pub type Case = fn(&dyn Store) -> Result<(), Failure>;

/// Every case, by name.
pub const CASES: &[(&str, Case)] = &[
    ("accounts_round_trip", accounts::accounts_round_trip),
    ("account_conflict", accounts::account_conflict),
    ("access_keys_round_trip", accounts::access_keys_round_trip),
    ("access_key_conflict", accounts::access_key_conflict),
    ("services_round_trip", accounts::services_round_trip),
    ("iam_entities_round_trip", iam::iam_entities_round_trip),
    ("iam_entities_list_pages", iam::iam_entities_list_pages),
    ("user_access_keys", iam::user_access_keys),
    ("key_round_trip", keys::key_round_trip),
    (
        "key_conflict_changes_nothing",
        keys::key_conflict_changes_nothing,
    ),
    ("sealed_bytes_exact", keys::sealed_bytes_exact),
    (
        "update_key_replaces_mutable_fields",
        keys::update_key_replaces_mutable_fields,
    ),
    ("update_missing_key", keys::update_missing_key),
    (
        "backing_keys_append_in_order",
        keys::backing_keys_append_in_order,
    ),
    ("list_key_ids_pages", keys::list_key_ids_pages),
    (
        "keys_due_for_deletion_boundary",
        keys::keys_due_for_deletion_boundary,
    ),
    (
        "destroy_key_removes_everything",
        keys::destroy_key_removes_everything,
    ),
    (
        "rotation_fields_round_trip",
        rotation::rotation_fields_round_trip,
    ),
    (
        "rotate_key_is_compare_and_set",
        rotation::rotate_key_is_compare_and_set,
    ),
    (
        "keys_due_for_rotation_boundary",
        rotation::keys_due_for_rotation_boundary,
    ),
    (
        "imported_material_round_trip_and_removal",
        rotation::imported_material_round_trip_and_removal,
    ),
    (
        "keys_with_expired_material_boundary",
        rotation::keys_with_expired_material_boundary,
    ),
    ("alias_round_trip", aliases::alias_round_trip),
    ("alias_update_and_delete", aliases::alias_update_and_delete),
    (
        "list_aliases_pages_and_filter",
        aliases::list_aliases_pages_and_filter,
    ),
    (
        "grants_round_trip_and_lists",
        grants::grants_round_trip_and_lists,
    ),
    (
        "destroy_key_deletes_its_grants",
        grants::destroy_key_deletes_its_grants,
    ),
];

/// Runs every case on a fresh store from `make`; returns the failures by case name.
pub fn run(make: &dyn Fn() -> Box<dyn Store>) -> Vec<(&'static str, Failure)> {
    CASES
        .iter()
        .filter_map(|(name, case)| {
            let store = make();
            case(store.as_ref()).err().map(|failure| (*name, failure))
        })
        .collect()
}

/// Runs every case and panics listing each failure (for use inside a `#[test]`).
pub fn run_all(make: &dyn Fn() -> Box<dyn Store>) {
    let failures = run(make);
    let report: Vec<String> = failures
        .iter()
        .map(|(name, failure)| format!("{name}: {failure}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} store conformance cases failed:\n{}",
        failures.len(),
        CASES.len(),
        report.join("\n")
    );
}

// Fixtures shared by the cases.

/// Region names used by the cases.
const REGION: &str = "us-east-1";
const OTHER_REGION: &str = "eu-west-1";

/// A parsed account id.
fn account_id(digits: &str) -> Result<AccountId, Failure> {
    AccountId::parse(digits)
        .ok_or_else(|| Failure::at(file!(), line!(), format!("bad fixture id {digits}")))
}

/// The account most cases use, created in `store`.
fn main_account(store: &dyn Store) -> Result<AccountId, Failure> {
    let id = account_id("111122223333")?;
    store.create_account(&AccountRecord {
        id: id.clone(),
        created_ms: 1_000,
    })?;
    Ok(id)
}

/// A backing key whose id and material are derived from `n`.
fn backing(n: u8) -> BackingKeyRecord {
    BackingKeyRecord {
        id: [n; 32],
        sealed: (0..60u8)
            .map(|i| n.wrapping_mul(31).wrapping_add(i))
            .collect(),
        created_ms: 1_700_000_000_000 + i64::from(n),
        rotation_type: None,
        rotated_ms: None,
        import: None,
    }
}

/// An enabled symmetric key with one backing key.
fn key(account: &AccountId, region: &str, id: &str) -> KeyRecord {
    KeyRecord {
        id: id.to_owned(),
        account: account.clone(),
        region: region.to_owned(),
        description: format!("key {id}"),
        state: KeyState::Enabled,
        usage: KeyUsage::EncryptDecrypt,
        spec: KeySpec::SymmetricDefault,
        origin: Origin::AwsKms,
        manager: KeyManager::Customer,
        created_ms: 1_700_000_000_000,
        deletion_ms: None,
        pending_window_days: None,
        policy: r#"{"Version":"2012-10-17","Statement":[]}"#.to_owned(),
        tags: Vec::new(),
        backing_keys: vec![backing(1)],
        rotation_period_days: None,
        next_rotation_ms: None,
    }
}

/// An alias in `account`/`region` pointing at `target`.
fn alias(account: &AccountId, region: &str, name: &str, target: &str) -> AliasRecord {
    AliasRecord {
        account: account.clone(),
        region: region.to_owned(),
        name: name.to_owned(),
        target_key_id: target.to_owned(),
        created_ms: 5_000,
        updated_ms: 5_000,
    }
}
