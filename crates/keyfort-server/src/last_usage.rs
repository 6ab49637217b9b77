//! GetKeyLastUsage, answered from the audit trail: the newest successful cryptographic
//! operation recorded for the key.

use std::sync::Arc;

use keyfort_core::audit::{LookupAttribute, LookupQuery};
use keyfort_core::{Caller, KmsError};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::http::AppState;

/// The operations GetKeyLastUsage reports (the model's enum).
const CRYPTO_OPERATIONS: &[&str] = &[
    "Decrypt",
    "DeriveSharedSecret",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "ReEncrypt",
    "Sign",
    "Verify",
    "VerifyMac",
];

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Request {
    key_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LastUsage {
    operation: String,
    timestamp: f64,
    cloud_trail_event_id: String,
    kms_request_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Reply {
    key_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_last_usage: Option<LastUsage>,
    tracking_start_date: f64,
    key_creation_date: f64,
}

/// The most events scanned per key looking for a successful cryptographic one.
const SCAN: usize = 1000;

/// Answers GetKeyLastUsage for `caller`.
pub async fn handle(
    state: &Arc<AppState>,
    caller: &Caller<'_>,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let req: Request = serde_json::from_slice(body).map_err(|_| {
        KmsError::Serialization("The request body is not a valid GetKeyLastUsage request.".into())
    })?;
    let key_ref =
        keyfort_core::arn::KeyRef::parse(&req.key_id.ok_or_else(|| KmsError::missing("keyId"))?)?;
    let (arn, created_ms) = state.kms.key_arn_and_creation(caller, &key_ref)?;
    let Some(audit) = &state.audit else {
        return Err(ApiError::Kms(KmsError::UnsupportedOperation(
            "GetKeyLastUsage needs the audit trail, which is off on this server.".into(),
        )));
    };
    let store = Arc::clone(audit.store());
    let query = LookupQuery {
        account: caller.principal.account.to_string(),
        region: caller.region.to_owned(),
        start_ms: None,
        end_ms: None,
        attribute: Some(LookupAttribute::ResourceName(arn.clone())),
        before_seq: None,
        limit: SCAN,
    };
    let (rows, first) = tokio::task::spawn_blocking(move || {
        let rows = store.lookup(&query)?;
        let first = store.records(0, 1)?;
        Ok::<_, keyfort_core::store::StoreError>((rows, first))
    })
    .await
    .map_err(|_| KmsError::Internal("lookup task failed"))?
    .map_err(KmsError::from)?;
    let tracking_start_ms = first.first().map_or(created_ms, |r| r.event_time_ms);
    let last = rows.into_iter().find(|r| {
        CRYPTO_OPERATIONS.contains(&r.event_name.as_str())
            && serde_json::from_slice::<serde_json::Value>(&r.event_json)
                .map(|v| v.get("errorCode").is_none())
                .unwrap_or(false)
    });
    let reply = Reply {
        key_id: arn,
        key_last_usage: last.map(|r| LastUsage {
            operation: r.event_name,
            timestamp: r.event_time_ms as f64 / 1000.0,
            cloud_trail_event_id: r.event_id,
            kms_request_id: r.request_id,
        }),
        tracking_start_date: tracking_start_ms as f64 / 1000.0,
        key_creation_date: created_ms as f64 / 1000.0,
    };
    serde_json::to_vec(&reply)
        .map_err(|_| ApiError::Kms(KmsError::Internal("reply serialization failed")))
}
