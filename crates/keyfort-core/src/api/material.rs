//! Typed requests of key rotation and imported key material, and their decoding.

use crate::arn::KeyRef;
use crate::error::KmsError;
use crate::model::{ExpirationModel, ImportType, WrappingAlgorithm, WrappingKeySpec};

use super::wire::{Blob, Req};
use super::{ListPage, enum_error, key_ref, page, parse_enum};

/// ListKeyRotations.
#[derive(Debug)]
pub struct ListKeyRotations {
    /// Key.
    pub key: KeyRef,
    /// ALL_KEY_MATERIAL (true) or ROTATIONS_ONLY (false, the default).
    pub all_key_material: bool,
    /// Page.
    pub page: ListPage,
}

/// GetParametersForImport.
#[derive(Debug)]
pub struct GetParametersForImport {
    /// Key.
    pub key: KeyRef,
    /// How the material will be wrapped.
    pub algorithm: WrappingAlgorithm,
    /// The wrapping key's size.
    pub wrapping_key_spec: WrappingKeySpec,
}

/// ImportKeyMaterial. The wrapped material is not a secret in transit (it is
/// encrypted to the wrapping key), but neither it nor the token is ever recorded
/// anywhere; `Debug` shows only their lengths.
pub struct ImportKeyMaterial {
    /// Key.
    pub key: KeyRef,
    /// The token from GetParametersForImport.
    pub import_token: Vec<u8>,
    /// The material, wrapped with the token's public key.
    pub encrypted_key_material: Vec<u8>,
    /// KEY_MATERIAL_EXPIRES (the default) or KEY_MATERIAL_DOES_NOT_EXPIRE.
    pub expiration: ExpirationModel,
    /// When it expires (required with KEY_MATERIAL_EXPIRES), ms since the epoch.
    pub valid_to_ms: Option<i64>,
    /// NEW_KEY_MATERIAL or EXISTING_KEY_MATERIAL; the default depends on the key.
    pub import_type: Option<ImportType>,
    /// The caller's description of the material.
    pub description: Option<String>,
    /// The material id a reimport must match.
    pub key_material_id: Option<[u8; 32]>,
}

impl std::fmt::Debug for ImportKeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportKeyMaterial")
            .field("key", &self.key)
            .field(
                "import_token",
                &format_args!("<{} bytes>", self.import_token.len()),
            )
            .field(
                "encrypted_key_material",
                &format_args!("<{} bytes>", self.encrypted_key_material.len()),
            )
            .field("expiration", &self.expiration)
            .field("valid_to_ms", &self.valid_to_ms)
            .field("import_type", &self.import_type)
            .field("description", &self.description)
            .field(
                "key_material_id",
                &self.key_material_id.map(|id| crate::model::hex(&id)),
            )
            .finish()
    }
}

/// RotationPeriodInDays: 90..2560, default 365.
pub(super) fn rotation_period(v: Option<i64>) -> Result<Option<u32>, KmsError> {
    match v {
        None => Ok(None),
        Some(n) if (90..=2560).contains(&n) => Ok(Some(n as u32)),
        Some(_) => Err(KmsError::field(
            "rotationPeriodInDays",
            "Member must have value between 90 and 2560",
        )),
    }
}

pub(super) fn list_key_rotations(r: Req) -> Result<ListKeyRotations, KmsError> {
    let all_key_material = match r.include_key_material.as_deref() {
        None | Some("ROTATIONS_ONLY") => false,
        Some("ALL_KEY_MATERIAL") => true,
        Some(other) => {
            return Err(enum_error(
                "includeKeyMaterial",
                other,
                &["ALL_KEY_MATERIAL", "ROTATIONS_ONLY"],
            ));
        }
    };
    Ok(ListKeyRotations {
        key: key_ref(r.key_id, "keyId")?,
        all_key_material,
        page: page(r.limit, r.marker)?,
    })
}

pub(super) fn get_parameters_for_import(r: Req) -> Result<GetParametersForImport, KmsError> {
    let key = key_ref(r.key_id, "keyId")?;
    let algorithm = parse_enum(
        r.wrapping_algorithm
            .as_deref()
            .ok_or_else(|| KmsError::missing("wrappingAlgorithm"))?,
        "wrappingAlgorithm",
        WrappingAlgorithm::parse,
        WrappingAlgorithm::ALL,
        WrappingAlgorithm::as_str,
    )?;
    let wrapping_key_spec = parse_enum(
        r.wrapping_key_spec
            .as_deref()
            .ok_or_else(|| KmsError::missing("wrappingKeySpec"))?,
        "wrappingKeySpec",
        WrappingKeySpec::parse,
        WrappingKeySpec::ALL,
        WrappingKeySpec::as_str,
    )?;
    Ok(GetParametersForImport {
        key,
        algorithm,
        wrapping_key_spec,
    })
}

/// A KeyMaterialId: 64 lowercase hex digits.
pub(super) fn key_material_id(v: Option<String>) -> Result<Option<[u8; 32]>, KmsError> {
    let Some(s) = v else { return Ok(None) };
    let bad = || {
        KmsError::field(
            "keyMaterialId",
            "Member must satisfy regular expression pattern: ^[a-f0-9]+$ and have length 64",
        )
    };
    if s.len() != 64 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let hex = std::str::from_utf8(chunk).map_err(|_| bad())?;
        out[i] = u8::from_str_radix(hex, 16).map_err(|_| bad())?;
    }
    Ok(Some(out))
}

pub(super) fn import_key_material(r: Req) -> Result<ImportKeyMaterial, KmsError> {
    let key = key_ref(r.key_id, "keyId")?;
    let import_token = blob(r.import_token, "importToken")?;
    let encrypted_key_material = blob(r.encrypted_key_material, "encryptedKeyMaterial")?;
    let expiration = match r.expiration_model.as_deref() {
        None => ExpirationModel::Expires,
        Some(s) => parse_enum(
            s,
            "expirationModel",
            ExpirationModel::parse,
            ExpirationModel::ALL,
            ExpirationModel::as_str,
        )?,
    };
    let valid_to_ms = match r.valid_to {
        None => None,
        Some(secs) if secs.is_finite() && secs > 0.0 && secs < 1e13 => {
            Some((secs * 1000.0).round() as i64)
        }
        Some(_) => {
            return Err(KmsError::field(
                "validTo",
                "Member must be a timestamp in epoch seconds",
            ));
        }
    };
    match (expiration, valid_to_ms) {
        (ExpirationModel::Expires, None) => {
            return Err(KmsError::Validation(
                "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".into(),
            ));
        }
        (ExpirationModel::DoesNotExpire, Some(_)) => {
            return Err(KmsError::Validation(
                "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE".into(),
            ));
        }
        _ => {}
    }
    let import_type = r
        .import_type
        .as_deref()
        .map(|s| {
            parse_enum(
                s,
                "importType",
                ImportType::parse,
                ImportType::ALL,
                ImportType::as_str,
            )
        })
        .transpose()?;
    let description = match r.key_material_description {
        None => None,
        Some(d) => {
            if d.chars().count() > 256 {
                return Err(KmsError::field(
                    "keyMaterialDescription",
                    "Member must have length less than or equal to 256",
                ));
            }
            if !d.is_empty()
                && !d
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c.is_whitespace() || ":/_.-".contains(c))
            {
                return Err(KmsError::field(
                    "keyMaterialDescription",
                    "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_\\s.-]+$",
                ));
            }
            Some(d)
        }
    };
    let key_material_id = key_material_id(r.key_material_id)?;
    if key_material_id.is_some() && import_type == Some(ImportType::NewKeyMaterial) {
        return Err(KmsError::Validation(
            "You cannot specify a KeyMaterialId with ImportType NEW_KEY_MATERIAL.".into(),
        ));
    }
    Ok(ImportKeyMaterial {
        key,
        import_token,
        encrypted_key_material,
        expiration,
        valid_to_ms,
        import_type,
        description,
        key_material_id,
    })
}

fn blob(v: Option<Blob>, field: &str) -> Result<Vec<u8>, KmsError> {
    let b = v.ok_or_else(|| KmsError::missing(field))?.0;
    if b.is_empty() || b.len() > 6144 {
        return Err(KmsError::field(
            field,
            "Member must have length between 1 and 6144",
        ));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use crate::api::{Operation, parse};

    fn code(name: &str, body: &str) -> &'static str {
        match parse(name, body.as_bytes()) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn rotation_requests_follow_the_model() {
        for (days, want) in [
            (89, "ValidationException"),
            (90, "ok"),
            (2560, "ok"),
            (2561, "ValidationException"),
        ] {
            let body = format!(r#"{{"KeyId":"{ID}","RotationPeriodInDays":{days}}}"#);
            assert_eq!(code("EnableKeyRotation", &body), want, "{days}");
        }
        assert_eq!(code("EnableKeyRotation", "{}"), "ValidationException");
        assert_eq!(
            code("RotateKeyOnDemand", &format!(r#"{{"KeyId":"{ID}"}}"#)),
            "ok"
        );
        let list = |extra: &str| format!(r#"{{"KeyId":"{ID}"{extra}}}"#);
        assert_eq!(code("ListKeyRotations", &list("")), "ok");
        assert_eq!(
            code(
                "ListKeyRotations",
                &list(r#","IncludeKeyMaterial":"ALL_KEY_MATERIAL""#)
            ),
            "ok"
        );
        assert_eq!(
            code("ListKeyRotations", &list(r#","IncludeKeyMaterial":"SOME""#)),
            "ValidationException"
        );
        assert_eq!(
            code("ListKeyRotations", &list(r#","Limit":1001"#)),
            "ValidationException"
        );
    }

    #[test]
    fn import_requests_follow_the_model() {
        let body = |extra: &str| {
            format!(
                r#"{{"KeyId":"{ID}","ImportToken":"dG9rZW4=","EncryptedKeyMaterial":"a2V5"{extra}}}"#
            )
        };
        // The default ExpirationModel (KEY_MATERIAL_EXPIRES) needs ValidTo.
        assert_eq!(code("ImportKeyMaterial", &body("")), "ValidationException");
        assert_eq!(
            code("ImportKeyMaterial", &body(r#","ValidTo":1900000000"#)),
            "ok"
        );
        assert_eq!(
            code(
                "ImportKeyMaterial",
                &body(r#","ExpirationModel":"KEY_MATERIAL_DOES_NOT_EXPIRE""#)
            ),
            "ok"
        );
        assert_eq!(
            code(
                "ImportKeyMaterial",
                &body(r#","ExpirationModel":"KEY_MATERIAL_DOES_NOT_EXPIRE","ValidTo":1900000000"#)
            ),
            "ValidationException"
        );
        let hex64 = "ab".repeat(32);
        let ok = format!(
            r#","ExpirationModel":"KEY_MATERIAL_DOES_NOT_EXPIRE","KeyMaterialId":"{hex64}""#
        );
        match parse("ImportKeyMaterial", body(&ok).as_bytes()) {
            Ok(Operation::ImportKeyMaterial(i)) => assert_eq!(i.key_material_id, Some([0xab; 32])),
            other => panic!("{other:?}"),
        }
        for bad in ["AB".repeat(32), "ab".repeat(31), "zz".repeat(32)] {
            let b = format!(
                r#","ExpirationModel":"KEY_MATERIAL_DOES_NOT_EXPIRE","KeyMaterialId":"{bad}""#
            );
            assert_eq!(
                code("ImportKeyMaterial", &body(&b)),
                "ValidationException",
                "{bad}"
            );
        }
        // A material id cannot go with NEW_KEY_MATERIAL.
        let b = format!(
            r#","ExpirationModel":"KEY_MATERIAL_DOES_NOT_EXPIRE","ImportType":"NEW_KEY_MATERIAL","KeyMaterialId":"{hex64}""#
        );
        assert_eq!(code("ImportKeyMaterial", &body(&b)), "ValidationException");
        assert_eq!(
            code(
                "ImportKeyMaterial",
                &body(
                    r#","ExpirationModel":"KEY_MATERIAL_DOES_NOT_EXPIRE","KeyMaterialDescription":"bad;chars""#
                )
            ),
            "ValidationException"
        );
        assert_eq!(
            code(
                "ImportKeyMaterial",
                &format!(
                    r#"{{"KeyId":"{ID}","EncryptedKeyMaterial":"a2V5","ValidTo":1900000000}}"#
                )
            ),
            "ValidationException"
        );
        let params = |alg: &str, spec: &str| {
            format!(r#"{{"KeyId":"{ID}","WrappingAlgorithm":"{alg}","WrappingKeySpec":"{spec}"}}"#)
        };
        assert_eq!(
            code(
                "GetParametersForImport",
                &params("RSAES_OAEP_SHA_256", "RSA_4096")
            ),
            "ok"
        );
        assert_eq!(
            code("GetParametersForImport", &params("RSA_OAEP", "RSA_4096")),
            "ValidationException"
        );
        assert_eq!(
            code(
                "GetParametersForImport",
                &params("RSAES_OAEP_SHA_256", "RSA_1024")
            ),
            "ValidationException"
        );
        // The audit parameters never carry the token or the wrapped material.
        let op = parse("ImportKeyMaterial", body(&ok).as_bytes()).unwrap();
        let audit = op.audit_parameters().to_string();
        assert!(
            !audit.contains("dG9rZW4=") && !audit.contains("a2V5"),
            "{audit}"
        );
        assert!(audit.contains(&hex64));
        let debug = format!("{op:?}");
        assert!(
            !debug.contains("116, 111, 107") && debug.contains("<5 bytes>"),
            "{debug}"
        );
    }
}
