//! Fuzzes the ciphertext blob parser, which reads attacker-supplied bytes
//! (the `CiphertextBlob` of a Decrypt request) before any authentication.
//!
//! Checks that `parse_blob` never panics, that whatever it accepts satisfies
//! the documented layout, and that decrypting an accepted blob under a fixed
//! key never panics and never succeeds (a forged tag must not verify).
//!
//! Run: `cd fuzz && cargo +nightly fuzz run ciphertext_blob corpus/ciphertext_blob seeds/ciphertext_blob`

#![no_main]

use keyfort_crypto::{
    MAX_KEY_ID_LEN, SymmetricKey, TAG_LEN, canonical_encryption_context, decrypt_symmetric,
    parse_blob,
};
use libfuzzer_sys::fuzz_target;

/// Header bytes besides the key id: magic 2, version 1, id length 1,
/// backing key id 32, salt 32, nonce 12.
const FIXED_HEADER_LEN: usize = 80;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = parse_blob(data) else {
        return;
    };

    let key_id = parsed.key_id();
    assert!(!key_id.is_empty() && key_id.len() <= MAX_KEY_ID_LEN);
    assert!(key_id.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    assert_eq!(parsed.version(), 1);
    assert_eq!(
        FIXED_HEADER_LEN + key_id.len() + parsed.plaintext_len() + TAG_LEN,
        data.len()
    );
    assert_eq!(&data[..2], b"KF");
    assert_eq!(&data[4..4 + key_id.len()], key_id.as_bytes());

    let Ok(key) = SymmetricKey::from_bytes(&[0u8; 32]) else {
        return;
    };
    assert!(decrypt_symmetric(&key, &parsed, &[]).is_err());
    let ctx = canonical_encryption_context([("k", key_id)]);
    assert!(decrypt_symmetric(&key, &parsed, &ctx).is_err());
});
