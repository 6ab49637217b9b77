//! keyfort-core
#![forbid(unsafe_code)]
