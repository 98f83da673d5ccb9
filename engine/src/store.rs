//! The store: every subject's state in a concurrent map, the model history, the time index of
//! each subject's next change, and the state's counters. `apply` is called by one writer in
//! stream order; checks and reports read concurrently. Time is always passed in.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use arc_swap::ArcSwap;
use credence_models::{Kind, Model, Problem};
use dashmap::DashMap;

use crate::error::Rejection;
use crate::eval::{evaluate, list_reasons, Assessment, Cache, Judge};
use crate::event::{decode, Decoded, Event, Op};
use crate::id::SubjectKey;
use crate::intern::Interner;
use crate::subject::{AddFields, Effect, Subject, OPEN};
use crate::time::Ts;

/// The subject map's hasher: seeded at random per process (identifiers come from the network).
pub type Hasher = ahash::RandomState;

/// The counters that belong to the state (they survive restarts through snapshots).
#[derive(Debug, Default)]
pub struct Counters {
    pub events_applied: AtomicU64,
    pub events_duplicate: AtomicU64,
    pub events_rejected: AtomicU64,
    pub records_in_effect: AtomicI64,
}

/// A plain copy of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct CounterValues {
    pub events_applied: u64,
    pub events_duplicate: u64,
    pub events_rejected: u64,
}

/// A change of list membership, to be published on `credit.lists.<list>.<kind>.<added|removed>`.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct ListChange {
    /// [`SubjectKey::to_bits`].
    pub subject: u128,
    pub list: String,
    pub added: bool,
    pub since: Ts,
    pub until: Option<Ts>,
    /// Record ids (`<source>:<record>`) behind the membership.
    pub reasons: Vec<String>,
    /// When the change happened.
    pub at: Ts,
    /// The stream sequence of the event or control event that caused it, or the last applied
    /// sequence for a change caused by the passage of time.
    pub seq: u64,
    /// What caused it.
    pub cause: Cause,
}

impl ListChange {
    pub fn subject_key(&self) -> Option<SubjectKey> {
        SubjectKey::from_bits(self.subject)
    }

    /// A stable identity for JetStream's dedupe: the same change computed again after a crash
    /// gets the same id.
    pub fn msg_id(&self) -> String {
        let op = if self.added { "added" } else { "removed" };
        match self.cause {
            Cause::Time => format!(
                "lists:{}:{:032x}:{op}:t{}",
                self.list, self.subject, self.at
            ),
            _ => format!(
                "lists:{}:{:032x}:{op}:s{}",
                self.list, self.subject, self.seq
            ),
        }
    }
}

/// What caused a list change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub enum Cause {
    Event,
    Time,
    Model,
}

/// What applying one message did.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// A redelivery of a sequence already applied: nothing happened, nothing counted.
    Skipped,
    Applied,
    Duplicate,
    /// A duplicate add whose content differs from the add on file (copy it to the DLQ).
    Conflict,
    Rejected(Rejection),
    /// A control event brought a new model (epoch in the history).
    ModelApplied {
        epoch: u32,
    },
    /// A control event carried the model already in force.
    ModelUnchanged,
    /// A control event whose model is not valid: ignored.
    ModelRejected(Vec<Problem>),
}

/// The result of `apply`: the outcome and the list changes it caused.
#[derive(Debug)]
pub struct Applied {
    pub outcome: Outcome,
    pub changes: Vec<ListChange>,
}

/// The time index: each subject's next change, one entry per subject.
#[derive(Debug, Default)]
pub struct TimeIndex {
    set: BTreeSet<(Ts, SubjectKey)>,
}

impl TimeIndex {
    /// Moves a subject's entry from `old` to `new` (`OPEN` or `Ts::MIN` = no entry).
    pub fn update(&mut self, key: SubjectKey, old: Ts, new: Ts) {
        if old == new {
            return;
        }
        if old != OPEN && old != Ts::MIN {
            self.set.remove(&(old, key));
        }
        if new != OPEN && new != Ts::MIN {
            self.set.insert((new, key));
        }
    }

    /// Removes and returns the subjects due at or before `now`, at most `limit`.
    pub fn pop_due(&mut self, now: Ts, limit: usize) -> Vec<(Ts, SubjectKey)> {
        let mut out = Vec::new();
        while out.len() < limit {
            match self.set.first() {
                Some(&(t, k)) if t <= now => {
                    self.set.pop_first();
                    out.push((t, k));
                }
                _ => break,
            }
        }
        out
    }

    /// The earliest due time.
    pub fn next_due(&self) -> Option<Ts> {
        self.set.first().map(|e| e.0)
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// All subjects' credit state.
pub struct Store {
    pub(crate) subjects: DashMap<SubjectKey, Subject, Hasher>,
    /// Model history: index = epoch.
    pub(crate) judges: RwLock<Vec<Arc<Judge>>>,
    /// The judge in force (the last of the history), swapped whole.
    current: ArcSwap<Judge>,
    /// Stable ids of item codes across models.
    pub(crate) codes: RwLock<Interner>,
    /// Producer names, authorities and legal bases.
    pub(crate) texts: RwLock<Interner>,
    pub(crate) index: Mutex<TimeIndex>,
    pub(crate) counters: Counters,
    pub(crate) last_seq: AtomicU64,
    /// Current members of each list, by list name, ordered by key (for stable pagination).
    pub(crate) members: RwLock<HashMap<String, BTreeSet<SubjectKey>>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("subjects", &self.subjects.len())
            .field("last_seq", &self.last_seq())
            .finish()
    }
}

impl Store {
    /// An empty store judged by `model` until the stream says otherwise.
    pub fn new(model: Arc<Model>) -> Store {
        Store::with_capacity(model, 0)
    }

    /// An empty store with room for `subjects`.
    pub fn with_capacity(model: Arc<Model>, subjects: usize) -> Store {
        let mut codes = Interner::new();
        let judge = Arc::new(Judge::new(model, 0, 0, |c| codes.intern(c) as u16));
        Store {
            subjects: DashMap::with_capacity_and_hasher(subjects, Hasher::new()),
            judges: RwLock::new(vec![judge.clone()]),
            current: ArcSwap::new(judge),
            codes: RwLock::new(codes),
            texts: RwLock::new(Interner::new()),
            index: Mutex::new(TimeIndex::default()),
            counters: Counters::default(),
            last_seq: AtomicU64::new(0),
            members: RwLock::new(HashMap::new()),
        }
    }

    /// The judge (model) in force.
    pub fn judge(&self) -> Arc<Judge> {
        self.current.load_full()
    }

    /// The model history: (stream sequence, model) in order.
    pub fn model_history(&self) -> Vec<(u64, Arc<Model>)> {
        read(&self.judges)
            .iter()
            .map(|j| (j.seq, j.model.clone()))
            .collect()
    }

    /// The last stream sequence applied (0: none).
    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Acquire)
    }

    pub fn counters(&self) -> CounterValues {
        CounterValues {
            events_applied: self.counters.events_applied.load(Ordering::Relaxed),
            events_duplicate: self.counters.events_duplicate.load(Ordering::Relaxed),
            events_rejected: self.counters.events_rejected.load(Ordering::Relaxed),
        }
    }

    /// Records in effect now, over all subjects (as of each subject's last evaluation).
    pub fn records_in_effect(&self) -> u64 {
        self.counters
            .records_in_effect
            .load(Ordering::Relaxed)
            .max(0) as u64
    }

    /// Subjects with any state.
    pub fn subject_count(&self) -> usize {
        self.subjects.len()
    }

    /// Subjects waiting in the time index.
    pub fn time_index_len(&self) -> usize {
        lock(&self.index).len()
    }

    /// The earliest time at which some subject changes by itself.
    pub fn next_due(&self) -> Option<Ts> {
        lock(&self.index).next_due()
    }

    /// Looks up a text id's string (producer, authority, basis).
    pub fn text(&self, id: u32) -> Option<String> {
        read(&self.texts).get(id).map(str::to_owned)
    }

    /// Runs `f` over a subject's state (`None`: no state).
    pub fn with_subject<R>(&self, key: SubjectKey, f: impl FnOnce(Option<&Subject>) -> R) -> R {
        match self.subjects.get(&key) {
            Some(s) => f(Some(&s)),
            None => f(None),
        }
    }

    /// Applies one message of `CREDIT_EVENTS` in stream order at time `now`.
    pub fn apply(&self, subject: &str, payload: &[u8], seq: u64, now: Ts) -> Applied {
        if seq != 0 && seq <= self.last_seq() {
            return Applied {
                outcome: Outcome::Skipped,
                changes: Vec::new(),
            };
        }
        let judge = self.judge();
        let result = match decode(subject, payload, &judge.model) {
            Err(r) => {
                self.counters
                    .events_rejected
                    .fetch_add(1, Ordering::Relaxed);
                Applied {
                    outcome: Outcome::Rejected(r),
                    changes: Vec::new(),
                }
            }
            Ok(Decoded::Control(bytes)) => self.apply_model(bytes, seq),
            Ok(Decoded::Event(e)) => self.apply_event(&judge, &e, seq, now),
        };
        if seq != 0 {
            self.last_seq.store(seq, Ordering::Release);
        }
        result
    }

    /// Counts a message rejected before it reached the store (e.g. by the connector).
    pub fn count_rejected(&self, seq: u64) {
        self.counters
            .events_rejected
            .fetch_add(1, Ordering::Relaxed);
        if seq > self.last_seq() {
            self.last_seq.store(seq, Ordering::Release);
        }
    }

    fn apply_model(&self, bytes: &[u8], seq: u64) -> Applied {
        let model = match Model::from_json(bytes) {
            Ok(m) => m,
            Err(e) => {
                return Applied {
                    outcome: Outcome::ModelRejected(e.problems()),
                    changes: Vec::new(),
                }
            }
        };
        let epoch = self.install_model(Arc::new(model), seq);
        let outcome = match epoch {
            Some(epoch) => Outcome::ModelApplied { epoch },
            None => Outcome::ModelUnchanged,
        };
        Applied {
            outcome,
            changes: Vec::new(),
        }
    }

    /// Replaces the model history (snapshot restore).
    pub(crate) fn set_history(&self, judges: Vec<Arc<Judge>>) {
        if let Some(last) = judges.last() {
            self.current.store(last.clone());
        }
        *write(&self.judges) = judges;
    }

    /// Makes `model` the one in force from `seq` on; `None` if it is already in force.
    pub fn install_model(&self, model: Arc<Model>, seq: u64) -> Option<u32> {
        if self.judge().model.content_hash == model.content_hash {
            return None;
        }
        let mut judges = write(&self.judges);
        let epoch = judges.len() as u32;
        let judge = {
            let mut codes = write(&self.codes);
            Arc::new(Judge::new(model, epoch, seq, |c| codes.intern(c) as u16))
        };
        judges.push(judge.clone());
        self.current.store(judge);
        Some(epoch)
    }

    fn apply_event(&self, judge: &Judge, e: &Event<'_>, seq: u64, now: Ts) -> Applied {
        let source = self.intern(e.source);
        let mut entry = self.subjects.entry(e.subject).or_default();
        let subject = entry.value_mut();
        let mut changes = self.refresh(judge, e.subject, subject, now);
        let before = self.before(judge, subject, now);
        let effect = match e.op {
            Op::Add => {
                let code = e
                    .item
                    .and_then(|i| read(&self.codes).lookup(&judge.model.item(i).code))
                    .unwrap_or(u32::MAX) as u16;
                let fields = AddFields {
                    code,
                    occurred_at: e.occurred_at,
                    expires_at: e.expires_at,
                    value: e.value,
                    document: e.document.as_deref(),
                    authority: e.authority.as_deref().map_or(0, |a| self.intern(a)),
                    basis: e.basis.as_deref().map_or(0, |b| self.intern(b)),
                    fingerprint: e.content_fingerprint(),
                    seq,
                };
                subject.add(source, &e.record, &fields)
            }
            Op::Revoke => subject.revoke(source, &e.record),
            Op::Repair => subject.repair(source, &e.record, e.occurred_at),
        };
        let (outcome, changed) = match effect {
            Effect::Applied => {
                self.counters.events_applied.fetch_add(1, Ordering::Relaxed);
                (Outcome::Applied, true)
            }
            Effect::Duplicate { changed } => {
                self.counters
                    .events_duplicate
                    .fetch_add(1, Ordering::Relaxed);
                (Outcome::Duplicate, changed)
            }
            Effect::Conflict => {
                self.counters
                    .events_duplicate
                    .fetch_add(1, Ordering::Relaxed);
                (Outcome::Conflict, false)
            }
        };
        if changed {
            let after = evaluate(judge, subject, now);
            self.diff(
                judge,
                e.subject,
                subject,
                &before,
                &after,
                now,
                seq,
                Cause::Event,
                &mut changes,
            );
            self.set_cache(
                e.subject,
                subject,
                Cache::from_assessment(&after, judge.epoch),
            );
        }
        Applied { outcome, changes }
    }

    fn intern(&self, s: &str) -> u32 {
        if let Some(id) = read(&self.texts).lookup(s) {
            return id;
        }
        write(&self.texts).intern(s)
    }

    /// Brings a subject's cache up to `now` under `judge`, stepping through every change point
    /// on the way so that each list change is reported at the time it happened.
    fn refresh(
        &self,
        judge: &Judge,
        key: SubjectKey,
        subject: &mut Subject,
        now: Ts,
    ) -> Vec<ListChange> {
        let mut changes = Vec::new();
        if subject.cache.valid(judge, now) {
            return changes;
        }
        let computed = subject.cache.next_change != Ts::MIN;
        if computed && subject.cache.epoch == judge.epoch && subject.cache.t <= now {
            // Same model: step through the changes due since the cache was made.
            while subject.cache.next_change <= now {
                let at = subject.cache.next_change;
                let before = self.before(judge, subject, at - 1);
                let after = evaluate(judge, subject, at);
                self.diff(
                    judge,
                    key,
                    subject,
                    &before,
                    &after,
                    at,
                    self.last_seq(),
                    Cause::Time,
                    &mut changes,
                );
                self.set_cache(key, subject, Cache::from_assessment(&after, judge.epoch));
            }
        }
        if !subject.cache.valid(judge, now) {
            // Another model, no cache yet, or a clock that went back: evaluate afresh.
            let after = evaluate(judge, subject, now);
            if computed {
                let old = read(&self.judges)
                    .get(subject.cache.epoch as usize)
                    .cloned();
                let old = old.as_deref().unwrap_or(judge);
                let before = self.before(old, subject, now);
                let cause = if old.epoch != judge.epoch {
                    Cause::Model
                } else {
                    Cause::Time
                };
                let seq = if cause == Cause::Model {
                    judge.seq
                } else {
                    self.last_seq()
                };
                self.diff(
                    judge,
                    key,
                    subject,
                    &before,
                    &after,
                    now,
                    seq,
                    cause,
                    &mut changes,
                );
            }
            self.set_cache(key, subject, Cache::from_assessment(&after, judge.epoch));
        }
        changes
    }

    /// A subject's lists at `t` under `judge`, with the reasons of each, before a change.
    fn before(&self, judge: &Judge, subject: &Subject, t: Ts) -> Before {
        let (mask, spans) = if subject.cache.valid(judge, t) {
            (
                subject.cache.list_mask,
                subject.cache.spans.as_deref().unwrap_or(&[]).to_vec(),
            )
        } else {
            let a = evaluate(judge, subject, t);
            (a.list_mask, a.lists)
        };
        let mut reasons = Vec::new();
        let mut m = mask;
        while m != 0 {
            let b = m.trailing_zeros() as u8;
            m &= m - 1;
            for v in list_reasons(judge, subject, b, t) {
                reasons.push((b, self.record_name(v.rec.source, v.id)));
            }
        }
        Before {
            mask,
            spans,
            reasons,
        }
    }

    fn set_cache(&self, key: SubjectKey, subject: &mut Subject, cache: Cache) {
        let old = std::mem::replace(&mut subject.cache, cache);
        let new = &subject.cache;
        let delta = new.in_effect as i64
            - if old.next_change == Ts::MIN {
                0
            } else {
                old.in_effect as i64
            };
        if delta != 0 {
            self.counters
                .records_in_effect
                .fetch_add(delta, Ordering::Relaxed);
        }
        lock(&self.index).update(key, old.next_change, new.next_change);
        if old.list_mask != new.list_mask || (old.epoch != new.epoch && old.list_mask != 0) {
            self.update_members(key, &old, new);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn diff(
        &self,
        judge: &Judge,
        key: SubjectKey,
        subject: &Subject,
        before: &Before,
        after: &Assessment,
        at: Ts,
        seq: u64,
        cause: Cause,
        out: &mut Vec<ListChange>,
    ) {
        let changed = before.mask ^ after.list_mask;
        let mut m = changed;
        while m != 0 {
            let b = m.trailing_zeros() as usize;
            m &= m - 1;
            let Some(list) = judge.model.lists.get(b) else {
                continue;
            };
            let added = after.list_mask & (1 << b) != 0;
            let (since, until, reasons) = if added {
                let span = after.lists.iter().find(|s| s.list as usize == b);
                let reasons = list_reasons(judge, subject, b as u8, at)
                    .iter()
                    .map(|v| self.record_name(v.rec.source, v.id))
                    .collect();
                (
                    span.map_or(at, |s| s.since),
                    span.and_then(|s| s.until),
                    reasons,
                )
            } else {
                let since = before
                    .spans
                    .iter()
                    .find(|s| s.list as usize == b)
                    .map_or(at, |s| s.since);
                let reasons = before
                    .reasons
                    .iter()
                    .filter(|(l, _)| *l as usize == b)
                    .map(|(_, r)| r.clone())
                    .collect();
                (since, Some(at), reasons)
            };
            out.push(ListChange {
                subject: key.to_bits(),
                list: list.name.clone(),
                added,
                since,
                until,
                reasons,
                at,
                seq,
                cause,
            });
        }
    }

    /// `<source>:<record>`.
    pub fn record_name(&self, source: u32, record: &str) -> String {
        let texts = read(&self.texts);
        format!("{}:{record}", texts.get(source).unwrap_or("?"))
    }

    /// Re-evaluates every subject due by `now` (the passage of time), at most `limit`;
    /// returns the list changes, each at the time it happened.
    pub fn tick(&self, now: Ts, limit: usize) -> Vec<ListChange> {
        let judge = self.judge();
        let due = lock(&self.index).pop_due(now, limit);
        let mut changes = Vec::new();
        for (_, key) in due {
            // The entry is out of the index; refresh puts the subject's next change back.
            if let Some(mut s) = self.subjects.get_mut(&key) {
                changes.extend(self.refresh(&judge, key, &mut s, now));
            }
        }
        changes
    }

    /// Re-evaluates every subject under the model in force at `now` (after a model swap);
    /// returns the list changes it causes.
    pub fn reevaluate_all(&self, now: Ts) -> Vec<ListChange> {
        let judge = self.judge();
        let keys: Vec<SubjectKey> = self.subjects.iter().map(|e| *e.key()).collect();
        let mut changes = Vec::new();
        for key in keys {
            if let Some(mut s) = self.subjects.get_mut(&key) {
                changes.extend(self.refresh(&judge, key, &mut s, now));
            }
        }
        changes
    }

    /// Every subject's key (for work done in chunks).
    pub fn subject_keys(&self) -> Vec<SubjectKey> {
        self.subjects.iter().map(|e| *e.key()).collect()
    }

    /// Re-evaluates these subjects under the model in force at `now` (a chunk of a model
    /// swap's re-evaluation); returns the list changes.
    pub fn reevaluate(&self, keys: &[SubjectKey], now: Ts) -> Vec<ListChange> {
        let judge = self.judge();
        let mut changes = Vec::new();
        for key in keys {
            if let Some(mut s) = self.subjects.get_mut(key) {
                changes.extend(self.refresh(&judge, *key, &mut s, now));
            }
        }
        changes
    }

    /// Evaluates a subject at `t` under the model in force (fresh, not from the cache).
    pub fn assess(&self, key: SubjectKey, t: Ts) -> Assessment {
        let judge = self.judge();
        self.with_subject(key, |s| match s {
            Some(s) => evaluate(&judge, s, t),
            None => evaluate(&judge, &Subject::new(), t),
        })
    }

    /// Moves a subject between list member sets after its cache changed from `old` to `new`.
    fn update_members(&self, key: SubjectKey, old: &Cache, new: &Cache) {
        let judges = read(&self.judges);
        let names = |c: &Cache| -> Vec<String> {
            judges
                .get(c.epoch as usize)
                .map(|j| list_names(j, c.list_mask))
                .unwrap_or_default()
        };
        let (was, now) = (
            if old.next_change == Ts::MIN {
                Vec::new()
            } else {
                names(old)
            },
            names(new),
        );
        drop(judges);
        let mut members = write(&self.members);
        for l in &was {
            if !now.contains(l) {
                if let Some(set) = members.get_mut(l) {
                    set.remove(&key);
                }
            }
        }
        for l in now {
            members.entry(l).or_default().insert(key);
        }
    }

    /// Rebuilds the list member sets from the caches (after a restore).
    pub(crate) fn rebuild_members(&self) {
        let judge = self.judge();
        let mut members: HashMap<String, BTreeSet<SubjectKey>> = HashMap::new();
        for e in self.subjects.iter() {
            let mut m = e.value().cache.list_mask;
            while m != 0 {
                let b = m.trailing_zeros() as usize;
                m &= m - 1;
                if let Some(l) = judge.model.lists.get(b) {
                    members.entry(l.name.clone()).or_default().insert(*e.key());
                }
            }
        }
        *write(&self.members) = members;
    }

    /// A page of a list's current members, in key order, after `after`, of `kind` if given:
    /// (members, the cursor of the next page if there is one). Stable under changes: a member
    /// present throughout is returned exactly once across the pages.
    pub fn list_page(
        &self,
        list: &str,
        kind: Option<Kind>,
        after: Option<SubjectKey>,
        limit: usize,
    ) -> (Vec<SubjectKey>, Option<SubjectKey>) {
        let members = read(&self.members);
        let Some(set) = members.get(list) else {
            return (Vec::new(), None);
        };
        let range = match after {
            Some(a) => set.range((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
            None => set.range(..),
        };
        let mut page: Vec<SubjectKey> = range
            .filter(|k| kind.is_none_or(|want| k.kind() == want))
            .take(limit + 1)
            .copied()
            .collect();
        let next = if page.len() > limit {
            page.truncate(limit);
            page.last().copied()
        } else {
            None
        };
        (page, next)
    }

    /// How many members each list has now.
    pub fn list_sizes(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = read(&self.members)
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect();
        out.sort();
        out
    }

    /// A judge for `model` that is not installed (for previews): codes the store has never
    /// seen map to no record.
    pub fn preview_judge(&self, model: Arc<Model>) -> Judge {
        let codes = read(&self.codes);
        Judge::new(model, u32::MAX, 0, |c| {
            codes.lookup(c).map_or(u16::MAX, |id| id as u16)
        })
    }

    /// Item codes of the model in force that some record on file (live or not) holds.
    pub fn codes_in_use(&self) -> std::collections::HashSet<String> {
        let judge = self.judge();
        let mut ids = std::collections::HashSet::new();
        for e in self.subjects.iter() {
            for (rec, _) in e.value().record_values() {
                if rec.flags & crate::subject::HAS_ADD != 0 {
                    ids.insert(rec.code);
                }
            }
        }
        ids.into_iter()
            .filter_map(|c| judge.item(c).map(|it| it.code.clone()))
            .collect()
    }

    /// What `model` would change at `now` if it were in force: subjects whose grade changes,
    /// and who would join or leave each list, with up to `samples` subjects of each.
    pub fn preview(&self, model: Arc<Model>, now: Ts, samples: usize) -> Preview {
        let old = self.judge();
        let new = self.preview_judge(model);
        let mut p = Preview::default();
        for e in self.subjects.iter() {
            let key = *e.key();
            let s = e.value();
            let a = if s.cache.valid(&old, now) {
                (s.cache.grade(), list_names(&old, s.cache.list_mask))
            } else {
                let x = evaluate(&old, s, now);
                (x.grade, list_names(&old, x.list_mask))
            };
            let b = evaluate(&new, s, now);
            let b = (b.grade, list_names(&new, b.list_mask));
            p.subjects += 1;
            if a.0 != b.0 {
                p.grade_changes += 1;
                if p.grade_samples.len() < samples {
                    p.grade_samples.push((key, a.0, b.0));
                }
            }
            for l in &b.1 {
                if !a.1.contains(l) {
                    let e = p.joins.entry(l.clone()).or_insert_with(|| (0, Vec::new()));
                    e.0 += 1;
                    if e.1.len() < samples {
                        e.1.push(key);
                    }
                }
            }
            for l in &a.1 {
                if !b.1.contains(l) {
                    let e = p.leaves.entry(l.clone()).or_insert_with(|| (0, Vec::new()));
                    e.0 += 1;
                    if e.1.len() < samples {
                        e.1.push(key);
                    }
                }
            }
            if a.0 != b.0 || a.1 != b.1 {
                p.changed += 1;
            }
        }
        p
    }

    /// Approximate heap bytes of the subjects' state (records, arenas, caches), the map's
    /// table, the time index and the interners.
    pub fn memory(&self) -> MemoryUse {
        let mut heap = 0usize;
        let mut records = 0usize;
        for e in self.subjects.iter() {
            heap += e.value().heap_bytes();
            records += e.value().len();
        }
        let table = self.subjects.capacity()
            * (std::mem::size_of::<SubjectKey>() + std::mem::size_of::<Subject>() + 1);
        let index = lock(&self.index).len() * 48;
        let interned = read(&self.texts).heap_bytes();
        MemoryUse {
            subjects: self.subjects.len(),
            records,
            subject_heap: heap,
            table,
            index,
            interned,
        }
    }

    /// Compacts records whose effect ended more than the model's retention before `now`.
    pub fn compact(&self, now: Ts) -> usize {
        let judge = self.judge();
        let horizon = now - judge.model.scoring.retention_days as Ts * crate::time::DAY;
        let mut n = 0;
        for mut e in self.subjects.iter_mut() {
            n += e.value_mut().compact(horizon, |c| judge.item(c));
        }
        n
    }
}

/// Memory held by the store, by part.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryUse {
    pub subjects: usize,
    pub records: usize,
    pub subject_heap: usize,
    pub table: usize,
    pub index: usize,
    pub interned: usize,
}

impl MemoryUse {
    pub fn total(&self) -> usize {
        self.subject_heap + self.table + self.index + self.interned
    }
}

/// A subject's lists before a change, with the reasons of each (needed when it is left).
struct Before {
    mask: u32,
    spans: Vec<crate::eval::Span>,
    /// (list, `<source>:<record>`).
    reasons: Vec<(u8, String)>,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;

/// The names of the lists in `mask` under `judge`.
fn list_names(judge: &Judge, mask: u32) -> Vec<String> {
    let mut out = Vec::new();
    let mut m = mask;
    while m != 0 {
        let b = m.trailing_zeros() as usize;
        m &= m - 1;
        if let Some(l) = judge.model.lists.get(b) {
            out.push(l.name.clone());
        }
    }
    out
}

/// What a model would change (see [`Store::preview`]).
#[derive(Clone, Debug, Default)]
pub struct Preview {
    pub subjects: usize,
    /// Subjects whose grade or lists change.
    pub changed: usize,
    pub grade_changes: usize,
    pub grade_samples: Vec<(SubjectKey, credence_models::Grade, credence_models::Grade)>,
    /// Per list: (how many join, samples).
    pub joins: std::collections::BTreeMap<String, (usize, Vec<SubjectKey>)>,
    pub leaves: std::collections::BTreeMap<String, (usize, Vec<SubjectKey>)>,
}
