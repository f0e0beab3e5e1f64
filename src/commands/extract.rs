//! `parley extract`: extraction on JSON Lines or plain text, without a store. Kept apart
//! because it is the only command that reads articles from outside (stdin or a file), with
//! its own input limits and per-line error reporting.

use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::stdout_err;
use crate::cli::parse_time;
use crate::config;
use crate::error::Error;
use crate::extract::{Document, ExtractedEvent, Extractor};

/// An I/O error on the input file, named by its path.
fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One input line of `parley extract`.
#[derive(Debug, Deserialize)]
struct ExtractInput {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    title: Option<String>,
    text: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// One output line of `parley extract`.
#[derive(Debug, Serialize)]
struct ExtractOutput<'a> {
    id: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<String>,
    actors: &'a [crate::extract::ActorId],
    events: &'a [ExtractedEvent],
}

/// `parley extract`: runs extraction on JSON Lines (or one plain-text article) and writes one
/// JSON line per article. Bad lines are reported on stderr with their line number and skipped;
/// the command then fails with exit 1 after processing the rest.
pub fn extract(
    config_path: &Path,
    input: Option<&Path>,
    text_mode: bool,
    published: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let config = config::load(config_path)?;
    let extractor = crate::pipeline::shipped(&config)?;
    let reader: Box<dyn BufRead> = match input {
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(io_err(path))?,
        )),
        None => Box::new(std::io::BufReader::new(std::io::stdin())),
    };
    let name = input.map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string());
    if text_mode {
        let mut bytes = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut bytes).map_err(|source| Error::Io {
            path: name.clone().into(),
            source,
        })?;
        // Plain text of unknown provenance: invalid UTF-8 becomes U+FFFD rather than an abort.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let date = match published {
            Some(p) => Some(parse_time(p).ok_or_else(|| {
                Error::Usage(format!(
                    "--published {p:?}: expected RFC 3339 or YYYY-MM-DD"
                ))
            })?),
            None => None,
        };
        let item = ExtractInput {
            id: None,
            title: None,
            text,
            published: date.map(|d| d.to_rfc3339()),
            source: None,
        };
        return write_extraction(&extractor, &item, serde_json::Value::from(1), out);
    }
    let mut bad = 0usize;
    let mut reader = reader;
    let mut buf = Vec::new();
    let mut lineno = 0usize;
    loop {
        let too_long = match read_line_capped(&mut *reader, &mut buf, MAX_LINE_BYTES) {
            Ok(Some(too_long)) => too_long,
            Ok(None) => break,
            Err(source) => {
                return Err(Error::Io {
                    path: name.clone().into(),
                    source,
                });
            }
        };
        lineno += 1;
        if too_long {
            bad += 1;
            tracing::error!(input = %name, line = lineno, max_bytes = MAX_LINE_BYTES, "Skipping an input line longer than the limit.");
            continue;
        }
        let line = match std::str::from_utf8(&buf) {
            Ok(line) => line,
            Err(error) => {
                bad += 1;
                tracing::error!(input = %name, line = lineno, %error, "Skipping an input line that is not UTF-8.");
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<ExtractInput>(line) {
            Ok(item) => {
                let id = item
                    .id
                    .clone()
                    .unwrap_or_else(|| serde_json::Value::from(lineno));
                write_extraction(&extractor, &item, id, out)?;
            }
            Err(error) => {
                bad += 1;
                tracing::error!(input = %name, line = lineno, %error, "Skipping a malformed input line.");
            }
        }
    }
    if bad > 0 {
        return Err(Error::Input(format!(
            "{name}: {bad} malformed line(s) skipped"
        )));
    }
    Ok(())
}

/// Longest `extract` input line: articles are at most a few MB, and a longer line (a file
/// without newlines, a dump fed by mistake) is skipped without ever being held in memory.
const MAX_LINE_BYTES: usize = 16 << 20;

/// Reads one `\n`-terminated line (without the `\n` and a trailing `\r`) into `buf`, holding
/// at most `max` bytes of it. `None` at end of input; `Some(true)` when the line was longer
/// than `max` (then consumed and discarded), `Some(false)` otherwise.
fn read_line_capped(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(too_long));
        }
        any = true;
        let (used, part_len, end) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, i, true),
            None => (available.len(), available.len(), false),
        };
        if !too_long {
            if buf.len() + part_len > max {
                too_long = true;
                *buf = Vec::new();
            } else {
                buf.extend_from_slice(&available[..part_len]);
            }
        }
        reader.consume(used);
        if end {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(too_long));
        }
    }
}

fn write_extraction(
    extractor: &Extractor,
    item: &ExtractInput,
    id: serde_json::Value,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let published = item.published.as_deref().and_then(parse_time);
    let extraction = extractor.extract(&Document {
        title: item.title.as_deref().unwrap_or(""),
        text: &item.text,
        date: published.map(|d| d.date_naive()),
    });
    let output = ExtractOutput {
        id,
        source: item.source.as_deref(),
        published: published.map(|d| d.to_rfc3339()),
        actors: &extraction.actors,
        events: &extraction.events,
    };
    let line = serde_json::to_string(&output).map_err(|e| Error::Input(e.to_string()))?;
    writeln!(out, "{line}").map_err(stdout_err)
}
