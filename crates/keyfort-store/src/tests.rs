//! SQLite-specific tests: the conformance suite on both kinds of database, plus what
//! only a file shows (reopening, migrations, pragmas, destroyed bytes on disk).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::path::{Path, PathBuf};

use keyfort_core::model::{
    AccessKeyRecord, AccessKeyStatus, AccountId, AccountRecord, AliasRecord, BackingKeyRecord,
    KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, Origin, Tag,
};
use keyfort_core::store::{Page, Store, StoreError};

use crate::{SCHEMA_VERSION, SqliteError, SqliteStore, conformance};

fn acct() -> AccountId {
    AccountId::parse("111122223333").unwrap()
}

fn with_account(store: &SqliteStore) -> AccountId {
    store
        .create_account(&AccountRecord {
            id: acct(),
            created_ms: 1,
        })
        .unwrap();
    acct()
}

fn key_with(id: &str, region: &str, backing_keys: Vec<BackingKeyRecord>) -> KeyRecord {
    KeyRecord {
        id: id.to_owned(),
        account: acct(),
        region: region.to_owned(),
        description: "d".to_owned(),
        state: KeyState::Enabled,
        usage: KeyUsage::EncryptDecrypt,
        spec: KeySpec::SymmetricDefault,
        origin: Origin::AwsKms,
        manager: KeyManager::Customer,
        created_ms: 10,
        deletion_ms: None,
        pending_window_days: None,
        policy: "{}".to_owned(),
        tags: vec![Tag {
            key: "team".to_owned(),
            value: "blue".to_owned(),
        }],
        backing_keys,
        rotation_period_days: None,
        next_rotation_ms: None,
    }
}

fn bk(n: u8, sealed: Vec<u8>) -> BackingKeyRecord {
    BackingKeyRecord {
        id: [n; 32],
        sealed,
        created_ms: i64::from(n),
        rotation_type: None,
        rotated_ms: None,
        import: None,
    }
}

fn db_path(dir: &Path) -> PathBuf {
    dir.join("keyfort.db")
}

#[test]
fn conformance_in_memory() {
    conformance::run_all(&|| Box::new(SqliteStore::open_in_memory().unwrap()));
}

#[test]
fn conformance_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let n = Cell::new(0u32);
    conformance::run_all(&|| {
        n.set(n.get() + 1);
        let path = dir.path().join(format!("case-{}.db", n.get()));
        Box::new(SqliteStore::open(&path).unwrap())
    });
}

#[test]
fn pragmas_are_set_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(dir.path())).unwrap();
    store.with_conn(|c| {
        let text = |p: &str| {
            c.pragma_query_value(None, p, |r| r.get::<_, String>(0))
                .unwrap()
        };
        let int = |p: &str| {
            c.pragma_query_value(None, p, |r| r.get::<_, i64>(0))
                .unwrap()
        };
        assert_eq!(text("journal_mode"), "wal");
        assert_eq!(int("synchronous"), 2, "FULL");
        assert_eq!(int("foreign_keys"), 1);
        assert_eq!(int("secure_delete"), 1);
        assert_eq!(int("busy_timeout"), 5_000);
    });
}

#[cfg(unix)]
#[test]
fn new_database_file_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let _store = SqliteStore::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn open_does_not_create_the_parent_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing").join("keyfort.db");
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::Backend(_))
    ));
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn reopen_finds_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let access_key = AccessKeyRecord {
        access_key_id: "AKIAREOPEN0000000001".to_owned(),
        account: acct(),
        principal_arn: "arn:aws:iam::111122223333:root".to_owned(),
        sealed_secret: vec![1, 2, 3, 0, 255],
        status: AccessKeyStatus::Inactive,
        created_ms: 5,
    };
    let mut key = key_with("k1", "us-east-1", vec![bk(1, vec![0xaa; 40])]);
    let alias = AliasRecord {
        account: acct(),
        region: "us-east-1".to_owned(),
        name: "alias/app".to_owned(),
        target_key_id: "k1".to_owned(),
        created_ms: 7,
        updated_ms: 8,
    };
    {
        let store = SqliteStore::open(&path).unwrap();
        with_account(&store);
        store.create_access_key(&access_key).unwrap();
        store.create_key(&key).unwrap();
        key.backing_keys.push(bk(2, vec![0xbb; 40]));
        key.state = KeyState::Disabled;
        store.update_key(&key).unwrap();
        store.create_alias(&alias).unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.list_accounts().unwrap().len(), 1);
    assert_eq!(
        store.get_access_key(&access_key.access_key_id).unwrap(),
        Some(access_key)
    );
    assert_eq!(store.get_key("us-east-1", "k1").unwrap(), Some(key));
    assert_eq!(
        store.get_alias(&acct(), "us-east-1", "alias/app").unwrap(),
        Some(alias)
    );
}

/// Every schema object, to compare across opens.
fn schema_objects(store: &SqliteStore) -> Vec<(String, String)> {
    store.with_conn(|c| {
        let mut st = c
            .prepare("SELECT type, name FROM sqlite_schema ORDER BY type, name")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    })
}

#[test]
fn migrations_are_idempotent_on_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let first = SqliteStore::open(&path).unwrap();
    assert_eq!(first.schema_version().unwrap(), i64::from(SCHEMA_VERSION));
    let objects = schema_objects(&first);
    for name in ["accounts", "access_keys", "keys", "backing_keys", "aliases"] {
        assert!(
            objects.iter().any(|(t, n)| t == "table" && n == name),
            "{name}"
        );
    }
    with_account(&first);
    drop(first);
    for _ in 0..2 {
        let again = SqliteStore::open(&path).unwrap();
        assert_eq!(again.schema_version().unwrap(), i64::from(SCHEMA_VERSION));
        assert_eq!(schema_objects(&again), objects);
        assert_eq!(again.list_accounts().unwrap().len(), 1);
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let store = SqliteStore::open(&path).unwrap();
    store.with_conn(|c| {
        c.pragma_update(None, "user_version", i64::from(SCHEMA_VERSION) + 1)
            .unwrap()
    });
    drop(store);
    match SqliteStore::open(&path) {
        Err(StoreError::Backend(e)) => assert!(matches!(
            e.downcast_ref::<SqliteError>(),
            Some(SqliteError::SchemaTooNew { .. })
        )),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn undecodable_rows_are_corrupt() {
    let store = SqliteStore::open_in_memory().unwrap();
    with_account(&store);
    store.create_key(&key_with("k1", "r", vec![])).unwrap();
    store.create_key(&key_with("k2", "r", vec![])).unwrap();
    store.create_key(&key_with("k3", "r", vec![])).unwrap();
    store.with_conn(|c| {
        c.execute_batch(
            "UPDATE keys SET state = 'Bogus' WHERE key_id = 'k1';
             UPDATE keys SET tags = '{\"not\": \"pairs\"}' WHERE key_id = 'k2';
             UPDATE keys SET pending_window_days = -1 WHERE key_id = 'k3';
             INSERT INTO accounts VALUES ('not-an-account', 1);",
        )
        .unwrap()
    });
    for id in ["k1", "k2", "k3"] {
        let got = store.get_key("r", id);
        assert!(
            matches!(got, Err(StoreError::Corrupt { table: "keys", .. })),
            "{id}: {got:?}"
        );
    }
    assert!(matches!(
        store.list_accounts(),
        Err(StoreError::Corrupt {
            table: "accounts",
            ..
        })
    ));
}

#[test]
fn an_access_key_needs_its_account() {
    let store = SqliteStore::open_in_memory().unwrap();
    let orphan = AccessKeyRecord {
        access_key_id: "AKIAORPHAN0000000001".to_owned(),
        account: acct(),
        principal_arn: "arn:aws:iam::111122223333:root".to_owned(),
        sealed_secret: vec![1],
        status: AccessKeyStatus::Active,
        created_ms: 1,
    };
    assert!(matches!(
        store.create_access_key(&orphan),
        Err(StoreError::Backend(_))
    ));
    assert_eq!(store.get_access_key(&orphan.access_key_id).unwrap(), None);
}

#[test]
fn a_poisoned_lock_is_recovered_and_rolled_back() {
    let store = SqliteStore::open_in_memory().unwrap();
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            store.with_conn(|c| {
                c.execute_batch(
                    "BEGIN IMMEDIATE; INSERT INTO accounts VALUES ('999999999999', 1);",
                )
                .unwrap();
                panic!("simulated bug while holding the connection");
            })
        })
        .join()
    });
    assert!(result.is_err());
    // The half-done transaction was rolled back and the store keeps working.
    let id = AccountId::parse("999999999999").unwrap();
    assert_eq!(store.get_account(&id).unwrap(), None);
    with_account(&store);
    assert_eq!(store.list_accounts().unwrap().len(), 1);
}

#[test]
fn replicas_share_backing_keys_until_the_last_is_destroyed() {
    // Backing keys are keyed by key id alone, so a multi-Region replica (same id in
    // another region) sees the same material, and destroying one replica keeps it.
    let store = SqliteStore::open_in_memory().unwrap();
    with_account(&store);
    let id = "mrk-0123456789abcdef0123456789abcdef";
    let mut primary = key_with(id, "us-east-1", vec![bk(1, vec![1; 48])]);
    store.create_key(&primary).unwrap();
    store
        .create_key(&key_with(id, "eu-west-1", vec![bk(1, vec![1; 48])]))
        .unwrap();
    primary.backing_keys.push(bk(2, vec![2; 48]));
    store.update_key(&primary).unwrap();
    let replica = store.get_key("eu-west-1", id).unwrap().unwrap();
    assert_eq!(replica.backing_keys, primary.backing_keys);

    assert!(store.destroy_key("us-east-1", id).unwrap());
    let replica = store.get_key("eu-west-1", id).unwrap().unwrap();
    assert_eq!(replica.backing_keys, primary.backing_keys);

    assert!(store.destroy_key("eu-west-1", id).unwrap());
    let count: i64 = store.with_conn(|c| {
        c.query_row("SELECT count(*) FROM backing_keys", [], |r| r.get(0))
            .unwrap()
    });
    assert_eq!(count, 0);
}

#[test]
fn concurrent_writers_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(dir.path())).unwrap();
    with_account(&store);
    std::thread::scope(|s| {
        for t in 0..8 {
            let store = &store;
            s.spawn(move || {
                for i in 0..25 {
                    let id = format!("k-{t:02}-{i:02}");
                    store
                        .create_key(&key_with(&id, "us-east-1", vec![bk(t, vec![t; 32])]))
                        .unwrap();
                }
            });
        }
    });
    let page = Page {
        after: None,
        limit: 1_000,
    };
    let ids = store.list_key_ids(&acct(), "us-east-1", page).unwrap();
    assert_eq!(ids.len(), 200);
}

/// Whether `needle` occurs anywhere in the file (a missing file has nothing).
fn file_contains(path: &Path, needle: &[u8]) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => bytes.windows(needle.len()).any(|w| w == needle),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => panic!("reading {}: {e}", path.display()),
    }
}

/// 64 bytes unlikely to occur by chance, tagged with `marker`.
fn pattern(marker: u8) -> Vec<u8> {
    let mut p = b"KEYFORT-SECRET-MATERIAL-".to_vec();
    p.extend((0..40u8).map(|i| i.wrapping_mul(37).wrapping_add(marker) | 0x80));
    p
}

#[test]
fn destroyed_material_is_gone_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let wal = dir.path().join("keyfort.db-wal");
    let store = SqliteStore::open(&path).unwrap();
    with_account(&store);

    let small = pattern(1);
    // Several kilobytes, so it spans overflow pages; each 64-byte repeat is findable.
    let large_unit = pattern(2);
    let large = large_unit.repeat(80);
    let survivor = pattern(3);
    store
        .create_key(&key_with(
            "doomed",
            "us-east-1",
            vec![bk(1, small.clone()), bk(2, large)],
        ))
        .unwrap();
    store
        .create_key(&key_with(
            "kept",
            "us-east-1",
            vec![bk(3, survivor.clone())],
        ))
        .unwrap();
    store.checkpoint().unwrap();
    // The test can see material when it is there.
    for needle in [&small, &large_unit, &survivor] {
        assert!(file_contains(&path, needle));
    }

    assert!(store.destroy_key("us-east-1", "doomed").unwrap());
    store.checkpoint().unwrap();
    for file in [&path, &wal] {
        assert!(!file_contains(file, &small), "{}", file.display());
        assert!(!file_contains(file, &large_unit), "{}", file.display());
    }
    assert!(file_contains(&path, &survivor));
    assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
}

#[test]
fn checkpoint_on_memory_is_a_no_op() {
    SqliteStore::open_in_memory().unwrap().checkpoint().unwrap();
}

#[test]
fn removed_imported_material_is_gone_from_the_files() {
    use keyfort_core::model::{ExpirationModel, ImportState, ImportedMaterial};
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let wal = dir.path().join("keyfort.db-wal");
    let store = SqliteStore::open(&path).unwrap();
    with_account(&store);
    let secret = pattern(9);
    let mut material = bk(9, secret.clone());
    material.import = Some(ImportedMaterial {
        state: ImportState::Imported,
        expiration: ExpirationModel::DoesNotExpire,
        valid_to_ms: None,
        description: String::new(),
        pending_rotation: false,
    });
    let mut k = KeyRecord {
        origin: Origin::External,
        ..key_with("imported", "us-east-1", vec![material])
    };
    store.create_key(&k).unwrap();
    store.checkpoint().unwrap();
    assert!(file_contains(&path, &secret));

    // DeleteImportedKeyMaterial / expiry: empty sealed bytes, PENDING_IMPORT.
    k.backing_keys[0].sealed.clear();
    if let Some(i) = k.backing_keys[0].import.as_mut() {
        i.state = ImportState::PendingImport;
    }
    k.state = KeyState::PendingImport;
    store.update_key(&k).unwrap();
    store.checkpoint().unwrap();
    for file in [&path, &wal] {
        assert!(!file_contains(file, &secret), "{}", file.display());
    }
    assert_eq!(store.get_key("us-east-1", "imported").unwrap(), Some(k));
}

#[test]
fn version_1_database_migrates_to_version_2_with_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    {
        // A database as a version-1 build left it, with an account, a key and its
        // backing key, written with version 1's statements.
        let mut conn = crate::sqlite::open_file(&path).unwrap();
        crate::schema::migrate(&mut conn, &crate::schema::MIGRATIONS[..1]).unwrap();
        assert_eq!(crate::schema::version(&conn).unwrap(), 1);
        conn.execute_batch(
            "INSERT INTO accounts VALUES ('111122223333', 1);
             INSERT INTO keys (region, key_id, account, description, state, usage, spec, origin,
                 manager, created_ms, deletion_ms, pending_window_days, policy, tags)
             VALUES ('us-east-1', 'old-key', '111122223333', 'd', 'Enabled', 'ENCRYPT_DECRYPT',
                 'SYMMETRIC_DEFAULT', 'AWS_KMS', 'CUSTOMER', 10, NULL, NULL, '{}', '[]');",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO backing_keys (key_id, backing_id, seq, sealed, created_ms) \
             VALUES ('old-key', ?1, 0, ?2, 5)",
            rusqlite::params![&[7u8; 32][..], &[1u8, 2, 3][..]],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), i64::from(SCHEMA_VERSION));
    let k = store.get_key("us-east-1", "old-key").unwrap().unwrap();
    assert_eq!(k.rotation_period_days, None);
    assert_eq!(k.next_rotation_ms, None);
    assert_eq!(
        k.backing_keys,
        vec![BackingKeyRecord {
            id: [7; 32],
            sealed: vec![1, 2, 3],
            created_ms: 5,
            rotation_type: None,
            rotated_ms: None,
            import: None,
        }]
    );
    assert_eq!(k.current_backing_key().map(|b| b.id), Some([7; 32]));
    // And it rotates like any other key.
    let mut rotated = k.clone();
    rotated.backing_keys.push(bk(8, vec![4, 5]));
    assert!(store.rotate_key(&rotated, &[7; 32]).unwrap());
    assert!(store.keys_due_for_rotation(i64::MAX).unwrap().is_empty());
}

#[test]
fn version_3_database_migrates_to_version_4_and_takes_grants() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    {
        // A database as a version-3 build left it: an account and a key, no grants table.
        let mut conn = crate::sqlite::open_file(&path).unwrap();
        crate::schema::migrate(&mut conn, &crate::schema::MIGRATIONS[..3]).unwrap();
        assert_eq!(crate::schema::version(&conn).unwrap(), 3);
        conn.execute_batch(
            "INSERT INTO accounts VALUES ('111122223333', 1);
             INSERT INTO keys (region, key_id, account, description, state, usage, spec, origin,
                 manager, created_ms, deletion_ms, pending_window_days, policy, tags)
             VALUES ('us-east-1', 'old-key', '111122223333', 'd', 'Enabled', 'ENCRYPT_DECRYPT',
                 'SYMMETRIC_DEFAULT', 'AWS_KMS', 'CUSTOMER', 10, NULL, NULL, '{}', '[]');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), i64::from(SCHEMA_VERSION));
    assert!(store.get_key("us-east-1", "old-key").unwrap().is_some());
    let page = Page {
        after: None,
        limit: 10,
    };
    assert!(
        store
            .list_grants("us-east-1", "old-key", page)
            .unwrap()
            .is_empty()
    );
    let grant = keyfort_core::grant::GrantRecord {
        grant_id: "ab".repeat(32),
        region: "us-east-1".into(),
        key_id: "old-key".into(),
        account: AccountId::parse("111122223333").unwrap(),
        name: None,
        grantee_principal: "arn:aws:iam::444455556666:root".into(),
        retiring_principal: None,
        created_ms: 20,
        details: keyfort_core::grant::GrantDetails {
            issuing_account: "arn:aws:iam::111122223333:root".into(),
            operations: vec!["Decrypt".into()],
            constraints: None,
        },
    };
    store.create_grant(&grant).unwrap();
    assert_eq!(
        store.list_grants("us-east-1", "old-key", page).unwrap(),
        vec![grant]
    );
    assert!(store.destroy_key("us-east-1", "old-key").unwrap());
    assert!(
        store
            .list_grants("us-east-1", "old-key", page)
            .unwrap()
            .is_empty()
    );
}
