//! Sides, status and mode of hand-marked sentences.

use super::*;

/// Tokens plus mentions/triggers marked in the text as `[actor]` and `<TYPE:word>`.
fn setup(s: &str) -> (Vec<String>, Vec<MentionTok>, Vec<TrigTok>) {
    let mut words = Vec::new();
    let mut ms = Vec::new();
    let mut ts = Vec::new();
    for raw in s.split(' ') {
        let i = words.len();
        if let Some(a) = raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            let place = a.starts_with('@');
            let id: usize = a.trim_start_matches('@').parse().unwrap();
            ms.push(MentionTok {
                actor: id,
                t0: i,
                t1: i + 1,
                place,
                proxy: false,
            });
            words.push(format!("actor{id}"));
        } else if let Some(t) = raw.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
            let (ty, w) = t.split_once(':').unwrap();
            let (verb, ty) = match ty.strip_prefix('n') {
                Some(rest) => (false, rest),
                None => (true, ty),
            };
            let ty: PloverType = ty.parse().unwrap();
            let n = w.split('_').count();
            ts.push(TrigTok {
                t0: i,
                t1: i + n,
                ty,
                verb,
            });
            words.extend(w.split('_').map(String::from));
        } else {
            words.push(raw.to_string());
        }
    }
    (words, ms, ts)
}

fn run(s: &str, k: usize) -> Sides {
    let (words, ms, ts) = setup(s);
    let toks: Vec<Tok<'_>> = words.iter().map(|w| Tok { w }).collect();
    let has_if = words.iter().any(|w| w == "if" || w == "unless");
    analyze(
        &View::new(&toks, &ms, &ts, ViewBufs::default()),
        &ts,
        k,
        has_if,
    )
}

#[test]
fn active_passive_and_joint() {
    // The basic shapes of a news sentence, each assigning the sides differently.
    let s = run("[1] <consult:met_with> [2] on tuesday .", 0);
    assert_eq!((s.source.to_vec(), s.target.to_vec()), (vec![1], vec![2]));
    let s = run("[1] was <consult:received> by [2] in [@3] .", 0);
    assert_eq!((s.source.to_vec(), s.target.to_vec()), (vec![2], vec![1]));
    let s = run("[1] and [2] <agree:agreed> to extend the truce .", 0);
    assert_eq!(s.participants.to_vec(), vec![1, 2]);
    assert!(s.source.is_empty() && s.target.is_empty());
    let s = run("[1] <accuse:accused> [2] , [3] and [4] of delays .", 0);
    assert_eq!(
        (s.source.to_vec(), s.target.to_vec()),
        (vec![1], vec![2, 3, 4])
    );
    let s = run("talks <nconsult:talks> between [1] and [2] resumed .", 0);
    assert_eq!(s.participants.to_vec(), vec![1, 2]);
}

#[test]
fn apposition_relative_clause_and_statement_inversion() {
    // Asides between subject and verb must not steal the source.
    let s = run("[1] , who arrived from [@2] , <consult:met> [3] .", 0);
    assert_eq!((s.source.to_vec(), s.target.to_vec()), (vec![1], vec![3]));
    let s = run(
        "[1] , lebanon caretaker prime minister , <consult:met> [3] .",
        0,
    );
    assert_eq!((s.source.to_vec(), s.target.to_vec()), (vec![1], vec![3]));
    let s = run("the talks were useful , <statement:said> [1] .", 0);
    assert_eq!(s.source.to_vec(), vec![1]);
    let s = run("[1] <statement:said> [2] had agreed .", 0);
    assert_eq!((s.source.to_vec(), s.target.to_vec()), (vec![1], vec![]));
    // A place after "in" is where, not whom.
    let s = run("[1] <consult:met> officials in [@2] .", 0);
    assert_eq!((s.source.to_vec(), s.target.to_vec()), (vec![1], vec![]));
}

#[test]
fn status_from_auxiliaries_negation_and_modals() {
    // Planned, denied and hypothetical events must not count as having happened.
    let st = |s: &str, k: usize| run(s, k).status.unwrap();
    assert_eq!(st("[1] <consult:met> [2] .", 0), Status::Occurred);
    assert_eq!(
        st("[1] is scheduled to <consult:meet_with> [2] .", 0),
        Status::Planned
    );
    assert_eq!(
        st("[1] will <consult:travel_to> [@2] .", 0),
        Status::Planned
    );
    assert_eq!(st("[1] did not <consult:meet> [2] .", 0), Status::Denied);
    assert_eq!(
        st("[1] <reject:denied> <consult:holding_talks> with [2] .", 1),
        Status::Denied
    );
    assert!(run("[1] <reject:denied> <consult:holding_talks> with [2] .", 0).absorbed);
    assert_eq!(
        st("[1] could <consult:meet> [2] .", 0),
        Status::Hypothetical
    );
    assert_eq!(
        st("if asked , [1] would <consult:meet> [2] .", 0),
        Status::Hypothetical
    );
    assert_eq!(
        st(
            "[1] is scheduled to <consult:meet_with> [2] and <consult:travel_to> [@3] .",
            1
        ),
        Status::Planned
    );
}

#[test]
fn modes_of_diplomatic_subtypes() {
    // Desk users filter on how actors met, not only that they did.
    let m = |ty, t: &str, s: &str| {
        mode(
            ty,
            &t.split(' ').collect::<Vec<_>>(),
            &s.split(' ').collect::<Vec<_>>(),
            &Sides::default(),
        )
    };
    assert_eq!(m(PloverType::Consult, "spoke by phone", ""), Some("phone"));
    assert_eq!(m(PloverType::Consult, "visited", ""), Some("visit"));
    assert_eq!(m(PloverType::Consult, "hosted", ""), Some("host"));
    assert_eq!(m(PloverType::Consult, "met", ""), Some("meet"));
    assert_eq!(
        m(PloverType::Consult, "negotiations", ""),
        Some("negotiate")
    );
    assert_eq!(m(PloverType::Consult, "mediated", ""), Some("mediate"));
    assert_eq!(
        m(PloverType::Consult, "talks", "talks on the hostages"),
        Some("hostage-talks")
    );
    assert_eq!(
        m(PloverType::Request, "called for", "an immediate cease fire"),
        Some("ceasefire-call")
    );
    assert_eq!(
        m(PloverType::Agree, "declared", "a truce"),
        Some("ceasefire")
    );
    assert_eq!(
        m(PloverType::Concede, "released", "two hostages"),
        Some("release")
    );
    assert_eq!(
        m(PloverType::Assault, "kidnapped", ""),
        Some("hostage-taking")
    );
}
