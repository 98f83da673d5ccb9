//! Store tests: the contract's scoring relations on the bundled model, idempotence, list
//! changes by event and by time, decisions with reasons, and properties: order independence,
//! bounds, exact intervals of effect, exact next change, snapshot round trip.

use super::*;
use crate::answer::CheckAnswer;
use crate::id::with_check;
use crate::time::{parse_rfc3339, DAY};
use credence_models::{bundled, Context, Decision, Grade};
use proptest::prelude::*;
use serde_json::{json, Value};

const LEGAL: &str = "91440306AY4CL12TH9";
const NATURAL: &str = "440306195606190590";

fn t(s: &str) -> Ts {
    parse_rfc3339(s).unwrap()
}

struct Scenario {
    store: Store,
    seq: u64,
}

impl Scenario {
    fn new() -> Scenario {
        Scenario {
            store: Store::new(Arc::new(bundled())),
            seq: 0,
        }
    }

    fn send(&mut self, subject: &str, v: &Value, now: Ts) -> Applied {
        self.seq += 1;
        self.store
            .apply(subject, &serde_json::to_vec(v).unwrap(), self.seq, now)
    }

    fn gov(&mut self, v: Value, now: Ts) -> Applied {
        self.send("credit.events.gov.safety", &v, now)
    }

    fn check(&self, kind: Kind, id: &str, ctx: Context, at: Ts) -> CheckAnswer {
        self.store
            .check(SubjectKey::parse(kind, id).unwrap(), ctx, at)
    }
}

fn add(id: &str, kind: &str, subject: &str, item: &str, at: &str) -> Value {
    json!({"id": id, "type": "record.add", "subject": {"kind": kind, "id": subject},
           "record": id, "item": item, "occurred_at": at,
           "authority": "Bao'an District Emergency Management Bureau", "document": format!("深宝〔2017〕{id}号"),
           "basis": "Work Safety Law art. 88"})
}

fn op(kind: &str, id: &str, record: &str, subject_kind: &str, subject: &str, at: &str) -> Value {
    json!({"id": id, "type": kind, "subject": {"kind": subject_kind, "id": subject}, "record": record, "occurred_at": at})
}

#[test]
fn contract_relations_hold_on_the_bundled_model() {
    let mut s = Scenario::new();
    let now = t("2018-01-01T00:00:00Z");
    // No records: base score, grade B, unknown.
    let r = s
        .store
        .report(SubjectKey::parse(Kind::Legal, LEGAL).unwrap(), now, true);
    assert_eq!((r.score, r.grade, r.known), (700, Grade::B, false));
    let c = s.check(Kind::Legal, LEGAL, Context::AdministrativeLicensing, now);
    assert_eq!(c.decision, Decision::Allow);
    assert!(c.reasons.is_empty());
    // One qualifying honour: grade A and red, fast track in licensing and special funds.
    let out = s.gov(
        add(
            "hon-1",
            "legal",
            LEGAL,
            "L-HON-001",
            "2017-06-01T00:00:00+08:00",
        ),
        now,
    );
    assert_eq!(out.outcome, Outcome::Applied);
    assert_eq!(out.changes.len(), 1);
    assert!(out.changes[0].added && out.changes[0].list == "red");
    assert_eq!(out.changes[0].reasons, vec!["safety:hon-1".to_string()]);
    let c = s.check(Kind::Legal, LEGAL, Context::AdministrativeLicensing, now);
    assert_eq!((c.grade, c.decision), (Grade::A, Decision::FastTrack));
    assert_eq!(c.lists, vec!["red"]);
    assert_eq!(c.reasons[0].code, "list");
    assert_eq!(c.reasons[0].record.as_deref(), Some("safety:hon-1"));
    assert_eq!(
        c.reasons[0].authority.as_deref(),
        Some("Bao'an District Emergency Management Bureau")
    );
    assert_eq!(
        s.check(Kind::Legal, LEGAL, Context::FinancialLoan, now)
            .decision,
        Decision::Allow
    );
    // Any penalty takes it out of grade A and off red.
    let out = s.gov(
        add(
            "pen-1",
            "legal",
            LEGAL,
            "L-PEN-001",
            "2017-12-01T00:00:00+08:00",
        ),
        now,
    );
    assert!(out
        .changes
        .iter()
        .any(|c| !c.added && c.list == "red" && c.reasons == vec!["safety:hon-1".to_string()]));
    let c = s.check(Kind::Legal, LEGAL, Context::AdministrativeLicensing, now);
    assert_ne!(c.grade, Grade::A);
    assert!(c.lists.is_empty());
    // The safety-production blacklist: black, restrict everywhere with both kinds of reason.
    let out = s.gov(
        add(
            "sup-1",
            "legal",
            LEGAL,
            "L-SUP-001",
            "2017-12-15T00:00:00+08:00",
        ),
        now,
    );
    assert!(out.changes.iter().any(|c| c.added && c.list == "black"));
    for ctx in Context::ALL {
        let c = s.check(Kind::Legal, LEGAL, *ctx, now);
        assert_eq!(c.decision, Decision::Restrict, "{ctx}");
        assert!(c
            .reasons
            .iter()
            .any(|r| r.code == "list" && r.list.as_deref() == Some("black")));
    }
    let c = s.check(Kind::Legal, LEGAL, Context::SpecialFund, now);
    assert!(c
        .reasons
        .iter()
        .any(|r| r.code == "item_restriction" && r.item.as_deref() == Some("L-SUP-001")));
    let black = c.reasons.iter().find(|r| r.code == "list").unwrap();
    assert_eq!(
        black.until.as_deref(),
        Some("2020-12-13T16:00:00Z"),
        "1095 days after occurred_at"
    );
    assert!(black.document.as_deref().unwrap().contains("sup-1"));
}

#[test]
fn dismissed_person_cannot_be_hired_for_three_years() {
    let mut s = Scenario::new();
    let now = t("2020-01-01T00:00:00Z");
    s.send(
        "credit.events.grid.staff",
        &add(
            "dis-1",
            "natural",
            NATURAL,
            "N-SUP-001",
            "2019-06-01T00:00:00+08:00",
        ),
        now,
    );
    let c = s.check(Kind::Natural, NATURAL, Context::PublicEmployment, now);
    assert_eq!(c.decision, Decision::Restrict);
    assert_eq!(c.reasons[0].code, "item_restriction");
    assert_eq!(c.reasons[0].until.as_deref(), Some("2022-05-30T16:00:00Z"));
    // -200 points leave grade C: a loan is reviewed, for the grade alone.
    let loan = s.check(Kind::Natural, NATURAL, Context::FinancialLoan, now);
    assert_eq!((loan.grade, loan.decision), (Grade::C, Decision::Review));
    assert_eq!(loan.reasons.len(), 1);
    assert_eq!(
        (loan.reasons[0].code, loan.reasons[0].grade),
        ("grade", Some(Grade::C))
    );
    let later = t("2022-05-30T16:00:00Z");
    assert_eq!(
        s.check(Kind::Natural, NATURAL, Context::PublicEmployment, later)
            .decision,
        Decision::Allow
    );
    assert_eq!(
        s.check(Kind::Natural, NATURAL, Context::PublicEmployment, later - 1)
            .decision,
        Decision::Restrict
    );
}

#[test]
fn volunteer_hours_count_per_unit_and_cap() {
    let mut s = Scenario::new();
    let now = t("2020-01-01T00:00:00Z");
    let mut e = add(
        "vol-1",
        "natural",
        NATURAL,
        "N-HON-001",
        "2019-06-01T00:00:00+08:00",
    );
    e["value"] = json!(12.5);
    s.send("credit.events.utility.volunteers", &e, now);
    let key = SubjectKey::parse(Kind::Natural, NATURAL).unwrap();
    assert_eq!(s.store.report(key, now, true).score, 700 + 13);
    let mut e = add(
        "vol-2",
        "natural",
        NATURAL,
        "N-HON-001",
        "2019-07-01T00:00:00+08:00",
    );
    e["value"] = json!(1000);
    s.send("credit.events.utility.volunteers", &e, now);
    assert_eq!(s.store.report(key, now, true).score, 700 + 13 + 60);
}

#[test]
fn duplicates_conflicts_revokes_and_repairs() {
    let mut s = Scenario::new();
    let now = t("2018-01-01T00:00:00Z");
    let e = add(
        "jud-1",
        "legal",
        LEGAL,
        "L-JUD-001",
        "2017-06-01T00:00:00+08:00",
    );
    assert_eq!(s.gov(e.clone(), now).outcome, Outcome::Applied);
    let mut same = e.clone();
    same["id"] = json!("jud-1-retry");
    assert_eq!(s.gov(same, now).outcome, Outcome::Duplicate);
    let mut differs = e.clone();
    differs["note"] = json!("another text");
    assert_eq!(s.gov(differs, now).outcome, Outcome::Conflict);
    let c = s.store.counters();
    assert_eq!((c.events_applied, c.events_duplicate), (1, 2));
    // A redelivery of an applied sequence is skipped silently.
    let payload = serde_json::to_vec(&e).unwrap();
    assert_eq!(
        s.store
            .apply("credit.events.gov.safety", &payload, 1, now)
            .outcome,
        Outcome::Skipped
    );
    assert_eq!(s.store.counters(), c);
    // Revoke: removed as if never added; the black list entry goes.
    let out = s.gov(
        op(
            "record.revoke",
            "rv-1",
            "jud-1",
            "legal",
            LEGAL,
            "2017-07-01T00:00:00+08:00",
        ),
        now,
    );
    assert!(out.changes.iter().any(|c| !c.added && c.list == "black"));
    let key = SubjectKey::parse(Kind::Legal, LEGAL).unwrap();
    let r = s.store.report(key, now, true);
    assert!(!r.known && r.records.is_empty() && r.score == 700);
    // Revoke before add: the add, when it comes, stays revoked.
    s.gov(
        op(
            "record.revoke",
            "rv-2",
            "jud-2",
            "legal",
            LEGAL,
            "2017-07-01T00:00:00+08:00",
        ),
        now,
    );
    let out = s.gov(
        add(
            "jud-2",
            "legal",
            LEGAL,
            "L-JUD-001",
            "2017-06-01T00:00:00+08:00",
        ),
        now,
    );
    assert_eq!(out.outcome, Outcome::Applied);
    assert!(out.changes.is_empty());
    // Repair: the record stays on file, its effect ends at the repair.
    s.gov(
        add(
            "pen-9",
            "legal",
            LEGAL,
            "L-PEN-001",
            "2017-06-01T00:00:00+08:00",
        ),
        now,
    );
    s.gov(
        op(
            "record.repair",
            "rp-1",
            "pen-9",
            "legal",
            LEGAL,
            "2017-10-01T00:00:00+08:00",
        ),
        now,
    );
    s.gov(
        op(
            "record.repair",
            "rp-2",
            "pen-9",
            "legal",
            LEGAL,
            "2017-09-01T00:00:00+08:00",
        ),
        now,
    );
    let r = s.store.report(key, now, true);
    let rec = r
        .records
        .iter()
        .find(|x| x.record == "safety:pen-9")
        .unwrap();
    assert_eq!(rec.status, "repaired");
    assert_eq!(
        rec.effective_until.as_deref(),
        Some("2017-08-31T16:00:00Z"),
        "the earlier repair holds"
    );
    assert_eq!(r.score, 700);
}

#[test]
fn time_driven_expiry_is_reported_when_it_happens() {
    let mut s = Scenario::new();
    let now = t("2020-01-01T00:00:00Z");
    let mut e = add("sup-2", "legal", LEGAL, "L-SUP-001", "2019-12-31T00:00:00Z");
    e["expires_at"] = json!("2020-01-01T00:00:03Z");
    let out = s.gov(e, now);
    assert!(out.changes.iter().any(|c| c.added && c.list == "black"));
    assert_eq!(s.store.next_due(), Some(t("2020-01-01T00:00:03Z")));
    assert!(s.store.tick(now + 2 * SECOND_US, 100).is_empty());
    let changes = s.store.tick(now + 4 * SECOND_US, 100);
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert!(!c.added && c.list == "black" && c.cause == Cause::Time);
    assert_eq!(c.at, t("2020-01-01T00:00:03Z"));
    assert_eq!(c.reasons, vec!["safety:sup-2".to_string()]);
    assert_eq!(s.store.next_due(), None);
    assert_eq!(s.store.records_in_effect(), 0);
}

const SECOND_US: Ts = 1_000_000;

#[test]
fn pending_records_and_reports_at_a_time() {
    let mut s = Scenario::new();
    let now = t("2020-01-01T00:00:00Z");
    s.gov(
        add("hon-f", "legal", LEGAL, "L-HON-001", "2020-06-01T00:00:00Z"),
        now,
    );
    let key = SubjectKey::parse(Kind::Legal, LEGAL).unwrap();
    let r = s.store.report(key, now, true);
    assert_eq!(r.records[0].status, "pending");
    assert!(!r.known);
    assert_eq!(
        s.store.assess(key, now).next_change_at,
        Some(t("2020-06-01T00:00:00Z"))
    );
    let at = t("2020-07-01T00:00:00Z");
    let r = s.store.report(key, at, false);
    assert_eq!(
        (r.grade, r.known, r.records[0].status),
        (Grade::A, true, "in_effect")
    );
    let before = s.store.report(key, t("2019-07-01T00:00:00Z"), false);
    assert!(before.records.is_empty() && !before.known);
    // The time index brings red in on time.
    let changes = s.store.tick(at, 10);
    assert!(changes
        .iter()
        .any(|c| c.added && c.list == "red" && c.at == t("2020-06-01T00:00:00Z")));
}

#[test]
fn model_control_events_change_the_judge_from_their_sequence() {
    let mut s = Scenario::new();
    let now = t("2020-01-01T00:00:00Z");
    let mut doc = bundled().document().clone();
    for it in doc["items"].as_array_mut().unwrap() {
        if it["code"] == "L-PEN-003" {
            it["retired"] = json!(true);
        }
    }
    doc["version"] = json!("2017.2");
    let out = s.send("credit.events.control.model", &doc, now);
    assert_eq!(out.outcome, Outcome::ModelApplied { epoch: 1 });
    let out = s.gov(
        add("p3", "legal", LEGAL, "L-PEN-003", "2019-06-01T00:00:00Z"),
        now,
    );
    assert!(matches!(out.outcome, Outcome::Rejected(r) if r.code == crate::ErrorCode::RetiredItem));
    assert_eq!(
        s.send("credit.events.control.model", &doc, now).outcome,
        Outcome::ModelUnchanged
    );
    let out = s.send("credit.events.control.model", &json!({"name": "x"}), now);
    assert!(matches!(out.outcome, Outcome::ModelRejected(_)));
    assert_eq!(s.store.model_history().len(), 2);
}

// ---------------------------------------------------------------- properties

fn legal_ids() -> Vec<String> {
    (0..3)
        .map(|i| with_check(Kind::Legal, &format!("91440306MA5F{i:05}")))
        .collect()
}

/// A random event over a small space of subjects, records and times, so that duplicates,
/// conflicts, revokes and repairs before adds all occur.
fn arb_event() -> impl Strategy<Value = Value> {
    let items = [
        "L-PEN-001",
        "L-HON-001",
        "L-SUP-001",
        "L-JUD-001",
        "L-LIC-001",
        "L-OTH-001",
        "L-PEN-002",
    ];
    (0usize..3, 0usize..4, 0usize..3, 0i64..2000, 0u8..3)
        .prop_map(move |(subj, rec, ty, day, note)| {
            let subject = legal_ids()[subj].clone();
            let at = crate::time::format_rfc3339(t("2016-01-01T00:00:00Z") + day * DAY);
            let ty_name = ["record.add", "record.revoke", "record.repair"][ty];
            let mut v = json!({"id": format!("e{subj}{rec}{ty}{day}"), "type": ty_name,
                "subject": {"kind": "legal", "id": subject}, "record": format!("r{rec}"), "occurred_at": at});
            if ty == 0 {
                // The add's content is a function of the record, so that only `note` makes conflicts.
                let fixed_at = crate::time::format_rfc3339(t("2016-01-01T00:00:00Z") + (rec as i64 * 173 + subj as i64 * 59) * DAY);
                v["occurred_at"] = json!(fixed_at);
                v["item"] = json!(items[(rec + subj) % items.len()]);
                if rec % 2 == 0 {
                    v["expires_at"] = json!(crate::time::format_rfc3339(t(&fixed_at) + 400 * DAY));
                }
                if note == 2 {
                    v["note"] = json!("variant");
                }
            }
            v
        })
}

fn state_of(store: &Store) -> Vec<(SubjectKey, Vec<crate::subject::CanonicalRecord>)> {
    let mut out: Vec<_> = store
        .subjects
        .iter()
        .map(|e| (*e.key(), e.value().canonical()))
        .collect();
    out.sort_by_key(|x| x.0);
    out
}

fn has_conflict_variants(events: &[Value]) -> bool {
    // Two adds of one record that differ in note: arrival order decides (the contract's one exception).
    let mut seen: std::collections::HashMap<(String, String), Value> = Default::default();
    for e in events.iter().filter(|e| e["type"] == "record.add") {
        let k = (e["subject"]["id"].to_string(), e["record"].to_string());
        if let Some(prev) = seen.get(&k) {
            if prev.get("note") != e.get("note") {
                return true;
            }
        }
        seen.insert(k, e.clone());
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_order_gives_the_same_state_and_assessments(
        events in prop::collection::vec(arb_event(), 1..40),
        perm in prop::collection::vec(any::<prop::sample::Index>(), 40),
        at_day in 0i64..3000,
    ) {
        prop_assume!(!has_conflict_variants(&events));
        let now = t("2016-01-01T00:00:00Z") + at_day * DAY;
        let mut shuffled = events.clone();
        for (i, ix) in perm.iter().enumerate().take(shuffled.len()) {
            let j = ix.index(shuffled.len());
            shuffled.swap(i, j);
        }
        // A model control event at a fixed position in both orders.
        let mut doc = bundled().document().clone();
        doc["version"] = json!("prop");
        let run = |evs: &[Value]| {
            let mut s = Scenario::new();
            for (i, e) in evs.iter().enumerate() {
                if i == evs.len() / 2 {
                    s.send("credit.events.control.model", &doc, now);
                }
                s.gov(e.clone(), now);
            }
            s
        };
        let a = run(&events);
        let b = run(&shuffled);
        prop_assert_eq!(state_of(&a.store), state_of(&b.store));
        prop_assert_eq!(a.store.counters(), b.store.counters());
        for id in legal_ids() {
            let key = SubjectKey::parse(Kind::Legal, &id).unwrap();
            for probe in [now, now + 100 * DAY, now - 300 * DAY] {
                prop_assert_eq!(a.store.assess(key, probe), b.store.assess(key, probe));
                let ra = a.store.report(key, probe, false);
                let rb = b.store.report(key, probe, false);
                prop_assert_eq!(ra.score, rb.score);
                prop_assert_eq!(ra.lists, rb.lists);
                for ctx in Context::ALL {
                    let (ca, cb) = (a.store.check(key, *ctx, probe), b.store.check(key, *ctx, probe));
                    prop_assert_eq!(ca.decision, cb.decision);
                    prop_assert_eq!(ca.reasons.len(), cb.reasons.len());
                }
            }
        }
    }

    #[test]
    fn score_in_bounds_effect_exact_and_next_change_exact(
        events in prop::collection::vec(arb_event(), 1..30),
        at_day in 0i64..3000,
    ) {
        let now = t("2016-01-01T00:00:00Z") + at_day * DAY;
        let mut s = Scenario::new();
        for e in &events {
            s.gov(e.clone(), now);
        }
        let judge = s.store.judge();
        let m = &judge.model;
        for id in legal_ids() {
            let key = SubjectKey::parse(Kind::Legal, &id).unwrap();
            let a = s.store.assess(key, now);
            prop_assert!(a.score >= m.scoring.min && a.score <= m.scoring.max);
            // Each record is in effect exactly on [occurred_at, effective_until).
            s.store.with_subject(key, |subj| {
                if let Some(subj) = subj {
                    for v in subj.records().filter(|v| v.rec.live()) {
                        let it = judge.item(v.rec.code).unwrap();
                        let (start, end) = (v.rec.occurred_at, v.rec.effective_until(it));
                        if start < end {
                            assert_eq!(record_status_at(&judge, subj, v.id, start), "in_effect");
                            assert_ne!(record_status_at(&judge, subj, v.id, start - 1), "in_effect");
                            if end != OPEN {
                                assert_eq!(record_status_at(&judge, subj, v.id, end - 1), "in_effect");
                                assert_ne!(record_status_at(&judge, subj, v.id, end), "in_effect");
                            }
                        }
                    }
                }
            });
            // next_change_at is exact: nothing changes before it, something changes at it.
            if let Some(next) = a.next_change_at {
                let just_before = s.store.assess(key, next - 1);
                prop_assert_eq!(strip(&just_before), strip(&a));
                let at = s.store.assess(key, next);
                let statuses = |x: Ts| s.store.report(key, x, true).records.iter().map(|r| r.status).collect::<Vec<_>>();
                prop_assert!(strip(&at) != strip(&a) || statuses(next) != statuses(next - 1));
            }
        }
    }

    #[test]
    fn snapshot_round_trip_gives_an_identical_store(events in prop::collection::vec(arb_event(), 0..30), at_day in 0i64..3000) {
        let now = t("2016-01-01T00:00:00Z") + at_day * DAY;
        let mut s = Scenario::new();
        for e in &events {
            s.gov(e.clone(), now);
        }
        let pending = vec![ListChange { subject: 1, list: "black".into(), added: true, since: 1, until: None, reasons: vec!["a:b".into()], at: 2, seq: 3, cause: Cause::Event }];
        let mut buf = Vec::new();
        s.store.write_snapshot(&mut buf, now, &pending).unwrap();
        let (back, p) = Store::read_snapshot(&buf[..]).unwrap();
        prop_assert_eq!(p, pending);
        prop_assert_eq!(state_of(&back), state_of(&s.store));
        prop_assert_eq!(back.counters(), s.store.counters());
        prop_assert_eq!(back.last_seq(), s.store.last_seq());
        prop_assert_eq!(back.records_in_effect(), s.store.records_in_effect());
        prop_assert_eq!(back.list_sizes(), s.store.list_sizes().into_iter().filter(|x| x.1 > 0).collect::<Vec<_>>());
        for e in s.store.subjects.iter() {
            let other = back.subjects.get(e.key()).unwrap();
            prop_assert_eq!(&other.cache, &e.value().cache);
        }
        // Any damage is detected, never a panic.
        if !buf.is_empty() {
            let mut bad = buf.clone();
            let i = bad.len() / 2;
            bad[i] ^= 0x5a;
            prop_assert!(Store::read_snapshot(&bad[..]).is_err());
            prop_assert!(Store::read_snapshot(&buf[..buf.len() - 3]).is_err());
        }
    }
}

fn strip(a: &Assessment) -> (i64, Grade, u32, u8, u32, Vec<crate::eval::Span>) {
    (
        a.score,
        a.grade,
        a.list_mask,
        a.restricts,
        a.in_effect,
        a.lists.clone(),
    )
}

fn record_status_at(judge: &Judge, subj: &Subject, id: &str, at: Ts) -> &'static str {
    let v = subj.records().find(|v| v.id == id).unwrap();
    crate::eval::record_status(judge.item(v.rec.code).unwrap(), v.rec, at).as_str()
}

#[test]
fn list_pages_return_each_steady_member_exactly_once_while_the_list_changes() {
    let mut s = Scenario::new();
    let now = t("2026-01-01T00:00:00Z");
    let ids: Vec<String> = (0..10).map(crate::synth::legal_id).collect();
    for (i, id) in ids.iter().enumerate() {
        s.gov(
            add(
                &format!("j{i}"),
                "legal",
                id,
                "L-JUD-001",
                "2025-01-01T00:00:00Z",
            ),
            now,
        );
    }
    s.send(
        "credit.events.grid.staff",
        &add(
            "n1",
            "natural",
            NATURAL,
            "N-JUD-001",
            "2025-01-01T00:00:00Z",
        ),
        now,
    );
    assert!(s.store.list_sizes().contains(&("black".to_string(), 11)));
    let mut seen = Vec::new();
    let (page, mut cursor) = s.store.list_page("black", Some(Kind::Legal), None, 3);
    seen.extend(page);
    let mut round = 0;
    while let Some(after) = cursor {
        // Between pages: one member leaves (revoked) and a new one joins.
        round += 1;
        let leaver = ids[(round * 3) % 10].clone();
        s.gov(
            op(
                "record.revoke",
                &format!("rv{round}"),
                &format!("j{}", (round * 3) % 10),
                "legal",
                &leaver,
                "2025-06-01T00:00:00Z",
            ),
            now,
        );
        let newcomer = crate::synth::legal_id(100 + round as u64);
        s.gov(
            add(
                &format!("jn{round}"),
                "legal",
                &newcomer,
                "L-JUD-001",
                "2025-01-01T00:00:00Z",
            ),
            now,
        );
        let (page, next) = s
            .store
            .list_page("black", Some(Kind::Legal), Some(after), 3);
        seen.extend(page);
        cursor = next;
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no member twice");
    // Every member present from start to end was seen.
    let steady: Vec<SubjectKey> = s.store.list_page("black", Some(Kind::Legal), None, 1000).0;
    for k in steady
        .iter()
        .filter(|k| ids.contains(&k.text().to_string()))
    {
        assert!(seen.contains(k));
    }
    assert!(seen.iter().all(|k| k.kind() == Kind::Legal));
}

#[test]
fn a_check_answer_serialises_canonically() {
    let mut s = Scenario::new();
    let now = t("2026-01-01T00:00:00Z");
    s.gov(
        add("sup-c", "legal", LEGAL, "L-SUP-001", "2025-06-01T00:00:00Z"),
        now,
    );
    let a = s.check(Kind::Legal, LEGAL, Context::SpecialFund, now);
    assert!(a.reasons.len() >= 2);
    let text = serde_json::to_string(&a).unwrap();
    let canonical = serde_json::from_str::<Value>(&text).unwrap().to_string();
    assert_eq!(text, canonical, "keys in sorted order, no white space");
}
