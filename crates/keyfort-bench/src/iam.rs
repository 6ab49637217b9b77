//! The client side of IAM's Query protocol, as much as `run --authz` needs: a
//! form-encoded `POST /` signed for service `iam`, and the few values it reads out of
//! IAM's XML replies.

use anyhow::{Context, bail};
use bytes::Bytes;
use hyper::StatusCode;

use crate::kms::{self, Endpoint};

/// The content type of a Query request.
const CONTENT_TYPE_FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// IAM's API version.
const VERSION: &str = "2010-05-08";

/// Percent-encodes `s` for a form body: everything but `A-Z a-z 0-9 - _ . ~` (as
/// botocore does, so a space is `%20`, not `+`).
pub fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The form body of `action` with `params`: `Action=..&Version=..&k=v...`.
pub fn form_body(action: &str, params: &[(&str, &str)]) -> String {
    let mut body = format!("Action={}&Version={VERSION}", form_encode(action));
    for (k, v) in params {
        body.push('&');
        body.push_str(&form_encode(k));
        body.push('=');
        body.push_str(&form_encode(v));
    }
    body
}

/// The text of the first `<tag>...</tag>` element in `xml`, with XML's five
/// predefined entities and numeric character references decoded. A minimal reader
/// for IAM's replies (no attributes on the element, no CDATA), not an XML parser.
pub fn element_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let len = xml.get(start..)?.find(&close)?;
    unescape(xml.get(start..start + len)?)
}

/// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#N;` and `&#xN;`; `None` for
/// any other `&`.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i)?);
        let after = rest.get(i + 1..)?;
        let end = after.find(';')?;
        let name = after.get(..end)?;
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    name.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = after.get(end + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// Calls IAM `action` with `params` as `ep`'s principal; a non-200 reply is an
/// error with IAM's error code and message. Returns the reply's XML.
pub async fn call(ep: &Endpoint, action: &str, params: &[(&str, &str)]) -> anyhow::Result<String> {
    let body = Bytes::from(form_body(action, params));
    let req = kms::signed_post(ep, "iam", CONTENT_TYPE_FORM, None, &body)?;
    let (status, reply) = kms::send_once(ep.addr, req)
        .await
        .with_context(|| format!("IAM {action}"))?;
    let text = String::from_utf8_lossy(&reply).into_owned();
    if status != StatusCode::OK {
        let code = element_text(&text, "Code").unwrap_or_default();
        let message = element_text(&text, "Message").unwrap_or_default();
        bail!("IAM {action} answered {status} {code}: {message}");
    }
    Ok(text)
}

/// An access key as CreateAccessKey returns it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    /// `AKIA...`.
    pub id: String,
    /// The secret access key.
    pub secret: String,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The access key in a CreateAccessKey reply.
pub fn parse_access_key(xml: &str) -> anyhow::Result<AccessKey> {
    let id =
        element_text(xml, "AccessKeyId").context("no AccessKeyId in CreateAccessKey's reply")?;
    let secret = element_text(xml, "SecretAccessKey")
        .context("no SecretAccessKey in CreateAccessKey's reply")?;
    if id.is_empty() || secret.is_empty() {
        bail!("CreateAccessKey's reply has an empty AccessKeyId or SecretAccessKey");
    }
    Ok(AccessKey { id, secret })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CreateAccessKey reply in the shape AWS documents (and keyfort sends).
    const CREATE_ACCESS_KEY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CreateAccessKeyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <CreateAccessKeyResult>
    <AccessKey>
      <UserName>bench-app</UserName>
      <AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId>
      <Status>Active</Status>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY&amp;+</SecretAccessKey>
      <CreateDate>2026-11-29T03:00:00Z</CreateDate>
    </AccessKey>
  </CreateAccessKeyResult>
  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>
</CreateAccessKeyResponse>"#;

    #[test]
    fn access_keys_are_read_from_the_reply() {
        let k = parse_access_key(CREATE_ACCESS_KEY).expect("parsed");
        assert_eq!(k.id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(k.secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY&+");
        assert!(!format!("{k:?}").contains("wJal"), "Debug hides the secret");
        assert!(parse_access_key("<AccessKey><AccessKeyId>A</AccessKeyId></AccessKey>").is_err());
        assert!(
            parse_access_key("<AccessKeyId></AccessKeyId><SecretAccessKey>s</SecretAccessKey>")
                .is_err()
        );
    }

    #[test]
    fn elements_and_entities() {
        assert_eq!(
            element_text("<a><Arn>x&lt;y&#62;&#x41;&quot;&apos;</Arn></a>", "Arn").as_deref(),
            Some("x<y>A\"'")
        );
        assert_eq!(element_text("<a><Arn>x</Arn></a>", "Code"), None);
        assert_eq!(element_text("<Arn>unclosed", "Arn"), None);
        assert_eq!(element_text("<Arn>a &bogus; b</Arn>", "Arn"), None);
        // The first element wins.
        assert_eq!(
            element_text("<Arn>1</Arn><Arn>2</Arn>", "Arn").as_deref(),
            Some("1")
        );
    }

    #[test]
    fn form_bodies_are_percent_encoded() {
        assert_eq!(form_encode("a b/c+{\"}~"), "a%20b%2Fc%2B%7B%22%7D~");
        assert_eq!(
            form_body(
                "PutUserPolicy",
                &[("UserName", "bench-app"), ("PolicyDocument", "{\"a\":1}")]
            ),
            "Action=PutUserPolicy&Version=2010-05-08&UserName=bench-app&PolicyDocument=%7B%22a%22%3A1%7D"
        );
    }
}
