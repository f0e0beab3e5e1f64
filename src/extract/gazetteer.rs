//! Countries, their demonyms and capitals, plus a few cities that news datelines use often.
//!
//! Two jobs: (1) event locations ("in Amman", "to Turkey", "in the capital city of Jordan,
//! Amman") resolve to a place and its country; (2) role aliases are bound to their country
//! by neighbouring words, so one configured spelling ("Qatar's foreign minister") also yields
//! the others a wire writes ("Qatari foreign minister", "foreign minister of Qatar").
//!
//! The table covers the 193 UN member states plus the two observer states and a few
//! territories in the news. No crate in the dependency set carries demonyms and capitals
//! together, and the table is small, so it lives here as data. One line per country:
//! `Name|Demonym|Capital|other names;…|other demonyms;…`.

/// The table (see the module docs for the format).
const COUNTRIES: &str = "\
Afghanistan|Afghan|Kabul||
Albania|Albanian|Tirana||
Algeria|Algerian|Algiers||
Andorra|Andorran|Andorra la Vella||
Angola|Angolan|Luanda||
Antigua and Barbuda|Antiguan|Saint John's||
Argentina|Argentine|Buenos Aires||Argentinian
Armenia|Armenian|Yerevan||
Australia|Australian|Canberra||
Austria|Austrian|Vienna||
Azerbaijan|Azerbaijani|Baku||Azeri
Bahamas|Bahamian|Nassau|The Bahamas|
Bahrain|Bahraini|Manama||
Bangladesh|Bangladeshi|Dhaka||
Barbados|Barbadian|Bridgetown||
Belarus|Belarusian|Minsk||
Belgium|Belgian|Brussels||
Belize|Belizean|Belmopan||
Benin|Beninese|Porto-Novo||
Bhutan|Bhutanese|Thimphu||
Bolivia|Bolivian|Sucre|La Paz|
Bosnia and Herzegovina|Bosnian|Sarajevo|Bosnia|
Botswana|Botswanan|Gaborone||
Brazil|Brazilian|Brasilia||
Brunei|Bruneian|Bandar Seri Begawan||
Bulgaria|Bulgarian|Sofia||
Burkina Faso|Burkinabe|Ouagadougou||
Burundi|Burundian|Gitega||
Cabo Verde|Cape Verdean|Praia|Cape Verde|
Cambodia|Cambodian|Phnom Penh||
Cameroon|Cameroonian|Yaounde||
Canada|Canadian|Ottawa||
Central African Republic|Central African|Bangui||
Chad|Chadian|N'Djamena||
Chile|Chilean|Santiago||
China|Chinese|Beijing|People's Republic of China;PRC|
Colombia|Colombian|Bogota||
Comoros|Comoran|Moroni||
Congo|Congolese|Brazzaville|Republic of the Congo|
Costa Rica|Costa Rican|San Jose||
Cote d'Ivoire|Ivorian|Yamoussoukro|Ivory Coast|
Croatia|Croatian|Zagreb||
Cuba|Cuban|Havana||
Cyprus|Cypriot|Nicosia||
Czech Republic|Czech|Prague|Czechia|
Democratic Republic of the Congo|Congolese|Kinshasa|DRC;DR Congo|
Denmark|Danish|Copenhagen||Dane
Djibouti|Djiboutian|Djibouti||
Dominica|Dominican|Roseau||
Dominican Republic|Dominican|Santo Domingo||
Ecuador|Ecuadorian|Quito||
Egypt|Egyptian|Cairo||
El Salvador|Salvadoran|San Salvador||
Equatorial Guinea|Equatoguinean|Malabo||
Eritrea|Eritrean|Asmara||
Estonia|Estonian|Tallinn||
Eswatini|Swazi|Mbabane|Swaziland|
Ethiopia|Ethiopian|Addis Ababa||
Fiji|Fijian|Suva||
Finland|Finnish|Helsinki||
France|French|Paris||
Gabon|Gabonese|Libreville||
Gambia|Gambian|Banjul|The Gambia|
Georgia|Georgian|Tbilisi||
Germany|German|Berlin||
Ghana|Ghanaian|Accra||
Greece|Greek|Athens||
Grenada|Grenadian|Saint George's||
Guatemala|Guatemalan|Guatemala City||
Guinea|Guinean|Conakry||
Guinea-Bissau|Bissau-Guinean|Bissau||
Guyana|Guyanese|Georgetown||
Haiti|Haitian|Port-au-Prince||
Honduras|Honduran|Tegucigalpa||
Hungary|Hungarian|Budapest||
Iceland|Icelandic|Reykjavik||
India|Indian|New Delhi|Delhi|
Indonesia|Indonesian|Jakarta||
Iran|Iranian|Tehran|Islamic Republic of Iran|
Iraq|Iraqi|Baghdad||
Ireland|Irish|Dublin||
Israel|Israeli|Jerusalem||
Italy|Italian|Rome||
Jamaica|Jamaican|Kingston||
Japan|Japanese|Tokyo||
Jordan|Jordanian|Amman||
Kazakhstan|Kazakh|Astana||
Kenya|Kenyan|Nairobi||
Kiribati|I-Kiribati|Tarawa||
Kuwait|Kuwaiti|Kuwait City||
Kyrgyzstan|Kyrgyz|Bishkek||
Laos|Lao|Vientiane||Laotian
Latvia|Latvian|Riga||
Lebanon|Lebanese|Beirut||
Lesotho|Basotho|Maseru||
Liberia|Liberian|Monrovia||
Libya|Libyan|Tripoli||
Liechtenstein|Liechtensteiner|Vaduz||
Lithuania|Lithuanian|Vilnius||
Luxembourg|Luxembourgish|Luxembourg||
Madagascar|Malagasy|Antananarivo||
Malawi|Malawian|Lilongwe||
Malaysia|Malaysian|Kuala Lumpur||
Maldives|Maldivian|||
Mali|Malian|Bamako||
Malta|Maltese|Valletta||
Marshall Islands|Marshallese|Majuro||
Mauritania|Mauritanian|Nouakchott||
Mauritius|Mauritian|Port Louis||
Mexico|Mexican|Mexico City||
Micronesia|Micronesian|Palikir||
Moldova|Moldovan|Chisinau||
Monaco|Monegasque|Monaco||
Mongolia|Mongolian|Ulaanbaatar||
Montenegro|Montenegrin|Podgorica||
Morocco|Moroccan|Rabat||
Mozambique|Mozambican|Maputo||
Myanmar|Myanmar|Naypyidaw|Burma|Burmese
Namibia|Namibian|Windhoek||
Nauru|Nauruan|Yaren||
Nepal|Nepali|Kathmandu||Nepalese
Netherlands|Dutch|Amsterdam|Holland;The Netherlands|
New Zealand|New Zealand|Wellington||
Nicaragua|Nicaraguan|Managua||
Niger|Nigerien|Niamey||
Nigeria|Nigerian|Abuja||
North Korea|North Korean|Pyongyang|DPRK|
North Macedonia|Macedonian|Skopje|Macedonia|
Norway|Norwegian|Oslo||
Oman|Omani|Muscat||
Pakistan|Pakistani|Islamabad||
Palau|Palauan|Ngerulmud||
Palestine|Palestinian|Ramallah|State of Palestine;Palestinian territories|
Panama|Panamanian|Panama City||
Papua New Guinea|Papua New Guinean|Port Moresby||
Paraguay|Paraguayan|Asuncion||
Peru|Peruvian|Lima||
Philippines|Filipino|Manila|The Philippines|Philippine
Poland|Polish|Warsaw||
Portugal|Portuguese|Lisbon||
Qatar|Qatari|Doha||
Romania|Romanian|Bucharest||
Russia|Russian|Moscow|Russian Federation|
Rwanda|Rwandan|Kigali||
Saint Kitts and Nevis|Kittitian|Basseterre||
Saint Lucia|Saint Lucian|Castries||
Saint Vincent and the Grenadines|Vincentian|Kingstown||
Samoa|Samoan|Apia||
San Marino|Sammarinese|San Marino||
Sao Tome and Principe|Santomean|Sao Tome||
Saudi Arabia|Saudi|Riyadh|Kingdom of Saudi Arabia|Saudi Arabian
Senegal|Senegalese|Dakar||
Serbia|Serbian|Belgrade||
Seychelles|Seychellois|||
Sierra Leone|Sierra Leonean|Freetown||
Singapore|Singaporean|Singapore||
Slovakia|Slovak|Bratislava||
Slovenia|Slovenian|Ljubljana||Slovene
Solomon Islands|Solomon Islander|Honiara||
Somalia|Somali|Mogadishu||
South Africa|South African|Pretoria||
South Korea|South Korean|Seoul|Republic of Korea|
South Sudan|South Sudanese|Juba||
Spain|Spanish|Madrid||
Sri Lanka|Sri Lankan|Colombo||
Sudan|Sudanese|Khartoum||
Suriname|Surinamese|Paramaribo||
Sweden|Swedish|Stockholm||
Switzerland|Swiss|Bern||
Syria|Syrian|Damascus||
Taiwan|Taiwanese|Taipei||
Tajikistan|Tajik|Dushanbe||
Tanzania|Tanzanian|Dodoma||
Thailand|Thai|Bangkok||
Timor-Leste|Timorese|Dili|East Timor|
Togo|Togolese|Lome||
Tonga|Tongan|Nuku'alofa||
Trinidad and Tobago|Trinidadian|Port of Spain||
Tunisia|Tunisian|Tunis||
Turkey|Turkish|Ankara|Turkiye;Türkiye|
Turkmenistan|Turkmen|Ashgabat||
Tuvalu|Tuvaluan|Funafuti||
Uganda|Ugandan|Kampala||
Ukraine|Ukrainian|Kyiv|Kiev|
United Arab Emirates|Emirati|Abu Dhabi|UAE;Emirates|
United Kingdom|British|London|UK;Britain;Great Britain|
United States|American|Washington|US;USA;America;United States of America|U.S.
Uruguay|Uruguayan|Montevideo||
Uzbekistan|Uzbek|Tashkent||
Vanuatu|Ni-Vanuatu|Port Vila||
Vatican|Vatican|Vatican City|Holy See|
Venezuela|Venezuelan|Caracas||
Vietnam|Vietnamese|Hanoi|Viet Nam|
Yemen|Yemeni|Sanaa||
Zambia|Zambian|Lusaka||
Zimbabwe|Zimbabwean|Harare||
Kosovo|Kosovar|Pristina||
";

/// Cities and areas other than capitals that datelines name often: `Place|Country`.
const PLACES: &str = "\
Tel Aviv|Israel
Gaza|Palestine
Gaza City|Palestine
Gaza Strip|Palestine
West Bank|Palestine
Rafah|Palestine
Khan Younis|Palestine
Istanbul|Turkey
Jeddah|Saudi Arabia
Dubai|United Arab Emirates
Geneva|Switzerland
New York|United States
Camp David|United States
Sharm el-Sheikh|Egypt
Alexandria|Egypt
Aqaba|Jordan
Aleppo|Syria
Mosul|Iraq
Erbil|Iraq
Basra|Iraq
Munich|Germany
Davos|Switzerland
Sochi|Russia
St Petersburg|Russia
Shanghai|China
Mumbai|India
Karachi|Pakistan
Kharkiv|Ukraine
Odesa|Ukraine
Lviv|Ukraine
Benghazi|Libya
Hodeidah|Yemen
Aden|Yemen
";

/// One country of the table.
#[derive(Debug, Clone)]
pub(crate) struct Country {
    /// Canonical English name.
    pub name: &'static str,
    /// Normalised demonyms ("qatari").
    pub demonyms: Vec<String>,
    /// Normalised names, the canonical one first ("united states", "us", "usa", ...).
    pub names: Vec<String>,
}

/// What a gazetteer phrase names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlaceKind {
    /// A country name (index into the country list).
    Country(usize),
    /// A capital or listed city; the index names its country, `name` is the display name.
    City(usize, &'static str),
}

/// The parsed table.
pub(crate) struct Gazetteer {
    /// Every country.
    pub countries: Vec<Country>,
    /// Normalised place phrases (padded, as the matcher wants them) and what they name.
    pub places: Vec<(String, PlaceKind)>,
}

fn norm(s: &str) -> String {
    super::normalize::normalize(s).text.trim().to_string()
}

impl Gazetteer {
    /// Parses the tables (cheap; done once per extractor).
    pub fn build() -> Gazetteer {
        let mut countries = Vec::new();
        let mut places: Vec<(String, PlaceKind)> = Vec::new();
        for line in COUNTRIES.lines().filter(|l| !l.trim().is_empty()) {
            let f: Vec<&'static str> = line.split('|').collect();
            let (name, demonym, capital) = (
                f[0],
                f.get(1).copied().unwrap_or(""),
                f.get(2).copied().unwrap_or(""),
            );
            let alt = f.get(3).copied().unwrap_or("");
            let alt_dem = f.get(4).copied().unwrap_or("");
            let mut names = vec![norm(name)];
            names.extend(alt.split(';').filter(|s| !s.is_empty()).map(norm));
            let mut demonyms = vec![norm(demonym)];
            demonyms.extend(alt_dem.split(';').filter(|s| !s.is_empty()).map(norm));
            demonyms.retain(|d| !d.is_empty());
            let i = countries.len();
            for n in &names {
                places.push((format!(" {n} "), PlaceKind::Country(i)));
            }
            if !capital.is_empty() && norm(capital) != names[0] {
                places.push((format!(" {} ", norm(capital)), PlaceKind::City(i, capital)));
            }
            countries.push(Country {
                name,
                demonyms,
                names,
            });
        }
        for line in PLACES.lines().filter(|l| !l.trim().is_empty()) {
            let Some((place, country)) = line.split_once('|') else {
                continue;
            };
            if let Some(i) = countries.iter().position(|c| c.name == country) {
                places.push((format!(" {} ", norm(place)), PlaceKind::City(i, place)));
            }
        }
        // First listing of a phrase wins (Djibouti the country before Djibouti the city).
        let mut seen = std::collections::HashSet::new();
        places.retain(|(p, _)| seen.insert(p.clone()));
        Gazetteer { countries, places }
    }

    /// The country whose normalised name or demonym is exactly `words`, and whether it was
    /// the demonym.
    pub fn lookup(&self, words: &str) -> Option<(usize, bool)> {
        self.countries.iter().enumerate().find_map(|(i, c)| {
            if c.names.iter().any(|n| n == words) {
                Some((i, false))
            } else if c.demonyms.iter().any(|d| d == words) {
                Some((i, true))
            } else {
                None
            }
        })
    }

    /// Country-bound variants of a normalised role alias: "qatar foreign minister" also as
    /// "qatari foreign minister" and "foreign minister of qatar", and the other way round.
    /// The office part must be at least one word; the alias itself is not returned.
    pub fn role_variants(&self, alias: &str) -> Vec<String> {
        let words: Vec<&str> = alias.split(' ').filter(|w| !w.is_empty()).collect();
        let mut out = Vec::new();
        let n = words.len();
        // Leading "the" is noise for matching.
        let words = if words.first() == Some(&"the") {
            &words[1..]
        } else {
            &words[..]
        };
        let _ = n;
        let n = words.len();
        // Country or demonym at the start (longest first): "qatar foreign minister".
        let mut found: Option<(usize, String)> = None;
        for k in (1..n.min(5)).rev() {
            if let Some((c, _)) = self.lookup(&words[..k].join(" ")) {
                found = Some((c, words[k..].join(" ")));
                break;
            }
        }
        // Or "<office> of <country>" at the end.
        if found.is_none()
            && let Some(of) = words.iter().rposition(|w| *w == "of")
            && of > 0
        {
            let tail = words[of + 1..]
                .iter()
                .filter(|w| **w != "the")
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            if let Some((c, false)) = self.lookup(&tail) {
                found = Some((c, words[..of].join(" ")));
            }
        }
        let Some((c, office)) = found else {
            return out;
        };
        if office.is_empty() || !office.chars().any(char::is_alphabetic) {
            return out;
        }
        let country = &self.countries[c];
        for name in &country.names {
            out.push(format!("{name} {office}"));
            out.push(format!("{office} of {name}"));
        }
        for d in &country.demonyms {
            out.push(format!("{d} {office}"));
        }
        let me = words.join(" ");
        out.retain(|v| *v != me);
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_covers_the_un() {
        // Locations and role variants depend on the whole table being there.
        let g = Gazetteer::build();
        assert!(g.countries.len() >= 195, "{}", g.countries.len());
        assert_eq!(
            g.lookup("qatari"),
            Some((g.lookup("qatar").unwrap().0, true))
        );
        assert!(g.lookup("us").is_some());
        assert!(g.places.iter().any(|(p, _)| p == " amman "));
    }

    #[test]
    fn role_variants_bind_office_to_country() {
        // One configured spelling yields the ones wires use.
        let g = Gazetteer::build();
        let v = g.role_variants("qatar foreign minister");
        assert!(v.contains(&"qatari foreign minister".to_string()), "{v:?}");
        assert!(
            v.contains(&"foreign minister of qatar".to_string()),
            "{v:?}"
        );
        let v = g.role_variants("prime minister of lebanon");
        assert!(v.contains(&"lebanese prime minister".to_string()), "{v:?}");
        assert!(v.contains(&"lebanon prime minister".to_string()), "{v:?}");
        let v = g.role_variants("saudi foreign minister");
        assert!(
            v.contains(&"saudi arabia foreign minister".to_string()),
            "{v:?}"
        );
        // No country, no variants; a bare country is not an office.
        assert!(g.role_variants("un chief").is_empty());
        assert!(g.role_variants("qatar").is_empty());
    }
}
