//! Signed Query (IAM/STS) requests for set-up and checks, with keyfort-sigv4's signer
//! (aws-sdk-iam is too heavy to build here; compat/test_iam.py drives the real CLI).

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

use crate::common::{self, TestServer};

/// Credentials to sign with.
#[derive(Debug, Clone)]
pub struct Creds {
    pub akid: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Creds {
    pub fn root() -> Creds {
        Creds {
            akid: common::ACCESS_KEY_ID.into(),
            secret: common::SECRET.into(),
            token: None,
        }
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    /// The text of the first `<name>` element (XML entities decoded).
    pub fn get(&self, name: &str) -> Option<String> {
        tag(&self.body, name)
    }
    /// Every `<name>` element's text.
    pub fn all(&self, name: &str) -> Vec<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        self.body
            .split(&open)
            .skip(1)
            .filter_map(|rest| rest.split_once(&close).map(|(v, _)| unescape(v)))
            .collect()
    }
    pub fn code(&self) -> Option<String> {
        self.get("Code")
    }
    #[track_caller]
    pub fn ok(self) -> Reply {
        assert_eq!(self.status, 200, "{}", self.body);
        self
    }
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.code().as_deref(), Some(code), "{}", self.body);
        assert!(self.body.contains("<ErrorResponse"), "{}", self.body);
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

pub fn tag(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))? + start;
    Some(unescape(&body[start..end]))
}

/// Percent-decodes (policy documents come back URL-encoded, as from IAM).
pub fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Sends a signed Query request to `service` (`iam` or `sts`).
pub async fn call(s: &TestServer, creds: &Creds, service: &str, params: &[(&str, &str)]) -> Reply {
    let version = if service == "sts" {
        "2011-06-15"
    } else {
        "2010-05-08"
    };
    let mut body = format!("Version={version}");
    for (k, v) in params {
        body.push_str(&format!("&{}={}", form_encode(k), form_encode(v)));
    }
    send_raw(s, creds, service, body.into_bytes(), true).await
}

/// Sends a body as a Query request; `sign_token` false leaves the session token out
/// of the signed headers (it is still sent).
pub async fn send_raw(
    s: &TestServer,
    creds: &Creds,
    service: &str,
    body: Vec<u8>,
    sign_token: bool,
) -> Reply {
    let host = s.addr.to_string();
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), host),
        (
            "content-type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        ),
    ];
    let hs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let req = keyfort_sigv4::Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &hs,
        body: &body,
    };
    let params = keyfort_sigv4::SignParams {
        access_key_id: &creds.akid,
        secret_access_key: &creds.secret,
        session_token: if sign_token {
            creds.token.as_deref()
        } else {
            None
        },
        region: "us-east-1",
        service,
        unix_time: now(),
    };
    let extra = keyfort_sigv4::sign(&params, &req).unwrap();
    headers.extend(extra);
    if !sign_token {
        if let Some(t) = &creds.token {
            headers.push(("x-amz-security-token".into(), t.clone()));
        }
    }
    let stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut b = Request::builder().method("POST").uri("/");
    for (k, v) in &headers {
        b = b.header(k, v);
    }
    let resp = sender
        .send_request(b.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn iam(s: &TestServer, creds: &Creds, action: &str, params: &[(&str, &str)]) -> Reply {
    let mut p = vec![("Action", action)];
    p.extend_from_slice(params);
    call(s, creds, "iam", &p).await
}

pub async fn sts(s: &TestServer, creds: &Creds, action: &str, params: &[(&str, &str)]) -> Reply {
    let mut p = vec![("Action", action)];
    p.extend_from_slice(params);
    call(s, creds, "sts", &p).await
}

/// Creates a user with an access key; returns its credentials.
pub async fn user_with_key(s: &TestServer, name: &str) -> Creds {
    let root = Creds::root();
    iam(s, &root, "CreateUser", &[("UserName", name)])
        .await
        .ok();
    let r = iam(s, &root, "CreateAccessKey", &[("UserName", name)])
        .await
        .ok();
    Creds {
        akid: r.get("AccessKeyId").unwrap(),
        secret: r.get("SecretAccessKey").unwrap(),
        token: None,
    }
}

/// A KMS client signing with `creds` (and its session token).
pub fn kms_client(s: &TestServer, creds: &Creds) -> aws_sdk_kms::Client {
    use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
    let conf = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            creds.akid.clone(),
            creds.secret.clone(),
            creds.token.clone(),
            None,
            "keyfort-test",
        ))
        .endpoint_url(s.endpoint())
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_kms::Client::from_conf(conf)
}

pub const ALLOW_ALL_KMS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}"#;
