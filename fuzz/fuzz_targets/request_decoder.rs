//! Fuzzes the JSON 1.1 request decoder: any operation name, any body. The decoder must
//! return a typed operation or an AWS error, never panic, and never echo a secret.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let ops = keyfort_core::api::OPERATIONS;
    let name = ops[selector as usize % ops.len()];
    match keyfort_core::api::parse(name, body) {
        Ok(_) => {}
        Err(e) => {
            // Every decoding error is a client error with an AWS code.
            assert!(e.status() == 400, "{name}: {e:?}");
            assert!(e.code().ends_with("Exception"));
        }
    }
});
