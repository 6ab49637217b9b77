//! Statements on `keys` and `backing_keys`. Each function runs on whatever the caller
//! passes: a plain connection or an open transaction (`Transaction` derefs to
//! `Connection`), so the caller decides what is atomic.

use keyfort_core::model::{
    BackingKeyRecord, ExpirationModel, ImportState, ImportedMaterial, KeyManager, KeyRecord,
    KeySpec, KeyState, KeyUsage, Origin, RotationType,
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
         origin, manager, created_ms, deletion_ms, pending_window_days, policy, tags, \
         rotation_period_days, next_rotation_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
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
            key.rotation_period_days,
            key.next_rotation_ms,
        ])
    })
    .map_err(backend)?;
    append_backing_keys(conn, &key.id, &key.backing_keys)
}

/// Replaces the mutable fields (description, state, deletion date and window, policy,
/// tags, rotation schedule), updates imported material and appends backing keys not
/// stored yet. `Missing` if there is no such key.
pub(crate) fn update(conn: &Connection, key: &KeyRecord) -> Result<(), StoreError> {
    let tags = tags_json(&key.tags)?;
    let changed = conn
        .prepare_cached(
            "UPDATE keys SET description = ?3, state = ?4, deletion_ms = ?5, \
             pending_window_days = ?6, policy = ?7, tags = ?8, rotation_period_days = ?9, \
             next_rotation_ms = ?10 \
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
                key.rotation_period_days,
                key.next_rotation_ms,
            ])
        })
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::Missing);
    }
    update_imported(conn, &key.id, &key.backing_keys)?;
    append_backing_keys(conn, &key.id, &key.backing_keys)
}

/// The id of a key's current backing key as stored: the newest not pending rotation.
pub(crate) fn current_backing_id(
    conn: &Connection,
    key_id: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    conn.prepare_cached(
        "SELECT backing_id FROM backing_keys WHERE key_id = ?1 AND pending_rotation = 0 \
         ORDER BY seq DESC LIMIT 1",
    )
    .and_then(|mut st| st.query_row([key_id], |row| row.get(0)).optional())
    .map_err(reading("backing_keys"))
}

/// Brings stored imported material in line with the record: its import fields, and
/// its sealed bytes when they changed. Material that is being removed (the record's
/// sealed bytes are empty) is zero-filled in place first, so the old bytes do not
/// survive in the page. Generated material is never touched.
fn update_imported(
    conn: &Connection,
    key_id: &str,
    backing_keys: &[BackingKeyRecord],
) -> Result<(), StoreError> {
    for bk in backing_keys {
        let Some(imp) = &bk.import else { continue };
        if bk.sealed.is_empty() {
            conn.prepare_cached(
                "UPDATE backing_keys SET sealed = zeroblob(length(sealed)) \
                 WHERE key_id = ?1 AND backing_id = ?2 AND length(sealed) > 0",
            )
            .and_then(|mut st| st.execute(params![key_id, &bk.id[..]]))
            .map_err(backend)?;
        }
        conn.prepare_cached(
            "UPDATE backing_keys SET sealed = ?3, rotation_type = ?4, rotated_ms = ?5, \
             import_state = ?6, import_expiration = ?7, import_valid_to_ms = ?8, \
             import_description = ?9, pending_rotation = ?10 \
             WHERE key_id = ?1 AND backing_id = ?2 AND import_state IS NOT NULL",
        )
        .and_then(|mut st| {
            st.execute(params![
                key_id,
                &bk.id[..],
                bk.sealed,
                bk.rotation_type.map(RotationType::as_str),
                bk.rotated_ms,
                imp.state.as_str(),
                imp.expiration.as_str(),
                imp.valid_to_ms,
                imp.description,
                imp.pending_rotation,
            ])
        })
        .map_err(backend)?;
    }
    Ok(())
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
            "INSERT INTO backing_keys (key_id, backing_id, seq, sealed, created_ms, \
             rotation_type, rotated_ms, import_state, import_expiration, import_valid_to_ms, \
             import_description, pending_rotation) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
             ON CONFLICT (key_id, backing_id) DO NOTHING",
        )
        .map_err(backend)?;
    for bk in backing_keys {
        let imp = bk.import.as_ref();
        let inserted = insert
            .execute(params![
                key_id,
                &bk.id[..],
                next,
                bk.sealed,
                bk.created_ms,
                bk.rotation_type.map(RotationType::as_str),
                bk.rotated_ms,
                imp.map(|i| i.state.as_str()),
                imp.map(|i| i.expiration.as_str()),
                imp.and_then(|i| i.valid_to_ms),
                imp.map(|i| i.description.as_str()),
                imp.is_some_and(|i| i.pending_rotation),
            ])
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
    rotation_period_days: Option<i64>,
    next_rotation_ms: Option<i64>,
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
            rotation_period_days: self
                .rotation_period_days
                .map(|d| {
                    u32::try_from(d).map_err(|_| corrupt(T, format!("rotation_period_days: {d}")))
                })
                .transpose()?,
            next_rotation_ms: self.next_rotation_ms,
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
             deletion_ms, pending_window_days, policy, tags, rotation_period_days, \
             next_rotation_ms \
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
                    rotation_period_days: row.get(12)?,
                    next_rotation_ms: row.get(13)?,
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

/// A backing key row's columns, read as stored, before decoding.
struct RawBacking {
    id: Vec<u8>,
    sealed: Vec<u8>,
    created_ms: i64,
    rotation_type: Option<String>,
    rotated_ms: Option<i64>,
    import_state: Option<String>,
    import_expiration: Option<String>,
    import_valid_to_ms: Option<i64>,
    import_description: Option<String>,
    pending_rotation: bool,
}

impl RawBacking {
    fn decode(self) -> Result<BackingKeyRecord, StoreError> {
        const T: &str = "backing_keys";
        let len = self.id.len();
        let id = <[u8; 32]>::try_from(self.id)
            .map_err(|_| corrupt(T, format!("backing_id of {len} bytes")))?;
        let rotation_type = self
            .rotation_type
            .map(|r| parse_enum(T, "rotation_type", &r, RotationType::parse))
            .transpose()?;
        let import = match self.import_state {
            None => None,
            Some(state) => Some(ImportedMaterial {
                state: parse_enum(T, "import_state", &state, ImportState::parse)?,
                expiration: parse_enum(
                    T,
                    "import_expiration",
                    self.import_expiration.as_deref().unwrap_or_default(),
                    ExpirationModel::parse,
                )?,
                valid_to_ms: self.import_valid_to_ms,
                description: self.import_description.unwrap_or_default(),
                pending_rotation: self.pending_rotation,
            }),
        };
        Ok(BackingKeyRecord {
            id,
            sealed: self.sealed,
            created_ms: self.created_ms,
            rotation_type,
            rotated_ms: self.rotated_ms,
            import,
        })
    }
}

fn backing_keys(conn: &Connection, key_id: &str) -> Result<Vec<BackingKeyRecord>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT backing_id, sealed, created_ms, rotation_type, rotated_ms, import_state, \
             import_expiration, import_valid_to_ms, import_description, pending_rotation \
             FROM backing_keys WHERE key_id = ?1 ORDER BY seq",
        )
        .and_then(|mut st| {
            st.query_map([key_id], |row| {
                Ok(RawBacking {
                    id: row.get(0)?,
                    sealed: row.get(1)?,
                    created_ms: row.get(2)?,
                    rotation_type: row.get(3)?,
                    rotated_ms: row.get(4)?,
                    import_state: row.get(5)?,
                    import_expiration: row.get(6)?,
                    import_valid_to_ms: row.get(7)?,
                    import_description: row.get(8)?,
                    pending_rotation: row.get(9)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(reading("backing_keys"))?;
    rows.into_iter().map(RawBacking::decode).collect()
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

/// (region, key id) of Enabled keys with automatic rotation due at or before `now_ms`,
/// soonest first.
pub(crate) fn due_for_rotation(
    conn: &Connection,
    now_ms: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    conn.prepare_cached(
        "SELECT region, key_id FROM keys WHERE next_rotation_ms <= ?1 AND state = ?2 \
         AND rotation_period_days IS NOT NULL ORDER BY next_rotation_ms, region, key_id",
    )
    .and_then(|mut st| {
        st.query_map(params![now_ms, KeyState::Enabled.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect()
    })
    .map_err(reading("keys"))
}

/// (region, key id) of keys holding imported material whose ValidTo has passed.
pub(crate) fn with_expired_material(
    conn: &Connection,
    now_ms: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    conn.prepare_cached(
        "SELECT DISTINCT k.region, k.key_id FROM backing_keys b \
         JOIN keys k ON k.key_id = b.key_id \
         WHERE b.import_state = 'IMPORTED' AND b.import_valid_to_ms <= ?1 \
         ORDER BY k.region, k.key_id",
    )
    .and_then(|mut st| {
        st.query_map(params![now_ms], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect()
    })
    .map_err(reading("backing_keys"))
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
    crate::grants::delete_all(conn, region, key_id)?;
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
