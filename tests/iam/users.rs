//! IAM users and access keys: created over the Query protocol by the account root,
//! then used with the official aws-sdk-kms.

use crate::common::{self, TestServer};
use crate::iam_query::{ALLOW_ALL_KMS, Creds, iam, kms_client, sts, user_with_key};

#[tokio::test(flavor = "multi_thread")]
async fn user_lifecycle_in_aws_shapes() {
    let s = TestServer::start().await;
    let root = Creds::root();
    let r = iam(
        &s,
        &root,
        "CreateUser",
        &[
            ("UserName", "alice"),
            ("Path", "/dev/"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "blue"),
        ],
    )
    .await
    .ok();
    assert!(r.body.contains("<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateUserResult><User>"), "{}", r.body);
    assert!(r.body.contains("<ResponseMetadata><RequestId>"));
    assert_eq!(
        r.get("Arn").as_deref(),
        Some("arn:aws:iam::111122223333:user/dev/alice")
    );
    assert!(r.get("UserId").unwrap().starts_with("AIDA"));

    // Names are unique ignoring case: 409 EntityAlreadyExists.
    iam(&s, &root, "CreateUser", &[("UserName", "ALICE")])
        .await
        .err(409, "EntityAlreadyExists");
    iam(&s, &root, "GetUser", &[("UserName", "nobody")])
        .await
        .err(404, "NoSuchEntity");
    iam(&s, &root, "CreateUser", &[("UserName", "bad name")])
        .await
        .err(400, "ValidationError");

    let r = iam(&s, &root, "GetUser", &[("UserName", "alice")])
        .await
        .ok();
    assert_eq!(r.get("Path").as_deref(), Some("/dev/"));
    assert_eq!(r.get("Value").as_deref(), Some("blue"));

    // Pagination: MaxItems and Marker.
    for n in ["bob", "carol", "dave"] {
        iam(&s, &root, "CreateUser", &[("UserName", n)]).await.ok();
    }
    let p1 = iam(&s, &root, "ListUsers", &[("MaxItems", "2")]).await.ok();
    assert_eq!(p1.all("UserName"), vec!["alice", "bob"]);
    assert_eq!(p1.get("IsTruncated").as_deref(), Some("true"));
    let marker = p1.get("Marker").unwrap();
    let p2 = iam(
        &s,
        &root,
        "ListUsers",
        &[("MaxItems", "2"), ("Marker", &marker)],
    )
    .await
    .ok();
    assert_eq!(p2.all("UserName"), vec!["carol", "dave"]);
    assert_eq!(p2.get("IsTruncated").as_deref(), Some("false"));
    let dev = iam(&s, &root, "ListUsers", &[("PathPrefix", "/dev/")])
        .await
        .ok();
    assert_eq!(dev.all("UserName"), vec!["alice"]);

    // Tags.
    iam(
        &s,
        &root,
        "TagUser",
        &[
            ("UserName", "alice"),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "red"),
            ("Tags.member.2.Key", "cost"),
            ("Tags.member.2.Value", "42"),
        ],
    )
    .await
    .ok();
    let t = iam(&s, &root, "ListUserTags", &[("UserName", "alice")])
        .await
        .ok();
    assert_eq!(t.all("Key"), vec!["team", "cost"]);
    assert_eq!(t.all("Value"), vec!["red", "42"]);
    iam(
        &s,
        &root,
        "UntagUser",
        &[("UserName", "alice"), ("TagKeys.member.1", "team")],
    )
    .await
    .ok();
    let t = iam(&s, &root, "ListUserTags", &[("UserName", "alice")])
        .await
        .ok();
    assert_eq!(t.all("Key"), vec!["cost"]);

    // DeleteUser is refused while the user has keys or policies.
    let k = iam(&s, &root, "CreateAccessKey", &[("UserName", "alice")])
        .await
        .ok();
    let akid = k.get("AccessKeyId").unwrap();
    iam(&s, &root, "DeleteUser", &[("UserName", "alice")])
        .await
        .err(409, "DeleteConflict");
    iam(
        &s,
        &root,
        "DeleteAccessKey",
        &[("UserName", "alice"), ("AccessKeyId", &akid)],
    )
    .await
    .ok();
    iam(&s, &root, "DeleteUser", &[("UserName", "alice")])
        .await
        .ok();
    iam(&s, &root, "GetUser", &[("UserName", "alice")])
        .await
        .err(404, "NoSuchEntity");
    // Unknown action: InvalidAction.
    iam(&s, &root, "CreateLoginProfile", &[("UserName", "bob")])
        .await
        .err(400, "InvalidAction");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn access_keys_authenticate_and_stop_at_once() {
    let s = TestServer::start().await;
    let root = Creds::root();
    let alice = user_with_key(&s, "alice").await;
    assert!(alice.akid.starts_with("AKIA") && alice.secret.len() == 40);
    // Authenticated, but no identity policy allows KMS yet.
    crate::assert_code!(
        kms_client(&s, &alice).list_keys().send().await,
        "AccessDeniedException"
    );
    iam(
        &s,
        &root,
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "kms"),
            ("PolicyDocument", ALLOW_ALL_KMS),
        ],
    )
    .await
    .ok();

    // STS and KMS accept the user's key.
    let who = sts(&s, &alice, "GetCallerIdentity", &[]).await.ok();
    assert_eq!(
        who.get("Arn").as_deref(),
        Some("arn:aws:iam::111122223333:user/alice")
    );
    assert!(who.get("UserId").unwrap().starts_with("AIDA"));
    assert_eq!(who.get("Account").as_deref(), Some(common::ACCOUNT));
    let kms = kms_client(&s, &alice);
    kms.list_keys().send().await.expect("alice lists keys");

    // At most two keys.
    iam(&s, &root, "CreateAccessKey", &[("UserName", "alice")])
        .await
        .ok();
    iam(&s, &root, "CreateAccessKey", &[("UserName", "alice")])
        .await
        .err(409, "LimitExceeded");
    let keys = iam(&s, &root, "ListAccessKeys", &[("UserName", "alice")])
        .await
        .ok();
    assert_eq!(keys.all("AccessKeyId").len(), 2);
    assert!(!keys.body.contains("SecretAccessKey"));

    // Inactive: refused at once, by KMS and by STS; active again: accepted.
    iam(
        &s,
        &root,
        "UpdateAccessKey",
        &[
            ("UserName", "alice"),
            ("AccessKeyId", &alice.akid),
            ("Status", "Inactive"),
        ],
    )
    .await
    .ok();
    crate::assert_code!(kms.list_keys().send().await, "UnrecognizedClientException");
    sts(&s, &alice, "GetCallerIdentity", &[])
        .await
        .err(403, "InvalidClientTokenId");
    let keys = iam(&s, &root, "ListAccessKeys", &[("UserName", "alice")])
        .await
        .ok();
    assert!(keys.body.contains("<Status>Inactive</Status>"));
    iam(
        &s,
        &root,
        "UpdateAccessKey",
        &[
            ("UserName", "alice"),
            ("AccessKeyId", &alice.akid),
            ("Status", "Active"),
        ],
    )
    .await
    .ok();
    kms.list_keys().send().await.expect("active again");

    // A user manages its own keys when its policy allows (UserName defaults to itself).
    iam(&s, &alice, "ListAccessKeys", &[])
        .await
        .err(403, "AccessDenied");

    // Deleted: refused at once.
    iam(
        &s,
        &root,
        "DeleteAccessKey",
        &[("UserName", "alice"), ("AccessKeyId", &alice.akid)],
    )
    .await
    .ok();
    crate::assert_code!(kms.list_keys().send().await, "UnrecognizedClientException");
    // Another user's key id is NoSuchEntity under the wrong user.
    let bob = user_with_key(&s, "bob").await;
    iam(
        &s,
        &root,
        "DeleteAccessKey",
        &[("UserName", "carol"), ("AccessKeyId", &bob.akid)],
    )
    .await
    .err(404, "NoSuchEntity");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_actions_need_identity_policies() {
    let s = TestServer::start().await;
    let root = Creds::root();
    let alice = user_with_key(&s, "alice").await;
    let r = iam(&s, &alice, "CreateUser", &[("UserName", "mallory")]).await;
    r.err(403, "AccessDenied");
    assert_eq!(
        r.get("Message").as_deref(),
        Some(
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/mallory because no identity-based policy allows the iam:CreateUser action"
        )
    );
    assert_eq!(r.get("Type").as_deref(), Some("Sender"));

    // A managed policy attached to a group alice is in allows user management under /team/.
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:GetUser"],"Resource":"arn:aws:iam::111122223333:user/team/*"}]}"#;
    let p = iam(
        &s,
        &root,
        "CreatePolicy",
        &[("PolicyName", "TeamAdmin"), ("PolicyDocument", doc)],
    )
    .await
    .ok();
    let policy_arn = p.get("Arn").unwrap();
    assert_eq!(policy_arn, "arn:aws:iam::111122223333:policy/TeamAdmin");
    iam(&s, &root, "CreateGroup", &[("GroupName", "admins")])
        .await
        .ok();
    iam(
        &s,
        &root,
        "AttachGroupPolicy",
        &[("GroupName", "admins"), ("PolicyArn", &policy_arn)],
    )
    .await
    .ok();
    iam(
        &s,
        &root,
        "AddUserToGroup",
        &[("GroupName", "admins"), ("UserName", "alice")],
    )
    .await
    .ok();
    iam(
        &s,
        &alice,
        "CreateUser",
        &[("UserName", "bob"), ("Path", "/team/")],
    )
    .await
    .ok();
    iam(&s, &alice, "CreateUser", &[("UserName", "eve")])
        .await
        .err(403, "AccessDenied");

    // An explicit deny in an inline policy wins.
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}"#;
    iam(
        &s,
        &root,
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "no"),
            ("PolicyDocument", deny),
        ],
    )
    .await
    .ok();
    let r = iam(
        &s,
        &alice,
        "CreateUser",
        &[("UserName", "carl"), ("Path", "/team/")],
    )
    .await;
    r.err(403, "AccessDenied");
    assert!(
        r.get("Message")
            .unwrap()
            .ends_with("with an explicit deny in an identity-based policy"),
        "{}",
        r.body
    );
    // The policy cannot be deleted while attached; detach, then it can.
    iam(&s, &root, "DeletePolicy", &[("PolicyArn", &policy_arn)])
        .await
        .err(409, "DeleteConflict");
    let got = iam(&s, &root, "GetPolicy", &[("PolicyArn", &policy_arn)])
        .await
        .ok();
    assert_eq!(got.get("AttachmentCount").as_deref(), Some("1"));
    iam(
        &s,
        &root,
        "DetachGroupPolicy",
        &[("GroupName", "admins"), ("PolicyArn", &policy_arn)],
    )
    .await
    .ok();
    iam(&s, &alice, "GetUser", &[("UserName", "bob")])
        .await
        .err(403, "AccessDenied");
    iam(&s, &root, "DeletePolicy", &[("PolicyArn", &policy_arn)])
        .await
        .ok();
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_policies_are_inline_managed_and_group_parsed_once() {
    let s = TestServer::start().await;
    let root = Creds::root();
    let alice = user_with_key(&s, "alice").await;
    let doc = |action: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
        )
    };
    let put = |kind: &'static str, name: &'static str, d: String| {
        let s = &s;
        let root = root.clone();
        async move {
            let field = if kind == "User" {
                "UserName"
            } else {
                "GroupName"
            };
            iam(
                s,
                &root,
                &format!("Put{kind}Policy"),
                &[(field, name), ("PolicyName", "p"), ("PolicyDocument", &d)],
            )
            .await
            .ok();
        }
    };
    put("User", "alice", doc("kms:Encrypt")).await;
    let arn = iam(
        &s,
        &root,
        "CreatePolicy",
        &[("PolicyName", "m"), ("PolicyDocument", &doc("kms:Decrypt"))],
    )
    .await
    .ok()
    .get("Arn")
    .unwrap();
    iam(
        &s,
        &root,
        "AttachUserPolicy",
        &[("UserName", "alice"), ("PolicyArn", &arn)],
    )
    .await
    .ok();
    iam(&s, &root, "CreateGroup", &[("GroupName", "g")])
        .await
        .ok();
    put("Group", "g", doc("kms:DescribeKey")).await;
    iam(
        &s,
        &root,
        "AddUserToGroup",
        &[("GroupName", "g"), ("UserName", "alice")],
    )
    .await
    .ok();

    let groups = iam(&s, &root, "ListGroupsForUser", &[("UserName", "alice")])
        .await
        .ok();
    assert_eq!(groups.all("GroupName"), vec!["g"]);
    let all = iam(&s, &root, "ListGroups", &[]).await.ok();
    assert_eq!(all.all("GroupName"), vec!["g"]);
    let got = iam(&s, &root, "GetGroup", &[("GroupName", "g")]).await.ok();
    assert_eq!(got.all("UserName"), vec!["alice"]);
    iam(&s, &root, "DeleteGroup", &[("GroupName", "g")])
        .await
        .err(409, "DeleteConflict");

    let principal = s
        .kms
        .credential(&alice.akid)
        .unwrap()
        .unwrap()
        .principal
        .clone();
    assert_eq!(principal.user_name(), Some("alice"));
    assert!(principal.user_id.starts_with("AIDA"));
    let first = s.kms.identity_policies(&principal).unwrap();
    assert_eq!(first.len(), 3);
    // Cached: the same parsed policies until something changes.
    let again = s.kms.identity_policies(&principal).unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again));

    iam(
        &s,
        &root,
        "DetachUserPolicy",
        &[("UserName", "alice"), ("PolicyArn", &arn)],
    )
    .await
    .ok();
    assert_eq!(s.kms.identity_policies(&principal).unwrap().len(), 2);
    iam(
        &s,
        &root,
        "RemoveUserFromGroup",
        &[("GroupName", "g"), ("UserName", "alice")],
    )
    .await
    .ok();
    assert_eq!(s.kms.identity_policies(&principal).unwrap().len(), 1);
    iam(
        &s,
        &root,
        "DeleteUserPolicy",
        &[("UserName", "alice"), ("PolicyName", "p")],
    )
    .await
    .ok();
    assert!(s.kms.identity_policies(&principal).unwrap().is_empty());
    let groups = iam(&s, &root, "ListGroupsForUser", &[("UserName", "alice")])
        .await
        .ok();
    assert!(groups.all("GroupName").is_empty());
    iam(
        &s,
        &root,
        "DeleteGroupPolicy",
        &[("GroupName", "g"), ("PolicyName", "p")],
    )
    .await
    .ok();
    iam(&s, &root, "DeleteGroup", &[("GroupName", "g")])
        .await
        .ok();
    // A malformed document is refused with the parser's message.
    let r = iam(
        &s,
        &root,
        "PutUserPolicy",
        &[
            ("UserName", "alice"),
            ("PolicyName", "bad"),
            ("PolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#),
        ],
    )
    .await;
    r.err(400, "MalformedPolicyDocument");
    assert!(!r.get("Message").unwrap().is_empty());
    s.stop().await;
}
