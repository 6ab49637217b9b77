//! keyfort's tamper-evident audit trail, as a pure library: CloudTrail
//! events ([`Event`]), the SHA-256 hash chain ([`link`]), signed digests
//! ([`AuditSigningKey`], [`verify_digest`]), verification ([`verify_chain`])
//! and the JSON Lines export ([`write_export`], [`read_export`]). No
//! database and no I/O other than the reader and writer the export
//! functions are handed.
//!
//! # Writing
//!
//! For each request: build an [`Event`], serialize it **once** with
//! [`Event::to_json`], and in one transaction [`link`] it to the stored
//! [`ChainHead`], store the [`ChainedRecord`] and the new head. Every so
//! often, [`AuditSigningKey::sign_digest`] an [`UnsignedDigest::next`] of the
//! current head and store the [`Digest`]. Records and digests are
//! append-only; seq starts at 1 ([`ChainHead::GENESIS`]).
//!
//! ```
//! use keyfort_audit::*;
//!
//! let key = AuditSigningKey::generate()?;
//! let mut head = ChainHead::GENESIS;
//! let mut records = Vec::new();
//! for i in 0..3 {
//!     let identity = UserIdentity {
//!         identity_type: Some("IAMUser".into()), principal_id: None, arn: None,
//!         account_id: Some("111122223333".into()), access_key_id: None,
//!         user_name: None, invoked_by: None, session_context: None,
//!     };
//!     let event = Event::kms_api_call(identity, 1_795_899_600_000 + i, "Encrypt",
//!         "us-east-1", "111122223333", format!("req-{i}"), new_event_id()?);
//!     let (record, next) = link(&head, event.to_json()?);
//!     records.push(record);
//!     head = next;
//! }
//! let digest = key.sign_digest(UnsignedDigest::next(None, &head, 1_795_899_601_000))?;
//!
//! let public_key = key.public_key_der()?;
//! let report = verify_chain(records, &[digest], Some(&public_key), None);
//! assert!(report.ok);
//! assert_eq!(report.to_string(), "OK: 3 records, 1 digests verified");
//! # Ok::<(), keyfort_audit::Error>(())
//! ```
//!
//! # Pruning
//!
//! To keep a store bounded, export first, then delete the oldest records
//! **up to the `last_seq` of a digest** and keep all digests. Verify the rest
//! with `start = Some(ChainHead { seq: d.last_seq + 1, hash: d.last_hash })`
//! for that digest `d`: the retained digest attests the start head, and the
//! records after it chain from it. Exports are verified from their header's
//! start head ([`verify_export`]).
//!
//! # What is and is not detected
//!
//! Any edit, removal, insertion or reordering of records that a signed
//! digest covers, any forged or altered digest, and removed or reordered
//! digests between retained ones. Records after the newest digest are
//! reported as an unsigned tail (a warning): deleting them together with no
//! digest cannot be seen from the store alone, nor can deleting the newest
//! digests with the records they cover. Keep copies of digests off the
//! machine (an export, a SIEM) to anchor the end of the chain.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod chain;
mod digest;
mod error;
mod event;
mod export;
mod hex;
mod ids;
mod time;
mod verify;

pub use chain::{ChainHead, ChainedRecord, RECORD_HASH_DOMAIN, link, record_hash, sha256};
pub use digest::{
    AuditKeyPkcs8, AuditSigningKey, DIGEST_SIGNING_DOMAIN, Digest, UnsignedDigest, verify_digest,
};
pub use error::{Error, ExportError};
pub use event::{
    EVENT_VERSION, Event, EventType, KMS_EVENT_SOURCE, KMS_KEY_RESOURCE_TYPE, MANAGEMENT_CATEGORY,
    Resource, SessionAttributes, SessionContext, SessionIssuer, TlsDetails, UserIdentity,
};
pub use export::{
    EXPORT_FORMAT, Header, read_digest_line, read_export, verify_export, write_digest_line,
    write_export, write_header_line, write_record_line,
};
pub use ids::{new_event_id, new_request_id};
pub use time::{format_iso8601, parse_iso8601};
pub use verify::{DigestBreak, Problem, Verifier, VerifyReport, WINDOW, verify_chain};
