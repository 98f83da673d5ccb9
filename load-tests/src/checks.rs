//! Check latency: concurrent clients against the engine's HTTP `POST /v1/check`, against a bare
//! axum handler answering a map lookup of the same population and body size (the baseline, in
//! the same run), and over NATS request-reply. HdrHistogram percentiles in microseconds.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};

use crate::client::Conn;

/// Percentiles of one setting.
#[derive(Clone, Debug, Default)]
pub struct Latency {
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    pub rps: f64,
    pub errors: u64,
    /// (percentile, µs) points for the plot.
    pub curve: Vec<(f64, f64)>,
}

impl Latency {
    pub fn of(h: &Histogram<u64>, elapsed: Duration, errors: u64) -> Latency {
        let q = |p: f64| h.value_at_quantile(p) as f64;
        let curve = [
            0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1.0,
        ]
        .iter()
        .map(|p| (p * 100.0, q(*p)))
        .collect();
        Latency {
            p50_us: q(0.5),
            p90_us: q(0.9),
            p99_us: q(0.99),
            p999_us: q(0.999),
            max_us: h.max() as f64,
            rps: h.len() as f64 / elapsed.as_secs_f64(),
            errors,
            curve,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "p50_us": self.p50_us, "p90_us": self.p90_us, "p99_us": self.p99_us,
            "p999_us": self.p999_us, "max_us": self.max_us, "rps": self.rps, "errors": self.errors,
            "curve": self.curve.iter().map(|(p, us)| serde_json::json!([p, us])).collect::<Vec<_>>(),
        })
    }
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds")
}

/// The bodies checks are made with: legal persons of the population (a natural person's check
/// is audited, which measures the audit trail rather than the check).
pub fn bodies(ids: &[String]) -> Vec<Vec<u8>> {
    ids.iter()
        .map(|id| {
            format!(r#"{{"subject":{{"kind":"legal","id":"{id}"}},"context":"financial_loan"}}"#)
                .into_bytes()
        })
        .collect()
}

/// `clients` connections each sending `per_client` checks to `addr`.
pub async fn http(
    addr: SocketAddr,
    token: Option<String>,
    bodies: Arc<Vec<Vec<u8>>>,
    clients: usize,
    per_client: u64,
) -> anyhow::Result<Latency> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (bodies, token) = (bodies.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::connect(addr).await?;
            let mut h = hist();
            let mut errors = 0;
            let mut rng = rand::rngs::SmallRng::seed_from_u64(c as u64);
            for _ in 0..per_client {
                let body = &bodies[rng.gen_range(0..bodies.len())];
                let t0 = Instant::now();
                let (status, _) = conn.post("/v1/check", token.as_deref(), body).await?;
                let us = t0.elapsed().as_micros() as u64;
                if status != 200 {
                    errors += 1;
                }
                let _ = h.record(us.max(1));
            }
            anyhow::Ok((h, errors))
        }));
    }
    let mut all = hist();
    let mut errors = 0;
    for t in tasks {
        let (h, e) = t.await??;
        all.add(h)?;
        errors += e;
    }
    Ok(Latency::of(&all, started.elapsed(), errors))
}

/// `clients` concurrent requesters on `credit.check`.
pub async fn nats(
    client: async_nats::Client,
    bodies: Arc<Vec<Vec<u8>>>,
    clients: usize,
    per_client: u64,
) -> anyhow::Result<Latency> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (bodies, client) = (bodies.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = hist();
            let mut errors = 0;
            let mut rng = rand::rngs::SmallRng::seed_from_u64(100 + c as u64);
            for _ in 0..per_client {
                let body = &bodies[rng.gen_range(0..bodies.len())];
                // The HTTP body plus the requester.
                let mut req = body[..body.len() - 1].to_vec();
                req.extend_from_slice(br#","requester":"load-test"}"#);
                let t0 = Instant::now();
                match client.request("credit.check", req.into()).await {
                    Ok(m) if !m.payload.starts_with(b"{\"error\"") => {}
                    _ => errors += 1,
                }
                let _ = h.record((t0.elapsed().as_micros() as u64).max(1));
            }
            anyhow::Ok((h, errors))
        }));
    }
    let mut all = hist();
    let mut errors = 0;
    for t in tasks {
        let (h, e) = t.await??;
        all.add(h)?;
        errors += e;
    }
    Ok(Latency::of(&all, started.elapsed(), errors))
}

type Map = Arc<HashMap<String, Vec<u8>, ahash::RandomState>>;

/// The baseline: a bare axum server answering POST /v1/check by a map lookup of the same
/// population, with a body of about the engine's answer's size. Returns its address.
pub async fn baseline(ids: &[String], answer_bytes: usize) -> anyhow::Result<SocketAddr> {
    let mut map: HashMap<String, Vec<u8>, ahash::RandomState> = HashMap::default();
    for id in ids {
        let mut v = format!(r#"{{"subject":"{id}","decision":"allow","pad":""#).into_bytes();
        v.resize(answer_bytes.saturating_sub(2).max(v.len()), b'x');
        v.extend_from_slice(b"\"}");
        map.insert(id.clone(), v);
    }
    let map: Map = Arc::new(map);
    async fn handler(State(map): State<Map>, body: axum::body::Bytes) -> axum::response::Response {
        use axum::response::IntoResponse;
        #[derive(serde::Deserialize)]
        struct Subject {
            id: String,
        }
        #[derive(serde::Deserialize)]
        struct Body {
            subject: Subject,
        }
        match serde_json::from_slice::<Body>(&body)
            .ok()
            .and_then(|b| map.get(&b.subject.id).cloned())
        {
            Some(v) => {
                ([(axum::http::header::CONTENT_TYPE, "application/json")], v).into_response()
            }
            None => axum::http::StatusCode::NOT_FOUND.into_response(),
        }
    }
    let app = Router::new()
        .route("/v1/check", post(handler))
        .with_state(map);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}
