//! Signed digests and the audit signing key.
//!
//! A digest says "the chain after record `last_seq` has hash `last_hash`",
//! covers the records `first_seq..=last_seq` added since the previous digest,
//! and commits to the previous digest through the SHA-256 of its signature.
//! It is signed with ECDSA P-256 over SHA-256, the signature ASN.1 DER
//! encoded (`ECDSA_P256_SHA256_ASN1`), so that anyone can check it with
//! stock tools given the published SubjectPublicKeyInfo, e.g.
//! `openssl dgst -sha256 -verify audit.pem -signature sig.der signing-bytes.bin`.
//!
//! The signed bytes ([`Digest::signing_bytes`], 119 bytes):
//!
//! ```text
//! "keyfort-audit-digest-v1"          23 ASCII bytes, no terminator
//! || digest_seq                      u64 big-endian, 1 for the first digest
//! || first_seq                       u64 big-endian
//! || last_seq                        u64 big-endian
//! || last_hash                       32 bytes
//! || previous_digest_signature_hash  32 bytes, zeros for the first digest
//! || created_ms                      i64 big-endian, Unix milliseconds
//! ```
//!
//! A digest with no new records has `first_seq == last_seq + 1`.

use core::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};
use zeroize::Zeroizing;

use crate::chain::{ChainHead, sha256};
use crate::error::Error;

/// Domain label at the start of every digest's signed bytes.
pub const DIGEST_SIGNING_DOMAIN: &[u8; 23] = b"keyfort-audit-digest-v1";

/// The fields of a digest before it is signed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UnsignedDigest {
    /// Position in the digest chain, from 1.
    pub digest_seq: u64,
    /// First record covered: the previous digest's `last_seq + 1`.
    pub first_seq: u64,
    /// Last record covered (0 if the chain is empty).
    pub last_seq: u64,
    /// Hash of record `last_seq` (zeros if the chain is empty).
    pub last_hash: [u8; 32],
    /// SHA-256 of the previous digest's signature; zeros for the first digest.
    pub previous_digest_signature_hash: [u8; 32],
    /// When the digest was made, Unix milliseconds.
    pub created_ms: i64,
}

impl UnsignedDigest {
    /// The digest that follows `previous` (or starts the digest chain) and
    /// attests the chain ending at `head`.
    #[must_use]
    pub fn next(previous: Option<&Digest>, head: &ChainHead, created_ms: i64) -> Self {
        let (digest_seq, first_seq, previous_digest_signature_hash) = match previous {
            None => (1, 1, [0; 32]),
            Some(p) => (
                p.digest_seq.wrapping_add(1),
                p.last_seq.wrapping_add(1),
                sha256(&p.signature),
            ),
        };
        Self {
            digest_seq,
            first_seq,
            last_seq: head.last_seq(),
            last_hash: head.hash,
            previous_digest_signature_hash,
            created_ms,
        }
    }

    /// The bytes the signature covers (see the module documentation).
    #[must_use]
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(119);
        out.extend_from_slice(DIGEST_SIGNING_DOMAIN);
        out.extend_from_slice(&self.digest_seq.to_be_bytes());
        out.extend_from_slice(&self.first_seq.to_be_bytes());
        out.extend_from_slice(&self.last_seq.to_be_bytes());
        out.extend_from_slice(&self.last_hash);
        out.extend_from_slice(&self.previous_digest_signature_hash);
        out.extend_from_slice(&self.created_ms.to_be_bytes());
        out
    }
}

/// A signed digest of the chain.
#[derive(Clone, PartialEq, Eq)]
pub struct Digest {
    /// Position in the digest chain, from 1.
    pub digest_seq: u64,
    /// First record covered.
    pub first_seq: u64,
    /// Last record covered.
    pub last_seq: u64,
    /// Hash of record `last_seq`.
    pub last_hash: [u8; 32],
    /// SHA-256 of the previous digest's signature; zeros for the first digest.
    pub previous_digest_signature_hash: [u8; 32],
    /// When the digest was made, Unix milliseconds.
    pub created_ms: i64,
    /// ECDSA P-256 / SHA-256 signature, ASN.1 DER, over [`Digest::signing_bytes`].
    pub signature: Vec<u8>,
}

impl Digest {
    /// The signed fields.
    #[must_use]
    pub fn unsigned(&self) -> UnsignedDigest {
        UnsignedDigest {
            digest_seq: self.digest_seq,
            first_seq: self.first_seq,
            last_seq: self.last_seq,
            last_hash: self.last_hash,
            previous_digest_signature_hash: self.previous_digest_signature_hash,
            created_ms: self.created_ms,
        }
    }

    /// The bytes the signature covers.
    #[must_use]
    pub fn signing_bytes(&self) -> Vec<u8> {
        self.unsigned().signing_bytes()
    }
}

impl fmt::Debug for UnsignedDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsignedDigest")
            .field("digest_seq", &self.digest_seq)
            .field("first_seq", &self.first_seq)
            .field("last_seq", &self.last_seq)
            .field("last_hash", &crate::hex::encode(&self.last_hash))
            .field(
                "previous_digest_signature_hash",
                &crate::hex::encode(&self.previous_digest_signature_hash),
            )
            .field("created_ms", &self.created_ms)
            .finish()
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Digest")
            .field("unsigned", &self.unsigned())
            .field("signature", &crate::hex::encode(&self.signature))
            .finish()
    }
}

/// Whether `d`'s signature verifies under the public key
/// `public_key_spki_der` (a DER SubjectPublicKeyInfo for an ECDSA P-256 key,
/// as [`AuditSigningKey::public_key_der`] returns; a raw SEC1 point is also
/// accepted). False for any malformed key or signature.
#[must_use]
pub fn verify_digest(public_key_spki_der: &[u8], d: &Digest) -> bool {
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, public_key_spki_der)
        .verify(&d.signing_bytes(), &d.signature)
        .is_ok()
}

/// The audit signing key's private key as PKCS#8 v1 DER: a secret.
///
/// `Debug` prints only the length; zeroized on drop; read with `expose()`.
/// Seal it under the root key before storing it.
pub struct AuditKeyPkcs8(Zeroizing<Vec<u8>>);

impl AuditKeyPkcs8 {
    /// The PKCS#8 bytes. The single way to read them.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for AuditKeyPkcs8 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKeyPkcs8(<redacted {} bytes>)", self.0.len())
    }
}

/// The ECDSA P-256 key that signs digests. `Debug` reveals nothing; the
/// private key leaves only through [`AuditSigningKey::to_pkcs8`].
pub struct AuditSigningKey(EcdsaKeyPair);

impl AuditSigningKey {
    /// A fresh random key.
    ///
    /// # Errors
    ///
    /// [`Error::Crypto`] if key generation fails.
    pub fn generate() -> Result<Self, Error> {
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
            .map(Self)
            .map_err(Error::Crypto)
    }

    /// Loads a key from PKCS#8 (v1 or v2) DER.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] if the bytes are not an ECDSA P-256 private key.
    pub fn from_pkcs8(pkcs8_der: &[u8]) -> Result<Self, Error> {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8_der)
            .map(Self)
            .map_err(Error::InvalidKey)
    }

    /// The private key as PKCS#8 v1 DER, in a zeroizing newtype.
    ///
    /// # Errors
    ///
    /// [`Error::Crypto`] if encoding fails.
    pub fn to_pkcs8(&self) -> Result<AuditKeyPkcs8, Error> {
        let doc = self.0.to_pkcs8v1().map_err(Error::Crypto)?;
        Ok(AuditKeyPkcs8(Zeroizing::new(doc.as_ref().to_vec())))
    }

    /// The public key as DER SubjectPublicKeyInfo: what keyfort publishes and
    /// verifiers pin.
    ///
    /// # Errors
    ///
    /// [`Error::Crypto`] if encoding fails.
    pub fn public_key_der(&self) -> Result<Vec<u8>, Error> {
        let der = self.0.public_key().as_der().map_err(Error::Crypto)?;
        Ok(der.as_ref().to_vec())
    }

    /// Signs `unsigned`.
    ///
    /// # Errors
    ///
    /// [`Error::Crypto`] if signing fails.
    pub fn sign_digest(&self, unsigned: UnsignedDigest) -> Result<Digest, Error> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let sig = self
            .0
            .sign(&rng, &unsigned.signing_bytes())
            .map_err(Error::Crypto)?;
        Ok(Digest {
            digest_seq: unsigned.digest_seq,
            first_seq: unsigned.first_seq,
            last_seq: unsigned.last_seq,
            last_hash: unsigned.last_hash,
            previous_digest_signature_hash: unsigned.previous_digest_signature_hash,
            created_ms: unsigned.created_ms,
            signature: sig.as_ref().to_vec(),
        })
    }
}

impl fmt::Debug for AuditSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditSigningKey(ECDSA P-256, <redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn sample(key: &AuditSigningKey) -> Digest {
        let head = ChainHead {
            seq: 11,
            hash: [9; 32],
        };
        key.sign_digest(UnsignedDigest::next(None, &head, 1_795_899_600_000))
            .unwrap()
    }

    #[test]
    fn signing_bytes_layout() {
        let u = UnsignedDigest {
            digest_seq: 2,
            first_seq: 3,
            last_seq: 4,
            last_hash: [5; 32],
            previous_digest_signature_hash: [6; 32],
            created_ms: -7,
        };
        let b = u.signing_bytes();
        assert_eq!(b.len(), 119);
        assert_eq!(&b[..23], b"keyfort-audit-digest-v1");
        assert_eq!(&b[23..31], &2u64.to_be_bytes());
        assert_eq!(&b[31..39], &3u64.to_be_bytes());
        assert_eq!(&b[39..47], &4u64.to_be_bytes());
        assert_eq!(&b[47..79], &[5; 32]);
        assert_eq!(&b[79..111], &[6; 32]);
        assert_eq!(&b[111..], &(-7i64).to_be_bytes());
    }

    #[test]
    fn sign_verify_and_next() {
        let key = AuditSigningKey::generate().unwrap();
        let spki = key.public_key_der().unwrap();
        let d1 = sample(&key);
        assert_eq!((d1.digest_seq, d1.first_seq, d1.last_seq), (1, 1, 10));
        assert_eq!(d1.previous_digest_signature_hash, [0; 32]);
        assert!(verify_digest(&spki, &d1));

        let head = ChainHead {
            seq: 11,
            hash: [9; 32],
        };
        let d2 = key
            .sign_digest(UnsignedDigest::next(Some(&d1), &head, 1))
            .unwrap();
        assert_eq!((d2.digest_seq, d2.first_seq, d2.last_seq), (2, 11, 10));
        assert_eq!(d2.previous_digest_signature_hash, sha256(&d1.signature));
        assert!(verify_digest(&spki, &d2));
    }

    #[test]
    fn any_change_fails() {
        let key = AuditSigningKey::generate().unwrap();
        let spki = key.public_key_der().unwrap();
        let d = sample(&key);
        let mut edits: Vec<Digest> = Vec::new();
        for f in 0..7 {
            let mut x = d.clone();
            match f {
                0 => x.digest_seq += 1,
                1 => x.first_seq += 1,
                2 => x.last_seq -= 1,
                3 => x.last_hash[31] ^= 1,
                4 => x.previous_digest_signature_hash[0] ^= 1,
                5 => x.created_ms += 1,
                _ => x.signature[10] ^= 1,
            }
            edits.push(x);
        }
        for x in &edits {
            assert!(!verify_digest(&spki, x), "{x:?}");
        }
        let other = AuditSigningKey::generate().unwrap();
        assert!(!verify_digest(&other.public_key_der().unwrap(), &d));
        assert!(!verify_digest(b"not a key", &d));
    }

    #[test]
    fn pkcs8_round_trip() {
        let key = AuditSigningKey::generate().unwrap();
        let pkcs8 = key.to_pkcs8().unwrap();
        let again = AuditSigningKey::from_pkcs8(pkcs8.expose()).unwrap();
        assert_eq!(
            again.public_key_der().unwrap(),
            key.public_key_der().unwrap()
        );
        assert!(verify_digest(
            &key.public_key_der().unwrap(),
            &sample(&again)
        ));
        assert!(AuditSigningKey::from_pkcs8(b"garbage").is_err());
    }

    #[test]
    fn debug_reveals_nothing() {
        let key = AuditSigningKey::generate().unwrap();
        let pkcs8 = key.to_pkcs8().unwrap();
        let len = pkcs8.expose().len();
        assert_eq!(
            format!("{key:?}"),
            "AuditSigningKey(ECDSA P-256, <redacted>)"
        );
        assert_eq!(
            format!("{key:#?}"),
            "AuditSigningKey(ECDSA P-256, <redacted>)"
        );
        assert_eq!(
            format!("{pkcs8:?}"),
            format!("AuditKeyPkcs8(<redacted {len} bytes>)")
        );
        assert_eq!(
            format!("{pkcs8:#?}"),
            format!("AuditKeyPkcs8(<redacted {len} bytes>)")
        );
        // And in no encoding does a piece of the private key show up.
        let hex = crate::hex::encode(pkcs8.expose());
        let b64 = base64::engine::general_purpose::STANDARD.encode(pkcs8.expose());
        let shown = format!("{key:?}{pkcs8:?}");
        assert!(!shown.contains(&hex[hex.len() - 16..]));
        assert!(!shown.contains(&b64[b64.len() - 12..]));
    }
}
