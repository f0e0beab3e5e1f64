//! Full text for `fetch_article` feeds, the daemon's half: which polled articles get their
//! page (new ones whose feed text is thin), the store's content-addressed cache of page
//! texts, and the counting. The fetching itself (address policy, robots.txt, per-host gate,
//! main text) is `feed::page`.

use tracing::{info, warn};

use super::GenerationShared;
use crate::feed::page::{self, PageText};
use crate::feed::{self, FeedLocation, FullText};
use crate::metrics::FetchRefused;
use crate::pipeline::ArticleFetch;

/// For a `fetch_article` feed: fetches the page of each new item whose feed text is thin and
/// adds its main text (`Article::full_text`), keeping it content-addressed in the store. A
/// URL fetched before is served from the store; robots.txt and the per-host limits are
/// obeyed; any failure keeps the feed's own text, so a page never stops an item.
pub(super) async fn fetch_full_texts(ctx: &GenerationShared, articles: &mut [feed::Article]) {
    // A request the address policy refused (an article page, a robots.txt): logged and counted.
    let report_refused =
        |what, url: &str, refused| FetchRefused { what, url, refused }.emit(&ctx.stats);
    for article in articles.iter_mut() {
        let Some(link) = article.url.clone() else {
            continue;
        };
        if !feed::article::is_thin(&article.text) || ctx.store.contains(&article.id).unwrap_or(true)
        {
            continue;
        }
        match ctx.store.article_text_for_url(&link) {
            Ok(Some((sha256, text))) => {
                ArticleFetch::Cached.count(&ctx.stats);
                article.full_text = Some(FullText { sha256, text });
                continue;
            }
            Ok(None) => {}
            Err(error) => {
                warn!(%error, "Cannot read the article text cache.");
                continue;
            }
        }
        let Ok(url) = url::Url::parse(&link) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        let shown = FeedLocation::Http(url.clone()).redacted();
        let fetched = page::main_text(
            &ctx.prepared.fetcher,
            &ctx.hosts,
            &ctx.robots,
            &url,
            &|url, why| report_refused("robots.txt", url, why),
        )
        .await;
        let outcome = match fetched {
            PageText::Text(text) => match ctx.store.put_article_text(&link, &text).await {
                Ok(sha256) => {
                    info!(article = %shown, chars = text.len(), "Article page fetched.");
                    article.full_text = Some(FullText { sha256, text });
                    ArticleFetch::Fetched
                }
                Err(error) => {
                    warn!(article = %shown, %error, "Cannot store the article text.");
                    ArticleFetch::StoreFailed
                }
            },
            PageText::Refused(why) => {
                report_refused("article page", &shown, why);
                ArticleFetch::Refused
            }
            PageText::RobotsDisallowed => {
                info!(article = %shown, "robots.txt disallows the article page; keeping the feed's text.");
                ArticleFetch::RobotsDisallowed
            }
            PageText::Failed(error) => {
                if let Some(error) = error {
                    warn!(article = %shown, %error, "Article fetch failed; keeping the feed's text.");
                }
                ArticleFetch::Failed
            }
            PageText::NoText => {
                info!(article = %shown, "No main text found on the article page.");
                ArticleFetch::NoText
            }
            PageText::Skipped => continue,
        };
        outcome.count(&ctx.stats);
    }
}
