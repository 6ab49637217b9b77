//! Every IAM and STS request is in the audit trail, in CloudTrail's shape, and no
//! secret access key or session token is anywhere in it (or in the data directory
//! unsealed).

use crate::common::TestServer;
use crate::iam_query::{ALLOW_ALL_KMS, Creds, iam, kms_client, sts, user_with_key};

fn records(s: &TestServer) -> Vec<serde_json::Value> {
    let store = s.audit.store();
    store.maintain().expect("audit maintain");
    store
        .records(0, 100_000)
        .expect("records")
        .into_iter()
        .map(|r| serde_json::from_slice(&r.event_json).expect("json"))
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn iam_and_sts_requests_are_recorded_without_secrets() {
    let s = TestServer::start().await;
    let root = Creds::root();
    let alice = user_with_key(&s, "alice").await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}]}"#;
    iam(
        &s,
        &root,
        "CreateRole",
        &[("RoleName", "r"), ("AssumeRolePolicyDocument", trust)],
    )
    .await
    .ok();
    iam(
        &s,
        &root,
        "PutRolePolicy",
        &[
            ("RoleName", "r"),
            ("PolicyName", "kms"),
            ("PolicyDocument", ALLOW_ALL_KMS),
        ],
    )
    .await
    .ok();
    let out = sts(
        &s,
        &alice,
        "AssumeRole",
        &[
            ("RoleArn", "arn:aws:iam::111122223333:role/r"),
            ("RoleSessionName", "audited"),
        ],
    )
    .await
    .ok();
    let session = Creds {
        akid: out.get("AccessKeyId").unwrap(),
        secret: out.get("SecretAccessKey").unwrap(),
        token: Some(out.get("SessionToken").unwrap()),
    };
    kms_client(&s, &session)
        .list_keys()
        .send()
        .await
        .expect("session lists keys");
    iam(&s, &alice, "CreateUser", &[("UserName", "x")])
        .await
        .err(403, "AccessDenied");

    let recs = records(&s);
    let find = |source: &str, name: &str| {
        recs.iter()
            .find(|r| r["eventSource"] == source && r["eventName"] == name)
            .unwrap_or_else(|| panic!("no {source} {name} record"))
            .clone()
    };
    let created = find("iam.amazonaws.com", "CreateUser");
    assert_eq!(created["requestParameters"]["userName"], "alice");
    assert_eq!(created["userIdentity"]["type"], "Root");
    let key = find("iam.amazonaws.com", "CreateAccessKey");
    assert_eq!(key["requestParameters"]["userName"], "alice");
    let assumed = find("sts.amazonaws.com", "AssumeRole");
    assert_eq!(assumed["userIdentity"]["type"], "IAMUser");
    assert_eq!(assumed["userIdentity"]["userName"], "alice");
    assert_eq!(assumed["requestParameters"]["roleSessionName"], "audited");
    let denied = recs
        .iter()
        .find(|r| r["eventName"] == "CreateUser" && r["errorCode"] == "AccessDenied")
        .expect("denied CreateUser recorded");
    assert_eq!(
        denied["userIdentity"]["arn"],
        "arn:aws:iam::111122223333:user/alice"
    );
    let listed = find("kms.amazonaws.com", "ListKeys");
    let id = &listed["userIdentity"];
    assert_eq!(id["type"], "AssumedRole");
    assert_eq!(
        id["arn"],
        "arn:aws:sts::111122223333:assumed-role/r/audited"
    );
    assert_eq!(id["accessKeyId"], session.akid.as_str());
    let issuer = &id["sessionContext"]["sessionIssuer"];
    assert_eq!(issuer["type"], "Role");
    assert_eq!(issuer["arn"], "arn:aws:iam::111122223333:role/r");
    assert_eq!(issuer["userName"], "r");
    assert!(
        id["sessionContext"]["attributes"]["creationDate"]
            .as_str()
            .unwrap()
            .starts_with("20")
    );

    // No secret or token in any record, nor in any file of the data directory.
    let all = serde_json::to_string(&recs).unwrap();
    let token = session.token.clone().unwrap();
    for secret in [
        alice.secret.as_str(),
        session.secret.as_str(),
        token.as_str(),
    ] {
        assert!(!all.contains(secret), "a secret is in the audit trail");
    }
    s.audit.store().maintain().unwrap();
    for entry in std::fs::read_dir(s.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            for secret in [
                alice.secret.as_str(),
                session.secret.as_str(),
                token.as_str(),
            ] {
                assert!(
                    !contains(&bytes, secret),
                    "a secret is in {}",
                    path.display()
                );
            }
        }
    }
    s.stop().await;
}
