//! The one watchlist file parley itself writes: `watchlists/managed.toml` next to the main
//! config, where the web UI's `/watchlist` puts the actors, groups and rules analysts add or
//! edit there.
//!
//! Why a file of its own: hand-written watchlists keep their comments, order and layout, so
//! they are never rewritten; the UI owns one file and only that one. Its items are plain
//! `[[actor]]`/`[[group]]`/`[[rule]]` tables like any included file's, so `parley check`,
//! reload and start-up read it as they read the others (the config's `include` globs must
//! match it, see [`validate_candidate`]).
//!
//! This module is the file's text (reading it into blocks, applying one [`Change`], the
//! diff recorded in the log, the atomic write) and the validation of a candidate text
//! through `load` itself ([`validate_candidate`]), with the candidate given in memory.
//! It neither appends to the log nor reloads: `commands::watchlist_edit` and the web page
//! do that.

use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::load::{Overlay, load_overlaid};
use super::{Config, ConfigError};

/// Where the managed file lives, relative to the main config file's folder.
pub const MANAGED_FILE: &str = "watchlists/managed.toml";

/// The comment the managed file starts with, so whoever opens it knows who writes it.
const HEADER: &str = "# Managed by parley's web UI (/watchlist): every change made there is \
validated,\n# written here whole and recorded in the log as watchlist.changed. Hand-written \
watchlists\n# live in the other files, which parley never rewrites.\n";

/// The kinds of item the UI edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// `[[actor]]`.
    Actor,
    /// `[[group]]`.
    Group,
    /// `[[rule]]`.
    Rule,
}

impl ItemKind {
    /// The table name (`actor`, `group`, `rule`), also the form's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Actor => "actor",
            ItemKind::Group => "group",
            ItemKind::Rule => "rule",
        }
    }

    /// Parses the form's spelling.
    pub fn parse(s: &str) -> Option<ItemKind> {
        match s {
            "actor" => Some(ItemKind::Actor),
            "group" => Some(ItemKind::Group),
            "rule" => Some(ItemKind::Rule),
            _ => None,
        }
    }
}

/// One edit of the managed file.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Adds an item (`original` = `None`) or replaces the managed item `original` with
    /// `body`: the item's `key = value` lines as TOML, without its `[[kind]]` header.
    Put {
        /// Which table.
        kind: ItemKind,
        /// The id of the managed item being replaced, `None` to add one.
        original: Option<String>,
        /// The item's keys, as TOML text (validated only as part of the whole config).
        body: String,
    },
    /// Removes the managed item `id`.
    Remove {
        /// Which table.
        kind: ItemKind,
        /// Its id.
        id: String,
    },
}

impl Change {
    /// A short description for the page and the log: "rule r1 added".
    pub fn describe(&self) -> String {
        match self {
            Change::Put {
                kind,
                original,
                body,
            } => {
                let id = body_id(body)
                    .or_else(|| original.clone())
                    .unwrap_or_default();
                let verb = match original {
                    None => "added",
                    Some(o) if *o == id => "edited",
                    Some(o) => return format!("{} {o} edited (now {id})", kind.as_str()),
                };
                format!("{} {id} {verb}", kind.as_str())
            }
            Change::Remove { kind, id } => format!("{} {id} removed", kind.as_str()),
        }
    }
}

/// The `id` a body gives, when it parses.
fn body_id(body: &str) -> Option<String> {
    let table: toml::Table = body.parse().ok()?;
    table.get("id")?.as_str().map(str::to_string)
}

/// One `[[table]]` of the managed file.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The table name (`actor`, `rule`, ...).
    pub table: String,
    /// Its `id`, when it has a string one.
    pub id: Option<String>,
    /// Its keys as TOML text, one `key = value` line each (nested values inline).
    pub body: String,
}

/// The managed file as it is on disk.
#[derive(Debug, Clone)]
pub struct ManagedFile {
    /// Its absolute path.
    pub path: PathBuf,
    /// Its text; `None` when it does not exist yet.
    pub text: Option<String>,
    /// Its tables, in file order.
    pub blocks: Vec<Block>,
}

/// The managed file's path for the main config file `source` (absolute, as
/// [`Config::source`] holds it).
pub fn managed_path(source: &Path) -> PathBuf {
    source
        .parent()
        .unwrap_or_else(|| Path::new("/"))
        .join(MANAGED_FILE)
}

impl ManagedFile {
    /// Reads the managed file of the config at `source` (absent is an empty file).
    pub fn read(source: &Path) -> Result<ManagedFile, ConfigError> {
        let path = managed_path(source);
        let location = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(ConfigError {
                    location,
                    message: format!("cannot read the managed watchlist: {e}"),
                });
            }
        };
        let table: toml::Table =
            text.as_deref()
                .unwrap_or("")
                .parse()
                .map_err(|e: toml::de::Error| ConfigError {
                    location: location.clone(),
                    message: format!(
                        "the managed watchlist does not parse ({}); fix it by hand first",
                        e.message()
                    ),
                })?;
        let mut blocks = Vec::new();
        for (key, value) in table {
            let items = match value {
                toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => items,
                _ => {
                    return Err(ConfigError {
                        location,
                        message: format!(
                            "the managed watchlist holds `{key}`, which is not a list of \
                             [[tables]]; fix it by hand first"
                        ),
                    });
                }
            };
            for item in items {
                if let toml::Value::Table(t) = item {
                    blocks.push(Block {
                        table: key.clone(),
                        id: t.get("id").and_then(|v| v.as_str()).map(str::to_string),
                        body: render_body(&t),
                    });
                }
            }
        }
        Ok(ManagedFile { path, text, blocks })
    }

    /// The managed item `id` of `kind`, if there is one.
    pub fn find(&self, kind: ItemKind, id: &str) -> Option<&Block> {
        self.blocks
            .iter()
            .find(|b| b.table == kind.as_str() && b.id.as_deref() == Some(id))
    }

    /// The file's text after `change`; an error (for the user) when the change names an
    /// item the file does not hold.
    pub fn with_change(&self, change: &Change) -> Result<String, String> {
        let mut blocks = self.blocks.clone();
        match change {
            Change::Put {
                kind,
                original: None,
                body,
            } => blocks.push(Block {
                table: kind.as_str().to_string(),
                id: None,
                body: body.trim().to_string(),
            }),
            Change::Put {
                kind,
                original: Some(id),
                body,
            } => {
                let i = self.position(*kind, id)?;
                blocks[i].body = body.trim().to_string();
            }
            Change::Remove { kind, id } => {
                let i = self.position(*kind, id)?;
                blocks.remove(i);
            }
        }
        Ok(render(&blocks))
    }

    fn position(&self, kind: ItemKind, id: &str) -> Result<usize, String> {
        self.blocks
            .iter()
            .position(|b| b.table == kind.as_str() && b.id.as_deref() == Some(id))
            .ok_or_else(|| {
                format!(
                    "{} {id:?} is not in {MANAGED_FILE}: items of hand-written watchlists are \
                     edited in their own files",
                    kind.as_str()
                )
            })
    }
}

/// The whole file from its blocks: the header, then one `[[table]]` per block.
fn render(blocks: &[Block]) -> String {
    let mut out = String::from(HEADER);
    for b in blocks {
        out.push_str(&format!("\n[[{}]]\n{}\n", b.table, b.body.trim_end()));
    }
    out
}

/// An item's keys as `key = value` lines, `id` first, nested tables and arrays inline so the
/// lines stay inside their `[[table]]`.
pub fn render_body(table: &toml::Table) -> String {
    let mut keys: Vec<&String> = table.keys().collect();
    keys.sort_by_key(|k| (k.as_str() != "id", k.as_str() != "name"));
    keys.iter()
        .map(|k| format!("{} = {}\n", render_key(k), table[k.as_str()]))
        .collect()
}

fn render_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        toml::Value::String(key.to_string()).to_string()
    }
}

/// Loads the whole config at `source` as `parley check` does, with `candidate` read in place
/// of the managed file. Refuses (naming the fix) when the include globs do not match the
/// managed file, since a file the config never reads would be an edit that does nothing.
/// The managed file must exist for the globs to find it ([`ensure_exists`]).
pub fn validate_candidate(source: &Path, candidate: &str) -> Result<Config, ConfigError> {
    let path = managed_path(source);
    let overlay = Overlay {
        path: &path,
        text: candidate,
        read: Cell::new(false),
    };
    let config = load_overlaid(source, &|name| std::env::var(name).ok(), Some(&overlay))?;
    if !overlay.read.get() {
        return Err(not_included(source));
    }
    Ok(config)
}

/// The refusal when the config does not include the managed file.
pub fn not_included(source: &Path) -> ConfigError {
    ConfigError {
        location: source.display().to_string(),
        message: format!(
            "the `include` globs do not match {MANAGED_FILE}, so a change made on /watchlist \
             would never be loaded; add \"watchlists/*.toml\" (or \"{MANAGED_FILE}\") to \
             `include` and reload"
        ),
    }
}

/// Creates the managed file (header only: no items) when it does not exist, so the include
/// globs, which match files on disk, can find it. Returns true when it created it.
pub fn ensure_exists(path: &Path) -> std::io::Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_atomic(path, HEADER)?;
    Ok(true)
}

/// Replaces `path` by `text` atomically: a sibling temporary file (whose name the
/// `*.toml` globs do not match), synced, renamed over it, and the folder synced, so a
/// reader or a crash sees the old file or the new one, never a part.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Hex SHA-256 of a text, to name the file's versions in the log.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A line diff of `old` to `new` in unified form (`@@ -a,b +c,d @@` hunks with up to two
/// lines of context), what the log records of each change.
pub fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence table; the managed file is small (hundreds of lines).
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // The edit script: (tag, old index, new index).
    let mut ops: Vec<(char, usize, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', i, j));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', i, j));
            j += 1;
        } else {
            ops.push(('-', i, j));
            i += 1;
        }
    }
    const CONTEXT: usize = 2;
    let mut out = String::new();
    let mut k = 0;
    while k < ops.len() {
        if ops[k].0 == ' ' {
            k += 1;
            continue;
        }
        // A hunk: from CONTEXT lines before this change to CONTEXT lines after the last
        // change that follows within 2 * CONTEXT unchanged lines.
        let start = k.saturating_sub(CONTEXT);
        let mut end = k;
        let mut last_change = k;
        while end < ops.len() && end <= last_change + 2 * CONTEXT {
            if ops[end].0 != ' ' {
                last_change = end;
            }
            end += 1;
        }
        let end = (last_change + CONTEXT + 1).min(ops.len());
        let hunk = &ops[start..end];
        let old_len = hunk.iter().filter(|o| o.0 != '+').count();
        let new_len = hunk.iter().filter(|o| o.0 != '-').count();
        let (oi, nj) = (hunk[0].1, hunk[0].2);
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n",
            oi + usize::from(old_len > 0),
            nj + usize::from(new_len > 0)
        ));
        for &(tag, oi, nj) in hunk {
            let line = if tag == '+' { b[nj] } else { a[oi] };
            out.push(tag);
            out.push_str(line);
            out.push('\n');
        }
        k = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_renders_nested_values_inline_and_id_first() {
        // A body sits under its [[table]] header: a nested [section] would escape it.
        let t: toml::Table =
            "name = \"A\"\nid = \"a\"\nroles = [{ title = \"PM\", from = 2021-01-02 }]\n"
                .parse()
                .unwrap();
        let body = render_body(&t);
        assert!(body.starts_with("id = \"a\"\nname = \"A\"\n"), "{body}");
        assert!(
            !body.contains("[roles]") && !body.contains("[[roles]]"),
            "{body}"
        );
        let back: toml::Table = body.parse().unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn changes_touch_only_their_item() {
        // Editing one rule must leave every other managed item as it was.
        let file = ManagedFile {
            path: PathBuf::from("/x/watchlists/managed.toml"),
            text: None,
            blocks: vec![
                Block {
                    table: "rule".into(),
                    id: Some("r1".into()),
                    body: "id = \"r1\"\nactors = [\"a\"]\n".into(),
                },
                Block {
                    table: "group".into(),
                    id: Some("g".into()),
                    body: "id = \"g\"\nmembers = [\"a\"]\n".into(),
                },
            ],
        };
        let edited = file
            .with_change(&Change::Put {
                kind: ItemKind::Rule,
                original: Some("r1".into()),
                body: "id = \"r1\"\nactors = [\"b\"]".into(),
            })
            .unwrap();
        assert!(edited.contains("[[rule]]\nid = \"r1\"\nactors = [\"b\"]\n"));
        assert!(edited.contains("[[group]]\nid = \"g\"\nmembers = [\"a\"]\n"));
        let removed = file
            .with_change(&Change::Remove {
                kind: ItemKind::Group,
                id: "g".into(),
            })
            .unwrap();
        assert!(!removed.contains("[[group]]"));
        assert!(
            file.with_change(&Change::Remove {
                kind: ItemKind::Rule,
                id: "hand-written".into()
            })
            .is_err()
        );
    }

    #[test]
    fn a_config_that_does_not_include_the_managed_file_is_refused() {
        // Writing a file the config never loads would be an edit that silently does nothing.
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("parley.toml");
        std::fs::create_dir_all(dir.path().join("watchlists")).unwrap();
        std::fs::write(dir.path().join("watchlists/hand.toml"), "").unwrap();
        let path = managed_path(&main);
        assert!(ensure_exists(&path).unwrap());
        let rule = format!("{HEADER}\n[[actor]]\nid = \"a\"\nname = \"A\"\n");
        std::fs::write(&main, "include = [\"watchlists/hand.toml\"]\n").unwrap();
        let refused = validate_candidate(&main, &rule).unwrap_err();
        assert!(refused.message.contains("do not match"), "{refused}");
        std::fs::write(&main, "include = [\"watchlists/*.toml\"]\n").unwrap();
        let config = validate_candidate(&main, &rule).unwrap();
        assert_eq!(config.actors.len(), 1);
        // The candidate was read from memory: the file on disk is still the empty one.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), HEADER);
    }

    #[test]
    fn diff_shows_added_and_removed_lines() {
        // The log's record of a change is this diff; it must name exactly what changed.
        let d = line_diff("a\nb\nc\n", "a\nc\nd\n");
        assert!(d.contains("-b\n"), "{d}");
        assert!(d.contains("+d\n"), "{d}");
        assert!(!d.contains("-a") && !d.contains("+a"), "{d}");
        assert!(d.starts_with("@@ -1,"), "{d}");
        assert_eq!(line_diff("same\n", "same\n"), "");
        assert_eq!(line_diff("", "x\n"), "@@ -0,0 +1,1 @@\n+x\n");
    }
}
