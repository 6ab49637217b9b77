use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::primitives::Blob;

use crate::assert_code;
use crate::common::TestServer;

#[tokio::test]
async fn get_key_last_usage_reports_the_newest_successful_crypto_operation() {
    let s = TestServer::start().await;
    let c = s.client();
    let id = c
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    let r = c.get_key_last_usage().key_id(&id).send().await.unwrap();
    assert!(r.key_last_usage().is_none());
    assert!(r.key_creation_date().is_some() && r.tracking_start_date().is_some());
    let e = c
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    let r = c.get_key_last_usage().key_id(&id).send().await.unwrap();
    let u = r.key_last_usage().unwrap();
    assert_eq!(u.operation().map(|o| o.as_str()), Some("Encrypt"));
    assert_eq!(u.kms_request_id(), e.request_id());
    assert!(u.cloud_trail_event_id().is_some());
    // A failed operation and a non-cryptographic one do not count.
    assert!(
        c.decrypt()
            .ciphertext_blob(e.ciphertext_blob().unwrap().clone())
            .encryption_context("k", "v")
            .send()
            .await
            .is_err()
    );
    c.describe_key().key_id(&id).send().await.unwrap();
    let r = c.get_key_last_usage().key_id(&id).send().await.unwrap();
    assert_eq!(r.key_last_usage().unwrap().kms_request_id(), e.request_id());
    let g = c
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(16)
        .send()
        .await
        .unwrap();
    let r = c.get_key_last_usage().key_id(&id).send().await.unwrap();
    assert_eq!(
        r.key_last_usage().unwrap().operation().map(|o| o.as_str()),
        Some("GenerateDataKey")
    );
    assert_eq!(r.key_last_usage().unwrap().kms_request_id(), g.request_id());
    assert_code!(
        c.get_key_last_usage().key_id("alias/none").send().await,
        "NotFoundException"
    );
    s.stop().await;
}
