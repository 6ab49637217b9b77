use std::sync::Arc;

use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use keyfort_core::clock::{Clock, DAY_MS, ManualClock};

use crate::assert_code;
use crate::common::{self, TestServer};

#[tokio::test]
async fn create_and_describe_key() {
    let s = TestServer::start().await;
    let c = s.client();
    let created = c
        .create_key()
        .description("app key")
        .tags(
            Tag::builder()
                .tag_key("team")
                .tag_value("core")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let m = created.key_metadata().unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(m.key_spec(), Some(&KeySpec::SymmetricDefault));
    assert_eq!(m.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(m.aws_account_id(), Some(common::ACCOUNT));
    assert_eq!(m.description(), Some("app key"));
    assert!(m.enabled());
    assert_eq!(m.multi_region(), Some(false));
    assert_eq!(m.current_key_material_id().map(str::len), Some(64));
    let id = m.key_id().to_owned();
    assert_eq!(
        m.arn(),
        Some(format!("arn:aws:kms:us-east-1:111122223333:key/{id}").as_str())
    );
    assert!(m.creation_date().is_some());

    for key in [id.clone(), m.arn().unwrap().to_owned()] {
        let d = c.describe_key().key_id(key).send().await.unwrap();
        assert_eq!(d.key_metadata().unwrap().key_id(), id);
        assert_eq!(
            d.key_metadata().unwrap().encryption_algorithms(),
            &[aws_sdk_kms::types::EncryptionAlgorithmSpec::SymmetricDefault]
        );
    }
    assert_code!(
        c.describe_key()
            .key_id("11111111-2222-3333-4444-555555555555")
            .send()
            .await,
        "NotFoundException"
    );
    assert_code!(
        c.describe_key().key_id("not-a-key").send().await,
        "NotFoundException"
    );
    assert_code!(
        c.describe_key()
            .key_id("arn:aws:kms:us-east-1:1:key/x")
            .send()
            .await,
        "InvalidArnException"
    );
    s.stop().await;
}

#[tokio::test]
async fn unsupported_specs_and_options_are_refused() {
    let s = TestServer::start().await;
    let c = s.client();
    assert_code!(
        c.create_key()
            .key_spec(KeySpec::Sm2)
            .key_usage(KeyUsageType::SignVerify)
            .send()
            .await,
        "UnsupportedOperationException"
    );
    assert_code!(
        c.create_key().key_spec(KeySpec::Hmac256).send().await,
        "ValidationException"
    );
    assert_code!(
        c.create_key()
            .key_spec(KeySpec::EccSecgP256K1)
            .key_usage(KeyUsageType::KeyAgreement)
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.create_key()
            .key_usage(KeyUsageType::SignVerify)
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.create_key().multi_region(true).send().await,
        "UnsupportedOperationException"
    );
    assert_code!(
        c.create_key()
            .origin(aws_sdk_kms::types::OriginType::AwsCloudhsm)
            .send()
            .await,
        "UnsupportedOperationException"
    );
    assert_code!(
        c.create_key().custom_key_store_id("cks-1234").send().await,
        "CustomKeyStoreNotFoundException"
    );
    assert_code!(
        c.create_key().policy("{not json").send().await,
        "MalformedPolicyDocumentException"
    );
    assert_code!(
        c.create_key().description("x".repeat(8193)).send().await,
        "ValidationException"
    );
    s.stop().await;
}

#[tokio::test]
async fn list_keys_paginates_and_is_per_region() {
    let s = TestServer::start().await;
    let c = s.client();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            c.create_key()
                .send()
                .await
                .unwrap()
                .key_metadata()
                .unwrap()
                .key_id()
                .to_owned(),
        );
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = c
            .list_keys()
            .limit(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        assert!(page.keys().len() <= 2);
        for k in page.keys() {
            assert_eq!(
                k.key_arn().unwrap(),
                format!(
                    "arn:aws:kms:us-east-1:111122223333:key/{}",
                    k.key_id().unwrap()
                )
            );
            seen.push(k.key_id().unwrap().to_owned());
        }
        if !page.truncated() {
            assert!(page.next_marker().is_none());
            break;
        }
        marker = page.next_marker().map(str::to_owned);
    }
    assert_eq!(seen, ids);
    let other = s.client_in("eu-west-1");
    assert!(other.list_keys().send().await.unwrap().keys().is_empty());
    assert_code!(
        other.describe_key().key_id(&ids[0]).send().await,
        "NotFoundException"
    );
    assert_code!(
        c.list_keys().marker("garbage").send().await,
        "InvalidMarkerException"
    );
    assert_code!(c.list_keys().limit(0).send().await, "ValidationException");
    assert_code!(
        c.list_keys().limit(1001).send().await,
        "ValidationException"
    );
    s.stop().await;
}

#[tokio::test]
async fn enable_disable_and_description() {
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
    c.disable_key().key_id(&id).send().await.unwrap();
    let m = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        m.key_metadata().unwrap().key_state(),
        Some(&KeyState::Disabled)
    );
    assert!(!m.key_metadata().unwrap().enabled());
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(b"x".to_vec().into())
            .send()
            .await,
        "DisabledException"
    );
    c.disable_key().key_id(&id).send().await.unwrap();
    c.enable_key().key_id(&id).send().await.unwrap();
    c.encrypt()
        .key_id(&id)
        .plaintext(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    c.update_key_description()
        .key_id(&id)
        .description("new words")
        .send()
        .await
        .unwrap();
    let m = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(m.key_metadata().unwrap().description(), Some("new words"));
    s.stop().await;
}

#[tokio::test]
async fn scheduled_deletion_refuses_use_and_deletes_on_time() {
    let clock = Arc::new(ManualClock::new());
    let s = TestServer::start_with_clock(clock.clone()).await;
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
    c.create_alias()
        .alias_name("alias/doomed")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let blob = c
        .encrypt()
        .key_id(&id)
        .plaintext(b"bye".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_code!(
        c.schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(6)
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.schedule_key_deletion()
            .key_id(&id)
            .pending_window_in_days(31)
            .send()
            .await,
        "ValidationException"
    );
    let r = c
        .schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(r.key_state(), Some(&KeyState::PendingDeletion));
    assert_eq!(r.pending_window_in_days(), Some(7));
    let deletion = r.deletion_date().unwrap().secs();
    assert!((deletion * 1000 - (clock.now_ms() + 7 * DAY_MS)).abs() < 2000);
    let m = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        m.key_metadata().unwrap().pending_deletion_window_in_days(),
        Some(7)
    );
    assert!(m.key_metadata().unwrap().deletion_date().is_some());
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(b"x".to_vec().into())
            .send()
            .await,
        "KMSInvalidStateException"
    );
    assert_code!(
        c.decrypt()
            .ciphertext_blob(blob.ciphertext_blob().unwrap().clone())
            .send()
            .await,
        "KMSInvalidStateException"
    );
    assert_code!(
        c.enable_key().key_id(&id).send().await,
        "KMSInvalidStateException"
    );
    assert_code!(
        c.schedule_key_deletion().key_id(&id).send().await,
        "KMSInvalidStateException"
    );
    assert_code!(
        c.update_key_description()
            .key_id(&id)
            .description("x")
            .send()
            .await,
        "KMSInvalidStateException"
    );

    // Cancel, then schedule again with the default window (30 days).
    let r = c.cancel_key_deletion().key_id(&id).send().await.unwrap();
    assert!(r.key_id().unwrap().ends_with(&id));
    let m = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        m.key_metadata().unwrap().key_state(),
        Some(&KeyState::Disabled)
    );
    assert_code!(
        c.cancel_key_deletion().key_id(&id).send().await,
        "KMSInvalidStateException"
    );
    let r = c.schedule_key_deletion().key_id(&id).send().await.unwrap();
    assert_eq!(r.pending_window_in_days(), Some(30));

    clock.advance_ms(29 * DAY_MS);
    assert!(s.kms.run_due_deletions().unwrap().is_empty());
    c.describe_key().key_id(&id).send().await.unwrap();
    clock.advance_ms(DAY_MS + 1000);
    assert_eq!(
        s.kms.run_due_deletions().unwrap(),
        vec![format!("arn:aws:kms:us-east-1:111122223333:key/{id}")]
    );
    assert_code!(
        c.describe_key().key_id(&id).send().await,
        "NotFoundException"
    );
    assert_code!(
        c.describe_key().key_id("alias/doomed").send().await,
        "NotFoundException"
    );
    assert!(c.list_aliases().send().await.unwrap().aliases().is_empty());
    assert_code!(
        c.decrypt()
            .ciphertext_blob(blob.ciphertext_blob().unwrap().clone())
            .send()
            .await,
        "NotFoundException"
    );
    s.stop().await;
}
