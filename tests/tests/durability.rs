//! Durability against a real nats-server and the real binary: kill -9 mid-burst, snapshots
//! and tail replay, a corrupt snapshot, a NATS restart, SIGTERM, time-driven expiry, the
//! model in the log, and a snapshot ahead of its stream.

use std::time::Duration;

use credence_engine::synth::legal_id;
use credence_tests::{add_event, http, serve_expecting_exit, Fixture, NatsServer, TempDir};
use futures::StreamExt;
use serde_json::json;

const ITEMS: [&str; 6] = [
    "L-LIC-001",
    "L-BAS-002",
    "L-OTH-001",
    "L-PEN-001",
    "L-HON-001",
    "L-LIC-003",
];

/// The `j`-th event of subject `i`.
fn event(i: u64, j: u64) -> serde_json::Value {
    add_event(
        &format!("e{i}-{j}"),
        "legal",
        &legal_id(i),
        ITEMS[(j % 6) as usize],
        "2025-01-01T00:00:00+08:00",
    )
}

/// Publishes events for `subjects` × `per` with many publishes in flight; calls `on_acked`
/// with the count acked so far every 500.
async fn burst(
    js: &async_nats::jetstream::Context,
    subjects: u64,
    per: u64,
    mut on_acked: impl FnMut(u64),
) -> u64 {
    let mut inflight = futures::stream::FuturesUnordered::new();
    let mut acked = 0u64;
    let mut last = 0;
    for j in 0..per {
        for i in 0..subjects {
            let payload = serde_json::to_vec(&event(i, j)).unwrap();
            let ack = js
                .publish("credit.events.gov.safety", payload.into())
                .await
                .unwrap();
            inflight.push(std::future::IntoFuture::into_future(ack));
            while inflight.len() > 256 {
                last = inflight.next().await.unwrap().unwrap().sequence.max(last);
                acked += 1;
                if acked.is_multiple_of(500) {
                    on_acked(acked);
                }
            }
        }
    }
    while let Some(a) = inflight.next().await {
        last = a.unwrap().sequence.max(last);
    }
    last
}

async fn metric(f: &Fixture, name: &str) -> u64 {
    let m = http::get(f.credence.http, "/metrics", None)
        .await
        .unwrap()
        .text();
    m.lines()
        .find(|l| l.starts_with(name) && l.as_bytes().get(name.len()) == Some(&b' '))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_during_a_burst_loses_and_doubles_nothing() {
    let mut f = Fixture::start_with(&["--snapshot-every", "3000"]).await;
    let (subjects, per) = (2000u64, 10u64);
    let pid = f.credence.pid().unwrap();
    let mut killed = false;
    let last = burst(&f.js, subjects, per, |acked| {
        if acked >= 8000 && !killed {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            killed = true;
        }
    })
    .await;
    assert!(killed);
    f.restart_credence();
    f.credence.wait_ready(Duration::from_secs(120)).await;
    f.wait_applied(last).await;
    let s = f.stats().await;
    assert_eq!(s["events_applied"], subjects * per, "{s}");
    assert_eq!(s["events_duplicate"], 0);
    assert_eq!(s["events_rejected"], 0);
    assert_eq!(s["subjects"], subjects);
    // Every subject's records, exactly.
    for i in 0..subjects {
        let r = http::get(
            f.credence.http,
            &format!("/v1/subjects/legal/{}", legal_id(i)),
            None,
        )
        .await
        .unwrap()
        .json();
        let mut got: Vec<String> = r["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["record"].as_str().unwrap().to_owned())
            .collect();
        got.sort();
        let mut want: Vec<String> = (0..per).map(|j| format!("safety:e{i}-{j}")).collect();
        want.sort();
        assert_eq!(got, want, "subject {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_restores_the_snapshot_and_replays_only_the_tail() {
    let mut f = Fixture::start_with(&["--snapshot-every", "1000000"]).await;
    let last = burst(&f.js, 300, 10, |_| {}).await;
    f.wait_applied(last).await;
    // SIGTERM: drains, writes a final snapshot, exits 0.
    assert_eq!(
        f.credence.terminate(Duration::from_secs(30)),
        Some(0),
        "{}",
        f.credence.logs()
    );
    let snaps: Vec<_> = std::fs::read_dir(f.state_dir().join("snapshots"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        snaps.contains(&format!("snapshot-{last:020}.bin")),
        "{snaps:?}"
    );
    // A tail of 250 events while it is down.
    let mut tail_last = 0;
    for j in 10..15 {
        for i in 0..50 {
            let ack =
                f.js.publish(
                    "credit.events.gov.safety",
                    serde_json::to_vec(&event(i, j)).unwrap().into(),
                )
                .await
                .unwrap();
            tail_last = ack.await.unwrap().sequence;
        }
    }
    f.restart_credence();
    f.credence.wait_ready(Duration::from_secs(60)).await;
    f.wait_applied(tail_last).await;
    let logs = f.credence.logs();
    assert!(logs.contains("restored snapshot"), "{logs}");
    assert_eq!(
        metric(&f, "credence_messages_consumed_total").await,
        tail_last - last,
        "only the tail is replayed"
    );
    let s = f.stats().await;
    assert_eq!(s["events_applied"], 3000 + 250);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_newest_snapshot_falls_back_to_the_older_one() {
    let mut f = Fixture::start_with(&["--snapshot-every", "500"]).await;
    let last = burst(&f.js, 200, 10, |_| {}).await;
    f.wait_applied(last).await;
    assert_eq!(f.credence.terminate(Duration::from_secs(30)), Some(0));
    let dir = f.state_dir().join("snapshots");
    let mut snaps: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    snaps.sort();
    assert_eq!(snaps.len(), 2, "the last two are kept: {snaps:?}");
    // Truncate the newest.
    let newest = snaps.last().unwrap();
    let len = std::fs::metadata(newest).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(newest)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    f.restart_credence();
    f.credence.wait_ready(Duration::from_secs(60)).await;
    let logs = f.credence.logs();
    assert!(logs.contains("does not check out"), "{logs}");
    assert!(logs.contains("restored snapshot"), "{logs}");
    let s = f.stats().await;
    assert_eq!(s["events_applied"], 2000);
    // And with every snapshot corrupt: a full replay, same state.
    f.credence.kill9();
    for p in std::fs::read_dir(&dir).unwrap().flatten() {
        std::fs::write(p.path(), b"garbage").unwrap();
    }
    f.restart_credence();
    f.credence.wait_ready(Duration::from_secs(60)).await;
    assert!(f.credence.logs().contains("full replay"));
    assert_eq!(f.stats().await["events_applied"], 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_the_nats_server_restarting() {
    let mut f = Fixture::start().await;
    let last = burst(&f.js, 100, 5, |_| {}).await;
    f.wait_applied(last).await;
    f.nats.restart();
    // The test's own client reconnects too.
    let ok = credence_tests::wait_until(Duration::from_secs(30), || async {
        f.client.connection_state() == async_nats::connection::State::Connected
    })
    .await;
    assert!(ok);
    let mut seq = 0;
    for j in 5..10 {
        for i in 0..100 {
            let payload = serde_json::to_vec(&event(i, j)).unwrap();
            seq = loop {
                match f
                    .js
                    .publish("credit.events.gov.safety", payload.clone().into())
                    .await
                {
                    Ok(ack) => match ack.await {
                        Ok(a) => break a.sequence,
                        Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                    },
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            };
        }
    }
    f.wait_applied(seq).await;
    let s = f.stats().await;
    assert_eq!(s["events_applied"], 1000, "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_list_entry_expires_on_time_without_a_new_event() {
    let f = Fixture::start().await;
    let mut lists = f.client.subscribe("credit.lists.>").await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires = now + 3;
    let expires_s = credence_engine::time::format_rfc3339(expires as i64 * 1_000_000);
    let mut e = add_event(
        "sup-exp",
        "legal",
        &legal_id(7),
        "L-SUP-001",
        "2025-01-01T00:00:00Z",
    );
    e["expires_at"] = json!(expires_s);
    f.publish("gov.safety", &e).await;
    let added = tokio::time::timeout(Duration::from_secs(10), lists.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(added.subject.as_str(), "credit.lists.black.legal.added");
    let removed = tokio::time::timeout(Duration::from_secs(15), lists.next())
        .await
        .expect("the removal is published with no new event")
        .unwrap();
    let arrived = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert_eq!(removed.subject.as_str(), "credit.lists.black.legal.removed");
    let body: serde_json::Value = serde_json::from_slice(&removed.payload).unwrap();
    assert_eq!(
        body["at"],
        json!(expires_s),
        "published as of the instant it happened"
    );
    assert_eq!(body["until"], json!(expires_s));
    assert!(arrived >= expires as f64, "not before it happens");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_pushed_mid_stream_judges_exactly_the_events_after_it() {
    let mut f = Fixture::start().await;
    let before = add_event(
        "p3-before",
        "legal",
        &legal_id(1),
        "L-PEN-003",
        "2025-01-01T00:00:00Z",
    );
    f.publish("gov.safety", &before).await;
    // A model with L-PEN-003 retired, pushed with the CLI.
    let dir = TempDir::new("model");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/baoan");
    std::fs::copy(src.join("model.toml"), dir.path().join("model.toml")).unwrap();
    let items = std::fs::read_to_string(src.join("items.toml")).unwrap();
    let items = items.replacen(
        "code = \"L-PEN-003\"\n",
        "code = \"L-PEN-003\"\nretired = true\n",
        1,
    );
    std::fs::write(dir.path().join("items.toml"), items).unwrap();
    let model_toml = std::fs::read_to_string(dir.path().join("model.toml"))
        .unwrap()
        .replace("version = \"2017.1\"", "version = \"2017.2\"");
    std::fs::write(dir.path().join("model.toml"), model_toml).unwrap();
    let out = std::process::Command::new(credence_tests::credence_binary())
        .args(["model", "push"])
        .arg(dir.path())
        .args(["--nats", &f.nats.url()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = add_event(
        "p3-after",
        "legal",
        &legal_id(1),
        "L-PEN-003",
        "2025-01-01T00:00:00Z",
    );
    let seq = f.publish("gov.safety", &after).await;
    f.wait_applied(seq).await;
    let check =
        |s: serde_json::Value| (s["events_applied"].as_u64(), s["events_rejected"].as_u64());
    assert_eq!(check(f.stats().await), (Some(1), Some(1)));
    let dlq = f.read_stream("CREDIT_DLQ", "credit.dlq.>").await;
    assert_eq!(dlq.len(), 1);
    assert_eq!(
        dlq[0]
            .1
            .as_ref()
            .unwrap()
            .get("Credence-Error")
            .unwrap()
            .as_str(),
        "retired_item"
    );
    let r = http::get(
        f.credence.http,
        &format!("/v1/subjects/legal/{}", legal_id(1)),
        None,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(r["model"]["version"], "2017.2");
    assert_eq!(r["records"].as_array().unwrap().len(), 1);
    // A full replay from an empty state judges the same way.
    f.credence.kill9();
    std::fs::remove_dir_all(f.state_dir()).unwrap();
    f.restart_credence();
    f.credence.wait_ready(Duration::from_secs(60)).await;
    assert_eq!(check(f.stats().await), (Some(1), Some(1)));
    // And the swapped model survives a restart from the snapshot.
    assert_eq!(f.credence.terminate(Duration::from_secs(30)), Some(0));
    f.restart_credence();
    f.credence.wait_ready(Duration::from_secs(60)).await;
    let r = http::get(
        f.credence.http,
        &format!("/v1/subjects/legal/{}", legal_id(1)),
        None,
    )
    .await
    .unwrap()
    .json();
    assert_eq!(r["model"]["version"], "2017.2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_ahead_of_its_stream_refuses_to_start() {
    let mut f = Fixture::start().await;
    let last = burst(&f.js, 50, 4, |_| {}).await;
    f.wait_applied(last).await;
    assert_eq!(f.credence.terminate(Duration::from_secs(30)), Some(0));
    // The same state against a new, empty server: the stream "lost" everything.
    let empty = NatsServer::start();
    let (code, out) =
        serve_expecting_exit(&empty.url(), &f.state_dir(), &[], Duration::from_secs(60));
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("lost data"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_even_with_the_nats_server_gone() {
    let mut f = Fixture::start().await;
    let last = burst(&f.js, 20, 2, |_| {}).await;
    f.wait_applied(last).await;
    // A receipt queued, then the server goes away.
    let body =
        json!({"subject": {"kind": "legal", "id": legal_id(1)}, "context": "financial_loan"});
    assert_eq!(
        http::post(
            f.credence.http,
            "/v1/check",
            Some(credence_tests::tokens::DEPARTMENT),
            &body
        )
        .await
        .unwrap()
        .status,
        200
    );
    f.nats.kill();
    let started = std::time::Instant::now();
    let code = f.credence.terminate(Duration::from_secs(60));
    assert!(
        code.is_some(),
        "still running 60 s after SIGTERM; logs:\n{}",
        f.credence.logs()
    );
    assert!(started.elapsed() < Duration::from_secs(45));
    // The state's own snapshot does not need NATS.
    let snaps = std::fs::read_dir(f.state_dir().join("snapshots"))
        .unwrap()
        .count();
    assert!(snaps >= 1);
}
