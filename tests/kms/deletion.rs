//! Scheduled deletion end to end, through the server's job function: a key pending
//! deletion refuses use, and when its date passes it is gone with its aliases and its
//! sealed material (not only a flag), for generated, rotated and imported-origin keys;
//! the deletion is a DeleteKey service event in the audit trail.

use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::OriginType;
use keyfort_core::clock::{DAY_MS, ManualClock};
use keyfort_core::store::Store;

use crate::assert_code;
use crate::common::TestServer;

fn file_contains(path: &std::path::Path, needle: &[u8]) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => bytes.windows(needle.len()).any(|w| w == needle),
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deletion_destroys_material_aliases_and_is_recorded() {
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
    c.rotate_key_on_demand().key_id(&id).send().await.unwrap();
    c.create_alias()
        .alias_name("alias/e2e-doomed")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let blob = c
        .encrypt()
        .key_id("alias/e2e-doomed")
        .plaintext(Blob::new(b"gone soon".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    let external = c
        .create_key()
        .origin(OriginType::External)
        .send()
        .await
        .unwrap();
    let ext_id = external.key_metadata().unwrap().key_id().to_owned();
    let ext_arn = external.key_metadata().unwrap().arn().unwrap().to_owned();

    // The sealed material as stored, to look for on disk afterwards.
    let db = s.dir.path().join("keyfort.db");
    let store = keyfort_store::SqliteStore::open(&db).unwrap();
    let record = store.get_key("us-east-1", &id).unwrap().unwrap();
    assert_eq!(record.backing_keys.len(), 2);
    let sealed: Vec<Vec<u8>> = record
        .backing_keys
        .iter()
        .map(|b| b.sealed.clone())
        .collect();
    store.checkpoint().unwrap();
    assert!(
        sealed.iter().all(|x| file_contains(&db, x)),
        "material is in the file"
    );

    for k in [&id, &ext_id] {
        c.schedule_key_deletion()
            .key_id(k)
            .pending_window_in_days(7)
            .send()
            .await
            .unwrap();
    }
    // Pending deletion refuses use, by id and by alias.
    assert_code!(
        c.decrypt().ciphertext_blob(blob.clone()).send().await,
        "KMSInvalidStateException"
    );
    assert_code!(
        c.encrypt()
            .key_id("alias/e2e-doomed")
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await,
        "KMSInvalidStateException"
    );
    assert_code!(
        c.rotate_key_on_demand().key_id(&id).send().await,
        "KMSInvalidStateException"
    );
    assert_code!(
        c.get_parameters_for_import()
            .key_id(&ext_id)
            .wrapping_algorithm(aws_sdk_kms::types::AlgorithmSpec::RsaesOaepSha256)
            .wrapping_key_spec(aws_sdk_kms::types::WrappingKeySpec::Rsa2048)
            .send()
            .await,
        "KMSInvalidStateException"
    );

    // A day early: nothing happens.
    clock.advance_ms(6 * DAY_MS);
    assert!(
        keyfort_server::jobs::run_deletions_once(&s.kms, Some(&s.audit))
            .await
            .is_empty()
    );
    clock.advance_ms(DAY_MS + 1000);
    let mut deleted = keyfort_server::jobs::run_deletions_once(&s.kms, Some(&s.audit)).await;
    deleted.sort();
    let mut want = vec![record.arn(), ext_arn.clone()];
    want.sort();
    assert_eq!(deleted, want);

    assert_code!(
        c.describe_key().key_id(&id).send().await,
        "NotFoundException"
    );
    assert_code!(
        c.describe_key().key_id(&ext_id).send().await,
        "NotFoundException"
    );
    assert_code!(
        c.describe_key().key_id("alias/e2e-doomed").send().await,
        "NotFoundException"
    );
    assert_code!(
        c.decrypt().ciphertext_blob(blob).send().await,
        "NotFoundException"
    );
    let aliases = c.list_aliases().send().await.unwrap();
    assert!(
        aliases
            .aliases()
            .iter()
            .all(|a| a.alias_name() != Some("alias/e2e-doomed"))
    );

    // The material is gone from the database file and its WAL, not only flagged.
    assert_eq!(store.get_key("us-east-1", &id).unwrap(), None);
    store.checkpoint().unwrap();
    for x in &sealed {
        assert!(
            !file_contains(&db, x),
            "destroyed material still in the file"
        );
        assert!(!file_contains(&s.dir.path().join("keyfort.db-wal"), x));
    }

    // Recorded as service events.
    let store_a = s.audit.store();
    store_a.maintain().unwrap();
    let events: Vec<(String, String)> = store_a
        .records(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|r| r.event_name == "DeleteKey")
        .map(|r| {
            (
                r.event_name,
                r.resources.first().map(|x| x.1.clone()).unwrap_or_default(),
            )
        })
        .collect();
    assert!(events.iter().any(|(_, r)| r == &record.arn()), "{events:?}");
    assert!(events.iter().any(|(_, r)| r == &ext_arn), "{events:?}");
    s.stop().await;
}
