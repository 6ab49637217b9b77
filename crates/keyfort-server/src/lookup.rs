//! CloudTrail's LookupEvents over JSON 1.1, so `aws cloudtrail lookup-events` works.
//! A caller sees the events of its own account in the request's region.

use std::sync::Arc;

use keyfort_core::Caller;
use keyfort_core::audit::{AuditRow, LookupAttribute, LookupQuery};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::http::AppState;

/// The JSON 1.1 target prefix of CloudTrail.
pub const CLOUDTRAIL_TARGET_PREFIX: &str =
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute {
    attribute_key: String,
    attribute_value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct LookupRequest {
    lookup_attributes: Option<Vec<Attribute>>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    max_results: Option<i64>,
    next_token: Option<String>,
    event_category: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Resource {
    resource_type: String,
    resource_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    event_id: String,
    event_name: String,
    read_only: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<String>,
    event_time: f64,
    event_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    resources: Vec<Resource>,
    cloud_trail_event: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LookupReply {
    events: Vec<Event>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

fn err(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::Service {
        code,
        message: message.into(),
    }
}

fn attribute(a: Attribute) -> Result<LookupAttribute, ApiError> {
    let v = a.attribute_value;
    if v.is_empty() || v.len() > 2000 {
        return Err(err(
            "InvalidLookupAttributesException",
            "AttributeValue must be 1 to 2000 characters.",
        ));
    }
    Ok(match a.attribute_key.as_str() {
        "EventName" => LookupAttribute::EventName(v),
        "ResourceName" => LookupAttribute::ResourceName(v),
        "ResourceType" => LookupAttribute::ResourceType(v),
        "Username" => LookupAttribute::Username(v),
        "AccessKeyId" => LookupAttribute::AccessKeyId(v),
        "EventId" => LookupAttribute::EventId(v),
        "EventSource" => LookupAttribute::EventSource(v),
        "ReadOnly" => match v.as_str() {
            "true" => LookupAttribute::ReadOnly(true),
            "false" => LookupAttribute::ReadOnly(false),
            _ => {
                return Err(err(
                    "InvalidLookupAttributesException",
                    "ReadOnly must be true or false.",
                ));
            }
        },
        other => {
            return Err(err(
                "InvalidLookupAttributesException",
                format!("Unsupported AttributeKey {other}."),
            ));
        }
    })
}

fn seconds_to_ms(s: f64) -> Result<i64, ApiError> {
    if !s.is_finite() || !(0.0..=1e12).contains(&s) {
        return Err(err(
            "InvalidTimeRangeException",
            "The time is out of range.",
        ));
    }
    Ok((s * 1000.0) as i64)
}

fn event(r: AuditRow) -> Result<Event, ApiError> {
    let cloud_trail_event = String::from_utf8(r.event_json).map_err(|_| {
        ApiError::Kms(keyfort_core::KmsError::Internal(
            "audit record is not UTF-8",
        ))
    })?;
    Ok(Event {
        event_id: r.event_id,
        event_name: r.event_name,
        read_only: if r.read_only { "true" } else { "false" },
        access_key_id: r.access_key_id,
        event_time: r.event_time_ms as f64 / 1000.0,
        event_source: r.event_source,
        username: r.username,
        resources: r
            .resources
            .into_iter()
            .map(|(t, n)| Resource {
                resource_type: t,
                resource_name: n,
            })
            .collect(),
        cloud_trail_event,
    })
}

/// Answers a CloudTrail operation. Only LookupEvents exists here.
pub async fn handle(
    state: &Arc<AppState>,
    caller: &Caller<'_>,
    op: &str,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    if op != "LookupEvents" {
        return Err(ApiError::Kms(keyfort_core::KmsError::UnknownOperation(
            format!("CloudTrail operation {op} is not supported by keyfort; only LookupEvents is."),
        )));
    }
    // cloudtrail:LookupEvents is granted by identity policies (the root always has it).
    state
        .kms
        .authorize_service_action(caller, "cloudtrail:LookupEvents", "*")?;
    let (principal, region) = (caller.principal, caller.region);
    let Some(audit) = &state.audit else {
        return Err(err(
            "TrailNotFoundException",
            "The audit trail is not enabled on this server.",
        ));
    };
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let req: LookupRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::Kms(keyfort_core::KmsError::Serialization(format!(
            "The request body is not a valid LookupEvents request (line {}, column {}).",
            e.line(),
            e.column()
        )))
    })?;
    if req.event_category.is_some() {
        return Err(err(
            "InvalidEventCategoryException",
            "keyfort records no Insights events.",
        ));
    }
    let mut attrs = req.lookup_attributes.unwrap_or_default();
    if attrs.len() > 1 {
        return Err(err(
            "InvalidLookupAttributesException",
            "Specify at most one lookup attribute.",
        ));
    }
    let attribute = attrs.pop().map(attribute).transpose()?;
    let limit = match req.max_results {
        None => 50,
        Some(n) if (1..=50).contains(&n) => n as usize,
        Some(_) => {
            return Err(err(
                "InvalidMaxResultsException",
                "MaxResults must be between 1 and 50.",
            ));
        }
    };
    let start_ms = req.start_time.map(seconds_to_ms).transpose()?;
    let end_ms = req.end_time.map(seconds_to_ms).transpose()?;
    if let (Some(s), Some(e)) = (start_ms, end_ms) {
        if s > e {
            return Err(err(
                "InvalidTimeRangeException",
                "StartTime is after EndTime.",
            ));
        }
    }
    let before_seq = match req.next_token {
        None => None,
        Some(t) => Some(
            t.parse::<u64>()
                .map_err(|_| err("InvalidNextTokenException", "The NextToken is not valid."))?,
        ),
    };
    let query = LookupQuery {
        account: principal.account.to_string(),
        region: region.to_owned(),
        start_ms,
        end_ms,
        attribute,
        before_seq,
        limit: limit + 1,
    };
    let store = Arc::clone(audit.store());
    let mut rows = tokio::task::spawn_blocking(move || store.lookup(&query))
        .await
        .map_err(|_| ApiError::Kms(keyfort_core::KmsError::Internal("lookup task failed")))?
        .map_err(|e| ApiError::Kms(e.into()))?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_token = if more {
        rows.last().map(|r| r.seq.to_string())
    } else {
        None
    };
    let events = rows.into_iter().map(event).collect::<Result<Vec<_>, _>>()?;
    serde_json::to_vec(&LookupReply { events, next_token }).map_err(|_| {
        ApiError::Kms(keyfort_core::KmsError::Internal(
            "reply serialization failed",
        ))
    })
}
