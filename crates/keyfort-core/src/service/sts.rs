//! STS: AssumeRole's temporary credentials, how a session token is verified, and the
//! principals IAM users' keys and role sessions authenticate as; the authorization of
//! IAM and STS actions.
//!
//! A session token is self-contained: the session (access key id, secret, expiry,
//! role and its unique id, session name, session policy, tags) sealed under the root
//! key with AES-256-GCM, AAD `keyfort:session:v1|<access key id>`. Any node holding
//! the root key verifies it without a lookup or a write; a token can be neither
//! forged nor moved to another access key id. Each request still checks that the
//! role exists with the same unique id (through the identity cache), so deleting a
//! role ends its sessions.

use std::sync::Arc;

use base64::Engine;
use keyfort_crypto::SecretBytes;
use keyfort_policy::{AuthzInput, Context, Policy, PolicyKind};
use serde::{Deserialize, Serialize};

use super::{Credential, Kms, Principal, PrincipalKind};
use crate::error::KmsError;
use crate::iam::{IamError, IamKind, Tags, valid_name};
use crate::model::AccountId;

type IamResult<T> = std::result::Result<T, IamError>;

/// Shortest session, in seconds.
pub const MIN_SESSION_SECONDS: u32 = 900;
/// Longest session of a role chained from another role session, in seconds.
pub const CHAINED_SESSION_SECONDS: u32 = 3600;
/// Longest inline session policy, in characters.
pub const MAX_SESSION_POLICY: usize = 2048;
/// Most session tags.
pub const MAX_SESSION_TAGS: usize = 50;

/// AssumeRole's parameters.
#[derive(Debug, Clone, Default)]
pub struct AssumeRoleInput {
    /// RoleArn.
    pub role_arn: String,
    /// RoleSessionName.
    pub session_name: String,
    /// DurationSeconds (default 3600).
    pub duration_seconds: Option<u32>,
    /// Policy: an inline session policy.
    pub policy: Option<String>,
    /// Tags: session tags.
    pub tags: Tags,
}

/// Temporary credentials.
#[derive(Debug)]
pub struct SessionCredentials {
    /// `ASIA...`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret: SecretBytes,
    /// The session token (sealed; see the module docs).
    pub session_token: SecretBytes,
    /// When it expires, milliseconds since the epoch.
    pub expiration_ms: i64,
    /// `{role id}:{session name}`.
    pub assumed_role_id: String,
    /// `arn:aws:sts::{account}:assumed-role/{role}/{session}`.
    pub arn: String,
    /// The session policy's share of its quota, in percent.
    pub packed_policy_size: Option<u32>,
}

/// What the token carries.
#[derive(Serialize, Deserialize)]
struct SessionClaims {
    v: u8,
    akid: String,
    account: String,
    role: String,
    role_id: String,
    session: String,
    secret: String,
    exp_ms: i64,
    iat_ms: i64,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    tags: Tags,
}

impl Drop for SessionClaims {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.secret);
    }
}

/// The result of checking a session token.
#[derive(Debug)]
pub enum SessionAuth {
    /// The token is genuine and current.
    Valid(Arc<Credential>),
    /// Not a token of this deployment for this access key, or its role is gone.
    Invalid,
    /// The token expired.
    Expired,
}

fn session_aad(akid: &str) -> Vec<u8> {
    format!("keyfort:session:v1|{akid}").into_bytes()
}

/// `(account, role name)` of a role ARN.
fn parse_role_arn(role_arn: &str) -> Option<(AccountId, &str)> {
    match crate::iam::split_arn(role_arn)? {
        (account, "role", name) => Some((account, name)),
        _ => None,
    }
}

/// The policy engine's view of a principal.
pub fn policy_principal(p: &Principal) -> keyfort_policy::Principal {
    // One conversion for IAM/STS and KMS decisions alike.
    super::authz::engine_principal(p)
}

fn to_kms(e: IamError) -> KmsError {
    match e {
        IamError::Internal(k) => k,
        _ => KmsError::Internal("identity lookup failed"),
    }
}

impl Kms {
    /// The principal a stored access key authenticates as: the root of its account,
    /// or an IAM user that still exists. `None` for a user that is gone.
    pub(crate) fn key_principal(
        &self,
        account: AccountId,
        access_key_id: String,
        principal_arn: &str,
    ) -> crate::error::Result<Option<Principal>> {
        let Some(path_and_name) = principal_arn.split_once(":user/").map(|(_, r)| r) else {
            return Ok(Some(Principal::root(account, access_key_id)));
        };
        let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
        let Some(user) = self
            .identity(&account, IamKind::User, name)
            .map_err(to_kms)?
        else {
            return Ok(None);
        };
        if format!("arn:aws:iam::{account}:user{}{name}", user.path) != principal_arn {
            return Ok(None);
        }
        Ok(Some(Principal {
            arn: principal_arn.to_owned(),
            user_id: user.id.clone(),
            account,
            access_key_id,
            kind: PrincipalKind::User {
                name: name.to_owned(),
            },
            tags: user.tags.clone(),
            session_policy: None,
            session_issued_ms: None,
        }))
    }

    /// The identity policies of a user or of a role session's role (empty for root
    /// and for an identity that no longer exists).
    pub(crate) fn identity_policies_of(
        &self,
        principal: &Principal,
    ) -> crate::error::Result<Arc<[Arc<Policy>]>> {
        let found = match &principal.kind {
            PrincipalKind::Root => None,
            PrincipalKind::User { name } => self
                .identity(&principal.account, IamKind::User, name)
                .map_err(to_kms)?,
            PrincipalKind::AssumedRole { role_arn, .. } => match parse_role_arn(role_arn) {
                Some((account, name)) => self
                    .identity(&account, IamKind::Role, name)
                    .map_err(to_kms)?,
                None => None,
            },
        };
        Ok(found.map_or_else(|| Arc::from(Vec::new()), |i| Arc::clone(&i.policies)))
    }

    /// Decides an IAM or STS action with the caller's identity policies (and session
    /// policy): the root user always may; users and sessions need an allow.
    /// AccessDenied has AWS's message.
    pub fn authorize_iam(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        context: &Context,
    ) -> IamResult<()> {
        if principal.kind == PrincipalKind::Root {
            return Ok(());
        }
        let policies = self.identity_policies_of(principal)?;
        let refs: Vec<&Policy> = policies.iter().map(Arc::as_ref).collect();
        let who = policy_principal(principal);
        let mut ctx = context.clone();
        for (k, v) in &principal.tags {
            ctx.insert(&format!("aws:PrincipalTag/{k}"), v.clone());
        }
        if let Some(issued) = principal.session_issued_ms {
            ctx.insert(
                "aws:TokenIssueTime",
                keyfort_policy::date::format_iso8601(issued),
            );
        }
        let request = keyfort_policy::Request {
            principal: &who,
            action,
            resource,
            context: &ctx,
        };
        let decision = keyfort_policy::authorize_identity(
            &request,
            &refs,
            principal.session_policy.as_deref(),
        );
        match decision.denial_reason(action) {
            None => Ok(()),
            Some(reason) => Err(IamError::AccessDenied(format!(
                "User: {} is not authorized to perform: {action} on resource: {resource} {reason}",
                principal.arn
            ))),
        }
    }

    /// AssumeRole: the role's trust policy (and, as AWS requires, the caller's
    /// identity policies where the trust policy allows only the caller's account)
    /// must allow `sts:AssumeRole` (and `sts:TagSession` with session tags).
    pub fn sts_assume_role(
        &self,
        caller: &Principal,
        context: &Context,
        input: AssumeRoleInput,
    ) -> IamResult<SessionCredentials> {
        let session = &input.session_name;
        if session.len() < 2 || !valid_name(session, 64) {
            return Err(IamError::Validation(format!(
                "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64"
            )));
        }
        if input.role_arn.len() < 20 || input.role_arn.len() > 2048 {
            return Err(IamError::Validation(
                "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048".into(),
            ));
        }
        let duration = input.duration_seconds.unwrap_or(3600);
        if duration < MIN_SESSION_SECONDS {
            return Err(IamError::Validation(format!(
                "1 validation error detected: Value '{duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to {MIN_SESSION_SECONDS}"
            )));
        }
        if let Some(p) = &input.policy {
            if p.chars().count() > MAX_SESSION_POLICY {
                return Err(IamError::PackedPolicyTooLarge(
                    "Packed policy consumes more than 100 percent of the allotted space.".into(),
                ));
            }
            // Validated now; every request of the session parses it from the token.
            Policy::parse(p, PolicyKind::Session)
                .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
        }
        if input.tags.len() > MAX_SESSION_TAGS {
            return Err(IamError::Validation(format!(
                "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {MAX_SESSION_TAGS}"
            )));
        }
        crate::service::iam::check_tags(&Vec::new(), &input.tags)?;

        let denied = || {
            IamError::AccessDenied(format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                caller.arn, input.role_arn
            ))
        };
        let Some((role_account, role_name)) = parse_role_arn(&input.role_arn) else {
            return Err(IamError::Validation(format!(
                "{} is invalid",
                input.role_arn
            )));
        };
        let role = self
            .load::<crate::iam::RoleDoc>(&role_account, IamKind::Role, role_name)
            .map_err(|e| match e {
                IamError::NoSuchEntity(_) => denied(),
                other => other,
            })?;
        let role_arn_stored = role.arn_with(&role.doc.path);
        if role_arn_stored != input.role_arn {
            return Err(denied());
        }
        if duration > role.doc.max_session_seconds {
            return Err(IamError::Validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                    .into(),
            ));
        }
        if matches!(caller.kind, PrincipalKind::AssumedRole { .. })
            && duration > CHAINED_SESSION_SECONDS
        {
            return Err(IamError::Validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into(),
            ));
        }
        let trust = crate::service::iam::parse_trust_policy(&role.doc.trust)?;
        let policies = self.identity_policies_of(caller)?;
        let refs: Vec<&Policy> = policies.iter().map(Arc::as_ref).collect();
        let who = policy_principal(caller);
        let mut ctx = context.clone();
        for (k, v) in &caller.tags {
            ctx.insert(&format!("aws:PrincipalTag/{k}"), v.clone());
        }
        for (k, v) in &input.tags {
            ctx.insert(&format!("aws:RequestTag/{k}"), v.clone());
        }
        if !input.tags.is_empty() {
            ctx.set(
                "aws:TagKeys",
                input.tags.iter().map(|(k, _)| k.clone()).collect(),
            );
        }
        let mut actions = vec!["sts:AssumeRole"];
        if !input.tags.is_empty() {
            actions.push("sts:TagSession");
        }
        for action in actions {
            let decision = keyfort_policy::authorize_assume_role(&AuthzInput {
                request: keyfort_policy::Request {
                    principal: &who,
                    action,
                    resource: &input.role_arn,
                    context: &ctx,
                },
                resource_account: role_account.as_str(),
                resource_policy: Some(&trust),
                identity_policies: &refs,
                session_policy: caller.session_policy.as_deref(),
                grant_allows: false,
            });
            if !decision.is_allowed() {
                return Err(denied());
            }
        }

        let (long_id, secret) = super::generate_access_key()?;
        let akid = format!("ASIA{}", &long_id[4..]);
        let expiration_ms = self.now_ms() + i64::from(duration) * 1000;
        let claims = SessionClaims {
            v: 1,
            akid: akid.clone(),
            account: role_account.to_string(),
            role: role.entity.name.clone(),
            role_id: role.entity.id.clone(),
            session: session.clone(),
            secret: String::from_utf8_lossy(secret.expose()).into_owned(),
            exp_ms: expiration_ms,
            iat_ms: self.now_ms(),
            policy: input.policy.clone(),
            tags: input.tags.clone(),
        };
        let plain =
            zeroize::Zeroizing::new(serde_json::to_vec(&claims).map_err(|_| {
                IamError::Internal(KmsError::Internal("session serialization failed"))
            })?);
        let sealed = self
            .root
            .seal(&plain, &session_aad(&akid))
            .map_err(KmsError::Crypto)?;
        let token = base64::engine::general_purpose::STANDARD.encode(sealed);
        Ok(SessionCredentials {
            arn: format!(
                "arn:aws:sts::{role_account}:assumed-role/{}/{session}",
                role.entity.name
            ),
            assumed_role_id: format!("{}:{session}", role.entity.id),
            access_key_id: akid,
            secret,
            session_token: SecretBytes::new(token.into_bytes()),
            expiration_ms,
            packed_policy_size: input
                .policy
                .as_ref()
                .map(|p| (p.chars().count() * 100 / MAX_SESSION_POLICY) as u32),
        })
    }

    /// Verifies a session token presented with `access_key_id` and returns the
    /// session's credential.
    pub fn session_credential(&self, access_key_id: &str, token: &str) -> IamResult<SessionAuth> {
        // A token verified before is taken from the cache (compared in constant time);
        // the expiry is checked on every request.
        if let Some(c) = super::read(&self.iam.sessions).get(access_key_id) {
            if c.token.ct_eq(token.as_bytes()) {
                if self.now_ms() >= c.expires_ms {
                    return Ok(SessionAuth::Expired);
                }
                return Ok(SessionAuth::Valid(Arc::clone(&c.credential)));
            }
        }
        let checked = self.verify_session_token(access_key_id, token)?;
        if let (SessionAuth::Valid(credential), Some(expires_ms)) = &checked {
            let mut cache = super::write(&self.iam.sessions);
            if cache.len() >= crate::service::iam::SESSION_CACHE_MAX {
                cache.clear();
            }
            cache.insert(
                access_key_id.to_owned(),
                crate::service::iam::CachedSession {
                    token: SecretBytes::new(token.as_bytes().to_vec()),
                    credential: Arc::clone(credential),
                    expires_ms: *expires_ms,
                },
            );
        }
        Ok(checked.0)
    }

    /// Opens and checks a session token: (the result, the expiry when valid).
    fn verify_session_token(
        &self,
        access_key_id: &str,
        token: &str,
    ) -> IamResult<(SessionAuth, Option<i64>)> {
        let Ok(sealed) = base64::engine::general_purpose::STANDARD.decode(token.trim()) else {
            return Ok((SessionAuth::Invalid, None));
        };
        let Ok(plain) = self.root.open(&sealed, &session_aad(access_key_id)) else {
            return Ok((SessionAuth::Invalid, None));
        };
        let Ok(claims) = serde_json::from_slice::<SessionClaims>(plain.expose()) else {
            return Ok((SessionAuth::Invalid, None));
        };
        if claims.v != 1 || claims.akid != access_key_id {
            return Ok((SessionAuth::Invalid, None));
        }
        if self.now_ms() >= claims.exp_ms {
            return Ok((SessionAuth::Expired, None));
        }
        let Some(account) = AccountId::parse(&claims.account) else {
            return Ok((SessionAuth::Invalid, None));
        };
        let Some(role) = self.identity(&account, IamKind::Role, &claims.role)? else {
            return Ok((SessionAuth::Invalid, None));
        };
        if role.id != claims.role_id {
            return Ok((SessionAuth::Invalid, None));
        }
        let session_policy = match &claims.policy {
            Some(p) => match Policy::parse(p, PolicyKind::Session) {
                Ok(p) => Some(Arc::new(p)),
                Err(_) => return Ok((SessionAuth::Invalid, None)),
            },
            None => None,
        };
        let mut tags = role.tags.clone();
        for (k, v) in &claims.tags {
            match tags.iter_mut().find(|(e, _)| e.eq_ignore_ascii_case(k)) {
                Some(slot) => *slot = (k.clone(), v.clone()),
                None => tags.push((k.clone(), v.clone())),
            }
        }
        let role_arn = format!("arn:aws:iam::{account}:role{}{}", role.path, claims.role);
        let principal = Principal {
            arn: format!(
                "arn:aws:sts::{account}:assumed-role/{}/{}",
                claims.role, claims.session
            ),
            user_id: format!("{}:{}", claims.role_id, claims.session),
            account,
            access_key_id: access_key_id.to_owned(),
            kind: PrincipalKind::AssumedRole {
                role_arn,
                session_name: claims.session.clone(),
            },
            tags,
            session_policy,
            session_issued_ms: Some(claims.iat_ms),
        };
        let credential = Arc::new(Credential {
            principal,
            secret: SecretBytes::new(claims.secret.as_bytes().to_vec()),
            active: true,
        });
        Ok((SessionAuth::Valid(credential), Some(claims.exp_ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        let (a, name) =
            parse_role_arn("arn:aws:iam::111122223333:role/app/team/reader").expect("parses");
        assert_eq!((a.as_str(), name), ("111122223333", "reader"));
        let (_, name) = parse_role_arn("arn:aws:iam::111122223333:role/r").expect("parses");
        assert_eq!(name, "r");
        for bad in [
            "arn:aws:iam::11112222333:role/r",
            "arn:aws:iam::111122223333:user/r",
            "arn:aws:sts::111122223333:role/r",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam::111122223333:root",
            "role/r",
        ] {
            assert!(parse_role_arn(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn policy_principals() {
        let account = AccountId::parse("111122223333").expect("account");
        let user = Principal {
            arn: "arn:aws:iam::111122223333:user/dev/alice".into(),
            user_id: "AIDAEXAMPLE".into(),
            kind: PrincipalKind::User {
                name: "alice".into(),
            },
            ..Principal::root(account.clone(), "AKIAEXAMPLE")
        };
        let p = policy_principal(&user);
        assert_eq!(p.arn, user.arn);
        assert_eq!(p.username.as_deref(), Some("alice"));
        assert_eq!(p.userid, "AIDAEXAMPLE");
        let session = Principal {
            arn: "arn:aws:sts::111122223333:assumed-role/reader/s1".into(),
            user_id: "AROAEXAMPLE:s1".into(),
            kind: PrincipalKind::AssumedRole {
                role_arn: "arn:aws:iam::111122223333:role/app/reader".into(),
                session_name: "s1".into(),
            },
            ..Principal::root(account, "ASIAEXAMPLE")
        };
        let p = policy_principal(&session);
        assert_eq!(p.arn, session.arn);
        assert_eq!(p.userid, "AROAEXAMPLE:s1");
        assert_eq!(
            p.kind,
            keyfort_policy::PrincipalKind::AssumedRole {
                role_arn: "arn:aws:iam::111122223333:role/app/reader".into(),
                session_name: "s1".into(),
            }
        );
    }

    #[test]
    fn session_claims_round_trip() {
        // What a token carries survives sealing's JSON step field for field (the
        // claims type has no Debug impl, so no log line can print its secret).
        let c = SessionClaims {
            v: 1,
            akid: "ASIAEXAMPLE".into(),
            account: "111122223333".into(),
            role: "r".into(),
            role_id: "AROAX".into(),
            session: "s".into(),
            secret: "s3cr3t".into(),
            exp_ms: 5,
            iat_ms: 1,
            policy: None,
            tags: vec![("k".into(), "v".into())],
        };
        let json = serde_json::to_vec(&c).expect("serializes");
        let back: SessionClaims = serde_json::from_slice(&json).expect("parses");
        assert_eq!(
            (back.secret.as_str(), back.exp_ms, back.iat_ms),
            ("s3cr3t", 5, 1)
        );
        assert_eq!(back.tags, c.tags);
    }
}
