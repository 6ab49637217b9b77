//! IAM policies: inline policies of users, roles and groups, customer managed
//! policies and their attachments, and the identity cache that parses them once.

use std::sync::Arc;

use keyfort_policy::{Policy, PolicyKind};

use super::{
    Entity, GroupDoc, IamError, IamKind, IamResult, Identity, Listing, MAX_ATTACHED,
    ManagedPolicyDoc, PolicyHolder, RoleDoc, Tags, UserDoc, check_name, check_path, check_tags,
    decode, non_space_len, noun, parse_identity_policy, policy_name_from_arn,
};
use crate::model::AccountId;
use crate::service::{Kms, read, write};

impl Kms {
    // ---- inline policies (users, roles, groups) ------------------------------------

    /// PutUserPolicy / PutRolePolicy / PutGroupPolicy.
    pub fn iam_put_inline<D: PolicyHolder>(
        &self,
        account: &AccountId,
        name: &str,
        policy_name: &str,
        document: &str,
    ) -> IamResult<()> {
        check_name(policy_name, 128, "policyName")?;
        let _w = self.lock_writer();
        let mut e: Entity<D> = self.load(account, D::KIND, name)?;
        let others: usize = e
            .doc
            .inline()
            .iter()
            .filter(|(n, _)| n.as_str() != policy_name)
            .map(|(_, d)| non_space_len(d))
            .sum();
        let remaining = D::INLINE_LIMIT.saturating_sub(others);
        if non_space_len(document) > remaining {
            return Err(IamError::LimitExceeded(format!(
                "Maximum policy size of {} bytes exceeded for {} {}",
                D::INLINE_LIMIT,
                noun(D::KIND),
                e.entity.name
            )));
        }
        parse_identity_policy(document, D::INLINE_LIMIT)?;
        e.doc
            .inline()
            .insert(policy_name.to_owned(), document.to_owned());
        self.save(&e)
    }

    /// GetUserPolicy / GetRolePolicy / GetGroupPolicy: (entity name, document).
    pub fn iam_get_inline<D: PolicyHolder>(
        &self,
        account: &AccountId,
        name: &str,
        policy_name: &str,
    ) -> IamResult<(String, String)> {
        let mut e: Entity<D> = self.load(account, D::KIND, name)?;
        match e.doc.inline().get(policy_name) {
            Some(d) => Ok((e.entity.name, d.clone())),
            None => Err(IamError::NoSuchEntity(format!(
                "The {} policy with name {policy_name} cannot be found.",
                noun(D::KIND)
            ))),
        }
    }

    /// ListUserPolicies / ListRolePolicies / ListGroupPolicies.
    pub fn iam_list_inline<D: PolicyHolder>(
        &self,
        account: &AccountId,
        name: &str,
    ) -> IamResult<Vec<String>> {
        let mut e: Entity<D> = self.load(account, D::KIND, name)?;
        Ok(e.doc.inline().keys().cloned().collect())
    }

    /// DeleteUserPolicy / DeleteRolePolicy / DeleteGroupPolicy.
    pub fn iam_delete_inline<D: PolicyHolder>(
        &self,
        account: &AccountId,
        name: &str,
        policy_name: &str,
    ) -> IamResult<()> {
        let _w = self.lock_writer();
        let mut e: Entity<D> = self.load(account, D::KIND, name)?;
        if e.doc.inline().remove(policy_name).is_none() {
            return Err(IamError::NoSuchEntity(format!(
                "The {} policy with name {policy_name} cannot be found.",
                noun(D::KIND)
            )));
        }
        self.save(&e)
    }

    // ---- managed policies -----------------------------------------------------------

    /// CreatePolicy.
    pub fn iam_create_policy(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
        document: &str,
        description: Option<String>,
        tags: Tags,
    ) -> IamResult<Entity<ManagedPolicyDoc>> {
        check_name(name, 128, "policyName")?;
        check_path(path)?;
        check_tags(&Vec::new(), &tags)?;
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 1000)
        {
            return Err(IamError::Validation(
                "The description is at most 1000 characters.".into(),
            ));
        }
        parse_identity_policy(document, 6144)?;
        let _w = self.lock_writer();
        self.create_entity(
            account,
            IamKind::Policy,
            name,
            ManagedPolicyDoc {
                path: path.to_owned(),
                description,
                document: document.to_owned(),
                tags,
            },
        )
    }

    /// GetPolicy by ARN, with how many entities it is attached to.
    pub fn iam_get_policy(
        &self,
        account: &AccountId,
        policy_arn: &str,
    ) -> IamResult<(Entity<ManagedPolicyDoc>, usize)> {
        let p = self.policy_by_arn(account, policy_arn)?;
        let count = self.attachments(account, policy_arn)?;
        Ok((p, count))
    }

    fn policy_by_arn(
        &self,
        account: &AccountId,
        policy_arn: &str,
    ) -> IamResult<Entity<ManagedPolicyDoc>> {
        let missing = || {
            IamError::NoSuchEntity(format!(
                "Policy {policy_arn} does not exist or is not attachable."
            ))
        };
        let name = policy_name_from_arn(account, policy_arn).ok_or_else(missing)?;
        let p: Entity<ManagedPolicyDoc> =
            self.load(account, IamKind::Policy, name)
                .map_err(|e| match e {
                    IamError::NoSuchEntity(_) => missing(),
                    other => other,
                })?;
        if p.arn_with(&p.doc.path) != policy_arn {
            return Err(missing());
        }
        Ok(p)
    }

    /// How many users, roles and groups a managed policy is attached to.
    fn attachments(&self, account: &AccountId, policy_arn: &str) -> IamResult<usize> {
        let has = |v: &Vec<String>| v.iter().any(|a| a == policy_arn);
        let mut n = 0;
        n += self
            .list_entities(
                account,
                IamKind::User,
                None,
                None,
                usize::MAX,
                |d: &UserDoc| &d.path,
            )?
            .items
            .iter()
            .filter(|e| has(&e.doc.attached))
            .count();
        n += self
            .list_entities(
                account,
                IamKind::Role,
                None,
                None,
                usize::MAX,
                |d: &RoleDoc| &d.path,
            )?
            .items
            .iter()
            .filter(|e| has(&e.doc.attached))
            .count();
        n += self
            .list_entities(
                account,
                IamKind::Group,
                None,
                None,
                usize::MAX,
                |d: &GroupDoc| &d.path,
            )?
            .items
            .iter()
            .filter(|e| has(&e.doc.attached))
            .count();
        Ok(n)
    }

    /// ListPolicies (Scope Local: customer managed policies only).
    pub fn iam_list_policies(
        &self,
        account: &AccountId,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: usize,
    ) -> IamResult<Listing<Entity<ManagedPolicyDoc>>> {
        self.list_entities(
            account,
            IamKind::Policy,
            path_prefix,
            marker,
            max_items,
            |d: &ManagedPolicyDoc| &d.path,
        )
    }

    /// DeletePolicy: refused while attached.
    pub fn iam_delete_policy(&self, account: &AccountId, policy_arn: &str) -> IamResult<()> {
        let p = self.policy_by_arn(account, policy_arn)?;
        let _w = self.lock_writer();
        if self.attachments(account, policy_arn)? > 0 {
            return Err(IamError::DeleteConflict(
                "Cannot delete a policy attached to entities.".into(),
            ));
        }
        self.store
            .delete_iam_entity(account, IamKind::Policy, &p.entity.name)?;
        self.invalidate_identities();
        Ok(())
    }

    /// AttachUserPolicy / AttachRolePolicy / AttachGroupPolicy.
    pub fn iam_attach<D: PolicyHolder>(
        &self,
        account: &AccountId,
        name: &str,
        policy_arn: &str,
    ) -> IamResult<()> {
        let _w = self.lock_writer();
        let mut e: Entity<D> = self.load(account, D::KIND, name)?;
        self.policy_by_arn(account, policy_arn)?;
        if e.doc.attached().iter().any(|a| a == policy_arn) {
            return Ok(());
        }
        if e.doc.attached().len() >= MAX_ATTACHED {
            return Err(IamError::LimitExceeded(format!(
                "Cannot exceed quota for PoliciesPer{}: {MAX_ATTACHED}",
                match D::KIND {
                    IamKind::User => "User",
                    IamKind::Role => "Role",
                    _ => "Group",
                }
            )));
        }
        e.doc.attached().push(policy_arn.to_owned());
        self.save(&e)
    }

    /// DetachUserPolicy / DetachRolePolicy / DetachGroupPolicy.
    pub fn iam_detach<D: PolicyHolder>(
        &self,
        account: &AccountId,
        name: &str,
        policy_arn: &str,
    ) -> IamResult<()> {
        let _w = self.lock_writer();
        let mut e: Entity<D> = self.load(account, D::KIND, name)?;
        let before = e.doc.attached().len();
        e.doc.attached().retain(|a| a != policy_arn);
        if e.doc.attached().len() == before {
            return Err(IamError::NoSuchEntity(format!(
                "Policy {policy_arn} was not found."
            )));
        }
        self.save(&e)
    }

    /// ListAttachedUserPolicies / ...Role... / ...Group...: (name, ARN) pairs.
    pub fn iam_list_attached<D: PolicyHolder>(
        &self,
        account: &AccountId,
        name: &str,
    ) -> IamResult<Vec<(String, String)>> {
        let mut e: Entity<D> = self.load(account, D::KIND, name)?;
        Ok(e.doc
            .attached()
            .iter()
            .map(|a| (a.rsplit('/').next().unwrap_or(a).to_owned(), a.clone()))
            .collect())
    }

    // ---- the identity side of authorization ----------------------------------------

    /// The cached identity of a user or role (unique id, tags, parsed policies); `None`
    /// if it does not exist.
    pub(crate) fn identity(
        &self,
        account: &AccountId,
        kind: IamKind,
        name: &str,
    ) -> IamResult<Option<Arc<Identity>>> {
        let key = (account.clone(), kind, name.to_ascii_lowercase());
        if let Some(i) = read(&self.iam.entries).get(&key) {
            return Ok(Some(Arc::clone(i)));
        }
        let Some(entity) = self.store.get_iam_entity(account, kind, name)? else {
            return Ok(None);
        };
        let mut docs: Vec<String> = Vec::new();
        let mut attached: Vec<String> = Vec::new();
        let (path, tags) = match kind {
            IamKind::User => {
                let d: UserDoc = decode(&entity)?;
                docs.extend(d.inline.values().cloned());
                attached.extend(d.attached.iter().cloned());
                for g in &d.groups {
                    if let Some(ge) = self.store.get_iam_entity(account, IamKind::Group, g)? {
                        let gd: GroupDoc = decode(&ge)?;
                        docs.extend(gd.inline.values().cloned());
                        attached.extend(gd.attached.iter().cloned());
                    }
                }
                (d.path, d.tags)
            }
            IamKind::Role => {
                let d: RoleDoc = decode(&entity)?;
                docs.extend(d.inline.values().cloned());
                attached.extend(d.attached.iter().cloned());
                (d.path, d.tags)
            }
            _ => return Ok(None),
        };
        for a in &attached {
            if let Ok(p) = self.policy_by_arn(account, a) {
                docs.push(p.doc.document);
            }
        }
        let mut policies = Vec::with_capacity(docs.len());
        for d in &docs {
            // Stored documents were validated when they were put; one that no longer
            // parses (a newer grammar rule) is left out and logged, which can only
            // take permissions away.
            match Policy::parse(d, PolicyKind::Identity) {
                Ok(p) => policies.push(Arc::new(p)),
                Err(e) => {
                    tracing::warn!(account = %account, kind = %kind, name, error = %e, "stored identity policy no longer parses; ignored");
                }
            }
        }
        let identity = Arc::new(Identity {
            id: entity.id,
            path,
            tags,
            policies: Arc::from(policies),
        });
        write(&self.iam.entries).insert(key, Arc::clone(&identity));
        Ok(Some(identity))
    }
}
