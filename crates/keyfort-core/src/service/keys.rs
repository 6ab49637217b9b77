//! Key lifecycle: CreateKey, DescribeKey, ListKeys, Enable/DisableKey,
//! Schedule/CancelKeyDeletion, UpdateKeyDescription.

use serde::Serialize;

use super::authz::{Access, parse_key_policy};
use super::metadata::{KeyMetadata, default_policy};
use super::{Caller, Kms, json};
use crate::api::wire::ser_epoch;
use crate::api::{CreateKey, ListPage};
use crate::arn::{KeyRef, is_key_id};
use crate::clock::DAY_MS;
use crate::error::{KmsError, Result};
use crate::model::{BackingKeyRecord, KeyManager, KeyRecord, KeySpec, KeyState, Origin};
use crate::store::{Page, StoreError};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataReply<'a> {
    key_metadata: KeyMetadata<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyListEntry {
    key_id: String,
    key_arn: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListKeysReply {
    keys: Vec<KeyListEntry>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduleReply {
    key_id: String,
    #[serde(serialize_with = "ser_epoch")]
    deletion_date: i64,
    key_state: &'static str,
    pending_window_in_days: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdReply {
    key_id: String,
}

/// A new random (version 4) UUID, lowercase and hyphenated.
fn new_key_id() -> Result<String> {
    let raw = keyfort_crypto::random_bytes(16).map_err(KmsError::Crypto)?;
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(raw.expose());
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string())
}

impl Kms {
    /// Makes a new backing key for `key_id`, sealed under the root key.
    pub(crate) fn new_backing_key(&self, key_id: &str, spec: KeySpec) -> Result<BackingKeyRecord> {
        let material = crate::keyspec::generate(spec)?;
        let mut id = [0u8; 32];
        keyfort_crypto::fill_random(&mut id).map_err(KmsError::Crypto)?;
        let sealed = self
            .root
            .seal(material.expose(), &Self::backing_aad(key_id, &id))
            .map_err(KmsError::Crypto)?;
        Ok(BackingKeyRecord {
            id,
            sealed,
            created_ms: self.now_ms(),
            rotation_type: None,
            rotated_ms: None,
            import: None,
        })
    }

    pub(super) fn create_key(&self, caller: &Caller<'_>, req: CreateKey) -> Result<Vec<u8>> {
        if req.custom_key_store_id.is_some() {
            return Err(KmsError::CustomKeyStoreNotFound(
                "keyfort has no custom key stores.".into(),
            ));
        }
        if !matches!(req.origin, Origin::AwsKms | Origin::External) {
            return Err(KmsError::UnsupportedOperation(format!(
                "Origin {} needs a custom key store, which keyfort does not have; use AWS_KMS or EXTERNAL.",
                req.origin
            )));
        }
        if req.multi_region {
            return Err(KmsError::UnsupportedOperation(
                "Multi-Region keys are not supported by keyfort yet.".into(),
            ));
        }
        crate::keyspec::check_combination(req.spec, req.usage)?;
        let access = Access::new("kms:CreateKey")
            .with("kms:KeySpec", req.spec.as_str())
            .with("kms:KeyUsage", req.usage.as_str())
            .with("kms:KeyOrigin", req.origin.as_str())
            .with_bool("kms:MultiRegion", req.multi_region)
            .with_bool(
                "kms:BypassPolicyLockoutSafetyCheck",
                req.bypass_policy_lockout_safety_check,
            )
            .request_tags(&req.tags);
        self.authorize_identity(caller, &access, "*")?;
        if !req.tags.is_empty() {
            let tagging = Access::new("kms:TagResource").request_tags(&req.tags);
            self.authorize_identity(caller, &tagging, "*")?;
        }
        // The lockout safety check applies to a policy the caller gives; the default
        // policy (the account root, delegating to IAM) is attached as is, as AWS does.
        let given = req.policy.is_some();
        let policy = match req.policy {
            Some(p) => p,
            None => default_policy(caller.account()),
        };
        let parsed = parse_key_policy(&policy)?;
        if given {
            self.check_named_principals(&parsed)?;
        }
        let id = new_key_id()?;
        if given && !req.bypass_policy_lockout_safety_check {
            self.lockout_check(caller, &Self::key_arn(caller, &id), &parsed)?;
        }
        // A key for imported material starts without any, awaiting ImportKeyMaterial.
        let external = req.origin == Origin::External;
        let record = KeyRecord {
            backing_keys: if external {
                Vec::new()
            } else {
                vec![self.new_backing_key(&id, req.spec)?]
            },
            id,
            account: caller.account().clone(),
            region: caller.region.to_owned(),
            description: req.description,
            state: if external {
                KeyState::PendingImport
            } else {
                KeyState::Enabled
            },
            usage: req.usage,
            spec: req.spec,
            origin: req.origin,
            manager: KeyManager::Customer,
            created_ms: self.now_ms(),
            deletion_ms: None,
            pending_window_days: None,
            policy,
            tags: req.tags,
            rotation_period_days: None,
            next_rotation_ms: None,
        };
        {
            let _w = self.lock_writer();
            match self.store.create_key(&record) {
                Ok(()) => {}
                Err(StoreError::Conflict) => return Err(KmsError::Internal("key id collision")),
                Err(e) => return Err(e.into()),
            }
            self.cache_key(record.clone())?;
        }
        caller.resources.record(record.arn());
        json(&MetadataReply {
            key_metadata: KeyMetadata::of(&record),
        })
    }

    pub(super) fn describe_key(&self, caller: &Caller<'_>, key: &KeyRef) -> Result<Vec<u8>> {
        let live = self.resolve(caller, key, &Access::new("kms:DescribeKey"))?;
        json(&MetadataReply {
            key_metadata: KeyMetadata::of(&live.record),
        })
    }

    pub(super) fn list_keys(&self, caller: &Caller<'_>, page: &ListPage) -> Result<Vec<u8>> {
        self.authorize_identity(caller, &Access::new("kms:ListKeys"), "*")?;
        if let Some(m) = &page.marker {
            if !is_key_id(m) {
                return Err(KmsError::InvalidMarker("The marker is not valid.".into()));
            }
        }
        let mut ids = self.store.list_key_ids(
            caller.account(),
            caller.region,
            Page {
                after: page.marker.as_deref(),
                limit: page.limit + 1,
            },
        )?;
        let truncated = ids.len() > page.limit;
        ids.truncate(page.limit);
        let next_marker = if truncated { ids.last().cloned() } else { None };
        let keys = ids
            .into_iter()
            .map(|id| KeyListEntry {
                key_arn: Self::key_arn(caller, &id),
                key_id: id,
            })
            .collect();
        json(&ListKeysReply {
            keys,
            truncated,
            next_marker,
        })
    }

    pub(super) fn set_enabled(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        enable: bool,
    ) -> Result<Vec<u8>> {
        let action = if enable {
            "kms:EnableKey"
        } else {
            "kms:DisableKey"
        };
        self.mutate_key(caller, key, &Access::new(action), |r| {
            match r.state {
                KeyState::Enabled | KeyState::Disabled => {}
                _ => return Err(super::state_error(r)),
            }
            r.state = if enable {
                KeyState::Enabled
            } else {
                KeyState::Disabled
            };
            Ok(())
        })?;
        Ok(b"{}".to_vec())
    }

    pub(super) fn schedule_deletion(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        days: u32,
    ) -> Result<Vec<u8>> {
        let now = self.now_ms();
        let access = Access::new("kms:ScheduleKeyDeletion").with(
            "kms:ScheduleKeyDeletionPendingWindowInDays",
            days.to_string(),
        );
        let ((), r) = self.mutate_key(caller, key, &access, |r| {
            match r.state {
                KeyState::Enabled | KeyState::Disabled | KeyState::PendingImport => {}
                _ => return Err(super::state_error(r)),
            }
            r.state = KeyState::PendingDeletion;
            r.deletion_ms = Some(now + i64::from(days) * DAY_MS);
            r.pending_window_days = Some(days);
            Ok(())
        })?;
        json(&ScheduleReply {
            key_id: r.arn(),
            deletion_date: r.deletion_ms.unwrap_or(now),
            key_state: r.state.as_str(),
            pending_window_in_days: days,
        })
    }

    pub(super) fn cancel_deletion(&self, caller: &Caller<'_>, key: &KeyRef) -> Result<Vec<u8>> {
        let access = Access::new("kms:CancelKeyDeletion");
        let ((), r) = self.mutate_key(caller, key, &access, |r| {
            if r.state != KeyState::PendingDeletion {
                return Err(KmsError::InvalidState(format!(
                    "{} is not pending deletion.",
                    r.arn()
                )));
            }
            // A key whose imported material is missing waits for it again.
            r.state = if r.origin == Origin::External && !super::import::all_permanent_present(r) {
                KeyState::PendingImport
            } else {
                KeyState::Disabled
            };
            r.deletion_ms = None;
            r.pending_window_days = None;
            Ok(())
        })?;
        json(&KeyIdReply { key_id: r.arn() })
    }

    pub(super) fn update_description(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        description: String,
    ) -> Result<Vec<u8>> {
        let access = Access::new("kms:UpdateKeyDescription");
        self.mutate_key(caller, key, &access, |r| {
            require_manageable(r)?;
            r.description = description;
            Ok(())
        })?;
        Ok(b"{}".to_vec())
    }
}

/// Operations that change a key's attributes need it Enabled or Disabled (or awaiting
/// import), as AWS's key-state table says.
pub(super) fn require_manageable(r: &KeyRecord) -> Result<()> {
    match r.state {
        KeyState::Enabled | KeyState::Disabled | KeyState::PendingImport => Ok(()),
        _ => Err(super::state_error(r)),
    }
}
