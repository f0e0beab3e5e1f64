//! parley: a daemon that watches news feeds for diplomacy and notifies people when the actors
//! they track appear together. See ARCHITECTURE.md for the map.

pub mod config;
pub mod events;
pub mod extract;
pub mod feed;
pub mod plover;
pub mod store;
