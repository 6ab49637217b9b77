#!/usr/bin/env python3
"""Client side of keyfort's import tests, written with Python `cryptography` (its own
OpenSSL, not aws-lc): wraps key material as the AWS KMS documentation describes,
computes HMACs, makes and checks ECDSA keys and signatures, and opens keyfort
ciphertext blobs from the published format (docs/ciphertext-format.md).

Reads one JSON object per line on stdin ({"op": ...}), writes one JSON object per
line on stdout. Binary values are base64.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import sys

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding
except ImportError:
    sys.exit(3)  # the Rust side reports "absent" (a skip, or a failure in CI)

HKDF_INFO_V1 = b"keyfort ciphertext blob v1 AES-256-GCM message key"


def b64(b):
    return base64.b64encode(b).decode()


def unb64(s):
    return base64.b64decode(s)


def oaep(name):
    h = hashes.SHA1() if name.endswith("SHA_1") else hashes.SHA256()
    return padding.OAEP(mgf=padding.MGF1(algorithm=h), algorithm=h, label=None)


def wrap(spki, alg, material):
    public = serialization.load_der_public_key(spki)
    if alg in ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"):
        return public.encrypt(material, oaep(alg))
    if alg in ("RSA_AES_KEY_WRAP_SHA_1", "RSA_AES_KEY_WRAP_SHA_256"):
        aes = os.urandom(32)
        return public.encrypt(aes, oaep(alg)) + aes_key_wrap_with_padding(aes, material)
    raise ValueError(alg)


def canonical(ctx):
    out = b""
    for k, v in sorted((k.encode(), v.encode()) for k, v in ctx.items()):
        out += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
    return out


def open_blob(key, blob, ctx):
    assert blob[:3] == b"KF\x01", "magic and version"
    n = blob[3]
    header_len = 4 + n + 32 + 32 + 12
    salt = blob[4 + n + 32 : 4 + n + 64]
    nonce = blob[4 + n + 64 : header_len]
    mk = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=HKDF_INFO_V1).derive(key)
    return AESGCM(mk).decrypt(nonce, blob[header_len:], blob[:header_len] + canonical(ctx))


def run(task):
    op = task["op"]
    if op == "wrap":
        return {"wrapped": b64(wrap(unb64(task["spki"]), task["alg"], unb64(task["material"])))}
    if op == "hmac":
        mac = hmac.new(unb64(task["key"]), unb64(task["msg"]), getattr(hashlib, task["hash"]))
        return {"mac": b64(mac.digest())}
    if op == "open_blob":
        return {"plaintext": b64(open_blob(unb64(task["key"]), unb64(task["blob"]), task["context"]))}
    if op == "ec_keygen":
        k = ec.generate_private_key(ec.SECP256R1())
        pkcs8 = k.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        spki = k.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"pkcs8": b64(pkcs8), "spki": b64(spki)}
    if op == "ec_verify":
        public = serialization.load_der_public_key(unb64(task["spki"]))
        try:
            public.verify(unb64(task["sig"]), unb64(task["msg"]), ec.ECDSA(hashes.SHA256()))
            return {"ok": True}
        except Exception:
            return {"ok": False}
    raise ValueError(op)


for line in sys.stdin:
    print(json.dumps(run(json.loads(line))), flush=True)
