//! The audit trail's persistence boundary. Records are appended in batches (group
//! commit) by one writer; each row carries its place in the SHA-256 hash chain
//! (built by keyfort-audit), so the store never computes hashes itself.

use crate::store::StoreError;

/// One chained audit record, with the columns LookupEvents filters on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Position in the chain (0-based, no gaps).
    pub seq: u64,
    /// CloudTrail eventID.
    pub event_id: String,
    /// eventTime in milliseconds since the epoch.
    pub event_time_ms: i64,
    /// eventName.
    pub event_name: String,
    /// recipientAccountId (None when the caller could not be identified).
    pub account: Option<String>,
    /// awsRegion.
    pub region: String,
    /// eventSource.
    pub event_source: String,
    /// readOnly.
    pub read_only: bool,
    /// userIdentity.userName (or the principal's name).
    pub username: Option<String>,
    /// userIdentity.accessKeyId.
    pub access_key_id: Option<String>,
    /// requestID (the id the reply carried).
    pub request_id: String,
    /// resources: (type, ARN or name).
    pub resources: Vec<(String, String)>,
    /// The exact serialized CloudTrail record the hash covers.
    pub event_json: Vec<u8>,
    /// Hash of the previous record (zeros for the first).
    pub prev_hash: [u8; 32],
    /// This record's chain hash.
    pub hash: [u8; 32],
}

/// A signed digest of the chain, stored as its serialized form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRow {
    /// Digest number (0-based, no gaps).
    pub digest_seq: u64,
    /// The last record seq the digest covers.
    pub last_seq: u64,
    /// When it was made, in milliseconds since the epoch.
    pub created_ms: i64,
    /// The serialized digest (keyfort-audit's format).
    pub body: Vec<u8>,
}

/// A LookupEvents attribute filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupAttribute {
    /// eventName.
    EventName(String),
    /// A resource's name (ARN).
    ResourceName(String),
    /// A resource's type.
    ResourceType(String),
    /// userName.
    Username(String),
    /// accessKeyId.
    AccessKeyId(String),
    /// eventID.
    EventId(String),
    /// readOnly.
    ReadOnly(bool),
    /// eventSource.
    EventSource(String),
}

/// A LookupEvents query: newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupQuery {
    /// Only this account's events.
    pub account: String,
    /// Only this region's events.
    pub region: String,
    /// Events at or after this time.
    pub start_ms: Option<i64>,
    /// Events at or before this time.
    pub end_ms: Option<i64>,
    /// At most one attribute, as CloudTrail allows.
    pub attribute: Option<LookupAttribute>,
    /// Only events with a smaller seq (pagination).
    pub before_seq: Option<u64>,
    /// Page size.
    pub limit: usize,
}

/// Where the audit trail lives.
pub trait AuditStore: Send + Sync + 'static {
    /// Appends rows in one transaction; durable when it returns. The rows' seqs must
    /// continue the stored chain without gaps.
    fn append(&self, rows: Vec<AuditRow>) -> Result<(), StoreError> {
        self.append_unsynced(rows)?;
        self.sync()
    }
    /// Appends rows in order without waiting for durability; [`AuditStore::sync`]
    /// makes everything appended before it durable. Lets a writer overlap the next
    /// batch with the previous batch's fsync. Takes the rows by value: a store that
    /// keeps them (until they reach their final place) need not copy them.
    fn append_unsynced(&self, rows: Vec<AuditRow>) -> Result<(), StoreError>;
    /// Makes every row appended before the call began durable. Calls may overlap
    /// (from several threads): each covers what was appended before it began. After
    /// an error, whether earlier rows are durable is unknown (a later sync may succeed
    /// without having written them), so the caller must not acknowledge anything
    /// appended before the failed call.
    fn sync(&self) -> Result<(), StoreError>;
    /// The last stored record's (seq, hash), if any.
    fn head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError>;
    /// Records with seq >= `from_seq`, ascending, at most `limit`.
    fn records(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditRow>, StoreError>;
    /// Records matching a query, newest first.
    fn lookup(&self, query: &LookupQuery) -> Result<Vec<AuditRow>, StoreError>;
    /// Stores a digest; `Conflict` if its number exists.
    fn append_digest(&self, digest: &DigestRow) -> Result<(), StoreError>;
    /// All digests, ascending.
    fn digests(&self) -> Result<Vec<DigestRow>, StoreError>;
    /// A sealed internal secret (the audit signing key), by name.
    fn get_secret(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores a sealed internal secret; `Conflict` if the name exists.
    fn put_secret(&self, name: &str, sealed: &[u8]) -> Result<(), StoreError>;
    /// Background maintenance off the append path (for SQLite: a passive WAL
    /// checkpoint on a second connection). Called about once a second.
    fn maintain(&self) -> Result<(), StoreError>;
}
