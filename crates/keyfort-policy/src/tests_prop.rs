//! Property tests: generated valid policies parse, round-trip through JSON and
//! decide as a simple reference model says; arbitrary JSON never panics.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::*;

const ACCT: &str = "111122223333";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::444455556666:user/bob";
const ROLE: &str = "arn:aws:iam::111122223333:role/Admin";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/Admin/s1";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";
const KEY2: &str = "arn:aws:kms:us-east-1:444455556666:key/k2";

const ACTIONS: [&str; 8] = [
    "*",
    "kms:*",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:Gen*",
    "kms:?ncrypt",
    "KMS:ENCRYPT",
    "kms:*Key*",
];
const RESOURCES: [&str; 5] = [
    "*",
    KEY,
    KEY2,
    "arn:aws:kms:*:111122223333:key/*",
    "arn:aws:kms:us-east-?:*",
];
const PRINCIPALS: [&str; 7] = [
    "*",
    ACCT,
    "arn:aws:iam::444455556666:root",
    ALICE,
    BOB,
    ROLE,
    SESSION,
];
const REQ_ACTIONS: [&str; 4] = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:GenerateDataKey",
    "kms:DescribeKey",
];
const DEPTS: [&str; 3] = ["a", "b", "A"];

/// One statement of the model.
#[derive(Debug, Clone)]
struct Stmt {
    deny: bool,
    actions: Vec<usize>,
    not_action: bool,
    resources: Vec<usize>,
    not_resource: bool,
    principals: Vec<usize>,
    /// StringEquals on kms:EncryptionContext:Dept with these values.
    dept: Option<Vec<usize>>,
    /// Write one-element lists as a bare string.
    bare: bool,
}

fn stmt() -> impl Strategy<Value = Stmt> {
    (
        any::<bool>(),
        prop::collection::vec(0..ACTIONS.len(), 1..3),
        any::<bool>(),
        prop::collection::vec(0..RESOURCES.len(), 1..3),
        any::<bool>(),
        prop::collection::vec(0..PRINCIPALS.len(), 1..3),
        prop::option::of(prop::collection::vec(0..DEPTS.len(), 1..3)),
        any::<bool>(),
    )
        .prop_map(
            |(deny, actions, not_action, resources, not_resource, principals, dept, bare)| Stmt {
                deny,
                actions,
                not_action,
                resources,
                not_resource,
                principals,
                dept,
                bare,
            },
        )
}

fn list(items: &[&str], bare: bool) -> Value {
    match items {
        [one] if bare => json!(one),
        _ => json!(items),
    }
}

fn to_json(stmts: &[Stmt], resource_kind: bool) -> Value {
    let sts: Vec<Value> = stmts
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert(
                "Effect".into(),
                json!(if s.deny { "Deny" } else { "Allow" }),
            );
            let acts: Vec<&str> = s.actions.iter().map(|&i| ACTIONS[i]).collect();
            m.insert(
                (if s.not_action { "NotAction" } else { "Action" }).into(),
                list(&acts, s.bare),
            );
            let res: Vec<&str> = s.resources.iter().map(|&i| RESOURCES[i]).collect();
            m.insert(
                (if s.not_resource {
                    "NotResource"
                } else {
                    "Resource"
                })
                .into(),
                list(&res, s.bare),
            );
            if resource_kind {
                let ps: Vec<&str> = s.principals.iter().map(|&i| PRINCIPALS[i]).collect();
                m.insert("Principal".into(), json!({"AWS": list(&ps, s.bare)}));
            }
            if let Some(d) = &s.dept {
                let vals: Vec<&str> = d.iter().map(|&i| DEPTS[i]).collect();
                m.insert(
                    "Condition".into(),
                    json!({"StringEquals": {"kms:EncryptionContext:Dept": list(&vals, s.bare)}}),
                );
            }
            Value::Object(m)
        })
        .collect();
    let statement = match sts.as_slice() {
        [one] if stmts[0].bare => one.clone(),
        _ => Value::Array(sts),
    };
    json!({"Version": "2012-10-17", "Statement": statement})
}

/// A deliberately naive glob: recursion over chars.
fn naive_glob(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| naive_glob(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && naive_glob(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && naive_glob(rest, &t[1..]),
    }
}

fn glob(p: &str, t: &str, ignore_case: bool) -> bool {
    let (p, t) = if ignore_case {
        (p.to_lowercase(), t.to_lowercase())
    } else {
        (p.to_owned(), t.to_owned())
    };
    naive_glob(
        &p.chars().collect::<Vec<_>>(),
        &t.chars().collect::<Vec<_>>(),
    )
}

/// The reference: (explicit deny, allowed) for one request.
fn model(
    stmts: &[Stmt],
    resource_kind: bool,
    who: &Principal,
    action: &str,
    resource: &str,
    dept: Option<&str>,
) -> (bool, bool) {
    let mut deny = false;
    let mut allow = false;
    for s in stmts {
        let a = s.actions.iter().any(|&i| glob(ACTIONS[i], action, true)) != s.not_action;
        let r = s
            .resources
            .iter()
            .any(|&i| glob(RESOURCES[i], resource, false))
            != s.not_resource;
        let p = !resource_kind
            || s.principals.iter().any(|&i| {
                let name = PRINCIPALS[i];
                name == "*"
                    || (name == ACCT || name == "arn:aws:iam::111122223333:root") && who.account == ACCT
                    || name == "arn:aws:iam::444455556666:root" && who.account == "444455556666"
                    || name == who.arn
                    || matches!(&who.kind, PrincipalKind::AssumedRole { role_arn, .. } if role_arn == name)
            });
        let c = match &s.dept {
            None => true,
            Some(vals) => dept.is_some_and(|d| vals.iter().any(|&i| DEPTS[i] == d)),
        };
        if a && r && p && c {
            if s.deny {
                deny = true;
            } else {
                allow = true;
            }
        }
    }
    (deny, allow && !deny)
}

fn callers() -> Vec<Principal> {
    vec![
        Principal::user(ACCT, "alice", "AIDAALICE"),
        Principal::user("444455556666", "bob", "AIDABOB"),
        Principal::assumed_role(ACCT, "Admin", "s1", "AROAADMIN"),
        Principal::assumed_role(ACCT, "Admin", "s2", "AROAADMIN"),
        Principal::root(ACCT),
        Principal::anonymous(),
    ]
}

fn check_against_model(stmts: &[Stmt], kind: PolicyKind) -> Result<(), TestCaseError> {
    let resource_kind = kind == PolicyKind::Resource;
    let doc = to_json(stmts, resource_kind);
    let policy = Policy::parse(&doc.to_string(), kind)
        .map_err(|e| TestCaseError::fail(format!("{doc}: {e}")))?;
    let again = Policy::from_value(&policy.to_value(), kind)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&again, &policy);
    for who in callers() {
        for action in REQ_ACTIONS {
            for resource in [KEY, KEY2] {
                for dept in [None, Some("a"), Some("A"), Some("c")] {
                    let mut ctx = Context::new();
                    if let Some(d) = dept {
                        ctx.insert("kms:EncryptionContext:Dept", d);
                    }
                    let req = Request {
                        principal: &who,
                        action,
                        resource,
                        context: &ctx,
                    };
                    let got = policy.evaluate(&req);
                    let round = again.evaluate(&req);
                    prop_assert_eq!(got, round);
                    let (deny, allow) = model(stmts, resource_kind, &who, action, resource, dept);
                    prop_assert_eq!(
                        (got.explicit_deny, got.is_allowed()),
                        (deny, allow),
                        "{} {:?} {} {} {:?}",
                        doc,
                        who.arn,
                        action,
                        resource,
                        dept
                    );
                }
            }
        }
    }
    Ok(())
}

/// Arbitrary JSON, biased towards policy-shaped documents.
fn arb_json() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "Version",
        "Id",
        "Statement",
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "AWS",
        "Service",
        "StringLike",
        "ForAllValues:StringNotEquals",
        "NumericLessThanIfExists",
        "DateGreaterThan",
        "IpAddress",
        "ArnLike",
        "Null",
        "Bool",
        "BinaryEquals",
        "kms:EncryptionContext:x",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "2012-10-17",
            "2008-10-17",
            "Allow",
            "Deny",
            "*",
            "kms:*",
            "kms:Encrypt",
            ACCT,
            ALICE,
            ROLE,
            SESSION,
            KEY,
            "arn:aws:kms:*",
            "${aws:username}",
            "${",
            "${*}",
            "10.0.0.0/8",
            "::/0",
            "2024-01-01T00:00:00Z",
            "true",
            "QQ==",
            "a*b?c",
            "",
        ])
        .prop_map(|s| json!(s)),
        "\\PC{0,12}".prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((names.clone(), inner), 0..5).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

const KINDS: [PolicyKind; 4] = [
    PolicyKind::Identity,
    PolicyKind::Resource,
    PolicyKind::Trust,
    PolicyKind::Session,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_identity_policies_match_the_model(stmts in prop::collection::vec(stmt(), 1..4)) {
        check_against_model(&stmts, PolicyKind::Identity)?;
    }

    #[test]
    fn generated_key_policies_match_the_model(stmts in prop::collection::vec(stmt(), 1..4)) {
        check_against_model(&stmts, PolicyKind::Resource)?;
    }

    #[test]
    fn arbitrary_json_never_panics(doc in arb_json()) {
        let alice = Principal::user(ACCT, "alice", "AIDAALICE");
        let ctx = Context::new().with("kms:EncryptionContext:x", "1").with("aws:SourceIp", "10.1.2.3");
        let req = Request { principal: &alice, action: "kms:Encrypt", resource: KEY, context: &ctx };
        for kind in KINDS {
            if let Ok(p) = Policy::from_value(&doc, kind) {
                let _ = p.evaluate(&req);
                let again = Policy::from_value(&p.to_value(), kind);
                prop_assert!(again.is_ok());
            }
            let _ = Policy::parse(&doc.to_string(), kind);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,64}") {
        for kind in KINDS {
            let _ = Policy::parse(&text, kind);
        }
    }

    #[test]
    fn glob_agrees_with_the_naive_matcher(p in "[ab*?]{0,8}", t in "[ab]{0,10}") {
        let doc = json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",
            "Condition": {"StringLike": {"k": p.clone()}}}});
        let policy = Policy::parse(&doc.to_string(), PolicyKind::Identity).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let alice = Principal::user(ACCT, "alice", "AIDAALICE");
        let ctx = Context::new().with("k", t.clone());
        let req = Request { principal: &alice, action: "kms:Encrypt", resource: KEY, context: &ctx };
        prop_assert_eq!(policy.evaluate(&req).is_allowed(), glob(&p, &t, false));
    }

    #[test]
    fn action_glob_ignores_case_like_the_naive_matcher(p in "[aAbB*?]{1,8}", t in "[aAbB]{0,10}") {
        let pattern = format!("s:{p}");
        let doc = json!({"Statement": {"Effect": "Allow", "Action": pattern, "Resource": "*"}});
        let policy = Policy::parse(&doc.to_string(), PolicyKind::Identity).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let alice = Principal::user(ACCT, "alice", "AIDAALICE");
        let ctx = Context::new();
        let action = format!("S:{t}");
        let req = Request { principal: &alice, action: &action, resource: KEY, context: &ctx };
        prop_assert_eq!(policy.evaluate(&req).is_allowed(), glob(&pattern, &action, true));
    }
}
