//! Accounts and access keys.

use keyfort_core::model::{AccessKeyRecord, AccessKeyStatus, AccountRecord, ServiceRecord};
use keyfort_core::store::{Store, StoreError};

use super::{Failure, account_id, main_account};

pub(super) fn accounts_round_trip(store: &dyn Store) -> Result<(), Failure> {
    check_eq!(store.list_accounts()?, vec![]);
    let records: Vec<AccountRecord> = [
        ("333333333333", 3),
        ("111111111111", 1),
        ("222222222222", 2),
    ]
    .into_iter()
    .map(|(digits, created_ms)| {
        Ok(AccountRecord {
            id: account_id(digits)?,
            created_ms,
        })
    })
    .collect::<Result<_, Failure>>()?;
    for record in &records {
        store.create_account(record)?;
    }
    for record in &records {
        check_eq!(store.get_account(&record.id)?, Some(record.clone()));
    }
    let listed: Vec<i64> = store
        .list_accounts()?
        .iter()
        .map(|a| a.created_ms)
        .collect();
    check_eq!(listed, vec![1, 2, 3]);
    check_eq!(store.get_account(&account_id("999999999999")?)?, None);
    Ok(())
}

pub(super) fn account_conflict(store: &dyn Store) -> Result<(), Failure> {
    let id = main_account(store)?;
    check_err!(
        store.create_account(&AccountRecord {
            id: id.clone(),
            created_ms: 77,
        }),
        StoreError::Conflict
    );
    check_eq!(store.get_account(&id)?.map(|a| a.created_ms), Some(1_000));
    check_eq!(store.list_accounts()?.len(), 1);
    Ok(())
}

fn access_key(
    id: &str,
    account: &keyfort_core::model::AccountId,
    status: AccessKeyStatus,
) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.to_owned(),
        account: account.clone(),
        principal_arn: format!("arn:aws:iam::{account}:user/alice"),
        // Every byte value, so no encoding step can go unnoticed.
        sealed_secret: (0..=255u8).rev().collect(),
        status,
        created_ms: 42,
    }
}

pub(super) fn access_keys_round_trip(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let active = access_key("AKIAACTIVE0000000001", &account, AccessKeyStatus::Active);
    let inactive = AccessKeyRecord {
        principal_arn: format!("arn:aws:iam::{account}:role/r"),
        sealed_secret: vec![0; 3],
        ..access_key("AKIAINACTIVE00000002", &account, AccessKeyStatus::Inactive)
    };
    store.create_access_key(&active)?;
    store.create_access_key(&inactive)?;
    check_eq!(store.get_access_key(&active.access_key_id)?, Some(active));
    check_eq!(
        store.get_access_key(&inactive.access_key_id)?,
        Some(inactive)
    );
    check_eq!(store.get_access_key("AKIANOSUCHKEY0000000")?, None);
    Ok(())
}

pub(super) fn access_key_conflict(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let first = access_key("AKIADUPLICATE0000001", &account, AccessKeyStatus::Active);
    store.create_access_key(&first)?;
    let second = AccessKeyRecord {
        sealed_secret: vec![9; 16],
        status: AccessKeyStatus::Inactive,
        ..first.clone()
    };
    check_err!(store.create_access_key(&second), StoreError::Conflict);
    check_eq!(store.get_access_key(&first.access_key_id)?, Some(first));
    Ok(())
}

pub(super) fn services_round_trip(store: &dyn Store) -> Result<(), Failure> {
    let id = main_account(store)?;
    check_eq!(store.list_services()?, vec![]);
    check_eq!(store.get_service("s3")?, None);
    let s3 = ServiceRecord {
        name: "s3".into(),
        account: id.clone(),
        user_name: "s3-service".into(),
        user_id: "AIDAS3".into(),
        created_ms: 5,
    };
    let ebs = ServiceRecord {
        name: "ebs".into(),
        account: id.clone(),
        user_name: "ebs-service".into(),
        user_id: "AIDAEBS".into(),
        created_ms: 6,
    };
    store.put_service(&s3)?;
    store.put_service(&ebs)?;
    check_eq!(store.get_service("s3")?, Some(s3.clone()));
    check_eq!(store.list_services()?, vec![ebs.clone(), s3.clone()]);
    // Registering a name again replaces its user.
    let moved = ServiceRecord {
        user_name: "other".into(),
        user_id: "AIDAOTHER".into(),
        created_ms: 7,
        ..s3
    };
    store.put_service(&moved)?;
    check_eq!(store.get_service("s3")?, Some(moved));
    check_eq!(store.delete_service("s3")?, true);
    check_eq!(store.delete_service("s3")?, false);
    check_eq!(store.list_services()?, vec![ebs]);
    Ok(())
}
