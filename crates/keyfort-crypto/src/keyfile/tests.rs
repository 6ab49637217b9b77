// Permission checks and 0600 creation are Unix behaviour.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Barrier};

use super::*;
use crate::RootKey;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let mut suffix = [0u8; 8];
        fill_random(&mut suffix).unwrap();
        let dir = std::env::temp_dir().join(format!("keyfort-crypto-test-{}", to_hex(&suffix)));
        fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// Proves two root keys are the same key: one opens what the other sealed.
fn same_key(a: &RootKey, b: &RootKey) -> bool {
    let sealed = a.seal(b"probe", b"aad").unwrap();
    b.open(&sealed, b"aad").is_ok()
}

#[test]
fn creates_with_0600_then_reuses() {
    let dir = TempDir::new();
    let path = dir.path("root.key");
    let (k1, created) = RootKey::load_or_create(&path).unwrap();
    assert!(created);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(fs::metadata(&path).unwrap().len(), KEY_FILE_LEN as u64);
    let bytes = fs::read(&path).unwrap();
    assert_eq!(&bytes[..5], b"KFRK\x01");

    let (k2, created) = RootKey::load_or_create(&path).unwrap();
    assert!(!created);
    assert!(same_key(&k1, &k2));
    // No temporary files are left behind.
    let entries: Vec<_> = fs::read_dir(&dir.0).unwrap().collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
}

#[test]
fn owner_read_only_is_accepted() {
    let dir = TempDir::new();
    let path = dir.path("root.key");
    let (k1, _) = RootKey::load_or_create(&path).unwrap();
    set_mode(&path, 0o400);
    let (k2, created) = RootKey::load_or_create(&path).unwrap();
    assert!(!created);
    assert!(same_key(&k1, &k2));
}

#[test]
fn refuses_group_or_world_access() {
    let dir = TempDir::new();
    let path = dir.path("root.key");
    RootKey::load_or_create(&path).unwrap();
    let before = fs::read(&path).unwrap();
    for bad in [0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o666] {
        set_mode(&path, bad);
        match RootKey::load_or_create(&path) {
            Err(Error::InvalidKeyFile(KeyFileError::InsecurePermissions { mode })) => {
                assert_eq!(mode, bad);
            }
            other => panic!("mode {bad:o}: {other:?}"),
        }
        let msg = RootKey::load_or_create(&path).unwrap_err().to_string();
        assert!(msg.contains(&format!("{bad:04o}")), "{msg}");
    }
    // Refusing never rewrites the file.
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn refuses_wrong_size_magic_version_checksum() {
    let dir = TempDir::new();
    let path = dir.path("root.key");
    let key = SymmetricKey::from_bytes(&[5; 32]).unwrap();
    let good = encode(&key).expose().to_vec();

    let write = |bytes: &[u8]| {
        let _ = fs::remove_file(&path);
        let mut f = create_private(&path).unwrap();
        f.write_all(bytes).unwrap();
    };
    let load_err = || match RootKey::load_or_create(&path) {
        Err(Error::InvalidKeyFile(e)) => e,
        other => panic!("{other:?}"),
    };

    write(&[5; 32]); // raw 32 bytes are not accepted
    assert_eq!(
        load_err(),
        KeyFileError::WrongSize {
            expected: 41,
            actual: 32
        }
    );
    write(b"");
    assert_eq!(
        load_err(),
        KeyFileError::WrongSize {
            expected: 41,
            actual: 0
        }
    );
    write(&[good.as_slice(), b"\n"].concat());
    assert_eq!(
        load_err(),
        KeyFileError::WrongSize {
            expected: 41,
            actual: 42
        }
    );

    let mut bad = good.clone();
    bad[0] = b'X';
    write(&bad);
    assert_eq!(load_err(), KeyFileError::BadMagic);

    let mut bad = good.clone();
    bad[4] = 2;
    write(&bad);
    assert_eq!(load_err(), KeyFileError::UnsupportedVersion(2));

    for pos in [5, 20, 36, 37, 40] {
        let mut bad = good.clone();
        bad[pos] ^= 0x10;
        write(&bad);
        assert_eq!(load_err(), KeyFileError::ChecksumMismatch, "flip at {pos}");
    }

    write(&good);
    let (root, created) = RootKey::load_or_create(&path).unwrap();
    assert!(!created);
    assert!(same_key(&root, &RootKey::from_symmetric(key)));
}

#[test]
fn refuses_a_directory() {
    let dir = TempDir::new();
    let path = dir.path("root.key");
    fs::create_dir(&path).unwrap();
    set_mode(&path, 0o700);
    assert!(matches!(
        RootKey::load_or_create(&path),
        Err(Error::InvalidKeyFile(KeyFileError::NotRegularFile))
    ));
}

#[test]
fn missing_parent_directory_is_an_io_error() {
    let dir = TempDir::new();
    let path = dir.path("no-such-dir/root.key");
    match RootKey::load_or_create(&path) {
        Err(Error::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
}

#[test]
fn concurrent_first_start_agrees_on_one_key() {
    let dir = TempDir::new();
    let path = Arc::new(dir.path("root.key"));
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                RootKey::load_or_create(&path).unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    for (k, _) in &results[1..] {
        assert!(same_key(&results[0].0, k));
    }
    assert_eq!(fs::read_dir(&dir.0).unwrap().count(), 1);
}

#[test]
fn encode_decode_roundtrip() {
    let key = SymmetricKey::generate().unwrap();
    let encoded = encode(&key);
    assert_eq!(encoded.len(), KEY_FILE_LEN);
    assert!(decode(encoded.expose()).unwrap().ct_eq(key.expose()));
}
