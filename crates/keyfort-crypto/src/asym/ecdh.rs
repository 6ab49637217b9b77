//! `DeriveSharedSecret`: ECDH with a NIST-curve key, [`AsymKey::derive_shared_secret`].

use aws_lc_rs::agreement::{self, ParsedPublicKey, ParsedPublicKeyFormat, UnparsedPublicKey};

use super::AsymKey;
use super::key::Private;
use crate::{Error, SecretBytes};

impl AsymKey {
    /// ECDH (the SP 800-56A cofactor primitive; the cofactor is 1 on these
    /// curves) between this key and a peer public key, as AWS
    /// `DeriveSharedSecret` does with `KeyAgreementAlgorithm` `ECDH`.
    ///
    /// `peer_spki_der` must be a DER SubjectPublicKeyInfo (`id-ecPublicKey`,
    /// named curve) on the key's own curve; a raw SEC 1 point is refused, as
    /// AWS refuses it. Returns the raw shared secret: the x-coordinate of the
    /// shared point, big-endian, padded to the field size (32, 48 or 66 bytes).
    ///
    /// # Errors
    /// [`Error::IncompatibleKey`] unless the key is ECC_NIST_P256/P384/P521 (AWS
    /// allows KEY_AGREEMENT for no other spec keyfort supports);
    /// [`Error::InvalidPeerKey`] for a peer key that is not an SPKI, is on
    /// another curve, or is not a valid point.
    pub fn derive_shared_secret(&self, peer_spki_der: &[u8]) -> Result<SecretBytes, Error> {
        let Private::Ecdsa {
            agreement: Some(private),
            ..
        } = &self.private
        else {
            return Err(Error::IncompatibleKey {
                spec: self.spec(),
                operation: "ECDH",
            });
        };
        let peer =
            ParsedPublicKey::try_from(&UnparsedPublicKey::new(private.algorithm(), peer_spki_der))
                .map_err(|_| Error::InvalidPeerKey("not a valid public key on the key's curve"))?;
        if peer.format() != ParsedPublicKeyFormat::X509 {
            return Err(Error::InvalidPeerKey(
                "not a DER SubjectPublicKeyInfo (a raw point was given)",
            ));
        }
        agreement::agree(
            private,
            peer,
            Error::InvalidPeerKey("key agreement with the peer key failed"),
            |secret| Ok(SecretBytes::new(secret.to_vec())),
        )
    }
}
