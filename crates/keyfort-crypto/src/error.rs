//! The crate's single error type and the small enums that say what was wrong.

use aws_lc_rs::error::{KeyRejected, Unspecified};

use crate::{AsymSpec, MessageKind, SigningAlgorithm};

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

    /// Generating an asymmetric key pair failed (an internal error).
    #[error("key pair generation failed")]
    KeyGeneration(#[source] Unspecified),

    /// Stored private key material is not a valid key of the expected spec
    /// (does not parse, wrong algorithm, curve, parameter set or RSA size).
    #[error("private key material is not a valid {spec} key")]
    InvalidKey {
        /// The spec the material was loaded as.
        spec: AsymSpec,
        /// aws-lc's reason, when it gave one (`None` for a size mismatch).
        #[source]
        source: Option<KeyRejected>,
    },

    /// Encoding a key as DER (PKCS#8 or SubjectPublicKeyInfo) failed; an
    /// internal error.
    #[error("key encoding failed")]
    KeyEncoding(#[source] Unspecified),

    /// The operation or algorithm is not one AWS allows for the key's spec
    /// (e.g. `ECDSA_SHA_384` with a P-256 key, OAEP with an ECC key, ECDH with
    /// an Ed25519 key).
    #[error("{operation} is not valid for a {spec} key")]
    IncompatibleKey {
        /// The key's spec.
        spec: AsymSpec,
        /// The algorithm or operation that was asked for.
        operation: &'static str,
    },

    /// AWS allows this, but aws-lc-rs (without `unsafe`) cannot do it; the
    /// text says what and why. See `docs/asymmetric.md`.
    #[error("unsupported: {0}")]
    UnsupportedAlgorithm(&'static str),

    /// AWS rejects this `MessageType` for this signing algorithm too (e.g.
    /// `DIGEST` with `ED25519_SHA_512`, `EXTERNAL_MU` with ECDSA).
    #[error("message type {kind} is not valid with {algorithm}")]
    InvalidMessageType {
        /// The signing algorithm.
        algorithm: SigningAlgorithm,
        /// The message type that was given.
        kind: MessageKind,
    },

    /// AWS accepts this `MessageType` for this algorithm, but aws-lc-rs cannot
    /// process it (ML-DSA `EXTERNAL_MU`).
    #[error("message type {kind} with {algorithm} is not supported by this build")]
    UnsupportedMessageType {
        /// The signing algorithm.
        algorithm: SigningAlgorithm,
        /// The message type that was given.
        kind: MessageKind,
    },

    /// A `DIGEST` (or `EXTERNAL_MU`) message has the wrong length for the
    /// algorithm's hash.
    #[error("digest length is {got} bytes, the algorithm requires {expected}")]
    DigestLength {
        /// The required length in bytes.
        expected: usize,
        /// The length that was given.
        got: usize,
    },

    /// Signing failed (an internal error, not caused by the message).
    #[error("signing failed")]
    Sign(#[source] Unspecified),

    /// The peer public key for ECDH is not a DER SubjectPublicKeyInfo of a
    /// valid point on the key's curve. The text says which check failed.
    #[error("invalid peer public key: {0}")]
    InvalidPeerKey(&'static str),

    /// The plaintext is longer than RSA-OAEP allows for this key and hash.
    #[error("plaintext is {got} bytes, at most {max} are allowed")]
    PlaintextTooLarge {
        /// The largest plaintext allowed, `k - 2*hLen - 2`.
        max: usize,
        /// The plaintext length that was given.
        got: usize,
    },

    /// RSA-OAEP encryption failed (an internal error).
    #[error("RSA encryption failed")]
    Encrypt(#[source] Unspecified),

    /// RSA-OAEP decryption failed: wrong key, wrong algorithm, or a modified
    /// or malformed ciphertext. Deliberately says nothing more.
    #[error("RSA decryption failed")]
    Decrypt(#[source] Unspecified),

    /// HMAC key material has a length the spec does not accept.
    #[error("HMAC key is {actual} bytes, the spec accepts {min} to {max}")]
    HmacKeyLength {
        /// The shortest accepted key in bytes.
        min: usize,
        /// The longest accepted key in bytes.
        max: usize,
        /// The length that was supplied.
        actual: usize,
    },
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
