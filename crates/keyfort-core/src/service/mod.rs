//! The KMS service: resolves keys, enforces key states, runs the cryptography, and
//! persists through the [`Store`]. One [`Kms`] serves every account and region of a
//! deployment.
//!
//! Hot data (keys with their unsealed backing keys, aliases, access keys) is cached in
//! memory; every mutation goes through one writer lock, writes the store first, then
//! refreshes the cache, so the cache never holds something the store does not.

mod accounts;
mod aliases;
mod asym;
mod authz;
mod crypto;
mod grants;
mod iam;
mod identity;
mod import;
mod keys;
mod managed;
mod metadata;
mod rotation;
mod sts;
mod tags;
mod via;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use keyfort_crypto::RootKey;
use serde::Serialize;

use crate::api::Operation;
use crate::arn::KeyRef;
use crate::clock::Clock;
use crate::error::{KmsError, Result};
use crate::keyspec::{self, Material};
use crate::model::{AccountId, KeyRecord, KeyState, hex};
use crate::store::Store;

pub use accounts::{Credential, Principal, PrincipalKind, generate_access_key};
pub use iam::{Entity, Listing, PolicyHolder, parse_identity_policy, parse_trust_policy};
pub use import::{IMPORT_PARAMETERS_VALID_MS, MAX_VALID_TO_MS};
pub use managed::{AWS_MANAGED_SERVICES, aws_managed_service};
pub use rotation::{
    CONFLICT_WINDOW_MS, DEFAULT_ROTATION_PERIOD_DAYS, MAX_ON_DEMAND_ROTATIONS, RotationDone,
};
pub use sts::{AssumeRoleInput, SessionAuth, SessionCredentials, policy_principal};
pub use via::{CALLER_HEADER, VIA_SERVICE_HEADER, valid_service_name};

/// Who is calling, and in which region (the one in the SigV4 credential scope).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The authenticated principal.
    pub principal: &'a Principal,
    /// The request's region.
    pub region: &'a str,
    /// Where the keys the request touched are noted, for its audit record.
    pub resources: &'a ResourceLog,
    /// The client's address (`aws:SourceIp`), when known.
    pub source_ip: Option<std::net::IpAddr>,
    /// Whether the request came over TLS (`aws:SecureTransport`).
    pub secure_transport: bool,
    /// The registered integrating service the request came through (`s3`), which
    /// sets `kms:ViaService`; `None` for a direct call (see [`Kms::act_for`]).
    pub via_service: Option<&'a str>,
}

/// The ARNs of the keys a request touched (for the audit record's `resources`).
#[derive(Debug, Default)]
pub struct ResourceLog(Mutex<Vec<String>>);

impl ResourceLog {
    /// Notes a key ARN (once).
    pub fn record(&self, arn: String) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !v.contains(&arn) {
            v.push(arn);
        }
    }
    /// The ARNs noted so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Caller<'_> {
    fn account(&self) -> &AccountId {
        &self.principal.account
    }
}

/// A key with its backing keys unsealed, as cached.
///
/// Decrypt finds the backing key a blob names through a hash map, so a key rotated a
/// hundred times decrypts as fast as a new one (see docs/rotation.md).
pub(crate) struct LiveKey {
    pub(crate) record: KeyRecord,
    /// Every backing key whose material is present, by id. Shared with the previous cache entry of the same key, so a
    /// rotation does not unseal the older versions again.
    material: Arc<HashMap<[u8; 32], Arc<Material>>>,
    /// The current backing key (the newest not waiting for a rotation), if present.
    current: Option<([u8; 32], Arc<Material>)>,
    /// The key policy, parsed once (shared with the previous cache entry while the
    /// text is unchanged). `None` if the stored text does not parse: nothing is then
    /// allowed by the key policy.
    policy: Option<Arc<keyfort_policy::Policy>>,
    /// When this entry was read from the store (the service clock, milliseconds).
    loaded_ms: i64,
}

impl LiveKey {
    fn arn(&self) -> String {
        self.record.arn()
    }
    fn current(&self) -> Result<(&[u8; 32], &Material)> {
        self.current
            .as_ref()
            .map(|(id, m)| (id, m.as_ref()))
            .ok_or(KmsError::Internal("key has no current backing key"))
    }
    fn backing(&self, id: &[u8; 32]) -> Option<&Material> {
        self.material.get(id).map(Arc::as_ref)
    }
}

type KeyCacheKey = (String, String);

/// How old a cached key must be before a blob naming an unknown backing key makes
/// keyfort reread it from the store.
const REFRESH_AFTER_MS: i64 = 1000;
type AliasCacheKey = (AccountId, String, String);

/// The service. Cheap to share behind an `Arc`.
pub struct Kms {
    store: Arc<dyn Store>,
    root: RootKey,
    clock: Arc<dyn Clock>,
    keys: RwLock<HashMap<KeyCacheKey, Arc<LiveKey>>>,
    aliases: RwLock<HashMap<AliasCacheKey, String>>,
    credentials: RwLock<HashMap<String, Arc<Credential>>>,
    /// IAM users' and roles' identities with their parsed policies.
    iam: iam::IdentityCache,
    writer: Mutex<()>,
    /// Set when keys were destroyed and the store has not yet purged their traces.
    purge_pending: std::sync::atomic::AtomicBool,
    /// Outstanding GetParametersForImport wrapping keys, by token (memory only).
    imports: Mutex<import::ImportTokens>,
    /// Serializes the creation of AWS managed keys (not the writer lock: creation can
    /// be reached from a mutation that holds it).
    managed: Mutex<()>,
    /// The aliases of each key, for `kms:ResourceAliases`.
    alias_index: authz::AliasIndex,
    /// The grants of each key.
    grant_cache: grants::GrantCache,
}

impl std::fmt::Debug for Kms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kms").finish_non_exhaustive()
    }
}

/// Reads a lock, recovering from poisoning: the data behind keyfort's locks is a cache
/// that every writer leaves consistent before it can panic.
fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}
fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

/// Serializes a reply body.
fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|_| KmsError::Internal("reply serialization failed"))
}

impl Kms {
    /// A service over `store`, sealing under `root`, telling time by `clock`.
    pub fn new(store: Arc<dyn Store>, root: RootKey, clock: Arc<dyn Clock>) -> Kms {
        Kms {
            store,
            root,
            clock,
            keys: RwLock::new(HashMap::new()),
            aliases: RwLock::new(HashMap::new()),
            credentials: RwLock::new(HashMap::new()),
            iam: iam::IdentityCache::default(),
            writer: Mutex::new(()),
            purge_pending: std::sync::atomic::AtomicBool::new(false),
            imports: Mutex::new(import::ImportTokens::default()),
            managed: Mutex::new(()),
            alias_index: authz::AliasIndex::default(),
            grant_cache: grants::GrantCache::default(),
        }
    }

    /// The current time in milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Runs one operation for `caller`, returning the JSON reply body.
    pub fn execute(&self, caller: &Caller<'_>, op: Operation) -> Result<Vec<u8>> {
        match op {
            Operation::CreateKey(req) => self.create_key(caller, req),
            Operation::DescribeKey(key) => self.describe_key(caller, &key),
            Operation::ListKeys(page) => self.list_keys(caller, &page),
            Operation::EnableKey(key) => self.set_enabled(caller, &key, true),
            Operation::DisableKey(key) => self.set_enabled(caller, &key, false),
            Operation::ScheduleKeyDeletion {
                key,
                pending_window_days,
            } => self.schedule_deletion(caller, &key, pending_window_days),
            Operation::CancelKeyDeletion(key) => self.cancel_deletion(caller, &key),
            Operation::UpdateKeyDescription { key, description } => {
                self.update_description(caller, &key, description)
            }
            Operation::Encrypt(req) => self.encrypt(caller, req),
            Operation::Decrypt(req) => self.decrypt(caller, req),
            Operation::ReEncrypt(req) => self.re_encrypt(caller, req),
            Operation::GenerateDataKey(req) => self.generate_data_key(caller, req),
            Operation::GenerateRandom { number_of_bytes } => {
                self.generate_random(caller, number_of_bytes)
            }
            Operation::CreateAlias { name, target } => self.create_alias(caller, name, &target),
            Operation::UpdateAlias { name, target } => self.update_alias(caller, name, &target),
            Operation::DeleteAlias { name } => self.delete_alias(caller, &name),
            Operation::ListAliases { key, page } => self.list_aliases(caller, key.as_ref(), &page),
            Operation::TagResource { key, tags } => self.tag_resource(caller, &key, tags),
            Operation::UntagResource { key, tag_keys } => {
                self.untag_resource(caller, &key, &tag_keys)
            }
            Operation::ListResourceTags { key, page } => {
                self.list_resource_tags(caller, &key, &page)
            }
            Operation::GetKeyPolicy { key, policy_name } => {
                self.get_key_policy(caller, &key, &policy_name)
            }
            Operation::PutKeyPolicy {
                key,
                policy_name,
                policy,
                bypass_policy_lockout_safety_check,
            } => self.put_key_policy(
                caller,
                &key,
                &policy_name,
                policy,
                bypass_policy_lockout_safety_check,
            ),
            Operation::ListKeyPolicies { key, page } => self.list_key_policies(caller, &key, &page),
            Operation::Sign(req) => self.sign(caller, req),
            Operation::Verify(req) => self.verify(caller, req),
            Operation::GetPublicKey(key) => self.get_public_key(caller, &key),
            Operation::GenerateMac(req) => self.generate_mac(caller, req),
            Operation::VerifyMac(req) => self.verify_mac(caller, req),
            Operation::DeriveSharedSecret {
                key,
                public_key,
                dry_run,
            } => self.derive_shared_secret(caller, &key, &public_key, dry_run),
            Operation::GenerateDataKeyPair(req) => self.generate_data_key_pair(caller, req),
            Operation::EnableKeyRotation {
                key,
                rotation_period_days,
            } => self.enable_key_rotation(caller, &key, rotation_period_days),
            Operation::DisableKeyRotation(key) => self.disable_key_rotation(caller, &key),
            Operation::GetKeyRotationStatus(key) => self.get_key_rotation_status(caller, &key),
            Operation::RotateKeyOnDemand(key) => self.rotate_key_on_demand(caller, &key),
            Operation::ListKeyRotations(req) => self.list_key_rotations(caller, &req),
            Operation::GetParametersForImport(req) => self.get_parameters_for_import(caller, req),
            Operation::ImportKeyMaterial(req) => self.import_key_material(caller, req),
            Operation::DeleteImportedKeyMaterial {
                key,
                key_material_id,
            } => self.delete_imported_key_material(caller, &key, key_material_id.as_ref()),
            Operation::CreateGrant(req) => self.create_grant(caller, req),
            Operation::ListGrants(req) => self.list_grants(caller, &req),
            Operation::ListRetirableGrants(req) => self.list_retirable_grants(caller, &req),
            Operation::RetireGrant(req) => self.retire_grant(caller, &req),
            Operation::RevokeGrant(req) => self.revoke_grant(caller, &req),
        }
    }

    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The AAD that binds a sealed backing key to its key and id.
    pub(crate) fn backing_aad(key_id: &str, backing_id: &[u8; 32]) -> Vec<u8> {
        format!("keyfort:backing-key:v1|{key_id}|{}", hex(backing_id)).into_bytes()
    }

    /// Seals one of keyfort's own secrets (the audit signing key) under the root key,
    /// bound to its name.
    pub fn seal_internal(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.root
            .seal(plaintext, format!("keyfort:internal:v1|{name}").as_bytes())
            .map_err(KmsError::Crypto)
    }

    /// Opens a secret sealed by [`Kms::seal_internal`] under the same name.
    pub fn open_internal(&self, name: &str, sealed: &[u8]) -> Result<keyfort_crypto::SecretBytes> {
        self.root
            .open(sealed, format!("keyfort:internal:v1|{name}").as_bytes())
            .map_err(KmsError::Crypto)
    }

    /// Unseals every present backing key of a record. Material already unsealed in
    /// `previous` (the cached entry of the same key) is reused: backing keys are
    /// immutable once stored, except imported material, which is unsealed afresh.
    fn unseal(&self, record: KeyRecord, previous: Option<&LiveKey>) -> Result<LiveKey> {
        let mut material = HashMap::with_capacity(record.backing_keys.len());
        for b in record.backing_keys.iter().filter(|b| b.is_present()) {
            let reused = previous
                .filter(|_| b.import.is_none())
                .and_then(|p| p.material.get(&b.id));
            let m = match reused {
                Some(m) => Arc::clone(m),
                None => {
                    let aad = Self::backing_aad(&record.id, &b.id);
                    let raw = self.root.open(&b.sealed, &aad).map_err(KmsError::Crypto)?;
                    Arc::new(keyspec::load(record.spec, raw.expose())?)
                }
            };
            material.insert(b.id, m);
        }
        let current = record
            .current_backing_key()
            .and_then(|b| material.get(&b.id).map(|m| (b.id, Arc::clone(m))));
        let policy = match previous.filter(|p| p.record.policy == record.policy) {
            Some(p) => p.policy.clone(),
            None => match authz::parse_key_policy(&record.policy) {
                Ok(p) => Some(Arc::new(p)),
                Err(e) => {
                    tracing::warn!(key_id = %record.id, error = %e, "stored key policy does not parse; the key policy allows nothing");
                    None
                }
            },
        };
        Ok(LiveKey {
            record,
            material: Arc::new(material),
            current,
            policy,
            loaded_ms: self.now_ms(),
        })
    }

    /// Loads a key by (region, id), through the cache.
    fn load_key(&self, region: &str, id: &str) -> Result<Option<Arc<LiveKey>>> {
        let ck = (region.to_owned(), id.to_owned());
        if let Some(k) = read(&self.keys).get(&ck) {
            return Ok(Some(Arc::clone(k)));
        }
        let Some(record) = self.store.get_key(region, id)? else {
            return Ok(None);
        };
        let live = Arc::new(self.unseal(record, None)?);
        write(&self.keys).insert(ck, Arc::clone(&live));
        Ok(Some(live))
    }

    /// Reads a key afresh from the store into the cache, when its cached entry is older
    /// than [`REFRESH_AFTER_MS`]: for a blob naming a backing key the cache does not
    /// have, which another node sharing the store may have added by a rotation or an
    /// import. The age limit bounds the store reads that forged blobs can cause.
    /// Returns `None` when the entry is too fresh to reread or the key is gone.
    fn refresh_key(&self, cached: &LiveKey) -> Result<Option<Arc<LiveKey>>> {
        if self.now_ms() - cached.loaded_ms < REFRESH_AFTER_MS {
            return Ok(None);
        }
        let _w = self.lock_writer();
        let (region, id) = (&cached.record.region, &cached.record.id);
        let Some(record) = self.store.get_key(region, id)? else {
            return Ok(None);
        };
        tracing::debug!(key_id = %id, %region, "key reloaded for a backing key it did not have");
        self.cache_key(record).map(Some)
    }

    /// Puts a freshly written record in the cache (called with the writer lock held).
    fn cache_key(&self, record: KeyRecord) -> Result<Arc<LiveKey>> {
        let ck = (record.region.clone(), record.id.clone());
        let previous = read(&self.keys).get(&ck).cloned();
        let live = Arc::new(self.unseal(record, previous.as_deref())?);
        write(&self.keys).insert(ck, Arc::clone(&live));
        Ok(live)
    }

    fn forget_key(&self, region: &str, id: &str) {
        write(&self.keys).remove(&(region.to_owned(), id.to_owned()));
        write(&self.aliases).retain(|(_, r, _), target| !(r == region && target == id));
        self.alias_index.clear();
        self.grant_cache.forget(region, id);
    }

    /// The ARN keyfort shows for a key id in the caller's account and region.
    fn key_arn(caller: &Caller<'_>, id: &str) -> String {
        format!(
            "arn:aws:kms:{}:{}:key/{id}",
            caller.region,
            caller.account()
        )
    }

    fn alias_arn(caller: &Caller<'_>, name: &str) -> String {
        format!("arn:aws:kms:{}:{}:{name}", caller.region, caller.account())
    }

    fn key_not_found(caller: &Caller<'_>, id: &str) -> KmsError {
        KmsError::NotFound(format!(
            "Key '{}' does not exist",
            Self::key_arn(caller, id)
        ))
    }

    /// Resolves an alias name to a key id in the caller's account and region.
    fn alias_target(&self, caller: &Caller<'_>, name: &str) -> Result<String> {
        let ck = (
            caller.account().clone(),
            caller.region.to_owned(),
            name.to_owned(),
        );
        if let Some(id) = read(&self.aliases).get(&ck) {
            return Ok(id.clone());
        }
        match self
            .store
            .get_alias(caller.account(), caller.region, name)?
        {
            Some(a) => {
                write(&self.aliases).insert(ck, a.target_key_id.clone());
                Ok(a.target_key_id)
            }
            // alias/aws/<service>: the AWS managed key, made on first use.
            None if managed::aws_managed_service(name).is_some() => {
                let service = managed::aws_managed_service(name).unwrap_or_default();
                let id = self.ensure_aws_managed_key(caller, service)?;
                write(&self.aliases).insert(ck, id.clone());
                Ok(id)
            }
            None => Err(KmsError::NotFound(format!(
                "Alias '{}' is not found.",
                Self::alias_arn(caller, name)
            ))),
        }
    }

    /// Finds the key an identifier names, without authorizing: a key id or alias of
    /// the caller's account, or a key ARN (of another account only for an action AWS
    /// allows across accounts). Returns the key and the alias it was named by.
    ///
    /// A key of another account that does not exist answers exactly as one whose
    /// policy does not allow the caller (AccessDeniedException), so no reply tells
    /// whether another account's key exists.
    fn find_key<'k>(
        &self,
        caller: &Caller<'_>,
        key: &'k KeyRef,
        action: &str,
    ) -> Result<(Arc<LiveKey>, Option<&'k str>)> {
        let (id, alias) = match key {
            KeyRef::Id(id) => (id.clone(), None),
            KeyRef::KeyArn {
                region,
                account,
                id,
            } => {
                let arn = format!("arn:aws:kms:{region}:{account}:key/{id}");
                if region != caller.region {
                    return Err(KmsError::NotFound(format!("Key '{arn}' does not exist")));
                }
                if account != caller.account() {
                    if !authz::cross_account_action(action) {
                        return Err(KmsError::NotFound(format!("Key '{arn}' does not exist")));
                    }
                    // Noted in the audit record only once authorized (authorize_key),
                    // so the trail shows no key of another account the caller may
                    // not use.
                    return match self.load_key(caller.region, id)? {
                        Some(k) if &k.record.account == account => Ok((k, None)),
                        _ => Err(authz::foreign_key_denied(caller, action, &arn)),
                    };
                }
                (id.clone(), None)
            }
            KeyRef::AliasName(name) => (self.alias_target(caller, name)?, Some(name.as_str())),
            KeyRef::AliasArn {
                region,
                account,
                name,
            } => {
                // Aliases never cross accounts.
                if region != caller.region || account != caller.account() {
                    return Err(KmsError::NotFound(format!(
                        "Alias 'arn:aws:kms:{region}:{account}:{name}' is not found."
                    )));
                }
                (self.alias_target(caller, name)?, Some(name.as_str()))
            }
        };
        match self.load_key(caller.region, &id)? {
            Some(k) if &k.record.account == caller.account() => {
                caller.resources.record(k.arn());
                Ok((k, alias))
            }
            _ => Err(Self::key_not_found(caller, &id)),
        }
    }

    /// Resolves any key identifier and authorizes `access` on the key.
    fn resolve(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        access: &authz::Access<'_>,
    ) -> Result<Arc<LiveKey>> {
        let (live, alias) = self.find_key(caller, key, access.action)?;
        self.authorize_key(caller, &live, access, alias)?;
        Ok(live)
    }

    /// Reads a key fresh from the store for a mutation (writer lock held), after
    /// authorizing `access` on it.
    fn resolve_for_write(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        access: &authz::Access<'_>,
    ) -> Result<KeyRecord> {
        let live = self.resolve(caller, key, access)?;
        match self.store.get_key(caller.region, &live.record.id)? {
            Some(r) => Ok(r),
            None => Err(Self::key_not_found(caller, &live.record.id)),
        }
    }

    /// Applies `f` to a key under the writer lock and persists the result.
    fn mutate_key<T>(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        access: &authz::Access<'_>,
        f: impl FnOnce(&mut KeyRecord) -> Result<T>,
    ) -> Result<(T, KeyRecord)> {
        let _w = self.lock_writer();
        let mut record = self.resolve_for_write(caller, key, access)?;
        // Every customer change goes through here; AWS managed keys take none.
        managed::require_customer_managed(&record)?;
        let out = f(&mut record)?;
        self.store.update_key(&record)?;
        self.cache_key(record.clone())?;
        Ok((out, record))
    }

    /// The ARN and creation time of a key the caller may see (GetKeyLastUsage).
    pub fn key_arn_and_creation(&self, caller: &Caller<'_>, key: &KeyRef) -> Result<(String, i64)> {
        let live = self.resolve(caller, key, &authz::Access::new("kms:GetKeyLastUsage"))?;
        Ok((live.arn(), live.record.created_ms))
    }

    /// Notes that material was destroyed, so the next deletion job run purges the
    /// store's logs (for SQLite: checkpoints and truncates the WAL).
    fn note_destroyed(&self) {
        self.purge_pending
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Deletes every key whose waiting period has ended. Returns the ARNs deleted.
    pub fn run_due_deletions(&self) -> Result<Vec<String>> {
        let now = self.now_ms();
        let due = self.store.keys_due_for_deletion(now)?;
        let mut done = Vec::new();
        for (region, id) in due {
            let _w = self.lock_writer();
            // Re-check under the lock: a CancelKeyDeletion may have won the race.
            let due = match self.store.get_key(&region, &id)? {
                Some(r)
                    if r.state == KeyState::PendingDeletion
                        && r.deletion_ms.is_some_and(|d| d <= now) =>
                {
                    Some(r.arn())
                }
                _ => None,
            };
            if let Some(arn) = due {
                if self.store.destroy_key(&region, &id)? {
                    self.forget_key(&region, &id);
                    tracing::info!(key_id = %id, %region, "key deleted at the end of its waiting period");
                    done.push(arn);
                }
            }
        }
        if !done.is_empty() {
            self.purge_pending
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        // The rows are gone either way; a purge that fails (a busy checkpoint) is
        // retried on every run until it succeeds.
        if self.purge_pending.load(std::sync::atomic::Ordering::SeqCst) {
            match self.store.purge_destroyed() {
                Ok(()) => self
                    .purge_pending
                    .store(false, std::sync::atomic::Ordering::SeqCst),
                Err(e) => tracing::warn!(error = %e, "could not purge destroyed key material yet"),
            }
        }
        Ok(done)
    }
}

/// Error messages for a key that is not in a usable state, in AWS's words.
fn state_error(record: &KeyRecord) -> KmsError {
    let arn = record.arn();
    match record.state {
        KeyState::Disabled => KmsError::Disabled(format!("{arn} is disabled.")),
        KeyState::PendingDeletion => KmsError::InvalidState(format!("{arn} is pending deletion.")),
        KeyState::PendingImport => KmsError::InvalidState(format!("{arn} is pending import.")),
        other => KmsError::InvalidState(format!("{arn} is {}.", other.as_str())),
    }
}
