//! Evaluation: a pure function of (model, a subject's records, the time `t`), in integers —
//! category sums within bounds, score, grade, list memberships with since/until and reasons,
//! the decision of each approval context with every reason, record statuses, and when the
//! result next changes by itself.

use credence_models::{Category, Context, Decision, Grade, Item, ListId, Model};
use std::sync::Arc;

use crate::subject::{Record, RecordView, Subject, OPEN};
use crate::time::Ts;

/// A model as used for judging records: the model, and the map from the store's stable item
/// code ids (what records hold) to this model's item indexes.
#[derive(Debug)]
pub struct Judge {
    pub model: Arc<Model>,
    /// Position in the model history; caches are tagged with it.
    pub epoch: u32,
    /// Stream sequence of the control event that brought this model (0: the initial model).
    pub seq: u64,
    /// code id → item index, `u16::MAX` when this model lacks the code.
    by_code: Vec<u16>,
}

impl Judge {
    /// Builds a judge; `code_id` gives the stable id of each of the model's item codes.
    pub fn new(
        model: Arc<Model>,
        epoch: u32,
        seq: u64,
        mut code_id: impl FnMut(&str) -> u16,
    ) -> Judge {
        let mut by_code = Vec::new();
        for (i, it) in model.items.iter().enumerate() {
            let c = code_id(&it.code);
            // u16::MAX: a code no record can hold (a preview's new item).
            if c == u16::MAX {
                continue;
            }
            let c = c as usize;
            if by_code.len() <= c {
                by_code.resize(c + 1, u16::MAX);
            }
            by_code[c] = i as u16;
        }
        Judge {
            model,
            epoch,
            seq,
            by_code,
        }
    }

    /// The item of a record's code under this model.
    pub fn item(&self, code: u16) -> Option<&Item> {
        match self.by_code.get(code as usize) {
            Some(&i) if i != u16::MAX => Some(self.model.item(i)),
            _ => None,
        }
    }
}

/// A list membership with the span of time it holds over the records known now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub list: ListId,
    pub since: Ts,
    /// `None`: no known record ends it.
    pub until: Option<Ts>,
}

/// The compact assessment kept per subject for "now": valid at every `t` in
/// `[t, next_change)` under the judge of `epoch`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    pub epoch: u32,
    pub t: Ts,
    /// `OPEN` when nothing changes by itself; `Ts::MIN` when never computed.
    pub next_change: Ts,
    pub score: i32,
    pub in_effect: u32,
    pub grade: u8,
    pub restricts: u8,
    pub list_mask: u32,
    pub spans: Option<Box<[Span]>>,
}

impl Default for Cache {
    /// A cache never computed: valid nowhere.
    fn default() -> Cache {
        Cache {
            epoch: 0,
            t: 0,
            next_change: Ts::MIN,
            score: 0,
            in_effect: 0,
            grade: 0,
            restricts: 0,
            list_mask: 0,
            spans: None,
        }
    }
}

impl Cache {
    /// Whether this cache answers for time `t` under `judge`.
    pub fn valid(&self, judge: &Judge, t: Ts) -> bool {
        self.epoch == judge.epoch
            && self.next_change != Ts::MIN
            && self.t <= t
            && t < self.next_change
    }

    pub fn heap_bytes(&self) -> usize {
        self.spans
            .as_ref()
            .map_or(0, |s| s.len() * std::mem::size_of::<Span>())
    }

    pub fn grade(&self) -> Grade {
        Grade::ALL[self.grade as usize & 3]
    }

    pub fn from_assessment(a: &Assessment, epoch: u32) -> Cache {
        Cache {
            epoch,
            t: a.t,
            next_change: a.next_change_at.unwrap_or(OPEN),
            score: a.score as i32,
            in_effect: a.in_effect,
            grade: a.grade.index() as u8,
            restricts: a.restricts,
            list_mask: a.list_mask,
            spans: (!a.lists.is_empty()).then(|| a.lists.clone().into_boxed_slice()),
        }
    }

    pub fn span(&self, list: ListId) -> Option<&Span> {
        self.spans
            .as_deref()
            .and_then(|s| s.iter().find(|x| x.list == list))
    }
}

/// Everything evaluation says about a subject at `t`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    pub t: Ts,
    /// Any live record that occurred at or before `t`.
    pub known: bool,
    pub score: i64,
    pub grade: Grade,
    /// Raw sum of points in effect per category (before bounds).
    pub category_sums: [i64; Category::COUNT],
    pub category_records: [u32; Category::COUNT],
    pub lists: Vec<Span>,
    pub list_mask: u32,
    /// Mask of contexts restricted by an item in effect.
    pub restricts: u8,
    pub in_effect: u32,
    /// When the result next changes by itself (a record takes or ends effect).
    pub next_change_at: Option<Ts>,
}

impl Assessment {
    /// The contribution of a category to the score (its sum within its bounds).
    pub fn category_points(&self, model: &Model, c: Category) -> i64 {
        let (lo, hi) = model.scoring.category_bounds[c.index()];
        self.category_sums[c.index()].clamp(lo, hi)
    }
}

/// A record's status at `t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    InEffect,
    Expired,
    Repaired,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::InEffect => "in_effect",
            Status::Expired => "expired",
            Status::Repaired => "repaired",
        }
    }
}

/// A live record's interval of effect under a judge.
#[derive(Clone, Copy, Debug)]
struct Interval<'a> {
    start: Ts,
    end: Ts,
    item: &'a Item,
    points: i64,
}

fn points_of(item: &Item, v: &RecordView<'_>) -> i64 {
    item.record_points(v.value)
}

/// The status of a live record at `t`, its effective end, and its points.
pub fn record_status(item: &Item, rec: &Record, t: Ts) -> Status {
    let end = rec.effective_until(item);
    if rec.occurred_at > t {
        Status::Pending
    } else if t < end {
        Status::InEffect
    } else if rec.repaired_at < rec.natural_end(item) {
        Status::Repaired
    } else {
        Status::Expired
    }
}

/// Evaluates a subject at `t`.
pub fn evaluate(judge: &Judge, subject: &Subject, t: Ts) -> Assessment {
    let model = &*judge.model;
    let mut intervals: Vec<Interval<'_>> = Vec::with_capacity(subject.len());
    let mut known = false;
    for v in subject.records() {
        if !v.rec.live() {
            continue;
        }
        let Some(item) = judge.item(v.rec.code) else {
            continue;
        };
        known |= v.rec.occurred_at <= t;
        let start = v.rec.occurred_at;
        let end = v.rec.effective_until(item);
        if start < end {
            intervals.push(Interval {
                start,
                end,
                item,
                points: points_of(item, &v),
            });
        }
    }
    let mut sums = [0i64; Category::COUNT];
    let mut counts = [0u32; Category::COUNT];
    let mut triggers = 0u32;
    let mut restricts = 0u8;
    let mut next: Ts = OPEN;
    for iv in &intervals {
        if iv.start <= t && t < iv.end {
            sums[iv.item.category.index()] += iv.points;
            counts[iv.item.category.index()] += 1;
            triggers |= iv.item.lists;
            restricts |= iv.item.restricts;
        }
        if iv.start > t {
            next = next.min(iv.start);
        }
        if iv.end > t {
            next = next.min(iv.end);
        }
    }
    let score = model.scoring.score(&sums);
    let grade = model.scoring.grade(score);
    let list_mask = membership(model, grade, &counts, triggers);
    let lists = if list_mask != 0 {
        spans(model, &intervals, t, list_mask)
    } else {
        Vec::new()
    };
    Assessment {
        t,
        known,
        score,
        grade,
        category_sums: sums,
        category_records: counts,
        lists,
        list_mask,
        restricts,
        in_effect: counts.iter().sum(),
        next_change_at: (next != OPEN).then_some(next),
    }
}

/// Which lists hold, given the grade, the records in effect per category and the lists their
/// items trigger.
fn membership(model: &Model, grade: Grade, counts: &[u32; Category::COUNT], triggers: u32) -> u32 {
    let mut present = 0u8;
    for (i, n) in counts.iter().enumerate() {
        if *n > 0 {
            present |= 1 << i;
        }
    }
    let mut mask = 0u32;
    for (i, list) in model.lists.iter().enumerate() {
        if triggers & (1 << i) == 0 {
            continue;
        }
        if list.min_grade.is_some_and(|g| grade > g) {
            continue;
        }
        if list.exclude_categories & present != 0 {
            continue;
        }
        mask |= 1 << i;
    }
    mask
}

/// Since and until of each list in `mask` at `t`: a sweep over every start and end of the
/// known records, evaluating membership on each elementary interval.
fn spans(model: &Model, intervals: &[Interval<'_>], t: Ts, mask: u32) -> Vec<Span> {
    // Change points: (time, index, +1 start / -1 end).
    let mut points: Vec<(Ts, i8, usize)> = Vec::with_capacity(intervals.len() * 2);
    for (i, iv) in intervals.iter().enumerate() {
        points.push((iv.start, 1, i));
        if iv.end != OPEN {
            points.push((iv.end, -1, i));
        }
    }
    points.sort_unstable();
    let mut sums = [0i64; Category::COUNT];
    let mut counts = [0u32; Category::COUNT];
    let mut trigger_counts = [0u32; 32];
    // Segments: (start time, membership mask) in time order; before the first point, none.
    let mut segments: Vec<(Ts, u32)> = Vec::new();
    let mut k = 0;
    while k < points.len() {
        let at = points[k].0;
        while k < points.len() && points[k].0 == at {
            let (_, dir, i) = points[k];
            let iv = &intervals[i];
            let c = iv.item.category.index();
            if dir > 0 {
                sums[c] += iv.points;
                counts[c] += 1;
            } else {
                sums[c] -= iv.points;
                counts[c] -= 1;
            }
            let mut l = iv.item.lists;
            while l != 0 {
                let b = l.trailing_zeros() as usize;
                if dir > 0 {
                    trigger_counts[b] += 1;
                } else {
                    trigger_counts[b] -= 1;
                }
                l &= l - 1;
            }
            k += 1;
        }
        let triggers =
            trigger_counts
                .iter()
                .enumerate()
                .fold(0u32, |m, (i, n)| if *n > 0 { m | 1 << i } else { m });
        let grade = model.scoring.grade(model.scoring.score(&sums));
        segments.push((at, membership(model, grade, &counts, triggers)));
    }
    // The segment holding t.
    let idx = match segments.iter().rposition(|(s, _)| *s <= t) {
        Some(i) => i,
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    let mut m = mask;
    while m != 0 {
        let b = m.trailing_zeros();
        m &= m - 1;
        let bit = 1u32 << b;
        let mut first = idx;
        while first > 0 && segments[first - 1].1 & bit != 0 {
            first -= 1;
        }
        let mut last = idx;
        while last + 1 < segments.len() && segments[last + 1].1 & bit != 0 {
            last += 1;
        }
        let until = segments.get(last + 1).map(|s| s.0);
        out.push(Span {
            list: b as ListId,
            since: segments[first].0,
            until,
        });
    }
    out
}

/// Why a check decided what it did.
#[derive(Clone, Debug, PartialEq)]
pub enum ReasonKind {
    /// A list the subject is on, through one of its records.
    List(ListId),
    /// The subject's grade.
    Grade(Grade),
    /// An item in effect that restricts the context.
    Restriction,
}

/// One reason, pointing at the record behind it where there is one.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason<'a> {
    pub kind: ReasonKind,
    pub record: Option<RecordView<'a>>,
    pub item: Option<&'a Item>,
    pub until: Option<Ts>,
}

/// The decision of `ctx` for a subject at `t` with its assessment facts (`list_mask`,
/// `grade`, `restricts`), and every reason that led to it.
pub fn decide<'a>(
    judge: &'a Judge,
    subject: Option<&'a Subject>,
    facts: (u32, Grade, u8),
    spans: &[Span],
    ctx: Context,
    t: Ts,
) -> (Decision, Vec<Reason<'a>>) {
    let (list_mask, grade, restricts) = facts;
    let measure = judge.model.measure(ctx);
    let mut decision = measure.grades[grade.index()];
    let mut m = list_mask;
    while m != 0 {
        let b = m.trailing_zeros() as usize;
        m &= m - 1;
        decision = decision.max(measure.lists[b]);
    }
    let restricted = restricts & (1 << ctx.index()) != 0;
    if restricted {
        decision = decision.max(measure.item_restriction);
    }
    let mut reasons = Vec::new();
    if decision == Decision::Allow {
        return (decision, reasons);
    }
    if measure.grades[grade.index()] == decision {
        reasons.push(Reason {
            kind: ReasonKind::Grade(grade),
            record: None,
            item: None,
            until: None,
        });
    }
    let Some(subject) = subject else {
        return (decision, reasons);
    };
    // Records in effect at t, once.
    let in_effect: Vec<(RecordView<'a>, &'a Item)> = subject
        .records()
        .filter(|v| v.rec.live())
        .filter_map(|v| judge.item(v.rec.code).map(|it| (v, it)))
        .filter(|(v, it)| v.rec.occurred_at <= t && t < v.rec.effective_until(it))
        .collect();
    let mut m = list_mask;
    while m != 0 {
        let b = m.trailing_zeros() as usize;
        m &= m - 1;
        if measure.lists[b] != decision {
            continue;
        }
        let until = spans
            .iter()
            .find(|s| s.list as usize == b)
            .and_then(|s| s.until);
        for (v, it) in &in_effect {
            if it.lists & (1 << b) != 0 {
                reasons.push(Reason {
                    kind: ReasonKind::List(b as ListId),
                    record: Some(*v),
                    item: Some(it),
                    until,
                });
            }
        }
    }
    if restricted && measure.item_restriction == decision {
        for (v, it) in &in_effect {
            if it.restricts(ctx) {
                let end = v.rec.effective_until(it);
                reasons.push(Reason {
                    kind: ReasonKind::Restriction,
                    record: Some(*v),
                    item: Some(it),
                    until: (end != OPEN).then_some(end),
                });
            }
        }
    }
    (decision, reasons)
}

/// The records of `list` in effect at `t` that trigger it (a membership's reasons).
pub fn list_reasons<'a>(
    judge: &'a Judge,
    subject: &'a Subject,
    list: ListId,
    t: Ts,
) -> Vec<RecordView<'a>> {
    subject
        .records()
        .filter(|v| v.rec.live())
        .filter(|v| {
            judge.item(v.rec.code).is_some_and(|it| {
                it.lists & (1 << list) != 0
                    && v.rec.occurred_at <= t
                    && t < v.rec.effective_until(it)
            })
        })
        .collect()
}

impl PartialEq for RecordView<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.rec == other.rec && self.id == other.id
    }
}
