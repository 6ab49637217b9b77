//! Canonical encoding of an encryption context for use as AAD.

/// Length fields at or above this value are escaped (see [`put_len`]).
const LEN_ESCAPE: u32 = u32::MAX;

/// Canonical, injective serialization of an encryption context (a map of
/// string to string) for use as additional authenticated data.
///
/// Pairs are sorted by key, then by value, comparing raw UTF-8 bytes; each
/// pair is written as `len(key) || key || len(value) || value`, where `len`
/// is a 4-byte big-endian length. An empty context encodes to no bytes, so a
/// call without a context and a call with an empty one are the same. Because
/// every field is length-prefixed, distinct contexts never encode alike
/// (`{"a": "bc"}` and `{"ab": "c"}` differ).
///
/// Callers pass a map's iterator (`BTreeMap` or `HashMap`); the pairs are
/// sorted here regardless. If an iterator yields the same key twice, both
/// pairs are encoded, so such input never collides with a real map.
///
/// A field of `u32::MAX` bytes or more (impossible under KMS limits, which
/// cap a whole context at a few KiB) is written as the 4 bytes `ff ff ff ff`
/// followed by an 8-byte big-endian length, which keeps the encoding
/// injective for every input without an error path.
#[must_use]
pub fn canonical_encryption_context<'a>(
    ctx: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = ctx.into_iter().collect();
    // `str`'s `Ord` compares bytes; already-sorted input is a linear pass.
    pairs.sort_unstable();
    let size = pairs
        .iter()
        .map(|(k, v)| len_size(k.len()) + k.len() + len_size(v.len()) + v.len())
        .sum();
    let mut out = Vec::with_capacity(size);
    for (k, v) in pairs {
        put_len(&mut out, k.len());
        out.extend_from_slice(k.as_bytes());
        put_len(&mut out, v.len());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// How many bytes [`put_len`] writes for `len`.
fn len_size(len: usize) -> usize {
    match u32::try_from(len) {
        Ok(n) if n < LEN_ESCAPE => 4,
        _ => 12,
    }
}

/// Appends `len` as 4 bytes big-endian, or as `ff ff ff ff` plus 8 bytes
/// big-endian when it does not fit below the escape value.
fn put_len(out: &mut Vec<u8>, len: usize) {
    match u32::try_from(len) {
        Ok(n) if n < LEN_ESCAPE => out.extend_from_slice(&n.to_be_bytes()),
        _ => {
            out.extend_from_slice(&LEN_ESCAPE.to_be_bytes());
            // usize is at most 64 bits on every supported target.
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;

    fn enc(pairs: &[(&str, &str)]) -> Vec<u8> {
        canonical_encryption_context(pairs.iter().copied())
    }

    #[test]
    fn empty_is_empty() {
        assert!(enc(&[]).is_empty());
        let map = BTreeMap::<String, String>::new();
        let out = canonical_encryption_context(map.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert!(out.is_empty());
    }

    #[test]
    fn exact_bytes() {
        assert_eq!(
            enc(&[("b", ""), ("a", "xy")]),
            b"\0\0\0\x01a\0\0\0\x02xy\0\0\0\x01b\0\0\0\0".to_vec()
        );
    }

    #[test]
    fn order_independent() {
        let a = enc(&[("x", "1"), ("y", "2"), ("aa", "3")]);
        let b = enc(&[("aa", "3"), ("y", "2"), ("x", "1")]);
        assert_eq!(a, b);
        let hm: HashMap<&str, &str> = [("x", "1"), ("y", "2"), ("aa", "3")].into();
        assert_eq!(
            canonical_encryption_context(hm.iter().map(|(k, v)| (*k, *v))),
            a
        );
    }

    #[test]
    fn sorted_by_bytes_not_chars() {
        // 'Z' (0x5a) sorts before 'a' (0x61); "é" (0xc3 0xa9) after both.
        let out = enc(&[("é", "1"), ("a", "2"), ("Z", "3")]);
        let z = out.iter().position(|&b| b == b'Z');
        let a = out.iter().position(|&b| b == b'a');
        let e = out.iter().position(|&b| b == 0xc3);
        assert!(z < a && a < e, "{out:?}");
    }

    #[test]
    fn injective_for_tricky_pairs() {
        let cases: &[&[(&str, &str)]] = &[
            &[("a", "bc")],
            &[("ab", "c")],
            &[("abc", "")],
            &[("", "abc")],
            &[("a", "b"), ("c", "")],
            &[("a", "b\0\0\0\0c")],
            &[("a", "b"), ("", "c")],
            &[("a", ""), ("b", "")],
            &[("a", "\0\0\0\x01b\0\0\0\0")],
            &[("", "")],
            &[],
            &[("a", "1"), ("a", "1")],
            &[("a", "1")],
        ];
        for (i, x) in cases.iter().enumerate() {
            for (j, y) in cases.iter().enumerate() {
                if i != j {
                    assert_ne!(enc(x), enc(y), "{x:?} vs {y:?}");
                }
            }
        }
    }

    #[test]
    fn length_escape_is_distinct() {
        let mut small = Vec::new();
        put_len(&mut small, 5);
        assert_eq!(small, [0, 0, 0, 5]);
        let mut big = Vec::new();
        put_len(&mut big, u32::MAX as usize);
        assert_eq!(
            big,
            [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(len_size(u32::MAX as usize), 12);
        assert_eq!(len_size(u32::MAX as usize - 1), 4);
        let mut below = Vec::new();
        put_len(&mut below, u32::MAX as usize - 1);
        assert_eq!(below, [0xff, 0xff, 0xff, 0xfe]);
    }
}
