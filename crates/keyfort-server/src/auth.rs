//! Request authentication: SigV4 with the cheap checks first (scope, clock skew), then
//! the credential lookup, then the signature, with derived signing keys cached.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use keyfort_core::{Kms, Principal};
use keyfort_sigv4::{Authorization, SigningKey};

use crate::config::Config;
use crate::error::ApiError;

/// The most derived signing keys kept; the cache is cleared when it fills (keys are
/// per access key, day, region and service, so it refills quickly).
const SIGNING_KEY_CACHE_MAX: usize = 4096;

type CacheKey = (String, String, String, String);

/// Caches derived SigV4 signing keys.
#[derive(Default)]
pub struct SigningKeyCache {
    keys: RwLock<HashMap<CacheKey, Arc<SigningKey>>>,
}

impl SigningKeyCache {
    fn get_or_derive(&self, auth: &Authorization<'_>, secret: &[u8]) -> Arc<SigningKey> {
        let c = &auth.credential;
        let ck = (
            c.access_key_id.to_owned(),
            c.date.to_owned(),
            c.region.to_owned(),
            c.service.to_owned(),
        );
        if let Some(k) = self.keys.read().unwrap_or_else(|e| e.into_inner()).get(&ck) {
            return Arc::clone(k);
        }
        let key = Arc::new(keyfort_sigv4::derive_signing_key(
            secret, c.date, c.region, c.service,
        ));
        let mut map = self.keys.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= SIGNING_KEY_CACHE_MAX {
            map.clear();
        }
        map.insert(ck, Arc::clone(&key));
        key
    }
}

/// What authentication needs from the request head (checked before the body is read).
pub struct Head<'a> {
    /// The parsed Authorization header.
    pub auth: Authorization<'a>,
    /// X-Amz-Date.
    pub amz_date: &'a str,
}

/// The cheap checks: the header parses, the scope is for `service` in a served region,
/// and the date is within the allowed skew. No crypto, no I/O.
pub fn check_head<'a>(
    authorization: Option<&'a str>,
    amz_date: Option<&'a str>,
    service: &str,
    config: &Config,
    now_unix: u64,
) -> Result<Head<'a>, ApiError> {
    let Some(header) = authorization else {
        return Err(keyfort_sigv4::Error::MissingAuthentication.into());
    };
    let auth = keyfort_sigv4::parse_authorization(header)?;
    let Some(amz_date) = amz_date else {
        return Err(keyfort_sigv4::Error::MissingAuthentication.into());
    };
    if auth.credential.service != service {
        return Err(ApiError::Scope(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    if !config.serves_region(auth.credential.region) {
        return Err(ApiError::Scope(format!(
            "Credential should be scoped to a valid region, not '{}'.",
            auth.credential.region
        )));
    }
    keyfort_sigv4::check_time(
        amz_date,
        auth.credential.date,
        now_unix,
        config.max_skew.as_secs(),
    )?;
    Ok(Head { auth, amz_date })
}

/// Looks up the access key and verifies the signature over the whole request.
pub fn verify(
    kms: &Kms,
    cache: &SigningKeyCache,
    head: &Head<'_>,
    req: &keyfort_sigv4::Request<'_>,
) -> Result<Principal, ApiError> {
    let akid = head.auth.credential.access_key_id;
    let cred = if akid.starts_with("ASIA") {
        session_credential(kms, head, req)?
    } else {
        kms.credential(akid)?.ok_or(ApiError::UnrecognizedClient)?
    };
    if !cred.active {
        return Err(ApiError::UnrecognizedClient);
    }
    let key = cache.get_or_derive(&head.auth, cred.secret.expose());
    keyfort_sigv4::verify(&key, req, &head.auth, head.amz_date)?;
    Ok(cred.principal.clone())
}

/// Temporary credentials (`ASIA...`): the session token must be sent in
/// `X-Amz-Security-Token` and signed, and must be current.
fn session_credential(
    kms: &Kms,
    head: &Head<'_>,
    req: &keyfort_sigv4::Request<'_>,
) -> Result<Arc<keyfort_core::Credential>, ApiError> {
    let token = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-security-token"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok());
    let signed = head.auth.signed_headers.contains(&"x-amz-security-token");
    let (Some(token), true) = (token, signed) else {
        return Err(ApiError::UnrecognizedClient);
    };
    match kms.session_credential(head.auth.credential.access_key_id, token) {
        Ok(keyfort_core::service::SessionAuth::Valid(c)) => Ok(c),
        Ok(keyfort_core::service::SessionAuth::Invalid) => Err(ApiError::UnrecognizedClient),
        Ok(keyfort_core::service::SessionAuth::Expired) => Err(ApiError::Service {
            code: "ExpiredTokenException",
            message: "The security token included in the request is expired".into(),
        }),
        Err(keyfort_core::iam::IamError::Internal(e)) => Err(ApiError::Kms(e)),
        Err(_) => Err(ApiError::UnrecognizedClient),
    }
}
