#!/usr/bin/env python3
"""Independent checks for keyfort-crypto's asymmetric and HMAC primitives.

Driven by `tests/asym_crosscheck.rs`: reads one JSON object
{"tasks": [...]} on stdin and writes {"results": [...]} (one result per task,
same order) on stdout. All byte strings are lowercase hex. Uses only Python
`cryptography` (OpenSSL inside, independent of aws-lc) and the standard
library's `hmac`/`hashlib`. Exits 3 if `cryptography` cannot be imported, so
the caller can report the checker as absent.

Operations:
  verify        spki, alg, kind, message, signature -> {ok}
  sign          pkcs8, alg, kind, message           -> {signature}
  oaep_encrypt  spki, hash, plaintext               -> {ciphertext}
  oaep_decrypt  pkcs8, hash, ciphertext             -> {plaintext}
  ecdh          spki (our public key)               -> {peer_spki, secret}
  hmac          hash, key, message                  -> {mac}
  keypair       pkcs8, spki  -> {public_from_private, spki_reencoded, kind}
  capabilities                                      -> {mldsa}
"""

import hashlib
import hmac as std_hmac
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils
except ImportError:
    sys.exit(3)

try:
    from cryptography.hazmat.primitives.asymmetric import mldsa
except ImportError:  # cryptography < 47
    mldsa = None

HASHES = {
    "SHA_1": hashes.SHA1,
    "SHA_224": hashes.SHA224,
    "SHA_256": hashes.SHA256,
    "SHA_384": hashes.SHA384,
    "SHA_512": hashes.SHA512,
}

STDLIB_HASHES = {
    "SHA_224": hashlib.sha224,
    "SHA_256": hashlib.sha256,
    "SHA_384": hashlib.sha384,
    "SHA_512": hashlib.sha512,
}


def alg_hash(alg):
    """The hash an AWS signing algorithm name ends in (SHA_256 etc.)."""
    for name in ("SHA_256", "SHA_384", "SHA_512"):
        if alg.endswith(name):
            return HASHES[name]()
    raise ValueError("no hash in " + alg)


def hash_arg(alg, kind):
    """The `algorithm` argument for RSA/ECDSA sign/verify: the hash, or Prehashed."""
    h = alg_hash(alg)
    if kind == "DIGEST":
        return utils.Prehashed(h)
    if kind != "RAW":
        raise ValueError("message type " + kind)
    return h


def rsa_padding(alg):
    h = alg_hash(alg)
    if alg.startswith("RSASSA_PSS"):
        # Exactly the digest length, as AWS KMS uses; verification requires it.
        return padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size)
    return padding.PKCS1v15()


def is_mldsa_key(key):
    return mldsa is not None and isinstance(
        key,
        (
            mldsa.MLDSA44PublicKey,
            mldsa.MLDSA65PublicKey,
            mldsa.MLDSA87PublicKey,
            mldsa.MLDSA44PrivateKey,
            mldsa.MLDSA65PrivateKey,
            mldsa.MLDSA87PrivateKey,
        ),
    )


def do_verify(t):
    key = serialization.load_der_public_key(bytes.fromhex(t["spki"]))
    msg = bytes.fromhex(t["message"])
    sig = bytes.fromhex(t["signature"])
    alg, kind = t["alg"], t["kind"]
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, msg, rsa_padding(alg), hash_arg(alg, kind))
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, msg, ec.ECDSA(hash_arg(alg, kind)))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            assert alg == "ED25519_SHA_512" and kind == "RAW", (alg, kind)
            key.verify(sig, msg)
        elif is_mldsa_key(key):
            assert alg == "ML_DSA_SHAKE_256" and kind == "RAW", (alg, kind)
            key.verify(sig, msg)
        else:
            raise ValueError("unexpected key type " + type(key).__name__)
    except InvalidSignature:
        return {"ok": False}
    return {"ok": True}


def do_sign(t):
    key = serialization.load_der_private_key(bytes.fromhex(t["pkcs8"]), password=None)
    msg = bytes.fromhex(t["message"])
    alg, kind = t["alg"], t["kind"]
    if isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(msg, rsa_padding(alg), hash_arg(alg, kind))
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        sig = key.sign(msg, ec.ECDSA(hash_arg(alg, kind)))
    elif isinstance(key, ed25519.Ed25519PrivateKey) or is_mldsa_key(key):
        assert kind == "RAW", kind
        sig = key.sign(msg)
    else:
        raise ValueError("unexpected key type " + type(key).__name__)
    return {"signature": sig.hex()}


def oaep(name):
    h = HASHES[name]()
    return padding.OAEP(mgf=padding.MGF1(algorithm=h), algorithm=h, label=None)


def do_oaep_encrypt(t):
    key = serialization.load_der_public_key(bytes.fromhex(t["spki"]))
    ct = key.encrypt(bytes.fromhex(t["plaintext"]), oaep(t["hash"]))
    return {"ciphertext": ct.hex()}


def do_oaep_decrypt(t):
    key = serialization.load_der_private_key(bytes.fromhex(t["pkcs8"]), password=None)
    pt = key.decrypt(bytes.fromhex(t["ciphertext"]), oaep(t["hash"]))
    return {"plaintext": pt.hex()}


def spki_of(public_key):
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def do_ecdh(t):
    ours = serialization.load_der_public_key(bytes.fromhex(t["spki"]))
    peer = ec.generate_private_key(ours.curve)
    secret = peer.exchange(ec.ECDH(), ours)
    return {"peer_spki": spki_of(peer.public_key()).hex(), "secret": secret.hex()}


def do_hmac(t):
    mac = std_hmac.new(
        bytes.fromhex(t["key"]), bytes.fromhex(t["message"]), STDLIB_HASHES[t["hash"]]
    )
    return {"mac": mac.hexdigest()}


def do_keypair(t):
    private = serialization.load_der_private_key(bytes.fromhex(t["pkcs8"]), password=None)
    public = serialization.load_der_public_key(bytes.fromhex(t["spki"]))
    if isinstance(private, ec.EllipticCurvePrivateKey):
        kind = "ec:" + private.curve.name
    elif isinstance(private, rsa.RSAPrivateKey):
        kind = "rsa:%d:%d" % (private.key_size, private.private_numbers().public_numbers.e)
    elif isinstance(private, ed25519.Ed25519PrivateKey):
        kind = "ed25519"
    elif is_mldsa_key(private):
        kind = "mldsa%d" % {1312: 44, 1952: 65, 2592: 87}[len(private.public_key().public_bytes_raw())]
    else:
        kind = "unexpected:" + type(private).__name__
    return {
        "public_from_private": spki_of(private.public_key()).hex(),
        "spki_reencoded": spki_of(public).hex(),
        "kind": kind,
    }


def do_capabilities(_t):
    usable = False
    if mldsa is not None:
        try:
            k = mldsa.MLDSA44PrivateKey.generate()
            k.public_key().verify(k.sign(b"probe"), b"probe")
            usable = True
        except Exception:  # noqa: BLE001 - the backend may lack ML-DSA
            usable = False
    return {"mldsa": usable}


OPS = {
    "verify": do_verify,
    "sign": do_sign,
    "oaep_encrypt": do_oaep_encrypt,
    "oaep_decrypt": do_oaep_decrypt,
    "ecdh": do_ecdh,
    "hmac": do_hmac,
    "keypair": do_keypair,
    "capabilities": do_capabilities,
}


def main():
    tasks = json.load(sys.stdin)["tasks"]
    json.dump({"results": [OPS[t["op"]](t) for t in tasks]}, sys.stdout)


if __name__ == "__main__":
    main()
