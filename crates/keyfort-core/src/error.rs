//! The one error type of keyfort's service layer, and its mapping to the AWS wire.
//!
//! Every variant names the AWS error code it becomes; [`KmsError::code`] and
//! [`KmsError::status`] are the single place where that mapping lives. Internal
//! failures keep their source for the log and say nothing to the client.

use crate::store::StoreError;

/// An error returned by a keyfort operation.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// The request names a key, alias or other resource that does not exist (or that
    /// the caller may not see).
    #[error("{0}")]
    NotFound(String),
    /// The key is disabled.
    #[error("{0}")]
    Disabled(String),
    /// The key's state does not allow the operation.
    #[error("{0}")]
    InvalidState(String),
    /// The ciphertext could not be decrypted (wrong context, tampered, not ours).
    #[error("{0}")]
    InvalidCiphertext(String),
    /// The KeyId given does not match the key that made the ciphertext.
    #[error("{0}")]
    IncorrectKey(String),
    /// The key's usage or spec does not allow the operation.
    #[error("{0}")]
    InvalidKeyUsage(String),
    /// An ARN is malformed or names the wrong resource type.
    #[error("{0}")]
    InvalidArn(String),
    /// An alias name is malformed or reserved.
    #[error("{0}")]
    InvalidAliasName(String),
    /// The resource already exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// A pagination marker is not one keyfort issued.
    #[error("{0}")]
    InvalidMarker(String),
    /// A tag is invalid (reserved prefix, too many, duplicated).
    #[error("{0}")]
    Tag(String),
    /// A policy document is not valid.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// A quota (for instance tags or aliases per key) would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// The operation or option is not supported (yet, or at all) by keyfort.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// A custom key store id was given; keyfort has none.
    #[error("{0}")]
    CustomKeyStoreNotFound(String),
    /// A field failed the API's constraints.
    #[error("{0}")]
    Validation(String),
    /// The request body is not valid JSON or a field has the wrong type.
    #[error("{0}")]
    Serialization(String),
    /// Verify found the signature invalid.
    #[error("{0}")]
    InvalidSignature(String),
    /// VerifyMac found the MAC invalid.
    #[error("{0}")]
    InvalidMac(String),
    /// The X-Amz-Target names no operation keyfort knows.
    #[error("{0}")]
    UnknownOperation(String),
    /// DryRun was set and the request would have succeeded.
    #[error("The request would have succeeded, but the DryRun option is set.")]
    DryRun,
    /// The caller is not allowed to do this.
    #[error("{0}")]
    AccessDenied(String),
    /// A rotation of this key is in progress or about to start.
    #[error("{0}")]
    Conflict(String),
    /// Reimported key material is not the material the key had.
    #[error("{0}")]
    IncorrectKeyMaterial(String),
    /// The import token's 24 hours have passed.
    #[error("{0}")]
    ExpiredImportToken(String),
    /// The import token is unknown or belongs to another key.
    #[error("{0}")]
    InvalidImportToken(String),
    /// A grant token that names no grant of this service.
    #[error("{0}")]
    InvalidGrantToken(String),
    /// A storage failure. The message to the client says nothing about it.
    #[error("storage failure")]
    Store(#[from] StoreError),
    /// A cryptographic failure that is not the caller's fault.
    #[error("cryptographic failure")]
    Crypto(#[source] keyfort_crypto::Error),
    /// An invariant was broken; the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl KmsError {
    /// The AWS error code (`__type`) for this error.
    pub fn code(&self) -> &'static str {
        match self {
            KmsError::NotFound(_) => "NotFoundException",
            KmsError::Disabled(_) => "DisabledException",
            KmsError::InvalidState(_) => "KMSInvalidStateException",
            KmsError::InvalidCiphertext(_) => "InvalidCiphertextException",
            KmsError::IncorrectKey(_) => "IncorrectKeyException",
            KmsError::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            KmsError::InvalidArn(_) => "InvalidArnException",
            KmsError::InvalidAliasName(_) => "InvalidAliasNameException",
            KmsError::AlreadyExists(_) => "AlreadyExistsException",
            KmsError::InvalidMarker(_) => "InvalidMarkerException",
            KmsError::Tag(_) => "TagException",
            KmsError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
            KmsError::LimitExceeded(_) => "LimitExceededException",
            KmsError::UnsupportedOperation(_) => "UnsupportedOperationException",
            KmsError::CustomKeyStoreNotFound(_) => "CustomKeyStoreNotFoundException",
            KmsError::Validation(_) => "ValidationException",
            KmsError::Serialization(_) => "SerializationException",
            KmsError::UnknownOperation(_) => "UnknownOperationException",
            KmsError::InvalidSignature(_) => "KMSInvalidSignatureException",
            KmsError::InvalidMac(_) => "KMSInvalidMacException",
            KmsError::DryRun => "DryRunOperationException",
            KmsError::AccessDenied(_) => "AccessDeniedException",
            KmsError::Conflict(_) => "ConflictException",
            KmsError::IncorrectKeyMaterial(_) => "IncorrectKeyMaterialException",
            KmsError::ExpiredImportToken(_) => "ExpiredImportTokenException",
            KmsError::InvalidImportToken(_) => "InvalidImportTokenException",
            KmsError::InvalidGrantToken(_) => "InvalidGrantTokenException",
            KmsError::Store(_) | KmsError::Crypto(_) | KmsError::Internal(_) => {
                "KMSInternalException"
            }
        }
    }

    /// The HTTP status AWS uses for this error.
    pub fn status(&self) -> u16 {
        match self {
            KmsError::DryRun => 412,
            KmsError::Store(_) | KmsError::Crypto(_) | KmsError::Internal(_) => 500,
            _ => 400,
        }
    }

    /// The message safe to send to the client. Internal errors say nothing.
    pub fn client_message(&self) -> String {
        match self {
            KmsError::Store(_) | KmsError::Crypto(_) | KmsError::Internal(_) => {
                "An internal error occurred. The request can be retried.".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// Whether this is an internal failure that must be logged with its source.
    pub fn is_internal(&self) -> bool {
        self.status() >= 500
    }

    /// A validation error in AWS's wording for a single field.
    pub fn field(field: &str, constraint: &str) -> KmsError {
        KmsError::Validation(format!(
            "1 validation error detected: Value at '{field}' failed to satisfy constraint: {constraint}"
        ))
    }

    /// AWS's wording for a missing required field.
    pub fn missing(field: &str) -> KmsError {
        KmsError::Validation(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    }
}

/// Convenience alias.
pub type Result<T, E = KmsError> = std::result::Result<T, E>;
