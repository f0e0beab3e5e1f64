//! Path resolution for config values.
//!
//! Relative paths in a config file mean "relative to the folder of the file that says them",
//! so a config tree can be moved or run from any working directory. Results are absolute and
//! lexically normalised (`config/../data` becomes `data`) so `parley check` prints readable
//! paths and the same file reached two ways compares equal.

use std::path::{Component, Path, PathBuf};

use url::Url;

use crate::feed::FeedLocation;

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

/// Turns a feed's `url` into a location: `http(s)://` stays a URL, `file://` and plain paths
/// become absolute file paths (plain ones relative to `base_dir`), other schemes are refused.
///
/// Stand-in for `FeedLocation::parse` from the feed module; same contract, so the lead can
/// swap one for the other.
pub(crate) fn parse_feed_location(s: &str, base_dir: &Path) -> Result<FeedLocation, String> {
    if s.trim().is_empty() {
        return Err("the feed URL is empty".to_string());
    }
    match Url::parse(s) {
        Ok(url) => match url.scheme() {
            "http" | "https" => Ok(FeedLocation::Http(url)),
            "file" => url
                .to_file_path()
                .map(|p| FeedLocation::File(normalize(&p)))
                .map_err(|()| "the file:// URL has no usable local path".to_string()),
            other => Err(format!(
                "unsupported scheme {other:?} (expected http://, https://, file:// or a path)"
            )),
        },
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            Ok(FeedLocation::File(resolve(base_dir, Path::new(s))))
        }
        Err(e) => Err(format!("invalid URL: {e}")),
    }
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

    #[test]
    fn feed_locations_by_form() {
        // The three accepted spellings, and a refused scheme.
        let base = Path::new("/etc/parley");
        assert_eq!(
            parse_feed_location("https://example.org/rss.xml", base).unwrap(),
            FeedLocation::Http(Url::parse("https://example.org/rss.xml").unwrap())
        );
        assert_eq!(
            parse_feed_location("file:///srv/feed.xml", base).unwrap(),
            FeedLocation::File(PathBuf::from("/srv/feed.xml"))
        );
        assert_eq!(
            parse_feed_location("samples/../samples/a.xml", base).unwrap(),
            FeedLocation::File(PathBuf::from("/etc/parley/samples/a.xml"))
        );
        assert_eq!(
            parse_feed_location("/abs/a.xml", base).unwrap(),
            FeedLocation::File(PathBuf::from("/abs/a.xml"))
        );
        assert!(
            parse_feed_location("ftp://example.org/x", base)
                .unwrap_err()
                .contains("ftp")
        );
        assert!(parse_feed_location("https://", base).is_err());
        assert!(parse_feed_location("  ", base).is_err());
    }
}
