//! English inflection for the lexicon's tables: every form of a verb lemma (3rd person,
//! past, participle, -ing; regular rules with e-drop, consonant doubling and y→ied, plus an
//! irregular table), the plural of a noun, and the British `-ise` twin of an `-ize` spelling.

/// Multi-syllable verbs that double their final consonant (stress on the last syllable).
const DOUBLING: &[&str] = &[
    "commit", "admit", "permit", "submit", "omit", "emit", "transmit", "remit", "acquit", "expel",
    "compel", "propel", "repel", "dispel", "rebel", "control", "patrol", "extol", "equip",
    "kidnap", "regret", "occur", "incur", "recur", "refer", "prefer", "confer", "defer", "deter",
    "transfer", "abet", "embed", "outstrip", "rebut", "unplug", "befit", "forbid", "begin",
    "annul", "enrol", "instil", "distil", "fulfil", "compel",
];

/// Irregular verbs: lemma, past, past participle.
const IRREGULAR: &[(&str, &str, &str)] = &[
    ("meet", "met", "met"),
    ("hold", "held", "held"),
    ("speak", "spoke", "spoken"),
    ("strike", "struck", "struck"),
    ("seek", "sought", "sought"),
    ("fight", "fought", "fought"),
    ("take", "took", "taken"),
    ("give", "gave", "given"),
    ("fly", "flew", "flown"),
    ("go", "went", "gone"),
    ("send", "sent", "sent"),
    ("lead", "led", "led"),
    ("win", "won", "won"),
    ("shoot", "shot", "shot"),
    ("hit", "hit", "hit"),
    ("beat", "beat", "beaten"),
    ("break", "broke", "broken"),
    ("withdraw", "withdrew", "withdrawn"),
    ("forbid", "forbade", "forbidden"),
    ("overrun", "overran", "overrun"),
    ("bring", "brought", "brought"),
    ("buy", "bought", "bought"),
    ("catch", "caught", "caught"),
    ("choose", "chose", "chosen"),
    ("come", "came", "come"),
    ("draw", "drew", "drawn"),
    ("drive", "drove", "driven"),
    ("fall", "fell", "fallen"),
    ("forgive", "forgave", "forgiven"),
    ("freeze", "froze", "frozen"),
    ("get", "got", "gotten"),
    ("keep", "kept", "kept"),
    ("leave", "left", "left"),
    ("lend", "lent", "lent"),
    ("let", "let", "let"),
    ("lose", "lost", "lost"),
    ("make", "made", "made"),
    ("pay", "paid", "paid"),
    ("put", "put", "put"),
    ("quit", "quit", "quit"),
    ("run", "ran", "run"),
    ("say", "said", "said"),
    ("see", "saw", "seen"),
    ("sell", "sold", "sold"),
    ("set", "set", "set"),
    ("shake", "shook", "shaken"),
    ("sit", "sat", "sat"),
    ("stand", "stood", "stood"),
    ("steal", "stole", "stolen"),
    ("swear", "swore", "sworn"),
    ("tell", "told", "told"),
    ("think", "thought", "thought"),
    ("throw", "threw", "thrown"),
    ("overthrow", "overthrew", "overthrown"),
    ("uphold", "upheld", "upheld"),
    ("withhold", "withheld", "withheld"),
    ("write", "wrote", "written"),
    ("cut", "cut", "cut"),
    ("shut", "shut", "shut"),
    ("spread", "spread", "spread"),
    ("bid", "bid", "bid"),
    ("flee", "fled", "fled"),
    ("feed", "fed", "fed"),
    ("deal", "dealt", "dealt"),
    ("rise", "rose", "risen"),
    ("blow", "blew", "blown"),
    ("slay", "slew", "slain"),
    ("stick", "stuck", "stuck"),
    ("teach", "taught", "taught"),
    ("sink", "sank", "sunk"),
    ("undertake", "undertook", "undertaken"),
    ("bear", "bore", "borne"),
    ("forsake", "forsook", "forsaken"),
    ("mislead", "misled", "misled"),
    ("oversee", "oversaw", "overseen"),
    ("burn", "burned", "burnt"),
    ("mow", "mowed", "mown"),
    ("wake", "woke", "woken"),
    ("stab", "stabbed", "stabbed"),
    ("arise", "arose", "arisen"),
    ("begin", "began", "begun"),
    ("stone", "stoned", "stoned"),
];

/// "mobilize" → "mobilise", "normalization" → "normalisation"; `None` if no -iz- form.
pub(super) fn british_spelling(s: &str) -> Option<String> {
    const KEEP: &[&str] = &[
        "size", "seize", "prize", "capsize", "seizing", "seized", "seizes",
    ];
    if !s.contains("iz") {
        return None;
    }
    let mut changed = false;
    let words: Vec<String> = s
        .split(' ')
        .map(|w| {
            if KEEP.iter().any(|k| w.starts_with(k)) || w.len() < 6 {
                return w.to_string();
            }
            for (us, uk) in [
                ("ization", "isation"),
                ("izing", "ising"),
                ("ized", "ised"),
                ("izes", "ises"),
                ("ize", "ise"),
            ] {
                if let Some(stem) = w.strip_suffix(us) {
                    changed = true;
                    return format!("{stem}{uk}");
                }
            }
            w.to_string()
        })
        .collect();
    changed.then(|| words.join(" "))
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Every inflection of a verb lemma (phrasal verbs inflect their first word).
pub(crate) fn verb_forms(lemma: &str) -> Vec<String> {
    let (head, tail) = match lemma.split_once(' ') {
        Some((h, t)) => (h, format!(" {t}")),
        None => (lemma, String::new()),
    };
    let mut forms = vec![head.to_string(), third_person(head)];
    match IRREGULAR.iter().find(|(l, _, _)| *l == head) {
        Some(&(_, past, participle)) => {
            forms.push(past.to_string());
            forms.push(participle.to_string());
        }
        None => forms.push(past_regular(head)),
    }
    forms.push(gerund(head));
    let mut seen = Vec::with_capacity(forms.len());
    forms.retain(|f| {
        let new = !seen.contains(f);
        if new {
            seen.push(f.clone());
        }
        new
    });
    forms.into_iter().map(|f| format!("{f}{tail}")).collect()
}

/// Noun plus its plural (the last word is pluralised).
pub(crate) fn noun_forms(noun: &str) -> Vec<String> {
    let (init, last) = match noun.rsplit_once(' ') {
        Some((i, l)) => (format!("{i} "), l),
        None => (String::new(), noun),
    };
    let mut forms = vec![noun.to_string()];
    if !last.ends_with('s') && !last.is_empty() {
        forms.push(format!("{init}{}", third_person(last)));
    }
    forms
}

fn doubles_final(w: &str) -> bool {
    if DOUBLING.contains(&w) {
        return true;
    }
    let b = w.as_bytes();
    let n = b.len();
    if n < 3 {
        return false;
    }
    // One vowel group only (monosyllable), ending consonant-vowel-consonant. A "u" after "q"
    // is a consonant sound ("quit").
    let vowel_at = |i: usize| is_vowel(b[i]) && !(b[i] == b'u' && i > 0 && b[i - 1] == b'q');
    let groups = (0..n)
        .filter(|&i| vowel_at(i) && (i == 0 || !vowel_at(i - 1)))
        .count();
    groups == 1
        && !vowel_at(n - 3)
        && vowel_at(n - 2)
        && !is_vowel(b[n - 1])
        && !matches!(b[n - 1], b'w' | b'x' | b'y')
}

fn third_person(w: &str) -> String {
    let b = w.as_bytes();
    let n = b.len();
    if n >= 2 && b[n - 1] == b'y' && !is_vowel(b[n - 2]) {
        return format!("{}ies", &w[..n - 1]);
    }
    if w.ends_with("ss")
        || w.ends_with('x')
        || w.ends_with('z')
        || w.ends_with("ch")
        || w.ends_with("sh")
        || (w.ends_with('o') && n > 2)
        || (w.ends_with('s') && n > 2)
    {
        return format!("{w}es");
    }
    format!("{w}s")
}

fn past_regular(w: &str) -> String {
    let b = w.as_bytes();
    let n = b.len();
    if w.ends_with('e') {
        return format!("{w}d");
    }
    if n >= 2 && b[n - 1] == b'y' && !is_vowel(b[n - 2]) {
        return format!("{}ied", &w[..n - 1]);
    }
    if doubles_final(w) {
        return format!("{w}{}ed", &w[n - 1..]);
    }
    format!("{w}ed")
}

fn gerund(w: &str) -> String {
    let n = w.len();
    if w.ends_with("ie") {
        return format!("{}ying", &w[..n - 2]);
    }
    if w.ends_with('e') && !w.ends_with("ee") && !w.ends_with("ye") && !w.ends_with("oe") && n > 2 {
        return format!("{}ing", &w[..n - 1]);
    }
    if doubles_final(w) {
        return format!("{w}{}ing", &w[n - 1..]);
    }
    format!("{w}ing")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_and_irregular_inflections() {
        // The lexicon is only as good as its inflections; check each rule once.
        assert_eq!(verb_forms("meet"), ["meet", "meets", "met", "meeting"]);
        assert_eq!(
            verb_forms("agree"),
            ["agree", "agrees", "agreed", "agreeing"]
        );
        assert_eq!(verb_forms("ban"), ["ban", "bans", "banned", "banning"]);
        assert_eq!(
            verb_forms("visit"),
            ["visit", "visits", "visited", "visiting"]
        );
        assert_eq!(verb_forms("deny"), ["deny", "denies", "denied", "denying"]);
        assert_eq!(
            verb_forms("expel"),
            ["expel", "expels", "expelled", "expelling"]
        );
        assert_eq!(verb_forms("veto"), ["veto", "vetoes", "vetoed", "vetoing"]);
        assert_eq!(
            verb_forms("speak"),
            ["speak", "speaks", "spoke", "spoken", "speaking"]
        );
        assert_eq!(
            verb_forms("call on"),
            ["call on", "calls on", "called on", "calling on"]
        );
        assert_eq!(
            verb_forms("seize"),
            ["seize", "seizes", "seized", "seizing"]
        );
        assert_eq!(verb_forms("quit"), ["quit", "quits", "quitting"]);
        assert_eq!(verb_forms("hit"), ["hit", "hits", "hitting"]);
        assert_eq!(verb_forms("bomb"), ["bomb", "bombs", "bombed", "bombing"]);
        assert_eq!(
            verb_forms("shell"),
            ["shell", "shells", "shelled", "shelling"]
        );
        assert_eq!(noun_forms("phone call"), ["phone call", "phone calls"]);
        assert_eq!(noun_forms("talks"), ["talks"]);
    }
}
