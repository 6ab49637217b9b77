//! Dates for the `Date*` operators: ISO 8601 (W3C profile) and epoch seconds,
//! both turned into milliseconds since 1970-01-01T00:00:00Z; and the one calendar
//! keyfort has: [`format_iso8601`] (`aws:CurrentTime`, CloudTrail's `eventTime`),
//! [`days_from_civil`], [`civil_from_days`] and [`days_in_month`], used by the audit
//! trail's timestamps too.

/// Parses `2024-05-01`, `2024-05-01T12:30Z`, `2024-05-01T12:30:00Z`,
/// `2024-05-01T12:30:00.123+02:00`, the basic forms `20240501T123000Z`, or an
/// integer of epoch seconds. A date-time without a zone is UTC. Eight digits
/// read as a basic-form date (`20240501`), not as epoch seconds (which would be
/// a moment in 1970).
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty()
        && s.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-'))
        && s.len() != 8
    {
        let secs: i64 = s.parse().ok()?;
        return secs.checked_mul(1000);
    }
    let b = s.as_bytes();
    let mut p = Cursor { b, i: 0 };
    let year = p.digits(4)?;
    let extended = p.eat(b'-');
    let month = p.digits(2)?;
    if extended && !p.eat(b'-') {
        return None;
    }
    let day = p.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day) * 86_400_000;
    if p.done() {
        return Some(millis);
    }
    if !(p.eat(b'T') || p.eat(b't') || p.eat(b' ')) {
        return None;
    }
    let hour = p.digits(2)?;
    if extended && !p.eat(b':') {
        return None;
    }
    let minute = p.digits(2)?;
    let mut second = 0;
    let colon = extended && p.peek() == Some(b':');
    if colon || (!extended && p.peek().is_some_and(|c| c.is_ascii_digit())) {
        if colon {
            p.i += 1;
        }
        second = p.digits(2)?;
        if p.eat(b'.') || p.eat(b',') {
            let start = p.i;
            let mut frac = 0;
            let mut scale = 0;
            while let Some(c) = p.peek().filter(u8::is_ascii_digit) {
                if scale < 3 {
                    frac = frac * 10 + i64::from(c - b'0');
                    scale += 1;
                }
                p.i += 1;
            }
            if p.i == start {
                return None;
            }
            while scale < 3 {
                frac *= 10;
                scale += 1;
            }
            millis += frac;
        }
    }
    if hour > 24 || minute > 59 || second > 60 || (hour == 24 && (minute > 0 || second > 0)) {
        return None;
    }
    millis += (hour * 3600 + minute * 60 + second) * 1000;
    // Zone: none (UTC), Z, or +hh[:mm] / -hh[:mm] / +hhmm.
    if p.done() || p.eat(b'Z') || p.eat(b'z') {
        return p.done().then_some(millis);
    }
    let sign = if p.eat(b'+') {
        -1
    } else if p.eat(b'-') {
        1
    } else {
        return None;
    };
    let oh = p.digits(2)?;
    let mut om = 0;
    if !p.done() {
        p.eat(b':');
        om = p.digits(2)?;
    }
    if !p.done() || oh > 23 || om > 59 {
        return None;
    }
    Some(millis + sign * (oh * 3600 + om * 60) * 1000)
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<i64> {
        let s = self.b.get(self.i..self.i + n)?;
        let mut v = 0i64;
        for &c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        self.i += n;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` (1..=12) of year `y` of the proleptic Gregorian calendar.
#[must_use]
pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// The calendar repeats every 400 years (146,097 days). Both conversions count years
// from March, so that the leap day is the last day of a year: the month lengths
// from March on follow (153 * m + 2) / 5, and the year of January and February is
// the next one.

/// Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years).
#[must_use]
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1..=12, day 1..=31) of `days` since 1970-01-01; the inverse of
/// [`days_from_civil`]. No overflow for any day count of an `i64` of milliseconds.
#[must_use]
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Formats Unix milliseconds as `2026-11-28T21:00:00Z`: UTC, whole seconds
/// (milliseconds are truncated toward the past). Years 0000..=9999 use four digits;
/// others ISO 8601's expanded form with a sign (`+10000-01-01T00:00:00Z`,
/// `-0001-12-31T23:59:59Z`). Written digit by digit: it runs on every request
/// (`aws:CurrentTime`, the audit record's `eventTime`).
#[must_use]
pub fn format_iso8601(unix_millis: i64) -> String {
    const MS_PER_DAY: i64 = 86_400_000;
    let (year, month, day) = civil_from_days(unix_millis.div_euclid(MS_PER_DAY));
    let secs = unix_millis.rem_euclid(MS_PER_DAY) / 1000;
    let mut out = String::with_capacity(24);
    let digits = |out: &mut String, n: i64, width: u32| {
        for k in (0..width).rev() {
            let d = n / 10_i64.pow(k) % 10;
            out.push(char::from_digit(u32::try_from(d).unwrap_or(0), 10).unwrap_or('0'));
        }
    };
    match year {
        0..=9999 => digits(&mut out, year, 4),
        y if y > 9999 => {
            out.push('+');
            out.push_str(&y.to_string());
        }
        y => {
            out.push('-');
            let a = y.unsigned_abs();
            if a < 10_000 {
                digits(&mut out, i64::try_from(a).unwrap_or(0), 4);
            } else {
                out.push_str(&a.to_string());
            }
        }
    }
    out.push('-');
    digits(&mut out, month, 2);
    out.push('-');
    digits(&mut out, day, 2);
    out.push('T');
    digits(&mut out, secs / 3600, 2);
    out.push(':');
    digits(&mut out, secs / 60 % 60, 2);
    out.push(':');
    digits(&mut out, secs % 60, 2);
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::{civil_from_days, days_from_civil, days_in_month, format_iso8601, parse_date};

    #[test]
    fn format_iso8601_is_utc_whole_seconds() {
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_iso8601(1_798_761_599_999), "2026-12-31T23:59:59Z");
        assert_eq!(format_iso8601(-1000), "1969-12-31T23:59:59Z");
        assert_eq!(format_iso8601(-1), "1969-12-31T23:59:59Z");
        assert_eq!(
            format_iso8601(253_402_300_800_000),
            "+10000-01-01T00:00:00Z"
        );
        assert_eq!(format_iso8601(-62_167_219_200_001), "-0001-12-31T23:59:59Z");
        assert_eq!(
            parse_date(&format_iso8601(1_795_899_600_999)),
            Some(1_795_899_600_000)
        );
    }

    #[test]
    fn civil_from_days_inverts_days_from_civil_day_by_day() {
        // Every day from 1600-03-01 to about 2400: each follows the one before, in a
        // real month, and converts back to the same count.
        let start = days_from_civil(1600, 3, 1);
        let mut prev = civil_from_days(start - 1);
        for days in start..start + 292_200 {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            let next_day = (y, m, d) == (prev.0, prev.1, prev.2 + 1);
            let next_month =
                d == 1 && ((y, m) == (prev.0, prev.1 + 1) || (y, m) == (prev.0 + 1, 1));
            assert!(next_day || next_month, "{prev:?} then {:?}", (y, m, d));
            assert_eq!(days_from_civil(y, m, d), days);
            prev = (y, m, d);
        }
        // The extremes of an i64 of milliseconds do not overflow.
        let _ = civil_from_days(i64::MAX / 86_400_000);
        let _ = civil_from_days(i64::MIN / 86_400_000 - 1);
    }

    #[test]
    fn formats() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("0"), Some(0));
        assert_eq!(parse_date("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_date("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(
            parse_date("2023-11-14T22:13:20.5Z"),
            Some(1_700_000_000_500)
        );
        assert_eq!(
            parse_date("2023-11-14T23:13:20+01:00"),
            Some(1_700_000_000_000)
        );
        assert_eq!(
            parse_date("2023-11-14T21:13:20-0100"),
            Some(1_700_000_000_000)
        );
        assert_eq!(parse_date("2023-11-14T22:13:20"), Some(1_700_000_000_000));
        assert_eq!(parse_date("20231114T221320Z"), Some(1_700_000_000_000));
        assert_eq!(parse_date("20231114"), parse_date("2023-11-14"));
        assert_eq!(parse_date("2023-11-14T22:13Z"), Some(1_699_999_980_000));
        assert_eq!(parse_date("2000-02-29"), Some(951_782_400_000));
        assert_eq!(parse_date("1969-12-31"), Some(-86_400_000));
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "x",
            "2023-13-01",
            "2023-02-29",
            "2023-11-14T25:00:00Z",
            "2023-11-14T22:13:20Q",
            "2023-11-14T22:13:20.Z",
            "2023/11/14",
            "2023-11-14T",
            "1e9",
            "2023-11-14T22:13:20+1",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
