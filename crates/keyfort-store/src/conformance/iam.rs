//! IAM entities and IAM users' access keys.

use keyfort_core::iam::{IamEntity, IamKind};
use keyfort_core::model::{AccessKeyRecord, AccessKeyStatus, AccountId};
use keyfort_core::store::{Page, Store, StoreError};

use super::{Failure, account_id, main_account};

fn entity(account: &AccountId, kind: IamKind, name: &str, id: &str) -> IamEntity {
    IamEntity {
        account: account.clone(),
        kind,
        name: name.to_owned(),
        id: id.to_owned(),
        doc: format!("{{\"path\":\"/\",\"n\":\"{name}\"}}"),
        created_ms: 7,
    }
}

pub(super) fn iam_entities_round_trip(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let alice = entity(&account, IamKind::User, "Alice", "AIDAALICE");
    let role = entity(&account, IamKind::Role, "alice", "AROAALICE");
    store.create_iam_entity(&alice)?;
    // The same name is free in another kind.
    store.create_iam_entity(&role)?;
    // Names are unique ignoring case; ids are unique everywhere.
    check_err!(
        store.create_iam_entity(&entity(&account, IamKind::User, "ALICE", "AIDAOTHER")),
        StoreError::Conflict
    );
    check_err!(
        store.create_iam_entity(&entity(&account, IamKind::Group, "g", "AIDAALICE")),
        StoreError::Conflict
    );
    check_eq!(
        store.get_iam_entity(&account, IamKind::User, "alice")?,
        Some(alice.clone())
    );
    check_eq!(
        store.get_iam_entity(&account, IamKind::Role, "ALICE")?,
        Some(role.clone())
    );
    check_eq!(
        store.get_iam_entity(&account, IamKind::Group, "alice")?,
        None
    );
    let other = account_id("999999999999")?;
    store.create_account(&keyfort_core::model::AccountRecord {
        id: other.clone(),
        created_ms: 1,
    })?;
    check_eq!(store.get_iam_entity(&other, IamKind::User, "alice")?, None);

    let changed = IamEntity {
        doc: "{\"path\":\"/x/\"}".into(),
        ..alice.clone()
    };
    store.update_iam_entity(&changed)?;
    check_eq!(
        store.get_iam_entity(&account, IamKind::User, "Alice")?,
        Some(changed)
    );
    check_err!(
        store.update_iam_entity(&entity(&account, IamKind::User, "nobody", "AIDAX")),
        StoreError::Missing
    );
    check!(store.delete_iam_entity(&account, IamKind::User, "ALICE")?);
    check!(!store.delete_iam_entity(&account, IamKind::User, "alice")?);
    check_eq!(
        store.get_iam_entity(&account, IamKind::User, "alice")?,
        None
    );
    check_eq!(
        store.get_iam_entity(&account, IamKind::Role, "alice")?,
        Some(role)
    );
    Ok(())
}

pub(super) fn iam_entities_list_pages(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    for (i, name) in ["carol", "Bob", "alice", "dave"].iter().enumerate() {
        store.create_iam_entity(&entity(
            &account,
            IamKind::Policy,
            name,
            &format!("ANPA{i}"),
        ))?;
    }
    store.create_iam_entity(&entity(&account, IamKind::User, "zed", "AIDAZED"))?;
    let names = |after: Option<&str>, limit: usize| -> Result<Vec<String>, Failure> {
        Ok(store
            .list_iam_entities(&account, IamKind::Policy, Page { after, limit })?
            .into_iter()
            .map(|e| e.name)
            .collect())
    };
    check_eq!(names(None, 10)?, vec!["alice", "Bob", "carol", "dave"]);
    check_eq!(names(None, 2)?, vec!["alice", "Bob"]);
    check_eq!(names(Some("bob"), 2)?, vec!["carol", "dave"]);
    check_eq!(names(Some("dave"), 2)?, Vec::<String>::new());
    Ok(())
}

fn key(id: &str, account: &AccountId, arn: &str, created_ms: i64) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.to_owned(),
        account: account.clone(),
        principal_arn: arn.to_owned(),
        sealed_secret: vec![1, 2, 3, 0, 255],
        status: AccessKeyStatus::Active,
        created_ms,
    }
}

pub(super) fn user_access_keys(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let alice = format!("arn:aws:iam::{account}:user/alice");
    let bob = format!("arn:aws:iam::{account}:user/bob");
    let k2 = key("AKIAALICE00000000002", &account, &alice, 20);
    let k1 = key("AKIAALICE00000000001", &account, &alice, 10);
    let kb = key("AKIABOB0000000000001", &account, &bob, 5);
    for k in [&k2, &k1, &kb] {
        store.create_access_key(k)?;
    }
    check_eq!(
        store.list_access_keys(&account, &alice)?,
        vec![k1.clone(), k2.clone()]
    );
    store.set_access_key_status(&k1.access_key_id, AccessKeyStatus::Inactive)?;
    check_eq!(
        store.get_access_key(&k1.access_key_id)?.map(|k| k.status),
        Some(AccessKeyStatus::Inactive)
    );
    check_err!(
        store.set_access_key_status("AKIANOSUCH0000000000", AccessKeyStatus::Active),
        StoreError::Missing
    );
    check!(store.delete_access_key(&k2.access_key_id)?);
    check!(!store.delete_access_key(&k2.access_key_id)?);
    check_eq!(store.get_access_key(&k2.access_key_id)?, None);
    check_eq!(store.list_access_keys(&account, &alice)?.len(), 1);
    check_eq!(store.list_access_keys(&account, &bob)?, vec![kb]);
    Ok(())
}
