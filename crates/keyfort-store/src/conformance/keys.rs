//! Keys and their backing keys.

use keyfort_core::model::{
    AccountId, BackingKeyRecord, KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, Origin, Tag,
};
use keyfort_core::store::{Page, Store, StoreError};

use super::{Failure, OTHER_REGION, REGION, account_id, alias, backing, key, main_account};

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

pub(super) fn key_round_trip(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let full = KeyRecord {
        description: "résumé \u{1F511} \"quoted\"\nline".to_owned(),
        state: KeyState::PendingDeletion,
        usage: KeyUsage::SignVerify,
        spec: KeySpec::EccNistP256,
        origin: Origin::External,
        manager: KeyManager::Aws,
        deletion_ms: Some(1_800_000_000_000),
        pending_window_days: Some(7),
        tags: vec![
            tag("z-first", "1"),
            tag("a-second", ""),
            tag("ключ", "значение"),
        ],
        backing_keys: vec![backing(3), backing(1), backing(2)],
        ..key(&account, REGION, "0f3c2e9e-6a57-4d0b-9c7e-1d2b3a4c5d6e")
    };
    store.create_key(&full)?;
    check_eq!(store.get_key(REGION, &full.id)?, Some(full.clone()));

    let bare = KeyRecord {
        description: String::new(),
        state: KeyState::PendingImport,
        policy: "{}".to_owned(),
        backing_keys: Vec::new(),
        ..key(&account, REGION, "mrk-0123456789abcdef0123456789abcdef")
    };
    store.create_key(&bare)?;
    check_eq!(store.get_key(REGION, &bare.id)?, Some(bare));

    check_eq!(store.get_key(OTHER_REGION, &full.id)?, None);
    check_eq!(store.get_key(REGION, "no-such-key")?, None);
    // Ids are exact, not case-folded.
    check_eq!(store.get_key(REGION, &full.id.to_uppercase())?, None);
    Ok(())
}

pub(super) fn key_conflict_changes_nothing(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let first = key(&account, REGION, "k1");
    store.create_key(&first)?;
    let second = KeyRecord {
        description: "second".to_owned(),
        backing_keys: vec![backing(2)],
        ..first.clone()
    };
    check_err!(store.create_key(&second), StoreError::Conflict);
    // The rejected create left no trace, not even its backing key.
    check_eq!(store.get_key(REGION, "k1")?, Some(first));
    Ok(())
}

pub(super) fn sealed_bytes_exact(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let every_byte: Vec<u8> = (0..=255u8).collect();
    // Large enough to spill into overflow pages in a page-based engine.
    let large: Vec<u8> = (0..10_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let k = KeyRecord {
        backing_keys: vec![
            BackingKeyRecord {
                id: [0; 32],
                sealed: every_byte,
                created_ms: 1,
                rotation_type: None,
                rotated_ms: None,
                import: None,
            },
            BackingKeyRecord {
                id: [0xff; 32],
                sealed: vec![0; 32],
                created_ms: 2,
                rotation_type: None,
                rotated_ms: None,
                import: None,
            },
            BackingKeyRecord {
                id: std::array::from_fn(|i| i as u8),
                sealed: large,
                created_ms: 3,
                rotation_type: None,
                rotated_ms: None,
                import: None,
            },
        ],
        ..key(&account, REGION, "k-bytes")
    };
    store.create_key(&k)?;
    let got = store.get_key(REGION, "k-bytes")?;
    check_eq!(got.map(|g| g.backing_keys), Some(k.backing_keys));
    Ok(())
}

pub(super) fn update_key_replaces_mutable_fields(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let original = KeyRecord {
        tags: vec![tag("a", "1"), tag("b", "2")],
        ..key(&account, REGION, "k1")
    };
    store.create_key(&original)?;
    let scheduled = KeyRecord {
        description: "retiring".to_owned(),
        state: KeyState::PendingDeletion,
        deletion_ms: Some(99_000),
        pending_window_days: Some(30),
        policy: r#"{"Statement":[{"Effect":"Deny"}]}"#.to_owned(),
        tags: vec![tag("b", "3")],
        ..original.clone()
    };
    store.update_key(&scheduled)?;
    check_eq!(store.get_key(REGION, "k1")?, Some(scheduled.clone()));

    // Cancelling the deletion clears the dates again.
    let restored = KeyRecord {
        state: KeyState::Disabled,
        deletion_ms: None,
        pending_window_days: None,
        tags: Vec::new(),
        ..scheduled
    };
    store.update_key(&restored)?;
    check_eq!(store.get_key(REGION, "k1")?, Some(restored));
    Ok(())
}

pub(super) fn update_missing_key(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    check_err!(
        store.update_key(&key(&account, REGION, "absent")),
        StoreError::Missing
    );
    check_eq!(store.get_key(REGION, "absent")?, None);
    store.create_key(&key(&account, REGION, "k1"))?;
    // Same id, other region: still absent there.
    check_err!(
        store.update_key(&key(&account, OTHER_REGION, "k1")),
        StoreError::Missing
    );
    check_eq!(store.get_key(OTHER_REGION, "k1")?, None);
    Ok(())
}

pub(super) fn backing_keys_append_in_order(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    // Ids deliberately not in creation order, so ordering by id would be caught.
    let (b0, b1, b2, b3, b4) = (backing(9), backing(4), backing(7), backing(1), backing(8));
    let mut k = KeyRecord {
        backing_keys: vec![b0.clone()],
        ..key(&account, REGION, "k1")
    };
    store.create_key(&k)?;
    let ids = |store: &dyn Store| -> Result<Vec<u8>, Failure> {
        let got = store.get_key(REGION, "k1")?;
        Ok(got
            .map(|g| g.backing_keys.iter().map(|b| b.id[0]).collect())
            .unwrap_or_default())
    };

    k.backing_keys = vec![b0.clone(), b1.clone()];
    store.update_key(&k)?;
    check_eq!(ids(store)?, vec![9, 4]);

    // Two new ones at once keep their given order.
    k.backing_keys = vec![b0.clone(), b1.clone(), b2.clone(), b3.clone()];
    store.update_key(&k)?;
    check_eq!(ids(store)?, vec![9, 4, 7, 1]);

    // Omitting stored ones deletes nothing; a stored one is never rewritten.
    let tampered = BackingKeyRecord {
        sealed: vec![0xee; 8],
        ..b1.clone()
    };
    k.backing_keys = vec![tampered, b4.clone()];
    store.update_key(&k)?;
    let got = store.get_key(REGION, "k1")?.map(|g| g.backing_keys);
    check_eq!(got, Some(vec![b0, b1, b2, b3, b4.clone()]));
    check_eq!(
        store
            .get_key(REGION, "k1")?
            .and_then(|g| g.current_backing_key().cloned()),
        Some(b4)
    );

    // An update with no backing keys keeps them all.
    k.backing_keys = Vec::new();
    store.update_key(&k)?;
    check_eq!(ids(store)?, vec![9, 4, 7, 1, 8]);
    Ok(())
}

pub(super) fn list_key_ids_pages(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let other_account = account_id("444455556666")?;
    for id in ["k3", "k1", "k5", "k2", "k4"] {
        store.create_key(&key(&account, REGION, id))?;
    }
    store.create_key(&key(&account, OTHER_REGION, "k0-other-region"))?;
    store.create_key(&key(&other_account, REGION, "k0-other-account"))?;

    let page = |after: Option<&str>, limit: usize| {
        store.list_key_ids(&account, REGION, Page { after, limit })
    };
    check_eq!(page(None, 100)?, ["k1", "k2", "k3", "k4", "k5"]);
    check_eq!(page(None, 5)?, ["k1", "k2", "k3", "k4", "k5"]);
    check_eq!(page(None, 1)?, ["k1"]);
    check_eq!(page(Some("k1"), 1)?, ["k2"]);
    check_eq!(page(Some("k1"), 2)?, ["k2", "k3"]);
    check_eq!(page(Some("k4"), 2)?, ["k5"]);
    check_eq!(page(Some("k5"), 2)?, Vec::<String>::new());
    check_eq!(page(Some("zzz"), 2)?, Vec::<String>::new());
    // `after` need not be an existing id; "" and "k" sort before every id.
    check_eq!(page(Some("k2a"), 10)?, ["k3", "k4", "k5"]);
    check_eq!(page(Some(""), 2)?, ["k1", "k2"]);
    check_eq!(page(Some("k"), 1)?, ["k1"]);
    check_eq!(page(None, 0)?, Vec::<String>::new());
    check_eq!(page(None, usize::MAX)?.len(), 5);

    // Walking page by page visits each id exactly once.
    let mut seen: Vec<String> = Vec::new();
    loop {
        let next = page(seen.last().map(String::as_str), 2)?;
        if next.is_empty() {
            break;
        }
        seen.extend(next);
    }
    check_eq!(seen, ["k1", "k2", "k3", "k4", "k5"]);

    check_eq!(
        store.list_key_ids(
            &account,
            OTHER_REGION,
            Page {
                after: None,
                limit: 10
            }
        )?,
        ["k0-other-region"]
    );
    check_eq!(
        store.list_key_ids(
            &account_id("999999999999")?,
            REGION,
            Page {
                after: None,
                limit: 10
            }
        )?,
        Vec::<String>::new()
    );
    Ok(())
}

fn pending(account: &AccountId, region: &str, id: &str, deletion_ms: i64) -> KeyRecord {
    KeyRecord {
        state: KeyState::PendingDeletion,
        deletion_ms: Some(deletion_ms),
        pending_window_days: Some(7),
        ..key(account, region, id)
    }
}

pub(super) fn keys_due_for_deletion_boundary(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    store.create_key(&pending(&account, REGION, "due-1000", 1_000))?;
    store.create_key(&pending(&account, REGION, "due-1001", 1_001))?;
    store.create_key(&pending(&account, OTHER_REGION, "due-1000-eu", 1_000))?;
    // A deletion date on a key in another state does not make it due.
    store.create_key(&KeyRecord {
        deletion_ms: Some(10),
        ..key(&account, REGION, "enabled-with-date")
    })?;
    store.create_key(&key(&account, REGION, "plain"))?;

    let due = |now: i64| -> Result<Vec<(String, String)>, Failure> {
        let mut v = store.keys_due_for_deletion(now)?;
        v.sort();
        Ok(v)
    };
    let pair = |region: &str, id: &str| (region.to_owned(), id.to_owned());
    check_eq!(due(999)?, vec![]);
    check_eq!(
        due(1_000)?,
        vec![pair(OTHER_REGION, "due-1000-eu"), pair(REGION, "due-1000")]
    );
    check_eq!(due(1_001)?.len(), 3);
    check_eq!(due(i64::MAX)?.len(), 3);
    check_eq!(due(i64::MIN)?, vec![]);

    // Cancelling the deletion removes it from the due list.
    store.update_key(&KeyRecord {
        state: KeyState::Disabled,
        deletion_ms: None,
        pending_window_days: None,
        ..pending(&account, REGION, "due-1000", 1_000)
    })?;
    check_eq!(due(1_000)?, vec![pair(OTHER_REGION, "due-1000-eu")]);
    Ok(())
}

pub(super) fn destroy_key_removes_everything(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let doomed = KeyRecord {
        backing_keys: vec![backing(1), backing(2)],
        ..pending(&account, REGION, "doomed", 1_000)
    };
    store.create_key(&doomed)?;
    store.create_key(&key(&account, REGION, "kept"))?;
    store.create_alias(&alias(&account, REGION, "alias/doomed-1", "doomed"))?;
    store.create_alias(&alias(&account, REGION, "alias/doomed-2", "doomed"))?;
    store.create_alias(&alias(&account, REGION, "alias/kept", "kept"))?;

    check!(store.destroy_key(REGION, "doomed")?);
    check_eq!(store.get_key(REGION, "doomed")?, None);
    check_eq!(store.get_alias(&account, REGION, "alias/doomed-1")?, None);
    check_eq!(store.get_alias(&account, REGION, "alias/doomed-2")?, None);
    check!(store.get_alias(&account, REGION, "alias/kept")?.is_some());
    check!(store.get_key(REGION, "kept")?.is_some());
    let page = Page {
        after: None,
        limit: 10,
    };
    check_eq!(store.list_key_ids(&account, REGION, page)?, ["kept"]);
    check_eq!(store.keys_due_for_deletion(i64::MAX)?, vec![]);
    check!(!store.destroy_key(REGION, "doomed")?);
    check!(!store.destroy_key(REGION, "never-existed")?);

    // The backing keys went too: a new key with the same id starts with none.
    let reborn = KeyRecord {
        backing_keys: Vec::new(),
        ..key(&account, REGION, "doomed")
    };
    store.create_key(&reborn)?;
    check_eq!(store.get_key(REGION, "doomed")?, Some(reborn));
    Ok(())
}
