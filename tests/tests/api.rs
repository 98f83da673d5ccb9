//! The full API of contract §5 against the real binary and a real nats-server: batch checks,
//! list pages, HTTP ingest with producer binding, the access log, NATS request-reply, limits,
//! and the OpenAPI document in sync with the routes.

use std::time::Duration;

use credence_engine::synth::{legal_id, natural_id};
use credence_tests::{add_event, http, op_event, tokens, Fixture};
use futures::StreamExt;
use serde_json::json;

const PERSON: &str = tokens::SELF_ID;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_answers_in_order_with_errors_in_place() {
    let f = Fixture::start().await;
    let seq = f
        .publish(
            "gov.safety",
            &add_event(
                "s1",
                "legal",
                &legal_id(1),
                "L-SUP-001",
                "2025-01-01T00:00:00Z",
            ),
        )
        .await;
    f.wait_applied(seq).await;
    let checks = json!({"checks": [
        {"subject": {"kind": "legal", "id": legal_id(1)}, "context": "financial_loan"},
        {"subject": {"kind": "legal", "id": "bad"}, "context": "financial_loan"},
        {"subject": {"kind": "legal", "id": legal_id(2)}, "context": "financial_loan"},
        {"subject": {"kind": "natural", "id": PERSON}, "context": "financial_loan"},
        {"subject": {"kind": "natural", "id": PERSON}, "context": "financial_loan", "purpose": "loan"},
        {"subject": {"kind": "legal", "id": legal_id(2)}, "context": "nowhere"},
        "not an object"
    ]});
    let r = http::post(
        f.credence.http,
        "/v1/check/batch",
        Some(tokens::DEPARTMENT),
        &checks,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let results = r.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 7);
    assert_eq!(results[0]["decision"], "restrict");
    assert_eq!(results[1]["error"]["code"], "invalid_subject_id");
    assert_eq!(results[2]["decision"], "allow");
    assert_eq!(results[3]["error"]["code"], "purpose_required");
    assert_eq!(results[4]["decision"], "allow");
    assert_eq!(results[5]["error"]["code"], "unknown_context");
    assert_eq!(results[6]["error"]["code"], "invalid_request");
    // Over 1,000: 413 batch_too_large.
    let many: Vec<_> = (0..1001)
        .map(
            |i| json!({"subject": {"kind": "legal", "id": legal_id(i)}, "context": "special_fund"}),
        )
        .collect();
    let r = http::post(
        f.credence.http,
        "/v1/check/batch",
        Some(tokens::DEPARTMENT),
        &json!({"checks": many}),
    )
    .await
    .unwrap();
    assert_eq!((r.status, r.code()), (413, "batch_too_large".to_owned()));
    // Exactly 1,000 is fine.
    let many: Vec<_> = (0..1000)
        .map(
            |i| json!({"subject": {"kind": "legal", "id": legal_id(i)}, "context": "special_fund"}),
        )
        .collect();
    let r = http::post(
        f.credence.http,
        "/v1/check/batch",
        Some(tokens::ADMIN),
        &json!({"checks": many}),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["results"].as_array().unwrap().len(), 1000);
    // Roles.
    for (token, status) in [
        (None, 403),
        (Some(tokens::SELF_NATURAL), 403),
        (Some(tokens::PRODUCER), 403),
        (Some("nope"), 401),
    ] {
        let r = http::post(
            f.credence.http,
            "/v1/check/batch",
            token,
            &json!({"checks": []}),
        )
        .await
        .unwrap();
        assert_eq!(r.status, status, "{token:?}");
    }
    // A check body over its limit: 413 too_large.
    let huge = json!({"subject": {"kind": "legal", "id": legal_id(1)}, "context": "special_fund", "pad": "x".repeat(70_000)});
    let r = http::post(
        f.credence.http,
        "/v1/check",
        Some(tokens::DEPARTMENT),
        &huge,
    )
    .await
    .unwrap();
    assert_eq!((r.status, r.code()), (413, "too_large".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_exactly_once_and_natural_members_need_a_purpose() {
    let f = Fixture::start().await;
    let mut last = 0;
    for i in 0..25 {
        last = f
            .publish(
                "gov.court",
                &add_event(
                    &format!("j{i}"),
                    "legal",
                    &legal_id(i),
                    "L-JUD-001",
                    "2025-01-01T00:00:00Z",
                ),
            )
            .await;
    }
    for i in 0..3 {
        last = f
            .publish(
                "gov.court",
                &add_event(
                    &format!("n{i}"),
                    "natural",
                    &natural_id(i),
                    "N-JUD-001",
                    "2025-01-01T00:00:00Z",
                ),
            )
            .await;
    }
    f.wait_applied(last).await;
    // Page through legal members while the list changes between pages.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/lists/black?limit=7&cursor={c}"),
            None => "/v1/lists/black?limit=7".to_owned(),
        };
        let page = http::get(f.credence.http, &path, None).await.unwrap();
        assert_eq!(page.status, 200, "{}", page.text());
        let page = page.json();
        for m in page["members"].as_array().unwrap() {
            assert_eq!(
                m["subject"]["kind"], "legal",
                "public sees legal members only"
            );
            assert!(m["since"].is_string() && m["reasons"].is_array());
            seen.push(m["subject"]["id"].as_str().unwrap().to_owned());
        }
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
        round += 1;
        // One member leaves, another joins, between pages.
        let s1 = f
            .publish(
                "gov.court",
                &op_event(
                    "record.revoke",
                    &format!("rv{round}"),
                    &format!("j{}", 20 + round),
                    "legal",
                    &legal_id(20 + round),
                    "2025-02-01T00:00:00Z",
                ),
            )
            .await;
        let s2 = f
            .publish(
                "gov.court",
                &add_event(
                    &format!("x{round}"),
                    "legal",
                    &legal_id(100 + round),
                    "L-JUD-001",
                    "2025-01-01T00:00:00Z",
                ),
            )
            .await;
        f.wait_applied(s1.max(s2)).await;
    }
    let mut uniq = seen.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), seen.len(), "no member twice: {seen:?}");
    for i in 0..20 {
        assert!(seen.contains(&legal_id(i)), "steady member {i} seen");
    }
    // Natural members: only for a department/admin with a purpose, and audited.
    let r = http::get(
        f.credence.http,
        "/v1/lists/black?kind=natural",
        Some(tokens::DEPARTMENT),
    )
    .await
    .unwrap();
    assert_eq!((r.status, r.code()), (400, "purpose_required".to_owned()));
    let r = http::get(f.credence.http, "/v1/lists/black?kind=natural", None)
        .await
        .unwrap();
    assert_eq!(r.status, 403);
    let r = http::get(
        f.credence.http,
        "/v1/lists/black?kind=natural&purpose=loan%20screening",
        Some(tokens::DEPARTMENT),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["members"].as_array().unwrap().len(), 3);
    let r = http::get(
        f.credence.http,
        "/v1/lists/black?limit=1000",
        Some(tokens::DEPARTMENT),
    )
    .await
    .unwrap()
    .json();
    assert!(
        r["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["subject"]["kind"] == "legal"),
        "no purpose: natural members left out"
    );
    let r = http::get(f.credence.http, "/v1/lists/grey", None)
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (404, "not_found".to_owned()));
    let r = http::get(f.credence.http, "/v1/lists/black?cursor=zzz", None)
        .await
        .unwrap();
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_ingest_is_bound_to_the_producer() {
    let f = Fixture::start().await;
    let e = add_event(
        "h1",
        "legal",
        &legal_id(3),
        "L-PEN-001",
        "2025-01-01T00:00:00Z",
    );
    let r = http::post(f.credence.http, "/v1/events", Some(tokens::PRODUCER), &e)
        .await
        .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    let seq = r.json()["seq"].as_u64().unwrap();
    f.wait_applied(seq).await;
    let rep = http::get(
        f.credence.http,
        &format!("/v1/subjects/legal/{}", legal_id(3)),
        None,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(
        rep["records"][0]["record"], "safety:h1",
        "published as the token's source"
    );
    // The same event again: JetStream drops it by Nats-Msg-Id.
    let r = http::post(f.credence.http, "/v1/events", Some(tokens::PRODUCER), &e)
        .await
        .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["duplicate"], true);
    // Another channel or source: 403. Bad events: 400 with the §3 code, nothing published.
    let r = http::post(
        f.credence.http,
        "/v1/events?channel=city&source=safety",
        Some(tokens::PRODUCER),
        &e,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 403);
    let mut bad = e.clone();
    bad["item"] = json!("N-PEN-001");
    let r = http::post(f.credence.http, "/v1/events", Some(tokens::PRODUCER), &bad)
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (400, "item_kind_mismatch".to_owned()));
    let mut big = e.clone();
    big["pad"] = json!("x".repeat(17 * 1024));
    let r = http::post(f.credence.http, "/v1/events", Some(tokens::PRODUCER), &big)
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (413, "too_large".to_owned()));
    // Admin names the route; others may not publish.
    let mut e2 = e.clone();
    e2["id"] = json!("h2");
    e2["record"] = json!("h2");
    let r = http::post(f.credence.http, "/v1/events", Some(tokens::ADMIN), &e2)
        .await
        .unwrap();
    assert_eq!((r.status, r.code()), (400, "invalid_route".to_owned()));
    let r = http::post(
        f.credence.http,
        "/v1/events?channel=utility&source=power",
        Some(tokens::ADMIN),
        &e2,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    for (token, status) in [
        (None, 403),
        (Some(tokens::DEPARTMENT), 403),
        (Some(tokens::SELF_NATURAL), 403),
        (Some("nope"), 401),
    ] {
        let r = http::post(f.credence.http, "/v1/events", token, &e)
            .await
            .unwrap();
        assert_eq!(r.status, status, "{token:?}");
    }
    let s = f.stats().await;
    assert_eq!(
        s["events_rejected"], 0,
        "rejected over HTTP, never published"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_log_shows_a_person_who_read_their_data() {
    let f = Fixture::start().await;
    let seq = f
        .publish(
            "grid.staff",
            &add_event("d1", "natural", PERSON, "N-SUP-001", "2025-01-01T00:00:00Z"),
        )
        .await;
    f.wait_applied(seq).await;
    let path = format!("/v1/subjects/natural/{PERSON}?purpose=public-post%20hiring");
    assert_eq!(
        http::get(f.credence.http, &path, Some(tokens::DEPARTMENT))
            .await
            .unwrap()
            .status,
        200
    );
    let body = json!({"subject": {"kind": "natural", "id": PERSON}, "context": "public_employment", "purpose": "hiring review"});
    assert_eq!(
        http::post(f.credence.http, "/v1/check", Some(tokens::ADMIN), &body)
            .await
            .unwrap()
            .status,
        200
    );
    let access = format!("/v1/subjects/natural/{PERSON}/access");
    let ok = credence_tests::wait_until(Duration::from_secs(10), || async {
        let r = http::get(f.credence.http, &access, Some(tokens::SELF_NATURAL))
            .await
            .unwrap();
        r.status == 200 && r.json()["reads"].as_array().map_or(0, |a| a.len()) >= 2
    })
    .await;
    assert!(ok);
    let log = http::get(f.credence.http, &access, Some(tokens::SELF_NATURAL))
        .await
        .unwrap()
        .json();
    let reads = log["reads"].as_array().unwrap();
    assert!(reads.iter().any(|r| r["who"] == "licensing-bureau"
        && r["purpose"] == "public-post hiring"
        && r["role"] == "department"));
    assert!(reads.iter().any(|r| r["who"] == "ops-admin"
        && r["purpose"] == "hiring review"
        && r["endpoint"] == "POST /v1/check"));
    assert!(reads.iter().all(|r| r["at"].is_string()));
    // Another person's log: 403; an admin may read it; a department may not.
    let other = format!("/v1/subjects/natural/{}/access", natural_id(5));
    assert_eq!(
        http::get(f.credence.http, &other, Some(tokens::SELF_NATURAL))
            .await
            .unwrap()
            .status,
        403
    );
    assert_eq!(
        http::get(f.credence.http, &access, Some(tokens::DEPARTMENT))
            .await
            .unwrap()
            .status,
        403
    );
    assert_eq!(
        http::get(f.credence.http, &access, None)
            .await
            .unwrap()
            .status,
        403
    );
    assert_eq!(
        http::get(f.credence.http, &access, Some(tokens::ADMIN))
            .await
            .unwrap()
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_request_reply_answers_like_http() {
    let f = Fixture::start().await;
    let seq = f
        .publish(
            "gov.safety",
            &add_event(
                "s1",
                "legal",
                &legal_id(9),
                "L-SUP-001",
                "2025-01-01T00:00:00Z",
            ),
        )
        .await;
    f.wait_applied(seq).await;
    let ask = |subject: &'static str, body: serde_json::Value| {
        let client = f.client.clone();
        async move {
            let m = tokio::time::timeout(
                Duration::from_secs(10),
                client.request(subject, serde_json::to_vec(&body).unwrap().into()),
            )
            .await
            .unwrap()
            .unwrap();
            serde_json::from_slice::<serde_json::Value>(&m.payload).unwrap()
        }
    };
    let c = ask("credit.check", json!({"subject": {"kind": "legal", "id": legal_id(9)}, "context": "financial_loan", "requester": "bank-of-baoan"})).await;
    assert_eq!(c["decision"], "restrict");
    let via_http = http::post(
        f.credence.http,
        "/v1/check",
        Some(tokens::DEPARTMENT),
        &json!({"subject": {"kind": "legal", "id": legal_id(9)}, "context": "financial_loan"}),
    )
    .await
    .unwrap()
    .json();
    assert_eq!(c["reasons"], via_http["reasons"]);
    assert_eq!(c["score"], via_http["score"]);
    let r = ask(
        "credit.report",
        json!({"subject": {"kind": "legal", "id": legal_id(9)}, "requester": "bank-of-baoan"}),
    )
    .await;
    assert_eq!(r["lists"][0]["list"], "black");
    // Errors: the same objects.
    let e = ask("credit.check", json!({"subject": {"kind": "natural", "id": PERSON}, "context": "financial_loan", "requester": "bank"})).await;
    assert_eq!(e["error"]["code"], "purpose_required");
    let e = ask(
        "credit.check",
        json!({"subject": {"kind": "legal", "id": legal_id(9)}, "context": "financial_loan"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "invalid_request");
    let e = ask(
        "credit.report",
        json!({"subject": {"kind": "natural", "id": PERSON}, "requester": "bank"}),
    )
    .await;
    assert_eq!(e["error"]["code"], "purpose_required");
    // A natural person's check over NATS is audited as department, in the requester's name.
    let mut audit = f.client.subscribe("credit.audit.department").await.unwrap();
    let c = ask("credit.check", json!({"subject": {"kind": "natural", "id": PERSON}, "context": "financial_loan", "requester": "bank-of-baoan", "purpose": "loan"})).await;
    assert_eq!(c["decision"], "allow");
    let m = tokio::time::timeout(Duration::from_secs(10), audit.next())
        .await
        .unwrap()
        .unwrap();
    let rec: serde_json::Value = serde_json::from_slice(&m.payload).unwrap();
    assert_eq!(rec["who"], "bank-of-baoan");
    assert_eq!(rec["subject"], "440306********0590");
    let logs = f.credence.logs();
    assert!(!logs.contains(PERSON));
    let metrics = http::get(f.credence.http, "/metrics", None)
        .await
        .unwrap()
        .text();
    assert!(!metrics.contains(PERSON));
    assert!(
        metrics.contains("credence_list_members{list=\"black\"} 1"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_is_in_sync_with_the_routes() {
    let f = Fixture::start().await;
    let doc = http::get(f.credence.http, "/v1/openapi.json", None)
        .await
        .unwrap()
        .json();
    let paths = doc["paths"].as_object().unwrap();
    for (method, path, _) in credence_connectors::http::ROUTES {
        let op = paths
            .get(*path)
            .and_then(|p| p.get(method.to_lowercase()))
            .unwrap_or_else(|| panic!("{method} {path} missing from the OpenAPI document"));
        assert!(op["responses"].is_object());
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        credence_connectors::http::ROUTES.len(),
        "the document has routes the router lacks"
    );
    // And every route answers (no fallback 404).
    for (method, path, _) in credence_connectors::http::ROUTES {
        let concrete = path
            .replace("{kind}", "legal")
            .replace("{id}", &legal_id(1))
            .replace("{list}", "black")
            .replace("/natural/91", "/natural/44");
        let concrete = if concrete.contains("/natural/") {
            format!("/v1/subjects/natural/{PERSON}/access")
        } else {
            concrete
        };
        let r = match *method {
            "GET" => http::get(f.credence.http, &concrete, Some(tokens::ADMIN))
                .await
                .unwrap(),
            _ => http::post(f.credence.http, &concrete, Some(tokens::ADMIN), &json!({}))
                .await
                .unwrap(),
        };
        assert!(
            !(r.status == 404 && r.text().contains("no such route")),
            "{method} {concrete} is not routed"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_auth_file() {
    let f = Fixture::start().await;
    let r = http::get(f.credence.http, "/v1/stats", Some("new-admin-token"))
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    let mut text = std::fs::read_to_string(&f.auth_path).unwrap();
    text.push_str(&format!(
        "\n[[token]]\nname = \"night-shift\"\nsha256 = \"{}\"\nrole = \"admin\"\n",
        credence_tests::token_sha256("new-admin-token")
    ));
    std::fs::write(&f.auth_path, text).unwrap();
    f.credence.hangup();
    let ok = credence_tests::wait_until(Duration::from_secs(10), || async {
        http::get(f.credence.http, "/v1/stats", Some("new-admin-token"))
            .await
            .map(|r| r.status == 200)
            .unwrap_or(false)
    })
    .await;
    assert!(ok, "{}", f.credence.logs());
    // A broken file is refused and the previous one stays.
    std::fs::write(&f.auth_path, "[[token]]\nname = 1\n").unwrap();
    f.credence.hangup();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        http::get(f.credence.http, "/v1/stats", Some("new-admin-token"))
            .await
            .unwrap()
            .status,
        200
    );
    assert!(f.credence.logs().contains("not reloaded"));
}
