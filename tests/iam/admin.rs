//! `keyfort admin account ...` beside a running server.

use std::process::Command;

use crate::common::TestServer;

fn admin(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_keyfort"))
        .args(["admin", "account"])
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("run keyfort admin")
}

#[tokio::test(flavor = "multi_thread")]
async fn account_created_beside_a_running_server_works_at_once() {
    let server = TestServer::start().await;
    let out = admin(server.dir.path(), &["create", "--output", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let account = v["AccountId"].as_str().expect("account").to_owned();
    assert_eq!(account.len(), 12);
    assert_ne!(account, crate::common::ACCOUNT);
    let akid = v["AccessKeyId"].as_str().expect("akid");
    let secret = v["SecretAccessKey"].as_str().expect("secret");
    assert!(akid.starts_with("AKIA"));

    // The credentials file is private and names the profile.
    let file = server.dir.path().join(format!("credentials-{account}"));
    let text = std::fs::read_to_string(&file).expect("credentials file");
    assert!(text.contains(&format!("[keyfort-{account}]")));
    assert!(text.contains(secret));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777,
        0o600
    );

    // The running server accepts the new root credentials at once, in their own account.
    let other = server.client_as(akid, secret, "us-east-1");
    let key = other.create_key().send().await.expect("create key");
    let arn = key
        .key_metadata()
        .expect("meta")
        .arn()
        .expect("arn")
        .to_owned();
    assert!(arn.contains(&format!(":{account}:key/")), "{arn}");
    // The default account does not see it.
    let mine = server.client().list_keys().send().await.expect("list");
    assert!(
        mine.keys()
            .iter()
            .all(|k| k.key_arn() != Some(arn.as_str()))
    );

    // list shows both accounts; creating the same id again fails.
    let out = admin(server.dir.path(), &["list", "--output", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = v["Accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|a| a["AccountId"].as_str())
        .collect();
    assert!(ids.contains(&account.as_str()) && ids.contains(&crate::common::ACCOUNT));
    let out = admin(server.dir.path(), &["create", "--account-id", &account]);
    assert!(!out.status.success());
    server.stop().await;
}

#[test]
fn admin_refuses_a_directory_without_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = admin(&dir.path().join("nothing"), &["list"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no keyfort data"));
}

fn service(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_keyfort"))
        .args(["admin", "service"])
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("run keyfort admin service")
}

#[tokio::test(flavor = "multi_thread")]
async fn services_are_registered_listed_and_removed_beside_a_running_server() {
    let server = TestServer::start().await;
    let account = keyfort_core::model::AccountId::parse(crate::common::ACCOUNT).unwrap();
    let user = server
        .kms
        .iam_create_user(&account, "s3-service", "/", Default::default())
        .unwrap();
    let dir = server.dir.path();
    let ok = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let args = ["--name", "s3", "--account", crate::common::ACCOUNT];
    ok(&service(
        dir,
        &[
            "register",
            args[0],
            args[1],
            args[2],
            args[3],
            "--user",
            "s3-service",
        ],
    ));
    // The running server sees the registration (it reads the store per request).
    let principal = keyfort_core::Principal {
        account: account.clone(),
        arn: format!("arn:aws:iam::{}:user/s3-service", crate::common::ACCOUNT),
        access_key_id: "AKIAEXAMPLEEXAMPLE00".into(),
        kind: keyfort_core::PrincipalKind::User {
            name: "s3-service".into(),
        },
        user_id: user.entity.id.clone(),
        tags: Vec::new(),
        session_policy: None,
        session_issued_ms: None,
    };
    let root_arn = format!("arn:aws:iam::{}:root", crate::common::ACCOUNT);
    let acting = server.kms.act_for(&principal, "s3", &root_arn).unwrap();
    assert_eq!(acting.arn, root_arn);

    let out = service(dir, &["list", "--output", "json"]);
    ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["Services"][0]["Name"], "s3");
    assert_eq!(v["Services"][0]["UserName"], "s3-service");
    assert_eq!(v["Services"][0]["UserId"], user.entity.id.as_str());
    // Another principal with the user's name but not its unique id is not the service.
    let impostor = keyfort_core::Principal {
        user_id: "AIDAIMPOSTOR".into(),
        ..principal.clone()
    };
    assert!(server.kms.act_for(&impostor, "s3", &root_arn).is_err());

    // A user that does not exist, or a malformed name, is refused.
    let out = service(
        dir,
        &[
            "register",
            "--name",
            "ebs",
            "--account",
            crate::common::ACCOUNT,
            "--user",
            "nobody",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
    let out = service(
        dir,
        &[
            "register",
            "--name",
            "S3!",
            "--account",
            crate::common::ACCOUNT,
            "--user",
            "s3-service",
        ],
    );
    assert!(!out.status.success());

    ok(&service(dir, &["remove", "--name", "s3"]));
    assert!(server.kms.act_for(&principal, "s3", &root_arn).is_err());
    let out = service(dir, &["remove", "--name", "s3"]);
    assert!(!out.status.success());
    server.stop().await;
}
