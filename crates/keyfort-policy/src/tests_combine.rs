//! The combination rules: a table of KMS cases, AssumeRole and IAM-only checks.

use serde_json::{Value, json};

use crate::*;

const ACCT: &str = "111122223333";
const OTHER: &str = "444455556666";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";

fn doc(kind: PolicyKind, statements: Value) -> Policy {
    let d = json!({"Version": "2012-10-17", "Statement": statements});
    match Policy::parse(&d.to_string(), kind) {
        Ok(p) => p,
        Err(e) => panic!("{d}: {e}"),
    }
}

fn key_policy(principals: Value, action: &str) -> Policy {
    doc(
        PolicyKind::Resource,
        json!([{"Effect": "Allow", "Principal": {"AWS": principals}, "Action": action, "Resource": "*"}]),
    )
}

fn identity(effect: &str, action: &str) -> Policy {
    doc(
        PolicyKind::Identity,
        json!({"Effect": effect, "Action": action, "Resource": "*"}),
    )
}

fn session(effect: &str, action: &str) -> Policy {
    doc(
        PolicyKind::Session,
        json!({"Effect": effect, "Action": action, "Resource": "*"}),
    )
}

struct Fixtures {
    kp_account: Policy,
    kp_alice: Policy,
    kp_cross_account: Policy,
    kp_bob: Policy,
    kp_deny_alice: Policy,
    kp_role: Policy,
    kp_session: Policy,
    kp_other_session: Policy,
    kp_nobody: Policy,
    kp_service: Policy,
    id_allow: Policy,
    id_deny: Policy,
    id_decrypt: Policy,
    sp_allow: Policy,
    sp_decrypt: Policy,
    sp_deny: Policy,
}

fn fixtures() -> Fixtures {
    Fixtures {
        kp_account: key_policy(json!("arn:aws:iam::111122223333:root"), "kms:*"),
        kp_alice: key_policy(json!("arn:aws:iam::111122223333:user/alice"), "kms:Encrypt"),
        kp_cross_account: key_policy(json!([ACCT, OTHER]), "kms:Encrypt"),
        kp_bob: key_policy(json!("arn:aws:iam::444455556666:user/bob"), "kms:Encrypt"),
        kp_deny_alice: doc(
            PolicyKind::Resource,
            json!([
                {"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "kms:*", "Resource": "*"},
                {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "kms:Encrypt", "Resource": "*"}
            ]),
        ),
        kp_role: key_policy(json!("arn:aws:iam::111122223333:role/Admin"), "kms:Encrypt"),
        kp_session: key_policy(
            json!("arn:aws:sts::111122223333:assumed-role/Admin/s1"),
            "kms:Encrypt",
        ),
        kp_other_session: key_policy(
            json!("arn:aws:sts::444455556666:assumed-role/Ops/s9"),
            "kms:Encrypt",
        ),
        kp_nobody: key_policy(json!("arn:aws:iam::111122223333:user/carol"), "kms:Encrypt"),
        kp_service: doc(
            PolicyKind::Resource,
            json!({"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Encrypt*", "Resource": "*"}),
        ),
        id_allow: identity("Allow", "kms:Encrypt"),
        id_deny: identity("Deny", "kms:Encrypt"),
        id_decrypt: identity("Allow", "kms:Decrypt"),
        sp_allow: session("Allow", "kms:Encrypt"),
        sp_decrypt: session("Allow", "kms:Decrypt"),
        sp_deny: session("Deny", "kms:*"),
    }
}

/// name, caller, key policy, identity policies, session policy, grant, expected.
type Case<'a> = (
    &'a str,
    &'a Principal,
    &'a Policy,
    Vec<&'a Policy>,
    Option<&'a Policy>,
    bool,
    Decision,
);

#[test]
fn kms_table() {
    let f = fixtures();
    let alice = Principal::user(ACCT, "alice", "AIDAALICE");
    let bob = Principal::user(OTHER, "bob", "AIDABOB");
    let root = Principal::root(ACCT);
    let other_root = Principal::root(OTHER);
    let s1 = Principal::assumed_role(ACCT, "Admin", "s1", "AROAADMIN");
    let s9 = Principal::assumed_role(OTHER, "Ops", "s9", "AROAOPS");
    let logs = Principal::service("logs.amazonaws.com");
    let anon = Principal::anonymous();
    use Decision::{Allow, ExplicitDeny, ImplicitDeny};
    use PolicyKind::{Identity, Resource, Session};

    #[rustfmt::skip]
    let cases: Vec<Case<'_>> = vec![
        ("same account, key policy names the user", &alice, &f.kp_alice, vec![], None, false, Allow),
        ("same account, via account + identity", &alice, &f.kp_account, vec![&f.id_allow], None, false, Allow),
        ("same account, via account, no identity policy", &alice, &f.kp_account, vec![], None, false, ImplicitDeny(Identity)),
        ("same account, via account, identity allows another action", &alice, &f.kp_account, vec![&f.id_decrypt], None, false, ImplicitDeny(Identity)),
        ("same account, identity only (key policy allows someone else)", &alice, &f.kp_nobody, vec![&f.id_allow], None, false, ImplicitDeny(Resource)),
        ("root, via account: identity side implicit", &root, &f.kp_account, vec![], None, false, Allow),
        ("root, key policy does not allow the account: locked out", &root, &f.kp_alice, vec![], None, false, ImplicitDeny(Resource)),
        ("cross account, both allow", &bob, &f.kp_cross_account, vec![&f.id_allow], None, false, Allow),
        ("cross account, key policy only (account)", &bob, &f.kp_cross_account, vec![], None, false, ImplicitDeny(Identity)),
        ("cross account, key policy only (user)", &bob, &f.kp_bob, vec![], None, false, ImplicitDeny(Identity)),
        ("cross account, key policy names user + identity", &bob, &f.kp_bob, vec![&f.id_allow], None, false, Allow),
        ("cross account, identity only", &bob, &f.kp_account, vec![&f.id_allow], None, false, ImplicitDeny(Resource)),
        ("cross account root, key policy allows its account", &other_root, &f.kp_cross_account, vec![], None, false, Allow),
        ("cross account root, key policy does not", &other_root, &f.kp_account, vec![], None, false, ImplicitDeny(Resource)),
        ("cross account session named directly, no identity", &s9, &f.kp_other_session, vec![], None, false, ImplicitDeny(Identity)),
        ("cross account session named directly + identity", &s9, &f.kp_other_session, vec![&f.id_allow], None, false, Allow),
        ("cross account session + identity, session policy limits", &s9, &f.kp_other_session, vec![&f.id_allow], Some(&f.sp_decrypt), false, ImplicitDeny(Session)),
        ("explicit deny in the key policy", &alice, &f.kp_deny_alice, vec![&f.id_allow], None, false, ExplicitDeny(Resource)),
        ("explicit deny in an identity policy", &alice, &f.kp_alice, vec![&f.id_allow, &f.id_deny], None, false, ExplicitDeny(Identity)),
        ("explicit deny in the session policy", &s1, &f.kp_account, vec![&f.id_allow], Some(&f.sp_deny), false, ExplicitDeny(Session)),
        ("explicit deny in the session policy beats a session ARN grant", &s1, &f.kp_session, vec![], Some(&f.sp_deny), false, ExplicitDeny(Session)),
        ("grant alone", &alice, &f.kp_nobody, vec![], None, true, Allow),
        ("grant, cross account", &bob, &f.kp_account, vec![], None, true, Allow),
        ("grant does not beat an explicit deny", &alice, &f.kp_deny_alice, vec![], None, true, ExplicitDeny(Resource)),
        ("grant does not beat an identity deny", &alice, &f.kp_nobody, vec![&f.id_deny], None, true, ExplicitDeny(Identity)),
        ("session via account + identity, no session policy", &s1, &f.kp_account, vec![&f.id_allow], None, false, Allow),
        ("session via account + identity within the session policy", &s1, &f.kp_account, vec![&f.id_allow], Some(&f.sp_allow), false, Allow),
        ("session via account + identity outside the session policy", &s1, &f.kp_account, vec![&f.id_allow], Some(&f.sp_decrypt), false, ImplicitDeny(Session)),
        ("session, key policy names the role", &s1, &f.kp_role, vec![], None, false, Allow),
        ("session, key policy names the role, within the session policy", &s1, &f.kp_role, vec![], Some(&f.sp_allow), false, Allow),
        ("session, key policy names the role, outside the session policy", &s1, &f.kp_role, vec![], Some(&f.sp_decrypt), false, ImplicitDeny(Session)),
        ("session, key policy names the session: not limited", &s1, &f.kp_session, vec![], Some(&f.sp_decrypt), false, Allow),
        ("service principal named", &logs, &f.kp_service, vec![], None, false, Allow),
        ("service principal, account-only key policy", &logs, &f.kp_account, vec![], None, false, ImplicitDeny(Resource)),
        ("anonymous", &anon, &f.kp_account, vec![], None, false, ImplicitDeny(Resource)),
        ("no key policy at all", &alice, &f.kp_nobody, vec![], None, false, ImplicitDeny(Resource)),
    ];
    for (name, who, kp, ids, sp, grant, want) in cases {
        let ctx = Context::new();
        let input = AuthzInput {
            request: Request {
                principal: who,
                action: "kms:Encrypt",
                resource: KEY,
                context: &ctx,
            },
            resource_account: ACCT,
            resource_policy: Some(kp),
            identity_policies: &ids,
            session_policy: sp,
            grant_allows: grant,
        };
        assert_eq!(authorize(&input), want, "{name}");
    }
    // Without any key policy only a grant allows.
    let ctx = Context::new();
    let ids = [&f.id_allow];
    let mut input = AuthzInput {
        request: Request {
            principal: &alice,
            action: "kms:Encrypt",
            resource: KEY,
            context: &ctx,
        },
        resource_account: ACCT,
        resource_policy: None,
        identity_policies: &ids,
        session_policy: None,
        grant_allows: false,
    };
    assert_eq!(authorize(&input), ImplicitDeny(Resource));
    input.grant_allows = true;
    assert!(authorize(&input).is_allowed());
    assert!(!ImplicitDeny(Resource).is_explicit_deny());
    assert!(ExplicitDeny(Resource).is_explicit_deny());
}

#[test]
fn denial_reasons_read_like_aws() {
    use PolicyKind::{Identity, Resource, Session, Trust};
    let r = |d: Decision| d.denial_reason("kms:Encrypt");
    assert_eq!(r(Decision::Allow), None);
    assert_eq!(
        r(Decision::ExplicitDeny(Resource)).as_deref(),
        Some("with an explicit deny in a resource-based policy")
    );
    assert_eq!(
        r(Decision::ExplicitDeny(Trust)).as_deref(),
        Some("with an explicit deny in a resource-based policy")
    );
    assert_eq!(
        r(Decision::ExplicitDeny(Identity)).as_deref(),
        Some("with an explicit deny in an identity-based policy")
    );
    assert_eq!(
        r(Decision::ExplicitDeny(Session)).as_deref(),
        Some("with an explicit deny in a session policy")
    );
    assert_eq!(
        r(Decision::ImplicitDeny(Resource)).as_deref(),
        Some("because no resource-based policy allows the kms:Encrypt action")
    );
    assert_eq!(
        r(Decision::ImplicitDeny(Identity)).as_deref(),
        Some("because no identity-based policy allows the kms:Encrypt action")
    );
    assert_eq!(
        r(Decision::ImplicitDeny(Session)).as_deref(),
        Some("because no session policy allows the kms:Encrypt action")
    );
}

#[test]
fn conditions_in_the_key_policy() {
    // Deny unless the encryption context names the caller's department.
    let kp = doc(
        PolicyKind::Resource,
        json!([
            {"Effect": "Allow", "Principal": {"AWS": ACCT}, "Action": "kms:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*",
             "Condition": {"StringNotEquals": {"kms:EncryptionContext:Dept": "${aws:PrincipalTag/Dept}"}}}
        ]),
    );
    let id = identity("Allow", "kms:*");
    let alice = Principal::user(ACCT, "alice", "AIDAALICE");
    let run = |ctx: &Context| {
        authorize(&AuthzInput {
            request: Request {
                principal: &alice,
                action: "kms:Encrypt",
                resource: KEY,
                context: ctx,
            },
            resource_account: ACCT,
            resource_policy: Some(&kp),
            identity_policies: &[&id],
            session_policy: None,
            grant_allows: false,
        })
    };
    let good = Context::new()
        .with("aws:PrincipalTag/Dept", "Sales")
        .with("kms:EncryptionContext:Dept", "Sales");
    assert_eq!(run(&good), Decision::Allow);
    let bad = Context::new()
        .with("aws:PrincipalTag/Dept", "Sales")
        .with("kms:EncryptionContext:Dept", "HR");
    assert_eq!(run(&bad), Decision::ExplicitDeny(PolicyKind::Resource));
    let none = Context::new().with("aws:PrincipalTag/Dept", "Sales");
    assert_eq!(
        run(&none),
        Decision::ExplicitDeny(PolicyKind::Resource),
        "a missing key makes the negated operator true"
    );
}

#[test]
fn assume_role() {
    let role = "arn:aws:iam::111122223333:role/Deploy";
    let trust = |principal: Value| {
        doc(
            PolicyKind::Trust,
            json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}),
        )
    };
    let by_account = trust(json!(ACCT));
    let by_alice = trust(json!("arn:aws:iam::111122223333:user/alice"));
    let by_other = trust(json!(OTHER));
    let id_assume = identity("Allow", "sts:AssumeRole");
    let id_deny = identity("Deny", "sts:AssumeRole");
    let alice = Principal::user(ACCT, "alice", "AIDAALICE");
    let bob = Principal::user(OTHER, "bob", "AIDABOB");
    let root = Principal::root(ACCT);
    let run = |who: &Principal, tp: &Policy, ids: &[&Policy]| {
        let ctx = Context::new();
        authorize_assume_role(&AuthzInput {
            request: Request {
                principal: who,
                action: "sts:AssumeRole",
                resource: role,
                context: &ctx,
            },
            resource_account: ACCT,
            resource_policy: Some(tp),
            identity_policies: ids,
            session_policy: None,
            grant_allows: true, // ignored: there are no grants for roles
        })
    };
    assert_eq!(
        run(&alice, &by_alice, &[]),
        Decision::Allow,
        "named specifically: no identity permission needed"
    );
    assert_eq!(
        run(&alice, &by_account, &[]),
        Decision::ImplicitDeny(PolicyKind::Identity),
        "through the account: identity permission needed"
    );
    assert_eq!(run(&alice, &by_account, &[&id_assume]), Decision::Allow);
    assert_eq!(
        run(&alice, &by_alice, &[&id_deny]),
        Decision::ExplicitDeny(PolicyKind::Identity)
    );
    assert_eq!(
        run(&bob, &by_other, &[]),
        Decision::ImplicitDeny(PolicyKind::Identity),
        "cross account needs both"
    );
    assert_eq!(run(&bob, &by_other, &[&id_assume]), Decision::Allow);
    assert_eq!(
        run(&bob, &by_account, &[&id_assume]),
        Decision::ImplicitDeny(PolicyKind::Trust)
    );
    assert_eq!(
        run(&root, &by_account, &[]),
        Decision::ImplicitDeny(PolicyKind::Identity),
        "root cannot assume roles"
    );
}

#[test]
fn identity_only() {
    let alice = Principal::user(ACCT, "alice", "AIDAALICE");
    let s1 = Principal::assumed_role(ACCT, "Admin", "s1", "AROAADMIN");
    let root = Principal::root(ACCT);
    let allow = identity("Allow", "iam:*");
    let deny = identity("Deny", "iam:DeleteUser");
    let sp = session("Allow", "iam:Get*");
    let ctx = Context::new();
    let r = |who: &Principal, action: &str, ids: &[&Policy], sp: Option<&Policy>| {
        authorize_identity(
            &Request {
                principal: who,
                action,
                resource: "arn:aws:iam::111122223333:user/x",
                context: &ctx,
            },
            ids,
            sp,
        )
    };
    assert_eq!(r(&root, "iam:CreateUser", &[], None), Decision::Allow);
    assert_eq!(
        r(&alice, "iam:CreateUser", &[], None),
        Decision::ImplicitDeny(PolicyKind::Identity)
    );
    assert_eq!(
        r(&alice, "iam:CreateUser", &[&allow], None),
        Decision::Allow
    );
    assert_eq!(
        r(&alice, "iam:DeleteUser", &[&allow, &deny], None),
        Decision::ExplicitDeny(PolicyKind::Identity)
    );
    assert_eq!(r(&s1, "iam:GetUser", &[&allow], Some(&sp)), Decision::Allow);
    assert_eq!(
        r(&s1, "iam:CreateUser", &[&allow], Some(&sp)),
        Decision::ImplicitDeny(PolicyKind::Session)
    );
    assert_eq!(
        r(&Principal::anonymous(), "iam:GetUser", &[&allow], None),
        Decision::ImplicitDeny(PolicyKind::Identity)
    );
}
