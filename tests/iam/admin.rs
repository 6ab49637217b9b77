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
