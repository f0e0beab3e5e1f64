//! One-time conversion of a store written by an older parley (format 1: bare JSON log
//! records, feed states and projections, bare UTF-8 article text) to `codec`'s format 2.
//!
//! Runs at open, before anything reads or folds, so that after it every value is tagged
//! (text in particular, whose format-1 bytes are not self-describing). It rewrites the log,
//! the feed states and the texts in chunks of [`CHUNK`] keys, each chunk one atomic batch,
//! and records the new format last: an interrupted conversion resumes (values already
//! packed are recognised by their tag and skipped). Projections are not converted: their
//! version changed with the encoding, so the open that follows refolds them from the log.

use tracing::info;

use super::{StoreError, codec, db_err, keys};

/// The format this build writes.
pub(crate) const FORMAT: u32 = 2;
/// Keys rewritten per atomic batch.
const CHUNK: usize = 2000;

/// Converts the store if it is older than [`FORMAT`]; a new store is just marked.
pub(crate) fn run(db: &sled::Db, path: &str) -> Result<(), StoreError> {
    let stored = match db.get(keys::STORE_FORMAT).map_err(|e| db_err(path, e))? {
        Some(v) => keys::be_u32(&v).ok_or_else(|| StoreError::Corrupt {
            key: keys::printable(keys::STORE_FORMAT),
            message: "store format is not a u32".into(),
        })?,
        None => 1,
    };
    if stored > FORMAT {
        return Err(StoreError::Db {
            path: path.to_owned(),
            message: format!(
                "store format {stored} was written by a newer parley (this one reads up to {FORMAT})"
            ),
        });
    }
    if stored < FORMAT {
        let total = db.len() as u64;
        if total > 0 {
            info!(
                path,
                from = stored,
                to = FORMAT,
                keys = total,
                "Converting the store to the compact format (once)."
            );
        }
        let mut done = 0u64;
        for prefix in [keys::EVENT, keys::FEED, keys::TEXT] {
            convert_prefix(db, path, prefix, total, &mut done)?;
        }
        if total > 0 {
            info!(path, converted = done, "Store converted.");
        }
    }
    if stored != FORMAT {
        db.insert(keys::STORE_FORMAT, FORMAT.to_be_bytes().to_vec())
            .map_err(|e| db_err(path, e))?;
    }
    Ok(())
}

/// Packs every unpacked value under `prefix`, chunk by chunk, logging progress.
fn convert_prefix(
    db: &sled::Db,
    path: &str,
    prefix: u8,
    total: u64,
    done: &mut u64,
) -> Result<(), StoreError> {
    let mut from = vec![prefix];
    let end = [prefix + 1];
    loop {
        let mut batch = sled::Batch::default();
        let mut n = 0;
        let mut last = None;
        for item in db.range(from.as_slice()..&end[..]).take(CHUNK) {
            let (k, v) = item.map_err(|e| db_err(path, e))?;
            if !codec::is_packed(&v) {
                batch.insert(k.clone(), codec::pack(&v));
                *done += 1;
            }
            n += 1;
            last = Some(k);
        }
        let Some(last) = last else {
            return Ok(());
        };
        db.apply_batch(batch).map_err(|e| db_err(path, e))?;
        // Progress about every 100,000 values (and at the end of each kind).
        if n < CHUNK || *done % 100_000 < CHUNK as u64 {
            info!(
                path,
                done = *done,
                of_at_most = total,
                "Converting the store."
            );
        }
        if n < CHUNK {
            return Ok(());
        }
        from = last.to_vec();
        from.push(0);
    }
}
