//! The authorization scenarios of the issue, as stories: sharing an encrypted image
//! with another account, replicating encrypted objects, and a permission matrix of
//! principals x operations with no unexpected success. Also: CloudTrail LookupEvents
//! is authorized by identity policies.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::GrantOperation;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use keyfort_core::model::AccountId;
use keyfort_crypto::SecretBytes;

use crate::common::{ACCOUNT, TestServer};
use crate::iam_query::{Creds, iam, kms_client, sts};

const B: &str = "444455556666";

/// Account B, with root credentials.
fn account_b(s: &TestServer) -> Creds {
    let acct = AccountId::parse(B).unwrap();
    s.kms.ensure_account(&acct).unwrap();
    let creds = Creds {
        akid: "AKIAKEYFORTSCENARIOB".into(),
        secret: "kfScenarioSecretB/0123456789abcdefghijKL".into(),
        token: None,
    };
    s.kms
        .add_root_access_key(
            &acct,
            &creds.akid,
            &SecretBytes::new(creds.secret.as_bytes().to_vec()),
        )
        .unwrap();
    creds
}

/// A user of the account `root` belongs to, with an access key and (if given) an
/// inline policy.
async fn user(s: &TestServer, root: &Creds, name: &str, policy: Option<&str>) -> Creds {
    iam(s, root, "CreateUser", &[("UserName", name)]).await.ok();
    if let Some(p) = policy {
        iam(
            s,
            root,
            "PutUserPolicy",
            &[
                ("UserName", name),
                ("PolicyName", "p"),
                ("PolicyDocument", p),
            ],
        )
        .await
        .ok();
    }
    let r = iam(s, root, "CreateAccessKey", &[("UserName", name)])
        .await
        .ok();
    Creds {
        akid: r.get("AccessKeyId").unwrap(),
        secret: r.get("SecretAccessKey").unwrap(),
        token: None,
    }
}

/// A role that `trusted` (an ARN) may assume, with an inline policy.
async fn role(s: &TestServer, root: &Creds, name: &str, trusted: &str, policy: &str) -> String {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{trusted}"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let r = iam(
        s,
        root,
        "CreateRole",
        &[("RoleName", name), ("AssumeRolePolicyDocument", &trust)],
    )
    .await
    .ok();
    set_role_policy(s, root, name, policy).await;
    r.get("Arn").unwrap()
}

async fn set_role_policy(s: &TestServer, root: &Creds, name: &str, policy: &str) {
    iam(
        s,
        root,
        "PutRolePolicy",
        &[
            ("RoleName", name),
            ("PolicyName", "p"),
            ("PolicyDocument", policy),
        ],
    )
    .await
    .ok();
}

async fn assume(
    s: &TestServer,
    who: &Creds,
    role_arn: &str,
    session_policy: Option<&str>,
) -> Creds {
    let mut params = vec![("RoleArn", role_arn), ("RoleSessionName", "scenario")];
    if let Some(p) = session_policy {
        params.push(("Policy", p));
    }
    let r = sts(s, who, "AssumeRole", &params).await.ok();
    Creds {
        akid: r.get("AccessKeyId").unwrap(),
        secret: r.get("SecretAccessKey").unwrap(),
        token: Some(r.get("SessionToken").unwrap()),
    }
}

fn allow_actions(actions: &[&str], resource: &str) -> String {
    let list: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"{resource}"}}]}}"#,
        list.join(",")
    )
}

fn code<T, E, R>(r: &Result<T, aws_sdk_kms::error::SdkError<E, R>>) -> String
where
    E: aws_sdk_kms::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match r {
        Ok(_) => "ok".into(),
        Err(e) => crate::common::code(e),
    }
}

/// Account A shares a key with account B; B's role copies an encrypted image's data
/// key from A's key to B's own and lets B's image service use A's key by a grant.
#[tokio::test(flavor = "multi_thread")]
async fn sharing_an_encrypted_image_with_another_account() {
    let s = TestServer::start().await;
    let a = s.client();
    let b_root = account_b(&s);
    let b = kms_client(&s, &b_root);

    // A's key policy lets account B use the key (B's IAM decides who in B).
    let a_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},
              "Action":["kms:DescribeKey","kms:Decrypt","kms:ReEncrypt*","kms:CreateGrant"],"Resource":"*"}}]}}"#
    );
    let ka = a.create_key().policy(a_policy).send().await.unwrap();
    let ka = ka.key_metadata().unwrap().arn().unwrap().to_owned();
    // The image's data key, encrypted under A's key.
    let image_key = a
        .generate_data_key_without_plaintext()
        .key_id(&ka)
        .number_of_bytes(32)
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();

    // B: its own key, an operator, the copier role and the image service role.
    let kb = b.create_key().send().await.unwrap();
    let kb = kb.key_metadata().unwrap().arn().unwrap().to_owned();
    let operator = user(&s, &b_root, "operator", None).await;
    let all = [
        "kms:DescribeKey",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:CreateGrant",
        "kms:Decrypt",
    ];
    let operator_arn = format!("arn:aws:iam::{B}:user/operator");
    let copier = role(
        &s,
        &b_root,
        "copier",
        &operator_arn,
        &allow_actions(&all, "*"),
    )
    .await;
    let service = role(
        &s,
        &b_root,
        "ImageService",
        &operator_arn,
        &allow_actions(&["sts:GetCallerIdentity"], "*"),
    )
    .await;
    let session = kms_client(&s, &assume(&s, &operator, &copier, None).await);

    let steps = |c: aws_sdk_kms::Client| {
        let (ka, kb, image_key, service) =
            (ka.clone(), kb.clone(), image_key.clone(), service.clone());
        async move {
            let describe = code(&c.describe_key().key_id(&ka).send().await);
            let reencrypt = code(
                &c.re_encrypt()
                    .ciphertext_blob(image_key.clone())
                    .destination_key_id(&kb)
                    .send()
                    .await,
            );
            let grant = code(
                &c.create_grant()
                    .key_id(&ka)
                    .grantee_principal(&service)
                    .operations(GrantOperation::Decrypt)
                    .send()
                    .await,
            );
            let decrypt = code(&c.decrypt().ciphertext_blob(image_key).send().await);
            [describe, reencrypt, grant, decrypt]
        }
    };
    // With every permission, every step works: the copy is under B's key.
    assert_eq!(steps(session.clone()).await, ["ok", "ok", "ok", "ok"]);
    let copy = session
        .re_encrypt()
        .ciphertext_blob(image_key.clone())
        .destination_key_id(&kb)
        .send()
        .await
        .unwrap();
    assert_eq!(copy.key_id(), Some(kb.as_str()));
    assert_eq!(copy.source_key_id(), Some(ka.as_str()));

    // The image service decrypts with A's key through its grant only.
    let svc = kms_client(&s, &assume(&s, &operator, &service, None).await);
    svc.decrypt()
        .ciphertext_blob(image_key.clone())
        .send()
        .await
        .unwrap();
    svc.decrypt()
        .ciphertext_blob(copy.ciphertext_blob().unwrap().clone())
        .send()
        .await
        .unwrap_err();

    // Without each permission, exactly its step is AccessDenied.
    let denied = "AccessDeniedException";
    for (missing, expected) in [
        ("kms:DescribeKey", [denied, "ok", "ok", "ok"]),
        ("kms:ReEncryptFrom", ["ok", denied, "ok", "ok"]),
        ("kms:ReEncryptTo", ["ok", denied, "ok", "ok"]),
        ("kms:CreateGrant", ["ok", "ok", denied, "ok"]),
        ("kms:Decrypt", ["ok", "ok", "ok", denied]),
    ] {
        let rest: Vec<&str> = all.iter().copied().filter(|a| *a != missing).collect();
        set_role_policy(&s, &b_root, "copier", &allow_actions(&rest, "*")).await;
        assert_eq!(steps(session.clone()).await, expected, "without {missing}");
    }
    // And B's root, whose account the key policy names, needs no identity policy.
    assert_eq!(steps(b.clone()).await, ["ok", "ok", "ok", "ok"]);
    s.stop().await;
}

/// A replication role decrypts objects under the source key and encrypts them under
/// the target key, each only for its bucket's encryption context.
#[tokio::test(flavor = "multi_thread")]
async fn replicating_encrypted_objects() {
    let s = TestServer::start().await;
    let a = s.client();
    let root = Creds::root();
    let source = a.create_key().send().await.unwrap();
    let source = source.key_metadata().unwrap().arn().unwrap().to_owned();
    let target = a.create_key().send().await.unwrap();
    let target = target.key_metadata().unwrap().arn().unwrap().to_owned();
    let policy = |decrypt: bool, encrypt: bool| {
        let mut st = Vec::new();
        if decrypt {
            st.push(format!(
                r#"{{"Effect":"Allow","Action":"kms:Decrypt","Resource":"{source}",
                    "Condition":{{"StringLike":{{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::source-bucket/*"}}}}}}"#
            ));
        }
        if encrypt {
            st.push(format!(
                r#"{{"Effect":"Allow","Action":"kms:Encrypt","Resource":"{target}",
                    "Condition":{{"StringLike":{{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::replica-bucket/*"}}}}}}"#
            ));
        }
        st.push(r#"{"Effect":"Allow","Action":"kms:DescribeKey","Resource":"*"}"#.to_owned());
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            st.join(",")
        )
    };
    let worker = user(&s, &root, "replicator-host", None).await;
    let replication = role(
        &s,
        &root,
        "replication",
        &format!("arn:aws:iam::{ACCOUNT}:user/replicator-host"),
        &policy(true, true),
    )
    .await;
    let r = kms_client(&s, &assume(&s, &worker, &replication, None).await);

    // The application writes objects under the source key, each bound to its ARN.
    let objects = ["photos/1.jpg", "photos/2.jpg"];
    let mut stored = Vec::new();
    for o in objects {
        let ct = a
            .encrypt()
            .key_id(&source)
            .plaintext(Blob::new(format!("contents of {o}").into_bytes()))
            .encryption_context("aws:s3:arn", format!("arn:aws:s3:::source-bucket/{o}"))
            .send()
            .await
            .unwrap();
        stored.push((o, ct.ciphertext_blob().unwrap().clone()));
    }
    // Replication: decrypt in the source's context, encrypt in the replica's.
    let replicate = |c: aws_sdk_kms::Client, o: &'static str, blob: Blob| {
        let target = target.clone();
        async move {
            let plain = c
                .decrypt()
                .ciphertext_blob(blob)
                .encryption_context("aws:s3:arn", format!("arn:aws:s3:::source-bucket/{o}"))
                .send()
                .await
                .map_err(|e| crate::common::code(&e))?;
            c.encrypt()
                .key_id(&target)
                .plaintext(plain.plaintext().unwrap().clone())
                .encryption_context("aws:s3:arn", format!("arn:aws:s3:::replica-bucket/{o}"))
                .send()
                .await
                .map_err(|e| crate::common::code(&e))
                .map(|out| out.ciphertext_blob().unwrap().clone())
        }
    };
    for (o, blob) in &stored {
        let replica = replicate(r.clone(), o, blob.clone()).await.unwrap();
        // The replica opens only in the replica's context.
        let back = a
            .decrypt()
            .ciphertext_blob(replica)
            .encryption_context("aws:s3:arn", format!("arn:aws:s3:::replica-bucket/{o}"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            back.plaintext().unwrap().as_ref(),
            format!("contents of {o}").as_bytes()
        );
    }
    // Encrypting into the wrong bucket's context is refused; so is decrypting an
    // object of another bucket.
    assert_eq!(
        code(
            &r.encrypt()
                .key_id(&target)
                .plaintext(Blob::new(b"x".to_vec()))
                .encryption_context("aws:s3:arn", "arn:aws:s3:::other-bucket/x")
                .send()
                .await
        ),
        "AccessDeniedException"
    );
    let foreign = a
        .encrypt()
        .key_id(&source)
        .plaintext(Blob::new(b"x".to_vec()))
        .encryption_context("aws:s3:arn", "arn:aws:s3:::private-bucket/x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(
            &r.decrypt()
                .ciphertext_blob(foreign.ciphertext_blob().unwrap().clone())
                .encryption_context("aws:s3:arn", "arn:aws:s3:::private-bucket/x")
                .send()
                .await
        ),
        "AccessDeniedException"
    );
    // Without Decrypt on the source, or without Encrypt on the target: AccessDenied.
    let (o, blob) = stored[0].clone();
    set_role_policy(&s, &root, "replication", &policy(false, true)).await;
    assert_eq!(
        replicate(r.clone(), o, blob.clone()).await,
        Err("AccessDeniedException".into())
    );
    set_role_policy(&s, &root, "replication", &policy(true, false)).await;
    assert_eq!(
        replicate(r.clone(), o, blob.clone()).await,
        Err("AccessDeniedException".into())
    );
    // The keys themselves are still the account's: ReEncrypt was never allowed.
    set_role_policy(&s, &root, "replication", &policy(true, true)).await;
    assert_eq!(
        code(
            &r.re_encrypt()
                .ciphertext_blob(blob)
                .destination_key_id(&target)
                .send()
                .await
        ),
        "AccessDeniedException"
    );
    s.stop().await;
}

/// Principals x operations on one key: exactly the expected calls succeed.
#[tokio::test(flavor = "multi_thread")]
async fn permission_matrix_has_no_unexpected_success() {
    let s = TestServer::start().await;
    let a = s.client();
    let root = Creds::root();
    let b_root = account_b(&s);
    let key = a.create_key().send().await.unwrap();
    let key = key.key_metadata().unwrap().arn().unwrap().to_owned();
    let ct = a
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"m".to_vec()))
        .send()
        .await
        .unwrap()
        .ciphertext_blob()
        .unwrap()
        .clone();

    let admin = user(&s, &root, "admin", Some(&allow_actions(&["kms:*"], "*"))).await;
    let limited = user(
        &s,
        &root,
        "limited",
        Some(&format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":["kms:Encrypt","kms:DescribeKey"],"Resource":"{key}"}},
                {{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}}]}}"#
        )),
    )
    .await;
    let role_arn = role(
        &s,
        &root,
        "reader",
        &format!("arn:aws:iam::{ACCOUNT}:user/limited"),
        &allow_actions(
            &["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "*",
        ),
    )
    .await;
    let session = assume(
        &s,
        &limited,
        &role_arn,
        Some(&allow_actions(&["kms:Decrypt", "kms:DescribeKey"], "*")),
    )
    .await;
    let partner = user(&s, &b_root, "partner", None).await;
    a.create_grant()
        .key_id(&key)
        .grantee_principal(format!("arn:aws:iam::{B}:user/partner"))
        .operations(GrantOperation::Encrypt)
        .operations(GrantOperation::Decrypt)
        .operations(GrantOperation::DescribeKey)
        .send()
        .await
        .unwrap();

    let principals = [
        ("root", root),
        ("admin user", admin),
        ("limited user", limited),
        ("role session", session),
        ("other account", b_root),
        ("grantee", partner),
    ];
    let ops = [
        "DescribeKey",
        "Encrypt",
        "Decrypt",
        "GenerateDataKey",
        "GetKeyPolicy",
        "ListGrants",
        "CreateGrant",
        "TagResource",
        "ListKeys",
        "GenerateRandom",
    ];
    let expected: [(&str, [bool; 10]); 6] = [
        ("root", [true; 10]),
        ("admin user", [true; 10]),
        (
            "limited user",
            [
                true, true, false, false, false, false, false, false, true, false,
            ],
        ),
        (
            "role session",
            [
                true, false, true, false, false, false, false, false, false, false,
            ],
        ),
        (
            "other account",
            [
                false, false, false, false, false, false, false, false, true, true,
            ],
        ),
        (
            "grantee",
            [
                true, true, true, false, false, false, false, false, false, false,
            ],
        ),
    ];
    let mut unexpected_successes = Vec::new();
    let mut unexpected_failures = Vec::new();
    for ((name, creds), (ename, want)) in principals.iter().zip(expected.iter()) {
        assert_eq!(name, ename);
        let c = kms_client(&s, creds);
        for (i, op) in ops.iter().enumerate() {
            let got = match *op {
                "DescribeKey" => code(&c.describe_key().key_id(&key).send().await),
                "Encrypt" => code(
                    &c.encrypt()
                        .key_id(&key)
                        .plaintext(Blob::new(b"m".to_vec()))
                        .send()
                        .await,
                ),
                "Decrypt" => code(&c.decrypt().ciphertext_blob(ct.clone()).send().await),
                "GenerateDataKey" => code(
                    &c.generate_data_key()
                        .key_id(&key)
                        .number_of_bytes(16)
                        .send()
                        .await,
                ),
                "GetKeyPolicy" => code(&c.get_key_policy().key_id(&key).send().await),
                "ListGrants" => code(&c.list_grants().key_id(&key).send().await),
                "CreateGrant" => code(
                    &c.create_grant()
                        .key_id(&key)
                        .grantee_principal(format!("arn:aws:iam::{ACCOUNT}:role/reader"))
                        .operations(GrantOperation::DescribeKey)
                        .send()
                        .await,
                ),
                "TagResource" => code(
                    &c.tag_resource()
                        .key_id(&key)
                        .tags(
                            aws_sdk_kms::types::Tag::builder()
                                .tag_key("matrix")
                                .tag_value(*name)
                                .build()
                                .unwrap(),
                        )
                        .send()
                        .await,
                ),
                "ListKeys" => code(&c.list_keys().send().await),
                "GenerateRandom" => code(&c.generate_random().number_of_bytes(8).send().await),
                _ => unreachable!(),
            };
            let ok = got == "ok";
            if ok && !want[i] {
                unexpected_successes.push(format!("{name} {op}"));
            }
            if !ok && want[i] {
                unexpected_failures.push(format!("{name} {op}: {got}"));
            }
            if !ok {
                // A refusal is an authorization refusal (cross-account operations
                // AWS never allows answer NotFound), never anything else.
                assert!(
                    got == "AccessDeniedException" || got == "NotFoundException",
                    "{name} {op}: {got}"
                );
            }
        }
    }
    assert!(
        unexpected_successes.is_empty(),
        "unexpected successes: {unexpected_successes:?}"
    );
    assert!(
        unexpected_failures.is_empty(),
        "unexpected failures: {unexpected_failures:?}"
    );
    s.stop().await;
}

/// LookupEvents as `creds`; returns the HTTP status and the error code, if any.
async fn lookup_events(s: &TestServer, creds: &Creds) -> (u16, String) {
    let body = b"{}".to_vec();
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), s.addr.to_string()),
        ("content-type".into(), "application/x-amz-json-1.1".into()),
        (
            "x-amz-target".into(),
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents".into(),
        ),
    ];
    let hs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    let req = keyfort_sigv4::Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &hs,
        body: &body,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let params = keyfort_sigv4::SignParams {
        access_key_id: &creds.akid,
        secret_access_key: &creds.secret,
        session_token: creds.token.as_deref(),
        region: "us-east-1",
        service: "cloudtrail",
        unix_time: now,
    };
    headers.extend(keyfort_sigv4::sign(&params, &req).unwrap());
    let stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut b = hyper::Request::builder().method("POST").uri("/");
    for (k, v) in &headers {
        b = b.header(k, v);
    }
    let resp = sender
        .send_request(b.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    (status, v["__type"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_events_needs_cloudtrail_permission() {
    let s = TestServer::start().await;
    let root = Creds::root();
    assert_eq!(lookup_events(&s, &root).await.0, 200);
    let nobody = user(&s, &root, "nobody", Some(&allow_actions(&["kms:*"], "*"))).await;
    assert_eq!(
        lookup_events(&s, &nobody).await,
        (400, "AccessDeniedException".into())
    );
    let auditor = user(
        &s,
        &root,
        "auditor",
        Some(&allow_actions(&["cloudtrail:LookupEvents"], "*")),
    )
    .await;
    assert_eq!(lookup_events(&s, &auditor).await.0, 200);
    s.stop().await;
}

/// An IAM user creates keys as its identity policy allows; the lockout check applies
/// to a policy it gives, not to the default one.
#[tokio::test(flavor = "multi_thread")]
async fn an_iam_user_creates_keys_within_its_policy() {
    let s = TestServer::start().await;
    let root = Creds::root();
    let maker = user(
        &s,
        &root,
        "maker",
        Some(&allow_actions(&["kms:CreateKey", "kms:DescribeKey"], "*")),
    )
    .await;
    let nobody = user(&s, &root, "nobody", None).await;
    let c = kms_client(&s, &maker);
    assert_eq!(
        code(&kms_client(&s, &nobody).create_key().send().await),
        "AccessDeniedException"
    );
    let k = c.create_key().send().await.unwrap();
    let id = k.key_metadata().unwrap().key_id().to_owned();
    c.describe_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        code(
            &c.encrypt()
                .key_id(&id)
                .plaintext(Blob::new(b"x".to_vec()))
                .send()
                .await
        ),
        "AccessDeniedException"
    );
    let me = format!("arn:aws:iam::{ACCOUNT}:user/maker");
    let own = |actions: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{me}"}},"Action":{actions},"Resource":"*"}}]}}"#
        )
    };
    let mine = c
        .create_key()
        .policy(own(r#""kms:*""#))
        .send()
        .await
        .unwrap();
    c.encrypt()
        .key_id(mine.key_metadata().unwrap().key_id())
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(&c.create_key().policy(own(r#""kms:Encrypt""#)).send().await),
        "MalformedPolicyDocumentException"
    );
    // Tags at creation need kms:TagResource too.
    assert_eq!(
        code(
            &c.create_key()
                .tags(
                    aws_sdk_kms::types::Tag::builder()
                        .tag_key("team")
                        .tag_value("a")
                        .build()
                        .unwrap()
                )
                .send()
                .await
        ),
        "AccessDeniedException"
    );
    s.stop().await;
}
