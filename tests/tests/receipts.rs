//! Check receipts from outside: every answer's receipt chained as the contract defines,
//! recomputed here; stored on credit.audit.receipts.<chain>; verified by
//! `credence verify-receipts`, across a restart; tampering, removal and reordering detected.

use std::time::Duration;

use credence_engine::synth::legal_id;
use credence_tests::{credence_binary, http, tokens, Fixture, TempDir};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The answer without its receipt, as canonical JSON text (keys sorted, no white space).
fn answer_json(answer: &Value) -> String {
    let mut a = answer.clone();
    a.as_object_mut().unwrap().remove("receipt");
    a.to_string()
}

fn hash(prev: &str, digest: &str, answer_json: &str) -> String {
    hex::encode(Sha256::digest(
        format!("{prev}\n{digest}\n{answer_json}").as_bytes(),
    ))
}

fn verify(nats: &str, extra: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(credence_binary())
        .args(["verify-receipts", "--nats", nats])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_chain_verify_from_outside_and_across_a_restart() {
    let mut f = Fixture::start().await;
    let mut answers = Vec::new();
    for i in 0..5 {
        let body =
            json!({"subject": {"kind": "legal", "id": legal_id(i)}, "context": "financial_loan"});
        answers.push(
            http::post(
                f.credence.http,
                "/v1/check",
                Some(tokens::DEPARTMENT),
                &body,
            )
            .await
            .unwrap()
            .json(),
        );
    }
    let batch = json!({"checks": [
        {"subject": {"kind": "legal", "id": legal_id(7)}, "context": "special_fund"},
        {"subject": {"kind": "legal", "id": "bad"}, "context": "special_fund"},
        {"subject": {"kind": "legal", "id": legal_id(8)}, "context": "special_fund"}
    ]});
    let r = http::post(
        f.credence.http,
        "/v1/check/batch",
        Some(tokens::DEPARTMENT),
        &batch,
    )
    .await
    .unwrap()
    .json();
    let results = r["results"].as_array().unwrap().clone();
    assert!(
        results[1].get("receipt").is_none(),
        "an error has no receipt"
    );
    answers.push(results[0].clone());
    answers.push(results[2].clone());
    let m = f.client.request("credit.check", serde_json::to_vec(&json!({"subject": {"kind": "legal", "id": legal_id(9)}, "context": "financial_loan", "requester": "bank"})).unwrap().into()).await.unwrap();
    answers.push(serde_json::from_slice(&m.payload).unwrap());

    // From outside: each receipt's hash recomputed, each prev the hash before it.
    let chain = answers[0]["receipt"]["chain"].as_str().unwrap().to_owned();
    let mut prev = "0".repeat(64);
    for (i, a) in answers.iter().enumerate() {
        let rc = &a["receipt"];
        assert_eq!(rc["chain"], chain.as_str());
        assert_eq!(rc["seq"], i as u64 + 1, "in the order given");
        assert_eq!(rc["prev"], prev.as_str());
        assert_eq!(rc["request_digest"].as_str().unwrap().len(), 64);
        let digest = rc["request_digest"].as_str().unwrap();
        assert_eq!(
            rc["sha256"],
            hash(&prev, digest, &answer_json(a)).as_str(),
            "receipt {i}"
        );
        prev = rc["sha256"].as_str().unwrap().to_owned();
    }
    // The batch's entries are digested as body#index: distinct digests.
    assert_ne!(
        answers[5]["receipt"]["request_digest"],
        answers[6]["receipt"]["request_digest"]
    );

    // Stored within about 100 ms, and verified by the CLI.
    let ok = credence_tests::wait_until(Duration::from_secs(10), || async {
        verify(&f.nats.url(), &[]).1.contains("8 receipts")
    })
    .await;
    assert!(ok, "{}", verify(&f.nats.url(), &[]).1);
    let stored = f
        .read_stream("CREDIT_AUDIT", &format!("credit.audit.receipts.{chain}"))
        .await;
    assert!(!stored.is_empty());
    let first: Value =
        serde_json::from_slice(stored[0].2.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        first["answer_json"].as_str().unwrap(),
        answer_json(&answers[0])
    );

    // A clean shutdown loses none; the next run's chain continues the line.
    let body =
        json!({"subject": {"kind": "legal", "id": legal_id(1)}, "context": "financial_loan"});
    let last = http::post(
        f.credence.http,
        "/v1/check",
        Some(tokens::DEPARTMENT),
        &body,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(f.credence.terminate(Duration::from_secs(30)), Some(0));
    f.restart_credence();
    f.credence.wait_ready(Duration::from_secs(60)).await;
    let next = http::post(
        f.credence.http,
        "/v1/check",
        Some(tokens::DEPARTMENT),
        &body,
    )
    .await
    .unwrap()
    .json();
    assert_ne!(next["receipt"]["chain"], last["receipt"]["chain"]);
    assert_eq!(next["receipt"]["seq"], 1);
    assert_eq!(
        next["receipt"]["prev"], last["receipt"]["sha256"],
        "chains of one instance form one line"
    );
    f.credence.terminate(Duration::from_secs(30));
    let (ok, out) = verify(&f.nats.url(), &[]);
    assert!(ok && out.contains("10 receipts in 2 chains"), "{out}");

    // Tampered, removed, reordered: each detected.
    let dir = TempDir::new("receipts");
    let dump = dir.path().join("all.jsonl");
    let (ok, _) = verify(&f.nats.url(), &["--dump", dump.to_str().unwrap()]);
    assert!(ok);
    let lines: Vec<String> = std::fs::read_to_string(&dump)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 10);
    let check_file = |lines: &[String], name: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, lines.join("\n")).unwrap();
        verify(&f.nats.url(), &["--file", p.to_str().unwrap()])
    };
    let mut tampered = lines.clone();
    tampered[3] = tampered[3].replace("allow", "restrict");
    assert_ne!(tampered[3], lines[3]);
    let (ok, out) = check_file(&tampered, "tampered.jsonl");
    assert!(
        !ok && out.contains("seq 4") && out.contains("tampered"),
        "{out}"
    );
    let mut removed = lines.clone();
    removed.remove(2);
    let (ok, out) = check_file(&removed, "removed.jsonl");
    assert!(!ok && out.contains("BROKEN"), "{out}");
    let mut reordered = lines.clone();
    reordered.swap(4, 5);
    let (ok, out) = check_file(&reordered, "reordered.jsonl");
    assert!(!ok && out.contains("BROKEN"), "{out}");
    let (ok, _) = check_file(&lines, "intact.jsonl");
    assert!(ok);
}
