//! [`SqliteAuditStore`]: the audit trail in its own SQLite file (`audit.db`), with its
//! own connection, so group-commit fsyncs never wait on, or hold up, key operations.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use keyfort_core::audit::{AuditRow, AuditStore, DigestRow, LookupAttribute, LookupQuery};
use keyfort_core::store::StoreError;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::error::{backend, corrupt};
use crate::schema;
use crate::sqlite::{configure, open_file};

/// Version 1 of the audit database.
const V1: &str = r#"
CREATE TABLE events (
    seq           INTEGER NOT NULL PRIMARY KEY,
    event_id      TEXT    NOT NULL,
    event_time_ms INTEGER NOT NULL,
    event_name    TEXT    NOT NULL,
    account       TEXT,
    region        TEXT    NOT NULL,
    event_source  TEXT    NOT NULL,
    read_only     INTEGER NOT NULL,
    username      TEXT,
    access_key_id TEXT,
    request_id    TEXT    NOT NULL,
    event_json    BLOB    NOT NULL,
    prev_hash     BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash          BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;
CREATE INDEX events_by_time ON events (account, region, event_time_ms);
CREATE INDEX events_by_name ON events (event_name, seq);
CREATE INDEX events_by_user ON events (username, seq);
CREATE INDEX events_by_akid ON events (access_key_id, seq);
CREATE INDEX events_by_id ON events (event_id);
CREATE INDEX events_by_source ON events (event_source, seq);

CREATE TABLE event_resources (
    seq   INTEGER NOT NULL,
    type  TEXT    NOT NULL,
    name  TEXT    NOT NULL
) STRICT;
CREATE INDEX event_resources_by_name ON event_resources (name, seq);
CREATE INDEX event_resources_by_type ON event_resources (type, seq);
CREATE INDEX event_resources_by_seq ON event_resources (seq);

CREATE TABLE digests (
    digest_seq INTEGER NOT NULL PRIMARY KEY,
    last_seq   INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    body       BLOB    NOT NULL
) STRICT;

CREATE TABLE secrets (
    name   TEXT NOT NULL PRIMARY KEY,
    sealed BLOB NOT NULL
) STRICT;
"#;

const MIGRATIONS: &[&str] = &[V1];

/// The audit trail in SQLite.
pub struct SqliteAuditStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteAuditStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteAuditStore").finish_non_exhaustive()
    }
}

const COLUMNS: &str = "seq, event_id, event_time_ms, event_name, event_source, read_only, \
                       username, access_key_id, request_id, event_json, prev_hash, hash, \
                       account, region";

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| corrupt("events", "sequence number out of range"))
}

fn hash32(v: Vec<u8>) -> rusqlite::Result<[u8; 32]> {
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| {
        rusqlite::Error::InvalidColumnType(0, "hash".into(), rusqlite::types::Type::Blob)
    })
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    let seq: i64 = r.get(0)?;
    Ok(AuditRow {
        seq: u64::try_from(seq).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, seq))?,
        event_id: r.get(1)?,
        event_time_ms: r.get(2)?,
        event_name: r.get(3)?,
        event_source: r.get(4)?,
        read_only: r.get::<_, i64>(5)? != 0,
        username: r.get(6)?,
        access_key_id: r.get(7)?,
        request_id: r.get(8)?,
        resources: Vec::new(),
        event_json: r.get(9)?,
        prev_hash: hash32(r.get(10)?)?,
        hash: hash32(r.get(11)?)?,
        account: r.get(12)?,
        region: r.get(13)?,
    })
}

impl SqliteAuditStore {
    /// Opens (creating if needed) the audit database at `path`.
    pub fn open(path: &Path) -> Result<SqliteAuditStore, StoreError> {
        let mut conn = open_file(path)?;
        schema::migrate(&mut conn, MIGRATIONS)?;
        Ok(SqliteAuditStore {
            conn: Mutex::new(conn),
        })
    }

    /// An in-memory audit database (tests).
    pub fn open_in_memory() -> Result<SqliteAuditStore, StoreError> {
        let mut conn = Connection::open_in_memory().map_err(backend)?;
        configure(&conn, false)?;
        schema::migrate(&mut conn, MIGRATIONS)?;
        Ok(SqliteAuditStore {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_resources(
        conn: &Connection,
        mut rows: Vec<AuditRow>,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let mut st = conn
            .prepare_cached("SELECT type, name FROM event_resources WHERE seq = ?1 ORDER BY rowid")
            .map_err(backend)?;
        for r in &mut rows {
            let seq = to_i64(r.seq)?;
            r.resources = st
                .query_map([seq], |x| Ok((x.get(0)?, x.get(1)?)))
                .and_then(|it| it.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(backend)?;
        }
        Ok(rows)
    }

    /// Deletes records with seq < `before_seq` (retention). The caller must have
    /// exported them and keeps the chain verifiable from the first kept record.
    pub fn prune_before(&self, before_seq: u64) -> Result<usize, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(backend)?;
        let s = to_i64(before_seq)?;
        tx.execute("DELETE FROM event_resources WHERE seq < ?1", [s])
            .map_err(backend)?;
        let n = tx
            .execute("DELETE FROM events WHERE seq < ?1", [s])
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
        Ok(n)
    }
}

impl AuditStore for SqliteAuditStore {
    fn append(&self, rows: &[AuditRow]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(backend)?;
        {
            let mut ev = tx
                .prepare_cached(&format!("INSERT INTO events ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"))
                .map_err(backend)?;
            let mut res = tx
                .prepare_cached("INSERT INTO event_resources (seq, type, name) VALUES (?1, ?2, ?3)")
                .map_err(backend)?;
            for r in rows {
                let seq = to_i64(r.seq)?;
                ev.execute(params![
                    seq,
                    r.event_id,
                    r.event_time_ms,
                    r.event_name,
                    r.event_source,
                    i64::from(r.read_only),
                    r.username,
                    r.access_key_id,
                    r.request_id,
                    r.event_json,
                    &r.prev_hash[..],
                    &r.hash[..],
                    r.account,
                    r.region,
                ])
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        StoreError::Conflict
                    }
                    other => backend(other),
                })?;
                for (t, n) in &r.resources {
                    res.execute(params![seq, t, n]).map_err(backend)?;
                }
            }
        }
        tx.commit().map_err(backend)
    }

    fn head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        let conn = self.lock();
        let r: Option<(i64, Vec<u8>)> = conn
            .query_row(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(backend)?;
        match r {
            None => Ok(None),
            Some((seq, hash)) => {
                let seq = u64::try_from(seq).map_err(|_| corrupt("events", "negative seq"))?;
                let hash = <[u8; 32]>::try_from(hash.as_slice())
                    .map_err(|_| corrupt("events", "hash length"))?;
                Ok(Some((seq, hash)))
            }
        }
    }

    fn records(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        let conn = self.lock();
        let rows = conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM events WHERE seq >= ?1 ORDER BY seq LIMIT ?2"
            ))
            .and_then(|mut st| {
                st.query_map(
                    params![
                        to_i64(from_seq).unwrap_or(i64::MAX),
                        i64::try_from(limit).unwrap_or(i64::MAX)
                    ],
                    row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(backend)?;
        Self::with_resources(&conn, rows)
    }

    fn lookup(&self, q: &LookupQuery) -> Result<Vec<AuditRow>, StoreError> {
        let mut sql =
            format!("SELECT {COLUMNS} FROM events e WHERE e.account = ? AND e.region = ?");
        let mut args: Vec<Value> = vec![
            Value::Text(q.account.clone()),
            Value::Text(q.region.clone()),
        ];
        if let Some(s) = q.start_ms {
            sql.push_str(" AND e.event_time_ms >= ?");
            args.push(Value::Integer(s));
        }
        if let Some(end) = q.end_ms {
            sql.push_str(" AND e.event_time_ms <= ?");
            args.push(Value::Integer(end));
        }
        if let Some(b) = q.before_seq {
            sql.push_str(" AND e.seq < ?");
            args.push(Value::Integer(to_i64(b)?));
        }
        match &q.attribute {
            None => {}
            Some(LookupAttribute::EventName(v)) => {
                sql.push_str(" AND e.event_name = ?");
                args.push(Value::Text(v.clone()));
            }
            Some(LookupAttribute::Username(v)) => {
                sql.push_str(" AND e.username = ?");
                args.push(Value::Text(v.clone()));
            }
            Some(LookupAttribute::AccessKeyId(v)) => {
                sql.push_str(" AND e.access_key_id = ?");
                args.push(Value::Text(v.clone()));
            }
            Some(LookupAttribute::EventId(v)) => {
                sql.push_str(" AND e.event_id = ?");
                args.push(Value::Text(v.clone()));
            }
            Some(LookupAttribute::EventSource(v)) => {
                sql.push_str(" AND e.event_source = ?");
                args.push(Value::Text(v.clone()));
            }
            Some(LookupAttribute::ReadOnly(v)) => {
                sql.push_str(" AND e.read_only = ?");
                args.push(Value::Integer(i64::from(*v)));
            }
            Some(LookupAttribute::ResourceName(v)) => {
                sql.push_str(" AND e.seq IN (SELECT seq FROM event_resources WHERE name = ?)");
                args.push(Value::Text(v.clone()));
            }
            Some(LookupAttribute::ResourceType(v)) => {
                sql.push_str(" AND e.seq IN (SELECT seq FROM event_resources WHERE type = ?)");
                args.push(Value::Text(v.clone()));
            }
        }
        sql.push_str(" ORDER BY e.seq DESC LIMIT ?");
        args.push(Value::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX)));
        let conn = self.lock();
        let rows = conn
            .prepare(&sql)
            .and_then(|mut st| {
                st.query_map(params_from_iter(args.iter()), row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(backend)?;
        Self::with_resources(&conn, rows)
    }

    fn append_digest(&self, d: &DigestRow) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO digests (digest_seq, last_seq, created_ms, body) VALUES (?1, ?2, ?3, ?4)",
            params![
                to_i64(d.digest_seq)?,
                to_i64(d.last_seq)?,
                d.created_ms,
                d.body
            ],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict
            }
            other => backend(other),
        })?;
        Ok(())
    }

    fn digests(&self) -> Result<Vec<DigestRow>, StoreError> {
        let conn = self.lock();
        conn.prepare_cached(
            "SELECT digest_seq, last_seq, created_ms, body FROM digests ORDER BY digest_seq",
        )
        .and_then(|mut st| {
            st.query_map([], |r| {
                let a: i64 = r.get(0)?;
                let b: i64 = r.get(1)?;
                Ok(DigestRow {
                    digest_seq: u64::try_from(a)
                        .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, a))?,
                    last_seq: u64::try_from(b)
                        .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(1, b))?,
                    created_ms: r.get(2)?,
                    body: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(backend)
    }

    fn get_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let conn = self.lock();
        conn.query_row("SELECT sealed FROM secrets WHERE name = ?1", [name], |r| {
            r.get(0)
        })
        .optional()
        .map_err(backend)
    }

    fn put_secret(&self, name: &str, sealed: &[u8]) -> Result<(), StoreError> {
        let conn = self.lock();
        conn.execute(
            "INSERT INTO secrets (name, sealed) VALUES (?1, ?2)",
            params![name, sealed],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict
            }
            other => backend(other),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(seq: u64, name: &str, res: &str) -> AuditRow {
        AuditRow {
            seq,
            event_id: format!("ev-{seq}"),
            event_time_ms: 1_000 + seq as i64,
            event_name: name.into(),
            account: Some("111122223333".into()),
            region: "us-east-1".into(),
            event_source: "kms.amazonaws.com".into(),
            read_only: name.starts_with("Describe"),
            username: Some("root".into()),
            access_key_id: Some("AKIA".into()),
            request_id: format!("req-{seq}"),
            resources: vec![("AWS::KMS::Key".into(), res.into())],
            event_json: format!("{{\"seq\":{seq}}}").into_bytes(),
            prev_hash: [seq as u8; 32],
            hash: [seq as u8 + 1; 32],
        }
    }

    #[test]
    fn append_lookup_and_read_back() {
        let s = SqliteAuditStore::open_in_memory().unwrap();
        assert_eq!(s.head().unwrap(), None);
        s.append(&[
            r(0, "CreateKey", "k1"),
            r(1, "Encrypt", "k1"),
            r(2, "DescribeKey", "k2"),
        ])
        .unwrap();
        assert_eq!(s.head().unwrap(), Some((2, [3; 32])));
        assert!(matches!(
            s.append(&[r(2, "Encrypt", "k1")]),
            Err(StoreError::Conflict)
        ));
        // A failed batch leaves nothing behind.
        assert!(matches!(
            s.append(&[r(3, "Encrypt", "k1"), r(2, "Encrypt", "k1")]),
            Err(StoreError::Conflict)
        ));
        assert_eq!(s.head().unwrap(), Some((2, [3; 32])));
        let all = s.records(0, 10).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[1], r(1, "Encrypt", "k1"));
        let q = |attribute| LookupQuery {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            start_ms: None,
            end_ms: None,
            attribute,
            before_seq: None,
            limit: 10,
        };
        let by_res = s
            .lookup(&q(Some(LookupAttribute::ResourceName("k1".into()))))
            .unwrap();
        assert_eq!(by_res.iter().map(|x| x.seq).collect::<Vec<_>>(), [1, 0]);
        let by_name = s
            .lookup(&q(Some(LookupAttribute::EventName("DescribeKey".into()))))
            .unwrap();
        assert_eq!(by_name.len(), 1);
        let ro = s.lookup(&q(Some(LookupAttribute::ReadOnly(true)))).unwrap();
        assert_eq!(ro[0].seq, 2);
        let page = s
            .lookup(&LookupQuery {
                before_seq: Some(2),
                limit: 1,
                ..q(None)
            })
            .unwrap();
        assert_eq!(page[0].seq, 1);
        let timed = s
            .lookup(&LookupQuery {
                start_ms: Some(1_001),
                end_ms: Some(1_001),
                ..q(None)
            })
            .unwrap();
        assert_eq!(timed.len(), 1);
        let other = s.lookup(&LookupQuery { region: "eu-west-1".into(), ..q(None) }).unwrap();
        assert!(other.is_empty(), "events are per account and region");
        assert_eq!(s.prune_before(1).unwrap(), 1);
        assert_eq!(s.records(0, 10).unwrap().len(), 2);
    }

    #[test]
    fn digests_and_secrets() {
        let s = SqliteAuditStore::open_in_memory().unwrap();
        let d = DigestRow {
            digest_seq: 0,
            last_seq: 5,
            created_ms: 9,
            body: b"x".to_vec(),
        };
        s.append_digest(&d).unwrap();
        assert!(matches!(s.append_digest(&d), Err(StoreError::Conflict)));
        assert_eq!(s.digests().unwrap(), vec![d]);
        assert_eq!(s.get_secret("k").unwrap(), None);
        s.put_secret("k", b"sealed").unwrap();
        assert!(matches!(
            s.put_secret("k", b"other"),
            Err(StoreError::Conflict)
        ));
        assert_eq!(s.get_secret("k").unwrap(), Some(b"sealed".to_vec()));
    }
}
