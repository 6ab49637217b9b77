//! The root key: the key that seals every backing key and stored secret.
//!
//! Sealed value (version 1): `0x01 || nonce[12] || ciphertext || tag[16]`,
//! AES-256-GCM directly under the root key, AAD exactly as the caller gives
//! it. The AAD names the owner of the value, e.g.
//! `keyfort:backing-key:v1|<key id>|<backing key id hex>`, so a database row moved to
//! another owner fails to open.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::error::Unspecified;

use crate::blob::{NONCE_LEN, TAG_LEN};
use crate::error::Malformed;
use crate::secret::{SecretBytes, SymmetricKey, fill_random};
use crate::{Error, keyfile};

/// Version byte of values sealed under the root key.
pub const SEALED_VERSION_V1: u8 = 1;

/// Bytes a sealed value adds to its plaintext (version, nonce, tag).
pub const SEALED_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// The 256-bit root key. Never stored in the database.
///
/// Holds only the AES-256-GCM key schedule, built once (aws-lc cleanses it
/// when freed); the raw bytes are zeroized as soon as it is built. There is
/// no way to read the key back out.
pub struct RootKey {
    /// `Err` only if aws-lc refused a 32-byte AES-256 key, which it does not;
    /// kept as a `Result` so that impossible case is an error, not a panic.
    aead: Result<LessSafeKey, Unspecified>,
}

impl RootKey {
    /// Loads the root key file at `path`, or creates it if it does not exist.
    ///
    /// The file format is in `docs/ciphertext-format.md` (41 bytes: magic
    /// `KFRK`, version, key, truncated SHA-256 checksum). A new file is
    /// written to a temporary file with mode 0600 in the same directory,
    /// fsynced, published with a hard link (which, unlike `rename`, never
    /// replaces a key another process created at the same moment; the loser
    /// loads the winner's key), and the directory is fsynced. The parent
    /// directory must exist.
    ///
    /// Returns the key and whether it was created by this call.
    ///
    /// # Errors
    /// [`Error::InvalidKeyFile`] if the file is not a regular file, gives
    /// group or other users any access (mode & 0o077 != 0), or has the wrong
    /// size, magic, version or checksum; [`Error::Io`] for I/O failures;
    /// [`Error::Random`] if a new key cannot be generated.
    pub fn load_or_create(path: &Path) -> Result<(RootKey, bool), Error> {
        let (key, created) = keyfile::load_or_create(path)?;
        Ok((Self::from_symmetric(key), created))
    }

    /// Uses `key` as the root key (for the passphrase and PKCS#11 providers,
    /// and tests).
    #[must_use]
    pub fn from_symmetric(key: SymmetricKey) -> RootKey {
        let aead = UnboundKey::new(&AES_256_GCM, key.expose()).map(LessSafeKey::new);
        RootKey { aead }
    }

    /// Seals `plaintext` with a random nonce, binding it to `aad`.
    ///
    /// # Errors
    /// [`Error::Random`] or [`Error::Seal`] on internal failure.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0; NONCE_LEN];
        fill_random(&mut nonce)?;
        self.seal_with_nonce(plaintext, aad, &nonce)
    }

    /// [`RootKey::seal`] with a caller-chosen nonce; only for test vectors.
    pub(crate) fn seal_with_nonce(
        &self,
        plaintext: &[u8],
        aad: &[u8],
        nonce: &[u8; NONCE_LEN],
    ) -> Result<Vec<u8>, Error> {
        let header_len = 1 + NONCE_LEN;
        let mut out = Vec::with_capacity(plaintext.len() + SEALED_OVERHEAD);
        out.push(SEALED_VERSION_V1);
        out.extend_from_slice(nonce);
        out.extend_from_slice(plaintext);
        let aead = self.aead.as_ref().map_err(|e| Error::Seal(*e))?;
        let (_, body) = out.split_at_mut(header_len);
        let tag = aead
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), body)
            .map_err(Error::Seal)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a value made by [`RootKey::seal`] with the same `aad`.
    ///
    /// # Errors
    /// [`Error::MalformedSealed`] if it is too short,
    /// [`Error::UnsupportedVersion`] for an unknown version byte,
    /// [`Error::Open`] for a wrong key or AAD or a modified value.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<SecretBytes, Error> {
        let truncated = || Error::MalformedSealed(Malformed::Truncated);
        let (&version, rest) = sealed.split_first().ok_or_else(truncated)?;
        if version != SEALED_VERSION_V1 {
            return Err(Error::UnsupportedVersion(version));
        }
        let (nonce, rest) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or_else(truncated)?;
        let (ciphertext, tag) = rest.split_last_chunk::<TAG_LEN>().ok_or_else(truncated)?;
        // An internal failure, not an authentication failure: report it as such.
        let aead = self.aead.as_ref().map_err(|e| Error::KeySetup(*e))?;
        let mut plaintext = SecretBytes::zeroed(ciphertext.len());
        aead.open_separate_gather(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(aad),
            ciphertext,
            tag,
            plaintext.expose_mut(),
        )
        .map_err(Error::Open)?;
        Ok(plaintext)
    }
}

impl core::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RootKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> RootKey {
        RootKey::from_symmetric(SymmetricKey::from_bytes(&[0x42; 32]).unwrap())
    }

    const AAD: &[u8] = b"backing-key|1234abcd-12ab-34cd-56ef-1234567890ab|00ff";

    #[test]
    fn seal_open_roundtrip() {
        let r = root();
        for len in [0usize, 1, 32, 1000] {
            let pt = vec![0x33; len];
            let sealed = r.seal(&pt, AAD).unwrap();
            assert_eq!(sealed.len(), len + SEALED_OVERHEAD);
            assert_eq!(sealed.capacity(), sealed.len());
            assert_eq!(sealed[0], SEALED_VERSION_V1);
            assert_eq!(r.open(&sealed, AAD).unwrap().expose(), &pt[..]);
        }
        assert_ne!(r.seal(b"x", AAD).unwrap(), r.seal(b"x", AAD).unwrap());
    }

    #[test]
    fn wrong_aad_fails() {
        let r = root();
        let sealed = r.seal(b"backing key bytes", AAD).unwrap();
        for aad in [&b""[..], b"backing-key|other|00ff", &AAD[..AAD.len() - 1]] {
            assert!(matches!(r.open(&sealed, aad), Err(Error::Open(_))));
        }
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = root().seal(b"secret", AAD).unwrap();
        let other = RootKey::from_symmetric(SymmetricKey::from_bytes(&[0x43; 32]).unwrap());
        assert!(matches!(other.open(&sealed, AAD), Err(Error::Open(_))));
    }

    #[test]
    fn every_flip_and_truncation_fails() {
        let r = root();
        let sealed = r.seal(b"abc", AAD).unwrap();
        for pos in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[pos] ^= 0x01;
            assert!(r.open(&bad, AAD).is_err(), "flip at {pos}");
        }
        for len in 0..sealed.len() {
            assert!(r.open(&sealed[..len], AAD).is_err(), "truncated to {len}");
        }
    }

    #[test]
    fn errors_are_specific() {
        let r = root();
        assert!(matches!(
            r.open(b"", AAD),
            Err(Error::MalformedSealed(Malformed::Truncated))
        ));
        assert!(matches!(
            r.open(&[2; 40], AAD),
            Err(Error::UnsupportedVersion(2))
        ));
        assert!(matches!(
            r.open(&[1; SEALED_OVERHEAD - 1], AAD),
            Err(Error::MalformedSealed(Malformed::Truncated))
        ));
        assert!(matches!(
            r.open(&[1; SEALED_OVERHEAD], AAD),
            Err(Error::Open(_))
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let dbg = format!("{:?}", root());
        assert_eq!(dbg, "RootKey(<redacted>)");
        assert!(!dbg.contains("42") && !dbg.contains("66"));
    }
}
