//! Every KMS operation of the foundation, driven through the official AWS SDK for Rust
//! against an in-process keyfort.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod aliases;
mod asym;
mod auth;
mod authz;
mod crypto;
mod deletion;
mod grants;
mod import;
mod keys;
mod last_usage;
mod managed;
mod rotation;
mod tags_policy;
mod via_service;
