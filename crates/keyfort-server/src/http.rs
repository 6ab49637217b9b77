//! The HTTP front: routing, body limits, protocol decode, authentication, dispatch.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use keyfort_core::{Caller, Kms};

use crate::auth::{self, SigningKeyCache};
use crate::config::Config;
use crate::error::{ApiError, json_response};

/// Everything a request handler needs. Shared by all connections.
pub struct AppState {
    /// The service.
    pub kms: Arc<Kms>,
    /// The configuration.
    pub config: Config,
    /// Derived signing keys.
    pub signing_keys: SigningKeyCache,
}

impl AppState {
    /// State for a service and configuration.
    pub fn new(kms: Arc<Kms>, config: Config) -> AppState {
        AppState {
            kms,
            config,
            signing_keys: SigningKeyCache::default(),
        }
    }
}

/// The JSON 1.1 target prefix of KMS.
const KMS_TARGET_PREFIX: &str = "TrentService.";

fn request_id() -> String {
    let mut b = [0u8; 16];
    if keyfort_crypto::fill_random(&mut b).is_err() {
        // The request id is not a secret; a clock-based id is an acceptable fallback.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b = nanos.to_be_bytes();
    }
    uuid::Builder::from_random_bytes(b)
        .into_uuid()
        .hyphenated()
        .to_string()
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn header<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Handles one request. Never fails: every error becomes an AWS error reply.
pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let id = request_id();
    let resp = match route(&state, req, &id).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(&id),
    };
    Ok(resp)
}

async fn route(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    id: &str,
) -> Result<Response<Full<Bytes>>, ApiError> {
    if req.uri().path() == "/health" && req.method() == Method::GET {
        let mut resp = json_response(
            StatusCode::OK,
            Bytes::from_static(b"{\"status\":\"ok\"}"),
            id,
        );
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        return Ok(resp);
    }
    if req.uri().path() != "/" || req.method() != Method::POST {
        return Err(ApiError::NotFound(format!(
            "No API at {} {}; keyfort answers POST / (and GET /health).",
            req.method(),
            req.uri().path()
        )));
    }
    let target = header(&req, "x-amz-target").unwrap_or_default();
    let Some(op_name) = target.strip_prefix(KMS_TARGET_PREFIX) else {
        return Err(ApiError::Kms(keyfort_core::KmsError::UnknownOperation(
            format!("The target '{target}' is not an operation of this service."),
        )));
    };
    let op_name = op_name.to_owned();

    // Cheap checks first: size, then the signature's shape, scope and clock skew.
    let max = state.config.max_body_bytes;
    let declared = header(&req, "content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(ApiError::TooLarge(max));
    }
    let now = now_unix();
    let (parts, body) = req.into_parts();
    let get = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let head = auth::check_head(
        get("authorization"),
        get("x-amz-date"),
        "kms",
        &state.config,
        now,
    )?;

    let body = Limited::new(body, max)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                ApiError::TooLarge(max)
            } else {
                ApiError::BodyRead
            }
        })?
        .to_bytes();

    let headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let sreq = keyfort_sigv4::Request {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    let principal = auth::verify(&state.kms, &state.signing_keys, &head, &sreq)?;
    let region = head.auth.credential.region.to_owned();

    let op = keyfort_core::api::parse(&op_name, &body)?;
    let reply = if op.is_mutating() {
        let kms = Arc::clone(&state.kms);
        tokio::task::spawn_blocking(move || {
            let caller = Caller {
                principal: &principal,
                region: &region,
            };
            kms.execute(&caller, op)
        })
        .await
        .map_err(|_| ApiError::Kms(keyfort_core::KmsError::Internal("operation task failed")))??
    } else {
        let caller = Caller {
            principal: &principal,
            region: &region,
        };
        state.kms.execute(&caller, op)?
    };
    tracing::debug!(request_id = id, operation = %op_name, "ok");
    Ok(json_response(StatusCode::OK, Bytes::from(reply), id))
}
