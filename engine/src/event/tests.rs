//! Decoder tests: each §3 code, their precedence, and properties over arbitrary input.

use super::*;
use crate::id::with_check;
use credence_models::bundled;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::OnceLock;

fn model() -> &'static Model {
    static M: OnceLock<Model> = OnceLock::new();
    M.get_or_init(bundled)
}

const SUBJ: &str = "credit.events.gov.safety";
const LEGAL: &str = "91440306AY4CL12TH9";
const NATURAL: &str = "440306195606190590";

fn base() -> Value {
    json!({
        "id": "safety-2017-000123",
        "type": "record.add",
        "subject": {"kind": "legal", "id": LEGAL},
        "record": "safety/2017/000123",
        "item": "L-SUP-001",
        "occurred_at": "2017-09-12T10:00:00+08:00",
        "value": 12.5,
        "expires_at": "2020-09-12T00:00:00+08:00",
        "note": "safety exit blocked at the production site",
        "authority": "Bao'an District Emergency Management Bureau",
        "document": "深宝应急罚〔2017〕123号",
        "basis": "Work Safety Law art. 88",
        "future_field": {"nested": [1, 2, 3]}
    })
}

fn code_of(subject: &str, v: &Value) -> Option<&'static str> {
    let bytes = serde_json::to_vec(v).unwrap();
    match decode(subject, &bytes, model()) {
        Ok(_) => None,
        Err(r) => Some(r.code.as_str()),
    }
}

fn with(mut v: Value, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    f(v.as_object_mut().unwrap());
    v
}

#[test]
fn the_contract_example_decodes() {
    let bytes = serde_json::to_vec(&base()).unwrap();
    let Decoded::Event(e) = decode(SUBJ, &bytes, model()).unwrap() else {
        panic!()
    };
    assert_eq!(e.channel, Channel::Gov);
    assert_eq!(e.source, "safety");
    assert_eq!(e.op, Op::Add);
    assert_eq!(e.item, model().item_id("L-SUP-001"));
    assert_eq!(e.value, Some(12.5));
    assert_eq!(e.subject.text().as_str(), LEGAL);
    assert!(
        matches!(e.id, Cow::Borrowed(_)),
        "plain strings are borrowed"
    );
    assert_eq!(e.document.as_deref(), Some("深宝应急罚〔2017〕123号"));
}

#[test]
fn routes() {
    let b = serde_json::to_vec(&base()).unwrap();
    for bad in [
        "credit.events.gov",
        "credit.events.bank.x",
        "credit.events.gov.Safety",
        "credit.events.gov.a.b",
        "credit.events.control.other",
        "other.events.gov.safety",
        "credit.events.gov.",
    ] {
        assert_eq!(
            decode(bad, &b, model()).unwrap_err().code,
            E::InvalidRoute,
            "{bad}"
        );
    }
    assert_eq!(
        decode(CONTROL_SUBJECT, b"{}", model()),
        Ok(Decoded::Control(b"{}"))
    );
    let big = vec![b' '; MAX_EVENT_BYTES * 2];
    assert_eq!(
        decode(CONTROL_SUBJECT, &big, model()),
        Ok(Decoded::Control(&big[..]))
    );
    assert_eq!(
        parse_route("credit.events.utility.water-co_1"),
        Some(Route::Producer {
            channel: Channel::Utility,
            source: "water-co_1"
        })
    );
}

#[test]
fn each_code() {
    let b = base();
    let cases: Vec<(Value, &str)> = vec![
        (
            with(b.clone(), |m| {
                m.remove("id");
            }),
            "missing_field",
        ),
        (
            with(b.clone(), |m| {
                m.insert("occurred_at".into(), Value::Null);
            }),
            "missing_field",
        ),
        (
            with(b.clone(), |m| {
                m.remove("subject");
            }),
            "missing_field",
        ),
        (
            with(b.clone(), |m| {
                m.remove("item");
            }),
            "missing_field",
        ),
        (
            with(b.clone(), |m| {
                m.insert("type".into(), json!("record.delete"));
            }),
            "unknown_type",
        ),
        (
            with(b.clone(), |m| {
                m.insert("type".into(), json!(3));
            }),
            "unknown_type",
        ),
        (
            with(b.clone(), |m| {
                m.insert("id".into(), json!("bad id"));
            }),
            "invalid_event_id",
        ),
        (
            with(b.clone(), |m| {
                m.insert("id".into(), json!("x".repeat(129)));
            }),
            "invalid_event_id",
        ),
        (
            with(b.clone(), |m| {
                m.insert("record".into(), json!(""));
            }),
            "invalid_event_id",
        ),
        (
            with(b.clone(), |m| {
                m.insert(
                    "subject".into(),
                    json!({"kind": "legal", "id": "91440306AY4CL12TH8"}),
                );
            }),
            "invalid_subject_id",
        ),
        (
            with(b.clone(), |m| {
                m.insert("subject".into(), json!({"kind": "company", "id": LEGAL}));
            }),
            "invalid_subject_id",
        ),
        (
            with(b.clone(), |m| {
                m.insert("subject".into(), json!("x"));
            }),
            "invalid_subject_id",
        ),
        (
            with(b.clone(), |m| {
                m.insert("item".into(), json!("L-PEN-999"));
            }),
            "unknown_item",
        ),
        (
            with(b.clone(), |m| {
                m.insert("item".into(), json!("N-PEN-001"));
            }),
            "item_kind_mismatch",
        ),
        (
            with(b.clone(), |m| {
                m.insert("occurred_at".into(), json!("yesterday"));
            }),
            "invalid_time",
        ),
        (
            with(b.clone(), |m| {
                m.insert("expires_at".into(), json!("2017-09-12T10:00:00+08:00"));
            }),
            "invalid_time",
        ),
        (
            with(b.clone(), |m| {
                m.insert("value".into(), json!(-1));
            }),
            "invalid_value",
        ),
        (
            with(b.clone(), |m| {
                m.insert("value".into(), json!("12"));
            }),
            "invalid_value",
        ),
        (
            with(b.clone(), |m| {
                m.insert("note".into(), json!("n".repeat(1025)));
            }),
            "field_too_long",
        ),
        (
            with(b.clone(), |m| {
                m.insert("basis".into(), json!("b".repeat(257)));
            }),
            "field_too_long",
        ),
    ];
    for (v, want) in cases {
        assert_eq!(code_of(SUBJ, &v), Some(want), "{v}");
    }
    assert_eq!(
        code_of(
            SUBJ,
            &with(b.clone(), |m| {
                m.insert("note".into(), json!("n".repeat(1024)));
            })
        ),
        None
    );
    let payload = b"{\"id\": ";
    assert_eq!(
        decode(SUBJ, payload, model()).unwrap_err().code,
        E::MalformedJson
    );
    assert_eq!(
        decode(SUBJ, b"[1,2]", model()).unwrap_err().code,
        E::MalformedJson
    );
    assert_eq!(
        decode(SUBJ, &vec![b' '; MAX_EVENT_BYTES + 1], model())
            .unwrap_err()
            .code,
        E::TooLarge
    );
}

#[test]
fn per_unit_item_needs_value_and_retired_item_is_rejected() {
    let v = with(base(), |m| {
        m.insert("subject".into(), json!({"kind": "natural", "id": NATURAL}));
        m.insert("item".into(), json!("N-HON-001"));
        m.remove("value");
    });
    assert_eq!(code_of(SUBJ, &v), Some("missing_field"));
    let mut doc = model().document().clone();
    for it in doc["items"].as_array_mut().unwrap() {
        if it["code"] == "L-PEN-003" {
            it["retired"] = json!(true);
        }
    }
    let retired = Model::from_value(doc).unwrap();
    let v = with(base(), |m| {
        m.insert("item".into(), json!("L-PEN-003"));
    });
    let bytes = serde_json::to_vec(&v).unwrap();
    assert_eq!(
        decode(SUBJ, &bytes, &retired).unwrap_err().code,
        E::RetiredItem
    );
}

#[test]
fn precedence_is_the_contracts_order() {
    // Bad type, bad id, bad subject, bad time: the first in §3's list wins.
    let v = with(base(), |m| {
        m.insert("type".into(), json!("nope"));
        m.insert("id".into(), json!("bad id"));
        m.insert("occurred_at".into(), json!("x"));
    });
    assert_eq!(code_of(SUBJ, &v), Some("unknown_type"));
    let v = with(base(), |m| {
        m.insert("subject".into(), json!({"kind": "legal", "id": "x"}));
        m.insert("value".into(), json!(-3));
    });
    assert_eq!(code_of(SUBJ, &v), Some("invalid_subject_id"));
    let v = with(base(), |m| {
        m.remove("type");
        m.insert("id".into(), json!("bad id"));
    });
    assert_eq!(code_of(SUBJ, &v), Some("missing_field"));
    assert_eq!(
        code_of("credit.events.x.y", &json!("not even an object")),
        Some("invalid_route")
    );
}

#[test]
fn revoke_and_repair_need_no_item() {
    for t in ["record.revoke", "record.repair"] {
        let v = with(base(), |m| {
            m.insert("type".into(), json!(t));
            m.remove("item");
        });
        assert_eq!(code_of(SUBJ, &v), None, "{t}");
    }
}

#[test]
fn fingerprint_ignores_id_and_offsets_but_not_content() {
    let fp = |v: &Value| {
        let bytes = serde_json::to_vec(v).unwrap();
        match decode(SUBJ, &bytes, model()).unwrap() {
            Decoded::Event(e) => e.content_fingerprint(),
            _ => unreachable!(),
        }
    };
    let a = fp(&base());
    assert_eq!(
        a,
        fp(&with(base(), |m| {
            m.insert("id".into(), json!("other"));
        }))
    );
    assert_eq!(
        a,
        fp(&with(base(), |m| {
            m.insert("occurred_at".into(), json!("2017-09-12T02:00:00Z"));
        }))
    );
    assert_ne!(
        a,
        fp(&with(base(), |m| {
            m.insert("note".into(), json!("other"));
        }))
    );
    assert_ne!(
        a,
        fp(&with(base(), |m| {
            m.remove("note");
        }))
    );
}

fn legal_id() -> impl Strategy<Value = String> {
    proptest::collection::vec(0usize..31, 17).prop_map(|v| {
        let body: String = v
            .into_iter()
            .map(|i| crate::id::uscc_alphabet()[i] as char)
            .collect();
        with_check(Kind::Legal, &body)
    })
}

fn id_text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._:/-]{1,128}"
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), route in 0usize..3) {
        let subject = [SUBJ, CONTROL_SUBJECT, "junk"][route];
        let _ = decode(subject, &bytes, model());
    }

    #[test]
    fn mangled_valid_events_never_panic(cut in 0usize..400, flip in 0usize..400, byte in any::<u8>()) {
        let mut bytes = serde_json::to_vec(&base()).unwrap();
        let n = bytes.len();
        bytes[flip % n] = byte;
        bytes.truncate(cut.max(1) % (n + 1));
        let _ = decode(SUBJ, &bytes, model());
    }

    #[test]
    fn valid_events_round_trip(
        id in id_text(), record in id_text(), subject in legal_id(),
        item in 0usize..300, secs in 0i64..4_000_000_000, value in proptest::option::of(0.0f64..1e9),
        life in proptest::option::of(1i64..1_000_000_000), note in proptest::option::of("\\PC{0,100}"),
        op in 0usize..3,
    ) {
        let m = model();
        let legal_items: Vec<&str> = m.items.iter().filter(|i| i.kind == Kind::Legal && !i.retired).map(|i| i.code.as_str()).collect();
        let code = legal_items[item % legal_items.len()];
        let occurred = crate::time::format_rfc3339(secs * 1_000_000);
        let ops = ["record.add", "record.revoke", "record.repair"];
        let mut v = json!({"id": id, "type": ops[op], "subject": {"kind": "legal", "id": subject},
                           "record": record, "item": code, "occurred_at": occurred});
        if let Some(val) = value { v["value"] = json!(val); }
        if let Some(l) = life { v["expires_at"] = json!(crate::time::format_rfc3339((secs + l) * 1_000_000)); }
        if let Some(n) = &note { v["note"] = json!(n); }
        let bytes = serde_json::to_vec(&v).unwrap();
        let Decoded::Event(e) = decode(SUBJ, &bytes, m).unwrap() else { panic!("not an event") };
        prop_assert_eq!(e.id.as_ref(), id.as_str());
        prop_assert_eq!(e.record.as_ref(), record.as_str());
        prop_assert_eq!(e.subject.text().to_string(), subject.clone());
        prop_assert_eq!(e.op.as_str(), ops[op]);
        prop_assert_eq!(e.item, if op == 0 { m.item_id(code) } else { None });
        prop_assert_eq!(e.occurred_at, secs * 1_000_000);
        prop_assert_eq!(e.value, value);
        prop_assert_eq!(e.expires_at, life.map(|l| (secs + l) * 1_000_000));
        prop_assert_eq!(e.note.as_deref(), note.as_deref());
    }
}
