//! PLOVER → CAMEO crosswalk, so parley's records can be compared with GDELT, ICEWS and
//! Phoenix, which code in CAMEO.
//!
//! PLOVER merged and regrouped CAMEO's twenty root categories; the map below follows the
//! PLOVER codebook's own correspondence. Where a parley *mode* pins down a CAMEO subcode
//! (a visit is 042, hosting 043, a phone call 041, mediation 045, negotiation 046, a truce
//! 0871, a release 0841, hostage-taking 181, aid by kind 071-073) the subcode is given;
//! otherwise the root.
//!
//! | PLOVER type  | mode(s)                       | CAMEO                                    |
//! |--------------|-------------------------------|------------------------------------------|
//! | statement    |                               | 01 Make public statement                 |
//! | request      | (any)                         | 02 Appeal                                |
//! | agree        |                               | 03 Express intent to cooperate           |
//! | agree        | ceasefire, pause              | 0871 Declare truce, ceasefire            |
//! | consult      | meet / multilateral           | 04 Consult (044 when at a third place)   |
//! | consult      | phone                         | 041 Discuss by telephone                 |
//! | consult      | visit                         | 042 Make a visit                         |
//! | consult      | host                          | 043 Host a visit                         |
//! | consult      | mediate                       | 045 Mediate                              |
//! | consult      | negotiate, hostage-talks      | 046 Engage in negotiation                |
//! | support      |                               | 05 Engage in diplomatic cooperation (051)|
//! | cooperate    |                               | 06 Engage in material cooperation        |
//! | aid          | economic / military / humanitarian | 071 / 072 / 073 (root 07 Provide aid) |
//! | concede      |                               | 08 Yield                                 |
//! | concede      | release                       | 0841 Return, release person(s)           |
//! | retreat      |                               | 08 Yield (087 De-escalate military)      |
//! | accuse       |                               | 11 Disapprove (09 Investigate in part)   |
//! | reject       |                               | 12 Reject                                |
//! | threaten     |                               | 13 Threaten                              |
//! | protest      |                               | 14 Protest                               |
//! | mobilize     |                               | 15 Exhibit force posture                 |
//! | sanction     | (expel included)              | 16 Reduce relations                      |
//! | coerce       |                               | 17 Coerce                                |
//! | assault      |                               | 18 Assault (19 Fight, 20 mass violence)  |
//! | assault      | hostage-taking                | 181 Abduct, hijack, or take hostage      |
//!
//! CAMEO's "10 Demand" has no PLOVER type of its own (PLOVER folds it into request), so
//! parley's request maps to 02 and a GDELT comparison should merge 02 and 10.

use crate::plover::PloverType;

/// The CAMEO code (root, or subcode where the mode pins one down) for a PLOVER type and mode.
/// Why: users compare parley's records with GDELT's, which only speak CAMEO.
pub fn cameo_root(ty: PloverType, mode: Option<&str>) -> &'static str {
    use PloverType::*;
    match (ty, mode) {
        (Statement, _) => "01",
        (Request, _) => "02",
        (Agree, Some("ceasefire" | "pause")) => "0871",
        (Agree, _) => "03",
        (Consult, Some("phone")) => "041",
        (Consult, Some("visit")) => "042",
        (Consult, Some("host")) => "043",
        (Consult, Some("mediate")) => "045",
        (Consult, Some("negotiate" | "hostage-talks")) => "046",
        (Consult, _) => "04",
        (Support, _) => "05",
        (Cooperate, _) => "06",
        (Aid, Some("economic")) => "071",
        (Aid, Some("military")) => "072",
        (Aid, Some("humanitarian")) => "073",
        (Aid, _) => "07",
        (Concede, Some("release")) => "0841",
        (Concede, _) => "08",
        (Retreat, _) => "08",
        (Accuse, _) => "11",
        (Reject, _) => "12",
        (Threaten, _) => "13",
        (Protest, _) => "14",
        (Mobilize, _) => "15",
        (Sanction, _) => "16",
        (Coerce, _) => "17",
        (Assault, Some("hostage-taking")) => "181",
        (Assault, _) => "18",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_cameo_code() {
        // The crosswalk is documented for users; every type must map somewhere sensible.
        for t in PloverType::ALL {
            let c = cameo_root(t, None);
            assert!(
                c.len() >= 2 && c.chars().all(|d| d.is_ascii_digit()),
                "{t}: {c}"
            );
        }
        assert_eq!(cameo_root(PloverType::Consult, Some("visit")), "042");
        assert_eq!(cameo_root(PloverType::Statement, None), "01");
    }
}
