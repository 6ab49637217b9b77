//! Key policies enforced on every operation: the account root is bound by the key
//! policy, explicit denies win, conditions see the request (encryption context,
//! aliases, source address, transport), the lockout safety check, and keys shared with
//! another account by their key policy.

use aws_sdk_kms::primitives::Blob;
use keyfort_core::model::AccountId;
use keyfort_crypto::SecretBytes;

use crate::assert_code;
use crate::common::{ACCOUNT, TestServer};

/// The second account of these tests and its root credentials.
pub const OTHER: &str = "444455556666";
pub const OTHER_AKID: &str = "AKIAKEYFORTTESTROOT2";
pub const OTHER_SECRET: &str = "kfOtherSecretKey/0123456789abcdefghijKLM";

/// Creates the second account in the running server, with root credentials.
pub fn other_account(s: &TestServer) -> aws_sdk_kms::Client {
    let acct = AccountId::parse(OTHER).unwrap();
    s.kms.ensure_account(&acct).unwrap();
    s.kms
        .add_root_access_key(
            &acct,
            OTHER_AKID,
            &SecretBytes::new(OTHER_SECRET.as_bytes().to_vec()),
        )
        .unwrap();
    s.client_as(OTHER_AKID, OTHER_SECRET, "us-east-1")
}

/// A policy document from statements (JSON text of each).
pub fn policy(statements: &[String]) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

/// A statement allowing `actions` (JSON array text or a string) to `principal`.
pub fn allow(principal: &str, actions: &str) -> String {
    format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":{actions},"Resource":"*"}}"#
    )
}

pub fn root_of(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// The account root may do everything (what the default policy says, spelled out).
pub fn admin() -> String {
    allow(&root_of(ACCOUNT), r#""kms:*""#)
}

fn message<E, R>(e: &aws_sdk_kms::error::SdkError<E, R>) -> String
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e {
        aws_sdk_kms::error::SdkError::ServiceError(s) => {
            s.err().message().unwrap_or_default().to_owned()
        }
        other => panic!("not a service error: {other:?}"),
    }
}

pub async fn key_with_policy(
    c: &aws_sdk_kms::Client,
    policy: &str,
    bypass: bool,
) -> (String, String) {
    let m = c
        .create_key()
        .policy(policy)
        .bypass_policy_lockout_safety_check(bypass)
        .send()
        .await
        .unwrap();
    let m = m.key_metadata().unwrap();
    (m.key_id().to_owned(), m.arn().unwrap().to_owned())
}

fn pt(b: &[u8]) -> Blob {
    Blob::new(b.to_vec())
}

#[tokio::test]
async fn the_key_policy_binds_even_the_account_root() {
    let s = TestServer::start().await;
    let c = s.client();
    // Only DescribeKey: the lockout check refuses it unless bypassed.
    let only_describe = policy(&[allow(&root_of(ACCOUNT), r#""kms:DescribeKey""#)]);
    assert_code!(
        c.create_key().policy(&only_describe).send().await,
        "MalformedPolicyDocumentException"
    );
    let (id, arn) = key_with_policy(&c, &only_describe, true).await;
    c.describe_key().key_id(&id).send().await.unwrap();
    let e = c
        .encrypt()
        .key_id(&id)
        .plaintext(pt(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(crate::common::code(&e), "AccessDeniedException");
    assert_eq!(
        message(&e),
        format!(
            "User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: kms:Encrypt on resource: {arn} because no resource-based policy allows the kms:Encrypt action"
        )
    );
    // Every other operation is refused as well, including the policy's own.
    assert_code!(
        c.get_key_policy().key_id(&id).send().await,
        "AccessDeniedException"
    );
    assert_code!(
        c.put_key_policy()
            .key_id(&id)
            .policy(admin_policy())
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_code!(
        c.disable_key().key_id(&id).send().await,
        "AccessDeniedException"
    );
    assert_code!(
        c.schedule_key_deletion().key_id(&id).send().await,
        "AccessDeniedException"
    );
    assert_code!(
        c.create_alias()
            .alias_name("alias/locked")
            .target_key_id(&id)
            .send()
            .await,
        "AccessDeniedException"
    );
    // Denied before DryRun answers; allowed, DryRun answers.
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(pt(b"x"))
            .dry_run(true)
            .send()
            .await,
        "AccessDeniedException"
    );
    let (open, _) = key_with_policy(&c, &admin_policy(), false).await;
    assert_code!(
        c.encrypt()
            .key_id(&open)
            .plaintext(pt(b"x"))
            .dry_run(true)
            .send()
            .await,
        "DryRunOperationException"
    );
    s.stop().await;
}

fn admin_policy() -> String {
    policy(&[admin()])
}

#[tokio::test]
async fn an_explicit_deny_wins_and_says_so() {
    let s = TestServer::start().await;
    let c = s.client();
    let deny = format!(
        r#"{{"Effect":"Deny","Principal":{{"AWS":"{}"}},"Action":"kms:Decrypt","Resource":"*"}}"#,
        root_of(ACCOUNT)
    );
    let (id, arn) = key_with_policy(&c, &policy(&[admin(), deny]), false).await;
    let ct = c
        .encrypt()
        .key_id(&id)
        .plaintext(pt(b"secret"))
        .send()
        .await
        .unwrap();
    let e = c
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(crate::common::code(&e), "AccessDeniedException");
    assert_eq!(
        message(&e),
        format!(
            "User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: kms:Decrypt on resource: {arn} with an explicit deny in a resource-based policy"
        )
    );
    s.stop().await;
}

#[tokio::test]
async fn encryption_context_conditions() {
    let s = TestServer::start().await;
    let c = s.client();
    // Encrypt and Decrypt only with Dept=Sales; GenerateDataKey only when every
    // context key is one of Dept and Project.
    let only_sales = format!(
        r#"{{"Effect":"Deny","Principal":{{"AWS":"{}"}},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*",
            "Condition":{{"StringNotEquals":{{"kms:EncryptionContext:Dept":"Sales"}}}}}}"#,
        root_of(ACCOUNT)
    );
    let known_keys = format!(
        r#"{{"Effect":"Deny","Principal":{{"AWS":"{}"}},"Action":"kms:GenerateDataKey","Resource":"*",
            "Condition":{{"ForAnyValue:StringNotEquals":{{"kms:EncryptionContextKeys":["Dept","Project"]}}}}}}"#,
        root_of(ACCOUNT)
    );
    let (id, _) = key_with_policy(&c, &policy(&[admin(), only_sales, known_keys]), false).await;
    let ct = c
        .encrypt()
        .key_id(&id)
        .plaintext(pt(b"q3"))
        .encryption_context("Dept", "Sales")
        .send()
        .await
        .unwrap();
    c.decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .encryption_context("Dept", "Sales")
        .send()
        .await
        .unwrap();
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(pt(b"q3"))
            .encryption_context("Dept", "HR")
            .send()
            .await,
        "AccessDeniedException"
    );
    // The context key's name is case sensitive; its absence does not satisfy it.
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(pt(b"q3"))
            .encryption_context("dept", "Sales")
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_code!(
        c.encrypt().key_id(&id).plaintext(pt(b"q3")).send().await,
        "AccessDeniedException"
    );
    c.generate_data_key()
        .key_id(&id)
        .number_of_bytes(32)
        .encryption_context("Dept", "Sales")
        .encryption_context("Project", "X")
        .send()
        .await
        .unwrap();
    assert_code!(
        c.generate_data_key()
            .key_id(&id)
            .number_of_bytes(32)
            .encryption_context("Dept", "Sales")
            .encryption_context("Owner", "me")
            .send()
            .await,
        "AccessDeniedException"
    );
    s.stop().await;
}

#[tokio::test]
async fn alias_conditions_and_connection_conditions() {
    let s = TestServer::start().await;
    let c = s.client();
    let root = root_of(ACCOUNT);
    // Encrypt through an alias only if it is one of the good ones; never while the
    // key has a "locked" alias; only from loopback; never over plain HTTP for Sign.
    let statements = [
        admin(),
        format!(
            r#"{{"Effect":"Deny","Principal":{{"AWS":"{root}"}},"Action":"kms:Encrypt","Resource":"*",
                "Condition":{{"Null":{{"kms:RequestAlias":"false"}},"StringNotLike":{{"kms:RequestAlias":"alias/good*"}}}}}}"#
        ),
        format!(
            r#"{{"Effect":"Deny","Principal":{{"AWS":"{root}"}},"Action":"kms:Encrypt","Resource":"*",
                "Condition":{{"ForAnyValue:StringLike":{{"kms:ResourceAliases":"alias/locked*"}}}}}}"#
        ),
        format!(
            r#"{{"Effect":"Deny","Principal":{{"AWS":"{root}"}},"Action":"kms:DescribeKey","Resource":"*",
                "Condition":{{"NotIpAddress":{{"aws:SourceIp":"127.0.0.0/8"}}}}}}"#
        ),
        format!(
            r#"{{"Effect":"Deny","Principal":{{"AWS":"{root}"}},"Action":"kms:GetKeyRotationStatus","Resource":"*",
                "Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}"#
        ),
    ];
    let (id, _) = key_with_policy(&c, &policy(&statements), false).await;
    for name in ["alias/good-1", "alias/bad-1"] {
        c.create_alias()
            .alias_name(name)
            .target_key_id(&id)
            .send()
            .await
            .unwrap();
    }
    let enc = |k: &str| c.encrypt().key_id(k).plaintext(pt(b"a")).send();
    enc(&id).await.unwrap();
    enc("alias/good-1").await.unwrap();
    assert_code!(enc("alias/bad-1").await, "AccessDeniedException");
    c.create_alias()
        .alias_name("alias/locked-1")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    assert_code!(enc(&id).await, "AccessDeniedException");
    c.delete_alias()
        .alias_name("alias/locked-1")
        .send()
        .await
        .unwrap();
    enc(&id).await.unwrap();
    // From 127.0.0.1: allowed. Over plain HTTP: the SecureTransport deny applies.
    c.describe_key().key_id(&id).send().await.unwrap();
    assert_code!(
        c.get_key_rotation_status().key_id(&id).send().await,
        "AccessDeniedException"
    );
    s.stop().await;
}

#[tokio::test]
async fn policy_lockout_safety_check() {
    let s = TestServer::start().await;
    let c = s.client();
    let no_put = policy(&[format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"NotAction":"kms:PutKeyPolicy","Resource":"*"}}"#,
        root_of(ACCOUNT)
    )]);
    let e = c.create_key().policy(&no_put).send().await.unwrap_err();
    assert_eq!(crate::common::code(&e), "MalformedPolicyDocumentException");
    assert!(message(&e).contains("will not allow you to update the key policy"));
    // A policy naming only another account locks the caller out too.
    let other_only = policy(&[allow(&root_of(OTHER), r#""kms:*""#)]);
    assert_code!(
        c.create_key().policy(&other_only).send().await,
        "MalformedPolicyDocumentException"
    );
    // An explicit deny of PutKeyPolicy as well.
    let deny_put = policy(&[
        admin(),
        format!(
            r#"{{"Effect":"Deny","Principal":{{"AWS":"{}"}},"Action":"kms:PutKeyPolicy","Resource":"*"}}"#,
            root_of(ACCOUNT)
        ),
    ]);
    assert_code!(
        c.create_key().policy(&deny_put).send().await,
        "MalformedPolicyDocumentException"
    );
    // PutKeyPolicy applies the same check to the new policy.
    let (id, _) = key_with_policy(&c, &admin_policy(), false).await;
    assert_code!(
        c.put_key_policy().key_id(&id).policy(&no_put).send().await,
        "MalformedPolicyDocumentException"
    );
    c.encrypt()
        .key_id(&id)
        .plaintext(pt(b"a"))
        .send()
        .await
        .unwrap();
    // Bypassing it locks the root out for good.
    c.put_key_policy()
        .key_id(&id)
        .policy(&no_put)
        .bypass_policy_lockout_safety_check(true)
        .send()
        .await
        .unwrap();
    assert_code!(
        c.put_key_policy()
            .key_id(&id)
            .policy(admin_policy())
            .send()
            .await,
        "AccessDeniedException"
    );
    c.encrypt()
        .key_id(&id)
        .plaintext(pt(b"a"))
        .send()
        .await
        .unwrap();
    // A malformed document says what is wrong.
    let e = c
        .put_key_policy()
        .key_id(&id)
        .policy(r#"{"Statement":{"Effect":"Allow","Action":"kms:*"}}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(crate::common::code(&e), "MalformedPolicyDocumentException");
    assert!(message(&e).contains("Principal"), "{}", message(&e));
    s.stop().await;
}

#[tokio::test]
async fn another_accounts_key_is_usable_only_as_its_policy_and_arn_allow() {
    let s = TestServer::start().await;
    let a = s.client();
    let b = other_account(&s);
    let (id, arn) = key_with_policy(&a, &admin_policy(), false).await;
    let missing_arn =
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-4000-8000-000000000000");

    // Not shared yet: by ARN, AccessDenied worded exactly as for a key that does not
    // exist; by id or alias, B's own namespace (NotFound).
    let e = b
        .encrypt()
        .key_id(&arn)
        .plaintext(pt(b"x"))
        .send()
        .await
        .unwrap_err();
    let e_missing = b
        .encrypt()
        .key_id(&missing_arn)
        .plaintext(pt(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(crate::common::code(&e), "AccessDeniedException");
    assert_eq!(crate::common::code(&e_missing), "AccessDeniedException");
    assert_eq!(
        message(&e).replace(&id, "ID"),
        message(&e_missing).replace("00000000-0000-4000-8000-000000000000", "ID")
    );
    assert!(message(&e).starts_with(&format!("User: {} is not", root_of(OTHER))));
    assert_code!(
        b.encrypt().key_id(&id).plaintext(pt(b"x")).send().await,
        "NotFoundException"
    );

    // A shares Encrypt, Decrypt and DescribeKey with B's account.
    let shared = policy(&[
        admin(),
        allow(
            &root_of(OTHER),
            r#"["kms:Encrypt","kms:Decrypt","kms:DescribeKey","kms:EnableKey"]"#,
        ),
    ]);
    a.put_key_policy()
        .key_id(&id)
        .policy(&shared)
        .send()
        .await
        .unwrap();
    let ct = b
        .encrypt()
        .key_id(&arn)
        .plaintext(pt(b"from b"))
        .send()
        .await
        .unwrap();
    assert_eq!(ct.key_id(), Some(arn.as_str()));
    // The blob names the key: Decrypt needs no KeyId, in either account.
    let out = b
        .decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(out.plaintext().unwrap().as_ref(), b"from b");
    a.decrypt()
        .ciphertext_blob(ct.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    let m = b.describe_key().key_id(&arn).send().await.unwrap();
    assert_eq!(m.key_metadata().unwrap().aws_account_id(), Some(ACCOUNT));
    // Still by ARN only, and only what the policy names; operations AWS never allows
    // across accounts stay out of reach even when the policy names them.
    assert_code!(
        b.describe_key().key_id(&id).send().await,
        "NotFoundException"
    );
    assert_code!(
        b.generate_data_key()
            .key_id(&arn)
            .number_of_bytes(16)
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_code!(
        b.enable_key().key_id(&arn).send().await,
        "NotFoundException"
    );
    // Aliases never cross accounts.
    a.create_alias()
        .alias_name("alias/shared")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    assert_code!(
        b.encrypt()
            .key_id(format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/shared"))
            .plaintext(pt(b"x"))
            .send()
            .await,
        "NotFoundException"
    );
    // B's ListKeys shows B's keys only.
    assert!(b.list_keys().send().await.unwrap().keys().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn aws_managed_keys_answer_their_policy() {
    let s = TestServer::start().await;
    let c = s.client();
    // The managed key's policy lets principals use it only through the service
    // (kms:ViaService); direct use is refused, reading its metadata is allowed.
    c.describe_key()
        .key_id("alias/aws/s3")
        .send()
        .await
        .unwrap();
    assert_code!(
        c.encrypt()
            .key_id("alias/aws/s3")
            .plaintext(pt(b"x"))
            .send()
            .await,
        "AccessDeniedException"
    );
    c.get_key_policy()
        .key_id("alias/aws/s3")
        .send()
        .await
        .unwrap();
    s.stop().await;
}

#[tokio::test]
async fn list_and_random_operations_stay_available_to_the_root() {
    let s = TestServer::start().await;
    let c = s.client();
    c.list_keys().send().await.unwrap();
    c.list_aliases().send().await.unwrap();
    c.generate_random().number_of_bytes(8).send().await.unwrap();
    s.stop().await;
}

/// A denied request on another account's key leaves that key out of the caller's
/// audit record (its `resources`), so the trail does not tell that the key exists; an
/// allowed one lists it.
#[tokio::test]
async fn a_denied_foreign_key_is_not_in_the_callers_audit_resources() {
    let s = TestServer::start().await;
    let a = s.client();
    other_account(&s);
    let (id, arn) = key_with_policy(&a, &admin_policy(), false).await;
    let b_root = keyfort_core::Principal::root(AccountId::parse(OTHER).unwrap(), OTHER_AKID);
    let encrypt = |key: &str| {
        let log = keyfort_core::ResourceLog::default();
        let caller = keyfort_core::Caller {
            principal: &b_root,
            region: "us-east-1",
            resources: &log,
            source_ip: None,
            secure_transport: false,
            via_service: None,
        };
        let op = keyfort_core::api::parse(
            "Encrypt",
            format!(r#"{{"KeyId":"{key}","Plaintext":"AAAA"}}"#).as_bytes(),
        )
        .unwrap();
        let result = s.kms.execute(&caller, op).map(drop).map_err(|e| e.code());
        (result, log.take())
    };
    assert_eq!(encrypt(&arn), (Err("AccessDeniedException"), vec![]));
    let shared = policy(&[admin(), allow(&root_of(OTHER), r#""kms:Encrypt""#)]);
    a.put_key_policy()
        .key_id(&id)
        .policy(&shared)
        .send()
        .await
        .unwrap();
    assert_eq!(encrypt(&arn), (Ok(()), vec![arn.clone()]));
    s.stop().await;
}

#[tokio::test]
async fn a_key_policy_naming_a_user_or_role_that_does_not_exist_is_refused() {
    let s = TestServer::start().await;
    let c = s.client();
    let acct = keyfort_core::model::AccountId::parse(ACCOUNT).unwrap();
    let invalid = "Policy contains a statement with one or more invalid principals.";
    let naming = |who: &str| {
        policy(&[
            admin(),
            allow(&format!("arn:aws:iam::{ACCOUNT}:{who}"), r#""kms:Encrypt""#),
        ])
    };
    for who in ["user/ghost", "role/ghost", "user/team/ghost"] {
        let e = c.create_key().policy(naming(who)).send().await.unwrap_err();
        assert_eq!(crate::common::code(&e), "MalformedPolicyDocumentException");
        assert_eq!(message(&e), invalid, "{who}");
    }
    // Made, they can be named (a user by its ARN with its path).
    s.kms
        .iam_create_user(&acct, "ghost", "/team/", Vec::new())
        .unwrap();
    let (id, _) = key_with_policy(&c, &naming("user/team/ghost"), false).await;
    // The same name on another path is another principal.
    let e = c
        .put_key_policy()
        .key_id(&id)
        .policy_name("default")
        .policy(naming("user/ghost"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(message(&e), invalid);
    // Account roots, "*" and role sessions are not looked up (sessions come and go).
    for who in [
        "arn:aws:iam::999999999999:root".to_owned(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/app/session"),
    ] {
        c.put_key_policy()
            .key_id(&id)
            .policy_name("default")
            .policy(policy(&[admin(), allow(&who, r#""kms:Encrypt""#)]))
            .send()
            .await
            .unwrap();
    }
    s.stop().await;
}
