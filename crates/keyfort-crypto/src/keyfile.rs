//! The root key file: the only I/O in this crate.
//!
//! Format (version 1, 41 bytes):
//!
//! ```text
//! "KFRK" | 0x01 | key[32] | checksum[4] = SHA-256(first 37 bytes)[..4]
//! ```
//!
//! The checksum detects truncation and corruption; it is not a MAC (anyone
//! who can change the file can read the key anyway).

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::KeyFileError;
use crate::secret::{KEY_LEN, SecretBytes, SymmetricKey, fill_random};
use crate::{Error, ct_eq, sha256, to_hex};

/// The four bytes a root key file starts with: ASCII `KFRK`.
pub const KEY_FILE_MAGIC: [u8; 4] = *b"KFRK";
/// The root key file version this build reads and writes.
pub const KEY_FILE_VERSION_V1: u8 = 1;
/// Length of the checksum at the end of the file.
const CHECKSUM_LEN: usize = 4;
/// Bytes covered by the checksum: magic, version, key.
const BODY_LEN: usize = KEY_FILE_MAGIC.len() + 1 + KEY_LEN;
/// Exact size of a version 1 root key file.
pub const KEY_FILE_LEN: usize = BODY_LEN + CHECKSUM_LEN;

/// Encodes `key` in the root key file format.
pub(crate) fn encode(key: &SymmetricKey) -> SecretBytes {
    let mut out = SecretBytes::zeroed(KEY_FILE_LEN);
    let buf = out.expose_mut();
    let (body, checksum) = buf.split_at_mut(BODY_LEN);
    let (magic, rest) = body.split_at_mut(KEY_FILE_MAGIC.len());
    magic.copy_from_slice(&KEY_FILE_MAGIC);
    let (version, key_bytes) = rest.split_at_mut(1);
    version.copy_from_slice(&[KEY_FILE_VERSION_V1]);
    key_bytes.copy_from_slice(key.expose());
    checksum.copy_from_slice(&sha256(body)[..CHECKSUM_LEN]);
    out
}

/// Decodes a root key file's contents.
pub(crate) fn decode(bytes: &[u8]) -> Result<SymmetricKey, Error> {
    let invalid = Error::InvalidKeyFile;
    if bytes.len() != KEY_FILE_LEN {
        return Err(invalid(KeyFileError::WrongSize {
            expected: KEY_FILE_LEN as u64,
            actual: bytes.len() as u64,
        }));
    }
    let (body, checksum) = bytes.split_at(BODY_LEN);
    let (magic, rest) = body.split_at(KEY_FILE_MAGIC.len());
    if magic != KEY_FILE_MAGIC {
        return Err(invalid(KeyFileError::BadMagic));
    }
    let (version, key_bytes) = rest.split_at(1);
    if version != [KEY_FILE_VERSION_V1] {
        let v = version.first().copied().unwrap_or_default();
        return Err(invalid(KeyFileError::UnsupportedVersion(v)));
    }
    if !ct_eq(&sha256(body)[..CHECKSUM_LEN], checksum) {
        return Err(invalid(KeyFileError::ChecksumMismatch));
    }
    SymmetricKey::from_bytes(key_bytes)
}

/// See [`crate::RootKey::load_or_create`].
pub(crate) fn load_or_create(path: &Path) -> Result<(SymmetricKey, bool), Error> {
    match load(path) {
        Ok(key) => Ok((key, false)),
        Err(Error::Io(e)) if e.kind() == io::ErrorKind::NotFound => create(path),
        Err(e) => Err(e),
    }
}

/// Opens, checks and decodes an existing key file. Follows symlinks (secret
/// mounts use them); all checks are made on the opened file itself.
fn load(path: &Path) -> Result<SymmetricKey, Error> {
    let invalid = Error::InvalidKeyFile;
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(invalid(KeyFileError::NotRegularFile));
    }
    check_permissions(&meta)?;
    if meta.len() != KEY_FILE_LEN as u64 {
        return Err(invalid(KeyFileError::WrongSize {
            expected: KEY_FILE_LEN as u64,
            actual: meta.len(),
        }));
    }
    let mut buf = SecretBytes::zeroed(KEY_FILE_LEN);
    file.read_exact(buf.expose_mut())?;
    // The file must not have grown since `metadata()`.
    if file.read(&mut [0u8; 1])? != 0 {
        return Err(invalid(KeyFileError::WrongSize {
            expected: KEY_FILE_LEN as u64,
            actual: KEY_FILE_LEN as u64 + 1,
        }));
    }
    decode(buf.expose())
}

#[cfg(unix)]
fn check_permissions(meta: &fs::Metadata) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(Error::InvalidKeyFile(KeyFileError::InsecurePermissions {
            mode,
        }));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_meta: &fs::Metadata) -> Result<(), Error> {
    // No portable mode bits; protect the data directory with the platform's ACLs.
    Ok(())
}

/// Generates a key and publishes it at `path` atomically, never replacing
/// an existing file. If another process wins the race, loads its key.
fn create(path: &Path) -> Result<(SymmetricKey, bool), Error> {
    let key = SymmetricKey::generate()?;
    let encoded = encode(&key);

    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "root key path has no file name",
        )
    })?;
    let mut suffix = [0u8; 8];
    fill_random(&mut suffix)?;
    let mut tmp_name = OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}", to_hex(&suffix)));
    let tmp = RemoveOnDrop(dir.join(tmp_name));

    {
        let mut file = create_private(&tmp.0)?;
        file.write_all(encoded.expose())?;
        file.sync_all()?;
    }
    // `hard_link` fails with AlreadyExists instead of replacing `path`, and
    // publishes only a complete, fsynced file.
    let linked = fs::hard_link(&tmp.0, path);
    drop(tmp);
    match linked {
        Ok(()) => {
            sync_dir(dir)?;
            Ok((key, true))
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok((load(path)?, false)),
        Err(e) => Err(e.into()),
    }
}

/// Creates a new file that only its owner can read and write.
fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes directory entry changes in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes the temporary file however `create` ends.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        // Best effort; a leftover temp file has mode 0600 like the key file.
        let _ = fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests;
