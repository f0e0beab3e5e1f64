//! `parley store stats` and `parley store compact`: what the store holds, by record kind,
//! and a rewrite that gives back the disk sled keeps for overwritten data.
//!
//! sled 0.34 is log-structured: every write appends, and space held by overwritten leaves is
//! reclaimed only segment by segment, so a store that has seen a replay (which rewrites
//! every projection) can take several times its live data. Compaction copies the live keys
//! into a fresh database next to the store and swaps the directories, which needs the store
//! closed (it runs before `Store::open`, under sled's lock).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{StoreError, codec, db_err, keys};

/// Live bytes of one record kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindStats {
    /// What the records are (`log article.ingested`, `projection: kind postings`,
    /// `article text`, ...).
    pub kind: String,
    /// How many keys.
    pub records: u64,
    /// Their keys' bytes.
    pub key_bytes: u64,
    /// Their values' bytes as stored (compressed).
    pub value_bytes: u64,
}

/// What `parley store stats` prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Per record kind, in key order of their prefixes.
    pub kinds: Vec<KindStats>,
    /// What sled's files take on disk (live data plus space not yet reclaimed).
    pub disk_bytes: u64,
}

/// The name of a non-log key's kind.
fn kind_of(key: &[u8]) -> &'static str {
    match (key.first(), key.get(1)) {
        (Some(&keys::ID), _) => "id index",
        (Some(&keys::FEED), _) => "feed state",
        (Some(&keys::TEXT), _) => "article text",
        (Some(&keys::URL_TEXT), _) => "fetch cache",
        (Some(&keys::PROJECTION), Some(&keys::ALERT)) => "projection: alert state",
        (Some(&keys::PROJECTION), Some(&keys::OUTBOX)) => "projection: outbox",
        (Some(&keys::PROJECTION), Some(&keys::SILENCE)) => "projection: silences",
        (Some(&keys::PROJECTION), Some(&keys::DEAD)) => "projection: dead letters",
        (Some(&keys::PROJECTION), Some(&keys::ACK)) => "projection: acks",
        (Some(&keys::PROJECTION), Some(&keys::RULE)) => "projection: rules",
        (Some(&keys::PROJECTION), Some(&keys::PENDING)) => "projection: cluster pending",
        (Some(&keys::PROJECTION), Some(&keys::REPORT)) => "projection: report facts",
        (Some(&keys::PROJECTION), Some(&keys::CLUSTER_INDEX)) => "projection: cluster index",
        (Some(&keys::PROJECTION), Some(&keys::CLUSTER)) => "projection: event clusters",
        (Some(&keys::PROJECTION), Some(&keys::NOTIFIED)) => "projection: repeat state",
        (Some(&keys::PROJECTION), Some(&keys::NOTIFIER)) => "projection: notifier state",
        (Some(&keys::PROJECTION), Some(&keys::SUPERSEDED)) => "projection: superseded",
        (Some(&keys::PROJECTION), Some(&keys::KIND_TIME)) => "projection: kind postings",
        (Some(&keys::PROJECTION), Some(&keys::ACTOR_TIME)) => "projection: actor postings",
        (Some(&keys::PROJECTION), _) => "projection: other",
        _ => "metadata",
    }
}

/// Just the envelope's kind, so stats need not build whole events.
#[derive(Deserialize)]
struct KindOnly {
    kind: String,
}

/// Counts every key of `db` by kind (log records by event kind).
pub(crate) fn collect(db: &sled::Db, path: &str) -> Result<StoreStats, StoreError> {
    let mut by_kind: BTreeMap<String, KindStats> = BTreeMap::new();
    for item in db.iter() {
        let (k, v) = item.map_err(|e| db_err(path, e))?;
        let kind = if k.first() == Some(&keys::EVENT) {
            let json = codec::unpack(&v).map_err(|message| StoreError::Corrupt {
                key: keys::printable(&k),
                message,
            })?;
            match serde_json::from_slice::<KindOnly>(&json) {
                Ok(k) => format!("log: {}", k.kind),
                Err(_) => "log: undecodable".to_owned(),
            }
        } else {
            kind_of(&k).to_owned()
        };
        let entry = by_kind.entry(kind.clone()).or_insert_with(|| KindStats {
            kind,
            ..Default::default()
        });
        entry.records += 1;
        entry.key_bytes += k.len() as u64;
        entry.value_bytes += v.len() as u64;
    }
    Ok(StoreStats {
        kinds: by_kind.into_values().collect(),
        disk_bytes: db.size_on_disk().map_err(|e| db_err(path, e))?,
    })
}

/// Keys copied per batch while compacting.
const COPY_CHUNK: usize = 10_000;

/// Rewrites the closed store in `dir` into a fresh database holding only its live keys and
/// swaps it in. Returns (disk bytes before, after). The old files are removed only after
/// the new database is flushed and renamed into place; an interruption leaves either the
/// old store in place or both directories, never neither.
pub fn compact(dir: &Path) -> Result<(u64, u64), StoreError> {
    let path = dir.display().to_string();
    let tmp = sibling(dir, "compacting");
    let old = sibling(dir, "before-compaction");
    let io = |e: std::io::Error| StoreError::Db {
        path: path.clone(),
        message: e.to_string(),
    };
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io)?;
    }
    let before;
    {
        let src = super::open::open_db(dir, &path)?;
        before = src.size_on_disk().map_err(|e| db_err(&path, e))?;
        let dst = super::open::open_db(&tmp, &tmp.display().to_string())?;
        let mut batch = sled::Batch::default();
        let mut n = 0;
        for item in src.iter() {
            let (k, v) = item.map_err(|e| db_err(&path, e))?;
            batch.insert(k, v);
            n += 1;
            if n == COPY_CHUNK {
                dst.apply_batch(std::mem::take(&mut batch))
                    .map_err(|e| db_err(&path, e))?;
                n = 0;
            }
        }
        dst.apply_batch(batch).map_err(|e| db_err(&path, e))?;
        dst.flush().map_err(|e| db_err(&path, e))?;
    }
    std::fs::rename(dir, &old).map_err(io)?;
    std::fs::rename(&tmp, dir).map_err(io)?;
    std::fs::remove_dir_all(&old).map_err(io)?;
    let after = super::open::open_db(dir, &path)?
        .size_on_disk()
        .map_err(|e| db_err(&path, e))?;
    Ok((before, after))
}

/// `dir` with a suffix, next to it.
fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}
