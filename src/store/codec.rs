//! How values are stored: a one-byte format tag, then the bytes.
//!
//! Store format 1 (parley up to issue 17) kept log records and projections as bare JSON and
//! article text as bare UTF-8: 5x the log's JSON size on disk (sled rewrites whole leaves,
//! so every byte in a leaf is written many times) and most of the appender's CPU spent
//! cloning those leaves. Format 2 tags every value so the decoder never guesses:
//!
//! | first byte | rest                                                            |
//! |------------|-----------------------------------------------------------------|
//! | `0x01`     | the bytes as is (values too small to gain from compression)     |
//! | `0x02`     | u32 LE length of the bytes, then a zstd frame of them compressed |
//! |            | with [`DICTIONARY`] (a raw-content dictionary, fixed forever)   |
//! | anything else | a format-1 value: bare JSON (never starts with 0x01/0x02)    |
//!
//! The payload stays the event's JSON (serde), so the schema keeps its evolution rules
//! (`#[serde(default)]`, `skip_serializing_if`, `schema_version` in the envelope) and what
//! `events --json` prints is the stored JSON re-serialised, byte for byte as before
//! (tests/store_golden.rs). A field-less binary encoding (postcard) cannot read those
//! structs back: it does not support `skip_serializing_if` or the envelope's `flatten`.
//! zstd with a dictionary of the log's own vocabulary removes most of what JSON costs
//! (field names, kind strings, repeated ids).
//!
//! [`decode`] and [`encode`] are the typed ends: a serde value to its packed JSON and back,
//! naming the key when a stored value does not decode.

use std::borrow::Cow;
use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use super::{StoreError, keys};

/// Tag of a value stored as is.
pub(crate) const PLAIN: u8 = 0x01;
/// Tag of a zstd-compressed value (with [`DICTIONARY`]).
pub(crate) const ZSTD: u8 = 0x02;
/// Values shorter than this are stored plain: a zstd frame costs about a dozen bytes, and
/// the small projection values (times, seqs, notifier states) do not shrink.
const COMPRESS_MIN: usize = 64;
/// zstd level: 3 is zstd's default. On issue 17's 5,000-article corpus the log's values
/// take 20.7 MB packed against 52 MB of `events --json` (2.5x); compression is about 7% of
/// `run --once`'s CPU (perf).
const LEVEL: i32 = 3;
/// Largest value a decoder will allocate for (a corrupt length must not abort the process).
const MAX_LEN: usize = 256 * 1024 * 1024;

/// A raw-content zstd dictionary: the JSON vocabulary of parley's records, so that even a
/// 300-byte `event.extracted` compresses. NEVER change it: stored values were compressed
/// against it. (A different vocabulary needs a new tag.)
pub(crate) const DICTIONARY: &[u8] = concat!(
    r#"{"seq":1,"event_id":"evt-","schema_version":1,"occurred_at":"2025-01-01T00:00:00Z","recorded_at":"2025-01-01T00:00:00.000000000Z","#,
    r#""kind":"article.ingested","payload":{"article_id":"art-","feed":"","feed_url":"https://","guid":"","url":"https://","title":"","published":"2025-01-01T00:00:00Z","text":"","full_text_sha256":""}}"#,
    r#"{"kind":"event.extracted","payload":{"article_id":"art-","sentence_index":0,"actors":[""],"type":"consult","trigger":"met","sentence":"","source":[],"target":[],"participants":[],"status":"planned","mode":"meet","date":"2025-01-01"}}"#,
    r#"{"kind":"alert.raised","payload":{"alert_id":"alert-","rule":"","actors":[],"actor_names":[],"event_type":null,"scope":"sentence","raised_at":"2025-01-01T00:00:00Z","evidence":[{"article_id":"art-","title":"","url":null,"feed":"","published":null,"sentence":"","mentions":[{"actor":"","text":"","via_role":false}]}],"notify":[],"severity":"warning","sources":[]}}"#,
    r#"{"kind":"notification.delivered","payload":{"alert_id":"alert-","notifier":"","attempt":1}}"#,
    r#"{"kind":"notification.failed","payload":{"alert_id":"alert-","notifier":"","attempt":1,"error":"","next_attempt_at":null,"final":false}}"#,
    r#"{"alert_id":"alert-","notifier":"","attempts":0,"next_attempt_at":"","seq":1,"queued_at":"","group":{"rule":"","actors":""}}"#,
    r#"{"cluster_id":"","actors":[],"type":"consult","mode":"meet","first":"2025-01-01","last":"2025-01-01","reports":[{"article_id":"art-","event_id":"evt-","seq":1,"feed":"","date":"2025-01-01","published":"2025-01-01T00:00:00Z"}],"sources":[],"sentence":""}"#,
    r#"{"feed":"","host":"","sketch":{"#,
    " said the minister met with the foreign minister prime minister president talks on the ceasefire"
)
.as_bytes();

thread_local! {
    /// One compression context per thread (the appender, mostly): creating one costs more
    /// than compressing a record.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    /// One decompression context per reading thread.
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Encodes `bytes` as a format-2 value.
pub(crate) fn pack(bytes: &[u8]) -> Vec<u8> {
    if bytes.len() >= COMPRESS_MIN
        && let Some(packed) = compress(bytes)
        && packed.len() < bytes.len()
    {
        return packed;
    }
    let mut out = Vec::with_capacity(1 + bytes.len());
    out.push(PLAIN);
    out.extend_from_slice(bytes);
    out
}

/// zstd with the dictionary; `None` if zstd refused (then the value is stored plain).
fn compress(bytes: &[u8]) -> Option<Vec<u8>> {
    let len = u32::try_from(bytes.len()).ok()?;
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = zstd::bulk::Compressor::with_dictionary(LEVEL, DICTIONARY).ok();
        }
        let compressor = cell.as_mut()?;
        let frame = compressor.compress(bytes).ok()?;
        let mut out = Vec::with_capacity(5 + frame.len());
        out.push(ZSTD);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&frame);
        Some(out)
    })
}

/// Is this a format-2 value (tagged)?
pub(crate) fn is_packed(value: &[u8]) -> bool {
    matches!(value.first(), Some(&PLAIN) | Some(&ZSTD))
}

/// The bytes of a stored value: format 2 unpacked, format 1 (bare JSON) as is.
pub(crate) fn unpack(value: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    match value.split_first() {
        Some((&PLAIN, rest)) => Ok(Cow::Borrowed(rest)),
        Some((&ZSTD, rest)) => {
            let (len, frame) = rest
                .split_first_chunk::<4>()
                .ok_or("compressed value shorter than its length")?;
            let len = u32::from_le_bytes(*len) as usize;
            if len > MAX_LEN {
                return Err(format!("compressed value claims {len} bytes"));
            }
            DECOMPRESSOR.with(|cell| {
                let mut cell = cell.borrow_mut();
                if cell.is_none() {
                    *cell = Some(
                        zstd::bulk::Decompressor::with_dictionary(DICTIONARY)
                            .map_err(|e| format!("zstd: {e}"))?,
                    );
                }
                let Some(d) = cell.as_mut() else {
                    return Err("zstd: no decompressor".to_owned());
                };
                let out = d.decompress(frame, len).map_err(|e| format!("zstd: {e}"))?;
                if out.len() != len {
                    return Err(format!("decompressed {} bytes, expected {len}", out.len()));
                }
                Ok(Cow::Owned(out))
            })
        }
        _ => Ok(Cow::Borrowed(value)),
    }
}

/// Decodes a stored value (log record, projection, feed state: format 2, or the bare JSON
/// of format 1), naming the key on failure.
pub(crate) fn decode<T: for<'de> Deserialize<'de>>(
    key: &[u8],
    value: &[u8],
) -> Result<T, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        key: keys::printable(key),
        message,
    };
    let json = unpack(value).map_err(corrupt)?;
    serde_json::from_slice(&json).map_err(|e| corrupt(e.to_string()))
}

/// Encodes a stored value (JSON, packed by [`pack`]). Serialising these plain structs cannot
/// fail; the error path exists only so that an impossible failure is an error rather than a
/// panic.
pub(crate) fn encode<T: Serialize>(key: &[u8], value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value)
        .map(|json| pack(&json))
        .map_err(|e| StoreError::Corrupt {
            key: keys::printable(key),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_small_large_and_legacy_values() {
        // Every stored value must read back exactly, whichever way it was written.
        let small = br#""2025-03-01T09:00:00Z""#;
        let packed = pack(small);
        assert_eq!(packed[0], PLAIN);
        assert_eq!(&*unpack(&packed).unwrap(), small);

        let large =
            r#"{"kind":"article.ingested","payload":{"text":"Blinken met Mikati. "}}"#.repeat(20);
        let packed = pack(large.as_bytes());
        assert_eq!(packed[0], ZSTD);
        assert!(packed.len() < large.len() / 4, "{} bytes", packed.len());
        assert_eq!(&*unpack(&packed).unwrap(), large.as_bytes());

        // Format 1: bare JSON is returned as is.
        assert_eq!(&*unpack(b"{\"a\":1}").unwrap(), b"{\"a\":1}");
        assert!(!is_packed(b"{\"a\":1}"));
        assert!(is_packed(&pack(b"x")));
    }

    #[test]
    fn damaged_values_are_errors() {
        // A truncated or lying frame must be an error (the store reports Corrupt), not a
        // panic or a huge allocation.
        let mut packed = pack("abcdefgh".repeat(40).as_bytes());
        assert!(unpack(&packed[..3]).is_err());
        packed[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(unpack(&packed).is_err());
        let mut packed = pack("abcdefgh".repeat(40).as_bytes());
        let n = packed.len();
        packed.truncate(n - 3);
        assert!(unpack(&packed).is_err());
    }
}
