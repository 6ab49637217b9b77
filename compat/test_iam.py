"""IAM and STS with the stock `aws` CLI and boto3 against `keyfort serve`: users,
access keys, inline and managed policies, roles with trust policies, AssumeRole,
GetCallerIdentity with a session, an inactive key refused, and accounts made with
`keyfort admin account create`.

Run: KEYFORT_BIN=target/release/keyfort python3 compat/test_iam.py
(Session expiry needs a clock the test can move: tests/iam/roles.rs `sessions_expire`.)
"""

import json
import os
import subprocess
import sys
import unittest

import boto3
import botocore.exceptions
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_compat as base  # noqa: E402  (the Server harness)

REGION = "us-east-1"
SERVER = None
ACCOUNT = "111122223333"


def run_aws(args, creds=None, check=True):
    """The stock aws CLI; `creds` (id, secret[, token]) overrides the root profile."""
    env = SERVER.env()
    if creds:
        env.pop("AWS_PROFILE", None)
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        env["AWS_ACCESS_KEY_ID"] = creds[0]
        env["AWS_SECRET_ACCESS_KEY"] = creds[1]
        if len(creds) > 2:
            env["AWS_SESSION_TOKEN"] = creds[2]
    cmd = ["aws", "--endpoint-url", SERVER.endpoint, "--region", REGION, "--output", "json", *args]
    r = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.decode()}")
    return r


def aws_json(args, creds=None):
    out = run_aws(args, creds).stdout.decode()
    return json.loads(out) if out.strip() else {}


def client(service, creds=None):
    kw = {}
    if creds:
        kw = dict(aws_access_key_id=creds[0], aws_secret_access_key=creds[1])
        if len(creds) > 2:
            kw["aws_session_token"] = creds[2]
        session = boto3.session.Session(**kw)
    else:
        session = boto3.session.Session(profile_name="keyfort")
    return session.client(
        service,
        endpoint_url=SERVER.endpoint,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}),
    )


KMS_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
)


def trust(principal_arn):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"}
            ],
        }
    )


class IamWithTheCli(unittest.TestCase):
    def test_users_keys_and_policies(self):
        user = aws_json(["iam", "create-user", "--user-name", "cli-alice", "--tags", "Key=team,Value=blue"])["User"]
        self.assertEqual(user["Arn"], f"arn:aws:iam::{ACCOUNT}:user/cli-alice")
        self.assertTrue(user["UserId"].startswith("AIDA"))
        key = aws_json(["iam", "create-access-key", "--user-name", "cli-alice"])["AccessKey"]
        creds = (key["AccessKeyId"], key["SecretAccessKey"])
        self.assertEqual(key["Status"], "Active")

        # No policy yet: the user is authenticated but may not create users.
        r = run_aws(["iam", "create-user", "--user-name", "nope"], creds, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("AccessDenied", r.stderr.decode())
        self.assertIn("is not authorized to perform: iam:CreateUser", r.stderr.decode())

        aws_json(["iam", "put-user-policy", "--user-name", "cli-alice", "--policy-name", "kms",
                  "--policy-document", KMS_ALL])
        self.assertEqual(
            aws_json(["iam", "list-user-policies", "--user-name", "cli-alice"])["PolicyNames"], ["kms"]
        )
        got = aws_json(["iam", "get-user-policy", "--user-name", "cli-alice", "--policy-name", "kms"])
        self.assertEqual(got["PolicyDocument"], json.loads(KMS_ALL))

        # A managed policy, attached; the CLI reads its document through GetPolicyVersion.
        doc = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]})
        pol = aws_json(["iam", "create-policy", "--policy-name", "ReadUsers", "--policy-document", doc])["Policy"]
        aws_json(["iam", "attach-user-policy", "--user-name", "cli-alice", "--policy-arn", pol["Arn"]])
        attached = aws_json(["iam", "list-attached-user-policies", "--user-name", "cli-alice"])
        self.assertEqual(attached["AttachedPolicies"], [{"PolicyName": "ReadUsers", "PolicyArn": pol["Arn"]}])
        self.assertEqual(aws_json(["iam", "get-policy", "--policy-arn", pol["Arn"]])["Policy"]["AttachmentCount"], 1)
        version = aws_json(["iam", "get-policy-version", "--policy-arn", pol["Arn"], "--version-id", "v1"])
        self.assertEqual(version["PolicyVersion"]["Document"], json.loads(doc))

        # The user's own credentials: STS, KMS and the attached IAM permission.
        who = aws_json(["sts", "get-caller-identity"], creds)
        self.assertEqual(who["Arn"], user["Arn"])
        self.assertEqual(who["Account"], ACCOUNT)
        aws_json(["kms", "list-keys"], creds)
        self.assertEqual(aws_json(["iam", "get-user"], creds)["User"]["UserName"], "cli-alice")
        tags = aws_json(["iam", "list-user-tags", "--user-name", "cli-alice"])["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "blue"}])

        # Inactive: refused at once; active again: accepted.
        aws_json(["iam", "update-access-key", "--user-name", "cli-alice", "--access-key-id", creds[0],
                  "--status", "Inactive"])
        r = run_aws(["kms", "list-keys"], creds, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("UnrecognizedClientException", r.stderr.decode())
        r = run_aws(["sts", "get-caller-identity"], creds, check=False)
        self.assertIn("InvalidClientTokenId", r.stderr.decode())
        aws_json(["iam", "update-access-key", "--user-name", "cli-alice", "--access-key-id", creds[0],
                  "--status", "Active"])
        aws_json(["kms", "list-keys"], creds)

        # Errors in AWS's shape.
        r = run_aws(["iam", "get-user", "--user-name", "nobody"], check=False)
        self.assertIn("NoSuchEntity", r.stderr.decode())
        r = run_aws(["iam", "delete-policy", "--policy-arn", pol["Arn"]], check=False)
        self.assertIn("DeleteConflict", r.stderr.decode())

        # Clean-up in the order IAM requires.
        aws_json(["iam", "detach-user-policy", "--user-name", "cli-alice", "--policy-arn", pol["Arn"]])
        aws_json(["iam", "delete-policy", "--policy-arn", pol["Arn"]])
        aws_json(["iam", "delete-user-policy", "--user-name", "cli-alice", "--policy-name", "kms"])
        aws_json(["iam", "delete-access-key", "--user-name", "cli-alice", "--access-key-id", creds[0]])
        aws_json(["iam", "delete-user", "--user-name", "cli-alice"])
        r = run_aws(["sts", "get-caller-identity"], creds, check=False)
        self.assertIn("InvalidClientTokenId", r.stderr.decode())

    def test_assume_role_with_the_cli(self):
        aws_json(["iam", "create-user", "--user-name", "cli-bob"])
        key = aws_json(["iam", "create-access-key", "--user-name", "cli-bob"])["AccessKey"]
        creds = (key["AccessKeyId"], key["SecretAccessKey"])
        role = aws_json(["iam", "create-role", "--role-name", "cli-role",
                         "--assume-role-policy-document", trust(f"arn:aws:iam::{ACCOUNT}:user/cli-bob")])["Role"]
        self.assertEqual(role["AssumeRolePolicyDocument"]["Statement"][0]["Action"], "sts:AssumeRole")
        aws_json(["iam", "put-role-policy", "--role-name", "cli-role", "--policy-name", "kms",
                  "--policy-document", KMS_ALL])
        out = aws_json(["sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "cli"], creds)
        c = out["Credentials"]
        self.assertTrue(c["AccessKeyId"].startswith("ASIA"))
        session = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        who = aws_json(["sts", "get-caller-identity"], session)
        self.assertEqual(who["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/cli-role/cli")
        aws_json(["kms", "list-keys"], session)
        # A session token that was tampered with is refused.
        bad = (session[0], session[1], session[2][:-8] + "AAAAAAA=")
        r = run_aws(["sts", "get-caller-identity"], bad, check=False)
        self.assertIn("InvalidClientTokenId", r.stderr.decode())
        # The root user cannot assume roles; an untrusted user neither.
        r = run_aws(["sts", "assume-role", "--role-arn", role["Arn"], "--role-session-name", "xx"], check=False)
        self.assertIn("AccessDenied", r.stderr.decode())


class IamWithBoto3(unittest.TestCase):
    def test_roles_sessions_and_pagination(self):
        iam = client("iam")
        for i in range(5):
            iam.create_user(UserName=f"page-{i}", Path="/paged/")
        names = []
        for page in iam.get_paginator("list_users").paginate(PathPrefix="/paged/", PaginationConfig={"PageSize": 2}):
            names += [u["UserName"] for u in page["Users"]]
        self.assertEqual(names, [f"page-{i}" for i in range(5)])

        iam.create_user(UserName="boto-carol")
        key = iam.create_access_key(UserName="boto-carol")["AccessKey"]
        creds = (key["AccessKeyId"], key["SecretAccessKey"])
        role = iam.create_role(
            RoleName="boto-role",
            AssumeRolePolicyDocument=trust(f"arn:aws:iam::{ACCOUNT}:user/boto-carol"),
            MaxSessionDuration=7200,
            Tags=[{"Key": "dept", "Value": "eng"}],
        )["Role"]
        self.assertEqual(role["MaxSessionDuration"], 7200)
        iam.put_role_policy(RoleName="boto-role", PolicyName="kms", PolicyDocument=KMS_ALL)
        self.assertEqual(iam.list_role_tags(RoleName="boto-role")["Tags"], [{"Key": "dept", "Value": "eng"}])
        self.assertIn("boto-role", [r["RoleName"] for r in iam.list_roles()["Roles"]])

        sts = client("sts", creds)
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", DurationSeconds=7201)
        self.assertEqual(e.exception.response["Error"]["Code"], "ValidationError")
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Policy='{"Statement": 1}')
        self.assertEqual(e.exception.response["Error"]["Code"], "MalformedPolicyDocument")

        out = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="boto", DurationSeconds=7200)
        c = out["Credentials"]
        self.assertEqual(out["AssumedRoleUser"]["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/boto-role/boto")
        session = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        who = client("sts", session).get_caller_identity()
        self.assertEqual(who["Arn"], out["AssumedRoleUser"]["Arn"])
        self.assertEqual(who["UserId"], out["AssumedRoleUser"]["AssumedRoleId"])
        client("kms", session).list_keys()

        # An SDK configured for another region signs IAM requests with it.
        iam_eu = boto3.session.Session(profile_name="keyfort").client(
            "iam", endpoint_url=SERVER.endpoint, region_name="eu-west-1")
        self.assertIn("boto-carol", [u["UserName"] for u in iam_eu.list_users()["Users"]])

        with self.assertRaises(botocore.exceptions.ClientError) as e:
            iam.get_role(RoleName="no-such-role")
        self.assertEqual(e.exception.response["Error"]["Code"], "NoSuchEntity")
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)

    def test_admin_account_create(self):
        r = subprocess.run(
            [base.KEYFORT, "admin", "account", "create", "--data-dir", SERVER.data, "--output", "json"],
            capture_output=True, timeout=60,
        )
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        acct = json.loads(r.stdout)
        creds = (acct["AccessKeyId"], acct["SecretAccessKey"])
        who = client("sts", creds).get_caller_identity()
        self.assertEqual(who["Account"], acct["AccountId"])
        self.assertEqual(who["Arn"], f"arn:aws:iam::{acct['AccountId']}:root")
        # The new account's IAM is its own.
        client("iam", creds).create_user(UserName="cli-alice-elsewhere")
        names = [u["UserName"] for u in client("iam").list_users()["Users"]]
        self.assertNotIn("cli-alice-elsewhere", names)
        listed = subprocess.run(
            [base.KEYFORT, "admin", "account", "list", "--data-dir", SERVER.data], capture_output=True, timeout=60
        )
        self.assertIn(acct["AccountId"], listed.stdout.decode())


def main():
    global SERVER
    SERVER = base.Server()
    env = SERVER.env()
    os.environ.clear()
    os.environ.update(env)
    try:
        result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    finally:
        SERVER.stop()
    failed = len(result.failures) + len(result.errors)
    print(f"compat iam: {result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed or result.testsRun == 0 else 0)


if __name__ == "__main__":
    main()
