//! Identity: accounts, IAM users and roles, STS, and how they authenticate.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

#[path = "../common/mod.rs"]
mod common;

mod admin;
mod audit;
mod iam_query;
mod roles;
mod scenarios;
mod users;
