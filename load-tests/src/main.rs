//! `credence-load`: how fast Credence ingests, measured against the limits of the same machine
//! in the same run. Starts a real nats-server and the real `credence serve` (release build) on
//! free loopback ports unless given URLs, preloads a seeded synthetic Bao'an population's
//! history into `CREDIT_EVENTS`, then measures:
//!
//! - raw: a plain durable pull consumer (no decode, same batch size and ack policy as the
//!   engine) reading the whole stream: the machine's limit;
//! - engine: `credence serve` from an empty state until caught up with the same stream;
//!
//! and writes `report.json` and `report.md` to `--out`.

mod checks;
mod client;
mod plot;
mod redis;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy};
use clap::Parser;
use credence_engine::synth::{Generator, Population};
use credence_tests::{http, Credence, NatsServer, TempDir};
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    name = "credence-load",
    about = "Measure Credence against the machine's own limits, in one run"
)]
struct Args {
    /// smoke (scale 0.01, quick) or baoan (scale 1.0).
    #[arg(long, default_value = "smoke")]
    scenario: String,
    /// Population scale (overrides the scenario's).
    #[arg(long)]
    scale: Option<f64>,
    /// Output directory for report.json and report.md.
    #[arg(long, default_value = "load-out")]
    out: PathBuf,
    /// Use this NATS server instead of starting one.
    #[arg(long)]
    nats: Option<String>,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 2017)]
    seed: u64,
    /// Batch size of both consumers.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Reuse a stream that already holds the population (with --nats): skip the preload.
    #[arg(long)]
    reuse: bool,
    /// Steady ingest during the check phases, events/s (default: the scenario's).
    #[arg(long)]
    rate: Option<u64>,
    /// Checks per setting (1 and 16 clients, HTTP, baseline and NATS).
    #[arg(long, default_value_t = 20_000)]
    checks: u64,
    /// The credence binary (default: target/release/credence, built if missing).
    #[arg(long)]
    credence: Option<PathBuf>,
}

fn release_binary() -> anyhow::Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    // `cargo` through rustup's proxy, which pins the toolchain for rustc (some crates ship a
    // rust-toolchain.toml of their own).
    let status = std::process::Command::new("cargo")
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "credence-connectors",
            "--bin",
            "credence",
        ])
        .current_dir(&root)
        .status()?;
    anyhow::ensure!(status.success(), "building credence failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release").join("credence"))
}

/// Publishes the population's history with up to `window` publishes in flight.
async fn preload(
    js: &jetstream::Context,
    pop: Population,
    window: usize,
) -> anyhow::Result<(u64, f64)> {
    let model = credence_models::bundled();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_micros() as i64;
    let mut gen = Generator::new(pop, &model, now);
    let mut inflight = FuturesUnordered::new();
    let started = Instant::now();
    let mut n = 0u64;
    for i in 0..pop.len() {
        for e in gen.history(i) {
            let ack = js
                .publish(e.subject, e.payload.into())
                .await
                .context("publish")?;
            inflight.push(std::future::IntoFuture::into_future(ack));
            n += 1;
            while inflight.len() >= window {
                inflight.next().await.transpose().context("publish ack")?;
            }
        }
        if i % 50_000 == 0 && i > 0 {
            eprint!("\r[preload] {i}/{} subjects, {n} events", pop.len());
        }
    }
    while let Some(r) = inflight.next().await {
        r.context("publish ack")?;
    }
    eprintln!(
        "\r[preload] {} subjects, {n} events in {:.1} s",
        pop.len(),
        started.elapsed().as_secs_f64()
    );
    Ok((n, started.elapsed().as_secs_f64()))
}

/// The raw limit: a plain durable pull consumer, no decode, acking each batch's last message.
async fn raw_consume(js: &jetstream::Context, total: u64, batch: usize) -> anyhow::Result<f64> {
    let stream = js.get_stream("CREDIT_EVENTS").await?;
    let _ = stream.delete_consumer("load-raw").await;
    let consumer: jetstream::consumer::Consumer<pull::Config> = stream
        .create_consumer(pull::Config {
            durable_name: Some("load-raw".into()),
            ack_policy: AckPolicy::All,
            ack_wait: Duration::from_secs(60),
            max_ack_pending: 100_000,
            ..Default::default()
        })
        .await?;
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(batch.min(10_000))
        .messages()
        .await?;
    let started = Instant::now();
    let mut n = 0u64;
    let mut bytes = 0u64;
    while n < total {
        let Some(first) = messages.next().await else {
            break;
        };
        let mut last = first?;
        n += 1;
        bytes += last.payload.len() as u64;
        let mut in_batch = 1;
        while in_batch < batch {
            match futures::FutureExt::now_or_never(messages.next()) {
                Some(Some(Ok(m))) => {
                    bytes += m.payload.len() as u64;
                    last = m;
                    n += 1;
                    in_batch += 1;
                }
                _ => break,
            }
        }
        last.ack().await.map_err(|e| anyhow::anyhow!("ack: {e}"))?;
    }
    let secs = started.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    let _ = stream.delete_consumer("load-raw").await;
    Ok(n as f64 / secs)
}

/// The engine from an empty state until caught up: events/s between the first applied
/// message and catch-up, sampled from `/v1/stats`.
async fn engine_ingest(
    binary: &std::path::Path,
    nats_url: &str,
    total_seq: u64,
    batch: usize,
) -> anyhow::Result<(f64, Credence, TempDir)> {
    let data = TempDir::new("load-engine");
    let auth = data.path().join("auth.toml");
    credence_tests::write_auth(&auth);
    let batch_s = batch.to_string();
    let credence = Credence::start_binary(
        binary,
        nats_url,
        &data.path().join("state"),
        &[
            "--auth",
            auth.to_str().unwrap_or(""),
            "--batch",
            &batch_s,
            "--log",
            "info",
        ],
    );
    let mut first: Option<(Instant, u64)> = None;
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        let r = http::get(credence.http, "/readyz", None).await;
        let seq = match r {
            Ok(r) if r.status == 200 => total_seq,
            Ok(r) => r
                .text()
                .split("catching up: ")
                .nth(1)
                .and_then(|s| s.split(' ').next())
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            Err(_) => 0,
        };
        let now = Instant::now();
        if first.is_none() && seq > 0 {
            first = Some((now, seq));
        }
        if seq >= total_seq {
            let (t0, s0) = first.unwrap_or((now, 0));
            let secs = now.duration_since(t0).as_secs_f64().max(1e-3);
            return Ok(((total_seq - s0) as f64 / secs, credence, data));
        }
        anyhow::ensure!(now < deadline, "the engine did not catch up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The keys report.json must hold, each a number (dotted paths).
const REQUIRED_KEYS: &[&str] = &[
    "ingest.events_per_s",
    "ingest.raw_consume_per_s",
    "ingest.ratio",
    "check.http.c1.p50_us",
    "check.http.c1.p99_us",
    "check.http.c16.p99_us",
    "check.http.c16.rps",
    "check.nats.c1.p99_us",
    "check.nats.c16.p99_us",
    "baseline.http.c1.p99_us",
    "baseline.http.c16.p99_us",
    "baseline.redis.c1.p99_us",
    "baseline.redis.c16.p99_us",
    "ratio.http_c1_p99_vs_baseline",
    "ratio.http_c16_p99_vs_baseline",
    "freshness.p99_ms",
    "memory.rss_bytes",
    "memory.bytes_per_subject",
    "snapshot.write_s",
    "snapshot.restore_s",
    "model_swap.s",
    "scale",
    "subjects",
    "records_in_effect",
];

fn lookup<'a>(v: &'a serde_json::Value, dotted: &str) -> Option<&'a serde_json::Value> {
    dotted.split('.').try_fold(v, |v, k| v.get(k))
}

/// A steady publisher of the live event mix at `rate` events/s, until `stop`.
fn steady(
    js: jetstream::Context,
    pop: Population,
    seed: u64,
    rate: u64,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let model = credence_models::bundled();
        let mut gen = Generator::new(
            Population {
                seed: seed + 1,
                ..pop
            },
            &model,
            now_us(),
        );
        let started = Instant::now();
        let mut sent = 0u64;
        let mut inflight = FuturesUnordered::new();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
            while sent < due {
                let e = gen.live(now_us());
                if let Ok(ack) = js.publish(e.subject, e.payload.into()).await {
                    inflight.push(std::future::IntoFuture::into_future(ack));
                }
                sent += 1;
                while inflight.len() > 1024 {
                    let _ = inflight.next().await;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        while inflight.next().await.is_some() {}
        sent
    })
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Publish → list-change notification latency, in ms: `n` black-list entries for new subjects.
async fn freshness(
    client: &async_nats::Client,
    js: &jetstream::Context,
    pop: Population,
    n: u64,
) -> anyhow::Result<Vec<f64>> {
    let mut sub = client.subscribe("credit.lists.black.legal.added").await?;
    let mut out = Vec::new();
    for k in 0..n {
        let id = credence_engine::synth::legal_id(pop.legal + 10_000_000 + k);
        let e = json!({"id": format!("fresh-{k}"), "type": "record.add", "subject": {"kind": "legal", "id": id},
            "record": format!("fresh/{k}"), "item": "L-SUP-001", "occurred_at": "2026-01-01T00:00:00Z"});
        let t0 = Instant::now();
        js.publish("credit.events.gov.safety", serde_json::to_vec(&e)?.into())
            .await?
            .await?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, sub.next()).await {
                Ok(Some(m)) => {
                    let v: serde_json::Value =
                        serde_json::from_slice(&m.payload).unwrap_or_default();
                    if v["subject"]["id"] == id.as_str() {
                        out.push(t0.elapsed().as_secs_f64() * 1e3);
                        break;
                    }
                }
                _ => anyhow::bail!("no list change for a fresh black-list entry within 10 s"),
            }
        }
    }
    Ok(out)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((p * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)]
}

fn proc_status_bytes(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

/// The value after `key=` on the last log line containing `marker`.
fn log_field(logs: &str, marker: &str, key: &str) -> Option<f64> {
    logs.lines()
        .rev()
        .find(|l| l.contains(marker))
        .and_then(|l| {
            l.split_whitespace().find_map(|w| {
                w.strip_prefix(&format!("{key}="))
                    .and_then(|v| v.parse().ok())
            })
        })
}

async fn metric(addr: std::net::SocketAddr, name: &str) -> Option<u64> {
    let m = http::get(addr, "/metrics", None).await.ok()?.text();
    m.lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .and_then(|l| l.split(' ').nth(1)?.parse().ok())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (default_scale, default_rate, fresh_n) = match args.scenario.as_str() {
        "baoan" => (1.0, 20_000, 500),
        _ => (0.01, 2_000, 50),
    };
    let scale = args.scale.unwrap_or(default_scale);
    let rate = args.rate.unwrap_or(default_rate);
    let pop = Population::new(scale, args.seed);
    std::fs::create_dir_all(&args.out)?;
    let binary = match &args.credence {
        Some(b) => b.clone(),
        None => release_binary()?,
    };
    let _server;
    let nats_url = match &args.nats {
        Some(u) => u.clone(),
        None => {
            let s = NatsServer::start();
            let u = s.url();
            _server = s;
            u
        }
    };
    let client = async_nats::connect(&nats_url).await?;
    let js = jetstream::new(client.clone());
    // The engine creates the streams and publishes the model first: start it once, stop it.
    {
        let data = TempDir::new("load-init");
        let mut c = Credence::start_binary(
            &binary,
            &nats_url,
            &data.path().join("state"),
            &["--log", "warn"],
        );
        c.wait_ready(Duration::from_secs(60)).await;
        c.terminate(Duration::from_secs(30));
    }
    // Resumable: a stream that already holds this population's history (an earlier run with
    // --nats) is reused rather than published again.
    let held = js
        .get_stream("CREDIT_EVENTS")
        .await?
        .get_info()
        .await?
        .state
        .messages;
    let (events, preload_s) = if args.reuse && held > pop.len() * 3 {
        eprintln!("[preload] reusing the {held} messages already in CREDIT_EVENTS");
        (held, 0.0)
    } else {
        eprintln!("[preload] {} subjects (scale {scale})", pop.len());
        preload(&js, pop, 4096).await?
    };
    let mut stream = js.get_stream("CREDIT_EVENTS").await?;
    let total_seq = stream.info().await?.state.last_sequence;

    eprintln!("[raw] plain pull consumer over {total_seq} messages");
    let raw = raw_consume(&js, total_seq, args.batch).await?;
    eprintln!("[raw] {raw:.0} messages/s");
    eprintln!("[engine] credence serve from an empty state");
    let (engine, mut credence, data) =
        engine_ingest(&binary, &nats_url, total_seq, args.batch).await?;
    eprintln!("[engine] {engine:.0} events/s; ratio {:.2}", engine / raw);
    let stats = http::get(
        credence.http,
        "/v1/stats",
        Some(credence_tests::tokens::ADMIN),
    )
    .await?
    .json();
    let pid = credence.pid().unwrap_or(0);
    let rss = proc_status_bytes(pid, "VmRSS:");
    let hwm = proc_status_bytes(pid, "VmHWM:");

    // Steady ingest at --rate while checks run, against the engine and the baselines alike.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publisher = steady(js.clone(), pop, args.seed, rate, stop.clone());
    let legal: Vec<String> = (0..pop.legal)
        .map(credence_engine::synth::legal_id)
        .collect();
    let bodies = Arc::new(checks::bodies(&legal[..legal.len().min(200_000)]));
    let sample = http::post(
        credence.http,
        "/v1/check",
        Some(credence_tests::tokens::DEPARTMENT),
        &serde_json::from_slice(&bodies[0])?,
    )
    .await?;
    let all_ids: Vec<String> = (0..pop.len()).map(|i| pop.subject(i).1).collect();
    let base_addr = checks::baseline(&all_ids, sample.body.len()).await?;
    let redis = redis::start().await;
    let redis_ids = Arc::new(all_ids.clone());
    if let Some(r) = &redis {
        eprintln!("[redis] loading {} keys", all_ids.len());
        redis::load(r.addr, &all_ids).await?;
    } else {
        eprintln!("[redis] redis-server is not installed: the Redis baseline is skipped");
    }
    drop(all_ids);
    let token = Some(credence_tests::tokens::DEPARTMENT.to_owned());
    let mut lat = std::collections::BTreeMap::new();
    for c in [1usize, 16] {
        let per = (args.checks / c as u64).max(1);
        eprintln!(
            "[checks] {c} client(s): engine HTTP, baseline, Redis, NATS (ingesting at {rate}/s)"
        );
        lat.insert(
            format!("http.c{c}"),
            checks::http(credence.http, token.clone(), bodies.clone(), c, per).await?,
        );
        lat.insert(
            format!("baseline.c{c}"),
            checks::http(base_addr, None, bodies.clone(), c, per).await?,
        );
        if let Some(r) = &redis {
            lat.insert(
                format!("redis.c{c}"),
                redis::get(r.addr, redis_ids.clone(), c, per).await?,
            );
        }
        lat.insert(
            format!("nats.c{c}"),
            checks::nats(client.clone(), bodies.clone(), c, per).await?,
        );
    }
    eprintln!("[freshness] {fresh_n} black-list entries, publish to notification");
    let mut fresh = freshness(&client, &js, pop, fresh_n).await?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let steady_sent = publisher.await.unwrap_or(0);

    // A model swap: a general penalty becomes a black-list trigger.
    eprintln!("[model] PUT /v1/model");
    let mut m = http::get(credence.http, "/v1/model", None).await?.json();
    if let Some(items) = m["items"].as_array_mut() {
        for it in items.iter_mut() {
            if it["code"] == "L-PEN-001" || it["code"] == "N-PEN-001" {
                it["lists"] = json!(["black"]);
            }
        }
    }
    m["version"] = json!("load-swap");
    let t0 = Instant::now();
    let put = http::request(
        credence.http,
        "PUT",
        "/v1/model",
        Some(credence_tests::tokens::ADMIN),
        Some(&serde_json::to_vec(&m)?),
    )
    .await?;
    anyhow::ensure!(put.status == 200, "PUT /v1/model: {}", put.text());
    let swap_checks_s = t0.elapsed().as_secs_f64();
    loop {
        let (done, total) = (
            metric(credence.http, "credence_model_reevaluation_done").await,
            metric(credence.http, "credence_model_reevaluation_subjects").await,
        );
        if done.is_some()
            && done == total
            && metric(credence.http, "credence_model_reevaluation_epoch")
                .await
                .unwrap_or(0)
                >= 1
        {
            break;
        }
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(600),
            "model re-evaluation did not finish"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let swap_s = t0.elapsed().as_secs_f64();

    // Snapshot on SIGTERM, restore on restart (from the engine's own log lines).
    eprintln!("[snapshot] SIGTERM, then restart");
    credence.terminate(Duration::from_secs(600));
    let write_s = log_field(&credence.logs(), "snapshot written", "seconds").unwrap_or(0.0);
    let restarted = Credence::start_binary(
        &binary,
        &nats_url,
        &data.path().join("state"),
        &["--log", "info"],
    );
    restarted.wait_ready(Duration::from_secs(600)).await;
    let restore_s = log_field(&restarted.logs(), "restored snapshot", "seconds").unwrap_or(0.0);
    drop(restarted);

    let ratio = engine / raw;
    let l = |k: &str| lat.get(k).cloned().unwrap_or_default();
    let subjects = stats["subjects"].as_u64().unwrap_or(pop.len());
    let report = json!({
        "scenario": args.scenario,
        "scale": scale,
        "subjects": subjects,
        "records_in_effect": stats["records_in_effect"],
        "preload": {"events": events, "seconds": preload_s, "publish_per_s": if preload_s > 0.0 { events as f64 / preload_s } else { 0.0 }},
        "ingest": {"events_per_s": engine, "raw_consume_per_s": raw, "ratio": ratio, "batch": args.batch},
        "steady": {"rate": rate, "events_sent": steady_sent},
        "check": {
            "http": {"c1": l("http.c1").json(), "c16": l("http.c16").json()},
            "nats": {"c1": l("nats.c1").json(), "c16": l("nats.c16").json()},
        },
        "baseline": {
            "http": {"c1": l("baseline.c1").json(), "c16": l("baseline.c16").json()},
            "redis": {"c1": l("redis.c1").json(), "c16": l("redis.c16").json(), "available": redis.is_some()},
        },
        "ratio": {
            "http_c1_p99_vs_baseline": l("http.c1").p99_us / l("baseline.c1").p99_us.max(1.0),
            "http_c16_p99_vs_baseline": l("http.c16").p99_us / l("baseline.c16").p99_us.max(1.0),
        },
        "freshness": {"p50_ms": percentile(&mut fresh, 0.5), "p99_ms": percentile(&mut fresh, 0.99), "samples": fresh.len()},
        "memory": {"rss_bytes": rss, "peak_rss_bytes": hwm, "bytes_per_subject": rss as f64 / subjects.max(1) as f64},
        "snapshot": {"write_s": write_s, "restore_s": restore_s},
        "model_swap": {"s": swap_s, "checks_use_s": swap_checks_s},
        "machine": {"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
    });
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let missing: Vec<&str> = REQUIRED_KEYS
        .iter()
        .copied()
        .filter(|k| lookup(&report, k).and_then(|v| v.as_f64()).is_none())
        .collect();
    anyhow::ensure!(
        missing.is_empty(),
        "report.json lacks these numbers: {missing:?}"
    );
    let mut curves = Vec::new();
    for (key, label) in [
        ("http.c1", "engine HTTP, 1 client"),
        ("baseline.c1", "bare axum lookup, 1 client"),
        ("redis.c1", "Redis GET, 1 client"),
        ("nats.c1", "engine NATS, 1 client"),
        ("http.c16", "engine HTTP, 16 clients"),
        ("baseline.c16", "bare axum lookup, 16 clients"),
        ("redis.c16", "Redis GET, 16 clients"),
        ("nats.c16", "engine NATS, 16 clients"),
    ] {
        if let Some(x) = lat.get(key) {
            curves.push(plot::Curve {
                label: label.into(),
                points: x.curve.clone(),
            });
        }
    }
    plot::write(
        &args.out.join("latency.svg"),
        &format!(
            "Credence check latency ({}, scale {scale}, ingesting {rate}/s)",
            args.scenario
        ),
        &curves,
    )?;
    let row = |name: &str, k: &str| {
        let x = l(k);
        format!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} |\n",
            x.p50_us, x.p90_us, x.p99_us, x.p999_us, x.max_us, x.rps, x.errors
        )
    };
    let mut t = String::from("| check latency (µs) | p50 | p90 | p99 | p99.9 | max | req/s | errors |\n|---|---|---|---|---|---|---|---|\n");
    for c in [1, 16] {
        t += &row(
            &format!("engine HTTP, {c} client(s)"),
            &format!("http.c{c}"),
        );
        t += &row(
            &format!("bare axum map lookup (baseline), {c} client(s)"),
            &format!("baseline.c{c}"),
        );
        if redis.is_some() {
            t += &row(
                &format!("Redis GET, 300 B (reference), {c} client(s)"),
                &format!("redis.c{c}"),
            );
        }
        t += &row(
            &format!("engine NATS request-reply, {c} client(s)"),
            &format!("nats.c{c}"),
        );
    }
    let md = format!(
        "# Credence load report ({scenario}, scale {scale})\n\n\
         | measure | value | goal |\n|---|---|---|\n\
         | subjects | {subjects} | |\n| events preloaded | {events} | |\n| records in effect | {rie} | |\n\
         | engine ingest | {engine:.0} events/s | |\n| raw pull consumer, same settings | {raw:.0} messages/s | |\n\
         | **ratio engine / raw** | **{ratio:.2}** | ≥ 0.9 |\n\
         | **HTTP check p99 / baseline, 1 client** | **{r1:.2}×** | ≤ 1.2× |\n| **HTTP check p99 / baseline, 16 clients** | **{r16:.2}×** | ≤ 1.2× |\n\
         | HTTP check p99 while ingesting {rate}/s, 1 client | {p1:.0} µs | < 1 ms |\n\
         | freshness p50 / p99 (publish → list change) | {f50:.1} / {f99:.1} ms | p99 ≤ 5 ms |\n\
         | engine RSS (peak) | {rss_mb:.0} MiB ({hwm_mb:.0} MiB), {bps:.0} B/subject | ≤ 3 GB at scale 1.0 |\n\
         | snapshot write / restore | {write_s:.2} s / {restore_s:.2} s | ≤ 10 s each |\n\
         | model swap: checks use it / all re-evaluated and published | {swap_checks_s:.2} s / {swap_s:.2} s | at once / ≤ 30 s |\n\n\
         {t}\n{redis_note}\nMachine: {cores} cores (shared). Both consumers: durable pull, AckPolicy::All, batch {batch}. \
         Baselines run in the same run at the same concurrency; steady ingest runs during every check phase.\n",
        scenario = args.scenario,
        rie = stats["records_in_effect"],
        r1 = l("http.c1").p99_us / l("baseline.c1").p99_us.max(1.0),
        r16 = l("http.c16").p99_us / l("baseline.c16").p99_us.max(1.0),
        p1 = l("http.c1").p99_us,
        f50 = report["freshness"]["p50_ms"].as_f64().unwrap_or(0.0),
        f99 = report["freshness"]["p99_ms"].as_f64().unwrap_or(0.0),
        rss_mb = rss as f64 / 1048576.0,
        hwm_mb = hwm as f64 / 1048576.0,
        bps = rss as f64 / subjects.max(1) as f64,
        redis_note = if redis.is_some() { "" } else { "Redis is not installed here: its baseline is skipped (keys are 0).\n" },
        cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        batch = args.batch,
    );
    std::fs::write(args.out.join("report.md"), &md)?;
    println!("{md}");
    Ok(())
}
