//! Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
//! RotateKeyOnDemand, ListKeyRotations, and the automatic rotation that the server's
//! scheduler runs ([`Kms::run_due_rotations`]).
//!
//! A rotation appends a backing key; every older one stays, so every ciphertext the
//! key ever made still decrypts. The store applies a rotation only if the key's current
//! backing key is still the one the rotation started from
//! ([`crate::store::Store::rotate_key`]), so two nodes sharing a store never rotate the
//! same key twice for one due date.

use serde::Serialize;

use super::{Caller, Kms, json, state_error};
use crate::api::ListKeyRotations;
use crate::api::wire::ser_opt_epoch;
use crate::arn::KeyRef;
use crate::clock::DAY_MS;
use crate::error::{KmsError, Result};
use crate::model::{BackingKeyRecord, KeyRecord, KeySpec, KeyState, Origin, RotationType, hex};

/// AWS's limit on on-demand rotations of one key (botocore's model documentation).
pub const MAX_ON_DEMAND_ROTATIONS: usize = 25;
/// The rotation period when EnableKeyRotation names none, and that of AWS managed keys.
pub const DEFAULT_ROTATION_PERIOD_DAYS: u32 = 365;
/// RotateKeyOnDemand is refused this close to a scheduled automatic rotation.
pub const CONFLICT_WINDOW_MS: i64 = 20 * 60 * 1000;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatusReply {
    key_rotation_enabled: bool,
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_period_in_days: Option<u32>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_epoch"
    )]
    next_rotation_date: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct KeyIdReply {
    key_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RotationEntry {
    key_id: String,
    key_material_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_material_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    import_state: Option<&'static str>,
    key_material_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_model: Option<&'static str>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_epoch"
    )]
    valid_to: Option<i64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_epoch"
    )]
    rotation_date: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rotation_type: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListRotationsReply {
    rotations: Vec<RotationEntry>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

/// A rotation the scheduler performed (for its audit record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationDone {
    /// The key's ARN.
    pub arn: String,
    /// Its region.
    pub region: String,
    /// Its account.
    pub account: String,
    /// The new current key material id (hex).
    pub key_material_id: String,
}

/// Automatic rotation is for symmetric encryption keys with KMS-made material.
fn require_automatic_rotation(r: &KeyRecord) -> Result<()> {
    if r.spec != KeySpec::SymmetricDefault {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} has KeySpec {}; automatic key rotation is supported only on symmetric encryption keys.",
            r.arn(),
            r.spec
        )));
    }
    if r.origin != Origin::AwsKms {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} has Origin {}; automatic key rotation is not supported for keys with imported key material.",
            r.arn(),
            r.origin
        )));
    }
    Ok(())
}

/// Enable/DisableKeyRotation and RotateKeyOnDemand need an Enabled key.
fn require_enabled(r: &KeyRecord) -> Result<()> {
    match r.state {
        KeyState::Enabled => Ok(()),
        _ => Err(state_error(r)),
    }
}

impl Kms {
    /// A new generated backing key that a rotation of `type_` makes current now.
    fn rotated_backing_key(&self, r: &KeyRecord, type_: RotationType) -> Result<BackingKeyRecord> {
        let mut b = self.new_backing_key(&r.id, r.spec)?;
        b.rotation_type = Some(type_);
        b.rotated_ms = Some(b.created_ms);
        Ok(b)
    }

    pub(super) fn enable_key_rotation(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        period: Option<u32>,
    ) -> Result<Vec<u8>> {
        let now = self.now_ms();
        let mut access = super::authz::Access::new("kms:EnableKeyRotation");
        if let Some(days) = period {
            access = access.with("kms:RotationPeriodInDays", days.to_string());
        }
        self.mutate_key(caller, key, &access, |r| {
            require_automatic_rotation(r)?;
            require_enabled(r)?;
            let days = period.unwrap_or(DEFAULT_ROTATION_PERIOD_DAYS);
            let span = i64::from(days) * DAY_MS;
            // Changing the period of an enabled schedule keeps its starting point.
            r.next_rotation_ms = Some(match (r.rotation_period_days, r.next_rotation_ms) {
                (Some(old), Some(next)) => next - i64::from(old) * DAY_MS + span,
                _ => now + span,
            });
            r.rotation_period_days = Some(days);
            Ok(())
        })?;
        Ok(b"{}".to_vec())
    }

    pub(super) fn disable_key_rotation(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
    ) -> Result<Vec<u8>> {
        let access = super::authz::Access::new("kms:DisableKeyRotation");
        self.mutate_key(caller, key, &access, |r| {
            require_automatic_rotation(r)?;
            require_enabled(r)?;
            r.rotation_period_days = None;
            r.next_rotation_ms = None;
            Ok(())
        })?;
        Ok(b"{}".to_vec())
    }

    pub(super) fn get_key_rotation_status(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
    ) -> Result<Vec<u8>> {
        let live = self.resolve(
            caller,
            key,
            &super::authz::Access::new("kms:GetKeyRotationStatus"),
        )?;
        let r = &live.record;
        if r.spec != KeySpec::SymmetricDefault {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} has KeySpec {}; key rotation is supported only on symmetric encryption keys.",
                r.arn(),
                r.spec
            )));
        }
        json(&StatusReply {
            key_rotation_enabled: r.rotation_period_days.is_some(),
            key_id: r.arn(),
            rotation_period_in_days: r.rotation_period_days,
            next_rotation_date: r.rotation_period_days.and(r.next_rotation_ms),
        })
    }

    pub(super) fn rotate_key_on_demand(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
    ) -> Result<Vec<u8>> {
        let now = self.now_ms();
        let _w = self.lock_writer();
        let mut r = self.resolve_for_write(
            caller,
            key,
            &super::authz::Access::new("kms:RotateKeyOnDemand"),
        )?;
        super::managed::require_customer_managed(&r)?;
        if r.spec != KeySpec::SymmetricDefault {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} has KeySpec {}; on-demand rotation is supported only on symmetric encryption keys.",
                r.arn(),
                r.spec
            )));
        }
        require_enabled(&r)?;
        let done = r
            .backing_keys
            .iter()
            .filter(|b| b.rotation_type == Some(RotationType::OnDemand))
            .count();
        if done >= MAX_ON_DEMAND_ROTATIONS {
            return Err(KmsError::LimitExceeded(format!(
                "{} has reached the limit of {MAX_ON_DEMAND_ROTATIONS} on-demand rotations.",
                r.arn()
            )));
        }
        if r.rotation_period_days.is_some()
            && r.next_rotation_ms
                .is_some_and(|next| next - now <= CONFLICT_WINDOW_MS)
        {
            return Err(KmsError::Conflict(format!(
                "An automatic rotation of {} is in progress or scheduled to begin within the next 20 minutes.",
                r.arn()
            )));
        }
        let expected = r
            .current_backing_key()
            .map(|b| b.id)
            .ok_or(KmsError::Internal(
                "enabled key without a current backing key",
            ))?;
        if r.origin == Origin::External {
            // Imported keys rotate to material imported beforehand as NEW_KEY_MATERIAL
            // (the newest such material that is present).
            let arn = r.arn();
            let any_pending = r.backing_keys.iter().any(|b| b.is_pending_rotation());
            let Some(pending) = r
                .backing_keys
                .iter_mut()
                .rev()
                .find(|b| b.is_pending_rotation() && b.is_present())
            else {
                if any_pending {
                    return Err(KmsError::InvalidState(format!(
                        "The key material pending rotation of {arn} was deleted; import it again first."
                    )));
                }
                return Err(KmsError::UnsupportedOperation(format!(
                    "{arn} has imported key material: import new key material (ImportType NEW_KEY_MATERIAL) before rotating it on demand."
                )));
            };
            if let Some(imp) = pending.import.as_mut() {
                imp.pending_rotation = false;
            }
            pending.rotation_type = Some(RotationType::OnDemand);
            pending.rotated_ms = Some(now);
        } else {
            let b = self.rotated_backing_key(&r, RotationType::OnDemand)?;
            r.backing_keys.push(b);
        }
        if !self.store.rotate_key(&r, &expected)? {
            return Err(KmsError::Conflict(format!(
                "A rotation of {} is already in progress.",
                r.arn()
            )));
        }
        self.cache_key(r.clone())?;
        tracing::info!(key_id = %r.id, region = %r.region, "key rotated on demand");
        json(&KeyIdReply { key_id: r.id })
    }

    pub(super) fn list_key_rotations(
        &self,
        caller: &Caller<'_>,
        req: &ListKeyRotations,
    ) -> Result<Vec<u8>> {
        let live = self.resolve(
            caller,
            &req.key,
            &super::authz::Access::new("kms:ListKeyRotations"),
        )?;
        let r = &live.record;
        if r.spec != KeySpec::SymmetricDefault {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} has KeySpec {}; only symmetric encryption keys have key rotations.",
                r.arn(),
                r.spec
            )));
        }
        let current = r.current_backing_key().map(|b| b.id);
        let listed: Vec<&BackingKeyRecord> = r
            .backing_keys
            .iter()
            .filter(|b| {
                req.all_key_material || (b.rotated_ms.is_some() && !b.is_pending_rotation())
            })
            .collect();
        let start = match &req.page.marker {
            None => 0,
            Some(m) => match m.parse::<usize>() {
                Ok(n) if n > 0 && n <= listed.len() => n,
                _ => return Err(KmsError::InvalidMarker("The marker is not valid.".into())),
            },
        };
        let end = (start + req.page.limit).min(listed.len());
        let rotations = listed[start..end]
            .iter()
            .map(|b| {
                let imp = b.import.as_ref();
                RotationEntry {
                    key_id: r.id.clone(),
                    key_material_id: hex(&b.id),
                    key_material_description: imp.map(|i| i.description.clone()),
                    import_state: imp.map(|i| i.state.as_str()),
                    key_material_state: if b.is_pending_rotation() {
                        "PENDING_ROTATION"
                    } else if Some(b.id) == current {
                        "CURRENT"
                    } else {
                        "NON_CURRENT"
                    },
                    expiration_model: imp.map(|i| i.expiration.as_str()),
                    valid_to: imp.and_then(|i| i.valid_to_ms),
                    rotation_date: b.rotated_ms,
                    rotation_type: b.rotation_type.map(RotationType::as_str),
                }
            })
            .collect();
        let truncated = end < listed.len();
        json(&ListRotationsReply {
            rotations,
            truncated,
            next_marker: truncated.then(|| end.to_string()),
        })
    }

    /// Rotates every key whose automatic rotation is due. Returns what was rotated,
    /// for the audit trail. A key another node rotated first is skipped.
    pub fn run_due_rotations(&self) -> Result<Vec<RotationDone>> {
        let now = self.now_ms();
        let mut done = Vec::new();
        for (region, id) in self.store.keys_due_for_rotation(now)? {
            let _w = self.lock_writer();
            let Some(mut r) = self.store.get_key(&region, &id)? else {
                continue;
            };
            let (Some(days), Some(next)) = (r.rotation_period_days, r.next_rotation_ms) else {
                continue;
            };
            if r.state != KeyState::Enabled || next > now || r.spec != KeySpec::SymmetricDefault {
                continue;
            }
            let Some(expected) = r.current_backing_key().map(|b| b.id) else {
                continue;
            };
            let b = self.rotated_backing_key(&r, RotationType::Automatic)?;
            let material_id = hex(&b.id);
            r.backing_keys.push(b);
            // The schedule keeps its rhythm; after a long outage it restarts from now.
            let span = i64::from(days) * DAY_MS;
            let mut following = next + span;
            if following <= now {
                following = now + span;
            }
            r.next_rotation_ms = Some(following);
            if !self.store.rotate_key(&r, &expected)? {
                tracing::info!(key_id = %id, %region, "key already rotated by another node");
                continue;
            }
            let arn = r.arn();
            let account = r.account.to_string();
            self.cache_key(r)?;
            tracing::info!(key_id = %id, %region, "key rotated automatically");
            done.push(RotationDone {
                arn,
                region,
                account,
                key_material_id: material_id,
            });
        }
        Ok(done)
    }
}
