//! Fuzzes the grant token decoder (RetireGrant's GrantToken comes from the network):
//! no panic on any input, and whatever a token names comes back from a token made for
//! it.
#![no_main]

use keyfort_core::grant::{grant_token, parse_grant_token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((region, key_id, grant_id)) = parse_grant_token(text) {
        let again = grant_token(&region, &key_id, &grant_id, "00");
        assert_eq!(
            parse_grant_token(&again),
            Some((region, key_id, grant_id))
        );
    }
    // Any field text (without the separator) round-trips.
    if !text.is_empty() && !text.contains('|') {
        let t = grant_token(text, text, text, text);
        assert_eq!(
            parse_grant_token(&t),
            Some((text.to_owned(), text.to_owned(), text.to_owned()))
        );
    }
});
