//! Grants in SQLite (schema version 4).

use keyfort_core::grant::{GrantDetails, GrantRecord};
use keyfort_core::store::{Page, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{account, sql_limit};
use crate::error::{backend, corrupt, reading};

const COLUMNS: &str = "grant_id, region, key_id, account, name, grantee, retiring, doc, created_ms";

type Raw = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    String,
    i64,
);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn record(raw: Raw) -> Result<GrantRecord, StoreError> {
    let (grant_id, region, key_id, acct, name, grantee, retiring, doc, created_ms) = raw;
    let details: GrantDetails =
        serde_json::from_str(&doc).map_err(|e| corrupt("grants", format!("doc: {e}")))?;
    Ok(GrantRecord {
        grant_id,
        region,
        key_id,
        account: account("grants", &acct)?,
        name,
        grantee_principal: grantee,
        retiring_principal: retiring,
        created_ms,
        details,
    })
}

pub(crate) fn create(conn: &Connection, g: &GrantRecord) -> Result<(), StoreError> {
    let doc =
        serde_json::to_string(&g.details).map_err(|e| corrupt("grants", format!("doc: {e}")))?;
    conn.prepare_cached(&format!(
        "INSERT INTO grants ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))
    .and_then(|mut st| {
        st.execute(params![
            g.grant_id,
            g.region,
            g.key_id,
            g.account.as_str(),
            g.name,
            g.grantee_principal,
            g.retiring_principal,
            doc,
            g.created_ms
        ])
    })
    .map_err(backend)
    .map(drop)
}

pub(crate) fn get(
    conn: &Connection,
    region: &str,
    key_id: &str,
    grant_id: &str,
) -> Result<Option<GrantRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM grants WHERE region = ?1 AND key_id = ?2 AND grant_id = ?3"
    ))
    .and_then(|mut st| {
        st.query_row(params![region, key_id, grant_id], row)
            .optional()
    })
    .map_err(reading("grants"))?
    .map(record)
    .transpose()
}

fn collect(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<GrantRecord>, StoreError> {
    let raws = conn
        .prepare_cached(sql)
        .and_then(|mut st| {
            st.query_map(args, row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(reading("grants"))?;
    raws.into_iter().map(record).collect()
}

pub(crate) fn list(
    conn: &Connection,
    region: &str,
    key_id: &str,
    page: Page<'_>,
) -> Result<Vec<GrantRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM grants WHERE region = ?1 AND key_id = ?2 AND grant_id > ?3 \
         ORDER BY grant_id LIMIT ?4"
    );
    collect(
        conn,
        &sql,
        &[
            &region,
            &key_id,
            &page.after.unwrap_or(""),
            &sql_limit(page.limit),
        ],
    )
}

pub(crate) fn list_retirable(
    conn: &Connection,
    region: &str,
    retiring: &str,
    page: Page<'_>,
) -> Result<Vec<GrantRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM grants WHERE region = ?1 AND retiring = ?2 AND grant_id > ?3 \
         ORDER BY grant_id LIMIT ?4"
    );
    collect(
        conn,
        &sql,
        &[
            &region,
            &retiring,
            &page.after.unwrap_or(""),
            &sql_limit(page.limit),
        ],
    )
}

pub(crate) fn delete(
    conn: &Connection,
    region: &str,
    key_id: &str,
    grant_id: &str,
) -> Result<bool, StoreError> {
    conn.prepare_cached("DELETE FROM grants WHERE region = ?1 AND key_id = ?2 AND grant_id = ?3")
        .and_then(|mut st| st.execute(params![region, key_id, grant_id]))
        .map_err(backend)
        .map(|n| n > 0)
}

/// Deletes every grant of a key (the key is being destroyed).
pub(crate) fn delete_all(conn: &Connection, region: &str, key_id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM grants WHERE region = ?1 AND key_id = ?2")
        .and_then(|mut st| st.execute(params![region, key_id]))
        .map_err(backend)
        .map(drop)
}
