//! Language identification of an article, with `whatlang` (trigram models for 69 languages,
//! pure Rust, no model files to ship).
//!
//! Why it matters: event typing uses an English lexicon, so a French story must not get an
//! English verb's type by accident ("met" in "il met en garde"). Actor names still match in
//! every language: "Blinken" is "Blinken" in a German wire.
//!
//! Fast path: whatlang costs about as much per KB as the rest of extraction, and almost all
//! feeds are English, so when at least one in ten of the article's first 200 words is an
//! English function word ("the", "of", "and", "said", ...; none of them common words in
//! other languages written in Latin script), the article is English without asking
//! whatlang. Everything else goes to whatlang.
//!
//! Rule: the article's first [`SAMPLE`] bytes are classified. A language other than English
//! is accepted only when whatlang calls the detection reliable; short or mixed text stays
//! English (the only lexicon there is, and the language of most feeds), so a one-line
//! headline is never left untyped by a shaky guess. The code is ISO 639-1 where one exists
//! ("en", "fr", "de", "ar"), else whatlang's ISO 639-3 code.

use whatlang::Lang;

/// How much of the article is classified: enough for a confident answer, and bounded, so
/// detection costs the same on a 2 KB story and a 200 KB one.
const SAMPLE: usize = 1000;

/// English function words for the fast path (normalised: lower case, no apostrophes); a
/// `match`, so each word costs one length switch and a compare or two, not 34 compares.
fn is_english_function_word(w: &str) -> bool {
    matches!(
        w,
        "the"
            | "of"
            | "and"
            | "to"
            | "that"
            | "with"
            | "for"
            | "said"
            | "has"
            | "have"
            | "were"
            | "are"
            | "from"
            | "this"
            | "by"
            | "its"
            | "their"
            | "which"
            | "it"
            | "be"
            | "had"
            | "who"
            | "not"
            | "but"
            | "they"
            | "he"
            | "his"
            | "after"
            | "would"
            | "been"
            | "she"
            | "her"
            | "than"
            | "about"
    )
}

/// The article's language code; `"en"` unless another language is detected reliably.
/// `norm` is the start of the normalised article text (for the English fast path).
pub(crate) fn detect(norm: &str, title: &str, body: &str) -> &'static str {
    let (mut words, mut hits) = (0usize, 0usize);
    // Words are the pieces between single spaces (as `split(' ')`), walked by hand: a memchr
    // call per short word cost more than the test itself. Twenty hits settle it early: with
    // at most 200 words counted, 20 hits are at least one in ten whatever follows.
    let bytes = norm.as_bytes();
    let mut start = 0;
    for i in 0..=bytes.len() {
        if i < bytes.len() && bytes[i] != b' ' {
            continue;
        }
        let w = &norm[start..i];
        start = i + 1;
        if !w.chars().next().is_some_and(char::is_alphabetic) {
            continue;
        }
        words += 1;
        hits += usize::from(is_english_function_word(w));
        if hits >= 20 || words == 200 {
            break;
        }
    }
    if words >= 20 && hits * 10 >= words {
        return "en";
    }
    let text = if body.trim().len() >= 40 { body } else { title };
    let mut cut = text.len().min(SAMPLE);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let sample = &text[..cut];
    match whatlang::detect(sample) {
        Some(info) if info.lang() != Lang::Eng && info.is_reliable() => iso639_1(info.lang()),
        _ => "en",
    }
}

/// ISO 639-1 for the languages that have one, else whatlang's 639-3 code.
fn iso639_1(l: Lang) -> &'static str {
    match l {
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Epo => "eo",
        other => other.code(),
    }
}

#[cfg(test)]
mod tests {

    fn detect(title: &str, body: &str) -> &'static str {
        let norm = crate::extract::normalize::normalize(&format!("{title} {body}")).text;
        super::detect(&norm, title, body)
    }

    #[test]
    fn detects_common_news_languages_and_defaults_to_english() {
        // A French or German wire must not be typed with the English lexicon.
        assert_eq!(
            detect(
                "",
                "Le secrétaire d'État américain Antony Blinken a rencontré vendredi le Premier ministre libanais à Amman pour discuter de la guerre."
            ),
            "fr"
        );
        assert_eq!(
            detect(
                "",
                "Der amerikanische Außenminister Antony Blinken hat sich am Freitag in Amman mit dem libanesischen Regierungschef getroffen."
            ),
            "de"
        );
        assert_eq!(
            detect(
                "",
                "Secretary of State Antony Blinken met Lebanon's prime minister in Amman on Friday to discuss the war."
            ),
            "en"
        );
        // Too short to tell: English, the language of the lexicon.
        assert_eq!(detect("Blinken trifft Mikati", ""), "en");
        // Long English text takes the fast path; long Dutch text (which shares "is", "was",
        // "of" with English) does not.
        let en = "The minister said that the talks with the delegation had been useful and that the two sides would meet again after the summit, according to a statement from his office. ".repeat(3);
        assert_eq!(detect("", &en), "en");
        let nl = "De minister zei dat de gesprekken met de delegatie nuttig waren en dat beide partijen elkaar na de top opnieuw zouden ontmoeten, volgens een verklaring van zijn kantoor. ".repeat(3);
        assert_eq!(detect("", &nl), "nl");
    }
}
