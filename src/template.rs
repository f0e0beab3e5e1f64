//! Message templates: minijinja (a sandboxed Jinja subset: no file or network access, no code
//! execution), rendered with the alert as context.
//!
//! Context: every alert field (`rule`, `actor_names`, `severity`, `evidence`, ...) plus
//! `names` (actor names joined with " + "), `first` (the first evidence), `link` (its URL or
//! ""), and `title` (the rendered headline, in body templates).
//!
//! A module of its own, below both users: the config loader checks every template at load (so
//! a typo fails `parley check`) and the notifiers render them, so config need not import
//! notify (which imports config).

use minijinja::Environment;
use serde_json::Value;

use crate::events::Alert;

/// Default headline: what ntfy shows as Title, email as Subject, chats in bold.
pub const DEFAULT_TITLE: &str =
    "[{{ severity }}] {{ rule }}: {{ names }}{% if event_type %} ({{ event_type }}){% endif %}";

/// Default body: readable on a phone, first evidence line and link.
pub const DEFAULT_BODY: &str = "{{ names }} together ({{ scope }}{% if event_type %}, {{ event_type }}{% endif %})\n\
{% if first %}\"{{ first.sentence }}\"\n{{ first.title }} ({{ first.feed }}){% endif %}\
{% if sources %}\nSources: {{ sources | join(\", \") }}{% endif %}\
{% if link %}\n{{ link }}{% endif %}";

/// Default stdout line (the spine's format, kept).
pub const DEFAULT_LINE: &str = "ALERT {{ rule }}: {{ names }} ({{ scope }}{% if event_type %}, {{ event_type }}{% endif %}) in \"{% if first %}{{ first.title }}{% endif %}\" [{% if first %}{{ first.feed }}{% endif %}]{% if link %} {{ link }}{% endif %}";

/// Why a template cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

/// Checks that a template compiles (config validation calls this).
pub fn check(template: &str) -> Result<(), TemplateError> {
    let env = Environment::new();
    env.template_from_str(template)
        .map(|_| ())
        .map_err(|e| TemplateError(e.to_string()))
}

/// The context a template sees for `alert`.
pub fn context(alert: &Alert) -> Value {
    let mut v = serde_json::to_value(alert).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("names".into(), Value::from(alert.actor_names.join(" + ")));
        let first = alert.evidence.first();
        map.insert(
            "first".into(),
            first
                .and_then(|e| serde_json::to_value(e).ok())
                .unwrap_or(Value::Null),
        );
        map.insert(
            "link".into(),
            Value::from(first.and_then(|e| e.url.clone()).unwrap_or_default()),
        );
    }
    v
}

/// Renders `template` for `alert`; `extra` adds or overrides context keys.
pub fn render(
    template: &str,
    alert: &Alert,
    extra: &[(&str, &str)],
) -> Result<String, TemplateError> {
    let mut ctx = context(alert);
    if let Value::Object(map) = &mut ctx {
        for (k, v) in extra {
            map.insert((*k).into(), Value::from(*v));
        }
    }
    let env = Environment::new();
    env.render_str(
        template,
        minijinja::Value::from(minijinja::value::Serde(ctx)),
    )
    .map_err(|e| TemplateError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Evidence, Severity};
    use chrono::Utc;

    fn alert() -> Alert {
        Alert {
            alert_id: "alert-1".into(),
            rule: "meet".into(),
            actors: vec!["a".into(), "b".into()],
            actor_names: vec!["Ann".into(), "Bob".into()],
            event_type: None,
            scope: "sentence".into(),
            raised_at: Utc::now(),
            evidence: vec![Evidence {
                article_id: "art".into(),
                title: "Ann meets Bob".into(),
                url: Some("https://example.org/x".into()),
                feed: "Wire".into(),
                published: None,
                sentence: "Ann met Bob.".into(),
                mentions: vec![],
            }],
            notify: vec![],
            severity: Severity::Critical,
            sources: vec![],
            silenced_by: None,
            backfill: false,
        }
    }

    #[test]
    fn defaults_render_the_essentials() {
        // A phone screen needs who, the evidence line and the link; the title the severity.
        let a = alert();
        assert_eq!(
            render(DEFAULT_TITLE, &a, &[]).unwrap(),
            "[critical] meet: Ann + Bob"
        );
        let body = render(DEFAULT_BODY, &a, &[]).unwrap();
        assert!(
            body.contains("\"Ann met Bob.\"") && body.contains("https://example.org/x"),
            "{body}"
        );
        assert_eq!(
            render(DEFAULT_LINE, &a, &[]).unwrap(),
            "ALERT meet: Ann + Bob (sentence) in \"Ann meets Bob\" [Wire] https://example.org/x"
        );
    }

    #[test]
    fn bad_templates_are_rejected_at_check() {
        // A typo in a template must fail `parley check`, not the 3 a.m. delivery.
        assert!(check("{{ rule ").is_err());
        assert!(check("{{ rule }}").is_ok());
    }
}
