//! The wire protocol where no real client can produce the request: missing or stale
//! signatures, malformed JSON, unknown targets, oversized bodies. Requests are signed
//! with keyfort-sigv4 (checked against AWS's published examples in its own tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

use common::TestServer;

struct Reply {
    status: u16,
    json: serde_json::Value,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Sends one request; `sign_at` is the signing time (None: unsigned).
async fn send(
    s: &TestServer,
    method: &str,
    path: &str,
    target: Option<&str>,
    body: Vec<u8>,
    sign_at: Option<u64>,
) -> Reply {
    let host = s.addr.to_string();
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), host.clone()),
        ("content-type".into(), "application/x-amz-json-1.1".into()),
    ];
    if let Some(t) = target {
        headers.push(("x-amz-target".into(), t.into()));
    }
    if let Some(t) = sign_at {
        let hs: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes()))
            .collect();
        let req = keyfort_sigv4::Request {
            method,
            path,
            query: "",
            headers: &hs,
            body: &body,
        };
        let params = keyfort_sigv4::SignParams {
            access_key_id: common::ACCESS_KEY_ID,
            secret_access_key: common::SECRET,
            session_token: None,
            region: "us-east-1",
            service: "kms",
            unix_time: t,
        };
        let extra = keyfort_sigv4::sign(&params, &req).unwrap();
        headers.extend(extra);
    }
    let stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut b = Request::builder().method(method).uri(path);
    for (k, v) in &headers {
        b = b.header(k, v);
    }
    let resp = sender
        .send_request(b.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Reply { status, json }
}

fn kms(op: &str) -> String {
    format!("TrentService.{op}")
}

#[tokio::test]
async fn health_endpoint_does_not_need_auth() {
    let s = TestServer::start().await;
    let r = send(&s, "GET", "/health", None, vec![], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "ok");
    s.stop().await;
}

#[tokio::test]
async fn authentication_errors() {
    let s = TestServer::start().await;
    let r = send(
        &s,
        "POST",
        "/",
        Some(&kms("ListKeys")),
        b"{}".to_vec(),
        None,
    )
    .await;
    assert_eq!(
        (r.status, r.json["__type"].as_str()),
        (400, Some("MissingAuthenticationTokenException"))
    );
    // Skew: 15 minutes is fine both ways; one second more is not.
    for (offset, want) in [
        (-900i64, None),
        (900, None),
        (-901, Some("InvalidSignatureException")),
        (901, Some("InvalidSignatureException")),
    ] {
        let t = (now() as i64 + offset) as u64;
        let r = send(
            &s,
            "POST",
            "/",
            Some(&kms("ListKeys")),
            b"{}".to_vec(),
            Some(t),
        )
        .await;
        match want {
            None => assert_eq!(r.status, 200, "offset {offset}: {:?}", r.json),
            Some(code) => {
                assert_eq!(r.json["__type"], code, "offset {offset}");
                let m = r.json["message"].as_str().unwrap();
                assert!(
                    m.contains("Signature expired") || m.contains("Signature not yet current"),
                    "{m}"
                );
            }
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn malformed_requests_get_aws_errors_not_500() {
    let s = TestServer::start().await;
    let t = Some(now());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("ListKeys", b"{".to_vec(), "SerializationException"),
        ("ListKeys", b"[]".to_vec(), "SerializationException"),
        ("ListKeys", b"null".to_vec(), "SerializationException"),
        (
            "ListKeys",
            br#"{"Limit":"ten"}"#.to_vec(),
            "SerializationException",
        ),
        (
            "Encrypt",
            br#"{"KeyId":"alias/x","Plaintext":"***"}"#.to_vec(),
            "SerializationException",
        ),
        (
            "Encrypt",
            br#"{"KeyId":"alias/x"}"#.to_vec(),
            "ValidationException",
        ),
        (
            "GenerateRandom",
            br#"{"NumberOfBytes":99999999999999999999}"#.to_vec(),
            "SerializationException",
        ),
        (
            "NoSuchOperation",
            b"{}".to_vec(),
            "UnknownOperationException",
        ),
        ("ListKeys", vec![0xff, 0xfe, 0x00], "SerializationException"),
    ];
    for (op, body, want) in cases {
        let r = send(&s, "POST", "/", Some(&kms(op)), body.clone(), t).await;
        assert_eq!(
            r.json["__type"],
            want,
            "{op} {:?}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(r.status, 400);
        assert!(r.json["message"].is_string());
    }
    let r = send(
        &s,
        "POST",
        "/",
        Some("SomeOtherService.ListKeys"),
        b"{}".to_vec(),
        t,
    )
    .await;
    assert_eq!(r.json["__type"], "UnknownOperationException");
    let r = send(&s, "GET", "/nope", None, vec![], None).await;
    assert_eq!(r.status, 404);
    s.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_auth() {
    let s = TestServer::start().await;
    let big = vec![b' '; keyfort_server::config::DEFAULT_MAX_BODY + 1];
    let r = send(&s, "POST", "/", Some(&kms("ListKeys")), big, None).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json["__type"], "ValidationException");
    s.stop().await;
}
