//! Versioned schema migrations, run on every open.
//!
//! The applied version lives in `PRAGMA user_version` (part of the database header, so
//! it commits atomically with the migration). Migration `N` (1-based) takes the schema
//! from version `N-1` to `N` inside one `IMMEDIATE` transaction, which also re-reads the
//! version, so two processes opening the same file at once apply each step once.
//! Migrations are append-only: never edit one that has shipped, add the next.

use keyfort_core::store::StoreError;
use rusqlite::{Connection, TransactionBehavior};

use crate::error::{SqliteError, backend, corrupt, own};

/// Version 1: accounts, access keys, keys, backing keys, aliases.
///
/// Notes on choices that are expensive to change later:
/// - `backing_keys` is keyed by key id, not region: multi-Region keys share their
///   material across regions, so a replica's row points at the same backing keys.
/// - `keys_by_id` finds a key's replicas in other regions (see `destroy_key`).
/// - `seq` orders a key's backing keys (oldest first, the current one last).
/// - Tags are a JSON array of `[key, value]` pairs, in the record's order.
/// - Enums are stored as their AWS spellings.
const V1: &str = r#"
CREATE TABLE accounts (
    id          TEXT    NOT NULL PRIMARY KEY,
    created_ms  INTEGER NOT NULL
) STRICT;

CREATE TABLE access_keys (
    access_key_id TEXT    NOT NULL PRIMARY KEY,
    account       TEXT    NOT NULL REFERENCES accounts(id),
    principal_arn TEXT    NOT NULL,
    sealed_secret BLOB    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX access_keys_by_account ON access_keys (account);

CREATE TABLE keys (
    region              TEXT    NOT NULL,
    key_id              TEXT    NOT NULL,
    account             TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    state               TEXT    NOT NULL,
    usage               TEXT    NOT NULL,
    spec                TEXT    NOT NULL,
    origin              TEXT    NOT NULL,
    manager             TEXT    NOT NULL,
    created_ms          INTEGER NOT NULL,
    deletion_ms         INTEGER,
    pending_window_days INTEGER,
    policy              TEXT    NOT NULL,
    tags                TEXT    NOT NULL,
    PRIMARY KEY (region, key_id)
) STRICT;
CREATE INDEX keys_by_account ON keys (account, region, key_id);
CREATE INDEX keys_by_deletion ON keys (state, deletion_ms);
CREATE INDEX keys_by_id ON keys (key_id);

CREATE TABLE backing_keys (
    key_id      TEXT    NOT NULL,
    backing_id  BLOB    NOT NULL CHECK (length(backing_id) = 32),
    seq         INTEGER NOT NULL,
    sealed      BLOB    NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (key_id, backing_id),
    UNIQUE (key_id, seq)
) STRICT;

CREATE TABLE aliases (
    account       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    target_key_id TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL,
    updated_ms    INTEGER NOT NULL,
    PRIMARY KEY (account, region, name)
) STRICT;
CREATE INDEX aliases_by_target ON aliases (account, region, target_key_id);
"#;

/// Version 2: key rotation and imported key material.
///
/// - `keys.rotation_period_days` is set while automatic rotation is enabled;
///   `next_rotation_ms` is when it is next due (indexed for the scheduler).
/// - `backing_keys.rotation_type` / `rotated_ms` describe how and when a version became
///   current (NULL for a key's first material).
/// - The `import_*` columns are set only for imported material. `import_state` is
///   `PENDING_IMPORT` once the material was deleted or expired; `sealed` is then empty
///   (it was zero-filled first). `pending_rotation` marks imported material waiting for
///   RotateKeyOnDemand.
const V2: &str = r#"
ALTER TABLE keys ADD COLUMN rotation_period_days INTEGER;
ALTER TABLE keys ADD COLUMN next_rotation_ms INTEGER;
CREATE INDEX keys_by_next_rotation ON keys (next_rotation_ms)
    WHERE next_rotation_ms IS NOT NULL;

ALTER TABLE backing_keys ADD COLUMN rotation_type TEXT
    CHECK (rotation_type IN ('AUTOMATIC', 'ON_DEMAND'));
ALTER TABLE backing_keys ADD COLUMN rotated_ms INTEGER;
ALTER TABLE backing_keys ADD COLUMN import_state TEXT
    CHECK (import_state IN ('IMPORTED', 'PENDING_IMPORT'));
ALTER TABLE backing_keys ADD COLUMN import_expiration TEXT
    CHECK (import_expiration IN ('KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE'));
ALTER TABLE backing_keys ADD COLUMN import_valid_to_ms INTEGER;
ALTER TABLE backing_keys ADD COLUMN import_description TEXT;
ALTER TABLE backing_keys ADD COLUMN pending_rotation INTEGER NOT NULL DEFAULT 0
    CHECK (pending_rotation IN (0, 1));
CREATE INDEX backing_keys_by_expiry ON backing_keys (import_valid_to_ms)
    WHERE import_state = 'IMPORTED' AND import_valid_to_ms IS NOT NULL;
"#;

/// Version 3: IAM users, roles, groups and managed policies.
///
/// - One table for every IAM entity: `name_key` is the lowercased name (IAM names are
///   unique ignoring case), `id` the unique id (`AIDA...`), `doc` the details as JSON
///   (see `keyfort_core::iam`).
/// - IAM users' access keys live in `access_keys` with the user's ARN as
///   `principal_arn`; the new index lists a user's keys.
const V3: &str = r#"
CREATE TABLE iam_entities (
    account     TEXT    NOT NULL REFERENCES accounts(id),
    kind        TEXT    NOT NULL CHECK (kind IN ('user', 'role', 'group', 'policy')),
    name_key    TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    id          TEXT    NOT NULL UNIQUE,
    doc         TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (account, kind, name_key)
) STRICT;
CREATE INDEX access_keys_by_principal ON access_keys (account, principal_arn);
"#;

/// Version 4: grants.
///
/// - One row per grant of a key; `doc` holds the operations, constraints and issuing
///   account (see `keyfort_core::grant`); grant tokens are not stored. Grant ids are
///   unique across keys.
/// - Indexed for ListGrants (by key), ListRetirableGrants (by retiring principal) and
///   the deletion of a key's grants.
const V4: &str = r#"
CREATE TABLE grants (
    grant_id    TEXT    NOT NULL PRIMARY KEY,
    region      TEXT    NOT NULL,
    key_id      TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    name        TEXT,
    grantee     TEXT    NOT NULL,
    retiring    TEXT,
    doc         TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX grants_by_key ON grants (region, key_id, grant_id);
CREATE INDEX grants_by_retiring ON grants (region, retiring, grant_id)
    WHERE retiring IS NOT NULL;
"#;

/// Version 5: integrating services registered by the operator (`keyfort admin
/// service`), each naming the IAM user whose requests may act through it.
const V5: &str = r#"
CREATE TABLE services (
    name        TEXT    NOT NULL PRIMARY KEY,
    account     TEXT    NOT NULL,
    user_name   TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL
) STRICT;
"#;

/// Every migration, in order; entry `i` produces version `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5];

/// The schema version this build writes and expects.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Reads the applied schema version.
pub(crate) fn version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(backend)
}

/// Applies every migration the database lacks; refuses a database from the future.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[&str]) -> Result<(), StoreError> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let current = version(&tx)?;
        let index = usize::try_from(current)
            .map_err(|_| corrupt("user_version", format!("negative version {current}")))?;
        let Some(step) = migrations.get(index) else {
            if index > migrations.len() {
                return Err(own(SqliteError::SchemaTooNew {
                    found: current,
                    supported: u32::try_from(migrations.len()).unwrap_or(u32::MAX),
                }));
            }
            tx.commit().map_err(backend)?;
            return Ok(());
        };
        tx.execute_batch(step).map_err(backend)?;
        tx.pragma_update(None, "user_version", current + 1)
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
        tracing::info!(version = current + 1, "applied store schema migration");
    }
}
