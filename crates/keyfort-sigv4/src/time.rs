//! `X-Amz-Date` parsing and formatting, and the clock-skew check.
//!
//! The civil-date arithmetic is done here rather than with a date crate: a
//! proleptic Gregorian calendar, UTC, no leap seconds, years 1970 to 9999.

use crate::error::{Error, Malformed, echo};

const SECS_PER_DAY: u64 = 86_400;
/// Days in 400 Gregorian years; the calendar repeats with this period.
const DAYS_PER_400_YEARS: u64 = 146_097;
/// Days before the first of each month in a common year.
const DAYS_BEFORE_MONTH: [u64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

fn is_leap(year: u64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Leap years among the years 1 to `year` inclusive.
fn leap_years_through(year: u64) -> u64 {
    year / 4 - year / 100 + year / 400
}

/// Days from 1970-01-01 to January 1st of `year` (`year >= 1970`).
fn days_before_year(year: u64) -> u64 {
    365 * (year - 1970) + leap_years_through(year - 1) - leap_years_through(1969)
}

/// Days from the start of `year` to the first of `month` (1-based).
fn days_before_month(year: u64, month: u64) -> u64 {
    let index = usize::try_from(month.saturating_sub(1))
        .unwrap_or(0)
        .min(11);
    DAYS_BEFORE_MONTH[index] + u64::from(month > 2 && is_leap(year))
}

/// Reads `N` ASCII digits; `None` if any byte is not a digit.
fn digits<const N: usize>(bytes: &[u8]) -> Option<u64> {
    if bytes.len() != N {
        return None;
    }
    bytes.iter().try_fold(0u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

/// Parses an `X-Amz-Date` value such as `20150830T123600Z` into unix seconds.
///
/// Every field is checked: exactly `YYYYMMDDTHHMMSSZ`, a real calendar day,
/// hours 00-23, minutes and seconds 00-59, year 1970 or later.
///
/// # Errors
/// [`Malformed::Date`] for anything else.
pub fn parse_amz_date(s: &str) -> Result<u64, Error> {
    parse_fields(s.as_bytes()).ok_or_else(|| Malformed::Date(echo(s)).into())
}

fn parse_fields(b: &[u8]) -> Option<u64> {
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let year = digits::<4>(&b[0..4])?;
    let month = digits::<2>(&b[4..6])?;
    let day = digits::<2>(&b[6..8])?;
    let hour = digits::<2>(&b[9..11])?;
    let minute = digits::<2>(&b[11..13])?;
    let second = digits::<2>(&b[13..15])?;
    let valid = year >= 1970
        && (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = days_before_year(year) + days_before_month(year, month) + (day - 1);
    Some(days * SECS_PER_DAY + hour * 3600 + minute * 60 + second)
}

/// Formats unix seconds as `YYYYMMDDTHHMMSSZ`.
///
/// Instants after 9999-12-31T23:59:59Z give a year of more than four digits,
/// which [`parse_amz_date`] rejects.
#[must_use]
pub fn format_amz_date(unix: u64) -> String {
    let days = unix / SECS_PER_DAY;
    let secs = unix % SECS_PER_DAY;

    // Whole 400-year cycles first, then at most a few steps within one.
    let base = 1970 + 400 * (days / DAYS_PER_400_YEARS);
    let in_cycle = days % DAYS_PER_400_YEARS;
    let base_days = days_before_year(base);
    let mut year = base + in_cycle / 366; // never past the right year
    while days_before_year(year + 1) - base_days <= in_cycle {
        year += 1;
    }
    let mut day_of_year = in_cycle - (days_before_year(year) - base_days);
    let mut month = 1;
    while month < 12 && day_of_year >= days_in_month(year, month) {
        day_of_year -= days_in_month(year, month);
        month += 1;
    }
    let day = day_of_year + 1;
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    format!("{year:04}{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z")
}

/// The cheap checks to run before looking up a secret or hashing anything.
///
/// `credential_date` (the `YYYYMMDD` of the credential scope) must equal the
/// first eight characters of `amz_date`, and `amz_date` must lie within
/// `max_skew_secs` of `now_unix`, inclusive, in either direction. The server
/// uses [`DEFAULT_MAX_SKEW_SECS`](crate::DEFAULT_MAX_SKEW_SECS).
///
/// # Errors
/// [`Malformed::Date`] if `amz_date` does not parse, [`Malformed::DateMismatch`]
/// if the scope date differs, [`Error::Expired`] if the skew is too large.
pub fn check_time(
    amz_date: &str,
    credential_date: &str,
    now_unix: u64,
    max_skew_secs: u64,
) -> Result<(), Error> {
    let request_unix = parse_amz_date(amz_date)?;
    // parse_amz_date accepted it, so amz_date is 16 ASCII bytes.
    let date_part = amz_date.get(..8).unwrap_or(amz_date);
    if date_part != credential_date {
        return Err(Malformed::DateMismatch {
            scope: echo(credential_date),
            date_part: date_part.to_owned(),
            amz_date: amz_date.to_owned(),
        }
        .into());
    }
    if request_unix.abs_diff(now_unix) > max_skew_secs {
        return Err(Error::Expired {
            request_unix,
            now_unix,
            max_skew_secs,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z

    #[test]
    fn parses_known_instants() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Ok(0));
        assert_eq!(parse_amz_date("20150830T123600Z"), Ok(EXAMPLE));
        assert_eq!(parse_amz_date("20000229T235959Z"), Ok(951_868_799));
        assert_eq!(parse_amz_date("20380119T031408Z"), Ok(2_147_483_648));
        assert_eq!(parse_amz_date("99991231T235959Z"), Ok(253_402_300_799));
        assert_eq!(parse_amz_date("21000301T000000Z"), Ok(4_107_542_400));
    }

    #[test]
    fn rejects_every_bad_field() {
        for bad in [
            "",
            "20150830T123600",
            "20150830T123600ZZ",
            "20150830t123600Z",
            "20150830T123600z",
            "2015-08-30T12:36:00Z",
            "19691231T235959Z",
            "20150001T000000Z",
            "20151301T000000Z",
            "20150800T000000Z",
            "20150832T000000Z",
            "20150229T000000Z",
            "21000229T000000Z",
            "20150431T000000Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "2015083OT123600Z",
            "+0150830T123600Z",
            "20150830 123600Z",
            "２0150830T12360Z",
        ] {
            let err = parse_amz_date(bad).expect_err(bad);
            assert!(matches!(err, Error::Malformed(Malformed::Date(_))), "{bad}");
        }
        assert!(parse_amz_date("20160229T000000Z").is_ok());
        assert!(parse_amz_date("20000229T000000Z").is_ok());
    }

    #[test]
    fn format_round_trips() {
        assert_eq!(format_amz_date(0), "19700101T000000Z");
        assert_eq!(format_amz_date(EXAMPLE), "20150830T123600Z");
        assert_eq!(format_amz_date(951_868_799), "20000229T235959Z");
        assert_eq!(format_amz_date(951_868_800), "20000301T000000Z");
        assert_eq!(format_amz_date(253_402_300_799), "99991231T235959Z");
        // Every day boundary over a span crossing 2000 and 2100, plus odd seconds.
        let mut t = 946_000_000u64;
        while t < 4_200_000_000 {
            let s = format_amz_date(t);
            assert_eq!(parse_amz_date(&s), Ok(t), "{s}");
            t += 86_400 * 7 + 3_601;
        }
        // Huge values must not panic.
        let _ = format_amz_date(u64::MAX);
    }

    #[test]
    fn skew_is_inclusive_both_ways() {
        let date = "20150830T123600Z";
        assert_eq!(check_time(date, "20150830", EXAMPLE, 900), Ok(()));
        assert_eq!(check_time(date, "20150830", EXAMPLE + 900, 900), Ok(()));
        assert_eq!(check_time(date, "20150830", EXAMPLE - 900, 900), Ok(()));
        let past = check_time(date, "20150830", EXAMPLE + 901, 900).unwrap_err();
        assert_eq!(
            past,
            Error::Expired {
                request_unix: EXAMPLE,
                now_unix: EXAMPLE + 901,
                max_skew_secs: 900
            }
        );
        let future = check_time(date, "20150830", EXAMPLE - 901, 900).unwrap_err();
        assert!(matches!(future, Error::Expired { .. }));
    }

    #[test]
    fn expired_messages_match_aws() {
        let now = parse_amz_date("20150830T125600Z").unwrap();
        let err = check_time("20150830T123600Z", "20150830", now, 900).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z \
             (20150830T125600Z - 15 min.)"
        );
        let err = check_time("20150830T131200Z", "20150830", now, 900).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Signature not yet current: 20150830T131200Z is still later than \
             20150830T131100Z (20150830T125600Z + 15 min.)"
        );
    }

    #[test]
    fn scope_date_must_match_before_skew() {
        let err = check_time("20150830T123600Z", "20150831", 0, 900).unwrap_err();
        assert!(matches!(
            err,
            Error::Malformed(Malformed::DateMismatch { .. })
        ));
        assert_eq!(
            err.to_string(),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '20150831' != '20150830', from '20150830T123600Z'."
        );
        let err = check_time("garbage", "20150830", EXAMPLE, 900).unwrap_err();
        assert!(matches!(err, Error::Malformed(Malformed::Date(_))));
    }
}
