//! IAM's and STS's errors, with AWS's codes and HTTP statuses.

use crate::error::KmsError;
use crate::store::StoreError;

/// Why an IAM or STS request failed.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    /// The named user, role, group, policy or access key does not exist.
    #[error("{0}")]
    NoSuchEntity(String),
    /// The name is taken.
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// The entity still has subordinate entities (keys, policies, attachments).
    #[error("{0}")]
    DeleteConflict(String),
    /// A quota (two access keys per user, ...) would be exceeded.
    #[error("{0}")]
    LimitExceeded(String),
    /// A policy document does not parse or validate; the message says what is wrong.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// A parameter is invalid (IAM's `InvalidInput`).
    #[error("{0}")]
    InvalidInput(String),
    /// A parameter fails the model's constraints (`ValidationError`).
    #[error("{0}")]
    Validation(String),
    /// The caller may not do this.
    #[error("{0}")]
    AccessDenied(String),
    /// The session policy is too large (STS `PackedPolicyTooLarge`).
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    /// The action is not an IAM or STS action keyfort has.
    #[error("{0}")]
    InvalidAction(String),
    /// A required parameter is missing.
    #[error("{0}")]
    MissingParameter(String),
    /// Storage or crypto failed; the client learns nothing more.
    #[error(transparent)]
    Internal(#[from] KmsError),
}

impl From<StoreError> for IamError {
    fn from(e: StoreError) -> IamError {
        IamError::Internal(KmsError::Store(e))
    }
}

impl IamError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            IamError::NoSuchEntity(_) => "NoSuchEntity",
            IamError::EntityAlreadyExists(_) => "EntityAlreadyExists",
            IamError::DeleteConflict(_) => "DeleteConflict",
            IamError::LimitExceeded(_) => "LimitExceeded",
            IamError::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            IamError::InvalidInput(_) => "InvalidInput",
            IamError::Validation(_) => "ValidationError",
            IamError::AccessDenied(_) => "AccessDenied",
            IamError::PackedPolicyTooLarge(_) => "PackedPolicyTooLarge",
            IamError::InvalidAction(_) => "InvalidAction",
            IamError::MissingParameter(_) => "MissingParameter",
            IamError::Internal(_) => "ServiceFailure",
        }
    }

    /// The HTTP status AWS answers with.
    pub fn status(&self) -> u16 {
        match self {
            IamError::NoSuchEntity(_) => 404,
            IamError::EntityAlreadyExists(_)
            | IamError::DeleteConflict(_)
            | IamError::LimitExceeded(_) => 409,
            IamError::AccessDenied(_) => 403,
            IamError::Internal(_) => 500,
            _ => 400,
        }
    }

    /// `Sender` for the caller's mistakes, `Receiver` for the service's.
    pub fn fault(&self) -> &'static str {
        if matches!(self, IamError::Internal(_)) {
            "Receiver"
        } else {
            "Sender"
        }
    }

    /// The message for the client: internal errors say nothing about their cause.
    pub fn client_message(&self) -> String {
        match self {
            IamError::Internal(_) => {
                "The request processing has failed because of an unknown error.".into()
            }
            other => other.to_string(),
        }
    }
}
