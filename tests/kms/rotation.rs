//! Key rotation through the SDK: on demand, automatic (driven by a manual clock and the
//! server's scheduler function), ListKeyRotations, the limits and the refusals.

use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    IncludeKeyMaterial, KeyMaterialState, KeySpec, KeyUsageType, RotationType,
};
use keyfort_core::clock::{Clock, DAY_MS, ManualClock};

use crate::assert_code;
use crate::common::TestServer;

/// On-demand rotations in the ciphertext test.
const ROTATIONS: usize = 6;

async fn current_material(c: &aws_sdk_kms::Client, id: &str) -> String {
    c.describe_key()
        .key_id(id)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .current_key_material_id()
        .unwrap()
        .to_owned()
}

async fn encrypt(c: &aws_sdk_kms::Client, id: &str, text: &[u8]) -> Blob {
    c.encrypt()
        .key_id(id)
        .plaintext(Blob::new(text.to_vec()))
        .encryption_context("purpose", "rotation")
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone()
}

/// (plaintext, material id) that Decrypt returns.
async fn decrypt(c: &aws_sdk_kms::Client, blob: &Blob) -> (Vec<u8>, String) {
    let d = c
        .decrypt()
        .ciphertext_blob(blob.clone())
        .encryption_context("purpose", "rotation")
        .send()
        .await
        .unwrap();
    (
        d.plaintext().unwrap().as_ref().to_vec(),
        d.key_material_id().unwrap().to_owned(),
    )
}

/// The audit events keyfort recorded on its own (name, resource ARN).
fn service_events(s: &TestServer) -> Vec<(String, String)> {
    let store = s.audit.store();
    store.maintain().unwrap();
    store
        .records(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|r| r.username.is_none() && r.access_key_id.is_none())
        .map(|r| {
            (
                r.event_name.clone(),
                r.resources.first().map(|x| x.1.clone()).unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_old_ciphertext_decrypts_after_many_rotations() {
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
    let mut made = Vec::new();
    let mut materials = vec![current_material(&c, &id).await];
    for i in 0..=ROTATIONS {
        let text = format!("message under material {i}").into_bytes();
        made.push((encrypt(&c, &id, &text).await, text, materials[i].clone()));
        if i < ROTATIONS {
            let r = c.rotate_key_on_demand().key_id(&id).send().await.unwrap();
            assert_eq!(r.key_id(), Some(id.as_str()));
            let now = current_material(&c, &id).await;
            assert!(!materials.contains(&now), "rotation made a new material id");
            materials.push(now);
        }
    }
    let newest = materials.last().unwrap().clone();
    for (blob, text, material) in &made {
        let (plain, used) = decrypt(&c, blob).await;
        assert_eq!(&plain, text);
        assert_eq!(
            &used, material,
            "each blob names the material it was made with"
        );
        // ReEncrypt moves it to the newest material.
        let re = c
            .re_encrypt()
            .ciphertext_blob(blob.clone())
            .source_encryption_context("purpose", "rotation")
            .destination_key_id(&id)
            .destination_encryption_context("purpose", "rotation")
            .send()
            .await
            .unwrap();
        assert_eq!(re.source_key_material_id(), Some(material.as_str()));
        assert_eq!(re.destination_key_material_id(), Some(newest.as_str()));
        let (plain, used) = decrypt(&c, re.ciphertext_blob().unwrap()).await;
        assert_eq!((&plain, &used), (text, &newest));
    }
    // New encryptions use the newest material.
    let (_, used) = decrypt(&c, &encrypt(&c, &id, b"fresh").await).await;
    assert_eq!(used, newest);

    // ListKeyRotations: rotations only by default, everything with ALL_KEY_MATERIAL,
    // oldest first, paginated.
    let r = c.list_key_rotations().key_id(&id).send().await.unwrap();
    let listed: Vec<String> = r
        .rotations()
        .iter()
        .map(|e| e.key_material_id().unwrap().to_owned())
        .collect();
    assert_eq!(listed, materials[1..].to_vec());
    assert!(
        r.rotations()
            .iter()
            .all(|e| e.rotation_type() == Some(&RotationType::OnDemand)
                && e.rotation_date().is_some())
    );
    let mut all = Vec::new();
    let mut marker = None;
    loop {
        let page = c
            .list_key_rotations()
            .key_id(&id)
            .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
            .limit(2)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        assert!(page.rotations().len() <= 2);
        all.extend(page.rotations().iter().cloned());
        if !page.truncated() {
            break;
        }
        marker = page.next_marker().map(str::to_owned);
    }
    let ids: Vec<&str> = all.iter().map(|e| e.key_material_id().unwrap()).collect();
    assert_eq!(
        ids,
        materials.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(
        all[0].rotation_type(),
        None,
        "the first material was not a rotation"
    );
    let states: Vec<&KeyMaterialState> = all
        .iter()
        .map(|e| e.key_material_state().unwrap())
        .collect();
    assert_eq!(states.last(), Some(&&KeyMaterialState::Current));
    assert!(
        states[..states.len() - 1]
            .iter()
            .all(|s| **s == KeyMaterialState::NonCurrent)
    );
    assert_code!(
        c.list_key_rotations()
            .key_id(&id)
            .marker("not-a-marker")
            .send()
            .await,
        "InvalidMarkerException"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn on_demand_rotation_limit_and_refusals() {
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
    for _ in 0..keyfort_core::service::MAX_ON_DEMAND_ROTATIONS {
        c.rotate_key_on_demand().key_id(&id).send().await.unwrap();
    }
    assert_code!(
        c.rotate_key_on_demand().key_id(&id).send().await,
        "LimitExceededException"
    );
    let rotations = c.list_key_rotations().key_id(&id).send().await.unwrap();
    assert_eq!(
        rotations.rotations().len(),
        keyfort_core::service::MAX_ON_DEMAND_ROTATIONS
    );

    // Asymmetric and HMAC keys do not rotate.
    for (spec, usage) in [
        (KeySpec::Rsa2048, KeyUsageType::EncryptDecrypt),
        (KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac),
        (KeySpec::EccNistP256, KeyUsageType::SignVerify),
    ] {
        let k = c
            .create_key()
            .key_spec(spec)
            .key_usage(usage)
            .send()
            .await
            .unwrap();
        let kid = k.key_metadata().unwrap().key_id();
        assert_code!(
            c.enable_key_rotation().key_id(kid).send().await,
            "UnsupportedOperationException"
        );
        assert_code!(
            c.rotate_key_on_demand().key_id(kid).send().await,
            "UnsupportedOperationException"
        );
        assert_code!(
            c.get_key_rotation_status().key_id(kid).send().await,
            "UnsupportedOperationException"
        );
        assert_code!(
            c.list_key_rotations().key_id(kid).send().await,
            "UnsupportedOperationException"
        );
    }
    // Period limits.
    for bad in [89, 2561, 0] {
        assert_code!(
            c.enable_key_rotation()
                .key_id(&id)
                .rotation_period_in_days(bad)
                .send()
                .await,
            "ValidationException"
        );
    }
    // Disabled and pending-deletion keys.
    c.disable_key().key_id(&id).send().await.unwrap();
    assert_code!(
        c.enable_key_rotation().key_id(&id).send().await,
        "DisabledException"
    );
    assert_code!(
        c.rotate_key_on_demand().key_id(&id).send().await,
        "DisabledException"
    );
    c.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    assert_code!(
        c.enable_key_rotation().key_id(&id).send().await,
        "KMSInvalidStateException"
    );
    assert_code!(
        c.rotate_key_on_demand()
            .key_id("00000000-0000-4000-8000-000000000000")
            .send()
            .await,
        "NotFoundException"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn automatic_rotation_happens_on_time_and_is_recorded() {
    let clock = Arc::new(ManualClock::new());
    let s = TestServer::start_with_clock(clock.clone()).await;
    let c = s.client();
    let meta = c.create_key().send().await.unwrap();
    let id = meta.key_metadata().unwrap().key_id().to_owned();
    let arn = meta.key_metadata().unwrap().arn().unwrap().to_owned();
    let first = current_material(&c, &id).await;
    let before = encrypt(&c, &id, b"before automatic rotation").await;

    let st = c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(!st.key_rotation_enabled());
    assert_eq!(st.next_rotation_date(), None);

    c.enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let enabled_at = clock.now_ms();
    let st = c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(st.key_rotation_enabled());
    assert_eq!(st.rotation_period_in_days(), Some(90));
    let next = st.next_rotation_date().unwrap().to_millis().unwrap();
    assert!((next - (enabled_at + 90 * DAY_MS)).abs() < 2000, "{next}");
    // The default period is 365 days; changing it keeps the schedule's start.
    c.enable_key_rotation().key_id(&id).send().await.unwrap();
    let st = c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(st.rotation_period_in_days(), Some(365));
    c.enable_key_rotation()
        .key_id(&id)
        .rotation_period_in_days(90)
        .send()
        .await
        .unwrap();
    let st = c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(st.next_rotation_date().unwrap().to_millis().unwrap(), next);

    // Not due yet: nothing happens.
    clock.advance_ms(89 * DAY_MS);
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert!(run.rotated.is_empty());
    assert_eq!(current_material(&c, &id).await, first);

    // Within 20 minutes of the automatic rotation, on-demand rotation is refused.
    clock.advance_ms(next - clock.now_ms() - 10 * 60 * 1000);
    assert_code!(
        c.rotate_key_on_demand().key_id(&id).send().await,
        "ConflictException"
    );

    // Due: rotated once, recorded as a service event, next date one period later.
    clock.advance_ms(11 * 60 * 1000);
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert_eq!(run.rotated, vec![arn.clone()]);
    let second = current_material(&c, &id).await;
    assert_ne!(second, first);
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert!(
        run.rotated.is_empty(),
        "a rotation happens once per due date"
    );
    let st = c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        st.next_rotation_date().unwrap().to_millis().unwrap(),
        next + 90 * DAY_MS
    );
    let events = service_events(&s);
    assert_eq!(
        events
            .iter()
            .filter(|(n, r)| n == "RotateKey" && r == &arn)
            .count(),
        1,
        "{events:?}"
    );
    let rotations = c.list_key_rotations().key_id(&id).send().await.unwrap();
    assert_eq!(rotations.rotations().len(), 1);
    assert_eq!(
        rotations.rotations()[0].rotation_type(),
        Some(&RotationType::Automatic)
    );
    assert_eq!(decrypt(&c, &before).await.0, b"before automatic rotation");
    assert_eq!(
        decrypt(&c, &encrypt(&c, &id, b"after").await).await.1,
        second
    );

    // A disabled key is not rotated while disabled; once enabled again, it is.
    c.disable_key().key_id(&id).send().await.unwrap();
    clock.advance_ms(91 * DAY_MS);
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert!(run.rotated.is_empty());
    c.enable_key().key_id(&id).send().await.unwrap();
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert_eq!(run.rotated, vec![arn.clone()]);
    // The late rotation keeps the schedule's rhythm.
    let st = c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        st.next_rotation_date().unwrap().to_millis().unwrap(),
        next + 180 * DAY_MS
    );
    // After more than a whole missed period, the schedule restarts from now.
    c.disable_key().key_id(&id).send().await.unwrap();
    clock.advance_ms(300 * DAY_MS);
    c.enable_key().key_id(&id).send().await.unwrap();
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert_eq!(run.rotated, vec![arn.clone()]);
    let st = c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    let next3 = st.next_rotation_date().unwrap().to_millis().unwrap();
    assert!((next3 - (clock.now_ms() + 90 * DAY_MS)).abs() < 2000);

    // DisableKeyRotation stops it.
    c.disable_key_rotation().key_id(&id).send().await.unwrap();
    let st = c
        .get_key_rotation_status()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert!(!st.key_rotation_enabled());
    assert_eq!(st.rotation_period_in_days(), None);
    clock.advance_ms(400 * DAY_MS);
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert!(run.rotated.is_empty());
    s.stop().await;
}

/// Two keyfort nodes sharing one store: a due rotation happens exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_rotate_a_due_key_once() {
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
    c.enable_key_rotation().key_id(&id).send().await.unwrap();
    clock.advance_ms(366 * DAY_MS);
    // A second node: its own Kms (own cache and writer lock) over the same database.
    let (root, _) =
        keyfort_crypto::RootKey::load_or_create(&s.dir.path().join("root.key")).unwrap();
    let store: Arc<dyn keyfort_core::store::Store> =
        Arc::new(keyfort_store::SqliteStore::open(&s.dir.path().join("keyfort.db")).unwrap());
    let other = Arc::new(keyfort_core::Kms::new(
        Arc::clone(&store),
        root,
        clock.clone() as Arc<dyn Clock>,
    ));
    let (a, b) = tokio::join!(
        tokio::task::spawn_blocking({
            let k = Arc::clone(&s.kms);
            move || k.run_due_rotations().unwrap().len()
        }),
        tokio::task::spawn_blocking({
            let k = Arc::clone(&other);
            move || k.run_due_rotations().unwrap().len()
        }),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "exactly one node rotated");
    // (Read the store: the losing node's cache is stale until cross-node cache
    // invalidation exists, which is the PostgreSQL work's.)
    let record = store.get_key("us-east-1", &id).unwrap().unwrap();
    assert_eq!(record.backing_keys.len(), 2);

    // The other node rotates on demand and encrypts under its new material: this node
    // decrypts it, rereading the key because its cache lacks that backing key (at most
    // once a second per key, so forged blobs cannot flood the store).
    let principal = keyfort_core::Principal::root(
        keyfort_core::model::AccountId::parse(crate::common::ACCOUNT).unwrap(),
        crate::common::ACCESS_KEY_ID,
    );
    let on_other = |op: &str, body: String| {
        let log = keyfort_core::ResourceLog::default();
        let caller = keyfort_core::Caller {
            principal: &principal,
            region: "us-east-1",
            resources: &log,
            source_ip: None,
            secure_transport: false,
            via_service: None,
        };
        let op = keyfort_core::api::parse(op, body.as_bytes()).unwrap();
        serde_json::from_slice::<serde_json::Value>(&other.execute(&caller, op).unwrap()).unwrap()
    };
    // Make sure this node has the key cached now, then let the other node move on.
    c.describe_key().key_id(&id).send().await.unwrap();
    on_other("RotateKeyOnDemand", format!(r#"{{"KeyId":"{id}"}}"#));
    let newest = store
        .get_key("us-east-1", &id)
        .unwrap()
        .unwrap()
        .current_backing_key()
        .map(|b| keyfort_core::model::hex(&b.id))
        .unwrap();
    let blob = on_other(
        "Encrypt",
        format!(r#"{{"KeyId":"{id}","Plaintext":"c2hhcmVk"}}"#),
    )["CiphertextBlob"]
        .as_str()
        .unwrap()
        .to_owned();
    let blob = Blob::new(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, blob).unwrap(),
    );
    clock.advance_ms(2000);
    let d = c.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(d.plaintext().unwrap().as_ref(), b"shared");
    assert_eq!(d.key_material_id(), Some(newest.as_str()));
    // The reread also moved this node's encryptions to the newest material.
    assert_eq!(current_material(&c, &id).await, newest);
    s.stop().await;
}
