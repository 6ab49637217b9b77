use super::*;
use crate::canonical_encryption_context;

const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
const BKID: [u8; 32] = [0x5a; 32];

fn key() -> SymmetricKey {
    SymmetricKey::from_bytes(&[0x11; 32]).unwrap()
}

fn ctx() -> Vec<u8> {
    canonical_encryption_context([("tenant", "alpha"), ("purpose", "test")])
}

fn roundtrip(key_id: &str, plaintext: &[u8], aad: &[u8]) {
    let k = key();
    let blob = encrypt_symmetric(&k, key_id, &BKID, plaintext, aad).unwrap();
    assert_eq!(
        blob.len(),
        FIXED_HEADER_LEN + key_id.len() + plaintext.len() + TAG_LEN
    );
    assert_eq!(
        blob.capacity(),
        blob.len(),
        "output must be allocated at its exact size"
    );
    let parsed = parse_blob(&blob).unwrap();
    assert_eq!(parsed.key_id(), key_id);
    assert_eq!(parsed.backing_key_id(), &BKID);
    assert_eq!(parsed.version(), BLOB_VERSION_V1);
    assert_eq!(parsed.plaintext_len(), plaintext.len());
    let out = decrypt_symmetric(&k, &parsed, aad).unwrap();
    assert_eq!(out.expose(), plaintext);
}

#[test]
fn roundtrips() {
    for len in [0, 1, 15, 16, 17, 4096] {
        let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        roundtrip(KEY_ID, &pt, &ctx());
        roundtrip(KEY_ID, &pt, &[]);
    }
    roundtrip(
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        b"multi-region",
        &ctx(),
    );
    roundtrip(&"k".repeat(MAX_KEY_ID_LEN), b"longest id", &[]);
    roundtrip("k", b"shortest id", &[]);
}

#[test]
fn roundtrip_with_large_context_uses_heap_aad() {
    let big = "v".repeat(3000);
    let aad = canonical_encryption_context([("k", big.as_str())]);
    assert!(aad.len() > AAD_STACK_LEN);
    roundtrip(KEY_ID, b"secret", &aad);
    // A context just below and just above the stack threshold.
    for extra in [0usize, 1, 2] {
        let header = FIXED_HEADER_LEN + KEY_ID.len();
        let aad = vec![7u8; AAD_STACK_LEN - header - 1 + extra];
        roundtrip(KEY_ID, b"edge", &aad);
    }
}

#[test]
fn header_fields_are_where_documented() {
    let salt = [0x40; SALT_LEN];
    let nonce = [0x60; NONCE_LEN];
    let blob = encrypt_symmetric_with(&key(), KEY_ID, &BKID, b"x", &[], &salt, &nonce).unwrap();
    assert_eq!(&blob[..2], b"KF");
    assert_eq!(blob[2], 1);
    assert_eq!(usize::from(blob[3]), KEY_ID.len());
    let mut at = 4;
    assert_eq!(&blob[at..at + KEY_ID.len()], KEY_ID.as_bytes());
    at += KEY_ID.len();
    assert_eq!(&blob[at..at + 32], &BKID);
    at += 32;
    assert_eq!(&blob[at..at + 32], &salt);
    at += 32;
    assert_eq!(&blob[at..at + 12], &nonce);
    let parsed = parse_blob(&blob).unwrap();
    assert_eq!(parsed.header().salt, salt);
    assert_eq!(parsed.header().nonce, nonce);
    assert_eq!(parsed.header_bytes, &blob[..at + 12]);
}

#[test]
fn encryptions_are_randomized() {
    let a = encrypt_symmetric(&key(), KEY_ID, &BKID, b"same", &[]).unwrap();
    let b = encrypt_symmetric(&key(), KEY_ID, &BKID, b"same", &[]).unwrap();
    assert_ne!(a, b);
    let (pa, pb) = (parse_blob(&a).unwrap(), parse_blob(&b).unwrap());
    assert_ne!(pa.header().salt, pb.header().salt);
    assert_ne!(pa.header().nonce, pb.header().nonce);
}

#[test]
fn wrong_context_fails() {
    let k = key();
    let blob = encrypt_symmetric(&k, KEY_ID, &BKID, b"pt", &ctx()).unwrap();
    let parsed = parse_blob(&blob).unwrap();
    let other = canonical_encryption_context([("tenant", "beta"), ("purpose", "test")]);
    for aad in [&[][..], &other[..], &ctx()[..ctx().len() - 1]] {
        assert!(matches!(
            decrypt_symmetric(&k, &parsed, aad),
            Err(Error::Open(_))
        ));
    }
    // And a blob made without a context does not open with one.
    let blob = encrypt_symmetric(&k, KEY_ID, &BKID, b"pt", &[]).unwrap();
    let parsed = parse_blob(&blob).unwrap();
    assert!(matches!(
        decrypt_symmetric(&k, &parsed, &ctx()),
        Err(Error::Open(_))
    ));
}

#[test]
fn wrong_key_fails() {
    let blob = encrypt_symmetric(&key(), KEY_ID, &BKID, b"pt", &ctx()).unwrap();
    let parsed = parse_blob(&blob).unwrap();
    let mut other = [0x11; 32];
    other[31] ^= 1;
    let other = SymmetricKey::from_bytes(&other).unwrap();
    assert!(matches!(
        decrypt_symmetric(&other, &parsed, &ctx()),
        Err(Error::Open(_))
    ));
}

#[test]
fn swapped_key_id_or_backing_key_id_fails() {
    let k = key();
    let blob = encrypt_symmetric(&k, KEY_ID, &BKID, b"pt", &[]).unwrap();
    // Same length key id, different value.
    let mut moved = blob.clone();
    moved[4] = b'9';
    let parsed = parse_blob(&moved).unwrap();
    assert_ne!(parsed.key_id(), KEY_ID);
    assert!(matches!(
        decrypt_symmetric(&k, &parsed, &[]),
        Err(Error::Open(_))
    ));
    // Different backing key id.
    let mut moved = blob.clone();
    let at = 4 + KEY_ID.len();
    moved[at..at + 32].copy_from_slice(&[0x5b; 32]);
    let parsed = parse_blob(&moved).unwrap();
    assert_eq!(parsed.backing_key_id(), &[0x5b; 32]);
    assert!(matches!(
        decrypt_symmetric(&k, &parsed, &[]),
        Err(Error::Open(_))
    ));
}

#[test]
fn every_single_byte_flip_fails() {
    let k = key();
    let aad = ctx();
    let blob = encrypt_symmetric(&k, "k1", &BKID, b"tiny", &aad).unwrap();
    for pos in 0..blob.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = blob.clone();
            bad[pos] ^= mask;
            let result = parse_blob(&bad).and_then(|p| decrypt_symmetric(&k, &p, &aad));
            assert!(result.is_err(), "flip {mask:#04x} at {pos} was accepted");
        }
    }
}

#[test]
fn every_truncation_and_extension_fails() {
    let k = key();
    let blob = encrypt_symmetric(&k, KEY_ID, &BKID, b"some plaintext", &[]).unwrap();
    for len in 0..blob.len() {
        let result = parse_blob(&blob[..len]).and_then(|p| decrypt_symmetric(&k, &p, &[]));
        assert!(result.is_err(), "truncation to {len} accepted");
    }
    let mut longer = blob.clone();
    longer.push(0);
    let p = parse_blob(&longer).unwrap();
    assert!(matches!(
        decrypt_symmetric(&k, &p, &[]),
        Err(Error::Open(_))
    ));
}

#[test]
fn parse_errors_are_specific() {
    let blob = encrypt_symmetric(&key(), KEY_ID, &BKID, b"", &[]).unwrap();
    let err = |b: &[u8]| parse_blob(b).err().unwrap();
    assert!(matches!(
        err(b""),
        Error::MalformedBlob(Malformed::Truncated)
    ));
    assert!(matches!(
        err(b"K"),
        Error::MalformedBlob(Malformed::Truncated)
    ));
    assert!(matches!(
        err(b"XX\x01"),
        Error::MalformedBlob(Malformed::BadMagic)
    ));
    assert!(matches!(err(b"KF\x02\x01a"), Error::UnsupportedVersion(2)));
    assert!(matches!(
        err(b"KF\x01\x00"),
        Error::MalformedBlob(Malformed::KeyId(KeyIdError::Empty))
    ));
    assert!(matches!(
        err(b"KF\x01\x41"),
        Error::MalformedBlob(Malformed::KeyId(KeyIdError::TooLong(65)))
    ));
    for bad_char in [b' ', b'\n', 0x7f, 0xc3] {
        let mut b = blob.clone();
        b[4] = bad_char;
        assert!(matches!(
            err(&b),
            Error::MalformedBlob(Malformed::KeyId(KeyIdError::InvalidCharacter))
        ));
    }
    // Empty plaintext: exactly header + tag parses; one byte less does not.
    assert!(parse_blob(&blob).is_ok());
    assert!(matches!(
        err(&blob[..blob.len() - 1]),
        Error::MalformedBlob(Malformed::Truncated)
    ));
}

#[test]
fn invalid_key_ids_are_rejected_on_encrypt() {
    let k = key();
    let long = "a".repeat(MAX_KEY_ID_LEN + 1);
    for (id, want) in [
        ("", KeyIdError::Empty),
        (long.as_str(), KeyIdError::TooLong(65)),
        ("has space", KeyIdError::InvalidCharacter),
        ("tab\tid", KeyIdError::InvalidCharacter),
        ("clé", KeyIdError::InvalidCharacter),
    ] {
        match encrypt_symmetric(&k, id, &BKID, b"pt", &[]) {
            Err(Error::InvalidKeyId(got)) => assert_eq!(got, want, "{id:?}"),
            other => panic!("{id:?}: {other:?}"),
        }
    }
}

/// A small deterministic PRNG (xorshift64*) so failures are reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn random_inputs_never_panic_or_open() {
    let k = key();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..20_000 {
        let len = (rng.next() % 300) as usize;
        let mut input = rng.bytes(len);
        // Give most inputs a valid prefix so the parser gets past the magic.
        if i % 4 != 0 && input.len() >= 4 {
            input[..3].copy_from_slice(b"KF\x01");
            input[3] = (rng.next() % 70) as u8;
            let id_end = (4 + usize::from(input[3])).min(input.len());
            for b in &mut input[4..id_end] {
                *b = b'a' + (*b % 26);
            }
        }
        if let Ok(parsed) = parse_blob(&input) {
            assert!(!parsed.key_id().is_empty() && parsed.key_id().len() <= MAX_KEY_ID_LEN);
            assert!(decrypt_symmetric(&k, &parsed, &[]).is_err());
        }
    }
}

#[test]
fn debug_of_parsed_blob_omits_ciphertext() {
    let blob = encrypt_symmetric(&key(), KEY_ID, &BKID, b"secret plaintext", &[]).unwrap();
    let parsed = parse_blob(&blob).unwrap();
    let dbg = format!("{parsed:?}");
    assert!(dbg.contains(KEY_ID));
    assert!(dbg.contains("ciphertext_len: 16"));
}
