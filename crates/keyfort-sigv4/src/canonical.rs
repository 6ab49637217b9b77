//! The canonical request, built exactly as AWS specifies for services other
//! than S3.

use aws_lc_rs::digest;

use crate::auth::check_signed_headers;
use crate::error::{Error, Malformed, echo};
use crate::hex::{hex_value, hex32};

/// What the verifier needs from an HTTP request.
///
/// `Debug` shows header names and the body's length only: header values may
/// carry tokens and the body may carry plaintext.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// The method, e.g. `POST`, used as given.
    pub method: &'a str,
    /// The path as on the wire (still percent-encoded), without the query.
    pub path: &'a str,
    /// The raw query string without `?`; may be empty.
    pub query: &'a str,
    /// Every header of the request, names in any case, values raw. A header
    /// that appears several times appears here several times, in order.
    pub headers: &'a [(&'a str, &'a [u8])],
    /// The whole body.
    pub body: &'a [u8],
}

impl std::fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Builds the canonical request for `req`, signing `signed_headers`
/// (lowercase, strictly ascending, as [`parse_authorization`](crate::parse_authorization)
/// returns them):
///
/// ```text
/// METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
/// ```
///
/// * URI: the path is normalized (empty segments, `.` and `..` removed; a
///   trailing `/` kept), then every byte but `A-Za-z0-9-._~` and `/` is
///   percent-encoded. The wire path is already encoded once, so an escape
///   such as `%3D` becomes `%253D`: AWS's double encoding for non-S3
///   services, as botocore and the other SDKs do it.
/// * Query: split on `&` (empty pieces skipped), each name and value
///   percent-decoded (`+` is a literal plus) then re-encoded with uppercase
///   hex, pairs sorted by encoded name then value, `name=value` joined with `&`.
/// * Headers: one line per signed header, `name:value`, the value trimmed
///   and each inner run of whitespace (space, tab, CR, LF, VT, FF) turned into
///   one space; repeated headers are joined with `,` in request order.
/// * Payload: the hex SHA-256 of the body, always. An `x-amz-content-sha256`
///   header is signed like any other header but never stands in for the
///   body's hash, so `UNSIGNED-PAYLOAD` is not supported (KMS clients hash
///   the body).
///
/// # Errors
/// [`Malformed::SignedHeaders`] if `signed_headers` is not lowercase and
/// sorted, [`Malformed::SignedHeaderAbsent`] if a signed header is not in
/// the request, [`Malformed::HeaderNotUtf8`] if a signed header's value is
/// not UTF-8 (the verifier itself hashes bytes and has no such limit).
pub fn canonical_request(req: &Request<'_>, signed_headers: &[&str]) -> Result<String, Error> {
    let payload = payload_hash(req.body);
    let mut buf = Vec::with_capacity(capacity_hint(req));
    write_canonical_request(&mut buf, req, signed_headers, &payload)?;
    String::from_utf8(buf).map_err(|_| {
        let culprit = signed_headers
            .iter()
            .find(|name| {
                req.headers
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case(name) && std::str::from_utf8(v).is_err())
            })
            .copied()
            .unwrap_or_default();
        Malformed::HeaderNotUtf8(echo(culprit)).into()
    })
}

/// The hex SHA-256 of a body.
pub(crate) fn payload_hash(body: &[u8]) -> [u8; 64] {
    hex32(digest::digest(&digest::SHA256, body).as_ref())
}

/// A buffer size that usually holds the whole canonical request.
pub(crate) fn capacity_hint(req: &Request<'_>) -> usize {
    let headers: usize = req.headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    req.method.len() + 3 * (req.path.len() + req.query.len()) + 2 * headers + 96
}

/// Appends the canonical request to `buf`; `payload` is the hex hash of the body.
pub(crate) fn write_canonical_request(
    buf: &mut Vec<u8>,
    req: &Request<'_>,
    signed_headers: &[&str],
    payload: &[u8; 64],
) -> Result<(), Error> {
    check_signed_headers(signed_headers)?;
    buf.extend_from_slice(req.method.as_bytes());
    buf.push(b'\n');
    write_canonical_uri(buf, req.path.as_bytes());
    buf.push(b'\n');
    write_canonical_query(buf, req.query.as_bytes());
    buf.push(b'\n');
    for name in signed_headers {
        buf.extend_from_slice(name.as_bytes());
        buf.push(b':');
        write_header_values(buf, name, req.headers)?;
        buf.push(b'\n');
    }
    buf.push(b'\n');
    for (i, name) in signed_headers.iter().enumerate() {
        if i > 0 {
            buf.push(b';');
        }
        buf.extend_from_slice(name.as_bytes());
    }
    buf.push(b'\n');
    buf.extend_from_slice(payload);
    Ok(())
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const UPPER_HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `bytes` with every byte but the unreserved ones percent-encoded.
fn encode_into(buf: &mut Vec<u8>, bytes: impl IntoIterator<Item = u8>) {
    for b in bytes {
        if is_unreserved(b) {
            buf.push(b);
        } else {
            buf.extend_from_slice(&[
                b'%',
                UPPER_HEX[usize::from(b >> 4)],
                UPPER_HEX[usize::from(b & 0x0f)],
            ]);
        }
    }
}

/// True when the path needs no dot-segment or slash normalization: it
/// starts with `/` and has no empty, `.` or `..` segment (a trailing `/`
/// after a real segment is fine).
fn is_normal_path(path: &[u8]) -> bool {
    let Some(rest) = path.strip_prefix(b"/") else {
        return false;
    };
    let mut segments = rest.split(|&b| b == b'/').peekable();
    let mut first = true;
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        let ok = match segment {
            b"" => last && !first,
            b"." | b".." => false,
            _ => true,
        };
        if !ok {
            return false;
        }
        first = false;
    }
    true
}

fn write_canonical_uri(buf: &mut Vec<u8>, path: &[u8]) {
    if path == b"/" || path.is_empty() {
        buf.push(b'/');
        return;
    }
    if is_normal_path(path) {
        for segment in path[1..].split(|&b| b == b'/') {
            buf.push(b'/');
            encode_into(buf, segment.iter().copied());
        }
        return;
    }
    let mut kept: Vec<&[u8]> = Vec::new();
    for segment in path.split(|&b| b == b'/') {
        match segment {
            b"" | b"." => {}
            b".." => {
                kept.pop();
            }
            _ => kept.push(segment),
        }
    }
    for segment in &kept {
        buf.push(b'/');
        encode_into(buf, segment.iter().copied());
    }
    if kept.is_empty() || path.ends_with(b"/") {
        buf.push(b'/');
    }
}

/// The bytes of a query component with `%XX` escapes decoded; a `%` not
/// followed by two hex digits is taken literally.
fn percent_decoded(raw: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *raw.get(i)?;
        if b == b'%' {
            let hi = raw.get(i + 1).copied().and_then(hex_value);
            let lo = raw.get(i + 2).copied().and_then(hex_value);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                i += 3;
                return Some((hi << 4) | lo);
            }
        }
        i += 1;
        Some(b)
    })
}

fn write_canonical_query(buf: &mut Vec<u8>, query: &[u8]) {
    if query.is_empty() {
        return;
    }
    // Encode every pair once into `scratch`, then sort index triples
    // (name start, name end = value start, value end) and copy out.
    let mut scratch = Vec::with_capacity(3 * query.len());
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
    for param in query.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (name, value) = match param.iter().position(|&b| b == b'=') {
            Some(eq) => (&param[..eq], &param[eq + 1..]),
            None => (param, &[][..]),
        };
        let start = scratch.len();
        encode_into(&mut scratch, percent_decoded(name));
        let mid = scratch.len();
        encode_into(&mut scratch, percent_decoded(value));
        pairs.push((start, mid, scratch.len()));
    }
    pairs.sort_unstable_by(|a, b| {
        scratch[a.0..a.1]
            .cmp(&scratch[b.0..b.1])
            .then_with(|| scratch[a.1..a.2].cmp(&scratch[b.1..b.2]))
    });
    for (i, &(start, mid, end)) in pairs.iter().enumerate() {
        if i > 0 {
            buf.push(b'&');
        }
        buf.extend_from_slice(&scratch[start..mid]);
        buf.push(b'=');
        buf.extend_from_slice(&scratch[mid..end]);
    }
}

fn is_header_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

/// Appends the values of every header called `name`, each trimmed with
/// inner whitespace runs collapsed, joined with `,`.
fn write_header_values(
    buf: &mut Vec<u8>,
    name: &str,
    headers: &[(&str, &[u8])],
) -> Result<(), Malformed> {
    let mut found = false;
    for (_, value) in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
        if found {
            buf.push(b',');
        }
        found = true;
        let mut pending_space = false;
        let mut started = false;
        for &b in *value {
            if is_header_space(b) {
                pending_space = started;
            } else {
                if pending_space {
                    buf.push(b' ');
                    pending_space = false;
                }
                buf.push(b);
                started = true;
            }
        }
    }
    if found {
        Ok(())
    } else {
        Err(Malformed::SignedHeaderAbsent(echo(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(path: &str) -> String {
        let mut buf = Vec::new();
        write_canonical_uri(&mut buf, path.as_bytes());
        String::from_utf8(buf).unwrap()
    }

    fn query(q: &str) -> String {
        let mut buf = Vec::new();
        write_canonical_query(&mut buf, q.as_bytes());
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn path_normalization_follows_botocore() {
        for (raw, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/..", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/a/b/..", "/a"),
            ("/a/b/../", "/a/"),
            ("/./example", "/example"),
            ("//example//", "/example/"),
            ("/a//b", "/a/b"),
            ("/a/./b/.", "/a/b"),
            ("/a/", "/a/"),
            ("/a/b", "/a/b"),
            ("a/b", "/a/b"),
            ("/.a/..b/...", "/.a/..b/..."),
            ("/example space/", "/example%20space/"),
            ("/example%20space/", "/example%2520space/"),
            (
                "/test/@connections/JBDvjfGEIAMCERw%3D",
                "/test/%40connections/JBDvjfGEIAMCERw%253D",
            ),
            ("/ሴ", "/%E1%88%B4"),
            ("/-._~09AZaz", "/-._~09AZaz"),
        ] {
            assert_eq!(uri(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        for (raw, want) in [
            ("", ""),
            ("Param2=value2&Param1=value1", "Param1=value1&Param2=value2"),
            (
                "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
                "%E1%88%B4=Value1&Param=Value2&Param-3=Value3",
            ),
            ("ሴ=bar", "%E1%88%B4=bar"),
            ("a=2&a=1&b", "a=1&a=2&b="),
            ("a=1&&b=2&", "a=1&b=2"),
            ("k=%7e%2f%20+", "k=~%2F%20%2B"),
            ("k=100%&j=%zz", "j=%25zz&k=100%25"),
            ("k=a=b", "k=a%3Db"),
            (
                "Action=ListUsers&Version=2010-05-08",
                "Action=ListUsers&Version=2010-05-08",
            ),
        ] {
            assert_eq!(query(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn header_values_are_trimmed_joined_and_collapsed() {
        let headers: &[(&str, &[u8])] = &[
            ("My-Header1", b"  a   b \t c  "),
            ("other", b"x"),
            ("MY-HEADER1", b"\tsecond"),
            ("my-header1", b""),
            ("folded", b"value1\r\n  value2\r\n     value3"),
            ("tabbed", b"a\tb\t \tc\t"),
        ];
        let mut buf = Vec::new();
        write_header_values(&mut buf, "my-header1", headers).unwrap();
        assert_eq!(buf, b"a b c,second,");
        buf.clear();
        write_header_values(&mut buf, "folded", headers).unwrap();
        assert_eq!(buf, b"value1 value2 value3");
        buf.clear();
        write_header_values(&mut buf, "tabbed", headers).unwrap();
        assert_eq!(buf, b"a b c");
        assert_eq!(
            write_header_values(&mut buf, "absent", headers),
            Err(Malformed::SignedHeaderAbsent("absent".into()))
        );
    }

    #[test]
    fn non_utf8_header_is_named() {
        let headers: &[(&str, &[u8])] = &[("host", b"h"), ("x-amz-date", b"\xff\xfe")];
        let req = Request {
            method: "GET",
            path: "/",
            query: "",
            headers,
            body: b"",
        };
        assert_eq!(
            canonical_request(&req, &["host", "x-amz-date"]),
            Err(Malformed::HeaderNotUtf8("x-amz-date".into()).into())
        );
    }

    #[test]
    fn debug_hides_values_and_body() {
        let headers: &[(&str, &[u8])] = &[("x-amz-security-token", b"SECRET-TOKEN")];
        let req = Request {
            method: "POST",
            path: "/",
            query: "",
            headers,
            body: b"plaintext!",
        };
        let shown = format!("{req:?}");
        assert!(shown.contains("x-amz-security-token"));
        assert!(!shown.contains("SECRET-TOKEN"));
        assert!(!shown.contains("plaintext"));
    }
}
