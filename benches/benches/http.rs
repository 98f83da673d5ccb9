//! The HTTP check handler in process: a `POST /v1/check` through the real router (auth,
//! parsing, the check, its receipt, the response), without sockets — beside the same check
//! made directly on the store, in the same run.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use credence_connectors::auth::{token_digest, Auth};
use credence_connectors::state::App;
use credence_engine::time::parse_rfc3339;
use credence_engine::{Store, SubjectKey};
use credence_models::{bundled, Context, Kind};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tower::ServiceExt;

fn bench(c: &mut Criterion) {
    // A worker besides the bench thread, so that the in-process receipt drain keeps up.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let now = parse_rfc3339("2026-12-01T00:00:00Z").unwrap();
    let store = Arc::new(Store::new(Arc::new(bundled())));
    let payload = br#"{"id":"s1","type":"record.add","subject":{"kind":"legal","id":"91440306AY4CL12TH9"},"record":"s1","item":"L-SUP-001","occurred_at":"2026-06-01T00:00:00Z","document":"doc-1"}"#;
    store.apply("credit.events.gov.safety", payload, 1, now);
    let auth = Auth::parse(&format!(
        "[[token]]\nname = \"bench\"\nsha256 = \"{}\"\nrole = \"department\"\n",
        token_digest("bench-token")
    ))
    .unwrap();
    let app = rt.block_on(async { App::in_process(store.clone(), auth) });
    app.ready.store(true, Ordering::Release);
    let router = credence_connectors::http::router(app.clone());
    let body =
        r#"{"subject":{"kind":"legal","id":"91440306AY4CL12TH9"},"context":"financial_loan"}"#;
    let key = SubjectKey::parse(Kind::Legal, "91440306AY4CL12TH9").unwrap();

    let mut group = c.benchmark_group("http_check");
    group.throughput(Throughput::Elements(1));
    group.bench_function("router_in_process", |b| {
        b.iter(|| {
            rt.block_on(async {
                let req = Request::post("/v1/check")
                    .header("authorization", "Bearer bench-token")
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap();
                let resp = router.clone().oneshot(req).await.unwrap();
                let status = resp.status();
                let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
                    .await
                    .unwrap();
                assert!(
                    status.is_success(),
                    "{status} {}",
                    String::from_utf8_lossy(&bytes)
                );
                bytes
            })
        })
    });
    group.bench_function("store_check_direct", |b| {
        b.iter(|| black_box(store.check(black_box(key), Context::FinancialLoan, now)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
