//! Key encoding for the single sled tree (see the layout table in the module doc of `store`).
//!
//! Plain byte functions with no sled types, so the pure projection fold can build keys and the
//! unit tests can check them on plain values. Variable-length parts are length-prefixed
//! (u32 big-endian) so that no actor, rule or id can be a prefix of another one's keys, and
//! seqs are u64 big-endian so byte order is numeric order.

/// Prefix of `e` + seq → Envelope JSON: the log itself.
pub(crate) const EVENT: u8 = b'e';
/// Prefix of `i` + event_id → seq: the idempotency index.
pub(crate) const ID: u8 = b'i';
/// Prefix of `f` + feed_key → FeedState JSON.
pub(crate) const FEED: u8 = b'f';
/// Prefix of `t` + hex sha256 → UTF-8 text: fetched article text, content-addressed, kept
/// so `replay --reextract` runs over history without fetching again. Not a projection: the
/// log's `article.ingested` refers to it by hash, and replay never deletes it.
pub(crate) const TEXT: u8 = b't';
/// Prefix of `u` + article URL → hex sha256 of its fetched text: the fetch cache by URL.
pub(crate) const URL_TEXT: u8 = b'u';
/// Prefix shared by every projection key; `replay` deletes exactly these.
pub(crate) const PROJECTION: u8 = b'p';
/// Second byte of alert-state keys: `pl` + lp(rule) + lp(actor_key) → occurred_at JSON.
pub(crate) const ALERT: u8 = b'l';
/// Second byte of outbox keys: `po` + lp(alert_id) + lp(notifier) → OutboxRecord JSON.
pub(crate) const OUTBOX: u8 = b'o';
/// Second byte of silence keys: `ps` + lp(silence_id) → SilenceAdded JSON.
pub(crate) const SILENCE: u8 = b's';
/// Second byte of dead-letter keys: `pd` + lp(alert_id) + lp(notifier) → DeadLetter JSON.
pub(crate) const DEAD: u8 = b'd';
/// Second byte of acknowledgement keys: `pk` + lp(alert_id) → acked-at JSON.
pub(crate) const ACK: u8 = b'k';
/// Second byte of rule-definition keys: `pr` + lp(rule) → RuleRecord JSON.
pub(crate) const RULE: u8 = b'r';
/// Second byte of pending cluster inputs: `pp` + lp(article_id) → typed events of an article
/// whose `article.ingested` has not been folded yet.
pub(crate) const PENDING: u8 = b'p';
/// Second byte of report facts: `ph` + lp(article_id) → feed, host and text sketch.
pub(crate) const REPORT: u8 = b'h';
/// Second byte of the cluster index: `pc` + lp(actor_key) + lp(type) → the clusters' ids and
/// anchor dates.
pub(crate) const CLUSTER_INDEX: u8 = b'c';
/// Second byte of event clusters: `pe` + lp(cluster_id) → EventCluster JSON.
pub(crate) const CLUSTER: u8 = b'e';
/// Second byte of alert-group notification keys: `pn` + lp(notifier) + lp(rule) +
/// lp(actor_key) → last-delivered-at JSON (repeat_interval).
pub(crate) const NOTIFIED: u8 = b'n';
/// Second byte of per-notifier state keys: `pt` + lp(notifier) → NotifierState JSON
/// (group_interval, rate_limit).
pub(crate) const NOTIFIER: u8 = b't';
/// Second byte of superseded-extraction keys: `px` + lp(event_id) → empty: an
/// `event.extracted` that `replay --reextract` replaced (`extraction.superseded`).
pub(crate) const SUPERSEDED: u8 = b'x';
/// Second byte of the kind-time postings: `pi` + kind code + occurred second + seq → empty
/// (`index.rs`): the events of one kind from a time on, without reading the log.
pub(crate) const KIND_TIME: u8 = b'i';
/// Second byte of the actor-time postings: `pw` + lp(actor) + kind code + occurred second +
/// seq → empty (`index.rs`): the extracted records and alerts naming an actor from a time on.
pub(crate) const ACTOR_TIME: u8 = b'w';
/// `m` + "checkpoint" → u64 BE: the highest seq folded into the projections.
pub(crate) const CHECKPOINT: &[u8] = b"mcheckpoint";
/// `m` + "projection_version" → u32 BE: which projection code built the `p` keys.
pub(crate) const PROJECTION_VERSION: &[u8] = b"mprojection_version";
/// `m` + "store_format" → u32 BE: how values are encoded (`codec`; absent = format 1, bare
/// JSON). `migrate` converts older stores at open.
pub(crate) const STORE_FORMAT: &[u8] = b"mstore_format";
/// With the NATS backend: the stream seq of the last message mirrored into this log.
pub(crate) const STREAM_CURSOR: &[u8] = b"mstream_cursor";

/// Appends a length-prefixed string part.
fn push_lp(key: &mut Vec<u8>, part: &str) {
    // Parts longer than u32::MAX bytes cannot come from parley's inputs; saturating keeps
    // this total rather than panicking.
    let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(part.as_bytes());
}

/// Key of the event at `seq`.
pub(crate) fn event(seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(9);
    key.push(EVENT);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// Reads the seq back from an event key; `None` if the key is not one.
pub(crate) fn event_seq(key: &[u8]) -> Option<u64> {
    match key.split_first() {
        Some((&EVENT, rest)) => be_u64(rest),
        _ => None,
    }
}

/// Key of the idempotency entry of `event_id`.
pub(crate) fn id(event_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + event_id.len());
    key.push(ID);
    key.extend_from_slice(event_id.as_bytes());
    key
}

/// Key of a feed's polling state.
pub(crate) fn feed(feed_key: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + feed_key.len());
    key.push(FEED);
    key.extend_from_slice(feed_key.as_bytes());
    key
}

/// Marker of a superseded `event.extracted`.
pub(crate) fn superseded(event_id: &str) -> Vec<u8> {
    let mut key = vec![PROJECTION, SUPERSEDED];
    push_lp(&mut key, event_id);
    key
}

/// Alert-state entry of a rule and an actor set.
pub(crate) fn alert_state(rule: &str, actor_key: &str) -> Vec<u8> {
    let mut key = vec![PROJECTION, ALERT];
    push_lp(&mut key, rule);
    push_lp(&mut key, actor_key);
    key
}

/// Prefix of every outbox entry.
pub(crate) fn outbox_prefix() -> Vec<u8> {
    vec![PROJECTION, OUTBOX]
}

/// Outbox entry of one alert for one notifier.
pub(crate) fn outbox(alert_id: &str, notifier: &str) -> Vec<u8> {
    let mut key = outbox_prefix();
    push_lp(&mut key, alert_id);
    push_lp(&mut key, notifier);
    key
}

/// Prefix of every silence entry.
pub(crate) fn silence_prefix() -> Vec<u8> {
    vec![PROJECTION, SILENCE]
}

/// Silence entry.
pub(crate) fn silence(silence_id: &str) -> Vec<u8> {
    let mut key = silence_prefix();
    push_lp(&mut key, silence_id);
    key
}

/// Prefix of every dead letter.
pub(crate) fn dead_prefix() -> Vec<u8> {
    vec![PROJECTION, DEAD]
}

/// Dead letter of one alert for one notifier.
pub(crate) fn dead(alert_id: &str, notifier: &str) -> Vec<u8> {
    let mut key = dead_prefix();
    push_lp(&mut key, alert_id);
    push_lp(&mut key, notifier);
    key
}

/// Acknowledgement of an alert.
pub(crate) fn ack(alert_id: &str) -> Vec<u8> {
    let mut key = vec![PROJECTION, ACK];
    push_lp(&mut key, alert_id);
    key
}

/// When `notifier` last delivered an alert of the group (rule, actor set).
pub(crate) fn notified(notifier: &str, rule: &str, actor_key: &str) -> Vec<u8> {
    let mut key = vec![PROJECTION, NOTIFIED];
    push_lp(&mut key, notifier);
    push_lp(&mut key, rule);
    push_lp(&mut key, actor_key);
    key
}

/// Delivery times of one notifier.
pub(crate) fn notifier(notifier: &str) -> Vec<u8> {
    let mut key = vec![PROJECTION, NOTIFIER];
    push_lp(&mut key, notifier);
    key
}

/// Current definition of a rule.
pub(crate) fn rule(rule: &str) -> Vec<u8> {
    let mut key = vec![PROJECTION, RULE];
    push_lp(&mut key, rule);
    key
}

/// Content-addressed article text.
pub(crate) fn text(sha256_hex: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + sha256_hex.len());
    key.push(TEXT);
    key.extend_from_slice(sha256_hex.as_bytes());
    key
}

/// Fetch-cache entry of an article URL.
pub(crate) fn url_text(url: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + url.len());
    key.push(URL_TEXT);
    key.extend_from_slice(url.as_bytes());
    key
}

/// Pending typed events of an article.
pub(crate) fn pending(article_id: &str) -> Vec<u8> {
    let mut key = vec![PROJECTION, PENDING];
    push_lp(&mut key, article_id);
    key
}

/// Report facts of an article.
pub(crate) fn report(article_id: &str) -> Vec<u8> {
    let mut key = vec![PROJECTION, REPORT];
    push_lp(&mut key, article_id);
    key
}

/// Clusters of one actor set and type.
pub(crate) fn cluster_index(actor_key: &str, event_type: &str) -> Vec<u8> {
    let mut key = vec![PROJECTION, CLUSTER_INDEX];
    push_lp(&mut key, actor_key);
    push_lp(&mut key, event_type);
    key
}

/// Prefix of every event cluster.
pub(crate) fn cluster_prefix() -> Vec<u8> {
    vec![PROJECTION, CLUSTER]
}

/// One event cluster.
pub(crate) fn cluster(cluster_id: &str) -> Vec<u8> {
    let mut key = cluster_prefix();
    push_lp(&mut key, cluster_id);
    key
}

/// The one-byte code of an envelope kind in the postings' keys; `None` for a string that is
/// no kind. Fixed codes (not positions in `Event::KINDS`), so reordering that list cannot
/// change what a stored key means; a new kind takes the next free code.
pub(crate) fn kind_code(kind: &str) -> Option<u8> {
    Some(match kind {
        "article.ingested" => 1,
        "event.extracted" => 2,
        "alert.raised" => 3,
        "notification.delivered" => 4,
        "notification.failed" => 5,
        "notification.retried" => 6,
        "silence.added" => 7,
        "silence.expired" => 8,
        "alert.acked" => 9,
        "rule.changed" => 10,
        "extraction.superseded" => 11,
        "watchlist.changed" => 12,
        _ => return None,
    })
}

/// A time to the second as eight bytes whose byte order is time order (the sign bit
/// flipped), for the postings. Seconds, not nanoseconds: a posting only has to find the
/// events from a second on; readers compare the exact `occurred_at` themselves.
pub(crate) fn time_part(at: chrono::DateTime<chrono::Utc>) -> [u8; 8] {
    ((at.timestamp() as u64) ^ (1 << 63)).to_be_bytes()
}

/// Prefix of the kind-time postings of one kind code.
pub(crate) fn kind_time_prefix(code: u8) -> Vec<u8> {
    vec![PROJECTION, KIND_TIME, code]
}

/// Prefix of the actor-time postings of one actor and kind code.
pub(crate) fn actor_time_prefix(actor: &str, code: u8) -> Vec<u8> {
    let mut key = vec![PROJECTION, ACTOR_TIME];
    push_lp(&mut key, actor);
    key.push(code);
    key
}

/// A posting: `prefix` + the time part + seq.
pub(crate) fn posting(mut prefix: Vec<u8>, at: chrono::DateTime<chrono::Utc>, seq: u64) -> Vec<u8> {
    prefix.extend_from_slice(&time_part(at));
    prefix.extend_from_slice(&seq.to_be_bytes());
    prefix
}

/// Decodes a big-endian u64 from exactly eight bytes.
pub(crate) fn be_u64(bytes: &[u8]) -> Option<u64> {
    let arr: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_be_bytes(arr))
}

/// Decodes a big-endian u32 from exactly four bytes.
pub(crate) fn be_u32(bytes: &[u8]) -> Option<u32> {
    let arr: [u8; 4] = bytes.try_into().ok()?;
    Some(u32::from_be_bytes(arr))
}

/// A key as text for error messages: printable ASCII as is, everything else escaped.
pub(crate) fn printable(key: &[u8]) -> String {
    key.iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_sort_numerically_and_round_trip() {
        // iter_from and seq recovery rely on byte order being seq order.
        assert!(event(255) < event(256));
        assert!(event(1) < event(u64::MAX));
        assert_eq!(event_seq(&event(42)), Some(42));
        assert_eq!(event_seq(b"e123"), None);
        assert_eq!(event_seq(&id("x")), None);
    }

    #[test]
    fn length_prefix_keeps_actor_prefixes_apart() {
        // Without it, actor "a" would scan actor "ab"'s entries.
        let a = actor_time_prefix("a", 2);
        let at = chrono::DateTime::UNIX_EPOCH;
        assert!(!posting(actor_time_prefix("ab", 2), at, 1).starts_with(&a));
        assert!(posting(actor_time_prefix("a", 2), at, 1).starts_with(&a));
        assert_ne!(alert_state("r", "ab"), alert_state("ra", "b"));
        assert_ne!(outbox("a", "bc"), outbox("ab", "c"));
    }

    #[test]
    fn every_kind_has_its_own_code_and_times_sort() {
        // A kind without a code would never be found through the postings.
        let mut codes: Vec<u8> = crate::events::Event::KINDS
            .iter()
            .map(|k| kind_code(k).unwrap())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), crate::events::Event::KINDS.len());
        assert_eq!(kind_code("alert"), None);
        use chrono::TimeZone;
        let early = chrono::Utc.with_ymd_and_hms(1960, 1, 1, 0, 0, 0).unwrap();
        let late = chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        assert!(time_part(early) < time_part(late));
        assert!(posting(kind_time_prefix(2), late, 1) > posting(kind_time_prefix(2), early, 9));
    }

    #[test]
    fn printable_escapes_binary() {
        // Corrupt-record errors must print every key readably.
        assert_eq!(
            printable(&event(1)),
            "e\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01"
        );
        assert_eq!(printable(b"fhttp://x"), "fhttp://x");
    }
}
