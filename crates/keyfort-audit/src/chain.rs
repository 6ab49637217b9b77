//! The hash chain.
//!
//! Record `seq` stores the event bytes verbatim, the previous record's hash
//! and its own hash:
//!
//! ```text
//! hash = SHA-256( "keyfort-audit-v1"            16 ASCII bytes, no terminator
//!               || seq                           u64 big-endian
//!               || prev_hash                     32 bytes
//!               || len(event)                    u64 big-endian
//!               || event )                       the stored bytes
//! ```
//!
//! Every field has a fixed length or a length prefix, so no two different
//! records share a preimage. The first record has `seq` 1 and `prev_hash` 32
//! zero bytes ([`ChainHead::GENESIS`]); "the chain after record `s`" is the
//! head `{ seq: s + 1, hash: hash of record s }`.

use core::fmt;

/// Domain label at the start of every record-hash preimage.
pub const RECORD_HASH_DOMAIN: &[u8; 16] = b"keyfort-audit-v1";

/// The end of a chain: the sequence number the next record gets and the hash
/// it must name as `prev_hash`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHead {
    /// The next record's sequence number.
    pub seq: u64,
    /// The hash of the record `seq - 1` (zeros before the first record).
    pub hash: [u8; 32],
}

impl ChainHead {
    /// The head of an empty chain: the first record is seq 1 and names 32
    /// zero bytes as its predecessor.
    pub const GENESIS: Self = Self {
        seq: 1,
        hash: [0; 32],
    };

    /// Sequence number of the last record in the chain (0 when empty).
    #[must_use]
    pub fn last_seq(&self) -> u64 {
        self.seq.saturating_sub(1)
    }
}

impl Default for ChainHead {
    fn default() -> Self {
        Self::GENESIS
    }
}

impl fmt::Debug for ChainHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainHead")
            .field("seq", &self.seq)
            .field("hash", &crate::hex::encode(&self.hash))
            .finish()
    }
}

/// One stored record of the chain.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainedRecord {
    /// Position in the chain, from 1.
    pub seq: u64,
    /// The event's canonical JSON bytes ([`crate::Event::to_json`]), verbatim.
    pub event: Vec<u8>,
    /// The previous record's `hash`.
    pub prev_hash: [u8; 32],
    /// [`record_hash`] of this record.
    pub hash: [u8; 32],
}

impl ChainedRecord {
    /// The head of the chain that ends with this record.
    #[must_use]
    pub fn next_head(&self) -> ChainHead {
        ChainHead {
            // A chain of 2^64 records cannot be written; wrapping keeps this total.
            seq: self.seq.wrapping_add(1),
            hash: self.hash,
        }
    }

    /// Whether `hash` matches the content (`seq`, `prev_hash`, `event`).
    #[must_use]
    pub fn hash_is_valid(&self) -> bool {
        record_hash(self.seq, &self.prev_hash, &self.event) == self.hash
    }
}

impl fmt::Debug for ChainedRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainedRecord")
            .field("seq", &self.seq)
            .field("event", &String::from_utf8_lossy(&self.event))
            .field("prev_hash", &crate::hex::encode(&self.prev_hash))
            .field("hash", &crate::hex::encode(&self.hash))
            .finish()
    }
}

/// The hash of a record (see the module documentation for the preimage).
#[must_use]
pub fn record_hash(seq: u64, prev_hash: &[u8; 32], event: &[u8]) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(RECORD_HASH_DOMAIN);
    ctx.update(&seq.to_be_bytes());
    ctx.update(prev_hash);
    ctx.update(&(event.len() as u64).to_be_bytes());
    ctx.update(event);
    sha256_out(&ctx.finish())
}

/// Appends `event_json` to the chain ending at `head`: returns the record to
/// store and the new head. The caller must store the record and adopt the
/// new head atomically (one transaction), or the next record forks the chain.
///
/// Takes the event bytes by value when the caller has them to give (the server's
/// writer does, for every record), so they are not copied.
#[must_use]
pub fn link(head: &ChainHead, event_json: impl Into<Vec<u8>>) -> (ChainedRecord, ChainHead) {
    let event = event_json.into();
    let record = ChainedRecord {
        seq: head.seq,
        hash: record_hash(head.seq, &head.hash, &event),
        event,
        prev_hash: head.hash,
    };
    let next = record.next_head();
    (record, next)
}

/// SHA-256 of `data`.
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha256_out(&aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

fn sha256_out(d: &aws_lc_rs::digest::Digest) -> [u8; 32] {
    let mut out = [0u8; 32];
    // A SHA-256 digest is 32 bytes; zip copies min(32, len) either way.
    for (o, b) in out.iter_mut().zip(d.as_ref()) {
        *o = *b;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preimage_layout() {
        let prev = [7u8; 32];
        let event = br#"{"eventID":"x"}"#;
        let mut preimage = b"keyfort-audit-v1".to_vec();
        preimage.extend_from_slice(&5u64.to_be_bytes());
        preimage.extend_from_slice(&prev);
        preimage.extend_from_slice(&(event.len() as u64).to_be_bytes());
        preimage.extend_from_slice(event);
        assert_eq!(record_hash(5, &prev, event), sha256(&preimage));
    }

    #[test]
    fn known_answer() {
        // Fixed so that a change to the preimage cannot go unnoticed:
        // printf 'keyfort-audit-v1\0\0\0\0\0\0\0\1' ; 32 zero bytes ;
        // '\0\0\0\0\0\0\0\2' '{}' | sha256sum
        assert_eq!(
            crate::hex::encode(&record_hash(1, &[0; 32], b"{}")),
            KNOWN_GENESIS_HASH
        );
    }

    const KNOWN_GENESIS_HASH: &str =
        "8ad7da69c3c6e5c40aadd96f3da5ff131db91b5f7b9964aa9f3af7fb8dfdca02";

    #[test]
    fn link_chains() {
        let (r1, h1) = link(&ChainHead::GENESIS, b"{\"a\":1}");
        assert_eq!(r1.seq, 1);
        assert_eq!(r1.prev_hash, [0; 32]);
        assert!(r1.hash_is_valid());
        assert_eq!(
            h1,
            ChainHead {
                seq: 2,
                hash: r1.hash
            }
        );
        let (r2, h2) = link(&h1, b"{\"a\":2}");
        assert_eq!((r2.seq, r2.prev_hash), (2, r1.hash));
        assert_eq!(h2.last_seq(), 2);
        assert_eq!(ChainHead::GENESIS.last_seq(), 0);
        // Every input is bound: seq, prev_hash, event.
        assert_ne!(record_hash(2, &r1.hash, b"{\"a\":3}"), r2.hash);
        assert_ne!(record_hash(3, &r1.hash, b"{\"a\":2}"), r2.hash);
        assert_ne!(record_hash(2, &[0; 32], b"{\"a\":2}"), r2.hash);
    }
}
