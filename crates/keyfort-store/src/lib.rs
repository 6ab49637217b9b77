//! keyfort-store
#![forbid(unsafe_code)]
