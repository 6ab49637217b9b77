//! `keyfort-bench noop-server`: a do-nothing HTTP server on the stack keyfort
//! uses, so that the figures for keyfort can be read against a floor.
//!
//! Same stack as `keyfort_server::serve` over plain HTTP: a tokio multi-thread
//! runtime, hyper 1's `http1::Builder` with keep-alive and the same header
//! read timeout, `TCP_NODELAY`, one spawned task per connection. Each request's
//! body is read in full (as keyfort must, to hash it) before a fixed reply of
//! about the size of an Encrypt reply is sent.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

/// A reply shaped like keyfort's Encrypt reply for a 32-byte plaintext
/// (about 250 bytes; the ciphertext is made up).
pub const REPLY: &[u8] = br#"{"CiphertextBlob":"AQICAHhub29wLXNlcnZlci1maXhlZC1yZXBseS1ub3QtYS1yZWFsLWNpcGhlcnRleHQtYnV0LXRoZS1zYW1lLXNpemUtYXMtb25lLTAxMjM0NTY3","KeyId":"arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000","EncryptionAlgorithm":"SYMMETRIC_DEFAULT"}"#;

/// keyfort's `x-amzn-requestid` is a fresh UUID; the noop server sends a fixed
/// one of the same length so that the replies have the same size.
const REQUEST_ID: &str = "00000000-0000-4000-8000-000000000000";

/// Runs the server forever (until the process is killed).
pub fn run(listen: SocketAddr) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(listen))
}

async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    loop {
        let (stream, _peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("noop-server: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = builder.serve_connection(TokioIo::new(stream), service_fn(handle));
        tokio::spawn(async move {
            // A client closing its connection is normal at the end of a run.
            let _ = conn.await;
        });
    }
}

async fn handle(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match req.into_body().collect().await {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    };
    let mut resp = Response::new(Full::new(Bytes::from_static(REPLY)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    h.insert("x-amzn-requestid", HeaderValue::from_static(REQUEST_ID));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_is_about_the_size_of_an_encrypt_reply() {
        assert!((230..=300).contains(&REPLY.len()), "{}", REPLY.len());
        let v: serde_json::Value = serde_json::from_slice(REPLY).expect("valid JSON");
        assert!(v["CiphertextBlob"].is_string());
    }
}
