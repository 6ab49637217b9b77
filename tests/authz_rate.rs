//! Measures what authorization costs the hot path: Encrypt through `Kms::execute`
//! (request parsing, key lookup, authorization, crypto, reply), in process so HTTP and
//! SigV4 do not dilute the difference, for
//!
//! - the account root on a key with the default key policy (the foundation's
//!   benchmark case), named by an alias, with a two-pair encryption context, and
//! - an IAM user whose identity policy allows Encrypt under an encryption-context
//!   condition, on a key with a realistic key policy (administrators, users with
//!   conditions, a grant-management statement, an explicit deny, aliases and tags).
//!
//! Ignored by default (it is a measurement); run with
//!
//! ```sh
//! cargo test --release --test authz_rate -- --ignored --nocapture
//! ```
//!
//! It fails if the second is below 85% of the first (the goal of issue 4); a busy
//! machine can cause that, so rerun on a quiet one before believing a failure. In
//! process the ratio is a harder bar than over HTTP, where the same absolute cost is a
//! smaller share of each request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyfort_core::clock::ManualClock;
use keyfort_core::iam::UserDoc;
use keyfort_core::model::AccountId;
use keyfort_core::{Caller, Kms, Principal, ResourceLog, api};

const MEASURE: Duration = Duration::from_millis(700);
const ROUNDS: usize = 7;

fn caller<'a>(principal: &'a Principal, log: &'a ResourceLog) -> Caller<'a> {
    Caller {
        principal,
        region: "us-east-1",
        resources: log,
        source_ip: Some("10.1.2.3".parse().unwrap()),
        secure_transport: true,
    }
}

fn call(kms: &Kms, principal: &Principal, op: &str, body: &str) -> serde_json::Value {
    let log = ResourceLog::default();
    let op = api::parse(op, body.as_bytes()).unwrap();
    serde_json::from_slice(&kms.execute(&caller(principal, &log), op).unwrap()).unwrap()
}

/// Operations per second of one Encrypt request for `MEASURE`.
fn rate(kms: &Kms, principal: &Principal, body: &str) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < MEASURE {
        for _ in 0..100 {
            let log = ResourceLog::default();
            let parsed = api::parse("Encrypt", body.as_bytes()).unwrap();
            std::hint::black_box(kms.execute(&caller(principal, &log), parsed).unwrap());
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

const ACCOUNT: &str = "111122223333";

fn realistic_key_policy() -> String {
    format!(
        r#"{{"Version":"2012-10-17","Id":"key-consolepolicy-3","Statement":[
  {{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}},
  {{"Sid":"Allow access for Key Administrators","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{ACCOUNT}:role/KeyAdmin","arn:aws:iam::{ACCOUNT}:user/security"]}},
   "Action":["kms:Create*","kms:Describe*","kms:Enable*","kms:List*","kms:Put*","kms:Update*","kms:Revoke*","kms:Disable*","kms:Get*","kms:Delete*","kms:TagResource","kms:UntagResource","kms:ScheduleKeyDeletion","kms:CancelKeyDeletion"],"Resource":"*"}},
  {{"Sid":"Allow use of the key","Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{ACCOUNT}:role/app","arn:aws:iam::{ACCOUNT}:user/app"]}},
   "Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*",
   "Condition":{{"StringEquals":{{"kms:EncryptionContext:tenant":"${{aws:username}}"}},"Bool":{{"aws:SecureTransport":"true"}}}}}},
  {{"Sid":"Allow attachment of persistent resources","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:role/app"}},
   "Action":["kms:CreateGrant","kms:ListGrants","kms:RevokeGrant"],"Resource":"*","Condition":{{"Bool":{{"kms:GrantIsForAWSResource":"true"}}}}}},
  {{"Sid":"Deny outside the network","Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",
   "Condition":{{"NotIpAddress":{{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}},"Bool":{{"aws:ViaAWSService":"false"}}}}}},
  {{"Sid":"Deny other tenants","Effect":"Deny","Principal":"*","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*",
   "Condition":{{"StringLike":{{"kms:RequestAlias":"alias/tenant-*"}},"StringNotEquals":{{"aws:PrincipalTag/team":"payments"}}}}}}
]}}"#
    )
}

const IDENTITY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"UseTenantKeys","Effect":"Allow","Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],
   "Resource":"arn:aws:kms:us-east-1:111122223333:key/*",
   "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"${aws:username}"},"StringLike":{"kms:EncryptionAlgorithm":"SYMMETRIC_*"}}},
  {"Sid":"Describe","Effect":"Allow","Action":["kms:DescribeKey","kms:ListAliases","kms:ListKeys"],"Resource":"*"},
  {"Sid":"NoDeletion","Effect":"Deny","Action":["kms:ScheduleKeyDeletion","kms:DisableKey"],"Resource":"*"}
]}"#;

#[test]
#[ignore = "a measurement; run with --release -- --ignored --nocapture"]
fn encrypt_rate_with_realistic_policies_is_at_least_85_percent() {
    let clock = Arc::new(ManualClock::new());
    let store = Arc::new(keyfort_store::SqliteStore::open_in_memory().unwrap());
    let root_key = keyfort_crypto::RootKey::from_symmetric(
        keyfort_crypto::SymmetricKey::from_bytes(&[7u8; 32]).unwrap(),
    );
    let kms = Kms::new(store, root_key, clock);
    let account = AccountId::parse(ACCOUNT).unwrap();
    kms.ensure_account(&account).unwrap();
    let root = Principal::root(account.clone(), "AKIAKEYFORTBENCH0001");

    kms.iam_create_user(&account, "app", "/", Vec::new())
        .unwrap();
    kms.iam_put_inline::<UserDoc>(&account, "app", "kms", IDENTITY_POLICY)
        .unwrap();
    let (record, _secret, _) = kms.iam_create_access_key(&account, "app").unwrap();
    let app = kms
        .credential(&record.access_key_id)
        .unwrap()
        .unwrap()
        .principal
        .clone();
    assert_eq!(app.arn, format!("arn:aws:iam::{ACCOUNT}:user/app"));

    let plain = STANDARD.encode([0x5au8; 32]);
    let default_key = call(&kms, &root, "CreateKey", "{}")["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = serde_json::to_string(&realistic_key_policy()).unwrap();
    let realistic_key = call(
        &kms,
        &root,
        "CreateKey",
        &format!(
            r#"{{"Policy":{policy},"Tags":[{{"TagKey":"env","TagValue":"prod"}},{{"TagKey":"team","TagValue":"payments"}}]}}"#
        ),
    )["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    for (alias, target) in [
        ("alias/app-data", &realistic_key),
        ("alias/app-data-v2", &realistic_key),
        ("alias/plain-data", &default_key),
    ] {
        call(
            &kms,
            &root,
            "CreateAlias",
            &format!(r#"{{"AliasName":"{alias}","TargetKeyId":"{target}"}}"#),
        );
    }
    // The same request shape on both sides: only the principal and the policies differ.
    let root_body = format!(
        r#"{{"KeyId":"alias/plain-data","Plaintext":"{plain}","EncryptionContext":{{"tenant":"app","purpose":"bench"}}}}"#
    );
    let app_body = format!(
        r#"{{"KeyId":"alias/app-data","Plaintext":"{plain}","EncryptionContext":{{"tenant":"app","purpose":"bench"}}}}"#
    );
    // Both paths work, and the user's is really decided by its policies.
    call(&kms, &root, "Encrypt", &root_body);
    call(&kms, &app, "Encrypt", &app_body);
    let wrong_tenant = api::parse(
        "Encrypt",
        format!(r#"{{"KeyId":"alias/app-data","Plaintext":"{plain}","EncryptionContext":{{"tenant":"other"}}}}"#)
            .as_bytes(),
    )
    .unwrap();
    let log = ResourceLog::default();
    assert_eq!(
        kms.execute(&caller(&app, &log), wrong_tenant)
            .unwrap_err()
            .code(),
        "AccessDeniedException"
    );

    // Each round measures both back to back; the median of the rounds' ratios is
    // robust to the load of other processes drifting between rounds.
    let mut ratios = Vec::new();
    let (mut base, mut authz) = (0f64, 0f64);
    for _ in 0..ROUNDS {
        let b = rate(&kms, &root, &root_body);
        let a = rate(&kms, &app, &app_body);
        ratios.push(a / b);
        base = base.max(b);
        authz = authz.max(a);
    }
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ROUNDS / 2];
    println!(
        "Encrypt in process: root + default policy {base:.0}/s (best); IAM user + identity policy + realistic key policy {authz:.0}/s (best); median ratio of {ROUNDS} rounds {:.1}% (range {:.1}%..{:.1}%)",
        ratio * 100.0,
        ratios[0] * 100.0,
        ratios[ROUNDS - 1] * 100.0
    );
    assert!(
        ratio >= 0.85,
        "authorization costs too much: {:.1}%",
        ratio * 100.0
    );
}
