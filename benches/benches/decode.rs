//! Decoding one event: bytes and NATS subject to a typed event (elements and bytes).

use credence_benches::{SAMPLE_EVENT, SMALL_EVENT};
use credence_engine::decode;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn bench_decode(c: &mut Criterion) {
    let model = credence_models::bundled();
    let mut group = c.benchmark_group("decode");
    for (name, payload) in [("full", SAMPLE_EVENT), ("minimal", SMALL_EVENT)] {
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("{name}/elements"), |b| {
            b.iter(|| {
                decode(
                    black_box("credit.events.gov.safety"),
                    black_box(payload.as_bytes()),
                    &model,
                )
                .is_ok()
            })
        });
        group.throughput(Throughput::Bytes(payload.len() as u64));
        group.bench_function(format!("{name}/bytes"), |b| {
            b.iter(|| {
                decode(
                    black_box("credit.events.gov.safety"),
                    black_box(payload.as_bytes()),
                    &model,
                )
                .is_ok()
            })
        });
    }
    // Baseline in the same run: serde_json into an untyped Value (allocates everything).
    group.throughput(Throughput::Elements(1));
    group.bench_function("baseline_serde_json_value", |b| {
        b.iter(|| {
            serde_json::from_slice::<serde_json::Value>(black_box(SAMPLE_EVENT.as_bytes())).is_ok()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
