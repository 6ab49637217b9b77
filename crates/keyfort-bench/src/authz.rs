//! `keyfort-bench run --authz` (issue 4): Encrypt as the account root on a key with
//! the default key policy against Encrypt as an IAM user whose identity policies and
//! whose key's key policy are realistic, on the same keyfort server, paired (see
//! [`crate::paired`]).
//!
//! Everything is set up over HTTP with the protocols keyfort speaks, as a customer
//! would: IAM's Query API (CreateUser, CreateRole, PutUserPolicy, CreatePolicy,
//! AttachUserPolicy, CreateAccessKey) and KMS (CreateKey with a Policy, CreateAlias).
//! The policies follow the in-process case (`keyfort-bench inproc authz`), adapted to
//! a plain-HTTP loopback server: `aws:SourceIp` is 127.0.0.1 and
//! `aws:SecureTransport` is false, so the conditions use the former and not the
//! latter.

use anyhow::{Context, anyhow, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use hyper::StatusCode;
use serde_json::{Value, json};

use crate::iam;
use crate::kms::{self, Endpoint, PLAINTEXT};
use crate::paired::SideSpec;

/// The IAM user whose Encrypt is measured; also the tenant in the encryption context.
pub const USER: &str = "bench-app";
/// The alias of the key with the realistic policy.
const USER_ALIAS: &str = "alias/bench-app-data";
/// The alias of the key with the default policy.
const ROOT_ALIAS: &str = "alias/bench-plain-data";
/// The networks the policies allow requests from (the bench connects over loopback).
const NETWORKS: [&str; 3] = ["127.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16"];

/// A console-style key policy: the account root's "Enable IAM User Permissions",
/// key administrators, key users with conditions (the tenant in the encryption context
/// must be the caller's user name, the source address in the networks), a statement
/// for grants, and two denies (requests from outside the networks; other tenants'
/// aliases for principals not tagged `team=payments`).
pub fn key_policy(account: &str) -> Value {
    let arn = |rest: &str| format!("arn:aws:iam::{account}:{rest}");
    json!({
        "Version": "2012-10-17",
        "Id": "key-consolepolicy-3",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": arn("root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "Allow access for Key Administrators",
                "Effect": "Allow",
                "Principal": {"AWS": [arn("role/bench-key-admin"), arn("user/bench-security")]},
                "Action": [
                    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
                    "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
                    "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
                    "kms:CancelKeyDeletion"
                ],
                "Resource": "*"
            },
            {
                "Sid": "Allow use of the key",
                "Effect": "Allow",
                "Principal": {"AWS": [arn("role/bench-key-admin"), arn(&format!("user/{USER}"))]},
                "Action": [
                    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                    "kms:DescribeKey"
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:EncryptionContext:tenant": "${aws:username}"},
                    "IpAddress": {"aws:SourceIp": NETWORKS}
                }
            },
            {
                "Sid": "Allow attachment of persistent resources",
                "Effect": "Allow",
                "Principal": {"AWS": arn("role/bench-key-admin")},
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
            },
            {
                "Sid": "Deny outside the network",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {
                    "NotIpAddress": {"aws:SourceIp": NETWORKS},
                    "BoolIfExists": {"aws:ViaAWSService": "false"}
                }
            },
            {
                "Sid": "Deny other tenants",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["kms:Decrypt", "kms:Encrypt"],
                "Resource": "*",
                "Condition": {
                    "StringLike": {"kms:RequestAlias": "alias/tenant-*"},
                    "StringNotEquals": {"aws:PrincipalTag/team": "payments"}
                }
            }
        ]
    })
}

/// The user's inline policy: use of the account's keys in this region for its own
/// tenant from the networks with symmetric algorithms, reading key metadata, and a
/// deny of the destructive operations.
pub fn inline_policy(account: &str, region: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "UseTenantKeys",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": format!("arn:aws:kms:{region}:{account}:key/*"),
                "Condition": {
                    "StringEquals": {"kms:EncryptionContext:tenant": "${aws:username}"},
                    "StringLike": {"kms:EncryptionAlgorithm": "SYMMETRIC_*"},
                    "IpAddress": {"aws:SourceIp": NETWORKS}
                }
            },
            {
                "Sid": "Describe",
                "Effect": "Allow",
                "Action": ["kms:DescribeKey", "kms:ListAliases", "kms:ListKeys"],
                "Resource": "*"
            },
            {
                "Sid": "NoDeletion",
                "Effect": "Deny",
                "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy"],
                "Resource": "*"
            }
        ]
    })
}

/// A customer managed policy attached to the user: read-only key metadata, and a
/// deny of Encrypt without an encryption context.
pub fn managed_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadKeyMetadata",
                "Effect": "Allow",
                "Action": ["kms:Describe*", "kms:List*", "kms:Get*"],
                "Resource": "*"
            },
            {
                "Sid": "RequireEncryptionContext",
                "Effect": "Deny",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"Null": {"kms:EncryptionContextKeys": "true"}}
            }
        ]
    })
}

/// The trust policy of the key administrators' role: the account may assume it.
fn trust_policy(account: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "sts:AssumeRole"
        }]
    })
}

/// The Encrypt body both sides send, apart from the key: the 32-byte plaintext and a
/// two-pair encryption context naming the tenant.
pub fn encrypt_body(key: &str, tenant: &str) -> anyhow::Result<Bytes> {
    let v = json!({
        "KeyId": key,
        "Plaintext": B64.encode(PLAINTEXT),
        "EncryptionContext": {"tenant": tenant, "purpose": "bench"},
    });
    Ok(Bytes::from(serde_json::to_vec(&v)?))
}

/// The two sides to compare, ready to send.
#[derive(Debug)]
pub struct Setup {
    /// The root on the default-policy key (A, the baseline).
    pub root: SideSpec,
    /// The IAM user on the realistic-policy key (B).
    pub user: SideSpec,
    /// The user's ARN, for the report.
    pub user_arn: String,
}

async fn create_key(root: &Endpoint, extra: Value) -> anyhow::Result<Value> {
    let mut req = json!({"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT"});
    if let (Some(r), Some(x)) = (req.as_object_mut(), extra.as_object()) {
        r.extend(x.clone());
    }
    let created = kms::call_ok(root, "CreateKey", &req).await?;
    created
        .get("KeyMetadata")
        .cloned()
        .ok_or_else(|| anyhow!("CreateKey's reply has no KeyMetadata: {created}"))
}

/// Sets up both sides on the server behind `root` (the account root's endpoint)
/// and checks that the user's policies really decide: its request is allowed, and the
/// same request for another tenant, or without an encryption context, is denied.
pub async fn setup(root: &Endpoint) -> anyhow::Result<Setup> {
    let plain = create_key(
        root,
        json!({"Description": "keyfort-bench authz: default policy"}),
    )
    .await
    .context("creating the default-policy key")?;
    let account = plain["AWSAccountId"]
        .as_str()
        .ok_or_else(|| anyhow!("CreateKey's reply has no AWSAccountId: {plain}"))?
        .to_owned();
    let region = root.region.as_str();

    // The identities the key policy names.
    let user_xml = iam::call(
        root,
        "CreateUser",
        &[
            ("UserName", USER),
            ("Tags.member.1.Key", "team"),
            ("Tags.member.1.Value", "payments"),
        ],
    )
    .await?;
    let user_arn = iam::element_text(&user_xml, "Arn")
        .ok_or_else(|| anyhow!("CreateUser's reply has no Arn: {user_xml}"))?;
    iam::call(root, "CreateUser", &[("UserName", "bench-security")]).await?;
    iam::call(
        root,
        "CreateRole",
        &[
            ("RoleName", "bench-key-admin"),
            (
                "AssumeRolePolicyDocument",
                &trust_policy(&account).to_string(),
            ),
        ],
    )
    .await?;
    iam::call(
        root,
        "PutUserPolicy",
        &[
            ("UserName", USER),
            ("PolicyName", "kms-tenant"),
            (
                "PolicyDocument",
                &inline_policy(&account, region).to_string(),
            ),
        ],
    )
    .await?;
    let policy_xml = iam::call(
        root,
        "CreatePolicy",
        &[
            ("PolicyName", "bench-kms-read-and-context"),
            ("PolicyDocument", &managed_policy().to_string()),
        ],
    )
    .await?;
    let policy_arn = iam::element_text(&policy_xml, "Arn")
        .ok_or_else(|| anyhow!("CreatePolicy's reply has no Arn: {policy_xml}"))?;
    iam::call(
        root,
        "AttachUserPolicy",
        &[("UserName", USER), ("PolicyArn", &policy_arn)],
    )
    .await?;
    let key =
        iam::parse_access_key(&iam::call(root, "CreateAccessKey", &[("UserName", USER)]).await?)?;

    let realistic = create_key(
        root,
        json!({
            "Description": "keyfort-bench authz: realistic policy",
            "Policy": key_policy(&account).to_string(),
            "Tags": [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": "payments"}],
        }),
    )
    .await
    .context("creating the key with the realistic policy")?;
    for (alias, meta) in [(USER_ALIAS, &realistic), (ROOT_ALIAS, &plain)] {
        let target = meta["KeyId"]
            .as_str()
            .ok_or_else(|| anyhow!("no KeyId in {meta}"))?;
        kms::call_ok(
            root,
            "CreateAlias",
            &json!({"AliasName": alias, "TargetKeyId": target}),
        )
        .await?;
    }

    let user = Endpoint {
        access_key_id: key.id,
        secret_access_key: key.secret,
        ..root.clone()
    };
    let sides = Setup {
        root: SideSpec {
            endpoint: root.clone(),
            target: kms::target_header(kms::Op::Encrypt),
            body: encrypt_body(ROOT_ALIAS, USER)?,
        },
        user: SideSpec {
            endpoint: user,
            target: kms::target_header(kms::Op::Encrypt),
            body: encrypt_body(USER_ALIAS, USER)?,
        },
        user_arn,
    };
    // Both measured requests work.
    for s in [&sides.root, &sides.user] {
        let (status, reply) = kms::call(&s.endpoint, "Encrypt", s.body.clone()).await?;
        ensure!(
            status == StatusCode::OK,
            "Encrypt as {} answered {status}: {}",
            s.endpoint.access_key_id,
            String::from_utf8_lossy(&reply)
        );
    }
    // And the user's is decided by its policies.
    let refused = [
        (
            "another tenant's context",
            encrypt_body(USER_ALIAS, "other")?,
        ),
        (
            "no encryption context",
            Bytes::from(serde_json::to_vec(
                &json!({"KeyId": USER_ALIAS, "Plaintext": B64.encode(PLAINTEXT)}),
            )?),
        ),
    ];
    for (what, body) in refused {
        let (status, reply) = kms::call(&sides.user.endpoint, "Encrypt", body).await?;
        let text = String::from_utf8_lossy(&reply);
        if status == StatusCode::OK || !text.contains("AccessDeniedException") {
            bail!(
                "the IAM user's Encrypt with {what} should be AccessDeniedException, got {status}: {text}"
            );
        }
    }
    Ok(sides)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(v: &Value) -> &Vec<Value> {
        v["Statement"].as_array().expect("a Statement array")
    }

    /// The documents are JSON objects with the shape IAM expects, and round-trip
    /// through their text form (what is sent).
    #[test]
    fn policies_are_well_formed() {
        for doc in [
            key_policy("111122223333"),
            inline_policy("111122223333", "us-east-1"),
            managed_policy(),
            trust_policy("111122223333"),
        ] {
            let text = doc.to_string();
            let back: Value = serde_json::from_str(&text).expect("valid JSON");
            assert_eq!(back, doc);
            assert_eq!(doc["Version"], "2012-10-17");
            for s in statements(&doc) {
                assert!(
                    matches!(s["Effect"].as_str(), Some("Allow" | "Deny")),
                    "{s}"
                );
                assert!(s.get("Action").is_some(), "{s}");
            }
        }
    }

    #[test]
    fn the_key_policy_is_realistic() {
        let p = key_policy("111122223333");
        let st = statements(&p);
        assert_eq!(st.len(), 6);
        assert_eq!(st[0]["Sid"], "Enable IAM User Permissions");
        assert_eq!(st[0]["Principal"]["AWS"], "arn:aws:iam::111122223333:root");
        let users = &st[2];
        assert_eq!(
            users["Condition"]["StringEquals"]["kms:EncryptionContext:tenant"],
            "${aws:username}"
        );
        assert!(
            users["Principal"]["AWS"]
                .as_array()
                .expect("principals")
                .contains(&json!(format!("arn:aws:iam::111122223333:user/{USER}")))
        );
        assert_eq!(st.iter().filter(|s| s["Effect"] == "Deny").count(), 2);
        // The loopback address the bench connects from is inside the networks.
        assert!(NETWORKS.contains(&"127.0.0.0/8"));
        let inline = inline_policy("111122223333", "eu-west-1");
        assert_eq!(
            statements(&inline)[0]["Resource"],
            "arn:aws:kms:eu-west-1:111122223333:key/*"
        );
    }

    #[test]
    fn both_sides_send_the_same_request_shape() {
        let a: Value =
            serde_json::from_slice(&encrypt_body(ROOT_ALIAS, USER).expect("a")).expect("json");
        let b: Value =
            serde_json::from_slice(&encrypt_body(USER_ALIAS, USER).expect("b")).expect("json");
        assert_eq!(a["Plaintext"], b["Plaintext"]);
        assert_eq!(a["EncryptionContext"], b["EncryptionContext"]);
        assert_eq!(b["EncryptionContext"]["tenant"], USER);
        assert_eq!(
            B64.decode(a["Plaintext"].as_str().expect("s"))
                .expect("b64")
                .len(),
            32
        );
    }
}
