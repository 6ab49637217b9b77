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
    let cred = kms
        .credential(head.auth.credential.access_key_id)?
        .ok_or(ApiError::UnrecognizedClient)?;
    if !cred.active {
        return Err(ApiError::UnrecognizedClient);
    }
    let key = cache.get_or_derive(&head.auth, cred.secret.expose());
    keyfort_sigv4::verify(&key, req, &head.auth, head.amz_date)?;
    Ok(cred.principal.clone())
}
