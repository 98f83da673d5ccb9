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
            "warn",
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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let scale = args.scale.unwrap_or(match args.scenario.as_str() {
        "baoan" => 1.0,
        _ => 0.01,
    });
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
    let (events, preload_s) = preload(&js, pop, 4096).await?;
    let mut stream = js.get_stream("CREDIT_EVENTS").await?;
    let total_seq = stream.info().await?.state.last_sequence;

    eprintln!("[raw] plain pull consumer over {total_seq} messages");
    let raw = raw_consume(&js, total_seq, args.batch).await?;
    eprintln!("[raw] {raw:.0} messages/s");
    eprintln!("[engine] credence serve from an empty state");
    let (engine, mut credence, _data) =
        engine_ingest(&binary, &nats_url, total_seq, args.batch).await?;
    eprintln!("[engine] {engine:.0} events/s");
    let stats = http::get(
        credence.http,
        "/v1/stats",
        Some(credence_tests::tokens::ADMIN),
    )
    .await?
    .json();

    // Checks: the engine against a bare axum map lookup of the same population, same run.
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
    drop(all_ids);
    let token = Some(credence_tests::tokens::DEPARTMENT.to_owned());
    let mut lat = std::collections::BTreeMap::new();
    for c in [1usize, 16] {
        let per = (args.checks / c as u64).max(1);
        eprintln!("[checks] {c} client(s): engine HTTP, baseline, NATS");
        lat.insert(
            format!("http.c{c}"),
            checks::http(credence.http, token.clone(), bodies.clone(), c, per).await?,
        );
        lat.insert(
            format!("baseline.c{c}"),
            checks::http(base_addr, None, bodies.clone(), c, per).await?,
        );
        lat.insert(
            format!("nats.c{c}"),
            checks::nats(client.clone(), bodies.clone(), c, per).await?,
        );
    }
    credence.terminate(Duration::from_secs(60));
    let ratio = engine / raw;
    let l = |k: &str| lat.get(k).cloned().unwrap_or_default();

    let report = json!({
        "scenario": args.scenario,
        "scale": scale,
        "subjects": pop.len(),
        "records_in_effect": stats["records_in_effect"],
        "preload": {"events": events, "seconds": preload_s, "publish_per_s": events as f64 / preload_s},
        "ingest": {"events_per_s": engine, "raw_consume_per_s": raw, "ratio": ratio, "batch": args.batch},
        "check": {
            "http": {"c1": l("http.c1").json(), "c16": l("http.c16").json()},
            "nats": {"c1": l("nats.c1").json(), "c16": l("nats.c16").json()},
        },
        "baseline": {"http": {"c1": l("baseline.c1").json(), "c16": l("baseline.c16").json()}},
        "ratio": {
            "http_c1_p99_vs_baseline": l("http.c1").p99_us / l("baseline.c1").p99_us.max(1.0),
            "http_c16_p99_vs_baseline": l("http.c16").p99_us / l("baseline.c16").p99_us.max(1.0),
        },
        "machine": {"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)},
    });
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let md = format!(
        "# Credence load report ({scenario}, scale {scale})\n\n| measure | value |\n|---|---|\n| subjects | {subjects} |\n| events in stream | {events} |\n| records in effect | {rie} |\n| engine ingest | {engine:.0} events/s |\n| raw pull consumer, same settings | {raw:.0} messages/s |\n| ratio engine / raw | {ratio:.2} |\n{checks}\nMachine: {cores} cores (shared). Both consumers: durable pull, AckPolicy::All, batch {batch}.\n",
        scenario = args.scenario,
        subjects = pop.len(),
        rie = stats["records_in_effect"],
        cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        batch = args.batch,
        checks = {
            let row = |name: &str, k: &str| {
                let x = l(k);
                format!("| {name} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {} |\n", x.p50_us, x.p99_us, x.p999_us, x.max_us, x.rps, x.errors)
            };
            let mut t = String::from("\n| check latency (µs) | p50 | p99 | p99.9 | max | req/s | errors |\n|---|---|---|---|---|---|---|\n");
            for c in [1, 16] {
                t += &row(&format!("engine HTTP, {c} client(s)"), &format!("http.c{c}"));
                t += &row(&format!("bare axum map lookup (baseline), {c} client(s)"), &format!("baseline.c{c}"));
                t += &row(&format!("engine NATS request-reply, {c} client(s)"), &format!("nats.c{c}"));
            }
            t += &format!(
                "\np99 engine / baseline: {:.2}x at 1 client, {:.2}x at 16 clients\n",
                l("http.c1").p99_us / l("baseline.c1").p99_us.max(1.0),
                l("http.c16").p99_us / l("baseline.c16").p99_us.max(1.0)
            );
            t
        },
    );
    std::fs::write(args.out.join("report.md"), &md)?;
    println!("{md}");
    Ok(())
}
