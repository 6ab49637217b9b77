//! The crate's error type.

/// Everything that can go wrong in this crate. Verification findings are not
/// errors: they are [`crate::Problem`]s in a [`crate::VerifyReport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The system random number generator failed.
    #[error("random number generator failed")]
    Random(#[source] aws_lc_rs::error::Unspecified),
    /// Generating, encoding or signing with the audit signing key failed.
    #[error("audit signing key operation failed")]
    Crypto(#[source] aws_lc_rs::error::Unspecified),
    /// The PKCS#8 document is not an ECDSA P-256 private key.
    #[error("invalid audit signing key")]
    InvalidKey(#[source] aws_lc_rs::error::KeyRejected),
    /// An event could not be serialized to JSON.
    #[error("serializing an audit event")]
    Serialize(#[source] serde_json::Error),
    /// A timestamp is not `YYYY-MM-DDTHH:MM:SS[.fff]Z` or names no real instant.
    #[error("invalid ISO-8601 UTC timestamp {0:?}")]
    Timestamp(String),
    /// Reading an export failed.
    #[error("reading audit export")]
    Io(#[from] std::io::Error),
    /// A line of an export is malformed.
    #[error("audit export line {line}")]
    Export {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        #[source]
        kind: ExportError,
    },
}

/// What is wrong with a line of an export (see [`crate::read_export`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The line is not JSON of the expected shape.
    #[error("not a valid export line")]
    Json(#[source] serde_json::Error),
    /// The first line is not a header.
    #[error("the first line must be the header")]
    MissingHeader,
    /// A second header line.
    #[error("more than one header")]
    DuplicateHeader,
    /// The header names a format this crate does not read.
    #[error("unsupported export format {0:?}")]
    UnsupportedFormat(String),
    /// A field that must be hex is not 64 hex digits.
    #[error("field {0} is not 32 bytes of hex")]
    Hex(&'static str),
    /// A field that must be base64 is not.
    #[error("field {field} is not base64")]
    Base64 {
        /// The field's name.
        field: &'static str,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },
    /// A record line has neither or both of `eventJson` and `eventBase64`.
    #[error("a record needs exactly one of eventJson and eventBase64")]
    EventField,
}
