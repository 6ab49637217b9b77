//! AWS managed keys (`alias/aws/<service>`) and keyfort's AWS owned keys.

use std::sync::Arc;

use aws_sdk_kms::types::{KeyManagerType, KeyState, Tag};
use keyfort_core::clock::{DAY_MS, ManualClock};

use crate::assert_code;
use crate::common::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn aws_managed_key_is_made_on_first_use_and_cannot_be_changed() {
    let clock = Arc::new(ManualClock::new());
    let s = TestServer::start_with_clock(clock.clone()).await;
    let c = s.client();
    // keyfort's own keys (the audit signing key is in use by now) are not KMS keys.
    assert!(c.list_keys().send().await.unwrap().keys().is_empty());
    assert!(c.list_aliases().send().await.unwrap().aliases().is_empty());

    let d = c
        .describe_key()
        .key_id("alias/aws/s3")
        .send()
        .await
        .unwrap();
    let m = d.key_metadata().unwrap();
    let id = m.key_id().to_owned();
    let arn = m.arn().unwrap().to_owned();
    assert_eq!(m.key_manager(), Some(&KeyManagerType::Aws));
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert!(m.description().unwrap().contains("s3"));
    // The same key every time, listed with its alias.
    let again = c
        .describe_key()
        .key_id("alias/aws/s3")
        .send()
        .await
        .unwrap();
    assert_eq!(again.key_metadata().unwrap().key_id(), id);
    let keys = c.list_keys().send().await.unwrap();
    assert_eq!(keys.keys().len(), 1);
    let aliases = c.list_aliases().send().await.unwrap();
    assert_eq!(aliases.aliases().len(), 1);
    assert_eq!(aliases.aliases()[0].alias_name(), Some("alias/aws/s3"));
    assert_eq!(aliases.aliases()[0].target_key_id(), Some(id.as_str()));

    // Not usable for data directly: its policy allows that only through the service
    // (kms:ViaService), and a direct call has none.
    let denied = c
        .generate_data_key()
        .key_id("alias/aws/s3")
        .number_of_bytes(32)
        .send()
        .await
        .unwrap_err();
    assert_eq!(crate::common::code(&denied), "AccessDeniedException");
    assert!(format!("{denied:?}").contains(&arn));

    // Its policy: use through S3 in this region by this account; metadata for the account.
    let p = c.get_key_policy().key_id(&id).send().await.unwrap();
    let policy: serde_json::Value = serde_json::from_str(p.policy().unwrap()).unwrap();
    let cond = &policy["Statement"][0]["Condition"]["StringEquals"];
    assert_eq!(cond["kms:ViaService"], "s3.us-east-1.amazonaws.com");
    assert_eq!(cond["kms:CallerAccount"], crate::common::ACCOUNT);
    // Rotation is always on, yearly.
    let st = c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(st.key_rotation_enabled());
    assert_eq!(st.rotation_period_in_days(), Some(365));

    // Customers cannot change it.
    let denied = "AccessDeniedException";
    assert_code!(
        c.put_key_policy()
            .key_id(&id)
            .policy(p.policy().unwrap())
            .send()
            .await,
        denied
    );
    assert_code!(c.disable_key().key_id(&id).send().await, denied);
    assert_code!(c.enable_key().key_id(&id).send().await, denied);
    assert_code!(c.schedule_key_deletion().key_id(&id).send().await, denied);
    assert_code!(c.cancel_key_deletion().key_id(&id).send().await, denied);
    assert_code!(
        c.update_key_description()
            .key_id(&id)
            .description("mine now")
            .send()
            .await,
        denied
    );
    assert_code!(
        c.tag_resource()
            .key_id(&id)
            .tags(Tag::builder().tag_key("k").tag_value("v").build().unwrap())
            .send()
            .await,
        denied
    );
    assert_code!(
        c.untag_resource().key_id(&id).tag_keys("k").send().await,
        denied
    );
    assert_code!(c.enable_key_rotation().key_id(&id).send().await, denied);
    assert_code!(c.disable_key_rotation().key_id(&id).send().await, denied);
    assert_code!(c.rotate_key_on_demand().key_id(&id).send().await, denied);
    assert_code!(
        c.create_alias()
            .alias_name("alias/my-s3")
            .target_key_id(&id)
            .send()
            .await,
        denied
    );
    assert_code!(
        c.delete_alias().alias_name("alias/aws/s3").send().await,
        "InvalidAliasNameException"
    );
    assert_code!(
        c.create_alias()
            .alias_name("alias/aws/mine")
            .target_key_id(&id)
            .send()
            .await,
        "InvalidAliasNameException"
    );
    let m = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        m.key_metadata().unwrap().key_state(),
        Some(&KeyState::Enabled)
    );

    // Unknown services have no managed key; other regions get their own.
    assert_code!(
        c.describe_key()
            .key_id("alias/aws/not-a-service")
            .send()
            .await,
        "NotFoundException"
    );
    let west = s.client_in("us-west-2");
    let w = west
        .describe_key()
        .key_id("alias/aws/s3")
        .send()
        .await
        .unwrap();
    let w = w.key_metadata().unwrap().arn().unwrap();
    assert!(!w.contains(&id));
    assert!(w.contains(":us-west-2:"));

    // The yearly rotation happens on its own.
    clock.advance_ms(366 * DAY_MS);
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert!(run.rotated.contains(&arn), "{run:?}");
    let r = c.list_key_rotations().key_id(&id).send().await.unwrap();
    assert_eq!(r.rotations().len(), 1);
    s.stop().await;
}

/// Two nodes on one store that both make the same AWS managed key end up with one key.
#[tokio::test(flavor = "multi_thread")]
async fn nodes_racing_to_make_a_managed_key_make_one() {
    let s = TestServer::start().await;
    let (root, _) =
        keyfort_crypto::RootKey::load_or_create(&s.dir.path().join("root.key")).unwrap();
    let store = keyfort_store::SqliteStore::open(&s.dir.path().join("keyfort.db")).unwrap();
    let other = Arc::new(keyfort_core::Kms::new(
        Arc::new(store),
        root,
        keyfort_server::bootstrap::system_clock(),
    ));
    let principal = keyfort_core::Principal::root(
        keyfort_core::model::AccountId::parse(crate::common::ACCOUNT).unwrap(),
        crate::common::ACCESS_KEY_ID,
    );
    let describe = |kms: Arc<keyfort_core::Kms>, principal: keyfort_core::Principal| {
        move || {
            let log = keyfort_core::ResourceLog::default();
            let caller = keyfort_core::Caller {
                principal: &principal,
                region: "us-east-1",
                resources: &log,
                source_ip: None,
                secure_transport: false,
                via_service: None,
            };
            let op =
                keyfort_core::api::parse("DescribeKey", br#"{"KeyId":"alias/aws/sqs"}"#).unwrap();
            let reply: serde_json::Value =
                serde_json::from_slice(&kms.execute(&caller, op).unwrap()).unwrap();
            reply["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
        }
    };
    let (a, b) = tokio::join!(
        tokio::task::spawn_blocking(describe(Arc::clone(&s.kms), principal.clone())),
        tokio::task::spawn_blocking(describe(other, principal)),
    );
    assert_eq!(a.unwrap(), b.unwrap());
    let c = s.client();
    assert_eq!(c.list_keys().send().await.unwrap().keys().len(), 1);
    let aliases = c.list_aliases().send().await.unwrap();
    assert_eq!(aliases.aliases().len(), 1);
    s.stop().await;
}
