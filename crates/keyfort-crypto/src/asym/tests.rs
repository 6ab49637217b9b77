//! Unit tests for the asymmetric and HMAC primitives. Cross-checks against
//! OpenSSL and Python `cryptography` are in `tests/asym_crosscheck.rs`.

use std::sync::OnceLock;

use aws_lc_rs::digest;

use super::*;
use crate::{Error, to_hex};

/// One generated key per spec, shared by the tests (RSA-4096 generation is slow).
fn keys() -> &'static [(AsymSpec, AsymKey, PrivateKeyBytes)] {
    static KEYS: OnceLock<Vec<(AsymSpec, AsymKey, PrivateKeyBytes)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        AsymSpec::ALL
            .iter()
            .map(|&spec| {
                let material = generate_asym(spec).unwrap();
                let key = AsymKey::from_private(spec, material.expose()).unwrap();
                (spec, key, material)
            })
            .collect()
    })
}

fn key(spec: AsymSpec) -> &'static AsymKey {
    &keys().iter().find(|(s, _, _)| *s == spec).unwrap().1
}

/// Every (spec, algorithm) pair this build can sign with.
fn supported() -> Vec<(AsymSpec, SigningAlgorithm)> {
    let mut out = Vec::new();
    for &spec in AsymSpec::ALL {
        for &alg in signing_algorithms(spec) {
            if alg != SigningAlgorithm::Ed25519PhSha512 {
                out.push((spec, alg));
            }
        }
    }
    out
}

fn hash(alg: SigningAlgorithm, message: &[u8]) -> Vec<u8> {
    digest::digest(alg.digest_algorithm().unwrap(), message)
        .as_ref()
        .to_vec()
}

#[test]
fn sign_verify_every_spec_and_algorithm() {
    let msg = b"keyfort asymmetric test message";
    let mut count = 0;
    for (spec, alg) in supported() {
        let k = key(spec);
        let sig = k.sign(alg, MessageKind::Raw, msg).unwrap();
        assert!(
            k.verify(alg, MessageKind::Raw, msg, &sig).unwrap(),
            "{spec} {alg}"
        );
        // Any single flipped bit, anywhere, is rejected.
        for pos in [0, sig.len() / 2, sig.len() - 1] {
            let mut bad = sig.clone();
            bad[pos] ^= 0x01;
            assert!(
                !k.verify(alg, MessageKind::Raw, msg, &bad).unwrap(),
                "{spec} {alg} {pos}"
            );
        }
        assert!(
            !k.verify(
                alg,
                MessageKind::Raw,
                b"keyfort asymmetric test messagE",
                &sig
            )
            .unwrap()
        );
        assert!(!k.verify(alg, MessageKind::Raw, b"", &sig).unwrap());
        assert!(
            !k.verify(alg, MessageKind::Raw, msg, &sig[..sig.len() - 1])
                .unwrap()
        );
        assert!(!k.verify(alg, MessageKind::Raw, msg, &[]).unwrap());
        // Another key of the same spec does not verify it.
        let other = AsymKey::from_private(spec, generate_asym(spec).unwrap().expose()).unwrap();
        assert!(
            !other.verify(alg, MessageKind::Raw, msg, &sig).unwrap(),
            "{spec} {alg}"
        );
        // Empty and 4096-byte messages work.
        for m in [&[][..], &[0xa5; 4096][..]] {
            let s = k.sign(alg, MessageKind::Raw, m).unwrap();
            assert!(k.verify(alg, MessageKind::Raw, m, &s).unwrap());
        }
        count += 1;
    }
    // 3 RSA x 6 + 4 ECDSA + Ed25519 + 3 ML-DSA.
    assert_eq!(count, 26);
}

#[test]
fn signature_encodings() {
    let msg = b"lengths";
    for (spec, alg) in supported() {
        let sig = key(spec).sign(alg, MessageKind::Raw, msg).unwrap();
        if let Some(bits) = spec.rsa_bits() {
            assert_eq!(sig.len(), bits / 8);
        }
        match spec {
            AsymSpec::EccNistEdwards25519 => assert_eq!(sig.len(), 64),
            AsymSpec::MlDsa44 => assert_eq!(sig.len(), 2420),
            AsymSpec::MlDsa65 => assert_eq!(sig.len(), 3309),
            AsymSpec::MlDsa87 => assert_eq!(sig.len(), 4627),
            AsymSpec::EccNistP256
            | AsymSpec::EccNistP384
            | AsymSpec::EccNistP521
            | AsymSpec::EccSecgP256k1 => {
                // DER SEQUENCE { r INTEGER, s INTEGER }, short or 0x81 long form.
                assert_eq!(sig[0], 0x30, "{spec}");
                let (body_len, header) = if sig[1] == 0x81 {
                    (usize::from(sig[2]), 3)
                } else {
                    (usize::from(sig[1]), 2)
                };
                assert_eq!(body_len + header, sig.len(), "{spec}");
                assert_eq!(sig[header], 0x02, "{spec}");
            }
            _ => {}
        }
    }
    // Ed25519 and PKCS#1 v1.5 are deterministic; PSS and ECDSA are randomized.
    let ed = key(AsymSpec::EccNistEdwards25519);
    let a = ed
        .sign(SigningAlgorithm::Ed25519Sha512, MessageKind::Raw, msg)
        .unwrap();
    let b = ed
        .sign(SigningAlgorithm::Ed25519Sha512, MessageKind::Raw, msg)
        .unwrap();
    assert_eq!(a, b);
    let rsa = key(AsymSpec::Rsa2048);
    let p1 = rsa
        .sign(
            SigningAlgorithm::RsassaPkcs1V15Sha256,
            MessageKind::Raw,
            msg,
        )
        .unwrap();
    let p2 = rsa
        .sign(
            SigningAlgorithm::RsassaPkcs1V15Sha256,
            MessageKind::Raw,
            msg,
        )
        .unwrap();
    assert_eq!(p1, p2);
    let s1 = rsa
        .sign(SigningAlgorithm::RsassaPssSha256, MessageKind::Raw, msg)
        .unwrap();
    let s2 = rsa
        .sign(SigningAlgorithm::RsassaPssSha256, MessageKind::Raw, msg)
        .unwrap();
    assert_ne!(s1, s2);
    let ec = key(AsymSpec::EccNistP256);
    let e1 = ec
        .sign(SigningAlgorithm::EcdsaSha256, MessageKind::Raw, msg)
        .unwrap();
    let e2 = ec
        .sign(SigningAlgorithm::EcdsaSha256, MessageKind::Raw, msg)
        .unwrap();
    assert_ne!(e1, e2);
}

#[test]
fn digest_mode_means_the_same_as_raw() {
    let msg = b"the message whose digest is signed";
    let mut count = 0;
    for (spec, alg) in supported() {
        let Some(len) = alg.digest_len() else {
            continue;
        };
        let k = key(spec);
        let d = hash(alg, msg);
        assert_eq!(d.len(), len);
        // Signed as a digest, verifies as the raw message, and vice versa.
        let sig_d = k.sign(alg, MessageKind::Digest, &d).unwrap();
        assert!(
            k.verify(alg, MessageKind::Raw, msg, &sig_d).unwrap(),
            "{spec} {alg}"
        );
        assert!(k.verify(alg, MessageKind::Digest, &d, &sig_d).unwrap());
        let sig_r = k.sign(alg, MessageKind::Raw, msg).unwrap();
        assert!(
            k.verify(alg, MessageKind::Digest, &d, &sig_r).unwrap(),
            "{spec} {alg}"
        );
        // A digest of another message does not verify.
        let other = hash(alg, b"another message");
        assert!(!k.verify(alg, MessageKind::Digest, &other, &sig_d).unwrap());
        // The digest is not hashed again: signing it as RAW is a different signature.
        assert!(!k.verify(alg, MessageKind::Raw, &d, &sig_d).unwrap());
        // Wrong digest lengths are refused, for sign and verify.
        for bad_len in [0, len - 1, len + 1, 20] {
            let bad = vec![7u8; bad_len];
            match k.sign(alg, MessageKind::Digest, &bad) {
                Err(Error::DigestLength { expected, got }) => {
                    assert_eq!((expected, got), (len, bad_len));
                }
                other => panic!("{spec} {alg} {bad_len}: {other:?}"),
            }
            assert!(matches!(
                k.verify(alg, MessageKind::Digest, &bad, &sig_d),
                Err(Error::DigestLength { .. })
            ));
        }
        count += 1;
    }
    assert_eq!(count, 22);
}

#[test]
fn message_types_aws_rejects() {
    use MessageKind as K;
    use SigningAlgorithm as S;
    let cases = [
        (
            AsymSpec::EccNistEdwards25519,
            S::Ed25519Sha512,
            K::Digest,
            64,
        ),
        (
            AsymSpec::EccNistEdwards25519,
            S::Ed25519Sha512,
            K::ExternalMu,
            64,
        ),
        (
            AsymSpec::EccNistEdwards25519,
            S::Ed25519PhSha512,
            K::Raw,
            10,
        ),
        (
            AsymSpec::EccNistEdwards25519,
            S::Ed25519PhSha512,
            K::ExternalMu,
            64,
        ),
        (AsymSpec::MlDsa44, S::MlDsaShake256, K::Digest, 64),
        (AsymSpec::EccNistP256, S::EcdsaSha256, K::ExternalMu, 64),
        (AsymSpec::Rsa2048, S::RsassaPssSha512, K::ExternalMu, 64),
    ];
    for (spec, alg, kind, len) in cases {
        let k = key(spec);
        let m = vec![1u8; len];
        for result in [
            k.sign(alg, kind, &m).map(|_| ()),
            k.verify(alg, kind, &m, &[0; 64]).map(|_| ()),
        ] {
            match result {
                Err(Error::InvalidMessageType {
                    algorithm,
                    kind: got,
                }) => {
                    assert_eq!((algorithm, got), (alg, kind));
                }
                other => panic!("{spec} {alg} {kind}: {other:?}"),
            }
        }
    }
}

#[test]
fn what_aws_allows_but_this_build_cannot() {
    let ed = key(AsymSpec::EccNistEdwards25519);
    let ph = SigningAlgorithm::Ed25519PhSha512;
    let digest = [3u8; 64];
    assert!(matches!(
        ed.sign(ph, MessageKind::Digest, &digest),
        Err(Error::UnsupportedAlgorithm(msg)) if msg.contains("Ed25519ph")
    ));
    assert!(matches!(
        ed.verify(ph, MessageKind::Digest, &digest, &[0; 64]),
        Err(Error::UnsupportedAlgorithm(_))
    ));
    assert!(matches!(
        ed.sign(ph, MessageKind::Digest, &[3u8; 32]),
        Err(Error::DigestLength {
            expected: 64,
            got: 32
        })
    ));
    for spec in [AsymSpec::MlDsa44, AsymSpec::MlDsa65, AsymSpec::MlDsa87] {
        let k = key(spec);
        let alg = SigningAlgorithm::MlDsaShake256;
        assert!(matches!(
            k.sign(alg, MessageKind::ExternalMu, &[9; EXTERNAL_MU_LEN]),
            Err(Error::UnsupportedMessageType {
                kind: MessageKind::ExternalMu,
                ..
            })
        ));
        assert!(matches!(
            k.verify(
                alg,
                MessageKind::ExternalMu,
                &[9; EXTERNAL_MU_LEN],
                &[0; 10]
            ),
            Err(Error::UnsupportedMessageType { .. })
        ));
        assert!(matches!(
            k.sign(alg, MessageKind::ExternalMu, &[9; 32]),
            Err(Error::DigestLength {
                expected: 64,
                got: 32
            })
        ));
    }
}

#[test]
fn algorithm_must_match_the_key_spec() {
    use SigningAlgorithm as S;
    let cases = [
        (AsymSpec::EccNistP256, S::EcdsaSha384),
        (AsymSpec::EccNistP384, S::EcdsaSha256),
        (AsymSpec::EccNistP521, S::EcdsaSha384),
        (AsymSpec::EccSecgP256k1, S::EcdsaSha512),
        (AsymSpec::Rsa2048, S::EcdsaSha256),
        (AsymSpec::EccNistP256, S::RsassaPssSha256),
        (AsymSpec::MlDsa65, S::Ed25519Sha512),
        (AsymSpec::EccNistEdwards25519, S::MlDsaShake256),
        (AsymSpec::EccNistEdwards25519, S::EcdsaSha512),
    ];
    for (spec, alg) in cases {
        let k = key(spec);
        match k.sign(alg, MessageKind::Raw, b"m") {
            Err(Error::IncompatibleKey { spec: s, operation }) => {
                assert_eq!((s, operation), (spec, alg.as_str()));
            }
            other => panic!("{spec} {alg}: {other:?}"),
        }
        assert!(matches!(
            k.verify(alg, MessageKind::Raw, b"m", &[0; 8]),
            Err(Error::IncompatibleKey { .. })
        ));
    }
}

#[test]
fn loading_checks_the_spec() {
    let material = |spec| &keys().iter().find(|(s, _, _)| *s == spec).unwrap().2;
    let wrong = [
        (AsymSpec::EccNistP256, AsymSpec::EccNistP384),
        (AsymSpec::EccNistP384, AsymSpec::EccNistP256),
        (AsymSpec::EccNistP256, AsymSpec::EccSecgP256k1),
        (AsymSpec::EccSecgP256k1, AsymSpec::EccNistP256),
        (AsymSpec::Rsa2048, AsymSpec::Rsa3072),
        (AsymSpec::Rsa4096, AsymSpec::Rsa2048),
        (AsymSpec::Rsa2048, AsymSpec::EccNistP256),
        (AsymSpec::EccNistEdwards25519, AsymSpec::MlDsa44),
        (AsymSpec::MlDsa44, AsymSpec::MlDsa65),
        (AsymSpec::MlDsa87, AsymSpec::EccNistEdwards25519),
        (AsymSpec::EccNistP521, AsymSpec::EccNistEdwards25519),
    ];
    for (made, loaded_as) in wrong {
        match AsymKey::from_private(loaded_as, material(made).expose()) {
            Err(Error::InvalidKey { spec, .. }) => assert_eq!(spec, loaded_as),
            other => panic!("{made} as {loaded_as}: {other:?}"),
        }
    }
    for &spec in AsymSpec::ALL {
        for junk in [&b""[..], b"\x30\x00", &[0u8; 100]] {
            assert!(matches!(
                AsymKey::from_private(spec, junk),
                Err(Error::InvalidKey { .. })
            ));
        }
        let mut truncated = material(spec).expose().to_vec();
        truncated.pop();
        assert!(AsymKey::from_private(spec, &truncated).is_err(), "{spec}");
    }
    // Reloading gives the same public key; fresh material a different one.
    for (spec, k, m) in keys() {
        let again = AsymKey::from_private(*spec, m.expose()).unwrap();
        assert_eq!(again.public_key_der().unwrap(), k.public_key_der().unwrap());
        assert_eq!(again.spec(), *spec);
        let fresh = AsymKey::from_private(*spec, generate_asym(*spec).unwrap().expose()).unwrap();
        assert_ne!(fresh.public_key_der().unwrap(), k.public_key_der().unwrap());
    }
}

#[test]
fn rsa_oaep_round_trip_and_bounds() {
    let expected = [
        (AsymSpec::Rsa2048, 214, 190),
        (AsymSpec::Rsa3072, 342, 318),
        (AsymSpec::Rsa4096, 470, 446),
    ];
    for (spec, max_sha1, max_sha256) in expected {
        let k = key(spec);
        assert_eq!(k.rsa_max_plaintext(RsaOaep::Sha1), Some(max_sha1));
        assert_eq!(k.rsa_max_plaintext(RsaOaep::Sha256), Some(max_sha256));
        for &alg in RsaOaep::ALL {
            let max = k.rsa_max_plaintext(alg).unwrap();
            assert_eq!(max, spec.rsa_bits().unwrap() / 8 - 2 * alg.hash_len() - 2);
            for len in [0, 1, 32, max] {
                let pt: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
                let ct = k.rsa_encrypt(alg, &pt).unwrap();
                assert_eq!(ct.len(), spec.rsa_bits().unwrap() / 8);
                assert_eq!(k.rsa_decrypt(alg, &ct).unwrap().expose(), &pt[..]);
                // Randomized.
                if len == 32 {
                    assert_ne!(ct, k.rsa_encrypt(alg, &pt).unwrap());
                }
            }
            match k.rsa_encrypt(alg, &vec![0; max + 1]) {
                Err(Error::PlaintextTooLarge { max: m, got }) => {
                    assert_eq!((m, got), (max, max + 1))
                }
                other => panic!("{spec} {alg}: {other:?}"),
            }
        }
        // Wrong hash, modified or mis-sized ciphertext, other key: Decrypt.
        let ct = k.rsa_encrypt(RsaOaep::Sha256, b"secret").unwrap();
        assert!(matches!(
            k.rsa_decrypt(RsaOaep::Sha1, &ct),
            Err(Error::Decrypt(_))
        ));
        let mut bad = ct.clone();
        bad[10] ^= 0x80;
        assert!(matches!(
            k.rsa_decrypt(RsaOaep::Sha256, &bad),
            Err(Error::Decrypt(_))
        ));
        assert!(matches!(
            k.rsa_decrypt(RsaOaep::Sha256, &ct[1..]),
            Err(Error::Decrypt(_))
        ));
        assert!(matches!(
            k.rsa_decrypt(RsaOaep::Sha256, &[]),
            Err(Error::Decrypt(_))
        ));
        let other = AsymKey::from_private(spec, generate_asym(spec).unwrap().expose()).unwrap();
        assert!(matches!(
            other.rsa_decrypt(RsaOaep::Sha256, &ct),
            Err(Error::Decrypt(_))
        ));
    }
    for &spec in &AsymSpec::ALL[3..] {
        let k = key(spec);
        assert_eq!(k.rsa_max_plaintext(RsaOaep::Sha256), None);
        assert!(matches!(
            k.rsa_encrypt(RsaOaep::Sha256, b"x"),
            Err(Error::IncompatibleKey {
                operation: "RSAES_OAEP_SHA_256",
                ..
            })
        ));
        assert!(matches!(
            k.rsa_decrypt(RsaOaep::Sha1, &[0; 256]),
            Err(Error::IncompatibleKey {
                operation: "RSAES_OAEP_SHA_1",
                ..
            })
        ));
    }
}

#[test]
fn ecdh_agrees_and_rejects_bad_peers() {
    let nist = [
        (AsymSpec::EccNistP256, 32),
        (AsymSpec::EccNistP384, 48),
        (AsymSpec::EccNistP521, 66),
    ];
    for (spec, len) in nist {
        let a = key(spec);
        let b = AsymKey::from_private(spec, generate_asym(spec).unwrap().expose()).unwrap();
        let ab = a
            .derive_shared_secret(&b.public_key_der().unwrap())
            .unwrap();
        let ba = b
            .derive_shared_secret(&a.public_key_der().unwrap())
            .unwrap();
        assert_eq!(ab.len(), len);
        assert!(ab.ct_eq(ba.expose()));
        // With itself is fine (a valid point), and differs from the pair secret.
        let aa = a
            .derive_shared_secret(&a.public_key_der().unwrap())
            .unwrap();
        assert!(!aa.ct_eq(ab.expose()));
        // Other curves and other key types are refused.
        for (other, _) in nist.iter().filter(|(s, _)| *s != spec) {
            let peer = key(*other).public_key_der().unwrap();
            assert!(matches!(
                a.derive_shared_secret(&peer),
                Err(Error::InvalidPeerKey(_))
            ));
        }
        for other in [
            AsymSpec::EccSecgP256k1,
            AsymSpec::Rsa2048,
            AsymSpec::EccNistEdwards25519,
            AsymSpec::MlDsa44,
        ] {
            let peer = key(other).public_key_der().unwrap();
            assert!(
                matches!(a.derive_shared_secret(&peer), Err(Error::InvalidPeerKey(_))),
                "{spec} with {other} peer"
            );
        }
        // A raw SEC 1 point (the SPKI's bit string contents) is not an SPKI.
        let spki = b.public_key_der().unwrap();
        let point = &spki[spki.len() - (1 + 2 * len)..];
        assert_eq!(point[0], 0x04);
        assert!(matches!(
            a.derive_shared_secret(point),
            Err(Error::InvalidPeerKey(msg)) if msg.contains("SubjectPublicKeyInfo")
        ));
        // A point not on the curve.
        let mut off_curve = spki.clone();
        let last = off_curve.len() - 1;
        off_curve[last] ^= 0x01;
        assert!(matches!(
            a.derive_shared_secret(&off_curve),
            Err(Error::InvalidPeerKey(_))
        ));
        for junk in [&b""[..], b"\x30\x00", &spki[..spki.len() - 1]] {
            assert!(matches!(
                a.derive_shared_secret(junk),
                Err(Error::InvalidPeerKey(_))
            ));
        }
    }
    let peer = key(AsymSpec::EccNistP256).public_key_der().unwrap();
    for spec in [
        AsymSpec::EccSecgP256k1,
        AsymSpec::EccNistEdwards25519,
        AsymSpec::Rsa2048,
        AsymSpec::MlDsa87,
    ] {
        assert!(matches!(
            key(spec).derive_shared_secret(&peer),
            Err(Error::IncompatibleKey {
                operation: "ECDH",
                ..
            })
        ));
    }
}

#[test]
fn hmac_keys() {
    for &spec in HmacSpec::ALL {
        let m1 = generate_hmac(spec).unwrap();
        let m2 = generate_hmac(spec).unwrap();
        assert_eq!(m1.len(), spec.key_len());
        assert!(!m1.ct_eq(m2.expose()));
        let k = HmacKey::from_bytes(spec, m1.expose()).unwrap();
        assert_eq!(k.spec(), spec);
        let mac = k.mac(b"message");
        assert_eq!(mac.len(), spec.mac_len());
        assert_eq!(mac, k.mac(b"message"));
        assert!(k.verify(b"message", &mac));
        assert!(!k.verify(b"messagE", &mac));
        assert!(!k.verify(b"message", &mac[..mac.len() - 1]));
        assert!(!k.verify(b"message", &[]));
        let mut bad = mac.clone();
        bad[0] ^= 1;
        assert!(!k.verify(b"message", &bad));
        let other = HmacKey::from_bytes(spec, m2.expose()).unwrap();
        assert!(!other.verify(b"message", &mac));
        let range = spec.key_len_range();
        for len in [*range.start(), *range.end()] {
            assert!(HmacKey::from_bytes(spec, &vec![1; len]).is_ok());
        }
        for len in [0, *range.start() - 1, *range.end() + 1] {
            match HmacKey::from_bytes(spec, &vec![1; len]) {
                Err(Error::HmacKeyLength { min, max, actual }) => {
                    assert_eq!((min, max, actual), (*range.start(), *range.end(), len));
                }
                other => panic!("{spec} {len}: {other:?}"),
            }
        }
    }
}

#[test]
fn data_key_pairs() {
    for &spec in AsymSpec::ALL {
        if !spec.is_data_key_pair_spec() {
            assert!(matches!(
                generate_data_key_pair(spec),
                Err(Error::IncompatibleKey {
                    operation: "GenerateDataKeyPair",
                    ..
                })
            ));
            continue;
        }
        let (private, public) = generate_data_key_pair(spec).unwrap();
        let loaded = AsymKey::from_private(spec, private.expose()).unwrap();
        assert_eq!(loaded.public_key_der().unwrap(), public);
    }
}

#[test]
fn debug_reveals_no_secrets() {
    for (spec, k, material) in keys() {
        let hex = to_hex(material.expose());
        for dbg in [format!("{k:?}"), format!("{k:#?}")] {
            assert!(dbg.starts_with("AsymKey"), "{dbg}");
            assert!(dbg.contains(&format!("{spec:?}")));
            assert!(dbg.len() < 60, "{dbg}");
        }
        for dbg in [format!("{material:?}"), format!("{material:#?}")] {
            assert_eq!(
                dbg,
                format!("PrivateKeyBytes(<redacted {} bytes>)", material.len())
            );
            assert!(!dbg.contains(&hex[..16]));
        }
    }
    let raw = [0xABu8; 32];
    let h = HmacKey::from_bytes(HmacSpec::Hmac256, &raw).unwrap();
    for dbg in [format!("{h:?}"), format!("{h:#?}")] {
        assert!(dbg.starts_with("HmacKey"));
        assert!(!dbg.to_lowercase().contains("abab"));
        assert!(!dbg.contains("171"));
    }
    let m = generate_hmac(HmacSpec::Hmac512).unwrap();
    assert_eq!(format!("{m:?}"), "PrivateKeyBytes(<redacted 64 bytes>)");
    let secret = key(AsymSpec::Rsa2048).rsa_decrypt(
        RsaOaep::Sha1,
        &key(AsymSpec::Rsa2048)
            .rsa_encrypt(RsaOaep::Sha1, b"pt-secret")
            .unwrap(),
    );
    assert!(!format!("{secret:?}").contains("pt-secret"));
}

#[test]
fn loaded_keys_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AsymKey>();
    assert_send_sync::<HmacKey>();
    assert_send_sync::<PrivateKeyBytes>();
    // And usable from several threads at once.
    let k = key(AsymSpec::EccNistP384);
    std::thread::scope(|s| {
        for i in 0..4u8 {
            s.spawn(move || {
                let m = [i; 16];
                let sig = k
                    .sign(SigningAlgorithm::EcdsaSha384, MessageKind::Raw, &m)
                    .unwrap();
                assert!(
                    k.verify(SigningAlgorithm::EcdsaSha384, MessageKind::Raw, &m, &sig)
                        .unwrap()
                );
            });
        }
    });
}

/// The stored formats documented in `docs/asymmetric.md`: PKCS#8 v1
/// (`version 0`) with the algorithm identifiers below; Ed25519 and ML-DSA keep
/// only their 32-byte seed.
#[test]
fn stored_pkcs8_formats() {
    let prefix = |spec| match spec {
        // SEQUENCE { INTEGER 0, SEQUENCE { rsaEncryption, NULL }, OCTET STRING { RSAPrivateKey
        AsymSpec::Rsa2048 | AsymSpec::Rsa3072 | AsymSpec::Rsa4096 => {
            "020100300d06092a864886f70d0101010500"
        }
        // ... { id-ecPublicKey, prime256v1 } ...
        AsymSpec::EccNistP256 => "020100301306072a8648ce3d020106082a8648ce3d030107",
        AsymSpec::EccNistP384 => "020100301006072a8648ce3d020106052b81040022",
        AsymSpec::EccNistP521 => "020100301006072a8648ce3d020106052b81040023",
        AsymSpec::EccSecgP256k1 => "020100301006072a8648ce3d020106052b8104000a",
        // ... { id-Ed25519 }, OCTET STRING { OCTET STRING (32) } (RFC 8410)
        AsymSpec::EccNistEdwards25519 => "020100300506032b657004220420",
        // ... { id-ml-dsa-44 }, OCTET STRING { [0] IMPLICIT seed (32) }
        AsymSpec::MlDsa44 => "020100300b06096086480165030403110422",
        AsymSpec::MlDsa65 => "020100300b06096086480165030403120422",
        AsymSpec::MlDsa87 => "020100300b06096086480165030403130422",
    };
    for (spec, _, material) in keys() {
        let hex = to_hex(material.expose());
        assert!(hex.starts_with("30"), "{spec}");
        assert!(hex.contains(prefix(*spec)), "{spec}: {hex:.80}");
        match spec {
            AsymSpec::EccNistEdwards25519 => assert_eq!(material.len(), 48),
            AsymSpec::MlDsa44 | AsymSpec::MlDsa65 | AsymSpec::MlDsa87 => {
                assert_eq!(material.len(), 54);
                assert_eq!(&hex[40..44], "8020", "{spec}: seed choice");
            }
            _ => {}
        }
    }
}
