//! How SQLite failures become [`StoreError`]s.
//!
//! Unique and primary-key violations are [`StoreError::Conflict`]; a value that does
//! not decode into its record field is [`StoreError::Corrupt`]; everything else is
//! [`StoreError::Backend`] carrying the original error for the log.

use keyfort_core::store::StoreError;
use rusqlite::ffi;

/// Failures the SQLite backend detects itself, boxed inside [`StoreError::Backend`].
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// The database was written by a newer keyfort; opening it could corrupt it.
    #[error("database schema version {found} is newer than the supported {supported}")]
    SchemaTooNew {
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A required `PRAGMA` did not take effect (e.g. the file system refuses WAL).
    #[error("PRAGMA {name} is {actual}, expected {expected}")]
    Pragma {
        /// The pragma.
        name: &'static str,
        /// What it was set to.
        expected: &'static str,
        /// What SQLite reports.
        actual: String,
    },
    /// A checkpoint could not complete because a reader or writer held the WAL.
    #[error("WAL checkpoint blocked by another connection")]
    CheckpointBusy,
}

/// Maps any rusqlite error: constraint collisions become `Conflict`.
pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict
    } else {
        StoreError::Backend(Box::new(e))
    }
}

/// Maps an error raised while reading a row of `table`: a column of the wrong type or
/// range is corruption, anything else goes through [`backend`].
pub(crate) fn reading(table: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| match e {
        rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt {
            table,
            detail: e.to_string(),
        },
        other => backend(other),
    }
}

/// A `Corrupt` error for `table`.
pub(crate) fn corrupt(table: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table,
        detail: detail.into(),
    }
}

/// Wraps one of our own failures.
pub(crate) fn own(e: SqliteError) -> StoreError {
    StoreError::Backend(Box::new(e))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_error().is_some_and(|err| {
        err.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            || err.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
    })
}
