//! Who did what to whom inside one sentence: sides, status and mode of each event word.
//!
//! There is no parser that fits parley (pure, fast, no model files), so this is a set of
//! general, POS-free heuristics over the sentence's normalised tokens, using what extraction
//! already knows: where the actor mentions are, where the lexicon's event words are (and
//! whether each is a verb or a noun), plus closed-class words (prepositions, auxiliaries,
//! negations, modals, clause openers).
//!
//! For each event word (trigger):
//! - **Clause.** The trigger's clause runs between boundary words (`;` `:` quotes, "but",
//!   "while", "whereas", "although", "because", "where", "when", ...).
//! - **Groups.** Adjacent mentions joined only by commas, "and", "or", articles and a few
//!   descriptor words form one group (coordination: "Egypt, Jordan and Qatar"; apposition:
//!   "Lebanon's prime minister, Najib Mikati,"; members listed after "including", "such
//!   as", "among them": "European leaders, including Starmer and Macron"). A mention right
//!   after a locative preposition ("in", "at", "near") of an actor that is a place is a
//!   location, never a side.
//! - **Relative clauses.** "A, who met B, ..." gives "met" the antecedent A as subject;
//!   "B, whom/which C had accused ..." gives "accused" the subject C and the antecedent B as
//!   object.
//! - **Event nouns** take the group before them as their actor only directly ("Biden's
//!   visit") or as the object of a light verb ("held talks", "paid a visit", "had dinner");
//!   "Portraits of X lined the road to the conference" relates no one.
//! - **Addressed statements.** "X told Y that ...", "Y was told by X", "X assured/informed
//!   Y": a statement whose addressee is a tracked actor is CONSULT (PLOVER's communication
//!   between two parties, CAMEO 04), because it reports contact between them; what was
//!   said is typed on its own. A statement to reporters, parliament or the public has no
//!   tracked addressee and stays `statement` (CAMEO 01). A statement *about* an actor ("said
//!   of X's proposal", "commented on X's remarks") targets it.
//! - **Agreements govern their object.** An event word that is the object of an agreement
//!   verb ("signed a strategic partnership", "agreed to coordinate") is what was agreed,
//!   not a second event.
//! - **Source** is the nearest group before the trigger in its clause; when the trigger
//!   follows a comma-delimited aside that opens with "who"/"which" or holds no verb
//!   ("Blinken, who arrived from Israel, met ...") the group before the aside is the source.
//! - **Target** is the first group after the trigger within ten tokens, not across another
//!   verb trigger. For statements ("said") only a group right after the verb or after
//!   "to"/"with" is a target ("told Mikati"), and with no source before it the group after
//!   is the speaker (", said Blinken").
//! - **Passive.** An auxiliary ("was", "were", "been", ...) right before the trigger swaps
//!   sides: the group after "by" is the source, the group before is the target.
//! - **Joint action.** A symmetric type (consult, agree, cooperate) whose source group holds
//!   several actors and which has no target ("Jordan and Egypt agreed"), or a group after
//!   "between", gives `participants` instead of source and target.
//! - **Status.** Looking back from the trigger over its auxiliaries: a negation ("not",
//!   "never", "n't") or a denial verb ("denied", "refused to", "ruled out") → `denied`;
//!   a modal of possibility ("could", "might", "may", "should", "would" with "if"/"unless" in
//!   the sentence), or "if" → `hypothetical`; a future or schedule marker ("will",
//!   "scheduled to", "plans to", "set to", "due to", "expected to", "would") → `planned`;
//!   else `occurred`. A verb coordinated with a previous one ("is scheduled to meet ... and
//!   travel to") inherits its status, and so does a purpose ("will travel to Doha *to meet*
//!   X", "plans to visit Amman *for talks* with X"). Everything in a clause governed by a
//!   denial verb is denied ("X denied that Y had met Z").

use crate::plover::PloverType;

/// Whether an event happened, per the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Reported as having happened (the default).
    #[default]
    Occurred,
    /// Scheduled, intended or announced for the future.
    Planned,
    /// Negated or denied ("did not meet", "denied holding talks").
    Denied,
    /// Conditional or merely possible ("could meet", "if ... would").
    Hypothetical,
}

impl Status {
    /// The lower-case name used in JSON and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Occurred => "occurred",
            Status::Planned => "planned",
            Status::Denied => "denied",
            Status::Hypothetical => "hypothetical",
        }
    }
}

/// One normalised token of a sentence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok<'a> {
    /// The token text (normalised: lower case, no diacritics).
    pub w: &'a str,
}

/// An actor mention in token coordinates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MentionTok {
    /// Actor index.
    pub actor: usize,
    /// First token.
    pub t0: usize,
    /// One past the last token.
    pub t1: usize,
    /// The actor is a place (a country or city); after "in"/"at" it is a location.
    pub place: bool,
    /// The mention is a possessive naming someone acting for the actor ("Macron's envoy",
    /// "Erdogan's top adviser"): the actor is mentioned but is not a side.
    pub proxy: bool,
}

/// Nouns for people or bodies acting on an actor's behalf: after "<actor>'s" they, not the
/// actor, take the side ("Netanyahu's envoy met ...").
pub(crate) fn is_proxy_noun(w: &str) -> bool {
    matches!(
        w,
        "envoy"
            | "envoys"
            | "emissary"
            | "emissaries"
            | "adviser"
            | "advisers"
            | "advisor"
            | "advisors"
            | "aide"
            | "aides"
            | "deputy"
            | "deputies"
            | "spokesman"
            | "spokeswoman"
            | "spokesperson"
            | "representative"
            | "representatives"
            | "ambassador"
            | "delegation"
            | "delegates"
            | "negotiator"
            | "negotiators"
            | "cabinet"
            | "staff"
            | "son"
            | "daughter"
            | "wife"
            | "husband"
    )
}

/// A trigger in token coordinates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrigTok {
    pub t0: usize,
    pub t1: usize,
    pub ty: PloverType,
    pub verb: bool,
}

/// The actors (indexes) on one side of an interaction: almost always one to three, kept
/// inline so that analysing a trigger allocates nothing.
pub(crate) type Side = smallvec::SmallVec<[usize; 4]>;

/// The sides, status and mode of one trigger.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Sides {
    pub source: Side,
    pub target: Side,
    pub participants: Side,
    pub status: Option<Status>,
    pub mode: Option<&'static str>,
    /// The trigger is a denial verb governing the next trigger ("denied holding talks"); the
    /// governed trigger carries the event, with status `denied`.
    pub absorbed: bool,
}

impl Sides {
    /// Distinct actors over all sides.
    pub fn actor_count(&self) -> usize {
        // The sides hold a handful of actors: a quadratic count beats a sorted copy.
        let all = || {
            self.source
                .iter()
                .chain(&self.target)
                .chain(&self.participants)
        };
        all()
            .enumerate()
            .filter(|&(i, a)| !all().take(i).any(|b| b == a))
            .count()
    }
}

fn is_boundary(w: &str) -> bool {
    matches!(
        w,
        ";" | ":"
            | "\""
            | "("
            | ")"
            | "."
            | "?"
            | "!"
            | "but"
            | "while"
            | "whereas"
            | "although"
            | "though"
            | "because"
            | "where"
            | "when"
            | "whilst"
            | "meanwhile"
            | "however"
            | "unless"
    )
}

/// Adverbs that may sit between a subject (or an aside's closing comma) and its verb.
fn is_adverb(w: &str) -> bool {
    matches!(
        w,
        "also"
            | "further"
            | "then"
            | "later"
            | "again"
            | "already"
            | "still"
            | "reportedly"
            | "repeatedly"
            | "previously"
            | "recently"
            | "separately"
            | "jointly"
            | "briefly"
            | "finally"
            | "quickly"
            | "publicly"
            | "privately"
            | "personally"
            | "directly"
            | "had"
            | "has"
            | "have"
            | "was"
            | "were"
            | "is"
            | "are"
            | "will"
            | "would"
    )
}

/// Verbs after which "that" opens a new clause ("said that", "believed that").
fn takes_that_clause(w: &str) -> bool {
    matches!(
        w,
        "said"
            | "says"
            | "say"
            | "stated"
            | "states"
            | "believed"
            | "believes"
            | "believe"
            | "thinks"
            | "think"
            | "thought"
            | "added"
            | "noted"
            | "warned"
            | "argued"
            | "insisted"
            | "stressed"
            | "emphasized"
            | "emphasised"
            | "told"
            | "claimed"
            | "announced"
            | "hoped"
            | "feared"
            | "acknowledged"
            | "confirmed"
            | "reported"
            | "explained"
            | "indicated"
            | "suggested"
            | "signalled"
            | "signaled"
            | "knew"
            | "denied"
            | "denies"
            | "deny"
            | "dismissed"
            | "agreed"
            | "reiterated"
            | "underlined"
            | "underscored"
    )
}

/// Verbs that take an event noun as their object and make its subject the event's actor
/// ("X *held* talks", "X *paid* a visit", "X *attended* the summit").
fn is_light_verb(w: &str) -> bool {
    matches!(
        w,
        "hold"
            | "held"
            | "holds"
            | "holding"
            | "had"
            | "has"
            | "have"
            | "having"
            | "make"
            | "made"
            | "makes"
            | "making"
            | "pay"
            | "paid"
            | "pays"
            | "paying"
            | "begin"
            | "began"
            | "begun"
            | "begins"
            | "start"
            | "started"
            | "starts"
            | "conclude"
            | "concluded"
            | "concludes"
            | "conduct"
            | "conducted"
            | "conducts"
            | "attend"
            | "attended"
            | "attends"
            | "attending"
            | "join"
            | "joined"
            | "joins"
            | "chair"
            | "chaired"
            | "chairs"
            | "lead"
            | "led"
            | "leads"
            | "resume"
            | "resumed"
            | "resumes"
            | "open"
            | "opened"
            | "opens"
            | "wrap"
            | "wrapped"
            | "complete"
            | "completed"
            | "end"
            | "ended"
            | "continue"
            | "continued"
            | "enter"
            | "entered"
            | "take"
            | "took"
            | "takes"
            | "taking"
            | "engage"
            | "engaged"
            | "launch"
            | "launched"
            | "announce"
            | "announced"
            | "seek"
            | "sought"
            | "propose"
            | "proposed"
            | "offer"
            | "offered"
            | "issue"
            | "issued"
            | "sign"
            | "signed"
            | "give"
            | "gave"
    )
}

/// Prepositions: an event noun after one is inside a phrase of its own ("the road *to* the
/// conference", "books *about* diplomacy"), not the object of the subject's verb.
fn is_preposition(w: &str) -> bool {
    matches!(
        w,
        "to" | "about"
            | "of"
            | "in"
            | "at"
            | "on"
            | "for"
            | "from"
            | "into"
            | "after"
            | "before"
            | "during"
            | "since"
            | "over"
            | "against"
            | "toward"
            | "towards"
            | "near"
            | "like"
            | "than"
            | "without"
            | "despite"
            | "amid"
            | "ahead"
    )
}

/// Whether an event noun takes the group before it as its actor, given the tokens between
/// them: directly ("Biden's visit", "X's first visit"; possessives are folded away) or as
/// the object of a light verb ("X held lengthy talks", "X paid a visit"). "Portraits of X
/// lined the road to the conference" and "X has written books about diplomacy" do not make
/// X an actor of the conference or of diplomacy.
fn noun_takes_subject(gap: &[Tok<'_>]) -> bool {
    if gap.len() <= 2 && !gap.iter().any(|t| is_preposition(t.w) || is_aux(t.w)) {
        return true;
    }
    gap.iter()
        .rposition(|t| is_light_verb(t.w))
        .is_some_and(|i| {
            gap.len() - i - 1 <= 3 && !gap[i + 1..].iter().any(|t| is_preposition(t.w))
        })
}

/// Words that open a list of members after a plural noun: "European leaders, *including*
/// Starmer and Macron"; the members belong to the phrase before them.
fn opens_member_list(toks: &[Tok<'_>], i: usize) -> bool {
    match toks.get(i).map(|t| t.w) {
        Some("including" | "notably" | "namely" | "especially" | "particularly") => true,
        Some("such") => toks.get(i + 1).is_some_and(|t| t.w == "as"),
        Some("among") => toks.get(i + 1).is_some_and(|t| t.w == "them"),
        _ => false,
    }
}

/// Speech verbs addressed to someone: "told X", "informed X", "assured X", "briefed X".
pub(crate) fn is_address_verb(w: &str) -> bool {
    matches!(
        w,
        "told"
            | "tell"
            | "tells"
            | "telling"
            | "informed"
            | "inform"
            | "informs"
            | "informing"
            | "assured"
            | "assure"
            | "assures"
            | "assuring"
    )
}

fn is_aux(w: &str) -> bool {
    matches!(
        w,
        "was" | "were" | "is" | "are" | "been" | "being" | "be" | "am" | "get" | "got" | "gets"
    )
}

fn is_locative(w: &str) -> bool {
    matches!(
        w,
        "in" | "at" | "near" | "inside" | "outside" | "across" | "throughout" | "around" | "from"
    )
}

/// Words that may sit between two mentions of one coordinated or appositive group.
fn is_joiner(w: &str) -> bool {
    matches!(
        w,
        "," | "and"
            | "or"
            | "the"
            | "a"
            | "an"
            | "as"
            | "well"
            | "both"
            | "its"
            | "his"
            | "her"
            | "their"
            | "'"
            | "&"
            | "also"
            | "nor"
            | "either"
            | "neither"
    )
}

/// Words that can never be inside a group's gap (they start a new phrase).
fn breaks_group(w: &str) -> bool {
    is_boundary(w)
        || is_aux(w)
        || matches!(
            w,
            "with"
                | "to"
                | "by"
                | "from"
                | "in"
                | "at"
                | "on"
                | "against"
                | "for"
                | "about"
                | "over"
                | "into"
                | "who"
                | "whom"
                | "whose"
                | "which"
                | "that"
                | "said"
                | "says"
                | "will"
                | "would"
                | "has"
                | "have"
                | "had"
                | "did"
                | "does"
                | "do"
                | "after"
                | "before"
                | "between"
                | "of"
        )
}

fn is_negation(w: &str) -> bool {
    matches!(
        w,
        "not" | "never" | "no" | "t" | "nor" | "neither" | "cannot"
    )
}

fn is_denial_verb(w: &str) -> bool {
    matches!(
        w,
        "denied"
            | "denies"
            | "deny"
            | "denying"
            | "refused"
            | "refuses"
            | "refuse"
            | "refusing"
            | "declined"
            | "declines"
            | "decline"
            | "declining"
            | "failed"
            | "fails"
            | "dismissed"
            | "rejected"
    )
}

fn is_possible(w: &str) -> bool {
    matches!(
        w,
        "could" | "might" | "may" | "should" | "possibly" | "perhaps" | "potentially" | "whether"
    )
}

fn is_future(w: &str) -> bool {
    matches!(
        w,
        "will"
            | "shall"
            | "ll"
            | "scheduled"
            | "expected"
            | "planned"
            | "plans"
            | "plan"
            | "planning"
            | "set"
            | "due"
            | "intends"
            | "intended"
            | "intend"
            | "upcoming"
            | "aims"
            | "aim"
            | "hopes"
            | "prepares"
            | "preparing"
            | "going"
    )
}

/// The clause (token range) around `t0..t1`, given the sentence's clause boundaries
/// (`bounds`, ascending token indexes, see [`clause_bounds`]).
fn clause(bounds: &[u32], len: usize, t0: usize, t1: usize) -> (usize, usize) {
    let before = bounds.partition_point(|&i| (i as usize) < t0);
    let a = before.checked_sub(1).map_or(0, |j| bounds[j] as usize + 1);
    let from = t1.min(len);
    let b = bounds[bounds.partition_point(|&i| (i as usize) < from)..]
        .first()
        .map_or(len, |&i| i as usize);
    (a, b)
}

/// The tokens that bound a clause (a boundary word, or "that" after a verb that takes a
/// that-clause), ascending. Computed once per sentence rather than rescanned per trigger.
fn clause_bounds(toks: &[Tok<'_>], bounds: &mut Vec<u32>) {
    bounds.clear();
    bounds.extend(
        (0..toks.len())
            .filter(|&i| {
                is_boundary(toks[i].w)
                    || (toks[i].w == "that" && i > 0 && takes_that_clause(toks[i - 1].w))
            })
            .map(|i| i as u32),
    );
}

/// The vectors of a [`View`], kept between sentences so that each sentence reuses them.
#[derive(Default)]
pub(crate) struct ViewBufs {
    sub: Vec<MentionTok>,
    groups: Vec<(usize, usize)>,
    bounds: Vec<u32>,
}

impl ViewBufs {
    /// Room for `n` mentions, groups and clause bounds before any of them grows.
    pub fn with_capacity(n: usize) -> ViewBufs {
        ViewBufs {
            sub: Vec::with_capacity(n),
            groups: Vec::with_capacity(n),
            bounds: Vec::with_capacity(n),
        }
    }
}

/// A sentence prepared for analysis: its tokens, the mentions usable as sides (a place
/// after a locative preposition is a location, not a side), and their groups (ranges of
/// `sub`). Built once per sentence, shared by all its triggers.
pub(crate) struct View<'t, 'a> {
    toks: &'t [Tok<'a>],
    sub: Vec<MentionTok>,
    groups: Vec<(usize, usize)>,
    /// Clause boundaries (see [`clause_bounds`]).
    bounds: Vec<u32>,
}

impl<'t, 'a> View<'t, 'a> {
    /// Prepares `toks` with `mentions` (sorted by `t0`) and the sentence's event words: a
    /// group never runs across an event verb ("Najib Mikati , met Blinken" is two groups).
    pub fn new(
        toks: &'t [Tok<'a>],
        mentions: &[MentionTok],
        trigs: &[TrigTok],
        bufs: ViewBufs,
    ) -> View<'t, 'a> {
        let ViewBufs {
            mut sub,
            mut groups,
            mut bounds,
        } = bufs;
        sub.clear();
        sub.extend(
            mentions
                .iter()
                .filter(|m| !m.proxy)
                .filter(|m| !(m.place && m.t0 > 0 && is_locative(toks[m.t0 - 1].w)))
                .copied(),
        );
        groups.clear();
        for (i, m) in sub.iter().enumerate() {
            let join = i > 0 && {
                let p = &sub[i - 1];
                if m.t0 < p.t1 {
                    true
                } else {
                    let gap = &toks[p.t1..m.t0];
                    let same = p.actor == m.actor;
                    let verb_between = trigs.iter().any(|t| t.verb && t.t0 >= p.t1 && t.t0 < m.t0);
                    // "Zelensky and European leaders, including Starmer and Macron": the
                    // listed members join the phrase they belong to.
                    let members = gap.len() <= 6
                        && (p.t1..m.t0).any(|i| opens_member_list(toks, i))
                        && !gap.iter().any(|t| breaks_group(t.w));
                    !verb_between
                        && (gap.iter().all(|t| is_joiner(t.w))
                            || members
                            || (gap.len() <= 4
                                && !gap.iter().any(|t| breaks_group(t.w))
                                && (same || gap.iter().any(|t| t.w == "," || t.w == "and"))))
                }
            };
            match groups.last_mut() {
                Some(g) if join => g.1 = i + 1,
                _ => groups.push((i, i + 1)),
            }
        }
        clause_bounds(toks, &mut bounds);
        View {
            toks,
            sub,
            groups,
            bounds,
        }
    }

    /// Gives back the view's vectors for the next sentence.
    pub fn into_bufs(self) -> ViewBufs {
        ViewBufs {
            sub: self.sub,
            groups: self.groups,
            bounds: self.bounds,
        }
    }

    /// Every distinct actor usable as a side in the sentence, sorted.
    pub fn all_actors(&self) -> Side {
        self.actors((!self.sub.is_empty()).then_some((0, self.sub.len())))
    }

    fn actors(&self, g: Option<(usize, usize)>) -> Side {
        let Some((a, b)) = g else {
            return Side::new();
        };
        let mut v: Side = self.sub[a..b].iter().map(|m| m.actor).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// Analyses trigger `k` of `trigs` (sorted by position) against the sentence's mentions.
pub(crate) fn analyze(view: &View<'_, '_>, trigs: &[TrigTok], k: usize, has_if: bool) -> Sides {
    let toks = view.toks;
    let sub = &view.sub;
    let t = trigs[k];
    let (ca, cb) = clause(&view.bounds, toks.len(), t.t0, t.t1);
    let statement = t.ty == PloverType::Statement;
    let start_of = |g: (usize, usize)| sub[g.0].t0;
    let end_of = |g: (usize, usize)| sub[g.1 - 1].t1;

    // Source: the nearest group before the trigger in its clause, with no comma between
    // and at most eight tokens away; or, when the trigger follows a comma-delimited aside
    // ("A , who met B , said"; "A , where he met B , further said"), the group right
    // before the aside.
    let mut lead = t.t0;
    while lead > 0 && lead + 2 >= t.t0 && is_adverb(toks[lead - 1].w) {
        lead -= 1;
    }
    let mut source_g: Option<(usize, usize)> = None;
    if lead > 0 && toks[lead - 1].w == "," {
        let open = toks[..lead - 1]
            .iter()
            .rposition(|x| x.w == "," || x.w == ";")
            .filter(|&o| toks[o].w == ",");
        if let Some(open) = open {
            // An apposition closes at the comma: "Lebanon's prime minister, Najib Mikati,
            // met ..." is one group running across the opening comma, and it is the subject.
            // An aside that is a clause ("A, who met B, said") leaves B's group starting
            // after the opening comma, so A (the group ending there) is the subject.
            source_g = view
                .groups
                .iter()
                .copied()
                .find(|&g| end_of(g) == lead - 1 && start_of(g) < open && start_of(g) >= ca)
                .or_else(|| view.groups.iter().copied().find(|&g| end_of(g) == open))
                // "Arab ministers, including X and Y, met ...": the members are the subject.
                .or_else(|| {
                    opens_member_list(toks, open + 1)
                        .then(|| {
                            view.groups
                                .iter()
                                .copied()
                                .find(|&g| end_of(g) == lead - 1 && start_of(g) > open)
                        })
                        .flatten()
                });
        }
    } else {
        source_g = view.groups.iter().copied().rfind(|&g| {
            let e = end_of(g);
            start_of(g) >= ca
                && e <= t.t0
                && t.t0 - e <= 8
                && !toks[e..t.t0].iter().any(|x| x.w == ",")
        });
        if !t.verb
            && let Some(g) = source_g
            && !noun_takes_subject(&toks[end_of(g)..t.t0])
        {
            source_g = None;
        }
    }
    // Relative clauses. "A, who met B, ...": the relative pronoun's antecedent is the
    // subject. "A, which B had accused of ...": B is the subject and the antecedent is the
    // object (the target, unless the verb has one after it).
    let is_rel = |w: &str| matches!(w, "who" | "which" | "that" | "whom");
    let antecedent = |rel: usize| -> Option<(usize, usize)> {
        let end = if rel >= 1 && toks[rel - 1].w == "," {
            rel - 1
        } else {
            rel
        };
        view.groups.iter().copied().find(|&g| end_of(g) == end)
    };
    let mut rel_object: Option<(usize, usize)> = None;
    if t.verb && source_g.is_none() && lead >= 1 && is_rel(toks[lead - 1].w) {
        source_g = antecedent(lead - 1);
    } else if t.verb
        && let Some(g) = source_g
        && start_of(g) >= 1
        && matches!(toks[start_of(g) - 1].w, "which" | "whom" | "who")
    {
        rel_object = antecedent(start_of(g) - 1);
    }
    // A verb coordinated with an earlier one shares its subject ("will meet X and travel
    // to Y").
    let coordinated = t.verb
        && lead > 0
        && (matches!(toks[lead - 1].w, "and" | "or")
            || (lead > 1 && toks[lead - 1].w == "to" && matches!(toks[lead - 2].w, "and" | "or")));
    let shared = if coordinated {
        trigs[..k]
            .iter()
            .rposition(|o| o.verb && o.t0 >= ca)
            .map(|j| analyze(view, trigs, j, has_if))
    } else {
        None
    };

    // Target: the first group after the trigger, near enough, before any comma that is not
    // inside the group, not across another verb. Nouns take one only through a preposition
    // right after them ("talks with X", "visit to Y").
    let next_verb = trigs
        .iter()
        .filter(|o| o.verb && o.ty != PloverType::Statement && o.t0 >= t.t1)
        .map(|o| o.t0)
        .min()
        .unwrap_or(usize::MAX);
    let comma = (t.t1.min(toks.len())..toks.len())
        .find(|&i| toks[i].w == "," && !opens_member_list(toks, i + 1))
        .unwrap_or(usize::MAX);
    let max_gap = if t.verb { 10 } else { 3 };
    let mut target_g: Option<(usize, usize)> = view.groups.iter().copied().find(|&g| {
        let m0 = start_of(g);
        m0 >= t.t1 && m0 < next_verb && m0 < comma && m0 < cb && m0 - t.t1 <= max_gap
    });
    if !t.verb
        && let Some(g) = target_g
        && !matches!(
            toks[start_of(g) - 1].w,
            "with" | "to" | "on" | "against" | "for" | "between" | "from" | "by" | "of" | "among"
        )
    {
        target_g = None;
    }
    // A last member followed by a verb or auxiliary starts a new clause ("and X said").
    if let Some(g) = target_g.as_mut()
        && g.1 - g.0 > 1
        && let Some(after) = toks.get(sub[g.1 - 1].t1)
        && (is_aux(after.w)
            || trigs.iter().any(|o| o.verb && o.t0 == sub[g.1 - 1].t1)
            || matches!(after.w, "said" | "says" | "will" | "would" | "has" | "had"))
    {
        g.1 -= 1;
    }
    let before_target = target_g
        .and_then(|g| start_of(g).checked_sub(1))
        .map(|i| toks[i].w);
    let target_gap = target_g.map_or(usize::MAX, |g| start_of(g) - t.t1);

    let mut s = Sides::default();
    let passive = t.verb
        && !toks[t.t0].w.ends_with("ing")
        && toks[t.t0].w != "to"
        && ((t.t0 >= 1 && is_aux(toks[t.t0 - 1].w))
            || (t.t0 >= 2 && is_aux(toks[t.t0 - 2].w) && toks[t.t0 - 1].w != "to"));
    if passive {
        s.target = view.actors(source_g);
        if before_target == Some("by") {
            s.source = view.actors(target_g);
        }
    } else if statement {
        if source_g.is_some() {
            s.source = view.actors(source_g);
            let tells = is_address_verb(toks[t.t0].w);
            // "told X", "said to X", and what a statement is about: "said of X's
            // proposals", "commented on X's remarks".
            if (tells && target_gap <= 1)
                || matches!(before_target, Some("to" | "with" | "of" | "on" | "about"))
            {
                s.target = view.actors(target_g);
            }
        } else {
            s.source = view.actors(target_g);
        }
    } else if before_target == Some("between") && view.actors(target_g).len() > 1 {
        s.source = view.actors(source_g);
        s.participants = view.actors(target_g);
    } else {
        s.source = view.actors(source_g);
        s.target = view.actors(target_g.or(rel_object));
        let symmetric = matches!(
            t.ty,
            PloverType::Consult | PloverType::Agree | PloverType::Cooperate
        );
        if symmetric && s.target.is_empty() && s.source.len() > 1 {
            s.participants = std::mem::take(&mut s.source);
        }
    }
    if let Some(sh) = shared
        && (!sh.source.is_empty() || !sh.participants.is_empty())
    {
        s.source = sh.source;
        s.participants = sh.participants;
    }
    // An actor is on one side only (apposition of the same actor across the trigger).
    if !s.source.is_empty() {
        let src_set = &s.source;
        s.target.retain(|a| !src_set.contains(a));
    }

    s.status = Some(status(toks, trigs, k, ca, has_if));
    // "denied holding talks", "refused to meet": the denial verb governs the next event word
    // and steps aside for it. "refused Blinken's request", "rejected the Hamas proposal": an
    // actor between them makes the next word the denial's object, and the denial the event.
    s.absorbed = is_denial_verb(toks[t.t0].w)
        && trigs.get(k + 1).is_some_and(|n| {
            n.t0 >= t.t1 && n.t0 - t.t1 <= 2 && !sub.iter().any(|m| m.t0 >= t.t1 && m.t0 < n.t0)
        });
    // What an agreement verb governs is what was agreed, not a second event: "signed a
    // strategic partnership", "agreed to coordinate their positions" are agreements. Its
    // object is a noun a few words on, or a verb right after "to".
    s.absorbed |= k > 0
        && (!t.verb || toks[t.t0 - 1].w == "to")
        && trigs[..k].iter().rev().any(|o| {
            o.verb
                && o.ty == PloverType::Agree
                && o.t1 <= t.t0
                && t.t0 - o.t1 <= 4
                && !toks[o.t1..t.t0].iter().any(|x| x.w == ",")
                && !sub.iter().any(|m| m.t0 >= o.t1 && m.t0 < t.t0)
        });
    s
}

/// A trigger whose type depends on its object: welcoming or greeting a tracked actor followed
/// by a place, a meeting or the end of the clause ("welcomed Blinken to the meeting", "was
/// welcomed by Erdogan at the palace") is hosting them (consult), while welcoming a decision
/// or "X's plan" stays support.
pub(crate) fn retype(view: &View<'_, '_>, t: &TrigTok, s: &Sides) -> Option<PloverType> {
    let toks = view.toks;
    // "X told Y that ...", "Y was told by X": a statement addressed to a tracked actor is a
    // direct communication between the two (consult), not a public statement. A statement
    // to reporters, to a parliament or on television has no tracked addressee and stays a
    // statement ("told reporters" is its own phrase). What was said is typed separately.
    if t.ty == PloverType::Statement
        && t.t1 == t.t0 + 1
        && is_address_verb(toks[t.t0].w)
        && !s.source.is_empty()
        && !s.target.is_empty()
    {
        return Some(PloverType::Consult);
    }
    if t.ty != PloverType::Support
        || !(toks[t.t0].w.starts_with("welcom") || toks[t.t0].w.starts_with("greet"))
    {
        return None;
    }
    // The hosted actor: the target, or the subject of a passive ("X was welcomed by Y").
    let hosted = if s.target.is_empty() {
        &s.source
    } else {
        &s.target
    };
    if hosted.is_empty() || s.actor_count() < 2 {
        return None;
    }
    // The token after the last mention that follows the trigger.
    let last = view
        .sub
        .iter()
        .filter(|m| m.t0 >= t.t1 && m.t0 - t.t1 <= 4)
        .map(|m| m.t1)
        .max()?;
    let after = toks.get(last).map_or(".", |x| x.w);
    matches!(
        after,
        "to" | "at" | "in" | "for" | "on" | "," | "." | "as" | "upon"
    )
    .then_some(PloverType::Consult)
}

/// The status of trigger `k` (see the module docs).
fn status(toks: &[Tok<'_>], trigs: &[TrigTok], k: usize, ca: usize, has_if: bool) -> Status {
    let t = trigs[k];
    // Look back over at most six tokens of the clause, stopping at another trigger that is
    // not a denial verb, or at a comma.
    let mut from = t.t0;
    let mut coordinated = false;
    while from > ca && t.t0 - from < 6 {
        let w = toks[from - 1].w;
        if w == "," {
            break;
        }
        if let Some(o) = trigs[..k].iter().rev().find(|o| o.t1 == from) {
            if is_denial_verb(toks[o.t0].w) {
                return Status::Denied;
            }
            break;
        }
        if w == "and" || w == "or" {
            coordinated = true;
            from -= 1;
            break;
        }
        from -= 1;
    }
    let window = &toks[from..t.t0];
    let any = |f: &dyn Fn(&str) -> bool| window.iter().any(|x| f(x.w));
    // The trigger word itself may carry it ("denied", "planned" as nouns do not count).
    if any(&|w| is_negation(w) || is_denial_verb(w)) {
        return Status::Denied;
    }
    let cond = has_if || any(&|w| w == "if");
    if any(&is_possible) || (cond && any(&|w| w == "would")) {
        return Status::Hypothetical;
    }
    if cond && any(&|w| matches!(w, "will" | "can")) {
        return Status::Hypothetical;
    }
    if any(&|w| is_future(w) || w == "would") {
        return Status::Planned;
    }
    if coordinated && k > 0 {
        // "is scheduled to meet X and travel to Y": the second verb shares the first's.
        let prev = trigs[k - 1];
        if prev.verb && prev.t1 <= from {
            return status(toks, trigs, k - 1, ca, has_if);
        }
    }
    // "X denied that Y had met Z": the clause a denial verb governs reports something
    // denied.
    if ca >= 2 && toks[ca - 1].w == "that" && is_denial_verb(toks[ca - 2].w) {
        return Status::Denied;
    }
    // A purpose after a future or possible event is as unsure as it: "will travel to Doha
    // to meet X", "plans to visit Amman for talks with X".
    if t.t0 > 0
        && matches!(toks[t.t0 - 1].w, "to" | "for")
        && let Some(j) = trigs[..k]
            .iter()
            .rposition(|o| o.verb && o.t0 >= ca && o.t1 < t.t0)
    {
        let st = status(toks, trigs, j, ca, has_if);
        if matches!(st, Status::Planned | Status::Hypothetical) {
            return st;
        }
    }
    Status::Occurred
}

/// PLOVER/diplomatic mode of a trigger, from its own words and the sentence's words.
pub(crate) fn mode(
    ty: PloverType,
    trigger: &[&str],
    sentence: &[&str],
    sides: &Sides,
) -> Option<&'static str> {
    let has = |ws: &[&str], xs: &[&str]| ws.iter().any(|w| xs.contains(w));
    let trig_has = |xs: &[&str]| has(trigger, xs);
    let near_has = |xs: &[&str]| has(sentence, xs);
    const CEASEFIRE: &[&str] = &[
        "ceasefire",
        "ceasefires",
        "truce",
        "truces",
        "cease",
        "armistice",
    ];
    const PAUSE: &[&str] = &["pause", "pauses", "lull"];
    const HOSTAGE: &[&str] = &["hostage", "hostages", "captives", "captive", "abductees"];
    match ty {
        // Told, informed, assured: contact, but how (in person, by phone) is not said.
        PloverType::Consult if trigger.len() == 1 && is_address_verb(trigger[0]) => None,
        PloverType::Consult => {
            if trig_has(&[
                "mediate",
                "mediated",
                "mediates",
                "mediating",
                "mediation",
                "mediator",
                "mediators",
                "intermediary",
                "broker",
                "brokered",
            ]) {
                Some("mediate")
            } else if near_has(HOSTAGE)
                && trig_has(&[
                    "talks",
                    "negotiate",
                    "negotiated",
                    "negotiating",
                    "negotiations",
                    "negotiation",
                    "discussed",
                    "discuss",
                ])
            {
                Some("hostage-talks")
            } else if trig_has(&[
                "negotiate",
                "negotiated",
                "negotiates",
                "negotiating",
                "negotiation",
                "negotiations",
            ]) {
                Some("negotiate")
            } else if trig_has(&[
                "phone",
                "phoned",
                "telephone",
                "telephoned",
                "call",
                "calls",
                "called",
                "video",
                "videoconference",
                "teleconference",
            ]) {
                Some("phone")
            } else if trig_has(&[
                "host",
                "hosted",
                "hosting",
                "hosts",
                "received",
                "receives",
                "receive",
                "receiving",
                "welcomed",
                "greeted",
            ]) {
                Some("host")
            } else if trig_has(&[
                "visit",
                "visits",
                "visited",
                "visiting",
                "trip",
                "trips",
                "travel",
                "travelled",
                "traveled",
                "travelling",
                "traveling",
                "travels",
                "flew",
                "fly",
                "flies",
                "flying",
                "flown",
                "arrived",
                "arrive",
                "arrives",
                "arriving",
                "tour",
                "toured",
                "touring",
                "head",
                "headed",
                "heading",
                "mission",
            ]) {
                Some("visit")
            } else if trig_has(&[
                "summit",
                "summits",
                "conference",
                "conferences",
                "ministerial",
                "convened",
                "convene",
            ]) || sides.actor_count() >= 3
            {
                Some("multilateral")
            } else {
                Some("meet")
            }
        }
        PloverType::Request if near_has(CEASEFIRE) => Some("ceasefire-call"),
        PloverType::Request if near_has(PAUSE) => Some("pause-call"),
        PloverType::Request if near_has(HOSTAGE) => Some("hostage-release-call"),
        PloverType::Agree if trig_has(CEASEFIRE) || near_has(CEASEFIRE) => Some("ceasefire"),
        PloverType::Agree if trig_has(PAUSE) || near_has(PAUSE) => Some("pause"),
        PloverType::Agree if near_has(HOSTAGE) => Some("hostage-deal"),
        PloverType::Concede
            if near_has(HOSTAGE) || near_has(&["prisoners", "prisoner", "detainees"]) =>
        {
            Some("release")
        }
        PloverType::Concede
            if trig_has(&[
                "release",
                "released",
                "releases",
                "releasing",
                "freed",
                "frees",
                "freeing",
            ]) =>
        {
            Some("release")
        }
        PloverType::Assault
            if trig_has(&[
                "kidnap",
                "kidnapped",
                "kidnapping",
                "abduct",
                "abducted",
                "abduction",
                "hostage",
                "hostages",
            ]) || (near_has(HOSTAGE)
                && trig_has(&["took", "take", "taken", "taking", "held", "holding", "hold"])) =>
        {
            Some("hostage-taking")
        }
        PloverType::Aid
            if near_has(&[
                "humanitarian",
                "food",
                "medical",
                "medicine",
                "fuel",
                "water",
            ]) =>
        {
            Some("humanitarian")
        }
        PloverType::Aid if near_has(&["weapons", "military", "arms", "ammunition", "missiles"]) => {
            Some("military")
        }
        PloverType::Aid
            if near_has(&[
                "loan",
                "loans",
                "economic",
                "financial",
                "funding",
                "billion",
                "million",
            ]) =>
        {
            Some("economic")
        }
        PloverType::Sanction
            if trig_has(&[
                "expel",
                "expelled",
                "expels",
                "expulsion",
                "recall",
                "recalled",
            ]) =>
        {
            Some("expel")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
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
}
