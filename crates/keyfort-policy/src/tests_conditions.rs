//! Every condition operator, positive and negative, with IfExists, the set
//! qualifiers, Null, missing keys and policy variables.

use serde_json::{Value, json};

use crate::*;

const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";

/// One identity policy allowing kms:* on * under `condition`.
fn policy(condition: Value) -> Policy {
    let doc = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": condition}});
    match Policy::parse(&doc.to_string(), PolicyKind::Identity) {
        Ok(p) => p,
        Err(e) => panic!("{doc}: {e}"),
    }
}

fn alice() -> Principal {
    let mut p = Principal::user("111122223333", "alice", "AIDAALICE");
    p.username = Some("alice".into());
    p
}

/// Does `op: {key: values}` hold for a request whose context is `ctx`?
fn holds(op: &str, key: &str, values: Value, ctx: &Context) -> bool {
    let p = policy(json!({op: {key: values}}));
    let who = alice();
    p.evaluate(&Request {
        principal: &who,
        action: "kms:Encrypt",
        resource: KEY,
        context: ctx,
    })
    .is_allowed()
}

fn ctx(pairs: &[(&str, &str)]) -> Context {
    let mut c = Context::new();
    for (k, v) in pairs {
        c.insert(k, *v);
    }
    c
}

#[test]
fn string_operators() {
    let c = ctx(&[
        ("kms:EncryptionContext:Dept", "Sales"),
        ("aws:RequestedRegion", "us-east-1"),
    ]);
    let k = "kms:EncryptionContext:Dept";
    assert!(holds("StringEquals", k, json!("Sales"), &c));
    assert!(holds("StringEquals", k, json!(["HR", "Sales"]), &c));
    assert!(!holds("StringEquals", k, json!("sales"), &c));
    assert!(
        !holds("StringEquals", k, json!("Sal*"), &c),
        "StringEquals has no wildcards"
    );
    assert!(holds("StringNotEquals", k, json!("HR"), &c));
    assert!(
        !holds("StringNotEquals", k, json!(["HR", "Sales"]), &c),
        "negated values NOR"
    );
    assert!(holds("StringEqualsIgnoreCase", k, json!("SALES"), &c));
    assert!(!holds("StringEqualsIgnoreCase", k, json!("SALE"), &c));
    assert!(holds("StringNotEqualsIgnoreCase", k, json!("HR"), &c));
    assert!(!holds("StringNotEqualsIgnoreCase", k, json!("sAlEs"), &c));
    assert!(holds("StringLike", k, json!("S*s"), &c));
    assert!(holds("StringLike", k, json!("?ales"), &c));
    assert!(!holds("StringLike", k, json!("s*"), &c));
    assert!(holds("StringNotLike", k, json!("H*"), &c));
    assert!(!holds("StringNotLike", k, json!(["H*", "*les"]), &c));
    // Key names ignore case except the encryption context key.
    assert!(holds(
        "StringEquals",
        "AWS:REQUESTEDREGION",
        json!("us-east-1"),
        &c
    ));
    assert!(holds(
        "StringEquals",
        "KMS:ENCRYPTIONCONTEXT:Dept",
        json!("Sales"),
        &c
    ));
    assert!(!holds(
        "StringEquals",
        "kms:EncryptionContext:dept",
        json!("Sales"),
        &c
    ));
    // Operator names ignore case too.
    assert!(holds("stringequals", k, json!("Sales"), &c));
}

#[test]
fn missing_keys() {
    let empty = Context::new();
    for op in [
        "StringEquals",
        "StringEqualsIgnoreCase",
        "StringLike",
        "ArnLike",
        "ArnEquals",
    ] {
        assert!(!holds(op, "k", json!("*"), &empty), "{op}");
        assert!(
            holds(&format!("{op}IfExists"), "k", json!("x"), &empty),
            "{op}IfExists"
        );
    }
    // Negated operators are true when the key is absent (IAM reference, "Condition operators").
    for op in [
        "StringNotEquals",
        "StringNotEqualsIgnoreCase",
        "StringNotLike",
        "ArnNotLike",
        "ArnNotEquals",
    ] {
        assert!(holds(op, "k", json!("x"), &empty), "{op}");
    }
    assert!(holds("NumericNotEquals", "n", json!(1), &empty));
    assert!(holds("DateNotEquals", "d", json!("2020-01-01"), &empty));
    assert!(holds(
        "NotIpAddress",
        "aws:SourceIp",
        json!("10.0.0.0/8"),
        &empty
    ));
    for (op, v) in [
        ("NumericEquals", json!(1)),
        ("NumericLessThan", json!(1)),
        ("DateGreaterThan", json!("2020-01-01")),
        ("Bool", json!(false)),
        ("BinaryEquals", json!("QmluYXJ5")),
        ("IpAddress", json!("0.0.0.0/0")),
    ] {
        assert!(!holds(op, "x", v.clone(), &empty), "{op}");
        assert!(
            holds(&format!("{op}IfExists"), "x", v, &empty),
            "{op}IfExists"
        );
    }
    // IfExists with the key present is the plain operator.
    let c = ctx(&[("k", "v")]);
    assert!(holds("StringEqualsIfExists", "k", json!("v"), &c));
    assert!(!holds("StringEqualsIfExists", "k", json!("w"), &c));
    assert!(!holds("StringNotEqualsIfExists", "k", json!("v"), &c));
    // A key with no values is absent.
    let mut none = Context::new();
    none.set("k", vec![]);
    assert!(!holds("StringLike", "k", json!("*"), &none));
}

#[test]
fn numeric_operators() {
    let c = ctx(&[("n", "10")]);
    let t = |op: &str, v: Value| holds(op, "n", v, &c);
    assert!(t("NumericEquals", json!(10)));
    assert!(t("NumericEquals", json!("10.0")));
    assert!(!t("NumericEquals", json!(11)));
    assert!(t("NumericNotEquals", json!(11)));
    assert!(!t("NumericNotEquals", json!([9, 10])));
    assert!(t("NumericLessThan", json!(11)));
    assert!(!t("NumericLessThan", json!(10)));
    assert!(t("NumericLessThanEquals", json!(10)));
    assert!(!t("NumericLessThanEquals", json!(9.5)));
    assert!(t("NumericGreaterThan", json!(9)));
    assert!(!t("NumericGreaterThan", json!(10)));
    assert!(t("NumericGreaterThanEquals", json!(10)));
    assert!(!t("NumericGreaterThanEquals", json!(10.5)));
    assert!(t("NumericLessThan", json!([1, 20])), "values OR");
    // A request value that is not a number matches nothing.
    assert!(!holds(
        "NumericEquals",
        "n",
        json!(1),
        &ctx(&[("n", "one")])
    ));
    assert!(holds(
        "NumericNotEquals",
        "n",
        json!(1),
        &ctx(&[("n", "one")])
    ));
}

#[test]
fn date_operators() {
    let c = ctx(&[
        ("aws:CurrentTime", "2024-06-01T12:00:00Z"),
        ("aws:EpochTime", "1717243200"),
    ]);
    let t = |op: &str, v: Value| holds(op, "aws:CurrentTime", v, &c);
    assert!(t("DateEquals", json!("2024-06-01T12:00:00Z")));
    assert!(t("DateEquals", json!("2024-06-01T14:00:00+02:00")));
    assert!(t("DateEquals", json!(1_717_243_200)));
    assert!(!t("DateEquals", json!("2024-06-01")));
    assert!(t("DateNotEquals", json!("2024-06-01")));
    assert!(t("DateLessThan", json!("2024-06-02")));
    assert!(!t("DateLessThan", json!("2024-06-01T12:00:00Z")));
    assert!(t("DateLessThanEquals", json!("2024-06-01T12:00:00Z")));
    assert!(t("DateGreaterThan", json!("2024-06-01")));
    assert!(!t("DateGreaterThan", json!("2024-06-01T12:00:01Z")));
    assert!(t(
        "DateGreaterThanEquals",
        json!("2024-06-01T12:00:00.000Z")
    ));
    // Epoch seconds in the request.
    assert!(holds(
        "DateGreaterThan",
        "aws:EpochTime",
        json!("2024-01-01T00:00:00Z"),
        &c
    ));
    assert!(!holds(
        "DateGreaterThan",
        "aws:EpochTime",
        json!("2025-01-01T00:00:00Z"),
        &c
    ));
}

#[test]
fn bool_binary_ip() {
    let c = ctx(&[
        ("aws:SecureTransport", "true"),
        ("aws:MultiFactorAuthPresent", "FALSE"),
        ("b", "QmluYXJ5"),
        ("aws:SourceIp", "203.0.113.10"),
        ("v6", "2001:db8::1"),
    ]);
    assert!(holds("Bool", "aws:SecureTransport", json!(true), &c));
    assert!(holds("Bool", "aws:SecureTransport", json!("True"), &c));
    assert!(!holds("Bool", "aws:SecureTransport", json!("false"), &c));
    assert!(holds(
        "Bool",
        "aws:MultiFactorAuthPresent",
        json!(false),
        &c
    ));
    assert!(holds("BinaryEquals", "b", json!("QmluYXJ5"), &c));
    assert!(!holds("BinaryEquals", "b", json!("QmluYXJ6"), &c));
    assert!(holds(
        "IpAddress",
        "aws:SourceIp",
        json!("203.0.113.0/24"),
        &c
    ));
    assert!(holds(
        "IpAddress",
        "aws:SourceIp",
        json!(["10.0.0.0/8", "203.0.113.10"]),
        &c
    ));
    assert!(!holds(
        "IpAddress",
        "aws:SourceIp",
        json!("203.0.114.0/24"),
        &c
    ));
    assert!(holds(
        "NotIpAddress",
        "aws:SourceIp",
        json!("10.0.0.0/8"),
        &c
    ));
    assert!(!holds(
        "NotIpAddress",
        "aws:SourceIp",
        json!(["10.0.0.0/8", "203.0.113.0/24"]),
        &c
    ));
    assert!(holds("IpAddress", "v6", json!("2001:db8::/32"), &c));
    assert!(!holds("IpAddress", "v6", json!("203.0.113.0/24"), &c));
    assert!(!holds(
        "IpAddress",
        "aws:SourceIp",
        json!("0.0.0.0/0"),
        &ctx(&[("aws:SourceIp", "not-an-ip")])
    ));
}

#[test]
fn arn_operators() {
    let role = "arn:aws:iam::111122223333:role/ops/Admin";
    let c = ctx(&[("aws:SourceArn", role)]);
    let t = |op: &str, v: Value| holds(op, "aws:SourceArn", v, &c);
    assert!(t("ArnEquals", json!(role)));
    assert!(t("ArnLike", json!("arn:aws:iam::*:role/*")));
    assert!(t("ArnLike", json!("arn:aws:iam::111122223333:role/ops/*")));
    assert!(t(
        "ArnEquals",
        json!("arn:*:iam::111122223333:role/ops/Admin")
    ));
    assert!(!t("ArnLike", json!("arn:aws:iam::444455556666:role/*")));
    // Component-wise: a wildcard does not cross a colon of the first five components.
    assert!(!t("ArnLike", json!("arn:aws:*:role/ops/Admin")));
    assert!(
        !t("ArnLike", json!("arn:aws:iam:*")),
        "fewer than six components: never matches"
    );
    assert!(t("ArnLike", json!("*")));
    assert!(t("ArnNotLike", json!("arn:aws:iam::*:user/*")));
    assert!(!t(
        "ArnNotLike",
        json!(["arn:aws:iam::*:user/*", "arn:aws:iam::*:role/*"])
    ));
    assert!(t(
        "ArnNotEquals",
        json!("arn:aws:iam::111122223333:role/Other")
    ));
    // The resource part keeps its colons.
    let c2 = ctx(&[("a", "arn:aws:logs:us-east-1:111122223333:log-group:/x:*")]);
    assert!(holds(
        "ArnLike",
        "a",
        json!("arn:aws:logs:*:111122223333:log-group:*"),
        &c2
    ));
    // Not an ARN in the request: no match.
    assert!(!holds(
        "ArnLike",
        "a",
        json!("arn:*:*:*:*:*"),
        &ctx(&[("a", "nope")])
    ));
}

#[test]
fn null_operator() {
    let c = ctx(&[("present", "x")]);
    assert!(holds("Null", "absent", json!("true"), &c));
    assert!(!holds("Null", "present", json!(true), &c));
    assert!(holds("Null", "present", json!("false"), &c));
    assert!(!holds("Null", "absent", json!(false), &c));
    assert!(holds("Null", "absent", json!([true, false]), &c));
    assert!(Policy::parse(
        &json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"ForAnyValue:Null": {"k": "true"}}}}).to_string(),
        PolicyKind::Identity
    )
    .is_err());
}

#[test]
fn set_qualifiers() {
    let mut c = Context::new();
    c.set(
        "kms:EncryptionContextKeys",
        vec!["Dept".into(), "Project".into()],
    );
    let k = "kms:EncryptionContextKeys";
    let empty = Context::new();

    // ForAnyValue: some request value satisfies; absent key is false.
    assert!(holds("ForAnyValue:StringEquals", k, json!(["Dept"]), &c));
    assert!(!holds("ForAnyValue:StringEquals", k, json!(["Owner"]), &c));
    assert!(!holds(
        "ForAnyValue:StringEquals",
        k,
        json!(["Dept"]),
        &empty
    ));
    assert!(holds(
        "ForAnyValue:StringEqualsIfExists",
        k,
        json!(["Dept"]),
        &empty
    ));
    assert!(holds("ForAnyValue:StringLike", k, json!("Pro*"), &c));
    // ForAnyValue with a negated operator: some request value matches none.
    assert!(holds("ForAnyValue:StringNotEquals", k, json!("Dept"), &c));
    assert!(!holds(
        "ForAnyValue:StringNotEquals",
        k,
        json!(["Dept", "Project"]),
        &c
    ));
    assert!(!holds(
        "ForAnyValue:StringNotEquals",
        k,
        json!("Dept"),
        &empty
    ));

    // ForAllValues: every request value satisfies; absent key is true.
    assert!(holds(
        "ForAllValues:StringEquals",
        k,
        json!(["Dept", "Project", "Owner"]),
        &c
    ));
    assert!(!holds("ForAllValues:StringEquals", k, json!(["Dept"]), &c));
    assert!(holds(
        "ForAllValues:StringEquals",
        k,
        json!(["Dept"]),
        &empty
    ));
    assert!(holds("ForAllValues:StringLike", k, json!(["D*", "P*"]), &c));
    // ForAllValues with a negated operator: no request value matches any policy value.
    assert!(holds(
        "ForAllValues:StringNotEquals",
        k,
        json!(["Owner"]),
        &c
    ));
    assert!(!holds(
        "ForAllValues:StringNotEquals",
        k,
        json!(["Dept"]),
        &c
    ));
    assert!(holds(
        "ForAllValues:StringNotEquals",
        k,
        json!(["Dept"]),
        &empty
    ));

    // No qualifier with a multi-valued key: any value for positive operators,
    // none for negated ones.
    assert!(holds("StringEquals", k, json!("Project"), &c));
    assert!(!holds("StringNotEquals", k, json!("Project"), &c));
    assert!(holds("StringNotEquals", k, json!("Owner"), &c));

    // Qualifiers combine with the other operator families too.
    let mut n = Context::new();
    n.set("n", vec!["1".into(), "5".into()]);
    assert!(holds("ForAllValues:NumericLessThan", "n", json!(6), &n));
    assert!(!holds("ForAllValues:NumericLessThan", "n", json!(5), &n));
    assert!(holds("ForAnyValue:NumericLessThan", "n", json!(5), &n));
    // Qualifier names ignore case.
    assert!(holds(
        "forallvalues:stringequals",
        k,
        json!(["Dept", "Project"]),
        &c
    ));
}

#[test]
fn block_logic() {
    let who = alice();
    let c = ctx(&[("a", "1"), ("b", "2"), ("c", "3")]);
    let r = |cond: Value| {
        policy(cond)
            .evaluate(&Request {
                principal: &who,
                action: "kms:Encrypt",
                resource: KEY,
                context: &c,
            })
            .is_allowed()
    };
    // Keys under one operator AND.
    assert!(r(json!({"StringEquals": {"a": "1", "b": "2"}})));
    assert!(!r(json!({"StringEquals": {"a": "1", "b": "x"}})));
    // Operators AND.
    assert!(r(
        json!({"StringEquals": {"a": "1"}, "NumericGreaterThan": {"c": 2}})
    ));
    assert!(!r(
        json!({"StringEquals": {"a": "1"}, "NumericGreaterThan": {"c": 3}})
    ));
    // Empty Condition block: unconditional.
    assert!(r(json!({})));
}

#[test]
fn variables_in_conditions() {
    let who = alice();
    let mut c = ctx(&[
        ("aws:PrincipalTag/Team", "blue"),
        ("s3:prefix", "home/alice/docs"),
        ("owner", "alice"),
        ("aws:ResourceTag/Team", "blue"),
        ("t", "a*b"),
    ]);
    c.insert("multi", "x").insert("multi", "y");
    let r = |cond: Value| {
        policy(cond)
            .evaluate(&Request {
                principal: &who,
                action: "kms:Encrypt",
                resource: KEY,
                context: &c,
            })
            .is_allowed()
    };
    assert!(r(json!({"StringEquals": {"owner": "${aws:username}"}})));
    assert!(r(
        json!({"StringEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}})
    ));
    assert!(r(
        json!({"StringLike": {"s3:prefix": "home/${aws:username}/*"}})
    ));
    assert!(!r(
        json!({"StringLike": {"s3:prefix": "home/${aws:userid}/*"}})
    ));
    assert!(r(
        json!({"StringEquals": {"owner": "${aws:PrincipalTag/Missing, 'alice'}"}})
    ));
    assert!(r(
        json!({"StringEqualsIgnoreCase": {"owner": "${aws:UserName}"}})
    ));
    assert!(r(
        json!({"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}})
    ));
    assert!(r(
        json!({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:user/${aws:username}"}})
    ));
    // Unresolved: the value does not match (and a negated operator holds).
    assert!(!r(
        json!({"StringEquals": {"owner": "${aws:PrincipalTag/Missing}"}})
    ));
    assert!(r(
        json!({"StringNotEquals": {"owner": "${aws:PrincipalTag/Missing}"}})
    ));
    assert!(
        !r(json!({"StringLike": {"owner": "${multi}"}})),
        "a multi-valued key is not a variable value"
    );
    // Specials match literal characters, and a StringLike `*` next to them still works.
    assert!(r(json!({"StringLike": {"t": "a${*}b"}})));
    assert!(r(json!({"StringEquals": {"t": "a${*}b"}})));
    assert!(!r(json!({"StringLike": {"t": "a${?}b"}})));
    // Version 2008: variables are text.
    let old = Policy::parse(
        &json!({"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Condition": {"StringEquals": {"owner": "${aws:username}"}}}}).to_string(),
        PolicyKind::Identity,
    )
    .unwrap();
    assert!(
        !old.evaluate(&Request {
            principal: &who,
            action: "kms:Encrypt",
            resource: KEY,
            context: &c
        })
        .is_allowed()
    );
}
