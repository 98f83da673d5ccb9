//! The core paths: apply (decode → apply → evaluate), evaluate a subject with 0 / 10 / 140
//! records, check, and snapshot encode/decode per subject.

use std::sync::Arc;

use credence_engine::synth::{Generator, Population};
use credence_engine::time::parse_rfc3339;
use credence_engine::{Store, SubjectKey};
use credence_models::{bundled, Context, Kind};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};

fn now() -> i64 {
    parse_rfc3339("2026-12-01T00:00:00Z").unwrap()
}

/// A store holding one subject with `n` records, and the subject's key.
fn subject_with(n: usize) -> (Store, SubjectKey) {
    let model = Arc::new(bundled());
    let store = Store::new(model.clone());
    let pop = Population::new(0.00001, 1);
    let mut g = Generator::new(pop, &model, now());
    let (kind, id) = pop.subject(0);
    let key = SubjectKey::parse(kind, &id).unwrap();
    let mut seq = 0;
    let mut added = 0;
    while added < n {
        let e = g.live(now());
        // Keep only adds of this subject's kind, re-addressed to it.
        let text = String::from_utf8(e.payload).unwrap();
        if !text.contains("\"record.add\"") || !text.contains(&format!("\"kind\":\"{kind}\"")) {
            continue;
        }
        let sub = text.find("\"subject\"").unwrap();
        let end = text[sub..].find('}').unwrap() + sub + 1;
        let text = format!(
            "{}\"subject\":{{\"kind\":\"{kind}\",\"id\":\"{id}\"}}{}",
            &text[..sub],
            &text[end..]
        );
        seq += 1;
        if store.apply(&e.subject, text.as_bytes(), seq, now()).outcome
            == credence_engine::Outcome::Applied
        {
            added += 1;
        }
    }
    (store, key)
}

fn bench_apply(c: &mut Criterion) {
    let model = bundled();
    let pop = Population::new(0.01, 7);
    let mut g = Generator::new(pop, &model, now());
    let events: Vec<_> = (0..pop.len()).flat_map(|i| g.history(i)).collect();
    let bytes: u64 = events.iter().map(|e| e.payload.len() as u64).sum();
    let mut group = c.benchmark_group("apply");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.sample_size(10);
    group.bench_function("history_of_62k_subjects/elements", |b| {
        b.iter_batched(
            || Store::with_capacity(Arc::new(model.clone()), pop.len() as usize),
            |store| {
                for (i, e) in events.iter().enumerate() {
                    store.apply(&e.subject, &e.payload, i as u64 + 1, now());
                }
                store
            },
            BatchSize::PerIteration,
        )
    });
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("history_of_62k_subjects/bytes", |b| {
        b.iter_batched(
            || Store::with_capacity(Arc::new(model.clone()), pop.len() as usize),
            |store| {
                for (i, e) in events.iter().enumerate() {
                    store.apply(&e.subject, &e.payload, i as u64 + 1, now());
                }
                store
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn bench_evaluate_and_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    for n in [0usize, 10, 140] {
        let (store, key) = subject_with(n);
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{n}_records"), |b| {
            b.iter(|| black_box(store.assess(black_box(key), now())))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("check");
    for n in [0usize, 10, 140] {
        let (store, key) = subject_with(n);
        store.tick(now(), usize::MAX);
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{n}_records/cached"), |b| {
            b.iter(|| black_box(store.check(black_box(key), Context::FinancialLoan, now())))
        });
        group.bench_function(format!("{n}_records/at_other_time"), |b| {
            b.iter(|| {
                black_box(store.check(
                    black_box(key),
                    Context::FinancialLoan,
                    now() - 86_400_000_000,
                ))
            })
        });
    }
    let unknown = SubjectKey::parse(Kind::Legal, "91440306AY4CL12TH9").unwrap();
    let (store, _) = subject_with(0);
    group.bench_function("unknown_subject", |b| {
        b.iter(|| black_box(store.check(black_box(unknown), Context::FinancialLoan, now())))
    });
    group.finish();
}

fn bench_snapshot(c: &mut Criterion) {
    let model = bundled();
    let pop = Population::new(0.01, 7);
    let mut g = Generator::new(pop, &model, now());
    let store = Store::with_capacity(Arc::new(model.clone()), pop.len() as usize);
    let mut seq = 0;
    for i in 0..pop.len() {
        for e in g.history(i) {
            seq += 1;
            store.apply(&e.subject, &e.payload, seq, now());
        }
    }
    let mut buf = Vec::new();
    store.write_snapshot(&mut buf, now(), &[]).unwrap();
    let mut group = c.benchmark_group("snapshot");
    group.sample_size(10);
    group.throughput(Throughput::Elements(store.subject_count() as u64));
    group.bench_function("encode_62k_subjects/elements", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(buf.len());
            store.write_snapshot(&mut out, now(), &[]).unwrap();
            out
        })
    });
    group.bench_function("decode_62k_subjects/elements", |b| {
        b.iter(|| Store::read_snapshot(&buf[..]).unwrap())
    });
    group.throughput(Throughput::Bytes(buf.len() as u64));
    group.bench_function("decode_62k_subjects/bytes", |b| {
        b.iter(|| Store::read_snapshot(&buf[..]).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_apply,
    bench_evaluate_and_check,
    bench_snapshot
);
criterion_main!(benches);
