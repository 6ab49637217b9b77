//! The crate's single error type and the small enums that say what was wrong.

use aws_lc_rs::error::Unspecified;

/// Everything that can go wrong in `keyfort-crypto`.
///
/// The enum is deliberately *not* `#[non_exhaustive]`: the server maps every
/// variant to a wire error in one `match`, and a new variant should break that
/// match at compile time instead of falling into a wildcard arm.
///
/// No variant ever carries secret material; `Display` output is safe to log.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random(#[source] Unspecified),

    /// AES-256-GCM sealing failed (an internal error, not caused by input data).
    #[error("AES-256-GCM encryption failed")]
    Seal(#[source] Unspecified),

    /// Authentication failed while opening: wrong key, wrong AAD or encryption
    /// context, or the ciphertext was modified. Deliberately says nothing more.
    #[error("decryption failed: wrong key, wrong context, or modified ciphertext")]
    Open(#[source] Unspecified),

    /// Deriving (HKDF-SHA256) or installing an AES-256-GCM key failed; an
    /// internal error, never caused by input data.
    #[error("key derivation or key setup failed")]
    KeySetup(#[source] Unspecified),

    /// Key material of the wrong length was supplied.
    #[error("invalid key length: expected {expected} bytes, got {actual}")]
    InvalidKeyLength {
        /// The required length in bytes.
        expected: usize,
        /// The length that was supplied.
        actual: usize,
    },

    /// A key id passed to [`crate::encrypt_symmetric`] cannot be stored in a blob.
    #[error("invalid key id: {0}")]
    InvalidKeyId(#[source] KeyIdError),

    /// A ciphertext blob could not be parsed.
    #[error("malformed ciphertext blob: {0}")]
    MalformedBlob(#[source] Malformed),

    /// A value sealed under the root key could not be parsed.
    #[error("malformed sealed value: {0}")]
    MalformedSealed(#[source] Malformed),

    /// A blob or sealed value is well formed but uses a format version this
    /// build does not know.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u8),

    /// Reading or writing the root key file failed.
    #[error("root key file I/O failed")]
    Io(#[from] std::io::Error),

    /// The root key file exists but is unacceptable.
    #[error("invalid root key file: {0}")]
    InvalidKeyFile(#[source] KeyFileError),
}

/// What was wrong with a key id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyIdError {
    /// The key id is empty.
    #[error("key id is empty")]
    Empty,
    /// The key id is longer than [`crate::MAX_KEY_ID_LEN`] bytes.
    #[error("key id is {0} bytes long, the maximum is 64")]
    TooLong(usize),
    /// The key id contains a byte outside printable ASCII (`0x21..=0x7e`).
    #[error("key id contains a character outside printable ASCII")]
    InvalidCharacter,
}

/// What was wrong with a ciphertext blob or sealed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    /// The input ends before a required field (including the 16-byte tag).
    #[error("input is truncated")]
    Truncated,
    /// The input does not start with the expected magic bytes.
    #[error("input does not start with the keyfort magic bytes")]
    BadMagic,
    /// The embedded key id is invalid.
    #[error("embedded key id is invalid: {0}")]
    KeyId(#[source] KeyIdError),
}

/// What was wrong with the root key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// The path exists but is not a regular file.
    #[error("not a regular file")]
    NotRegularFile,
    /// Group or other users have some access to the file.
    #[error("file mode {mode:04o} gives group or other users access; it must be 0600 or 0400")]
    InsecurePermissions {
        /// The file's permission bits.
        mode: u32,
    },
    /// The file has the wrong size for the format.
    #[error("file is {actual} bytes long, expected {expected}")]
    WrongSize {
        /// The required size in bytes.
        expected: u64,
        /// The file's actual size in bytes.
        actual: u64,
    },
    /// The file does not start with the root key file magic.
    #[error("file does not start with the keyfort root key magic")]
    BadMagic,
    /// The file uses a format version this build does not know.
    #[error("unsupported root key file version {0}")]
    UnsupportedVersion(u8),
    /// The checksum does not match the contents (the file is corrupt).
    #[error("checksum mismatch (file is corrupt)")]
    ChecksumMismatch,
}
