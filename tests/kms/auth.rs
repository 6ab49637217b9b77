use aws_sdk_kms::primitives::Blob;

use crate::assert_code;
use crate::common::{self, TestServer};

#[tokio::test]
async fn bad_credentials_are_refused_with_aws_codes() {
    let s = TestServer::start().await;
    let wrong_secret = s.client_as(
        common::ACCESS_KEY_ID,
        "wrong-secret-wrong-secret-wrong-secret00",
        "us-east-1",
    );
    assert_code!(
        wrong_secret.list_keys().send().await,
        "InvalidSignatureException"
    );
    let unknown = s.client_as("AKIAUNKNOWNUNKNOWN00", common::SECRET, "us-east-1");
    assert_code!(
        unknown.list_keys().send().await,
        "UnrecognizedClientException"
    );
    // The good client still works, and a region is its own namespace.
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
        s.client_in("ap-southeast-2")
            .decrypt()
            .ciphertext_blob(blob)
            .send()
            .await,
        "NotFoundException"
    );
    s.stop().await;
}
