//! Extraction throughput (bytes of article text per second) with 1,000 aliases.
//!
//! Extraction runs on every article of every feed, so its speed bounds how many feeds one core
//! can follow. The corpus is synthetic but shaped like wire copy: varied sentences with names,
//! titles, possessives, abbreviations, quotes, numbers and event words, split into articles of
//! a few KB, mentioning both generated actors and a realistic handful.

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use parley::extract::{ActorSpec, Document, Extractor, RoleSpec};

const SYLLABLES: &[&str] = &[
    "ka", "ro", "mi", "ta", "len", "vor", "an", "shi", "del", "mar", "zu", "bek", "ol", "ra",
    "nik", "sa", "tor", "el", "ha", "dim", "qu", "ber", "is", "go", "fen", "ay", "lu", "ko", "wen",
    "dra",
];
const COUNTRIES: &[&str] = &[
    "Jordan", "Egypt", "Qatar", "Lebanon", "Turkey", "France", "Germany", "Brazil", "India",
    "Japan", "Kenya", "Nigeria", "Poland", "Ukraine", "Mexico", "Chile", "Norway", "Vietnam",
];
const OFFICES: &[&str] = &[
    "Foreign Minister",
    "Defence Minister",
    "Prime Minister",
    "President",
];

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

fn word(rng: &mut fastrand::Rng, parts: usize) -> String {
    let mut w: String = (0..parts)
        .map(|_| SYLLABLES[rng.usize(..SYLLABLES.len())])
        .collect();
    if let Some(first) = w.get(..1) {
        w = first.to_uppercase() + &w[1..];
    }
    w
}

/// 1,000 generated aliases (names, surnames, role titles) plus the seed-story handful.
fn actors(rng: &mut fastrand::Rng) -> Vec<ActorSpec> {
    let mut out = Vec::new();
    let mut aliases = 0;
    let mut i = 0;
    while aliases < 1000 {
        let (first, last) = (word(rng, 2), word(rng, 3));
        let mut roles = Vec::new();
        let mut spec_aliases = vec![format!("{first} {last}"), last.clone()];
        if i % 3 == 0 {
            let country = COUNTRIES[i % COUNTRIES.len()];
            let office = OFFICES[i % OFFICES.len()];
            let country = format!("{country} {}", word(rng, 2));
            roles.push(RoleSpec {
                title: format!("{office} of {country}"),
                aliases: vec![format!("{country}'s {office}")],
                from: Some(date("2020-01-01")),
                until: if i % 2 == 0 {
                    Some(date("2022-01-01"))
                } else {
                    None
                },
            });
            aliases += 2;
        }
        if i % 5 == 0 {
            spec_aliases.push(format!("{first} {}. {last}", &last[..1]));
        }
        aliases += spec_aliases.len();
        out.push(ActorSpec {
            id: format!("actor-{i}"),
            name: format!("{first} {last}"),
            aliases: spec_aliases,
            roles,
        });
        i += 1;
    }
    let role = |title: &str, aliases: &[&str], from: &str, until: Option<&str>| RoleSpec {
        title: title.into(),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        from: Some(date(from)),
        until: until.map(date),
    };
    let named = |id: &str, aliases: &[&str], roles: Vec<RoleSpec>| ActorSpec {
        id: id.into(),
        name: aliases.first().map(|s| s.to_string()).unwrap_or_default(),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        roles,
    };
    out.push(named(
        "blinken",
        &["Antony Blinken", "Antony J. Blinken", "Blinken"],
        vec![role(
            "U.S. Secretary of State",
            &[
                "Secretary of State",
                "US Secretary of State",
                "top U.S. diplomat",
            ],
            "2021-01-26",
            Some("2025-01-20"),
        )],
    ));
    out.push(named(
        "netanyahu",
        &["Benjamin Netanyahu", "Netanyahu"],
        vec![role(
            "Prime Minister of Israel",
            &["Israeli prime minister", "Israel's prime minister"],
            "2022-12-29",
            None,
        )],
    ));
    out.push(named("mikati", &["Najib Mikati", "Mikati"], vec![]));
    out.push(named(
        "abdullah-ii",
        &["King Abdullah II", "King Abdullah"],
        vec![],
    ));
    out
}

const VERBS: &[&str] = &[
    "met with",
    "held talks with",
    "spoke by phone with",
    "urged",
    "called on",
    "accused",
    "criticized",
    "praised",
    "warned",
    "signed an agreement with",
    "rejected a proposal from",
    "imposed sanctions on",
    "hosted",
    "visited",
    "thanked",
    "condemned",
    "struck a deal with",
    "pledged aid to",
    "denounced",
    "welcomed",
];
const TAILS: &[&str] = &[
    "on Tuesday, officials said.",
    "to discuss the cease-fire and humanitarian aid deliveries.",
    "in the capital, according to a statement from the ministry.",
    "after weeks of tension along the border.",
    "as the death toll rose to 1,243, the U.N. said.",
    "during a two-day visit to the region.",
    "over the $3.5 billion reconstruction package.",
    "in a meeting that lasted more than three hours.",
];
const FILLER: &[&str] = &[
    "Markets in the region were little changed on the news, with the benchmark index up 0.4 percent.",
    "The ministry did not respond to a request for comment.",
    "Analysts said the move could reshape the balance of power in the Gulf for years to come.",
    "“We are working around the clock,” a spokesperson told reporters in a briefing.",
    "Mr. Haddad, a former adviser, said the talks were “frank but constructive.”",
    "Residents reported heavy traffic on the main highway north of the city late Sunday.",
    "The U.S. and the E.U. have repeatedly called for restraint since the fighting began.",
    "Officials said the delegation would return on Sept. 14 for a further round of negotiations.",
    "Prices of bread and fuel have nearly doubled since January, according to the statistics office.",
    "The central bank left its key rate unchanged at 7.25% and signalled no cut before the summer.",
    "Schools in the southern districts reopened on Monday after a three-week closure.",
    "Aid groups warned that hospitals were running low on fuel, medicine and clean water.",
    "Hundreds of demonstrators gathered outside parliament, chanting slogans against corruption.",
    "The opposition coalition said it would boycott the vote, calling the process “a sham.”",
    "Satellite images showed new construction at the port, which was damaged by shelling in May.",
    "Tourism revenue fell by a third last year, the industry association said in its annual report.",
    "Dr. Amal Nasser, who runs the clinic, said staff had not been paid in four months.",
    "Heavy rain is expected to continue through Thursday, the weather service said.",
    "The company, based in St. Petersburg, denied any wrongdoing and said it would appeal.",
    "Negotiators are due to meet again next week in Geneva, diplomats familiar with the talks said.",
    "The army said it had intercepted two drones over the border area overnight; no one was hurt.",
    "Turnout was estimated at 61 percent, up from 48 percent in the previous election.",
    "The report, published by an independent panel, cited “serious gaps” in oversight.",
    "Police arrested 14 people after clashes broke out near the stadium on Saturday night.",
];
const GENERIC: &[&str] = &[
    "local officials",
    "the delegation",
    "the central bank",
    "rebel commanders",
    "a senior envoy",
    "the interior ministry",
    "border guards",
    "the United Nations",
    "union leaders",
    "the governor",
];

/// A few hundred KB of varied news paragraphs, cut into articles of a few KB.
fn corpus(rng: &mut fastrand::Rng, actors: &[ActorSpec]) -> Vec<String> {
    let subject = |rng: &mut fastrand::Rng| -> String {
        let a = &actors[rng.usize(..actors.len())];
        match rng.u8(..4) {
            0 => a.aliases.first().cloned().unwrap_or_default(),
            1 => a.roles.first().map_or_else(
                || a.aliases.last().cloned().unwrap_or_default(),
                |r| r.title.clone(),
            ),
            2 => format!("{}'s office", a.aliases.last().cloned().unwrap_or_default()),
            _ => a.aliases.last().cloned().unwrap_or_default(),
        }
    };
    let mut articles = Vec::new();
    let mut total = 0;
    while total < 400_000 {
        let mut art = String::new();
        // 3 to 10 paragraphs: about 1.5 to 7 KB, the usual length of a news story body.
        let paragraphs = 3 + rng.usize(..8);
        for _ in 0..paragraphs {
            for _ in 0..(2 + rng.usize(..4)) {
                // About a third of sentences name a tracked actor, as in dense political news.
                if rng.u8(..3) != 0 {
                    art.push_str(FILLER[rng.usize(..FILLER.len())]);
                } else {
                    let s = subject(rng);
                    let o = if rng.bool() {
                        subject(rng)
                    } else {
                        GENERIC[rng.usize(..GENERIC.len())].to_string()
                    };
                    let v = VERBS[rng.usize(..VERBS.len())];
                    let t = TAILS[rng.usize(..TAILS.len())];
                    art.push_str(&format!("{s} {v} {o} {t}"));
                }
                art.push(' ');
            }
            art.push_str("\n\n");
        }
        total += art.len();
        articles.push(art);
    }
    articles
}

fn bench_extract(c: &mut Criterion) {
    let mut rng = fastrand::Rng::with_seed(7);
    let actors = actors(&mut rng);
    let articles = corpus(&mut rng, &actors);
    let bytes: usize = articles.iter().map(String::len).sum();
    // With the shipped interaction model, as `parley extract` and `parley eval` run it.
    let Ok(model) = parley::extract::model::shipped_model() else {
        eprintln!("the shipped interaction model failed to load");
        return;
    };
    let Ok(extractor) = Extractor::new(&actors).map(|x| x.with_model(model)) else {
        eprintln!("benchmark actors failed to compile");
        return;
    };
    let day = Some(date("2023-11-12"));
    let mut group = c.benchmark_group("extract");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(format!("{} articles, {bytes} bytes", articles.len()), |b| {
        b.iter(|| {
            let mut events = 0;
            for text in &articles {
                let doc = Document {
                    title: "Envoy meets regional leaders",
                    text,
                    date: day,
                };
                events += black_box(extractor.extract(black_box(&doc))).events.len();
            }
            events
        })
    });
    group.finish();
}

criterion_group!(benches, bench_extract);
criterion_main!(benches);
