//! Lowercase hexadecimal, as `SigV4` uses for hashes and signatures.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The 64 lowercase hex digits of a 32-byte value, without allocating.
pub(crate) fn hex32(bytes: &[u8]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0x0f)];
    }
    out
}

/// Lowercase hex of any byte string.
pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Exactly 64 hex digits (either case) into 32 bytes.
pub(crate) fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

/// The value of one hex digit, for percent-decoding.
pub(crate) fn hex_value(c: u8) -> Option<u8> {
    nibble(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes: [u8; 32] = core::array::from_fn(|i| (i * 37 + 5) as u8);
        let hex = hex32(&bytes);
        assert_eq!(std::str::from_utf8(&hex).unwrap(), encode_hex(&bytes));
        assert_eq!(decode_hex32(&encode_hex(&bytes)), Some(bytes));
        assert_eq!(
            decode_hex32(&encode_hex(&bytes).to_ascii_uppercase()),
            Some(bytes)
        );
    }

    #[test]
    fn rejects_non_hex() {
        assert_eq!(decode_hex32(""), None);
        assert_eq!(decode_hex32(&"0".repeat(63)), None);
        assert_eq!(decode_hex32(&"0".repeat(65)), None);
        assert_eq!(decode_hex32(&format!("{}g", "0".repeat(63))), None);
        assert_eq!(decode_hex32(&format!("{}é", "0".repeat(62))), None);
    }
}
