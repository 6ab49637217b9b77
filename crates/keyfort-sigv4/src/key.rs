//! The derived `SigV4` signing key.

use aws_lc_rs::hmac;
use zeroize::{Zeroize, Zeroizing};

/// `kSigning`, the end of the chain `kSecret -> kDate -> kRegion -> kService
/// -> kSigning`.
///
/// It is valid for one access key, day, region and service, so the server
/// caches it per `(access key id, date, region, service)` and skips the four
/// HMACs of [`derive_signing_key`] on every later request. It also keeps
/// the HMAC state keyed with itself, so a verification starts from that.
/// Its `Debug` is redacted; when dropped its bytes are overwritten with
/// zeros and aws-lc cleanses the HMAC state.
#[derive(Clone)]
pub struct SigningKey {
    bytes: [u8; 32],
    hmac: hmac::Key,
}

impl SigningKey {
    /// Wraps 32 bytes already derived elsewhere.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let hmac = hmac::Key::new(hmac::HMAC_SHA256, &bytes);
        Self { bytes, hmac }
    }

    /// The key bytes. The only way to read them.
    #[must_use]
    pub fn expose(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The HMAC-SHA256 key for signing a string to sign with this key.
    pub(crate) fn hmac_key(&self) -> &hmac::Key {
        &self.hmac
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

/// HMAC-SHA256 of `data` under `key`, into a buffer zeroed on drop.
fn hmac_step(key: &[u8], data: &[u8]) -> Zeroizing<[u8; 32]> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut out = Zeroizing::new([0u8; 32]);
    // aws-lc-rs returns the tag by value; it is copied out at once. (Its own
    // copy on the stack is beyond this crate's reach.)
    out.copy_from_slice(hmac::sign(&key, data).as_ref());
    out
}

/// Derives the signing key for `date` (`YYYYMMDD`), `region` and `service`
/// from a secret access key, as AWS specifies: HMAC-SHA256 keyed first with
/// `"AWS4" + secret`, then chained over date, region, service and
/// `aws4_request`. Intermediate keys are zeroed after use.
#[must_use]
pub fn derive_signing_key(
    secret_access_key: &[u8],
    date: &str,
    region: &str,
    service: &str,
) -> SigningKey {
    let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret_access_key.len()));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret_access_key);
    let k_date = hmac_step(&k_secret, date.as_bytes());
    let k_region = hmac_step(&*k_date, region.as_bytes());
    let k_service = hmac_step(&*k_region, service.as_bytes());
    let k_signing = hmac_step(&*k_service, b"aws4_request");
    SigningKey::from_bytes(*k_signing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::encode_hex;

    const SECRET: &[u8] = b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn aws_documented_derivation_example() {
        // "Examples of how to derive a signing key for Signature Version 4".
        let key = derive_signing_key(SECRET, "20120215", "us-east-1", "iam");
        assert_eq!(
            encode_hex(key.expose()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }

    #[test]
    fn key_of_the_listusers_example() {
        let key = derive_signing_key(SECRET, "20150830", "us-east-1", "iam");
        assert_eq!(
            encode_hex(key.expose()),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn every_input_changes_the_key() {
        let base = derive_signing_key(SECRET, "20150830", "us-east-1", "kms");
        for other in [
            derive_signing_key(b"x", "20150830", "us-east-1", "kms"),
            derive_signing_key(SECRET, "20150831", "us-east-1", "kms"),
            derive_signing_key(SECRET, "20150830", "us-east-2", "kms"),
            derive_signing_key(SECRET, "20150830", "us-east-1", "iam"),
        ] {
            assert_ne!(base.expose(), other.expose());
        }
    }

    #[test]
    fn can_be_cached_across_threads() {
        fn shared<T: Send + Sync + Clone>() {}
        shared::<SigningKey>();
    }

    #[test]
    fn debug_is_redacted_and_clone_is_equal() {
        let key = derive_signing_key(SECRET, "20150830", "us-east-1", "kms");
        let shown = format!("{key:?}");
        assert_eq!(shown, "SigningKey(<redacted>)");
        assert!(!shown.contains(&encode_hex(key.expose())[..8]));
        assert_eq!(key.clone().expose(), key.expose());
        assert_eq!(SigningKey::from_bytes(*key.expose()).expose(), key.expose());
    }
}
