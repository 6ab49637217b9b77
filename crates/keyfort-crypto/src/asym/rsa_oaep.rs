//! RSA-OAEP `Encrypt`/`Decrypt` with an RSA key: [`AsymKey::rsa_encrypt`] and
//! [`AsymKey::rsa_decrypt`].

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm};

use super::key::Private;
use super::{AsymKey, RsaOaep};
use crate::{Error, SecretBytes};

fn oaep_algorithm(alg: RsaOaep) -> &'static OaepAlgorithm {
    match alg {
        RsaOaep::Sha1 => &OAEP_SHA1_MGF1SHA1,
        RsaOaep::Sha256 => &OAEP_SHA256_MGF1SHA256,
    }
}

impl AsymKey {
    /// The largest plaintext RSA-OAEP accepts for this key and hash,
    /// `k - 2*hLen - 2` (k = modulus bytes): for RSA_2048 214 bytes with
    /// SHA-1 and 190 with SHA-256. `None` for a non-RSA key.
    #[must_use]
    pub fn rsa_max_plaintext(&self, alg: RsaOaep) -> Option<usize> {
        match &self.private {
            Private::Rsa { encrypter, .. } => {
                Some(encrypter.max_plaintext_size(oaep_algorithm(alg)))
            }
            _ => None,
        }
    }

    /// Encrypts `plaintext` with RSAES-OAEP (MGF1 with the same hash, empty
    /// label) under the key's public half, as AWS `Encrypt` does for RSA keys.
    /// Randomized: each call gives a different ciphertext of the modulus size.
    ///
    /// # Errors
    /// [`Error::IncompatibleKey`] for a non-RSA key; [`Error::PlaintextTooLarge`]
    /// above [`AsymKey::rsa_max_plaintext`]; [`Error::Encrypt`] on internal failure.
    pub fn rsa_encrypt(&self, alg: RsaOaep, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let Private::Rsa { encrypter, .. } = &self.private else {
            return Err(self.not_rsa(alg));
        };
        let oaep = oaep_algorithm(alg);
        let max = encrypter.max_plaintext_size(oaep);
        if plaintext.len() > max {
            return Err(Error::PlaintextTooLarge {
                max,
                got: plaintext.len(),
            });
        }
        let mut out = vec![0; encrypter.ciphertext_size()];
        let len = encrypter
            .encrypt(oaep, plaintext, &mut out, None)
            .map_err(Error::Encrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// Decrypts an RSAES-OAEP ciphertext (MGF1 with the same hash, empty
    /// label), as AWS `Decrypt` does for RSA keys.
    ///
    /// # Errors
    /// [`Error::IncompatibleKey`] for a non-RSA key; [`Error::Decrypt`] if the
    /// ciphertext does not decrypt (wrong key, wrong hash, modified, wrong length).
    pub fn rsa_decrypt(&self, alg: RsaOaep, ciphertext: &[u8]) -> Result<SecretBytes, Error> {
        let Private::Rsa { decrypter, .. } = &self.private else {
            return Err(self.not_rsa(alg));
        };
        let mut out = SecretBytes::zeroed(decrypter.min_output_size());
        let len = decrypter
            .decrypt(oaep_algorithm(alg), ciphertext, out.expose_mut(), None)
            .map_err(Error::Decrypt)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    fn not_rsa(&self, alg: RsaOaep) -> Error {
        Error::IncompatibleKey {
            spec: self.spec(),
            operation: alg.as_str(),
        }
    }
}
