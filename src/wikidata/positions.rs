//! The offices `parley watchlist import` looks up, and the one SPARQL query per kind of
//! office that finds their holders. Kept apart from the import itself so the queries can be
//! read (and tested) as the documented contract with the Query Service.
//!
//! Every query selects the same variables, one row per term of office:
//!
//! | variable       | what                                                             |
//! |----------------|------------------------------------------------------------------|
//! | `?person`      | the holder's item IRI (a human: `P31 Q5`)                        |
//! | `?personLabel` | the holder's English label (else the multilingual `mul` one)     |
//! | `?iso`         | the country's ISO 3166-1 alpha-2 code (`P297`)                   |
//! | `?position`    | the office's item (unbound for a bare `P35`/`P6` statement)      |
//! | `?start`       | start of the term (`P580`), if stated                            |
//! | `?end`         | end of the term (`P582`), unbound while in office                |
//!
//! Terms come from statements, not "truthy" values, so that ranks and qualifiers can be
//! read: deprecated statements are skipped, and a term counts when it has no end (the
//! person must then be alive: a term with no recorded end and a dead holder is a gap in
//! the data, not a sitting leader) or, with `--since`, when it ended on or after that day.
//!
//! - **heads of state**: the country's "head of state" statements (`P35`), and `P39`
//!   "position held" statements of the country's "office held by head of state" (`P1906`).
//! - **heads of government**: likewise with "head of government" (`P6`) and "office held by
//!   head of government" (`P1313`).
//! - **foreign ministers**: `P39` statements of an office that is an instance or subclass
//!   of "minister of foreign affairs" (`Q7330070`) and applies to the country (`P1001`
//!   "applies to jurisdiction").

use chrono::NaiveDate;

use super::WikidataError;

/// A kind of office the import can look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PositionKind {
    /// Presidents, monarchs and their like.
    HeadsOfState,
    /// Prime ministers, chancellors and their like.
    HeadsOfGovernment,
    /// Foreign ministers and secretaries of state.
    ForeignMinisters,
}

/// The command-line names of the kinds, in [`PositionKind`] order.
pub const POSITION_NAMES: [&str; 3] =
    ["heads-of-state", "heads-of-government", "foreign-ministers"];

impl PositionKind {
    /// All kinds, in order.
    pub const ALL: [PositionKind; 3] = [
        PositionKind::HeadsOfState,
        PositionKind::HeadsOfGovernment,
        PositionKind::ForeignMinisters,
    ];

    /// The command-line name (`heads-of-state`); also names the query in errors.
    pub fn name(self) -> &'static str {
        POSITION_NAMES[self as usize]
    }

    /// Reads a command-line name.
    pub fn parse(s: &str) -> Result<PositionKind, WikidataError> {
        PositionKind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                WikidataError::Usage(format!(
                    "--positions: unknown kind {s:?} (expected {})",
                    POSITION_NAMES.join(", ")
                ))
            })
    }

    /// One office of this kind, for the report and the generated file's comments.
    pub fn office(self) -> &'static str {
        match self {
            PositionKind::HeadsOfState => "head of state",
            PositionKind::HeadsOfGovernment => "head of government",
            PositionKind::ForeignMinisters => "foreign minister",
        }
    }
}

/// Which countries to look in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Countries {
    /// Every item with an ISO 3166-1 alpha-2 code.
    All,
    /// These alpha-2 codes, upper case, sorted, without repeats.
    Codes(Vec<String>),
}

impl Countries {
    /// Reads `--countries`: `all`, or comma-separated ISO 3166-1 alpha-2 codes (any case).
    pub fn parse(values: &[String]) -> Result<Countries, WikidataError> {
        let values: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if values.is_empty() || values.iter().any(|v| v.eq_ignore_ascii_case("all")) {
            if values.len() > 1 {
                return Err(WikidataError::Usage(
                    "--countries: give `all` or a list of ISO codes, not both".into(),
                ));
            }
            return Ok(Countries::All);
        }
        let mut codes = Vec::new();
        for v in values {
            if v.len() != 2 || !v.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(WikidataError::Usage(format!(
                    "--countries: {v:?} is not an ISO 3166-1 alpha-2 code (e.g. US, QA)"
                )));
            }
            codes.push(v.to_ascii_uppercase());
        }
        codes.sort();
        codes.dedup();
        Ok(Countries::Codes(codes))
    }

    /// For the generated file's header.
    pub fn describe(&self) -> String {
        match self {
            Countries::All => "all".to_string(),
            Countries::Codes(c) => c.join(","),
        }
    }
}

/// Statement-level patterns of one office kind, each binding `?person` and `?held` (the
/// statement, for its rank and qualifiers) for a country `?country`.
fn terms(kind: PositionKind) -> &'static str {
    match kind {
        PositionKind::HeadsOfState => {
            "  {\n    ?country p:P35 ?held .                        # \"head of state\" statement\n    ?held ps:P35 ?person .\n  } UNION {\n    ?country wdt:P1906 ?position .                # office held by head of state\n    ?person p:P39 ?held .                         # \"position held\" statement\n    ?held ps:P39 ?position .\n  }\n"
        }
        PositionKind::HeadsOfGovernment => {
            "  {\n    ?country p:P6 ?held .                         # \"head of government\" statement\n    ?held ps:P6 ?person .\n  } UNION {\n    ?country wdt:P1313 ?position .                # office held by head of government\n    ?person p:P39 ?held .                         # \"position held\" statement\n    ?held ps:P39 ?position .\n  }\n"
        }
        PositionKind::ForeignMinisters => {
            "  ?position wdt:P31|wdt:P279 wd:Q7330070 ;      # a minister of foreign affairs office\n            wdt:P1001 ?country .                # that applies to this country\n  ?person p:P39 ?held .                           # \"position held\" statement\n  ?held ps:P39 ?position .\n"
        }
    }
}

/// The SPARQL query for the holders of `kind` offices in `countries`: current holders, and
/// with `since` also those whose term ended on or after that day.
pub fn query(kind: PositionKind, countries: &Countries, since: Option<NaiveDate>) -> String {
    let mut q = format!(
        "# parley watchlist import: {} ({}s)\n\
         SELECT DISTINCT ?person ?personLabel ?iso ?position ?start ?end WHERE {{\n",
        kind.name(),
        kind.office()
    );
    if let Countries::Codes(codes) = countries {
        let quoted: Vec<String> = codes.iter().map(|c| format!("\"{c}\"")).collect();
        q.push_str(&format!("  VALUES ?iso {{ {} }}\n", quoted.join(" ")));
    }
    q.push_str("  ?country wdt:P297 ?iso .                        # ISO 3166-1 alpha-2 code\n");
    q.push_str(terms(kind));
    q.push_str(
        "  ?person wdt:P31 wd:Q5 .                         # a human\n\
         \x20 FILTER NOT EXISTS { ?held wikibase:rank wikibase:DeprecatedRank }\n\
         \x20 OPTIONAL { ?held pq:P580 ?start }\n\
         \x20 OPTIONAL { ?held pq:P582 ?end }\n",
    );
    let alive_and_open = "(!BOUND(?end) && NOT EXISTS { ?person wdt:P570 ?died })";
    match since {
        None => q.push_str(&format!("  FILTER({alive_and_open})\n")),
        Some(day) => q.push_str(&format!(
            "  FILTER({alive_and_open} || (BOUND(?end) && ?end >= \"{day}T00:00:00Z\"^^xsd:dateTime))\n"
        )),
    }
    q.push_str(
        "  SERVICE wikibase:label { bd:serviceParam wikibase:language \"en,mul\". }\n\
         }\n\
         ORDER BY ?iso ?person\n",
    );
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_asks_for_its_own_offices() {
        // The queries are the contract with Wikidata; each must name its properties.
        let us = Countries::parse(&["us".to_string()]).unwrap();
        let hos = query(PositionKind::HeadsOfState, &us, None);
        assert!(hos.contains("p:P35") && hos.contains("wdt:P1906"), "{hos}");
        let hog = query(PositionKind::HeadsOfGovernment, &us, None);
        assert!(hog.contains("p:P6 ") && hog.contains("wdt:P1313"), "{hog}");
        let fm = query(PositionKind::ForeignMinisters, &us, None);
        assert!(
            fm.contains("wd:Q7330070") && fm.contains("wdt:P1001"),
            "{fm}"
        );
        for q in [&hos, &hog, &fm] {
            assert!(q.contains("VALUES ?iso { \"US\" }"), "{q}");
            assert!(q.contains("DeprecatedRank") && q.contains("pq:P582"), "{q}");
            assert!(!q.contains("xsd:dateTime"), "current holders only: {q}");
        }
        let all = query(
            PositionKind::ForeignMinisters,
            &Countries::All,
            NaiveDate::from_ymd_opt(2015, 1, 1),
        );
        assert!(!all.contains("VALUES"), "{all}");
        assert!(
            all.contains("?end >= \"2015-01-01T00:00:00Z\"^^xsd:dateTime"),
            "{all}"
        );
    }

    #[test]
    fn country_and_kind_arguments_are_checked() {
        // A typo must fail loudly, not silently import nobody.
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(Countries::parse(&v(&["all"])).unwrap(), Countries::All);
        assert_eq!(
            Countries::parse(&v(&["qa", "US", "QA"])).unwrap(),
            Countries::Codes(v(&["QA", "US"]))
        );
        for bad in [&["USA"][..], &["all", "US"], &["U1"]] {
            assert!(Countries::parse(&v(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(
            PositionKind::parse("foreign-ministers").unwrap(),
            PositionKind::ForeignMinisters
        );
        assert!(PositionKind::parse("kings").is_err());
    }
}
