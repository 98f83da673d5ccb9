//! The answers a client reads (contract §5): a check's decision with its reasons, and the
//! credit report. Built from the store at a time `t`; serialised as the contract's JSON.

use std::collections::BTreeMap;

use credence_models::{Category, Context, Decision, Grade, Kind};
use serde::Serialize;

use crate::eval::{decide, evaluate, list_reasons, record_status, ReasonKind, Span};
use crate::id::SubjectKey;
use crate::store::Store;
use crate::subject::{Subject, OPEN};
use crate::time::{format_rfc3339, Ts};

/// `{"kind", "id"}`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SubjectRef {
    pub kind: Kind,
    pub id: String,
}

impl SubjectRef {
    pub fn of(key: SubjectKey) -> SubjectRef {
        SubjectRef {
            kind: key.kind(),
            id: key.text().as_str().to_owned(),
        }
    }
}

/// `{"name", "version"}` of the model that judged.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ModelRef {
    pub name: String,
    pub version: String,
}

/// One reason of a check. Fields in alphabetical order: serialised, the text is canonical
/// (keys sorted, no white space), which check receipts hash.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ReasonOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    /// `list`, `grade` or `item_restriction`.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A check's answer (without its receipt). Fields in alphabetical order, like [`ReasonOut`]
/// and [`ModelRef`]: `serde_json::to_string` of it is the canonical `answer_json`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CheckAnswer {
    pub as_of: String,
    pub decision: Decision,
    pub grade: Grade,
    pub lists: Vec<String>,
    pub model: ModelRef,
    pub reasons: Vec<ReasonOut>,
    pub score: i64,
    pub seq: u64,
}

/// A list membership in a report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ListEntry {
    pub list: String,
    pub since: String,
    pub until: Option<String>,
    pub reasons: Vec<String>,
}

/// Classified supervision.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Supervision {
    pub grade: Grade,
    pub inspection_rate: f64,
}

/// One category in a report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CategoryEntry {
    /// Records in effect.
    pub records: u32,
    /// Points contributed (the sum within the category's bounds).
    pub points: i64,
}

/// One record in a report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RecordEntry {
    pub record: String,
    pub item: String,
    pub item_name: String,
    pub item_name_zh: String,
    pub category: Category,
    pub occurred_at: String,
    pub effective_until: Option<String>,
    pub points: i64,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    /// Stream sequence of the add (its note can be fetched there).
    pub seq: u64,
}

/// The credit report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    pub subject: SubjectRef,
    pub known: bool,
    pub score: i64,
    pub grade: Grade,
    pub lists: Vec<ListEntry>,
    pub supervision: Supervision,
    pub categories: BTreeMap<Category, CategoryEntry>,
    pub records: Vec<RecordEntry>,
    pub model: ModelRef,
    pub as_of: String,
    pub seq: u64,
}

fn ts(t: Ts) -> String {
    format_rfc3339(t)
}

fn until(t: Ts) -> Option<String> {
    (t != OPEN).then(|| ts(t))
}

impl Store {
    /// Checks a subject in an approval context at `t`.
    pub fn check(&self, key: SubjectKey, ctx: Context, t: Ts) -> CheckAnswer {
        let judge = self.judge();
        let seq = self.last_seq();
        let empty = Subject::new();
        self.with_subject(key, |s| {
            let subject = s.unwrap_or(&empty);
            let fresh;
            let (facts, score, spans): ((u32, Grade, u8), i64, &[Span]) =
                if subject.cache.valid(&judge, t) {
                    let c = &subject.cache;
                    (
                        (c.list_mask, c.grade(), c.restricts),
                        c.score as i64,
                        c.spans.as_deref().unwrap_or(&[]),
                    )
                } else {
                    fresh = evaluate(&judge, subject, t);
                    (
                        (fresh.list_mask, fresh.grade, fresh.restricts),
                        fresh.score,
                        &fresh.lists,
                    )
                };
            let (decision, reasons) = decide(&judge, Some(subject), facts, spans, ctx, t);
            let model = &judge.model;
            let reasons = reasons
                .into_iter()
                .map(|r| {
                    let rec = r.record;
                    ReasonOut {
                        code: match r.kind {
                            ReasonKind::List(_) => "list",
                            ReasonKind::Grade(_) => "grade",
                            ReasonKind::Restriction => "item_restriction",
                        },
                        list: match r.kind {
                            ReasonKind::List(l) => Some(model.lists[l as usize].name.clone()),
                            _ => None,
                        },
                        grade: match r.kind {
                            ReasonKind::Grade(g) => Some(g),
                            _ => None,
                        },
                        record: rec.map(|v| self.record_name(v.rec.source, v.id)),
                        item: r.item.map(|i| i.code.clone()),
                        until: r.until.map(ts),
                        authority: rec.and_then(|v| self.text(v.rec.authority)),
                        document: rec.and_then(|v| v.document.map(str::to_owned)),
                        basis: rec.and_then(|v| self.text(v.rec.basis)),
                    }
                })
                .collect();
            CheckAnswer {
                decision,
                reasons,
                score,
                grade: facts.1,
                lists: list_names(model, facts.0),
                model: ModelRef {
                    name: model.name.clone(),
                    version: model.version.clone(),
                },
                as_of: ts(t),
                seq,
            }
        })
    }

    /// The credit report at `t`. `of_now`: a report of now shows pending records; a report
    /// at another time leaves out records that occur after it.
    pub fn report(&self, key: SubjectKey, t: Ts, of_now: bool) -> Report {
        let judge = self.judge();
        let seq = self.last_seq();
        let model = &judge.model;
        let empty = Subject::new();
        self.with_subject(key, |s| {
            let subject = s.unwrap_or(&empty);
            let a = evaluate(&judge, subject, t);
            let lists = a
                .lists
                .iter()
                .map(|span| ListEntry {
                    list: model.lists[span.list as usize].name.clone(),
                    since: ts(span.since),
                    until: span.until.map(ts),
                    reasons: list_reasons(&judge, subject, span.list, t)
                        .iter()
                        .map(|v| self.record_name(v.rec.source, v.id))
                        .collect(),
                })
                .collect();
            let categories = Category::ALL
                .iter()
                .map(|c| {
                    (
                        *c,
                        CategoryEntry {
                            records: a.category_records[c.index()],
                            points: a.category_points(model, *c),
                        },
                    )
                })
                .collect();
            let mut records: Vec<RecordEntry> = subject
                .records()
                .filter(|v| v.rec.live())
                .filter_map(|v| judge.item(v.rec.code).map(|it| (v, it)))
                .filter(|(v, _)| of_now || v.rec.occurred_at <= t)
                .map(|(v, it)| {
                    let status = record_status(it, v.rec, t);
                    RecordEntry {
                        record: self.record_name(v.rec.source, v.id),
                        item: it.code.clone(),
                        item_name: it.name_en.clone(),
                        item_name_zh: it.name_zh.clone(),
                        category: it.category,
                        occurred_at: ts(v.rec.occurred_at),
                        effective_until: until(v.rec.effective_until(it)),
                        points: it.record_points(v.value),
                        status: status.as_str(),
                        authority: self.text(v.rec.authority),
                        document: v.document.map(str::to_owned),
                        basis: self.text(v.rec.basis),
                        seq: v.rec.add_seq,
                    }
                })
                .collect();
            records.sort_by(|x, y| (&x.occurred_at, &x.record).cmp(&(&y.occurred_at, &y.record)));
            Report {
                subject: SubjectRef::of(key),
                known: a.known,
                score: a.score,
                grade: a.grade,
                lists,
                supervision: Supervision {
                    grade: a.grade,
                    inspection_rate: model.inspection_rate(a.grade),
                },
                categories,
                records,
                model: ModelRef {
                    name: model.name.clone(),
                    version: model.version.clone(),
                },
                as_of: ts(t),
                seq,
            }
        })
    }
}

impl Store {
    /// A subject's membership of `list` at `t` (since, until, reasons), from its cache when that
    /// answers for `t`: what a list page shows per member, without a whole report.
    pub fn list_entry(&self, key: SubjectKey, list: &str, t: Ts) -> Option<ListEntry> {
        let judge = self.judge();
        let id = judge.model.list_id(list)?;
        self.with_subject(key, |s| {
            let subject = s?;
            let fresh;
            let span = if subject.cache.valid(&judge, t) {
                *subject.cache.span(id)?
            } else {
                fresh = evaluate(&judge, subject, t);
                *fresh.lists.iter().find(|x| x.list == id)?
            };
            Some(ListEntry {
                list: list.to_owned(),
                since: ts(span.since),
                until: span.until.map(ts),
                reasons: list_reasons(&judge, subject, id, t)
                    .iter()
                    .map(|v| self.record_name(v.rec.source, v.id))
                    .collect(),
            })
        })
    }
}

fn list_names(model: &credence_models::Model, mask: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut m = mask;
    while m != 0 {
        let b = m.trailing_zeros() as usize;
        m &= m - 1;
        if let Some(l) = model.lists.get(b) {
            out.push(l.name.clone());
        }
    }
    out
}
