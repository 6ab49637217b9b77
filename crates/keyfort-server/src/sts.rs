//! STS over the Query protocol: GetCallerIdentity and AssumeRole.

use keyfort_core::Kms;
use keyfort_core::iam::IamError;
use keyfort_core::service::AssumeRoleInput;

use crate::query::{QueryCall, el};

/// Whether `action` is an STS action keyfort has.
pub fn is_action(action: &str) -> bool {
    matches!(action, "GetCallerIdentity" | "AssumeRole")
}

/// Runs one STS action.
pub fn execute(kms: &Kms, call: &QueryCall) -> Result<Option<String>, IamError> {
    let p = &call.params;
    let who = &call.principal;
    match call.action.as_str() {
        // AWS answers GetCallerIdentity for every caller; no policy can deny it.
        "GetCallerIdentity" => Ok(Some(format!(
            "{}{}{}",
            el("UserId", &who.user_id),
            el("Account", who.account.as_str()),
            el("Arn", &who.arn)
        ))),
        "AssumeRole" => {
            let input = AssumeRoleInput {
                role_arn: p.req("RoleArn")?.to_owned(),
                session_name: p.req("RoleSessionName")?.to_owned(),
                duration_seconds: p.int("DurationSeconds")?,
                policy: p.opt("Policy").map(str::to_owned),
                tags: p.tags("Tags"),
            };
            let c = kms.sts_assume_role(who, &call.context, input)?;
            let secret =
                zeroize::Zeroizing::new(String::from_utf8_lossy(c.secret.expose()).into_owned());
            let token = zeroize::Zeroizing::new(
                String::from_utf8_lossy(c.session_token.expose()).into_owned(),
            );
            let mut out = format!(
                "<Credentials>{}{}{}{}</Credentials><AssumedRoleUser>{}{}</AssumedRoleUser>",
                el("AccessKeyId", &c.access_key_id),
                el("SecretAccessKey", &secret),
                el("SessionToken", &token),
                el(
                    "Expiration",
                    &keyfort_audit::format_iso8601(c.expiration_ms)
                ),
                el("AssumedRoleId", &c.assumed_role_id),
                el("Arn", &c.arn),
            );
            if let Some(n) = c.packed_policy_size {
                out.push_str(&el("PackedPolicySize", &n.to_string()));
            }
            Ok(Some(out))
        }
        other => Err(IamError::InvalidAction(format!(
            "Could not find operation {other}"
        ))),
    }
}
