//! The HTTP API (contract §5): reports, checks, stats, health, readiness and metrics, with
//! roles from bearer tokens, the purpose rule and the audit of natural persons' data.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use credence_engine::time::{format_rfc3339, parse_rfc3339, Ts};
use credence_engine::SubjectKey;
use credence_models::{Context, Kind};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Principal, Role};
use crate::demo::now_us;
use crate::state::{names, App};

/// An error as the contract shapes it: `{"error": {"code", "message"}}` with a status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_ready(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", message)
    }
    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// The router of the whole API.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/subjects/{kind}/{id}", get(report))
        .route("/v1/check", post(check))
        .route("/v1/stats", get(stats))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(middleware::from_fn_with_state(app.clone(), count))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .with_state(app)
}

/// Counts every request by route and status.
async fn count(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let route: &'static str = match req.extensions().get::<MatchedPath>().map(|p| p.as_str()) {
        Some("/v1/subjects/{kind}/{id}") => "report",
        Some("/v1/check") => "check",
        Some("/v1/stats") => "stats",
        Some("/healthz") => "healthz",
        Some("/readyz") => "readyz",
        Some("/metrics") => "metrics",
        _ => "other",
    };
    let resp = next.run(req).await;
    app.metrics.count_http(route, resp.status().as_u16());
    resp
}

/// Who is asking: 401 for a token that matches none.
pub fn principal(app: &App, headers: &HeaderMap) -> ApiResult<Principal> {
    let value = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    app.auth.load().authenticate(value).map_err(|_| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the bearer token matches none",
        )
    })
}

fn require_ready(app: &App) -> ApiResult<()> {
    if app.ready.load(Ordering::Acquire) {
        Ok(())
    } else {
        Err(ApiError::not_ready(
            "the state is still being restored and caught up with the stream",
        ))
    }
}

fn parse_at(at: Option<&str>) -> ApiResult<Option<Ts>> {
    match at {
        None => Ok(None),
        Some(s) => parse_rfc3339(s)
            .map(Some)
            .ok_or_else(|| ApiError::bad("invalid_time", "at is not RFC 3339 with an offset")),
    }
}

fn parse_subject(kind: &str, id: &str) -> ApiResult<SubjectKey> {
    let kind = Kind::from_str(kind)
        .ok_or_else(|| ApiError::bad("invalid_subject_id", "kind is legal or natural"))?;
    SubjectKey::parse(kind, id).map_err(|e| {
        ApiError::bad(
            "invalid_subject_id",
            format!("the identifier is not valid: {e}"),
        )
    })
}

/// May `p` read `key`'s data with `purpose`? (Contract §5: legal persons' reports are public;
/// a natural person's is theirs, or a department's or admin's for a stated purpose.)
pub fn may_read(p: &Principal, key: SubjectKey, purpose: Option<&str>) -> ApiResult<()> {
    if key.kind() == Kind::Legal {
        return Ok(());
    }
    match p.role {
        Role::SelfSubject if p.subject == Some(key) => Ok(()),
        Role::Department | Role::Admin => match purpose {
            Some(s) if !s.trim().is_empty() => Ok(()),
            _ => Err(ApiError::bad(
                "purpose_required",
                "reading a natural person's data needs a purpose",
            )),
        },
        _ => Err(ApiError::forbidden(
            "a natural person's data is theirs, or a department's for a stated purpose",
        )),
    }
}

/// Queues the audit record of a natural person's read; refuses the read if it cannot.
pub fn audit(
    app: &App,
    p: &Principal,
    key: SubjectKey,
    purpose: Option<&str>,
    endpoint: &str,
    outcome: &str,
) -> ApiResult<()> {
    if key.kind() != Kind::Natural {
        return Ok(());
    }
    app.auditor
        .record(
            &p.name,
            p.role.as_str(),
            key,
            purpose,
            endpoint,
            format_rfc3339(now_us()),
            outcome,
        )
        .map_err(|_| {
            ApiError::not_ready("the audit trail cannot take the record of this read now")
        })?;
    app.metrics.audit_records.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

async fn report(
    State(app): State<Arc<App>>,
    Path((kind, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = principal(&app, &headers)?;
    require_ready(&app)?;
    let key = parse_subject(&kind, &id)?;
    let purpose = q.get("purpose").map(String::as_str);
    may_read(&p, key, purpose)?;
    let at = parse_at(q.get("at").map(String::as_str))?;
    audit(&app, &p, key, purpose, "GET /v1/subjects", "ok")?;
    let report = app
        .store
        .report(key, at.unwrap_or_else(now_us), at.is_none());
    Ok(Json(report).into_response())
}

/// A check request's body (HTTP, and NATS with `requester`).
#[derive(Debug, Deserialize)]
pub struct CheckBody {
    pub subject: Option<SubjectBody>,
    pub context: Option<String>,
    pub purpose: Option<String>,
    pub at: Option<String>,
    pub requester: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SubjectBody {
    pub kind: Option<serde_json::Value>,
    pub id: Option<serde_json::Value>,
}

/// A validated check request.
#[derive(Debug)]
pub struct CheckRequest {
    pub key: SubjectKey,
    pub context: Context,
    pub purpose: Option<String>,
    pub at: Option<Ts>,
}

/// Parses and validates a check body (the first problem found is the answer).
pub fn parse_check(bytes: &[u8]) -> ApiResult<(CheckRequest, CheckBody)> {
    let body: CheckBody = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad(
            "invalid_request",
            format!("the body is not a check object: {e}"),
        )
    })?;
    let subject = body
        .subject
        .as_ref()
        .ok_or_else(|| ApiError::bad("invalid_request", "subject is required"))?;
    let (Some(serde_json::Value::String(kind)), Some(serde_json::Value::String(id))) =
        (&subject.kind, &subject.id)
    else {
        return Err(ApiError::bad(
            "invalid_subject_id",
            "subject is {\"kind\", \"id\"}",
        ));
    };
    let key = parse_subject(kind, id)?;
    let context = body
        .context
        .as_deref()
        .ok_or_else(|| ApiError::bad("invalid_request", "context is required"))?;
    let context = Context::from_str(context).ok_or_else(|| {
        ApiError::bad(
            "unknown_context",
            "context is one of the five approval contexts",
        )
    })?;
    let at = parse_at(body.at.as_deref())?;
    let purpose = body.purpose.clone().filter(|s| !s.trim().is_empty());
    if key.kind() == Kind::Natural && purpose.is_none() {
        return Err(ApiError::bad(
            "purpose_required",
            "checking a natural person needs a purpose",
        ));
    }
    Ok((
        CheckRequest {
            key,
            context,
            purpose,
            at,
        },
        body,
    ))
}

async fn check(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let started = Instant::now();
    let p = principal(&app, &headers)?;
    if !matches!(p.role, Role::Department | Role::Admin) {
        return Err(ApiError::forbidden("checks are for departments and admins"));
    }
    require_ready(&app)?;
    let (req, _) = parse_check(&body)?;
    audit(
        &app,
        &p,
        req.key,
        req.purpose.as_deref(),
        "POST /v1/check",
        "ok",
    )?;
    let answer = app
        .store
        .check(req.key, req.context, req.at.unwrap_or_else(now_us));
    let resp = Json(answer).into_response();
    app.metrics
        .observe_check(started.elapsed().as_micros() as u64);
    Ok(resp)
}

async fn stats(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult<Response> {
    let p = principal(&app, &headers)?;
    if p.role != Role::Admin {
        return Err(ApiError::forbidden("stats are for admins"));
    }
    require_ready(&app)?;
    let c = app.store.counters();
    Ok(Json(json!({
        "subjects": app.store.subject_count(),
        "records_in_effect": app.store.records_in_effect(),
        "events_applied": c.events_applied,
        "events_duplicate": c.events_duplicate,
        "events_rejected": c.events_rejected,
        "last_seq": app.store.last_seq(),
        "lag": app.lag(),
    }))
    .into_response())
}

async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.ready.load(Ordering::Acquire) {
        Json(json!({"status": "ready", "last_seq": app.store.last_seq()})).into_response()
    } else {
        ApiError::not_ready(format!(
            "catching up: {} of {}",
            app.store.last_seq(),
            app.ready_at_seq
        ))
        .into_response()
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let mut out = String::with_capacity(4096);
    let c = app.store.counters();
    let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    metric(
        names::EVENTS_APPLIED,
        "counter",
        "Distinct valid events applied (state counter).",
        c.events_applied,
    );
    metric(
        names::EVENTS_DUPLICATE,
        "counter",
        "Duplicate events acknowledged, not applied.",
        c.events_duplicate,
    );
    metric(
        names::EVENTS_REJECTED,
        "counter",
        "Events rejected to the DLQ.",
        c.events_rejected,
    );
    metric(
        names::MESSAGES,
        "counter",
        "Messages consumed by this process.",
        app.metrics.messages.load(Ordering::Relaxed),
    );
    metric(
        names::LIST_CHANGES,
        "counter",
        "List changes published by this process.",
        app.metrics.list_changes.load(Ordering::Relaxed),
    );
    metric(
        names::AUDIT_RECORDS,
        "counter",
        "Audit records queued by this process.",
        app.metrics.audit_records.load(Ordering::Relaxed),
    );
    metric(
        names::LAST_SEQ,
        "gauge",
        "Last stream sequence applied.",
        app.store.last_seq(),
    );
    metric(
        names::LAG,
        "gauge",
        "Messages in CREDIT_EVENTS not yet applied.",
        app.lag(),
    );
    metric(
        names::SUBJECTS,
        "gauge",
        "Subjects with state.",
        app.store.subject_count() as u64,
    );
    metric(
        names::RECORDS_IN_EFFECT,
        "gauge",
        "Records in effect now.",
        app.store.records_in_effect(),
    );
    metric(
        names::READY,
        "gauge",
        "1 once caught up with the stream.",
        app.ready.load(Ordering::Relaxed) as u64,
    );
    let _ = writeln!(
        out,
        "# HELP {} HTTP requests by route and status.\n# TYPE {} counter",
        names::HTTP_REQUESTS,
        names::HTTP_REQUESTS
    );
    for ((route, status), n) in app
        .metrics
        .http
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "{}{{route=\"{route}\",status=\"{status}\"}} {n}",
            names::HTTP_REQUESTS
        );
    }
    {
        let h = app
            .metrics
            .check_us
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let name = names::CHECK_LATENCY;
        let _ = writeln!(
            out,
            "# HELP {name} Check latency (HTTP handler).\n# TYPE {name} summary"
        );
        for q in [0.5, 0.9, 0.99, 0.999] {
            let _ = writeln!(
                out,
                "{name}{{quantile=\"{q}\"}} {}",
                h.value_at_quantile(q) as f64 / 1e6
            );
        }
        let _ = writeln!(out, "{name}_count {}", h.len());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
