//! AWS Signature Version 4: parsing, verification and signing, with no I/O.
//!
//! The server authenticates a request in this order, cheapest first:
//!
//! 1. no `Authorization` or `X-Amz-Date` header: [`Error::MissingAuthentication`];
//! 2. [`parse_authorization`] (no hashing);
//! 3. [`check_time`] against the server clock with [`DEFAULT_MAX_SKEW_SECS`];
//! 4. look up the secret and [`derive_signing_key`] (cache the [`SigningKey`]
//!    per access key id, date, region and service);
//! 5. [`verify`], which hashes the body once and compares in constant time.
//!
//! [`sign`] is the client side, for the load generator and tests.
//!
//! Every error maps to one AWS outcome through [`Error::aws_code`].

#![forbid(unsafe_code)]

mod auth;
mod canonical;
mod error;
mod hex;
mod key;
mod sign;
mod time;

#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_suite_cases;
#[cfg(test)]
mod tests_vectors;

pub use auth::{
    ALGORITHM, Authorization, Credential, MAX_SIGNED_HEADERS, TERMINATOR, parse_authorization,
};
pub use canonical::{Request, canonical_request};
pub use error::{Error, Malformed};
pub use key::{SigningKey, derive_signing_key};
pub use sign::{SignParams, sign, string_to_sign, verify};
pub use time::{check_time, format_amz_date, parse_amz_date};

/// The clock skew AWS accepts, in either direction: 15 minutes.
pub const DEFAULT_MAX_SKEW_SECS: u64 = 15 * 60;
