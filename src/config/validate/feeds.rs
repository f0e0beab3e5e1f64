//! `[[feed]]`: where to fetch (a URL or a file, normalised so one feed written two ways is a
//! duplicate), its display name and its interval.

use std::collections::HashMap;

use toml::Spanned;

use super::Builder;
use crate::config::paths::normalize;
use crate::config::raw::{RawFeed, SourceFile};
use crate::config::{ConfigError, DaemonConfig, FeedConfig};
use crate::feed::FeedLocation;

impl Builder<'_> {
    pub(super) fn feed(
        &self,
        file: &SourceFile,
        raw: &Spanned<RawFeed>,
        daemon: &DaemonConfig,
        seen: &mut HashMap<FeedLocation, String>,
    ) -> Result<FeedConfig, ConfigError> {
        let f = raw.get_ref();
        // Messages and the default name use the URL as written, so a `${KEY}` in a query
        // string shows as the placeholder and never as the secret.
        let as_written = f.url.get_ref().clone();
        let url = self.text(file, &f.url)?;
        let location = match FeedLocation::parse(url.trim(), &file.dir)
            .map_err(|m| file.err(&f.url.span(), format!("feed {as_written:?}: {m}")))?
        {
            FeedLocation::File(path) => FeedLocation::File(normalize(&path)),
            http => http,
        };
        if let Some(first) = seen.get(&location) {
            return Err(file.err(
                &f.url.span(),
                format!("duplicate feed {as_written:?} (first defined at {first})"),
            ));
        }
        seen.insert(location.clone(), file.at(&f.url.span()));
        let name = match &f.name {
            Some(n) => self.nonempty(file, n, &format!("feed {as_written:?}: name"))?,
            None => as_written.clone(),
        };
        let interval = self.opt_duration(
            file,
            f.interval.as_ref(),
            &format!("feed {as_written:?}: interval"),
            daemon.poll_interval,
        )?;
        Ok(FeedConfig {
            location,
            name,
            interval,
            fetch_article: f.fetch_article.unwrap_or(false),
        })
    }
}
