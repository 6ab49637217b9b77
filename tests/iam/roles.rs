//! Roles, trust policies, AssumeRole and role sessions.

use std::sync::Arc;

use keyfort_core::clock::ManualClock;

use crate::common::TestServer;
use crate::iam_query::{
    ALLOW_ALL_KMS, Creds, iam, kms_client, send_raw, sts, url_decode, user_with_key,
};

fn trust_for(principal_arn: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal_arn}"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
    )
}

async fn assume(
    s: &TestServer,
    who: &Creds,
    params: &[(&str, &str)],
) -> Result<Creds, crate::iam_query::Reply> {
    let r = sts(s, who, "AssumeRole", params).await;
    if r.status != 200 {
        return Err(r);
    }
    Ok(Creds {
        akid: r.get("AccessKeyId").unwrap(),
        secret: r.get("SecretAccessKey").unwrap(),
        token: Some(r.get("SessionToken").unwrap()),
    })
}

const ROLE: &str = "arn:aws:iam::111122223333:role/app/reader";

async fn setup(s: &TestServer) -> (Creds, Creds) {
    let root = Creds::root();
    let alice = user_with_key(s, "alice").await;
    let bob = user_with_key(s, "bob").await;
    let r = iam(
        s,
        &root,
        "CreateRole",
        &[
            ("RoleName", "reader"),
            ("Path", "/app/"),
            (
                "AssumeRolePolicyDocument",
                &trust_for("arn:aws:iam::111122223333:user/alice"),
            ),
            ("Description", "reads"),
            ("Tags.member.1.Key", "dept"),
            ("Tags.member.1.Value", "sales"),
        ],
    )
    .await
    .ok();
    assert_eq!(r.get("Arn").as_deref(), Some(ROLE));
    assert!(r.get("RoleId").unwrap().starts_with("AROA"));
    assert_eq!(r.get("MaxSessionDuration").as_deref(), Some("3600"));
    iam(
        s,
        &root,
        "PutRolePolicy",
        &[
            ("RoleName", "reader"),
            ("PolicyName", "kms"),
            ("PolicyDocument", ALLOW_ALL_KMS),
        ],
    )
    .await
    .ok();
    (alice, bob)
}

#[tokio::test(flavor = "multi_thread")]
async fn assume_role_and_use_the_session() {
    let s = TestServer::start().await;
    let root = Creds::root();
    let (alice, bob) = setup(&s).await;

    // The trust policy comes back URL-encoded, as from IAM.
    let got = iam(&s, &root, "GetRole", &[("RoleName", "reader")])
        .await
        .ok();
    let doc = url_decode(&got.get("AssumeRolePolicyDocument").unwrap());
    assert!(doc.contains("user/alice"), "{doc}");

    let session = assume(&s, &alice, &[("RoleArn", ROLE), ("RoleSessionName", "s1")])
        .await
        .expect("alice may assume the role");
    assert!(session.akid.starts_with("ASIA"));
    let who = sts(&s, &session, "GetCallerIdentity", &[]).await.ok();
    assert_eq!(
        who.get("Arn").as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/reader/s1")
    );
    let user_id = who.get("UserId").unwrap();
    assert!(
        user_id.starts_with("AROA") && user_id.ends_with(":s1"),
        "{user_id}"
    );

    // The official SDK with the session's credentials (token sent and signed).
    let kms = kms_client(&s, &session);
    kms.list_keys().send().await.expect("session lists keys");
    // Its identity policies are the role's.
    let principal = keyfort_core::Principal {
        kind: keyfort_core::PrincipalKind::AssumedRole {
            role_arn: ROLE.into(),
            session_name: "s1".into(),
        },
        ..keyfort_core::Principal::root(
            keyfort_core::model::AccountId::parse("111122223333").unwrap(),
            session.akid.clone(),
        )
    };
    assert_eq!(s.kms.identity_policies(&principal).unwrap().len(), 1);

    // A token that is changed, missing, unsigned or another session's is refused.
    let mut forged = session.clone();
    let mut t = forged.token.take().unwrap().into_bytes();
    let i = t.len() / 2;
    t[i] = if t[i] == b'A' { b'B' } else { b'A' };
    forged.token = Some(String::from_utf8(t).unwrap());
    sts(&s, &forged, "GetCallerIdentity", &[])
        .await
        .err(403, "InvalidClientTokenId");
    let no_token = Creds {
        token: None,
        ..session.clone()
    };
    sts(&s, &no_token, "GetCallerIdentity", &[])
        .await
        .err(403, "InvalidClientTokenId");
    let body = b"Action=GetCallerIdentity&Version=2011-06-15".to_vec();
    send_raw(&s, &session, "sts", body, false)
        .await
        .err(403, "InvalidClientTokenId");
    let other = assume(&s, &alice, &[("RoleArn", ROLE), ("RoleSessionName", "s2")])
        .await
        .unwrap();
    let swapped = Creds {
        token: other.token.clone(),
        ..session.clone()
    };
    sts(&s, &swapped, "GetCallerIdentity", &[])
        .await
        .err(403, "InvalidClientTokenId");

    // bob is not trusted; a missing role reads the same.
    let r = sts(
        &s,
        &bob,
        "AssumeRole",
        &[("RoleArn", ROLE), ("RoleSessionName", "x1")],
    )
    .await;
    r.err(403, "AccessDenied");
    assert_eq!(
        r.get("Message").as_deref(),
        Some(
            "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/app/reader"
        )
    );
    sts(
        &s,
        &alice,
        "AssumeRole",
        &[
            ("RoleArn", "arn:aws:iam::111122223333:role/nothere"),
            ("RoleSessionName", "x1"),
        ],
    )
    .await
    .err(403, "AccessDenied");
    // Root cannot assume roles.
    sts(
        &s,
        &root,
        "AssumeRole",
        &[("RoleArn", ROLE), ("RoleSessionName", "x1")],
    )
    .await
    .err(403, "AccessDenied");

    // Trust updated to bob: bob may, alice no longer.
    iam(
        &s,
        &root,
        "UpdateAssumeRolePolicy",
        &[
            ("RoleName", "reader"),
            (
                "PolicyDocument",
                &trust_for("arn:aws:iam::111122223333:user/bob"),
            ),
        ],
    )
    .await
    .ok();
    assume(&s, &bob, &[("RoleArn", ROLE), ("RoleSessionName", "b1")])
        .await
        .expect("bob now");
    sts(
        &s,
        &alice,
        "AssumeRole",
        &[("RoleArn", ROLE), ("RoleSessionName", "a9")],
    )
    .await
    .err(403, "AccessDenied");

    // Deleting the role ends its sessions at once.
    iam(&s, &root, "DeleteRole", &[("RoleName", "reader")])
        .await
        .err(409, "DeleteConflict");
    iam(
        &s,
        &root,
        "DeleteRolePolicy",
        &[("RoleName", "reader"), ("PolicyName", "kms")],
    )
    .await
    .ok();
    iam(&s, &root, "DeleteRole", &[("RoleName", "reader")])
        .await
        .ok();
    sts(&s, &session, "GetCallerIdentity", &[])
        .await
        .err(403, "InvalidClientTokenId");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn assume_role_parameters() {
    let s = TestServer::start().await;
    let (alice, _) = setup(&s).await;
    let base = [("RoleArn", ROLE), ("RoleSessionName", "p1")];
    let with = |extra: (&'static str, &'static str)| {
        let mut v = base.to_vec();
        v.push(extra);
        v
    };
    sts(&s, &alice, "AssumeRole", &with(("DurationSeconds", "899")))
        .await
        .err(400, "ValidationError");
    sts(&s, &alice, "AssumeRole", &with(("DurationSeconds", "3601")))
        .await
        .err(400, "ValidationError");
    assume(&s, &alice, &with(("DurationSeconds", "900")))
        .await
        .expect("900 s");
    sts(
        &s,
        &alice,
        "AssumeRole",
        &[("RoleArn", ROLE), ("RoleSessionName", "has space")],
    )
    .await
    .err(400, "ValidationError");
    sts(&s, &alice, "AssumeRole", &[("RoleArn", ROLE)])
        .await
        .err(400, "ValidationError");
    let r = sts(
        &s,
        &alice,
        "AssumeRole",
        &with(("Policy", "{\"Statement\": 5}")),
    )
    .await;
    r.err(400, "MalformedPolicyDocument");

    // A session policy limits the role: only kms:ListKeys.
    let only_list = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}]}"#;
    let limited = assume(&s, &alice, &with(("Policy", only_list)))
        .await
        .expect("with policy");
    let kms = kms_client(&s, &limited);
    kms.list_keys()
        .send()
        .await
        .expect("allowed by the session policy");
    // The role allows kms:*, the session policy does not allow CreateKey.
    crate::assert_code!(kms.create_key().send().await, "AccessDeniedException");
    let full = assume(&s, &alice, &base).await.expect("without policy");
    kms_client(&s, &full)
        .create_key()
        .send()
        .await
        .expect("the role's own policy allows CreateKey");

    // Session tags become principal tags; they need sts:TagSession (the trust allows it).
    let tagged = assume(
        &s,
        &alice,
        &[
            ("RoleArn", ROLE),
            ("RoleSessionName", "t1"),
            ("Tags.member.1.Key", "project"),
            ("Tags.member.1.Value", "x"),
        ],
    )
    .await
    .expect("tags");
    // aws:TokenIssueTime is the session's issue time: a deny for sessions issued
    // before a date (AWS's way to revoke sessions) applies to this one.
    iam(
        &s,
        &Creds::root(),
        "PutRolePolicy",
        &[
            ("RoleName", "reader"),
            ("PolicyName", "iam-read"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"},{"Effect":"Deny","Action":"iam:GetRole","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2000-01-01T00:00:00Z"}}}]}"#,
            ),
        ],
    )
    .await
    .ok();
    let fresh = assume(&s, &alice, &base).await.unwrap();
    iam(&s, &fresh, "GetRole", &[("RoleName", "reader")])
        .await
        .ok();
    iam(
        &s,
        &Creds::root(),
        "PutRolePolicy",
        &[
            ("RoleName", "reader"),
            ("PolicyName", "iam-read"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetRole","Resource":"*"},{"Effect":"Deny","Action":"iam:GetRole","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2999-01-01T00:00:00Z"}}}]}"#,
            ),
        ],
    )
    .await
    .ok();
    iam(&s, &fresh, "GetRole", &[("RoleName", "reader")])
        .await
        .err(403, "AccessDenied");

    let who = sts(&s, &tagged, "GetCallerIdentity", &[]).await.ok();
    assert!(who.get("Arn").unwrap().ends_with("reader/t1"));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_expire() {
    let clock = Arc::new(ManualClock::new());
    let s = TestServer::start_with_clock(clock.clone()).await;
    let (alice, _) = setup(&s).await;
    let session = assume(
        &s,
        &alice,
        &[
            ("RoleArn", ROLE),
            ("RoleSessionName", "short"),
            ("DurationSeconds", "900"),
        ],
    )
    .await
    .unwrap();
    let kms = kms_client(&s, &session);
    kms.list_keys().send().await.expect("fresh");
    clock.advance_ms(899_000);
    sts(&s, &session, "GetCallerIdentity", &[]).await.ok();
    clock.advance_ms(1_000);
    let r = sts(&s, &session, "GetCallerIdentity", &[]).await;
    r.err(403, "ExpiredToken");
    assert_eq!(
        r.get("Message").as_deref(),
        Some("The security token included in the request is expired")
    );
    crate::assert_code!(kms.list_keys().send().await, "ExpiredTokenException");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_account_assume_role_needs_both_sides() {
    let s = TestServer::start().await;
    let root_a = Creds::root();
    // Account B, with its own root credentials.
    let b = keyfort_core::model::AccountId::parse("222233334444").unwrap();
    s.kms.ensure_account(&b).unwrap();
    s.kms
        .add_root_access_key(
            &b,
            "AKIAKEYFORTACCOUNTB1",
            &keyfort_crypto::SecretBytes::new(b"secret-of-account-b-0123456789".to_vec()),
        )
        .unwrap();
    let root_b = Creds {
        akid: "AKIAKEYFORTACCOUNTB1".into(),
        secret: "secret-of-account-b-0123456789".into(),
        token: None,
    };
    // B's role trusts account A as a whole.
    let role_arn = "arn:aws:iam::222233334444:role/shared";
    iam(
        &s,
        &root_b,
        "CreateRole",
        &[
            ("RoleName", "shared"),
            (
                "AssumeRolePolicyDocument",
                &trust_for("arn:aws:iam::111122223333:root"),
            ),
        ],
    )
    .await
    .ok();
    // A's IAM does not see B's role.
    iam(&s, &root_a, "GetRole", &[("RoleName", "shared")])
        .await
        .err(404, "NoSuchEntity");

    let alice = user_with_key(&s, "alice").await;
    let params = [("RoleArn", role_arn), ("RoleSessionName", "xacct")];
    // The trust policy allows A, but alice's identity policy does not allow yet.
    sts(&s, &alice, "AssumeRole", &params)
        .await
        .err(403, "AccessDenied");
    let allow = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role_arn}"}}]}}"#
    );
    iam(
        &s,
        &root_a,
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "assume"),
            ("PolicyDocument", &allow),
        ],
    )
    .await
    .ok();
    let session = assume(&s, &alice, &params).await.expect("both sides allow");
    let who = sts(&s, &session, "GetCallerIdentity", &[]).await.ok();
    assert_eq!(who.get("Account").as_deref(), Some("222233334444"));
    assert_eq!(
        who.get("Arn").as_deref(),
        Some("arn:aws:sts::222233334444:assumed-role/shared/xacct")
    );
    // B's trust changed to another account: alice's policy alone is not enough.
    iam(
        &s,
        &root_b,
        "UpdateAssumeRolePolicy",
        &[
            ("RoleName", "shared"),
            (
                "PolicyDocument",
                &trust_for("arn:aws:iam::999999999999:root"),
            ),
        ],
    )
    .await
    .ok();
    sts(&s, &alice, "AssumeRole", &params)
        .await
        .err(403, "AccessDenied");
    s.stop().await;
}
