//! [`SqliteStore`]: the embedded SQLite backend.
//!
//! One connection behind a mutex. keyfort caches hot data above the store, so the
//! store itself favours simplicity and durability over parallel reads. Statements are
//! prepared once per connection and cached.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use keyfort_core::grant::GrantRecord;
use keyfort_core::iam::{IamEntity, IamKind};
use keyfort_core::model::{
    AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord, AliasRecord, KeyRecord,
    ServiceRecord,
};
use keyfort_core::store::{Page, Store, StoreError};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::codec::{account, parse_status, sql_limit, status_str};
use crate::error::{SqliteError, backend, own, reading};
use crate::{grants, iam, keys, schema};

/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Enough for every distinct statement this backend prepares.
const STATEMENT_CACHE: usize = 64;

/// The SQLite implementation of [`Store`].
///
/// Every write is durable when its method returns: the journal is a WAL and
/// `synchronous=FULL` syncs it on each commit.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it to
    /// [`crate::SCHEMA_VERSION`]. The parent directory must exist. On Unix a new file
    /// is created with mode 0600 (SQLite gives its `-wal` and `-shm` files the same).
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = open_file(path)?;
        schema::migrate(&mut conn, schema::MIGRATIONS)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// Opens a private in-memory database (for tests). It has no WAL and vanishes
    /// when dropped.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(backend)?;
        Self::setup(conn, false)
    }

    fn setup(mut conn: Connection, file: bool) -> Result<SqliteStore, StoreError> {
        configure(&conn, file)?;
        schema::migrate(&mut conn, schema::MIGRATIONS)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// Copies the WAL into the database file and truncates the WAL to zero bytes, so
    /// no old page images (such as destroyed key material) remain in it. Fails with
    /// [`SqliteError::CheckpointBusy`] if another connection kept it from completing.
    /// A no-op for in-memory databases.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let conn = self.lock();
        let busy: i64 = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .map_err(backend)?;
        if busy != 0 {
            return Err(own(SqliteError::CheckpointBusy));
        }
        Ok(())
    }

    /// The schema version recorded in the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema::version(&self.lock())
    }

    /// Takes the connection. A panic while it was held cannot have left a half-done
    /// write behind (every write runs in a transaction that rolls back when dropped,
    /// and we roll back anything still open), so a poisoned lock is recovered.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        match self.conn.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                tracing::warn!("store connection lock poisoned by a panic; recovering");
                self.conn.clear_poison();
                let guard = poisoned.into_inner();
                if !guard.is_autocommit() {
                    if let Err(e) = guard.execute_batch("ROLLBACK") {
                        tracing::warn!(error = %e, "rollback after a panic failed");
                    }
                }
                guard
            }
        }
    }

    /// Runs `f` on the connection; for tests that need to look under the trait.
    #[cfg(test)]
    pub(crate) fn with_conn<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        f(&self.lock())
    }

    /// Runs `f` in one write transaction (taken `IMMEDIATE`, so it never has to upgrade
    /// a read lock and fail with `SQLITE_BUSY` halfway through), committing on `Ok`.
    fn write<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }

    /// Runs `f` in one read transaction, so several statements see one snapshot.
    fn read<R>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }

    /// Runs one statement that changes rows, returning how many it changed.
    fn execute(&self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<usize, StoreError> {
        self.lock()
            .prepare_cached(sql)
            .and_then(|mut st| st.execute(args))
            .map_err(backend)
    }
}

/// Creates the database file owner-only if it does not exist yet.
/// Opens a file database with keyfort's settings applied (see [`configure`]).
pub(crate) fn open_file(path: &Path) -> Result<Connection, StoreError> {
    open_file_paged(path, None)
}

/// [`open_file`], asking for `page_size` bytes per page if the file is new. SQLite
/// fixes the page size when it writes the first page, and a database in WAL mode
/// cannot change it, so the pragma goes before [`configure`]; on an existing file it
/// changes nothing.
pub(crate) fn open_file_paged(
    path: &Path,
    page_size: Option<u32>,
) -> Result<Connection, StoreError> {
    create_private(path)?;
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(backend)?;
    if let Some(size) = page_size {
        conn.pragma_update(None, "page_size", size)
            .map_err(backend)?;
    }
    configure(&conn, true)?;
    Ok(conn)
}

/// Applies keyfort's connection settings (busy timeout, statement cache, WAL,
/// `synchronous=FULL`, foreign keys, `secure_delete`) and reads each back.
pub(crate) fn configure(conn: &Connection, file: bool) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let journal: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(backend)?;
    let expected = if file { "wal" } else { "memory" };
    if !journal.eq_ignore_ascii_case(expected) {
        return Err(own(SqliteError::Pragma {
            name: "journal_mode",
            expected,
            actual: journal,
        }));
    }
    // synchronous: 2 = FULL. foreign_keys and secure_delete read back as 1.
    for (name, value, check) in [
        ("synchronous", "FULL", 2),
        ("foreign_keys", "ON", 1),
        ("secure_delete", "ON", 1),
    ] {
        conn.pragma_update(None, name, value).map_err(backend)?;
        let actual: i64 = conn
            .pragma_query_value(None, name, |row| row.get(0))
            .map_err(backend)?;
        if actual != check {
            return Err(own(SqliteError::Pragma {
                name,
                expected: value,
                actual: actual.to_string(),
            }));
        }
    }
    Ok(())
}

#[cfg(unix)]
pub(crate) fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| StoreError::Backend(Box::new(e)))
}

/// Elsewhere SQLite creates the file with the platform's defaults.
#[cfg(not(unix))]
pub(crate) fn create_private(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Decodes an alias row (`region, name, target_key_id, created_ms, updated_ms`); every
/// query filters on the account, so it is the caller's.
fn alias_row(account: &AccountId, row: &rusqlite::Row<'_>) -> rusqlite::Result<AliasRecord> {
    Ok(AliasRecord {
        account: account.clone(),
        region: row.get(0)?,
        name: row.get(1)?,
        target_key_id: row.get(2)?,
        created_ms: row.get(3)?,
        updated_ms: row.get(4)?,
    })
}

impl Store for SqliteStore {
    fn purge_destroyed(&self) -> Result<(), StoreError> {
        self.checkpoint()
    }

    fn create_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO accounts (id, created_ms) VALUES (?1, ?2)",
            params![account.id.as_str(), account.created_ms],
        )
        .map(drop)
    }

    fn get_account(&self, id: &AccountId) -> Result<Option<AccountRecord>, StoreError> {
        let created_ms: Option<i64> = self
            .lock()
            .prepare_cached("SELECT created_ms FROM accounts WHERE id = ?1")
            .and_then(|mut st| st.query_row([id.as_str()], |row| row.get(0)).optional())
            .map_err(reading("accounts"))?;
        Ok(created_ms.map(|created_ms| AccountRecord {
            id: id.clone(),
            created_ms,
        }))
    }

    fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let rows: Vec<(String, i64)> = self
            .lock()
            .prepare_cached("SELECT id, created_ms FROM accounts ORDER BY id")
            .and_then(|mut st| {
                st.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .map_err(reading("accounts"))?;
        rows.into_iter()
            .map(|(id, created_ms)| {
                Ok(AccountRecord {
                    id: account("accounts", &id)?,
                    created_ms,
                })
            })
            .collect()
    }

    fn put_service(&self, service: &ServiceRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO services (name, account, user_name, user_id, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (name) DO UPDATE SET account = excluded.account, \
             user_name = excluded.user_name, user_id = excluded.user_id, \
             created_ms = excluded.created_ms",
            params![
                service.name,
                service.account.as_str(),
                service.user_name,
                service.user_id,
                service.created_ms
            ],
        )
        .map(drop)
    }

    fn get_service(&self, name: &str) -> Result<Option<ServiceRecord>, StoreError> {
        let row: Option<(String, String, String, i64)> = self
            .lock()
            .prepare_cached(
                "SELECT account, user_name, user_id, created_ms FROM services WHERE name = ?1",
            )
            .and_then(|mut st| {
                st.query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .optional()
            })
            .map_err(reading("services"))?;
        row.map(|(acct, user_name, user_id, created_ms)| {
            Ok(ServiceRecord {
                name: name.to_owned(),
                account: account("services", &acct)?,
                user_name,
                user_id,
                created_ms,
            })
        })
        .transpose()
    }

    fn list_services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        type Row = (String, String, String, String, i64);
        let rows: Vec<Row> = self
            .lock()
            .prepare_cached(
                "SELECT name, account, user_name, user_id, created_ms FROM services ORDER BY name",
            )
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })?
                .collect()
            })
            .map_err(reading("services"))?;
        rows.into_iter()
            .map(|(name, acct, user_name, user_id, created_ms)| {
                Ok(ServiceRecord {
                    name,
                    account: account("services", &acct)?,
                    user_name,
                    user_id,
                    created_ms,
                })
            })
            .collect()
    }

    fn delete_service(&self, name: &str) -> Result<bool, StoreError> {
        self.execute("DELETE FROM services WHERE name = ?1", params![name])
            .map(|n| n > 0)
    }

    fn create_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO access_keys \
             (access_key_id, account, principal_arn, sealed_secret, status, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                key.access_key_id,
                key.account.as_str(),
                key.principal_arn,
                key.sealed_secret,
                status_str(key.status),
                key.created_ms,
            ],
        )
        .map(drop)
    }

    fn get_access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        type Raw = (String, String, Vec<u8>, String, i64);
        let raw: Option<Raw> = self
            .lock()
            .prepare_cached(
                "SELECT account, principal_arn, sealed_secret, status, created_ms \
                 FROM access_keys WHERE access_key_id = ?1",
            )
            .and_then(|mut st| {
                st.query_row([access_key_id], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                })
                .optional()
            })
            .map_err(reading("access_keys"))?;
        let Some((acct, principal_arn, sealed_secret, status, created_ms)) = raw else {
            return Ok(None);
        };
        Ok(Some(AccessKeyRecord {
            access_key_id: access_key_id.to_owned(),
            account: account("access_keys", &acct)?,
            principal_arn,
            sealed_secret,
            status: parse_status(&status)?,
            created_ms,
        }))
    }

    fn list_access_keys(
        &self,
        account: &AccountId,
        principal_arn: &str,
    ) -> Result<Vec<AccessKeyRecord>, StoreError> {
        self.read(|c| iam::list_access_keys(c, account, principal_arn))
    }

    fn set_access_key_status(
        &self,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<(), StoreError> {
        self.write(|tx| iam::set_access_key_status(tx, access_key_id, status))
    }

    fn delete_access_key(&self, access_key_id: &str) -> Result<bool, StoreError> {
        self.write(|tx| iam::delete_access_key(tx, access_key_id))
    }

    fn create_iam_entity(&self, entity: &IamEntity) -> Result<(), StoreError> {
        self.write(|tx| iam::create(tx, entity))
    }

    fn update_iam_entity(&self, entity: &IamEntity) -> Result<(), StoreError> {
        self.write(|tx| iam::update(tx, entity))
    }

    fn get_iam_entity(
        &self,
        account: &AccountId,
        kind: IamKind,
        name: &str,
    ) -> Result<Option<IamEntity>, StoreError> {
        self.read(|c| iam::get(c, account, kind, name))
    }

    fn delete_iam_entity(
        &self,
        account: &AccountId,
        kind: IamKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        self.write(|tx| iam::delete(tx, account, kind, name))
    }

    fn list_iam_entities(
        &self,
        account: &AccountId,
        kind: IamKind,
        page: Page<'_>,
    ) -> Result<Vec<IamEntity>, StoreError> {
        self.read(|c| iam::list(c, account, kind, page))
    }

    fn create_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        self.write(|tx| keys::insert(tx, key))
    }

    fn update_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        self.write(|tx| keys::update(tx, key))
    }

    fn rotate_key(&self, key: &KeyRecord, expected_current: &[u8; 32]) -> Result<bool, StoreError> {
        self.write(|tx| {
            if keys::current_backing_id(tx, &key.id)?.as_deref() != Some(&expected_current[..]) {
                return Ok(false);
            }
            keys::update(tx, key)?;
            Ok(true)
        })
    }

    fn keys_due_for_rotation(&self, now_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
        keys::due_for_rotation(&self.lock(), now_ms)
    }

    fn keys_with_expired_material(&self, now_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
        keys::with_expired_material(&self.lock(), now_ms)
    }

    fn get_key(&self, region: &str, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.read(|tx| keys::get(tx, region, key_id))
    }

    fn list_key_ids(
        &self,
        account: &AccountId,
        region: &str,
        page: Page<'_>,
    ) -> Result<Vec<String>, StoreError> {
        keys::list_ids(&self.lock(), account.as_str(), region, page)
    }

    fn keys_due_for_deletion(&self, now_ms: i64) -> Result<Vec<(String, String)>, StoreError> {
        keys::due_for_deletion(&self.lock(), now_ms)
    }

    /// See the trait. Here: one transaction that zero-fills the sealed material in
    /// place, deletes the backing keys, the aliases and the key row. `secure_delete`
    /// is ON, so SQLite zeroes the freed space too; call [`SqliteStore::checkpoint`]
    /// afterwards to also purge old page images from the WAL.
    fn destroy_key(&self, region: &str, key_id: &str) -> Result<bool, StoreError> {
        self.write(|tx| keys::destroy(tx, region, key_id))
    }

    fn create_alias(&self, alias: &AliasRecord) -> Result<(), StoreError> {
        self.execute(
            "INSERT INTO aliases \
             (account, region, name, target_key_id, created_ms, updated_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                alias.account.as_str(),
                alias.region,
                alias.name,
                alias.target_key_id,
                alias.created_ms,
                alias.updated_ms,
            ],
        )
        .map(drop)
    }

    fn update_alias(&self, alias: &AliasRecord) -> Result<(), StoreError> {
        let changed = self.execute(
            "UPDATE aliases SET target_key_id = ?4, updated_ms = ?5 \
             WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![
                alias.account.as_str(),
                alias.region,
                alias.name,
                alias.target_key_id,
                alias.updated_ms,
            ],
        )?;
        if changed == 0 {
            return Err(StoreError::Missing);
        }
        Ok(())
    }

    fn delete_alias(
        &self,
        account: &AccountId,
        region: &str,
        name: &str,
    ) -> Result<bool, StoreError> {
        let deleted = self.execute(
            "DELETE FROM aliases WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![account.as_str(), region, name],
        )?;
        Ok(deleted > 0)
    }

    fn get_alias(
        &self,
        account: &AccountId,
        region: &str,
        name: &str,
    ) -> Result<Option<AliasRecord>, StoreError> {
        self.lock()
            .prepare_cached(
                "SELECT region, name, target_key_id, created_ms, updated_ms FROM aliases \
                 WHERE account = ?1 AND region = ?2 AND name = ?3",
            )
            .and_then(|mut st| {
                st.query_row(params![account.as_str(), region, name], |row| {
                    alias_row(account, row)
                })
                .optional()
            })
            .map_err(reading("aliases"))
    }

    fn list_aliases(
        &self,
        account: &AccountId,
        region: &str,
        key_id: Option<&str>,
        page: Page<'_>,
    ) -> Result<Vec<AliasRecord>, StoreError> {
        if page.limit == 0 {
            return Ok(Vec::new());
        }
        // One of four fixed statements (each cached): ?1 account, ?2 region, ?3 limit,
        // then the key filter and the `after` bound, numbered in that order if present.
        let mut sql = String::from(
            "SELECT region, name, target_key_id, created_ms, updated_ms FROM aliases \
             WHERE account = ?1 AND region = ?2",
        );
        let account_str = account.as_str();
        let limit = sql_limit(page.limit);
        let mut args: Vec<&dyn rusqlite::ToSql> = vec![&account_str, &region, &limit];
        if let Some(key_id) = &key_id {
            args.push(key_id);
            sql.push_str(&format!(" AND target_key_id = ?{}", args.len()));
        }
        if let Some(after) = &page.after {
            args.push(after);
            sql.push_str(&format!(" AND name > ?{}", args.len()));
        }
        sql.push_str(" ORDER BY name LIMIT ?3");
        self.lock()
            .prepare_cached(&sql)
            .and_then(|mut st| {
                st.query_map(args.as_slice(), |row| alias_row(account, row))?
                    .collect()
            })
            .map_err(reading("aliases"))
    }

    fn create_grant(&self, grant: &GrantRecord) -> Result<(), StoreError> {
        self.write(|tx| grants::create(tx, grant))
    }

    fn get_grant(
        &self,
        region: &str,
        key_id: &str,
        grant_id: &str,
    ) -> Result<Option<GrantRecord>, StoreError> {
        self.read(|tx| grants::get(tx, region, key_id, grant_id))
    }

    fn list_grants(
        &self,
        region: &str,
        key_id: &str,
        page: Page<'_>,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        self.read(|tx| grants::list(tx, region, key_id, page))
    }

    fn list_retirable_grants(
        &self,
        region: &str,
        retiring_principal: &str,
        page: Page<'_>,
    ) -> Result<Vec<GrantRecord>, StoreError> {
        self.read(|tx| grants::list_retirable(tx, region, retiring_principal, page))
    }

    fn delete_grant(&self, region: &str, key_id: &str, grant_id: &str) -> Result<bool, StoreError> {
        self.write(|tx| grants::delete(tx, region, key_id, grant_id))
    }
}
