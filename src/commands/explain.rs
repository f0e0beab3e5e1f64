//! `parley alerts show ID` (and the API's and web UI's explanation of an alert): everything
//! that explains one alert, gathered from the alert, the rule that raised it and the
//! deliveries the log recorded, as text.

use std::io::Write;

use super::query::{alert_notifications, find_alert};
use super::stdout_err;
use crate::config;
use crate::error::Error;
use crate::events::Event;
use crate::store::Store;

/// `parley alerts show ID`: everything that explains an alert.
pub fn alerts_show(
    store: &Store,
    config: &config::Config,
    id: &str,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let alert = find_alert(store, id)?;
    let mut lines = vec![
        format!("alert     {}", alert.alert_id),
        format!("rule      {}", alert.rule),
        format!("severity  {}", alert.severity.as_str()),
        format!(
            "scope     {}{}",
            alert.scope,
            alert
                .event_type
                .map(|t| format!(" ({t})"))
                .unwrap_or_default()
        ),
        format!("raised    {}", alert.raised_at.to_rfc3339()),
    ];
    let names: Vec<String> = alert
        .actors
        .iter()
        .zip(&alert.actor_names)
        .map(|(id, name)| format!("{name} [{id}]"))
        .collect();
    lines.push(format!("actors    {}", names.join(", ")));
    if let Some(rule) = config.rules.iter().find(|r| r.id == alert.rule) {
        let slots: Vec<String> = rule
            .slots
            .iter()
            .map(|s| match s {
                config::RuleSlot::Actor(a) => a.clone(),
                config::RuleSlot::Group { id, .. } => format!("group:{id}"),
            })
            .collect();
        lines.push(format!(
            "matched   {} of {} slots needed: {}",
            rule.min_actors,
            rule.slots.len(),
            slots.join(", ")
        ));
        if store
            .rule_record(&rule.id)?
            .is_some_and(|r| r.hash != crate::alert::rule_hash(rule))
        {
            lines.push("note      the rule has changed since (reload to record it)".into());
        }
    }
    if !alert.sources.is_empty() {
        lines.push(format!("sources   {}", alert.sources.join(", ")));
    }
    if let Some(s) = &alert.silenced_by {
        lines.push(format!("silenced  by {s} (recorded, not notified)"));
    }
    if alert.backfill {
        lines.push("backfill  raised by a backfill after a rule change".into());
    }
    if let Some(at) = store.acked_at(&alert.alert_id)? {
        lines.push(format!("acked     {}", at.to_rfc3339()));
    }
    lines.push("evidence".into());
    for e in &alert.evidence {
        lines.push(format!(
            "  - \"{}\" [{}] {}{}",
            e.title,
            e.feed,
            e.published.map(|p| p.to_rfc3339()).unwrap_or_default(),
            e.url
                .as_deref()
                .map(|u| format!(" {u}"))
                .unwrap_or_default()
        ));
        lines.push(format!("    {}", e.sentence));
        for m in &e.mentions {
            lines.push(format!(
                "    {} matched by {} \"{}\"",
                m.actor,
                if m.via_role { "role" } else { "alias" },
                m.text
            ));
        }
    }
    lines.push("deliveries".into());
    for env in alert_notifications(store, &alert.alert_id)? {
        let line = match &env.event {
            Event::NotificationDelivered(n) if n.alert_id == alert.alert_id => format!(
                "  {} delivered to {} (attempt {})",
                env.occurred_at.to_rfc3339(),
                n.notifier,
                n.attempt
            ),
            Event::NotificationFailed(n) if n.alert_id == alert.alert_id => format!(
                "  {} {} attempt {} failed{}: {}",
                env.occurred_at.to_rfc3339(),
                n.notifier,
                n.attempt,
                if n.gave_up { " (gave up)" } else { "" },
                n.error
            ),
            Event::NotificationRetried(n) if n.alert_id == alert.alert_id => format!(
                "  {} {} re-queued",
                env.occurred_at.to_rfc3339(),
                n.notifier
            ),
            _ => continue,
        };
        lines.push(line);
    }
    for line in lines {
        writeln!(out, "{line}").map_err(stdout_err)?;
    }
    Ok(())
}
