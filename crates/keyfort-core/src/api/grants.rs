//! Typed grant operations: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant,
//! RevokeGrant, with botocore's limits.

use super::wire::Req;
use super::{EncryptionContext, ListPage, context, enum_error, key_ref};
use crate::arn::KeyRef;
use crate::error::KmsError;
use crate::grant::{GRANT_OPERATIONS, GrantConstraints};

/// CreateGrant.
#[derive(Debug)]
pub struct CreateGrant {
    /// The key (its ARN for a key of another account).
    pub key: KeyRef,
    /// Who the grant is for.
    pub grantee: String,
    /// Who may retire it.
    pub retiring: Option<String>,
    /// The operations it allows (AWS names, deduplicated, in the request's order).
    pub operations: Vec<String>,
    /// Its encryption context constraints.
    pub constraints: Option<GrantConstraints>,
    /// Its name (idempotency).
    pub name: Option<String>,
    /// DryRun.
    pub dry_run: bool,
}

/// ListGrants.
#[derive(Debug)]
pub struct ListGrants {
    /// The key.
    pub key: KeyRef,
    /// Only this grant.
    pub grant_id: Option<String>,
    /// Only grants for this grantee.
    pub grantee: Option<String>,
    /// Page (limit 1..100, default 50).
    pub page: ListPage,
}

/// ListRetirableGrants.
#[derive(Debug)]
pub struct ListRetirableGrants {
    /// The retiring principal.
    pub retiring: String,
    /// Page (limit 1..100, default 50).
    pub page: ListPage,
}

/// Which grant RetireGrant retires.
#[derive(Debug)]
pub enum GrantRef {
    /// By its grant token (which names its key and id). `Debug` hides the token.
    Token(GrantToken),
    /// By key and grant id.
    Id {
        /// The key.
        key: KeyRef,
        /// The grant id.
        grant_id: String,
    },
}

/// A grant token as the request carried it.
pub struct GrantToken(pub String);

impl std::fmt::Debug for GrantToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GrantToken({} chars)", self.0.len())
    }
}

/// RetireGrant.
#[derive(Debug)]
pub struct RetireGrant {
    /// The grant.
    pub grant: GrantRef,
    /// DryRun.
    pub dry_run: bool,
}

/// RevokeGrant.
#[derive(Debug)]
pub struct RevokeGrant {
    /// The key.
    pub key: KeyRef,
    /// The grant id.
    pub grant_id: String,
    /// DryRun.
    pub dry_run: bool,
}

fn principal(v: Option<String>, field: &str) -> Result<String, KmsError> {
    let p = v.ok_or_else(|| KmsError::missing(field))?;
    if p.is_empty() || p.chars().count() > 256 {
        return Err(KmsError::field(
            field,
            "Member must have length between 1 and 256",
        ));
    }
    if !p.chars().all(|c| {
        c.is_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | ':' | '/' | '-')
    }) {
        return Err(KmsError::field(
            field,
            "Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$",
        ));
    }
    Ok(p)
}

fn grant_id(v: Option<String>, field: &str) -> Result<String, KmsError> {
    let id = v.ok_or_else(|| KmsError::missing(field))?;
    if id.is_empty() || id.len() > 128 {
        return Err(KmsError::field(
            field,
            "Member must have length between 1 and 128",
        ));
    }
    Ok(id)
}

/// ListGrants' and ListRetirableGrants' `Limit` (1..=100, default 50) and `Marker`.
fn grant_page(limit: Option<i64>, marker: Option<String>) -> Result<ListPage, KmsError> {
    super::page_within(limit, marker, 50, 100)
}

fn constraint_context(
    v: Option<EncryptionContext>,
    field: &str,
) -> Result<Option<EncryptionContext>, KmsError> {
    v.map(|c| context(Some(c), field)).transpose()
}

pub(super) fn create_grant(r: Req) -> Result<CreateGrant, KmsError> {
    let key = key_ref(r.key_id, "keyId")?;
    let grantee = principal(r.grantee_principal, "granteePrincipal")?;
    let retiring = r
        .retiring_principal
        .map(|p| principal(Some(p), "retiringPrincipal"))
        .transpose()?;
    let mut operations: Vec<String> = Vec::new();
    for op in r
        .operations
        .ok_or_else(|| KmsError::missing("operations"))?
    {
        if !GRANT_OPERATIONS.contains(&op.as_str()) {
            return Err(enum_error("operations", &op, GRANT_OPERATIONS));
        }
        if !operations.contains(&op) {
            operations.push(op);
        }
    }
    if operations.is_empty() {
        return Err(KmsError::Validation(
            "A grant must allow at least one operation.".into(),
        ));
    }
    let constraints = match r.constraints {
        None => None,
        Some(c) => {
            let c = GrantConstraints {
                encryption_context_subset: constraint_context(
                    c.encryption_context_subset,
                    "constraints.encryptionContextSubset",
                )?,
                encryption_context_equals: constraint_context(
                    c.encryption_context_equals,
                    "constraints.encryptionContextEquals",
                )?,
            };
            (c != GrantConstraints::default()).then_some(c)
        }
    };
    let name = match r.name {
        None => None,
        Some(n) => {
            if n.is_empty() || n.len() > 256 {
                return Err(KmsError::field(
                    "name",
                    "Member must have length between 1 and 256",
                ));
            }
            if !n
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b':' | b'/' | b'_' | b'-'))
            {
                return Err(KmsError::field(
                    "name",
                    "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$",
                ));
            }
            Some(n)
        }
    };
    Ok(CreateGrant {
        key,
        grantee,
        retiring,
        operations,
        constraints,
        name,
        dry_run: r.dry_run.unwrap_or(false),
    })
}

pub(super) fn list_grants(r: Req) -> Result<ListGrants, KmsError> {
    Ok(ListGrants {
        key: key_ref(r.key_id, "keyId")?,
        grant_id: r
            .grant_id
            .map(|g| grant_id(Some(g), "grantId"))
            .transpose()?,
        grantee: r
            .grantee_principal
            .map(|p| principal(Some(p), "granteePrincipal"))
            .transpose()?,
        page: grant_page(r.limit, r.marker)?,
    })
}

pub(super) fn list_retirable_grants(r: Req) -> Result<ListRetirableGrants, KmsError> {
    Ok(ListRetirableGrants {
        retiring: principal(r.retiring_principal, "retiringPrincipal")?,
        page: grant_page(r.limit, r.marker)?,
    })
}

pub(super) fn retire_grant(r: Req) -> Result<RetireGrant, KmsError> {
    let grant = match (r.grant_token, r.key_id, r.grant_id) {
        (Some(t), _, _) => {
            if t.is_empty() || t.len() > 8192 {
                return Err(KmsError::field(
                    "grantToken",
                    "Member must have length between 1 and 8192",
                ));
            }
            GrantRef::Token(GrantToken(t))
        }
        (None, Some(k), Some(g)) => GrantRef::Id {
            key: KeyRef::parse(&k)?,
            grant_id: grant_id(Some(g), "grantId")?,
        },
        _ => {
            return Err(KmsError::Validation(
                "Specify either GrantToken, or both KeyId and GrantId.".into(),
            ));
        }
    };
    Ok(RetireGrant {
        grant,
        dry_run: r.dry_run.unwrap_or(false),
    })
}

pub(super) fn revoke_grant(r: Req) -> Result<RevokeGrant, KmsError> {
    Ok(RevokeGrant {
        key: key_ref(r.key_id, "keyId")?,
        grant_id: grant_id(r.grant_id, "grantId")?,
        dry_run: r.dry_run.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Operation, parse};

    #[test]
    fn create_grant_limits() {
        let ok = parse(
            "CreateGrant",
            br#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GranteePrincipal":"arn:aws:iam::444455556666:root",
                "Operations":["Decrypt","Decrypt","Encrypt"],"Name":"n-1",
                "Constraints":{"EncryptionContextSubset":{"Dept":"IT"}}}"#,
        )
        .unwrap();
        let Operation::CreateGrant(g) = ok else {
            panic!("not CreateGrant")
        };
        assert_eq!(g.operations, ["Decrypt", "Encrypt"]);
        assert!(g.constraints.is_some());
        for (body, code) in [
            (
                r#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","Operations":["Decrypt"]}"#,
                "ValidationException",
            ),
            (
                r#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GranteePrincipal":"a b","Operations":["Decrypt"]}"#,
                "ValidationException",
            ),
            (
                r#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GranteePrincipal":"p","Operations":["Fly"]}"#,
                "ValidationException",
            ),
            (
                r#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GranteePrincipal":"p","Operations":[]}"#,
                "ValidationException",
            ),
            (
                r#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GranteePrincipal":"p","Operations":["Decrypt"],"Name":"a b"}"#,
                "ValidationException",
            ),
        ] {
            assert_eq!(
                parse("CreateGrant", body.as_bytes()).unwrap_err().code(),
                code,
                "{body}"
            );
        }
    }

    #[test]
    fn retire_grant_needs_a_token_or_key_and_id() {
        assert!(parse("RetireGrant", br#"{"GrantToken":"t"}"#).is_ok());
        assert!(
            parse(
                "RetireGrant",
                br#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GrantId":"g"}"#
            )
            .is_ok()
        );
        assert_eq!(
            parse(
                "RetireGrant",
                br#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}"#
            )
            .unwrap_err()
            .code(),
            "ValidationException"
        );
        let op = parse("RetireGrant", br#"{"GrantToken":"secret-token"}"#).unwrap();
        assert!(!format!("{op:?}").contains("secret-token"));
    }

    #[test]
    fn audit_parameters_keep_grant_tokens_out() {
        let retire = parse("RetireGrant", br#"{"GrantToken":"secret-token"}"#).unwrap();
        assert_eq!(retire.audit_parameters(), serde_json::Value::Null);
        let by_id = parse(
            "RetireGrant",
            br#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GrantId":"g1"}"#,
        )
        .unwrap();
        assert_eq!(by_id.audit_parameters(), serde_json::Value::Null);
        let create = parse(
            "CreateGrant",
            br#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GranteePrincipal":"arn:aws:iam::444455556666:root",
                "Operations":["Decrypt"],"GrantTokens":["secret-token"],
                "Constraints":{"EncryptionContextEquals":{"Dept":"IT"}},"Name":"n"}"#,
        )
        .unwrap();
        let p = create.audit_parameters();
        assert_eq!(p["granteePrincipal"], "arn:aws:iam::444455556666:root");
        assert_eq!(p["operations"][0], "Decrypt");
        assert_eq!(p["constraints"]["encryptionContextEquals"]["Dept"], "IT");
        assert!(!p.to_string().contains("secret-token"));
        let encrypt = parse(
            "Encrypt",
            br#"{"KeyId":"alias/a","Plaintext":"AAAA","GrantTokens":["secret-token"]}"#,
        )
        .unwrap();
        assert!(
            !encrypt
                .audit_parameters()
                .to_string()
                .contains("secret-token")
        );
        let revoke = parse(
            "RevokeGrant",
            br#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","GrantId":"g1"}"#,
        )
        .unwrap();
        assert_eq!(revoke.audit_parameters()["grantId"], "g1");
    }

    #[test]
    fn grant_list_limits() {
        assert!(
            parse(
                "ListGrants",
                br#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","Limit":100}"#
            )
            .is_ok()
        );
        assert_eq!(
            parse(
                "ListGrants",
                br#"{"KeyId":"1234abcd-12ab-34cd-56ef-1234567890ab","Limit":101}"#
            )
            .unwrap_err()
            .code(),
            "ValidationException"
        );
        assert_eq!(
            parse("ListRetirableGrants", b"{}").unwrap_err().code(),
            "ValidationException"
        );
    }
}
