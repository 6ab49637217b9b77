//! ISO-8601 UTC timestamps as CloudTrail writes them (`2026-11-28T21:00:00Z`),
//! converted from and to Unix milliseconds without a date library. The calendar
//! is keyfort-policy's (`keyfort_policy::date`), the one keyfort uses everywhere.

use keyfort_policy::date::{days_from_civil, days_in_month};

use crate::error::Error;

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_DAY: i64 = 86_400_000;

/// Formats Unix milliseconds as CloudTrail's `eventTime` (`2026-11-28T21:00:00Z`):
/// keyfort's one formatter, re-exported.
pub use keyfort_policy::date::format_iso8601;

/// Parses a UTC timestamp `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (four-digit year)
/// into Unix milliseconds; digits of the fraction beyond milliseconds are
/// truncated. The inverse of [`format_iso8601`] for years 0000..=9999.
///
/// # Errors
///
/// [`Error::Timestamp`] if the text is not in that form or names a date or
/// time that does not exist (2027-02-29, 24:00:00, a leap second).
pub fn parse_iso8601(text: &str) -> Result<i64, Error> {
    let bad = || Error::Timestamp(text.to_owned());
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return Err(bad());
    }
    if b[16] != b':' || b.last() != Some(&b'Z') {
        return Err(bad());
    }
    let num = |range: core::ops::Range<usize>| -> Result<i64, Error> {
        let digits = &b[range];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        Ok(digits
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad());
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    let millis = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', frac @ ..] if !frac.is_empty() && frac.len() <= 9 => {
            let mut padded = [b'0'; 3];
            for (slot, d) in padded.iter_mut().zip(frac) {
                *slot = *d;
            }
            if !frac.iter().all(u8::is_ascii_digit) {
                return Err(bad());
            }
            padded
                .iter()
                .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0'))
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    Ok(days * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * MS_PER_SECOND + millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_cloudtrail_example() {
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_iso8601(1_795_899_600_000), "2026-11-28T21:00:00Z");
        assert_eq!(format_iso8601(1_795_899_600_999), "2026-11-28T21:00:00Z");
    }

    #[test]
    fn leap_years() {
        // 2024-02-29 exists; 2024-03-01 follows it.
        assert_eq!(format_iso8601(1_709_164_800_000), "2024-02-29T00:00:00Z");
        assert_eq!(format_iso8601(1_709_251_199_000), "2024-02-29T23:59:59Z");
        assert_eq!(format_iso8601(1_709_251_200_000), "2024-03-01T00:00:00Z");
        // 2000 is a leap year (divisible by 400), 2100 is not (divisible by 100).
        assert_eq!(format_iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_iso8601(4_107_456_000_000), "2100-02-28T00:00:00Z");
        assert_eq!(format_iso8601(4_107_542_400_000), "2100-03-01T00:00:00Z");
        // Day 366 of a leap year is December 31st.
        assert_eq!(format_iso8601(1_735_603_200_000), "2024-12-31T00:00:00Z");
    }

    #[test]
    fn end_of_year_and_before_epoch() {
        assert_eq!(format_iso8601(1_798_761_599_999), "2026-12-31T23:59:59Z");
        assert_eq!(format_iso8601(1_798_761_600_000), "2027-01-01T00:00:00Z");
        assert_eq!(format_iso8601(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format_iso8601(-86_400_000), "1969-12-31T00:00:00Z");
        assert_eq!(format_iso8601(946_684_799_000), "1999-12-31T23:59:59Z");
    }

    #[test]
    fn extreme_years() {
        assert_eq!(format_iso8601(253_402_300_799_000), "9999-12-31T23:59:59Z");
        assert_eq!(
            format_iso8601(253_402_300_800_000),
            "+10000-01-01T00:00:00Z"
        );
        assert_eq!(format_iso8601(-62_167_219_200_000), "0000-01-01T00:00:00Z");
        assert_eq!(format_iso8601(-62_167_219_200_001), "-0001-12-31T23:59:59Z");
        // The whole i64 range formats without overflow.
        assert!(format_iso8601(i64::MAX).starts_with('+'));
        assert!(format_iso8601(i64::MIN).starts_with('-'));
    }

    #[test]
    fn parse_inverts_format() {
        for ms in [
            0,
            -1_000,
            951_782_400_000,
            1_709_251_199_000,
            1_798_761_599_000,
            4_107_542_400_000,
            253_402_300_799_000,
            -62_167_219_200_000,
        ] {
            assert_eq!(parse_iso8601(&format_iso8601(ms)).ok(), Some(ms), "{ms}");
        }
        // Every day across a leap-year boundary and a century.
        let mut ms = 946_684_800_000 - 400 * MS_PER_DAY;
        while ms < 946_684_800_000 + 800 * MS_PER_DAY {
            assert_eq!(parse_iso8601(&format_iso8601(ms)).ok(), Some(ms));
            ms += MS_PER_DAY + 1_000;
        }
    }

    #[test]
    fn parse_fractions_and_rejects() {
        assert_eq!(parse_iso8601("1970-01-01T00:00:01.5Z").ok(), Some(1_500));
        assert_eq!(
            parse_iso8601("1970-01-01T00:00:01.123456Z").ok(),
            Some(1_123)
        );
        for bad in [
            "2027-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:60Z",
            "2026-01-01T00:00:00",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1x2Z",
            "2026-01-01T00:00:00+01:00",
            "+2026-01-01T00:00:00Z",
            "",
        ] {
            assert!(parse_iso8601(bad).is_err(), "{bad}");
        }
    }
}
