//! Feed locations as written in the config: parsing, canonical keys and log-safe display.

use std::path::{Path, PathBuf};

use url::Url;

use super::FeedLocation;

impl FeedLocation {
    /// Parses a feed location from the config: an `http(s)://` URL, a `file://` URL or a plain
    /// path (relative paths are resolved against `base_dir`, the config file's folder).
    ///
    /// It exists so that the config module does not need to know which schemes the fetcher
    /// supports; anything else (`ftp:`, `javascript:`, ...) is rejected here, with a message
    /// that names the problem but not the URL's credentials.
    pub fn parse(s: &str, base_dir: &Path) -> Result<FeedLocation, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty feed location".to_string());
        }
        match Url::parse(s) {
            Ok(url) => match url.scheme() {
                "http" | "https" => {
                    if url.host_str().is_none_or(str::is_empty) {
                        return Err(format!("feed URL {} has no host", redact_url(&url)));
                    }
                    Ok(FeedLocation::Http(url))
                }
                "file" => {
                    if url
                        .host_str()
                        .is_some_and(|h| !h.is_empty() && h != "localhost")
                    {
                        return Err(format!(
                            "file URL {url} names a remote host; only local files are supported"
                        ));
                    }
                    let path = url
                        .to_file_path()
                        .map_err(|()| format!("file URL {url} is not a usable local path"))?;
                    Ok(FeedLocation::File(absolute(&path)))
                }
                other => Err(format!(
                    "unsupported scheme `{other}:` in feed location (use http, https, file or a path)"
                )),
            },
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                Ok(FeedLocation::File(absolute(&base_dir.join(s))))
            }
            Err(error) => Err(format!("invalid feed URL: {error}")),
        }
    }

    /// The location for logs and messages: the URL without user name, password, query or
    /// fragment (where tokens tend to live), or the file path.
    ///
    /// Exists because [`FeedLocation::key`] must keep the URL exactly as written (it is part of
    /// every article id) while logs must never carry secrets.
    pub fn redacted(&self) -> String {
        match self {
            FeedLocation::Http(url) => redact_url(url),
            FeedLocation::File(path) => path.display().to_string(),
        }
    }
}

/// The canonical key (see [`FeedLocation::key`]).
pub(super) fn key(location: &FeedLocation) -> String {
    match location {
        FeedLocation::Http(url) => url.as_str().to_string(),
        FeedLocation::File(path) => format!("file://{}", absolute(path).display()),
    }
}

/// A URL without userinfo, query and fragment, for messages.
pub(super) fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    // Both setters only fail for URLs that cannot have credentials; then there are none to hide.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    if shown.query().is_some() {
        shown.set_query(Some("…"));
    }
    shown.set_fragment(None);
    shown.to_string()
}

/// Removes every trace of `url`'s secrets (password, query string, the whole URL) from a
/// message built by a library that may have embedded it.
pub(super) fn scrub(message: String, url: &Url) -> String {
    let mut message = message.replace(url.as_str(), &redact_url(url));
    if let Some(password) = url.password().filter(|p| !p.is_empty()) {
        message = message.replace(password, "***");
    }
    if let Some(query) = url.query().filter(|q| !q.is_empty()) {
        message = message.replace(query, "…");
    }
    message
}

/// Makes a path absolute without touching the filesystem (no symlink resolution, so the key
/// stays what the operator wrote).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_file_and_paths() {
        // The config relies on this to accept exactly the locations the fetcher can serve.
        let base = Path::new("/etc/parley");
        let http = FeedLocation::parse(" https://Example.COM/feed.xml ", base).unwrap();
        assert_eq!(http.key(), "https://example.com/feed.xml");
        let file = FeedLocation::parse("file:///var/feeds/a.xml", base).unwrap();
        assert_eq!(file, FeedLocation::File(PathBuf::from("/var/feeds/a.xml")));
        assert_eq!(file.key(), "file:///var/feeds/a.xml");
        let rel = FeedLocation::parse("feeds/b.xml", base).unwrap();
        assert_eq!(
            rel,
            FeedLocation::File(PathBuf::from("/etc/parley/feeds/b.xml"))
        );
        let abs = FeedLocation::parse("/srv/c.xml", base).unwrap();
        assert_eq!(abs.key(), "file:///srv/c.xml");
    }

    #[test]
    fn rejects_other_schemes_and_garbage() {
        // Anything but http(s)/file must be refused at config time, not at fetch time.
        let base = Path::new("/");
        for bad in [
            "ftp://example.com/feed",
            "javascript:alert(1)",
            "",
            "http://",
            "file://remote/x",
        ] {
            assert!(FeedLocation::parse(bad, base).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn redaction_hides_credentials_and_query() {
        // Logs and error messages must not leak tokens that live in feed URLs.
        let url = Url::parse("https://user:s3cret@example.com/feed?token=abc#x").unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("s3cret") && !shown.contains("user") && !shown.contains("abc"));
        let msg = scrub(format!("failed for {url} (token=abc, s3cret)"), &url);
        assert!(!msg.contains("s3cret") && !msg.contains("abc"), "{msg}");
    }
}
