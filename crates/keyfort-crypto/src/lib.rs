//! Cryptography for keyfort: secret newtypes, the root key and its key file,
//! the ciphertext blob codec for symmetric `Encrypt`/`Decrypt`, and the
//! asymmetric, HMAC and key-agreement primitives ([`AsymKey`], [`HmacKey`]).
//!
//! All primitives come from `aws-lc-rs` (AES-256-GCM, HKDF-SHA256, SHA-256,
//! RSA, ECDSA, Ed25519, ML-DSA, ECDH, HMAC, the system RNG). The only I/O is
//! [`RootKey::load_or_create`]. The byte formats, their HKDF labels and AAD
//! rules, and test vectors are specified in `docs/ciphertext-format.md`; the
//! asymmetric specs, algorithms and stored formats in `docs/asymmetric.md`.
//!
//! Secrets ([`SecretBytes`], [`SymmetricKey`], [`RootKey`]) have redacted
//! `Debug`, are zeroized on drop, are read only through `expose()` (the root
//! key not at all), and are compared in constant time.
//!
//! A typical Encrypt / Decrypt:
//!
//! ```
//! use std::collections::BTreeMap;
//! use keyfort_crypto::*;
//!
//! let backing_key = SymmetricKey::generate()?;
//! let backing_key_id = sha256(b"backing key 1");
//! let ctx = BTreeMap::from([("purpose".to_string(), "example".to_string())]);
//! let aad = canonical_encryption_context(ctx.iter().map(|(k, v)| (k.as_str(), v.as_str())));
//!
//! let blob = encrypt_symmetric(&backing_key, "1234abcd-12ab-34cd-56ef-1234567890ab",
//!                              &backing_key_id, b"hello", &aad)?;
//! let parsed = parse_blob(&blob)?;          // cheap, no crypto
//! assert_eq!(parsed.key_id(), "1234abcd-12ab-34cd-56ef-1234567890ab");
//! // ... look up the key and parsed.backing_key_id() ...
//! let plaintext = decrypt_symmetric(&backing_key, &parsed, &aad)?;
//! assert_eq!(plaintext.expose(), b"hello");
//! # Ok::<(), keyfort_crypto::Error>(())
//! ```
#![forbid(unsafe_code)]

mod asym;
mod blob;
mod context;
mod error;
mod import;
mod keyfile;
mod root;
mod secret;

#[cfg(test)]
mod vectors;

pub use asym::{
    AsymKey, AsymSpec, EXTERNAL_MU_LEN, HmacKey, HmacSpec, MessageKind, PrivateKeyBytes, RsaOaep,
    SigningAlgorithm, encryption_algorithms, generate_asym, generate_data_key_pair, generate_hmac,
    signing_algorithms,
};
pub use blob::{
    BACKING_KEY_ID_LEN, BLOB_MAGIC, BLOB_VERSION_V1, BlobHeader, HKDF_INFO_V1, MAX_KEY_ID_LEN,
    NONCE_LEN, ParsedBlob, SALT_LEN, TAG_LEN, decrypt_symmetric, encrypt_symmetric, parse_blob,
};
pub use context::canonical_encryption_context;
pub use error::{Error, KeyFileError, KeyIdError, Malformed};
pub use import::{ImportWrapping, unwrap_key_material};
pub use keyfile::{KEY_FILE_LEN, KEY_FILE_MAGIC, KEY_FILE_VERSION_V1};
pub use root::{RootKey, SEALED_OVERHEAD, SEALED_VERSION_V1};
pub use secret::{KEY_LEN, SecretBytes, SymmetricKey, fill_random, random_bytes};

use subtle::ConstantTimeEq;

/// Constant-time equality of two byte strings. Runs in time that depends
/// only on the lengths; strings of different lengths are unequal.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// SHA-256 of `data`.
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// SHA-256 of `data` as 64 lowercase hex digits (e.g. for key material ids).
#[must_use]
pub fn sha256_hex(data: &[u8]) -> String {
    to_hex(&sha256(data))
}

/// Lowercase hex encoding.
#[must_use]
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_eq_works() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }

    #[test]
    fn sha256_known_answers() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hex() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(to_hex(&[]), "");
    }
}
