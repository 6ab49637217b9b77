//! Grants end to end: another account's root using a key through a grant, constraints,
//! name idempotency, listing, retiring and revoking, and grants going with their key.

use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{GrantConstraints, GrantOperation};
use keyfort_core::clock::{DAY_MS, ManualClock};

use crate::assert_code;
use crate::authz::{OTHER, admin, key_with_policy, other_account, policy, root_of};
use crate::common::{ACCOUNT, TestServer};

fn pt(b: &[u8]) -> Blob {
    Blob::new(b.to_vec())
}

async fn new_key(c: &aws_sdk_kms::Client) -> (String, String) {
    let m = c.create_key().send().await.unwrap();
    let m = m.key_metadata().unwrap();
    (m.key_id().to_owned(), m.arn().unwrap().to_owned())
}

#[tokio::test]
async fn another_account_uses_a_key_through_a_grant_until_it_is_retired() {
    let s = TestServer::start().await;
    let a = s.client();
    let b = other_account(&s);
    let (id, arn) = new_key(&a).await;
    let enc = |c: &aws_sdk_kms::Client| c.encrypt().key_id(&arn).plaintext(pt(b"img")).send();
    assert_code!(enc(&b).await, "AccessDeniedException");

    let g = a
        .create_grant()
        .key_id(&id)
        .grantee_principal(root_of(OTHER))
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .operations(GrantOperation::DescribeKey)
        .operations(GrantOperation::RetireGrant)
        .name("share-with-b")
        .send()
        .await
        .unwrap();
    let grant_id = g.grant_id().unwrap().to_owned();
    assert_eq!(grant_id.len(), 64);
    // Usable at once, by ARN, for exactly its operations.
    let ct = enc(&b).await.unwrap();
    let out = b
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .grant_tokens(g.grant_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext().unwrap().as_ref(), b"img");
    b.describe_key().key_id(&arn).send().await.unwrap();
    assert_code!(
        b.generate_data_key()
            .key_id(&arn)
            .number_of_bytes(32)
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_code!(
        b.encrypt().key_id(&id).plaintext(pt(b"x")).send().await,
        "NotFoundException"
    );

    // The same name and parameters: the same grant, another token. Other parameters
    // under the same name: a new grant.
    let again = a
        .create_grant()
        .key_id(&id)
        .grantee_principal(root_of(OTHER))
        .operations(GrantOperation::RetireGrant)
        .operations(GrantOperation::DescribeKey)
        .operations(GrantOperation::Decrypt)
        .operations(GrantOperation::Encrypt)
        .name("share-with-b")
        .send()
        .await
        .unwrap();
    assert_eq!(again.grant_id(), Some(grant_id.as_str()));
    assert_ne!(again.grant_token(), g.grant_token());
    let other = a
        .create_grant()
        .key_id(&id)
        .grantee_principal(root_of(OTHER))
        .operations(GrantOperation::Decrypt)
        .name("share-with-b")
        .send()
        .await
        .unwrap();
    assert_ne!(other.grant_id(), Some(grant_id.as_str()));

    // The key's owner lists them, with what each allows; the grantee (cross account)
    // may not list them without a policy that says so.
    let list = a.list_grants().key_id(&id).send().await.unwrap();
    assert_eq!(list.grants().len(), 2);
    let mine = list
        .grants()
        .iter()
        .find(|x| x.grant_id() == Some(grant_id.as_str()))
        .unwrap();
    assert_eq!(mine.key_id(), Some(arn.as_str()));
    assert_eq!(mine.name(), Some("share-with-b"));
    assert_eq!(mine.grantee_principal(), Some(root_of(OTHER).as_str()));
    assert_eq!(mine.issuing_account(), Some(root_of(ACCOUNT).as_str()));
    assert_eq!(mine.operations().len(), 4);
    assert_code!(
        b.list_grants().key_id(&arn).send().await,
        "AccessDeniedException"
    );

    // The grantee retires it with its token; the other grant (Decrypt only) remains.
    b.retire_grant()
        .grant_token(again.grant_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_code!(enc(&b).await, "AccessDeniedException");
    b.decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_code!(
        b.retire_grant()
            .grant_token(g.grant_token().unwrap())
            .send()
            .await,
        "NotFoundException"
    );
    assert_code!(
        b.retire_grant().grant_token("not-a-token").send().await,
        "InvalidGrantTokenException"
    );
    // Without RetireGrant in it and without being its retiring principal, the grantee
    // cannot retire the other grant; the key's account can revoke it.
    assert_code!(
        b.retire_grant()
            .key_id(&arn)
            .grant_id(other.grant_id().unwrap())
            .send()
            .await,
        "AccessDeniedException"
    );
    a.revoke_grant()
        .key_id(&id)
        .grant_id(other.grant_id().unwrap())
        .send()
        .await
        .unwrap();
    assert_code!(
        b.decrypt()
            .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_code!(
        a.revoke_grant()
            .key_id(&id)
            .grant_id(other.grant_id().unwrap())
            .send()
            .await,
        "NotFoundException"
    );
    assert!(
        a.list_grants()
            .key_id(&id)
            .send()
            .await
            .unwrap()
            .grants()
            .is_empty()
    );
    s.stop().await;
}

#[tokio::test]
async fn grant_constraints_hold_for_every_use() {
    let s = TestServer::start().await;
    let a = s.client();
    let b = other_account(&s);
    let (id, arn) = new_key(&a).await;
    let subset = GrantConstraints::builder()
        .encryption_context_subset("Dept", "IT")
        .build();
    a.create_grant()
        .key_id(&id)
        .grantee_principal(root_of(OTHER))
        .operations(GrantOperation::Encrypt)
        .constraints(subset)
        .send()
        .await
        .unwrap();
    let enc = |pairs: &[(&str, &str)]| {
        let mut r = b.encrypt().key_id(&arn).plaintext(pt(b"x"));
        for (k, v) in pairs {
            r = r.encryption_context(*k, *v);
        }
        r.send()
    };
    enc(&[("Dept", "IT")]).await.unwrap();
    enc(&[("Dept", "IT"), ("Project", "X")]).await.unwrap();
    assert_code!(enc(&[("Dept", "HR")]).await, "AccessDeniedException");
    assert_code!(enc(&[]).await, "AccessDeniedException");

    // Equals: exactly the pairs, on another key.
    let (id2, arn2) = new_key(&a).await;
    a.create_grant()
        .key_id(&id2)
        .grantee_principal(root_of(OTHER))
        .operations(GrantOperation::GenerateDataKey)
        .constraints(
            GrantConstraints::builder()
                .encryption_context_equals("Dept", "IT")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let gdk = |pairs: &[(&str, &str)]| {
        let mut r = b.generate_data_key().key_id(&arn2).number_of_bytes(16);
        for (k, v) in pairs {
            r = r.encryption_context(*k, *v);
        }
        r.send()
    };
    gdk(&[("Dept", "IT")]).await.unwrap();
    assert_code!(
        gdk(&[("Dept", "IT"), ("Project", "X")]).await,
        "AccessDeniedException"
    );

    // Constraints only on symmetric keys; operations must fit the key.
    let rsa = a
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Rsa2048)
        .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let rsa_id = rsa.key_metadata().unwrap().key_id();
    assert_code!(
        a.create_grant()
            .key_id(rsa_id)
            .grantee_principal(root_of(OTHER))
            .operations(GrantOperation::Encrypt)
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        a.create_grant()
            .key_id(rsa_id)
            .grantee_principal(root_of(OTHER))
            .operations(GrantOperation::Sign)
            .constraints(
                GrantConstraints::builder()
                    .encryption_context_subset("a", "b")
                    .build()
            )
            .send()
            .await,
        "ValidationException"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_explicit_deny_beats_a_grant_and_grants_delegate_only_what_they_hold() {
    let s = TestServer::start().await;
    let a = s.client();
    let b = other_account(&s);
    let deny_b = format!(
        r#"{{"Effect":"Deny","Principal":{{"AWS":"{}"}},"Action":"kms:Decrypt","Resource":"*"}}"#,
        root_of(OTHER)
    );
    let (id, arn) = key_with_policy(&a, &policy(&[admin(), deny_b]), false).await;
    a.create_grant()
        .key_id(&id)
        .grantee_principal(root_of(OTHER))
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .operations(GrantOperation::CreateGrant)
        .send()
        .await
        .unwrap();
    let ct = b
        .encrypt()
        .key_id(&arn)
        .plaintext(pt(b"x"))
        .send()
        .await
        .unwrap();
    assert_code!(
        b.decrypt()
            .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
            .send()
            .await,
        "AccessDeniedException"
    );
    // B passes on what it holds, and nothing more.
    let svc = format!("arn:aws:iam::{OTHER}:role/ImageService");
    b.create_grant()
        .key_id(&arn)
        .grantee_principal(&svc)
        .operations(GrantOperation::Encrypt)
        .send()
        .await
        .unwrap();
    assert_code!(
        b.create_grant()
            .key_id(&arn)
            .grantee_principal(&svc)
            .operations(GrantOperation::GenerateDataKey)
            .send()
            .await,
        "AccessDeniedException"
    );
    // DryRun answers only when allowed.
    assert_code!(
        b.create_grant()
            .key_id(&arn)
            .grantee_principal(&svc)
            .operations(GrantOperation::Encrypt)
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    let grants = a.list_grants().key_id(&id).send().await.unwrap();
    let by_b = grants
        .grants()
        .iter()
        .find(|g| g.grantee_principal() == Some(svc.as_str()))
        .unwrap();
    assert_eq!(by_b.issuing_account(), Some(root_of(OTHER).as_str()));
    s.stop().await;
}

#[tokio::test]
async fn listing_retirable_grants_pages_and_filters() {
    let s = TestServer::start().await;
    let a = s.client();
    let b = other_account(&s);
    let (id, _) = new_key(&a).await;
    let mut ids = Vec::new();
    let mut grantee_of = std::collections::HashMap::new();
    for n in 0..3 {
        let grantee = format!("arn:aws:iam::{OTHER}:role/r{n}");
        let g = a
            .create_grant()
            .key_id(&id)
            .grantee_principal(&grantee)
            .retiring_principal(root_of(OTHER))
            .operations(GrantOperation::Decrypt)
            .send()
            .await
            .unwrap();
        ids.push(g.grant_id().unwrap().to_owned());
        grantee_of.insert(g.grant_id().unwrap().to_owned(), grantee);
    }
    ids.sort();
    let p1 = b
        .list_retirable_grants()
        .retiring_principal(root_of(OTHER))
        .limit(2)
        .send()
        .await
        .unwrap();
    assert!(p1.truncated());
    assert_eq!(p1.grants().len(), 2);
    let p2 = b
        .list_retirable_grants()
        .retiring_principal(root_of(OTHER))
        .limit(2)
        .marker(p1.next_marker().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!p2.truncated());
    let seen: Vec<&str> = p1
        .grants()
        .iter()
        .chain(p2.grants())
        .filter_map(|g| g.grant_id())
        .collect();
    assert_eq!(seen, ids.iter().map(String::as_str).collect::<Vec<_>>());
    // The retiring principal retires by key and id.
    b.retire_grant()
        .key_id(format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}"))
        .grant_id(&ids[0])
        .send()
        .await
        .unwrap();
    // Filters and pages of ListGrants.
    let one = a
        .list_grants()
        .key_id(&id)
        .grant_id(&ids[1])
        .send()
        .await
        .unwrap();
    assert_eq!(one.grants().len(), 1);
    let by_grantee = a
        .list_grants()
        .key_id(&id)
        // The grantee of a grant still there (ids[0] was retired above; which role
        // it belonged to depends on the random ids' order).
        .grantee_principal(&grantee_of[&ids[2]])
        .send()
        .await
        .unwrap();
    assert_eq!(by_grantee.grants().len(), 1);
    assert_eq!(by_grantee.grants()[0].grant_id(), Some(ids[2].as_str()));
    let paged = a.list_grants().key_id(&id).limit(1).send().await.unwrap();
    assert!(paged.truncated());
    assert_eq!(paged.grants()[0].grant_id(), Some(ids[1].as_str()));
    assert_code!(
        a.list_grants().key_id(&id).marker("bogus").send().await,
        "InvalidMarkerException"
    );
    s.stop().await;
}

#[tokio::test]
async fn grants_go_with_their_key() {
    let clock = Arc::new(ManualClock::new());
    let s = TestServer::start_with_clock(clock.clone()).await;
    let a = s.client();
    let b = other_account(&s);
    let (id, _) = new_key(&a).await;
    a.create_grant()
        .key_id(&id)
        .grantee_principal(root_of(OTHER))
        .retiring_principal(root_of(OTHER))
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .unwrap();
    let retirable = || {
        b.list_retirable_grants()
            .retiring_principal(root_of(OTHER))
            .send()
    };
    assert_eq!(retirable().await.unwrap().grants().len(), 1);
    a.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    clock.advance_ms(7 * DAY_MS + 1000);
    let deleted = keyfort_server::jobs::run_deletions_once(&s.kms, Some(&s.audit)).await;
    assert_eq!(deleted.len(), 1);
    assert!(retirable().await.unwrap().grants().is_empty());
    s.stop().await;
}
