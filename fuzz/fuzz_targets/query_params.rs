//! Fuzzes the Query protocol's form decoding (IAM and STS request bodies): no panic on
//! any input; a body that parses gives back, through the typed accessors, only what
//! was in it (lists and tags stop at the first gap), and its audit view never holds
//! Action or Version.
#![no_main]

use keyfort_server::query::{Params, form_decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = form_decode(text);
    }
    let Ok(p) = Params::parse(data) else {
        return;
    };
    let _ = p.max_items();
    let _ = p.int("DurationSeconds");
    let _ = p.req("UserName");
    for (i, _) in p.tags("Tags").iter().enumerate() {
        assert!(p.opt(&format!("Tags.member.{}.Key", i + 1)).is_some());
    }
    for (i, v) in p.list("TagKeys").iter().enumerate() {
        assert_eq!(p.opt(&format!("TagKeys.member.{}", i + 1)), Some(v.as_str()));
    }
    let audit = p.audit();
    assert!(audit.get("action").is_none() && audit.get("version").is_none());
});
