//! Validation tests: the bundled model is valid and complete; each class of problem is caught.

use super::*;
use serde_json::{json, Value};

fn baoan_value() -> Value {
    bundled().document().clone()
}

fn problems_of(doc: Value) -> Vec<Problem> {
    match Model::from_value(doc) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems(),
    }
}

fn has(problems: &[Problem], path_part: &str, msg_part: &str) -> bool {
    problems
        .iter()
        .any(|p| p.path.contains(path_part) && p.message.contains(msg_part))
}

fn item_mut<'a>(doc: &'a mut Value, code: &str) -> &'a mut Value {
    doc["items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["code"] == code)
        .unwrap()
}

#[test]
fn bundled_model_is_complete() {
    let m = bundled();
    assert_eq!(m.items.len(), 453);
    let legal = m.items.iter().filter(|i| i.kind == Kind::Legal).count();
    assert_eq!((legal, m.items.len() - legal), (300, 153));
    for kind in Kind::ALL {
        for cat in Category::ALL {
            assert!(
                m.items
                    .iter()
                    .any(|i| i.kind == *kind && i.category == *cat),
                "{kind} {cat}"
            );
        }
    }
    assert_eq!(m.name, "baoan");
    assert!(m.list_id("black").is_some() && m.list_id("red").is_some());
    assert_eq!(m.content_hash.len(), 64);
}

#[test]
fn content_hash_ignores_key_order_whitespace_and_given_hash() {
    let m = bundled();
    let text = serde_json::to_string_pretty(m.document()).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["content_hash"] = json!("bogus");
    let again = Model::from_value(v).unwrap();
    assert_eq!(again.content_hash, m.content_hash);
    assert!(!again.to_json_value()["content_hash"]
        .as_str()
        .unwrap()
        .contains("bogus"));
    // A change of content changes it.
    let mut v = baoan_value();
    v["version"] = json!("2017.2");
    assert_ne!(Model::from_value(v).unwrap().content_hash, m.content_hash);
}

#[test]
fn json_round_trip_keeps_the_model() {
    let m = bundled();
    let text = m.canonical_json();
    let back = Model::from_json(text.as_bytes()).unwrap();
    assert_eq!(back.content_hash, m.content_hash);
    assert_eq!(back.items, m.items);
}

#[test]
fn duplicate_code_and_broken_relation_are_both_listed() {
    let mut doc = baoan_value();
    let mut dup = item_mut(&mut doc, "L-PEN-003").clone();
    dup["name_zh"] = json!("重复");
    dup["name_en"] = json!("Duplicate");
    doc["items"].as_array_mut().unwrap().push(dup);
    item_mut(&mut doc, "L-PEN-001")["points"] = json!(-5);
    let p = problems_of(doc);
    assert!(has(&p, "L-PEN-003", "duplicate code"), "{p:?}");
    assert!(has(&p, "L-PEN-001", "out of grade A"), "{p:?}");
}

/// A change to a model document.
type Mutation = Box<dyn Fn(&mut Value)>;

#[test]
fn each_class_of_problem_is_caught() {
    let cases: Vec<(Mutation, &str, &str)> = vec![
        (
            Box::new(|d| item_mut(d, "L-PEN-003")["kind"] = json!("natural")),
            "L-PEN-003",
            "prefix",
        ),
        (
            Box::new(|d| item_mut(d, "L-PEN-003")["category"] = json!("fines")),
            "L-PEN-003",
            "unknown category",
        ),
        (
            Box::new(|d| item_mut(d, "L-PEN-003")["category"] = json!("judicial")),
            "L-PEN-003",
            "code category",
        ),
        (
            Box::new(|d| item_mut(d, "L-PEN-003")["lists"] = json!(["grey"])),
            "L-PEN-003",
            "unknown list",
        ),
        (
            Box::new(|d| item_mut(d, "L-PEN-003")["restricts"] = json!(["parking"])),
            "L-PEN-003",
            "unknown context",
        ),
        (
            Box::new(|d| item_mut(d, "L-PEN-003")["colour"] = json!("red")),
            "L-PEN-003",
            "unknown field",
        ),
        (
            Box::new(|d| {
                d["items"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|i| i["code"] != "N-JUD-001");
            }),
            "N-JUD-001",
            "canonical item missing",
        ),
        (
            Box::new(|d| d["scoring"]["grades"]["B"] = json!(900)),
            "scoring.grades",
            "descend",
        ),
        (
            Box::new(|d| d["scoring"]["category_bounds"]["penalty"] = json!({"min": 10, "max": 0})),
            "penalty",
            "min <= 0",
        ),
        (
            Box::new(|d| d["scoring"]["base"] = json!(820)),
            "scoring",
            "grade B",
        ),
        (
            Box::new(|d| d["measures"]["parking"] = json!({"item_restriction": "restrict"})),
            "measures.parking",
            "unknown context",
        ),
        (
            Box::new(|d| {
                d["measures"]
                    .as_object_mut()
                    .unwrap()
                    .remove("special_fund");
            }),
            "measures.special_fund",
            "missing",
        ),
        (
            Box::new(|d| d["measures"]["financial_loan"]["lists"]["black"] = json!("review")),
            "financial_loan",
            "black must restrict",
        ),
        (
            Box::new(|d| d["measures"]["financial_loan"]["lists"]["red"] = json!("maybe")),
            "financial_loan",
            "unknown decision",
        ),
        (
            Box::new(|d| item_mut(d, "L-HON-001")["points"] = json!(10)),
            "L-HON-001",
            "grade A",
        ),
        (
            Box::new(|d| {
                d["lists"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|l| l["name"] != "red");
            }),
            "lists",
            "\"red\" is required",
        ),
        (
            Box::new(|d| d["lists"][1]["exclude_categories"] = json!(["penalty"])),
            "lists.red",
            "judicial",
        ),
        (
            Box::new(|d| d["scoring"]["inspection_rates"]["A"] = json!(0.9)),
            "inspection_rates",
            "inspected",
        ),
        (
            Box::new(|d| item_mut(d, "L-SUP-001")["effect_days"] = json!(30)),
            "L-SUP-001",
            "1095 days",
        ),
    ];
    for (mutate, path, msg) in cases {
        let mut doc = baoan_value();
        mutate(&mut doc);
        let p = problems_of(doc);
        assert!(has(&p, path, msg), "expected {path:?} / {msg:?} in {p:#?}");
    }
}

#[test]
fn per_unit_points_round_half_away_and_cap() {
    let m = bundled();
    let hours = m.item(m.item_id("N-HON-001").unwrap());
    let pu = hours.per_unit.unwrap();
    assert_eq!(hours.record_points(Some(0.0)), 0);
    assert_eq!(hours.record_points(Some(1e300)), pu.cap);
    let mut neg = hours.clone();
    neg.per_unit = Some(PerUnit {
        points: -3,
        cap: 10,
    });
    assert_eq!(neg.record_points(Some(0.5)), -2); // -1.5 rounds away from zero
    assert_eq!(neg.record_points(Some(100.0)), -10);
    let mut half = hours.clone();
    half.per_unit = Some(PerUnit {
        points: 1,
        cap: 100,
    });
    assert_eq!(half.record_points(Some(2.5)), 3);
}

#[test]
fn toml_directory_loads_and_bad_toml_is_a_parse_error() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("baoan");
    assert_eq!(load_dir(&dir).unwrap().content_hash, bundled().content_hash);
    assert!(matches!(
        from_toml("name = ", None),
        Err(ModelError::Parse { .. })
    ));
}
