//! [`SqliteAuditStore`]: the audit trail in its own SQLite file (`audit.db`), with its
//! own connection, so group-commit fsyncs never wait on, or hold up, key operations.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use keyfort_core::audit::{AuditRow, AuditStore, DigestRow, LookupAttribute, LookupQuery};
use keyfort_core::store::StoreError;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::error::{backend, corrupt};
use crate::schema;
use crate::sqlite::{configure, open_file, open_file_paged};

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
    resources     TEXT    NOT NULL,
    prev_hash     BLOB    NOT NULL CHECK (length(prev_hash) = 32),
    hash          BLOB    NOT NULL CHECK (length(hash) = 32)
) STRICT;
CREATE INDEX events_by_time ON events (account, region, event_time_ms);
CREATE INDEX events_by_name ON events (event_name, seq);
CREATE INDEX events_by_user ON events (username, seq);
CREATE INDEX events_by_akid ON events (access_key_id, seq);
CREATE INDEX events_by_id ON events (event_id);

-- The resources of each event, for lookups by resource name or type. One b-tree keyed
-- (name, seq): an event's rows land next to the previous events on the same key.
-- Every index costs a page write per group commit, so the trail keeps only the ones
-- LookupEvents needs; event ids are time-ordered (UUIDv7) so their index appends.
CREATE TABLE event_resources (
    name  TEXT    NOT NULL,
    seq   INTEGER NOT NULL,
    type  TEXT    NOT NULL,
    PRIMARY KEY (name, seq)
) STRICT, WITHOUT ROWID;

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

/// Version 2: fewer index entries per record. Every audit record is inserted once into
/// every b-tree of `events`, and in profiles that insert was the largest single cost
/// of the trail (each index about a sixth of it). LookupEvents by EventName, Username
/// or AccessKeyId now walks the account's events newest first (by seq, or through the
/// time index when the request has a time range) and filters; AWS limits
/// LookupEvents to 2 requests per second per account, and keyfort's answers stay
/// exact, only slower for rare values in very large trails.
const V2: &str = r#"
DROP INDEX events_by_name;
DROP INDEX events_by_user;
DROP INDEX events_by_akid;
"#;

const MIGRATIONS: &[&str] = &[V1, V2];

/// The page size of a new audit database. The trail only appends, in large batches
/// (one transaction per flush, about a second of records), and reads rarely: with
/// SQLite's default 4 KiB pages a flush wrote each page to the WAL with two system
/// calls and copied it back with two more at the checkpoint, about 2.5 system calls
/// per record under load; 64 KiB pages make that a few per flush. An existing
/// database keeps the page size it was made with.
const AUDIT_PAGE_SIZE: u32 = 65536;
/// The audit connection's page cache, negative: KiB (SQLite's convention), enough
/// for the b-tree pages a flush touches without reading them back.
const AUDIT_CACHE_KIB: i64 = -16384;

/// The audit trail in SQLite.
pub struct SqliteAuditStore {
    conn: Mutex<Connection>,
    /// A second connection that checkpoints the WAL in the background, so the
    /// appending connection (with automatic checkpoints off) never does it inside a
    /// group commit. None for in-memory databases.
    checkpointer: Mutex<Option<Connection>>,
    /// The append-only journal (`audit.journal`) that makes a group commit durable
    /// with one write and one fsync; rows move from it into the database in large
    /// batches in the background. None for in-memory databases.
    journal: Mutex<Option<Journal>>,
    /// Serializes flushes (a flush rotates the journal, then writes the database
    /// without holding the journal lock, so appends go on meanwhile).
    flushing: Mutex<()>,
    /// Rows durable in the journal but not yet in the database.
    pending: Mutex<Vec<AuditRow>>,
    /// The newest durable row's (seq, hash), once known.
    mem_head: Mutex<Option<(u64, [u8; 32])>>,
    /// Opened beside a running server (`keyfort audit ...`): the journal belongs to
    /// the server, so it is read, never replayed into the database or truncated.
    reader: bool,
}

impl std::fmt::Debug for SqliteAuditStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteAuditStore").finish_non_exhaustive()
    }
}

const COLUMNS: &str = "seq, event_id, event_time_ms, event_name, event_source, read_only, \
                       username, access_key_id, request_id, event_json, prev_hash, hash, \
                       account, region, resources";

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
    .map(|mut row| {
        let text: String = r.get(14).unwrap_or_default();
        row.resources = serde_json::from_str(&text).unwrap_or_default();
        row
    })
}

fn insert_rows(conn: &mut Connection, rows: &[AuditRow]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(backend)?;
    {
        let mut ev = tx
            .prepare_cached(&format!("INSERT INTO events ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"))
            .map_err(backend)?;
        let mut res = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO event_resources (name, seq, type) VALUES (?1, ?2, ?3)",
            )
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
                serde_json::to_string(&r.resources)
                    .map_err(|e| corrupt("events", e.to_string()))?,
            ])
            .map_err(backend)?;
            for (t, n) in &r.resources {
                res.execute(params![n, seq, t]).map_err(backend)?;
            }
        }
    }
    tx.commit().map_err(backend)
}

fn db_head(conn: &Connection) -> Result<Option<(u64, [u8; 32])>, StoreError> {
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

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Two journal files used in turn: appends go to the active one; a flush switches to
/// the other one, moves the rows into the database, then marks the old one free.
///
/// The files are preallocated (zeros written and made durable ahead of time) and
/// reused from offset 0, never truncated: an `fdatasync` of a write inside the
/// allocated size has no file size to update, so a group commit costs one device
/// write instead of two (data, then inode). Each frame carries a checksum and the
/// frames of one use of a file have consecutive seqs, so recovery stops at the end of
/// the current use (a zero length, a torn frame, or an older use's frame) and never
/// mistakes leftovers for records; leftovers are all in the database anyway (a file
/// is freed only after its rows were committed there).
struct Journal {
    files: [Arc<File>; 2],
    active: usize,
    /// Where the next frame goes, per file.
    offset: [u64; 2],
    /// Bytes made durable (zeros or frames) per file: writes below this need no
    /// size change.
    allocated: [u64; 2],
    /// Writes per file, counted: a sync makes the writes counted before it began
    /// durable. Counters rather than a dirty flag because syncs may overlap (one
    /// group commit's fsync while the next batch is written): a second sync must
    /// not skip the fsync because the first one already took a flag while its own
    /// fsync has not returned.
    written: [u64; 2],
    /// `written` as of the start of the last sync that succeeded, per file.
    synced: [u64; 2],
}

/// What a journal file is preallocated to at first, and its least growth step.
const JOURNAL_INITIAL: u64 = 1 << 20;
/// The size of one zero write while preallocating.
const ZEROS: usize = 1 << 16;

impl Journal {
    /// Makes sure `file` has `need` bytes allocated, writing zeros (in the page cache;
    /// the next sync makes them durable with the frames). Growth doubles, so a
    /// steady load stops growing the files after a few flush cycles.
    fn reserve(&mut self, file: usize, need: u64) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let have = self.allocated[file];
        if need <= have {
            return Ok(());
        }
        let target = need.max(have.saturating_mul(2)).max(JOURNAL_INITIAL);
        let zeros = [0u8; ZEROS];
        let mut at = have;
        while at < target {
            let n = usize::try_from(target - at).map_or(ZEROS, |n| n.min(ZEROS));
            self.files[file].write_all_at(&zeros[..n], at)?;
            at += n as u64;
        }
        self.allocated[file] = target;
        self.written[file] += 1;
        Ok(())
    }
}

/// The paths of the two journal files of an audit database.
fn journal_paths(path: &Path) -> [std::path::PathBuf; 2] {
    [
        path.with_extension("journal-0"),
        path.with_extension("journal-1"),
    ]
}

/// Rows of both journal files beyond `head`, in seq order.
fn read_journals(path: &Path, head: u64) -> Result<Vec<AuditRow>, StoreError> {
    let mut rows = Vec::new();
    for p in journal_paths(path) {
        if let Ok(mut f) = File::open(&p) {
            rows.extend(read_journal(&mut f)?.into_iter().filter(|r| r.seq > head));
        }
    }
    rows.sort_by_key(|r| r.seq);
    rows.dedup_by_key(|r| r.seq);
    Ok(rows)
}

/// CRC-32 (IEEE) of a frame body: catches torn and stale frames in the journal.
/// Tampering is the hash chain's business, not this checksum's.
fn crc32(data: &[u8]) -> u32 {
    // Slicing-by-8: eight bytes per step through eight derived tables (table k
    // advances a byte's contribution by k more zero bytes). The byte-at-a-time loop
    // was about 3 % of the server's CPU under audited load.
    const TABLES: [[u32; 256]; 8] = {
        let mut t = [[0u32; 256]; 8];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[0][i] = c;
            i += 1;
        }
        let mut i = 0;
        while i < 256 {
            let mut k = 1;
            while k < 8 {
                let prev = t[k - 1][i];
                t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
                k += 1;
            }
            i += 1;
        }
        t
    };
    let byte = |c: u32, b: u8| TABLES[0][((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
    let mut c = !0u32;
    let mut chunks = data.chunks_exact(8);
    for w in &mut chunks {
        let lo = c ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        let hi = u32::from_le_bytes([w[4], w[5], w[6], w[7]]);
        c = TABLES[7][(lo & 0xFF) as usize]
            ^ TABLES[6][((lo >> 8) & 0xFF) as usize]
            ^ TABLES[5][((lo >> 16) & 0xFF) as usize]
            ^ TABLES[4][(lo >> 24) as usize]
            ^ TABLES[3][(hi & 0xFF) as usize]
            ^ TABLES[2][((hi >> 8) & 0xFF) as usize]
            ^ TABLES[1][((hi >> 16) & 0xFF) as usize]
            ^ TABLES[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        c = byte(c, b);
    }
    !c
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(&(b.len() as u32).to_be_bytes());
    buf.extend_from_slice(b);
}

fn put_opt(buf: &mut Vec<u8>, s: &Option<String>) {
    match s {
        None => buf.push(0),
        Some(s) => {
            buf.push(1);
            put_bytes(buf, s.as_bytes());
        }
    }
}

/// Encodes a row as a journal frame body (binary; the event bytes verbatim).
fn encode_row(buf: &mut Vec<u8>, r: &AuditRow) {
    buf.extend_from_slice(&r.seq.to_be_bytes());
    buf.extend_from_slice(&r.event_time_ms.to_be_bytes());
    buf.push(u8::from(r.read_only));
    buf.extend_from_slice(&r.prev_hash);
    buf.extend_from_slice(&r.hash);
    for s in [
        &r.event_id,
        &r.event_name,
        &r.region,
        &r.event_source,
        &r.request_id,
    ] {
        put_bytes(buf, s.as_bytes());
    }
    put_opt(buf, &r.account);
    put_opt(buf, &r.username);
    put_opt(buf, &r.access_key_id);
    buf.extend_from_slice(&(r.resources.len() as u32).to_be_bytes());
    for (t, n) in &r.resources {
        put_bytes(buf, t.as_bytes());
        put_bytes(buf, n.as_bytes());
    }
    put_bytes(buf, &r.event_json);
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
    }
    fn bytes(&mut self) -> Option<Vec<u8>> {
        let n = self.u32()? as usize;
        self.take(n).map(<[u8]>::to_vec)
    }
    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?).ok()
    }
    fn opt(&mut self) -> Option<Option<String>> {
        match self.take(1)?[0] {
            0 => Some(None),
            _ => Some(Some(self.string()?)),
        }
    }
    fn hash(&mut self) -> Option<[u8; 32]> {
        self.take(32).and_then(|b| b.try_into().ok())
    }
}

fn decode_row(frame: &[u8]) -> Option<AuditRow> {
    let mut r = Reader(frame);
    let seq = r.u64()?;
    let event_time_ms = r.u64()? as i64;
    let read_only = r.take(1)?[0] != 0;
    let prev_hash = r.hash()?;
    let hash = r.hash()?;
    let event_id = r.string()?;
    let event_name = r.string()?;
    let region = r.string()?;
    let event_source = r.string()?;
    let request_id = r.string()?;
    let account = r.opt()?;
    let username = r.opt()?;
    let access_key_id = r.opt()?;
    let n = r.u32()? as usize;
    let mut resources = Vec::with_capacity(n.min(16));
    for _ in 0..n {
        resources.push((r.string()?, r.string()?));
    }
    let event_json = r.bytes()?;
    r.0.is_empty().then_some(AuditRow {
        seq,
        event_id,
        event_time_ms,
        event_name,
        account,
        region,
        event_source,
        read_only,
        username,
        access_key_id,
        request_id,
        resources,
        event_json,
        prev_hash,
        hash,
    })
}

/// Reads the journal's frames (u32 BE length, u32 BE CRC-32 of the body, then a
/// binary [`AuditRow`]) up to the end of the file's current use: a zero length (the
/// preallocated tail), a frame that is incomplete, fails its checksum or does not
/// decode (a crash can only tear the last frame, and a torn frame was never
/// acknowledged: its fsync had not returned), or a frame whose seq does not follow the
/// previous one (left over from an earlier use of the file).
fn read_journal(file: &mut File) -> Result<Vec<AuditRow>, StoreError> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.read_to_end(&mut bytes).map_err(io)?;
    let mut rows: Vec<AuditRow> = Vec::new();
    let mut at = 0usize;
    while let Some(head) = bytes.get(at..at + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        if len == 0 {
            break;
        }
        let Some(frame) = bytes.get(at + 8..at + 8 + len) else {
            break;
        };
        if crc32(frame) != crc {
            break;
        }
        let Some(r) = decode_row(frame) else {
            break;
        };
        if rows.last().is_some_and(|p| p.seq + 1 != r.seq) {
            break;
        }
        rows.push(r);
        at += 8 + len;
    }
    Ok(rows)
}

impl SqliteAuditStore {
    /// Opens (creating if needed) the audit database at `path`.
    pub fn open(path: &Path) -> Result<SqliteAuditStore, StoreError> {
        let mut conn = open_file_paged(path, Some(AUDIT_PAGE_SIZE))?;
        conn.pragma_update(None, "cache_size", AUDIT_CACHE_KIB)
            .map_err(backend)?;
        schema::migrate(&mut conn, MIGRATIONS)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(backend)?;
        let checkpointer = open_file(path)?;
        // Recovery: rows the journals hold beyond the database's head go in now.
        let head = db_head(&conn)?.map_or(0, |(s, _)| s);
        let replay = read_journals(path, head)?;
        if !replay.is_empty() {
            tracing::info!(
                records = replay.len(),
                "audit: replaying the journal into the database"
            );
            insert_rows(&mut conn, &replay)?;
        }
        // Every row the journals hold is in the database now, so both files start a
        // new use at offset 0; what they hold is kept as preallocated space.
        let [p0, p1] = journal_paths(path);
        let mut files = Vec::with_capacity(2);
        let mut allocated = [0u64; 2];
        for (i, p) in [p0, p1].into_iter().enumerate() {
            crate::sqlite::create_private(&p)?;
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&p)
                .map_err(io)?;
            allocated[i] = f.metadata().map_err(io)?.len();
            files.push(f);
        }
        let files: [Arc<File>; 2] = files
            .into_iter()
            .map(Arc::new)
            .collect::<Vec<_>>()
            .try_into()
            .map_err(|_| corrupt("journal", "two files"))?;
        let mut journal = Journal {
            files,
            active: 0,
            offset: [0; 2],
            allocated,
            written: [0; 2],
            synced: [0; 2],
        };
        // Erase the first frame header of each file, so that a crash before the
        // first append cannot replay leftovers (they are older than the database's
        // head and would be ignored, but an empty start is simpler to reason about).
        for i in 0..2 {
            journal.reserve(i, JOURNAL_INITIAL).map_err(io)?;
            std::os::unix::fs::FileExt::write_all_at(&*journal.files[i], &[0u8; 8], 0)
                .map_err(io)?;
            journal.files[i].sync_data().map_err(io)?;
            journal.synced[i] = journal.written[i];
        }
        Ok(SqliteAuditStore {
            conn: Mutex::new(conn),
            checkpointer: Mutex::new(Some(checkpointer)),
            journal: Mutex::new(Some(journal)),
            flushing: Mutex::new(()),
            pending: Mutex::new(Vec::new()),
            mem_head: Mutex::new(None),
            reader: false,
        })
    }

    /// Opens the audit database for reading and for operator commands (verify, export,
    /// prune) while a server may be running: the server's journal is read (its rows
    /// count for `head` and `records`) but left alone.
    pub fn open_beside_server(path: &Path) -> Result<SqliteAuditStore, StoreError> {
        let mut conn = open_file(path)?;
        schema::migrate(&mut conn, MIGRATIONS)?;
        let head = db_head(&conn)?.map_or(0, |(s, _)| s);
        let pending = read_journals(path, head)?;
        Ok(SqliteAuditStore {
            conn: Mutex::new(conn),
            checkpointer: Mutex::new(None),
            journal: Mutex::new(None),
            flushing: Mutex::new(()),
            pending: Mutex::new(pending),
            mem_head: Mutex::new(None),
            reader: true,
        })
    }

    /// An in-memory audit database (tests).
    pub fn open_in_memory() -> Result<SqliteAuditStore, StoreError> {
        let mut conn = Connection::open_in_memory().map_err(backend)?;
        configure(&conn, false)?;
        schema::migrate(&mut conn, MIGRATIONS)?;
        Ok(SqliteAuditStore {
            conn: Mutex::new(conn),
            checkpointer: Mutex::new(None),
            journal: Mutex::new(None),
            flushing: Mutex::new(()),
            pending: Mutex::new(Vec::new()),
            mem_head: Mutex::new(None),
            reader: false,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves the journal's rows into the database (one transaction, fsynced), then
    /// empties the journal file they were in. Appends go on meanwhile, into the other
    /// journal file.
    pub fn flush(&self) -> Result<(), StoreError> {
        if self.reader {
            return Ok(());
        }
        let _one = self.flushing.lock().unwrap_or_else(|e| e.into_inner());
        let (rows, old) = {
            let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
            let Some(j) = journal.as_mut() else {
                return Ok(());
            };
            let rows = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
            if rows.is_empty() {
                return Ok(());
            }
            let old = j.active;
            j.active = 1 - old;
            (rows, old)
        };
        if let Err(e) = insert_rows(&mut self.lock(), &rows) {
            // Keep them: they are durable in the journal and will be retried. Switch
            // back so the old file stays the one that holds them.
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            let newer = std::mem::take(&mut *p);
            *p = rows;
            p.extend(newer);
            return Err(e);
        }
        // The old file's rows are committed in the database: its next use starts
        // at offset 0 (see [`Journal`] for why leftovers are harmless).
        let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(j) = journal.as_mut() {
            j.offset[old] = 0;
        }
        Ok(())
    }

    /// Deletes records with seq < `before_seq` (retention). The caller must have
    /// exported them and keeps the chain verifiable from the first kept record.
    pub fn prune_before(&self, before_seq: u64) -> Result<usize, StoreError> {
        self.flush()?;
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
    fn maintain(&self) -> Result<(), StoreError> {
        self.flush()?;
        let guard = self.checkpointer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = guard.as_ref() {
            c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .map_err(backend)?;
        }
        Ok(())
    }

    fn head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        if let Some(h) = *self.mem_head.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(Some(h));
        }
        if self.reader {
            if let Some(r) = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .last()
            {
                return Ok(Some((r.seq, r.hash)));
            }
        }
        db_head(&self.lock())
    }

    fn sync(&self) -> Result<(), StoreError> {
        // Every file written since its last sync (a flush may have switched the
        // active one since the append), with the count of writes this sync covers.
        let mut files = Vec::with_capacity(2);
        {
            let journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
            let Some(j) = journal.as_ref() else {
                return Ok(());
            };
            for i in 0..2 {
                if j.synced[i] < j.written[i] {
                    files.push((i, j.written[i], Arc::clone(&j.files[i])));
                }
            }
        }
        for (i, covered, f) in files {
            f.sync_data().map_err(io)?;
            if let Some(j) = self
                .journal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
            {
                j.synced[i] = j.synced[i].max(covered);
            }
        }
        Ok(())
    }

    fn append_unsynced(&self, rows: Vec<AuditRow>) -> Result<(), StoreError> {
        let Some(first) = rows.first() else {
            return Ok(());
        };
        let mut journal = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        let Some(j) = journal.as_mut() else {
            // In memory: straight into the database.
            return insert_rows(&mut self.lock(), &rows);
        };
        let expected = self.head()?.map_or(1, |(seq, _)| seq + 1);
        if first.seq != expected || rows.windows(2).any(|w| w[1].seq != w[0].seq + 1) {
            return Err(StoreError::Conflict);
        }
        let mut buf = Vec::with_capacity(rows.len() * 1024);
        for r in &rows {
            let start = buf.len();
            buf.extend_from_slice(&[0; 8]);
            encode_row(&mut buf, r);
            let body = &buf[start + 8..];
            let len =
                u32::try_from(body.len()).map_err(|_| corrupt("journal", "record too large"))?;
            let crc = crc32(body);
            buf[start..start + 4].copy_from_slice(&len.to_be_bytes());
            buf[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
        }
        let a = j.active;
        let at = j.offset[a];
        j.reserve(a, at + buf.len() as u64).map_err(io)?;
        std::os::unix::fs::FileExt::write_all_at(&*j.files[a], &buf, at).map_err(io)?;
        j.offset[a] = at + buf.len() as u64;
        j.written[a] += 1;
        let last = rows.last().map(|r| (r.seq, r.hash));
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(rows);
        *self.mem_head.lock().unwrap_or_else(|e| e.into_inner()) = last;
        Ok(())
    }

    fn records(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
        self.flush()?;
        if self.reader {
            let mut rows = self.db_records(from_seq, limit)?;
            let next = rows.last().map_or(from_seq, |r| r.seq + 1);
            let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            rows.extend(
                pending
                    .iter()
                    .filter(|r| r.seq >= next)
                    .take(limit - rows.len())
                    .cloned(),
            );
            return Ok(rows);
        }
        self.db_records(from_seq, limit)
    }

    fn lookup(&self, q: &LookupQuery) -> Result<Vec<AuditRow>, StoreError> {
        self.flush()?;
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
                // Rare; every resource keyfort records is a KMS key. A scan in seq order.
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
        Ok(rows)
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
        .map_err(backend)?;
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
        .map_err(backend)?;
        Ok(())
    }
}

impl SqliteAuditStore {
    fn db_records(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
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
        Ok(rows)
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
        s.append(vec![
            r(0, "CreateKey", "k1"),
            r(1, "Encrypt", "k1"),
            r(2, "DescribeKey", "k2"),
        ])
        .unwrap();
        assert_eq!(s.head().unwrap(), Some((2, [3; 32])));
        assert!(matches!(
            s.append(vec![r(2, "Encrypt", "k1")]),
            Err(StoreError::Conflict)
        ));
        // A failed batch leaves nothing behind.
        assert!(matches!(
            s.append(vec![r(3, "Encrypt", "k1"), r(2, "Encrypt", "k1")]),
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
        let other = s
            .lookup(&LookupQuery {
                region: "eu-west-1".into(),
                ..q(None)
            })
            .unwrap();
        assert!(other.is_empty(), "events are per account and region");
        assert_eq!(s.prune_before(1).unwrap(), 1);
        assert_eq!(s.records(0, 10).unwrap().len(), 2);
    }

    #[test]
    fn a_new_audit_database_has_large_pages_and_an_old_one_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let page_size = |p: &Path| -> i64 {
            Connection::open(p)
                .unwrap()
                .pragma_query_value(None, "page_size", |r| r.get(0))
                .unwrap()
        };
        let fresh = dir.path().join("audit.db");
        {
            let s = SqliteAuditStore::open(&fresh).unwrap();
            s.append(vec![r(1, "CreateKey", "k1")]).unwrap();
            s.flush().unwrap();
        }
        assert_eq!(page_size(&fresh), i64::from(AUDIT_PAGE_SIZE));
        let reopened = SqliteAuditStore::open(&fresh).unwrap();
        assert_eq!(reopened.records(0, 10).unwrap().len(), 1);

        // A database made with SQLite's default pages (before this setting) opens
        // and keeps working with them.
        let old = dir.path().join("old.db");
        drop(open_file(&old).unwrap());
        assert_eq!(page_size(&old), 4096);
        let s = SqliteAuditStore::open(&old).unwrap();
        s.append(vec![r(1, "CreateKey", "k1")]).unwrap();
        s.flush().unwrap();
        assert_eq!(s.records(0, 10).unwrap().len(), 1);
        assert_eq!(page_size(&old), 4096);
    }

    #[test]
    fn journal_makes_appends_durable_and_is_replayed_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.db");
        {
            let s = SqliteAuditStore::open(&path).unwrap();
            s.append(vec![r(1, "CreateKey", "k1"), r(2, "Encrypt", "k1")])
                .unwrap();
            // Not flushed: the rows are only in the journal, as after a crash.
            assert!(matches!(
                s.append(vec![r(2, "Encrypt", "k1")]),
                Err(StoreError::Conflict)
            ));
            assert!(matches!(
                s.append(vec![r(4, "Encrypt", "k1")]),
                Err(StoreError::Conflict)
            ));
            s.append(vec![r(3, "Decrypt", "k1")]).unwrap();
            // A reader beside the running store sees the journal's rows.
            let reader = SqliteAuditStore::open_beside_server(&path).unwrap();
            assert_eq!(reader.head().unwrap(), Some((3, [4; 32])));
            assert_eq!(reader.records(0, 10).unwrap().len(), 3);
            std::mem::forget(s); // no destructor work: a crash
        }
        let s = SqliteAuditStore::open(&path).unwrap();
        assert_eq!(s.head().unwrap(), Some((3, [4; 32])));
        let rows = s.records(0, 10).unwrap();
        assert_eq!(rows.iter().map(|x| x.seq).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(rows[1], r(2, "Encrypt", "k1"));
        // After a flush the rows live in the database; the journal files keep their
        // preallocated size, and what they still hold is never replayed.
        s.append(vec![r(4, "Encrypt", "k2")]).unwrap();
        s.maintain().unwrap();
        for p in journal_paths(&path) {
            assert!(std::fs::metadata(p).unwrap().len() >= JOURNAL_INITIAL);
        }
        assert!(read_journals(&path, 4).unwrap().is_empty());
        // The freed file is reused from offset 0 over older frames.
        s.append(vec![r(5, "Encrypt", "k2")]).unwrap();
        s.maintain().unwrap();
        s.append(vec![r(6, "Encrypt", "k2")]).unwrap();
        std::mem::forget(s);
        let s = SqliteAuditStore::open(&path).unwrap();
        let seqs = |s: &SqliteAuditStore| {
            s.records(0, 10)
                .unwrap()
                .iter()
                .map(|x| x.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(&s), [1, 2, 3, 4, 5, 6]);
        // A torn frame (a crash mid-write: its fsync never returned, so it was never
        // acknowledged) ends the replay; the frames before it are kept.
        s.append(vec![r(7, "Encrypt", "k1"), r(8, "Encrypt", "k1")])
            .unwrap();
        std::mem::forget(s);
        let p0 = &journal_paths(&path)[0];
        let mut bytes = std::fs::read(p0).unwrap();
        let first = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        bytes[8 + first + 8 + 20] ^= 0x40; // inside the second frame's body
        std::fs::write(p0, &bytes).unwrap();
        let s = SqliteAuditStore::open(&path).unwrap();
        assert_eq!(seqs(&s), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(s.head().unwrap(), Some((7, [8; 32])));
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        // Lengths around the eight-byte steps, against the bitwise definition.
        fn bitwise(data: &[u8]) -> u32 {
            let mut c = !0u32;
            for &b in data {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 != 0 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        }
        let data: Vec<u8> = (0..1200u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for len in (0..40).chain([511, 512, 513, 1023, 1200]) {
            assert_eq!(crc32(&data[..len]), bitwise(&data[..len]), "length {len}");
        }
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
