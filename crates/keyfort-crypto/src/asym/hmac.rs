//! HMAC keys: `GenerateMac` and `VerifyMac`.

use core::fmt;

use aws_lc_rs::hmac;

use super::{HmacSpec, PrivateKeyBytes};
use crate::Error;

/// Generates HMAC key material of the length AWS generates for `spec`
/// ([`HmacSpec::key_len`]: 28, 32, 48 or 64 bytes) from aws-lc's generator.
///
/// # Errors
/// [`Error::Random`] if the generator fails.
pub fn generate_hmac(spec: HmacSpec) -> Result<PrivateKeyBytes, Error> {
    let mut key = PrivateKeyBytes::new(vec![0; spec.key_len()]);
    crate::fill_random(key.expose_mut())?;
    Ok(key)
}

/// A loaded HMAC key. The key bytes live only inside aws-lc's HMAC context
/// (cleansed when freed); `Debug` prints the spec only. `Send + Sync`.
pub struct HmacKey {
    spec: HmacSpec,
    key: hmac::Key,
}

impl HmacKey {
    /// Loads raw HMAC key material for `spec`.
    ///
    /// # Errors
    /// [`Error::HmacKeyLength`] unless the length is in
    /// [`HmacSpec::key_len_range`] (the digest length up to the block size).
    pub fn from_bytes(spec: HmacSpec, raw: &[u8]) -> Result<Self, Error> {
        let range = spec.key_len_range();
        if !range.contains(&raw.len()) {
            return Err(Error::HmacKeyLength {
                min: *range.start(),
                max: *range.end(),
                actual: raw.len(),
            });
        }
        let algorithm = match spec {
            HmacSpec::Hmac224 => hmac::HMAC_SHA224,
            HmacSpec::Hmac256 => hmac::HMAC_SHA256,
            HmacSpec::Hmac384 => hmac::HMAC_SHA384,
            HmacSpec::Hmac512 => hmac::HMAC_SHA512,
        };
        Ok(Self {
            spec,
            key: hmac::Key::new(algorithm, raw),
        })
    }

    /// The key's spec.
    #[must_use]
    pub fn spec(&self) -> HmacSpec {
        self.spec
    }

    /// HMAC of `msg` (RFC 2104), [`HmacSpec::mac_len`] bytes, as `GenerateMac`
    /// returns it.
    #[must_use]
    pub fn mac(&self, msg: &[u8]) -> Vec<u8> {
        hmac::sign(&self.key, msg).as_ref().to_vec()
    }

    /// Whether `mac` is the HMAC of `msg`, compared in constant time (a MAC
    /// of the wrong length is simply unequal), as `VerifyMac` decides.
    #[must_use]
    pub fn verify(&self, msg: &[u8], mac: &[u8]) -> bool {
        hmac::verify(&self.key, msg, mac).is_ok()
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HmacKey")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}
