//! Replacing a file so that a reader (or a crash) sees the old file or the new one, never a
//! mix. The revision cache (`client`) and the generated watchlists (`sync`, `import`) write
//! this way, so the helpers sit below all of them rather than in any. The generated files
//! are also checked: the config must still load with them, or the previous file comes back.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::WikidataError;
use crate::config::{self, Config};

/// Replaces `path` with `bytes` so that a reader (or a crash) sees the old file or the new
/// one, never a mix: a temporary file in the same folder, fsynced, renamed over the target,
/// then the folder fsynced so the rename itself is durable.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A dot name with a non-.toml suffix: the config's `*.toml` includes never read it.
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Puts `path` back as it was: `previous` written back, or the file removed when there was
/// none.
pub(crate) fn restore(path: &Path, previous: Option<&str>) -> std::io::Result<()> {
    match previous {
        Some(text) => write_atomically(path, text.as_bytes()),
        None => std::fs::remove_file(path),
    }
}

/// Replaces the generated file `path` with `text` (creating its folder), then loads the
/// config at `source` again: the daemon's next reload must not fail because of it. If the
/// config no longer loads, the previous state is restored (`previous`, the old text, or no
/// file) and the load error is returned, saying what was restored. Returns the config as
/// loaded with the new file.
pub(crate) fn replace_checked(
    path: &Path,
    text: &str,
    previous: Option<&str>,
    source: &Path,
) -> Result<Config, WikidataError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| WikidataError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    write_atomically(path, text.as_bytes()).map_err(|source| WikidataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match config::load(source) {
        Ok(config) => Ok(config),
        Err(error) => {
            let kept = match (restore(path, previous), previous) {
                (Ok(()), Some(_)) => "the previous file was put back",
                (Ok(()), None) => "it was removed again",
                (Err(_), _) => "the previous state could NOT be restored",
            };
            Err(WikidataError::Config(config::ConfigError {
                location: error.location,
                message: format!(
                    "{} (the generated file made the config invalid; {kept})",
                    error.message
                ),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        // The old file must be whole or replaced, and no stray file may be left to include.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.toml");
        std::fs::write(&p, "old").unwrap();
        write_atomically(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("w.toml")]);
    }
}
