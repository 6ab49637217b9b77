//! keyfort-crypto
#![forbid(unsafe_code)]
