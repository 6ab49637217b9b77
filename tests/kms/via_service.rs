//! A registered integrating service acting for its callers (`kms:ViaService`): the
//! only way AWS managed keys are usable for data, as in AWS.

use aws_sdk_kms::primitives::Blob;
use keyfort_core::model::AccountId;

use crate::assert_code;
use crate::common::{ACCOUNT, TestServer};

/// A service user's client whose requests name `service` and `caller` in the two
/// headers (added before the SDK signs, so they are among the SignedHeaders).
struct Via {
    client: aws_sdk_kms::Client,
    service: String,
    caller: String,
}

macro_rules! via {
    ($v:expr, $call:expr) => {{
        let service = $v.service.clone();
        let caller = $v.caller.clone();
        $call
            .customize()
            .mutate_request(move |req| {
                req.headers_mut()
                    .insert("x-keyfort-via-service", service.clone());
                req.headers_mut().insert("x-keyfort-caller", caller.clone());
            })
            .send()
            .await
    }};
}

/// `Encrypt` of a one-byte plaintext under `key`, through `v`'s service for its caller.
async fn encrypt_through(
    v: &Via,
    key: &str,
) -> Result<
    aws_sdk_kms::operation::encrypt::EncryptOutput,
    aws_sdk_kms::error::SdkError<
        aws_sdk_kms::operation::encrypt::EncryptError,
        aws_sdk_kms::config::http::HttpResponse,
    >,
> {
    via!(v, v.client.encrypt().key_id(key).plaintext(Blob::new("x")))
}

fn account() -> AccountId {
    AccountId::parse(ACCOUNT).unwrap()
}

/// An IAM user and a client signing as it.
fn user(s: &TestServer, name: &str) -> (String, aws_sdk_kms::Client) {
    let u = s
        .kms
        .iam_create_user(&account(), name, "/", Default::default())
        .unwrap();
    let (rec, secret, _) = s.kms.iam_create_access_key(&account(), name).unwrap();
    let secret = String::from_utf8(secret.expose().to_vec()).unwrap();
    let arn = format!("arn:aws:iam::{ACCOUNT}:user/{name}");
    assert_eq!(u.arn_with("/"), arn);
    (arn, s.client_as(&rec.access_key_id, &secret, "us-east-1"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_service_uses_an_aws_managed_key_for_its_caller() {
    let s = TestServer::start().await;
    let (alice_arn, alice) = user(&s, "alice");
    let (_, s3_user) = user(&s, "s3-service");

    // Directly, nobody can use the AWS managed key for data (kms:ViaService absent).
    assert_code!(
        alice
            .encrypt()
            .key_id("alias/aws/s3")
            .plaintext(Blob::new("x"))
            .send()
            .await,
        "AccessDeniedException"
    );
    let as_alice_via_s3 = Via {
        client: s3_user.clone(),
        service: "s3".into(),
        caller: alice_arn.clone(),
    };
    // Not registered yet: the service user cannot act for anyone.
    assert_code!(
        encrypt_through(&as_alice_via_s3, "alias/aws/s3").await,
        "AccessDeniedException"
    );

    s.kms
        .register_service("s3", &account(), "s3-service")
        .unwrap();
    let enc = via!(
        as_alice_via_s3,
        as_alice_via_s3
            .client
            .encrypt()
            .key_id("alias/aws/s3")
            .plaintext(Blob::new("object data key"))
            .encryption_context("aws:s3:arn", "arn:aws:s3:::bucket/object")
    )
    .unwrap();
    let dec = via!(
        as_alice_via_s3,
        as_alice_via_s3
            .client
            .decrypt()
            .ciphertext_blob(enc.ciphertext_blob().unwrap().clone())
            .encryption_context("aws:s3:arn", "arn:aws:s3:::bucket/object")
    )
    .unwrap();
    assert_eq!(dec.plaintext().unwrap().as_ref(), b"object data key");
    // The managed key of another service stays out of reach through s3.
    assert_code!(
        encrypt_through(&as_alice_via_s3, "alias/aws/ebs").await,
        "AccessDeniedException"
    );

    // Only the registered user may claim the service...
    let alice_claims_s3 = Via {
        client: alice.clone(),
        service: "s3".into(),
        caller: alice_arn.clone(),
    };
    assert_code!(
        encrypt_through(&alice_claims_s3, "alias/aws/s3").await,
        "AccessDeniedException"
    );
    // ...only the service it is registered for...
    let s3_claims_ebs = Via {
        client: s3_user.clone(),
        service: "ebs".into(),
        caller: alice_arn.clone(),
    };
    assert_code!(
        encrypt_through(&s3_claims_ebs, "alias/aws/ebs").await,
        "AccessDeniedException"
    );
    // ...and only for an existing root or IAM user (not a made-up ARN, not a role
    // session, whose session policy the service does not hold).
    for caller in [
        format!("arn:aws:iam::{ACCOUNT}:user/nobody"),
        "arn:aws:iam::999999999999:root".to_owned(),
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/r/s"),
        "not an arn".to_owned(),
    ] {
        let v = Via {
            client: s3_user.clone(),
            service: "s3".into(),
            caller,
        };
        assert_code!(
            encrypt_through(&v, "alias/aws/s3").await,
            "ValidationException"
        );
    }

    // A customer key can say the same as an AWS managed key's policy: alice may use
    // it only through s3 (kms:ViaService, aws:ViaAWSService), not directly.
    let root = s.client();
    let only_via_s3 = crate::authz::policy(&[
        crate::authz::admin(),
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{alice_arn}"}},"Action":"kms:Encrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:ViaService":"s3.us-east-1.amazonaws.com"}},"Bool":{{"aws:ViaAWSService":"true"}}}}}}"#
        ),
    ]);
    let (via_key, _) = crate::authz::key_with_policy(&root, &only_via_s3, false).await;
    encrypt_through(&as_alice_via_s3, &via_key).await.unwrap();
    assert_code!(
        alice
            .encrypt()
            .key_id(&via_key)
            .plaintext(Blob::new("x"))
            .send()
            .await,
        "AccessDeniedException"
    );

    // kms:GrantIsForAWSResource: alice may create grants only through the service.
    let grants_via_service = crate::authz::policy(&[
        crate::authz::admin(),
        format!(
            r#"{{"Effect":"Allow","Principal":{{"AWS":"{alice_arn}"}},"Action":["kms:CreateGrant","kms:ListGrants"],"Resource":"*","Condition":{{"Bool":{{"kms:GrantIsForAWSResource":"true"}}}}}}"#
        ),
    ]);
    let (grant_key, _) = crate::authz::key_with_policy(&root, &grants_via_service, false).await;
    let grant = via!(
        as_alice_via_s3,
        as_alice_via_s3
            .client
            .create_grant()
            .key_id(&grant_key)
            .grantee_principal(&alice_arn)
            .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
    )
    .unwrap();
    assert!(grant.grant_id().is_some());
    assert_code!(
        alice
            .create_grant()
            .key_id(&grant_key)
            .grantee_principal(&alice_arn)
            .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
            .send()
            .await,
        "AccessDeniedException"
    );
    assert_code!(
        alice.list_grants().key_id(&grant_key).send().await,
        "AccessDeniedException"
    );

    // The caller's own limits still apply: a customer key whose policy does not let
    // alice use it refuses her, through the service too.
    let own = root.create_key().send().await.unwrap();
    let own_id = own.key_metadata().unwrap().key_id().to_owned();
    assert_code!(
        encrypt_through(&as_alice_via_s3, &own_id).await,
        "AccessDeniedException"
    );

    // The record names alice, invoked by the service.
    s.audit.store().maintain().unwrap();
    let rows = s.audit.store().records(0, 10_000).unwrap();
    let events: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::from_slice(&r.event_json).unwrap())
        .collect();
    let via_events: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["userIdentity"]["invokedBy"] == "s3.amazonaws.com")
        .collect();
    let names: Vec<&str> = via_events
        .iter()
        .map(|e| e["eventName"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Encrypt") && names.contains(&"Decrypt"),
        "{names:?}"
    );
    for e in &via_events {
        assert_eq!(e["userIdentity"]["arn"], alice_arn.as_str(), "{e}");
        assert_eq!(e["userIdentity"]["type"], "IAMUser", "{e}");
    }

    // A user deleted and made again under the registered name is not the service.
    let (keys, _) = s
        .kms
        .iam_list_access_keys(&account(), "s3-service")
        .unwrap();
    let s3_key = keys[0].access_key_id.clone();
    s.kms
        .iam_delete_access_key(&account(), "s3-service", &s3_key)
        .unwrap();
    s.kms.iam_delete_user(&account(), "s3-service").unwrap();
    let (_, s3_again) = user(&s, "s3-service");
    let reborn = Via {
        client: s3_again,
        service: "s3".into(),
        caller: alice_arn.clone(),
    };
    assert_code!(
        encrypt_through(&reborn, "alias/aws/s3").await,
        "AccessDeniedException"
    );

    // Registered again, the new user is the service.
    s.kms
        .register_service("s3", &account(), "s3-service")
        .unwrap();
    encrypt_through(&reborn, "alias/aws/s3").await.unwrap();

    // Removing the registration ends it at once.
    assert!(s.kms.unregister_service("s3").unwrap());
    assert_code!(
        encrypt_through(&reborn, "alias/aws/s3").await,
        "AccessDeniedException"
    );
    s.stop().await;
}

#[tokio::test]
async fn registering_checks_the_name_and_the_user() {
    let s = TestServer::start().await;
    let err = s
        .kms
        .register_service("S3.amazonaws.com", &account(), "x")
        .unwrap_err();
    assert_eq!(err.code(), "ValidationException", "{err:?}");
    let err = s
        .kms
        .register_service("s3", &account(), "nobody")
        .unwrap_err();
    assert_eq!(err.code(), "NotFoundException", "{err:?}");
    s.stop().await;
}
