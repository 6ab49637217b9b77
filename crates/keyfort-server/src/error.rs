//! The server's error type and the one place errors become AWS replies.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use keyfort_core::KmsError;

/// Anything a request can fail with before or around the service.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The service refused or failed.
    #[error(transparent)]
    Kms(#[from] KmsError),
    /// SigV4 parsing, timing or verification failed.
    #[error(transparent)]
    Signature(#[from] keyfort_sigv4::Error),
    /// The access key is unknown or inactive.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    /// The credential scope names the wrong service or a region this deployment does
    /// not serve.
    #[error("{0}")]
    Scope(String),
    /// The body exceeds the documented limit.
    #[error("The request body exceeds the limit of {0} bytes.")]
    TooLarge(usize),
    /// The body could not be read.
    #[error("The request body could not be read.")]
    BodyRead,
    /// A service-specific error (CloudTrail's, for instance) with its AWS code.
    #[error("{message}")]
    Service {
        /// The AWS error code.
        code: &'static str,
        /// The message.
        message: String,
    },
    /// A path or method the API does not have.
    #[error("{0}")]
    NotFound(String),
}

impl ApiError {
    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Kms(e) => e.code(),
            ApiError::Signature(e) => e.aws_code(),
            ApiError::UnrecognizedClient => "UnrecognizedClientException",
            ApiError::Scope(_) => "InvalidSignatureException",
            ApiError::TooLarge(_) => "ValidationException",
            ApiError::BodyRead => "SerializationException",
            ApiError::NotFound(_) => "UnknownOperationException",
            ApiError::Service { code, .. } => code,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Kms(e) => {
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The message for the client: internal errors say nothing about their cause.
    pub fn message(&self) -> String {
        match self {
            ApiError::Kms(e) => e.client_message(),
            other => other.to_string(),
        }
    }

    /// Renders `{"__type": ..., "message": ...}` with the request id header.
    pub fn into_response(self, request_id: &str) -> Response<Full<Bytes>> {
        if let ApiError::Kms(e) = &self {
            if e.is_internal() {
                tracing::error!(request_id, error = %e, source = ?std::error::Error::source(e), "internal error");
            }
        }
        let body = serde_json::json!({ "__type": self.code(), "message": self.message() });
        let mut resp = json_response(self.status(), Bytes::from(body.to_string()), request_id);
        if self.code() == "UnknownOperationException" {
            resp.headers_mut().insert(
                "x-amzn-query-error",
                HeaderValue::from_static("UnknownOperation;Sender"),
            );
        }
        resp
    }
}

/// A JSON 1.1 reply.
pub fn json_response(status: StatusCode, body: Bytes, request_id: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}
