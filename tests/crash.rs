//! The real binary under SIGKILL: acknowledged writes survive, and nothing secret is
//! left in plaintext in the data directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use aws_sdk_kms::primitives::Blob;
use base64::Engine;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `keyfort serve` on a free port and returns it with its endpoint.
fn start(data_dir: &Path, log: &Path) -> (Proc, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyfort"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("KEYFORT_ROOT_ACCESS_KEY_ID", common::ACCESS_KEY_ID)
        .env("KEYFORT_ROOT_SECRET_ACCESS_KEY", common::SECRET)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn keyfort");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let endpoint = loop {
        let line = lines
            .next()
            .expect("keyfort exited before listening")
            .expect("read");
        if let Some(rest) = line.strip_prefix("keyfort listening on ") {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Proc(child), endpoint)
}

fn kill9(p: Proc) {
    let pid = p.0.id();
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    drop(p);
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_writes_survive_sigkill_and_nothing_leaks_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("keyfort.log");
    let secret_text = b"attack at dawn: the launch code is 0000-KEYFORT-CANARY".to_vec();
    let (p, endpoint) = start(dir.path(), &log);
    let c = common::client(
        &endpoint,
        common::ACCESS_KEY_ID,
        common::SECRET,
        "us-east-1",
    );
    let key = c.create_key().description("survives").send().await.unwrap();
    let id = key.key_metadata().unwrap().key_id().to_owned();
    c.create_alias()
        .alias_name("alias/durable")
        .target_key_id(&id)
        .send()
        .await
        .unwrap();
    let blob = c
        .encrypt()
        .key_id("alias/durable")
        .plaintext(Blob::new(secret_text.clone()))
        .send()
        .await
        .unwrap();
    let blob = blob.ciphertext_blob().unwrap().clone();
    let dk = c
        .generate_data_key()
        .key_id(&id)
        .number_of_bytes(32)
        .send()
        .await
        .unwrap();
    let data_key = dk.plaintext().unwrap().as_ref().to_vec();
    let ciphertext = blob.as_ref().to_vec();
    // MACs, signatures and data key pairs must not land anywhere either.
    use aws_sdk_kms::types::{
        DataKeyPairSpec, KeySpec, KeyUsageType, MacAlgorithmSpec, SigningAlgorithmSpec,
    };
    let hmac = c
        .create_key()
        .key_spec(KeySpec::Hmac256)
        .key_usage(KeyUsageType::GenerateVerifyMac)
        .send()
        .await
        .unwrap();
    let mac = c
        .generate_mac()
        .key_id(hmac.key_metadata().unwrap().key_id())
        .message(Blob::new(secret_text.clone()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap()
        .mac
        .unwrap()
        .into_inner();
    let signer = c
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let signature = c
        .sign()
        .key_id(signer.key_metadata().unwrap().key_id())
        .message(Blob::new(secret_text.clone()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap()
        .signature
        .unwrap()
        .into_inner();
    let pair = c
        .generate_data_key_pair()
        .key_id(&id)
        .key_pair_spec(DataKeyPairSpec::EccNistP256)
        .send()
        .await
        .unwrap();
    let pair_private = pair.private_key_plaintext().unwrap().as_ref().to_vec();
    kill9(p);

    let (p, endpoint) = start(dir.path(), &log);
    let c = common::client(
        &endpoint,
        common::ACCESS_KEY_ID,
        common::SECRET,
        "us-east-1",
    );
    let d = c.decrypt().ciphertext_blob(blob).send().await.unwrap();
    assert_eq!(d.plaintext().unwrap().as_ref(), secret_text.as_slice());
    let m = c
        .describe_key()
        .key_id("alias/durable")
        .send()
        .await
        .unwrap();
    assert_eq!(m.key_metadata().unwrap().description(), Some("survives"));
    let d = c
        .decrypt()
        .ciphertext_blob(dk.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap();
    assert_eq!(d.plaintext().unwrap().as_ref(), data_key.as_slice());
    drop(p);

    // Nothing secret in any file of the data directory, in any common encoding.
    let b64 = base64::engine::general_purpose::STANDARD;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut needles: Vec<(String, Vec<u8>)> = vec![(
        "secret access key".into(),
        common::SECRET.as_bytes().to_vec(),
    )];
    for (what, raw) in [
        ("plaintext", &secret_text),
        ("data key", &data_key),
        ("ciphertext", &ciphertext),
        ("MAC", &mac),
        ("signature", &signature),
        ("data key pair private key", &pair_private),
    ] {
        needles.push((what.to_owned(), raw.clone()));
        needles.push((format!("{what} b64"), b64.encode(raw).into_bytes()));
        needles.push((format!("{what} hex"), hex(raw).into_bytes()));
    }
    let mut files = vec![log.clone()];
    files_under(dir.path(), &mut files);
    assert!(
        std::fs::metadata(&log).unwrap().len() > 0,
        "the server logged nothing at debug level"
    );
    assert!(files.iter().any(|f| f.ends_with("keyfort.db")), "{files:?}");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        for (what, needle) in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{what} found in {}",
                f.display()
            );
        }
    }
}
