//! Cross-checks of the asymmetric, HMAC and ECDH primitives against
//! independent implementations: the `openssl` command line tool and Python
//! `cryptography` (through `tests/asym_crosscheck.py`).
//!
//! If a tool is absent the test prints `SKIPPED` and passes, unless the
//! environment variable `KEYFORT_REQUIRE_CROSSCHECK` is set (CI sets it), in
//! which case it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lc_rs::digest;
use keyfort_crypto::{
    AsymKey, AsymSpec, HmacKey, HmacSpec, MessageKind, PrivateKeyBytes, RsaOaep, SigningAlgorithm,
    generate_asym, generate_data_key_pair, generate_hmac, signing_algorithms, to_hex,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Harness

/// One key per spec, with its PKCS#8 material.
fn keys() -> &'static [(AsymSpec, AsymKey, PrivateKeyBytes)] {
    static KEYS: OnceLock<Vec<(AsymSpec, AsymKey, PrivateKeyBytes)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        AsymSpec::ALL
            .iter()
            .map(|&spec| {
                let material = generate_asym(spec).unwrap();
                let key = AsymKey::from_private(spec, material.expose()).unwrap();
                (spec, key, material)
            })
            .collect()
    })
}

fn is_mldsa(spec: AsymSpec) -> bool {
    matches!(
        spec,
        AsymSpec::MlDsa44 | AsymSpec::MlDsa65 | AsymSpec::MlDsa87
    )
}

/// The (key, algorithm) pairs this build signs with (all but Ed25519ph).
fn signing_pairs() -> Vec<(&'static AsymKey, &'static PrivateKeyBytes, SigningAlgorithm)> {
    let mut out = Vec::new();
    for (spec, key, material) in keys() {
        for &alg in signing_algorithms(*spec) {
            if alg != SigningAlgorithm::Ed25519PhSha512 {
                out.push((key, material, alg));
            }
        }
    }
    out
}

fn hash(alg: SigningAlgorithm, message: &[u8]) -> Vec<u8> {
    let h = match alg.digest_len() {
        Some(32) => &digest::SHA256,
        Some(48) => &digest::SHA384,
        _ => &digest::SHA512,
    };
    digest::digest(h, message).as_ref().to_vec()
}

fn unhex(s: &Value) -> Vec<u8> {
    let s = s.as_str().expect("hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Reports an absent tool: a failure under `KEYFORT_REQUIRE_CROSSCHECK`, else a skip.
fn absent(what: &str) {
    if std::env::var_os("KEYFORT_REQUIRE_CROSSCHECK").is_some() {
        panic!("{what} is required (KEYFORT_REQUIRE_CROSSCHECK is set) but absent");
    }
    eprintln!("SKIPPED: {what} is not available; this cross-check did not run");
}

/// Runs the Python checker on `tasks`; `None` if Python or `cryptography` is absent.
fn python(tasks: &[Value]) -> Option<Vec<Value>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/asym_crosscheck.py");
    let child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        absent("python3");
        return None;
    };
    let input = json!({ "tasks": tasks }).to_string();
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
        "checker failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = results["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), tasks.len());
    Some(results)
}

/// Whether Python `cryptography` has a working ML-DSA (OpenSSL 3.5+ backend).
fn python_has_mldsa() -> Option<bool> {
    let r = python(&[json!({"op": "capabilities"})])?;
    let has = r[0]["mldsa"].as_bool().unwrap();
    if !has {
        absent("ML-DSA in Python `cryptography`");
    }
    Some(has)
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "keyfort-asym-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `openssl args...`; `None` if openssl is absent.
fn openssl(args: &[&str]) -> Option<Output> {
    match Command::new("openssl").args(args).output() {
        Ok(out) => Some(out),
        Err(_) => {
            absent("the openssl command");
            None
        }
    }
}

/// Runs openssl and requires success.
fn openssl_ok(args: &[&str]) -> Option<Output> {
    let out = openssl(args)?;
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

fn openssl_md(alg: SigningAlgorithm) -> &'static str {
    match alg.digest_len() {
        Some(32) => "sha256",
        Some(48) => "sha384",
        _ => "sha512",
    }
}

fn is_pss(alg: SigningAlgorithm) -> bool {
    alg.as_str().starts_with("RSASSA_PSS")
}

// ---------------------------------------------------------------------------
// Signatures

#[test]
fn python_verifies_our_signatures() {
    let Some(mldsa) = python_has_mldsa() else {
        return;
    };
    let msg = b"signed by keyfort, verified by Python cryptography";
    let mut tasks = Vec::new();
    let mut expect = Vec::new();
    for (key, _, alg) in signing_pairs() {
        if is_mldsa(key.spec()) && !mldsa {
            continue;
        }
        let spki = to_hex(&key.public_key_der().unwrap());
        let task = |kind: MessageKind, message: &[u8], sig: &[u8]| {
            json!({"op": "verify", "spki": spki, "alg": alg.as_str(), "kind": kind.as_str(),
                   "message": to_hex(message), "signature": to_hex(sig)})
        };
        let sig = key.sign(alg, MessageKind::Raw, msg).unwrap();
        tasks.push(task(MessageKind::Raw, msg, &sig));
        expect.push((true, key.spec(), alg, "raw"));
        tasks.push(task(MessageKind::Raw, b"another message", &sig));
        expect.push((false, key.spec(), alg, "raw, wrong message"));
        let mut flipped = sig.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        tasks.push(task(MessageKind::Raw, msg, &flipped));
        expect.push((false, key.spec(), alg, "raw, flipped signature"));
        if alg.digest_len().is_some() {
            // Signed as DIGEST: Python checks it both as a prehash and over the raw message.
            let d = hash(alg, msg);
            let sig = key.sign(alg, MessageKind::Digest, &d).unwrap();
            tasks.push(task(MessageKind::Digest, &d, &sig));
            expect.push((true, key.spec(), alg, "digest as prehash"));
            tasks.push(task(MessageKind::Raw, msg, &sig));
            expect.push((true, key.spec(), alg, "digest as raw"));
        }
    }
    // 26 (spec, algorithm) pairs x 3 RAW checks + 22 digest pairs x 2 DIGEST checks.
    let expected_tasks = if mldsa {
        26 * 3 + 22 * 2
    } else {
        23 * 3 + 22 * 2
    };
    assert_eq!(tasks.len(), expected_tasks);
    let results = python(&tasks).unwrap();
    for (r, (ok, spec, alg, what)) in results.iter().zip(expect) {
        assert_eq!(r["ok"].as_bool(), Some(ok), "{spec} {alg} {what}");
    }
}

#[test]
fn we_verify_python_signatures() {
    let Some(mldsa) = python_has_mldsa() else {
        return;
    };
    let msg = b"signed by Python cryptography with keyfort's PKCS#8";
    let mut tasks = Vec::new();
    let mut cases = Vec::new();
    for (key, material, alg) in signing_pairs() {
        if is_mldsa(key.spec()) && !mldsa {
            continue;
        }
        let pkcs8 = to_hex(material.expose());
        tasks.push(
            json!({"op": "sign", "pkcs8": pkcs8, "alg": alg.as_str(), "kind": "RAW",
                          "message": to_hex(msg)}),
        );
        cases.push((key, alg, MessageKind::Raw, msg.to_vec()));
        if alg.digest_len().is_some() {
            let d = hash(alg, msg);
            tasks.push(json!({"op": "sign", "pkcs8": pkcs8, "alg": alg.as_str(),
                              "kind": "DIGEST", "message": to_hex(&d)}));
            cases.push((key, alg, MessageKind::Digest, d));
        }
    }
    assert_eq!(tasks.len(), if mldsa { 26 + 22 } else { 23 + 22 });
    let results = python(&tasks).unwrap();
    for (r, (key, alg, kind, m)) in results.iter().zip(cases) {
        let sig = unhex(&r["signature"]);
        let spec = key.spec();
        assert!(
            key.verify(alg, kind, &m, &sig).unwrap(),
            "{spec} {alg} {kind}"
        );
        if kind == MessageKind::Digest {
            assert!(
                key.verify(alg, MessageKind::Raw, msg, &sig).unwrap(),
                "{spec} {alg}"
            );
        }
        assert!(!key.verify(alg, MessageKind::Raw, b"other", &sig).unwrap());
        let mut bad = sig.clone();
        bad[sig.len() / 2] ^= 0x08;
        assert!(
            !key.verify(alg, kind, &m, &bad).unwrap(),
            "{spec} {alg} {kind}"
        );
    }
}

#[test]
fn openssl_verifies_our_signatures() {
    let Some(version) = openssl(&["version"]) else {
        return;
    };
    eprintln!(
        "openssl: {} (ML-DSA is checked with Python instead)",
        String::from_utf8_lossy(&version.stdout).trim()
    );
    let dir = Scratch::new();
    let msg = dir.write("msg", b"signed by keyfort, verified by the openssl CLI");
    let other = dir.write("other", b"a different message");
    let mut checked = 0;
    for (key, _, alg) in signing_pairs() {
        if is_mldsa(key.spec()) {
            continue;
        }
        let public = dir.write("pub.der", &key.public_key_der().unwrap());
        let message = std::fs::read(&msg).unwrap();
        if alg == SigningAlgorithm::Ed25519Sha512 {
            let sig = dir.write("sig", &key.sign(alg, MessageKind::Raw, &message).unwrap());
            for (input, ok) in [(&msg, true), (&other, false)] {
                let out = openssl(&[
                    "pkeyutl", "-verify", "-pubin", "-inkey", &public, "-keyform", "DER", "-rawin",
                    "-in", input, "-sigfile", &sig,
                ])
                .unwrap();
                assert_eq!(out.status.success(), ok, "Ed25519 {input}");
            }
            checked += 1;
            continue;
        }
        let md = openssl_md(alg);
        let mut pss: Vec<&str> = Vec::new();
        if is_pss(alg) {
            pss.extend([
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ]);
        }
        // RAW: openssl hashes the message itself.
        let sig = dir.write("sig", &key.sign(alg, MessageKind::Raw, &message).unwrap());
        for (input, ok) in [(&msg, true), (&other, false)] {
            let mut args = vec!["dgst", "-binary"];
            let flag = format!("-{md}");
            args.extend([
                flag.as_str(),
                "-verify",
                &public,
                "-keyform",
                "DER",
                "-signature",
                &sig,
            ]);
            args.extend(pss.iter().copied());
            args.push(input);
            let out = openssl(&args).unwrap();
            assert_eq!(out.status.success(), ok, "{} {alg} raw {input}", key.spec());
        }
        // DIGEST: openssl computes the digest, keyfort signs it, pkeyutl verifies it.
        let d = openssl_ok(&["dgst", &format!("-{md}"), "-binary", &msg])
            .unwrap()
            .stdout;
        let digest_file = dir.write("digest", &d);
        let sig = dir.write("sig", &key.sign(alg, MessageKind::Digest, &d).unwrap());
        let mut args = vec![
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            &public,
            "-keyform",
            "DER",
            "-in",
            &digest_file,
            "-sigfile",
            &sig,
        ];
        let md_opt = format!("digest:{md}");
        args.extend(["-pkeyopt", &md_opt]);
        if is_pss(alg) {
            args.extend([
                "-pkeyopt",
                "rsa_padding_mode:pss",
                "-pkeyopt",
                "rsa_pss_saltlen:digest",
            ]);
        }
        let out = openssl_ok(&args).unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"));
        checked += 1;
    }
    assert_eq!(checked, 23);
}

// ---------------------------------------------------------------------------
// RSA-OAEP

#[test]
fn rsa_oaep_interoperates() {
    let rsa: Vec<_> = keys()
        .iter()
        .filter(|(s, _, _)| s.rsa_bits().is_some())
        .collect();
    // Python encrypts, keyfort decrypts; keyfort encrypts, Python decrypts.
    let mut tasks = Vec::new();
    let mut cases = Vec::new();
    for (spec, key, material) in &rsa {
        for &alg in RsaOaep::ALL {
            let hash = if alg == RsaOaep::Sha1 {
                "SHA_1"
            } else {
                "SHA_256"
            };
            let max = key.rsa_max_plaintext(alg).unwrap();
            for len in [0, 1, max] {
                let pt: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
                tasks.push(
                    json!({"op": "oaep_encrypt", "spki": to_hex(&key.public_key_der().unwrap()),
                                  "hash": hash, "plaintext": to_hex(&pt)}),
                );
                let ct = key.rsa_encrypt(alg, &pt).unwrap();
                tasks.push(
                    json!({"op": "oaep_decrypt", "pkcs8": to_hex(material.expose()),
                                  "hash": hash, "ciphertext": to_hex(&ct)}),
                );
                cases.push((*spec, key, alg, pt));
            }
        }
    }
    if let Some(results) = python(&tasks) {
        for (pair, (spec, key, alg, pt)) in results.chunks(2).zip(&cases) {
            let ct = unhex(&pair[0]["ciphertext"]);
            assert_eq!(
                key.rsa_decrypt(*alg, &ct).unwrap().expose(),
                &pt[..],
                "{spec} {alg}"
            );
            assert_eq!(unhex(&pair[1]["plaintext"]), *pt, "{spec} {alg}");
        }
    }
    // The same with the openssl CLI.
    let dir = Scratch::new();
    for (spec, key, material) in &rsa {
        let public = dir.write("pub.der", &key.public_key_der().unwrap());
        let private = dir.write("priv.der", material.expose());
        for &alg in RsaOaep::ALL {
            let md = if alg == RsaOaep::Sha1 {
                "sha1"
            } else {
                "sha256"
            };
            let (oaep_md, mgf1_md) = (format!("rsa_oaep_md:{md}"), format!("rsa_mgf1_md:{md}"));
            let pt = vec![0x5a; key.rsa_max_plaintext(alg).unwrap()];
            let pt_file = dir.write("pt", &pt);
            let ct_file = dir.path("ct");
            let opts = [
                "-pkeyopt",
                "rsa_padding_mode:oaep",
                "-pkeyopt",
                &oaep_md,
                "-pkeyopt",
                &mgf1_md,
            ];
            let mut enc = vec![
                "pkeyutl", "-encrypt", "-pubin", "-inkey", &public, "-keyform", "DER", "-in",
                &pt_file, "-out", &ct_file,
            ];
            enc.extend(opts);
            if openssl_ok(&enc).is_none() {
                return;
            }
            let ct = std::fs::read(&ct_file).unwrap();
            assert_eq!(
                key.rsa_decrypt(alg, &ct).unwrap().expose(),
                &pt[..],
                "{spec} {alg}"
            );

            let ours = dir.write("ours", &key.rsa_encrypt(alg, &pt).unwrap());
            let mut dec = vec![
                "pkeyutl", "-decrypt", "-inkey", &private, "-keyform", "DER", "-in", &ours,
            ];
            dec.extend(opts);
            let out = openssl_ok(&dec).unwrap();
            assert_eq!(out.stdout, pt, "{spec} {alg}");
        }
    }
}

// ---------------------------------------------------------------------------
// ECDH

#[test]
fn ecdh_matches_python_and_openssl() {
    let nist: Vec<_> = keys()
        .iter()
        .filter(|(s, _, _)| s.supports_key_agreement())
        .collect();
    assert_eq!(nist.len(), 3);
    let tasks: Vec<_> = nist
        .iter()
        .map(|(_, key, _)| json!({"op": "ecdh", "spki": to_hex(&key.public_key_der().unwrap())}))
        .collect();
    if let Some(results) = python(&tasks) {
        for (r, (spec, key, _)) in results.iter().zip(&nist) {
            let ours = key.derive_shared_secret(&unhex(&r["peer_spki"])).unwrap();
            assert_eq!(ours.expose(), &unhex(&r["secret"])[..], "{spec}");
        }
    }
    let dir = Scratch::new();
    for (spec, key, _) in &nist {
        let curve = match spec {
            AsymSpec::EccNistP256 => "ec_paramgen_curve:P-256",
            AsymSpec::EccNistP384 => "ec_paramgen_curve:P-384",
            _ => "ec_paramgen_curve:P-521",
        };
        let peer = dir.path("peer.pem");
        let Some(_) = openssl_ok(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            curve,
            "-out",
            &peer,
        ]) else {
            return;
        };
        let peer_pub = dir.path("peer_pub.der");
        openssl_ok(&[
            "pkey", "-in", &peer, "-pubout", "-outform", "DER", "-out", &peer_pub,
        ]);
        let ours = dir.write("ours.der", &key.public_key_der().unwrap());
        let out = openssl_ok(&[
            "pkeyutl",
            "-derive",
            "-inkey",
            &peer,
            "-peerkey",
            &ours,
            "-peerform",
            "DER",
        ])
        .unwrap();
        let secret = key
            .derive_shared_secret(&std::fs::read(&peer_pub).unwrap())
            .unwrap();
        assert_eq!(secret.expose(), &out.stdout[..], "{spec}");
    }
}

// ---------------------------------------------------------------------------
// HMAC

#[test]
fn hmac_matches_python_and_openssl() {
    let mut cases = Vec::new();
    for &spec in HmacSpec::ALL {
        let range = spec.key_len_range();
        let generated = generate_hmac(spec).unwrap().expose().to_vec();
        for key in [
            generated,
            vec![0x0b; *range.start()],
            vec![0xaa; *range.end()],
        ] {
            for msg in [&b""[..], b"abc", &[0x42; 1000][..]] {
                cases.push((spec, key.clone(), msg.to_vec()));
            }
        }
    }
    let hash_name = |spec: HmacSpec| spec.mac_algorithm().trim_start_matches("HMAC_");
    let tasks: Vec<_> = cases
        .iter()
        .map(|(spec, key, msg)| {
            json!({"op": "hmac", "hash": hash_name(*spec), "key": to_hex(key), "message": to_hex(msg)})
        })
        .collect();
    if let Some(results) = python(&tasks) {
        for (r, (spec, key, msg)) in results.iter().zip(&cases) {
            let k = HmacKey::from_bytes(*spec, key).unwrap();
            let expected = unhex(&r["mac"]);
            assert_eq!(k.mac(msg), expected, "{spec}");
            assert!(k.verify(msg, &expected));
        }
    }
    let dir = Scratch::new();
    for (spec, key, msg) in &cases {
        let md = format!("-{}", hash_name(*spec).replace('_', "").to_lowercase());
        let file = dir.write("msg", msg);
        let hexkey = format!("hexkey:{}", to_hex(key));
        let Some(out) = openssl_ok(&[
            "dgst", &md, "-mac", "HMAC", "-macopt", &hexkey, "-binary", &file,
        ]) else {
            return;
        };
        assert_eq!(
            HmacKey::from_bytes(*spec, key).unwrap().mac(msg),
            out.stdout,
            "{spec}"
        );
    }
}

// ---------------------------------------------------------------------------
// Stored material and data key pairs

#[test]
fn key_material_parses_elsewhere() {
    // Data key pairs (returned to callers) and KMS key material (stored), incl. ML-DSA.
    let mut pairs: Vec<(AsymSpec, PrivateKeyBytes, Vec<u8>)> = Vec::new();
    for &spec in AsymSpec::ALL {
        if spec.is_data_key_pair_spec() {
            let (private, public) = generate_data_key_pair(spec).unwrap();
            pairs.push((spec, private, public));
        }
    }
    for (spec, key, material) in keys() {
        pairs.push((
            *spec,
            PrivateKeyBytes::new(material.expose().to_vec()),
            key.public_key_der().unwrap(),
        ));
    }
    let mldsa = python_has_mldsa().unwrap_or(false);
    let tasks: Vec<_> = pairs
        .iter()
        .filter(|(spec, _, _)| mldsa || !is_mldsa(*spec))
        .map(|(_, private, public)| {
            json!({"op": "keypair", "pkcs8": to_hex(private.expose()), "spki": to_hex(public)})
        })
        .collect();
    if let Some(results) = python(&tasks) {
        let checked = pairs
            .iter()
            .filter(|(spec, _, _)| mldsa || !is_mldsa(*spec));
        for (r, (spec, _, public)) in results.iter().zip(checked) {
            assert_eq!(unhex(&r["public_from_private"]), *public, "{spec}");
            assert_eq!(
                unhex(&r["spki_reencoded"]),
                *public,
                "{spec}: SPKI not canonical"
            );
            let kind = r["kind"].as_str().unwrap();
            let expected = match spec {
                AsymSpec::Rsa2048 => "rsa:2048:65537",
                AsymSpec::Rsa3072 => "rsa:3072:65537",
                AsymSpec::Rsa4096 => "rsa:4096:65537",
                AsymSpec::EccNistP256 => "ec:secp256r1",
                AsymSpec::EccNistP384 => "ec:secp384r1",
                AsymSpec::EccNistP521 => "ec:secp521r1",
                AsymSpec::EccSecgP256k1 => "ec:secp256k1",
                AsymSpec::EccNistEdwards25519 => "ed25519",
                AsymSpec::MlDsa44 => "mldsa44",
                AsymSpec::MlDsa65 => "mldsa65",
                AsymSpec::MlDsa87 => "mldsa87",
            };
            assert_eq!(kind, expected, "{spec}");
        }
    }
    let dir = Scratch::new();
    for (spec, private, public) in pairs.iter().filter(|(s, _, _)| !is_mldsa(*s)) {
        let p = dir.write("priv.der", private.expose());
        let Some(out) = openssl_ok(&[
            "pkey", "-inform", "DER", "-in", &p, "-pubout", "-outform", "DER",
        ]) else {
            return;
        };
        assert_eq!(out.stdout, *public, "{spec}");
        // PKCS#8 re-encoded by openssl loads back as the same key.
        let pkcs8 = openssl_ok(&[
            "pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-in", &p, "-outform", "DER",
        ])
        .unwrap();
        let reloaded = AsymKey::from_private(*spec, &pkcs8.stdout).unwrap();
        assert_eq!(reloaded.public_key_der().unwrap(), *public, "{spec}");
    }
}
