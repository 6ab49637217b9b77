//! keyfort-store: the persistence backends behind [`keyfort_core::store::Store`].
//!
//! [`SqliteStore`] is the embedded default: one SQLite file in the data directory,
//! WAL journal, `synchronous=FULL` (an acknowledged write survives `kill -9` and power
//! loss), foreign keys on, and `secure_delete` on so freed pages are zeroed.
//!
//! Every backend must pass the same suite, [`conformance`], written once against the
//! trait. It is compiled for this crate's tests and, for other crates, behind the
//! `conformance` feature.
#![forbid(unsafe_code)]

mod audit;
mod codec;
mod error;
mod grants;
mod iam;
mod keys;
mod schema;
mod sqlite;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

pub use audit::SqliteAuditStore;
pub use error::SqliteError;
pub use schema::SCHEMA_VERSION;
pub use sqlite::SqliteStore;

#[cfg(test)]
mod tests;
