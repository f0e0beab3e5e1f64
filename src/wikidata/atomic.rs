//! Replacing a file so that a reader (or a crash) sees the old file or the new one, never a
//! mix. Both the revision cache (`client`) and the generated watchlist (`sync`) write this
//! way, so the helper sits below both rather than in either.

use std::io::Write;
use std::path::{Path, PathBuf};

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
