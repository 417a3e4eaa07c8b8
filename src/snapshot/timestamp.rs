//! Timestamps in snapshots (docs/formats.md): RFC 3339 with `Z` or an offset, or a
//! bare date meaning midnight UTC, as microseconds since the Unix epoch (UTC).
//!
//! The common shapes (`2026-11-20T10:00:00Z`, with a fraction or a numeric
//! offset) are parsed by a hand-written fast path. It only ever *accepts*:
//! anything it does not recognise (a leap second, a space separator, garbage)
//! goes to chrono's RFC 3339 parser, which has the last word. So the result is
//! exactly chrono's, which the tests check with proptest.

use chrono::DateTime;

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// Parses an RFC 3339 timestamp that carries `Z` or an offset, or a bare date
/// `YYYY-MM-DD` (midnight UTC), into microseconds since the Unix epoch (UTC).
///
/// Returns `None` for anything else, including a date-time without an offset
/// (`2026-11-20T10:00:00`), which is rejected rather than guessed. Never panics.
/// Fractional seconds beyond microseconds are truncated.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let bytes = s.as_bytes();
    if bytes.len() == 10 {
        return parse_date(bytes).map(|days| days * SECONDS_PER_DAY * MICROS_PER_SECOND);
    }
    // The shortest date-time with an offset is `YYYY-MM-DDTHH:MM:SSZ`.
    if bytes.len() < 20 {
        return None;
    }
    fast_rfc3339(bytes).or_else(|| DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_micros()))
}

/// The fast path: `YYYY-MM-DD[Tt]HH:MM:SS[.fraction]([Zz]|[+-]HH:MM)` with the
/// seconds in 00..=59. Returns `None` when unsure; the caller then asks chrono.
///
/// INVARIANT: whatever this accepts, chrono accepts with the same value.
fn fast_rfc3339(b: &[u8]) -> Option<i64> {
    let days = parse_date(b.get(..10)?)?;
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return None;
    }
    let hour = two_digits(b, 11)?;
    let minute = two_digits(b, 14)?;
    let second = two_digits(b, 17)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }

    let mut i = 19;
    let mut micros = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let first_digit = i;
        let mut scale = 100_000;
        while let Some(digit) = b.get(i).filter(|c| c.is_ascii_digit()) {
            // Digits past the sixth have a scale of 0: they are truncated.
            micros += i64::from(digit - b'0') * scale;
            scale /= 10;
            i += 1;
        }
        if i == first_digit {
            return None;
        }
    }

    let offset_seconds = match b.get(i)? {
        b'Z' | b'z' => {
            i += 1;
            0
        }
        sign @ (b'+' | b'-') => {
            let offset_hour = two_digits(b, i + 1)?;
            let offset_minute = two_digits(b, i + 4)?;
            if b.get(i + 3) != Some(&b':') || offset_hour > 23 || offset_minute > 59 {
                return None;
            }
            i += 6;
            let seconds = offset_hour * 3600 + offset_minute * 60;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    if i != b.len() {
        return None;
    }

    let seconds = days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(seconds * MICROS_PER_SECOND + micros)
}

/// Parses exactly `YYYY-MM-DD` (proleptic Gregorian, year 0000..=9999) into
/// days since 1970-01-01; `None` for any other shape or an impossible date.
fn parse_date(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = two_digits(b, 0)? * 100 + two_digits(b, 2)?;
    let month = two_digits(b, 5)?;
    let day = two_digits(b, 8)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// Two ASCII digits at `b[i..i + 2]` as a number.
fn two_digits(b: &[u8], i: usize) -> Option<i64> {
    let tens = *b.get(i)?;
    let ones = *b.get(i + 1)?;
    if tens.is_ascii_digit() && ones.is_ascii_digit() {
        Some(i64::from(tens - b'0') * 10 + i64::from(ones - b'0'))
    } else {
        None
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Formats microseconds since the epoch as RFC 3339 in UTC (`2026-11-28T00:00:00Z`).
pub fn format_timestamp(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| micros.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    /// What `parse_timestamp` must return, built only from chrono.
    fn reference(s: &str) -> Option<i64> {
        let b = s.as_bytes();
        if b.len() == 10 {
            let shape_ok = b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                _ => c.is_ascii_digit(),
            });
            if !shape_ok {
                return None;
            }
            let date = NaiveDate::from_ymd_opt(
                s[0..4].parse().unwrap(),
                s[5..7].parse().unwrap(),
                s[8..10].parse().unwrap(),
            )?;
            return Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros());
        }
        DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp_micros())
    }

    fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, s)
            .unwrap()
            .and_utc()
            .timestamp_micros()
    }

    #[test]
    fn zulu_timestamp() {
        assert_eq!(
            parse_timestamp("2026-11-20T10:00:00Z"),
            Some(micros(2026, 11, 20, 10, 0, 0))
        );
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
    }

    #[test]
    fn lower_case_separators() {
        assert_eq!(
            parse_timestamp("2026-11-20t10:00:00z"),
            Some(micros(2026, 11, 20, 10, 0, 0))
        );
    }

    #[test]
    fn offsets_convert_to_utc() {
        assert_eq!(
            parse_timestamp("2026-11-20T12:00:00+02:00"),
            Some(micros(2026, 11, 20, 10, 0, 0))
        );
        assert_eq!(
            parse_timestamp("2026-11-20T05:30:00-04:30"),
            Some(micros(2026, 11, 20, 10, 0, 0))
        );
        assert_eq!(
            parse_timestamp("2026-01-01T01:00:00+02:00"),
            Some(micros(2025, 12, 31, 23, 0, 0))
        );
    }

    #[test]
    fn fractional_seconds_truncate_to_micros() {
        let base = micros(2026, 11, 20, 10, 0, 0);
        assert_eq!(parse_timestamp("2026-11-20T10:00:00.5Z"), Some(base + 500_000));
        assert_eq!(
            parse_timestamp("2026-11-20T10:00:00.123456Z"),
            Some(base + 123_456)
        );
        assert_eq!(
            parse_timestamp("2026-11-20T10:00:00.1234567891234Z"),
            Some(base + 123_456)
        );
        assert_eq!(
            parse_timestamp("2026-11-20T12:00:00.25+02:00"),
            Some(base + 250_000)
        );
    }

    #[test]
    fn before_the_epoch() {
        assert_eq!(parse_timestamp("1969-12-31T23:59:59.5Z"), Some(-500_000));
        assert_eq!(parse_timestamp("0000-01-01"), reference("0000-01-01"));
        assert!(parse_timestamp("0000-01-01").unwrap() < 0);
    }

    #[test]
    fn bare_date_is_midnight_utc() {
        assert_eq!(parse_timestamp("2026-11-20"), Some(micros(2026, 11, 20, 0, 0, 0)));
        assert_eq!(parse_timestamp("2024-02-29"), Some(micros(2024, 2, 29, 0, 0, 0)));
        assert_eq!(parse_timestamp("2026-02-29"), None);
        assert_eq!(parse_timestamp("2026-13-01"), None);
        assert_eq!(parse_timestamp("2026-1-01x"), None);
    }

    #[test]
    fn leap_second_goes_through_chrono() {
        assert_eq!(
            parse_timestamp("2016-12-31T23:59:60Z"),
            reference("2016-12-31T23:59:60Z")
        );
        assert!(parse_timestamp("2016-12-31T23:59:60Z").is_some());
    }

    #[test]
    fn datetime_without_offset_is_rejected() {
        assert_eq!(parse_timestamp("2026-11-20T10:00:00"), None);
        assert_eq!(parse_timestamp("2026-11-20T10:00:00.123"), None);
    }

    #[test]
    fn garbage_is_rejected() {
        for s in [
            "",
            "yesterday",
            "2026-11-20T10:00Z",
            "2026-11-20T24:00:00Z",
            "2026-11-20T10:00:00+24:00",
            "2026-11-20T10:00:00+02",
            "2026-11-20T10:00:00Zjunk",
            "2026-11-20T10:00:00.Z",
            "+2026-11-20",
            "20261120",
            "２０２６-11-20",
            "2026-11-20T10:00:00é",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_agrees_with_chrono_on_any_string(s in "\\PC{0,40}") {
            prop_assert_eq!(parse_timestamp(&s), reference(&s));
        }

        #[test]
        fn agrees_with_chrono_on_timestamp_shapes(
            s in "[0-9]{4}-[0-1][0-9]-[0-3][0-9][Tt ][0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{0,12})?([Zz]|[+-][0-2][0-9]:[0-6][0-9]|[+-][0-9]{2}|)"
        ) {
            prop_assert_eq!(parse_timestamp(&s), reference(&s));
        }

        #[test]
        fn agrees_with_chrono_on_valid_components(
            year in 0i32..=9999, month in 1u32..=12, day in 1u32..=31,
            hour in 0u32..=23, minute in 0u32..=59, second in 0u32..=60,
            fraction in proptest::option::of("[0-9]{1,10}"),
            offset in proptest::option::of((any::<bool>(), 0u32..=23, 0u32..=59)),
        ) {
            let mut s = format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}");
            if let Some(f) = fraction {
                s.push('.');
                s.push_str(&f);
            }
            match offset {
                None => s.push('Z'),
                Some((negative, h, m)) => {
                    s.push_str(&format!("{}{h:02}:{m:02}", if negative { '-' } else { '+' }));
                }
            }
            prop_assert_eq!(parse_timestamp(&s), reference(&s));
            let date = format!("{year:04}-{month:02}-{day:02}");
            prop_assert_eq!(parse_timestamp(&date), reference(&date));
        }
    }
}
