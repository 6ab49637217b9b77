//! `keyfort audit ...`: verify, export, tail and the audit public key. They work on a
//! data directory whether the server is running or not (SQLite allows readers beside
//! the writer), and `verify --file` checks an export with nothing but the public key.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use keyfort_audit::{ChainHead, ChainedRecord, Digest, Header, Verifier};
use keyfort_core::audit::{AuditRow, AuditStore};
use keyfort_server::bootstrap;

/// `keyfort audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and the signed digests: of a data directory, or of an
    /// export file against a pinned public key.
    Verify {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// An export (JSON Lines) to check instead of the data directory.
        #[arg(long, requires = "public_key")]
        file: Option<PathBuf>,
        /// The audit public key (DER or PEM) to pin.
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Write the trail as JSON Lines (header, records, digests) for a SIEM.
    Export {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Only events at or after this time (ISO-8601, e.g. 2026-11-28T00:00:00Z).
        #[arg(long)]
        start: Option<String>,
        /// Only events at or before this time.
        #[arg(long)]
        end: Option<String>,
        /// Output file [default: standard output].
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Print new events as they are recorded (one JSON record per line).
    Tail {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Start with the last N events.
        #[arg(long, default_value_t = 10)]
        last: u64,
        /// Stop after this many seconds (default: follow forever).
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// Retention: export, then delete, the records older than N days, up to the last
    /// signed digest before that age (digests are kept, so what remains still
    /// verifies from its first record).
    Prune {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Keep records newer than this many days.
        #[arg(long)]
        keep_days: u32,
        /// Where the pruned records are exported first (required: nothing is deleted
        /// that was not exported).
        #[arg(long)]
        export: PathBuf,
    },
    /// Print the audit signing key's public key (PEM) to pin it.
    PublicKey {
        /// Data directory [default: ./keyfort-data].
        #[arg(long, env = "KEYFORT_DATA_DIR")]
        data_dir: Option<PathBuf>,
    },
}

fn dir(d: Option<PathBuf>) -> PathBuf {
    d.unwrap_or_else(|| keyfort_server::config::DEFAULT_DATA_DIR.into())
}

/// Opens the audit trail of a data directory (and the service, for the signing key).
fn open(data_dir: &Path) -> anyhow::Result<(Arc<dyn AuditStore>, keyfort_audit::AuditSigningKey)> {
    if !bootstrap::database_path(data_dir).exists() {
        bail!("{} holds no keyfort data", data_dir.display());
    }
    let account = keyfort_server::config::default_account();
    let opened = bootstrap::open(data_dir, &account, None, bootstrap::system_clock())?;
    Ok(bootstrap::open_audit_reader(data_dir, &opened.kms)?)
}

fn chained(r: AuditRow) -> ChainedRecord {
    ChainedRecord {
        seq: r.seq,
        event: r.event_json,
        prev_hash: r.prev_hash,
        hash: r.hash,
    }
}

fn digests(store: &dyn AuditStore) -> anyhow::Result<Vec<Digest>> {
    store
        .digests()?
        .iter()
        .map(|d| keyfort_audit::read_digest_line(&d.body).map_err(Into::into))
        .collect()
}

const PAGE: usize = 10_000;

fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----\n");
    out
}

fn read_public_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if let Ok(text) = std::str::from_utf8(&raw) {
        if text.contains("-----BEGIN PUBLIC KEY-----") {
            let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
            return Ok(base64::engine::general_purpose::STANDARD.decode(b64.trim())?);
        }
    }
    Ok(raw)
}

/// Runs a subcommand; returns the process exit code.
pub fn run(cmd: AuditCommand) -> anyhow::Result<u8> {
    match cmd {
        AuditCommand::Verify {
            data_dir,
            file: Some(file),
            public_key: Some(pk),
        } => {
            let _ = data_dir;
            let key = read_public_key(&pk)?;
            let reader = BufReader::new(
                std::fs::File::open(&file)
                    .with_context(|| format!("opening {}", file.display()))?,
            );
            let report = keyfort_audit::verify_export(reader, &key)?;
            println!("{report}");
            Ok(if report.ok { 0 } else { 1 })
        }
        AuditCommand::Verify {
            data_dir,
            public_key,
            ..
        } => {
            let (store, key) = open(&dir(data_dir))?;
            let pinned = match public_key {
                Some(p) => read_public_key(&p)?,
                None => key.public_key_der()?,
            };
            let digests = digests(store.as_ref())?;
            let first = store.records(0, 1)?.first().map_or(1, |r| r.seq);
            // After pruning, the kept chain must continue exactly where the newest
            // digest before it ended: a record removed at the start of what remains
            // shows as missing. With no such digest, the chain starts at genesis.
            let start = digests
                .iter()
                .filter(|d| d.last_seq < first)
                .max_by_key(|d| d.last_seq)
                .map_or(ChainHead::GENESIS, |d| ChainHead {
                    seq: d.last_seq + 1,
                    hash: d.last_hash,
                });
            let start = Some(start);
            let mut v = Verifier::new(&digests, Some(&pinned), start);
            let mut from = 0;
            loop {
                let rows = store.records(from, PAGE)?;
                let Some(last) = rows.last().map(|r| r.seq) else {
                    break;
                };
                for r in rows {
                    v.push(&chained(r));
                }
                from = last + 1;
            }
            let report = v.finish();
            println!("{report}");
            Ok(if report.ok { 0 } else { 1 })
        }
        AuditCommand::Export {
            data_dir,
            start,
            end,
            output,
        } => {
            let (store, key) = open(&dir(data_dir))?;
            let start_ms = start
                .map(|s| keyfort_audit::parse_iso8601(&s))
                .transpose()?;
            let end_ms = end.map(|s| keyfort_audit::parse_iso8601(&s)).transpose()?;
            let mut records = Vec::new();
            let mut from = 0;
            loop {
                let rows = store.records(from, PAGE)?;
                let Some(last) = rows.last().map(|r| r.seq) else {
                    break;
                };
                for r in rows {
                    if start_ms.is_some_and(|s| r.event_time_ms < s) && records.is_empty() {
                        continue;
                    }
                    if end_ms.is_some_and(|e| r.event_time_ms > e) {
                        break;
                    }
                    records.push(chained(r));
                }
                from = last + 1;
            }
            let start_head = records.first().map_or(ChainHead::GENESIS, |r| ChainHead {
                seq: r.seq,
                hash: r.prev_hash,
            });
            let header = Header {
                public_key: key.public_key_der()?,
                start_head,
            };
            let range = records.first().map_or(1, |r| r.seq)..=records.last().map_or(0, |r| r.seq);
            let digests: Vec<Digest> = digests(store.as_ref())?
                .into_iter()
                .filter(|d| range.contains(&d.last_seq))
                .collect();
            let out: Box<dyn Write> = match output {
                Some(p) => Box::new(
                    std::fs::File::create(&p)
                        .with_context(|| format!("creating {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            keyfort_audit::write_export(std::io::BufWriter::new(out), &header, &records, &digests)?;
            Ok(0)
        }
        AuditCommand::Tail {
            data_dir,
            last,
            seconds,
        } => {
            let (store, _) = open(&dir(data_dir))?;
            let head = store.head()?.map_or(0, |(s, _)| s);
            let mut from = head.saturating_sub(last.saturating_sub(1)).max(1);
            if last == 0 {
                from = head + 1;
            }
            let deadline = seconds.map(|s| std::time::Instant::now() + Duration::from_secs(s));
            let mut out = std::io::stdout().lock();
            loop {
                let rows = store.records(from, PAGE)?;
                for r in &rows {
                    out.write_all(&r.event_json)?;
                    out.write_all(b"\n")?;
                    from = r.seq + 1;
                }
                out.flush()?;
                if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                    return Ok(0);
                }
                if rows.is_empty() {
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
        AuditCommand::Prune {
            data_dir,
            keep_days,
            export,
        } => {
            let data_dir = dir(data_dir);
            let (store, key) = open(&data_dir)?;
            let now = i64::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_millis(),
            )?;
            let cutoff = now - i64::from(keep_days) * 86_400_000;
            let digests = digests(store.as_ref())?;
            // Prune only up to a digest: its last_hash keeps the rest verifiable.
            let Some(upto) = digests
                .iter()
                .filter(|d| d.created_ms <= cutoff)
                .map(|d| d.last_seq)
                .max()
            else {
                println!("nothing to prune: no signed digest is older than {keep_days} days");
                return Ok(0);
            };
            let records: Vec<ChainedRecord> = store
                .records(0, usize::MAX)?
                .into_iter()
                .take_while(|r| r.seq <= upto)
                .map(chained)
                .collect();
            if records.is_empty() {
                println!("nothing to prune");
                return Ok(0);
            }
            let start_head = ChainHead {
                seq: records[0].seq,
                hash: records[0].prev_hash,
            };
            let header = Header {
                public_key: key.public_key_der()?,
                start_head,
            };
            let covering: Vec<Digest> = digests
                .iter()
                .filter(|d| d.last_seq >= records[0].seq && d.last_seq <= upto)
                .cloned()
                .collect();
            let file = std::fs::File::create(&export)
                .with_context(|| format!("creating {}", export.display()))?;
            let mut w = std::io::BufWriter::new(file);
            keyfort_audit::write_export(&mut w, &header, &records, &covering)?;
            w.flush()?;
            w.get_ref().sync_all()?;
            let store = keyfort_store::SqliteAuditStore::open_beside_server(
                &bootstrap::audit_database_path(&data_dir),
            )?;
            let n = store.prune_before(upto + 1)?;
            println!(
                "exported and pruned {n} records (through seq {upto}) to {}",
                export.display()
            );
            Ok(0)
        }
        AuditCommand::PublicKey { data_dir } => {
            let (_, key) = open(&dir(data_dir))?;
            print!("{}", pem(&key.public_key_der()?));
            Ok(0)
        }
    }
}
