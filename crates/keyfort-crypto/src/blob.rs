//! The ciphertext blob returned by symmetric `Encrypt`.
//!
//! Layout (version 1; `docs/ciphertext-format.md` is the full specification):
//!
//! ```text
//! "KF" | 0x01 | id_len:u8 | key_id | backing_key_id[32] | salt[32] | nonce[12] | ciphertext | tag[16]
//! \______________________________ header (AAD) ______________________________/
//! ```
//!
//! The message key is `HKDF-SHA256(ikm = backing key, salt, info = HKDF_INFO_V1)`,
//! 32 bytes, used once for AES-256-GCM. The AAD is the header bytes followed by
//! the canonical encryption context.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::hkdf;
use zeroize::Zeroizing;

use crate::Error;
use crate::error::{KeyIdError, Malformed};
use crate::secret::{KEY_LEN, SecretBytes, SymmetricKey, fill_random};

/// The two bytes every ciphertext blob starts with: ASCII `KF`.
pub const BLOB_MAGIC: [u8; 2] = *b"KF";
/// The blob format version this build writes (and the only one it reads).
pub const BLOB_VERSION_V1: u8 = 1;
/// Longest key id a blob can carry, in bytes.
pub const MAX_KEY_ID_LEN: usize = 64;
/// Length of a backing key id.
pub const BACKING_KEY_ID_LEN: usize = 32;
/// Length of the per-message HKDF salt.
pub const SALT_LEN: usize = 32;
/// Length of the AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Length of the AES-GCM authentication tag.
pub const TAG_LEN: usize = 16;
/// The HKDF `info` for version 1 (domain separation; includes the version).
pub const HKDF_INFO_V1: &[u8] = b"keyfort ciphertext blob v1 AES-256-GCM message key";

/// Header bytes other than the key id: magic, version, id length, backing
/// key id, salt, nonce.
const FIXED_HEADER_LEN: usize = BLOB_MAGIC.len() + 2 + BACKING_KEY_ID_LEN + SALT_LEN + NONCE_LEN;

/// AAD up to this size is assembled on the stack instead of the heap.
const AAD_STACK_LEN: usize = 1024;

/// The parsed header of a ciphertext blob. All of it is public information.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobHeader<'a> {
    /// Format version (always [`BLOB_VERSION_V1`] today).
    pub version: u8,
    /// The KMS key id (a UUID, or `mrk-` and 32 hex digits).
    pub key_id: &'a str,
    /// Which backing key (version of the key material) encrypted the blob.
    pub backing_key_id: [u8; BACKING_KEY_ID_LEN],
    /// The random HKDF salt.
    pub salt: [u8; SALT_LEN],
    /// The random AES-GCM nonce.
    pub nonce: [u8; NONCE_LEN],
}

/// A ciphertext blob whose structure has been checked but which has not been
/// authenticated yet. Borrowed from the input; made only by [`parse_blob`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParsedBlob<'a> {
    header: BlobHeader<'a>,
    header_bytes: &'a [u8],
    ciphertext: &'a [u8],
    tag: &'a [u8; TAG_LEN],
}

impl<'a> ParsedBlob<'a> {
    /// The key id recorded in the blob (not yet authenticated).
    #[must_use]
    pub fn key_id(&self) -> &'a str {
        self.header.key_id
    }

    /// The backing key id recorded in the blob (not yet authenticated).
    #[must_use]
    pub fn backing_key_id(&self) -> &[u8; BACKING_KEY_ID_LEN] {
        &self.header.backing_key_id
    }

    /// The format version.
    #[must_use]
    pub fn version(&self) -> u8 {
        self.header.version
    }

    /// The whole parsed header.
    #[must_use]
    pub fn header(&self) -> &BlobHeader<'a> {
        &self.header
    }

    /// Length of the plaintext this blob decrypts to.
    #[must_use]
    pub fn plaintext_len(&self) -> usize {
        self.ciphertext.len()
    }
}

impl core::fmt::Debug for ParsedBlob<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ParsedBlob")
            .field("header", &self.header)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

/// Checks that `id` can be stored in a blob: 1..=64 bytes of printable ASCII
/// (`0x21..=0x7e`). UUIDs and `mrk-` ids qualify; control characters, spaces
/// and non-ASCII never reach logs or database lookups from a forged blob.
fn check_key_id(id: &[u8]) -> Result<(), KeyIdError> {
    if id.is_empty() {
        return Err(KeyIdError::Empty);
    }
    if id.len() > MAX_KEY_ID_LEN {
        return Err(KeyIdError::TooLong(id.len()));
    }
    if !id.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(KeyIdError::InvalidCharacter);
    }
    Ok(())
}

/// Parses the structure of a ciphertext blob without any cryptography.
///
/// Never panics, whatever the input (a fuzz target checks this). Cheap
/// checks only: the caller then looks up the key and backing key named in the
/// header and calls [`decrypt_symmetric`], which authenticates everything.
///
/// # Errors
/// [`Error::MalformedBlob`] for a short or garbled blob,
/// [`Error::UnsupportedVersion`] for an unknown version byte.
pub fn parse_blob(blob: &[u8]) -> Result<ParsedBlob<'_>, Error> {
    use Malformed::Truncated;
    let bad = Error::MalformedBlob;

    let (magic, rest) = blob.split_first_chunk::<2>().ok_or(bad(Truncated))?;
    if *magic != BLOB_MAGIC {
        return Err(bad(Malformed::BadMagic));
    }
    let (&version, rest) = rest.split_first().ok_or(bad(Truncated))?;
    if version != BLOB_VERSION_V1 {
        return Err(Error::UnsupportedVersion(version));
    }
    let (&id_len, rest) = rest.split_first().ok_or(bad(Truncated))?;
    let id_len = usize::from(id_len);
    match id_len {
        0 => return Err(bad(Malformed::KeyId(KeyIdError::Empty))),
        n if n > MAX_KEY_ID_LEN => return Err(bad(Malformed::KeyId(KeyIdError::TooLong(n)))),
        _ => {}
    }
    let (id, rest) = rest.split_at_checked(id_len).ok_or(bad(Truncated))?;
    check_key_id(id).map_err(|e| bad(Malformed::KeyId(e)))?;
    let key_id = core::str::from_utf8(id)
        .map_err(|_| bad(Malformed::KeyId(KeyIdError::InvalidCharacter)))?;
    let (backing_key_id, rest) = rest
        .split_first_chunk::<BACKING_KEY_ID_LEN>()
        .ok_or(bad(Truncated))?;
    let (salt, rest) = rest.split_first_chunk::<SALT_LEN>().ok_or(bad(Truncated))?;
    let (nonce, rest) = rest
        .split_first_chunk::<NONCE_LEN>()
        .ok_or(bad(Truncated))?;
    let header_len = blob.len() - rest.len(); // `rest` is a suffix of `blob`
    let header_bytes = blob.get(..header_len).ok_or(bad(Truncated))?;
    let (ciphertext, tag) = rest.split_last_chunk::<TAG_LEN>().ok_or(bad(Truncated))?;

    Ok(ParsedBlob {
        header: BlobHeader {
            version,
            key_id,
            backing_key_id: *backing_key_id,
            salt: *salt,
            nonce: *nonce,
        },
        header_bytes,
        ciphertext,
        tag,
    })
}

/// Encrypts `plaintext` under a fresh key derived from the backing key `key`
/// and returns the self-describing ciphertext blob.
///
/// `encryption_context_aad` is [`crate::canonical_encryption_context`] of the
/// request's context (empty for none). Costs one HKDF and one AES-GCM seal;
/// the returned `Vec` is allocated once at its exact size.
///
/// # Errors
/// [`Error::InvalidKeyId`] if `key_id` cannot be stored, [`Error::Random`],
/// [`Error::KeySetup`] or [`Error::Seal`] on internal failures.
pub fn encrypt_symmetric(
    key: &SymmetricKey,
    key_id: &str,
    backing_key_id: &[u8; BACKING_KEY_ID_LEN],
    plaintext: &[u8],
    encryption_context_aad: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut salt = [0; SALT_LEN];
    let mut nonce = [0; NONCE_LEN];
    fill_random(&mut salt)?;
    fill_random(&mut nonce)?;
    encrypt_symmetric_with(
        key,
        key_id,
        backing_key_id,
        plaintext,
        encryption_context_aad,
        &salt,
        &nonce,
    )
}

/// [`encrypt_symmetric`] with a caller-chosen salt and nonce. Only for test
/// vectors: reusing a (salt, nonce) pair under one backing key is fatal.
pub(crate) fn encrypt_symmetric_with(
    key: &SymmetricKey,
    key_id: &str,
    backing_key_id: &[u8; BACKING_KEY_ID_LEN],
    plaintext: &[u8],
    encryption_context_aad: &[u8],
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>, Error> {
    check_key_id(key_id.as_bytes()).map_err(Error::InvalidKeyId)?;
    let id_len = u8::try_from(key_id.len())
        .map_err(|_| Error::InvalidKeyId(KeyIdError::TooLong(key_id.len())))?;
    let header_len = FIXED_HEADER_LEN + key_id.len();

    let mut out = Vec::with_capacity(header_len + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&BLOB_MAGIC);
    out.push(BLOB_VERSION_V1);
    out.push(id_len);
    out.extend_from_slice(key_id.as_bytes());
    out.extend_from_slice(backing_key_id);
    out.extend_from_slice(salt);
    out.extend_from_slice(nonce);
    debug_assert_eq!(out.len(), header_len);
    out.extend_from_slice(plaintext);

    let aead = message_key(key, salt)?;
    let (header, body) = out.split_at_mut(header_len);
    let tag = with_concat(header, encryption_context_aad, |aad| {
        aead.seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::from(aad), body)
    })
    .map_err(Error::Seal)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Authenticates and decrypts a parsed blob with the backing key it names.
///
/// `encryption_context_aad` must be the canonical encoding of the same
/// context given to Encrypt.
///
/// # Errors
/// [`Error::Open`] if the key, backing key, context or any byte of the blob
/// is wrong; [`Error::KeySetup`] on internal failure.
pub fn decrypt_symmetric(
    key: &SymmetricKey,
    blob: &ParsedBlob<'_>,
    encryption_context_aad: &[u8],
) -> Result<SecretBytes, Error> {
    // `parse_blob` accepts only version 1, so there is one derivation to use.
    let aead = message_key(key, &blob.header.salt)?;
    let mut plaintext = SecretBytes::zeroed(blob.ciphertext.len());
    with_concat(blob.header_bytes, encryption_context_aad, |aad| {
        aead.open_separate_gather(
            Nonce::assume_unique_for_key(blob.header.nonce),
            Aad::from(aad),
            blob.ciphertext,
            blob.tag,
            plaintext.expose_mut(),
        )
    })
    .map_err(Error::Open)?;
    Ok(plaintext)
}

/// The single-use AES-256-GCM key for one message:
/// `HKDF-SHA256(salt, ikm = backing key, info = HKDF_INFO_V1, L = 32)`.
fn message_key(key: &SymmetricKey, salt: &[u8; SALT_LEN]) -> Result<LessSafeKey, Error> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(key.expose());
    let okm = prk
        .expand(&[HKDF_INFO_V1], &AES_256_GCM)
        .map_err(Error::KeySetup)?;
    // Not `UnboundKey::from(okm)`: that leaves the derived key on the stack.
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    okm.fill(&mut bytes[..]).map_err(Error::KeySetup)?;
    let unbound = UnboundKey::new(&AES_256_GCM, &bytes[..]).map_err(Error::KeySetup)?;
    Ok(LessSafeKey::new(unbound))
}

/// Calls `f` with `a || b`, built on the stack when small. AAD is public, so
/// the buffer needs no zeroizing.
fn with_concat<R>(a: &[u8], b: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let total = a.len() + b.len();
    if total <= AAD_STACK_LEN {
        let mut buf = [0u8; AAD_STACK_LEN];
        let (head, tail) = buf.split_at_mut(a.len());
        head.copy_from_slice(a);
        tail[..b.len()].copy_from_slice(b);
        f(&buf[..total])
    } else {
        let mut buf = Vec::with_capacity(total);
        buf.extend_from_slice(a);
        buf.extend_from_slice(b);
        f(&buf)
    }
}

#[cfg(test)]
mod tests;
