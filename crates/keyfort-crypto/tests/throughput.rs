//! A rough single-thread throughput check of the Encrypt/Decrypt hot path.
//! Ignored by default; run with
//! `cargo test -p keyfort-crypto --release --test throughput -- --ignored --nocapture`.

use std::time::Instant;

use keyfort_crypto::{
    SymmetricKey, canonical_encryption_context, decrypt_symmetric, encrypt_symmetric, parse_blob,
};

#[test]
#[ignore = "timing, not correctness; run in release"]
fn encrypt_decrypt_throughput() {
    let key = SymmetricKey::generate().unwrap();
    let bkid = [7u8; 32];
    let aad = canonical_encryption_context([("tenant", "alpha"), ("app", "billing")]);
    for size in [32usize, 1024, 4096] {
        let pt = vec![0x42u8; size];
        let n = 200_000;
        let start = Instant::now();
        let mut last = Vec::new();
        for _ in 0..n {
            last = encrypt_symmetric(
                &key,
                "1234abcd-12ab-34cd-56ef-1234567890ab",
                &bkid,
                &pt,
                &aad,
            )
            .unwrap();
        }
        let enc = start.elapsed();
        let start = Instant::now();
        for _ in 0..n {
            let parsed = parse_blob(&last).unwrap();
            let out = decrypt_symmetric(&key, &parsed, &aad).unwrap();
            assert_eq!(out.len(), size);
        }
        let dec = start.elapsed();
        println!(
            "{size:5} B: encrypt {:>9.0}/s ({:.2} us), decrypt {:>9.0}/s ({:.2} us)",
            n as f64 / enc.as_secs_f64(),
            enc.as_secs_f64() * 1e6 / n as f64,
            n as f64 / dec.as_secs_f64(),
            dec.as_secs_f64() * 1e6 / n as f64,
        );
    }
}
