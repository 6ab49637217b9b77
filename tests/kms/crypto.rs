use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, EncryptionAlgorithmSpec};

use crate::assert_code;
use crate::common::TestServer;

async fn new_key(c: &aws_sdk_kms::Client) -> String {
    c.create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned()
}

#[tokio::test]
async fn encrypt_decrypt_roundtrip_with_context() {
    let s = TestServer::start().await;
    let c = s.client();
    let id = new_key(&c).await;
    let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{id}");
    for len in [1usize, 32, 4096] {
        let pt: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let e = c
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new(pt.clone()))
            .encryption_context("purpose", "test")
            .encryption_context("tenant", "42")
            .send()
            .await
            .unwrap();
        assert_eq!(e.key_id(), Some(arn.as_str()));
        assert_eq!(
            e.encryption_algorithm(),
            Some(&EncryptionAlgorithmSpec::SymmetricDefault)
        );
        let blob = e.ciphertext_blob().unwrap().clone();
        assert!(blob.as_ref().len() <= 6144);
        assert!(
            !blob
                .as_ref()
                .windows(pt.len().min(16))
                .any(|w| pt.len() >= 16 && w == &pt[..16])
        );
        // No KeyId needed: the blob names its key.
        let d = c
            .decrypt()
            .ciphertext_blob(blob.clone())
            .encryption_context("tenant", "42")
            .encryption_context("purpose", "test")
            .send()
            .await
            .unwrap();
        assert_eq!(d.plaintext().unwrap().as_ref(), pt.as_slice());
        assert_eq!(d.key_id(), Some(arn.as_str()));
        assert_eq!(d.key_material_id().map(str::len), Some(64));
        // The context must match exactly.
        assert_code!(
            c.decrypt().ciphertext_blob(blob.clone()).send().await,
            "InvalidCiphertextException"
        );
        assert_code!(
            c.decrypt()
                .ciphertext_blob(blob.clone())
                .encryption_context("purpose", "test")
                .send()
                .await,
            "InvalidCiphertextException"
        );
        assert_code!(
            c.decrypt()
                .ciphertext_blob(blob.clone())
                .encryption_context("purpose", "test")
                .encryption_context("tenant", "43")
                .send()
                .await,
            "InvalidCiphertextException"
        );
    }
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(vec![0u8; 4097]))
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(Vec::new()))
            .send()
            .await,
        "ValidationException"
    );
    s.stop().await;
}

#[tokio::test]
async fn decrypt_refuses_tampering_wrong_key_and_garbage() {
    let s = TestServer::start().await;
    let c = s.client();
    let a = new_key(&c).await;
    let b = new_key(&c).await;
    let blob = c
        .encrypt()
        .key_id(&a)
        .plaintext(Blob::new(b"secret".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    assert_code!(
        c.decrypt()
            .ciphertext_blob(blob.clone())
            .key_id(&b)
            .send()
            .await,
        "IncorrectKeyException"
    );
    let ok = c
        .decrypt()
        .ciphertext_blob(blob.clone())
        .key_id(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.plaintext().unwrap().as_ref(), b"secret");
    let raw = blob.into_inner();
    for i in [raw.len() - 1, raw.len() / 2, 60] {
        let mut t = raw.clone();
        t[i] ^= 1;
        let r = c.decrypt().ciphertext_blob(Blob::new(t)).send().await;
        assert!(r.is_err(), "tampered byte {i} decrypted");
    }
    assert_code!(
        c.decrypt()
            .ciphertext_blob(Blob::new(vec![1, 2, 3]))
            .send()
            .await,
        "InvalidCiphertextException"
    );
    assert_code!(
        c.decrypt()
            .ciphertext_blob(Blob::new(raw[..raw.len() - 1].to_vec()))
            .send()
            .await,
        "InvalidCiphertextException"
    );
    assert_code!(
        c.decrypt()
            .ciphertext_blob(Blob::new(vec![0u8; 6145]))
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.decrypt()
            .ciphertext_blob(Blob::new(raw.clone()))
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha256)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    assert_code!(
        c.encrypt()
            .key_id(&a)
            .plaintext(Blob::new(b"x".to_vec()))
            .encryption_algorithm(EncryptionAlgorithmSpec::RsaesOaepSha1)
            .send()
            .await,
        "InvalidKeyUsageException"
    );
    s.stop().await;
}

#[tokio::test]
async fn generate_data_key_variants() {
    let s = TestServer::start().await;
    let c = s.client();
    let id = new_key(&c).await;
    for (spec, n, len) in [
        (Some(DataKeySpec::Aes256), None, 32),
        (Some(DataKeySpec::Aes128), None, 16),
        (None, Some(1), 1),
        (None, Some(1024), 1024),
    ] {
        let r = c
            .generate_data_key()
            .key_id(&id)
            .set_key_spec(spec)
            .set_number_of_bytes(n)
            .encryption_context("bucket", "photos")
            .send()
            .await
            .unwrap();
        let pt = r.plaintext().unwrap().as_ref().to_vec();
        assert_eq!(pt.len(), len);
        assert_eq!(r.key_material_id().map(str::len), Some(64));
        let d = c
            .decrypt()
            .ciphertext_blob(r.ciphertext_blob().unwrap().clone())
            .encryption_context("bucket", "photos")
            .send()
            .await
            .unwrap();
        assert_eq!(d.plaintext().unwrap().as_ref(), pt.as_slice());
    }
    let r = c
        .generate_data_key_without_plaintext()
        .key_id(&id)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .unwrap();
    let d = c
        .decrypt()
        .ciphertext_blob(r.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(d.plaintext().unwrap().as_ref().len(), 32);
    assert_code!(
        c.generate_data_key().key_id(&id).send().await,
        "ValidationException"
    );
    assert_code!(
        c.generate_data_key()
            .key_id(&id)
            .key_spec(DataKeySpec::Aes256)
            .number_of_bytes(32)
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.generate_data_key()
            .key_id(&id)
            .number_of_bytes(1025)
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.generate_data_key_without_plaintext()
            .key_id(&id)
            .number_of_bytes(0)
            .send()
            .await,
        "ValidationException"
    );
    s.stop().await;
}

#[tokio::test]
async fn generate_random_limits_and_uniqueness() {
    let s = TestServer::start().await;
    let c = s.client();
    let a = c
        .generate_random()
        .number_of_bytes(1024)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap()
        .into_inner();
    let b = c
        .generate_random()
        .number_of_bytes(1024)
        .send()
        .await
        .unwrap()
        .plaintext
        .unwrap()
        .into_inner();
    assert_eq!(a.len(), 1024);
    assert_ne!(a, b);
    assert_eq!(
        c.generate_random()
            .number_of_bytes(1)
            .send()
            .await
            .unwrap()
            .plaintext
            .unwrap()
            .into_inner()
            .len(),
        1
    );
    assert_code!(
        c.generate_random().number_of_bytes(1025).send().await,
        "ValidationException"
    );
    assert_code!(
        c.generate_random().number_of_bytes(0).send().await,
        "ValidationException"
    );
    assert_code!(c.generate_random().send().await, "ValidationException");
    assert_code!(
        c.generate_random()
            .number_of_bytes(8)
            .custom_key_store_id("cks-1")
            .send()
            .await,
        "CustomKeyStoreNotFoundException"
    );
    s.stop().await;
}

#[tokio::test]
async fn re_encrypt_moves_ciphertext_between_keys() {
    let s = TestServer::start().await;
    let c = s.client();
    let a = new_key(&c).await;
    let b = new_key(&c).await;
    let blob = c
        .encrypt()
        .key_id(&a)
        .plaintext(Blob::new(b"move me".to_vec()))
        .encryption_context("k", "1")
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    let r = c
        .re_encrypt()
        .ciphertext_blob(blob.clone())
        .source_encryption_context("k", "1")
        .destination_key_id(&b)
        .destination_encryption_context("k", "2")
        .send()
        .await
        .unwrap();
    assert!(r.source_key_id().unwrap().ends_with(&a));
    assert!(r.key_id().unwrap().ends_with(&b));
    assert_eq!(r.source_key_material_id().map(str::len), Some(64));
    let d = c
        .decrypt()
        .ciphertext_blob(r.ciphertext_blob().unwrap().clone())
        .encryption_context("k", "2")
        .send()
        .await
        .unwrap();
    assert_eq!(d.plaintext().unwrap().as_ref(), b"move me");
    assert!(d.key_id().unwrap().ends_with(&b));
    assert_code!(
        c.re_encrypt()
            .ciphertext_blob(blob.clone())
            .destination_key_id(&b)
            .send()
            .await,
        "InvalidCiphertextException"
    );
    assert_code!(
        c.re_encrypt()
            .ciphertext_blob(blob.clone())
            .source_encryption_context("k", "1")
            .source_key_id(&b)
            .destination_key_id(&b)
            .send()
            .await,
        "IncorrectKeyException"
    );
    c.disable_key().key_id(&b).send().await.unwrap();
    assert_code!(
        c.re_encrypt()
            .ciphertext_blob(blob)
            .source_encryption_context("k", "1")
            .destination_key_id(&b)
            .send()
            .await,
        "DisabledException"
    );
    s.stop().await;
}

#[tokio::test]
async fn dry_run_checks_but_does_nothing() {
    let s = TestServer::start().await;
    let c = s.client();
    let id = new_key(&c).await;
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    let blob = c
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob
        .unwrap();
    assert_code!(
        c.decrypt()
            .ciphertext_blob(blob.clone())
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    assert_code!(
        c.generate_data_key()
            .key_id(&id)
            .number_of_bytes(8)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    assert_code!(
        c.generate_data_key_without_plaintext()
            .key_id(&id)
            .number_of_bytes(8)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    assert_code!(
        c.re_encrypt()
            .ciphertext_blob(blob)
            .destination_key_id(&id)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    // A dry run of a request that would fail reports the real failure.
    c.disable_key().key_id(&id).send().await.unwrap();
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .dry_run(true)
            .send()
            .await,
        "DisabledException"
    );
    s.stop().await;
}
