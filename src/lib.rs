//! parley: a daemon that watches news feeds for diplomacy and notifies people when the actors
//! they track appear together. See ARCHITECTURE.md for the map.

pub(crate) mod alert;
pub mod api;
pub mod app;
pub mod cli;
pub(crate) mod commands;
pub mod config;
pub mod daemon;
pub mod error;
pub(crate) mod eval;
pub mod events;
pub mod extract;
pub mod feed;
pub mod memory;
pub mod metrics;
pub(crate) mod nats;
pub mod notify;
pub(crate) mod opml;
pub mod pipeline;
pub mod plover;
mod server;
pub(crate) mod service;
pub(crate) mod signal;
pub mod store;
pub(crate) mod template;
pub(crate) mod web;
pub(crate) mod wikidata;
