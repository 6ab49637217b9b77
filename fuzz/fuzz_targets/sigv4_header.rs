//! Fuzzes the SigV4 Authorization header and X-Amz-Date parsers, and verification of
//! an arbitrary request against a fixed key: no panic on any input, and no forged
//! request verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = keyfort_sigv4::parse_amz_date(&text);
    let Ok(auth) = keyfort_sigv4::parse_authorization(&text) else {
        return;
    };
    let key = keyfort_sigv4::derive_signing_key(b"secret", auth.credential.date, auth.credential.region, auth.credential.service);
    let headers: [(&str, &[u8]); 2] = [("host", b"localhost"), ("x-amz-date", b"20150830T123600Z")];
    let req = keyfort_sigv4::Request { method: "POST", path: "/", query: "", headers: &headers, body: data };
    assert!(keyfort_sigv4::verify(&key, &req, &auth, "20150830T123600Z").is_err());
});
