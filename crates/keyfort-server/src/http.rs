//! The HTTP front: routing, body limits, protocol decode, authentication, dispatch.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use keyfort_core::{Caller, Kms, ResourceLog};

use crate::audit::{AuditEntry, AuditLog};
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
    /// The audit trail (None only in tests that measure without it).
    pub audit: Option<Arc<AuditLog>>,
}

impl AppState {
    /// State for a service and configuration.
    pub fn new(kms: Arc<Kms>, config: Config) -> AppState {
        AppState {
            kms,
            config,
            signing_keys: SigningKeyCache::default(),
            audit: None,
        }
    }

    /// The same state, recording every request in `audit`.
    pub fn with_audit(mut self, audit: Arc<AuditLog>) -> AppState {
        self.audit = Some(audit);
        self
    }
}

/// The JSON 1.1 target prefix of KMS.
const KMS_TARGET_PREFIX: &str = "TrentService.";

fn request_id() -> String {
    keyfort_audit::new_request_id().unwrap_or_else(|_| {
        // The request id is not a secret; a clock-based id is an acceptable fallback.
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        uuid::Builder::from_random_bytes(nanos.to_be_bytes())
            .into_uuid()
            .hyphenated()
            .to_string()
    })
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

/// Facts about the connection a request came on.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The peer's address.
    pub peer: std::net::SocketAddr,
    /// The peer's IP address as text (sourceIPAddress, aws:SourceIp), formatted once
    /// per connection rather than per request.
    pub peer_ip: String,
    /// The TLS version and cipher suite, when TLS was used.
    pub tls: Option<(String, String)>,
}

impl ConnInfo {
    /// The facts of a connection from `peer`.
    pub fn new(peer: std::net::SocketAddr, tls: Option<(String, String)>) -> ConnInfo {
        ConnInfo {
            peer,
            peer_ip: peer.ip().to_string(),
            tls,
        }
    }
}

/// Handles one request. Never fails: every error becomes an AWS error reply. Every
/// request to the API (not /health) is recorded in the audit trail before the reply
/// is sent; if the record cannot be made durable the reply is a 500.
pub async fn handle(
    state: Arc<AppState>,
    conn: Arc<ConnInfo>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let id = request_id();
    if req.uri().path() == "/health" && req.method() == Method::GET {
        let mut resp = json_response(
            StatusCode::OK,
            Bytes::from_static(b"{\"status\":\"ok\"}"),
            &id,
        );
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        return Ok(resp);
    }
    let mut entry = AuditEntry::new(&id, &conn, &req);
    let resp = if crate::query::is_query(&req) {
        // IAM and STS: AWS's Query protocol, XML replies.
        crate::query::handle(&state, req, &id, &mut entry).await
    } else {
        match route(&state, &conn, req, &id, &mut entry).await {
            Ok(resp) => resp,
            Err(e) => {
                entry.error = Some((e.code().to_owned(), e.message()));
                e.into_response(&id)
            }
        }
    };
    if let Some(audit) = &state.audit {
        if let Err(e) = audit.record(entry).await {
            tracing::error!(request_id = %id, error = %e, "audit record not durable; refusing the reply");
            return Ok(
                ApiError::Kms(keyfort_core::KmsError::Internal("audit trail unavailable"))
                    .into_response(&id),
            );
        }
    }
    Ok(resp)
}

/// The service and caller a request names in [`VIA_SERVICE_HEADER`] and
/// [`CALLER_HEADER`], if it names any. Both or neither, both signed (a header outside
/// the signature could be added by anyone on the way), and only on KMS requests.
fn via_headers(
    headers: &http::HeaderMap,
    auth: &keyfort_sigv4::Authorization<'_>,
    service: &str,
) -> Result<Option<(String, String)>, ApiError> {
    use keyfort_core::service::{CALLER_HEADER, VIA_SERVICE_HEADER};
    // One value each: SigV4 signs repeated headers joined by commas, and the value
    // acted on must be exactly the value signed.
    for n in [VIA_SERVICE_HEADER, CALLER_HEADER] {
        if headers.get_all(n).iter().count() > 1 {
            return Err(ApiError::Kms(keyfort_core::KmsError::Validation(format!(
                "{n} may appear once"
            ))));
        }
    }
    let get = |n: &str| {
        headers
            .get(n)
            .map(|v| v.to_str().unwrap_or_default().to_owned())
    };
    let (via, caller) = match (get(VIA_SERVICE_HEADER), get(CALLER_HEADER)) {
        (None, None) => return Ok(None),
        (Some(v), Some(c)) => (v, c),
        _ => {
            return Err(ApiError::Kms(keyfort_core::KmsError::Validation(format!(
                "{VIA_SERVICE_HEADER} and {CALLER_HEADER} go together: send both or neither"
            ))));
        }
    };
    if service != "kms" {
        return Err(ApiError::Kms(keyfort_core::KmsError::Validation(format!(
            "{VIA_SERVICE_HEADER} is accepted on KMS requests only"
        ))));
    }
    let signed = |n: &str| {
        auth.signed_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(n))
    };
    if !signed(VIA_SERVICE_HEADER) || !signed(CALLER_HEADER) {
        return Err(ApiError::Kms(keyfort_core::KmsError::AccessDenied(
            format!(
                "{VIA_SERVICE_HEADER} and {CALLER_HEADER} must be among the request's SignedHeaders"
            ),
        )));
    }
    Ok(Some((via, caller)))
}

async fn route(
    state: &Arc<AppState>,
    conn: &ConnInfo,
    req: Request<Incoming>,
    id: &str,
    entry: &mut AuditEntry,
) -> Result<Response<Full<Bytes>>, ApiError> {
    if req.uri().path() != "/" || req.method() != Method::POST {
        return Err(ApiError::NotFound(format!(
            "No API at {} {}; keyfort answers POST / (and GET /health).",
            req.method(),
            req.uri().path()
        )));
    }
    let target = header(&req, "x-amz-target").unwrap_or_default().to_owned();
    let (service, op_name) = if let Some(op) = target.strip_prefix(KMS_TARGET_PREFIX) {
        ("kms", op.to_owned())
    } else if let Some(op) = target.strip_prefix(crate::lookup::CLOUDTRAIL_TARGET_PREFIX) {
        ("cloudtrail", op.to_owned())
    } else {
        return Err(ApiError::Kms(keyfort_core::KmsError::UnknownOperation(
            format!("The target '{target}' is not an operation of this service."),
        )));
    };
    entry.event_name = op_name.clone();
    entry.event_source = if service == "kms" {
        "kms.amazonaws.com"
    } else {
        "cloudtrail.amazonaws.com"
    }
    .to_owned();
    entry.read_only = keyfort_core::api::is_read_only(&op_name);

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
        service,
        &state.config,
        now,
    );
    // The record names the access key and region the request claimed, even when
    // the checks refused it (parsed a second time only on that error path).
    let claimed = match &head {
        Ok(h) => Some(h.auth.credential),
        Err(_) => get("authorization")
            .and_then(|h| keyfort_sigv4::parse_authorization(h).ok())
            .map(|a| a.credential),
    };
    if let Some(c) = claimed {
        entry.access_key_id = Some(c.access_key_id.to_owned());
        entry.region = c.region.to_owned();
    }
    let head = head?;

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
    // A registered integrating service acting for a caller (docs/rotation.md): the
    // request is authorized, and recorded, as that caller, with kms:ViaService.
    let (principal, via_service) = match via_headers(&parts.headers, &head.auth, service)? {
        None => (principal, None),
        Some((svc, caller_arn)) => {
            entry.principal = Some(principal.clone());
            let acting_for = state.kms.act_for(&principal, &svc, &caller_arn)?;
            entry.invoked_by = Some(format!("{svc}.amazonaws.com"));
            (acting_for, Some(svc))
        }
    };
    entry.principal = Some(principal.clone());
    let region = head.auth.credential.region.to_owned();
    let source_ip = Some(conn.peer.ip());
    let secure_transport = entry.tls.is_some();

    if service == "cloudtrail" {
        let caller = Caller {
            principal: &principal,
            region: &region,
            resources: &ResourceLog::default(),
            source_ip,
            secure_transport,
            via_service: via_service.as_deref(),
        };
        let reply = crate::lookup::handle(state, &caller, &op_name, &body).await?;
        return Ok(json_response(StatusCode::OK, Bytes::from(reply), id));
    }

    if op_name == "GetKeyLastUsage" {
        entry.read_only = true;
        let resources = ResourceLog::default();
        let caller = Caller {
            principal: &principal,
            region: &region,
            resources: &resources,
            source_ip,
            secure_transport,
            via_service: via_service.as_deref(),
        };
        let result = crate::last_usage::handle(state, &caller, &body).await;
        entry.resources = resources.take();
        return Ok(json_response(StatusCode::OK, Bytes::from(result?), id));
    }
    let op = keyfort_core::api::parse(&op_name, &body)?;
    if state.audit.is_some() {
        entry.request_parameters = Some(op.audit_parameters());
    }
    let resources = Arc::new(ResourceLog::default());
    let result = if op.is_mutating() {
        let kms = Arc::clone(&state.kms);
        let log = Arc::clone(&resources);
        tokio::task::spawn_blocking(move || {
            let caller = Caller {
                principal: &principal,
                region: &region,
                resources: &log,
                source_ip,
                secure_transport,
                via_service: via_service.as_deref(),
            };
            kms.execute(&caller, op)
        })
        .await
        .map_err(|_| ApiError::Kms(keyfort_core::KmsError::Internal("operation task failed")))?
    } else {
        let caller = Caller {
            principal: &principal,
            region: &region,
            resources: &resources,
            source_ip,
            secure_transport,
            via_service: via_service.as_deref(),
        };
        state.kms.execute(&caller, op)
    };
    entry.resources = resources.take();
    let reply = result?;
    tracing::debug!(request_id = id, operation = %op_name, "ok");
    Ok(json_response(StatusCode::OK, Bytes::from(reply), id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(signed: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEEXAMPLE00/20261129/us-east-1/kms/aws4_request, SignedHeaders={signed}, Signature={}",
            "0".repeat(64)
        )
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, http::HeaderValue::from_static(v));
        }
        h
    }

    fn code(r: Result<Option<(String, String)>, ApiError>) -> String {
        match r {
            Ok(v) => format!("ok {v:?}"),
            Err(ApiError::Kms(e)) => e.code().to_owned(),
            Err(_) => "other".to_owned(),
        }
    }

    #[test]
    fn via_headers_must_come_together_signed_and_on_kms() {
        let all = "host;x-amz-date;x-keyfort-caller;x-keyfort-via-service";
        let a = auth(all);
        let parsed = keyfort_sigv4::parse_authorization(&a).unwrap();
        let both = headers(&[
            ("x-keyfort-via-service", "s3"),
            ("x-keyfort-caller", "arn:aws:iam::111122223333:user/alice"),
        ]);
        assert_eq!(
            via_headers(&both, &parsed, "kms").unwrap(),
            Some((
                "s3".to_owned(),
                "arn:aws:iam::111122223333:user/alice".to_owned()
            ))
        );
        assert_eq!(via_headers(&headers(&[]), &parsed, "kms").unwrap(), None);
        // Twice: the value acted on must be the one signed.
        let mut twice = both.clone();
        twice.append(
            "x-keyfort-caller",
            http::HeaderValue::from_static("arn:aws:iam::111122223333:root"),
        );
        assert_eq!(
            code(via_headers(&twice, &parsed, "kms")),
            "ValidationException"
        );
        // One without the other.
        let only = headers(&[("x-keyfort-via-service", "s3")]);
        assert_eq!(
            code(via_headers(&only, &parsed, "kms")),
            "ValidationException"
        );
        // Not on LookupEvents.
        assert_eq!(
            code(via_headers(&both, &parsed, "cloudtrail")),
            "ValidationException"
        );
        // Present but outside the signature: refused, never ignored.
        for signed in ["host;x-amz-date", "host;x-amz-date;x-keyfort-via-service"] {
            let a = auth(signed);
            let parsed = keyfort_sigv4::parse_authorization(&a).unwrap();
            assert_eq!(
                code(via_headers(&both, &parsed, "kms")),
                "AccessDeniedException",
                "{signed}"
            );
        }
    }
}
