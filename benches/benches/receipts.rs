//! The cost of a receipt on the check path: the answer built and serialised, without and with
//! its receipt (request digest, chained hash, queued line), in the same run.

use std::sync::Arc;

use credence_connectors::audit::AuditKey;
use credence_connectors::receipts::{Receipts, GENESIS};
use credence_engine::time::parse_rfc3339;
use credence_engine::{Store, SubjectKey};
use credence_models::{bundled, Context, Kind};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let now = parse_rfc3339("2026-12-01T00:00:00Z").unwrap();
    let store = Store::new(Arc::new(bundled()));
    let body =
        br#"{"subject":{"kind":"legal","id":"91440306AY4CL12TH9"},"context":"financial_loan"}"#;
    let payload = br#"{"id":"s1","type":"record.add","subject":{"kind":"legal","id":"91440306AY4CL12TH9"},"record":"s1","item":"L-SUP-001","occurred_at":"2026-06-01T00:00:00Z","document":"doc-1"}"#;
    store.apply("credit.events.gov.safety", payload, 1, now);
    let key = SubjectKey::parse(Kind::Legal, "91440306AY4CL12TH9").unwrap();
    let audit_key = AuditKey::random();
    let (receipts, mut rx) = Receipts::new("bench-1".into(), GENESIS.into(), 1 << 20);
    let mut group = c.benchmark_group("check_answer");
    group.throughput(Throughput::Elements(1));
    group.bench_function("without_receipt", |b| {
        b.iter(|| {
            let a = store.check(black_box(key), Context::FinancialLoan, now);
            serde_json::to_string(&a).unwrap()
        })
    });
    group.bench_function("with_receipt", |b| {
        b.iter(|| {
            // As the HTTP handler does: the answer's text once, the receipt spliced in.
            let a = store.check(black_box(key), Context::FinancialLoan, now);
            let answer_json = serde_json::to_string(&a).unwrap();
            let r = receipts
                .issue(audit_key.hmac_hex(body), &answer_json)
                .unwrap();
            let r = serde_json::to_string(&r).unwrap();
            let mut out = String::with_capacity(answer_json.len() + r.len() + 12);
            out.push_str(&answer_json[..answer_json.len() - 1]);
            out.push_str(",\"receipt\":");
            out.push_str(&r);
            out.push('}');
            while rx.try_recv().is_ok() {}
            out
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
