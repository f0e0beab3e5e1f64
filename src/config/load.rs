//! Reading the files: the main file and the files its `include` globs match, each parsed into
//! raw tables (`raw`, phase one), all then handed to `validate` (phase two). Only the main
//! file may hold `[daemon]`, `[api]` and `include`.

use std::cell::Cell;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::raw::{self, RawFile, SourceFile};
use super::{Config, ConfigError, expand, paths, validate};

/// Loads and validates the config at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with_env(path, &|name| std::env::var(name).ok())
}

/// [`load`] with `${VAR}` (and `STATE_DIRECTORY`) looked up through `env` instead of the
/// process environment. Exists so tests and embedders can supply variables without
/// mutating the process environment, which is unsafe while other threads run.
pub fn load_with_env(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    load_overlaid(path, env, None)
}

/// One file's text given in memory instead of read from disk: the web UI validates a
/// candidate `watchlists/managed.toml` with `parley check`'s own loading before writing it.
pub(crate) struct Overlay<'a> {
    /// The file's absolute path (as the include globs find it).
    pub path: &'a Path,
    /// The text to read instead of the file's.
    pub text: &'a str,
    /// Set when the load read it, i.e. the include globs match it.
    pub read: Cell<bool>,
}

/// [`load_with_env`], reading `overlay`'s text in place of its file.
pub(crate) fn load_overlaid(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    overlay: Option<&Overlay<'_>>,
) -> Result<Config, ConfigError> {
    let display = path.display().to_string();
    let source = paths::absolutize(path).map_err(|e| ConfigError {
        location: display.clone(),
        message: format!("cannot resolve the config path: {e}"),
    })?;
    let main = read_source(display, &source, None, overlay)?;
    let main_raw = main.parse()?;
    let mut files = Vec::new();
    let included = match &main_raw.include {
        Some(patterns) => include_files(&main, &source, patterns, env, overlay)?,
        None => Vec::new(),
    };
    files.push((main, main_raw));
    files.extend(included);
    validate::build(source, &files, env)
}

/// Reads one file; `included_from` (a `file:line`) is added to the message when it fails.
fn read_source(
    display: String,
    absolute: &Path,
    included_from: Option<&str>,
    overlay: Option<&Overlay<'_>>,
) -> Result<SourceFile, ConfigError> {
    let suffix = included_from
        .map(|at| format!(" (included from {at})"))
        .unwrap_or_default();
    let bytes = match overlay.filter(|o| o.path == absolute) {
        Some(o) => {
            o.read.set(true);
            o.text.as_bytes().to_vec()
        }
        None => std::fs::read(absolute).map_err(|e| ConfigError {
            location: display.clone(),
            message: format!("cannot read the config file: {e}{suffix}"),
        })?,
    };
    let text = String::from_utf8(bytes).map_err(|_| ConfigError {
        location: display.clone(),
        message: format!("the config file is not valid UTF-8{suffix}"),
    })?;
    let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(SourceFile { display, dir, text })
}

/// Expands the main file's `include` globs (relative to its folder) into parsed files, in
/// pattern order and, within a pattern, in the glob's (sorted) order. A file matched twice,
/// or the main file itself, is read once.
fn include_files(
    main: &SourceFile,
    main_abs: &Path,
    patterns: &toml::Spanned<Vec<raw::Str>>,
    env: &dyn Fn(&str) -> Option<String>,
    overlay: Option<&Overlay<'_>>,
) -> Result<Vec<(SourceFile, RawFile)>, ConfigError> {
    let display_dir = Path::new(&main.display)
        .parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut seen: HashSet<PathBuf> = HashSet::from([main_abs.to_path_buf()]);
    let mut out = Vec::new();
    for pattern in patterns.get_ref() {
        let span = pattern.span();
        let at = main.at(&span);
        let written =
            expand::expand(pattern.get_ref(), env).map_err(|e| main.err(&span, e.message()))?;
        if written.trim().is_empty() {
            return Err(main.err(&span, "include pattern is empty"));
        }
        let full = if Path::new(&written).is_absolute() || display_dir.is_empty() {
            written.clone()
        } else {
            format!("{}/{}", glob::Pattern::escape(&display_dir), written)
        };
        let matches = glob::glob(&full).map_err(|e| {
            main.err(
                &span,
                format!("include {written:?} is not a valid glob: {e}"),
            )
        })?;
        let mut matched = 0usize;
        for entry in matches {
            let path = entry.map_err(|e| {
                main.err(
                    &span,
                    format!(
                        "include {written:?}: cannot read {}: {}",
                        e.path().display(),
                        e.error()
                    ),
                )
            })?;
            if path.is_dir() {
                continue;
            }
            matched += 1;
            let abs = paths::absolutize(&path).map_err(|e| {
                main.err(
                    &span,
                    format!("include {written:?}: {}: {e}", path.display()),
                )
            })?;
            if !seen.insert(abs.clone()) {
                continue;
            }
            let file = read_source(path.display().to_string(), &abs, Some(&at), overlay)?;
            let raw = file.parse()?;
            if let Some(daemon) = &raw.daemon {
                return Err(file.err(
                    &daemon.span(),
                    format!(
                        "[daemon] may only appear in the main config file (included from {at})"
                    ),
                ));
            }
            if let Some(api) = &raw.api {
                return Err(file.err(
                    &api.span(),
                    format!("[api] may only appear in the main config file (included from {at})"),
                ));
            }
            if let Some(include) = &raw.include {
                return Err(file.err(
                    &include.span(),
                    format!("`include` may only appear in the main config file; includes do not nest (included from {at})"),
                ));
            }
            out.push((file, raw));
        }
        if matched == 0 {
            tracing::warn!(config = %main.display, pattern = %written, "Include pattern matched no files.");
        }
    }
    Ok(out)
}
