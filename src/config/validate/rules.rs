//! `[[rule]]`: actor slots (actors and `group:` references), scope, filters (types, status,
//! keywords, feeds), corroboration, cooldown, severity and notifiers. Every reference is
//! checked against what the other tables defined.

use std::collections::HashMap;
use std::str::FromStr;

use toml::Spanned;

use super::{Builder, Refs};
use crate::config::raw::{RawRule, SourceFile, Str};
use crate::config::{
    ConfigError, DEFAULT_SCOPE, DEFAULT_WINDOW, Keywords, RuleConfig, RuleSlot, Scope,
};
use crate::events::Severity;
use crate::plover::PloverType;

impl Builder<'_> {
    pub(super) fn rule(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawRule>,
        refs: &Refs<'_>,
        seen: &mut HashMap<String, String>,
    ) -> Result<RuleConfig, ConfigError> {
        let r = raw.get_ref();
        let id = self.id(file, &r.id, "rule", seen)?;
        if r.actors.get_ref().is_empty() {
            return Err(file.err(&r.actors.span(), format!("rule {id:?} has no actors")));
        }
        let mut slots: Vec<RuleSlot> = Vec::new();
        for entry in r.actors.get_ref() {
            let text = self.text(file, entry)?.trim().to_string();
            let slot = match text.strip_prefix("group:") {
                Some(gid) => match refs.groups.get(gid) {
                    Some(members) => RuleSlot::Group {
                        id: gid.to_string(),
                        members: members.to_vec(),
                    },
                    None => {
                        return Err(
                            file.err(&entry.span(), format!("rule {id:?}: unknown group {gid:?}"))
                        );
                    }
                },
                None if refs.actors.contains_key(&text) => RuleSlot::Actor(text.clone()),
                None => {
                    return Err(file.err(
                        &entry.span(),
                        format!("rule {id:?}: unknown actor {text:?} (use `group:ID` for groups)"),
                    ));
                }
            };
            if slots.contains(&slot) {
                return Err(file.err(
                    &entry.span(),
                    format!("rule {id:?}: {text:?} is listed twice"),
                ));
            }
            slots.push(slot);
        }
        let min_actors = match &r.min_actors {
            Some(n) => {
                let len = i64::try_from(slots.len()).unwrap_or(i64::MAX);
                let v = self.int_in(file, n, &format!("rule {id:?}: min_actors"), 1, len)?;
                usize::try_from(v).unwrap_or(slots.len())
            }
            None => slots.len(),
        };
        let scope = match &r.scope {
            None => DEFAULT_SCOPE,
            Some(s) => match self.text(file, s)?.trim() {
                "sentence" => Scope::Sentence,
                "article" => Scope::Article,
                "event" => Scope::Event,
                "window" => Scope::Window,
                other => {
                    return Err(file.err(
                        &s.span(),
                        format!("rule {id:?}: unknown scope {other:?} (expected sentence, article, event or window)"),
                    ));
                }
            },
        };
        let mut event_types: Vec<PloverType> = Vec::new();
        for t in r.event_types.as_deref().unwrap_or_default() {
            let text = self.text(file, t)?;
            let ty = PloverType::from_str(&text)
                .map_err(|e| file.err(&t.span(), format!("rule {id:?}: {e}")))?;
            if !event_types.contains(&ty) {
                event_types.push(ty);
            }
        }
        let cooldown = r
            .cooldown
            .as_ref()
            .map(|c| self.duration(file, c, &format!("rule {id:?}: cooldown"), true))
            .transpose()?;
        let mut notify: Vec<String> = Vec::new();
        for n in r.notify.as_deref().unwrap_or_default() {
            let nid = self.text(file, n)?.trim().to_string();
            if !refs.notifiers.contains_key(&nid) {
                return Err(file.err(&n.span(), format!("rule {id:?}: unknown notifier {nid:?}")));
            }
            if notify.contains(&nid) {
                return Err(file.err(
                    &n.span(),
                    format!("rule {id:?}: notifier {nid:?} is listed twice"),
                ));
            }
            notify.push(nid);
        }
        let window = self.opt_duration(
            file,
            r.window.as_ref(),
            &format!("rule {id:?}: window"),
            DEFAULT_WINDOW,
        )?;
        let min_sources = match &r.min_sources {
            Some(n) => usize::try_from(self.int_in(
                file,
                n,
                &format!("rule {id:?}: min_sources"),
                1,
                64,
            )?)
            .unwrap_or(1),
            None => 1,
        };
        let mut status = Vec::new();
        for st in r.status.as_deref().unwrap_or_default() {
            let v = self.text(file, st)?.trim().to_ascii_lowercase();
            if !matches!(v.as_str(), "occurred" | "planned" | "denied") {
                return Err(file.err(
                    &st.span(),
                    format!(
                        "rule {id:?}: unknown status {v:?} (expected occurred, planned or denied)"
                    ),
                ));
            }
            if !status.contains(&v) {
                status.push(v);
            }
        }
        let keywords = match &r.keywords {
            None => Keywords::default(),
            Some(k) => {
                let kr = k.get_ref();
                let words =
                    |list: Option<&[Str]>, which: &str| -> Result<Vec<String>, ConfigError> {
                        let mut out: Vec<String> = Vec::new();
                        for w in list.unwrap_or_default() {
                            let v =
                                self.nonempty(file, w, &format!("rule {id:?}: keywords.{which}"))?;
                            let v = v.to_lowercase();
                            if !out.contains(&v) {
                                out.push(v);
                            }
                        }
                        Ok(out)
                    };
                let in_article = match &kr.within {
                    None => false,
                    Some(w) => match self.text(file, w)?.trim() {
                        "sentence" => false,
                        "article" => true,
                        other => {
                            return Err(file.err(
                                &w.span(),
                                format!("rule {id:?}: keywords.in {other:?} (expected sentence or article)"),
                            ));
                        }
                    },
                };
                Keywords {
                    all: words(kr.all.as_deref(), "all")?,
                    any: words(kr.any.as_deref(), "any")?,
                    none: words(kr.none.as_deref(), "none")?,
                    in_article,
                }
            }
        };
        let mut feeds = Vec::new();
        for f in r.feeds.as_deref().unwrap_or_default() {
            let name = self.nonempty(file, f, &format!("rule {id:?}: feeds"))?;
            if !refs.feeds.contains(name.as_str()) {
                return Err(file.err(
                    &f.span(),
                    format!("rule {id:?}: unknown feed {name:?} (use a feed's `name`)"),
                ));
            }
            if !feeds.contains(&name) {
                feeds.push(name);
            }
        }
        let severity = match &r.severity {
            None => Severity::default(),
            Some(sv) => self.severity(file, sv, &format!("rule {id:?}: severity"))?,
        };
        Ok(RuleConfig {
            id,
            slots,
            min_actors,
            scope,
            event_types,
            cooldown,
            notify,
            window,
            min_sources,
            status,
            keywords,
            feeds,
            severity,
            backfill: r.backfill.unwrap_or(false),
            notify_backfill: r.notify_backfill.unwrap_or(false),
        })
    }
}
