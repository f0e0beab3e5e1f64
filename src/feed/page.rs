//! Fetching one article page's main text, politely: the address policy first (a refused
//! address costs no request), then the host's robots.txt, then the page through its host's
//! gate, then the main text.
//!
//! Which articles get their page, the store's cache of page texts and the counting are the
//! daemon's (`daemon::full_text`); this module only fetches, and says what happened as a
//! [`PageText`], so `feed` needs neither the store nor the metrics.

use super::address::Refused;
use super::hosts::HostGates;
use super::robots::RobotsCache;
use super::{FetchOutcome, Fetcher};

/// What fetching an article page gave.
pub(crate) enum PageText {
    /// The page's main text.
    Text(String),
    /// The address policy refused the page (before any request, or on the address a name
    /// resolved to): nothing was sent to it.
    Refused(Refused),
    /// The host's robots.txt disallows the page (or could not be read: then nothing may be
    /// crawled now).
    RobotsDisallowed,
    /// The request failed with this error, or (`None`) answered without a body.
    Failed(Option<String>),
    /// The page was fetched, but no main text was found on it.
    NoText,
    /// The host's gate was closed: the page was not fetched, and nothing is to be said.
    Skipped,
}

/// Fetches the main text of the article page at `url` (http or https) through `fetcher`,
/// after checking the address policy and the host's robots.txt (cached in `robots`), waiting
/// for the host's gate in `hosts` like any other request. A robots.txt request the address
/// policy refuses is told to `refused` (its redacted URL and why).
pub(crate) async fn main_text(
    fetcher: &Fetcher,
    hosts: &HostGates,
    robots: &RobotsCache,
    url: &url::Url,
    refused: &(dyn Fn(&str, Refused) + Sync),
) -> PageText {
    // Checked before robots.txt too: a link to a refused address costs no request at all.
    if let Err(why) = fetcher.policy().check_url(url, false) {
        return PageText::Refused(why);
    }
    if !robots.allow(fetcher, hosts, url, refused).await {
        return PageText::RobotsDisallowed;
    }
    let location = super::FeedLocation::Http(url.clone());
    let Some(slot) = hosts.slot(&location).await else {
        return PageText::Skipped;
    };
    let fetched = fetcher.fetch_page(url).await;
    drop(slot);
    let (bytes, content_type) = match fetched {
        Ok(FetchOutcome::Body {
            bytes,
            content_type,
            ..
        }) => (bytes, content_type),
        Ok(_) => return PageText::Failed(None),
        Err(error) => {
            return match error.refused {
                Some(why) => PageText::Refused(why),
                None => PageText::Failed(Some(error.message)),
            };
        }
    };
    let page_url = url.to_string();
    let text = tokio::task::spawn_blocking(move || {
        super::article::page_text(&bytes, content_type.as_deref(), &page_url)
    })
    .await
    .ok()
    .flatten();
    match text {
        Some(text) => PageText::Text(text),
        None => PageText::NoText,
    }
}
