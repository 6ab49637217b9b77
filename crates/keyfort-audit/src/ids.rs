//! Unique ids for records and requests: UUIDs from the system's CSPRNG, drawn in
//! blocks.
//!
//! Every request needs two (its `requestID` and its record's `eventID`). Asking
//! aws-lc for 16 bytes at a time cost a DRBG call each (with a hardware RNG read
//! for additional input), which showed in profiles of the request path; here each
//! thread draws [`BLOCK`] bytes at once and hands them out 16 at a time. The bytes
//! are the same CSPRNG output, each used once; ids are not secrets, only unique
//! and unpredictable.

use std::cell::RefCell;

use crate::error::Error;

/// Bytes drawn from the CSPRNG at once per thread: 32 ids.
const BLOCK: usize = 512;

struct Pool {
    bytes: [u8; BLOCK],
    /// Bytes of `bytes` already handed out.
    used: usize,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            bytes: [0; BLOCK],
            used: BLOCK,
        })
    };
}

/// 16 random bytes from this thread's pool (refilled from the CSPRNG when empty).
fn random16() -> Result<[u8; 16], Error> {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.used + 16 > BLOCK {
            aws_lc_rs::rand::fill(&mut pool.bytes).map_err(Error::Random)?;
            pool.used = 0;
        }
        let at = pool.used;
        let mut out = [0u8; 16];
        out.copy_from_slice(&pool.bytes[at..at + 16]);
        // Each byte is handed out once: wipe it from the pool.
        pool.bytes[at..at + 16].fill(0);
        pool.used = at + 16;
        Ok(out)
    })
}

/// Lower-case hyphenated form (8-4-4-4-12) of a UUID's bytes.
fn hyphenated(b: &[u8; 16]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 36];
    let mut o = 0;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out[o] = b'-';
            o += 1;
        }
        out[o] = DIGITS[usize::from(byte >> 4)];
        out[o + 1] = DIGITS[usize::from(byte & 0x0f)];
        o += 2;
    }
    // Only ASCII hex digits and hyphens were written.
    out.iter().map(|&c| char::from(c)).collect()
}

fn with_version(mut b: [u8; 16], version: u8) -> [u8; 16] {
    b[6] = (b[6] & 0x0f) | (version << 4);
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 9562 variant
    b
}

/// A fresh random (version 4) UUID, lower-case hyphenated: a request id.
///
/// # Errors
///
/// [`Error::Random`] if the system RNG fails.
pub fn new_request_id() -> Result<String, Error> {
    Ok(hyphenated(&with_version(random16()?, 4)))
}

/// A fresh time-ordered (version 7) UUID for `eventID`, lower-case hyphenated.
///
/// UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Still a
/// UUID as CloudTrail's eventIDs are, but time-ordered, so the store's index on it
/// grows at its end instead of touching a random page per record.
///
/// # Errors
///
/// [`Error::Random`] if the system RNG fails.
pub fn new_event_id() -> Result<String, Error> {
    let mut b = random16()?;
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    Ok(hyphenated(&with_version(b, 7)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn shape(id: &str, version: char) {
        assert_eq!(id.len(), 36, "{id}");
        for (i, c) in id.char_indices() {
            if matches!(i, 8 | 13 | 18 | 23) {
                assert_eq!(c, '-', "{id}");
            } else {
                assert!(c.is_ascii_hexdigit() && !c.is_ascii_uppercase(), "{id}");
            }
        }
        assert_eq!(id.as_bytes()[14] as char, version, "{id}");
        assert!(
            matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'),
            "{id}"
        );
    }

    #[test]
    fn ids_have_the_uuid_shape_of_their_version() {
        for _ in 0..100 {
            shape(&new_request_id().unwrap(), '4');
            shape(&new_event_id().unwrap(), '7');
        }
    }

    #[test]
    fn ids_do_not_repeat_across_pool_refills_and_threads() {
        let mut seen = HashSet::new();
        // Several blocks' worth on this thread...
        for _ in 0..(BLOCK / 16) * 5 {
            assert!(seen.insert(new_request_id().unwrap()));
        }
        // ...and on others, whose pools are their own.
        let others: Vec<Vec<String>> = (0..4)
            .map(|_| std::thread::spawn(|| (0..100).map(|_| new_request_id().unwrap()).collect()))
            .map(|t| t.join().unwrap())
            .collect();
        for id in others.into_iter().flatten() {
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn event_ids_are_ordered_by_time() {
        let a = new_event_id().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_event_id().unwrap();
        assert!(a[..13] < b[..13], "{a} then {b}");
    }

    #[test]
    fn hyphenated_matches_the_uuid_crate_layout() {
        let b: [u8; 16] = core::array::from_fn(|i| u8::try_from(i * 17).unwrap());
        assert_eq!(hyphenated(&b), "00112233-4455-6677-8899-aabbccddeeff");
    }
}
