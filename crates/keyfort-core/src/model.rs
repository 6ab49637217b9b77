//! The records keyfort keeps: accounts, access keys, keys and their backing keys,
//! aliases and tags. These are what the [`crate::store::Store`] persists.

use std::fmt;

/// Declares a string enum with its exact AWS spelling, parse and display.
macro_rules! aws_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $(#[doc = $text] $variant),+ }
        impl $name {
            /// Every value, in the model's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The AWS spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Parses the AWS spelling exactly.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

aws_enum!(
    /// A key's lifecycle state.
    KeyState {
        Creating = "Creating",
        Enabled = "Enabled",
        Disabled = "Disabled",
        PendingDeletion = "PendingDeletion",
        PendingImport = "PendingImport",
        PendingReplicaDeletion = "PendingReplicaDeletion",
        Unavailable = "Unavailable",
        Updating = "Updating",
    }
);

aws_enum!(
    /// What a key may be used for.
    KeyUsage {
        SignVerify = "SIGN_VERIFY",
        EncryptDecrypt = "ENCRYPT_DECRYPT",
        GenerateVerifyMac = "GENERATE_VERIFY_MAC",
        KeyAgreement = "KEY_AGREEMENT",
    }
);

aws_enum!(
    /// The type of key material.
    KeySpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        EccNistP256 = "ECC_NIST_P256",
        EccNistP384 = "ECC_NIST_P384",
        EccNistP521 = "ECC_NIST_P521",
        EccSecgP256k1 = "ECC_SECG_P256K1",
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        Hmac224 = "HMAC_224",
        Hmac256 = "HMAC_256",
        Hmac384 = "HMAC_384",
        Hmac512 = "HMAC_512",
        Sm2 = "SM2",
        MlDsa44 = "ML_DSA_44",
        MlDsa65 = "ML_DSA_65",
        MlDsa87 = "ML_DSA_87",
        EccNistEdwards25519 = "ECC_NIST_EDWARDS25519",
    }
);

aws_enum!(
    /// Where the key material came from.
    Origin {
        AwsKms = "AWS_KMS",
        External = "EXTERNAL",
        AwsCloudHsm = "AWS_CLOUDHSM",
        ExternalKeyStore = "EXTERNAL_KEY_STORE",
    }
);

aws_enum!(
    /// Who manages the key.
    KeyManager {
        Aws = "AWS",
        Customer = "CUSTOMER",
    }
);

aws_enum!(
    /// Encryption algorithms.
    EncryptionAlgorithm {
        SymmetricDefault = "SYMMETRIC_DEFAULT",
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        Sm2Pke = "SM2PKE",
    }
);

aws_enum!(
    /// MAC algorithms.
    MacAlgorithm {
        HmacSha224 = "HMAC_SHA_224",
        HmacSha256 = "HMAC_SHA_256",
        HmacSha384 = "HMAC_SHA_384",
        HmacSha512 = "HMAC_SHA_512",
    }
);

aws_enum!(
    /// Data key specs for GenerateDataKey.
    DataKeySpec {
        Aes256 = "AES_256",
        Aes128 = "AES_128",
    }
);

aws_enum!(
    /// How a backing key after the first was added (ListKeyRotations' RotationType).
    RotationType {
        Automatic = "AUTOMATIC",
        OnDemand = "ON_DEMAND",
    }
);

aws_enum!(
    /// Whether imported key material expires.
    ExpirationModel {
        Expires = "KEY_MATERIAL_EXPIRES",
        DoesNotExpire = "KEY_MATERIAL_DOES_NOT_EXPIRE",
    }
);

aws_enum!(
    /// Whether imported key material is present.
    ImportState {
        Imported = "IMPORTED",
        PendingImport = "PENDING_IMPORT",
    }
);

aws_enum!(
    /// How imported key material is wrapped (GetParametersForImport).
    WrappingAlgorithm {
        RsaesPkcs1V15 = "RSAES_PKCS1_V1_5",
        RsaesOaepSha1 = "RSAES_OAEP_SHA_1",
        RsaesOaepSha256 = "RSAES_OAEP_SHA_256",
        RsaAesKeyWrapSha1 = "RSA_AES_KEY_WRAP_SHA_1",
        RsaAesKeyWrapSha256 = "RSA_AES_KEY_WRAP_SHA_256",
        Sm2Pke = "SM2PKE",
    }
);

aws_enum!(
    /// The wrapping key's spec (GetParametersForImport).
    WrappingKeySpec {
        Rsa2048 = "RSA_2048",
        Rsa3072 = "RSA_3072",
        Rsa4096 = "RSA_4096",
        Sm2 = "SM2",
    }
);

aws_enum!(
    /// Whether imported material is new to the key or reimported.
    ImportType {
        NewKeyMaterial = "NEW_KEY_MATERIAL",
        ExistingKeyMaterial = "EXISTING_KEY_MATERIAL",
    }
);

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Parses a 12-digit account id.
    pub fn parse(s: &str) -> Option<AccountId> {
        (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())).then(|| AccountId(s.to_owned()))
    }
    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account known to this deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    /// The account id.
    pub id: AccountId,
    /// When it was created, in milliseconds since the epoch.
    pub created_ms: i64,
}

/// An integrating service registered by the operator (`keyfort admin service`): the
/// IAM user whose requests may act on behalf of other principals through it, which
/// makes `kms:ViaService` true for them (docs/rotation.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// The service's short name, as in `alias/aws/<name>` and
    /// `<name>.<region>.amazonaws.com` (`s3`, `ebs`, ...).
    pub name: String,
    /// The account of the IAM user that is the service's identity.
    pub account: AccountId,
    /// That user's name.
    pub user_name: String,
    /// That user's unique id (`AIDA...`) when registered: a user deleted and made
    /// again under the same name is a different user and does not inherit the role.
    pub user_id: String,
    /// When it was registered, in milliseconds since the epoch.
    pub created_ms: i64,
}

/// Whether an access key may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKeyStatus {
    /// Usable.
    Active,
    /// Refused.
    Inactive,
}

/// An access key; its secret is stored sealed under the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    /// The public access key id (AKIA...).
    pub access_key_id: String,
    /// The account it belongs to.
    pub account: AccountId,
    /// The ARN of the principal it authenticates as.
    pub principal_arn: String,
    /// The secret access key, sealed (see [`crate::sealing`]).
    pub sealed_secret: Vec<u8>,
    /// Active or inactive.
    pub status: AccessKeyStatus,
    /// Creation time in milliseconds since the epoch.
    pub created_ms: i64,
}

/// A tag on a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The tag key.
    pub key: String,
    /// The tag value.
    pub value: String,
}

/// One version of a key's material, sealed under the root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackingKeyRecord {
    /// 32 random bytes; hex-encoded, this is AWS's KeyMaterialId.
    pub id: [u8; 32],
    /// The material, sealed with AAD binding it to the key id and this id.
    pub sealed: Vec<u8>,
    /// Creation time in milliseconds since the epoch.
    pub created_ms: i64,
    /// How this version was added; `None` for a key's first material.
    pub rotation_type: Option<RotationType>,
    /// When this version became current by a rotation (`None` for the first material
    /// and for imported material still waiting for its rotation).
    pub rotated_ms: Option<i64>,
    /// Set for imported material (keys of Origin EXTERNAL).
    pub import: Option<ImportedMaterial>,
}

impl BackingKeyRecord {
    /// Whether the material is present (generated material always is; imported
    /// material is absent after it expired or was deleted).
    pub fn is_present(&self) -> bool {
        self.import
            .as_ref()
            .is_none_or(|i| i.state == ImportState::Imported)
    }
    /// Whether this is imported material waiting for RotateKeyOnDemand.
    pub fn is_pending_rotation(&self) -> bool {
        self.import.as_ref().is_some_and(|i| i.pending_rotation)
    }
}

/// What keyfort knows about imported key material besides the material itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedMaterial {
    /// IMPORTED, or PENDING_IMPORT once deleted or expired (the sealed material is
    /// then empty).
    pub state: ImportState,
    /// Whether it expires.
    pub expiration: ExpirationModel,
    /// When it expires (with [`ExpirationModel::Expires`]), milliseconds since the epoch.
    pub valid_to_ms: Option<i64>,
    /// The caller's description of the material (0..256 characters).
    pub description: String,
    /// Imported as new material for an on-demand rotation that has not happened yet.
    pub pending_rotation: bool,
}

/// A KMS key, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key id (a UUID).
    pub id: String,
    /// The owning account.
    pub account: AccountId,
    /// The region the key lives in.
    pub region: String,
    /// Description, 0..8192 characters.
    pub description: String,
    /// Lifecycle state.
    pub state: KeyState,
    /// Usage.
    pub usage: KeyUsage,
    /// Spec.
    pub spec: KeySpec,
    /// Origin.
    pub origin: Origin,
    /// Manager.
    pub manager: KeyManager,
    /// Creation time in milliseconds since the epoch.
    pub created_ms: i64,
    /// When a pending deletion completes, in milliseconds since the epoch.
    pub deletion_ms: Option<i64>,
    /// The waiting period of a pending deletion.
    pub pending_window_days: Option<u32>,
    /// The key policy document (JSON text), exactly as given.
    pub policy: String,
    /// Tags, in insertion order, unique by key.
    pub tags: Vec<Tag>,
    /// The material versions, oldest first; the current one is the last that is not
    /// waiting for a rotation. Never empty for AWS_KMS keys.
    pub backing_keys: Vec<BackingKeyRecord>,
    /// The automatic rotation period in days when automatic rotation is enabled.
    pub rotation_period_days: Option<u32>,
    /// When the next automatic rotation is due, milliseconds since the epoch.
    pub next_rotation_ms: Option<i64>,
}

impl KeyRecord {
    /// `arn:{partition}:kms:{region}:{account}:key/{id}`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:kms:{}:{}:key/{}",
            self.region, self.account, self.id
        )
    }
    /// The current backing key: the newest that is not waiting for a rotation.
    pub fn current_backing_key(&self) -> Option<&BackingKeyRecord> {
        self.backing_keys
            .iter()
            .rev()
            .find(|b| !b.is_pending_rotation())
    }
}

/// An alias, pointing at a key in the same account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    /// The owning account.
    pub account: AccountId,
    /// The region.
    pub region: String,
    /// The full name, `alias/...`.
    pub name: String,
    /// The key id it points at.
    pub target_key_id: String,
    /// Creation time, milliseconds since the epoch.
    pub created_ms: i64,
    /// Last update time, milliseconds since the epoch.
    pub updated_ms: i64,
}

impl AliasRecord {
    /// `arn:aws:kms:{region}:{account}:alias/...`.
    pub fn arn(&self) -> String {
        format!("arn:aws:kms:{}:{}:{}", self.region, self.account, self.name)
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
