"""Compatibility with the stock `aws` CLI and boto3, used exactly as a new user would:
start `keyfort serve` on an empty data directory, take the credentials file it writes,
and point the tools at it with nothing but an endpoint override.

Run: python3 compat/test_compat.py [--keyfort PATH]   (default: target/release/keyfort)
"""

import base64
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

import boto3
import botocore.exceptions
from botocore.config import Config

KEYFORT = os.environ.get("KEYFORT_BIN", "target/release/keyfort")
REGION = "us-east-1"


class Server:
    """`keyfort serve` on a fresh data directory, on a free loopback port."""

    def __init__(self, *extra):
        self.dir = tempfile.TemporaryDirectory()
        self.data = os.path.join(self.dir.name, "keyfort-data")
        env = dict(os.environ)
        env.pop("KEYFORT_ROOT_ACCESS_KEY_ID", None)
        env.pop("KEYFORT_ROOT_SECRET_ACCESS_KEY", None)
        self.proc = subprocess.Popen(
            [KEYFORT, "serve", "--listen", "127.0.0.1:0", "--data-dir", self.data, *extra],
            stdout=subprocess.PIPE,
            bufsize=1,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.banner = []
        deadline = time.time() + 60
        self.endpoint = None
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("keyfort exited before listening: " + "".join(self.banner))
            self.banner.append(line)
            m = re.match(r"keyfort listening on (\S+)", line)
            if m:
                self.endpoint = m.group(1)
                break
        if not self.endpoint:
            raise RuntimeError("keyfort did not start")
        self.credentials = os.path.join(self.data, "credentials")

    def env(self):
        env = dict(os.environ)
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(k, None)
        env["AWS_SHARED_CREDENTIALS_FILE"] = self.credentials
        env["AWS_CONFIG_FILE"] = os.devnull
        env["AWS_PROFILE"] = "keyfort"
        return env

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.dir.cleanup()


SERVER = None


def aws(*args, input_bytes=None):
    """Runs the stock aws CLI against keyfort; returns stdout (text)."""
    cmd = ["aws", "--endpoint-url", SERVER.endpoint, "--region", REGION, *args]
    r = subprocess.run(cmd, capture_output=True, env=SERVER.env(), input=input_bytes, timeout=120)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.decode()}")
    return r.stdout.decode()


def aws_fails(*args):
    cmd = ["aws", "--endpoint-url", SERVER.endpoint, "--region", REGION, *args]
    r = subprocess.run(cmd, capture_output=True, env=SERVER.env(), timeout=120)
    assert r.returncode != 0, f"{args} should have failed"
    return r.stderr.decode()


def boto_kms():
    # Credentials are resolved lazily, so the environment stays pointed at keyfort's
    # credentials file for the whole run (set in main()).
    session = boto3.session.Session(profile_name="keyfort")
    return session.client(
        "kms",
        endpoint_url=SERVER.endpoint,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}),
    )


class FirstStart(unittest.TestCase):
    def test_credentials_file_is_private_and_printed_once(self):
        mode = os.stat(SERVER.credentials).st_mode & 0o777
        self.assertEqual(mode, 0o600)
        text = open(SERVER.credentials).read()
        self.assertIn("[keyfort]", text)
        akid = re.search(r"aws_access_key_id = (\S+)", text).group(1)
        self.assertTrue(any(akid in line for line in SERVER.banner), "credentials not printed")
        self.assertEqual(os.stat(os.path.join(SERVER.data, "root.key")).st_mode & 0o777, 0o600)


class AwsCli(unittest.TestCase):
    def test_readme_flow(self):
        key_id = aws("kms", "create-key", "--description", "cli", "--query", "KeyMetadata.KeyId", "--output", "text").strip()
        self.assertRegex(key_id, r"^[0-9a-f-]{36}$")
        aws("kms", "create-alias", "--alias-name", "alias/app", "--target-key-id", key_id)
        with tempfile.TemporaryDirectory() as d:
            secret = os.path.join(d, "secret.txt")
            blob = os.path.join(d, "blob")
            payload = b"the password is hunter2\n"
            open(secret, "wb").write(payload)
            b64 = aws("kms", "encrypt", "--key-id", "alias/app", "--plaintext", f"fileb://{secret}",
                      "--encryption-context", "app=cli", "--output", "text", "--query", "CiphertextBlob").strip()
            open(blob, "wb").write(base64.b64decode(b64))
            out = aws("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}", "--encryption-context", "app=cli",
                      "--output", "text", "--query", "Plaintext").strip()
            self.assertEqual(base64.b64decode(out), payload)
            err = aws_fails("kms", "decrypt", "--ciphertext-blob", f"fileb://{blob}")
            self.assertIn("InvalidCiphertextException", err)
        listed = aws("kms", "list-aliases", "--query", "Aliases[].AliasName", "--output", "text")
        self.assertIn("alias/app", listed)
        self.assertIn("NotFoundException", aws_fails("kms", "describe-key", "--key-id", "alias/none"))
        random = aws("kms", "generate-random", "--number-of-bytes", "64", "--output", "text", "--query", "Plaintext")
        self.assertEqual(len(base64.b64decode(random.strip())), 64)


class CloudTrail(unittest.TestCase):
    def test_lookup_events_with_the_stock_cli(self):
        import json
        arn = aws("kms", "create-key", "--description", "audited", "--query", "KeyMetadata.Arn", "--output", "text").strip()
        aws_fails("kms", "describe-key", "--key-id", "alias/not-there")
        out = json.loads(aws("cloudtrail", "lookup-events", "--lookup-attributes",
                             f"AttributeKey=ResourceName,AttributeValue={arn}", "--output", "json"))
        names = [e["EventName"] for e in out["Events"]]
        self.assertEqual(names, ["CreateKey"])
        record = json.loads(out["Events"][0]["CloudTrailEvent"])
        self.assertEqual(record["eventSource"], "kms.amazonaws.com")
        self.assertEqual(record["resources"][0]["ARN"], arn)
        self.assertEqual(out["Events"][0]["ReadOnly"], "false")
        failed = json.loads(aws("cloudtrail", "lookup-events", "--lookup-attributes",
                                "AttributeKey=EventName,AttributeValue=DescribeKey", "--output", "json"))
        errors = [json.loads(e["CloudTrailEvent"]).get("errorCode") for e in failed["Events"]]
        self.assertIn("NotFoundException", errors)
        # Pagination through the CLI's paginator (MaxResults 1 per page).
        paged = json.loads(aws("cloudtrail", "lookup-events", "--page-size", "1", "--max-items", "3", "--output", "json"))
        self.assertEqual(len(paged["Events"]), 3)
        # Another region sees none of these events.
        cmd = ["aws", "--endpoint-url", SERVER.endpoint, "--region", "eu-west-1", "cloudtrail", "lookup-events", "--output", "json"]
        r = subprocess.run(cmd, capture_output=True, env=SERVER.env(), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(json.loads(r.stdout)["Events"], [])


class Tls(unittest.TestCase):
    def test_aws_cli_over_self_signed_tls(self):
        tls = Server("--tls-self-signed")
        try:
            bundle = re.search(r"AWS_CA_BUNDLE=(\S+)", "".join(tls.banner)).group(1)
            self.assertTrue(tls.endpoint.startswith("https://127.0.0.1:"), tls.endpoint)
            env = tls.env()
            env["AWS_CA_BUNDLE"] = bundle
            cmd = ["aws", "--endpoint-url", tls.endpoint, "--region", REGION, "kms", "create-key",
                   "--query", "KeyMetadata.KeyState", "--output", "text"]
            r = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(r.stdout.decode().strip(), "Enabled")
            # Without the bundle the certificate is not trusted.
            env.pop("AWS_CA_BUNDLE")
            r = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
            self.assertNotEqual(r.returncode, 0)
        finally:
            tls.stop()


class Boto3(unittest.TestCase):
    def test_envelope_encryption_and_errors(self):
        kms = boto_kms()
        key = kms.create_key(Description="boto3", Tags=[{"TagKey": "env", "TagValue": "ci"}])["KeyMetadata"]
        self.assertEqual(key["KeySpec"], "SYMMETRIC_DEFAULT")
        self.assertEqual(key["KeyState"], "Enabled")
        dk = kms.generate_data_key(KeyId=key["Arn"], KeySpec="AES_256", EncryptionContext={"bucket": "b1"})
        self.assertEqual(len(dk["Plaintext"]), 32)
        back = kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"bucket": "b1"})
        self.assertEqual(back["Plaintext"], dk["Plaintext"])
        self.assertEqual(back["KeyId"], key["Arn"])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"bucket": "b2"})
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidCiphertextException")
        ids = []
        for page in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1}):
            ids += [k["KeyId"] for k in page["Keys"]]
        self.assertIn(key["KeyId"], ids)
        kms.disable_key(KeyId=key["KeyId"])
        with self.assertRaises(kms.exceptions.DisabledException):
            kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
        r = kms.schedule_key_deletion(KeyId=key["KeyId"], PendingWindowInDays=7)
        self.assertEqual(r["KeyState"], "PendingDeletion")
        with self.assertRaises(kms.exceptions.KMSInvalidStateException):
            kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
        kms.cancel_key_deletion(KeyId=key["KeyId"])
        with self.assertRaises(kms.exceptions.NotFoundException):
            kms.describe_key(KeyId="alias/does-not-exist")
        tags = kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
        self.assertEqual(tags, [{"TagKey": "env", "TagValue": "ci"}])


class Asymmetric(unittest.TestCase):
    """Results from keyfort checked by an implementation keyfort does not use
    (Python `cryptography`), through boto3."""

    def test_signatures_verify_outside(self):
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding

        kms = boto_kms()
        msg = b"signed by keyfort, checked elsewhere"
        cases = [
            ("ECC_NIST_P256", "ECDSA_SHA_256", lambda pk, sig: pk.verify(sig, msg, ec.ECDSA(hashes.SHA256()))),
            ("ECC_SECG_P256K1", "ECDSA_SHA_256", lambda pk, sig: pk.verify(sig, msg, ec.ECDSA(hashes.SHA256()))),
            ("ECC_NIST_P521", "ECDSA_SHA_512", lambda pk, sig: pk.verify(sig, msg, ec.ECDSA(hashes.SHA512()))),
            ("RSA_2048", "RSASSA_PSS_SHA_256", lambda pk, sig: pk.verify(
                sig, msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())),
            ("RSA_3072", "RSASSA_PKCS1_V1_5_SHA_384", lambda pk, sig: pk.verify(
                sig, msg, padding.PKCS1v15(), hashes.SHA384())),
            ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", lambda pk, sig: pk.verify(sig, msg)),
        ]
        for spec, alg, check in cases:
            key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
            sig = kms.sign(KeyId=key, Message=msg, SigningAlgorithm=alg)["Signature"]
            der = kms.get_public_key(KeyId=key)["PublicKey"]
            check(serialization.load_der_public_key(der), sig)  # raises if invalid
            self.assertTrue(kms.verify(KeyId=key, Message=msg, Signature=sig, SigningAlgorithm=alg)["SignatureValid"])
            with self.assertRaises(kms.exceptions.KMSInvalidSignatureException):
                kms.verify(KeyId=key, Message=msg + b"!", Signature=sig, SigningAlgorithm=alg)

    def test_rsa_ciphertext_made_outside_decrypts(self):
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        kms = boto_kms()
        key = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
        pk = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
        ct = pk.encrypt(b"outside in", padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))
        out = kms.decrypt(KeyId=key, CiphertextBlob=ct, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
        self.assertEqual(out["Plaintext"], b"outside in")

    def test_ecdh_matches_outside(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        kms = boto_kms()
        key = kms.create_key(KeySpec="ECC_NIST_P384", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]["KeyId"]
        mine = ec.generate_private_key(ec.SECP384R1())
        my_der = mine.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        theirs = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
        shared = kms.derive_shared_secret(KeyId=key, KeyAgreementAlgorithm="ECDH", PublicKey=my_der)["SharedSecret"]
        self.assertEqual(shared, mine.exchange(ec.ECDH(), theirs))

    def test_hmac_generate_and_verify(self):
        kms = boto_kms()
        key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
        mac = kms.generate_mac(KeyId=key, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
        self.assertEqual(len(mac), 32)
        self.assertTrue(kms.verify_mac(KeyId=key, Message=b"m", Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"])
        with self.assertRaises(kms.exceptions.KMSInvalidMacException):
            kms.verify_mac(KeyId=key, Message=b"n", Mac=mac, MacAlgorithm="HMAC_SHA_256")

    def test_data_key_pair(self):
        from cryptography.hazmat.primitives import serialization

        kms = boto_kms()
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        for spec in ("ECC_NIST_P256", "RSA_2048", "ECC_NIST_EDWARDS25519"):
            pair = kms.generate_data_key_pair(KeyId=key, KeyPairSpec=spec, EncryptionContext={"k": "v"})
            private = serialization.load_der_private_key(pair["PrivateKeyPlaintext"], password=None)
            pub = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
            self.assertEqual(pub, pair["PublicKey"])
            again = kms.decrypt(CiphertextBlob=pair["PrivateKeyCiphertextBlob"], EncryptionContext={"k": "v"})
            self.assertEqual(again["Plaintext"], pair["PrivateKeyPlaintext"])


class RotationImportManaged(unittest.TestCase):
    """Issue 6 with the stock tools: rotation, import as AWS's documentation shows it
    (aws CLI + openssl), AWS managed keys."""

    def test_rotation_with_the_cli(self):
        import json

        key = json.loads(aws("kms", "create-key"))["KeyMetadata"]["KeyId"]
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"hello")
            f.flush()
            before = json.loads(aws("kms", "encrypt", "--key-id", key, "--plaintext", "fileb://" + f.name))["CiphertextBlob"]
        aws("kms", "enable-key-rotation", "--key-id", key, "--rotation-period-in-days", "180")
        st = json.loads(aws("kms", "get-key-rotation-status", "--key-id", key))
        self.assertTrue(st["KeyRotationEnabled"])
        self.assertEqual(st["RotationPeriodInDays"], 180)
        self.assertIn("NextRotationDate", st)
        first = json.loads(aws("kms", "describe-key", "--key-id", key))["KeyMetadata"]["CurrentKeyMaterialId"]
        aws("kms", "rotate-key-on-demand", "--key-id", key)
        rotations = json.loads(aws("kms", "list-key-rotations", "--key-id", key))["Rotations"]
        self.assertEqual(len(rotations), 1)
        self.assertEqual(rotations[0]["RotationType"], "ON_DEMAND")
        now = json.loads(aws("kms", "describe-key", "--key-id", key))["KeyMetadata"]["CurrentKeyMaterialId"]
        self.assertNotEqual(first, now)
        self.assertEqual(rotations[0]["KeyMaterialId"], now)
        blob = base64.b64decode(before)
        kms = boto_kms()
        d = kms.decrypt(CiphertextBlob=blob)
        self.assertEqual(d["Plaintext"], b"hello")
        self.assertEqual(d["KeyMaterialId"], first)
        after = kms.encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
        self.assertEqual(kms.decrypt(CiphertextBlob=after)["KeyMaterialId"], now)
        aws("kms", "disable-key-rotation", "--key-id", key)
        self.assertFalse(json.loads(aws("kms", "get-key-rotation-status", "--key-id", key))["KeyRotationEnabled"])

    def test_import_with_openssl_as_documented(self):
        import json

        kms = boto_kms()
        key = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
        with tempfile.TemporaryDirectory() as d:
            def run(*cmd):
                subprocess.run(cmd, cwd=d, check=True, capture_output=True, env=os.environ)

            params = json.loads(aws(
                "kms", "get-parameters-for-import", "--key-id", key,
                "--wrapping-algorithm", "RSAES_OAEP_SHA_256", "--wrapping-key-spec", "RSA_3072",
            ))
            with open(os.path.join(d, "PublicKey.bin"), "wb") as f:
                f.write(base64.b64decode(params["PublicKey"]))
            with open(os.path.join(d, "ImportToken.bin"), "wb") as f:
                f.write(base64.b64decode(params["ImportToken"]))
            run("openssl", "rand", "-out", "PlaintextKeyMaterial.bin", "32")
            run("openssl", "pkeyutl", "-encrypt", "-in", "PlaintextKeyMaterial.bin",
                "-out", "EncryptedKeyMaterial.bin", "-inkey", "PublicKey.bin", "-keyform", "DER",
                "-pubin", "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
                "-pkeyopt", "rsa_mgf1_md:sha256")
            imported = json.loads(aws(
                "kms", "import-key-material", "--key-id", key,
                "--encrypted-key-material", "fileb://" + os.path.join(d, "EncryptedKeyMaterial.bin"),
                "--import-token", "fileb://" + os.path.join(d, "ImportToken.bin"),
                "--expiration-model", "KEY_MATERIAL_DOES_NOT_EXPIRE",
            ))
            self.assertEqual(len(imported["KeyMaterialId"]), 64)
            blob = kms.encrypt(KeyId=key, Plaintext=b"imported")["CiphertextBlob"]
            aws("kms", "delete-imported-key-material", "--key-id", key)
            self.assertEqual(kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"], "PendingImport")
            # Reimport the same material (a new token, as after expiry).
            params = kms.get_parameters_for_import(
                KeyId=key, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
            with open(os.path.join(d, "PublicKey.bin"), "wb") as f:
                f.write(params["PublicKey"])
            run("openssl", "pkeyutl", "-encrypt", "-in", "PlaintextKeyMaterial.bin",
                "-out", "EncryptedKeyMaterial.bin", "-inkey", "PublicKey.bin", "-keyform", "DER",
                "-pubin", "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
                "-pkeyopt", "rsa_mgf1_md:sha256")
            with open(os.path.join(d, "EncryptedKeyMaterial.bin"), "rb") as f:
                wrapped = f.read()
            kms.import_key_material(KeyId=key, ImportToken=params["ImportToken"],
                                    EncryptedKeyMaterial=wrapped,
                                    ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
            self.assertEqual(kms.decrypt(CiphertextBlob=blob)["Plaintext"], b"imported")
            with self.assertRaises(kms.exceptions.InvalidImportTokenException):
                kms.import_key_material(KeyId=key, ImportToken=b"bogus token",
                                        EncryptedKeyMaterial=wrapped,
                                        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")

    def test_aws_managed_key(self):
        kms = boto_kms()
        meta = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]
        self.assertEqual(meta["KeyManager"], "AWS")
        self.assertTrue(kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"])
        names = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
        self.assertIn("alias/aws/ebs", names)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            kms.disable_key(KeyId=meta["KeyId"])
        self.assertEqual(e.exception.response["Error"]["Code"], "AccessDeniedException")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            kms.schedule_key_deletion(KeyId=meta["KeyId"])
        self.assertEqual(e.exception.response["Error"]["Code"], "AccessDeniedException")


def main():
    global SERVER
    SERVER = Server()
    env = SERVER.env()
    os.environ.clear()
    os.environ.update(env)
    try:
        result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    finally:
        SERVER.stop()
    failed = len(result.failures) + len(result.errors)
    print(f"compat: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or result.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
