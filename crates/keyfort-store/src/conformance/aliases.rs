//! Aliases.

use keyfort_core::model::AliasRecord;
use keyfort_core::store::{Page, Store, StoreError};

use super::{Failure, OTHER_REGION, REGION, account_id, alias, main_account};

pub(super) fn alias_round_trip(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let other_account = account_id("444455556666")?;
    let a = alias(&account, REGION, "alias/app", "k1");
    store.create_alias(&a)?;
    check_eq!(
        store.get_alias(&account, REGION, "alias/app")?,
        Some(a.clone())
    );

    // The name is taken in (account, region) only.
    check_err!(
        store.create_alias(&alias(&account, REGION, "alias/app", "k2")),
        StoreError::Conflict
    );
    check_eq!(store.get_alias(&account, REGION, "alias/app")?, Some(a));
    let elsewhere = alias(&account, OTHER_REGION, "alias/app", "k9");
    store.create_alias(&elsewhere)?;
    let other = alias(&other_account, REGION, "alias/app", "k8");
    store.create_alias(&other)?;
    check_eq!(
        store.get_alias(&account, OTHER_REGION, "alias/app")?,
        Some(elsewhere)
    );
    check_eq!(
        store.get_alias(&other_account, REGION, "alias/app")?,
        Some(other)
    );
    check_eq!(store.get_alias(&account, REGION, "alias/none")?, None);
    // Names are case-sensitive.
    check_eq!(store.get_alias(&account, REGION, "alias/APP")?, None);
    Ok(())
}

pub(super) fn alias_update_and_delete(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let a = alias(&account, REGION, "alias/app", "k1");
    store.create_alias(&a)?;
    let moved = AliasRecord {
        target_key_id: "k2".to_owned(),
        updated_ms: 9_000,
        ..a.clone()
    };
    store.update_alias(&moved)?;
    check_eq!(
        store.get_alias(&account, REGION, "alias/app")?,
        Some(moved.clone())
    );

    // An update only repoints and restamps; created_ms stays as created.
    store.update_alias(&AliasRecord {
        created_ms: 1,
        ..moved.clone()
    })?;
    check_eq!(store.get_alias(&account, REGION, "alias/app")?, Some(moved));

    let absent = alias(&account, REGION, "alias/absent", "k1");
    check_err!(store.update_alias(&absent), StoreError::Missing);
    check_err!(
        store.update_alias(&alias(&account, OTHER_REGION, "alias/app", "k1")),
        StoreError::Missing
    );
    check_eq!(store.get_alias(&account, REGION, "alias/absent")?, None);

    check!(!store.delete_alias(&account, OTHER_REGION, "alias/app")?);
    check!(store.delete_alias(&account, REGION, "alias/app")?);
    check_eq!(store.get_alias(&account, REGION, "alias/app")?, None);
    check!(!store.delete_alias(&account, REGION, "alias/app")?);
    // The name is free again.
    store.create_alias(&a)?;
    Ok(())
}

pub(super) fn list_aliases_pages_and_filter(store: &dyn Store) -> Result<(), Failure> {
    let account = main_account(store)?;
    let other_account = account_id("444455556666")?;
    // Created out of order; "alias/B" sorts before "alias/a" (byte order).
    for (name, target) in [
        ("alias/d", "k1"),
        ("alias/a", "k2"),
        ("alias/c", "k1"),
        ("alias/B", "k2"),
        ("alias/b", "k1"),
    ] {
        store.create_alias(&alias(&account, REGION, name, target))?;
    }
    store.create_alias(&alias(&account, OTHER_REGION, "alias/a0", "k1"))?;
    store.create_alias(&alias(&other_account, REGION, "alias/a1", "k1"))?;

    let names = |key: Option<&str>, after: Option<&str>, limit: usize| {
        store
            .list_aliases(&account, REGION, key, Page { after, limit })
            .map(|v| v.into_iter().map(|a| a.name).collect::<Vec<_>>())
    };
    let all = ["alias/B", "alias/a", "alias/b", "alias/c", "alias/d"];
    check_eq!(names(None, None, 100)?, all);
    check_eq!(names(None, None, 1)?, ["alias/B"]);
    check_eq!(names(None, Some("alias/B"), 2)?, ["alias/a", "alias/b"]);
    check_eq!(names(None, Some("alias/b"), 2)?, ["alias/c", "alias/d"]);
    check_eq!(names(None, Some("alias/d"), 5)?, Vec::<String>::new());
    check_eq!(names(None, Some("alias/zzz"), 5)?, Vec::<String>::new());
    // `after` need not be an existing name.
    check_eq!(names(None, Some("alias/bb"), 5)?, ["alias/c", "alias/d"]);
    check_eq!(names(None, None, 0)?, Vec::<String>::new());
    check_eq!(names(None, None, usize::MAX)?, all);

    check_eq!(
        names(Some("k1"), None, 100)?,
        ["alias/b", "alias/c", "alias/d"]
    );
    check_eq!(names(Some("k1"), None, 1)?, ["alias/b"]);
    check_eq!(names(Some("k1"), Some("alias/b"), 1)?, ["alias/c"]);
    check_eq!(names(Some("k1"), Some("alias/d"), 1)?, Vec::<String>::new());
    check_eq!(names(Some("k2"), Some("alias/B"), 10)?, ["alias/a"]);
    check_eq!(names(Some("none"), None, 10)?, Vec::<String>::new());

    // Whole records come back, scoped to the account and region asked for.
    let listed = store.list_aliases(
        &account,
        OTHER_REGION,
        None,
        Page {
            after: None,
            limit: 10,
        },
    )?;
    check_eq!(
        listed,
        vec![alias(&account, OTHER_REGION, "alias/a0", "k1")]
    );
    Ok(())
}
