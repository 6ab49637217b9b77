//! The crate's one error type, with one variant per AWS outcome.

use crate::time::format_amz_date;

/// How much of a client-supplied value an error message may echo back.
const ECHO_LIMIT: usize = 128;

/// Why authenticating a request failed.
///
/// Each variant is one AWS outcome; [`Error::aws_code`] gives the AWS error
/// code the server returns for it, and `Display` gives AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No `Authorization` header, or no `X-Amz-Date` header.
    #[error("Missing Authentication Token")]
    MissingAuthentication,
    /// The signature information is present but cannot be used as sent.
    #[error(transparent)]
    Malformed(#[from] Malformed),
    /// The request's `X-Amz-Date` is further from the server's clock than the
    /// allowed skew, in either direction.
    #[error("{}", expired_message(*.request_unix, *.now_unix, *.max_skew_secs))]
    Expired {
        /// The request's `X-Amz-Date`, as unix seconds.
        request_unix: u64,
        /// The server's clock when the request was checked, as unix seconds.
        now_unix: u64,
        /// The largest difference accepted, in seconds.
        max_skew_secs: u64,
    },
    /// The recomputed signature differs from the one the client sent.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. \
         Consult the service documentation for details."
    )]
    Mismatch,
}

impl Error {
    /// The AWS error code (the JSON `__type`) for this outcome.
    #[must_use]
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::MissingAuthentication => "MissingAuthenticationTokenException",
            Self::Malformed(_) => "IncompleteSignatureException",
            Self::Expired { .. } | Self::Mismatch => "InvalidSignatureException",
        }
    }
}

/// AWS's wording for a request outside the accepted time window, e.g.
/// `Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z
/// (20150830T125600Z - 15 min.)`.
fn expired_message(request_unix: u64, now_unix: u64, max_skew_secs: u64) -> String {
    let span = if max_skew_secs % 60 == 0 {
        format!("{} min.", max_skew_secs / 60)
    } else {
        format!("{max_skew_secs} sec.")
    };
    let request = format_amz_date(request_unix);
    let now = format_amz_date(now_unix);
    if request_unix < now_unix {
        let bound = format_amz_date(now_unix.saturating_sub(max_skew_secs));
        format!("Signature expired: {request} is now earlier than {bound} ({now} - {span})")
    } else {
        let bound = format_amz_date(now_unix.saturating_add(max_skew_secs));
        format!("Signature not yet current: {request} is still later than {bound} ({now} + {span})")
    }
}

/// Why signature information that is present cannot be used
/// (AWS: `IncompleteSignatureException`).
///
/// Values echoed from the request are cut to a bounded length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The `Authorization` header does not start with `AWS4-HMAC-SHA256 `.
    #[error(
        "Unsupported AWS 'algorithm': the Authorization header must start with 'AWS4-HMAC-SHA256'."
    )]
    UnsupportedAlgorithm,
    /// A component of the `Authorization` header has no `=`.
    #[error("'{0}' not a valid key=value pair (missing equal-sign) in Authorization header.")]
    NotKeyValue(String),
    /// A required component (`Credential`, `SignedHeaders`, `Signature`) is absent.
    #[error("Authorization header requires '{0}' parameter.")]
    MissingParameter(&'static str),
    /// A component appears twice.
    #[error("Authorization header has a duplicate '{0}' parameter.")]
    DuplicateParameter(&'static str),
    /// A component other than the three `SigV4` ones.
    #[error("Authorization header has an unknown parameter '{0}'.")]
    UnknownParameter(String),
    /// The credential is not `access-key-id/date/region/service/aws4_request`.
    #[error(
        "Credential should have exactly 5 slash-delimited elements, \
         e.g. keyid/date/region/service/term, got '{0}'."
    )]
    CredentialShape(String),
    /// The credential scope's date is not eight digits.
    #[error("Invalid credential date '{0}'. Date is not the required format: yyyyMMdd.")]
    CredentialDate(String),
    /// The credential scope does not end in `aws4_request`.
    #[error("Credential should be scoped with a valid terminator: 'aws4_request', not '{0}'.")]
    CredentialTerminator(String),
    /// The credential scope names a region this server does not serve
    /// (for the server to raise; parsing accepts any non-empty region).
    #[error("Credential should be scoped to a valid region, not '{0}'.")]
    CredentialRegion(String),
    /// The credential scope names another service (for the server to raise).
    #[error("Credential should be scoped to correct service: '{expected}'.")]
    CredentialService {
        /// The service this server implements.
        expected: &'static str,
    },
    /// `SignedHeaders` is not a `;`-separated, lowercase, strictly sorted list
    /// of header names.
    #[error(
        "SignedHeaders must be a ';'-separated, lowercase, sorted list of header names, got '{0}'."
    )]
    SignedHeaders(String),
    /// More signed headers than this crate accepts.
    #[error("SignedHeaders lists more than {0} headers.")]
    TooManySignedHeaders(usize),
    /// `host` is not among the signed headers.
    #[error("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,
    /// `x-amz-date` is not among the signed headers.
    #[error("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")]
    DateNotSigned,
    /// A header listed in `SignedHeaders` is absent from the request.
    #[error("The header '{0}' is listed in SignedHeaders but is not present in the request.")]
    SignedHeaderAbsent(String),
    /// A signed header's value is not valid UTF-8 (only when the canonical
    /// request is asked for as a `String`).
    #[error("The value of signed header '{0}' is not valid UTF-8.")]
    HeaderNotUtf8(String),
    /// The signature is not 64 hexadecimal digits.
    #[error("Signature must be 64 hexadecimal characters.")]
    Signature,
    /// `X-Amz-Date` is not `YYYYMMDDTHHMMSSZ` naming a real instant at or
    /// after 1970.
    #[error(
        "Date must be in ISO-8601 'basic format'. Got '{0}'. See http://en.wikipedia.org/wiki/ISO_8601"
    )]
    Date(String),
    /// The credential scope's date is not the date part of `X-Amz-Date`.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '{scope}' != '{date_part}', from '{amz_date}'."
    )]
    DateMismatch {
        /// The date in the credential scope.
        scope: String,
        /// The first eight characters of `X-Amz-Date`.
        date_part: String,
        /// The whole `X-Amz-Date`.
        amz_date: String,
    },
}

/// A client-supplied value cut to at most [`ECHO_LIMIT`] bytes, on a
/// character boundary, for inclusion in an error message.
pub(crate) fn echo(value: &str) -> String {
    let mut end = value.len().min(ECHO_LIMIT);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_aws() {
        assert_eq!(
            Error::MissingAuthentication.aws_code(),
            "MissingAuthenticationTokenException"
        );
        assert_eq!(
            Error::from(Malformed::HostNotSigned).aws_code(),
            "IncompleteSignatureException"
        );
        assert_eq!(Error::Mismatch.aws_code(), "InvalidSignatureException");
        let expired = Error::Expired {
            request_unix: 0,
            now_unix: 1000,
            max_skew_secs: 900,
        };
        assert_eq!(expired.aws_code(), "InvalidSignatureException");
    }

    #[test]
    fn mismatch_message_is_aws_wording() {
        assert_eq!(
            Error::Mismatch.to_string(),
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service \
             documentation for details."
        );
    }

    #[test]
    fn echo_cuts_on_char_boundary() {
        let long = "é".repeat(100); // 200 bytes
        let cut = echo(&long);
        assert!(cut.len() <= ECHO_LIMIT);
        assert_eq!(cut.len(), 128);
        assert_eq!(echo("short"), "short");
        let odd = format!("a{}", "é".repeat(100));
        assert_eq!(echo(&odd).len(), 127);
    }
}
