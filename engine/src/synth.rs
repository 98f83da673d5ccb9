//! A seeded synthetic Bao'an: a population of legal and natural persons with valid
//! identifiers, their credit histories over the past five years, and a live event mix over the
//! five channels. Pure and deterministic for a seed: the demo, the benches and the load tool
//! all draw from it.

use credence_models::{Category, Kind, Model};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::id::{uscc_alphabet, with_check};
use crate::time::{format_rfc3339, Ts, DAY};

/// Bao'an's legal persons at scale 1.0.
pub const LEGAL_PERSONS: u64 = 904_000;
/// Bao'an's natural persons at scale 1.0.
pub const NATURAL_PERSONS: u64 = 5_342_000;

/// The population at a scale.
#[derive(Clone, Copy, Debug)]
pub struct Population {
    pub legal: u64,
    pub natural: u64,
    pub seed: u64,
}

impl Population {
    pub fn new(scale: f64, seed: u64) -> Population {
        Population {
            legal: ((LEGAL_PERSONS as f64 * scale).round() as u64).max(1),
            natural: ((NATURAL_PERSONS as f64 * scale).round() as u64).max(1),
            seed,
        }
    }

    pub fn len(&self) -> u64 {
        self.legal + self.natural
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The i-th subject (legal persons first): kind and identifier.
    pub fn subject(&self, i: u64) -> (Kind, String) {
        if i < self.legal {
            (Kind::Legal, legal_id(i))
        } else {
            (Kind::Natural, natural_id(i - self.legal))
        }
    }
}

/// A valid USCC for index `i` (unique per index): Bao'an's region code, a registration
/// authority and type drawn from the index, and the index in base 31.
pub fn legal_id(i: u64) -> String {
    const PREFIXES: [&str; 6] = ["91", "91", "91", "92", "52", "12"];
    let alphabet = uscc_alphabet();
    let mut body = String::with_capacity(17);
    body.push_str(PREFIXES[(i % 6) as usize]);
    body.push_str("440306");
    let mut tail = [b'0'; 9];
    let mut n = i;
    for slot in tail.iter_mut().rev() {
        *slot = alphabet[(n % 31) as usize];
        n /= 31;
    }
    body.push_str(std::str::from_utf8(&tail).unwrap_or("000000000"));
    with_check(Kind::Legal, &body)
}

/// A valid resident ID for index `i` (unique per index): a region, a birth date between 1940
/// and 2005 and a sequence number, all drawn from the index.
pub fn natural_id(i: u64) -> String {
    const REGIONS: [&str; 6] = ["440306", "440306", "440306", "440307", "445221", "430103"];
    const DAYS: u64 = 23_741; // 1940-01-01 .. 2004-12-31
    let (day, seq) = (i % DAYS, i / DAYS);
    let birth = time::Date::from_julian_day(2_429_630 + day as i32).unwrap_or(time::Date::MIN);
    let body = format!(
        "{}{:04}{:02}{:02}{:03}",
        REGIONS[((i / 7) % 6) as usize],
        birth.year(),
        birth.month() as u8,
        birth.day(),
        seq % 1000
    );
    with_check(Kind::Natural, &body)
}

/// Where an item's records come from: channel and source.
pub fn route_for(category: Category, code: &str) -> (&'static str, &'static str) {
    match (category, code) {
        (_, "N-HON-001") => ("utility", "volunteers"),
        (Category::Basic, c) if c.starts_with('L') => ("city", "market-registry"),
        (Category::Basic, _) => ("city", "public-security"),
        (Category::License, _) => ("gov", "licensing"),
        (Category::Penalty, "L-PEN-001" | "L-PEN-002") => ("gov", "enforcement"),
        (Category::Penalty, _) => ("gov", "safety"),
        (Category::Judicial, _) => ("gov", "court"),
        (Category::Supervision, c) if c.ends_with('3') || c.ends_with('7') => {
            ("grid", "grid-baoan")
        }
        (Category::Supervision, _) => ("city", "credit-platform"),
        (Category::Honor, _) => ("city", "credit-platform"),
        (Category::Other, "L-OTH-001" | "N-OTH-001") => ("utility", "power"),
        (Category::Other, _) => ("agency", "rating"),
    }
}

/// One generated event: the NATS subject and the JSON payload.
#[derive(Clone, Debug, PartialEq)]
pub struct GenEvent {
    pub subject: String,
    pub payload: Vec<u8>,
}

/// Generates events: histories of subjects, and a live mix.
#[derive(Debug)]
pub struct Generator<'m> {
    pub pop: Population,
    model: &'m Model,
    /// Item indexes by (kind, category).
    by: [[Vec<u16>; Category::COUNT]; 2],
    rng: SmallRng,
    /// Sequence for unique event and record ids.
    counter: u64,
    now: Ts,
    /// Recent adds (subject JSON, source route, record) for revokes, repairs and duplicates.
    recent: Vec<(String, String, String, Vec<u8>)>,
}

impl<'m> Generator<'m> {
    /// A generator over `pop` and `model`, with event times up to `now`.
    pub fn new(pop: Population, model: &'m Model, now: Ts) -> Generator<'m> {
        let mut by: [[Vec<u16>; Category::COUNT]; 2] = Default::default();
        for (i, it) in model.items.iter().enumerate() {
            if !it.retired {
                by[it.kind.index()][it.category.index()].push(i as u16);
            }
        }
        Generator {
            pop,
            model,
            by,
            rng: SmallRng::seed_from_u64(pop.seed),
            counter: 0,
            now,
            recent: Vec::new(),
        }
    }

    fn pick(&mut self, kind: Kind, cat: Category) -> u16 {
        let v = &self.by[kind.index()][cat.index()];
        // A subject is registered once (its history's first record): other basic records
        // are the rest of the category.
        let v = if cat == Category::Basic && v.len() > 1 {
            &v[1..]
        } else {
            &v[..]
        };
        // The canonical item (first) is the most common of its category.
        if self.rng.gen_bool(0.5) {
            v[0]
        } else {
            v[self.rng.gen_range(0..v.len())]
        }
    }

    fn event(&mut self, kind: Kind, id: &str, item: u16, at: Ts) -> GenEvent {
        let it = self.model.item(item);
        let (channel, source) = route_for(it.category, &it.code);
        self.counter += 1;
        let n = self.counter;
        let year = time::OffsetDateTime::from_unix_timestamp(at / 1_000_000)
            .map(|d| d.year())
            .unwrap_or(2020);
        let record = format!("{year}/{n:08}");
        let mut payload = format!(
            r#"{{"id":"{source}-{n}","type":"record.add","subject":{{"kind":"{kind}","id":"{id}"}},"record":"{record}","item":"{code}","occurred_at":"{at}""#,
            code = it.code,
            at = format_rfc3339(at),
        );
        if it.per_unit.is_some() {
            payload.push_str(&format!(
                r#","value":{}"#,
                self.rng.gen_range(1..80) as f64 / 2.0
            ));
        }
        if matches!(
            it.category,
            Category::Penalty | Category::Judicial | Category::Supervision
        ) {
            payload.push_str(&format!(
                r#","authority":"{}","document":"深宝{}罚〔{year}〕{}号","basis":"{}""#,
                AUTHORITIES[(n % AUTHORITIES.len() as u64) as usize],
                ["应急", "市监", "环", "税", "城管"][(n % 5) as usize],
                n % 10_000,
                BASES[(n % BASES.len() as u64) as usize]
            ));
        }
        payload.push('}');
        let subject = format!("credit.events.{channel}.{source}");
        let subj_json = format!(r#"{{"kind":"{kind}","id":"{id}"}}"#);
        if self.recent.len() < 4096 {
            self.recent.push((
                subj_json,
                subject.clone(),
                record,
                payload.clone().into_bytes(),
            ));
        } else {
            let slot = self.rng.gen_range(0..self.recent.len());
            self.recent[slot] = (
                subj_json,
                subject.clone(),
                record,
                payload.clone().into_bytes(),
            );
        }
        GenEvent {
            subject,
            payload: payload.into_bytes(),
        }
    }

    fn past(&mut self, years: f64) -> Ts {
        self.now - (self.rng.gen::<f64>() * years * 365.0 * DAY as f64) as Ts
    }

    /// The credit history of subject `i`: its records over the past five years.
    pub fn history(&mut self, i: u64) -> Vec<GenEvent> {
        let (kind, id) = self.pop.subject(i);
        let mut out = Vec::new();
        let reg = self.by[kind.index()][Category::Basic.index()][0];
        let born = self.past(20.0);
        out.push(self.event(kind, &id, reg, born));
        let mut plan: Vec<(Category, f64, f64)> = match kind {
            // (category, expected records, over how many years)
            Kind::Legal => vec![
                (Category::Basic, 2.0, 5.0),
                (Category::License, 1.5, 5.0),
                (Category::Other, 0.25, 2.0),
                (Category::Penalty, 0.15, 3.0),
                (Category::Honor, 0.12, 2.0),
                (Category::Supervision, 0.05, 3.0),
                (Category::Judicial, 0.015, 5.0),
            ],
            Kind::Natural => vec![
                (Category::Basic, 2.6, 5.0),
                (Category::License, 0.25, 5.0),
                (Category::Other, 0.12, 2.0),
                (Category::Honor, 0.12, 2.0),
                (Category::Penalty, 0.04, 2.0),
                (Category::Supervision, 0.01, 3.0),
                (Category::Judicial, 0.005, 5.0),
            ],
        };
        for (cat, mean, years) in plan.drain(..) {
            let mut n = mean.floor() as u32;
            if self.rng.gen::<f64>() < mean.fract() {
                n += 1;
            }
            for _ in 0..n {
                let item = self.pick(kind, cat);
                let at = self.past(years);
                out.push(self.event(kind, &id, item, at));
            }
        }
        out
    }

    /// One live event at `now`: mostly new records for random subjects; about 1% revokes and
    /// repairs, 0.1% duplicates and 0.05% bad events, as the seed system sees them.
    pub fn live(&mut self, now: Ts) -> GenEvent {
        self.now = now;
        let roll = self.rng.gen::<f64>();
        if roll < 0.0005 {
            return self.bad();
        }
        if roll < 0.0015 && !self.recent.is_empty() {
            let k = self.rng.gen_range(0..self.recent.len());
            let (_, subject, _, payload) = self.recent[k].clone();
            return GenEvent { subject, payload };
        }
        if roll < 0.0115 && !self.recent.is_empty() {
            let k = self.rng.gen_range(0..self.recent.len());
            let (subj, subject, record, _) = self.recent.swap_remove(k);
            self.counter += 1;
            let ty = if self.rng.gen_bool(0.3) {
                "record.revoke"
            } else {
                "record.repair"
            };
            let payload = format!(
                r#"{{"id":"fix-{}","type":"{ty}","subject":{subj},"record":"{record}","occurred_at":"{}"}}"#,
                self.counter,
                format_rfc3339(now)
            );
            return GenEvent {
                subject,
                payload: payload.into_bytes(),
            };
        }
        let i = self.rng.gen_range(0..self.pop.len());
        let (kind, id) = self.pop.subject(i);
        let cat = match self.rng.gen_range(0..100) {
            0..=34 => Category::Basic,
            35..=54 => Category::License,
            55..=74 => Category::Other,
            75..=86 => Category::Honor,
            87..=94 => Category::Penalty,
            95..=98 => Category::Supervision,
            _ => Category::Judicial,
        };
        let item = self.pick(kind, cat);
        let at = now - self.rng.gen_range(0..30 * DAY);
        self.event(kind, &id, item, at)
    }

    fn bad(&mut self) -> GenEvent {
        self.counter += 1;
        let n = self.counter;
        let payload = match n % 4 {
            0 => b"{not json".to_vec(),
            1 => format!(r#"{{"id":"bad-{n}","type":"record.add","subject":{{"kind":"legal","id":"91440306AAAAAAAAA0"}},"record":"r{n}","item":"L-PEN-001","occurred_at":"2024-01-01T00:00:00Z"}}"#).into_bytes(),
            2 => format!(r#"{{"id":"bad-{n}","type":"record.add","subject":{{"kind":"natural","id":"{}"}},"record":"r{n}","item":"L-PEN-001","occurred_at":"2024-01-01T00:00:00Z"}}"#, natural_id(n)).into_bytes(),
            _ => format!(r#"{{"id":"bad-{n}","type":"record.update","subject":{{"kind":"legal","id":"{}"}},"record":"r{n}","occurred_at":"2024-01-01T00:00:00Z"}}"#, legal_id(n)).into_bytes(),
        };
        GenEvent {
            subject: "credit.events.gov.safety".into(),
            payload,
        }
    }
}

const AUTHORITIES: [&str; 6] = [
    "Bao'an District Emergency Management Bureau",
    "Bao'an Market Supervision Administration",
    "Bao'an Ecology and Environment Bureau",
    "Bao'an Tax Bureau",
    "Bao'an Urban Management and Law Enforcement Bureau",
    "Bao'an District People's Court",
];

const BASES: [&str; 5] = [
    "Work Safety Law art. 88",
    "Food Safety Law art. 124",
    "Environmental Protection Law art. 59",
    "Tax Administration Law art. 64",
    "Civil Procedure Law art. 262",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{decode, Decoded};
    use crate::id::SubjectKey;
    use credence_models::bundled;

    #[test]
    fn identifiers_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for i in (0..200_000).step_by(7) {
            let l = legal_id(i);
            assert!(SubjectKey::parse(Kind::Legal, &l).is_ok(), "{l}");
            assert!(seen.insert(l));
        }
        for i in (0..6_000_000).step_by(997) {
            let n = natural_id(i);
            assert!(SubjectKey::parse(Kind::Natural, &n).is_ok(), "{n}");
            assert!(seen.insert(n));
        }
    }

    #[test]
    fn generated_events_decode_and_the_mix_has_every_kind() {
        let model = bundled();
        let now = crate::time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let mut g = Generator::new(Population::new(0.001, 7), &model, now);
        for i in 0..g.pop.len() {
            for e in g.history(i) {
                let d = decode(&e.subject, &e.payload, &model);
                assert!(
                    matches!(d, Ok(Decoded::Event(_))),
                    "{} {:?}",
                    String::from_utf8_lossy(&e.payload),
                    d
                );
            }
        }
        let (mut ok, mut bad) = (0, 0);
        for _ in 0..20_000 {
            let e = g.live(now);
            match decode(&e.subject, &e.payload, &model) {
                Ok(_) => ok += 1,
                Err(_) => bad += 1,
            }
        }
        assert!(bad > 0 && bad < 60, "{bad}");
        assert!(ok > 19_000);
    }
}
