//! Imported key material (Origin EXTERNAL) through the SDK. The material is wrapped by
//! an independent implementation, Python `cryptography` and the `openssl` CLI, the way
//! AWS's documentation shows, and keyfort's results are checked from the outside: an
//! HMAC computed outside equals GenerateMac's, keyfort's ciphertext opens outside with
//! the imported key, signatures verify outside, and data encrypted after import
//! decrypts after delete-and-reimport.
//!
//! Without python3 + `cryptography` or `openssl` the cross-checks print SKIPPED and
//! pass, unless `KEYFORT_REQUIRE_CROSSCHECK` is set (CI sets it).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{
    AlgorithmSpec, ExpirationModelType, ImportState, ImportType, IncludeKeyMaterial,
    KeyMaterialState, KeySpec, KeyState, KeyUsageType, MacAlgorithmSpec, OriginType,
    SigningAlgorithmSpec, WrappingKeySpec,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyfort_core::clock::{Clock, DAY_MS, ManualClock};
use keyfort_core::store::Store;
use serde_json::{Value, json};

use crate::assert_code;
use crate::common::TestServer;

fn absent(what: &str) {
    if std::env::var_os("KEYFORT_REQUIRE_CROSSCHECK").is_some() {
        panic!("{what} is required (KEYFORT_REQUIRE_CROSSCHECK is set) but absent");
    }
    eprintln!("SKIPPED: {what} is not available; this cross-check did not run");
}

/// Runs tasks through tests/kms/import_tool.py; `None` if Python or `cryptography`
/// is absent.
fn py(tasks: &[Value]) -> Option<Vec<Value>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kms/import_tool.py");
    let Ok(mut child) = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        absent("python3");
        return None;
    };
    let mut input = String::new();
    for t in tasks {
        input.push_str(&t.to_string());
        input.push('\n');
    }
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(3) {
        absent("Python `cryptography`");
        return None;
    }
    assert!(
        out.status.success(),
        "import_tool.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), tasks.len());
    Some(results)
}

fn b64(b: &[u8]) -> String {
    STANDARD.encode(b)
}

fn unb64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

/// (public key DER, import token) from GetParametersForImport.
async fn parameters(
    c: &aws_sdk_kms::Client,
    id: &str,
    alg: AlgorithmSpec,
    spec: WrappingKeySpec,
) -> (Vec<u8>, Blob) {
    let p = c
        .get_parameters_for_import()
        .key_id(id)
        .wrapping_algorithm(alg)
        .wrapping_key_spec(spec)
        .send()
        .await
        .unwrap();
    (
        p.public_key().unwrap().as_ref().to_vec(),
        p.import_token().unwrap().clone(),
    )
}

/// Wraps `material` with Python for `alg`.
fn wrap(spki: &[u8], alg: &AlgorithmSpec, material: &[u8]) -> Option<Vec<u8>> {
    let r = py(
        &[json!({"op": "wrap", "spki": b64(spki), "alg": alg.as_str(),
        "material": b64(material)})],
    )?;
    Some(unb64(&r[0]["wrapped"]))
}

async fn create_external(c: &aws_sdk_kms::Client, spec: KeySpec, usage: KeyUsageType) -> String {
    let k = c
        .create_key()
        .origin(OriginType::External)
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .unwrap();
    let m = k.key_metadata().unwrap();
    assert_eq!(m.origin(), Some(&OriginType::External));
    assert_eq!(m.key_state(), Some(&KeyState::PendingImport));
    assert!(!m.enabled());
    assert_eq!(m.current_key_material_id(), None);
    m.key_id().to_owned()
}

async fn state(c: &aws_sdk_kms::Client, id: &str) -> KeyState {
    c.describe_key()
        .key_id(id)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_state()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn symmetric_import_delete_and_reimport() {
    let clock = Arc::new(ManualClock::new());
    let s = TestServer::start_with_clock(clock.clone()).await;
    let c = s.client();
    let id = create_external(&c, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    assert_code!(
        c.encrypt()
            .key_id(&id)
            .plaintext(Blob::new(b"x".to_vec()))
            .send()
            .await,
        "KMSInvalidStateException"
    );
    let material = keyfort_crypto::random_bytes(32).unwrap().expose().to_vec();

    // First import, wrapped with RSAES_OAEP_SHA_256 under a 2048-bit wrapping key.
    let p = c
        .get_parameters_for_import()
        .key_id(&id)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await
        .unwrap();
    let valid_to = p.parameters_valid_to().unwrap().to_millis().unwrap();
    assert!((valid_to - (clock.now_ms() + DAY_MS)).abs() < 2000);
    let spki = p.public_key().unwrap().as_ref().to_vec();
    let token = p.import_token().unwrap().clone();
    let Some(wrapped) = wrap(&spki, &AlgorithmSpec::RsaesOaepSha256, &material) else {
        return;
    };
    // Tampered material, a token of another key, garbage tokens.
    let mut bad = wrapped.clone();
    bad[10] ^= 1;
    assert_code!(
        c.import_key_material()
            .key_id(&id)
            .import_token(token.clone())
            .encrypted_key_material(Blob::new(bad))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "InvalidCiphertextException"
    );
    let other = create_external(&c, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    assert_code!(
        c.import_key_material()
            .key_id(&other)
            .import_token(token.clone())
            .encrypted_key_material(Blob::new(wrapped.clone()))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "InvalidImportTokenException"
    );
    assert_code!(
        c.import_key_material()
            .key_id(&id)
            .import_token(Blob::new(b"not a token".to_vec()))
            .encrypted_key_material(Blob::new(wrapped.clone()))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "InvalidImportTokenException"
    );
    // ExpirationModel and ValidTo must agree; ValidTo at most 365 days ahead.
    assert_code!(
        c.import_key_material()
            .key_id(&id)
            .import_token(token.clone())
            .encrypted_key_material(Blob::new(wrapped.clone()))
            .send()
            .await,
        "ValidationException"
    );
    assert_code!(
        c.import_key_material()
            .key_id(&id)
            .import_token(token.clone())
            .encrypted_key_material(Blob::new(wrapped.clone()))
            .expiration_model(ExpirationModelType::KeyMaterialExpires)
            .valid_to(aws_sdk_kms::primitives::DateTime::from_millis(
                clock.now_ms() + 366 * DAY_MS
            ))
            .send()
            .await,
        "ValidationException"
    );
    let imported = c
        .import_key_material()
        .key_id(&id)
        .import_token(token.clone())
        .encrypted_key_material(Blob::new(wrapped.clone()))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .unwrap();
    let material_id = imported.key_material_id().unwrap().to_owned();
    assert_eq!(material_id.len(), 64);
    let d = c.describe_key().key_id(&id).send().await.unwrap();
    let m = d.key_metadata().unwrap();
    assert_eq!(m.key_state(), Some(&KeyState::Enabled));
    assert_eq!(m.current_key_material_id(), Some(material_id.as_str()));
    assert_eq!(
        m.expiration_model(),
        Some(&ExpirationModelType::KeyMaterialDoesNotExpire)
    );

    // The imported material is nowhere in the data directory in plaintext (raw,
    // base64 or hex), nor is the wrapped form or the token.
    s.audit.store().maintain().unwrap();
    let hex: String = material.iter().map(|b| format!("{b:02x}")).collect();
    let needles: Vec<Vec<u8>> = vec![
        material.clone(),
        b64(&material).into_bytes(),
        hex.into_bytes(),
        wrapped[..48].to_vec(),
        b64(&wrapped).as_bytes()[..64].to_vec(),
        token.as_ref().to_vec(),
    ];
    let mut stack = vec![s.dir.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_default();
            for n in &needles {
                assert!(
                    !bytes.windows(n.len()).any(|w| w == &n[..]),
                    "import secret found in {}",
                    path.display()
                );
            }
        }
    }

    // Data encrypted now; its blob opens outside with the imported key.
    let blob = c
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"imported and protected".to_vec()))
        .encryption_context("app", "import-test")
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    let r = py(&[json!({"op": "open_blob", "key": b64(&material),
        "blob": b64(blob.as_ref()), "context": {"app": "import-test"}})])
    .unwrap();
    assert_eq!(unb64(&r[0]["plaintext"]), b"imported and protected");

    // Delete: the key waits for its material again and cannot decrypt, and the
    // sealed material is gone from the database and its WAL once the job has run.
    let db = s.dir.path().join("keyfort.db");
    let peek = keyfort_store::SqliteStore::open(&db).unwrap();
    let sealed = peek
        .get_key("us-east-1", &id)
        .unwrap()
        .unwrap()
        .backing_keys[0]
        .sealed
        .clone();
    assert!(!sealed.is_empty());
    let del = c
        .delete_imported_key_material()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(del.key_material_id(), Some(material_id.as_str()));
    assert_eq!(state(&c, &id).await, KeyState::PendingImport);
    keyfort_server::jobs::run_deletions_once(&s.kms, None).await;
    for file in ["keyfort.db", "keyfort.db-wal"] {
        let bytes = std::fs::read(s.dir.path().join(file)).unwrap_or_default();
        assert!(
            !bytes.windows(sealed.len()).any(|w| w == &sealed[..]),
            "deleted material still in {file}"
        );
    }
    drop(peek);
    assert_code!(
        c.decrypt()
            .ciphertext_blob(blob.clone())
            .encryption_context("app", "import-test")
            .send()
            .await,
        "KMSInvalidStateException"
    );

    // Different material is refused; the same material, wrapped another way under
    // another wrapping key size, brings the key back.
    let (spki2, token2) = parameters(
        &c,
        &id,
        AlgorithmSpec::RsaAesKeyWrapSha256,
        WrappingKeySpec::Rsa3072,
    )
    .await;
    let wrong = wrap(&spki2, &AlgorithmSpec::RsaAesKeyWrapSha256, &[7u8; 32]).unwrap();
    assert_code!(
        c.import_key_material()
            .key_id(&id)
            .import_token(token2.clone())
            .encrypted_key_material(Blob::new(wrong))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "IncorrectKeyMaterialException"
    );
    let again = wrap(&spki2, &AlgorithmSpec::RsaAesKeyWrapSha256, &material).unwrap();
    let re = c
        .import_key_material()
        .key_id(&id)
        .import_token(token2.clone())
        .encrypted_key_material(Blob::new(again))
        .import_type(ImportType::ExistingKeyMaterial)
        .key_material_id(&material_id)
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .unwrap();
    assert_eq!(re.key_material_id(), Some(material_id.as_str()));
    assert_eq!(state(&c, &id).await, KeyState::Enabled);
    let d = c
        .decrypt()
        .ciphertext_blob(blob)
        .encryption_context("app", "import-test")
        .send()
        .await
        .unwrap();
    assert_eq!(d.plaintext().unwrap().as_ref(), b"imported and protected");
    assert_eq!(d.key_material_id(), Some(material_id.as_str()));

    // Tokens last 24 hours.
    clock.advance_ms(DAY_MS + 1000);
    let again = wrap(&spki2, &AlgorithmSpec::RsaAesKeyWrapSha256, &material).unwrap();
    assert_code!(
        c.import_key_material()
            .key_id(&id)
            .import_token(token2)
            .encrypted_key_material(Blob::new(again))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "ExpiredImportTokenException"
    );
    // Keys that are not EXTERNAL take no material; PKCS1 v1.5 wrapping is refused.
    let own = c.create_key().send().await.unwrap();
    assert_code!(
        c.get_parameters_for_import()
            .key_id(own.key_metadata().unwrap().key_id())
            .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
            .wrapping_key_spec(WrappingKeySpec::Rsa2048)
            .send()
            .await,
        "UnsupportedOperationException"
    );
    assert_code!(
        c.get_parameters_for_import()
            .key_id(&id)
            .wrapping_algorithm(AlgorithmSpec::RsaesPkcs1V15)
            .wrapping_key_spec(WrappingKeySpec::Rsa2048)
            .send()
            .await,
        "UnsupportedOperationException"
    );
    s.stop().await;
}

/// Imported symmetric keys rotate on demand to material imported as new.
#[tokio::test(flavor = "multi_thread")]
async fn imported_symmetric_key_rotates_to_new_material() {
    let s = TestServer::start().await;
    let c = s.client();
    let id = create_external(&c, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    let first = keyfort_crypto::random_bytes(32).unwrap().expose().to_vec();
    let second = keyfort_crypto::random_bytes(32).unwrap().expose().to_vec();
    let (spki, token) = parameters(
        &c,
        &id,
        AlgorithmSpec::RsaesOaepSha1,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    let Some(w1) = wrap(&spki, &AlgorithmSpec::RsaesOaepSha1, &first) else {
        return;
    };
    let m1 = c
        .import_key_material()
        .key_id(&id)
        .import_token(token.clone())
        .encrypted_key_material(Blob::new(w1))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .unwrap()
        .key_material_id()
        .unwrap()
        .to_owned();
    let old = c
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"under the first material".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    assert_code!(
        c.rotate_key_on_demand().key_id(&id).send().await,
        "UnsupportedOperationException"
    );
    let w2 = wrap(&spki, &AlgorithmSpec::RsaesOaepSha1, &second).unwrap();
    let m2 = c
        .import_key_material()
        .key_id(&id)
        .import_token(token)
        .encrypted_key_material(Blob::new(w2))
        .import_type(ImportType::NewKeyMaterial)
        .key_material_description("second material")
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .unwrap()
        .key_material_id()
        .unwrap()
        .to_owned();
    assert_ne!(m1, m2);
    let all = c
        .list_key_rotations()
        .key_id(&id)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .send()
        .await
        .unwrap();
    let states: Vec<(&str, &KeyMaterialState)> = all
        .rotations()
        .iter()
        .map(|e| {
            (
                e.key_material_id().unwrap(),
                e.key_material_state().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (m1.as_str(), &KeyMaterialState::Current),
            (m2.as_str(), &KeyMaterialState::PendingRotation)
        ]
    );
    assert_eq!(
        all.rotations()[1].import_state(),
        Some(&ImportState::Imported)
    );
    assert_eq!(
        all.rotations()[1].key_material_description(),
        Some("second material")
    );
    c.rotate_key_on_demand().key_id(&id).send().await.unwrap();
    let d = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        d.key_metadata().unwrap().current_key_material_id(),
        Some(m2.as_str())
    );
    let fresh = c
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(b"under the second".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();
    let r = py(&[
        json!({"op": "open_blob", "key": b64(&second), "blob": b64(fresh.as_ref()), "context": {}}),
        json!({"op": "open_blob", "key": b64(&first), "blob": b64(old.as_ref()), "context": {}}),
    ])
    .unwrap();
    assert_eq!(unb64(&r[0]["plaintext"]), b"under the second");
    assert_eq!(unb64(&r[1]["plaintext"]), b"under the first material");
    let d = c
        .decrypt()
        .ciphertext_blob(old.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(d.key_material_id(), Some(m1.as_str()));

    // Deleting material pending rotation leaves the key usable; deleting any material
    // permanently associated with it (here the non-current first one) puts the key in
    // PendingImport until it is reimported, as AWS does.
    let (spki, token) = parameters(
        &c,
        &id,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    let third = keyfort_crypto::random_bytes(32).unwrap().expose().to_vec();
    let w3 = wrap(&spki, &AlgorithmSpec::RsaesOaepSha256, &third).unwrap();
    let m3 = c
        .import_key_material()
        .key_id(&id)
        .import_token(token.clone())
        .encrypted_key_material(Blob::new(w3))
        .import_type(ImportType::NewKeyMaterial)
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .unwrap()
        .key_material_id()
        .unwrap()
        .to_owned();
    c.delete_imported_key_material()
        .key_id(&id)
        .key_material_id(&m3)
        .send()
        .await
        .unwrap();
    assert_eq!(state(&c, &id).await, KeyState::Enabled);
    c.delete_imported_key_material()
        .key_id(&id)
        .key_material_id(&m1)
        .send()
        .await
        .unwrap();
    assert_eq!(state(&c, &id).await, KeyState::PendingImport);
    let w1 = wrap(&spki, &AlgorithmSpec::RsaesOaepSha256, &first).unwrap();
    c.import_key_material()
        .key_id(&id)
        .import_token(token)
        .encrypted_key_material(Blob::new(w1))
        .key_material_id(&m1)
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .unwrap();
    assert_eq!(state(&c, &id).await, KeyState::Enabled);
    let d = c.decrypt().ciphertext_blob(old).send().await.unwrap();
    assert_eq!(d.key_material_id(), Some(m1.as_str()));

    // While the key is pending deletion its material can still be deleted (at once,
    // rather than at the end of the waiting period); the state stays PendingDeletion.
    c.schedule_key_deletion()
        .key_id(&id)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    c.delete_imported_key_material()
        .key_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(state(&c, &id).await, KeyState::PendingDeletion);
    // Cancelling the deletion leaves it waiting for its material.
    c.cancel_key_deletion().key_id(&id).send().await.unwrap();
    assert_eq!(state(&c, &id).await, KeyState::PendingImport);
    s.stop().await;
}

/// HMAC material wrapped with the openssl CLI exactly as AWS's documentation shows;
/// GenerateMac must equal openssl's and Python's HMAC.
#[tokio::test(flavor = "multi_thread")]
async fn hmac_import_with_openssl_matches_outside_hmac() {
    let s = TestServer::start().await;
    let c = s.client();
    let id = create_external(&c, KeySpec::Hmac256, KeyUsageType::GenerateVerifyMac).await;
    let (spki, token) = parameters(
        &c,
        &id,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa4096,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let material = keyfort_crypto::random_bytes(32).unwrap().expose().to_vec();
    std::fs::write(dir.path().join("PublicKey.bin"), &spki).unwrap();
    std::fs::write(dir.path().join("PlaintextKeyMaterial.bin"), &material).unwrap();
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "pkeyutl",
            "-encrypt",
            "-in",
            "PlaintextKeyMaterial.bin",
            "-out",
            "EncryptedKeyMaterial.bin",
            "-inkey",
            "PublicKey.bin",
            "-keyform",
            "DER",
            "-pubin",
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
        ])
        .output();
    let Ok(out) = out else {
        absent("openssl");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wrapped = std::fs::read(dir.path().join("EncryptedKeyMaterial.bin")).unwrap();
    let valid_to = (s.kms.now_ms() / 1000) * 1000 + 30 * DAY_MS;
    c.import_key_material()
        .key_id(&id)
        .import_token(token)
        .encrypted_key_material(Blob::new(wrapped))
        .expiration_model(ExpirationModelType::KeyMaterialExpires)
        .valid_to(aws_sdk_kms::primitives::DateTime::from_millis(valid_to))
        .send()
        .await
        .unwrap();
    let d = c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        d.key_metadata()
            .unwrap()
            .valid_to()
            .map(|t| t.to_millis().unwrap()),
        Some(valid_to)
    );
    let message = b"message authenticated inside and outside keyfort";
    let mac = c
        .generate_mac()
        .key_id(&id)
        .message(Blob::new(message.to_vec()))
        .mac_algorithm(MacAlgorithmSpec::HmacSha256)
        .send()
        .await
        .unwrap()
        .mac()
        .unwrap()
        .as_ref()
        .to_vec();
    // openssl dgst -mac HMAC with the same key.
    std::fs::write(dir.path().join("message.bin"), message).unwrap();
    let hexkey: String = material.iter().map(|b| format!("{b:02x}")).collect();
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "dgst",
            "-sha256",
            "-mac",
            "HMAC",
            "-macopt",
            &format!("hexkey:{hexkey}"),
            "-binary",
            "-out",
            "mac.bin",
            "message.bin",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(dir.path().join("mac.bin")).unwrap(), mac);
    if let Some(r) = py(&[
        json!({"op": "hmac", "hash": "sha256", "key": b64(&material),
        "msg": b64(message)}),
    ]) {
        assert_eq!(unb64(&r[0]["mac"]), mac);
    }
    // HMAC keys take no second material.
    let (spki, token) = parameters(
        &c,
        &id,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    if let Some(w) = wrap(&spki, &AlgorithmSpec::RsaesOaepSha256, &[9u8; 32]) {
        assert_code!(
            c.import_key_material()
                .key_id(&id)
                .import_token(token)
                .encrypted_key_material(Blob::new(w))
                .import_type(ImportType::NewKeyMaterial)
                .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
                .send()
                .await,
            "IncorrectKeyMaterialException"
        );
    }
    s.stop().await;
}

/// An ECC signing key made by Python, imported with RSA_AES_KEY_WRAP_SHA_256:
/// keyfort's public key is Python's and its signatures verify outside.
#[tokio::test(flavor = "multi_thread")]
async fn asymmetric_import_signs_with_the_imported_key() {
    let s = TestServer::start().await;
    let c = s.client();
    let id = create_external(&c, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let Some(k) = py(&[json!({"op": "ec_keygen"})]) else {
        return;
    };
    let pkcs8 = unb64(&k[0]["pkcs8"]);
    let spki_ec = unb64(&k[0]["spki"]);
    let (spki, token) = parameters(
        &c,
        &id,
        AlgorithmSpec::RsaAesKeyWrapSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    let wrapped = wrap(&spki, &AlgorithmSpec::RsaAesKeyWrapSha256, &pkcs8).unwrap();
    c.import_key_material()
        .key_id(&id)
        .import_token(token)
        .encrypted_key_material(Blob::new(wrapped))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .unwrap();
    let pk = c.get_public_key().key_id(&id).send().await.unwrap();
    assert_eq!(pk.public_key().unwrap().as_ref(), &spki_ec[..]);
    let message = b"signed with imported material";
    let sig = c
        .sign()
        .key_id(&id)
        .message(Blob::new(message.to_vec()))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap()
        .signature()
        .unwrap()
        .as_ref()
        .to_vec();
    let r = py(&[
        json!({"op": "ec_verify", "spki": b64(&spki_ec), "msg": b64(message), "sig": b64(&sig)}),
        json!({"op": "ec_verify", "spki": b64(&spki_ec), "msg": b64(b"other"), "sig": b64(&sig)}),
    ])
    .unwrap();
    assert_eq!(r[0]["ok"], json!(true));
    assert_eq!(r[1]["ok"], json!(false));
    // Material of the wrong kind is refused.
    let other = create_external(&c, KeySpec::EccNistP384, KeyUsageType::SignVerify).await;
    let (spki, token) = parameters(
        &c,
        &other,
        AlgorithmSpec::RsaAesKeyWrapSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    let wrapped = wrap(&spki, &AlgorithmSpec::RsaAesKeyWrapSha256, &pkcs8).unwrap();
    assert_code!(
        c.import_key_material()
            .key_id(&other)
            .import_token(token)
            .encrypted_key_material(Blob::new(wrapped))
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await,
        "IncorrectKeyMaterialException"
    );
    s.stop().await;
}

/// Material whose ValidTo passes is deleted by the scheduler; the key waits for import
/// and the event is recorded.
#[tokio::test(flavor = "multi_thread")]
async fn expired_material_is_deleted_by_the_scheduler() {
    let clock = Arc::new(ManualClock::new());
    let s = TestServer::start_with_clock(clock.clone()).await;
    let c = s.client();
    let id = create_external(&c, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    let arn = c
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let material = keyfort_crypto::random_bytes(32).unwrap().expose().to_vec();
    let (spki, token) = parameters(
        &c,
        &id,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
    )
    .await;
    let Some(w) = wrap(&spki, &AlgorithmSpec::RsaesOaepSha256, &material) else {
        return;
    };
    c.import_key_material()
        .key_id(&id)
        .import_token(token)
        .encrypted_key_material(Blob::new(w))
        .valid_to(aws_sdk_kms::primitives::DateTime::from_millis(
            clock.now_ms() + 2 * DAY_MS,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(state(&c, &id).await, KeyState::Enabled);
    clock.advance_ms(DAY_MS);
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert!(run.expired.is_empty());
    clock.advance_ms(DAY_MS + 1000);
    let run = keyfort_server::jobs::run_scheduled_once(&s.kms, Some(&s.audit)).await;
    assert_eq!(run.expired, vec![arn.clone()]);
    assert_eq!(state(&c, &id).await, KeyState::PendingImport);
    let all = c
        .list_key_rotations()
        .key_id(&id)
        .include_key_material(IncludeKeyMaterial::AllKeyMaterial)
        .send()
        .await
        .unwrap();
    assert_eq!(
        all.rotations()[0].import_state(),
        Some(&ImportState::PendingImport)
    );
    let store = s.audit.store();
    store.maintain().unwrap();
    let recorded = store
        .records(0, 100_000)
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.event_name == "DeleteExpiredKeyMaterial"
                && r.resources.first().map(|x| x.1.as_str()) == Some(arn.as_str())
        })
        .count();
    assert_eq!(recorded, 1);
    s.stop().await;
}
