//! keyfort-sigv4
#![forbid(unsafe_code)]
