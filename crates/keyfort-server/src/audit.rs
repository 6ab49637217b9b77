//! The audit trail of the server: one CloudTrail record per API request, chained and
//! made durable by a single writer with group commit before the request is answered,
//! and signed digests of the chain at a fixed interval.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Request;
use hyper::body::Incoming;
use keyfort_audit::{
    AuditSigningKey, ChainHead, Digest, Event, EventType, Resource, TlsDetails, UnsignedDigest,
    UserIdentity,
};
use keyfort_core::audit::{AuditRow, AuditStore, DigestRow};
use keyfort_core::{Kms, Principal, PrincipalKind};
use tokio::sync::oneshot;

use crate::http::ConnInfo;

/// The name under which the audit signing key is sealed in the audit store.
const SIGNING_KEY_NAME: &str = "audit-signing-key";
/// The most records one group commit writes.
const MAX_BATCH: usize = 1024;
/// Records in flight (queued or being written) beyond which new requests wait for
/// room (the writer is slow or stuck, for instance on a full disk) rather than queue
/// without bound.
const QUEUE: usize = 8192;
/// How long the writer, finding nothing to write, checks again at short intervals
/// before it parks (and needs a wake-up from the next request).
const IDLE_POLL: Duration = Duration::from_millis(2);
/// The interval of those checks.
const POLL_STEP: Duration = Duration::from_micros(50);

/// Why a record could not be made durable.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The writer is gone (shutdown).
    #[error("the audit writer has stopped")]
    Stopped,
    /// The store refused the batch.
    #[error("audit store: {0}")]
    Store(String),
    /// The record could not be built.
    #[error("audit record: {0}")]
    Build(#[from] keyfort_audit::Error),
    /// The signing key could not be opened or made.
    #[error("audit signing key: {0}")]
    Key(String),
}

/// What the request path learns about a request, turned into a CloudTrail record.
#[derive(Debug)]
pub struct AuditEntry {
    /// requestID.
    pub request_id: String,
    /// eventTime (ms).
    pub time_ms: i64,
    /// eventName.
    pub event_name: String,
    /// eventSource.
    pub event_source: String,
    /// awsRegion (from the credential scope, when it parsed).
    pub region: String,
    /// The authenticated caller, if authentication succeeded.
    pub principal: Option<Principal>,
    /// The access key the request claimed, even if it failed.
    pub access_key_id: Option<String>,
    /// userIdentity.invokedBy: the service principal a request came through.
    pub invoked_by: Option<String>,
    /// sourceIPAddress.
    pub source_ip: String,
    /// userAgent.
    pub user_agent: String,
    /// Host header (for tlsDetails).
    pub host: String,
    /// TLS version and cipher suite.
    pub tls: Option<(String, String)>,
    /// readOnly.
    pub read_only: bool,
    /// requestParameters.
    pub request_parameters: Option<serde_json::Value>,
    /// Key ARNs touched.
    pub resources: Vec<String>,
    /// (errorCode, errorMessage) when the request failed.
    pub error: Option<(String, String)>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl AuditEntry {
    /// Starts an entry for a request as it arrives.
    pub fn new(request_id: &str, conn: &ConnInfo, req: &Request<Incoming>) -> AuditEntry {
        let h = |n: &str| {
            req.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        AuditEntry {
            request_id: request_id.to_owned(),
            time_ms: now_ms(),
            event_name: "Unknown".into(),
            event_source: "kms.amazonaws.com".into(),
            region: String::new(),
            principal: None,
            access_key_id: None,
            invoked_by: None,
            source_ip: conn.peer_ip.clone(),
            user_agent: h("user-agent"),
            host: h("host"),
            tls: conn.tls.clone(),
            read_only: false,
            request_parameters: None,
            resources: Vec::new(),
            error: None,
        }
    }

    fn into_row(self) -> Result<(AuditRow, Vec<u8>), AuditError> {
        // userIdentity.sessionContext of a role session: the role that issued it
        // and when (CloudTrail's shape).
        fn session_context(p: &Principal) -> Option<keyfort_audit::SessionContext> {
            let PrincipalKind::AssumedRole { role_arn, .. } = &p.kind else {
                return None;
            };
            Some(keyfort_audit::SessionContext {
                session_issuer: Some(keyfort_audit::SessionIssuer {
                    issuer_type: "Role".into(),
                    principal_id: p.user_id.split(':').next().unwrap_or_default().to_owned(),
                    arn: role_arn.clone(),
                    account_id: p.account.to_string(),
                    user_name: role_arn.rsplit('/').next().unwrap_or_default().to_owned(),
                }),
                attributes: keyfort_audit::SessionAttributes {
                    creation_date: keyfort_audit::format_iso8601(p.session_issued_ms.unwrap_or(0)),
                    mfa_authenticated: "false".into(),
                },
            })
        }

        let identity = match self.principal {
            Some(p) => {
                let identity_type = match p.kind {
                    PrincipalKind::Root => "Root",
                    PrincipalKind::User { .. } => "IAMUser",
                    PrincipalKind::AssumedRole { .. } => "AssumedRole",
                };
                let session_context = session_context(&p);
                let user_name = username(&p);
                UserIdentity {
                    identity_type: Some(identity_type.into()),
                    principal_id: Some(p.user_id),
                    arn: Some(p.arn),
                    account_id: Some(p.account.to_string()),
                    access_key_id: Some(p.access_key_id),
                    user_name: Some(user_name),
                    invoked_by: self.invoked_by,
                    session_context,
                }
            }
            None => UserIdentity {
                identity_type: Some("Unknown".into()),
                principal_id: None,
                arn: None,
                account_id: None,
                access_key_id: self.access_key_id,
                user_name: None,
                invoked_by: None,
                session_context: None,
            },
        };
        let account = identity.account_id.clone();
        // The event owns every value once; the row's lookup columns are moved back
        // out of it after serialization rather than cloned before.
        let key_account = account.as_deref().unwrap_or_default();
        let resources: Vec<Resource> = self
            .resources
            .into_iter()
            .map(|arn| {
                let owner = arn.split(':').nth(4).unwrap_or(key_account).to_owned();
                Resource::kms_key(owner, arn)
            })
            .collect();
        let mut ev = Event::kms_api_call(
            identity,
            self.time_ms,
            self.event_name,
            self.region,
            account.unwrap_or_default(),
            self.request_id,
            keyfort_audit::new_event_id()?,
        );
        ev.event_source = self.event_source;
        ev.source_ip_address = self.source_ip;
        ev.user_agent = self.user_agent;
        ev.read_only = self.read_only;
        ev.request_parameters = self.request_parameters.unwrap_or(serde_json::Value::Null);
        if let Some((code, message)) = self.error {
            ev.error_code = Some(code);
            ev.error_message = Some(message);
        }
        ev.resources = resources;
        ev.tls_details = self.tls.map(|(v, c)| TlsDetails {
            tls_version: v,
            cipher_suite: c,
            client_provided_host_header: self.host,
        });
        let json = ev.to_json()?;
        let Event {
            user_identity,
            event_name,
            aws_region,
            event_source,
            request_id,
            event_id,
            read_only,
            resources,
            ..
        } = ev;
        let row = AuditRow {
            seq: 0,
            event_id,
            event_time_ms: self.time_ms,
            event_name,
            // The caller's account: the identity's (None when unauthenticated).
            account: user_identity.account_id,
            region: aws_region,
            event_source,
            read_only,
            username: user_identity.user_name,
            access_key_id: user_identity.access_key_id,
            request_id,
            resources: resources
                .into_iter()
                .map(|r| (r.resource_type, r.arn))
                .collect(),
            event_json: Vec::new(),
            prev_hash: [0; 32],
            hash: [0; 32],
        };
        Ok((row, json))
    }
}

/// CloudTrail's userName (and the Username lookup attribute): "root" for the root
/// user, the user's name, or the session name of a role session.
fn username(p: &Principal) -> String {
    match &p.kind {
        PrincipalKind::Root => "root".into(),
        PrincipalKind::User { name } => name.clone(),
        PrincipalKind::AssumedRole { session_name, .. } => session_name.clone(),
    }
}

/// A record waiting for the writer: the row, its event, when it was queued, and where
/// to send the result (with the moment it was sent).
type Pending = (
    AuditRow,
    Vec<u8>,
    Instant,
    oneshot::Sender<(Result<(), String>, Instant)>,
);

/// How long acknowledged requests took to run again, measured by the requests when
/// the writer's figures are wanted (debug logging on at start): the writer wakes a
/// request's task, and the runtime resumes it when a worker gets to it. Under load
/// this was the largest share of an audited request's wait (docs/benchmarks.md).
#[derive(Debug, Default)]
struct ResumeTimes {
    count: std::sync::atomic::AtomicU64,
    total_ns: std::sync::atomic::AtomicU64,
    /// Resumed within 50 µs, 250 µs, 1 ms, later.
    buckets: [std::sync::atomic::AtomicU64; 4],
}

impl ResumeTimes {
    fn add(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let b = match ns {
            0..=50_000 => 0,
            50_001..=250_000 => 1,
            250_001..=1_000_000 => 2,
            _ => 3,
        };
        self.count.fetch_add(1, Ordering::Relaxed);
        self.total_ns.fetch_add(ns, Ordering::Relaxed);
        self.buckets[b].fetch_add(1, Ordering::Relaxed);
    }

    /// (count, mean µs, percent per bucket), and starts over.
    fn take(&self) -> (u64, u64, [u64; 4]) {
        let n = self.count.swap(0, Ordering::Relaxed);
        let total = self.total_ns.swap(0, Ordering::Relaxed);
        let mut pct = [0u64; 4];
        for (p, b) in pct.iter_mut().zip(&self.buckets) {
            *p = b.swap(0, Ordering::Relaxed) * 100 / n.max(1);
        }
        (n, total / n.max(1) / 1000, pct)
    }
}

/// Records waiting for the writer.
///
/// Why not a channel: waking a thread costs a system call and, on a virtual machine,
/// an inter-processor interrupt, and a channel wakes the writer for every record that
/// finds it idle. Here requests only push under a short lock; the writer, busy with a
/// commit most of the time under load, takes everything queued when it finishes. When
/// it finds the queue empty it looks again every [`POLL_STEP`] for [`IDLE_POLL`], and
/// only then parks; a request wakes it only in that state.
struct Queue {
    items: Mutex<Vec<Pending>>,
    /// The writer is parked (or about to): the next push must unpark it.
    parked: AtomicBool,
    /// No more records are accepted (the log is being dropped).
    closed: AtomicBool,
    writer: std::sync::OnceLock<std::thread::Thread>,
    /// Set when the writer's figures are logged.
    resume: Option<ResumeTimes>,
}

impl Queue {
    fn push(&self, p: Pending) -> Result<(), AuditError> {
        {
            let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
            if self.closed.load(Ordering::Acquire) {
                return Err(AuditError::Stopped);
            }
            items.push(p);
        }
        if self.parked.swap(false, Ordering::AcqRel) {
            if let Some(t) = self.writer.get() {
                t.unpark();
            }
        }
        Ok(())
    }

    /// Moves everything queued (up to [`MAX_BATCH`]) into `batch`.
    fn take(&self, batch: &mut Vec<Pending>) {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        if items.len() <= MAX_BATCH {
            std::mem::swap(&mut *items, batch);
        } else {
            batch.extend(items.drain(..MAX_BATCH));
        }
    }

    fn is_empty(&self) -> bool {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }
}

/// The audit trail: records requests durably and signs digests.
pub struct AuditLog {
    store: Arc<dyn AuditStore>,
    queue: Arc<Queue>,
    room: tokio::sync::Semaphore,
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        self.queue.closed.store(true, Ordering::Release);
        if let Some(t) = self.queue.writer.get() {
            t.unpark();
        }
    }
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

/// Loads the audit signing key (sealed under the root key in the audit store), or
/// makes and stores one on first start.
pub fn signing_key(kms: &Kms, store: &dyn AuditStore) -> Result<AuditSigningKey, AuditError> {
    let key_err = |e: &dyn std::fmt::Display| AuditError::Key(e.to_string());
    if let Some(sealed) = store
        .get_secret(SIGNING_KEY_NAME)
        .map_err(|e| key_err(&e))?
    {
        let pkcs8 = kms
            .open_internal(SIGNING_KEY_NAME, &sealed)
            .map_err(|e| key_err(&e))?;
        return AuditSigningKey::from_pkcs8(pkcs8.expose()).map_err(|e| key_err(&e));
    }
    let key = AuditSigningKey::generate().map_err(|e| key_err(&e))?;
    let pkcs8 = key.to_pkcs8().map_err(|e| key_err(&e))?;
    let sealed = kms
        .seal_internal(SIGNING_KEY_NAME, pkcs8.expose())
        .map_err(|e| key_err(&e))?;
    match store.put_secret(SIGNING_KEY_NAME, &sealed) {
        Ok(()) => Ok(key),
        // Another process won the race: use its key.
        Err(keyfort_core::store::StoreError::Conflict) => signing_key(kms, store),
        Err(e) => Err(key_err(&e)),
    }
}

/// The stored digest format: keyfort-audit's export line for a digest.
pub fn digest_row(d: &Digest) -> DigestRow {
    DigestRow {
        digest_seq: d.digest_seq,
        last_seq: d.last_seq,
        created_ms: d.created_ms,
        body: keyfort_audit::write_digest_line(d).into_bytes(),
    }
}

impl AuditLog {
    /// Starts the writer and the digest job on the current runtime.
    pub fn start(
        store: Arc<dyn AuditStore>,
        key: AuditSigningKey,
        digest_interval: Duration,
    ) -> Result<Arc<AuditLog>, AuditError> {
        let head = match store.head().map_err(|e| AuditError::Store(e.to_string()))? {
            None => ChainHead::GENESIS,
            Some((seq, hash)) => ChainHead { seq: seq + 1, hash },
        };
        let queue = Arc::new(Queue {
            items: Mutex::new(Vec::with_capacity(MAX_BATCH)),
            parked: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            writer: std::sync::OnceLock::new(),
            resume: tracing::enabled!(tracing::Level::DEBUG).then(ResumeTimes::default),
        });
        let key = Arc::new(key);
        let writer_store = Arc::clone(&store);
        let writer_queue = Arc::clone(&queue);
        let handle = std::thread::Builder::new()
            .name("keyfort-audit-writer".into())
            .spawn(move || writer(writer_store, head, writer_queue))
            .map_err(|e| AuditError::Store(format!("cannot start the audit writer: {e}")))?;
        // Set before any record can be queued: `start` has not returned yet.
        let _ = queue.writer.set(handle.thread().clone());
        tokio::spawn(digest_loop(Arc::clone(&store), key, digest_interval));
        tokio::spawn(maintenance_loop(Arc::clone(&store)));
        Ok(Arc::new(AuditLog {
            store,
            queue,
            room: tokio::sync::Semaphore::new(QUEUE),
        }))
    }

    /// The store behind the trail (for LookupEvents).
    pub fn store(&self) -> &Arc<dyn AuditStore> {
        &self.store
    }

    /// Records one request; returns once the record is durable.
    pub async fn record(&self, entry: AuditEntry) -> Result<(), AuditError> {
        let (row, json) = entry.into_row()?;
        self.record_service_event(row, json).await
    }
}

/// The writer: a dedicated thread (no async hand-offs per batch) that takes every
/// queued record, links them, appends them with one write and one fsync, and then
/// acknowledges them all.
fn writer(store: Arc<dyn AuditStore>, mut head: ChainHead, queue: Arc<Queue>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    let mut idle_since: Option<Instant> = None;
    let mut stats = WriterStats::new();
    loop {
        stats.maybe_report(queue.resume.as_ref());
        queue.take(&mut batch);
        if batch.is_empty() {
            if queue.closed.load(Ordering::Acquire) {
                return;
            }
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() < IDLE_POLL {
                std::thread::sleep(POLL_STEP);
            } else {
                // Announce the park, then look once more: a request that pushed
                // before seeing `parked` is caught by this look, one that pushed
                // after it unparks us (and an unpark before `park` is not lost).
                queue.parked.store(true, Ordering::Release);
                if queue.is_empty() && !queue.closed.load(Ordering::Acquire) {
                    std::thread::park_timeout(Duration::from_secs(1));
                }
                queue.parked.store(false, Ordering::Release);
                idle_since = None;
            }
            continue;
        }
        idle_since = None;
        let mut rows = Vec::with_capacity(batch.len());
        let mut acks = Vec::with_capacity(batch.len());
        let mut next = head;
        let taken = Instant::now();
        for (mut row, json, queued, ack) in batch.drain(..) {
            stats.queued += taken.saturating_duration_since(queued);
            let (rec, after) = keyfort_audit::link(&next, json);
            row.seq = rec.seq;
            row.prev_hash = rec.prev_hash;
            row.hash = rec.hash;
            row.event_json = rec.event;
            next = after;
            rows.push(row);
            acks.push(ack);
        }
        let n = rows.len();
        let started = Instant::now();
        let result = store.append(rows).map_err(|e| e.to_string());
        stats.batch(n, started.elapsed());
        match &result {
            Ok(()) => head = next,
            Err(e) => {
                tracing::error!(error = %e, "audit batch not written");
                // Re-read the head: the store is the truth after a failure.
                if let Ok(Some((seq, hash))) = store.head() {
                    head = ChainHead { seq: seq + 1, hash };
                }
            }
        }
        let sent = Instant::now();
        for ack in acks {
            let _ = ack.send((result.clone(), sent));
        }
    }
}

/// What the writer did lately, logged at debug level every 10 s while it works:
/// how many group commits, how many records per commit, how long a record waited in
/// the queue before its commit began, how long a commit (write and fsync) took, and
/// how long acknowledged requests took to run again. The figures to look at when the
/// trail is slow: an audited request waits for all three.
struct WriterStats {
    since: Instant,
    batches: u64,
    records: u64,
    queued: Duration,
    commit: Duration,
    slowest: Duration,
}

impl WriterStats {
    const EVERY: Duration = Duration::from_secs(10);

    fn new() -> WriterStats {
        WriterStats {
            since: Instant::now(),
            batches: 0,
            records: 0,
            queued: Duration::ZERO,
            commit: Duration::ZERO,
            slowest: Duration::ZERO,
        }
    }

    fn batch(&mut self, records: usize, took: Duration) {
        self.batches += 1;
        self.records += records as u64;
        self.commit += took;
        self.slowest = self.slowest.max(took);
    }

    fn maybe_report(&mut self, resume: Option<&ResumeTimes>) {
        if self.since.elapsed() < Self::EVERY {
            return;
        }
        if self.batches > 0 {
            let b = u32::try_from(self.batches).unwrap_or(u32::MAX);
            let r = u32::try_from(self.records).unwrap_or(u32::MAX);
            let (resumed, resume_us, pct) = resume.map_or((0, 0, [0; 4]), ResumeTimes::take);
            tracing::debug!(
                commits = self.batches,
                records = self.records,
                records_per_commit = self.records as f64 / self.batches as f64,
                mean_queued_us = (self.queued / r.max(1)).as_micros() as u64,
                mean_commit_us = (self.commit / b).as_micros() as u64,
                slowest_commit_us = self.slowest.as_micros() as u64,
                resumed,
                mean_resume_us = resume_us,
                resume_pct_50us_250us_1ms_later = ?pct,
                "audit writer"
            );
        }
        *self = WriterStats::new();
    }
}

/// Signs a digest of the chain if records were added since the last one. Returns
/// whether a digest was written.
pub fn sign_digest_now(
    store: &dyn AuditStore,
    key: &AuditSigningKey,
    now_ms: i64,
) -> Result<bool, AuditError> {
    let se = |e: keyfort_core::store::StoreError| AuditError::Store(e.to_string());
    let Some((seq, hash)) = store.head().map_err(se)? else {
        return Ok(false);
    };
    let last = store.digests().map_err(se)?.pop();
    let previous = match &last {
        None => None,
        Some(row) => Some(keyfort_audit::read_digest_line(&row.body)?),
    };
    if previous.as_ref().is_some_and(|p| p.last_seq >= seq) {
        return Ok(false);
    }
    let unsigned =
        UnsignedDigest::next(previous.as_ref(), &ChainHead { seq: seq + 1, hash }, now_ms);
    let digest = key.sign_digest(unsigned)?;
    store.append_digest(&digest_row(&digest)).map_err(se)?;
    Ok(true)
}

async fn maintenance_loop(store: Arc<dyn AuditStore>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let s = Arc::clone(&store);
        match tokio::task::spawn_blocking(move || s.maintain()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "audit store maintenance failed"),
            Err(e) => tracing::warn!(error = %e, "audit store maintenance task failed"),
        }
    }
}

async fn digest_loop(store: Arc<dyn AuditStore>, key: Arc<AuditSigningKey>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let s = Arc::clone(&store);
        let k = Arc::clone(&key);
        match tokio::task::spawn_blocking(move || sign_digest_now(s.as_ref(), &k, now_ms())).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "audit digest failed"),
            Err(e) => tracing::error!(error = %e, "audit digest task failed"),
        }
    }
}

/// The audit record of an event keyfort made on its own (deletion, rotation).
pub fn service_event(
    name: &str,
    region: &str,
    account: &str,
    key_arn: &str,
) -> Result<(AuditRow, Vec<u8>), AuditError> {
    let event_id = keyfort_audit::new_event_id()?;
    let request_id = keyfort_audit::new_event_id()?;
    let time_ms = now_ms();
    let identity = UserIdentity {
        identity_type: Some("AWSService".into()),
        principal_id: None,
        arn: None,
        account_id: None,
        access_key_id: None,
        user_name: None,
        invoked_by: Some("kms.amazonaws.com".into()),
        session_context: None,
    };
    let mut ev = Event::kms_api_call(
        identity,
        time_ms,
        name,
        region,
        account,
        request_id.clone(),
        event_id.clone(),
    );
    ev.event_type = EventType::AwsServiceEvent;
    ev.source_ip_address = "kms.amazonaws.com".into();
    ev.user_agent = "kms.amazonaws.com".into();
    ev.resources = vec![Resource::kms_key(account, key_arn)];
    let json = ev.to_json()?;
    let row = AuditRow {
        seq: 0,
        event_id,
        event_time_ms: time_ms,
        event_name: name.into(),
        account: Some(account.into()),
        region: region.into(),
        event_source: "kms.amazonaws.com".into(),
        read_only: false,
        username: None,
        access_key_id: None,
        request_id,
        resources: vec![("AWS::KMS::Key".into(), key_arn.into())],
        event_json: Vec::new(),
        prev_hash: [0; 32],
        hash: [0; 32],
    };
    Ok((row, json))
}

impl AuditLog {
    /// Records a prepared row (an API request's, or an event keyfort made on its
    /// own); returns once durable.
    pub async fn record_service_event(
        &self,
        row: AuditRow,
        json: Vec<u8>,
    ) -> Result<(), AuditError> {
        let _room = self.room.acquire().await.map_err(|_| AuditError::Stopped)?;
        let (ack, done) = oneshot::channel();
        self.queue.push((row, json, Instant::now(), ack))?;
        let (result, sent) = done.await.map_err(|_| AuditError::Stopped)?;
        if let Some(r) = &self.queue.resume {
            r.add(sent.elapsed());
        }
        result.map_err(AuditError::Store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_times_report_the_mean_and_buckets_then_start_over() {
        let r = ResumeTimes::default();
        for us in [10, 40, 100, 300, 2_000] {
            r.add(Duration::from_micros(us));
        }
        // 2,450 µs over 5: mean 490; 2 within 50 µs, 1 within 250 µs, 1 within 1 ms, 1 later.
        assert_eq!(r.take(), (5, 490, [40, 20, 20, 20]));
        assert_eq!(r.take(), (0, 0, [0, 0, 0, 0]));
    }
}
