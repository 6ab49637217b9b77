//! Statements on `keys` and `backing_keys`. Each function runs on whatever the caller
//! passes: a plain connection or an open transaction (`Transaction` derefs to
//! `Connection`), so the caller decides what is atomic.

use keyfort_core::model::{
    BackingKeyRecord, KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, Origin,
};
use keyfort_core::store::{Page, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{account, parse_enum, parse_tags, sql_limit, tags_json};
use crate::error::{backend, corrupt, reading};

/// Inserts a key row and its backing keys. `Conflict` if (region, id) exists.
pub(crate) fn insert(conn: &Connection, key: &KeyRecord) -> Result<(), StoreError> {
    let tags = tags_json(&key.tags)?;
    conn.prepare_cached(
        "INSERT INTO keys (region, key_id, account, description, state, usage, spec, \
         origin, manager, created_ms, deletion_ms, pending_window_days, policy, tags) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )
    .and_then(|mut st| {
        st.execute(params![
            key.region,
            key.id,
            key.account.as_str(),
            key.description,
            key.state.as_str(),
            key.usage.as_str(),
            key.spec.as_str(),
            key.origin.as_str(),
            key.manager.as_str(),
            key.created_ms,
            key.deletion_ms,
            key.pending_window_days,
            key.policy,
            tags,
        ])
    })
    .map_err(backend)?;
    append_backing_keys(conn, &key.id, &key.backing_keys)
}

/// Replaces the mutable fields (description, state, deletion date and window, policy,
/// tags) and appends backing keys not stored yet. `Missing` if there is no such key.
pub(crate) fn update(conn: &Connection, key: &KeyRecord) -> Result<(), StoreError> {
    let tags = tags_json(&key.tags)?;
    let changed = conn
        .prepare_cached(
            "UPDATE keys SET description = ?3, state = ?4, deletion_ms = ?5, \
             pending_window_days = ?6, policy = ?7, tags = ?8 \
             WHERE region = ?1 AND key_id = ?2",
        )
        .and_then(|mut st| {
            st.execute(params![
                key.region,
                key.id,
                key.description,
                key.state.as_str(),
                key.deletion_ms,
                key.pending_window_days,
                key.policy,
                tags,
            ])
        })
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::Missing);
    }
    append_backing_keys(conn, &key.id, &key.backing_keys)
}

/// Appends, in the given order, the backing keys whose id is not stored for `key_id`.
/// Stored ones are left exactly as they are: material is never rewritten. Because rows
/// are keyed by key id alone, a multi-Region replica naturally shares them.
fn append_backing_keys(
    conn: &Connection,
    key_id: &str,
    backing_keys: &[BackingKeyRecord],
) -> Result<(), StoreError> {
    if backing_keys.is_empty() {
        return Ok(());
    }
    let mut next: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(seq) + 1, 0) FROM backing_keys WHERE key_id = ?1")
        .and_then(|mut st| st.query_row([key_id], |row| row.get(0)))
        .map_err(reading("backing_keys"))?;
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO backing_keys (key_id, backing_id, seq, sealed, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key_id, backing_id) DO NOTHING",
        )
        .map_err(backend)?;
    for bk in backing_keys {
        let inserted = insert
            .execute(params![key_id, &bk.id[..], next, bk.sealed, bk.created_ms])
            .map_err(backend)?;
        if inserted > 0 {
            next += 1;
        }
    }
    Ok(())
}

/// The key row's columns, read as stored, before decoding.
struct RawKey {
    account: String,
    description: String,
    state: String,
    usage: String,
    spec: String,
    origin: String,
    manager: String,
    created_ms: i64,
    deletion_ms: Option<i64>,
    pending_window_days: Option<i64>,
    policy: String,
    tags: String,
}

impl RawKey {
    fn decode(
        self,
        region: &str,
        key_id: &str,
        backing_keys: Vec<BackingKeyRecord>,
    ) -> Result<KeyRecord, StoreError> {
        const T: &str = "keys";
        let pending_window_days = self
            .pending_window_days
            .map(|d| u32::try_from(d).map_err(|_| corrupt(T, format!("pending_window_days: {d}"))))
            .transpose()?;
        Ok(KeyRecord {
            id: key_id.to_owned(),
            account: account(T, &self.account)?,
            region: region.to_owned(),
            description: self.description,
            state: parse_enum(T, "state", &self.state, KeyState::parse)?,
            usage: parse_enum(T, "usage", &self.usage, KeyUsage::parse)?,
            spec: parse_enum(T, "spec", &self.spec, KeySpec::parse)?,
            origin: parse_enum(T, "origin", &self.origin, Origin::parse)?,
            manager: parse_enum(T, "manager", &self.manager, KeyManager::parse)?,
            created_ms: self.created_ms,
            deletion_ms: self.deletion_ms,
            pending_window_days,
            policy: self.policy,
            tags: parse_tags(&self.tags)?,
            backing_keys,
        })
    }
}

/// Reads a key and its backing keys (oldest first). Run it in a transaction so both
/// reads see the same snapshot.
pub(crate) fn get(
    conn: &Connection,
    region: &str,
    key_id: &str,
) -> Result<Option<KeyRecord>, StoreError> {
    let raw = conn
        .prepare_cached(
            "SELECT account, description, state, usage, spec, origin, manager, created_ms, \
             deletion_ms, pending_window_days, policy, tags \
             FROM keys WHERE region = ?1 AND key_id = ?2",
        )
        .and_then(|mut st| {
            st.query_row(params![region, key_id], |row| {
                Ok(RawKey {
                    account: row.get(0)?,
                    description: row.get(1)?,
                    state: row.get(2)?,
                    usage: row.get(3)?,
                    spec: row.get(4)?,
                    origin: row.get(5)?,
                    manager: row.get(6)?,
                    created_ms: row.get(7)?,
                    deletion_ms: row.get(8)?,
                    pending_window_days: row.get(9)?,
                    policy: row.get(10)?,
                    tags: row.get(11)?,
                })
            })
            .optional()
        })
        .map_err(reading("keys"))?;
    let Some(raw) = raw else {
        return Ok(None);
    };
    let backing_keys = backing_keys(conn, key_id)?;
    raw.decode(region, key_id, backing_keys).map(Some)
}

fn backing_keys(conn: &Connection, key_id: &str) -> Result<Vec<BackingKeyRecord>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT backing_id, sealed, created_ms FROM backing_keys \
             WHERE key_id = ?1 ORDER BY seq",
        )
        .and_then(|mut st| {
            st.query_map([key_id], |row| {
                Ok((
                    row.get::<_, Vec<u8>>(0)?,
                    row.get::<_, Vec<u8>>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(reading("backing_keys"))?;
    rows.into_iter()
        .map(|(id, sealed, created_ms)| {
            let len = id.len();
            let id = <[u8; 32]>::try_from(id)
                .map_err(|_| corrupt("backing_keys", format!("backing_id of {len} bytes")))?;
            Ok(BackingKeyRecord {
                id,
                sealed,
                created_ms,
            })
        })
        .collect()
}

/// Key ids of an account in a region, ascending (byte order), strictly after
/// `page.after`, at most `page.limit`.
pub(crate) fn list_ids(
    conn: &Connection,
    account: &str,
    region: &str,
    page: Page<'_>,
) -> Result<Vec<String>, StoreError> {
    if page.limit == 0 {
        return Ok(Vec::new());
    }
    let limit = sql_limit(page.limit);
    // Two statements rather than `(?3 IS NULL OR key_id > ?3)`, which would keep
    // SQLite from seeking the index to the bound.
    let result = match page.after {
        None => conn
            .prepare_cached(
                "SELECT key_id FROM keys WHERE account = ?1 AND region = ?2 \
                 ORDER BY key_id LIMIT ?3",
            )
            .and_then(|mut st| {
                st.query_map(params![account, region, limit], |row| row.get(0))?
                    .collect()
            }),
        Some(after) => conn
            .prepare_cached(
                "SELECT key_id FROM keys WHERE account = ?1 AND region = ?2 AND key_id > ?3 \
                 ORDER BY key_id LIMIT ?4",
            )
            .and_then(|mut st| {
                st.query_map(params![account, region, after, limit], |row| row.get(0))?
                    .collect()
            }),
    };
    result.map_err(reading("keys"))
}

/// (region, key id) of keys in PendingDeletion due at or before `now_ms`, soonest
/// first, then by region and id.
pub(crate) fn due_for_deletion(
    conn: &Connection,
    now_ms: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    conn.prepare_cached(
        "SELECT region, key_id FROM keys WHERE state = ?1 AND deletion_ms <= ?2 \
         ORDER BY deletion_ms, region, key_id",
    )
    .and_then(|mut st| {
        st.query_map(params![KeyState::PendingDeletion.as_str(), now_ms], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect()
    })
    .map_err(reading("keys"))
}

/// Destroys a key: its aliases, its row, and (unless another region still holds a
/// replica with the same id) its backing keys. The sealed material is first
/// overwritten with zeros of the same length (same length, so SQLite rewrites the
/// cell and its overflow pages in place), then the rows are deleted.
///
/// The connection runs with `PRAGMA secure_delete=ON`, so SQLite also zeroes the
/// freed cells and pages instead of leaving old bytes in free space. Each measure
/// alone removes the bytes from the file in the tests; both together are the
/// belt and braces. Old copies can
/// still sit in WAL frames until the WAL is checkpointed and truncated
/// ([`crate::SqliteStore::checkpoint`]). Run this inside one transaction.
pub(crate) fn destroy(conn: &Connection, region: &str, key_id: &str) -> Result<bool, StoreError> {
    let account: Option<String> = conn
        .prepare_cached("SELECT account FROM keys WHERE region = ?1 AND key_id = ?2")
        .and_then(|mut st| st.query_row([region, key_id], |row| row.get(0)).optional())
        .map_err(reading("keys"))?;
    let Some(account) = account else {
        return Ok(false);
    };
    let run = |sql: &str, args: &[&dyn rusqlite::ToSql]| {
        conn.prepare_cached(sql)
            .and_then(|mut st| st.execute(args))
            .map_err(backend)
    };
    run(
        "DELETE FROM aliases WHERE account = ?1 AND region = ?2 AND target_key_id = ?3",
        &[&account, &region, &key_id],
    )?;
    run(
        "DELETE FROM keys WHERE region = ?1 AND key_id = ?2",
        &[&region, &key_id],
    )?;
    let replicated: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM keys WHERE key_id = ?1)")
        .and_then(|mut st| st.query_row([key_id], |row| row.get(0)))
        .map_err(backend)?;
    if replicated {
        tracing::debug!(region, key_id, "key destroyed; material kept for replicas");
    } else {
        run(
            "UPDATE backing_keys SET sealed = zeroblob(length(sealed)) WHERE key_id = ?1",
            &[&key_id],
        )?;
        run("DELETE FROM backing_keys WHERE key_id = ?1", &[&key_id])?;
        tracing::debug!(region, key_id, "key and its material destroyed");
    }
    Ok(true)
}
