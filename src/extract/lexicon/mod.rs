//! The event-word lexicon: verbs, nouns and fixed phrases of news English, each typed with a
//! PLOVER event type, expanded to their inflections.
//!
//! The entries come from general knowledge of wire-service English and the PLOVER / CAMEO
//! codebooks (CAMEO's verb dictionaries grouped by the PLOVER type each CAMEO root maps to),
//! not from any particular article. Verbs are given as lemmas and inflected by `inflect`
//! (3rd person, past, participle, -ing; regular rules with e-drop, consonant doubling and
//! y→ied, plus an irregular table); phrasal verbs inflect their first word ("call on" →
//! "called on"). Nouns get their plural on the last word. American `-ize` spellings get a
//! British `-ise` twin.
//!
//! Some phrases are *blockers* (type `None`): longer phrases that contain a trigger word but
//! are not events ("so-called", "deal with", "news conference"). Leftmost-longest matching
//! lets them swallow the shorter trigger.

use std::collections::HashMap;

use crate::plover::PloverType;
use crate::plover::PloverType::*;
use inflect::{british_spelling, noun_forms, verb_forms};

mod inflect;

/// What a lexicon phrase means when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TriggerInfo {
    /// The PLOVER type, or `None` for a blocker phrase.
    pub ty: Option<PloverType>,
    /// The phrase is a verb form (verbs outrank nouns when a sentence has several triggers).
    pub verb: bool,
}

/// Verb lemmas by type, `|`-separated; phrasal verbs inflect their first word.
const VERBS: &[(PloverType, &str)] = &[
    (
        Agree,
        "agree|ratify|settle|accept|approve|consent|reconcile|ink|countersign|\
         reach an agreement|reach agreement|reach a deal|strike a deal|seal a deal|\
         clinch a deal|broker a deal|broker a truce|broker a ceasefire|sign a deal|\
         sign an agreement|agree to a ceasefire|conclude an agreement|conclude a deal|\
         shake hands on|make peace|declare a ceasefire|accede to|come to terms|\
         settle a dispute",
    ),
    (
        Consult,
        "meet|meet with|visit|discuss|confer|consult|negotiate|mediate|telephone|phone|call|\
         hold talks|hold a call|hold a meeting|hold discussions|hold consultations|\
         speak with|speak to|speak by phone|talk with|talk to|talk by phone|talk|\
         travel to|fly to|arrive in|arrive at|head to|tour|convene|receive|greet|\
         host talks|sit down with|reach out to|exchange views|engage with|hold a summit|\
         hold a phone call|hold a video call|invite|summon|parley|huddle with|\
         shuttle between|chair a meeting|co-chair|facilitate talks|resume talks|\
         open talks|start talks|enter talks|hold a telephone conversation",
    ),
    (
        Support,
        "praise|endorse|support|welcome|commend|applaud|hail|laud|congratulate|thank|\
         salute|reaffirm|affirm|defend|vouch for|stand with|stand by|side with|\
         rally behind|rally around|express support|voice support|pledge support|\
         offer support|express solidarity|express condolences|offer condolences|\
         express sympathy|compliment|acclaim|extol|embrace|sympathize with|pay tribute|\
         back up|throw its weight behind|throw his weight behind|throw her weight behind",
    ),
    (
        Concede,
        "release|allow|permit|lift|relax|surrender|capitulate|concede|apologize|\
         compromise|back down|give in|give way|step down|resign|pardon|reopen|unfreeze|\
         hand over|relent|relinquish|waive|exempt|grant|cede|de-escalate|climb down|\
         let in|let through|set free|stand down|abdicate|acquiesce|loosen|rescind|revoke|\
         repeal|restore access|open the border|open the crossing",
    ),
    (
        Cooperate,
        "cooperate|co-operate|collaborate|partner|coordinate|team up|join forces|\
         ally with|normalize relations|normalize ties|restore relations|restore ties|\
         resume relations|establish diplomatic relations|establish relations|\
         establish ties|upgrade relations|upgrade ties|share intelligence|\
         exchange intelligence|extradite|work together|work with|join hands|deepen ties|\
         strengthen ties|boost ties|deepen cooperation|strengthen cooperation|\
         expand cooperation|invest|hold joint exercises|conduct joint exercises|\
         conduct joint patrols",
    ),
    (
        Aid,
        "aid|assist|donate|pledge|supply|airlift|rescue|evacuate civilians|provide aid|\
         provide assistance|send aid|deliver aid|give aid|offer aid|provide humanitarian|\
         send humanitarian|deliver humanitarian|provide weapons|send weapons|\
         deliver weapons|bail out|subsidize|grant asylum|give asylum|offer asylum|\
         host refugees|take in refugees|resettle|contribute|replenish|equip|\
         provide relief|send relief",
    ),
    (
        Retreat,
        "withdraw|retreat|pull out|pull back|pull troops|demobilize|disengage|flee|\
         evacuate|abandon|exit|walk away|back away|step back|move out|disband|disarm|\
         decommission|scale back|draw down|redeploy away|leave the country|vacate",
    ),
    (
        Request,
        "urge|call on|call upon|call for|demand|appeal|request|ask for|plead|implore|seek|\
         petition|lobby|insist|push for|press for|advocate|exhort|beseech|entreat|solicit|\
         beg|appeal for|call for calm|renew calls|renew its call|issue a call|\
         make an appeal|make a request|file a request|apply for",
    ),
    (
        Accuse,
        "accuse|blame|condemn|criticize|denounce|decry|slam|lambast|lambaste|censure|\
         rebuke|chastise|allege|fault|scold|deplore|castigate|berate|assail|disparage|\
         vilify|slander|smear|investigate|probe|sue|complain|disapprove|indict|\
         charge with|reprimand|admonish|chide|excoriate|pillory|scapegoat|\
         hold responsible|hold accountable|point the finger|take to task|lash out|hit out|\
         round on|question the legitimacy|cast doubt|protest to|lodge a protest|\
         lodge a complaint|file a complaint|file a lawsuit|bring charges|press charges|\
         demonize|mock|ridicule|insult|belittle",
    ),
    (
        Reject,
        "reject|refuse|veto|dismiss|deny|rebuff|spurn|decline|oppose|resist|defy|snub|\
         turn down|rule out|repudiate|renounce|disavow|block|obstruct|walk out of|shun|\
         scrap|annul|overrule|boycott talks|stonewall|balk|brush aside|brush off|\
         disregard|ignore|flout|refuse to recognize|suspend talks|break off talks|\
         call off|cancel|postpone",
    ),
    (
        Threaten,
        "threaten|warn|menace|intimidate|blackmail|issue an ultimatum|give an ultimatum|\
         vow to retaliate|vow revenge|vow to respond|threaten to|raise the spectre|\
         raise the specter|brandish|saber rattle|sabre rattle|rattle sabres|rattle sabers|\
         signal readiness to strike|vow to crush|vow to destroy|put on notice",
    ),
    (
        Protest,
        "protest|demonstrate against|rally against|march against|boycott|riot|picket|\
         go on strike|walk out|stage a protest|stage a sit in|stage a walkout|\
         hold a rally|take to the streets|hold a vigil|stage a demonstration|\
         hold a demonstration|chant|go on hunger strike|mutiny|revolt|rise up",
    ),
    (
        Sanction,
        "sanction|embargo|expel|ban|blacklist|freeze assets|freeze the assets|\
         impose sanctions|impose new sanctions|slap sanctions|tighten sanctions|\
         expand sanctions|suspend|sever|cut off|cut ties|sever ties|break off relations|\
         break off ties|sever relations|downgrade relations|downgrade ties|restrict|\
         penalize|impose tariffs|impose a ban|impose an embargo|halt aid|suspend aid|\
         freeze aid|withhold|declare persona non grata|kick out|outlaw|blockade imports|\
         curb|limit exports|cut aid|terminate|recall its ambassador|recall the ambassador|\
         recall an ambassador|recall its envoy",
    ),
    (
        Mobilize,
        "mobilize|deploy|reinforce|dispatch troops|send troops|send warships|send forces|\
         mass troops|call up|conscript|militarize|fortify|scramble|put on alert|\
         place on alert|raise alert|raise the alert level|go on alert|build up|test fire|\
         test launch|launch drills|hold drills|stage drills|conduct drills|\
         hold military exercises|conduct military exercises|stage military exercises|\
         move troops|amass|rearm|arm themselves|muster|put troops on standby|\
         send reinforcements|position troops",
    ),
    (
        Coerce,
        "arrest|detain|seize|blockade|confiscate|deport|imprison|jail|sentence|crack down|\
         suppress|repress|censor|impose a curfew|impose martial law|declare martial law|\
         declare a state of emergency|confine|besiege|seal off|shut down|prosecute|\
         convict|interrogate|round up|intercept|impound|expropriate|nationalize|annex|\
         occupy territory|lay siege|place under house arrest|put under house arrest|\
         take into custody|apprehend|incarcerate|persecute|harass|intimidate voters|\
         disperse|evict|ban protests|hack|surveil|spy on|wiretap|extort|coerce",
    ),
    (
        Statement,
        "say|state|announce|declare|tell|inform|assure|tell reporters|tell journalists|tell a news conference|\
         tell a press conference|stress|emphasize|underline|underscore|note|add|remark|\
         comment|assert|reiterate|acknowledge|confirm|claim|argue|explain|\
         issue a statement|release a statement|make a statement|say in a statement|\
         speak to reporters|tell the media|tell state media|tell state television|\
         write on social media|post on social media|tweet|highlight|point out|\
         express concern|express concerns|voice concern|voice concerns",
    ),
    (
        Assault,
        "attack|strike|bomb|shell|shoot|kill|wound|injure|invade|storm|bombard|ambush|\
         assassinate|massacre|murder|slaughter|destroy|shoot down|clash|fight|battle|\
         kidnap|abduct|behead|execute|open fire|fire on|fire at|fire rockets|\
         fire missiles|launch missiles|launch rockets|launch strikes|launch an attack|\
         launch an offensive|launch airstrikes|carry out strikes|carry out airstrikes|\
         carry out an attack|take hostage|hold hostage|maim|torch|loot|pillage|rape|\
         assault|stab|gun down|mow down|blow up|detonate|hit targets|pummel|raze|overrun|\
         annihilate|decimate|wipe out|liquidate|lynch|shoot dead|poison|besiege and shell|\
         capture|seize control|retake|recapture|occupy",
    ),
];

/// Noun phrases by type; the last word gets a plural.
const NOUNS: &[(PloverType, &str)] = &[
    (
        Agree,
        "agreement|deal|accord|treaty|pact|ceasefire|cease fire|truce|armistice|\
         memorandum of understanding|settlement|peace deal|peace agreement|peace accord|\
         framework agreement|consensus|ratification|signing|signing ceremony|\
         humanitarian pause|pause in fighting|prisoner exchange|prisoner swap|\
         hostage deal|normalization deal|compact|entente|détente|detente|breakthrough|\
         reconciliation|joint declaration|roadmap|road map|peace plan|joint communique",
    ),
    (
        Consult,
        "meeting|talks|summit|visit|trip|mission|envoy|negotiation|negotiations|\
         consultation|phone call|telephone call|video call|call|conversation|dialogue|\
         dialog|conference|joint news conference|joint press conference|discussion|\
         mediation|delegation|state visit|official visit|working visit|emissary|\
         special envoy|shuttle diplomacy|diplomacy|sidelines|tete a tete|tête à tête|\
         bilateral meeting|round of talks|peace talks|mediator|intermediary|go between|\
         consultations|ministerial|videoconference|video conference|teleconference|\
         phone conversation|telephone conversation|visitor|talks|parley|overture|outreach|\
         dinner|working dinner|lunch|working lunch|luncheon|breakfast|banquet",
    ),
    (
        Support,
        "support|praise|backing|endorsement|solidarity|condolence|condolences|\
         sympathy|approval|commendation|tribute|accolade|vote of confidence|\
         show of support|expression of support|message of support|congratulations",
    ),
    (
        Concede,
        "release|concession|amnesty|pardon|resignation|surrender|capitulation|easing|\
         relaxation|de escalation|deescalation|waiver|exemption|reprieve|handover|\
         hand over|climbdown|u turn|apology|hostage release|prisoner release",
    ),
    (
        Cooperate,
        "cooperation|co operation|collaboration|partnership|alliance|joint exercise|\
         joint military exercise|joint drill|joint patrol|coalition|coordination|\
         strategic partnership|military cooperation|intelligence sharing|\
         diplomatic relations|diplomatic ties|joint statement|joint venture|joint project|\
         joint operation|joint investigation|extradition|investment|trade agreement|\
         free trade agreement|security agreement|defense pact|defence pact|mutual defense|\
         mutual defence|normalization|rapprochement|cooperation agreement|\
         coordination mechanism|working group|task force",
    ),
    (
        Aid,
        "aid|assistance|humanitarian assistance|humanitarian aid|military aid|foreign aid|\
         economic aid|financial aid|relief|donation|funding|loan|credit line|aid delivery|\
         aid deliveries|aid convoy|aid shipment|supplies|medical supplies|peacekeeping|\
         peacekeeper|peacekeeping force|bailout|debt relief|food aid|asylum|\
         humanitarian corridor|aid package|relief package|rescue package|grant aid|\
         airlift|airdrop|donor|donors conference|pledge|pledges|contribution|\
         reconstruction|rescue|evacuation of civilians|safe passage|subsidy",
    ),
    (
        Retreat,
        "withdrawal|retreat|pullout|pull out|pullback|pull back|evacuation|\
         demobilization|disengagement|exodus|drawdown|draw down|disarmament|\
         decommissioning|exit|departure",
    ),
    (
        Request,
        "appeal|demand|request|plea|petition|call for|calls for|call on|calls on|\
         invitation|entreaty|request for|bid for|application|lobbying|urging|insistence",
    ),
    (
        Accuse,
        "accusation|allegation|condemnation|criticism|denunciation|blame|investigation|\
         probe|lawsuit|complaint|rebuke|censure|indictment|charge of|charges of|\
         reprimand|recrimination|war crimes charge|inquiry|inquest|tirade|broadside|\
         diatribe|smear campaign|finger pointing|grievance",
    ),
    (
        Reject,
        "rejection|refusal|veto|denial|defiance|objection|rebuff|snub|repudiation|\
         renunciation|opposition to|resistance to|boycott of talks|walkout from|\
         stalemate|impasse|deadlock|no vote|non compliance",
    ),
    (
        Threaten,
        "threat|warning|ultimatum|intimidation|blackmail|saber rattling|\
         sabre rattling|brinkmanship|brinksmanship|show of force|red line|retaliation threat|\
         nuclear threat|menace",
    ),
    (
        Protest,
        "protest|demonstration|demonstrator|protester|protestor|rally|boycott|riot|\
         rioter|sit in|general strike|hunger strike|picket|marcher|march against|\
         unrest|walkout|vigil|uprising|revolt|rebellion|mutiny|insurrection|\
         civil disobedience|street protest|mass protest|anti government protest|\
         strike action|work stoppage|protest march|counterprotest|counter protest",
    ),
    (
        Sanction,
        "sanctions|embargo|expulsion|ban|blacklist|tariff|asset freeze|travel ban|\
         export controls|export control|restrictions|sanctions package|arms embargo|\
         trade ban|oil embargo|visa ban|punitive measures|countermeasures|\
         counter measures|suspension|severance|persona non grata|import ban|export ban|\
         blacklisting|diplomatic expulsion|recall of ambassador",
    ),
    (
        Mobilize,
        "deployment|mobilization|buildup|build up|reinforcement|reinforcements|reservist|\
         high alert|state of alert|military exercise|drill|drills|war game|war games|\
         troop buildup|military buildup|naval buildup|show of strength|missile test|\
         test launch|test firing|conscription|call up|massing of troops|armada|flotilla",
    ),
    (
        Coerce,
        "arrest|detention|seizure|blockade|siege|crackdown|curfew|martial law|deportation|\
         imprisonment|censorship|repression|house arrest|state of emergency|confiscation|\
         prosecution|conviction|jail sentence|prison sentence|death sentence|\
         interrogation|internment|annexation|occupation|persecution|harassment|purge|\
         roundup|dragnet|expropriation|nationalization|cyberattack|cyber attack|hack|\
         surveillance|espionage|spying|detainee|political prisoner|extortion|eviction|\
         interception|tear gas",
    ),
    (
        Statement,
        "statement|remarks|comments|announcement|declaration|speech|interview|\
         press statement|written statement|televised address|televised speech",
    ),
    (
        Assault,
        "attack|airstrike|air strike|strike|bombing|shelling|invasion|assault|\
         ground offensive|military offensive|counteroffensive|counter offensive|offensive|\
         rocket attack|missile strike|missile attack|drone strike|drone attack|gunfire|\
         clash|clashes|fighting|killing|massacre|ambush|assassination|bombardment|\
         incursion|hostilities|raid|firefight|gunbattle|gun battle|shootout|artillery fire|\
         barrage|explosion|blast|suicide bombing|car bomb|terror attack|terrorist attack|\
         abduction|kidnapping|hostage taking|torture|execution|beheading|massacre|\
         bloodshed|carnage|casualties|death toll|war crime|genocide|ethnic cleansing|\
         atrocity|atrocities|hostage|hostages|siege warfare|combat|battle|skirmish|\
         onslaught|sniper fire|shelling|air raid|airstrikes|bloodbath|pogrom|lynching",
    ),
];

/// Exact forms (no inflection), typed and flagged verb (`true`) or noun (`false`). Used where
/// the bare lemma would be too ambiguous ("back", "host", "sign", "free", "ease").
const FORMS: &[(PloverType, bool, &str)] = &[
    (Support, true, "backed|backing|backs up|backed up"),
    (
        Consult,
        true,
        "hosted|hosting|hosts talks|spoke by phone|spoken by phone|\
         phoned|telephoned|travelled to|travelling to|traveled to|traveling to|held talks|\
         met with|meets with|meeting with|sat down with|flew to|flown to",
    ),
    (
        Agree,
        true,
        "signed|signing|signs a deal|inked|agreed|agreed to|agreed on|agreed with",
    ),
    (
        Concede,
        true,
        "freed|frees|freeing|eased|easing|eases|set free|let go|released",
    ),
    (
        Mobilize,
        true,
        "massed|massing|stationed|stationing|troops massed|dispatched|\
         dispatching|sent troops|sent warships|sent forces|on high alert|on alert",
    ),
    (
        Assault,
        true,
        "shelled|shelling|opened fire|targeted|targeting|fired on|fired at|\
         fired rockets|fired missiles|struck|stricken",
    ),
    (
        Request,
        true,
        "pressed|pressed for|pressing for|asked|asks|asked for|asking for|asks for|\
         called for|called on|called upon|calling for|calling on|urged|appealed for",
    ),
    (
        Sanction,
        true,
        "imposed sanctions|imposing sanctions|imposes sanctions|\
         slapped sanctions|froze assets|frozen assets|cut off aid|cut ties|banned",
    ),
    (
        Threaten,
        true,
        "warned|warning of|warned of|warns of|threatened",
    ),
    (
        Protest,
        true,
        "marched|marching against|went on strike|on strike|walked out|\
         took to the streets",
    ),
    (
        Cooperate,
        true,
        "allied with|teamed up|joined forces|worked with|working with",
    ),
    (Retreat, true, "withdrew|withdrawn|pulled out|pulled back"),
    (
        Aid,
        true,
        "pledged|donated|airlifted|supplied|funded|financed|armed with",
    ),
    (Consult, true, "briefed|briefing"),
    // "host" alone is too often a noun ("the host country"); after "to" it is the verb.
    (Consult, true, "to host"),
    (Reject, true, "objected|objects to|objecting to"),
    (Sanction, true, "barred|barring"),
];

/// Phrases that contain trigger words but are not events; they shadow the shorter match.
const BLOCKERS: &str = "so called|deal with|deals with|dealt with|dealing with|great deal|\
     good deal|news conference|press conference|the press|in charge|free trade|free press|\
     free speech|fire department|fire brigade|fire fighters|firefighters|strike price|\
     hit song|meeting point|pressing issue|pressing issues|pressing humanitarian|\
     pressing need|pressing concern|pressing concerns|hunger for|truce line|\
     beat reporter|visiting professor|visiting scholar|call center|call centre|\
     wake up call|wake up calls|phone number|host country|host nation|host city|\
     backed by|arms race|sign language|sign of|signs of|release date|press release|\
     release of data|aid worker|aid workers|talk show|state visit to|\
     declined to comment|declined comment|declined to elaborate|declined to say|\
     support staff|tech support|customer support|life support|no doubt|\
     round up of|in support of";

/// The whole lexicon, expanded: normalised phrases and what each means. Deterministic order.
pub(crate) struct Lexicon {
    /// Phrases, already in normalised form (lower case, single spaces, no hyphens, padded).
    pub phrases: Vec<String>,
    /// `info[i]` belongs to `phrases[i]`.
    pub info: Vec<TriggerInfo>,
    /// Phrases listed under two different types (the first listed won); kept so a test can
    /// insist the tables stay unambiguous.
    #[cfg_attr(not(test), allow(dead_code))]
    pub conflicts: Vec<String>,
}

impl Lexicon {
    /// Expands the tables. When two entries yield the same phrase, the first type listed wins
    /// and a verb reading wins over a noun reading.
    pub fn build() -> Lexicon {
        let mut b = Builder::default();
        for &(ty, verb, list) in FORMS {
            for form in entries(list) {
                b.add(form, Some(ty), verb);
            }
        }
        for &(ty, list) in VERBS {
            for lemma in entries(list) {
                for form in verb_forms(lemma) {
                    b.add(&form, Some(ty), true);
                }
            }
        }
        for &(ty, list) in NOUNS {
            for noun in entries(list) {
                for form in noun_forms(noun) {
                    b.add(&form, Some(ty), false);
                }
            }
        }
        for blocker in entries(BLOCKERS) {
            b.add(blocker, None, false);
        }
        Lexicon {
            phrases: b.phrases,
            info: b.info,
            conflicts: b.conflicts,
        }
    }
}

#[derive(Default)]
struct Builder {
    phrases: Vec<String>,
    info: Vec<TriggerInfo>,
    index: HashMap<String, usize>,
    conflicts: Vec<String>,
}

impl Builder {
    fn add(&mut self, phrase: &str, ty: Option<PloverType>, verb: bool) {
        // Normalised like article text, so padded with spaces: " held talks ".
        let norm = super::normalize::normalize(phrase).text;
        if norm.trim().is_empty() {
            return;
        }
        let mut variants = vec![norm.clone()];
        if let Some(british) = british_spelling(norm.trim()) {
            variants.push(format!(" {british} "));
        }
        for v in variants {
            match self.index.get(&v) {
                Some(&i) => {
                    // Blockers always win: they exist to shadow a trigger.
                    if ty.is_none() {
                        self.info[i] = TriggerInfo {
                            ty: None,
                            verb: false,
                        };
                    } else if self.info[i].ty == ty {
                        self.info[i].verb |= verb;
                    } else if self.info[i].ty.is_some() {
                        self.conflicts.push(v);
                    }
                }
                None => {
                    self.index.insert(v.clone(), self.phrases.len());
                    self.phrases.push(v);
                    self.info.push(TriggerInfo { ty, verb });
                }
            }
        }
    }
}

fn entries(list: &str) -> impl Iterator<Item = &str> {
    list.split('|').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicon_is_large_consistent_and_covers_every_type() {
        // Scoring is on unseen news: the lexicon must be broad and cover all 16 types.
        let lex = Lexicon::build();
        assert!(lex.conflicts.is_empty(), "typed twice: {:?}", lex.conflicts);
        assert!(lex.phrases.len() > 1500, "{} phrases", lex.phrases.len());
        for t in PloverType::ALL {
            let n = lex.info.iter().filter(|i| i.ty == Some(t)).count();
            assert!(n >= 20, "{t}: only {n} phrases");
        }
        // Letters and spaces only: every other byte shares one class, which keeps the DFA
        // stride at 32 and its hot states in cache.
        for p in &lex.phrases {
            assert!(
                p.bytes().all(|b| b == b' ' || b.is_ascii_lowercase()),
                "{p:?}"
            );
        }
        let find = |p: &str| {
            let p = format!(" {p} ");
            let i = lex
                .phrases
                .iter()
                .position(|x| *x == p)
                .unwrap_or(usize::MAX);
            lex.info.get(i).copied()
        };
        assert_eq!(find("met").map(|i| i.ty), Some(Some(Consult)));
        assert_eq!(find("held talks").map(|i| i.ty), Some(Some(Consult)));
        assert_eq!(find("called on").map(|i| i.ty), Some(Some(Request)));
        assert_eq!(find("struck").map(|i| i.ty), Some(Some(Assault)));
        assert_eq!(find("struck a deal").map(|i| i.ty), Some(Some(Agree)));
        assert_eq!(find("mobilised").map(|i| i.ty), Some(Some(Mobilize)));
        assert_eq!(find("criticised").map(|i| i.ty), Some(Some(Accuse)));
        assert_eq!(find("so called").map(|i| i.ty), Some(None));
        assert!(find("meetings").is_some_and(|i| !i.verb));
        assert!(find("meeting").is_some_and(|i| i.verb));
    }
}
