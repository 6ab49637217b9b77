//! keyfort-server
#![forbid(unsafe_code)]
