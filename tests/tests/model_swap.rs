//! Live model swap: PUT /v1/model validates (400 invalid_model listing every problem, 409
//! model_conflict), publishes a control event and answers once applied; checks use the new
//! model at once with no torn answer under concurrent load; list changes published; preview
//! changes nothing; retired items rejected; the swapped model survives a restart.

use std::time::Duration;

use credence_engine::synth::legal_id;
use credence_tests::{add_event, http, tokens, Fixture};
use futures::StreamExt;
use serde_json::{json, Value};

async fn model(f: &Fixture) -> Value {
    http::get(f.credence.http, "/v1/model", None)
        .await
        .unwrap()
        .json()
}

fn item<'a>(m: &'a mut Value, code: &str) -> &'a mut Value {
    m["items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["code"] == code)
        .unwrap()
}

async fn put(f: &Fixture, path: &str, body: &Value, token: Option<&str>) -> http::Response {
    http::request(
        f.credence.http,
        if path.ends_with("preview") {
            "POST"
        } else {
            "PUT"
        },
        path,
        token,
        Some(&serde_json::to_vec(body).unwrap()),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swap_validate_preview_apply_and_survive() {
    let mut f = Fixture::start().await;
    // A firm with a general penalty (not black under the bundled model).
    let mut last = 0;
    for i in 0..20 {
        last = f
            .publish(
                "gov.safety",
                &add_event(
                    &format!("p{i}"),
                    "legal",
                    &legal_id(i),
                    "L-PEN-001",
                    "2026-06-01T00:00:00Z",
                ),
            )
            .await;
    }
    let last = last.max(
        f.publish(
            "gov.safety",
            &add_event(
                "q1",
                "legal",
                &legal_id(50),
                "L-PEN-006",
                "2026-06-01T00:00:00Z",
            ),
        )
        .await,
    );
    f.wait_applied(last).await;
    let before = model(&f).await;
    assert_eq!(before["name"], "baoan");
    assert_eq!(before["content_hash"].as_str().unwrap().len(), 64);

    // Invalid: every problem listed.
    let mut bad = before.clone();
    bad["scoring"]["grades"]["B"] = json!(900);
    item(&mut bad, "L-PEN-005")["category"] = json!("fines");
    let r = put(&f, "/v1/model", &bad, Some(tokens::ADMIN)).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "invalid_model".to_owned()),
        "{}",
        r.text()
    );
    let msg = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        msg.contains("descend") && msg.contains("L-PEN-005"),
        "{msg}"
    );
    // Removing an item that has records: 409.
    let mut removes = before.clone();
    removes["items"]
        .as_array_mut()
        .unwrap()
        .retain(|i| i["code"] != "L-PEN-006");
    let r = put(&f, "/v1/model", &removes, Some(tokens::ADMIN)).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "model_conflict".to_owned()),
        "{}",
        r.text()
    );
    // Only admins.
    assert_eq!(
        put(&f, "/v1/model", &before, Some(tokens::DEPARTMENT))
            .await
            .status,
        403
    );
    assert_eq!(put(&f, "/v1/model", &before, None).await.status, 403);

    // The new model: a general penalty now puts its subject on black; L-PEN-003 retired.
    let mut next = before.clone();
    next["version"] = json!("2017.2");
    item(&mut next, "L-PEN-001")["lists"] = json!(["black"]);
    item(&mut next, "L-PEN-003")["retired"] = json!(true);
    next.as_object_mut().unwrap().remove("content_hash");
    // Preview: counts and samples, and nothing changes.
    let r = put(&f, "/v1/model/preview", &next, Some(tokens::ADMIN)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let pv = r.json();
    assert_eq!(pv["lists"]["black"]["join"], 20);
    assert_eq!(pv["subjects_changed"], 20);
    assert!(!pv["lists"]["black"]["join_samples"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(
        model(&f).await["version"],
        "2017.1",
        "preview changes nothing"
    );
    let c = http::post(
        f.credence.http,
        "/v1/check",
        Some(tokens::DEPARTMENT),
        &json!({"subject": {"kind": "legal", "id": legal_id(0)}, "context": "financial_loan"}),
    )
    .await
    .unwrap()
    .json();
    assert_eq!(c["decision"], "allow");

    // Swap under concurrent checks: every answer is wholly old or wholly new.
    let mut lists = f
        .client
        .subscribe("credit.lists.black.legal.added")
        .await
        .unwrap();
    let addr = f.credence.http;
    let checker = tokio::spawn(async move {
        let mut seen = Vec::new();
        for _ in 0..300 {
            let body = json!({"subject": {"kind": "legal", "id": legal_id(3)}, "context": "financial_loan"});
            let c = http::post(addr, "/v1/check", Some(tokens::DEPARTMENT), &body)
                .await
                .unwrap()
                .json();
            seen.push((
                c["model"]["version"].as_str().unwrap().to_owned(),
                c["decision"].as_str().unwrap().to_owned(),
                c["lists"].clone(),
            ));
        }
        seen
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let r = put(&f, "/v1/model", &next, Some(tokens::ADMIN)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = r.json();
    assert_eq!(answer["subjects_changed"], 20);
    // Answered once applied: a check right now uses the new model.
    let c = http::post(
        f.credence.http,
        "/v1/check",
        Some(tokens::DEPARTMENT),
        &json!({"subject": {"kind": "legal", "id": legal_id(0)}, "context": "financial_loan"}),
    )
    .await
    .unwrap()
    .json();
    assert_eq!(
        (c["model"]["version"].as_str(), c["decision"].as_str()),
        (Some("2017.2"), Some("restrict"))
    );
    for (version, decision, lists) in checker.await.unwrap() {
        match version.as_str() {
            "2017.1" => assert_eq!((decision.as_str(), lists), ("allow", json!([]))),
            "2017.2" => assert_eq!((decision.as_str(), lists), ("restrict", json!(["black"]))),
            other => panic!("unknown version {other}"),
        }
    }
    // GET returns the body sent, plus its content_hash.
    let got = model(&f).await;
    assert_eq!(got["content_hash"], answer["content_hash"]);
    let mut without = got.clone();
    without.as_object_mut().unwrap().remove("content_hash");
    assert_eq!(without, next);
    // Every subject re-evaluated, and the list changes published.
    let mut added = 0;
    while added < 20 {
        match tokio::time::timeout(Duration::from_secs(10), lists.next()).await {
            Ok(Some(_)) => added += 1,
            _ => break,
        }
    }
    assert_eq!(added, 20);
    // The re-evaluation's progress is in /metrics, done.
    let done = credence_tests::wait_until(Duration::from_secs(10), || async {
        let m = http::get(f.credence.http, "/metrics", None)
            .await
            .unwrap()
            .text();
        let v = |name: &str| {
            m.lines()
                .find(|l| l.starts_with(&format!("{name} ")))
                .and_then(|l| l.split(' ').nth(1)?.parse::<u64>().ok())
        };
        v("credence_model_reevaluation_epoch") == Some(1)
            && v("credence_model_reevaluation_done") == v("credence_model_reevaluation_subjects")
            && v("credence_model_reevaluation_subjects") == Some(21)
    })
    .await;
    assert!(
        done,
        "{}",
        http::get(f.credence.http, "/metrics", None)
            .await
            .unwrap()
            .text()
    );
    // A retired item takes no new records.
    let seq = f
        .publish(
            "gov.safety",
            &add_event(
                "p3",
                "legal",
                &legal_id(1),
                "L-PEN-003",
                "2026-06-01T00:00:00Z",
            ),
        )
        .await;
    f.wait_applied(seq).await;
    assert_eq!(f.stats().await["events_rejected"], 1);
    // The swapped model survives restarts.
    assert_eq!(f.credence.terminate(Duration::from_secs(30)), Some(0));
    f.restart_credence();
    f.credence.wait_ready(Duration::from_secs(60)).await;
    assert_eq!(model(&f).await["version"], "2017.2");
}
