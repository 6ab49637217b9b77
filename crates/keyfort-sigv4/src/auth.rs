//! Parsing the `Authorization` header.

use crate::error::{Error, Malformed, echo};
use crate::hex::decode_hex32;

/// The only signing algorithm this crate implements.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The credential scope terminator.
pub const TERMINATOR: &str = "aws4_request";

/// The most headers a request may sign. Real clients sign fewer than ten; the
/// limit bounds the work an unauthenticated request can cause.
pub const MAX_SIGNED_HEADERS: usize = 64;

/// The `Credential=` component: the access key id and the credential scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential<'a> {
    /// The access key id (`AKIA...`, `ASIA...`).
    pub access_key_id: &'a str,
    /// The scope's date, `YYYYMMDD` (eight ASCII digits once parsed).
    pub date: &'a str,
    /// The scope's region, e.g. `us-east-1`.
    pub region: &'a str,
    /// The scope's service, e.g. `kms`.
    pub service: &'a str,
}

impl Credential<'_> {
    /// Checks that the scope names `expected` as its service.
    ///
    /// # Errors
    /// [`Malformed::CredentialService`] otherwise.
    pub fn check_service(&self, expected: &'static str) -> Result<(), Error> {
        if self.service == expected {
            Ok(())
        } else {
            Err(Malformed::CredentialService { expected }.into())
        }
    }
}

/// A parsed `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// Who signed, and the scope of the key used.
    pub credential: Credential<'a>,
    /// The signed header names: lowercase, strictly ascending, always
    /// including `host` and `x-amz-date`.
    pub signed_headers: Vec<&'a str>,
    /// The signature the client sent, decoded from hex.
    pub signature: [u8; 32],
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Parses an `Authorization` header value such as
/// `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/kms/aws4_request,
/// SignedHeaders=host;x-amz-date, Signature=<64 hex>`.
///
/// Spaces and tabs are accepted around the whole value, between the
/// algorithm and the first component, and around each `,`. The three
/// components may come in any order. Everything else is strict: component
/// names are case-sensitive, each appears once, nothing else may appear,
/// `SignedHeaders` must be lowercase and sorted (as every SDK sends it) and
/// name `host` and `x-amz-date`, and the signature is 64 hex digits.
///
/// No hashing is done; this is the first, cheap step.
///
/// # Errors
/// [`Error::Malformed`] describing the first problem found.
pub fn parse_authorization(header: &str) -> Result<Authorization<'_>, Error> {
    let header = header.trim_matches(is_space);
    let rest = header
        .strip_prefix(ALGORITHM)
        .filter(|rest| rest.starts_with(is_space))
        .ok_or(Malformed::UnsupportedAlgorithm)?;

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim_matches(is_space);
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| Malformed::NotKeyValue(echo(part)))?;
        if let Some(at) = value.find(is_space) {
            // As AWS does: what follows the space is another, unnamed, component.
            let stray = value[at..].trim_start_matches(is_space);
            return Err(Malformed::NotKeyValue(echo(stray)).into());
        }
        let (slot, label) = match name {
            "Credential" => (&mut credential, "Credential"),
            "SignedHeaders" => (&mut signed_headers, "SignedHeaders"),
            "Signature" => (&mut signature, "Signature"),
            _ => return Err(Malformed::UnknownParameter(echo(name)).into()),
        };
        if slot.replace(value).is_some() {
            return Err(Malformed::DuplicateParameter(label).into());
        }
    }

    let credential = credential.ok_or(Malformed::MissingParameter("Credential"))?;
    let signed_headers = signed_headers.ok_or(Malformed::MissingParameter("SignedHeaders"))?;
    let signature = signature.ok_or(Malformed::MissingParameter("Signature"))?;

    Ok(Authorization {
        credential: parse_credential(credential)?,
        signed_headers: parse_signed_headers(signed_headers)?,
        signature: decode_hex32(signature).ok_or(Malformed::Signature)?,
    })
}

fn parse_credential(value: &str) -> Result<Credential<'_>, Malformed> {
    let mut parts = value.split('/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(Malformed::CredentialShape(echo(value)));
    };
    if [access_key_id, date, region, service]
        .iter()
        .any(|p| p.is_empty())
    {
        return Err(Malformed::CredentialShape(echo(value)));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed::CredentialDate(echo(date)));
    }
    if terminator != TERMINATOR {
        return Err(Malformed::CredentialTerminator(echo(terminator)));
    }
    Ok(Credential {
        access_key_id,
        date,
        region,
        service,
    })
}

fn parse_signed_headers(value: &str) -> Result<Vec<&str>, Malformed> {
    let count = value.bytes().filter(|&b| b == b';').count() + 1;
    if count > MAX_SIGNED_HEADERS {
        return Err(Malformed::TooManySignedHeaders(MAX_SIGNED_HEADERS));
    }
    let names: Vec<&str> = value.split(';').collect();
    check_signed_headers(&names)?;
    if names.binary_search(&"host").is_err() {
        return Err(Malformed::HostNotSigned);
    }
    if names.binary_search(&"x-amz-date").is_err() {
        return Err(Malformed::DateNotSigned);
    }
    Ok(names)
}

/// An HTTP token character (RFC 9110), lowercase letters only.
fn is_lower_tchar(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks that `names` are non-empty lowercase header names in strictly
/// ascending order, at most [`MAX_SIGNED_HEADERS`] of them.
pub(crate) fn check_signed_headers(names: &[&str]) -> Result<(), Malformed> {
    if names.len() > MAX_SIGNED_HEADERS {
        return Err(Malformed::TooManySignedHeaders(MAX_SIGNED_HEADERS));
    }
    let well_formed = names
        .iter()
        .all(|n| !n.is_empty() && n.bytes().all(is_lower_tchar))
        && names.windows(2).all(|w| w[0] < w[1]);
    if well_formed {
        Ok(())
    } else {
        Err(Malformed::SignedHeaders(echo(&names.join(";"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

    fn header(credential: &str, signed: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature={signature}"
        )
    }

    fn malformed(h: &str) -> Malformed {
        match parse_authorization(h) {
            Err(Error::Malformed(m)) => m,
            other => panic!("{h:?} gave {other:?}"),
        }
    }

    #[test]
    fn parses_the_iam_example() {
        let h = header(
            "AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request",
            "content-type;host;x-amz-date",
            SIG,
        );
        let auth = parse_authorization(&h).unwrap();
        assert_eq!(
            auth.credential,
            Credential {
                access_key_id: "AKIDEXAMPLE",
                date: "20150830",
                region: "us-east-1",
                service: "iam",
            }
        );
        assert_eq!(auth.signed_headers, ["content-type", "host", "x-amz-date"]);
        assert_eq!(auth.signature[0], 0x5d);
        assert_eq!(auth.signature[31], 0xd7);
        assert!(auth.credential.check_service("iam").is_ok());
        assert_eq!(
            auth.credential.check_service("kms"),
            Err(Malformed::CredentialService { expected: "kms" }.into())
        );
    }

    #[test]
    fn tolerates_sdk_whitespace_and_order() {
        let cred = "AKID/20150830/us-east-1/kms/aws4_request";
        let canonical = header(cred, "host;x-amz-date", SIG);
        let want = parse_authorization(&canonical).unwrap();
        for h in [
            format!(
                "AWS4-HMAC-SHA256 Credential={cred},SignedHeaders=host;x-amz-date,Signature={SIG}"
            ),
            format!(
                "AWS4-HMAC-SHA256  Credential={cred} ,\tSignedHeaders=host;x-amz-date ,  Signature={SIG} "
            ),
            format!(
                " AWS4-HMAC-SHA256\tSignature={SIG}, Credential={cred}, SignedHeaders=host;x-amz-date"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders=host;x-amz-date, Signature={}",
                SIG.to_uppercase()
            ),
        ] {
            assert_eq!(parse_authorization(&h).as_ref(), Ok(&want), "{h}");
        }
    }

    #[test]
    fn rejects_each_malformation() {
        let cred = "AKID/20150830/us-east-1/kms/aws4_request";
        let sh = "host;x-amz-date";
        let cases: Vec<(String, Malformed)> = vec![
            ("".into(), Malformed::UnsupportedAlgorithm),
            ("AWS4-HMAC-SHA256".into(), Malformed::UnsupportedAlgorithm),
            (
                format!("AWS4-HMAC-SHA512 Credential={cred}"),
                Malformed::UnsupportedAlgorithm,
            ),
            (
                format!("AWS4-HMAC-SHA256Credential={cred}"),
                Malformed::UnsupportedAlgorithm,
            ),
            (
                format!("aws4-hmac-sha256 Credential={cred}"),
                Malformed::UnsupportedAlgorithm,
            ),
            ("AWS AKID:abc".into(), Malformed::UnsupportedAlgorithm),
            (
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKID /20150830/us-east-1/kms/aws4_request, SignedHeaders={sh}, Signature={SIG}"
                ),
                Malformed::NotKeyValue("/20150830/us-east-1/kms/aws4_request".into()),
            ),
            (
                format!("{}, ", header(cred, sh, SIG)),
                Malformed::NotKeyValue(String::new()),
            ),
            (
                format!("AWS4-HMAC-SHA256 SignedHeaders={sh}, Signature={SIG}"),
                Malformed::MissingParameter("Credential"),
            ),
            (
                format!("AWS4-HMAC-SHA256 Credential={cred}, Signature={SIG}"),
                Malformed::MissingParameter("SignedHeaders"),
            ),
            (
                format!("AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders={sh}"),
                Malformed::MissingParameter("Signature"),
            ),
            (
                format!("{}, Signature={SIG}", header(cred, sh, SIG)),
                Malformed::DuplicateParameter("Signature"),
            ),
            (
                format!("{}, Extra=1", header(cred, sh, SIG)),
                Malformed::UnknownParameter("Extra".into()),
            ),
            (
                header("AKID/20150830/us-east-1/kms", sh, SIG),
                Malformed::CredentialShape("AKID/20150830/us-east-1/kms".into()),
            ),
            (
                header("AKID/20150830/us-east-1/kms/aws4_request/x", sh, SIG),
                Malformed::CredentialShape("AKID/20150830/us-east-1/kms/aws4_request/x".into()),
            ),
            (
                header("/20150830/us-east-1/kms/aws4_request", sh, SIG),
                Malformed::CredentialShape("/20150830/us-east-1/kms/aws4_request".into()),
            ),
            (
                header("AKID/20150830//kms/aws4_request", sh, SIG),
                Malformed::CredentialShape("AKID/20150830//kms/aws4_request".into()),
            ),
            (
                header("AKID/2015083/us-east-1/kms/aws4_request", sh, SIG),
                Malformed::CredentialDate("2015083".into()),
            ),
            (
                header("AKID/2015-8-30/us-east-1/kms/aws4_request", sh, SIG),
                Malformed::CredentialDate("2015-8-30".into()),
            ),
            (
                header("AKID/20150830/us-east-1/kms/aws4_requesT", sh, SIG),
                Malformed::CredentialTerminator("aws4_requesT".into()),
            ),
            (
                header(cred, "host;X-Amz-Date", SIG),
                Malformed::SignedHeaders("host;X-Amz-Date".into()),
            ),
            (
                header(cred, "x-amz-date;host", SIG),
                Malformed::SignedHeaders("x-amz-date;host".into()),
            ),
            (
                header(cred, "host;host;x-amz-date", SIG),
                Malformed::SignedHeaders("host;host;x-amz-date".into()),
            ),
            (
                header(cred, "host;;x-amz-date", SIG),
                Malformed::SignedHeaders("host;;x-amz-date".into()),
            ),
            (
                header(cred, "host;x-amz-date;", SIG),
                Malformed::SignedHeaders("host;x-amz-date;".into()),
            ),
            (
                header(cred, "host;my:header;x-amz-date", SIG),
                Malformed::SignedHeaders("host;my:header;x-amz-date".into()),
            ),
            (header(cred, "x-amz-date", SIG), Malformed::HostNotSigned),
            (
                header(cred, "content-type;host", SIG),
                Malformed::DateNotSigned,
            ),
            (header(cred, sh, &SIG[1..]), Malformed::Signature),
            (header(cred, sh, &format!("{SIG}0")), Malformed::Signature),
            (
                header(cred, sh, &SIG.replace('5', "g")),
                Malformed::Signature,
            ),
            (header(cred, sh, ""), Malformed::Signature),
        ];
        for (h, want) in cases {
            assert_eq!(malformed(&h), want, "{h}");
        }
    }

    #[test]
    fn limits_signed_header_count() {
        let mut names: Vec<String> = (0..MAX_SIGNED_HEADERS)
            .map(|i| format!("h{i:03}"))
            .collect();
        names.push("host".into());
        names.push("x-amz-date".into());
        let h = header(
            "AKID/20150830/us-east-1/kms/aws4_request",
            &names.join(";"),
            SIG,
        );
        assert_eq!(
            malformed(&h),
            Malformed::TooManySignedHeaders(MAX_SIGNED_HEADERS)
        );
    }

    #[test]
    fn echoed_values_are_bounded() {
        let long_date = "1".repeat(10_000);
        let h = header(
            &format!("AKID/{long_date}/r/s/aws4_request"),
            "host;x-amz-date",
            SIG,
        );
        let Malformed::CredentialDate(echoed) = malformed(&h) else {
            panic!("wrong variant")
        };
        assert!(echoed.len() <= 128);
    }
}
