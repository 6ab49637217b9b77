//! Rotation schedules, the rotation compare-and-set, and imported key material.

use keyfort_core::model::{
    BackingKeyRecord, ExpirationModel, ImportState, ImportedMaterial, KeyRecord, KeyState, Origin,
    RotationType,
};
use keyfort_core::store::Store;

use super::{Failure, OTHER_REGION, REGION, backing, key, main_account};

const DAY: i64 = 86_400_000;

pub(super) fn rotation_fields_round_trip(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let mut k = KeyRecord {
        rotation_period_days: Some(365),
        next_rotation_ms: Some(1_800_000_000_000),
        ..key(&account, REGION, "k-rot")
    };
    store.create_key(&k)?;
    check_eq!(store.get_key(REGION, "k-rot")?, Some(k.clone()));
    k.rotation_period_days = Some(90);
    k.next_rotation_ms = Some(1_700_000_000_000);
    k.backing_keys.push(BackingKeyRecord {
        rotation_type: Some(RotationType::OnDemand),
        rotated_ms: Some(1_750_000_000_000),
        ..backing(2)
    });
    store.update_key(&k)?;
    check_eq!(store.get_key(REGION, "k-rot")?, Some(k.clone()));
    k.rotation_period_days = None;
    k.next_rotation_ms = None;
    store.update_key(&k)?;
    check_eq!(store.get_key(REGION, "k-rot")?, Some(k));
    Ok(())
}

pub(super) fn rotate_key_is_compare_and_set(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let k = key(&account, REGION, "k-cas");
    store.create_key(&k)?;
    let first = k.backing_keys[0].id;
    let mut a = k.clone();
    a.backing_keys.push(BackingKeyRecord {
        rotation_type: Some(RotationType::Automatic),
        rotated_ms: Some(5),
        ..backing(2)
    });
    a.next_rotation_ms = Some(99);
    let mut b = k.clone();
    b.backing_keys.push(BackingKeyRecord {
        rotation_type: Some(RotationType::Automatic),
        rotated_ms: Some(6),
        ..backing(3)
    });
    // Two racers started from the same current backing key: only the first wins.
    check!(store.rotate_key(&a, &first)?);
    check!(!store.rotate_key(&b, &first)?);
    check_eq!(store.get_key(REGION, "k-cas")?, Some(a.clone()));
    // The winner's new material is now the one to start from.
    check!(store.rotate_key(&b, &[2; 32])?);
    let ids: Vec<[u8; 32]> = store
        .get_key(REGION, "k-cas")?
        .map(|g| g.backing_keys.iter().map(|b| b.id).collect())
        .unwrap_or_default();
    check_eq!(ids, vec![[1; 32], [2; 32], [3; 32]]);
    check!(!store.rotate_key(&key(&account, REGION, "absent"), &first)?);
    Ok(())
}

pub(super) fn keys_due_for_rotation_boundary(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let due = |id: &str, region: &str, next: Option<i64>, state: KeyState| KeyRecord {
        rotation_period_days: next.map(|_| 365),
        next_rotation_ms: next,
        state,
        ..key(&account, region, id)
    };
    store.create_key(&due("a", REGION, Some(100 * DAY), KeyState::Enabled))?;
    store.create_key(&due("b", OTHER_REGION, Some(50 * DAY), KeyState::Enabled))?;
    store.create_key(&due("c", REGION, Some(100 * DAY + 1), KeyState::Enabled))?;
    store.create_key(&due("d", REGION, Some(10 * DAY), KeyState::Disabled))?;
    store.create_key(&due("e", REGION, None, KeyState::Enabled))?;
    check_eq!(
        store.keys_due_for_rotation(100 * DAY)?,
        vec![
            (OTHER_REGION.to_owned(), "b".to_owned()),
            (REGION.to_owned(), "a".to_owned()),
        ]
    );
    check_eq!(
        store.keys_due_for_rotation(DAY)?,
        Vec::<(String, String)>::new()
    );
    Ok(())
}

fn imported(n: u8, valid_to_ms: Option<i64>, pending_rotation: bool) -> BackingKeyRecord {
    BackingKeyRecord {
        import: Some(ImportedMaterial {
            state: ImportState::Imported,
            expiration: if valid_to_ms.is_some() {
                ExpirationModel::Expires
            } else {
                ExpirationModel::DoesNotExpire
            },
            valid_to_ms,
            description: format!("material {n}"),
            pending_rotation,
        }),
        ..backing(n)
    }
}

pub(super) fn imported_material_round_trip_and_removal(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let mut k = KeyRecord {
        origin: Origin::External,
        backing_keys: vec![imported(1, Some(10 * DAY), false)],
        ..key(&account, REGION, "k-ext")
    };
    store.create_key(&k)?;
    check_eq!(store.get_key(REGION, "k-ext")?, Some(k.clone()));
    // New material pending rotation, then the first material is deleted.
    k.backing_keys.push(imported(2, None, true));
    store.update_key(&k)?;
    check_eq!(store.get_key(REGION, "k-ext")?, Some(k.clone()));
    k.backing_keys[0].sealed.clear();
    if let Some(i) = k.backing_keys[0].import.as_mut() {
        i.state = ImportState::PendingImport;
    }
    k.state = KeyState::PendingImport;
    store.update_key(&k)?;
    check_eq!(store.get_key(REGION, "k-ext")?, Some(k.clone()));
    // Reimport: the same id gets its sealed bytes back, with a new expiry.
    k.backing_keys[0] = imported(1, Some(20 * DAY), false);
    k.state = KeyState::Enabled;
    store.update_key(&k)?;
    check_eq!(store.get_key(REGION, "k-ext")?, Some(k.clone()));
    // Generated material is never rewritten through update_key.
    let mut g = key(&account, REGION, "k-gen");
    store.create_key(&g)?;
    g.backing_keys[0].sealed = vec![0xee; 4];
    store.update_key(&g)?;
    check_eq!(
        store.get_key(REGION, "k-gen")?.map(|r| r.backing_keys),
        Some(vec![backing(1)])
    );
    Ok(())
}

pub(super) fn keys_with_expired_material_boundary(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let ext = |id: &str, region: &str, b: Vec<BackingKeyRecord>| KeyRecord {
        origin: Origin::External,
        backing_keys: b,
        ..key(&account, region, id)
    };
    store.create_key(&ext("x1", REGION, vec![imported(1, Some(5 * DAY), false)]))?;
    store.create_key(&ext(
        "x2",
        OTHER_REGION,
        vec![imported(2, None, false), imported(3, Some(3 * DAY), true)],
    ))?;
    store.create_key(&ext(
        "x3",
        REGION,
        vec![imported(4, Some(5 * DAY + 1), false)],
    ))?;
    store.create_key(&ext("x4", REGION, vec![imported(5, None, false)]))?;
    let mut gone = imported(6, Some(DAY), false);
    gone.sealed.clear();
    if let Some(i) = gone.import.as_mut() {
        i.state = ImportState::PendingImport;
    }
    store.create_key(&ext("x5", REGION, vec![gone]))?;
    check_eq!(
        store.keys_with_expired_material(5 * DAY)?,
        vec![
            (OTHER_REGION.to_owned(), "x2".to_owned()),
            (REGION.to_owned(), "x1".to_owned()),
        ]
    );
    check_eq!(
        store.keys_with_expired_material(DAY)?,
        Vec::<(String, String)>::new()
    );
    Ok(())
}
