//! Fuzzes the policy parser and evaluator, which read caller-supplied documents
//! (PutKeyPolicy, CreateKey, PutRolePolicy, CreateRole, AssumeRole's session policy).
//!
//! Parses arbitrary bytes as a policy of each kind; whatever is accepted must
//! evaluate against a fixed request without panicking, and must survive a round
//! trip through its JSON form with the same decision.
//!
//! Run: `cd fuzz && cargo +nightly fuzz run policy_parse corpus/policy_parse seeds/policy_parse`

#![no_main]

use keyfort_policy::{AuthzInput, Context, Policy, PolicyKind, Principal, Request, authorize};
use libfuzzer_sys::fuzz_target;

const KINDS: [PolicyKind; 4] = [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Trust, PolicyKind::Session];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let callers = [
        Principal::user("111122223333", "alice", "AIDAALICE"),
        Principal::assumed_role("111122223333", "Admin", "s1", "AROAADMIN"),
        Principal::root("444455556666"),
        Principal::anonymous(),
    ];
    let ctx = Context::new()
        .with("kms:EncryptionContext:Dept", "Sales")
        .with("kms:EncryptionContextKeys", "Dept")
        .with("aws:SourceIp", "203.0.113.7")
        .with("aws:CurrentTime", "2026-01-01T00:00:00Z")
        .with("aws:PrincipalTag/Team", "blue");
    for kind in KINDS {
        let Ok(policy) = Policy::parse(text, kind) else {
            continue;
        };
        let again = Policy::from_value(&policy.to_value(), kind).expect("a parsed policy's JSON form parses");
        for who in &callers {
            let req = Request {
                principal: who,
                action: "kms:Encrypt",
                resource: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                context: &ctx,
            };
            assert_eq!(policy.evaluate(&req), again.evaluate(&req));
            let id: [&Policy; 1] = [&policy];
            let input = AuthzInput {
                request: req,
                resource_account: "111122223333",
                resource_policy: (kind == PolicyKind::Resource).then_some(&policy),
                identity_policies: if kind == PolicyKind::Identity { &id } else { &[] },
                session_policy: (kind == PolicyKind::Session).then_some(&policy),
                grant_allows: false,
            };
            let _ = authorize(&input);
        }
    }
});
