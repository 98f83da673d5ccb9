//! The model as written: serde types of the model JSON (contract §5) and of the TOML files on
//! disk. Words that validation must be able to report on (kinds, categories, lists, contexts,
//! grades, decisions) stay strings here; [`crate::Model`] is the checked, indexed form.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A whole model document.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelDoc {
    pub name: String,
    pub version: String,
    /// Computed by the engine; ignored on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    pub scoring: ScoringDoc,
    pub items: Vec<ItemDoc>,
    pub lists: Vec<ListDoc>,
    /// Per approval context.
    pub measures: BTreeMap<String, MeasureDoc>,
}

/// How records become a score and a grade.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScoringDoc {
    pub base: i64,
    pub min: i64,
    pub max: i64,
    /// Least score of grades `A`, `B` and `C`; below `C` is `D`.
    pub grades: BTreeMap<String, i64>,
    /// Per category: the least and the most its sum may contribute.
    pub category_bounds: BTreeMap<String, BoundsDoc>,
    /// Per grade `A`..`D`: the share of subjects drawn for inspection, 0..=1.
    pub inspection_rates: BTreeMap<String, f64>,
    /// Records whose effect ended more than this many days before now may be compacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

/// Inclusive bounds.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BoundsDoc {
    pub min: i64,
    pub max: i64,
}

/// One catalogue item.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ItemDoc {
    pub code: String,
    pub kind: String,
    pub category: String,
    pub name_zh: String,
    pub name_en: String,
    /// Points of a record; 0 for a `per_unit` item, whose points come from its `value`.
    pub points: i64,
    #[serde(default)]
    pub per_unit: Option<PerUnit>,
    /// Effect period in days; absent: until revoked (or repaired).
    #[serde(default)]
    pub effect_days: Option<u32>,
    /// Lists this item triggers while in effect (subject to each list's own rules).
    #[serde(default)]
    pub lists: Vec<String>,
    /// Approval contexts this item restricts while in effect.
    #[serde(default)]
    pub restricts: Vec<String>,
    /// A retired item takes no new records.
    #[serde(default)]
    pub retired: bool,
}

/// Points per unit of an event's `value`, rounded half away from zero, capped per record.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PerUnit {
    pub points: i64,
    /// The most points (in absolute value) one record may carry; > 0.
    pub cap: i64,
}

/// A list (black, red, …).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ListDoc {
    pub name: String,
    pub name_zh: String,
    pub name_en: String,
    /// A member must also hold at least this grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_grade: Option<String>,
    /// A member must have no record in effect in these categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_categories: Vec<String>,
}

/// The decisions of one approval context.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MeasureDoc {
    /// List name → decision for its members.
    #[serde(default)]
    pub lists: BTreeMap<String, String>,
    /// Grade → decision.
    #[serde(default)]
    pub grades: BTreeMap<String, String>,
    /// Decision for an in-effect record whose item restricts this context.
    pub item_restriction: String,
}
