//! The PLOVER event ontology: the sixteen event types parley codes sentences into, plus one
//! extension, `statement`, for public statements ("said", "told reporters", "announced"),
//! which PLOVER leaves uncoded but a diplomacy desk needs to follow who said what.
//!
//! PLOVER (Political Language Ontology for Verifiable Event Records) is the successor of
//! CAMEO used by the public event datasets (POLECAT). Parley speaks it so that analysts can
//! compare its records with theirs; the type names are part of the CLI, config and JSON
//! interfaces and are spelled exactly as PLOVER spells them, in lower case.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One PLOVER event type. The order follows the PLOVER codebook (cooperative first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PloverType {
    /// Agree to, sign, or settle something.
    Agree,
    /// Meet, visit, talk, negotiate, mediate.
    Consult,
    /// Praise, endorse, defend a party.
    Support,
    /// Yield, ease restrictions, release, allow.
    Concede,
    /// Cooperate economically, militarily, judicially or diplomatically.
    Cooperate,
    /// Give humanitarian, economic or military aid.
    Aid,
    /// Withdraw or retreat.
    Retreat,
    /// Ask, urge, call for, demand.
    Request,
    /// Accuse, blame, criticise, denounce.
    Accuse,
    /// Reject, refuse, veto.
    Reject,
    /// Threaten, warn of consequences, give an ultimatum.
    Threaten,
    /// Demonstrate, strike, boycott.
    Protest,
    /// Impose sanctions or embargoes, expel, break relations.
    Sanction,
    /// Mobilise or deploy forces, raise alert.
    Mobilize,
    /// Arrest, detain, seize, blockade, repress.
    Coerce,
    /// Use force: attack, strike, bomb, kill.
    Assault,
    /// Extension (not in PLOVER): a public statement: said, stated, announced, told reporters.
    Statement,
}

impl PloverType {
    /// Every type, in codebook order, then the `statement` extension; used by `check` and by
    /// tests that want full coverage.
    pub const ALL: [PloverType; 17] = [
        PloverType::Agree,
        PloverType::Consult,
        PloverType::Support,
        PloverType::Concede,
        PloverType::Cooperate,
        PloverType::Aid,
        PloverType::Retreat,
        PloverType::Request,
        PloverType::Accuse,
        PloverType::Reject,
        PloverType::Threaten,
        PloverType::Protest,
        PloverType::Sanction,
        PloverType::Mobilize,
        PloverType::Coerce,
        PloverType::Assault,
        PloverType::Statement,
    ];

    /// The lower-case PLOVER name, as it appears in configs, CLI flags and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PloverType::Agree => "agree",
            PloverType::Consult => "consult",
            PloverType::Support => "support",
            PloverType::Concede => "concede",
            PloverType::Cooperate => "cooperate",
            PloverType::Aid => "aid",
            PloverType::Retreat => "retreat",
            PloverType::Request => "request",
            PloverType::Accuse => "accuse",
            PloverType::Reject => "reject",
            PloverType::Threaten => "threaten",
            PloverType::Protest => "protest",
            PloverType::Sanction => "sanction",
            PloverType::Mobilize => "mobilize",
            PloverType::Coerce => "coerce",
            PloverType::Assault => "assault",
            PloverType::Statement => "statement",
        }
    }
}

impl fmt::Display for PloverType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returned when a string names no PLOVER type; carries the offending text for the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown PLOVER event type {0:?} (expected one of: agree, consult, support, concede, cooperate, aid, retreat, request, accuse, reject, threaten, protest, sanction, mobilize, coerce, assault, statement)"
)]
pub struct UnknownPloverType(pub String);

impl FromStr for PloverType {
    type Err = UnknownPloverType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        PloverType::ALL
            .into_iter()
            .find(|t| t.as_str() == lower)
            .ok_or_else(|| UnknownPloverType(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        // The names are an interface: every type must parse back from its own name.
        for t in PloverType::ALL {
            assert_eq!(t.as_str().parse::<PloverType>().unwrap(), t);
            assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{}\"", t.as_str())
            );
        }
        assert!("meet".parse::<PloverType>().is_err());
        // The extension is a type like the others, after the sixteen of the codebook.
        assert_eq!("Statement".parse::<PloverType>(), Ok(PloverType::Statement));
        assert_eq!(PloverType::ALL.len(), 17);
    }
}
