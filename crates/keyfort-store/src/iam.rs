//! IAM entities and IAM users' access keys in SQLite (schema version 3).

use keyfort_core::iam::{IamEntity, IamKind};
use keyfort_core::model::{AccessKeyRecord, AccessKeyStatus, AccountId};
use keyfort_core::store::{Page, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{account, parse_status, sql_limit, status_str};
use crate::error::{backend, corrupt, reading};

type RawEntity = (String, String, String, String, i64);

fn entity(account: &AccountId, kind: IamKind, raw: RawEntity) -> IamEntity {
    let (name, id, doc, _, created_ms) = raw;
    IamEntity {
        account: account.clone(),
        kind,
        name,
        id,
        doc,
        created_ms,
    }
}

fn entity_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntity> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

const ENTITY_COLUMNS: &str = "name, id, doc, kind, created_ms";

pub(crate) fn create(conn: &Connection, e: &IamEntity) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO iam_entities (account, kind, name_key, name, id, doc, created_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .and_then(|mut st| {
        st.execute(params![
            e.account.as_str(),
            e.kind.as_str(),
            e.name_key(),
            e.name,
            e.id,
            e.doc,
            e.created_ms
        ])
    })
    .map_err(backend)
    .map(drop)
}

pub(crate) fn update(conn: &Connection, e: &IamEntity) -> Result<(), StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE iam_entities SET doc = ?4 WHERE account = ?1 AND kind = ?2 AND name_key = ?3",
        )
        .and_then(|mut st| {
            st.execute(params![
                e.account.as_str(),
                e.kind.as_str(),
                e.name_key(),
                e.doc
            ])
        })
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::Missing);
    }
    Ok(())
}

pub(crate) fn get(
    conn: &Connection,
    account: &AccountId,
    kind: IamKind,
    name: &str,
) -> Result<Option<IamEntity>, StoreError> {
    let raw = conn
        .prepare_cached(&format!(
            "SELECT {ENTITY_COLUMNS} FROM iam_entities \
             WHERE account = ?1 AND kind = ?2 AND name_key = ?3"
        ))
        .and_then(|mut st| {
            st.query_row(
                params![account.as_str(), kind.as_str(), name.to_ascii_lowercase()],
                entity_row,
            )
            .optional()
        })
        .map_err(reading("iam_entities"))?;
    Ok(raw.map(|r| entity(account, kind, r)))
}

pub(crate) fn delete(
    conn: &Connection,
    account: &AccountId,
    kind: IamKind,
    name: &str,
) -> Result<bool, StoreError> {
    conn.prepare_cached(
        "DELETE FROM iam_entities WHERE account = ?1 AND kind = ?2 AND name_key = ?3",
    )
    .and_then(|mut st| {
        st.execute(params![
            account.as_str(),
            kind.as_str(),
            name.to_ascii_lowercase()
        ])
    })
    .map_err(backend)
    .map(|n| n > 0)
}

pub(crate) fn list(
    conn: &Connection,
    account: &AccountId,
    kind: IamKind,
    page: Page<'_>,
) -> Result<Vec<IamEntity>, StoreError> {
    let rows: Vec<RawEntity> = conn
        .prepare_cached(&format!(
            "SELECT {ENTITY_COLUMNS} FROM iam_entities \
             WHERE account = ?1 AND kind = ?2 AND name_key > ?3 ORDER BY name_key LIMIT ?4"
        ))
        .and_then(|mut st| {
            st.query_map(
                params![
                    account.as_str(),
                    kind.as_str(),
                    page.after.unwrap_or(""),
                    sql_limit(page.limit)
                ],
                entity_row,
            )?
            .collect()
        })
        .map_err(reading("iam_entities"))?;
    rows.into_iter()
        .map(|r| {
            if r.3 != kind.as_str() {
                return Err(corrupt("iam_entities", "kind mismatch"));
            }
            Ok(entity(account, kind, r))
        })
        .collect()
}

pub(crate) fn list_access_keys(
    conn: &Connection,
    acct: &AccountId,
    principal_arn: &str,
) -> Result<Vec<AccessKeyRecord>, StoreError> {
    type Raw = (String, String, Vec<u8>, String, i64);
    let rows: Vec<Raw> = conn
        .prepare_cached(
            "SELECT access_key_id, account, sealed_secret, status, created_ms FROM access_keys \
             WHERE account = ?1 AND principal_arn = ?2 ORDER BY created_ms, access_key_id",
        )
        .and_then(|mut st| {
            st.query_map(params![acct.as_str(), principal_arn], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })?
            .collect()
        })
        .map_err(reading("access_keys"))?;
    rows.into_iter()
        .map(|(id, a, sealed_secret, status, created_ms)| {
            Ok(AccessKeyRecord {
                access_key_id: id,
                account: account("access_keys", &a)?,
                principal_arn: principal_arn.to_owned(),
                sealed_secret,
                status: parse_status(&status)?,
                created_ms,
            })
        })
        .collect()
}

pub(crate) fn set_access_key_status(
    conn: &Connection,
    id: &str,
    status: AccessKeyStatus,
) -> Result<(), StoreError> {
    let n = conn
        .prepare_cached("UPDATE access_keys SET status = ?2 WHERE access_key_id = ?1")
        .and_then(|mut st| st.execute(params![id, status_str(status)]))
        .map_err(backend)?;
    if n == 0 {
        return Err(StoreError::Missing);
    }
    Ok(())
}

pub(crate) fn delete_access_key(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    // Overwrite the sealed secret before the row goes (secure_delete zeroes the page).
    conn.prepare_cached(
        "UPDATE access_keys SET sealed_secret = zeroblob(length(sealed_secret)) \
         WHERE access_key_id = ?1",
    )
    .and_then(|mut st| st.execute([id]))
    .map_err(backend)?;
    conn.prepare_cached("DELETE FROM access_keys WHERE access_key_id = ?1")
        .and_then(|mut st| st.execute([id]))
        .map_err(backend)
        .map(|n| n > 0)
}
