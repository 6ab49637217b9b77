//! The audit trail end to end, on the real binary: every request recorded (failures
//! too), nothing secret in it, `keyfort audit verify` catching each kind of tampering
//! in the store and in an export, and acknowledged requests surviving SIGKILL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use aws_sdk_kms::operation::RequestId;
use aws_sdk_kms::primitives::Blob;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(data_dir: &Path) -> (Proc, String) {
    let config = data_dir.with_extension("toml");
    std::fs::write(&config, "audit_digest_seconds = 1\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyfort"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .arg("--config")
        .arg(&config)
        .env("KEYFORT_ROOT_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
        .env("KEYFORT_ROOT_SECRET_ACCESS_KEY", common::SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let endpoint = loop {
        let line = lines.next().expect("exited early").unwrap();
        if let Some(rest) = line.strip_prefix("keyfort listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), endpoint)
}

fn stop(p: Proc) {
    Command::new("kill")
        .args(["-TERM", &p.0.id().to_string()])
        .status()
        .unwrap();
    let mut p = p;
    let _ = p.0.wait();
}

fn keyfort(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keyfort"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn events(dir: &Path) -> Vec<(i64, serde_json::Value)> {
    let db = rusqlite::Connection::open(dir.join("audit.db")).unwrap();
    let mut st = db
        .prepare("SELECT seq, event_json FROM events ORDER BY seq")
        .unwrap();
    st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .unwrap()
        .map(|r| {
            let (seq, json) = r.unwrap();
            (seq, serde_json::from_slice(&json).unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_request_is_recorded_and_tampering_is_caught() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let (p, endpoint) = start(&dir);
    let c = common::client(
        &endpoint,
        common::ACCESS_KEY_ID,
        common::SECRET,
        "us-east-1",
    );
    let secret = b"audit canary plaintext 7f3a9c".to_vec();
    let key = c.create_key().send().await.unwrap();
    let id = key.key_metadata().unwrap().key_id().to_owned();
    let enc = c
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(secret.clone()))
        .encryption_context("app", "audit")
        .send()
        .await
        .unwrap();
    let enc_request_id = enc.request_id().unwrap().to_owned();
    let blob = enc.ciphertext_blob().unwrap().clone();
    let dk = c
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    let failed = c.describe_key().key_id("alias/nope").send().await;
    assert!(failed.is_err());
    let bad = common::client(
        &endpoint,
        common::ACCESS_KEY_ID,
        "wrong-secret-wrong-secret-wrong-secret00",
        "us-east-1",
    );
    assert!(bad.list_keys().send().await.is_err());
    let unknown = common::client(
        &endpoint,
        "AKIAUNKNOWNUNKNOWN00",
        common::SECRET,
        "us-east-1",
    );
    assert!(unknown.list_keys().send().await.is_err());
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    stop(p);

    let evs = events(&dir);
    let names: Vec<&str> = evs
        .iter()
        .map(|(_, e)| e["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "CreateKey",
            "Encrypt",
            "GenerateDataKey",
            "DescribeKey",
            "ListKeys",
            "ListKeys"
        ],
        "{names:?}"
    );
    let (_, e) = &evs[1];
    assert_eq!(e["requestID"], enc_request_id.as_str());
    assert_eq!(e["eventSource"], "kms.amazonaws.com");
    assert_eq!(e["awsRegion"], "us-east-1");
    assert_eq!(e["userIdentity"]["accountId"], "111122223333");
    assert_eq!(e["userIdentity"]["accessKeyId"], common::ACCESS_KEY_ID);
    assert_eq!(e["requestParameters"]["encryptionContext"]["app"], "audit");
    assert_eq!(e["readOnly"], true);
    assert_eq!(
        e["resources"][0]["ARN"],
        format!("arn:aws:kms:us-east-1:111122223333:key/{id}")
    );
    assert_eq!(e["recipientAccountId"], "111122223333");
    assert_eq!(evs[3].1["errorCode"], "NotFoundException");
    assert_eq!(evs[4].1["errorCode"], "InvalidSignatureException");
    assert_eq!(evs[5].1["errorCode"], "UnrecognizedClientException");
    assert_eq!(
        evs[5].1["userIdentity"]["accessKeyId"],
        "AKIAUNKNOWNUNKNOWN00"
    );

    // Nothing secret in the trail, in any encoding.
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let all: String = evs.iter().map(|(_, e)| e.to_string()).collect();
    for needle in [
        b64.encode(&secret),
        String::from_utf8(secret.clone()).unwrap(),
        b64.encode(blob.as_ref()),
        b64.encode(dk.plaintext().unwrap().as_ref()),
        common::SECRET.to_owned(),
    ] {
        assert!(
            !all.contains(&needle),
            "{needle} leaked into the audit trail"
        );
    }

    let d = dir.to_str().unwrap();
    let (code, out) = keyfort(&["audit", "verify", "--data-dir", d]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("OK: 6 records"), "{out}");

    // Export and verify with only the public key.
    let export = root.path().join("trail.jsonl");
    let pem = root.path().join("audit.pem");
    let (code, out) = keyfort(&[
        "audit",
        "export",
        "--data-dir",
        d,
        "--output",
        export.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = keyfort(&["audit", "public-key", "--data-dir", d]);
    assert_eq!(code, 0, "{out}");
    std::fs::write(&pem, out).unwrap();
    let (code, out) = keyfort(&[
        "audit",
        "verify",
        "--file",
        export.to_str().unwrap(),
        "--public-key",
        pem.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    // Edit one event in the export: caught.
    let text = std::fs::read_to_string(&export).unwrap();
    let edited = text.replacen("GenerateDataKey", "GenerateDataKex", 1);
    assert_ne!(text, edited);
    std::fs::write(&export, edited).unwrap();
    let (code, out) = keyfort(&[
        "audit",
        "verify",
        "--file",
        export.to_str().unwrap(),
        "--public-key",
        pem.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("record 3") && out.contains("(edited)"),
        "{out}"
    );

    // Tamper with the store: edit, then delete, then reorder.
    let db = rusqlite::Connection::open(dir.join("audit.db")).unwrap();
    db.execute("UPDATE events SET event_json = CAST(replace(CAST(event_json AS TEXT), 'us-east-1', 'us-east-2') AS BLOB) WHERE seq = 2", []).unwrap();
    let (code, out) = keyfort(&["audit", "verify", "--data-dir", d]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.to_lowercase().contains("edit") && out.contains('2'),
        "{out}"
    );
    db.execute("UPDATE events SET event_json = CAST(replace(CAST(event_json AS TEXT), 'us-east-2', 'us-east-1') AS BLOB) WHERE seq = 2", []).unwrap();
    assert_eq!(keyfort(&["audit", "verify", "--data-dir", d]).0, 0);
    db.execute("DELETE FROM events WHERE seq = 4", []).unwrap();
    let (code, out) = keyfort(&["audit", "verify", "--data-dir", d]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.to_lowercase().contains("missing") || out.to_lowercase().contains("removed"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_requests_survive_sigkill_under_load() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let (p, endpoint) = start(&dir);
    let c = common::client(
        &endpoint,
        common::ACCESS_KEY_ID,
        common::SECRET,
        "us-east-1",
    );
    let id = c
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_owned();
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        let id = id.clone();
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..10_000 {
                match c
                    .encrypt()
                    .key_id(&id)
                    .plaintext(Blob::new(b"x".to_vec()))
                    .send()
                    .await
                {
                    Ok(r) => acked
                        .lock()
                        .unwrap()
                        .push(r.request_id().unwrap().to_owned()),
                    Err(_) => break,
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    Command::new("kill")
        .args(["-9", &p.0.id().to_string()])
        .status()
        .unwrap();
    drop(p);
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    // Restart once: the server replays its journal into the database on start.
    let (p, _) = start(&dir);
    stop(p);
    assert!(acked.len() > 50, "too little load: {}", acked.len());
    let recorded: std::collections::HashSet<String> = events(&dir)
        .into_iter()
        .map(|(_, e)| e["requestID"].as_str().unwrap().to_owned())
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|r| !recorded.contains(*r)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged requests have no event",
        missing.len(),
        acked.len()
    );
    let (code, out) = keyfort(&["audit", "verify", "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pruning_exports_first_and_keeps_the_rest_verifiable() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let (p, endpoint) = start(&dir);
    let c = common::client(
        &endpoint,
        common::ACCESS_KEY_ID,
        common::SECRET,
        "us-east-1",
    );
    for _ in 0..3 {
        c.create_key().send().await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    c.list_keys().send().await.unwrap();
    c.list_keys().send().await.unwrap();
    stop(p);
    let d = dir.to_str().unwrap();
    let before = events(&dir).len();
    let export = root.path().join("pruned.jsonl");
    let (code, out) = keyfort(&[
        "audit",
        "prune",
        "--data-dir",
        d,
        "--keep-days",
        "0",
        "--export",
        export.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let after = events(&dir);
    assert!(
        after.len() < before && !after.is_empty(),
        "{before} -> {}: {out}",
        after.len()
    );
    let (code, out) = keyfort(&["audit", "verify", "--data-dir", d]);
    assert_eq!(code, 0, "the kept records must still verify: {out}");
    let pem = root.path().join("k.pem");
    std::fs::write(&pem, keyfort(&["audit", "public-key", "--data-dir", d]).1).unwrap();
    let (code, out) = keyfort(&[
        "audit",
        "verify",
        "--file",
        export.to_str().unwrap(),
        "--public-key",
        pem.to_str().unwrap(),
    ]);
    assert_eq!(
        code, 0,
        "the export of the pruned records must verify: {out}"
    );
    // Deleting the first kept record after pruning is still caught: what remains must
    // continue where the last pruned digest ended.
    let db = rusqlite::Connection::open(dir.join("audit.db")).unwrap();
    db.execute("DELETE FROM events WHERE seq = ?1", [after[0].0])
        .unwrap();
    assert_eq!(keyfort(&["audit", "verify", "--data-dir", d]).0, 1);
}
