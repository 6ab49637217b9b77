//! Grants.

use std::collections::BTreeMap;

use keyfort_core::grant::{GrantConstraints, GrantDetails, GrantRecord};
use keyfort_core::model::AccountId;
use keyfort_core::store::{Page, Store, StoreError};

use super::{Failure, OTHER_REGION, REGION, key, main_account};

fn grant(account: &AccountId, region: &str, key_id: &str, n: u8) -> GrantRecord {
    GrantRecord {
        grant_id: format!("{n:02x}").repeat(32),
        region: region.to_owned(),
        key_id: key_id.to_owned(),
        account: account.clone(),
        name: (n % 2 == 0).then(|| format!("name-{n}")),
        grantee_principal: format!("arn:aws:iam::444455556666:role/r{n}"),
        retiring_principal: (n % 3 == 0).then(|| "arn:aws:iam::444455556666:root".to_owned()),
        created_ms: 1_700_000_000_000 + i64::from(n),
        details: GrantDetails {
            issuing_account: format!("arn:aws:iam::{account}:root"),
            operations: vec!["Decrypt".to_owned(), "RetireGrant".to_owned()],
            constraints: (n == 1).then(|| GrantConstraints {
                encryption_context_subset: Some(BTreeMap::from([(
                    "Dept".to_owned(),
                    "IT".to_owned(),
                )])),
                encryption_context_equals: None,
            }),
        },
    }
}

pub(super) fn grants_round_trip_and_lists(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    store.create_key(&key(&account, REGION, "k1"))?;
    let grants: Vec<GrantRecord> = (1..=6).map(|n| grant(&account, REGION, "k1", n)).collect();
    for g in &grants {
        store.create_grant(g)?;
    }
    check_err!(store.create_grant(&grants[0]), StoreError::Conflict);
    check_eq!(
        store.get_grant(REGION, "k1", &grants[0].grant_id)?,
        Some(grants[0].clone())
    );
    // A grant id belongs to its key and region.
    check_eq!(store.get_grant(REGION, "k2", &grants[0].grant_id)?, None);
    check_eq!(
        store.get_grant(OTHER_REGION, "k1", &grants[0].grant_id)?,
        None
    );

    // Pages in grant id order.
    let first = store.list_grants(
        REGION,
        "k1",
        Page {
            after: None,
            limit: 4,
        },
    )?;
    check_eq!(first, grants[..4].to_vec());
    let rest = store.list_grants(
        REGION,
        "k1",
        Page {
            after: Some(&grants[3].grant_id),
            limit: 4,
        },
    )?;
    check_eq!(rest, grants[4..].to_vec());
    check!(
        store
            .list_grants(
                REGION,
                "k9",
                Page {
                    after: None,
                    limit: 10
                }
            )?
            .is_empty()
    );

    // Retirable by the retiring principal: grants 3 and 6.
    let retirable = store.list_retirable_grants(
        REGION,
        "arn:aws:iam::444455556666:root",
        Page {
            after: None,
            limit: 10,
        },
    )?;
    check_eq!(retirable, vec![grants[2].clone(), grants[5].clone()]);
    let after = store.list_retirable_grants(
        REGION,
        "arn:aws:iam::444455556666:root",
        Page {
            after: Some(&grants[2].grant_id),
            limit: 10,
        },
    )?;
    check_eq!(after, vec![grants[5].clone()]);
    check!(
        store
            .list_retirable_grants(
                OTHER_REGION,
                "arn:aws:iam::444455556666:root",
                Page {
                    after: None,
                    limit: 10
                }
            )?
            .is_empty()
    );

    // Delete one; a second delete finds nothing.
    check!(store.delete_grant(REGION, "k1", &grants[1].grant_id)?);
    check!(!store.delete_grant(REGION, "k1", &grants[1].grant_id)?);
    check_eq!(store.get_grant(REGION, "k1", &grants[1].grant_id)?, None);
    Ok(())
}

pub(super) fn destroy_key_deletes_its_grants(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    store.create_key(&key(&account, REGION, "k1"))?;
    store.create_key(&key(&account, REGION, "k2"))?;
    let mine = grant(&account, REGION, "k1", 3);
    let other = grant(&account, REGION, "k2", 9);
    store.create_grant(&mine)?;
    store.create_grant(&other)?;
    check!(store.destroy_key(REGION, "k1")?);
    check_eq!(store.get_grant(REGION, "k1", &mine.grant_id)?, None);
    check!(
        store
            .list_retirable_grants(
                REGION,
                "arn:aws:iam::444455556666:root",
                Page {
                    after: None,
                    limit: 10
                }
            )?
            .iter()
            .all(|g| g.key_id == "k2")
    );
    check_eq!(store.get_grant(REGION, "k2", &other.grant_id)?, Some(other));
    Ok(())
}
