"""Key policies and grants with the stock `aws` CLI and boto3 against `keyfort serve`:
a key shared with a second account (made with `keyfort admin account create`) by its
key policy and by a grant, the lockout safety check, retiring and revoking grants, and a
registered integrating service (`keyfort admin service register`) using an AWS managed
key for its caller with a stock boto3 client and a `before-sign` hook.

Run: KEYFORT_BIN=target/release/keyfort python3 compat/test_authz.py
"""

import base64
import json
import os
import subprocess
import sys
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_compat as base  # noqa: E402  (the Server harness)
import test_iam as iam  # noqa: E402  (aws CLI and boto3 helpers)

ACCOUNT = "111122223333"


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal, actions):
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions, "Resource": "*"}


def second_account():
    r = subprocess.run(
        [base.KEYFORT, "admin", "account", "create", "--data-dir", iam.SERVER.data, "--output", "json"],
        capture_output=True, timeout=60,
    )
    assert r.returncode == 0, r.stderr.decode()
    acct = json.loads(r.stdout)
    return acct["AccountId"], (acct["AccessKeyId"], acct["SecretAccessKey"])


class KeyPolicyAndGrants(unittest.TestCase):
    def test_sharing_by_policy_and_grant_with_the_cli(self):
        other, creds = second_account()
        key = iam.aws_json(["kms", "create-key"])["KeyMetadata"]
        arn, key_id = key["Arn"], key["KeyId"]
        shared = policy(
            allow(f"arn:aws:iam::{ACCOUNT}:root", "kms:*"),
            allow(f"arn:aws:iam::{other}:root", ["kms:Encrypt", "kms:DescribeKey"]),
        )
        iam.run_aws(["kms", "put-key-policy", "--key-id", key_id, "--policy-name", "default", "--policy", shared])
        # The other account encrypts by ARN; by id the key is not in its namespace.
        ct = iam.aws_json(["kms", "encrypt", "--key-id", arn, "--plaintext", "aW1hZ2U="], creds)["CiphertextBlob"]
        r = iam.run_aws(["kms", "encrypt", "--key-id", key_id, "--plaintext", "aW1hZ2U="], creds, check=False)
        self.assertIn("NotFoundException", r.stderr.decode())
        blob = "fileb://" + os.path.join(iam.SERVER.data, "blob.bin")
        with open(blob[len("fileb://"):], "wb") as f:
            f.write(base64.b64decode(ct))
        r = iam.run_aws(["kms", "decrypt", "--ciphertext-blob", blob], creds, check=False)
        self.assertIn("AccessDeniedException", r.stderr.decode())
        self.assertIn(f"arn:aws:iam::{other}:root is not authorized to perform: kms:Decrypt", r.stderr.decode())
        # A grant adds Decrypt; retiring it takes it away.
        g = iam.aws_json([
            "kms", "create-grant", "--key-id", key_id,
            "--grantee-principal", f"arn:aws:iam::{other}:root",
            "--operations", "Decrypt", "RetireGrant", "--name", "cli-grant",
        ])
        out = iam.aws_json(["kms", "decrypt", "--ciphertext-blob", blob], creds)
        self.assertEqual(out["KeyId"], arn)
        grants = iam.aws_json(["kms", "list-grants", "--key-id", key_id])["Grants"]
        self.assertEqual([x["GrantId"] for x in grants], [g["GrantId"]])
        self.assertEqual(sorted(grants[0]["Operations"]), ["Decrypt", "RetireGrant"])
        iam.run_aws(["kms", "retire-grant", "--grant-token", g["GrantToken"]], creds)
        r = iam.run_aws(["kms", "decrypt", "--ciphertext-blob", blob], creds, check=False)
        self.assertIn("AccessDeniedException", r.stderr.decode())

    def test_lockout_check_and_revoke_with_boto3(self):
        kms = iam.client("kms")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        no_put = policy({
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "NotAction": "kms:PutKeyPolicy", "Resource": "*",
        })
        with self.assertRaises(kms.exceptions.MalformedPolicyDocumentException):
            kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=no_put)
        with self.assertRaises(kms.exceptions.MalformedPolicyDocumentException):
            kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy='{"Statement": []}')
        retiring = f"arn:aws:iam::{ACCOUNT}:role/cleanup"
        grant = kms.create_grant(
            KeyId=key_id, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/app",
            RetiringPrincipal=retiring, Operations=["Encrypt"],
            Constraints={"EncryptionContextSubset": {"app": "x"}},
        )
        listed = kms.list_retirable_grants(RetiringPrincipal=retiring)["Grants"]
        self.assertEqual([x["GrantId"] for x in listed], [grant["GrantId"]])
        self.assertEqual(listed[0]["Constraints"], {"EncryptionContextSubset": {"app": "x"}})
        kms.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
        self.assertEqual(kms.list_retirable_grants(RetiringPrincipal=retiring)["Grants"], [])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            kms.revoke_grant(KeyId=key_id, GrantId=grant["GrantId"])
        self.assertEqual(e.exception.response["Error"]["Code"], "NotFoundException")


class IntegratingService(unittest.TestCase):
    def test_a_registered_service_uses_alias_aws_s3_for_its_caller(self):
        iam_c = iam.client("iam")
        iam_c.create_user(UserName="s3-service")
        svc_key = iam_c.create_access_key(UserName="s3-service")["AccessKey"]
        iam_c.create_user(UserName="bob")
        bob_arn = f"arn:aws:iam::{ACCOUNT}:user/bob"
        r = subprocess.run(
            [base.KEYFORT, "admin", "service", "register", "--data-dir", iam.SERVER.data,
             "--name", "s3", "--account", ACCOUNT, "--user", "s3-service"],
            capture_output=True, timeout=60,
        )
        self.assertEqual(r.returncode, 0, r.stderr.decode())

        # The service's client: its own credentials, plus the two headers, added
        # before botocore signs so that they are among the SignedHeaders.
        svc = iam.client("kms", (svc_key["AccessKeyId"], svc_key["SecretAccessKey"]))

        def act_for_bob(request, **_):
            request.headers["X-Keyfort-Via-Service"] = "s3"
            request.headers["X-Keyfort-Caller"] = bob_arn

        svc.meta.events.register("before-sign.kms.*", act_for_bob)
        ctx = {"aws:s3:arn": "arn:aws:s3:::bucket/object"}
        dk = svc.generate_data_key(KeyId="alias/aws/s3", KeySpec="AES_256", EncryptionContext=ctx)
        back = svc.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=ctx)
        self.assertEqual(back["Plaintext"], dk["Plaintext"])

        # Directly (the service user without the headers, or the root), the AWS
        # managed key is not usable for data.
        plain = iam.client("kms", (svc_key["AccessKeyId"], svc_key["SecretAccessKey"]))
        for c in (plain, iam.client("kms")):
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                c.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")
            self.assertEqual(e.exception.response["Error"]["Code"], "AccessDeniedException")

        # The trail shows bob, invoked by s3.
        ct = iam.client("cloudtrail")
        events = ct.lookup_events(
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GenerateDataKey"}]
        )["Events"]
        identities = [json.loads(e["CloudTrailEvent"])["userIdentity"] for e in events]
        self.assertIn({"arn": bob_arn, "invokedBy": "s3.amazonaws.com"},
                      [{"arn": i.get("arn"), "invokedBy": i.get("invokedBy")} for i in identities])


def main():
    iam.SERVER = base.Server()
    base.SERVER = iam.SERVER
    env = iam.SERVER.env()
    os.environ.clear()
    os.environ.update(env)
    try:
        result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    finally:
        iam.SERVER.stop()
    failed = len(result.failures) + len(result.errors)
    print(f"compat authz: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or result.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
