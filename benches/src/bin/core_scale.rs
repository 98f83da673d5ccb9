//! The core at Bao'an scale, on one core: apply+evaluate events/s over the whole population's
//! history, bytes per subject and per record, check latency percentiles for a subject among
//! all of them against an in-process map lookup of the same size measured in the same run,
//! and snapshot write/restore.
//!
//! `cargo run --release -p credence-benches --bin core-scale -- [scale] [checks]`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use credence_engine::synth::{Generator, Population};
use credence_engine::time::parse_rfc3339;
use credence_engine::{Store, SubjectKey};
use credence_models::{bundled, Context};
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn pct(h: &Histogram<u64>) -> String {
    format!(
        "p50 {} ns, p90 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let scale: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let checks: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let now = parse_rfc3339("2026-12-01T00:00:00Z").unwrap();
    let model = bundled();
    let pop = Population::new(scale, 2017);
    println!(
        "scale {scale}: {} legal + {} natural = {} subjects",
        pop.legal,
        pop.natural,
        pop.len()
    );

    let rss0 = status_kib("VmRSS:");
    let store = Store::with_capacity(Arc::new(model.clone()), pop.len() as usize);
    let mut gen = Generator::new(pop, &model, now);
    let (mut seq, mut apply_ns, mut events, mut bytes) = (0u64, 0u128, 0u64, 0u64);
    let mut chunk = Vec::with_capacity(1 << 20);
    let mut i = 0u64;
    while i < pop.len() {
        chunk.clear();
        while chunk.len() < 1 << 16 && i < pop.len() {
            chunk.extend(gen.history(i));
            i += 1;
        }
        let t0 = Instant::now();
        for e in &chunk {
            seq += 1;
            store.apply(&e.subject, &e.payload, seq, now);
        }
        apply_ns += t0.elapsed().as_nanos();
        events += chunk.len() as u64;
        bytes += chunk.iter().map(|e| e.payload.len() as u64).sum::<u64>();
    }
    drop(chunk);
    let secs = apply_ns as f64 / 1e9;
    println!(
        "apply+evaluate (decode, idempotence, evaluation, list changes, time index): {events} events, {bytes} bytes in {secs:.2} s = {:.0} events/s, {:.0} ns/event on one core",
        events as f64 / secs,
        apply_ns as f64 / events as f64
    );
    let rss1 = status_kib("VmRSS:");
    let mem = store.memory();
    let records = mem.records as f64;
    println!(
        "state: {} subjects, {} records on file, {} in effect",
        store.subject_count(),
        mem.records,
        store.records_in_effect()
    );
    println!(
        "memory: RSS grew {:.0} MiB = {:.0} bytes/subject, {:.0} bytes/record on file (all included); estimate: table {:.0} MiB, records+arenas+caches {:.0} MiB ({:.0} bytes/record), time index {:.0} MiB",
        (rss1 - rss0) as f64 / 1024.0,
        (rss1 - rss0) as f64 * 1024.0 / store.subject_count() as f64,
        (rss1 - rss0) as f64 * 1024.0 / records,
        mem.table as f64 / 1048576.0,
        mem.subject_heap as f64 / 1048576.0,
        mem.subject_heap as f64 / records,
        mem.index as f64 / 1048576.0
    );

    // Check latency, cached path, random subjects among all; then the baseline: an
    // in-process map lookup of the same number of keys, same loop, same timer.
    let keys: Vec<SubjectKey> = (0..pop.len().min(2_000_000))
        .map(|i| {
            let j = i * (pop.len() / pop.len().min(2_000_000)).max(1);
            let (k, id) = pop.subject(j.min(pop.len() - 1));
            SubjectKey::parse(k, &id).unwrap()
        })
        .collect();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(9);
    let mut h = Histogram::<u64>::new(3).unwrap();
    for _ in 0..checks {
        let key = keys[rng.gen_range(0..keys.len())];
        let t0 = Instant::now();
        let a = store.check(key, Context::FinancialLoan, now);
        let ns = t0.elapsed().as_nanos() as u64;
        std::hint::black_box(a);
        h.record(ns.max(1)).ok();
    }
    println!("check (answer struct built, not serialised): {}", pct(&h));
    let mut baseline: HashMap<u128, [u64; 8], ahash::RandomState> = HashMap::default();
    for i in 0..pop.len() {
        baseline.insert(i as u128 * 0x9E37_79B9_7F4A_7C15, [i; 8]);
    }
    let mut hb = Histogram::<u64>::new(3).unwrap();
    for _ in 0..checks {
        let k = rng.gen_range(0..pop.len()) as u128 * 0x9E37_79B9_7F4A_7C15;
        let t0 = Instant::now();
        let v = baseline.get(&k).copied();
        let ns = t0.elapsed().as_nanos() as u64;
        std::hint::black_box(v);
        hb.record(ns.max(1)).ok();
    }
    println!(
        "baseline HashMap<u128, 64 B> lookup, {} keys: {}",
        pop.len(),
        pct(&hb)
    );
    println!(
        "ratio check/baseline: p50 {:.1}x, p99 {:.1}x",
        h.value_at_quantile(0.5) as f64 / hb.value_at_quantile(0.5) as f64,
        h.value_at_quantile(0.99) as f64 / hb.value_at_quantile(0.99) as f64
    );
    drop(baseline);

    // A model swap: a general penalty becomes a black-list trigger. Checks use the new model
    // as soon as it is installed (the judge is swapped whole); re-evaluating every subject
    // yields the list changes to publish.
    let mut doc = store.judge().model.document().clone();
    for it in doc["items"].as_array_mut().unwrap() {
        if it["code"] == "L-PEN-001" || it["code"] == "N-PEN-001" {
            it["lists"] = serde_json::json!(["black"]);
        }
    }
    doc["version"] = serde_json::json!("swap");
    let next = std::sync::Arc::new(credence_models::Model::from_value(doc).unwrap());
    let t0 = Instant::now();
    store.install_model(next, store.last_seq() + 1);
    let installed = t0.elapsed();
    let probe = keys[0];
    let a = store.check(probe, Context::FinancialLoan, now);
    let first_check = t0.elapsed();
    assert_eq!(a.model.version, "swap");
    let t1 = Instant::now();
    let changes = store.reevaluate_all(now);
    println!(
        "model swap: installed in {:.3} ms, first check on the new model {:.3} ms after; every subject re-evaluated in {:.2} s with {} list changes to publish",
        installed.as_secs_f64() * 1e3,
        first_check.as_secs_f64() * 1e3,
        t1.elapsed().as_secs_f64(),
        changes.len()
    );
    drop(changes);

    // Snapshot write and restore.
    let path =
        std::env::temp_dir().join(format!("credence-core-scale-{}.snap", std::process::id()));
    let t0 = Instant::now();
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).unwrap());
    let size = store.write_snapshot(file, now, &[]).unwrap();
    let write_s = t0.elapsed().as_secs_f64();
    drop(store);
    let t0 = Instant::now();
    let (back, _) = Store::read_snapshot(std::io::BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(&path).unwrap(),
    ))
    .unwrap();
    let read_s = t0.elapsed().as_secs_f64();
    println!(
        "snapshot: {:.0} MiB ({:.0} bytes/subject), write {write_s:.2} s, restore (with caches and time index rebuilt) {read_s:.2} s; {} subjects back",
        size as f64 / 1048576.0,
        size as f64 / back.subject_count() as f64,
        back.subject_count()
    );
    println!(
        "peak RSS (VmHWM): {:.0} MiB",
        status_kib("VmHWM:") as f64 / 1024.0
    );
    std::fs::remove_file(&path).ok();
}
