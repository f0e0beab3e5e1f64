//! Sentence splitting for news English.
//!
//! Choice: a small single-pass splitter written for this job rather than
//! `unicode-segmentation`'s UAX #29 sentence bounds. UAX #29 splits after every "Mr. " or
//! "U.S. " followed by a capital, so it would need a merge pass that re-inspects the same
//! abbreviations anyway; the splitter below decides once, at the period, with the word before
//! and the word after in view, and runs over bytes without allocating per char.
//!
//! A sentence ends:
//! - after `.`, `!`, `?` or `…` (runs like `?!` or `...` count as one), plus any closing
//!   quotes or brackets that follow (`."`, `.”`, `.)`), when whitespace follows and the next
//!   word does not start with a lower-case letter;
//!   - but not after a title abbreviation that precedes a name (`Mr.`, `Gen.`, `Sen.`, ...),
//!     nor after `vs.`, nor after `No.`/`Jan.`/`Sept.`... when a digit follows;
//!   - and after an initial or initialism (`J.`, `U.S.`) or `etc.`, `Jr.`, `Inc.` only when the
//!     next word is a typical sentence opener ("The", "He", "But", ...): "Antony J. Blinken"
//!     stays whole, "... sanctions on the U.S. The move ..." splits;
//!   - decimals (`3.5`) never split because no whitespace follows the period;
//! - at a blank line (paragraph break), always;
//! - at a single line break, unless the next line starts with a lower-case letter or the line
//!   ends with `,` `;` `:` `(` or a dash (a wrapped line).

/// Abbreviations that precede a name and so never end a sentence (`w` lower case). The
/// normaliser drops their period too (`normalize::is_abbreviation`).
pub(super) fn is_title(w: &[u8]) -> bool {
    matches!(
        w,
        b"mr"
            | b"mrs"
            | b"ms"
            | b"dr"
            | b"gen"
            | b"lt"
            | b"col"
            | b"sen"
            | b"rep"
            | b"gov"
            | b"pres"
            | b"st"
            | b"prof"
            | b"capt"
            | b"sgt"
            | b"maj"
            | b"adm"
            | b"cmdr"
            | b"brig"
            | b"rev"
            | b"hon"
            | b"gens"
            | b"sens"
            | b"reps"
            | b"messrs"
            | b"mt"
            | b"ft"
            | b"amb"
            | b"supt"
            | b"vs"
            | b"v"
            | b"cpl"
            | b"pvt"
            | b"fr"
    )
}

/// Abbreviations that never end a sentence when a number follows ("Jan. 5", "No. 10").
fn is_before_number(w: &[u8]) -> bool {
    matches!(
        w,
        b"jan"
            | b"feb"
            | b"mar"
            | b"apr"
            | b"jun"
            | b"jul"
            | b"aug"
            | b"sep"
            | b"sept"
            | b"oct"
            | b"nov"
            | b"dec"
            | b"no"
            | b"nos"
            | b"art"
            | b"fig"
            | b"p"
            | b"pp"
            | b"vol"
            | b"ch"
            | b"sec"
            | b"approx"
            | b"est"
    )
}

/// Abbreviations that may end a sentence (decided by the next word).
fn is_maybe_final(w: &[u8]) -> bool {
    matches!(
        w,
        b"etc"
            | b"jr"
            | b"sr"
            | b"inc"
            | b"corp"
            | b"ltd"
            | b"co"
            | b"bros"
            | b"llc"
            | b"plc"
            | b"al"
            | b"ave"
            | b"blvd"
    )
}

/// Words that typically open a sentence; after an ambiguous abbreviation they mean a split.
fn is_opener_word(w: &[u8]) -> bool {
    matches!(
        w,
        b"the"
            | b"a"
            | b"an"
            | b"he"
            | b"she"
            | b"it"
            | b"they"
            | b"we"
            | b"i"
            | b"you"
            | b"his"
            | b"her"
            | b"its"
            | b"their"
            | b"our"
            | b"this"
            | b"that"
            | b"these"
            | b"those"
            | b"there"
            | b"but"
            | b"and"
            | b"or"
            | b"so"
            | b"yet"
            | b"in"
            | b"on"
            | b"at"
            | b"for"
            | b"from"
            | b"with"
            | b"after"
            | b"before"
            | b"while"
            | b"when"
            | b"as"
            | b"if"
            | b"although"
            | b"though"
            | b"however"
            | b"meanwhile"
            | b"still"
            | b"also"
            | b"then"
            | b"now"
            | b"last"
            | b"earlier"
            | b"later"
            | b"by"
            | b"during"
            | b"since"
            | b"some"
            | b"many"
            | b"most"
            | b"both"
            | b"all"
            | b"no"
            | b"not"
            | b"one"
            | b"what"
            | b"why"
            | b"how"
            | b"who"
            | b"where"
            | b"officials"
            | b"such"
            | b"other"
            | b"despite"
            | b"under"
    )
}

/// Bytes the splitter must look at: terminators, line breaks and the lead bytes of `…`, of
/// the CJK terminators (`。` E3 80 82, fullwidth `！` `？` EF BC 81/9F) and of the Arabic ones
/// (`؟` D8 9F, `۔` DB 94). The normaliser records where they are during its own pass, so the
/// splitter does not re-scan. The non-ASCII lead bytes are shared with many letters (all kana
/// start with E3, Arabic letters with D8); the splitter skips those at the cost of one
/// compare each, and English text, where none of them occur, pays nothing.
pub(crate) const INTERESTING: [bool; 256] = {
    let mut t = [false; 256];
    t[b'.' as usize] = true;
    t[b'!' as usize] = true;
    t[b'?' as usize] = true;
    t[b'\n' as usize] = true;
    t[0xE2] = true;
    t[0xE3] = true;
    t[0xEF] = true;
    t[0xD8] = true;
    t[0xDB] = true;
    t
};

/// A CJK sentence terminator at `i` (`。`, fullwidth `！` or `？`): its length. CJK text puts
/// no space after one, so it ends the sentence whatever follows.
fn cjk_terminator(b: &[u8], i: usize) -> Option<usize> {
    match (b.get(i), b.get(i + 1), b.get(i + 2)) {
        (Some(0xE3), Some(0x80), Some(0x82)) | (Some(0xEF), Some(0xBC), Some(0x81 | 0x9F)) => {
            Some(3)
        }
        _ => None,
    }
}

/// Splits `text` into trimmed sentence spans (byte ranges), in order, skipping empty ones.
#[cfg(test)]
pub(crate) fn split(text: &str) -> Vec<(usize, usize)> {
    let marks: Vec<u32> = text
        .bytes()
        .enumerate()
        .filter(|&(_, b)| INTERESTING[b as usize])
        .map(|(i, _)| i as u32)
        .collect();
    let mut out = Vec::new();
    split_at(text, &marks, 0, &mut out);
    out
}

/// `split` given `marks` (the ascending offsets of every [`INTERESTING`] byte of `text`):
/// appends the spans, shifted by `base`, to `out`.
pub(crate) fn split_at(text: &str, marks: &[u32], base: usize, out: &mut Vec<(usize, usize)>) {
    let b = text.as_bytes();
    let n = b.len();
    let first = out.len();
    let mut start = 0;
    let mut i = 0;
    let mut next_mark = marks.iter().map(|&m| m as usize).peekable();
    while i < n {
        // Jump to the next byte that can end a sentence.
        while next_mark.next_if(|&m| m < i).is_some() {}
        let Some(m) = next_mark.next() else {
            break;
        };
        i = m;
        if i >= n {
            break;
        }
        let c = b[i];
        if let Some(len) = cjk_terminator(b, i) {
            let j = skip_closers(b, i + len);
            let (k, _) = skip_ws(b, j);
            if k >= n {
                break;
            }
            if j > i + len && k == j {
                // A closing quote and straight on: the attribution continues the sentence
                // (「停火呢？」记者问。), as a lower-case word does after an English quote.
                i = j;
                continue;
            }
            push(text, out, start, j);
            start = k;
            i = k;
            continue;
        }
        let term_len = match c {
            b'.' | b'!' | b'?' => 1,
            0xE2 if b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0xA6) => 3, // '…'
            // Arabic question mark and full stop: followed by a space, like '?' and '.'.
            0xD8 if b.get(i + 1) == Some(&0x9F) => 2,
            0xDB if b.get(i + 1) == Some(&0x94) => 2,
            b'\n' => {
                let (k, newlines) = skip_ws(b, i);
                if k < n && line_break_ends_sentence(text, start, i, k, newlines) {
                    push(text, out, start, i);
                    start = k;
                }
                i = k;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        // A run of terminators ("?!", "...", ".…"), then closing quotes/brackets.
        let mut j = i + term_len;
        loop {
            match b.get(j) {
                Some(b'.' | b'!' | b'?') => j += 1,
                Some(0xE2) if b.get(j + 1) == Some(&0x80) && b.get(j + 2) == Some(&0xA6) => j += 3,
                _ => break,
            }
        }
        let single_period = c == b'.' && j == i + 1;
        j = skip_closers(b, j);
        if j >= n {
            break;
        }
        if !b[j].is_ascii_whitespace() && !text[j..].starts_with('\u{a0}') {
            i = j.max(i + 1);
            continue;
        }
        let (k, _) = skip_ws(b, j);
        if k >= n {
            break;
        }
        // The first char of `word_at(text, k)`, without finding the word's end first (most
        // periods never need it): that word is empty when a 0xC2-led char starts it.
        let next_first = if b[k] == 0xC2 {
            None
        } else {
            text[k..].chars().next()
        };
        if next_first.is_some_and(char::is_lowercase) {
            i = k;
            continue;
        }
        if single_period && !period_ends_sentence(text, i, next_first, k) {
            i = k;
            continue;
        }
        push(text, out, start, j);
        start = k;
        i = k;
    }
    push(text, out, start, n);
    for span in &mut out[first..] {
        span.0 += base;
        span.1 += base;
    }
}

/// Whether the period at `dot` ends a sentence, given the word before it and the next word
/// (at `next`, starting with `next_first`).
fn period_ends_sentence(text: &str, dot: usize, next_first: Option<char>, next: usize) -> bool {
    let b = text.as_bytes();
    let mut w = dot;
    while w > 0 && (b[w - 1].is_ascii_alphabetic() || b[w - 1] == b'.') {
        w -= 1;
    }
    if w > 0 && b[w - 1].is_ascii_alphanumeric() {
        // Part of a longer token such as "A4." or "3.5."; an ordinary sentence end.
        return true;
    }
    let word = &text[w..dot];
    // Every listed abbreviation is short; most periods follow a longer word.
    if word.is_empty() || word.len() > 7 {
        return true;
    }
    let mut buf = [0u8; 8];
    let lower = &mut buf[..word.len()];
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    let lower = &*lower;
    if is_title(lower) {
        return false;
    }
    let next_is_number = next_first.is_some_and(|c| c.is_ascii_digit());
    if is_before_number(lower) && next_is_number {
        return false;
    }
    let initialism = word.split('.').all(|p| p.len() == 1);
    if initialism || is_maybe_final(lower) {
        return is_opener(word_at(text, next));
    }
    true
}

fn is_opener(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric());
    let mut buf = [0u8; 12];
    if w.len() > buf.len() {
        return false;
    }
    let lower = &mut buf[..w.len()];
    lower.copy_from_slice(w.as_bytes());
    lower.make_ascii_lowercase();
    is_opener_word(lower)
}

/// Whether a line break (at `nl`, next text at `next`) ends the sentence begun at `start`.
fn line_break_ends_sentence(
    text: &str,
    start: usize,
    nl: usize,
    next: usize,
    newlines: usize,
) -> bool {
    if newlines >= 2 {
        return true;
    }
    let line = text[start..nl].trim_end();
    if line.is_empty() {
        return false;
    }
    if line.ends_with([',', ';', ':', '(', '-', '\u{2013}', '\u{2014}']) {
        return false;
    }
    !text[next..].starts_with(char::is_lowercase)
}

/// The word starting at `k` (up to the next whitespace).
fn word_at(text: &str, k: usize) -> &str {
    let rest = &text[k..];
    // Byte scan: ASCII whitespace or the lead byte of NBSP (0xC2 0xA0) ends the word; both are
    // char boundaries, so the slice stays valid.
    let end = rest
        .bytes()
        .position(|b| b.is_ascii_whitespace() || b == 0xC2)
        .filter(|&p| rest.is_char_boundary(p))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Skips ASCII whitespace and NBSP from `i`; returns the next position and the newlines seen.
fn skip_ws(b: &[u8], mut i: usize) -> (usize, usize) {
    let mut newlines = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => newlines += 1,
            b' ' | b'\t' | b'\r' | 0x0b | 0x0c => {}
            0xC2 if b.get(i + 1) == Some(&0xA0) => i += 1,
            _ => break,
        }
        i += 1;
    }
    (i, newlines)
}

/// Skips closing quotes and brackets (ASCII and curly) from `i`.
fn skip_closers(b: &[u8], mut i: usize) -> usize {
    loop {
        match b.get(i) {
            Some(b'"' | b'\'' | b')' | b']') => i += 1,
            // ’ ” (E2 80 99 / E2 80 9D), » (C2 BB)
            Some(0xE2)
                if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0x99 | 0x9D)) =>
            {
                i += 3
            }
            Some(0xC2) if b.get(i + 1) == Some(&0xBB) => i += 2,
            // 」 』 (E3 80 8D / 8F), fullwidth ） (EF BC 89): CJK closing quotes and brackets
            Some(0xE3)
                if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0x8D | 0x8F)) =>
            {
                i += 3
            }
            Some(0xEF) if b.get(i + 1) == Some(&0xBC) && b.get(i + 2) == Some(&0x89) => i += 3,
            _ => return i,
        }
    }
}

/// Pushes the trimmed span `start..end` if it is not empty.
fn push(text: &str, out: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    // ASCII whitespace by bytes; the Unicode trim only when a non-ASCII char is at an end.
    let b = text.as_bytes();
    let (mut a, mut z) = (start, end);
    while a < z && is_ascii_space(b[a]) {
        a += 1;
    }
    while z > a && is_ascii_space(b[z - 1]) {
        z -= 1;
    }
    if a < z && (b[a] >= 0x80 || b[z - 1] >= 0x80) {
        let s = &text[a..z];
        let t = s.trim_start();
        a += s.len() - t.len();
        z = a + t.trim_end().len();
    }
    if a < z {
        out.push((a, z));
    }
}

/// The ASCII chars `char::is_whitespace` accepts (unlike `u8::is_ascii_whitespace`, with
/// the vertical tab).
#[inline]
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn push_trims_like_str_trim(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\u{a0}", "\u{2003}", "\u{85}",
                    "a", "é", "\u{200b}", ".",
                ]),
                0..12,
            )
        ) {
            // `push` trims ASCII by bytes for speed; it must cut exactly where `str::trim`
            // does, or sentence spans (and so mention offsets) would move.
            let text = parts.concat();
            let mut out = Vec::new();
            push(&text, &mut out, 0, text.len());
            let t = text.trim();
            let a = text.len() - text.trim_start().len();
            let expect = if t.is_empty() { vec![] } else { vec![(a, a + t.len())] };
            prop_assert_eq!(out, expect, "{:?}", text);
        }
    }

    fn sents(text: &str) -> Vec<&str> {
        split(text).into_iter().map(|(a, b)| &text[a..b]).collect()
    }

    #[test]
    fn cjk_and_arabic_terminators_end_sentences() {
        // Why: CJK puts no space after 。！？, and Arabic has its own ؟ and ۔; without these
        // a whole Chinese or Arabic story is one sentence and every pair in it "co-occurs".
        assert_eq!(
            sents("布林肯与王毅会谈。双方讨论了加沙局势！「停火呢？」记者问。"),
            vec![
                "布林肯与王毅会谈。",
                "双方讨论了加沙局势！",
                "「停火呢？」记者问。"
            ]
        );
        assert_eq!(
            sents("هل التقى بلينكن الصفدي؟ نعم ۔ ثم غادر."),
            vec!["هل التقى بلينكن الصفدي؟", "نعم ۔", "ثم غادر."]
        );
        // Kana and Arabic letters share the terminators' lead bytes and must not split.
        assert_eq!(
            sents("ブリンケン国務長官が訪問"),
            vec!["ブリンケン国務長官が訪問"]
        );
    }

    #[test]
    fn abbreviations_and_initials_do_not_split() {
        // Titles and initials inside names are the classic false sentence ends in news.
        assert_eq!(
            sents(
                "Secretary of State Antony J. Blinken met Gen. Ali Khan and Mr. Ford in St. Louis. Talks ended."
            ),
            vec![
                "Secretary of State Antony J. Blinken met Gen. Ali Khan and Mr. Ford in St. Louis.",
                "Talks ended."
            ]
        );
        assert_eq!(
            sents("The U.S. envoy arrived on Sept. 4 and left on No. 10 Street. He said so."),
            vec![
                "The U.S. envoy arrived on Sept. 4 and left on No. 10 Street.",
                "He said so."
            ]
        );
    }

    #[test]
    fn initialism_at_sentence_end_splits_before_an_opener() {
        // "U.S." can end a sentence; the next word decides.
        assert_eq!(
            sents("Iran blamed the U.S. The ministry said more. Lt. Col. Smith spoke."),
            vec![
                "Iran blamed the U.S.",
                "The ministry said more.",
                "Lt. Col. Smith spoke."
            ]
        );
    }

    #[test]
    fn decimals_quotes_and_lowercase_continuations() {
        // A closing quote belongs to the sentence it closes; decimals never split.
        assert_eq!(
            sents("Growth was 3.5 percent. “We agree.” He left! “Stop!” she said. Why? Because."),
            vec![
                "Growth was 3.5 percent.",
                "“We agree.”",
                "He left!",
                "“Stop!” she said.",
                "Why?",
                "Because."
            ]
        );
    }

    #[test]
    fn line_breaks() {
        // Paragraphs always split; wrapped lines (next line lower case) do not.
        assert_eq!(
            sents("Headline here\nBody starts\nand wraps here.\n\nNew para"),
            vec!["Headline here", "Body starts\nand wraps here.", "New para"]
        );
        assert_eq!(sents("  \n\n "), Vec::<&str>::new());
        assert_eq!(sents("No end"), vec!["No end"]);
    }
}
