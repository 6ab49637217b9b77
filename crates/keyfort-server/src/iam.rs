//! IAM over the Query protocol: each action authorized with the caller's identity
//! policies (`iam:<Action>` on the entity's ARN), run by `keyfort_core`, and
//! rendered in IAM's XML shapes (the botocore model's member names; policy documents
//! URL-encoded, as IAM returns them).

use keyfort_core::Kms;
use keyfort_core::iam::{
    GroupDoc, IamError, IamKind, ManagedPolicyDoc, RoleDoc, UserDoc, arn as iam_arn,
};
use keyfort_core::model::{AccessKeyStatus, AccountId};
use keyfort_core::service::{Entity, Listing};

use crate::query::{QueryCall, el, esc};

type IamResult<T> = Result<T, IamError>;

/// Every IAM action keyfort answers.
const ACTIONS: &[&str] = &[
    "CreateUser",
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "TagUser",
    "UntagUser",
    "ListUserTags",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "CreateRole",
    "GetRole",
    "ListRoles",
    "DeleteRole",
    "UpdateAssumeRolePolicy",
    "TagRole",
    "UntagRole",
    "ListRoleTags",
    "PutUserPolicy",
    "GetUserPolicy",
    "ListUserPolicies",
    "DeleteUserPolicy",
    "PutRolePolicy",
    "GetRolePolicy",
    "ListRolePolicies",
    "DeleteRolePolicy",
    "PutGroupPolicy",
    "GetGroupPolicy",
    "ListGroupPolicies",
    "DeleteGroupPolicy",
    "CreatePolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "ListPolicies",
    "DeletePolicy",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListAttachedRolePolicies",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
    "ListAttachedGroupPolicies",
    "CreateGroup",
    "GetGroup",
    "DeleteGroup",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "ListGroups",
    "ListGroupsForUser",
];

/// Whether `action` is an IAM action keyfort has.
pub fn is_action(action: &str) -> bool {
    ACTIONS.contains(&action)
}

/// Percent-encodes a policy document as IAM returns it (botocore decodes it).
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn date(ms: i64) -> String {
    keyfort_audit::format_iso8601(ms)
}

fn tags_xml(tags: &[(String, String)]) -> String {
    let members: String = tags
        .iter()
        .map(|(k, v)| format!("<member>{}{}</member>", el("Key", k), el("Value", v)))
        .collect();
    format!("<Tags>{members}</Tags>")
}

fn user_xml(u: &Entity<UserDoc>) -> String {
    let mut s = format!(
        "{}{}{}{}{}",
        el("Path", &u.doc.path),
        el("UserName", &u.entity.name),
        el("UserId", &u.entity.id),
        el("Arn", &u.arn_with(&u.doc.path)),
        el("CreateDate", &date(u.entity.created_ms))
    );
    if !u.doc.tags.is_empty() {
        s.push_str(&tags_xml(&u.doc.tags));
    }
    s
}

fn role_xml(r: &Entity<RoleDoc>) -> String {
    let mut s = format!(
        "{}{}{}{}{}{}{}",
        el("Path", &r.doc.path),
        el("RoleName", &r.entity.name),
        el("RoleId", &r.entity.id),
        el("Arn", &r.arn_with(&r.doc.path)),
        el("CreateDate", &date(r.entity.created_ms)),
        el("AssumeRolePolicyDocument", &url_encode(&r.doc.trust)),
        el("MaxSessionDuration", &r.doc.max_session_seconds.to_string()),
    );
    if let Some(d) = &r.doc.description {
        s.push_str(&el("Description", d));
    }
    if !r.doc.tags.is_empty() {
        s.push_str(&tags_xml(&r.doc.tags));
    }
    s
}

fn group_xml(g: &Entity<GroupDoc>) -> String {
    format!(
        "{}{}{}{}{}",
        el("Path", &g.doc.path),
        el("GroupName", &g.entity.name),
        el("GroupId", &g.entity.id),
        el("Arn", &g.arn_with(&g.doc.path)),
        el("CreateDate", &date(g.entity.created_ms))
    )
}

fn policy_xml(p: &Entity<ManagedPolicyDoc>, attachments: Option<usize>) -> String {
    let mut s = format!(
        "{}{}{}{}{}",
        el("PolicyName", &p.entity.name),
        el("PolicyId", &p.entity.id),
        el("Arn", &p.arn_with(&p.doc.path)),
        el("Path", &p.doc.path),
        el("DefaultVersionId", "v1"),
    );
    if let Some(n) = attachments {
        s.push_str(&el("AttachmentCount", &n.to_string()));
        s.push_str(&el("PermissionsBoundaryUsageCount", "0"));
    }
    s.push_str(&el("IsAttachable", "true"));
    if let Some(d) = &p.doc.description {
        s.push_str(&el("Description", d));
    }
    s.push_str(&el("CreateDate", &date(p.entity.created_ms)));
    s.push_str(&el("UpdateDate", &date(p.entity.created_ms)));
    if !p.doc.tags.is_empty() {
        s.push_str(&tags_xml(&p.doc.tags));
    }
    s
}

fn members(items: impl IntoIterator<Item = String>) -> String {
    items
        .into_iter()
        .map(|i| format!("<member>{i}</member>"))
        .collect()
}

fn truncation<T>(l: &Listing<T>) -> String {
    match &l.marker {
        Some(m) => format!("{}{}", el("IsTruncated", "true"), el("Marker", m)),
        None => el("IsTruncated", "false"),
    }
}

/// The ARN of a user/role/group by name, with its stored path (`/` if it does not
/// exist: the authorization decision is made before the lookup, as AWS's).
fn entity_arn(kms: &Kms, account: &AccountId, kind: IamKind, name: &str) -> String {
    let path = kms.iam_path(account, kind, name);
    iam_arn(account, kind, path.as_deref().unwrap_or("/"), name)
}

/// The user an access key action is about: `UserName`, or the calling user.
fn key_user(call: &QueryCall) -> IamResult<String> {
    match (call.params.opt("UserName"), call.principal.user_name()) {
        (Some(u), _) => Ok(u.to_owned()),
        (None, Some(me)) => Ok(me.to_owned()),
        (None, None) => Err(IamError::InvalidInput(
            "UserName is required: keyfort manages root access keys with `keyfort admin`, and a role session has no access keys.".into(),
        )),
    }
}

fn status(s: &str) -> IamResult<AccessKeyStatus> {
    match s {
        "Active" => Ok(AccessKeyStatus::Active),
        "Inactive" => Ok(AccessKeyStatus::Inactive),
        other => Err(IamError::Validation(format!(
            "1 validation error detected: Value '{other}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
        ))),
    }
}

fn status_str(s: AccessKeyStatus) -> &'static str {
    match s {
        AccessKeyStatus::Active => "Active",
        AccessKeyStatus::Inactive => "Inactive",
    }
}

fn path_param(call: &QueryCall) -> &str {
    call.params.opt("Path").unwrap_or("/")
}

/// Runs one IAM action for the caller: authorize, execute, render the Result body.
pub fn execute(kms: &Kms, call: &QueryCall) -> IamResult<Option<String>> {
    let account = &call.principal.account;
    let p = &call.params;
    let action = call.action.as_str();
    let authorize = |resource: &str| {
        kms.authorize_iam(
            &call.principal,
            &format!("iam:{action}"),
            resource,
            &call.context,
        )
    };
    let user_arn = |name: &str| entity_arn(kms, account, IamKind::User, name);
    let role_arn = |name: &str| entity_arn(kms, account, IamKind::Role, name);
    let group_arn = |name: &str| entity_arn(kms, account, IamKind::Group, name);
    Ok(match action {
        "CreateUser" => {
            let name = p.req("UserName")?;
            authorize(&iam_arn(account, IamKind::User, path_param(call), name))?;
            let u = kms.iam_create_user(account, name, path_param(call), p.tags("Tags"))?;
            Some(format!("<User>{}</User>", user_xml(&u)))
        }
        "GetUser" => match p.opt("UserName").or(call.principal.user_name()) {
            Some(name) => {
                authorize(&user_arn(name))?;
                let u = kms.iam_get_user(account, name)?;
                Some(format!("<User>{}</User>", user_xml(&u)))
            }
            None => {
                // The root user (or a role session, which AWS answers with an error).
                if call.principal.kind != keyfort_core::PrincipalKind::Root {
                    return Err(IamError::Validation(
                        "Must specify userName when calling with non-User credentials".into(),
                    ));
                }
                let created = kms
                    .list_accounts()?
                    .into_iter()
                    .find(|a| a.id == *account)
                    .map_or(0, |a| a.created_ms);
                Some(format!(
                    "<User>{}{}{}</User>",
                    el("UserId", account.as_str()),
                    el("Arn", &call.principal.arn),
                    el("CreateDate", &date(created))
                ))
            }
        },
        "ListUsers" => {
            authorize(&format!("arn:aws:iam::{account}:user/"))?;
            let l = kms.iam_list_users(
                account,
                p.opt("PathPrefix"),
                p.opt("Marker"),
                p.max_items()?,
            )?;
            Some(format!(
                "<Users>{}</Users>{}",
                members(l.items.iter().map(user_xml)),
                truncation(&l)
            ))
        }
        "DeleteUser" => {
            let name = p.req("UserName")?;
            authorize(&user_arn(name))?;
            kms.iam_delete_user(account, name)?;
            None
        }
        "TagUser" | "TagRole" => {
            let (kind, field) = if action == "TagUser" {
                (IamKind::User, "UserName")
            } else {
                (IamKind::Role, "RoleName")
            };
            let name = p.req(field)?;
            authorize(&entity_arn(kms, account, kind, name))?;
            kms.iam_tag(account, kind, name, p.tags("Tags"))?;
            None
        }
        "UntagUser" | "UntagRole" => {
            let (kind, field) = if action == "UntagUser" {
                (IamKind::User, "UserName")
            } else {
                (IamKind::Role, "RoleName")
            };
            let name = p.req(field)?;
            authorize(&entity_arn(kms, account, kind, name))?;
            kms.iam_untag(account, kind, name, &p.list("TagKeys"))?;
            None
        }
        "ListUserTags" => {
            let name = p.req("UserName")?;
            authorize(&user_arn(name))?;
            let u = kms.iam_get_user(account, name)?;
            Some(format!(
                "{}{}",
                tags_xml(&u.doc.tags),
                el("IsTruncated", "false")
            ))
        }
        "ListRoleTags" => {
            let name = p.req("RoleName")?;
            authorize(&role_arn(name))?;
            let r = kms.iam_get_role(account, name)?;
            Some(format!(
                "{}{}",
                tags_xml(&r.doc.tags),
                el("IsTruncated", "false")
            ))
        }
        "CreateAccessKey" => {
            let user = key_user(call)?;
            authorize(&user_arn(&user))?;
            let (rec, secret, name) = kms.iam_create_access_key(account, &user)?;
            let secret =
                zeroize::Zeroizing::new(String::from_utf8_lossy(secret.expose()).into_owned());
            Some(format!(
                "<AccessKey>{}{}{}{}{}</AccessKey>",
                el("UserName", &name),
                el("AccessKeyId", &rec.access_key_id),
                el("Status", "Active"),
                el("SecretAccessKey", &secret),
                el("CreateDate", &date(rec.created_ms))
            ))
        }
        "ListAccessKeys" => {
            let user = key_user(call)?;
            authorize(&user_arn(&user))?;
            let (keys, name) = kms.iam_list_access_keys(account, &user)?;
            Some(format!(
                "<AccessKeyMetadata>{}</AccessKeyMetadata>{}",
                members(keys.iter().map(|k| format!(
                    "{}{}{}{}",
                    el("UserName", &name),
                    el("AccessKeyId", &k.access_key_id),
                    el("Status", status_str(k.status)),
                    el("CreateDate", &date(k.created_ms))
                ))),
                el("IsTruncated", "false")
            ))
        }
        "UpdateAccessKey" => {
            let user = key_user(call)?;
            let id = p.req("AccessKeyId")?;
            let st = status(p.req("Status")?)?;
            authorize(&user_arn(&user))?;
            kms.iam_update_access_key(account, &user, id, st)?;
            None
        }
        "DeleteAccessKey" => {
            let user = key_user(call)?;
            let id = p.req("AccessKeyId")?;
            authorize(&user_arn(&user))?;
            kms.iam_delete_access_key(account, &user, id)?;
            None
        }
        "CreateRole" => {
            let name = p.req("RoleName")?;
            let trust = p.req("AssumeRolePolicyDocument")?;
            authorize(&iam_arn(account, IamKind::Role, path_param(call), name))?;
            let r = kms.iam_create_role(
                account,
                name,
                path_param(call),
                trust,
                p.opt("Description").map(str::to_owned),
                p.int("MaxSessionDuration")?,
                p.tags("Tags"),
            )?;
            Some(format!("<Role>{}</Role>", role_xml(&r)))
        }
        "GetRole" => {
            let name = p.req("RoleName")?;
            authorize(&role_arn(name))?;
            let r = kms.iam_get_role(account, name)?;
            Some(format!("<Role>{}</Role>", role_xml(&r)))
        }
        "ListRoles" => {
            authorize(&format!("arn:aws:iam::{account}:role/"))?;
            let l = kms.iam_list_roles(
                account,
                p.opt("PathPrefix"),
                p.opt("Marker"),
                p.max_items()?,
            )?;
            Some(format!(
                "<Roles>{}</Roles>{}",
                members(l.items.iter().map(role_xml)),
                truncation(&l)
            ))
        }
        "DeleteRole" => {
            let name = p.req("RoleName")?;
            authorize(&role_arn(name))?;
            kms.iam_delete_role(account, name)?;
            None
        }
        "UpdateAssumeRolePolicy" => {
            let name = p.req("RoleName")?;
            let doc = p.req("PolicyDocument")?;
            authorize(&role_arn(name))?;
            kms.iam_update_trust(account, name, doc)?;
            None
        }
        "PutUserPolicy" | "PutRolePolicy" | "PutGroupPolicy" => {
            let (field, arn) = holder(action, p, &user_arn, &role_arn, &group_arn)?;
            let name = p.req(field)?;
            let policy = p.req("PolicyName")?;
            let doc = p.req("PolicyDocument")?;
            authorize(&arn)?;
            match field {
                "UserName" => kms.iam_put_inline::<UserDoc>(account, name, policy, doc)?,
                "RoleName" => kms.iam_put_inline::<RoleDoc>(account, name, policy, doc)?,
                _ => kms.iam_put_inline::<GroupDoc>(account, name, policy, doc)?,
            }
            None
        }
        "GetUserPolicy" | "GetRolePolicy" | "GetGroupPolicy" => {
            let (field, arn) = holder(action, p, &user_arn, &role_arn, &group_arn)?;
            let name = p.req(field)?;
            let policy = p.req("PolicyName")?;
            authorize(&arn)?;
            let (stored, doc) = match field {
                "UserName" => kms.iam_get_inline::<UserDoc>(account, name, policy)?,
                "RoleName" => kms.iam_get_inline::<RoleDoc>(account, name, policy)?,
                _ => kms.iam_get_inline::<GroupDoc>(account, name, policy)?,
            };
            Some(format!(
                "{}{}{}",
                el(field, &stored),
                el("PolicyName", policy),
                el("PolicyDocument", &url_encode(&doc))
            ))
        }
        "ListUserPolicies" | "ListRolePolicies" | "ListGroupPolicies" => {
            let (field, arn) = holder(action, p, &user_arn, &role_arn, &group_arn)?;
            let name = p.req(field)?;
            authorize(&arn)?;
            let names = match field {
                "UserName" => kms.iam_list_inline::<UserDoc>(account, name)?,
                "RoleName" => kms.iam_list_inline::<RoleDoc>(account, name)?,
                _ => kms.iam_list_inline::<GroupDoc>(account, name)?,
            };
            Some(format!(
                "<PolicyNames>{}</PolicyNames>{}",
                members(names.iter().map(|n| esc(n))),
                el("IsTruncated", "false")
            ))
        }
        "DeleteUserPolicy" | "DeleteRolePolicy" | "DeleteGroupPolicy" => {
            let (field, arn) = holder(action, p, &user_arn, &role_arn, &group_arn)?;
            let name = p.req(field)?;
            let policy = p.req("PolicyName")?;
            authorize(&arn)?;
            match field {
                "UserName" => kms.iam_delete_inline::<UserDoc>(account, name, policy)?,
                "RoleName" => kms.iam_delete_inline::<RoleDoc>(account, name, policy)?,
                _ => kms.iam_delete_inline::<GroupDoc>(account, name, policy)?,
            }
            None
        }
        "CreatePolicy" => {
            let name = p.req("PolicyName")?;
            let doc = p.req("PolicyDocument")?;
            authorize(&iam_arn(account, IamKind::Policy, path_param(call), name))?;
            let pol = kms.iam_create_policy(
                account,
                name,
                path_param(call),
                doc,
                p.opt("Description").map(str::to_owned),
                p.tags("Tags"),
            )?;
            Some(format!("<Policy>{}</Policy>", policy_xml(&pol, Some(0))))
        }
        "GetPolicy" => {
            let arn = p.req("PolicyArn")?;
            authorize(arn)?;
            let (pol, n) = kms.iam_get_policy(account, arn)?;
            Some(format!("<Policy>{}</Policy>", policy_xml(&pol, Some(n))))
        }
        "GetPolicyVersion" => {
            let arn = p.req("PolicyArn")?;
            let version = p.req("VersionId")?;
            authorize(arn)?;
            let (pol, _) = kms.iam_get_policy(account, arn)?;
            if version != "v1" {
                return Err(IamError::NoSuchEntity(format!(
                    "Policy {arn} version {version} does not exist or is not attachable."
                )));
            }
            Some(format!(
                "<PolicyVersion>{}{}{}{}</PolicyVersion>",
                el("Document", &url_encode(&pol.doc.document)),
                el("VersionId", "v1"),
                el("IsDefaultVersion", "true"),
                el("CreateDate", &date(pol.entity.created_ms))
            ))
        }
        "ListPolicies" => {
            authorize(&format!("arn:aws:iam::{account}:policy/"))?;
            if p.opt("Scope") == Some("AWS") {
                Some(format!(
                    "<Policies></Policies>{}",
                    el("IsTruncated", "false")
                ))
            } else {
                let l = kms.iam_list_policies(
                    account,
                    p.opt("PathPrefix"),
                    p.opt("Marker"),
                    p.max_items()?,
                )?;
                Some(format!(
                    "<Policies>{}</Policies>{}",
                    members(l.items.iter().map(|e| policy_xml(e, None))),
                    truncation(&l)
                ))
            }
        }
        "DeletePolicy" => {
            let arn = p.req("PolicyArn")?;
            authorize(arn)?;
            kms.iam_delete_policy(account, arn)?;
            None
        }
        "AttachUserPolicy" | "AttachRolePolicy" | "AttachGroupPolicy" => {
            let (field, arn) = holder(action, p, &user_arn, &role_arn, &group_arn)?;
            let name = p.req(field)?;
            let policy = p.req("PolicyArn")?;
            authorize(&arn)?;
            match field {
                "UserName" => kms.iam_attach::<UserDoc>(account, name, policy)?,
                "RoleName" => kms.iam_attach::<RoleDoc>(account, name, policy)?,
                _ => kms.iam_attach::<GroupDoc>(account, name, policy)?,
            }
            None
        }
        "DetachUserPolicy" | "DetachRolePolicy" | "DetachGroupPolicy" => {
            let (field, arn) = holder(action, p, &user_arn, &role_arn, &group_arn)?;
            let name = p.req(field)?;
            let policy = p.req("PolicyArn")?;
            authorize(&arn)?;
            match field {
                "UserName" => kms.iam_detach::<UserDoc>(account, name, policy)?,
                "RoleName" => kms.iam_detach::<RoleDoc>(account, name, policy)?,
                _ => kms.iam_detach::<GroupDoc>(account, name, policy)?,
            }
            None
        }
        "ListAttachedUserPolicies" | "ListAttachedRolePolicies" | "ListAttachedGroupPolicies" => {
            let (field, arn) = holder(action, p, &user_arn, &role_arn, &group_arn)?;
            let name = p.req(field)?;
            authorize(&arn)?;
            let list = match field {
                "UserName" => kms.iam_list_attached::<UserDoc>(account, name)?,
                "RoleName" => kms.iam_list_attached::<RoleDoc>(account, name)?,
                _ => kms.iam_list_attached::<GroupDoc>(account, name)?,
            };
            Some(format!(
                "<AttachedPolicies>{}</AttachedPolicies>{}",
                members(list.iter().map(|(n, a)| format!(
                    "{}{}",
                    el("PolicyName", n),
                    el("PolicyArn", a)
                ))),
                el("IsTruncated", "false")
            ))
        }
        "CreateGroup" => {
            let name = p.req("GroupName")?;
            authorize(&iam_arn(account, IamKind::Group, path_param(call), name))?;
            let g = kms.iam_create_group(account, name, path_param(call))?;
            Some(format!("<Group>{}</Group>", group_xml(&g)))
        }
        "GetGroup" => {
            let name = p.req("GroupName")?;
            authorize(&group_arn(name))?;
            let (g, users) = kms.iam_get_group(account, name)?;
            Some(format!(
                "<Group>{}</Group><Users>{}</Users>{}",
                group_xml(&g),
                members(users.iter().map(user_xml)),
                el("IsTruncated", "false")
            ))
        }
        "ListGroups" => {
            authorize(&format!("arn:aws:iam::{account}:group/"))?;
            let l = kms.iam_list_groups(
                account,
                p.opt("PathPrefix"),
                p.opt("Marker"),
                p.max_items()?,
            )?;
            Some(format!(
                "<Groups>{}</Groups>{}",
                members(l.items.iter().map(group_xml)),
                truncation(&l)
            ))
        }
        "ListGroupsForUser" => {
            let name = p.req("UserName")?;
            authorize(&user_arn(name))?;
            let groups = kms.iam_groups_for_user(account, name)?;
            Some(format!(
                "<Groups>{}</Groups>{}",
                members(groups.iter().map(group_xml)),
                el("IsTruncated", "false")
            ))
        }
        "DeleteGroup" => {
            let name = p.req("GroupName")?;
            authorize(&group_arn(name))?;
            kms.iam_delete_group(account, name)?;
            None
        }
        "AddUserToGroup" | "RemoveUserFromGroup" => {
            let group = p.req("GroupName")?;
            let user = p.req("UserName")?;
            authorize(&group_arn(group))?;
            kms.iam_group_membership(account, group, user, action == "AddUserToGroup")?;
            None
        }
        other => {
            return Err(IamError::InvalidAction(format!(
                "Could not find operation {other}"
            )));
        }
    })
}

/// For a `*User*` / `*Role*` / `*Group*` policy action: the name parameter and the
/// entity's ARN.
fn holder(
    action: &str,
    p: &crate::query::Params,
    user_arn: &dyn Fn(&str) -> String,
    role_arn: &dyn Fn(&str) -> String,
    group_arn: &dyn Fn(&str) -> String,
) -> IamResult<(&'static str, String)> {
    if action.contains("User") {
        Ok(("UserName", user_arn(p.req("UserName")?)))
    } else if action.contains("Role") {
        Ok(("RoleName", role_arn(p.req("RoleName")?)))
    } else {
        Ok(("GroupName", group_arn(p.req("GroupName")?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_percent_encoded() {
        assert_eq!(
            url_encode("{\"a\": \"b/c\"}"),
            "%7B%22a%22%3A%20%22b%2Fc%22%7D"
        );
        assert_eq!(url_encode("Az09-_.~"), "Az09-_.~");
    }

    #[test]
    fn every_action_is_dispatched() {
        for a in ACTIONS {
            assert!(is_action(a));
        }
        assert!(!is_action("CreateLoginProfile"));
    }
}
