//! `credence serve` against a real nats-server, as a client that knows only the contract sees it.

use std::time::Duration;

use credence_tests::{add_event, http, op_event, tokens, Fixture};
use serde_json::json;

const FIRM: &str = "91440306AY4CL12TH9";
const PERSON: &str = tokens::SELF_ID;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_report_check_and_stats() {
    let f = Fixture::start().await;
    let seq = f
        .publish(
            "gov.safety",
            &add_event(
                "sup-1",
                "legal",
                FIRM,
                "L-SUP-001",
                "2025-06-01T10:00:00+08:00",
            ),
        )
        .await;
    f.wait_applied(seq).await;

    let r = http::get(f.credence.http, &format!("/v1/subjects/legal/{FIRM}"), None)
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(report["subject"], json!({"kind": "legal", "id": FIRM}));
    assert_eq!(report["known"], json!(true));
    assert_eq!(report["lists"][0]["list"], "black");
    assert_eq!(report["lists"][0]["reasons"], json!(["safety:sup-1"]));
    assert_eq!(report["records"][0]["record"], "safety:sup-1");
    assert_eq!(report["records"][0]["status"], "in_effect");
    assert_eq!(report["records"][0]["item"], "L-SUP-001");
    for field in [
        "score",
        "grade",
        "supervision",
        "categories",
        "model",
        "as_of",
        "seq",
    ] {
        assert!(
            report.get(field).is_some(),
            "report lacks {field}: {report}"
        );
    }
    assert_eq!(report["model"]["name"], "baoan");

    let body =
        json!({"subject": {"kind": "legal", "id": FIRM}, "context": "public_resource_trading"});
    let r = http::post(
        f.credence.http,
        "/v1/check",
        Some(tokens::DEPARTMENT),
        &body,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let c = r.json();
    assert_eq!(c["decision"], "restrict");
    assert!(c["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["code"] == "list" && x["list"] == "black" && x["record"] == "safety:sup-1"));
    assert!(c["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["code"] == "item_restriction"
            && x["item"] == "L-SUP-001"
            && x["document"].is_string()));
    assert_eq!(c["lists"], json!(["black"]));
    for field in ["score", "grade", "model", "as_of", "seq"] {
        assert!(c.get(field).is_some(), "check lacks {field}: {c}");
    }

    let s = f.stats().await;
    assert_eq!(s["events_applied"], 1);
    assert_eq!(s["subjects"], 1);
    assert_eq!(s["records_in_effect"], 1);
    assert_eq!(s["last_seq"], seq);
    assert!(s.get("lag").is_some());

    assert_eq!(
        http::get(f.credence.http, "/healthz", None)
            .await
            .unwrap()
            .status,
        200
    );
    let m = http::get(f.credence.http, "/metrics", None)
        .await
        .unwrap()
        .text();
    assert!(m.contains("credence_events_applied_total 1"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dlq_code_with_its_headers() {
    let f = Fixture::start().await;
    let good = add_event("ok-1", "legal", FIRM, "L-PEN-001", "2025-01-01T00:00:00Z");
    let with = |k: &str, v: serde_json::Value| {
        let mut e = good.clone();
        e[k] = v;
        e
    };
    let without = |k: &str| {
        let mut e = good.clone();
        e.as_object_mut().unwrap().remove(k);
        e
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "credit.events.bank.x",
            serde_json::to_vec(&good).unwrap(),
            "invalid_route",
        ),
        (
            "credit.events.gov.safety",
            vec![b' '; 17 * 1024],
            "too_large",
        ),
        (
            "credit.events.gov.safety",
            b"{nope".to_vec(),
            "malformed_json",
        ),
        (
            "credit.events.gov.safety",
            serde_json::to_vec(&without("occurred_at")).unwrap(),
            "missing_field",
        ),
        (
            "credit.events.gov.safety",
            serde_json::to_vec(&with("type", json!("record.delete"))).unwrap(),
            "unknown_type",
        ),
        (
            "credit.events.gov.safety",
            serde_json::to_vec(&with("id", json!("bad id!"))).unwrap(),
            "invalid_event_id",
        ),
        (
            "credit.events.gov.safety",
            serde_json::to_vec(&with(
                "subject",
                json!({"kind": "natural", "id": "440306195606190591"}),
            ))
            .unwrap(),
            "invalid_subject_id",
        ),
        (
            "credit.events.gov.safety",
            serde_json::to_vec(&with("item", json!("L-XXX-001"))).unwrap(),
            "unknown_item",
        ),
        (
            "credit.events.gov.safety",
            serde_json::to_vec(&with("item", json!("N-PEN-001"))).unwrap(),
            "item_kind_mismatch",
        ),
        (
            "credit.events.gov.safety",
            serde_json::to_vec(&with("occurred_at", json!("2025-13-01T00:00:00Z"))).unwrap(),
            "invalid_time",
        ),
        (
            "credit.events.gov.safety",
            serde_json::to_vec(&with("value", json!(-1))).unwrap(),
            "invalid_value",
        ),
        (
            "credit.events.gov.safety",
            serde_json::to_vec(&with("authority", json!("a".repeat(300)))).unwrap(),
            "field_too_long",
        ),
    ];
    let mut seqs = Vec::new();
    for (subject, payload, _) in &cases {
        seqs.push(f.publish_raw(subject, payload.clone()).await);
    }
    // A conflicting duplicate add: record_conflict.
    let s1 = f.publish("gov.safety", &good).await;
    let mut conflicting = good.clone();
    conflicting["id"] = json!("ok-1-again");
    conflicting["note"] = json!("different content");
    let s2 = f.publish("gov.safety", &conflicting).await;
    f.wait_applied(s2).await;

    let dlq = f.read_stream("CREDIT_DLQ", "credit.dlq.>").await;
    assert_eq!(
        dlq.len(),
        cases.len() + 1,
        "{:?}",
        dlq.iter().map(|d| &d.0).collect::<Vec<_>>()
    );
    for ((subject, payload, code), seq) in cases.iter().zip(&seqs) {
        let (dsubj, headers, dpayload) = dlq
            .iter()
            .find(|(_, h, _)| {
                h.as_ref()
                    .and_then(|h| h.get("Credence-Seq"))
                    .map(|v| v.as_str())
                    == Some(&seq.to_string())
            })
            .unwrap_or_else(|| panic!("no DLQ copy of seq {seq} ({code})"));
        let h = headers.as_ref().unwrap();
        assert_eq!(h.get("Credence-Error").unwrap().as_str(), *code);
        assert!(!h.get("Credence-Error-Detail").unwrap().as_str().is_empty());
        assert_eq!(dpayload, payload, "payload unchanged");
        let want = if *code == "invalid_route" {
            "credit.dlq.invalid".to_owned()
        } else {
            subject.replace("credit.events.", "credit.dlq.")
        };
        assert_eq!(dsubj, &want);
        assert!(!h
            .get("Credence-Error-Detail")
            .unwrap()
            .as_str()
            .contains("440306195606190591"));
    }
    let conflict = dlq
        .iter()
        .find(|(_, h, _)| {
            h.as_ref().unwrap().get("Credence-Error").unwrap().as_str() == "record_conflict"
        })
        .unwrap();
    assert_eq!(
        conflict
            .1
            .as_ref()
            .unwrap()
            .get("Credence-Seq")
            .unwrap()
            .as_str(),
        s2.to_string()
    );
    let s = f.stats().await;
    assert_eq!(s["events_rejected"], cases.len());
    assert_eq!(s["events_applied"], 1);
    assert_eq!(s["events_duplicate"], 1);
    let _ = s1;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_revoke_before_add_list_changes_and_at() {
    let f = Fixture::start().await;
    use futures::StreamExt;
    let mut lists = f.client.subscribe("credit.lists.>").await.unwrap();
    let e = add_event(
        "jud-1",
        "legal",
        FIRM,
        "L-JUD-001",
        "2025-03-01T00:00:00+08:00",
    );
    f.publish("gov.court", &e).await;
    let mut again = e.clone();
    again["id"] = json!("jud-1-retry");
    let seq = f.publish("gov.court", &again).await;
    f.wait_applied(seq).await;
    let s = f.stats().await;
    assert_eq!(
        (s["events_applied"].as_u64(), s["events_duplicate"].as_u64()),
        (Some(1), Some(1))
    );

    let added = tokio::time::timeout(Duration::from_secs(10), lists.next())
        .await
        .expect("a list change")
        .unwrap();
    assert_eq!(added.subject.as_str(), "credit.lists.black.legal.added");
    let body: serde_json::Value = serde_json::from_slice(&added.payload).unwrap();
    assert_eq!(body["subject"], json!({"kind": "legal", "id": FIRM}));
    assert_eq!(body["list"], "black");
    assert_eq!(body["reasons"], json!(["court:jud-1"]));
    assert_eq!(body["until"], serde_json::Value::Null);
    for k in ["since", "at", "seq"] {
        assert!(body.get(k).is_some(), "{k} missing from {body}");
    }

    // Revoke: removed, and the removal is published.
    let seq = f
        .publish(
            "gov.court",
            &op_event(
                "record.revoke",
                "rv-1",
                "jud-1",
                "legal",
                FIRM,
                "2025-04-01T00:00:00+08:00",
            ),
        )
        .await;
    f.wait_applied(seq).await;
    let removed = tokio::time::timeout(Duration::from_secs(10), lists.next())
        .await
        .expect("a removal")
        .unwrap();
    assert_eq!(removed.subject.as_str(), "credit.lists.black.legal.removed");

    // Revoke before add: the add, when it comes, stays revoked.
    f.publish(
        "gov.court",
        &op_event(
            "record.revoke",
            "rv-2",
            "jud-2",
            "natural",
            PERSON,
            "2025-04-01T00:00:00+08:00",
        ),
    )
    .await;
    let seq = f
        .publish(
            "gov.court",
            &add_event(
                "jud-2",
                "natural",
                PERSON,
                "N-JUD-001",
                "2025-03-01T00:00:00+08:00",
            ),
        )
        .await;
    f.wait_applied(seq).await;
    let r = http::get(
        f.credence.http,
        &format!("/v1/subjects/natural/{PERSON}?purpose=licensing"),
        Some(tokens::DEPARTMENT),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["lists"], json!([]));
    assert_eq!(r.json()["known"], json!(false));

    // ?at=: a future record, and the decision when it takes effect.
    let seq = f
        .publish(
            "gov.safety",
            &add_event("sup-9", "legal", FIRM, "L-SUP-001", "2030-01-01T00:00:00Z"),
        )
        .await;
    f.wait_applied(seq).await;
    let now = http::get(f.credence.http, &format!("/v1/subjects/legal/{FIRM}"), None)
        .await
        .unwrap()
        .json();
    assert!(now["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["status"] == "pending"));
    let later = http::get(
        f.credence.http,
        &format!("/v1/subjects/legal/{FIRM}?at=2030-06-01T00:00:00Z"),
        None,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(later["lists"][0]["list"], "black");
    assert_eq!(later["as_of"], "2030-06-01T00:00:00Z");
    let body = json!({"subject": {"kind": "legal", "id": FIRM}, "context": "financial_loan", "at": "2030-06-01T00:00:00Z"});
    let c = http::post(
        f.credence.http,
        "/v1/check",
        Some(tokens::DEPARTMENT),
        &body,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(c["decision"], "restrict");
    let body = json!({"subject": {"kind": "legal", "id": FIRM}, "context": "financial_loan"});
    let c = http::post(
        f.credence.http,
        "/v1/check",
        Some(tokens::DEPARTMENT),
        &body,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(c["decision"], "allow");
}

/// (method, path, token, body, status, error code).
type Case<'a> = (
    &'a str,
    String,
    Option<&'a str>,
    Option<serde_json::Value>,
    u16,
    &'a str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_purpose_audit_and_no_identifier_in_logs() {
    let f = Fixture::start().await;
    use futures::StreamExt;
    let mut audit = f.client.subscribe("credit.audit.>").await.unwrap();
    let seq = f
        .publish(
            "grid.staff",
            &add_event(
                "dis-1",
                "natural",
                PERSON,
                "N-SUP-001",
                "2025-06-01T00:00:00+08:00",
            ),
        )
        .await;
    f.wait_applied(seq).await;
    let addr = f.credence.http;
    let legal = format!("/v1/subjects/legal/{FIRM}");
    let natural = format!("/v1/subjects/natural/{PERSON}");
    let natural_p = format!("{natural}?purpose=public-post%20hiring");
    let other = "/v1/subjects/natural/440306198001011231";
    let check_n = json!({"subject": {"kind": "natural", "id": PERSON}, "context": "public_employment", "purpose": "hiring"});
    let check_np =
        json!({"subject": {"kind": "natural", "id": PERSON}, "context": "public_employment"});
    let check_l = json!({"subject": {"kind": "legal", "id": FIRM}, "context": "special_fund"});

    // (method, path, token, body, status, code)
    let cases: Vec<Case> = vec![
        ("GET", legal.clone(), None, None, 200, ""),
        ("GET", legal.clone(), Some(tokens::PRODUCER), None, 200, ""),
        (
            "GET",
            legal.clone(),
            Some("wrong-token"),
            None,
            401,
            "unauthorized",
        ),
        ("GET", natural.clone(), None, None, 403, "forbidden"),
        (
            "GET",
            natural.clone(),
            Some(tokens::PRODUCER),
            None,
            403,
            "forbidden",
        ),
        (
            "GET",
            natural.clone(),
            Some(tokens::SELF_NATURAL),
            None,
            200,
            "",
        ),
        (
            "GET",
            other.to_owned(),
            Some(tokens::SELF_NATURAL),
            None,
            403,
            "forbidden",
        ),
        (
            "GET",
            natural.clone(),
            Some(tokens::DEPARTMENT),
            None,
            400,
            "purpose_required",
        ),
        (
            "GET",
            natural_p.clone(),
            Some(tokens::DEPARTMENT),
            None,
            200,
            "",
        ),
        ("GET", natural_p.clone(), Some(tokens::ADMIN), None, 200, ""),
        (
            "GET",
            "/v1/subjects/legal/91440306AY4CL12TH8".into(),
            None,
            None,
            400,
            "invalid_subject_id",
        ),
        (
            "POST",
            "/v1/check".into(),
            None,
            Some(check_l.clone()),
            403,
            "forbidden",
        ),
        (
            "POST",
            "/v1/check".into(),
            Some(tokens::SELF_NATURAL),
            Some(check_n.clone()),
            403,
            "forbidden",
        ),
        (
            "POST",
            "/v1/check".into(),
            Some(tokens::PRODUCER),
            Some(check_l.clone()),
            403,
            "forbidden",
        ),
        (
            "POST",
            "/v1/check".into(),
            Some("wrong-token"),
            Some(check_l.clone()),
            401,
            "unauthorized",
        ),
        (
            "POST",
            "/v1/check".into(),
            Some(tokens::DEPARTMENT),
            Some(check_l.clone()),
            200,
            "",
        ),
        (
            "POST",
            "/v1/check".into(),
            Some(tokens::ADMIN),
            Some(check_n.clone()),
            200,
            "",
        ),
        (
            "POST",
            "/v1/check".into(),
            Some(tokens::DEPARTMENT),
            Some(check_np.clone()),
            400,
            "purpose_required",
        ),
        (
            "POST",
            "/v1/check".into(),
            Some(tokens::DEPARTMENT),
            Some(json!({"subject": {"kind": "legal", "id": FIRM}, "context": "parking"})),
            400,
            "unknown_context",
        ),
        (
            "POST",
            "/v1/check".into(),
            Some(tokens::DEPARTMENT),
            Some(json!({"subject": {"kind": "legal", "id": "x"}, "context": "special_fund"})),
            400,
            "invalid_subject_id",
        ),
        (
            "POST",
            "/v1/check".into(),
            Some(tokens::DEPARTMENT),
            Some(json!([1, 2])),
            400,
            "invalid_request",
        ),
        ("GET", "/v1/stats".into(), None, None, 403, "forbidden"),
        (
            "GET",
            "/v1/stats".into(),
            Some(tokens::DEPARTMENT),
            None,
            403,
            "forbidden",
        ),
        (
            "GET",
            "/v1/stats".into(),
            Some(tokens::ADMIN),
            None,
            200,
            "",
        ),
        ("GET", "/v1/nothing".into(), None, None, 404, "not_found"),
    ];
    for (method, path, token, body, status, code) in &cases {
        let r = match method {
            &"GET" => http::get(addr, path, *token).await.unwrap(),
            _ => http::post(addr, path, *token, body.as_ref().unwrap())
                .await
                .unwrap(),
        };
        assert_eq!(
            r.status,
            *status,
            "{method} {path} as {token:?}: {}",
            r.text()
        );
        if !code.is_empty() {
            assert_eq!(r.code(), *code, "{method} {path} as {token:?}");
            assert!(r.json()["error"]["message"].is_string());
        }
    }
    // The natural person's check: restricted in public employment.
    let c = http::post(addr, "/v1/check", Some(tokens::DEPARTMENT), &check_n)
        .await
        .unwrap()
        .json();
    assert_eq!(c["decision"], "restrict");

    // Audit: every read of the natural person's data, masked, with a keyed pseudonym.
    let mut records = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while records.len() < 5 && std::time::Instant::now() < deadline {
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(500), audit.next()).await {
            records.push((
                m.subject.to_string(),
                serde_json::from_slice::<serde_json::Value>(&m.payload).unwrap(),
            ));
        }
    }
    let got = records.len() >= 5;
    assert!(got, "audit records: {records:?}");
    let (subj, first) = &records[0];
    assert!(subj.starts_with("credit.audit."));
    assert_eq!(first["subject"], "440306********0590");
    assert_eq!(first["subject_ref"].as_str().unwrap().len(), 64);
    for k in ["who", "purpose", "endpoint", "at", "outcome"] {
        assert!(first.get(k).is_some(), "{k} missing: {first}");
    }
    assert!(records
        .iter()
        .any(|(s, r)| s == "credit.audit.self" && r["who"] == "resident-0590"));
    assert!(records
        .iter()
        .any(|(s, r)| s == "credit.audit.department" && r["purpose"] == "public-post hiring"));
    // One pseudonym per person, whoever reads.
    assert!(records
        .iter()
        .all(|(_, r)| r["subject_ref"] == first["subject_ref"]));
    let all = records.iter().map(|r| r.1.to_string()).collect::<String>();
    assert!(!all.contains(PERSON));

    // Nothing logged holds the natural person's identifier in clear.
    let logs = f.credence.logs();
    assert!(!logs.contains(PERSON), "identifier in logs:\n{logs}");
    let m = http::get(addr, "/metrics", None).await.unwrap().text();
    assert!(!m.contains(PERSON));
}
