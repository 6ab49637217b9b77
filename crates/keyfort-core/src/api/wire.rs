//! Serde shapes of the JSON 1.1 wire format and the helpers that decode its fields.
//! Only [`super::parse`] uses these; handlers see typed operations.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keyfort_crypto::SecretBytes;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroizing;

/// A base64 blob field (ciphertext): not secret.
#[derive(Debug, Clone)]
pub struct Blob(pub Vec<u8>);

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(s.as_bytes())
            .map(Blob)
            .map_err(|_| de::Error::custom(BASE64_ERROR))
    }
}

/// A base64 blob field that holds a secret (plaintext): decoded straight into
/// zeroizing memory.
#[derive(Debug)]
pub struct SecretBlob(pub SecretBytes);

impl<'de> Deserialize<'de> for SecretBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        let mut out = Zeroizing::new(Vec::with_capacity(s.len() / 4 * 3 + 3));
        STANDARD
            .decode_vec(s.as_bytes(), &mut out)
            .map_err(|_| de::Error::custom(BASE64_ERROR))?;
        Ok(SecretBlob(SecretBytes::new(std::mem::take(&mut *out))))
    }
}

/// The message serde reports for bad base64; recognised by the error mapper.
pub const BASE64_ERROR: &str = "keyfort: invalid base64";

/// Serializes bytes as standard base64.
pub fn ser_b64<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&STANDARD.encode(bytes))
}

/// Serializes a secret as base64. The encoded copy lives only in the response buffer.
pub fn ser_secret_b64<S: Serializer>(bytes: &SecretBytes, s: S) -> Result<S::Ok, S::Error> {
    let encoded = Zeroizing::new(STANDARD.encode(bytes.expose()));
    s.serialize_str(&encoded)
}

/// Serializes an optional secret as base64 (skipped when absent by the caller).
pub fn ser_opt_secret_b64<S: Serializer>(v: &Option<SecretBytes>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => ser_secret_b64(b, s),
        None => s.serialize_none(),
    }
}

/// Serializes milliseconds since the epoch as AWS's epoch-seconds timestamp.
pub fn ser_epoch<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
    // Integral seconds print without a fraction, as AWS's replies do.
    if ms % 1000 == 0 {
        s.serialize_i64(ms / 1000)
    } else {
        s.serialize_f64(*ms as f64 / 1000.0)
    }
}

/// Serializes an optional timestamp.
pub fn ser_opt_epoch<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => ser_epoch(ms, s),
        None => s.serialize_none(),
    }
}

/// A wire tag.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireTag {
    /// Key.
    pub tag_key: Option<String>,
    /// Value.
    pub tag_value: Option<String>,
}

/// Request shapes, one per operation. Every field is optional here; required-ness and
/// limits are checked in `parse` so the errors use AWS's wording.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Req {
    pub key_id: Option<String>,
    pub policy: Option<String>,
    pub description: Option<String>,
    pub key_usage: Option<String>,
    pub customer_master_key_spec: Option<String>,
    pub key_spec: Option<String>,
    pub origin: Option<String>,
    pub custom_key_store_id: Option<String>,
    pub bypass_policy_lockout_safety_check: Option<bool>,
    pub tags: Option<Vec<WireTag>>,
    pub multi_region: Option<bool>,
    pub xks_key_id: Option<String>,
    pub grant_tokens: Option<Vec<String>>,
    pub limit: Option<i64>,
    pub marker: Option<String>,
    pub pending_window_in_days: Option<i64>,
    pub plaintext: Option<SecretBlob>,
    pub encryption_context: Option<BTreeMap<String, String>>,
    pub encryption_algorithm: Option<String>,
    pub dry_run: Option<bool>,
    pub dry_run_modifiers: Option<Vec<String>>,
    pub ciphertext_blob: Option<Blob>,
    pub recipient: Option<serde_json::Value>,
    pub source_encryption_context: Option<BTreeMap<String, String>>,
    pub source_key_id: Option<String>,
    pub destination_key_id: Option<String>,
    pub destination_encryption_context: Option<BTreeMap<String, String>>,
    pub source_encryption_algorithm: Option<String>,
    pub destination_encryption_algorithm: Option<String>,
    pub number_of_bytes: Option<i64>,
    pub alias_name: Option<String>,
    pub target_key_id: Option<String>,
    pub tag_keys: Option<Vec<String>>,
    pub policy_name: Option<String>,
    pub message: Option<SecretBlob>,
    pub message_type: Option<String>,
    pub signing_algorithm: Option<String>,
    pub signature: Option<Blob>,
    pub mac_algorithm: Option<String>,
    pub mac: Option<Blob>,
    pub key_agreement_algorithm: Option<String>,
    pub public_key: Option<Blob>,
    pub key_pair_spec: Option<String>,
    pub rotation_period_in_days: Option<i64>,
    pub include_key_material: Option<String>,
    pub wrapping_algorithm: Option<String>,
    pub wrapping_key_spec: Option<String>,
    pub import_token: Option<Blob>,
    pub encrypted_key_material: Option<Blob>,
    pub valid_to: Option<f64>,
    pub expiration_model: Option<String>,
    pub import_type: Option<String>,
    pub key_material_description: Option<String>,
    pub key_material_id: Option<String>,
    pub grantee_principal: Option<String>,
    pub retiring_principal: Option<String>,
    pub operations: Option<Vec<String>>,
    pub constraints: Option<crate::grant::GrantConstraints>,
    pub name: Option<String>,
    pub grant_id: Option<String>,
    pub grant_token: Option<String>,
}
