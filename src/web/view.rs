//! The pure half of the pages: what to show, computed from query results with no I/O, so
//! highlighting, the timeline and the graph layout are unit-tested without a server.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::plover::PloverType;

/// A time as the pages print it: UTC text (what shows without script, and the hover title),
/// and RFC 3339 for `<time datetime>`, which the script rewrites into the browser's zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Time {
    /// RFC 3339, for `datetime=`.
    pub iso: String,
    /// "2023-11-12 14:05 UTC".
    pub utc: String,
}

impl Time {
    /// Both renderings of `t`.
    pub fn of(t: DateTime<Utc>) -> Time {
        Time {
            iso: t.to_rfc3339(),
            utc: t.format("%Y-%m-%d %H:%M UTC").to_string(),
        }
    }
}

/// Percent-encodes a query value or path segment (RFC 3986 unreserved characters pass).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A link target safe to put in `href`: only absolute http(s) URLs. A feed's
/// `javascript:` or `data:` "link" is shown as text, never made clickable.
pub fn safe_link(url: Option<&str>) -> Option<String> {
    let parsed = url::Url::parse(url?.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// What a piece of an evidence sentence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Plain text.
    None,
    /// An actor mention (alias or role) that the extraction matched.
    Actor,
    /// The word that gave the event its PLOVER type.
    Trigger,
}

/// A run of a sentence and how to show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// The text, as written (escaped by the template).
    pub text: String,
    /// Highlight.
    pub mark: Mark,
}

impl Segment {
    /// The `<mark>` class the template uses ("" for plain text).
    pub fn class(&self) -> &'static str {
        match self.mark {
            Mark::None => "",
            Mark::Actor => "actor",
            Mark::Trigger => "trigger",
        }
    }
}

/// Splits `sentence` into plain and highlighted runs: every occurrence of each mention text
/// (actor) and of the trigger. Matching is ASCII-case-insensitive (mentions are stored as
/// written, but a role alias may differ in case); overlaps keep the earlier, longer match.
pub fn highlight(sentence: &str, mentions: &[String], trigger: Option<&str>) -> Vec<Segment> {
    let lower = sentence.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize, Mark)> = Vec::new();
    let needles = mentions
        .iter()
        .map(|m| (m.as_str(), Mark::Actor))
        .chain(trigger.map(|t| (t, Mark::Trigger)));
    for (needle, mark) in needles {
        let needle = needle.trim().to_ascii_lowercase();
        if needle.is_empty() {
            continue;
        }
        let mut from = 0;
        while let Some(at) = lower[from..].find(&needle) {
            let start = from + at;
            let end = start + needle.len();
            spans.push((start, end, mark));
            from = end;
        }
    }
    spans.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut out = Vec::new();
    let mut pos = 0;
    for (start, end, mark) in spans {
        if start < pos {
            continue;
        }
        if start > pos {
            out.push(Segment {
                text: sentence[pos..start].to_string(),
                mark: Mark::None,
            });
        }
        out.push(Segment {
            text: sentence[start..end].to_string(),
            mark,
        });
        pos = end;
    }
    if pos < sentence.len() {
        out.push(Segment {
            text: sentence[pos..].to_string(),
            mark: Mark::None,
        });
    }
    out
}

/// A colour per PLOVER type, each with at least 4.5:1 contrast on white (WCAG AA for the
/// legend's text and the strokes): cooperative types blue/green, conflictual red/brown.
pub fn type_colour(t: Option<PloverType>) -> &'static str {
    use PloverType::*;
    match t {
        Some(Agree) => "#1b5e20",
        Some(Consult) => "#0d47a1",
        Some(Support) => "#2e7d32",
        Some(Concede) => "#00695c",
        Some(Cooperate) => "#1565c0",
        Some(Aid) => "#006064",
        Some(Retreat) => "#4e342e",
        Some(Request) => "#6a1b9a",
        Some(Accuse) => "#b71c1c",
        Some(Reject) => "#ad1457",
        Some(Threaten) => "#c62828",
        Some(Protest) => "#8e24aa",
        Some(Sanction) => "#880e4f",
        Some(Mobilize) => "#bf360c",
        Some(Coerce) => "#a52714",
        Some(Assault) => "#7f0000",
        Some(Statement) => "#37474f",
        None => "#546e7a",
    }
}

/// One dot of the timeline: a month and a type, sized by count.
#[derive(Debug, Clone, PartialEq)]
pub struct Dot {
    /// Centre x.
    pub cx: u32,
    /// Radius.
    pub r: u32,
    /// "2023-11: 3 consult".
    pub label: String,
}

/// One row of the timeline: a PLOVER type.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    /// Type name.
    pub label: String,
    /// Row centre y.
    pub y: u32,
    /// Fill colour.
    pub colour: &'static str,
    /// Its months.
    pub dots: Vec<Dot>,
}

/// An x-axis label.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    /// x.
    pub x: u32,
    /// "2023-11".
    pub label: String,
}

/// The activity-over-time chart of an actor or a pair: rows by PLOVER type, columns by
/// month, dot area by count. Months, not days: a year of diplomacy fits a phone screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// viewBox width.
    pub width: u32,
    /// viewBox height.
    pub height: u32,
    /// Type rows, most frequent first.
    pub rows: Vec<TimelineRow>,
    /// Month labels (thinned so they don't collide).
    pub ticks: Vec<Tick>,
    /// The x where the plot starts (after the labels).
    pub left: u32,
    /// The bottom axis y.
    pub axis_y: u32,
}

fn month_index(d: NaiveDate) -> i32 {
    d.year() * 12 + d.month0() as i32
}

/// Lays out the timeline of `(date, type)` pairs.
pub fn timeline(items: &[(NaiveDate, Option<PloverType>)]) -> Timeline {
    const LEFT: u32 = 96;
    const ROW: u32 = 28;
    let mut counts: BTreeMap<Option<PloverType>, BTreeMap<i32, u32>> = BTreeMap::new();
    for (d, t) in items {
        *counts
            .entry(*t)
            .or_default()
            .entry(month_index(*d))
            .or_default() += 1;
    }
    let first = items
        .iter()
        .map(|(d, _)| month_index(*d))
        .min()
        .unwrap_or(0);
    let last = items
        .iter()
        .map(|(d, _)| month_index(*d))
        .max()
        .unwrap_or(0);
    let months = (last - first + 1).max(1) as u32;
    let col = (560 / months).clamp(6, 80);
    let width = LEFT + col * months + 16;
    let mut rows: Vec<(Option<PloverType>, BTreeMap<i32, u32>)> = counts.into_iter().collect();
    rows.sort_by_key(|(_, m)| std::cmp::Reverse(m.values().sum::<u32>()));
    let max = rows
        .iter()
        .flat_map(|(_, m)| m.values())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    let rows: Vec<TimelineRow> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (t, m))| {
            let label = t.map_or("co-mention", PloverType::as_str).to_string();
            TimelineRow {
                y: 20 + i as u32 * ROW,
                colour: type_colour(t),
                dots: m
                    .into_iter()
                    .map(|(month, n)| Dot {
                        cx: LEFT + (month - first) as u32 * col + col / 2,
                        r: 3 + ((n as f64 / max as f64).sqrt() * 9.0) as u32,
                        label: format!("{}: {n} {label}", month_label(month)),
                    })
                    .collect(),
                label,
            }
        })
        .collect();
    let axis_y = 20 + rows.len() as u32 * ROW;
    let every = 64_u32.div_ceil(col).max(1) as i32;
    let ticks = (first..=last)
        .filter(|m| (m - first) % every == 0)
        .map(|m| Tick {
            x: LEFT + (m - first) as u32 * col + col / 2,
            label: month_label(m),
        })
        .collect();
    Timeline {
        width,
        height: axis_y + 24,
        rows,
        ticks,
        left: LEFT,
        axis_y,
    }
}

fn month_label(m: i32) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

/// A node of the interaction graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Actor id (link target).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The actor page.
    pub url: String,
    /// Centre.
    pub x: i32,
    /// Centre.
    pub y: i32,
    /// Radius, by number of interactions.
    pub r: u32,
    /// Label anchor: labels sit outside the circle, away from the centre.
    pub anchor: &'static str,
    /// Label position.
    pub lx: i32,
    /// Label position.
    pub ly: i32,
}

/// An edge: two actors and their interactions.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// First actor id (sorted).
    pub a: String,
    /// Second actor id.
    pub b: String,
    /// Display names.
    pub a_name: String,
    /// Display names.
    pub b_name: String,
    /// The pair page.
    pub url: String,
    /// Endpoints.
    pub x1: i32,
    /// Endpoints.
    pub y1: i32,
    /// Endpoints.
    pub x2: i32,
    /// Endpoints.
    pub y2: i32,
    /// Interactions counted.
    pub count: u32,
    /// Stroke width, by count.
    pub width: u32,
    /// The most frequent type.
    pub dominant: String,
    /// Its colour.
    pub colour: &'static str,
}

/// The laid-out graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// Nodes, by id.
    pub nodes: Vec<Node>,
    /// Edges, heaviest last so they are drawn on top.
    pub edges: Vec<Edge>,
    /// viewBox width.
    pub width: i32,
    /// viewBox height.
    pub height: i32,
}

/// Lays out actors on a circle (ordered by id, so the picture is stable between loads) with
/// straight edges. A circle keeps every label readable for the few dozen actors a watchlist
/// tracks; a force layout would move nodes on every new event.
pub fn graph(
    interactions: &[(Vec<String>, Option<PloverType>)],
    name_of: impl Fn(&str) -> String,
) -> Graph {
    let mut edges: BTreeMap<(String, String), BTreeMap<Option<PloverType>, u32>> = BTreeMap::new();
    let mut degree: BTreeMap<String, u32> = BTreeMap::new();
    for (actors, t) in interactions {
        for (i, a) in actors.iter().enumerate() {
            for b in &actors[i + 1..] {
                let key = if a < b {
                    (a.clone(), b.clone())
                } else {
                    (b.clone(), a.clone())
                };
                *edges.entry(key).or_default().entry(*t).or_default() += 1;
                *degree.entry(a.clone()).or_default() += 1;
                *degree.entry(b.clone()).or_default() += 1;
            }
        }
    }
    // Room for labels of ~200 px either side of the circle, and a line above and below.
    let radius = 240.0;
    let (cx, cy) = (radius + 210.0, radius + 40.0);
    let (width, height) = ((2.0 * cx) as i32, (2.0 * cy) as i32);
    let n = degree.len().max(1) as f64;
    let max_degree = degree.values().copied().max().unwrap_or(1).max(1) as f64;
    let mut pos: BTreeMap<String, (i32, i32)> = BTreeMap::new();
    let nodes: Vec<Node> = degree
        .iter()
        .enumerate()
        .map(|(i, (id, d))| {
            let angle = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
            let (s, co) = angle.sin_cos();
            let x = (cx + radius * co).round() as i32;
            let y = (cy + radius * s).round() as i32;
            pos.insert(id.clone(), (x, y));
            let r = 6 + ((f64::from(*d) / max_degree).sqrt() * 12.0) as u32;
            let out = f64::from(r) + 8.0;
            Node {
                url: format!("/actors/{}", url_encode(id)),
                id: id.clone(),
                name: name_of(id),
                x,
                y,
                r,
                anchor: if co > 0.2 {
                    "start"
                } else if co < -0.2 {
                    "end"
                } else {
                    "middle"
                },
                lx: (f64::from(x) + out * co).round() as i32,
                ly: (f64::from(y) + out * s + 5.0 + if s > 0.5 { 8.0 } else { 0.0 }).round() as i32,
            }
        })
        .collect();
    let max_count = edges
        .values()
        .map(|m| m.values().sum::<u32>())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut edges: Vec<Edge> = edges
        .into_iter()
        .map(|((a, b), types)| {
            let count = types.values().sum::<u32>();
            let dominant = types
                .iter()
                .max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t)))
                .map(|(t, _)| *t)
                .unwrap_or(None);
            let (x1, y1) = pos[&a];
            let (x2, y2) = pos[&b];
            Edge {
                url: format!("/pair/{}/{}", url_encode(&a), url_encode(&b)),
                a_name: name_of(&a),
                b_name: name_of(&b),
                a,
                b,
                x1,
                y1,
                x2,
                y2,
                count,
                width: 1 + ((f64::from(count) / f64::from(max_count)).sqrt() * 7.0) as u32,
                dominant: dominant
                    .map_or("co-mention", PloverType::as_str)
                    .to_string(),
                colour: type_colour(dominant),
            }
        })
        .collect();
    edges.sort_by_key(|e| e.count);
    Graph {
        nodes,
        edges,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_marks_mentions_and_trigger_and_keeps_all_text() {
        // The alert page's evidence view rests on this: every byte kept, the right runs marked.
        let s = "Blinken met Jordanian Foreign Minister Ayman Safadi in Amman.";
        let segs = highlight(s, &["Blinken".into(), "Ayman Safadi".into()], Some("met"));
        let joined: String = segs.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(joined, s);
        let marked: Vec<(&str, Mark)> = segs
            .iter()
            .filter(|g| g.mark != Mark::None)
            .map(|g| (g.text.as_str(), g.mark))
            .collect();
        assert_eq!(
            marked,
            [
                ("Blinken", Mark::Actor),
                ("met", Mark::Trigger),
                ("Ayman Safadi", Mark::Actor)
            ]
        );
    }

    #[test]
    fn highlight_handles_overlaps_case_and_non_ascii() {
        // Overlapping needles and multi-byte text must neither panic nor duplicate text.
        let s = "Ümit: the Secretary of State met Sécretary of state";
        let segs = highlight(s, &["secretary of state".into(), "Secretary".into()], None);
        let joined: String = segs.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(joined, s);
        assert_eq!(segs.iter().filter(|g| g.mark == Mark::Actor).count(), 1);
    }

    #[test]
    fn only_http_links_are_links() {
        // A feed's javascript: link must never become an href.
        assert_eq!(safe_link(Some("javascript:alert(1)")), None);
        assert_eq!(safe_link(Some(" JavaScript:alert(1)")), None);
        assert_eq!(safe_link(Some("data:text/html,x")), None);
        assert_eq!(
            safe_link(Some("https://example.org/a?b=1")).as_deref(),
            Some("https://example.org/a?b=1")
        );
    }

    #[test]
    fn graph_has_a_node_per_actor_and_an_edge_per_pair() {
        // The graph page's nodes and edges come from here.
        let g = graph(
            &[
                (vec!["a".into(), "b".into(), "c".into()], None),
                (vec!["a".into(), "b".into()], Some(PloverType::Consult)),
                (vec!["a".into(), "b".into()], Some(PloverType::Consult)),
            ],
            |id| id.to_uppercase(),
        );
        assert_eq!(g.nodes.len(), 3);
        assert_eq!(g.edges.len(), 3);
        let ab = g.edges.last().unwrap();
        assert_eq!((ab.a.as_str(), ab.b.as_str(), ab.count), ("a", "b", 3));
        assert_eq!(ab.dominant, "consult");
    }

    #[test]
    fn timeline_buckets_by_month_and_type() {
        // Two November consults make one bigger dot than October's one.
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let t = timeline(&[
            (d("2023-10-20"), Some(PloverType::Consult)),
            (d("2023-11-12"), Some(PloverType::Consult)),
            (d("2023-11-13"), Some(PloverType::Consult)),
            (d("2023-11-13"), Some(PloverType::Request)),
        ]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].label, "consult");
        assert_eq!(t.rows[0].dots.len(), 2);
        assert!(t.rows[0].dots[1].r > t.rows[0].dots[0].r);
        assert_eq!(t.ticks.first().unwrap().label, "2023-10");
    }

    #[test]
    fn url_encoding_escapes_everything_reserved() {
        // Query links built from actor ids and user search text must stay one parameter.
        assert_eq!(url_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
