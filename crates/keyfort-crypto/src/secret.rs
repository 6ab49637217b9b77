//! Secret newtypes and randomness.
//!
//! Every secret lives on the heap behind a newtype, so moving the value moves
//! only a pointer and leaves no stray copies of the bytes on the stack. The
//! bytes are zeroized on drop, never printed by `Debug`, read only through
//! `expose()`, and compared in constant time.

use core::fmt;

use zeroize::Zeroize;

use crate::Error;

/// Length in bytes of a [`SymmetricKey`].
pub const KEY_LEN: usize = 32;

/// Arbitrary-length secret bytes: data keys, decrypted plaintexts, unsealed secrets.
///
/// `Debug` prints only the length; the buffer (including any spare capacity)
/// is zeroized on drop.
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes` without copying them.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The secret bytes. The single way to read them.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes (not secret).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison with `other` (the lengths are not secret).
    #[must_use]
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        crate::ct_eq(&self.0, other)
    }

    /// A zero-filled secret of `len` bytes, for filling in place.
    pub(crate) fn zeroed(len: usize) -> Self {
        Self(vec![0; len])
    }

    /// Mutable access for filling the buffer in place inside this crate.
    pub(crate) fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Shortens the secret to `len` bytes, zeroizing the bytes cut off.
    pub(crate) fn truncate(&mut self, len: usize) {
        if let Some(tail) = self.0.get_mut(len..) {
            tail.zeroize();
        }
        self.0.truncate(len);
    }
}

impl Clone for SecretBytes {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<redacted {} bytes>)", self.0.len())
    }
}

/// A 256-bit symmetric key, for example one version of a KMS key's material
/// (a "backing key").
///
/// No `PartialEq`: compare with [`SymmetricKey::ct_eq`].
pub struct SymmetricKey(Box<[u8; KEY_LEN]>);

impl SymmetricKey {
    /// A fresh key from the system random number generator.
    ///
    /// # Errors
    /// [`Error::Random`] if the generator fails.
    pub fn generate() -> Result<Self, Error> {
        let mut key = Self(Box::new([0; KEY_LEN]));
        fill_random(&mut key.0[..])?;
        Ok(key)
    }

    /// Copies exactly 32 bytes of key material.
    ///
    /// # Errors
    /// [`Error::InvalidKeyLength`] if `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() != KEY_LEN {
            return Err(Error::InvalidKeyLength {
                expected: KEY_LEN,
                actual: bytes.len(),
            });
        }
        let mut key = Self(Box::new([0; KEY_LEN]));
        key.0.copy_from_slice(bytes);
        Ok(key)
    }

    /// The key bytes. The single way to read them.
    #[must_use]
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Constant-time comparison with raw key bytes.
    #[must_use]
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        crate::ct_eq(&self.0[..], other)
    }
}

impl Clone for SymmetricKey {
    fn clone(&self) -> Self {
        // Copy heap to heap; `Box::new(*self.0)` could leave a copy on the stack.
        let mut key = Self(Box::new([0; KEY_LEN]));
        key.0.copy_from_slice(&self.0[..]);
        key
    }
}

impl Drop for SymmetricKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}

/// `n` random bytes from the system generator (GenerateRandom, data keys).
///
/// # Errors
/// [`Error::Random`] if the generator fails.
pub fn random_bytes(n: usize) -> Result<SecretBytes, Error> {
    let mut out = SecretBytes::zeroed(n);
    fill_random(out.expose_mut())?;
    Ok(out)
}

/// Fills `buf` from the system random number generator.
///
/// # Errors
/// [`Error::Random`] if the generator fails.
pub fn fill_random(buf: &mut [u8]) -> Result<(), Error> {
    aws_lc_rs::rand::fill(buf).map_err(Error::Random)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::to_hex;

    #[test]
    fn secret_bytes_debug_is_redacted() {
        let s = SecretBytes::new(b"hunter2-very-secret".to_vec());
        let dbg = format!("{s:?}");
        assert_eq!(dbg, "SecretBytes(<redacted 19 bytes>)");
        assert!(!dbg.contains("hunter2"));
        assert!(!dbg.contains(&to_hex(s.expose())));
        assert!(!format!("{s:#?}").contains("hunter2"));
    }

    #[test]
    fn symmetric_key_debug_is_redacted() {
        let k = SymmetricKey::from_bytes(&[0xAB; 32]).unwrap();
        for dbg in [format!("{k:?}"), format!("{k:#?}")] {
            assert_eq!(dbg, "SymmetricKey(<redacted>)");
            assert!(!dbg.to_lowercase().contains("ab"));
            assert!(!dbg.contains("171")); // 0xAB in decimal, as `[u8]` Debug would print
        }
        let k = SymmetricKey::generate().unwrap();
        let dbg = format!("{k:?}");
        assert!(!dbg.contains(&to_hex(k.expose())));
        assert!(!dbg.contains(&format!("{:?}", k.expose())));
    }

    #[test]
    fn from_bytes_requires_exactly_32() {
        for len in [0, 1, 16, 31, 33, 64] {
            match SymmetricKey::from_bytes(&vec![7; len]) {
                Err(Error::InvalidKeyLength {
                    expected: 32,
                    actual,
                }) => assert_eq!(actual, len),
                other => panic!("len {len}: {other:?}"),
            }
        }
        let k = SymmetricKey::from_bytes(&[7; 32]).unwrap();
        assert_eq!(k.expose(), &[7; 32]);
    }

    #[test]
    fn ct_eq_semantics() {
        let s = SecretBytes::new(vec![1, 2, 3]);
        assert!(s.ct_eq(&[1, 2, 3]));
        assert!(!s.ct_eq(&[1, 2, 4]));
        assert!(!s.ct_eq(&[1, 2]));
        assert!(!s.ct_eq(&[1, 2, 3, 0]));
        let k = SymmetricKey::from_bytes(&[9; 32]).unwrap();
        assert!(k.ct_eq(&[9; 32]));
        assert!(!k.ct_eq(&[9; 31]));
        assert!(k.clone().ct_eq(k.expose()));
    }

    #[test]
    fn random_is_random() {
        let a = random_bytes(32).unwrap();
        let b = random_bytes(32).unwrap();
        assert_eq!(a.len(), 32);
        assert!(!a.ct_eq(b.expose()));
        assert!(random_bytes(0).unwrap().is_empty());
        let k1 = SymmetricKey::generate().unwrap();
        let k2 = SymmetricKey::generate().unwrap();
        assert!(!k1.ct_eq(k2.expose()));
        assert_ne!(k1.expose(), &[0; 32]);
    }
}
