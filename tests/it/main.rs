//! The one integration-test crate. Every file beside this one is a module of it, so the
//! harness (`common`) and parley itself are compiled and linked once for the whole suite, not
//! once per file (ripgrep's `tests/` layout). Run one file's tests with
//! `cargo test --test it <module>::`, e.g. `cargo test --test it crash::`.
//!
//! `tests/cluster.rs` is a binary of its own, as before: its NATS nodes run on 4 s leases and
//! it kills servers mid-delivery, so it shares its CPU with no other test file (see its docs).
//! Two more stay binaries of their own because they measure the whole test process:
//! `tests/hostile.rs` reads the peak RSS of the process's children (`RUSAGE_CHILDREN`, which
//! other modules' nats-server and chromium children would inflate) and `tests/memory.rs`
//! counts the process's malloc arenas (which other tests' threads create).

mod common;

mod alerts;
mod api;
mod cli;
mod clusters;
mod config;
mod corpus;
mod crash;
mod daemon;
mod email;
mod eval;
mod extract;
mod feed;
mod full_disk;
mod fulltext;
mod fuzz_corpus;
mod operator;
mod props;
mod replay;
mod secrets;
mod service;
mod shutdown;
mod store;
mod store_golden;
mod web;
mod wikidata;
mod wikidata_import;
