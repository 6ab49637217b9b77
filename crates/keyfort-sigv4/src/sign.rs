//! The string to sign, verification, and client-side signing.

use aws_lc_rs::{digest, hmac};
use subtle::ConstantTimeEq;

use crate::auth::{ALGORITHM, Authorization, TERMINATOR};
use crate::canonical::{Request, capacity_hint, payload_hash, write_canonical_request};
use crate::error::{Error, Malformed};
use crate::hex::{encode_hex, hex32};
use crate::key::{SigningKey, derive_signing_key};
use crate::time::format_amz_date;

/// Builds the string to sign:
/// `AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex SHA-256 of canonical_request>`,
/// where `scope` is `date/region/service/aws4_request`.
#[must_use]
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let hash = hex32(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref());
    let mut out = String::with_capacity(ALGORITHM.len() + amz_date.len() + scope.len() + 67);
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(amz_date);
    out.push('\n');
    out.push_str(scope);
    out.push('\n');
    out.extend(hash.iter().map(|&b| char::from(b)));
    out
}

/// The scope a signature is made for.
struct Scope<'a> {
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

/// HMAC of the string to sign, fed piece by piece so that it is never
/// assembled in memory.
fn signature_over(
    key: &SigningKey,
    amz_date: &str,
    scope: &Scope<'_>,
    canonical_hash: &[u8; 64],
) -> hmac::Tag {
    let mut ctx = hmac::Context::with_key(key.hmac_key());
    for piece in [
        ALGORITHM.as_bytes(),
        b"\n",
        amz_date.as_bytes(),
        b"\n",
        scope.date.as_bytes(),
        b"/",
        scope.region.as_bytes(),
        b"/",
        scope.service.as_bytes(),
        b"/",
        TERMINATOR.as_bytes(),
        b"\n",
        canonical_hash,
    ] {
        ctx.update(piece);
    }
    ctx.sign()
}

/// The hex SHA-256 of the canonical request of `req` for `signed_headers`.
fn canonical_hash(req: &Request<'_>, signed_headers: &[&str]) -> Result<[u8; 64], Error> {
    let payload = payload_hash(req.body);
    let mut buf = Vec::with_capacity(capacity_hint(req));
    write_canonical_request(&mut buf, req, signed_headers, &payload)?;
    Ok(hex32(digest::digest(&digest::SHA256, &buf).as_ref()))
}

/// Recomputes the signature of `req` with `key` and compares it with the
/// one in `auth`, in constant time.
///
/// `amz_date` is the request's `X-Amz-Date` value; the caller has already
/// run [`check_time`](crate::check_time) on it. The scope in the string to
/// sign is taken from `auth.credential`; `key` must be the key derived for
/// that scope. Allocates one buffer for the canonical request (plus two
/// small ones when there is a query string) and hashes the body once.
///
/// # Errors
/// [`Error::Malformed`] if a signed header is missing from `req` or
/// `auth.signed_headers` is not sorted lowercase names; [`Error::Mismatch`]
/// on any difference.
pub fn verify(
    key: &SigningKey,
    req: &Request<'_>,
    auth: &Authorization<'_>,
    amz_date: &str,
) -> Result<(), Error> {
    let hash = canonical_hash(req, &auth.signed_headers)?;
    let scope = Scope {
        date: auth.credential.date,
        region: auth.credential.region,
        service: auth.credential.service,
    };
    let expected = signature_over(key, amz_date, &scope, &hash);
    if bool::from(expected.as_ref().ct_eq(&auth.signature[..])) {
        Ok(())
    } else {
        Err(Error::Mismatch)
    }
}

/// Who signs, where, and when (client side).
#[derive(Clone, Copy)]
pub struct SignParams<'a> {
    /// The access key id.
    pub access_key_id: &'a str,
    /// The secret access key.
    pub secret_access_key: &'a str,
    /// A session token for temporary credentials; sent and signed as
    /// `x-amz-security-token`.
    pub session_token: Option<&'a str>,
    /// The region, e.g. `us-east-1`.
    pub region: &'a str,
    /// The service, e.g. `kms`.
    pub service: &'a str,
    /// The signing time, unix seconds.
    pub unix_time: u64,
}

impl std::fmt::Debug for SignParams<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignParams")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.map(|_| "<redacted>"))
            .field("region", &self.region)
            .field("service", &self.service)
            .field("unix_time", &self.unix_time)
            .finish()
    }
}

/// Headers that `sign` supplies itself and so never takes from the request.
fn is_supplied_by_signer(name: &str) -> bool {
    ["authorization", "x-amz-date", "x-amz-security-token"]
        .iter()
        .any(|own| name.eq_ignore_ascii_case(own))
}

/// Signs `req` and returns the headers to add to it: `authorization`,
/// `x-amz-date`, and `x-amz-security-token` when a session token is given.
///
/// Every header in `req.headers` is signed (it must include `host`; callers
/// typically pass `host`, `content-type` and `x-amz-target`), plus
/// `x-amz-date` and `x-amz-security-token`. Any `authorization`,
/// `x-amz-date` or `x-amz-security-token` already in `req.headers` is
/// ignored, as a re-sign replaces them. The payload hash is the body's
/// SHA-256, as [`canonical_request`](crate::canonical_request) documents.
///
/// # Errors
/// [`Malformed::HostNotSigned`] without a `host` header;
/// [`Malformed::SignedHeaders`] if a header name is not a valid token or
/// more than [`MAX_SIGNED_HEADERS`](crate::MAX_SIGNED_HEADERS) would be signed.
pub fn sign(params: &SignParams<'_>, req: &Request<'_>) -> Result<Vec<(String, String)>, Error> {
    let amz_date = format_amz_date(params.unix_time);
    let date = amz_date.get(..8).unwrap_or(&amz_date);

    let mut headers: Vec<(&str, &[u8])> = req
        .headers
        .iter()
        .filter(|(name, _)| !is_supplied_by_signer(name))
        .copied()
        .collect();
    headers.push(("x-amz-date", amz_date.as_bytes()));
    if let Some(token) = params.session_token {
        headers.push(("x-amz-security-token", token.as_bytes()));
    }
    let mut names: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    names.sort_unstable();
    names.dedup();
    let signed: Vec<&str> = names.iter().map(String::as_str).collect();
    if signed.binary_search(&"host").is_err() {
        return Err(Malformed::HostNotSigned.into());
    }

    let with_date = Request {
        headers: &headers,
        ..*req
    };
    let hash = canonical_hash(&with_date, &signed)?;
    let key = derive_signing_key(
        params.secret_access_key.as_bytes(),
        date,
        params.region,
        params.service,
    );
    let scope = Scope {
        date,
        region: params.region,
        service: params.service,
    };
    let signature = signature_over(&key, &amz_date, &scope, &hash);
    let authorization = format!(
        "{ALGORITHM} Credential={}/{date}/{}/{}/{TERMINATOR}, SignedHeaders={}, Signature={}",
        params.access_key_id,
        params.region,
        params.service,
        signed.join(";"),
        encode_hex(signature.as_ref()),
    );

    let mut out = Vec::with_capacity(3);
    out.push(("authorization".to_owned(), authorization));
    out.push(("x-amz-date".to_owned(), amz_date.clone()));
    if let Some(token) = params.session_token {
        out.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    Ok(out)
}
