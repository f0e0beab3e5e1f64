//! The article as one coordinate space: original text (title and body), its normalised
//! form with the map back, the language and the sentence spans.

use super::{Document, lang, normalize, sentences};

/// The article's original text as one coordinate space without copying it: the title at
/// `0..title.len()`, the body at `base..base + body.len()` (`base` leaves a one-byte gap, so
/// no span can run from one into the other).
pub(super) struct Source<'a> {
    pub(super) title: &'a str,
    pub(super) body: &'a str,
    pub(super) base: usize,
}

impl<'a> Source<'a> {
    /// The original text of `start..end` (both in the same segment), or "" if out of range.
    pub(super) fn slice(&self, start: usize, end: usize) -> &'a str {
        let (seg, s, e) = if start >= self.base {
            (self.body, start - self.base, end.saturating_sub(self.base))
        } else {
            (self.title, start, end)
        };
        seg.get(s..e).unwrap_or("")
    }

    /// Original span of the normalised range `start..end`: from the first char's start to the
    /// last char's end.
    pub(super) fn span(
        &self,
        norm: &normalize::Normalized,
        start: usize,
        end: usize,
    ) -> (usize, usize) {
        let s = norm.orig_start(start);
        let last = norm.orig_start(end - 1);
        let len = self
            .slice(last, self.end_of(last))
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        (s, last + len)
    }

    /// The end (virtual) of the segment holding `pos`.
    pub(super) fn end_of(&self, pos: usize) -> usize {
        if pos >= self.base {
            self.base + self.body.len()
        } else {
            self.title.len()
        }
    }
}

/// One article read for extraction: its text in virtual coordinates, normalised once for
/// title and body (searched once by each automaton), its language and its sentences (the
/// title, if any, is sentence 0).
pub(super) struct Article<'a> {
    pub(super) src: Source<'a>,
    pub(super) norm: normalize::Normalized,
    /// Sentence spans in virtual coordinates, in text order.
    pub(super) spans: Vec<(usize, usize)>,
    pub(super) lang: &'static str,
}

impl<'a> Article<'a> {
    /// Normalises the title and body, detects the language and splits the sentences.
    pub(super) fn read(doc: &Document<'a>) -> Article<'a> {
        let title_trim = doc.title.trim();
        let src = Source {
            title: if title_trim.is_empty() { "" } else { doc.title },
            body: doc.text,
            base: if title_trim.is_empty() {
                0
            } else {
                doc.title.len() + 1
            },
        };

        // The pass over the body also notes where the sentence splitter has to look.
        let mut normalizer = normalize::Normalizer::with_capacity(src.title.len() + src.body.len());
        normalizer.segment(src.title, 0, None);
        let mut marks = Vec::with_capacity(doc.text.len() / 40 + 1);
        normalizer.segment(src.body, src.base, Some(&mut marks));
        let norm = normalizer.finish();
        let mut cut = norm.text.len().min(2400);
        while !norm.text.is_char_boundary(cut) {
            cut -= 1;
        }
        let lang = lang::detect(&norm.text[..cut], doc.title, doc.text);

        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(marks.len() / 2 + 2);
        if !title_trim.is_empty() {
            let lead = doc.title.len() - doc.title.trim_start().len();
            spans.push((lead, lead + title_trim.len()));
        }
        sentences::split_at(doc.text, &marks, src.base, &mut spans);
        Article {
            src,
            norm,
            spans,
            lang,
        }
    }

    /// Event typing, coreference and locations run only on English.
    pub(super) fn english(&self) -> bool {
        self.lang == "en"
    }
}

/// The normalised range of the original span `(s0, s1)`, widened to its padding spaces.
pub(super) fn norm_range(norm: &normalize::Normalized, (s0, s1): (usize, usize)) -> (usize, usize) {
    let a = norm
        .map
        .partition_point(|&o| (o as usize) < s0)
        .saturating_sub(1);
    let mut b = (norm.map.partition_point(|&o| (o as usize) < s1) + 1).min(norm.text.len());
    let mut a = a;
    while !norm.text.is_char_boundary(a) {
        a -= 1;
    }
    while !norm.text.is_char_boundary(b) {
        b += 1;
    }
    (a, b)
}

/// The sentence wholly containing `start..end`, if any (matches across a sentence end drop).
pub(super) fn sentence_of(spans: &[(usize, usize)], start: usize, end: usize) -> Option<usize> {
    let i = spans.partition_point(|s| s.1 <= start);
    let s = spans.get(i)?;
    (s.0 <= start && end <= s.1).then_some(i)
}
