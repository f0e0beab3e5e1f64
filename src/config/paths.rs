//! Path resolution for config values.
//!
//! Relative paths in a config file mean "relative to the folder of the file that says them",
//! so a config tree can be moved or run from any working directory. Results are absolute and
//! lexically normalised (`config/../data` becomes `data`) so `parley check` prints readable
//! paths and the same file reached two ways compares equal.

use std::path::{Component, Path, PathBuf};

/// Removes `.` and folds `..` into the preceding component, without touching the disk.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Makes `path` absolute against the current directory and normalises it.
pub(crate) fn absolutize(path: &Path) -> std::io::Result<PathBuf> {
    Ok(normalize(&std::path::absolute(path)?))
}

/// Resolves a path written in a config file against that file's (absolute) folder.
pub(crate) fn resolve(base_dir: &Path, written: &Path) -> PathBuf {
    normalize(&base_dir.join(written))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_dots() {
        // `../data` next to a config file must come out as a clean sibling path.
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(normalize(Path::new("/../x")), PathBuf::from("/x"));
        assert_eq!(normalize(Path::new("../x")), PathBuf::from("../x"));
    }
}
