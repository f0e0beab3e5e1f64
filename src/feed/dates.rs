//! A lenient timestamp parser for feed dates, including month and day names in other
//! languages.
//!
//! feed-rs's own parser handles RFC 3339 and RFC 2822 with some repairs, but drops a date
//! such as `Mi, 12 Nov 2023 10:00:00 +0100` or `12 novembre 2023`; the article then has no
//! date, and its id (when it has no guid or link) depends on the title only. This parser is
//! plugged into feed-rs (`Builder::timestamp_parser`) and replaces it: ISO forms through
//! chrono, everything else token by token (day, month name in any of several languages,
//! year, time, zone; weekday names ignored).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use unicode_normalization::UnicodeNormalization;

/// Parses a feed timestamp; `None` when nothing date-like is found.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() || text.len() > 200 {
        return None;
    }
    iso(text).or_else(|| tokens(text))
}

/// RFC 3339 and its common relatives (space instead of `T`, no zone, date only, `+0100`).
fn iso(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some(date.with_timezone(&Utc));
    }
    if let Ok(date) = DateTime::parse_from_rfc2822(text) {
        return Some(date.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(date) = DateTime::parse_from_str(text, format) {
            return Some(date.with_timezone(&Utc));
        }
    }
    let bare = text.trim_end_matches('Z');
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(date) = NaiveDateTime::parse_from_str(bare, format) {
            return Some(Utc.from_utc_datetime(&date));
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(bare, format) {
            return Some(Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)));
        }
    }
    None
}

/// Month names (lower case, without diacritics) in English, French, German, Spanish,
/// Italian, Portuguese and Dutch, with their usual abbreviations.
const MONTHS: [&[&str]; 12] = [
    &[
        "january", "jan", "janvier", "janv", "januar", "janner", "jan", "enero", "ene", "gennaio",
        "gen", "janeiro", "januari",
    ],
    &[
        "february",
        "feb",
        "fevrier",
        "fevr",
        "fev",
        "februar",
        "febrero",
        "febbraio",
        "fevereiro",
        "februari",
    ],
    &[
        "march", "mar", "mars", "marz", "marzo", "marco", "maart", "mrt",
    ],
    &["april", "apr", "avril", "avr", "abril", "abr", "aprile"],
    &["may", "mai", "mayo", "maggio", "mag", "maio", "mei"],
    &[
        "june", "jun", "juin", "juni", "junio", "giugno", "giu", "junho",
    ],
    &[
        "july", "jul", "juillet", "juil", "juli", "julio", "luglio", "lug", "julho",
    ],
    &["august", "aug", "aout", "agosto", "ago", "augustus"],
    &[
        "september",
        "sep",
        "sept",
        "septembre",
        "septiembre",
        "setiembre",
        "settembre",
        "set",
        "setembro",
    ],
    &[
        "october", "oct", "octobre", "oktober", "okt", "octubre", "ottobre", "ott", "outubro",
        "out",
    ],
    &["november", "nov", "novembre", "noviembre", "novembro"],
    &[
        "december",
        "dec",
        "decembre",
        "dezember",
        "dez",
        "diciembre",
        "dic",
        "dicembre",
        "dezembro",
    ],
];

/// North American zone abbreviations still common in RSS (RFC 822 allows them).
const ZONES: [(&str, i32); 11] = [
    ("gmt", 0),
    ("ut", 0),
    ("utc", 0),
    ("z", 0),
    ("est", -5),
    ("edt", -4),
    ("cst", -6),
    ("cdt", -5),
    ("mst", -7),
    ("mdt", -6),
    ("pst", -8),
];

fn fold(token: &str) -> String {
    token
        .nfd()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

fn month(token: &str) -> Option<u32> {
    let token = fold(token);
    if token.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|names| names.contains(&token.as_str()))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Day, month name, year, `hh:mm[:ss]` and zone in any order; other words are ignored.
fn tokens(text: &str) -> Option<DateTime<Utc>> {
    let (mut day, mut month_no, mut year) = (None, None, None);
    let mut time = None;
    let mut offset_secs = 0i32;
    // "Mar, 14 nov 2023": a leading word with a comma is a weekday ("martes"), never a month.
    let text = match text.split_once(',') {
        Some((first, rest)) if !first.contains(' ') && first.parse::<u32>().is_err() => rest,
        _ => text,
    };
    for raw in text.split(|c: char| c.is_whitespace() || c == ',' || c == '/') {
        let token = raw.trim_matches(|c: char| c == '.' || c == '(' || c == ')');
        if token.is_empty() {
            continue;
        }
        if token.contains(':') && token.starts_with(|c: char| c.is_ascii_digit()) {
            time = time.or_else(|| clock(token));
            // "10:00:00+01:00" glued together.
            if let Some(i) = token.find(['+', '-']) {
                offset_secs = numeric_zone(&token[i..]).unwrap_or(offset_secs);
            }
        } else if token.starts_with(['+', '-']) {
            offset_secs = numeric_zone(token).unwrap_or(offset_secs);
        } else if let Ok(number) = token.trim_end_matches(['e', 'r']).parse::<u32>() {
            if number > 31 || token.len() == 4 {
                year = year.or(Some(if number < 100 { 2000 + number } else { number }));
            } else if day.is_none() {
                day = Some(number);
            } else if year.is_none() {
                year = Some(2000 + number);
            }
        } else if let Some(m) = month(token) {
            month_no = month_no.or(Some(m));
        } else if let Some((_, hours)) = ZONES.iter().find(|(z, _)| *z == fold(token)) {
            offset_secs = hours * 3600;
        } else if fold(token) == "pdt" {
            offset_secs = -7 * 3600;
        }
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year?).ok()?, month_no?, day?)?;
    let time = time.unwrap_or(NaiveTime::MIN);
    let offset = FixedOffset::east_opt(offset_secs)?;
    offset
        .from_local_datetime(&date.and_time(time))
        .single()
        .map(|d| d.with_timezone(&Utc))
}

fn clock(token: &str) -> Option<NaiveTime> {
    let digits: String = token
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .collect();
    let mut parts = digits.split(':').map(|p| p.parse::<u32>().ok());
    let hour = parts.next()??;
    let minute = parts.next()??;
    let second = parts.next().flatten().unwrap_or(0);
    // "24:00" is seen in the wild for midnight.
    NaiveTime::from_hms_opt(hour % 24, minute, second.min(59))
}

fn numeric_zone(token: &str) -> Option<i32> {
    let sign = if token.starts_with('-') { -1 } else { 1 };
    let digits: String = token[1..].chars().filter(|c| c.is_ascii_digit()).collect();
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> String {
        parse_timestamp(s)
            .map(|d| d.to_rfc3339())
            .unwrap_or_default()
    }

    #[test]
    fn english_and_iso_forms() {
        // The standard forms must keep working once feed-rs's parser is replaced.
        assert_eq!(
            at("Sun, 12 Nov 2023 10:00:00 GMT"),
            "2023-11-12T10:00:00+00:00"
        );
        assert_eq!(
            at("Thurs, 13 Jul 2011 07:38:00 -0400"),
            "2011-07-13T11:38:00+00:00"
        );
        assert_eq!(at("2023-11-12T10:00:00+01:00"), "2023-11-12T09:00:00+00:00");
        assert_eq!(at("2023-11-12 10:00:00"), "2023-11-12T10:00:00+00:00");
        assert_eq!(at("2023-11-12"), "2023-11-12T00:00:00+00:00");
        assert_eq!(
            at("November 12, 2023 10:00 EST"),
            "2023-11-12T15:00:00+00:00"
        );
    }

    #[test]
    fn other_languages() {
        // Dates in other languages are common in European feeds.
        assert_eq!(
            at("Mi, 12 Nov 2023 10:00:00 +0100"),
            "2023-11-12T09:00:00+00:00"
        );
        assert_eq!(
            at("dim., 12 nov. 2023 10:00:00 +0000"),
            "2023-11-12T10:00:00+00:00"
        );
        assert_eq!(at("12 novembre 2023"), "2023-11-12T00:00:00+00:00");
        assert_eq!(
            at("Mar, 14 Mär 2023 08:30:00 GMT"),
            "2023-03-14T08:30:00+00:00"
        );
        assert_eq!(
            at("Mar, 14 nov 2023 08:30:00 GMT"),
            "2023-11-14T08:30:00+00:00"
        );
        assert_eq!(
            at("1 de diciembre de 2022 12:00"),
            "2022-12-01T12:00:00+00:00"
        );
        assert_eq!(
            at("sábado, 3 agosto 2024 21:15:00 -0300"),
            "2024-08-04T00:15:00+00:00"
        );
    }

    #[test]
    fn garbage_is_none() {
        // No date is better than a wrong one.
        for s in [
            "",
            "yesterday",
            "99 Foo 2023",
            "32 Nov 2023",
            "31 feb 2023",
            "::",
        ] {
            assert_eq!(parse_timestamp(s), None, "{s}");
        }
    }
}
