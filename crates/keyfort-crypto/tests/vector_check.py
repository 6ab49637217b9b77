#!/usr/bin/env python3
"""Independent check of the test vectors in docs/ciphertext-format.md.

Recomputes every vector with Python `cryptography` (HKDF-SHA256, AES-256-GCM)
and hashlib, compares with the expected hex below, decrypts each expected
value, and checks that every expected hex string appears in the document.
The Rust unit test `vectors::published_vectors` checks the same hex against
keyfort-crypto. Exits non-zero on any mismatch.

Run: python3 crates/keyfort-crypto/tests/vector_check.py
"""

import hashlib
import pathlib
import struct
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

HKDF_INFO_V1 = b"keyfort ciphertext blob v1 AES-256-GCM message key"

EXPECTED = {
    "vector 1 context": (
        "00000007707572706f73650000000b7465737420766563746f72"
        "0000000674656e616e7400000005616c706861"
    ),
    "vector 1 message key": "1be0d485b484730d2ec092fc2459cb81974391ed85d5f714ea4dc196b301e141",
    "vector 1 blob": (
        "4b46012431323334616263642d313261622d333463642d353665662d3132"
        "33343536373839306162a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"
        "b4b5b6b7b8b9babbbcbdbebf404142434445464748494a4b4c4d4e4f5051"
        "52535455565758595a5b5c5d5e5f606162636465666768696a6b20d96ff4"
        "b649e35775931c87708d26d8414df0afb161cfa4b15e1b258ba403"
    ),
    "vector 2 blob": (
        "4b4601246d726b2d31323334616263643132616233346364353665663132"
        "33343536373839306162a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3"
        "b4b5b6b7b8b9babbbcbdbebf404142434445464748494a4b4c4d4e4f5051"
        "52535455565758595a5b5c5d5e5f606162636465666768696a6be83d811b"
        "5de045bb9863f0638e748966c225b3b0b7438475f876b32837e93d378604"
        "0843b2167e4fce9ebaf98afedc3e"
    ),
    "root sealed": (
        "01707172737475767778797a7b697f6068d3adc15920122a4b64ff0e1c78"
        "5ad2bc1d0d76e8d9f87b53c8728702e737396744ab49d2ba063c168a9c7f"
        "a9"
    ),
    "root key file": (
        "4b46524b01202122232425262728292a2b2c2d2e2f303132333435363738"
        "393a3b3c3d3e3ff806ad60"
    ),
}


def seq(start, n):
    return bytes(range(start, start + n))


def canonical_context(ctx):
    """Sorted by key then value (UTF-8 bytes); u32 BE length before each."""
    out = b""
    for k, v in sorted((k.encode(), v.encode()) for k, v in ctx.items()):
        out += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
    return out


def message_key(backing_key, salt):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=HKDF_INFO_V1).derive(
        backing_key
    )


def make_blob(backing_key, key_id, backing_key_id, salt, nonce, ctx, plaintext):
    kid = key_id.encode("ascii")
    header = b"KF\x01" + bytes([len(kid)]) + kid + backing_key_id + salt + nonce
    aad = header + canonical_context(ctx)
    return header + AESGCM(message_key(backing_key, salt)).encrypt(nonce, plaintext, aad)


def open_blob(backing_key, blob, ctx):
    """Parse a blob independently of make_blob and decrypt it."""
    assert blob[:3] == b"KF\x01", "magic/version"
    n = blob[3]
    assert 1 <= n <= 64
    key_id = blob[4 : 4 + n].decode("ascii")
    at = 4 + n
    backing_key_id, salt, nonce = blob[at : at + 32], blob[at + 32 : at + 64], blob[at + 64 : at + 76]
    header = blob[: at + 76]
    aad = header + canonical_context(ctx)
    pt = AESGCM(message_key(backing_key, salt)).decrypt(nonce, blob[at + 76 :], aad)
    return key_id, backing_key_id, pt


def main():
    failures = []
    computed = {}

    def check(name, value):
        computed[name] = value.hex()
        if EXPECTED[name] and value.hex() != EXPECTED[name]:
            failures.append(f"{name}: computed {value.hex()}, expected {EXPECTED[name]}")

    # Vector 1: UUID key id, two-pair context.
    ctx1 = {"tenant": "alpha", "purpose": "test vector"}
    args1 = (seq(0x00, 32), "1234abcd-12ab-34cd-56ef-1234567890ab", seq(0xA0, 32),
             seq(0x40, 32), seq(0x60, 12), ctx1, b"Hello, keyfort!")
    check("vector 1 context", canonical_context(ctx1))
    check("vector 1 message key", message_key(seq(0x00, 32), seq(0x40, 32)))
    check("vector 1 blob", make_blob(*args1))
    kid, bkid, pt = open_blob(seq(0x00, 32), bytes.fromhex(EXPECTED["vector 1 blob"]), ctx1)
    if (kid, bkid, pt) != (args1[1], args1[2], args1[6]):
        failures.append("vector 1 does not decrypt to its inputs")

    # Vector 2: multi-Region key id, empty context, a 32-byte data key.
    args2 = (seq(0x00, 32), "mrk-1234abcd12ab34cd56ef1234567890ab", seq(0xA0, 32),
             seq(0x40, 32), seq(0x60, 12), {}, seq(0x80, 32))
    check("vector 2 blob", make_blob(*args2))
    kid, bkid, pt = open_blob(seq(0x00, 32), bytes.fromhex(EXPECTED["vector 2 blob"]), {})
    if (kid, bkid, pt) != (args2[1], args2[2], args2[6]):
        failures.append("vector 2 does not decrypt to its inputs")

    # Root key sealing: version 0x01 || nonce || AES-256-GCM(root, aad = caller's).
    root = seq(0x20, 32)
    aad = b"backing-key|1234abcd-12ab-34cd-56ef-1234567890ab|" + seq(0xA0, 32).hex().encode()
    nonce = seq(0x70, 12)
    check("root sealed", b"\x01" + nonce + AESGCM(root).encrypt(nonce, seq(0x00, 32), aad))
    sealed = bytes.fromhex(EXPECTED["root sealed"])
    if AESGCM(root).decrypt(sealed[1:13], sealed[13:], aad) != seq(0x00, 32):
        failures.append("root sealed value does not open")

    # Root key file: "KFRK" || 0x01 || key || SHA-256(first 37 bytes)[:4].
    body = b"KFRK\x01" + root
    check("root key file", body + hashlib.sha256(body).digest()[:4])

    # Every expected value must be published in the document.
    doc_path = pathlib.Path(__file__).resolve().parents[3] / "docs" / "ciphertext-format.md"
    if doc_path.exists():
        flat = "".join(doc_path.read_text().split())
        for name, hexstr in computed.items():
            if hexstr and hexstr not in flat:
                failures.append(f"{name} ({hexstr}) is not in {doc_path}")
    else:
        failures.append(f"{doc_path} not found")

    for name, hexstr in computed.items():
        print(f"{name}: {hexstr}")
    if failures:
        print("\nFAILED:", *failures, sep="\n  ", file=sys.stderr)
        return 1
    print("\nall vectors match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
