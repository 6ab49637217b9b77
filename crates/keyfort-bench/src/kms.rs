//! The client side of KMS's AWS JSON 1.1 protocol: endpoints, signed
//! requests, connections, and the per-target setup (a key and a ciphertext).

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The content type of AWS JSON 1.1.
pub const CONTENT_TYPE_JSON: &str = "application/x-amz-json-1.1";

/// The plaintext Encrypt sends: 32 bytes, like a data key.
pub const PLAINTEXT: [u8; 32] = *b"keyfort-bench 32-byte plaintext!";

/// A KMS operation the load generator can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Op {
    /// `Encrypt` of a 32-byte plaintext.
    Encrypt,
    /// `Decrypt` of a ciphertext made during setup.
    Decrypt,
    /// `GenerateDataKey` with `KeySpec` `AES_256`.
    GenerateDataKey,
    /// `Sign` of a 32-byte message with an ECC_NIST_P256 key (ECDSA_SHA_256).
    SignP256,
    /// `Sign` of a 32-byte message with an RSA_2048 key (RSASSA_PSS_SHA_256).
    SignRsa2048,
    /// `Verify` of an ECDSA P-256 signature made during setup.
    VerifyP256,
    /// `Decrypt` of RSAES_OAEP_SHA_256 ciphertext under an RSA_2048 key.
    DecryptRsa2048,
    /// `GenerateMac` of a 32-byte message with an HMAC_256 key.
    GenerateMac,
}

impl Op {
    /// The operation's name in the API.
    pub fn name(self) -> &'static str {
        match self {
            Op::Encrypt => "Encrypt",
            Op::Decrypt => "Decrypt",
            Op::GenerateDataKey => "GenerateDataKey",
            Op::SignP256 => "Sign",
            Op::SignRsa2048 => "Sign",
            Op::VerifyP256 => "Verify",
            Op::DecryptRsa2048 => "Decrypt",
            Op::GenerateMac => "GenerateMac",
        }
    }

    /// A label that tells variants of one API operation apart in reports.
    pub fn label(self) -> &'static str {
        match self {
            Op::SignP256 => "Sign (ECC_NIST_P256)",
            Op::SignRsa2048 => "Sign (RSA_2048)",
            Op::VerifyP256 => "Verify (ECC_NIST_P256)",
            Op::DecryptRsa2048 => "Decrypt (RSA_2048)",
            Op::GenerateMac => "GenerateMac (HMAC_256)",
            other => other.name(),
        }
    }

    /// Whether the op needs the asymmetric/HMAC keys of [`setup_extra`].
    pub fn needs_extra_keys(self) -> bool {
        matches!(
            self,
            Op::SignP256 | Op::SignRsa2048 | Op::VerifyP256 | Op::DecryptRsa2048 | Op::GenerateMac
        )
    }
}

/// Where requests go and who signs them.
#[derive(Clone)]
pub struct Endpoint {
    /// The address connected to.
    pub addr: SocketAddr,
    /// The `Host` header (the URL's authority).
    pub host: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The region signed for.
    pub region: String,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("addr", &self.addr)
            .field("host", &self.host)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("region", &self.region)
            .finish()
    }
}

/// Parses `http://host:port[/]` into the `Host` header value and resolves it.
pub async fn resolve_url(url: &str) -> anyhow::Result<(String, SocketAddr)> {
    let Some(rest) = url.strip_prefix("http://") else {
        bail!("endpoint {url:?}: only http:// URLs are supported");
    };
    let authority = rest.trim_end_matches('/');
    if authority.is_empty() || authority.contains('/') {
        bail!("endpoint {url:?}: expected http://host:port with no path");
    }
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addr = tokio::net::lookup_host(&with_port)
        .await
        .with_context(|| format!("resolving {with_port}"))?
        .next()
        .ok_or_else(|| anyhow!("{with_port} resolves to no address"))?;
    Ok((authority.to_owned(), addr))
}

/// Seconds since the epoch, for signing.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A complete, signed request for `TrentService.<op>` with `body`, valid for
/// 15 minutes from now; clone it to send it again.
pub fn signed_request(
    ep: &Endpoint,
    target: &str,
    body: &Bytes,
) -> anyhow::Result<Request<Full<Bytes>>> {
    signed_post(ep, "kms", CONTENT_TYPE_JSON, Some(target), body)
        .with_context(|| format!("signing {target}"))
}

/// A signed `POST /` for `service` with `content_type`, the `X-Amz-Target` header
/// when given, and `body`.
pub fn signed_post(
    ep: &Endpoint,
    service: &str,
    content_type: &str,
    target: Option<&str>,
    body: &Bytes,
) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut headers: Vec<(&str, &[u8])> = vec![
        ("host", ep.host.as_bytes()),
        ("content-type", content_type.as_bytes()),
    ];
    if let Some(t) = target {
        headers.push(("x-amz-target", t.as_bytes()));
    }
    let added = keyfort_sigv4::sign(
        &keyfort_sigv4::SignParams {
            access_key_id: &ep.access_key_id,
            secret_access_key: &ep.secret_access_key,
            session_token: None,
            region: &ep.region,
            service,
            unix_time: unix_now(),
        },
        &keyfort_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body,
        },
    )
    .map_err(|e| anyhow!("signing a {service} request: {e}"))?;
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri("/")
        .header(HOST, &ep.host)
        .header(CONTENT_TYPE, content_type);
    if let Some(t) = target {
        builder = builder.header("x-amz-target", t);
    }
    for (name, value) in &added {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(body.clone()))
        .context("building the request")
}

/// Sends `req` on a fresh connection and returns the status and body.
pub async fn send_once(
    addr: SocketAddr,
    req: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let (mut sender, conn) = connect(addr).await?;
    let driver = tokio::spawn(conn);
    let resp = sender
        .send_request(req)
        .await
        .with_context(|| format!("sending to {addr}"))?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    drop(sender);
    driver.abort();
    Ok((status, bytes))
}

/// The `X-Amz-Target` value of `op`.
pub fn target_header(op: Op) -> &'static str {
    match op {
        Op::Encrypt => "TrentService.Encrypt",
        Op::Decrypt => "TrentService.Decrypt",
        Op::GenerateDataKey => "TrentService.GenerateDataKey",
        Op::SignP256 | Op::SignRsa2048 => "TrentService.Sign",
        Op::VerifyP256 => "TrentService.Verify",
        Op::DecryptRsa2048 => "TrentService.Decrypt",
        Op::GenerateMac => "TrentService.GenerateMac",
    }
}

/// A client connection: the handle to send on and the future that drives it.
pub type ClientConn = (
    SendRequest<Full<Bytes>>,
    Connection<TokioIo<TcpStream>, Full<Bytes>>,
);

/// Opens a keep-alive HTTP/1.1 connection with `TCP_NODELAY`.
pub async fn connect(addr: SocketAddr) -> anyhow::Result<ClientConn> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("HTTP/1.1 handshake")
}

/// Sends one request on a fresh connection and returns the status and body.
pub async fn call(ep: &Endpoint, op: &str, body: Bytes) -> anyhow::Result<(StatusCode, Bytes)> {
    let req = signed_request(ep, &format!("TrentService.{op}"), &body)?;
    send_once(ep.addr, req)
        .await
        .with_context(|| format!("{op} to {}", ep.addr))
}

/// Like [`call`], but a non-200 reply is an error and the reply is parsed.
pub async fn call_ok(
    ep: &Endpoint,
    op: &str,
    body: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let (status, bytes) = call(ep, op, Bytes::from(serde_json::to_vec(body)?)).await?;
    if status != StatusCode::OK {
        bail!(
            "{op} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    serde_json::from_slice(&bytes).with_context(|| format!("{op}'s reply is not JSON"))
}

/// What the operations of a target need: a key and a ciphertext under it.
#[derive(Debug)]
pub struct Prepared {
    /// The key's id as CreateKey returned it.
    pub key_id: String,
    /// A ciphertext of [`PLAINTEXT`] under the key, base64.
    pub ciphertext: String,
    /// The size of the Encrypt reply's body, for comparison with the noop server.
    pub encrypt_reply_bytes: usize,
    /// Keys and inputs for the asymmetric and HMAC operations, when asked for.
    pub extra: Option<Extra>,
}

/// The keys the asymmetric and HMAC operations use, and their inputs.
#[derive(Debug)]
pub struct Extra {
    /// An ECC_NIST_P256 SIGN_VERIFY key.
    pub p256: String,
    /// A signature of [`PLAINTEXT`] by `p256`, base64.
    pub p256_signature: String,
    /// An RSA_2048 SIGN_VERIFY key.
    pub rsa_sign: String,
    /// An RSA_2048 ENCRYPT_DECRYPT key.
    pub rsa_encrypt: String,
    /// RSAES_OAEP_SHA_256 ciphertext of [`PLAINTEXT`] under `rsa_encrypt`, base64.
    pub rsa_ciphertext: String,
    /// An HMAC_256 key.
    pub hmac: String,
}

async fn create(ep: &Endpoint, spec: &str, usage: &str) -> anyhow::Result<String> {
    let created = call_ok(
        ep,
        "CreateKey",
        &serde_json::json!({ "KeySpec": spec, "KeyUsage": usage }),
    )
    .await?;
    created["KeyMetadata"]["KeyId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("CreateKey {spec} has no KeyId: {created}"))
}

/// Creates the asymmetric and HMAC keys and the inputs their operations need.
pub async fn setup_extra(ep: &Endpoint) -> anyhow::Result<Extra> {
    let p256 = create(ep, "ECC_NIST_P256", "SIGN_VERIFY").await?;
    let signed = call_ok(
        ep,
        "Sign",
        &serde_json::json!({ "KeyId": p256, "Message": B64.encode(PLAINTEXT), "SigningAlgorithm": "ECDSA_SHA_256" }),
    )
    .await?;
    let p256_signature = signed["Signature"]
        .as_str()
        .ok_or_else(|| anyhow!("Sign: no Signature: {signed}"))?
        .to_owned();
    let rsa_sign = create(ep, "RSA_2048", "SIGN_VERIFY").await?;
    let rsa_encrypt = create(ep, "RSA_2048", "ENCRYPT_DECRYPT").await?;
    let enc = call_ok(
        ep,
        "Encrypt",
        &serde_json::json!({ "KeyId": rsa_encrypt, "Plaintext": B64.encode(PLAINTEXT), "EncryptionAlgorithm": "RSAES_OAEP_SHA_256" }),
    )
    .await?;
    let rsa_ciphertext = enc["CiphertextBlob"]
        .as_str()
        .ok_or_else(|| anyhow!("RSA Encrypt: no CiphertextBlob: {enc}"))?
        .to_owned();
    let hmac = create(ep, "HMAC_256", "GENERATE_VERIFY_MAC").await?;
    Ok(Extra {
        p256,
        p256_signature,
        rsa_sign,
        rsa_encrypt,
        rsa_ciphertext,
        hmac,
    })
}

/// Creates a symmetric key and encrypts once with it; then rotates the key
/// `rotations` times, so the measured Decrypt opens its oldest material.
pub async fn setup(ep: &Endpoint, rotations: u32) -> anyhow::Result<Prepared> {
    let created = call_ok(
        ep,
        "CreateKey",
        &serde_json::json!({
            "KeySpec": "SYMMETRIC_DEFAULT",
            "KeyUsage": "ENCRYPT_DECRYPT",
            "Description": "keyfort-bench",
        }),
    )
    .await?;
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .ok_or_else(|| anyhow!("CreateKey's reply has no KeyMetadata.KeyId: {created}"))?
        .to_owned();
    let (status, bytes) = call(ep, "Encrypt", op_body(Op::Encrypt, &key_id, "")?).await?;
    if status != StatusCode::OK {
        bail!(
            "Encrypt answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let reply: serde_json::Value =
        serde_json::from_slice(&bytes).context("Encrypt's reply is not JSON")?;
    let ciphertext = reply["CiphertextBlob"]
        .as_str()
        .ok_or_else(|| anyhow!("Encrypt's reply has no CiphertextBlob: {reply}"))?
        .to_owned();
    for _ in 0..rotations {
        call_ok(
            ep,
            "RotateKeyOnDemand",
            &serde_json::json!({ "KeyId": key_id }),
        )
        .await
        .context("rotating the benchmark key")?;
    }
    // Check that the ciphertext round-trips before measuring Decrypt with it.
    let decrypted = call_ok(
        ep,
        "Decrypt",
        &serde_json::json!({ "CiphertextBlob": ciphertext, "KeyId": key_id }),
    )
    .await?;
    if decrypted["Plaintext"].as_str() != Some(B64.encode(PLAINTEXT).as_str()) {
        bail!("Decrypt did not return the plaintext Encrypt was given: {decrypted}");
    }
    Ok(Prepared {
        key_id,
        ciphertext,
        encrypt_reply_bytes: bytes.len(),
        extra: None,
    })
}

/// The JSON body of `op` against a prepared target.
pub fn prepared_body(op: Op, p: &Prepared) -> anyhow::Result<Bytes> {
    if !op.needs_extra_keys() {
        return op_body(op, &p.key_id, &p.ciphertext);
    }
    let x = p.extra.as_ref().ok_or_else(|| {
        anyhow!(
            "{} needs the extra keys, which setup did not make",
            op.label()
        )
    })?;
    let msg = B64.encode(PLAINTEXT);
    let value = match op {
        Op::SignP256 => {
            serde_json::json!({ "KeyId": x.p256, "Message": msg, "SigningAlgorithm": "ECDSA_SHA_256" })
        }
        Op::SignRsa2048 => {
            serde_json::json!({ "KeyId": x.rsa_sign, "Message": msg, "SigningAlgorithm": "RSASSA_PSS_SHA_256" })
        }
        Op::VerifyP256 => {
            serde_json::json!({ "KeyId": x.p256, "Message": msg, "Signature": x.p256_signature, "SigningAlgorithm": "ECDSA_SHA_256" })
        }
        Op::DecryptRsa2048 => {
            serde_json::json!({ "KeyId": x.rsa_encrypt, "CiphertextBlob": x.rsa_ciphertext, "EncryptionAlgorithm": "RSAES_OAEP_SHA_256" })
        }
        Op::GenerateMac => {
            serde_json::json!({ "KeyId": x.hmac, "Message": msg, "MacAlgorithm": "HMAC_SHA_256" })
        }
        _ => return op_body(op, &p.key_id, &p.ciphertext),
    };
    Ok(Bytes::from(serde_json::to_vec(&value)?))
}

/// The JSON body of `op` for `key_id` (and `ciphertext`, base64, for Decrypt).
pub fn op_body(op: Op, key_id: &str, ciphertext: &str) -> anyhow::Result<Bytes> {
    let value = match op {
        Op::Encrypt => serde_json::json!({
            "KeyId": key_id,
            "Plaintext": B64.encode(PLAINTEXT),
        }),
        Op::Decrypt => serde_json::json!({
            "CiphertextBlob": ciphertext,
            "KeyId": key_id,
        }),
        Op::GenerateDataKey => serde_json::json!({
            "KeyId": key_id,
            "KeySpec": "AES_256",
        }),
        other => anyhow::bail!("{} is built by prepared_body", other.label()),
    };
    Ok(Bytes::from(serde_json::to_vec(&value)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint {
            addr: SocketAddr::from(([127, 0, 0, 1], 4599)),
            host: "127.0.0.1:4599".to_owned(),
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            region: "us-east-1".to_owned(),
        }
    }

    #[test]
    fn signed_request_carries_the_signature_and_the_signed_headers() {
        let body = op_body(Op::Encrypt, "alias/x", "").expect("body");
        let req = signed_request(&endpoint(), "TrentService.Encrypt", &body).expect("signed");
        let h = req.headers();
        let auth = h["authorization"].to_str().expect("ascii");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
        assert!(auth.contains("/us-east-1/kms/aws4_request"));
        assert!(auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target"));
        assert!(h.contains_key("x-amz-date"));
        assert_eq!(h["host"], "127.0.0.1:4599");
        assert_eq!(h["x-amz-target"], "TrentService.Encrypt");
    }

    #[test]
    fn encrypt_body_has_a_32_byte_plaintext() {
        let body = op_body(Op::Encrypt, "k", "").expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let pt = B64
            .decode(v["Plaintext"].as_str().expect("string"))
            .expect("base64");
        assert_eq!(pt.len(), 32);
    }

    #[tokio::test]
    async fn urls_must_be_plain_http_without_a_path() {
        assert!(resolve_url("https://localhost:1").await.is_err());
        assert!(resolve_url("http://localhost:1/x").await.is_err());
        let (host, addr) = resolve_url("http://127.0.0.1:4599/").await.expect("ok");
        assert_eq!(host, "127.0.0.1:4599");
        assert_eq!(addr.port(), 4599);
    }
}
