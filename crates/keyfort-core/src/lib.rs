//! keyfort-core: accounts, keys, aliases and the KMS operations on them.
//!
//! The server decodes a request into an [`api::Operation`], authenticates the caller
//! into a [`auth::Principal`], and calls [`service::Kms::execute`]. Everything the
//! service persists goes through the [`store::Store`] trait.
#![forbid(unsafe_code)]

pub mod error;
pub mod model;
pub mod store;

pub use error::{KmsError, Result};
pub mod api;
pub mod arn;
pub mod audit;
pub mod clock;
pub mod grant;
pub mod iam;
pub mod keyspec;
pub mod service;

pub use service::{Caller, Credential, Kms, Principal, PrincipalKind, ResourceLog};
