//! The audit event: CloudTrail's record schema, field for field.
//!
//! Keys are CloudTrail's camelCase names (`sourceIPAddress`, `requestID`,
//! `eventID`, `ARN` spelled as CloudTrail spells them); optional fields are
//! left out when `None`. Serialize an event once with [`Event::to_json`] and
//! keep those bytes: the hash chain covers them verbatim.
//!
//! What goes into `requestParameters` and `responseElements` is the caller's
//! responsibility: never plaintext, ciphertext, key material, MACs,
//! signatures, secret keys or session tokens (encryption context is fine, as
//! AWS records it).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;

/// CloudTrail's `eventVersion` for records this crate writes.
pub const EVENT_VERSION: &str = "1.11";
/// `eventSource` of KMS events.
pub const KMS_EVENT_SOURCE: &str = "kms.amazonaws.com";
/// `resources[].type` of a KMS key.
pub const KMS_KEY_RESOURCE_TYPE: &str = "AWS::KMS::Key";
/// `eventCategory` of every KMS event.
pub const MANAGEMENT_CATEGORY: &str = "Management";

/// One CloudTrail record. Build it as a plain struct; [`Event::kms_api_call`]
/// fills in the constant fields for the common case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Record schema version; [`EVENT_VERSION`].
    pub event_version: String,
    /// Who made the request.
    pub user_identity: UserIdentity,
    /// When, as `2026-11-28T21:00:00Z` (see [`crate::format_iso8601`]).
    pub event_time: String,
    /// The service: `kms.amazonaws.com`, `iam.amazonaws.com`, `sts.amazonaws.com`.
    pub event_source: String,
    /// The operation, e.g. `Encrypt`, or the service action, e.g. `RotateKey`.
    pub event_name: String,
    /// The region the request was made in (its SigV4 credential scope).
    pub aws_region: String,
    /// The caller's IP address, or the service name for service events.
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: String,
    /// The caller's `User-Agent`, or the service name for service events.
    pub user_agent: String,
    /// The error code (`__type`) when the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The error message when the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The request's parameters with secrets removed; `null` when none.
    pub request_parameters: Value,
    /// The response's elements with secrets removed; `null` when none.
    pub response_elements: Value,
    /// Extra details CloudTrail records for some events (e.g. service events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_event_data: Option<Value>,
    /// The request id the reply carried (`x-amzn-RequestId`).
    #[serde(rename = "requestID")]
    pub request_id: String,
    /// This record's unique id, a UUID (see [`crate::new_event_id`]).
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// Whether the operation only reads.
    pub read_only: bool,
    /// The keys the event concerns.
    pub resources: Vec<Resource>,
    /// Whether a caller or the service itself acted.
    pub event_type: EventType,
    /// Always `true` for KMS events.
    pub management_event: bool,
    /// The account that receives the event (the key's owner).
    pub recipient_account_id: String,
    /// [`MANAGEMENT_CATEGORY`].
    pub event_category: String,
    /// Present when the request came over TLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_details: Option<TlsDetails>,
}

/// `eventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// A request made by a caller.
    AwsApiCall,
    /// An action the service took on its own (rotation, scheduled deletion,
    /// imported material expiring).
    AwsServiceEvent,
}

/// `userIdentity`. CloudTrail omits the fields it does not know: a service
/// event carries only `accountId` and `invokedBy`; a request whose signature
/// failed may carry only `type` and `accessKeyId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// `IAMUser`, `AssumedRole`, `Root`, `AWSAccount`, `AWSService`, `Unknown`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub identity_type: Option<String>,
    /// The principal's unique id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// The principal's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The principal's account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The access key id the request was signed with (never the secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The IAM user name, for `IAMUser`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The service that acted, for service events (`kms.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
    /// For role sessions: the role and the session's attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_context: Option<SessionContext>,
}

/// `userIdentity.sessionContext`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    /// The role the session was issued for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_issuer: Option<SessionIssuer>,
    /// When the session was created and whether MFA was used.
    pub attributes: SessionAttributes,
}

/// `userIdentity.sessionContext.sessionIssuer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer {
    /// `Role`.
    #[serde(rename = "type")]
    pub issuer_type: String,
    /// The role's unique id.
    pub principal_id: String,
    /// The role's ARN.
    pub arn: String,
    /// The role's account.
    pub account_id: String,
    /// The role's name.
    pub user_name: String,
}

/// `userIdentity.sessionContext.attributes`. CloudTrail writes both as strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// ISO-8601 creation time of the session.
    pub creation_date: String,
    /// `"true"` or `"false"`.
    pub mfa_authenticated: String,
}

/// An entry of `resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// The resource's account.
    #[serde(rename = "accountId")]
    pub account_id: String,
    /// [`KMS_KEY_RESOURCE_TYPE`] for keys.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// The resource's ARN.
    #[serde(rename = "ARN")]
    pub arn: String,
}

impl Resource {
    /// A KMS key resource.
    #[must_use]
    pub fn kms_key(account_id: impl Into<String>, key_arn: impl Into<String>) -> Self {
        Self {
            account_id: account_id.into(),
            resource_type: KMS_KEY_RESOURCE_TYPE.to_owned(),
            arn: key_arn.into(),
        }
    }
}

/// `tlsDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TlsDetails {
    /// `TLSv1.2` or `TLSv1.3`.
    pub tls_version: String,
    /// The IANA name of the negotiated suite, e.g. `TLS_AES_128_GCM_SHA256`.
    pub cipher_suite: String,
    /// The `Host` header the client sent.
    pub client_provided_host_header: String,
}

impl Event {
    /// A KMS API call event with the constant fields filled in
    /// (`eventVersion` 1.11, `eventSource` kms.amazonaws.com, `eventType`
    /// AwsApiCall, `managementEvent` true, `eventCategory` Management) and
    /// null parameters, no resources, no error and no TLS details.
    #[must_use]
    pub fn kms_api_call(
        user_identity: UserIdentity,
        unix_millis: i64,
        event_name: impl Into<String>,
        aws_region: impl Into<String>,
        recipient_account_id: impl Into<String>,
        request_id: impl Into<String>,
        event_id: impl Into<String>,
    ) -> Self {
        Self {
            event_version: EVENT_VERSION.to_owned(),
            user_identity,
            event_time: crate::format_iso8601(unix_millis),
            event_source: KMS_EVENT_SOURCE.to_owned(),
            event_name: event_name.into(),
            aws_region: aws_region.into(),
            source_ip_address: String::new(),
            user_agent: String::new(),
            error_code: None,
            error_message: None,
            request_parameters: Value::Null,
            response_elements: Value::Null,
            additional_event_data: None,
            request_id: request_id.into(),
            event_id: event_id.into(),
            read_only: false,
            resources: Vec::new(),
            event_type: EventType::AwsApiCall,
            management_event: true,
            recipient_account_id: recipient_account_id.into(),
            event_category: MANAGEMENT_CATEGORY.to_owned(),
            tls_details: None,
        }
    }

    /// The canonical bytes of this event: `serde_json::to_vec(self)`, keys in
    /// the declaration order above, no whitespace. Produce them once, store
    /// them, and hash them with [`crate::link`]; never re-serialize a parsed
    /// event to check a hash.
    ///
    /// # Errors
    ///
    /// [`Error::Serialize`] if serde_json fails (it does not for these types).
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(self).map_err(Error::Serialize)
    }

    /// Parses stored event bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Serialize`] if the bytes are not an event.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(Error::Serialize)
    }
}

/// Just the `eventID` of stored event bytes, for naming records in reports.
pub(crate) fn event_id_of(bytes: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct IdOnly {
        #[serde(rename = "eventID")]
        event_id: Option<String>,
    }
    serde_json::from_slice::<IdOnly>(bytes).ok()?.event_id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::new_event_id;

    fn sample() -> Event {
        let identity = UserIdentity {
            identity_type: Some("IAMUser".into()),
            principal_id: Some("AIDAEXAMPLE".into()),
            arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            account_id: Some("111122223333".into()),
            access_key_id: Some("AKIAEXAMPLE".into()),
            user_name: Some("alice".into()),
            invoked_by: None,
            session_context: None,
        };
        let mut e = Event::kms_api_call(
            identity,
            1_795_899_600_000,
            "Encrypt",
            "us-east-1",
            "111122223333",
            "req-1",
            "8f0c6ed5-7f4e-4b43-9a0e-2d1c5b7a9e10",
        );
        e.source_ip_address = "192.0.2.1".into();
        e.user_agent = "aws-cli/2".into();
        e.request_parameters = serde_json::json!({"keyId": "alias/a",
            "encryptionContext": {"purpose": "test"}});
        e.resources = vec![Resource::kms_key(
            "111122223333",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )];
        e
    }

    #[test]
    fn serializes_cloudtrail_keys_in_order() {
        let json = String::from_utf8(sample().to_json().unwrap()).unwrap();
        assert!(json.starts_with(
            r#"{"eventVersion":"1.11","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","#
        ));
        for needle in [
            r#""eventTime":"2026-11-28T21:00:00Z","eventSource":"kms.amazonaws.com","eventName":"Encrypt""#,
            r#""awsRegion":"us-east-1","sourceIPAddress":"192.0.2.1","userAgent":"aws-cli/2""#,
            r#""responseElements":null,"requestID":"req-1","eventID":"8f0c6ed5-"#,
            r#""readOnly":false,"resources":[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:"#,
            r#""eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}"#,
        ] {
            assert!(json.contains(needle), "{needle} not in {json}");
        }
        for absent in [
            "errorCode",
            "errorMessage",
            "tlsDetails",
            "sessionContext",
            "invokedBy",
        ] {
            assert!(!json.contains(absent), "{absent} in {json}");
        }
    }

    #[test]
    fn optional_fields_and_round_trip() {
        let mut e = sample();
        e.error_code = Some("AccessDeniedException".into());
        e.error_message = Some("denied".into());
        e.event_type = EventType::AwsServiceEvent;
        e.tls_details = Some(TlsDetails {
            tls_version: "TLSv1.3".into(),
            cipher_suite: "TLS_AES_128_GCM_SHA256".into(),
            client_provided_host_header: "kms.example".into(),
        });
        e.user_identity.session_context = Some(SessionContext {
            session_issuer: Some(SessionIssuer {
                issuer_type: "Role".into(),
                principal_id: "AROAEXAMPLE".into(),
                arn: "arn:aws:iam::111122223333:role/r".into(),
                account_id: "111122223333".into(),
                user_name: "r".into(),
            }),
            attributes: SessionAttributes {
                creation_date: "2026-11-28T20:00:00Z".into(),
                mfa_authenticated: "false".into(),
            },
        });
        let bytes = e.to_json().unwrap();
        let json = String::from_utf8(bytes.clone()).unwrap();
        assert!(json.contains(r#""errorCode":"AccessDeniedException","errorMessage":"denied""#));
        assert!(json.contains(r#""eventType":"AwsServiceEvent""#));
        assert!(json.contains(r#""tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"kms.example"}"#));
        assert!(json.contains(r#""sessionContext":{"sessionIssuer":{"type":"Role","#));
        assert!(json.contains(
            r#""attributes":{"creationDate":"2026-11-28T20:00:00Z","mfaAuthenticated":"false"}"#
        ));
        assert_eq!(Event::from_json(&bytes).unwrap(), e);
        assert_eq!(event_id_of(&bytes).as_deref(), Some(e.event_id.as_str()));
    }

    #[test]
    fn event_ids_are_time_ordered_v7_uuids() {
        let a = new_event_id().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_event_id().unwrap();
        assert_ne!(a, b);
        assert!(a < b, "later ids sort after earlier ones: {a} {b}");
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "7");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(a.matches('-').count(), 4);
    }
}
