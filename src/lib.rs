//! parley: a daemon that watches news feeds for diplomacy and notifies people when the actors
//! they track appear together. See ARCHITECTURE.md for the map.

pub mod alert;
pub mod api;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod error;
pub mod eval;
pub mod events;
pub mod extract;
pub mod feed;
pub mod memory;
pub mod metrics;
pub mod nats;
pub mod notify;
pub mod opml;
pub mod pipeline;
pub mod plover;
mod server;
pub mod service;
pub mod signal;
pub mod store;
pub mod template;
pub mod web;
pub mod wikidata;
