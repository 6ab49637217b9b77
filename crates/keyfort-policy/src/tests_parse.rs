//! Parsing: what is accepted, what is refused and with which message; principal
//! matching; action and resource wildcards; JSON round trips.

use serde_json::json;

use crate::*;

const ACCT: &str = "111122223333";
const OTHER: &str = "444455556666";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn parse(v: serde_json::Value, kind: PolicyKind) -> Result<Policy, PolicyError> {
    Policy::parse(&v.to_string(), kind)
}

fn err(v: serde_json::Value, kind: PolicyKind) -> String {
    match parse(v, kind) {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn eval(p: &Policy, who: &Principal, action: &str, resource: &str) -> Evaluation {
    let ctx = Context::new();
    p.evaluate(&Request {
        principal: who,
        action,
        resource,
        context: &ctx,
    })
}

#[test]
fn accepts_the_default_key_policy() {
    let p = parse(
        json!({
            "Version": "2012-10-17",
            "Id": "key-default-1",
            "Statement": [{
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "kms:*",
                "Resource": "*"
            }]
        }),
        PolicyKind::Resource,
    )
    .unwrap();
    assert_eq!(p.id(), Some("key-default-1"));
    assert_eq!(p.version(), Version::V2012);
    assert_eq!(p.kind(), PolicyKind::Resource);
    assert_eq!(p.statement_count(), 1);
    assert_eq!(
        p.sids().collect::<Vec<_>>(),
        vec![Some("Enable IAM User Permissions")]
    );
    let alice = Principal::user(ACCT, "alice", "AIDAALICE");
    assert_eq!(
        eval(&p, &alice, "kms:Encrypt", KEY).allow,
        Some(AllowMatch::Account)
    );
    assert_eq!(
        eval(&p, &Principal::root(ACCT), "kms:Encrypt", KEY).allow,
        Some(AllowMatch::Account)
    );
    assert_eq!(
        eval(
            &p,
            &Principal::user(OTHER, "bob", "AIDABOB"),
            "kms:Encrypt",
            KEY
        )
        .allow,
        None
    );
}

#[test]
fn statement_as_object_and_missing_version() {
    let p = parse(
        json!({"Statement": {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}}),
        PolicyKind::Identity,
    )
    .unwrap();
    assert_eq!(p.version(), Version::V2008);
    assert!(eval(&p, &Principal::user(ACCT, "a", "A"), "kms:encrypt", KEY).is_allowed());
}

#[test]
fn errors_name_the_problem() {
    let st = |extra: serde_json::Value| {
        let mut s = json!({"Effect": "Allow", "Action": "kms:*", "Resource": "*"});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                s.as_object_mut().unwrap().remove(k);
            } else {
                s[k] = v.clone();
            }
        }
        json!({"Version": "2012-10-17", "Statement": [s]})
    };
    let id = PolicyKind::Identity;
    let res = PolicyKind::Resource;
    let cases: Vec<(serde_json::Value, PolicyKind, &str)> = vec![
        (
            st(json!({"Foo": 1})),
            id,
            "unknown element \"Foo\" in statement 1",
        ),
        (
            st(json!({"NotAction": "kms:Decrypt"})),
            id,
            "statement 1 has both Action and NotAction",
        ),
        (
            st(json!({"NotResource": "*"})),
            id,
            "has both Resource and NotResource",
        ),
        (
            st(json!({"Effect": null})),
            id,
            "statement 1 is missing Effect",
        ),
        (
            st(json!({"Effect": "allow"})),
            id,
            "Effect must be \"Allow\" or \"Deny\"",
        ),
        (st(json!({"Effect": true})), id, "Effect must be a string"),
        (
            st(json!({"Action": null})),
            id,
            "missing Action or NotAction",
        ),
        (
            st(json!({"Resource": null})),
            id,
            "missing Resource or NotResource",
        ),
        (
            st(json!({"Principal": "*"})),
            id,
            "Principal is not allowed in an identity policy",
        ),
        (
            st(json!({"Principal": "*"})),
            PolicyKind::Session,
            "Principal is not allowed in a session policy",
        ),
        (st(json!({})), res, "missing Principal or NotPrincipal"),
        (
            st(json!({})),
            PolicyKind::Trust,
            "missing Principal or NotPrincipal",
        ),
        (
            st(json!({"Principal": "*"})),
            PolicyKind::Trust,
            "Resource is not allowed in a trust policy",
        ),
        (
            st(json!({"Condition": {"StringEqualz": {"a": "b"}}})),
            id,
            "unknown condition operator \"StringEqualz\"",
        ),
        (
            st(json!({"Condition": {"NullIfExists": {"a": "true"}}})),
            id,
            "unknown condition operator",
        ),
        (
            st(json!({"Condition": {"StringEquals": {"a": {"b": 1}}}})),
            id,
            "must be a string, number or boolean",
        ),
        (
            st(json!({"Condition": {"StringEquals": {"a": []}}})),
            id,
            "at least one value",
        ),
        (
            st(json!({"Condition": {"StringEquals": "x"}})),
            id,
            "must be an object of condition keys",
        ),
        (
            st(json!({"Condition": []})),
            id,
            "Condition must be an object",
        ),
        (
            st(json!({"Condition": {"NumericLessThan": {"n": "ten"}}})),
            id,
            "not a number",
        ),
        (
            st(json!({"Condition": {"DateLessThan": {"aws:CurrentTime": "tomorrow"}}})),
            id,
            "not an ISO 8601 date",
        ),
        (
            st(json!({"Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}})),
            id,
            "not an IPv4 or IPv6",
        ),
        (
            st(json!({"Condition": {"Bool": {"aws:SecureTransport": "yes"}}})),
            id,
            "expected true or false",
        ),
        (
            st(json!({"Condition": {"BinaryEquals": {"k": "!!"}}})),
            id,
            "not base64",
        ),
        (
            st(json!({"Action": 5})),
            id,
            "Action must be a string or a non-empty array of strings",
        ),
        (
            st(json!({"Action": []})),
            id,
            "Action must be a string or a non-empty array",
        ),
        (
            st(json!({"Action": ["kms:Encrypt", 3]})),
            id,
            "Action must be a string",
        ),
        (
            st(json!({"Action": "Encrypt"})),
            id,
            "an action must be \"*\" or service:Action",
        ),
        (
            st(json!({"Resource": "key/1"})),
            id,
            "a resource must be \"*\" or an ARN",
        ),
        (st(json!({"Sid": 1})), id, "Sid must be a string"),
        (
            json!({"Statement": [], "Foo": 1}),
            id,
            "unknown element \"Foo\" in policy",
        ),
        (
            json!({"Version": "2012-10-17"}),
            id,
            "policy is missing Statement",
        ),
        (
            json!({"Version": "2020-01-01", "Statement": []}),
            id,
            "unsupported policy Version \"2020-01-01\"",
        ),
        (
            json!({"Version": 2012, "Statement": []}),
            id,
            "Version must be a string",
        ),
        (
            json!({"Statement": "x"}),
            id,
            "Statement must be an object or an array",
        ),
        (
            json!({"Statement": ["x"]}),
            id,
            "Statement must be an object",
        ),
        (json!([1]), id, "policy document must be a JSON object"),
        (
            json!({"Statement": [
                {"Sid": "A", "Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                {"Sid": "A", "Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}),
            id,
            "duplicate Sid \"A\"",
        ),
    ];
    for (doc, kind, want) in cases {
        let got = err(doc.clone(), kind);
        assert!(got.contains(want), "{doc}: got {got:?}, want {want:?}");
    }
    let json_err = Policy::parse("{\"Statement\": ", PolicyKind::Identity)
        .unwrap_err()
        .to_string();
    assert!(
        json_err.starts_with("policy is not valid JSON"),
        "{json_err}"
    );
    // The Sid is named in the location when there is one.
    let named = err(
        json!({"Statement": [{"Sid": "S1", "Effect": "Allow", "Action": "x"}]}),
        id,
    );
    assert!(named.contains("statement 1 (Sid \"S1\")"), "{named}");
}

#[test]
fn principal_values() {
    let ok = |principal: serde_json::Value| {
        parse(
            json!({"Statement": {"Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}}),
            PolicyKind::Resource,
        )
    };
    for good in [
        json!("*"),
        json!({"AWS": "*"}),
        json!({"AWS": ACCT}),
        json!({"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/dev/alice"]}),
        json!({"AWS": "arn:aws:iam::111122223333:role/Admin"}),
        json!({"AWS": "arn:aws-cn:sts::111122223333:assumed-role/Admin/s1"}),
        json!({"Service": ["logs.amazonaws.com", "s3.amazonaws.com"]}),
        json!({"Federated": "cognito-identity.amazonaws.com"}),
        json!({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}),
        json!({"AWS": "AIDACKCEVSQ6C2EXAMPLE"}),
    ] {
        assert!(ok(good.clone()).is_ok(), "{good}");
    }
    for (bad, want) in [
        (json!("someone"), "\"*\" or an object"),
        (json!({}), "\"*\" or an object"),
        (
            json!({"AWS": "arn:aws:iam::111122223333:user/*"}),
            "wildcards are not allowed",
        ),
        (
            json!({"AWS": "1111"}),
            "expected \"*\", a 12-digit account id",
        ),
        (
            json!({"AWS": "arn:aws:iam::1111:root"}),
            "expected arn:PARTITION:iam::ACCOUNT",
        ),
        (
            json!({"AWS": "arn:aws:iam::111122223333:group/devs"}),
            "must be an account, an IAM user or role",
        ),
        (
            json!({"AWS": "arn:aws:sts::111122223333:assumed-role/Admin"}),
            "must be an account",
        ),
        (
            json!({"AWS": 111122223333u64}),
            "Principal AWS must be a string",
        ),
        (json!({"Service": ""}), "non-empty name"),
        (json!({"Aws": ACCT}), "unknown element \"Aws\""),
    ] {
        let got = ok(bad.clone()).unwrap_err().to_string();
        assert!(got.contains(want), "{bad}: {got}");
    }
}

fn key_policy(principal: serde_json::Value) -> Policy {
    parse(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": principal, "Action": "kms:*", "Resource": "*"}}),
        PolicyKind::Resource,
    )
    .unwrap()
}

#[test]
fn principal_matching() {
    let alice = Principal::user(ACCT, "dev/alice", "AIDAALICE");
    let session = Principal::assumed_role(ACCT, "ops/Admin", "s1", "AROAADMIN");
    let svc = Principal::service("logs.amazonaws.com");
    let anon = Principal::anonymous();
    let root = Principal::root(ACCT);
    let m = |p: &Policy, who: &Principal| eval(p, who, "kms:Encrypt", KEY).allow;

    let star = key_policy(json!("*"));
    for who in [&alice, &session, &svc, &anon, &root] {
        assert_eq!(m(&star, who), Some(AllowMatch::Principal), "{who:?}");
    }
    let aws_star = key_policy(json!({"AWS": "*"}));
    assert_eq!(m(&aws_star, &alice), Some(AllowMatch::Principal));

    let acct = key_policy(json!({"AWS": ACCT}));
    assert_eq!(m(&acct, &alice), Some(AllowMatch::Account));
    assert_eq!(m(&acct, &session), Some(AllowMatch::Account));
    assert_eq!(m(&acct, &root), Some(AllowMatch::Account));
    assert_eq!(m(&acct, &svc), None);
    assert_eq!(m(&acct, &anon), None);
    assert_eq!(m(&acct, &Principal::root(OTHER)), None);

    let user = key_policy(json!({"AWS": "arn:aws:iam::111122223333:user/dev/alice"}));
    assert_eq!(m(&user, &alice), Some(AllowMatch::Principal));
    assert_eq!(m(&user, &Principal::user(ACCT, "alice", "AIDAX")), None);

    let role = key_policy(json!({"AWS": "arn:aws:iam::111122223333:role/ops/Admin"}));
    assert_eq!(m(&role, &session), Some(AllowMatch::Principal));
    assert_eq!(
        m(
            &role,
            &Principal::assumed_role(ACCT, "Admin", "s1", "AROAY")
        ),
        None
    );
    assert_eq!(m(&role, &alice), None);

    let sess = key_policy(json!({"AWS": "arn:aws:sts::111122223333:assumed-role/Admin/s1"}));
    assert_eq!(m(&sess, &session), Some(AllowMatch::Session));
    assert_eq!(
        m(
            &sess,
            &Principal::assumed_role(ACCT, "ops/Admin", "s2", "AROAADMIN")
        ),
        None
    );

    let both = key_policy(
        json!({"AWS": [ACCT, "arn:aws:sts::111122223333:assumed-role/Admin/s1", "arn:aws:iam::111122223333:role/ops/Admin"]}),
    );
    assert_eq!(
        m(&both, &session),
        Some(AllowMatch::Session),
        "the strongest match wins"
    );

    let service = key_policy(json!({"Service": "logs.amazonaws.com"}));
    assert_eq!(m(&service, &svc), Some(AllowMatch::Principal));
    assert_eq!(m(&service, &Principal::service("s3.amazonaws.com")), None);
    assert_eq!(m(&service, &alice), None);

    let fed = key_policy(json!({"Federated": "cognito-identity.amazonaws.com"}));
    assert_eq!(m(&fed, &alice), None);
}

#[test]
fn not_principal_excludes_only_fully_named_callers() {
    let deny_all_but = |names: serde_json::Value| {
        parse(
            json!({"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": names}, "Action": "kms:*", "Resource": "*"}}),
            PolicyKind::Resource,
        )
        .unwrap()
    };
    let alice = Principal::user(ACCT, "alice", "AIDAALICE");
    let session = Principal::assumed_role(ACCT, "Admin", "s1", "AROAADMIN");
    let d = |p: &Policy, who: &Principal| eval(p, who, "kms:Encrypt", KEY).explicit_deny;

    let only_user = deny_all_but(json!(["arn:aws:iam::111122223333:user/alice"]));
    assert!(d(&only_user, &alice), "the account must be named too");
    let user_and_account = deny_all_but(json!(["arn:aws:iam::111122223333:user/alice", ACCT]));
    assert!(!d(&user_and_account, &alice));
    assert!(d(&user_and_account, &session));
    assert!(d(&user_and_account, &Principal::anonymous()));
    assert!(!d(&user_and_account, &Principal::root(ACCT)));
    let role_and_account = deny_all_but(json!(["arn:aws:iam::111122223333:role/Admin", ACCT]));
    assert!(
        d(&role_and_account, &session),
        "a session needs its session ARN named"
    );
    let full = deny_all_but(json!([
        "arn:aws:iam::111122223333:role/Admin",
        "arn:aws:sts::111122223333:assumed-role/Admin/s1",
        ACCT
    ]));
    assert!(!d(&full, &session));
    let star = deny_all_but(json!("*"));
    assert!(!d(&star, &alice));
    // NotPrincipal is refused in trust policies.
    let e = err(
        json!({"Statement": {"Effect": "Allow", "NotPrincipal": {"AWS": ACCT}, "Action": "sts:AssumeRole"}}),
        PolicyKind::Trust,
    );
    assert!(
        e.contains("NotPrincipal is not allowed in a trust policy"),
        "{e}"
    );
}

fn identity(statement: serde_json::Value) -> Policy {
    parse(
        json!({"Version": "2012-10-17", "Statement": statement}),
        PolicyKind::Identity,
    )
    .unwrap()
}

#[test]
fn action_and_resource_wildcards() {
    let alice = Principal::user(ACCT, "alice", "AIDAALICE");
    let a =
        |p: &Policy, action: &str, resource: &str| eval(p, &alice, action, resource).is_allowed();

    let p = identity(
        json!({"Effect": "Allow", "Action": ["kms:Generate*", "KMS:DESCRIBEKEY", "kms:?e?ncrypt"], "Resource": "arn:aws:kms:*:111122223333:key/*"}),
    );
    assert!(a(&p, "kms:GenerateDataKey", KEY));
    assert!(a(&p, "kms:generatedatakeypair", KEY));
    assert!(a(&p, "kms:DescribeKey", KEY));
    assert!(a(&p, "kms:ReEncrypt", KEY));
    assert!(!a(&p, "kms:Encrypt", KEY));
    assert!(!a(&p, "kms:Decrypt", KEY));
    assert!(!a(
        &p,
        "kms:GenerateDataKey",
        "arn:aws:kms:us-east-1:444455556666:key/x"
    ));
    assert!(!a(
        &p,
        "kms:GenerateDataKey",
        "arn:aws:kms:us-east-1:111122223333:alias/x"
    ));
    // Resources are case-sensitive.
    assert!(!a(
        &p,
        "kms:GenerateDataKey",
        "arn:aws:kms:us-east-1:111122223333:KEY/x"
    ));

    let any = identity(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
    assert!(a(
        &any,
        "iam:CreateUser",
        "arn:aws:iam::111122223333:user/x"
    ));

    let not_action = identity(
        json!({"Effect": "Allow", "NotAction": "kms:ScheduleKeyDeletion", "Resource": "*"}),
    );
    assert!(a(&not_action, "kms:Encrypt", KEY));
    assert!(!a(&not_action, "kms:schedulekeydeletion", KEY));

    let not_resource = identity(json!({"Effect": "Allow", "Action": "kms:*", "NotResource": KEY}));
    assert!(!a(&not_resource, "kms:Encrypt", KEY));
    assert!(a(
        &not_resource,
        "kms:Encrypt",
        "arn:aws:kms:us-east-1:111122223333:key/other"
    ));

    let deny = identity(json!([
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}
    ]));
    assert!(eval(&deny, &alice, "kms:Decrypt", KEY).explicit_deny);
    assert!(!eval(&deny, &alice, "kms:Decrypt", KEY).is_allowed());
    assert!(eval(&deny, &alice, "kms:Encrypt", KEY).is_allowed());
}

#[test]
fn resource_variables_need_version_2012() {
    let doc = |version: Option<&str>| {
        let mut d = json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username}/*"}});
        if let Some(v) = version {
            d["Version"] = json!(v);
        }
        parse(d, PolicyKind::Identity).unwrap()
    };
    let alice = Principal::user(ACCT, "alice", "AIDAALICE");
    let r = |p: &Policy, res: &str| eval(p, &alice, "s3:GetObject", res).is_allowed();
    let v2012 = doc(Some("2012-10-17"));
    assert!(r(&v2012, "arn:aws:s3:::home/alice/notes"));
    assert!(!r(&v2012, "arn:aws:s3:::home/bob/notes"));
    // A session has no aws:username: the variable is unresolved, nothing matches.
    let session = Principal::assumed_role(ACCT, "Admin", "alice", "AROAX");
    assert!(
        !eval(
            &v2012,
            &session,
            "s3:GetObject",
            "arn:aws:s3:::home/alice/notes"
        )
        .is_allowed()
    );
    for old in [doc(Some("2008-10-17")), doc(None)] {
        assert!(!r(&old, "arn:aws:s3:::home/alice/notes"));
        assert!(r(&old, "arn:aws:s3:::home/${aws:username}/notes"));
    }
}

#[test]
fn round_trip_keeps_meaning_and_layout() {
    let text = json!({
        "Version": "2012-10-17",
        "Id": "p",
        "Statement": [
            {"Sid": "a", "Effect": "Allow", "Principal": {"AWS": [ACCT]}, "Action": "kms:*", "Resource": "*",
             "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": ["a", "b"], "kms:CallerAccount": ACCT},
                           "NumericLessThan": {"n": 5}, "Bool": {"aws:SecureTransport": true}}},
            {"Effect": "Deny", "NotPrincipal": "*", "NotAction": ["kms:Decrypt"], "NotResource": ["arn:aws:kms:*"]}
        ]
    });
    let p = parse(text.clone(), PolicyKind::Resource).unwrap();
    let back = p.to_value();
    assert_eq!(
        back["Statement"][0]["Condition"]["NumericLessThan"]["n"],
        json!("5")
    );
    assert_eq!(back["Statement"][1]["NotAction"], json!(["kms:Decrypt"]));
    let again = Policy::from_value(&back, PolicyKind::Resource).unwrap();
    assert_eq!(again, p);
    let single = parse(
        json!({"Statement": {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}}),
        PolicyKind::Identity,
    )
    .unwrap();
    assert_eq!(
        single.to_value(),
        json!({"Statement": {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}})
    );
}

#[test]
fn trust_policy() {
    let p = parse(
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole",
               "Condition": {"StringEquals": {"sts:ExternalId": "xyz"}}}}),
        PolicyKind::Trust,
    )
    .unwrap();
    let bob = Principal::user(OTHER, "bob", "AIDABOB");
    let role = "arn:aws:iam::111122223333:role/R";
    let ctx = Context::new().with("sts:ExternalId", "xyz");
    let req = Request {
        principal: &bob,
        action: "sts:AssumeRole",
        resource: role,
        context: &ctx,
    };
    assert_eq!(p.evaluate(&req).allow, Some(AllowMatch::Account));
    let wrong = Context::new().with("sts:ExternalId", "abc");
    assert_eq!(
        p.evaluate(&Request {
            context: &wrong,
            ..req
        })
        .allow,
        None
    );
    assert_eq!(
        p.evaluate(&Request {
            action: "sts:TagSession",
            ..req
        })
        .allow,
        None
    );
}

#[test]
fn parsed_policies_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Policy>();
    assert_send_sync::<PolicyError>();
    assert_send_sync::<Context>();
    assert_send_sync::<Principal>();
}

#[test]
fn context_lookup_is_independent_of_insertion_order() {
    let keys = [
        "b",
        "kms:EncryptionContext:Z",
        "a",
        "AWS:SourceIp",
        "c",
        "kms:EncryptionContext:z",
    ];
    let mut forward = Context::new();
    let mut backward = Context::new();
    for (i, k) in keys.iter().enumerate() {
        forward.insert(k, i.to_string());
    }
    for (i, k) in keys.iter().enumerate().rev() {
        backward.insert(k, i.to_string());
    }
    for k in keys.iter().chain(&["aws:sourceip", "missing"]) {
        assert_eq!(forward.get(k), backward.get(k), "{k}");
    }
    assert_eq!(
        forward.get("kms:EncryptionContext:Z"),
        Some(&["1".to_owned()][..])
    );
    assert_eq!(
        forward.get("kms:EncryptionContext:z"),
        Some(&["5".to_owned()][..])
    );
    assert_eq!(forward.get("aws:sourceip"), Some(&["3".to_owned()][..]));
}
