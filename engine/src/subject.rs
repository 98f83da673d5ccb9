//! One subject's records and what an event does to them (contract §3's idempotence): at most
//! one add, one revoke and one repair per record; a revoke or repair that comes first is kept
//! and wins when the add arrives; of two repairs the earlier holds.
//!
//! Records are fixed-size (64 bytes); their variable parts (record id, document, value) live in
//! one byte arena per subject, in record order, so a subject costs two allocations however
//! many records it holds.

use credence_models::{Item, Model};

use crate::eval::Cache;
use crate::time::{add_days, Ts, DAY};

/// `expires_at` absent.
pub const NO_EXPIRY: Ts = Ts::MIN;
/// An end that never comes.
pub const OPEN: Ts = Ts::MAX;

/// Flag: the record's add is on file.
pub const HAS_ADD: u8 = 1;
/// Flag: the record is revoked (removed as if never added).
pub const REVOKED: u8 = 2;
/// Flag: the record is repaired (its effect ends at `repaired_at`).
pub const REPAIRED: u8 = 4;
/// Flag: the add carried a `value` (8 bytes in the arena).
pub const HAS_VALUE: u8 = 8;
/// Flag: the add carried a `document` (in the arena, possibly empty).
pub const HAS_DOCUMENT: u8 = 16;

/// A record on file, fixed-size. Strings and the value are in the subject's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct Record {
    pub occurred_at: Ts,
    /// `NO_EXPIRY` when the add gave none.
    pub expires_at: Ts,
    /// `OPEN` unless repaired.
    pub repaired_at: Ts,
    /// Stream sequence of the add (0 before it arrives): the note and id can be fetched there.
    pub add_seq: u64,
    /// [`crate::Event::content_fingerprint`] of the add.
    pub fingerprint: u64,
    /// Interned producer name.
    pub source: u32,
    /// Interned authority (0 = none).
    pub authority: u32,
    /// Interned legal basis (0 = none).
    pub basis: u32,
    /// Global item code id (stable across models; see [`crate::store::Judge`]).
    pub code: u16,
    pub doc_len: u16,
    pub rec_len: u8,
    pub flags: u8,
}

impl Record {
    /// Whether the record counts: its add is on file and it is not revoked.
    pub fn live(&self) -> bool {
        self.flags & (HAS_ADD | REVOKED) == HAS_ADD
    }

    fn arena_len(&self) -> usize {
        self.rec_len as usize
            + self.doc_len as usize
            + if self.flags & HAS_VALUE != 0 { 8 } else { 0 }
    }

    /// When the record's effect ends under `item`'s period, before any repair.
    pub fn natural_end(&self, item: &Item) -> Ts {
        if self.expires_at != NO_EXPIRY {
            self.expires_at
        } else if let Some(days) = item.effect_days {
            add_days(self.occurred_at, days)
        } else {
            OPEN
        }
    }

    /// When the record's effect ends: its natural end, or the repair if earlier.
    pub fn effective_until(&self, item: &Item) -> Ts {
        self.natural_end(item).min(self.repaired_at)
    }
}

/// A record's semantic content, owned: (source, record id, fixed part without sequences,
/// document, value bits).
pub type CanonicalRecord = (u32, String, Record, Option<String>, Option<u64>);

/// A record with its variable parts, borrowed from the subject.
#[derive(Clone, Copy, Debug)]
pub struct RecordView<'a> {
    pub rec: &'a Record,
    pub id: &'a str,
    pub document: Option<&'a str>,
    pub value: Option<f64>,
}

/// The variable parts of an add, as the event gave them.
#[derive(Clone, Copy, Debug)]
pub struct AddFields<'a> {
    pub code: u16,
    pub occurred_at: Ts,
    pub expires_at: Option<Ts>,
    pub value: Option<f64>,
    pub document: Option<&'a str>,
    pub authority: u32,
    pub basis: u32,
    pub fingerprint: u64,
    pub seq: u64,
}

/// What one event did to a subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Applied; the state changed.
    Applied,
    /// Another event of the same type for the record: counted, not applied. `changed` is true
    /// when an earlier repair replaced a later one.
    Duplicate { changed: bool },
    /// A duplicate add whose content differs from the add on file.
    Conflict,
}

/// One subject's state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Subject {
    pub(crate) records: Vec<Record>,
    pub(crate) arena: Vec<u8>,
    /// The assessment for "now", kept for checks; see [`Cache`].
    pub(crate) cache: Cache,
}

impl Subject {
    pub fn new() -> Subject {
        Subject::default()
    }

    /// Every record on file (live or not), with its variable parts.
    pub fn records(&self) -> impl Iterator<Item = RecordView<'_>> {
        let mut off = 0usize;
        self.records.iter().map(move |rec| {
            let view = view_at(rec, &self.arena, off);
            off += rec.arena_len();
            view
        })
    }

    /// Every record with its value only: what evaluation needs, without touching strings.
    pub fn record_values(&self) -> impl Iterator<Item = (&Record, Option<f64>)> {
        let mut off = 0usize;
        self.records.iter().map(move |rec| {
            let value = (rec.flags & HAS_VALUE != 0).then(|| {
                let at = off + rec.rec_len as usize + rec.doc_len as usize;
                let mut b = [0u8; 8];
                b.copy_from_slice(&self.arena[at..at + 8]);
                f64::from_le_bytes(b)
            });
            off += rec.arena_len();
            (rec, value)
        })
    }

    /// How many records are on file (any status, tombstones included).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Finds a record by (source, record id): `Ok((index, arena offset))`, or `Err` with where
    /// it would go. Records are kept sorted by (source, record id), so that a subject's state,
    /// and every list of reasons drawn from it, is the same whatever order events came in.
    fn find(&self, source: u32, record: &str) -> Result<(usize, usize), (usize, usize)> {
        let mut off = 0usize;
        for (i, rec) in self.records.iter().enumerate() {
            let id = &self.arena[off..off + rec.rec_len as usize];
            match (rec.source, id).cmp(&(source, record.as_bytes())) {
                std::cmp::Ordering::Equal => return Ok((i, off)),
                std::cmp::Ordering::Greater => return Err((i, off)),
                std::cmp::Ordering::Less => off += rec.arena_len(),
            }
        }
        Err((self.records.len(), off))
    }

    fn find_or_create(&mut self, source: u32, record: &str) -> (usize, usize) {
        match self.find(source, record) {
            Ok(found) => found,
            Err((i, off)) => {
                // Exact capacities: a subject holds a handful of records, and doubling growth
                // would leave ~1.5 unused 64-byte records per subject (≈600 MB at Bao'an scale).
                self.arena.reserve_exact(record.len());
                self.arena.splice(off..off, record.bytes());
                self.records.reserve_exact(1);
                self.records.insert(
                    i,
                    Record {
                        occurred_at: 0,
                        expires_at: NO_EXPIRY,
                        repaired_at: OPEN,
                        add_seq: 0,
                        fingerprint: 0,
                        source,
                        authority: 0,
                        basis: 0,
                        code: 0,
                        doc_len: 0,
                        rec_len: record.len() as u8,
                        flags: 0,
                    },
                );
                (i, off)
            }
        }
    }

    /// Applies an add.
    pub fn add(&mut self, source: u32, record: &str, f: &AddFields<'_>) -> Effect {
        let (i, off) = self.find_or_create(source, record);
        let rec = &mut self.records[i];
        if rec.flags & HAS_ADD != 0 {
            return if rec.fingerprint == f.fingerprint {
                Effect::Duplicate { changed: false }
            } else {
                Effect::Conflict
            };
        }
        rec.flags |= HAS_ADD;
        rec.occurred_at = f.occurred_at;
        rec.expires_at = f.expires_at.unwrap_or(NO_EXPIRY);
        rec.add_seq = f.seq;
        rec.fingerprint = f.fingerprint;
        rec.code = f.code;
        rec.authority = f.authority;
        rec.basis = f.basis;
        // The record had no variable parts beyond its id: insert them after it.
        let mut extra = Vec::new();
        if let Some(doc) = f.document {
            let doc = truncate_utf8(doc, u16::MAX as usize);
            rec.flags |= HAS_DOCUMENT;
            rec.doc_len = doc.len() as u16;
            extra.extend_from_slice(doc.as_bytes());
        }
        if let Some(v) = f.value {
            rec.flags |= HAS_VALUE;
            extra.extend_from_slice(&v.to_le_bytes());
        }
        let at = off + rec.rec_len as usize;
        self.arena.reserve_exact(extra.len());
        self.arena.splice(at..at, extra);
        Effect::Applied
    }

    /// Applies a revoke.
    pub fn revoke(&mut self, source: u32, record: &str) -> Effect {
        let (i, _) = self.find_or_create(source, record);
        let rec = &mut self.records[i];
        if rec.flags & REVOKED != 0 {
            return Effect::Duplicate { changed: false };
        }
        rec.flags |= REVOKED;
        Effect::Applied
    }

    /// Applies a repair at `at`; of two repairs the earlier holds.
    pub fn repair(&mut self, source: u32, record: &str, at: Ts) -> Effect {
        let (i, _) = self.find_or_create(source, record);
        let rec = &mut self.records[i];
        if rec.flags & REPAIRED != 0 {
            let changed = at < rec.repaired_at;
            rec.repaired_at = rec.repaired_at.min(at);
            return Effect::Duplicate { changed };
        }
        rec.flags |= REPAIRED;
        rec.repaired_at = at;
        Effect::Applied
    }

    /// The record's semantic content in a canonical order (for order-independence tests):
    /// everything but stream sequences, sorted by (source, record id).
    pub fn canonical(&self) -> Vec<CanonicalRecord> {
        let mut out: Vec<_> = self
            .records()
            .map(|v| {
                let mut r = *v.rec;
                r.add_seq = 0;
                (
                    r.source,
                    v.id.to_owned(),
                    r,
                    v.document.map(str::to_owned),
                    v.value.map(f64::to_bits),
                )
            })
            .collect();
        out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        out
    }

    /// Drops records whose effect ended before `horizon` under `model` (and revoked ones
    /// older than it), keeping a tombstone (id and fingerprint, no document or value) so that
    /// their duplicates are still recognised. Returns how many were compacted.
    pub fn compact<'m>(&mut self, horizon: Ts, item_of: impl Fn(u16) -> Option<&'m Item>) -> usize {
        let mut compacted = 0;
        let mut arena = Vec::with_capacity(self.arena.len());
        let mut records = Vec::with_capacity(self.records.len());
        let mut off = 0usize;
        for rec in &self.records {
            let len = rec.arena_len();
            let mut r = *rec;
            let ended =
                item_of(rec.code).is_some_and(|it| rec.live() && rec.effective_until(it) < horizon);
            if ended && rec.flags & (HAS_DOCUMENT | HAS_VALUE) != 0 {
                arena.extend_from_slice(&self.arena[off..off + rec.rec_len as usize]);
                r.flags &= !(HAS_DOCUMENT | HAS_VALUE);
                r.doc_len = 0;
                compacted += 1;
            } else {
                arena.extend_from_slice(&self.arena[off..off + len]);
            }
            records.push(r);
            off += len;
        }
        self.records = records;
        self.arena = arena;
        compacted
    }

    /// Heap bytes held (capacity, not length).
    pub fn heap_bytes(&self) -> usize {
        self.records.capacity() * std::mem::size_of::<Record>()
            + self.arena.capacity()
            + self.cache.heap_bytes()
    }

    /// Shrinks the allocations to fit (after restore or bulk load).
    pub fn shrink(&mut self) {
        self.records.shrink_to_fit();
        self.arena.shrink_to_fit();
    }

    pub(crate) fn from_parts(records: Vec<Record>, arena: Vec<u8>) -> Option<Subject> {
        let need: usize = records.iter().map(Record::arena_len).sum();
        if need != arena.len() {
            return None;
        }
        let s = Subject {
            records,
            arena,
            cache: Cache::default(),
        };
        // Every id and document must be UTF-8.
        let mut off = 0usize;
        for rec in &s.records {
            let id_end = off + rec.rec_len as usize;
            let doc_end = id_end + rec.doc_len as usize;
            if std::str::from_utf8(&s.arena[off..id_end]).is_err()
                || std::str::from_utf8(&s.arena[id_end..doc_end]).is_err()
            {
                return None;
            }
            off += rec.arena_len();
        }
        Some(s)
    }

    pub(crate) fn parts(&self) -> (&[Record], &[u8]) {
        (&self.records, &self.arena)
    }
}

fn view_at<'a>(rec: &'a Record, arena: &'a [u8], off: usize) -> RecordView<'a> {
    let id_end = off + rec.rec_len as usize;
    let doc_end = id_end + rec.doc_len as usize;
    // The arena only ever holds UTF-8 copied from &str (checked again on restore).
    let id = std::str::from_utf8(&arena[off..id_end]).unwrap_or("");
    let document = (rec.flags & HAS_DOCUMENT != 0)
        .then(|| std::str::from_utf8(&arena[id_end..doc_end]).unwrap_or(""));
    let value = (rec.flags & HAS_VALUE != 0).then(|| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&arena[doc_end..doc_end + 8]);
        f64::from_le_bytes(b)
    });
    RecordView {
        rec,
        id,
        document,
        value,
    }
}

fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Days in microseconds, for callers that build periods.
pub const fn days(n: i64) -> Ts {
    n * DAY
}

/// Looks up the model item of a record's code through a judge's map (helper for callers
/// holding only a model and a code table).
pub fn item_of<'m>(model: &'m Model, map: &[u16], code: u16) -> Option<&'m Item> {
    map.get(code as usize)
        .and_then(|id| (*id != u16::MAX).then(|| model.item(*id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(code: u16, at: Ts, fp: u64) -> AddFields<'static> {
        AddFields {
            code,
            occurred_at: at,
            expires_at: None,
            value: Some(2.5),
            document: Some("深宝应急罚〔2017〕123号"),
            authority: 1,
            basis: 2,
            fingerprint: fp,
            seq: 7,
        }
    }

    #[test]
    fn idempotence_rules() {
        let mut s = Subject::new();
        assert_eq!(s.revoke(1, "r/1"), Effect::Applied);
        assert_eq!(s.revoke(1, "r/1"), Effect::Duplicate { changed: false });
        assert_eq!(s.add(1, "r/1", &fields(3, 100, 9)), Effect::Applied);
        assert!(!s.records[0].live(), "a revoke that came first wins");
        assert_eq!(
            s.add(1, "r/1", &fields(3, 100, 9)),
            Effect::Duplicate { changed: false }
        );
        assert_eq!(s.add(1, "r/1", &fields(3, 100, 10)), Effect::Conflict);
        assert_eq!(
            s.add(2, "r/1", &fields(3, 100, 9)),
            Effect::Applied,
            "another source's record"
        );
        assert_eq!(s.repair(2, "r/1", 500), Effect::Applied);
        assert_eq!(s.repair(2, "r/1", 300), Effect::Duplicate { changed: true });
        assert_eq!(
            s.repair(2, "r/1", 400),
            Effect::Duplicate { changed: false }
        );
        assert_eq!(s.records[1].repaired_at, 300);
        let v: Vec<_> = s.records().collect();
        assert_eq!(v[1].id, "r/1");
        assert_eq!(v[1].document, Some("深宝应急罚〔2017〕123号"));
        assert_eq!(v[1].value, Some(2.5));
    }

    #[test]
    fn arena_stays_consistent_when_an_add_fills_a_tombstone() {
        let mut s = Subject::new();
        s.repair(1, "first", 10);
        s.add(1, "second", &fields(1, 5, 1));
        s.add(1, "first", &fields(2, 1, 2));
        let v: Vec<_> = s.records().collect();
        assert_eq!((v[0].id, v[0].value), ("first", Some(2.5)));
        assert_eq!((v[1].id, v[1].value), ("second", Some(2.5)));
        let (r, a) = s.parts();
        assert!(Subject::from_parts(r.to_vec(), a.to_vec()).is_some());
        assert!(Subject::from_parts(r.to_vec(), a[1..].to_vec()).is_none());
    }
}
