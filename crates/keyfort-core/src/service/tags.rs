//! Tags and key policies: TagResource, UntagResource, ListResourceTags, GetKeyPolicy,
//! PutKeyPolicy, ListKeyPolicies.

use serde::Serialize;

use super::authz::{Access, parse_key_policy};
use super::keys::require_manageable;
use super::{Caller, Kms, json};
use crate::api::wire::WireTag;
use crate::api::{ListPage, MAX_TAGS};
use crate::arn::KeyRef;
use crate::error::{KmsError, Result};
use crate::model::Tag;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsReply {
    tags: Vec<WireTag>,
    truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_marker: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyReply<'a> {
    policy: &'a str,
    policy_name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListPoliciesReply {
    policy_names: Vec<&'static str>,
    truncated: bool,
}

/// The only key policy name AWS KMS has.
const POLICY_NAME: &str = "default";

fn offset_marker(page: &ListPage) -> Result<usize> {
    match &page.marker {
        None => Ok(0),
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| KmsError::InvalidMarker("The marker is not valid.".into())),
    }
}

fn policy_name(name: &str) -> Result<()> {
    if name != POLICY_NAME {
        return Err(KmsError::NotFound(format!(
            "No such policy exists: {name}. The only key policy is named default."
        )));
    }
    Ok(())
}

impl Kms {
    pub(super) fn tag_resource(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        tags: Vec<Tag>,
    ) -> Result<Vec<u8>> {
        let access = Access::new("kms:TagResource").request_tags(&tags);
        self.mutate_key(caller, key, &access, |r| {
            require_manageable(r)?;
            for t in tags {
                match r.tags.iter_mut().find(|o| o.key == t.key) {
                    Some(o) => o.value = t.value,
                    None => r.tags.push(t),
                }
            }
            if r.tags.len() > MAX_TAGS {
                return Err(KmsError::Tag(format!(
                    "A key can have at most {MAX_TAGS} tags."
                )));
            }
            Ok(())
        })?;
        Ok(b"{}".to_vec())
    }

    pub(super) fn untag_resource(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        keys: &[String],
    ) -> Result<Vec<u8>> {
        let access = Access::new("kms:UntagResource").with_all("aws:TagKeys", keys.to_vec());
        self.mutate_key(caller, key, &access, |r| {
            require_manageable(r)?;
            r.tags.retain(|t| !keys.contains(&t.key));
            Ok(())
        })?;
        Ok(b"{}".to_vec())
    }

    pub(super) fn list_resource_tags(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        page: &ListPage,
    ) -> Result<Vec<u8>> {
        let live = self.resolve(caller, key, &Access::new("kms:ListResourceTags"))?;
        let start = offset_marker(page)?;
        let all = &live.record.tags;
        if start > all.len() {
            return Err(KmsError::InvalidMarker("The marker is not valid.".into()));
        }
        let end = (start + page.limit).min(all.len());
        let truncated = end < all.len();
        let tags = all[start..end]
            .iter()
            .map(|t| WireTag {
                tag_key: Some(t.key.clone()),
                tag_value: Some(t.value.clone()),
            })
            .collect();
        json(&ListTagsReply {
            tags,
            truncated,
            next_marker: truncated.then(|| end.to_string()),
        })
    }

    pub(super) fn get_key_policy(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        name: &str,
    ) -> Result<Vec<u8>> {
        let live = self.resolve(caller, key, &Access::new("kms:GetKeyPolicy"))?;
        policy_name(name)?;
        json(&PolicyReply {
            policy: &live.record.policy,
            policy_name: POLICY_NAME,
        })
    }

    pub(super) fn put_key_policy(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        name: &str,
        policy: String,
        bypass_lockout_check: bool,
    ) -> Result<Vec<u8>> {
        policy_name(name)?;
        let parsed = parse_key_policy(&policy)?;
        let access = Access::new("kms:PutKeyPolicy")
            .with_bool("kms:BypassPolicyLockoutSafetyCheck", bypass_lockout_check);
        self.mutate_key(caller, key, &access, |r| {
            self.check_named_principals(&parsed)?;
            if !bypass_lockout_check {
                self.lockout_check(caller, &r.arn(), &parsed)?;
            }
            r.policy = policy;
            Ok(())
        })?;
        Ok(b"{}".to_vec())
    }

    pub(super) fn list_key_policies(
        &self,
        caller: &Caller<'_>,
        key: &KeyRef,
        page: &ListPage,
    ) -> Result<Vec<u8>> {
        self.resolve(caller, key, &Access::new("kms:ListKeyPolicies"))?;
        let start = offset_marker(page)?;
        let names = if start == 0 {
            vec![POLICY_NAME]
        } else {
            vec![]
        };
        json(&ListPoliciesReply {
            policy_names: names,
            truncated: false,
        })
    }
}
