//! The test vectors published in `docs/ciphertext-format.md`, checked byte
//! for byte, and checked to appear in the document. `tests/vector_check.py`
//! recomputes the same vectors with Python `cryptography`, an independent
//! implementation.

use crate::blob::encrypt_symmetric_with;
use crate::*;

const DOC: &str = include_str!("../../../docs/ciphertext-format.md");

fn seq(start: u8, len: u8) -> Vec<u8> {
    (start..start + len).collect()
}

fn arr<const N: usize>(v: &[u8]) -> [u8; N] {
    v.try_into().unwrap()
}

/// Asserts `hex` appears in the document (hex blocks are wrapped, so
/// whitespace is removed before searching).
fn assert_in_doc(name: &str, hex: &str) {
    let flat: String = DOC.split_whitespace().collect();
    assert!(
        flat.contains(hex),
        "{name} ({hex}) is not in docs/ciphertext-format.md"
    );
}

struct BlobVector {
    name: &'static str,
    key_id: &'static str,
    context: &'static [(&'static str, &'static str)],
    plaintext: Vec<u8>,
    context_hex: &'static str,
    blob_hex: &'static str,
}

fn blob_vectors() -> [BlobVector; 2] {
    [
        BlobVector {
            name: "vector 1",
            key_id: "1234abcd-12ab-34cd-56ef-1234567890ab",
            context: &[("tenant", "alpha"), ("purpose", "test vector")],
            plaintext: b"Hello, keyfort!".to_vec(),
            context_hex: "00000007707572706f73650000000b7465737420766563746f72\
                          0000000674656e616e7400000005616c706861",
            blob_hex: "4b46012431323334616263642d313261622d333463642d353665662d3132\
                       33343536373839306162a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3\
                       b4b5b6b7b8b9babbbcbdbebf404142434445464748494a4b4c4d4e4f5051\
                       52535455565758595a5b5c5d5e5f606162636465666768696a6b20d96ff4\
                       b649e35775931c87708d26d8414df0afb161cfa4b15e1b258ba403",
        },
        BlobVector {
            name: "vector 2",
            key_id: "mrk-1234abcd12ab34cd56ef1234567890ab",
            context: &[],
            plaintext: seq(0x80, 32),
            context_hex: "",
            blob_hex: "4b4601246d726b2d31323334616263643132616233346364353665663132\
                       33343536373839306162a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3\
                       b4b5b6b7b8b9babbbcbdbebf404142434445464748494a4b4c4d4e4f5051\
                       52535455565758595a5b5c5d5e5f606162636465666768696a6be83d811b\
                       5de045bb9863f0638e748966c225b3b0b7438475f876b32837e93d378604\
                       0843b2167e4fce9ebaf98afedc3e",
        },
    ]
}

const ROOT_SEALED: &str = "01707172737475767778797a7b697f6068d3adc15920122a4b64ff0e1c78\
                           5ad2bc1d0d76e8d9f87b53c8728702e737396744ab49d2ba063c168a9c7f\
                           a9";
const KEY_FILE: &str = "4b46524b01202122232425262728292a2b2c2d2e2f303132333435363738\
                        393a3b3c3d3e3ff806ad60";

#[test]
fn published_blob_vectors() {
    let backing_key = SymmetricKey::from_bytes(&seq(0x00, 32)).unwrap();
    let backing_key_id: [u8; 32] = arr(&seq(0xa0, 32));
    let salt = arr(&seq(0x40, 32));
    let nonce = arr(&seq(0x60, 12));
    for v in blob_vectors() {
        let ctx = canonical_encryption_context(v.context.iter().copied());
        assert_eq!(to_hex(&ctx), v.context_hex, "{} context", v.name);
        let blob = encrypt_symmetric_with(
            &backing_key,
            v.key_id,
            &backing_key_id,
            &v.plaintext,
            &ctx,
            &salt,
            &nonce,
        )
        .unwrap();
        assert_eq!(to_hex(&blob), v.blob_hex, "{} blob", v.name);
        assert_in_doc(v.name, v.blob_hex);
        if !v.context_hex.is_empty() {
            assert_in_doc(v.name, v.context_hex);
        }

        let parsed = parse_blob(&blob).unwrap();
        assert_eq!(parsed.key_id(), v.key_id);
        assert_eq!(parsed.backing_key_id(), &backing_key_id);
        let pt = decrypt_symmetric(&backing_key, &parsed, &ctx).unwrap();
        assert_eq!(pt.expose(), &v.plaintext[..]);
    }
}

#[test]
fn published_labels() {
    assert!(DOC.contains(core::str::from_utf8(HKDF_INFO_V1).unwrap()));
    assert_eq!(HKDF_INFO_V1.len(), 50);
    assert!(DOC.contains("\"KF\" = 4b 46"));
    assert!(DOC.contains("\"KFRK\" = 4b 46 52 4b"));
    assert_in_doc(
        "vector 1 message key",
        "1be0d485b484730d2ec092fc2459cb81974391ed85d5f714ea4dc196b301e141",
    );
}

#[test]
fn published_root_seal_vector() {
    let root = RootKey::from_symmetric(SymmetricKey::from_bytes(&seq(0x20, 32)).unwrap());
    let aad = format!(
        "backing-key|1234abcd-12ab-34cd-56ef-1234567890ab|{}",
        to_hex(&seq(0xa0, 32))
    );
    let sealed = root
        .seal_with_nonce(&seq(0x00, 32), aad.as_bytes(), &arr(&seq(0x70, 12)))
        .unwrap();
    assert_eq!(to_hex(&sealed), ROOT_SEALED);
    assert_in_doc("vector 3", ROOT_SEALED);
    assert_eq!(
        root.open(&sealed, aad.as_bytes()).unwrap().expose(),
        &seq(0x00, 32)[..]
    );
}

#[test]
fn published_key_file_vector() {
    let key = SymmetricKey::from_bytes(&seq(0x20, 32)).unwrap();
    let encoded = crate::keyfile::encode(&key);
    assert_eq!(to_hex(encoded.expose()), KEY_FILE);
    assert_in_doc("vector 4", KEY_FILE);
    assert!(
        crate::keyfile::decode(encoded.expose())
            .unwrap()
            .ct_eq(key.expose())
    );
}
