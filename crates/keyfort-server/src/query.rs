//! AWS's Query protocol, as IAM and STS speak it: a form-encoded POST with
//! `Action=...&Version=...`, signed for service `iam` or `sts`; XML replies and AWS
//! error XML. The operations are in [`crate::iam`] and [`crate::sts`].

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use keyfort_core::Principal;
use keyfort_core::iam::IamError;

use crate::audit::AuditEntry;
use crate::error::ApiError;
use crate::http::AppState;

/// IAM's XML namespace.
pub const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// STS's XML namespace.
pub const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Whether a request is a Query request (form-encoded, no `X-Amz-Target`).
pub fn is_query<B>(req: &Request<B>) -> bool {
    req.headers().get("x-amz-target").is_none()
        && req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            })
}

/// An error as the Query protocol renders it.
#[derive(Debug)]
pub struct QueryError {
    code: String,
    message: String,
    status: StatusCode,
    fault: &'static str,
}

impl From<IamError> for QueryError {
    fn from(e: IamError) -> QueryError {
        if let IamError::Internal(inner) = &e {
            tracing::error!(error = %inner, source = ?std::error::Error::source(inner), "internal IAM/STS error");
        }
        QueryError {
            code: e.code().to_owned(),
            message: e.client_message(),
            status: StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            fault: e.fault(),
        }
    }
}

impl From<ApiError> for QueryError {
    fn from(e: ApiError) -> QueryError {
        // IAM's and STS's names for the authentication failures.
        let (code, status) = match &e {
            ApiError::UnrecognizedClient => ("InvalidClientTokenId", StatusCode::FORBIDDEN),
            ApiError::Signature(keyfort_sigv4::Error::Mismatch) => {
                ("SignatureDoesNotMatch", StatusCode::FORBIDDEN)
            }
            ApiError::Signature(keyfort_sigv4::Error::Expired { .. }) => {
                ("SignatureDoesNotMatch", StatusCode::FORBIDDEN)
            }
            ApiError::Signature(keyfort_sigv4::Error::MissingAuthentication) => {
                ("MissingAuthenticationToken", StatusCode::FORBIDDEN)
            }
            ApiError::Signature(keyfort_sigv4::Error::Malformed(_)) => {
                ("IncompleteSignature", StatusCode::BAD_REQUEST)
            }
            ApiError::Scope(_) => ("SignatureDoesNotMatch", StatusCode::FORBIDDEN),
            ApiError::Service { code, .. } if *code == "ExpiredTokenException" => {
                ("ExpiredToken", StatusCode::FORBIDDEN)
            }
            ApiError::TooLarge(_) => ("ValidationError", StatusCode::PAYLOAD_TOO_LARGE),
            ApiError::NotFound(_) => ("InvalidAction", StatusCode::NOT_FOUND),
            ApiError::Kms(k) if k.is_internal() => {
                tracing::error!(error = %k, "internal error");
                ("ServiceFailure", StatusCode::INTERNAL_SERVER_ERROR)
            }
            _ => ("InvalidRequest", StatusCode::BAD_REQUEST),
        };
        QueryError {
            code: code.to_owned(),
            message: e.message(),
            status,
            fault: if status.is_server_error() {
                "Receiver"
            } else {
                "Sender"
            },
        }
    }
}

impl QueryError {
    fn invalid_action(action: &str, service: &str) -> QueryError {
        QueryError {
            code: "InvalidAction".into(),
            message: format!("Could not find operation {action} for version of {service}"),
            status: StatusCode::BAD_REQUEST,
            fault: "Sender",
        }
    }

    fn into_response(self, ns: &str, request_id: &str) -> Response<Full<Bytes>> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{ns}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            self.fault,
            esc(&self.code),
            esc(&self.message),
            esc(request_id)
        );
        xml_response(self.status, body, request_id)
    }
}

fn xml_response(status: StatusCode, body: String, request_id: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    resp
}

/// Escapes text for XML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `<name>escaped value</name>`.
pub fn el(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", esc(value))
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space).
pub fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = hex_val(*bytes.get(i + 1)?)?;
                let lo = hex_val(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The parameters of a Query request.
#[derive(Debug, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses a form body; a parameter given twice is malformed.
    pub fn parse(body: &[u8]) -> Result<Params, IamError> {
        let bad = || IamError::InvalidInput("The request body is not a valid form.".into());
        let text = std::str::from_utf8(body).map_err(|_| bad())?;
        let mut map = BTreeMap::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = form_decode(k).ok_or_else(bad)?;
            let v = form_decode(v).ok_or_else(bad)?;
            if map.insert(k, v).is_some() {
                return Err(bad());
            }
        }
        Ok(Params(map))
    }

    /// An optional parameter.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A required parameter (AWS's ValidationError when absent).
    pub fn req(&self, name: &str) -> Result<&str, IamError> {
        self.opt(name).ok_or_else(|| {
            let mut field = name.to_owned();
            if let Some(first) = field.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            IamError::Validation(format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ))
        })
    }

    /// An optional integer parameter.
    pub fn int(&self, name: &str) -> Result<Option<u32>, IamError> {
        self.opt(name)
            .map(|v| {
                v.parse::<u32>().map_err(|_| {
                    IamError::Validation(format!("{name} must be a whole number; got '{v}'."))
                })
            })
            .transpose()
    }

    /// A list encoded as `Name.member.1`, `Name.member.2`, ...
    pub fn list(&self, name: &str) -> Vec<String> {
        (1..)
            .map_while(|i| self.opt(&format!("{name}.member.{i}")).map(str::to_owned))
            .collect()
    }

    /// Tags encoded as `Tags.member.N.Key` / `.Value`.
    pub fn tags(&self, name: &str) -> Vec<(String, String)> {
        (1..)
            .map_while(|i| {
                let key = self.opt(&format!("{name}.member.{i}.Key"))?;
                let value = self
                    .opt(&format!("{name}.member.{i}.Value"))
                    .unwrap_or_default();
                Some((key.to_owned(), value.to_owned()))
            })
            .collect()
    }

    /// MaxItems (1..=1000, default 100).
    pub fn max_items(&self) -> Result<usize, IamError> {
        match self.int("MaxItems")? {
            None => Ok(100),
            Some(n @ 1..=1000) => Ok(n as usize),
            Some(n) => Err(IamError::Validation(format!(
                "1 validation error detected: Value '{n}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
            ))),
        }
    }

    /// CloudTrail's requestParameters: the parameters with lowerCamelCase names,
    /// without Action and Version. No IAM or STS input is a secret.
    pub fn audit(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (k, v) in &self.0 {
            if k == "Action" || k == "Version" {
                continue;
            }
            let mut name = k.clone();
            if let Some(first) = name.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            map.insert(name, serde_json::Value::String(v.clone()));
        }
        serde_json::Value::Object(map)
    }
}

/// A successful reply body: `<{Action}Response xmlns=..><{Action}Result>{result}</..>
/// <ResponseMetadata>..`.
pub fn reply(ns: &str, action: &str, result: Option<&str>, request_id: &str) -> String {
    let result = result
        .map(|r| format!("<{action}Result>{r}</{action}Result>"))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{ns}\">{result}<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        esc(request_id)
    )
}

/// What an operation needs: the caller, its parameters, and the request context.
pub struct QueryCall {
    /// The authenticated caller.
    pub principal: Principal,
    /// The parameters.
    pub params: Params,
    /// The action.
    pub action: String,
    /// Condition keys of the request (time, source IP, transport).
    pub context: keyfort_policy::Context,
    /// The request id.
    pub request_id: String,
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Handles a Query request; never fails (errors become AWS error XML).
pub async fn handle(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    request_id: &str,
    entry: &mut AuditEntry,
) -> Response<Full<Bytes>> {
    let service = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| keyfort_sigv4::parse_authorization(h).ok())
        .map(|a| a.credential.service.to_owned());
    let ns = if service.as_deref() == Some("sts") {
        STS_NS
    } else {
        IAM_NS
    };
    entry.event_source = if service.as_deref() == Some("sts") {
        "sts.amazonaws.com".into()
    } else {
        "iam.amazonaws.com".into()
    };
    match run(state, req, request_id, entry, service.as_deref()).await {
        Ok(body) => xml_response(StatusCode::OK, body, request_id),
        Err(e) => {
            entry.error = Some((e.code.clone(), e.message.clone()));
            e.into_response(ns, request_id)
        }
    }
}

async fn run(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    request_id: &str,
    entry: &mut AuditEntry,
    service: Option<&str>,
) -> Result<String, QueryError> {
    if req.uri().path() != "/" || req.method() != Method::POST {
        return Err(ApiError::NotFound(format!(
            "No API at {} {}; keyfort answers POST /.",
            req.method(),
            req.uri().path()
        ))
        .into());
    }
    let max = state.config.max_body_bytes;
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(ApiError::TooLarge(max).into());
    }
    let (parts, body) = req.into_parts();
    let get = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    // Cheap checks first: the signature's shape, scope and clock skew.
    let Some(auth_header) = get("authorization") else {
        return Err(ApiError::Signature(keyfort_sigv4::Error::MissingAuthentication).into());
    };
    let auth = keyfort_sigv4::parse_authorization(auth_header).map_err(ApiError::from)?;
    entry.access_key_id = Some(auth.credential.access_key_id.to_owned());
    entry.region = auth.credential.region.to_owned();
    let Some(amz_date) = get("x-amz-date") else {
        return Err(ApiError::Signature(keyfort_sigv4::Error::MissingAuthentication).into());
    };
    match service {
        // IAM is global (AWS scopes it to us-east-1) and STS regional; an SDK pointed at
        // keyfort with --endpoint-url signs with its configured region, so both accept
        // us-east-1 and any region this deployment serves.
        Some("iam" | "sts")
            if auth.credential.region == "us-east-1"
                || state.config.serves_region(auth.credential.region) => {}
        Some("iam" | "sts") => {
            return Err(ApiError::Scope(format!(
                "Credential should be scoped to a valid region, not '{}'.",
                auth.credential.region
            ))
            .into());
        }
        _ => {
            return Err(ApiError::Scope(
                "Credential should be scoped to correct service: 'iam' or 'sts'.".into(),
            )
            .into());
        }
    }
    keyfort_sigv4::check_time(
        amz_date,
        auth.credential.date,
        now_unix(),
        state.config.max_skew.as_secs(),
    )
    .map_err(ApiError::from)?;

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
    let params = Params::parse(&body)?;
    let action = params.opt("Action").unwrap_or_default().to_owned();
    entry.event_name = if action.is_empty() {
        "Unknown".into()
    } else {
        action.clone()
    };
    entry.read_only = ["Get", "List"].iter().any(|p| action.starts_with(p));
    entry.request_parameters = Some(params.audit());

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
    let head = crate::auth::Head { auth, amz_date };
    let principal = crate::auth::verify(&state.kms, &state.signing_keys, &head, &sreq)?;
    entry.principal = Some(principal.clone());

    let now_ms = state.kms.now_ms();
    let context = keyfort_policy::Context::new()
        .with("aws:CurrentTime", keyfort_audit::format_iso8601(now_ms))
        .with("aws:EpochTime", (now_ms / 1000).to_string())
        .with("aws:SourceIp", entry.source_ip.clone())
        .with(
            "aws:SecureTransport",
            if entry.tls.is_some() { "true" } else { "false" },
        );
    let call = QueryCall {
        principal,
        params,
        action: action.clone(),
        context,
        request_id: request_id.to_owned(),
    };
    let kms = Arc::clone(&state.kms);
    let is_sts = service == Some("sts");
    let known = if is_sts {
        crate::sts::is_action(&action)
    } else {
        crate::iam::is_action(&action)
    };
    if !known {
        return Err(QueryError::invalid_action(
            &action,
            if is_sts { "2011-06-15" } else { "2010-05-08" },
        ));
    }
    let result = tokio::task::spawn_blocking(move || {
        if is_sts {
            crate::sts::execute(&kms, &call)
        } else {
            crate::iam::execute(&kms, &call)
        }
    })
    .await
    .map_err(|_| {
        QueryError::from(ApiError::Kms(keyfort_core::KmsError::Internal(
            "operation task failed",
        )))
    })?;
    let result = result?;
    let ns = if is_sts { STS_NS } else { IAM_NS };
    Ok(reply(ns, &action, result.as_deref(), request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a+b%2Fc%3D").as_deref(), Some("a b/c="));
        assert_eq!(form_decode("%E2%82%AC").as_deref(), Some("€"));
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("%zz"), None);
        let p = Params::parse(
            b"Action=CreateUser&UserName=alice&Tags.member.1.Key=team&Tags.member.1.Value=a%20b&Tags.member.2.Key=x",
        )
        .expect("parses");
        assert_eq!(p.req("UserName").expect("name"), "alice");
        assert_eq!(
            p.tags("Tags"),
            vec![("team".into(), "a b".into()), ("x".into(), String::new())]
        );
        assert!(Params::parse(b"A=1&A=2").is_err());
        let e = p.req("PolicyArn").expect_err("missing");
        assert!(e.to_string().contains("'policyArn'"), "{e}");
        assert_eq!(p.audit()["userName"], "alice");
        assert!(p.audit().get("action").is_none());
    }

    #[test]
    fn xml_escaping_and_envelope() {
        assert_eq!(el("A", "<&>\"'"), "<A>&lt;&amp;&gt;&quot;&apos;</A>");
        let r = reply(IAM_NS, "GetUser", Some("<User/>"), "rid");
        assert!(r.contains("<GetUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetUserResult><User/></GetUserResult><ResponseMetadata><RequestId>rid</RequestId>"));
    }
}
