//! The stages between a fetched feed and a delivered notification: ingest (dedup, extract,
//! alert) and the outbox relay. Both are driven by the daemon; both talk to the log only through
//! [`Store`](crate::store::Store), and both act on an event only after `append` (and so
//! `flush`) has returned.
//!
//! One job per file:
//! - `prepared`: a config compiled into what the stages run on ([`Prepared`], [`shipped`]).
//! - `ingest`: a feed's new articles into log events ([`ingest`]).
//! - `relay`: the outbox into notifications ([`relay_loop`], and the decisions the NATS
//!   relay shares).
//! - `rules`: rule definitions against the log ([`reconcile_rules`], [`backtest`]), run
//!   once per loaded config when the daemon starts it ([`ensure_reconciled`]), and the one
//!   cooldown judgement.
//! - `history`: earlier articles as the log recorded them ([`StoreHistory`], [`stored_text`]).
//! - `logged`: the conversion between extraction output and the log's record of it.
//!
//! The counters both stages bump, [`Stats`] and [`ArticleFetch`], live in `crate::metrics`
//! (which reads them at scrape time) and are re-exported here.

mod history;
mod ingest;
mod logged;
mod prepared;
mod relay;
mod rules;

pub use history::{StoreHistory, stored_text};
pub use ingest::ingest;
pub use logged::{extraction_of, logged_event, owned_ids};
pub use prepared::{PrepareError, Prepared, shipped};
pub(crate) use relay::{entry_due, relay_pass, schedule};
pub use relay::{relay_loop, relay_once};
pub(crate) use rules::ensure_reconciled;
pub use rules::{backtest, reconcile_rules};

pub use crate::metrics::{ArticleFetch, Stats};
