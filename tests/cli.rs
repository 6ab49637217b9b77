//! The `keyfort serve` command line: refusals, signals, first start and later starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn refuses_plain_http_on_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_keyfort"))
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without TLS"), "{err}");
    // Nothing was created: the refusal comes before any state is touched.
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn bad_flags_are_refused_clearly() {
    for (args, needle) in [
        (vec!["--listen", "nonsense"], "not an address"),
        (vec!["--account-id", "12"], "12-digit"),
        (vec!["--region", "Mars"], "region"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_keyfort"))
            .arg("serve")
            .args(&args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{args:?}"
        );
    }
}

/// Starts keyfort with generated credentials; returns the child and its stdout lines
/// up to and including the listening line.
fn start(dir: &std::path::Path, extra: &[&str]) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyfort"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env_remove("KEYFORT_ROOT_ACCESS_KEY_ID")
        .env_remove("KEYFORT_ROOT_SECRET_ACCESS_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "exited early: {lines:?}"
        );
        let done = line.starts_with("keyfort listening on ");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

fn sigterm_and_wait(mut child: std::process::Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "keyfort ignored SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn first_start_generates_credentials_once_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (child, lines) = start(dir.path(), &[]);
    let banner = lines.join("");
    assert!(banner.contains("aws_access_key_id = AKIA"), "{banner}");
    let creds = std::fs::read_to_string(dir.path().join("credentials")).unwrap();
    assert!(creds.starts_with("[keyfort]\n"));
    let secret = creds
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .unwrap();
    assert!(banner.contains(secret));
    use std::os::unix::fs::PermissionsExt;
    for f in ["credentials", "root.key"] {
        let mode = std::fs::metadata(dir.path().join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    assert!(sigterm_and_wait(child).success());

    // A later start reuses everything and prints no credentials.
    let (child, lines) = start(dir.path(), &[]);
    assert!(
        !lines.join("").contains("aws_secret_access_key"),
        "{lines:?}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("credentials")).unwrap(),
        creds
    );
    assert!(sigterm_and_wait(child).success());
}

#[test]
fn self_signed_tls_prints_the_certificate_path() {
    let dir = tempfile::tempdir().unwrap();
    let (child, lines) = start(dir.path(), &["--tls-self-signed"]);
    let banner = lines.join("");
    assert!(banner.contains("AWS_CA_BUNDLE="), "{banner}");
    assert!(banner.contains("keyfort listening on https://"), "{banner}");
    let cert = std::fs::read_to_string(dir.path().join("tls/self-signed-cert.pem")).unwrap();
    assert!(cert.contains("BEGIN CERTIFICATE"));
    assert!(sigterm_and_wait(child).success());
}
