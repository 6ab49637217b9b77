//! CreateAlias, UpdateAlias, DeleteAlias, ListAliases.

use serde::Serialize;

use super::authz::Access;
use super::{Caller, Kms, json, write};
use crate::api::ListPage;
use crate::api::wire::ser_epoch;
use crate::arn::{KeyRef, is_alias_name};
use crate::error::{KmsError, Result};
use crate::model::{AliasRecord, KeyState};
use crate::store::{Page, StoreError};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AliasEntry {
    alias_name: String,
    alias_arn: String,
    target_key_id: String,
    #[serde(serialize_with = "ser_epoch")]
    creation_date: i64,
    #[serde(serialize_with = "ser_epoch")]
    last_updated_date: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListAliasesReply {
    aliases: Vec<AliasEntry>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

fn reserved(name: &str) -> Result<()> {
    if name.starts_with("alias/aws/") {
        return Err(KmsError::InvalidAliasName(format!(
            "Alias {name} is reserved: the alias/aws/ prefix is for AWS managed keys."
        )));
    }
    Ok(())
}

fn not_alias(target: &KeyRef) -> Result<()> {
    if target.is_alias() {
        return Err(KmsError::Validation(
            "TargetKeyId must be a key ID or key ARN, not an alias.".into(),
        ));
    }
    Ok(())
}

impl Kms {
    fn alias_target_key(
        &self,
        caller: &Caller<'_>,
        target: &KeyRef,
        access: &Access<'_>,
    ) -> Result<std::sync::Arc<super::LiveKey>> {
        not_alias(target)?;
        let key = self.resolve(caller, target, access)?;
        super::managed::require_customer_managed(&key.record)?;
        if key.record.state == KeyState::PendingDeletion {
            return Err(super::state_error(&key.record));
        }
        Ok(key)
    }

    fn forget_alias(&self, caller: &Caller<'_>, name: &str) {
        write(&self.aliases).remove(&(
            caller.account().clone(),
            caller.region.to_owned(),
            name.to_owned(),
        ));
        self.alias_index.clear();
    }

    pub(super) fn create_alias(
        &self,
        caller: &Caller<'_>,
        name: String,
        target: &KeyRef,
    ) -> Result<Vec<u8>> {
        reserved(&name)?;
        let access = Access::new("kms:CreateAlias");
        self.authorize_identity(caller, &access, &Self::alias_arn(caller, &name))?;
        let _w = self.lock_writer();
        let key = self.alias_target_key(caller, target, &access)?;
        let now = self.now_ms();
        let record = AliasRecord {
            account: caller.account().clone(),
            region: caller.region.to_owned(),
            name,
            target_key_id: key.record.id.clone(),
            created_ms: now,
            updated_ms: now,
        };
        match self.store.create_alias(&record) {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(KmsError::AlreadyExists(format!(
                    "An alias with the name {} already exists",
                    record.arn()
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.forget_alias(caller, &record.name);
        Ok(b"{}".to_vec())
    }

    pub(super) fn update_alias(
        &self,
        caller: &Caller<'_>,
        name: String,
        target: &KeyRef,
    ) -> Result<Vec<u8>> {
        reserved(&name)?;
        let access = Access::new("kms:UpdateAlias");
        self.authorize_identity(caller, &access, &Self::alias_arn(caller, &name))?;
        let _w = self.lock_writer();
        let Some(mut alias) = self
            .store
            .get_alias(caller.account(), caller.region, &name)?
        else {
            return Err(KmsError::NotFound(format!(
                "Alias '{}' is not found.",
                Self::alias_arn(caller, &name)
            )));
        };
        let key = self.alias_target_key(caller, target, &access)?;
        if let Some(old) = self.load_key(caller.region, &alias.target_key_id)? {
            // The key the alias leaves must allow it too.
            self.authorize_key(caller, &old, &access, None)?;
            if old.record.usage != key.record.usage || old.record.spec != key.record.spec {
                return Err(KmsError::Validation(format!(
                    "The new target key must have the same key usage and key spec as the current one ({} / {}).",
                    old.record.usage, old.record.spec
                )));
            }
        }
        alias.target_key_id = key.record.id.clone();
        alias.updated_ms = self.now_ms();
        match self.store.update_alias(&alias) {
            Ok(()) => {}
            Err(StoreError::Missing) => {
                return Err(KmsError::NotFound(format!(
                    "Alias '{}' is not found.",
                    alias.arn()
                )));
            }
            Err(e) => return Err(e.into()),
        }
        self.forget_alias(caller, &name);
        Ok(b"{}".to_vec())
    }

    pub(super) fn delete_alias(&self, caller: &Caller<'_>, name: &str) -> Result<Vec<u8>> {
        reserved(name)?;
        let access = Access::new("kms:DeleteAlias");
        self.authorize_identity(caller, &access, &Self::alias_arn(caller, name))?;
        let _w = self.lock_writer();
        if let Some(alias) = self
            .store
            .get_alias(caller.account(), caller.region, name)?
        {
            if let Some(key) = self.load_key(caller.region, &alias.target_key_id)? {
                self.authorize_key(caller, &key, &access, None)?;
            }
        }
        if !self
            .store
            .delete_alias(caller.account(), caller.region, name)?
        {
            return Err(KmsError::NotFound(format!(
                "Alias '{}' is not found.",
                Self::alias_arn(caller, name)
            )));
        }
        self.forget_alias(caller, name);
        Ok(b"{}".to_vec())
    }

    pub(super) fn list_aliases(
        &self,
        caller: &Caller<'_>,
        key: Option<&KeyRef>,
        page: &ListPage,
    ) -> Result<Vec<u8>> {
        self.authorize_identity(caller, &Access::new("kms:ListAliases"), "*")?;
        if let Some(m) = &page.marker {
            if !is_alias_name(m) {
                return Err(KmsError::InvalidMarker("The marker is not valid.".into()));
            }
        }
        let key_id = match key {
            None => None,
            Some(k) if k.is_alias() => {
                return Err(KmsError::InvalidArn(
                    "KeyId must be a key ID or key ARN to list its aliases.".into(),
                ));
            }
            Some(k) => Some(
                self.find_key(caller, k, "kms:ListAliases")?
                    .0
                    .record
                    .id
                    .clone(),
            ),
        };
        let mut rows = self.store.list_aliases(
            caller.account(),
            caller.region,
            key_id.as_deref(),
            Page {
                after: page.marker.as_deref(),
                limit: page.limit + 1,
            },
        )?;
        let truncated = rows.len() > page.limit;
        rows.truncate(page.limit);
        let next_marker = if truncated {
            rows.last().map(|a| a.name.clone())
        } else {
            None
        };
        let aliases = rows
            .into_iter()
            .map(|a| AliasEntry {
                alias_arn: a.arn(),
                alias_name: a.name,
                target_key_id: a.target_key_id,
                creation_date: a.created_ms,
                last_updated_date: a.updated_ms,
            })
            .collect();
        json(&ListAliasesReply {
            aliases,
            truncated,
            next_marker,
        })
    }
}
