//! IAM: users, access keys, roles, groups, inline and managed policies, tags.
//!
//! Every change takes the writer lock, reads the entity fresh from the store, writes
//! it back, then drops what the caches derived from it (credentials of a changed
//! user, every cached identity policy set of the account), so the next request sees
//! the change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use keyfort_crypto::SecretBytes;
use keyfort_policy::{Policy, PolicyKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Kms, write};
use crate::error::KmsError;
use crate::iam::{
    GroupDoc, IamEntity, IamError, IamKind, ManagedPolicyDoc, RoleDoc, Tags, UserDoc, arn,
    valid_name, valid_path,
};
use crate::model::{AccessKeyRecord, AccessKeyStatus, AccountId};
use crate::store::{Page, StoreError};

mod policies;

type IamResult<T> = std::result::Result<T, IamError>;

/// Most access keys a user may have, as AWS.
pub const MAX_ACCESS_KEYS_PER_USER: usize = 2;
/// Most tags on a user or role, as AWS.
pub const MAX_TAGS: usize = 50;
/// Most managed policies attached to one user, role or group (AWS's default quota).
pub const MAX_ATTACHED: usize = 10;
/// Default and longest MaxSessionDuration of a role, in seconds.
pub const DEFAULT_MAX_SESSION: u32 = 3600;
const LONGEST_MAX_SESSION: u32 = 43_200;

/// What the identity cache keeps for a user or role: its unique id, tags, and every
/// identity policy that applies to it, parsed.
#[derive(Debug)]
pub(crate) struct Identity {
    pub(crate) id: String,
    pub(crate) path: String,
    pub(crate) tags: Tags,
    pub(crate) policies: Arc<[Arc<Policy>]>,
}

/// Cached identities by (account, kind, lowercased name); cleared on every IAM change.
#[derive(Debug, Default)]
pub(crate) struct IdentityCache {
    entries: RwLock<HashMap<(AccountId, IamKind, String), Arc<Identity>>>,
    /// Verified role sessions by access key id: the token, the credential, the expiry.
    pub(crate) sessions: RwLock<HashMap<String, CachedSession>>,
}

/// A verified session token and what it authenticates as.
#[derive(Debug)]
pub(crate) struct CachedSession {
    pub(crate) token: keyfort_crypto::SecretBytes,
    pub(crate) credential: Arc<super::Credential>,
    pub(crate) expires_ms: i64,
}

/// Most verified sessions kept; the cache is cleared when it fills.
pub(crate) const SESSION_CACHE_MAX: usize = 4096;

/// A user, role, group or policy with its decoded document.
#[derive(Debug, Clone)]
pub struct Entity<D> {
    /// The stored row.
    pub entity: IamEntity,
    /// The decoded details.
    pub doc: D,
}

impl<D> Entity<D> {
    /// The entity's ARN, given its path.
    pub fn arn_with(&self, path: &str) -> String {
        arn(
            &self.entity.account,
            self.entity.kind,
            path,
            &self.entity.name,
        )
    }
}

/// Entities whose documents carry inline and attached policies.
pub trait PolicyHolder: Serialize + DeserializeOwned {
    /// The kind of entity.
    const KIND: IamKind;
    /// Inline policies by name.
    fn inline(&mut self) -> &mut std::collections::BTreeMap<String, String>;
    /// Attached managed policy ARNs.
    fn attached(&mut self) -> &mut Vec<String>;
    /// The path.
    fn path(&self) -> &str;
    /// Most characters (without whitespace) of all inline policies together.
    const INLINE_LIMIT: usize;
}

impl PolicyHolder for UserDoc {
    const KIND: IamKind = IamKind::User;
    const INLINE_LIMIT: usize = 2048;
    fn inline(&mut self) -> &mut std::collections::BTreeMap<String, String> {
        &mut self.inline
    }
    fn attached(&mut self) -> &mut Vec<String> {
        &mut self.attached
    }
    fn path(&self) -> &str {
        &self.path
    }
}
impl PolicyHolder for RoleDoc {
    const KIND: IamKind = IamKind::Role;
    const INLINE_LIMIT: usize = 10_240;
    fn inline(&mut self) -> &mut std::collections::BTreeMap<String, String> {
        &mut self.inline
    }
    fn attached(&mut self) -> &mut Vec<String> {
        &mut self.attached
    }
    fn path(&self) -> &str {
        &self.path
    }
}
impl PolicyHolder for GroupDoc {
    const KIND: IamKind = IamKind::Group;
    const INLINE_LIMIT: usize = 5120;
    fn inline(&mut self) -> &mut std::collections::BTreeMap<String, String> {
        &mut self.inline
    }
    fn attached(&mut self) -> &mut Vec<String> {
        &mut self.attached
    }
    fn path(&self) -> &str {
        &self.path
    }
}

/// The friendly word AWS uses for a kind in messages.
fn noun(kind: IamKind) -> &'static str {
    match kind {
        IamKind::User => "user",
        IamKind::Role => "role",
        IamKind::Group => "group",
        IamKind::Policy => "policy",
    }
}

fn non_space_len(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

/// Parses an identity policy document, with IAM's size limit.
pub fn parse_identity_policy(document: &str, limit: usize) -> IamResult<Policy> {
    if document.is_empty() {
        return Err(IamError::Validation(
            "The policy document must not be empty.".into(),
        ));
    }
    if non_space_len(document) > limit {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {limit}"
        )));
    }
    Policy::parse(document, PolicyKind::Identity)
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))
}

/// Validates tags to add (count, lengths, duplicates).
pub fn check_tags(existing: &Tags, new: &Tags) -> IamResult<()> {
    let mut seen = std::collections::HashSet::new();
    for (k, v) in new {
        if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
            return Err(IamError::Validation(
                "A tag key is 1 to 128 characters and a value up to 256.".into(),
            ));
        }
        if k.starts_with("aws:") {
            return Err(IamError::InvalidInput(
                "User-defined tag keys cannot start with aws:.".into(),
            ));
        }
        if !seen.insert(k.to_ascii_lowercase()) {
            return Err(IamError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.".into(),
            ));
        }
    }
    let added = new
        .iter()
        .filter(|(k, _)| !existing.iter().any(|(e, _)| e.eq_ignore_ascii_case(k)))
        .count();
    if existing.len() + added > MAX_TAGS {
        return Err(IamError::LimitExceeded(format!(
            "The number of tags has reached the maximum limit of {MAX_TAGS}."
        )));
    }
    Ok(())
}

fn merge_tags(existing: &mut Tags, new: Tags) {
    for (k, v) in new {
        match existing
            .iter_mut()
            .find(|(e, _)| e.eq_ignore_ascii_case(&k))
        {
            Some(slot) => *slot = (k, v),
            None => existing.push((k, v)),
        }
    }
}

fn encode<D: Serialize>(doc: &D) -> IamResult<String> {
    serde_json::to_string(doc)
        .map_err(|_| IamError::Internal(KmsError::Internal("IAM document serialization failed")))
}

fn decode<D: DeserializeOwned>(e: &IamEntity) -> IamResult<D> {
    serde_json::from_str(&e.doc).map_err(|err| {
        IamError::Internal(KmsError::Store(StoreError::Corrupt {
            table: "iam_entities",
            detail: format!("{} {}: {err}", e.kind, e.name),
        }))
    })
}

/// A unique id: the kind's prefix and 17 characters, as IAM's.
fn unique_id(kind: IamKind) -> IamResult<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let raw = keyfort_crypto::random_bytes(17).map_err(KmsError::Crypto)?;
    let tail: String = raw
        .expose()
        .iter()
        .map(|b| ALPHABET[*b as usize & 31] as char)
        .collect();
    Ok(format!("{}{tail}", kind.id_prefix()))
}

/// The (account, name) a managed policy ARN names, if it is one of `account`'s.
fn policy_name_from_arn<'a>(account: &AccountId, policy_arn: &'a str) -> Option<&'a str> {
    let rest = policy_arn.strip_prefix(&format!("arn:aws:iam::{account}:policy/"))?;
    Some(rest.rsplit('/').next().unwrap_or(rest))
}

/// A page of a listing: items, and the marker of the next page if there is one.
#[derive(Debug)]
pub struct Listing<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts (`Marker`), when `IsTruncated`.
    pub marker: Option<String>,
}

impl Kms {
    pub(crate) fn invalidate_identities(&self) {
        write(&self.iam.entries).clear();
        // A session's principal carries its role's tags and depends on the role
        // existing: verify every session again after any IAM change.
        write(&self.iam.sessions).clear();
    }

    /// Drops cached credentials that authenticate as `principal_arn`.
    fn forget_credentials_of(&self, principal_arn: &str) {
        write(&self.credentials).retain(|_, c| c.principal.arn != principal_arn);
    }

    pub(crate) fn load<D: DeserializeOwned>(
        &self,
        account: &AccountId,
        kind: IamKind,
        name: &str,
    ) -> IamResult<Entity<D>> {
        match self.store.get_iam_entity(account, kind, name)? {
            Some(entity) => Ok(Entity {
                doc: decode(&entity)?,
                entity,
            }),
            None => Err(IamError::NoSuchEntity(format!(
                "The {} with name {name} cannot be found.",
                noun(kind)
            ))),
        }
    }

    fn save<D: Serialize>(&self, e: &Entity<D>) -> IamResult<()> {
        let entity = IamEntity {
            doc: encode(&e.doc)?,
            ..e.entity.clone()
        };
        self.store.update_iam_entity(&entity)?;
        self.invalidate_identities();
        Ok(())
    }

    fn create_entity<D: Serialize>(
        &self,
        account: &AccountId,
        kind: IamKind,
        name: &str,
        doc: D,
    ) -> IamResult<Entity<D>> {
        self.ensure_account_exists(account)?;
        let entity = IamEntity {
            account: account.clone(),
            kind,
            name: name.to_owned(),
            id: unique_id(kind)?,
            doc: encode(&doc)?,
            created_ms: self.now_ms(),
        };
        match self.store.create_iam_entity(&entity) {
            Ok(()) => Ok(Entity { entity, doc }),
            Err(StoreError::Conflict) => Err(IamError::EntityAlreadyExists(format!(
                "{} with name {name} already exists.",
                match kind {
                    IamKind::User => "User",
                    IamKind::Role => "Role",
                    IamKind::Group => "Group",
                    IamKind::Policy => "A policy called",
                }
            ))),
            Err(e) => Err(e.into()),
        }
    }

    fn ensure_account_exists(&self, account: &AccountId) -> IamResult<()> {
        if self.store.get_account(account)?.is_none() {
            return Err(IamError::Internal(KmsError::Internal(
                "caller's account is not stored",
            )));
        }
        Ok(())
    }

    fn list_entities<D: DeserializeOwned>(
        &self,
        account: &AccountId,
        kind: IamKind,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: usize,
        path_of: impl Fn(&D) -> &str,
    ) -> IamResult<Listing<Entity<D>>> {
        let mut items = Vec::new();
        let mut after = marker.map(str::to_owned);
        loop {
            let batch = self.store.list_iam_entities(
                account,
                kind,
                Page {
                    after: after.as_deref(),
                    limit: 200,
                },
            )?;
            let done = batch.len() < 200;
            for entity in batch {
                after = Some(entity.name_key());
                let doc: D = decode(&entity)?;
                if path_prefix.is_none_or(|p| path_of(&doc).starts_with(p)) {
                    if items.len() == max_items {
                        let marker = items.last().map(|e: &Entity<D>| e.entity.name_key());
                        return Ok(Listing { items, marker });
                    }
                    items.push(Entity { entity, doc });
                }
            }
            if done {
                return Ok(Listing {
                    items,
                    marker: None,
                });
            }
        }
    }

    /// The stored path of a user, role, group or policy, if it exists.
    pub fn iam_path(&self, account: &AccountId, kind: IamKind, name: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct PathOnly {
            path: String,
        }
        let entity = self.store.get_iam_entity(account, kind, name).ok()??;
        decode::<PathOnly>(&entity).ok().map(|d| d.path)
    }

    // ---- users ----------------------------------------------------------------

    /// CreateUser.
    pub fn iam_create_user(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
        tags: Tags,
    ) -> IamResult<Entity<UserDoc>> {
        check_name(name, 64, "userName")?;
        check_path(path)?;
        check_tags(&Vec::new(), &tags)?;
        let _w = self.lock_writer();
        self.create_entity(
            account,
            IamKind::User,
            name,
            UserDoc {
                path: path.to_owned(),
                tags,
                ..UserDoc::default()
            },
        )
    }

    /// GetUser.
    pub fn iam_get_user(&self, account: &AccountId, name: &str) -> IamResult<Entity<UserDoc>> {
        self.load(account, IamKind::User, name)
    }

    /// ListUsers.
    pub fn iam_list_users(
        &self,
        account: &AccountId,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: usize,
    ) -> IamResult<Listing<Entity<UserDoc>>> {
        self.list_entities(
            account,
            IamKind::User,
            path_prefix,
            marker,
            max_items,
            |d: &UserDoc| &d.path,
        )
    }

    /// DeleteUser: refused while the user has access keys, policies or groups.
    pub fn iam_delete_user(&self, account: &AccountId, name: &str) -> IamResult<()> {
        let _w = self.lock_writer();
        let user: Entity<UserDoc> = self.load(account, IamKind::User, name)?;
        let user_arn = user.arn_with(&user.doc.path);
        let conflict = if !self.store.list_access_keys(account, &user_arn)?.is_empty() {
            Some("access keys")
        } else if !user.doc.inline.is_empty() {
            Some("inline policies")
        } else if !user.doc.attached.is_empty() {
            Some("attached policies")
        } else if !user.doc.groups.is_empty() {
            Some("group memberships")
        } else {
            None
        };
        if let Some(what) = conflict {
            return Err(IamError::DeleteConflict(format!(
                "Cannot delete entity, must remove {what} first."
            )));
        }
        self.store
            .delete_iam_entity(account, IamKind::User, &user.entity.name)?;
        self.forget_credentials_of(&user_arn);
        self.invalidate_identities();
        Ok(())
    }

    /// TagUser / TagRole.
    pub fn iam_tag(
        &self,
        account: &AccountId,
        kind: IamKind,
        name: &str,
        tags: Tags,
    ) -> IamResult<()> {
        let _w = self.lock_writer();
        match kind {
            IamKind::User => {
                let mut u: Entity<UserDoc> = self.load(account, kind, name)?;
                check_tags(&u.doc.tags, &tags)?;
                merge_tags(&mut u.doc.tags, tags);
                self.save(&u)?;
                self.forget_credentials_of(&u.arn_with(&u.doc.path));
            }
            _ => {
                let mut r: Entity<RoleDoc> = self.load(account, IamKind::Role, name)?;
                check_tags(&r.doc.tags, &tags)?;
                merge_tags(&mut r.doc.tags, tags);
                self.save(&r)?;
            }
        }
        Ok(())
    }

    /// UntagUser / UntagRole.
    pub fn iam_untag(
        &self,
        account: &AccountId,
        kind: IamKind,
        name: &str,
        keys: &[String],
    ) -> IamResult<()> {
        let _w = self.lock_writer();
        let drop_keys = |tags: &mut Tags| {
            tags.retain(|(k, _)| !keys.iter().any(|r| r.eq_ignore_ascii_case(k)));
        };
        match kind {
            IamKind::User => {
                let mut u: Entity<UserDoc> = self.load(account, kind, name)?;
                drop_keys(&mut u.doc.tags);
                self.save(&u)?;
                self.forget_credentials_of(&u.arn_with(&u.doc.path));
            }
            _ => {
                let mut r: Entity<RoleDoc> = self.load(account, IamKind::Role, name)?;
                drop_keys(&mut r.doc.tags);
                self.save(&r)?;
            }
        }
        Ok(())
    }

    // ---- access keys --------------------------------------------------------------

    /// CreateAccessKey for an IAM user: the secret is returned once and stored sealed.
    pub fn iam_create_access_key(
        &self,
        account: &AccountId,
        user: &str,
    ) -> IamResult<(AccessKeyRecord, SecretBytes, String)> {
        let _w = self.lock_writer();
        let u: Entity<UserDoc> = self.load(account, IamKind::User, user)?;
        let user_arn = u.arn_with(&u.doc.path);
        if self.store.list_access_keys(account, &user_arn)?.len() >= MAX_ACCESS_KEYS_PER_USER {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS_PER_USER}"
            )));
        }
        let (id, secret) = super::generate_access_key()?;
        let sealed = self
            .root
            .seal(secret.expose(), &Self::access_key_aad(&id, account))
            .map_err(KmsError::Crypto)?;
        let record = AccessKeyRecord {
            access_key_id: id,
            account: account.clone(),
            principal_arn: user_arn,
            sealed_secret: sealed,
            status: AccessKeyStatus::Active,
            created_ms: self.now_ms(),
        };
        self.store.create_access_key(&record)?;
        Ok((record, secret, u.entity.name))
    }

    /// The keys of a user, and the user's stored name.
    pub fn iam_list_access_keys(
        &self,
        account: &AccountId,
        user: &str,
    ) -> IamResult<(Vec<AccessKeyRecord>, String)> {
        let u: Entity<UserDoc> = self.load(account, IamKind::User, user)?;
        let keys = self
            .store
            .list_access_keys(account, &u.arn_with(&u.doc.path))?;
        Ok((keys, u.entity.name))
    }

    fn user_key(
        &self,
        account: &AccountId,
        user: &str,
        access_key_id: &str,
    ) -> IamResult<AccessKeyRecord> {
        let u: Entity<UserDoc> = self.load(account, IamKind::User, user)?;
        let user_arn = u.arn_with(&u.doc.path);
        match self.store.get_access_key(access_key_id)? {
            Some(k) if k.account == *account && k.principal_arn == user_arn => Ok(k),
            _ => Err(IamError::NoSuchEntity(format!(
                "The Access Key with id {access_key_id} cannot be found."
            ))),
        }
    }

    /// UpdateAccessKey: takes effect at once on this node (the cached credential goes).
    pub fn iam_update_access_key(
        &self,
        account: &AccountId,
        user: &str,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> IamResult<()> {
        let _w = self.lock_writer();
        let k = self.user_key(account, user, access_key_id)?;
        self.store.set_access_key_status(&k.access_key_id, status)?;
        write(&self.credentials).remove(&k.access_key_id);
        Ok(())
    }

    /// DeleteAccessKey: takes effect at once on this node.
    pub fn iam_delete_access_key(
        &self,
        account: &AccountId,
        user: &str,
        access_key_id: &str,
    ) -> IamResult<()> {
        let _w = self.lock_writer();
        let k = self.user_key(account, user, access_key_id)?;
        self.store.delete_access_key(&k.access_key_id)?;
        write(&self.credentials).remove(&k.access_key_id);
        Ok(())
    }

    // ---- groups -----------------------------------------------------------------

    /// CreateGroup.
    pub fn iam_create_group(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
    ) -> IamResult<Entity<GroupDoc>> {
        check_name(name, 128, "groupName")?;
        check_path(path)?;
        let _w = self.lock_writer();
        self.create_entity(
            account,
            IamKind::Group,
            name,
            GroupDoc {
                path: path.to_owned(),
                ..GroupDoc::default()
            },
        )
    }

    /// ListGroups.
    pub fn iam_list_groups(
        &self,
        account: &AccountId,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: usize,
    ) -> IamResult<Listing<Entity<GroupDoc>>> {
        self.list_entities(
            account,
            IamKind::Group,
            path_prefix,
            marker,
            max_items,
            |d: &GroupDoc| &d.path,
        )
    }

    /// ListGroupsForUser: the groups a user is in.
    pub fn iam_groups_for_user(
        &self,
        account: &AccountId,
        user: &str,
    ) -> IamResult<Vec<Entity<GroupDoc>>> {
        let u: Entity<UserDoc> = self.load(account, IamKind::User, user)?;
        let mut groups = Vec::new();
        for g in &u.doc.groups {
            match self.load::<GroupDoc>(account, IamKind::Group, g) {
                Ok(e) => groups.push(e),
                Err(IamError::NoSuchEntity(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(groups)
    }

    /// GetGroup: the group and its users.
    pub fn iam_get_group(
        &self,
        account: &AccountId,
        name: &str,
    ) -> IamResult<(Entity<GroupDoc>, Vec<Entity<UserDoc>>)> {
        let g: Entity<GroupDoc> = self.load(account, IamKind::Group, name)?;
        let users = self
            .iam_list_users(account, None, None, usize::MAX)?
            .items
            .into_iter()
            .filter(|u| {
                u.doc
                    .groups
                    .iter()
                    .any(|n| n.eq_ignore_ascii_case(&g.entity.name))
            })
            .collect();
        Ok((g, users))
    }

    /// AddUserToGroup / RemoveUserFromGroup.
    pub fn iam_group_membership(
        &self,
        account: &AccountId,
        group: &str,
        user: &str,
        add: bool,
    ) -> IamResult<()> {
        let _w = self.lock_writer();
        let g: Entity<GroupDoc> = self.load(account, IamKind::Group, group)?;
        let mut u: Entity<UserDoc> = self.load(account, IamKind::User, user)?;
        let gname = g.entity.name.clone();
        let present = u.doc.groups.iter().any(|n| n.eq_ignore_ascii_case(&gname));
        if add && !present {
            u.doc.groups.push(gname);
        } else if !add {
            if !present {
                return Err(IamError::NoSuchEntity(format!(
                    "User {user} is not in group {group}."
                )));
            }
            u.doc.groups.retain(|n| !n.eq_ignore_ascii_case(&gname));
        }
        self.save(&u)
    }

    /// DeleteGroup: refused while it has members or policies.
    pub fn iam_delete_group(&self, account: &AccountId, name: &str) -> IamResult<()> {
        let (g, users) = self.iam_get_group(account, name)?;
        let _w = self.lock_writer();
        if !users.is_empty() || !g.doc.inline.is_empty() || !g.doc.attached.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must remove users and policies from group first.".into(),
            ));
        }
        self.store
            .delete_iam_entity(account, IamKind::Group, &g.entity.name)?;
        self.invalidate_identities();
        Ok(())
    }

    // ---- roles ----------------------------------------------------------------------

    /// CreateRole: the trust policy is parsed and validated as one.
    #[allow(clippy::too_many_arguments)]
    pub fn iam_create_role(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
        trust: &str,
        description: Option<String>,
        max_session_seconds: Option<u32>,
        tags: Tags,
    ) -> IamResult<Entity<RoleDoc>> {
        check_name(name, 64, "roleName")?;
        check_path(path)?;
        check_tags(&Vec::new(), &tags)?;
        parse_trust_policy(trust)?;
        let max = max_session_seconds.unwrap_or(DEFAULT_MAX_SESSION);
        if !(DEFAULT_MAX_SESSION..=LONGEST_MAX_SESSION).contains(&max) {
            return Err(IamError::Validation(format!(
                "1 validation error detected: Value '{max}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to {LONGEST_MAX_SESSION} and greater than or equal to {DEFAULT_MAX_SESSION}"
            )));
        }
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 1000)
        {
            return Err(IamError::Validation(
                "The description is at most 1000 characters.".into(),
            ));
        }
        let _w = self.lock_writer();
        self.create_entity(
            account,
            IamKind::Role,
            name,
            RoleDoc {
                path: path.to_owned(),
                trust: trust.to_owned(),
                description,
                max_session_seconds: max,
                tags,
                ..RoleDoc::default()
            },
        )
    }

    /// GetRole.
    pub fn iam_get_role(&self, account: &AccountId, name: &str) -> IamResult<Entity<RoleDoc>> {
        self.load(account, IamKind::Role, name)
    }

    /// ListRoles.
    pub fn iam_list_roles(
        &self,
        account: &AccountId,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: usize,
    ) -> IamResult<Listing<Entity<RoleDoc>>> {
        self.list_entities(
            account,
            IamKind::Role,
            path_prefix,
            marker,
            max_items,
            |d: &RoleDoc| &d.path,
        )
    }

    /// DeleteRole: refused while it has policies. Its sessions stop working at once
    /// (every session request checks that the role still exists with the same id).
    pub fn iam_delete_role(&self, account: &AccountId, name: &str) -> IamResult<()> {
        let _w = self.lock_writer();
        let r: Entity<RoleDoc> = self.load(account, IamKind::Role, name)?;
        if !r.doc.inline.is_empty() || !r.doc.attached.is_empty() {
            return Err(IamError::DeleteConflict(
                "Cannot delete entity, must remove policies first.".into(),
            ));
        }
        self.store
            .delete_iam_entity(account, IamKind::Role, &r.entity.name)?;
        self.invalidate_identities();
        Ok(())
    }

    /// UpdateAssumeRolePolicy.
    pub fn iam_update_trust(&self, account: &AccountId, name: &str, trust: &str) -> IamResult<()> {
        parse_trust_policy(trust)?;
        let _w = self.lock_writer();
        let mut r: Entity<RoleDoc> = self.load(account, IamKind::Role, name)?;
        r.doc.trust = trust.to_owned();
        self.save(&r)
    }
}

/// Parses a role trust policy, with AWS's default size quota (2048 characters).
pub fn parse_trust_policy(document: &str) -> IamResult<Policy> {
    if document.is_empty() {
        return Err(IamError::Validation(
            "The trust policy document must not be empty.".into(),
        ));
    }
    if non_space_len(document) > 2048 {
        return Err(IamError::LimitExceeded(
            "Cannot exceed quota for ACLSizePerRole: 2048".into(),
        ));
    }
    Policy::parse(document, PolicyKind::Trust)
        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))
}

fn check_name(name: &str, max: usize, field: &str) -> IamResult<()> {
    if valid_name(name, max) {
        Ok(())
    } else {
        Err(IamError::Validation(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and {max}"
        )))
    }
}

fn check_path(path: &str) -> IamResult<()> {
    if valid_path(path) {
        Ok(())
    } else {
        Err(IamError::Validation(format!(
            "1 validation error detected: Value '{path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )))
    }
}
