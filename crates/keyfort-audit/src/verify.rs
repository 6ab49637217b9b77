//! Verification of a chain and its digests.
//!
//! Records are checked in one streaming pass ([`Verifier::push`]), so a store
//! of any size can be verified in memory that grows only with the number of
//! anomalies: what is kept is the last [`WINDOW`] hashes, the missing
//! ranges, the hashes of records not directly followed by their successor,
//! and the records whose predecessor has not been seen yet.
//!
//! What each finding means:
//!
//! | finding | cause |
//! |---|---|
//! | [`Problem::Edited`] | the stored hash does not match seq, prev_hash and event bytes |
//! | [`Problem::Missing`] | sequence numbers never seen (removed), including a tail a signed digest covers |
//! | [`Problem::OutOfOrder`] | a record arrives after a higher one (reordered) |
//! | [`Problem::Duplicate`], [`Problem::BeforeStart`] | a sequence number seen twice, or below the start (inserted) |
//! | [`Problem::BrokenLink`] | prev_hash is not the hash of record seq − 1 (inserted, replaced, rewritten) |
//! | [`Problem::BadSignature`] | a digest's signature fails (forged or altered) |
//! | [`Problem::DigestMismatch`] | a signed digest disagrees with the chain at its last_seq (rewritten) |
//! | [`Problem::DigestLink`] | the digests themselves do not form a chain |
//! | [`Problem::UnsignedTail`] | warning: the newest records are not signed yet |
//! | [`Problem::SignaturesNotChecked`] | warning: no public key was given |
//! | [`Problem::ExportKeyDiffers`] | warning: an export names another key than the pinned one |
//!
//! A record after the last digest can be removed or altered without a trace
//! unless a newer digest (or a copy of one kept elsewhere) covers it; sign
//! digests often and ship them off the machine.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;

use crate::chain::{ChainHead, ChainedRecord, sha256};
use crate::digest::{Digest, verify_digest};
use crate::event::event_id_of;

/// How many recent record hashes the verifier keeps to check the links of
/// records that arrive out of order.
pub const WINDOW: usize = 1024;

/// One finding of [`verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The record's hash does not match its content: edited.
    Edited {
        /// The record's sequence number.
        seq: u64,
        /// Its `eventID`, if the bytes still parse.
        event_id: Option<String>,
    },
    /// Records `first_seq..=last_seq` are absent: removed.
    Missing {
        /// First absent sequence number.
        first_seq: u64,
        /// Last absent sequence number.
        last_seq: u64,
    },
    /// A record appears after a higher one: reordered.
    OutOfOrder {
        /// The record's sequence number.
        seq: u64,
        /// Its `eventID`.
        event_id: Option<String>,
        /// The record just before it in the input.
        after_seq: u64,
    },
    /// A sequence number seen before: inserted or duplicated.
    Duplicate {
        /// The repeated sequence number.
        seq: u64,
        /// The `eventID` of the later occurrence.
        event_id: Option<String>,
    },
    /// A record below the start head's sequence number: inserted.
    BeforeStart {
        /// The record's sequence number.
        seq: u64,
        /// Its `eventID`.
        event_id: Option<String>,
    },
    /// `prev_hash` is not the hash of record `prev_seq` (or of the start head).
    BrokenLink {
        /// The record's sequence number.
        seq: u64,
        /// Its `eventID`.
        event_id: Option<String>,
        /// `seq - 1`.
        prev_seq: u64,
    },
    /// The digest's signature does not verify under the given key.
    BadSignature {
        /// The digest's `digest_seq`.
        digest_seq: u64,
    },
    /// A correctly signed digest names a different hash for `last_seq` than
    /// the chain has.
    DigestMismatch {
        /// The digest's `digest_seq`.
        digest_seq: u64,
        /// The record it disagrees about.
        last_seq: u64,
    },
    /// The digests do not form a chain.
    DigestLink {
        /// The digest's `digest_seq`.
        digest_seq: u64,
        /// How the link is broken.
        kind: DigestBreak,
    },
    /// Warning: records `first_seq..=last_seq` are not covered by a signed
    /// digest yet, so their removal or alteration could not be detected.
    UnsignedTail {
        /// First unsigned record.
        first_seq: u64,
        /// Last record.
        last_seq: u64,
    },
    /// Warning: no public key was given, so digest signatures were not checked.
    SignaturesNotChecked,
    /// Warning: an export's header names a public key other than the pinned
    /// one ([`crate::verify_export`]); the pinned key was used.
    ExportKeyDiffers,
}

/// How a digest fails to follow the one before it in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestBreak {
    /// `digest_seq` is not the previous digest's plus one: digests were
    /// removed, inserted or reordered.
    Sequence {
        /// The previous digest's `digest_seq`.
        previous_digest_seq: u64,
    },
    /// `previous_digest_signature_hash` is not the SHA-256 of the previous
    /// digest's signature: one of the two was replaced.
    SignatureHash {
        /// The previous digest's `digest_seq`.
        previous_digest_seq: u64,
    },
    /// `first_seq` is not the previous digest's `last_seq + 1`.
    Interval {
        /// The `first_seq` it should have.
        expected_first_seq: u64,
    },
    /// `first_seq > last_seq + 1`.
    Malformed,
    /// Verifying from genesis, the first digest is not digest 1 with a zero
    /// previous hash starting at record 1: earlier digests were removed.
    NotFirst,
}

impl Problem {
    /// Whether this finding is a warning rather than evidence of tampering.
    #[must_use]
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Self::UnsignedTail { .. } | Self::SignaturesNotChecked | Self::ExportKeyDiffers
        )
    }

    /// Ordering for reports: record findings by seq, then digest findings,
    /// then warnings.
    fn sort_key(&self) -> (u8, u64) {
        match self {
            Self::Edited { seq, .. }
            | Self::OutOfOrder { seq, .. }
            | Self::Duplicate { seq, .. }
            | Self::BeforeStart { seq, .. }
            | Self::BrokenLink { seq, .. }
            | Self::Missing { first_seq: seq, .. } => (0, *seq),
            Self::BadSignature { digest_seq }
            | Self::DigestMismatch { digest_seq, .. }
            | Self::DigestLink { digest_seq, .. } => (1, *digest_seq),
            Self::UnsignedTail { first_seq, .. } => (2, *first_seq),
            Self::SignaturesNotChecked | Self::ExportKeyDiffers => (3, 0),
        }
    }
}

struct Eid<'a>(&'a Option<String>);

impl fmt::Display for Eid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " (event {id})"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Edited { seq, event_id } => write!(
                f,
                "record {seq}{}: hash does not match its content (edited)",
                Eid(event_id)
            ),
            Self::Missing {
                first_seq,
                last_seq,
            } if first_seq == last_seq => {
                write!(f, "record {first_seq}: missing (removed)")
            }
            Self::Missing {
                first_seq,
                last_seq,
            } => {
                write!(f, "records {first_seq}..={last_seq}: missing (removed)")
            }
            Self::OutOfOrder {
                seq,
                event_id,
                after_seq,
            } => write!(
                f,
                "record {seq}{}: out of order, found after record {after_seq} (reordered)",
                Eid(event_id)
            ),
            Self::Duplicate { seq, event_id } => write!(
                f,
                "record {seq}{}: sequence number seen before (inserted or duplicated)",
                Eid(event_id)
            ),
            Self::BeforeStart { seq, event_id } => write!(
                f,
                "record {seq}{}: precedes the start of the verified chain (inserted)",
                Eid(event_id)
            ),
            Self::BrokenLink {
                seq,
                event_id,
                prev_seq,
            } => write!(
                f,
                "record {seq}{}: prev_hash is not the hash of record {prev_seq} \
                 (a record was inserted, removed, replaced or reordered)",
                Eid(event_id)
            ),
            Self::BadSignature { digest_seq } => write!(
                f,
                "digest {digest_seq}: signature does not verify (forged or altered)"
            ),
            Self::DigestMismatch {
                digest_seq,
                last_seq,
            } => write!(
                f,
                "digest {digest_seq}: signed hash of record {last_seq} differs from the chain \
                 (records rewritten)"
            ),
            Self::DigestLink { digest_seq, kind } => write!(f, "digest {digest_seq}: {kind}"),
            Self::UnsignedTail {
                first_seq,
                last_seq,
            } => write!(
                f,
                "records {first_seq}..={last_seq} are not covered by a signed digest yet"
            ),
            Self::SignaturesNotChecked => {
                f.write_str("no public key given; digest signatures were not checked")
            }
            Self::ExportKeyDiffers => {
                f.write_str("the export names a different public key; verified with the pinned key")
            }
        }
    }
}

impl fmt::Display for DigestBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sequence {
                previous_digest_seq,
            } => write!(
                f,
                "follows digest {previous_digest_seq} (digests removed, inserted or reordered)"
            ),
            Self::SignatureHash {
                previous_digest_seq,
            } => write!(
                f,
                "does not commit to digest {previous_digest_seq}'s signature (digest replaced)"
            ),
            Self::Interval { expected_first_seq } => write!(
                f,
                "covered interval should start at record {expected_first_seq}"
            ),
            Self::Malformed => f.write_str("first_seq is past last_seq + 1"),
            Self::NotFirst => f.write_str("is not the first digest (earlier digests removed)"),
        }
    }
}

/// The outcome of [`verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// No problem other than warnings.
    pub ok: bool,
    /// Records examined.
    pub records_checked: u64,
    /// Digests examined.
    pub digests_checked: u64,
    /// Findings, records by seq first, then digests, then warnings.
    pub problems: Vec<Problem>,
}

impl fmt::Display for VerifyReport {
    /// `OK: N records, M digests verified` (then any warnings), or a
    /// `FAILED` line followed by one line per problem.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok {
            write!(
                f,
                "OK: {} records, {} digests verified",
                self.records_checked, self.digests_checked
            )?;
        } else {
            let n = self.problems.iter().filter(|p| !p.is_warning()).count();
            write!(
                f,
                "FAILED: {n} problems in {} records, {} digests",
                self.records_checked, self.digests_checked
            )?;
        }
        for p in &self.problems {
            if p.is_warning() {
                write!(f, "\nwarning: {p}")?;
            } else {
                write!(f, "\n{p}")?;
            }
        }
        Ok(())
    }
}

/// Verifies `records` (in stored order) and `digests` (in digest order).
///
/// `public_key_der` is the pinned SPKI of the audit signing key; without it
/// signatures are not checked (a warning) and every digest is taken at its
/// word. `start` is the head the records continue from: `None` for a chain
/// from genesis, or the head after the last pruned record, to verify a
/// suffix. A digest whose `last_seq` is `start.seq - 1` attests the start
/// head itself; digests that end before it are checked only for signature
/// and linkage.
#[must_use]
pub fn verify_chain(
    records: impl IntoIterator<Item = ChainedRecord>,
    digests: &[Digest],
    public_key_der: Option<&[u8]>,
    start: Option<ChainHead>,
) -> VerifyReport {
    let mut v = Verifier::new(digests, public_key_der, start);
    for r in records {
        v.push(&r);
    }
    v.finish()
}

struct Pending {
    seq: u64,
    event_id: Option<String>,
    prev_hash: [u8; 32],
}

/// Streaming form of [`verify_chain`], for callers whose records come from a
/// fallible source: `new`, `push` each record in stored order, `finish`.
pub struct Verifier<'a> {
    digests: &'a [Digest],
    start: ChainHead,
    /// Digests whose signature verified (all, without a key).
    trusted: Vec<bool>,
    /// Trusted digests ending at or after `start.seq`, by `last_seq`.
    by_last_seq: HashMap<u64, Vec<usize>>,
    /// Per digest: (a record with its last_seq was seen, one matched).
    coverage: Vec<(bool, bool)>,
    records: u64,
    max_seq: u64,
    holes: BTreeMap<u64, u64>,
    pred: (u64, [u8; 32]),
    window: VecDeque<(u64, [u8; 32])>,
    /// Hashes of records not directly followed by their successor.
    loose: HashMap<u64, Vec<[u8; 32]>>,
    pending: HashMap<u64, Vec<Pending>>,
    problems: Vec<Problem>,
}

impl<'a> Verifier<'a> {
    /// Checks the digests' signatures and linkage and gets ready for records.
    #[must_use]
    pub fn new(
        digests: &'a [Digest],
        public_key_der: Option<&[u8]>,
        start: Option<ChainHead>,
    ) -> Self {
        let start = start.unwrap_or(ChainHead::GENESIS);
        let mut problems = Vec::new();
        let trusted: Vec<bool> = digests
            .iter()
            .map(|d| match public_key_der {
                Some(key) => {
                    let ok = verify_digest(key, d);
                    if !ok {
                        problems.push(Problem::BadSignature {
                            digest_seq: d.digest_seq,
                        });
                    }
                    ok
                }
                None => true,
            })
            .collect();
        if public_key_der.is_none() && !digests.is_empty() {
            problems.push(Problem::SignaturesNotChecked);
        }
        check_digest_links(digests, start, &mut problems);
        let mut by_last_seq: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, d) in digests.iter().enumerate() {
            if trusted[i] && d.last_seq >= start.seq {
                by_last_seq.entry(d.last_seq).or_default().push(i);
            }
        }
        Self {
            digests,
            start,
            trusted,
            by_last_seq,
            coverage: vec![(false, false); digests.len()],
            records: 0,
            max_seq: start.last_seq(),
            holes: BTreeMap::new(),
            pred: (start.last_seq(), start.hash),
            window: VecDeque::with_capacity(WINDOW),
            loose: HashMap::new(),
            pending: HashMap::new(),
            problems,
        }
    }

    /// Checks the next record in stored order.
    pub fn push(&mut self, r: &ChainedRecord) {
        self.records += 1;
        let eid = || event_id_of(&r.event);
        if !r.hash_is_valid() {
            self.problems.push(Problem::Edited {
                seq: r.seq,
                event_id: eid(),
            });
        }

        // Where the sequence number fits.
        let consecutive = self.pred.0.checked_add(1) == Some(r.seq);
        if r.seq > self.max_seq {
            if r.seq - self.max_seq > 1 {
                self.holes.insert(self.max_seq + 1, r.seq - 1);
            }
            self.max_seq = r.seq;
        } else if self.fill_hole(r.seq) {
            self.problems.push(Problem::OutOfOrder {
                seq: r.seq,
                event_id: eid(),
                after_seq: self.pred.0,
            });
        } else if r.seq < self.start.seq {
            self.problems.push(Problem::BeforeStart {
                seq: r.seq,
                event_id: eid(),
            });
        } else {
            self.problems.push(Problem::Duplicate {
                seq: r.seq,
                event_id: eid(),
            });
        }

        // Whether prev_hash is the hash of record seq - 1: the start head, the
        // record just before it, or one seen (or still to come) elsewhere.
        // Records below the start are reported above and have no link to check.
        if !consecutive {
            self.loose.entry(self.pred.0).or_default().push(self.pred.1);
        }
        if r.seq == self.start.seq {
            if r.prev_hash != self.start.hash {
                self.problems.push(Problem::BrokenLink {
                    seq: r.seq,
                    event_id: eid(),
                    prev_seq: self.start.last_seq(),
                });
            }
        } else if r.seq > self.start.seq && consecutive {
            if r.prev_hash != self.pred.1 {
                self.problems.push(Problem::BrokenLink {
                    seq: r.seq,
                    event_id: eid(),
                    prev_seq: self.pred.0,
                });
            }
        } else if r.seq > self.start.seq {
            let want = r.seq - 1;
            let seen = |(s, h): &(u64, [u8; 32])| *s == want && *h == r.prev_hash;
            let linked = self.window.iter().any(seen)
                || self
                    .loose
                    .get(&want)
                    .is_some_and(|hs| hs.contains(&r.prev_hash));
            if !linked {
                self.pending.entry(want).or_default().push(Pending {
                    seq: r.seq,
                    event_id: eid(),
                    prev_hash: r.prev_hash,
                });
            }
        }

        // Records waiting for this one as their predecessor.
        if let Some(waiting) = self.pending.get_mut(&r.seq) {
            waiting.retain(|p| p.prev_hash != r.hash);
            if waiting.is_empty() {
                self.pending.remove(&r.seq);
            }
        }

        // Digests that end here.
        if let Some(ds) = self.by_last_seq.get(&r.seq) {
            for &i in ds {
                let matched = self.digests[i].last_hash == r.hash;
                let c = &mut self.coverage[i];
                *c = (true, c.1 || matched);
            }
        }

        if self.window.len() == WINDOW {
            self.window.pop_front();
        }
        self.window.push_back((r.seq, r.hash));
        self.pred = (r.seq, r.hash);
    }

    /// Finishes: unresolved links, digest coverage, missing ranges, warnings.
    #[must_use]
    pub fn finish(mut self) -> VerifyReport {
        let start = self.start;
        let mut covered_to = start.last_seq();
        for (i, d) in self.digests.iter().enumerate() {
            if !self.trusted[i] || d.last_seq < start.last_seq() {
                continue;
            }
            covered_to = covered_to.max(d.last_seq);
            if d.last_seq == start.last_seq() {
                if d.last_hash != start.hash {
                    self.problems.push(Problem::DigestMismatch {
                        digest_seq: d.digest_seq,
                        last_seq: d.last_seq,
                    });
                }
            } else if self.coverage[i] == (true, false) {
                self.problems.push(Problem::DigestMismatch {
                    digest_seq: d.digest_seq,
                    last_seq: d.last_seq,
                });
            }
            // Not seen at all: the record is missing, reported below.
        }
        // A signed digest vouches for records up to its last_seq: a shorter
        // chain lost its tail.
        if covered_to > self.max_seq {
            self.holes.insert(self.max_seq + 1, covered_to);
        }

        let mut pending: Vec<Pending> = self.pending.drain().flat_map(|(_, v)| v).collect();
        pending.sort_by_key(|p| p.seq);
        for p in pending {
            // A missing predecessor is already reported as missing.
            if !self.in_hole(p.seq - 1) {
                self.problems.push(Problem::BrokenLink {
                    seq: p.seq,
                    event_id: p.event_id,
                    prev_seq: p.seq - 1,
                });
            }
        }
        for (&first_seq, &last_seq) in &self.holes {
            self.problems.push(Problem::Missing {
                first_seq,
                last_seq,
            });
        }
        if self.max_seq > covered_to {
            self.problems.push(Problem::UnsignedTail {
                first_seq: covered_to + 1,
                last_seq: self.max_seq,
            });
        }

        self.problems.sort_by_key(Problem::sort_key);
        VerifyReport {
            ok: self.problems.iter().all(Problem::is_warning),
            records_checked: self.records,
            digests_checked: self.digests.len() as u64,
            problems: self.problems,
        }
    }

    /// Removes `seq` from the missing ranges; whether it was in one.
    fn fill_hole(&mut self, seq: u64) -> bool {
        let Some((&first, &last)) = self.holes.range(..=seq).next_back() else {
            return false;
        };
        if seq > last {
            return false;
        }
        self.holes.remove(&first);
        if first < seq {
            self.holes.insert(first, seq - 1);
        }
        if seq < last {
            self.holes.insert(seq + 1, last);
        }
        true
    }

    fn in_hole(&self, seq: u64) -> bool {
        self.holes
            .range(..=seq)
            .next_back()
            .is_some_and(|(_, &last)| seq <= last)
    }
}

/// Signature-independent checks that the digests form a chain.
fn check_digest_links(digests: &[Digest], start: ChainHead, problems: &mut Vec<Problem>) {
    let mut prev: Option<&Digest> = None;
    for d in digests {
        let mut push = |kind| {
            problems.push(Problem::DigestLink {
                digest_seq: d.digest_seq,
                kind,
            });
        };
        if d.first_seq > d.last_seq.saturating_add(1) {
            push(DigestBreak::Malformed);
        }
        match prev {
            None if start == ChainHead::GENESIS
                && (d.digest_seq != 1
                    || d.previous_digest_signature_hash != [0; 32]
                    || d.first_seq != 1) =>
            {
                push(DigestBreak::NotFirst);
            }
            None => {}
            Some(p) if p.digest_seq.checked_add(1) != Some(d.digest_seq) => {
                push(DigestBreak::Sequence {
                    previous_digest_seq: p.digest_seq,
                });
            }
            Some(p) => {
                if d.previous_digest_signature_hash != sha256(&p.signature) {
                    push(DigestBreak::SignatureHash {
                        previous_digest_seq: p.digest_seq,
                    });
                }
                let expected_first_seq = p.last_seq.saturating_add(1);
                if d.first_seq != expected_first_seq {
                    push(DigestBreak::Interval { expected_first_seq });
                }
            }
        }
        prev = Some(d);
    }
}
