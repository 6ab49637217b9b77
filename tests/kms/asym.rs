use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    DataKeyPairSpec, EncryptionAlgorithmSpec as Enc, KeyAgreementAlgorithmSpec, KeySpec,
    KeyUsageType as Usage, MacAlgorithmSpec as MacAlg, MessageType, SigningAlgorithmSpec as Sig,
};

use crate::assert_code;
use crate::common::TestServer;

async fn key(c: &aws_sdk_kms::Client, spec: KeySpec, usage: Usage) -> String {
    c.create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned()
}

fn sha(alg: &Sig, msg: &[u8]) -> Vec<u8> {
    use aws_lc_rs::digest;
    let d = match alg.as_str() {
        s if s.ends_with("256") => &digest::SHA256,
        s if s.ends_with("384") => &digest::SHA384,
        _ => &digest::SHA512,
    };
    digest::digest(d, msg).as_ref().to_vec()
}

#[tokio::test]
async fn sign_and_verify_every_spec_and_algorithm() {
    let s = TestServer::start().await;
    let c = s.client();
    let cases: Vec<(KeySpec, Vec<Sig>)> = vec![
        (
            KeySpec::Rsa2048,
            vec![
                Sig::RsassaPssSha256,
                Sig::RsassaPssSha384,
                Sig::RsassaPssSha512,
                Sig::RsassaPkcs1V15Sha256,
                Sig::RsassaPkcs1V15Sha384,
                Sig::RsassaPkcs1V15Sha512,
            ],
        ),
        (KeySpec::Rsa3072, vec![Sig::RsassaPssSha256]),
        (KeySpec::Rsa4096, vec![Sig::RsassaPkcs1V15Sha512]),
        (KeySpec::EccNistP256, vec![Sig::EcdsaSha256]),
        (KeySpec::EccNistP384, vec![Sig::EcdsaSha384]),
        (KeySpec::EccNistP521, vec![Sig::EcdsaSha512]),
        (KeySpec::EccSecgP256K1, vec![Sig::EcdsaSha256]),
        (KeySpec::EccNistEdwards25519, vec![Sig::Ed25519Sha512]),
        (KeySpec::MlDsa44, vec![Sig::MlDsaShake256]),
        (KeySpec::MlDsa65, vec![Sig::MlDsaShake256]),
        (KeySpec::MlDsa87, vec![Sig::MlDsaShake256]),
    ];
    let msg = b"a message worth signing".to_vec();
    for (spec, algs) in cases {
        let id = key(&c, spec.clone(), Usage::SignVerify).await;
        let d = c.describe_key().key_id(&id).send().await.unwrap();
        let m = d.key_metadata().unwrap();
        for a in &algs {
            assert!(m.signing_algorithms().contains(a), "{spec:?} lacks {a:?}");
        }
        assert!(m.encryption_algorithms().is_empty());
        for alg in algs {
            let signed = c
                .sign()
                .key_id(&id)
                .message(Blob::new(msg.clone()))
                .signing_algorithm(alg.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(signed.signing_algorithm(), Some(&alg));
            let sig = signed.signature().unwrap().clone();
            let ok = c
                .verify()
                .key_id(&id)
                .message(Blob::new(msg.clone()))
                .signature(sig.clone())
                .signing_algorithm(alg.clone())
                .send()
                .await
                .unwrap();
            assert!(ok.signature_valid());
            assert_code!(
                c.verify()
                    .key_id(&id)
                    .message(Blob::new(b"another message".to_vec()))
                    .signature(sig.clone())
                    .signing_algorithm(alg.clone())
                    .send()
                    .await,
                "KMSInvalidSignatureException"
            );
            let digestable = !matches!(alg, Sig::Ed25519Sha512 | Sig::MlDsaShake256);
            if digestable {
                // A signature over the digest verifies as a signature over the message.
                let digest = sha(&alg, &msg);
                let dsig = c
                    .sign()
                    .key_id(&id)
                    .message(Blob::new(digest.clone()))
                    .message_type(MessageType::Digest)
                    .signing_algorithm(alg.clone())
                    .send()
                    .await
                    .unwrap();
                let ok = c
                    .verify()
                    .key_id(&id)
                    .message(Blob::new(msg.clone()))
                    .signature(dsig.signature().unwrap().clone())
                    .signing_algorithm(alg.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(ok.signature_valid(), "{spec:?} {alg:?} digest");
                assert_code!(
                    c.sign()
                        .key_id(&id)
                        .message(Blob::new(digest[1..].to_vec()))
                        .message_type(MessageType::Digest)
                        .signing_algorithm(alg.clone())
                        .send()
                        .await,
                    "ValidationException"
                );
            } else {
                assert_code!(
                    c.sign()
                        .key_id(&id)
                        .message(Blob::new(vec![0u8; 64]))
                        .message_type(MessageType::Digest)
                        .signing_algorithm(alg.clone())
                        .send()
                        .await,
                    "ValidationException"
                );
            }
        }
        let wrong = if spec == KeySpec::EccNistP256 {
            Sig::EcdsaSha384
        } else {
            Sig::EcdsaSha256
        };
        if !matches!(spec, KeySpec::EccSecgP256K1) {
            assert_code!(
                c.sign()
                    .key_id(&id)
                    .message(Blob::new(msg.clone()))
                    .signing_algorithm(wrong)
                    .send()
                    .await,
                "InvalidKeyUsageException"
            );
        }
        assert_code!(
            c.encrypt()
                .key_id(&id)
                .plaintext(Blob::new(msg.clone()))
                .send()
                .await,
            "InvalidKeyUsageException"
        );
        assert_code!(
            c.generate_data_key()
                .key_id(&id)
                .number_of_bytes(32)
                .send()
                .await,
            "InvalidKeyUsageException"
        );
        let pk = c.get_public_key().key_id(&id).send().await.unwrap();
        assert_eq!(pk.key_spec(), Some(&spec));
        assert_eq!(pk.key_usage(), Some(&Usage::SignVerify));
        assert!(pk.public_key().unwrap().as_ref()[0] == 0x30, "DER SEQUENCE");
    }
    let sym = c
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    assert_code!(
        c.sign()
            .key_id(&sym)
            .message(Blob::new(msg.clone()))
            .signing_algorithm(Sig::EcdsaSha256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_code!(
        c.get_public_key().key_id(&sym).send().await,
        "UnsupportedOperationException"
    );
    let ec = key(&c, KeySpec::EccNistP256, Usage::SignVerify).await;
    assert_code!(
        c.sign()
            .key_id(&ec)
            .message(Blob::new(msg.clone()))
            .signing_algorithm(Sig::EcdsaSha256)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    assert_code!(
        c.sign()
            .key_id(&ec)
            .message(Blob::new(vec![0; 4097]))
            .signing_algorithm(Sig::EcdsaSha256)
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.sign()
            .key_id(&ec)
            .message(Blob::new(msg.clone()))
            .signing_algorithm(Sig::Sm2Dsa)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    c.disable_key().key_id(&ec).send().await.unwrap();
    assert_code!(
        c.sign()
            .key_id(&ec)
            .message(Blob::new(msg))
            .signing_algorithm(Sig::EcdsaSha256)
            .send()
            .await,
        "DisabledException"
    );
    let ed = key(&c, KeySpec::EccNistEdwards25519, Usage::SignVerify).await;
    assert_code!(
        c.sign()
            .key_id(&ed)
            .message(Blob::new(vec![1; 64]))
            .message_type(MessageType::Digest)
            .signing_algorithm(Sig::Ed25519PhSha512)
            .send()
            .await,
        "UnsupportedOperationException"
    );
    s.stop().await;
}

#[tokio::test]
async fn rsa_encryption_limits_and_rules() {
    let s = TestServer::start().await;
    let c = s.client();
    for (spec, sha1_max, sha256_max) in [
        (KeySpec::Rsa2048, 214usize, 190usize),
        (KeySpec::Rsa3072, 342, 318),
        (KeySpec::Rsa4096, 470, 446),
    ] {
        let id = key(&c, spec.clone(), Usage::EncryptDecrypt).await;
        let m = c.describe_key().key_id(&id).send().await.unwrap();
        assert_eq!(
            m.key_metadata().unwrap().encryption_algorithms(),
            &[Enc::RsaesOaepSha1, Enc::RsaesOaepSha256]
        );
        for (alg, max) in [
            (Enc::RsaesOaepSha1, sha1_max),
            (Enc::RsaesOaepSha256, sha256_max),
        ] {
            let pt = vec![0x5a; max];
            let e = c
                .encrypt()
                .key_id(&id)
                .plaintext(Blob::new(pt.clone()))
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(e.encryption_algorithm(), Some(&alg));
            let ct = e.ciphertext_blob().unwrap().clone();
            let d = c
                .decrypt()
                .key_id(&id)
                .ciphertext_blob(ct.clone())
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(d.plaintext().unwrap().as_ref(), pt.as_slice());
            assert_code!(
                c.encrypt()
                    .key_id(&id)
                    .plaintext(Blob::new(vec![1; max + 1]))
                    .encryption_algorithm(alg.clone())
                    .send()
                    .await,
                "ValidationException"
            );
            // RSA ciphertext does not name its key.
            assert_code!(
                c.decrypt()
                    .ciphertext_blob(ct.clone())
                    .encryption_algorithm(alg.clone())
                    .send()
                    .await,
                "InvalidCiphertextException"
            );
        }
        assert_code!(
            c.encrypt()
                .key_id(&id)
                .plaintext(Blob::new(b"x".to_vec()))
                .send()
                .await,
            "InvalidKeyUsageException"
        );
        assert_code!(
            c.encrypt()
                .key_id(&id)
                .plaintext(Blob::new(b"x".to_vec()))
                .encryption_algorithm(Enc::RsaesOaepSha256)
                .encryption_context("a", "b")
                .send()
                .await,
            "ValidationException"
        );
        let ct = c
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .encryption_algorithm(Enc::RsaesOaepSha256)
            .send()
            .await
            .unwrap()
            .ciphertext_blob
            .unwrap();
        assert_code!(
            c.decrypt()
                .key_id(&id)
                .ciphertext_blob(ct.clone())
                .encryption_algorithm(Enc::RsaesOaepSha1)
                .send()
                .await,
            "InvalidCiphertextException"
        );
        let pk = c.get_public_key().key_id(&id).send().await.unwrap();
        assert_eq!(
            pk.encryption_algorithms(),
            &[Enc::RsaesOaepSha1, Enc::RsaesOaepSha256]
        );
        assert!(pk.signing_algorithms().is_empty());
        // ReEncrypt from RSA to a symmetric key.
        let sym = c
            .create_key()
            .send()
            .await
            .unwrap()
            .key_metadata()
            .unwrap()
            .key_id()
            .to_owned();
        let r = c
            .re_encrypt()
            .ciphertext_blob(ct)
            .source_key_id(&id)
            .source_encryption_algorithm(Enc::RsaesOaepSha256)
            .destination_key_id(&sym)
            .send()
            .await
            .unwrap();
        let d = c
            .decrypt()
            .ciphertext_blob(r.ciphertext_blob().unwrap().clone())
            .send()
            .await
            .unwrap();
        assert_eq!(d.plaintext().unwrap().as_ref(), b"x");
    }
    s.stop().await;
}

#[tokio::test]
async fn hmac_generate_and_verify() {
    let s = TestServer::start().await;
    let c = s.client();
    for (spec, alg, len) in [
        (KeySpec::Hmac224, MacAlg::HmacSha224, 28),
        (KeySpec::Hmac256, MacAlg::HmacSha256, 32),
        (KeySpec::Hmac384, MacAlg::HmacSha384, 48),
        (KeySpec::Hmac512, MacAlg::HmacSha512, 64),
    ] {
        let id = key(&c, spec, Usage::GenerateVerifyMac).await;
        let m = c.describe_key().key_id(&id).send().await.unwrap();
        assert_eq!(
            m.key_metadata().unwrap().mac_algorithms(),
            std::slice::from_ref(&alg)
        );
        let mac = c
            .generate_mac()
            .key_id(&id)
            .message(Blob::new(b"msg".to_vec()))
            .mac_algorithm(alg.clone())
            .send()
            .await
            .unwrap();
        let tag = mac.mac().unwrap().clone();
        assert_eq!(tag.as_ref().len(), len);
        let again = c
            .generate_mac()
            .key_id(&id)
            .message(Blob::new(b"msg".to_vec()))
            .mac_algorithm(alg.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(again.mac().unwrap(), &tag, "HMAC is deterministic");
        let ok = c
            .verify_mac()
            .key_id(&id)
            .message(Blob::new(b"msg".to_vec()))
            .mac(tag.clone())
            .mac_algorithm(alg.clone())
            .send()
            .await
            .unwrap();
        assert!(ok.mac_valid());
        let mut bad = tag.into_inner();
        bad[0] ^= 1;
        assert_code!(
            c.verify_mac()
                .key_id(&id)
                .message(Blob::new(b"msg".to_vec()))
                .mac(Blob::new(bad))
                .mac_algorithm(alg.clone())
                .send()
                .await,
            "KMSInvalidMacException"
        );
        let wrong = if alg == MacAlg::HmacSha256 {
            MacAlg::HmacSha512
        } else {
            MacAlg::HmacSha256
        };
        assert_code!(
            c.generate_mac()
                .key_id(&id)
                .message(Blob::new(b"msg".to_vec()))
                .mac_algorithm(wrong)
                .send()
                .await,
            "InvalidKeyUsageException"
        );
        assert_code!(
            c.get_public_key().key_id(&id).send().await,
            "UnsupportedOperationException"
        );
        assert_code!(
            c.encrypt()
                .key_id(&id)
                .plaintext(Blob::new(b"x".to_vec()))
                .send()
                .await,
            "InvalidKeyUsageException"
        );
        assert_code!(
            c.generate_mac()
                .key_id(&id)
                .message(Blob::new(b"m".to_vec()))
                .mac_algorithm(alg)
                .dry_run(true)
                .send()
                .await,
            "DryRunOperationException"
        );
    }
    let sym = c
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    assert_code!(
        c.generate_mac()
            .key_id(&sym)
            .message(Blob::new(b"m".to_vec()))
            .mac_algorithm(MacAlg::HmacSha256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    s.stop().await;
}

#[tokio::test]
async fn derive_shared_secret_agrees_both_ways() {
    let s = TestServer::start().await;
    let c = s.client();
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
    ] {
        let a = key(&c, spec.clone(), Usage::KeyAgreement).await;
        let b = key(&c, spec.clone(), Usage::KeyAgreement).await;
        let m = c.describe_key().key_id(&a).send().await.unwrap();
        assert_eq!(
            m.key_metadata().unwrap().key_agreement_algorithms(),
            &[KeyAgreementAlgorithmSpec::Ecdh]
        );
        let pa = c
            .get_public_key()
            .key_id(&a)
            .send()
            .await
            .unwrap()
            .public_key
            .unwrap();
        let pb = c
            .get_public_key()
            .key_id(&b)
            .send()
            .await
            .unwrap()
            .public_key
            .unwrap();
        let ab = c
            .derive_shared_secret()
            .key_id(&a)
            .public_key(pb)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .send()
            .await
            .unwrap();
        let ba = c
            .derive_shared_secret()
            .key_id(&b)
            .public_key(pa)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .send()
            .await
            .unwrap();
        assert_eq!(ab.shared_secret(), ba.shared_secret());
        assert_eq!(
            ab.key_agreement_algorithm(),
            Some(&KeyAgreementAlgorithmSpec::Ecdh)
        );
        assert_code!(
            c.derive_shared_secret()
                .key_id(&a)
                .public_key(Blob::new(vec![0x30, 1, 2]))
                .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
                .send()
                .await,
            "ValidationException"
        );
        assert_code!(
            c.sign()
                .key_id(&a)
                .message(Blob::new(b"m".to_vec()))
                .signing_algorithm(Sig::EcdsaSha256)
                .send()
                .await,
            "InvalidKeyUsageException"
        );
    }
    let other = key(&c, KeySpec::EccNistP384, Usage::KeyAgreement).await;
    let p384 = c
        .get_public_key()
        .key_id(&other)
        .send()
        .await
        .unwrap()
        .public_key
        .unwrap();
    let p256 = key(&c, KeySpec::EccNistP256, Usage::KeyAgreement).await;
    assert_code!(
        c.derive_shared_secret()
            .key_id(&p256)
            .public_key(p384)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .send()
            .await,
        "ValidationException"
    );
    let signer = key(&c, KeySpec::EccNistP256, Usage::SignVerify).await;
    let pk = c
        .get_public_key()
        .key_id(&signer)
        .send()
        .await
        .unwrap()
        .public_key
        .unwrap();
    assert_code!(
        c.derive_shared_secret()
            .key_id(&signer)
            .public_key(pk)
            .key_agreement_algorithm(KeyAgreementAlgorithmSpec::Ecdh)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    s.stop().await;
}

#[tokio::test]
async fn data_key_pairs_for_every_spec() {
    let s = TestServer::start().await;
    let c = s.client();
    let sym = c
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    for spec in [
        DataKeyPairSpec::Rsa2048,
        DataKeyPairSpec::Rsa3072,
        DataKeyPairSpec::Rsa4096,
        DataKeyPairSpec::EccNistP256,
        DataKeyPairSpec::EccNistP384,
        DataKeyPairSpec::EccNistP521,
        DataKeyPairSpec::EccSecgP256K1,
        DataKeyPairSpec::EccNistEdwards25519,
    ] {
        let r = c
            .generate_data_key_pair()
            .key_id(&sym)
            .key_pair_spec(spec.clone())
            .encryption_context("use", "pair")
            .send()
            .await
            .unwrap();
        assert_eq!(r.key_pair_spec(), Some(&spec));
        let private = r.private_key_plaintext().unwrap().as_ref().to_vec();
        assert_eq!(private[0], 0x30, "PKCS#8 DER");
        assert_eq!(r.public_key().unwrap().as_ref()[0], 0x30, "SPKI DER");
        let d = c
            .decrypt()
            .ciphertext_blob(r.private_key_ciphertext_blob().unwrap().clone())
            .encryption_context("use", "pair")
            .send()
            .await
            .unwrap();
        assert_eq!(d.plaintext().unwrap().as_ref(), private.as_slice());
        let w = c
            .generate_data_key_pair_without_plaintext()
            .key_id(&sym)
            .key_pair_spec(spec.clone())
            .send()
            .await
            .unwrap();
        assert!(w.public_key().is_some());
        let d = c
            .decrypt()
            .ciphertext_blob(w.private_key_ciphertext_blob().unwrap().clone())
            .send()
            .await
            .unwrap();
        assert_eq!(d.plaintext().unwrap().as_ref()[0], 0x30);
    }
    assert_code!(
        c.generate_data_key_pair()
            .key_id(&sym)
            .key_pair_spec(DataKeyPairSpec::Sm2)
            .send()
            .await,
        "UnsupportedOperationException"
    );
    let rsa = key(&c, KeySpec::Rsa2048, Usage::EncryptDecrypt).await;
    assert_code!(
        c.generate_data_key_pair()
            .key_id(&rsa)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_code!(
        c.generate_data_key_pair()
            .key_id(&sym)
            .key_pair_spec(DataKeyPairSpec::EccNistP256)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    s.stop().await;
}
