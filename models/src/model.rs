//! The checked, indexed model: built from a document by [`Model::from_value`], which reports
//! every problem at once, and read by the engine through dense tables.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::schema::{ItemDoc, ListDoc, MeasureDoc, ModelDoc, PerUnit, ScoringDoc};
use crate::vocab::{Category, Context, Decision, Grade, Kind};
use crate::{ModelError, Problem};

/// Index of an item in [`Model::items`].
pub type ItemId = u16;
/// Index of a list in [`Model::lists`]; list sets are `u32` bit masks.
pub type ListId = u8;
/// The most lists a model may define (list sets are `u32` masks).
pub const MAX_LISTS: usize = 32;
/// Default retention horizon: five years.
pub const DEFAULT_RETENTION_DAYS: u32 = 1826;

/// Scoring rules, in tables indexed by [`Category`] and [`Grade`].
#[derive(Clone, Debug, PartialEq)]
pub struct Scoring {
    pub base: i64,
    pub min: i64,
    pub max: i64,
    /// Least score of A, B, C.
    pub grade_min: [i64; 3],
    /// (min, max) per category.
    pub category_bounds: [(i64, i64); Category::COUNT],
    pub inspection_rates: [f64; Grade::COUNT],
    pub retention_days: u32,
}

impl Scoring {
    /// The grade of a score.
    pub fn grade(&self, score: i64) -> Grade {
        if score >= self.grade_min[0] {
            Grade::A
        } else if score >= self.grade_min[1] {
            Grade::B
        } else if score >= self.grade_min[2] {
            Grade::C
        } else {
            Grade::D
        }
    }

    /// The score of per-category sums: `clamp(base + Σ clamp(sum_c, bounds_c), min, max)`.
    pub fn score(&self, sums: &[i64; Category::COUNT]) -> i64 {
        let mut total = self.base;
        for (sum, (lo, hi)) in sums.iter().zip(self.category_bounds.iter()) {
            total = total.saturating_add((*sum).clamp(*lo, *hi));
        }
        total.clamp(self.min, self.max)
    }
}

/// A catalogue item.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub code: String,
    pub kind: Kind,
    pub category: Category,
    pub name_zh: String,
    pub name_en: String,
    pub points: i64,
    pub per_unit: Option<PerUnit>,
    pub effect_days: Option<u32>,
    /// Lists triggered, as a mask of [`ListId`]s.
    pub lists: u32,
    /// Contexts restricted, as a mask of [`Context`] indexes.
    pub restricts: u8,
    pub retired: bool,
}

impl Item {
    /// Points of one record of this item with the event's `value` (`None` only for
    /// non-`per_unit` items: decoding requires a value for `per_unit` items).
    pub fn record_points(&self, value: Option<f64>) -> i64 {
        match (self.per_unit, value) {
            (Some(pu), Some(v)) => {
                let cap = pu.cap.unsigned_abs() as f64;
                // Clamp in f64 first so that any finite value stays in range.
                let raw = (v * pu.points as f64).clamp(-cap, cap);
                raw.round() as i64 // f64::round is half away from zero
            }
            (Some(_), None) => 0,
            (None, _) => self.points,
        }
    }

    /// Whether this item restricts `ctx`.
    pub fn restricts(&self, ctx: Context) -> bool {
        self.restricts & (1 << ctx.index()) != 0
    }
}

/// A list definition.
#[derive(Clone, Debug, PartialEq)]
pub struct List {
    pub name: String,
    pub name_zh: String,
    pub name_en: String,
    pub min_grade: Option<Grade>,
    /// Mask of [`Category`] indexes in which no record may be in effect.
    pub exclude_categories: u8,
}

/// The decisions of one context.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    /// Per list id.
    pub lists: Vec<Decision>,
    /// Per grade.
    pub grades: [Decision; Grade::COUNT],
    pub item_restriction: Decision,
}

/// A checked model. Cheap to share behind an `Arc`; never mutated once built.
#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub version: String,
    /// Hex SHA-256 of the canonical JSON of [`Model::document`].
    pub content_hash: String,
    pub scoring: Scoring,
    pub items: Vec<Item>,
    pub lists: Vec<List>,
    /// Per context index.
    pub measures: Vec<Measure>,
    codes: HashMap<String, ItemId>,
    document: Value,
}

impl PartialEq for Model {
    fn eq(&self, other: &Self) -> bool {
        self.content_hash == other.content_hash
    }
}

/// Hex SHA-256 of a JSON value in canonical form (keys sorted, no white space), leaving out
/// a top-level `content_hash`.
pub fn content_hash(doc: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(canonical_json(doc).as_bytes());
    hex::encode(hasher.finalize())
}

/// Canonical JSON text: keys sorted, no white space, top-level `content_hash` left out.
pub fn canonical_json(doc: &Value) -> String {
    match doc {
        Value::Object(map) if map.contains_key("content_hash") => {
            let mut map = map.clone();
            map.remove("content_hash");
            // serde_json's default map is a BTreeMap: keys serialise sorted.
            Value::Object(map).to_string()
        }
        other => other.to_string(),
    }
}

impl Model {
    /// Checks and indexes a model document (JSON value). Every problem is reported at once.
    pub fn from_value(mut doc: Value) -> Result<Model, ModelError> {
        if let Value::Object(map) = &mut doc {
            map.remove("content_hash");
        }
        let mut problems = Vec::new();
        let parsed = parse_parts(&doc, &mut problems);
        let model = parsed.and_then(|parts| build(parts, &doc, &mut problems));
        match model {
            Some(m) if problems.is_empty() => Ok(m),
            _ => Err(ModelError::Invalid(problems)),
        }
    }

    /// Parses and checks a model from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Model, ModelError> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| ModelError::Invalid(vec![Problem::new("$", format!("not JSON: {e}"))]))?;
        Model::from_value(doc)
    }

    /// Builds a model from a typed document (as loaded from TOML): the document is normalised,
    /// every field written out, so that the JSON published and hashed is complete.
    pub fn from_doc(doc: &ModelDoc) -> Result<Model, ModelError> {
        let value = serde_json::to_value(doc)
            .map_err(|e| ModelError::Invalid(vec![Problem::new("$", e.to_string())]))?;
        Model::from_value(value)
    }

    /// The document as given, without `content_hash`.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The document with `content_hash`, as served by `GET /v1/model`.
    pub fn to_json_value(&self) -> Value {
        let mut doc = self.document.clone();
        if let Value::Object(map) = &mut doc {
            map.insert(
                "content_hash".into(),
                Value::String(self.content_hash.clone()),
            );
        }
        doc
    }

    /// The canonical JSON text of the document (what a control event carries).
    pub fn canonical_json(&self) -> String {
        canonical_json(&self.document)
    }

    /// Looks up an item by code.
    pub fn item_id(&self, code: &str) -> Option<ItemId> {
        self.codes.get(code).copied()
    }

    /// The item with this id.
    pub fn item(&self, id: ItemId) -> &Item {
        &self.items[id as usize]
    }

    /// Looks up a list by name.
    pub fn list_id(&self, name: &str) -> Option<ListId> {
        self.lists
            .iter()
            .position(|l| l.name == name)
            .map(|i| i as ListId)
    }

    /// The measure of a context.
    pub fn measure(&self, ctx: Context) -> &Measure {
        &self.measures[ctx.index()]
    }

    /// The inspection rate of a grade.
    pub fn inspection_rate(&self, grade: Grade) -> f64 {
        self.scoring.inspection_rates[grade.index()]
    }
}

/// The parts of a document, each parsed on its own so that one bad part does not hide the
/// problems of the others.
struct Parts {
    name: String,
    version: String,
    scoring: Option<ScoringDoc>,
    items: Vec<Option<ItemDoc>>,
    lists: Vec<Option<ListDoc>>,
    measures: BTreeMap<String, Option<MeasureDoc>>,
}

fn parse_one<T: serde::de::DeserializeOwned>(
    v: &Value,
    path: String,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    match T::deserialize(v) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(Problem::new(path, e.to_string()));
            None
        }
    }
}

fn parse_parts(doc: &Value, problems: &mut Vec<Problem>) -> Option<Parts> {
    let Value::Object(map) = doc else {
        problems.push(Problem::new("$", "a model is a JSON object"));
        return None;
    };
    const KNOWN: [&str; 6] = ["name", "version", "scoring", "items", "lists", "measures"];
    for key in map.keys() {
        if !KNOWN.contains(&key.as_str()) {
            problems.push(Problem::new(key, "unknown field"));
        }
    }
    let text = |key: &str, problems: &mut Vec<Problem>| match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => {
            problems.push(Problem::new(key, "must not be empty"));
            String::new()
        }
        Some(_) => {
            problems.push(Problem::new(key, "must be a string"));
            String::new()
        }
        None => {
            problems.push(Problem::new(key, "missing"));
            String::new()
        }
    };
    let name = text("name", problems);
    let version = text("version", problems);
    let scoring = match map.get("scoring") {
        Some(v) => parse_one(v, "scoring".into(), problems),
        None => {
            problems.push(Problem::new("scoring", "missing"));
            None
        }
    };
    let array = |key: &str, problems: &mut Vec<Problem>| -> Vec<Value> {
        match map.get(key) {
            Some(Value::Array(a)) => a.clone(),
            Some(_) => {
                problems.push(Problem::new(key, "must be an array"));
                Vec::new()
            }
            None => {
                problems.push(Problem::new(key, "missing"));
                Vec::new()
            }
        }
    };
    let items = array("items", problems)
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let label = v.get("code").and_then(Value::as_str).unwrap_or("?");
            parse_one(v, format!("items[{i}] ({label})"), problems)
        })
        .collect();
    let lists = array("lists", problems)
        .iter()
        .enumerate()
        .map(|(i, v)| parse_one(v, format!("lists[{i}]"), problems))
        .collect();
    let measures = match map.get("measures") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), parse_one(v, format!("measures.{k}"), problems)))
            .collect(),
        Some(_) => {
            problems.push(Problem::new(
                "measures",
                "must be an object keyed by context",
            ));
            BTreeMap::new()
        }
        None => {
            problems.push(Problem::new("measures", "missing"));
            BTreeMap::new()
        }
    };
    Some(Parts {
        name,
        version,
        scoring,
        items,
        lists,
        measures,
    })
}

fn grade_of(s: &str) -> Option<Grade> {
    Grade::from_str(s)
}

fn build(parts: Parts, doc: &Value, problems: &mut Vec<Problem>) -> Option<Model> {
    let scoring = parts
        .scoring
        .as_ref()
        .and_then(|s| build_scoring(s, problems));

    // Lists first: items refer to them.
    let mut lists = Vec::new();
    let mut list_names = HashSet::new();
    for (i, l) in parts.lists.iter().enumerate() {
        let Some(l) = l else { continue };
        let path = format!("lists[{i}] ({})", l.name);
        if !list_names.insert(l.name.clone()) {
            problems.push(Problem::new(&path, "duplicate list name"));
        }
        if l.name.is_empty() || !l.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            problems.push(Problem::new(&path, "a list name is [a-z_]+"));
        }
        let min_grade = l.min_grade.as_deref().and_then(|g| {
            let grade = grade_of(g);
            if grade.is_none() {
                problems.push(Problem::new(&path, format!("unknown grade {g:?}")));
            }
            grade
        });
        let mut exclude = 0u8;
        for c in &l.exclude_categories {
            match Category::from_str(c) {
                Some(c) => exclude |= 1 << c.index(),
                None => problems.push(Problem::new(&path, format!("unknown category {c:?}"))),
            }
        }
        lists.push(List {
            name: l.name.clone(),
            name_zh: l.name_zh.clone(),
            name_en: l.name_en.clone(),
            min_grade,
            exclude_categories: exclude,
        });
    }
    if lists.len() > MAX_LISTS {
        problems.push(Problem::new("lists", format!("at most {MAX_LISTS} lists")));
    }
    for required in ["black", "red"] {
        if !list_names.contains(required) {
            problems.push(Problem::new(
                "lists",
                format!("list {required:?} is required"),
            ));
        }
    }
    let list_id = |name: &str| lists.iter().position(|l| l.name == name);

    // Items.
    let mut items = Vec::new();
    let mut codes = HashMap::new();
    let mut names: HashSet<(Kind, String)> = HashSet::new();
    for (i, it) in parts.items.iter().enumerate() {
        let Some(it) = it else { continue };
        let path = format!("items[{i}] ({})", it.code);
        let kind = Kind::from_str(&it.kind);
        if kind.is_none() {
            problems.push(Problem::new(&path, format!("unknown kind {:?}", it.kind)));
        }
        let category = Category::from_str(&it.category);
        if category.is_none() {
            problems.push(Problem::new(
                &path,
                format!("unknown category {:?}", it.category),
            ));
        }
        check_code(&it.code, kind, category, &path, problems);
        if codes
            .insert(it.code.clone(), items.len() as ItemId)
            .is_some()
        {
            problems.push(Problem::new(&path, "duplicate code"));
        }
        if it.name_zh.trim().is_empty() || it.name_en.trim().is_empty() {
            problems.push(Problem::new(&path, "name_zh and name_en are required"));
        }
        if let Some(k) = kind {
            if !names.insert((k, it.name_en.clone())) || !names.insert((k, it.name_zh.clone())) {
                problems.push(Problem::new(
                    &path,
                    "name shared with another item of its kind",
                ));
            }
        }
        if let Some(pu) = it.per_unit {
            if pu.points == 0 || pu.cap <= 0 {
                problems.push(Problem::new(
                    &path,
                    "per_unit needs non-zero points and a cap > 0",
                ));
            }
            if it.points != 0 {
                problems.push(Problem::new(&path, "a per_unit item has points = 0"));
            }
        }
        if it.effect_days == Some(0) {
            problems.push(Problem::new(
                &path,
                "effect_days must be > 0 (omit it for until revoked)",
            ));
        }
        let mut list_mask = 0u32;
        for l in &it.lists {
            match list_id(l) {
                Some(id) if id < MAX_LISTS => list_mask |= 1 << id,
                Some(_) => {}
                None => problems.push(Problem::new(&path, format!("unknown list {l:?}"))),
            }
        }
        let mut restricts = 0u8;
        for c in &it.restricts {
            match Context::from_str(c) {
                Some(c) => restricts |= 1 << c.index(),
                None => problems.push(Problem::new(&path, format!("unknown context {c:?}"))),
            }
        }
        items.push(Item {
            code: it.code.clone(),
            kind: kind.unwrap_or(Kind::Legal),
            category: category.unwrap_or(Category::Other),
            name_zh: it.name_zh.clone(),
            name_en: it.name_en.clone(),
            points: it.points,
            per_unit: it.per_unit,
            effect_days: it.effect_days,
            lists: list_mask,
            restricts,
            retired: it.retired,
        });
    }
    if items.len() > ItemId::MAX as usize {
        problems.push(Problem::new("items", "too many items"));
    }
    for (li, l) in lists.iter().enumerate() {
        if li < MAX_LISTS && !items.iter().any(|it| it.lists & (1 << li) != 0) {
            problems.push(Problem::new(
                format!("lists.{}", l.name),
                "no item triggers this list",
            ));
        }
    }

    // Measures.
    let mut measures = Vec::new();
    for key in parts.measures.keys() {
        if Context::from_str(key).is_none() {
            problems.push(Problem::new(format!("measures.{key}"), "unknown context"));
        }
    }
    for ctx in Context::ALL {
        let path = format!("measures.{ctx}");
        let Some(entry) = parts.measures.get(ctx.as_str()) else {
            problems.push(Problem::new(
                &path,
                "missing: every context needs its measures",
            ));
            continue;
        };
        let Some(m) = entry else { continue };
        let decision = |s: &str, problems: &mut Vec<Problem>| {
            Decision::from_str(s).unwrap_or_else(|| {
                problems.push(Problem::new(&path, format!("unknown decision {s:?}")));
                Decision::Allow
            })
        };
        let mut by_list = vec![Decision::Allow; lists.len()];
        for (name, d) in &m.lists {
            let d = decision(d, problems);
            match list_id(name) {
                Some(id) => by_list[id] = d,
                None => problems.push(Problem::new(&path, format!("unknown list {name:?}"))),
            }
        }
        let mut by_grade = [Decision::Allow; Grade::COUNT];
        for (g, d) in &m.grades {
            let d = decision(d, problems);
            match grade_of(g) {
                Some(g) => by_grade[g.index()] = d,
                None => problems.push(Problem::new(&path, format!("unknown grade {g:?}"))),
            }
        }
        let item_restriction = decision(&m.item_restriction, problems);
        measures.push(Measure {
            lists: by_list,
            grades: by_grade,
            item_restriction,
        });
    }

    let scoring = scoring?;
    if measures.len() != Context::COUNT {
        // Relations need every context's measures.
        return None;
    }
    let model = Model {
        name: parts.name,
        version: parts.version,
        content_hash: content_hash(doc),
        scoring,
        items,
        lists,
        measures,
        codes,
        document: doc.clone(),
    };
    crate::relations::check(&model, problems);
    Some(model)
}

fn check_code(
    code: &str,
    kind: Option<Kind>,
    category: Option<Category>,
    path: &str,
    problems: &mut Vec<Problem>,
) {
    let b = code.as_bytes();
    let shape_ok = b.len() == 9
        && b[1] == b'-'
        && b[5] == b'-'
        && b[6..].iter().all(u8::is_ascii_digit)
        && (b[0] == b'L' || b[0] == b'N');
    if !shape_ok {
        problems.push(Problem::new(path, "a code is L|N-CAT-nnn (e.g. L-PEN-001)"));
        return;
    }
    if let Some(k) = kind {
        if b[0] as char != k.code_prefix() {
            problems.push(Problem::new(
                path,
                format!("code prefix {} does not match kind {k}", b[0] as char),
            ));
        }
    }
    if let Some(c) = category {
        if &code[2..5] != c.code_abbrev() {
            problems.push(Problem::new(
                path,
                format!("code category {} does not match category {c}", &code[2..5]),
            ));
        }
    }
}

fn build_scoring(s: &ScoringDoc, problems: &mut Vec<Problem>) -> Option<Scoring> {
    let n = problems.len();
    if !(s.min <= s.base && s.base <= s.max) {
        problems.push(Problem::new("scoring", "needs min <= base <= max"));
    }
    let mut grade_min = [0i64; 3];
    for key in s.grades.keys() {
        if !matches!(key.as_str(), "A" | "B" | "C") {
            problems.push(Problem::new(
                "scoring.grades",
                format!("unexpected grade {key:?} (A, B, C; D is below C)"),
            ));
        }
    }
    for (i, g) in ["A", "B", "C"].iter().enumerate() {
        match s.grades.get(*g) {
            Some(v) => grade_min[i] = *v,
            None => problems.push(Problem::new(
                "scoring.grades",
                format!("threshold of {g} missing"),
            )),
        }
    }
    if !(grade_min[0] > grade_min[1] && grade_min[1] > grade_min[2]) {
        problems.push(Problem::new(
            "scoring.grades",
            "thresholds must descend: A > B > C",
        ));
    }
    if grade_min.iter().any(|t| *t <= s.min || *t > s.max) {
        problems.push(Problem::new(
            "scoring.grades",
            "thresholds must lie in (min, max]",
        ));
    }
    let mut bounds = [(0i64, 0i64); Category::COUNT];
    for key in s.category_bounds.keys() {
        if Category::from_str(key).is_none() {
            problems.push(Problem::new(
                "scoring.category_bounds",
                format!("unknown category {key:?}"),
            ));
        }
    }
    for c in Category::ALL {
        match s.category_bounds.get(c.as_str()) {
            Some(b) if b.min <= 0 && 0 <= b.max => bounds[c.index()] = (b.min, b.max),
            Some(_) => problems.push(Problem::new(
                format!("scoring.category_bounds.{c}"),
                "needs min <= 0 <= max",
            )),
            None => problems.push(Problem::new(
                format!("scoring.category_bounds.{c}"),
                "missing",
            )),
        }
    }
    let mut rates = [0f64; Grade::COUNT];
    for key in s.inspection_rates.keys() {
        if grade_of(key).is_none() {
            problems.push(Problem::new(
                "scoring.inspection_rates",
                format!("unknown grade {key:?}"),
            ));
        }
    }
    for g in Grade::ALL {
        match s.inspection_rates.get(g.as_str()) {
            Some(r) if (0.0..=1.0).contains(r) => rates[g.index()] = *r,
            Some(_) => problems.push(Problem::new(
                format!("scoring.inspection_rates.{g}"),
                "must be in 0..=1",
            )),
            None => problems.push(Problem::new(
                format!("scoring.inspection_rates.{g}"),
                "missing",
            )),
        }
    }
    if rates.windows(2).any(|w| w[0] > w[1]) {
        problems.push(Problem::new(
            "scoring.inspection_rates",
            "higher grades are inspected no more often than lower ones (高信用少查, 低信用多查)",
        ));
    }
    if s.retention_days == Some(0) {
        problems.push(Problem::new("scoring.retention_days", "must be > 0"));
    }
    (problems.len() == n).then(|| Scoring {
        base: s.base,
        min: s.min,
        max: s.max,
        grade_min,
        category_bounds: bounds,
        inspection_rates: rates,
        retention_days: s.retention_days.unwrap_or(DEFAULT_RETENTION_DAYS),
    })
}
