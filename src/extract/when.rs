//! Event dates from the sentence, relative to the article's publication date.
//!
//! News writes dates relative to the dateline: "on Tuesday", "yesterday", "the day before",
//! "last week", "next week", "Nov. 12". Rules (`words` are the sentence's normalised tokens):
//! - a weekday ("on Tuesday") is the latest such day on or before the publication date, or
//!   for a planned event the next such day after it;
//! - "today"/"tonight" = the date, "yesterday" = -1, "tomorrow" = +1, "the day before" = -1,
//!   "last week" = -7, "next week" = +7, "earlier this week" = -2 (news convention: a day or
//!   two back);
//! - "<month> <day>" or "<day> <month>" takes the year that puts it nearest the date.
//!
//! Without any of these the publication date is the event date (`date_source` "published");
//! with no publication date, there is no date.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month(w: &str) -> Option<u32> {
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if let Some(i) = FULL.iter().position(|m| *m == w) {
        return Some(i as u32 + 1);
    }
    // Abbreviations ("nov", "sept"), never "may"/"mar" alone as a verb is checked by caller.
    if w == "sept" {
        return Some(9);
    }
    MONTHS.iter().position(|m| *m == w).map(|i| i as u32 + 1)
}

fn day(w: &str) -> Option<u32> {
    let w = w
        .strip_suffix("st")
        .or_else(|| w.strip_suffix("nd"))
        .or_else(|| w.strip_suffix("rd"))
        .or_else(|| w.strip_suffix("th"))
        .unwrap_or(w);
    w.parse::<u32>().ok().filter(|d| (1..=31).contains(d))
}

/// The date a sentence talks about, resolved against `published`; `future` when the event
/// is planned (weekdays then point forward). Returns the date and whether it came from text.
pub(crate) fn resolve(
    words: &[&str],
    published: Option<NaiveDate>,
    future: bool,
) -> Option<(NaiveDate, bool)> {
    let p = published?;
    let at = |i: usize| words.get(i).copied().unwrap_or("");
    for (i, &w) in words.iter().enumerate() {
        // Every word this loop acts on (a relative day, "week", a weekday, a month) has 3 to 9
        // letters and starts with one of these; most words do not, and skip the compares.
        if !(3..=9).contains(&w.len())
            || !matches!(
                w.as_bytes()[0],
                b'a' | b'd' | b'f' | b'j' | b'm' | b'n' | b'o' | b's' | b't' | b'w' | b'y'
            )
        {
            continue;
        }
        let found = match w {
            "today" | "tonight" => Some(p),
            "yesterday" => Some(p - Duration::days(1)),
            "tomorrow" => Some(p + Duration::days(1)),
            "day" if at(i + 1) == "before" && at(i.wrapping_sub(1)) == "the" => {
                Some(p - Duration::days(1))
            }
            "week" if at(i.wrapping_sub(1)) == "last" => Some(p - Duration::days(7)),
            "week" if at(i.wrapping_sub(1)) == "next" => Some(p + Duration::days(7)),
            "week" if at(i.wrapping_sub(1)) == "this" && at(i.wrapping_sub(2)) == "earlier" => {
                Some(p - Duration::days(2))
            }
            _ => None,
        };
        if found.is_some() {
            return found.map(|d| (d, true));
        }
        if let Some(&(_, wd)) = WEEKDAYS.iter().find(|(n, _)| *n == w) {
            let cur = p.weekday().num_days_from_monday() as i64;
            let want = wd.num_days_from_monday() as i64;
            let d = if future {
                let ahead = (want - cur).rem_euclid(7);
                p + Duration::days(if ahead == 0 { 7 } else { ahead })
            } else {
                p - Duration::days((cur - want).rem_euclid(7))
            };
            return Some((d, true));
        }
        // "<month> <day>" / "<day> <month>"; "may" and "march" only with a day next to them.
        if let Some(m) = month(w) {
            let d = day(at(i + 1)).or_else(|| (i > 0).then(|| day(at(i - 1))).flatten());
            if let Some(d) = d {
                let mut best: Option<NaiveDate> = None;
                for y in [p.year() - 1, p.year(), p.year() + 1] {
                    if let Some(c) = NaiveDate::from_ymd_opt(y, m, d)
                        && best.is_none_or(|b| (c - p).num_days().abs() < (b - p).num_days().abs())
                    {
                        best = Some(c);
                    }
                }
                if let Some(b) = best {
                    return Some((b, true));
                }
            }
        }
    }
    Some((p, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn r(s: &str, future: bool) -> Option<(NaiveDate, bool)> {
        let words: Vec<&str> = s.split(' ').collect();
        // 2023-11-12 is a Sunday.
        resolve(&words, Some(d("2023-11-12")), future)
    }

    #[test]
    fn relative_expressions_resolve_against_the_date() {
        // Datelines are relative; the event date must not be the publication date blindly.
        assert_eq!(
            r("he met him on tuesday", false),
            Some((d("2023-11-07"), true))
        );
        assert_eq!(
            r("he will meet him on tuesday", true),
            Some((d("2023-11-14"), true))
        );
        assert_eq!(r("the day before", false), Some((d("2023-11-11"), true)));
        assert_eq!(r("talks yesterday", false), Some((d("2023-11-11"), true)));
        assert_eq!(r("talks next week", true), Some((d("2023-11-19"), true)));
        assert_eq!(r("on nov 10", false), Some((d("2023-11-10"), true)));
        assert_eq!(r("on 2 january", false), Some((d("2024-01-02"), true)));
        assert_eq!(r("she may meet him", false), Some((d("2023-11-12"), false)));
        assert_eq!(resolve(&["today"], None, false), None);
    }
}
