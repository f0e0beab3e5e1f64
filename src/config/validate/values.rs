//! The checks every table shares: `${VAR}` expansion, non-empty strings, ids (charset and
//! duplicates), durations, bounded integers, dates, severities and secrets. Each error points
//! at the value's `file:line`, so the table validators only say what the value is for.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use toml::Spanned;

use super::Builder;
use crate::config::ConfigError;
use crate::config::expand::expand;
use crate::config::paths::resolve;
use crate::config::raw::{SourceFile, Str};
use crate::events::Severity;

/// Longest duration any setting accepts (100 years): parley adds these spans to the current
/// time, which must stay inside chrono's calendar.
const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// True when an id is safe to use in rules, events and CLI flags (no `:` so `group:` is
/// unambiguous, no spaces so it needs no quoting).
pub(super) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Records `id` as defined at `here`, or reports the earlier definition.
fn claim(seen: &mut HashMap<String, String>, id: &str, here: String) -> Result<(), String> {
    match seen.get(id) {
        Some(first) => Err(first.clone()),
        None => {
            seen.insert(id.to_string(), here);
            Ok(())
        }
    }
}

impl Builder<'_> {
    /// The string with `${VAR}` expanded; errors point at the string's line.
    pub(super) fn text(&self, file: &SourceFile, s: &Str) -> Result<String, ConfigError> {
        self.expand_at(file, s.get_ref(), &s.span())
    }

    fn expand_at(
        &self,
        file: &SourceFile,
        s: &str,
        span: &Range<usize>,
    ) -> Result<String, ConfigError> {
        expand(s, self.env).map_err(|e| file.err(span, e.message()))
    }

    /// A non-empty (after trimming) expanded string.
    pub(super) fn nonempty(
        &self,
        file: &SourceFile,
        s: &Str,
        what: &str,
    ) -> Result<String, ConfigError> {
        let value = self.text(file, s)?;
        if value.trim().is_empty() {
            return Err(file.err(&s.span(), format!("{what} is empty")));
        }
        Ok(value.trim().to_string())
    }

    /// An id: expanded, checked for charset, claimed against duplicates.
    pub(super) fn id(
        &self,
        file: &SourceFile,
        s: &Str,
        kind: &str,
        seen: &mut HashMap<String, String>,
    ) -> Result<String, ConfigError> {
        let id = self.text(file, s)?;
        if !is_valid_id(&id) {
            return Err(file.err(
                &s.span(),
                format!(
                    "{kind} id {id:?} is not valid: use letters, digits, `-`, `_` and `.` only"
                ),
            ));
        }
        claim(seen, &id, file.at(&s.span())).map_err(|first| {
            file.err(
                &s.span(),
                format!("duplicate {kind} id {id:?} (first defined at {first})"),
            )
        })?;
        Ok(id)
    }

    /// A humantime duration; zero is refused unless `allow_zero`.
    pub(super) fn duration(
        &self,
        file: &SourceFile,
        s: &Str,
        what: &str,
        allow_zero: bool,
    ) -> Result<Duration, ConfigError> {
        let text = self.text(file, s)?;
        let d = humantime::parse_duration(text.trim()).map_err(|e| {
            file.err(
                &s.span(),
                format!("{what}: bad duration {text:?} ({e}); write e.g. \"90s\", \"15m\", \"6h\""),
            )
        })?;
        if d.is_zero() && !allow_zero {
            return Err(file.err(&s.span(), format!("{what}: must be greater than zero")));
        }
        if d > MAX_DURATION {
            // Timestamps are computed as now ± these spans; past the calendar's range that
            // arithmetic would overflow, and no real setting needs a century.
            return Err(file.err(
                &s.span(),
                format!("{what}: {text:?} is too long (at most 100 years)"),
            ));
        }
        Ok(d)
    }

    pub(super) fn opt_duration(
        &self,
        file: &SourceFile,
        s: Option<&Str>,
        what: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        s.map_or(Ok(default), |s| self.duration(file, s, what, false))
    }

    /// An integer in `min..=max`.
    pub(super) fn int_in(
        &self,
        file: &SourceFile,
        n: &Spanned<i64>,
        what: &str,
        min: i64,
        max: i64,
    ) -> Result<i64, ConfigError> {
        let v = *n.get_ref();
        if v < min || v > max {
            return Err(file.err(
                &n.span(),
                format!("{what}: {v} is out of range (allowed {min}..={max})"),
            ));
        }
        Ok(v)
    }

    /// A date given as `"2021-01-26"` or as a bare TOML date.
    pub(super) fn date(
        &self,
        file: &SourceFile,
        v: &Spanned<toml::Value>,
        what: &str,
    ) -> Result<NaiveDate, ConfigError> {
        let span = v.span();
        let bad = |shown: String| {
            file.err(
                &span,
                format!("{what}: bad date {shown} (expected YYYY-MM-DD, e.g. 2021-01-26)"),
            )
        };
        match v.get_ref() {
            toml::Value::String(s) => {
                let s = self.expand_at(file, s, &span)?;
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| bad(format!("{s:?}")))
            }
            toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => {
                    NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                        .ok_or_else(|| bad(dt.to_string()))
                }
                _ => Err(bad(dt.to_string())),
            },
            other => Err(bad(other.to_string())),
        }
    }

    pub(super) fn severity(
        &self,
        file: &SourceFile,
        s: &Str,
        what: &str,
    ) -> Result<Severity, ConfigError> {
        let v = self.text(file, s)?;
        Severity::parse(v.trim()).ok_or_else(|| {
            file.err(
                &s.span(),
                format!("{what}: unknown severity {v:?} (expected info, warning or critical)"),
            )
        })
    }

    /// A secret given inline (`key`, usually `${ENV}`) or as `key_file` (a path relative to
    /// the config file whose contents, trimmed of the final newline, are the secret). Error
    /// messages never contain the secret.
    pub(super) fn secret(
        &self,
        file: &SourceFile,
        inline: Option<&Str>,
        path: Option<&Str>,
        what: &str,
    ) -> Result<Option<String>, ConfigError> {
        match (inline, path) {
            (Some(_), Some(p)) => Err(file.err(
                &p.span(),
                format!("{what}: give either the value or the `_file`, not both"),
            )),
            (Some(v), None) => {
                let v = self.text(file, v)?;
                Ok((!v.is_empty()).then_some(v))
            }
            (None, Some(p)) => {
                let written = self.text(file, p)?;
                let full = resolve(&file.dir, Path::new(written.trim()));
                let text = std::fs::read_to_string(&full).map_err(|e| {
                    file.err(
                        &p.span(),
                        format!("{what}: cannot read secret file {}: {e}", full.display()),
                    )
                })?;
                let v = text.trim_end_matches(['\n', '\r']).to_string();
                Ok((!v.is_empty()).then_some(v))
            }
            (None, None) => Ok(None),
        }
    }
}
