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

/// Every route: (method, path as in the OpenAPI document, metrics label). The router and
/// `/v1/openapi.json` are both checked against this table by a test.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("POST", "/v1/check", "check"),
    ("POST", "/v1/check/batch", "check_batch"),
    ("GET", "/v1/subjects/{kind}/{id}", "report"),
    ("GET", "/v1/subjects/natural/{id}/access", "access"),
    ("GET", "/v1/lists/{list}", "lists"),
    ("POST", "/v1/events", "events"),
    ("GET", "/v1/model", "model_get"),
    ("PUT", "/v1/model", "model_put"),
    ("POST", "/v1/model/preview", "model_preview"),
    ("GET", "/v1/stats", "stats"),
    ("GET", "/v1/openapi.json", "openapi"),
    ("GET", "/healthz", "healthz"),
    ("GET", "/readyz", "readyz"),
    ("GET", "/metrics", "metrics"),
];

/// The OpenAPI document of this API.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The most bytes of a check body.
pub const MAX_CHECK_BODY: usize = 64 * 1024;
/// The most bytes of a batch body.
pub const MAX_BATCH_BODY: usize = 4 * 1024 * 1024;
/// The most checks in a batch.
pub const MAX_BATCH: usize = 1000;

/// The router of the whole API.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/check", post(check))
        .route("/v1/check/batch", post(check_batch))
        .route("/v1/subjects/{kind}/{id}", get(report))
        .route("/v1/subjects/natural/{id}/access", get(access))
        .route("/v1/lists/{list}", get(list_members))
        .route("/v1/events", post(events))
        .route("/v1/model", get(model_get).put(model_put))
        .route("/v1/model/preview", post(model_preview))
        .route("/v1/stats", get(stats))
        .route("/v1/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        // Bodies are read with their own limits and answered with the contract's 413.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(app.clone(), count))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .with_state(app)
}

/// Reads a body up to `limit` bytes: 413 `code` beyond.
async fn read_body(
    body: axum::body::Body,
    limit: usize,
    code: &'static str,
) -> ApiResult<axum::body::Bytes> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code,
            format!("the body is larger than {limit} bytes"),
        )
    })
}

/// A permit to answer, or 429 `overloaded`.
fn admit(app: &App) -> ApiResult<tokio::sync::SemaphorePermit<'_>> {
    app.inflight.try_acquire().map_err(|_| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "overloaded",
            "too many requests in flight; retry shortly",
        )
    })
}

/// Counts every request by route and status.
async fn count(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let route: &'static str = path
        .as_deref()
        .and_then(|p| ROUTES.iter().find(|(_, rp, _)| *rp == p).map(|r| r.2))
        .unwrap_or("other");
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

/// A check request's body (HTTP, and NATS with `requester`). Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct CheckBody {
    pub subject: Option<serde_json::Value>,
    pub context: Option<serde_json::Value>,
    pub purpose: Option<serde_json::Value>,
    pub at: Option<serde_json::Value>,
    pub requester: Option<serde_json::Value>,
}

/// A validated check request.
#[derive(Debug)]
pub struct CheckRequest {
    pub key: SubjectKey,
    pub context: Context,
    pub purpose: Option<String>,
    pub at: Option<Ts>,
}

fn text_field(v: &Option<serde_json::Value>) -> Option<&str> {
    v.as_ref().and_then(|x| x.as_str())
}

/// Reads `{"kind", "id"}`.
pub fn parse_subject_value(v: Option<&serde_json::Value>) -> ApiResult<SubjectKey> {
    let v = v.ok_or_else(|| ApiError::bad("invalid_request", "subject is required"))?;
    match (
        v.get("kind").and_then(|k| k.as_str()),
        v.get("id").and_then(|k| k.as_str()),
    ) {
        (Some(kind), Some(id)) => parse_subject(kind, id),
        _ => Err(ApiError::bad(
            "invalid_subject_id",
            "subject is {\"kind\", \"id\"}",
        )),
    }
}

/// Validates a check body (the first problem found is the answer).
pub fn validate_check(body: &CheckBody) -> ApiResult<CheckRequest> {
    let key = parse_subject_value(body.subject.as_ref())?;
    let context = text_field(&body.context)
        .ok_or_else(|| ApiError::bad("invalid_request", "context is required"))?;
    let context = Context::from_str(context).ok_or_else(|| {
        ApiError::bad(
            "unknown_context",
            "context is one of the five approval contexts",
        )
    })?;
    let at = match &body.at {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .and_then(parse_rfc3339)
                .ok_or_else(|| ApiError::bad("invalid_time", "at is RFC 3339 with an offset"))?,
        ),
    };
    let purpose = text_field(&body.purpose)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned);
    if key.kind() == Kind::Natural && purpose.is_none() {
        return Err(ApiError::bad(
            "purpose_required",
            "checking a natural person needs a purpose",
        ));
    }
    Ok(CheckRequest {
        key,
        context,
        purpose,
        at,
    })
}

/// Parses and validates a check body's bytes.
pub fn parse_check(bytes: &[u8]) -> ApiResult<(CheckRequest, CheckBody)> {
    let body: CheckBody = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad(
            "invalid_request",
            format!("the body is not a check object: {e}"),
        )
    })?;
    let req = validate_check(&body)?;
    Ok((req, body))
}

/// Answers one validated check for `p`: audit first (a natural person's read that cannot be
/// audited is refused), then the answer's JSON.
pub fn answer_check(
    app: &App,
    p: &Principal,
    req: &CheckRequest,
    endpoint: &str,
    request_digest: String,
) -> ApiResult<String> {
    audit(app, p, req.key, req.purpose.as_deref(), endpoint, "ok")?;
    let answer = app
        .store
        .check(req.key, req.context, req.at.unwrap_or_else(now_us));
    // The answer's exact JSON text without its receipt: canonical (its fields are declared in
    // alphabetical order). It is what the receipt hashes and what is stored beside it; the
    // receipt is spliced in as the last key, so removing it gives this text back.
    let answer_json = serde_json::to_string(&answer)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    let receipt = app
        .receipts
        .issue(request_digest, &answer_json)
        .map_err(|_| ApiError::not_ready("the receipt trail cannot take another receipt now"))?;
    let receipt = serde_json::to_string(&receipt).unwrap_or_default();
    let mut out = String::with_capacity(answer_json.len() + receipt.len() + 12);
    out.push_str(&answer_json[..answer_json.len() - 1]);
    out.push_str(",\"receipt\":");
    out.push_str(&receipt);
    out.push('}');
    Ok(out)
}

/// The request digest of a body as received: hex HMAC-SHA256 under the audit key.
pub fn request_digest(app: &App, body: &[u8]) -> String {
    app.auditor.key().hmac_hex(body)
}

/// The request digest of entry `i` of a batch: the batch body, `#`, the index.
pub fn batch_digest(app: &App, body: &[u8], i: usize) -> String {
    let mut data = Vec::with_capacity(body.len() + 8);
    data.extend_from_slice(body);
    data.push(b'#');
    data.extend_from_slice(i.to_string().as_bytes());
    app.auditor.key().hmac_hex(&data)
}

/// A response whose body is JSON text already written.
fn json_text(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn json_response(v: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(v) {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            .into_response(),
    }
}

fn require_checker(p: &Principal) -> ApiResult<()> {
    if matches!(p.role, Role::Department | Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::forbidden("checks are for departments and admins"))
    }
}

async fn check(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let started = Instant::now();
    let p = principal(&app, &headers)?;
    require_checker(&p)?;
    require_ready(&app)?;
    let _permit = admit(&app)?;
    let bytes = read_body(body, MAX_CHECK_BODY, "too_large").await?;
    let (req, _) = parse_check(&bytes)?;
    let answer = answer_check(
        &app,
        &p,
        &req,
        "POST /v1/check",
        request_digest(&app, &bytes),
    )?;
    let resp = json_text(answer);
    app.metrics
        .observe_check(started.elapsed().as_micros() as u64);
    Ok(resp)
}

async fn check_batch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let p = principal(&app, &headers)?;
    require_checker(&p)?;
    require_ready(&app)?;
    let _permit = admit(&app)?;
    let bytes = read_body(body, MAX_BATCH_BODY, "too_large").await?;
    #[derive(Deserialize)]
    struct Batch {
        checks: Vec<serde_json::Value>,
    }
    let batch: Batch = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad(
            "invalid_request",
            format!("the body is not {{\"checks\": [...]}}: {e}"),
        )
    })?;
    if batch.checks.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("at most {MAX_BATCH} checks in a batch"),
        ));
    }
    let mut results = Vec::with_capacity(batch.checks.len());
    for (i, entry) in batch.checks.into_iter().enumerate() {
        let one = serde_json::from_value::<CheckBody>(entry)
            .map_err(|e| ApiError::bad("invalid_request", format!("not a check object: {e}")))
            .and_then(|b| validate_check(&b))
            .and_then(|req| {
                answer_check(
                    &app,
                    &p,
                    &req,
                    "POST /v1/check/batch",
                    batch_digest(&app, &bytes, i),
                )
            });
        results.push(match one {
            Ok(text) => text,
            Err(e) => e.body().to_string(),
        });
    }
    // Each result is already JSON text: joined, not parsed again.
    let mut out = String::with_capacity(results.iter().map(|r| r.len() + 1).sum::<usize>() + 16);
    out.push_str("{\"results\":[");
    for (i, r) in results.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r);
    }
    out.push_str("]}");
    Ok(json_text(out))
}

/// Answers a report for `p` at `at` (audited for a natural person).
pub fn answer_report(
    app: &App,
    p: &Principal,
    key: SubjectKey,
    purpose: Option<&str>,
    at: Option<Ts>,
    endpoint: &str,
) -> ApiResult<credence_engine::answer::Report> {
    may_read(p, key, purpose)?;
    audit(app, p, key, purpose, endpoint, "ok")?;
    Ok(app
        .store
        .report(key, at.unwrap_or_else(now_us), at.is_none()))
}

async fn report(
    State(app): State<Arc<App>>,
    Path((kind, id)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = principal(&app, &headers)?;
    require_ready(&app)?;
    let _permit = admit(&app)?;
    let key = parse_subject(&kind, &id)?;
    let at = parse_at(q.get("at").map(String::as_str))?;
    let report = answer_report(
        &app,
        &p,
        key,
        q.get("purpose").map(String::as_str),
        at,
        "GET /v1/subjects",
    )?;
    Ok(json_response(&report))
}

async fn access(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = principal(&app, &headers)?;
    require_ready(&app)?;
    let key = parse_subject("natural", &id)?;
    match p.role {
        Role::SelfSubject if p.subject == Some(key) => {}
        Role::Admin => {}
        _ => {
            return Err(ApiError::forbidden(
                "a person's access log is theirs (or an admin's) to read",
            ))
        }
    }
    let reads = app.access.reads(&app.auditor.key().subject_ref(key));
    audit(
        &app,
        &p,
        key,
        Some("access log"),
        "GET /v1/subjects/natural/access",
        "ok",
    )?;
    Ok(json_response(
        &json!({"subject": {"kind": "natural", "id": key.text().as_str()}, "reads": reads}),
    ))
}

/// The default and the most members of a list page.
pub const LIST_PAGE: usize = 100;
pub const LIST_PAGE_MAX: usize = 1000;

async fn list_members(
    State(app): State<Arc<App>>,
    Path(list): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let p = principal(&app, &headers)?;
    require_ready(&app)?;
    let _permit = admit(&app)?;
    if app.store.judge().model.list_id(&list).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such list in the model in force",
        ));
    }
    let kind = match q.get("kind").map(String::as_str) {
        None | Some("") => None,
        Some(k) => Some(
            Kind::from_str(k)
                .ok_or_else(|| ApiError::bad("invalid_request", "kind is legal or natural"))?,
        ),
    };
    let purpose = q
        .get("purpose")
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty());
    let entitled = matches!(p.role, Role::Department | Role::Admin);
    if kind == Some(Kind::Natural) {
        if !entitled {
            return Err(ApiError::forbidden(
                "natural members are for departments and admins, with a purpose",
            ));
        }
        if purpose.is_none() {
            return Err(ApiError::bad(
                "purpose_required",
                "natural members need a purpose",
            ));
        }
    }
    // Natural members are listed only to a department or admin that gave a purpose.
    let with_natural = entitled && purpose.is_some();
    let kind = match (kind, with_natural) {
        (Some(k), _) => Some(k),
        (None, true) => None,
        (None, false) => Some(Kind::Legal),
    };
    let limit = match q.get("limit") {
        None => LIST_PAGE,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=LIST_PAGE_MAX).contains(n))
            .ok_or_else(|| {
                ApiError::bad("invalid_request", format!("limit is 1..={LIST_PAGE_MAX}"))
            })?,
    };
    let after =
        match q.get("cursor").map(String::as_str) {
            None | Some("") => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                ApiError::bad("invalid_request", "cursor is not one this API gave")
            })?),
        };
    let (keys, next) = app.store.list_page(&list, kind, after, limit);
    let now = now_us();
    let mut members = Vec::with_capacity(keys.len());
    for key in keys {
        if key.kind() == Kind::Natural {
            audit(&app, &p, key, purpose, "GET /v1/lists", "ok")?;
        }
        let Some(entry) = app.store.list_entry(key, &list, now) else {
            continue;
        };
        members.push(json!({"subject": credence_engine::answer::SubjectRef::of(key), "since": entry.since, "until": entry.until, "reasons": entry.reasons}));
    }
    Ok(json_response(
        &json!({"members": members, "next_cursor": next.map(encode_cursor)}),
    ))
}

/// A cursor is the last key of a page, opaque to clients.
fn encode_cursor(k: SubjectKey) -> String {
    format!("{:032x}", k.to_bits())
}

fn decode_cursor(c: &str) -> Option<SubjectKey> {
    u128::from_str_radix(c, 16)
        .ok()
        .and_then(SubjectKey::from_bits)
}

async fn events(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let p = principal(&app, &headers)?;
    let (channel, source) = match p.role {
        Role::Producer => {
            let (channel, source) = p
                .producer
                .clone()
                .ok_or_else(|| ApiError::forbidden("this producer token has no binding"))?;
            let asked_channel = q
                .get("channel")
                .map(String::as_str)
                .unwrap_or(channel.as_str());
            let asked_source = q
                .get("source")
                .map(String::as_str)
                .unwrap_or(source.as_str());
            if asked_channel != channel.as_str() || asked_source != source {
                return Err(ApiError::forbidden(
                    "a producer publishes only as its own channel and source",
                ));
            }
            (channel, source)
        }
        Role::Admin => {
            let channel = q
                .get("channel")
                .and_then(|c| credence_engine::Channel::parse(c));
            let source = q
                .get("source")
                .filter(|s| credence_engine::event::valid_source(s));
            match (channel, source) {
                (Some(c), Some(s)) => (c, s.clone()),
                _ => return Err(ApiError::bad(
                    "invalid_route",
                    "an admin names ?channel= (one of the five) and ?source= ([a-z0-9_-]{1,32})",
                )),
            }
        }
        _ => {
            return Err(ApiError::forbidden(
                "events are published by producers (and admins)",
            ))
        }
    };
    let bytes = read_body(body, credence_engine::event::MAX_EVENT_BYTES, "too_large").await?;
    let subject = format!("credit.events.{channel}.{source}");
    let model = app.store.judge();
    let event_id = match credence_engine::decode(&subject, &bytes, &model.model) {
        Ok(credence_engine::Decoded::Event(e)) => e.id.into_owned(),
        Ok(credence_engine::Decoded::Control(_)) => {
            return Err(ApiError::bad(
                "invalid_route",
                "control events are not published here",
            ))
        }
        Err(r) => return Err(ApiError::bad(r.code.as_str(), r.detail)),
    };
    let mut h = async_nats::HeaderMap::new();
    h.insert(
        async_nats::header::NATS_MESSAGE_ID,
        format!("{source}:{event_id}").as_str(),
    );
    let js = app.js.as_ref().ok_or_else(|| {
        ApiError::not_ready("no NATS in this in-process demo: events come from its generator")
    })?;
    let ack = js
        .publish_with_headers(subject, h, bytes)
        .await
        .map_err(|e| ApiError::not_ready(format!("JetStream did not take the event: {e}")))?;
    let ack = tokio::time::timeout(std::time::Duration::from_secs(10), ack)
        .await
        .map_err(|_| ApiError::not_ready("JetStream did not acknowledge the event in time"))?
        .map_err(|e| ApiError::not_ready(format!("JetStream did not take the event: {e}")))?;
    let mut resp = json_response(&json!({"seq": ack.sequence, "duplicate": ack.duplicate}));
    *resp.status_mut() = StatusCode::ACCEPTED;
    Ok(resp)
}

/// The most bytes of a model body.
pub const MAX_MODEL_BODY: usize = 8 * 1024 * 1024;

async fn model_get(State(app): State<Arc<App>>, headers: HeaderMap) -> ApiResult<Response> {
    principal(&app, &headers)?;
    require_ready(&app)?;
    Ok(json_response(&app.store.judge().model.to_json_value()))
}

fn require_admin(p: &Principal) -> ApiResult<()> {
    if p.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::forbidden("models are changed by admins"))
    }
}

/// Reads and validates a model body: 400 `invalid_model` listing every problem; 409
/// `model_conflict` if it removes an item that has records (retire it instead).
async fn read_model(
    app: &Arc<App>,
    body: axum::body::Body,
) -> ApiResult<Arc<credence_models::Model>> {
    let bytes = read_body(body, MAX_MODEL_BODY, "too_large").await?;
    let model = credence_models::Model::from_json(&bytes).map_err(|e| {
        let problems: Vec<String> = e.problems().iter().map(ToString::to_string).collect();
        ApiError::bad(
            "invalid_model",
            format!("{} problem(s): {}", problems.len(), problems.join("; ")),
        )
    })?;
    let current = app.store.judge();
    let removed: Vec<String> = current
        .model
        .items
        .iter()
        .filter(|it| model.item_id(&it.code).is_none())
        .map(|it| it.code.clone())
        .collect();
    if !removed.is_empty() {
        let store = app.store.clone();
        let in_use = tokio::task::spawn_blocking(move || store.codes_in_use())
            .await
            .map_err(|e| ApiError::not_ready(e.to_string()))?;
        let conflicts: Vec<&String> = removed.iter().filter(|c| in_use.contains(*c)).collect();
        if !conflicts.is_empty() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "model_conflict",
                format!(
                    "the model removes items that have records: {} (retire them instead)",
                    conflicts
                        .iter()
                        .map(|c| c.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(Arc::new(model))
}

fn preview_json(p: &credence_engine::store::Preview) -> serde_json::Value {
    let show = |k: &SubjectKey| json!({"kind": k.kind(), "id": k.display_safe()});
    let mut lists = serde_json::Map::new();
    let names: std::collections::BTreeSet<&String> =
        p.joins.keys().chain(p.leaves.keys()).collect();
    for name in names {
        let (jn, js) = p.joins.get(name).cloned().unwrap_or_default();
        let (ln, ls) = p.leaves.get(name).cloned().unwrap_or_default();
        lists.insert(
            name.clone(),
            json!({"join": jn, "leave": ln, "join_samples": js.iter().map(show).collect::<Vec<_>>(), "leave_samples": ls.iter().map(show).collect::<Vec<_>>()}),
        );
    }
    json!({
        "subjects": p.subjects,
        "subjects_changed": p.changed,
        "grade_changes": p.grade_changes,
        "grade_samples": p.grade_samples.iter().map(|(k, a, b)| json!({"subject": show(k), "from": a, "to": b})).collect::<Vec<_>>(),
        "lists": lists,
    })
}

async fn compute_preview(
    app: &Arc<App>,
    model: Arc<credence_models::Model>,
) -> ApiResult<credence_engine::store::Preview> {
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || store.preview(model, now_us(), 10))
        .await
        .map_err(|e| ApiError::not_ready(e.to_string()))
}

async fn model_preview(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let p = principal(&app, &headers)?;
    require_admin(&p)?;
    require_ready(&app)?;
    let model = read_model(&app, body).await?;
    let preview = compute_preview(&app, model.clone()).await?;
    let mut out = preview_json(&preview);
    out["content_hash"] = json!(model.content_hash);
    Ok(json_response(&out))
}

async fn model_put(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let p = principal(&app, &headers)?;
    require_admin(&p)?;
    require_ready(&app)?;
    let model = read_model(&app, body).await?;
    let js = app.js.as_ref().ok_or_else(|| {
        ApiError::not_ready("no NATS in this in-process demo: models change through the stream")
    })?;
    if model.content_hash == app.store.judge().model.content_hash {
        return Ok(json_response(
            &json!({"content_hash": model.content_hash, "seq": null, "subjects_changed": 0, "unchanged": true}),
        ));
    }
    let preview = compute_preview(&app, model.clone()).await?;
    let seq = crate::nats::publish_model(js, &model)
        .await
        .map_err(|e| ApiError::not_ready(format!("the control event was not stored: {e}")))?;
    // Answered once applied: from then on every check uses the new model.
    let deadline = Instant::now() + std::time::Duration::from_secs(60);
    while app.store.last_seq() < seq {
        if Instant::now() > deadline {
            return Err(ApiError::not_ready(
                "the control event is stored but not yet applied; it will be",
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut out = preview_json(&preview);
    out["content_hash"] = json!(model.content_hash);
    out["seq"] = json!(seq);
    Ok(json_response(&out))
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
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
    metric(
        names::SNAPSHOT_SEQ,
        "gauge",
        "Sequence of the last snapshot written or restored.",
        app.last_snapshot_seq.load(Ordering::Relaxed),
    );
    let age = (now_us().max(0) as u64).saturating_sub(app.last_snapshot_at.load(Ordering::Relaxed))
        / 1_000_000;
    metric(
        names::SNAPSHOT_AGE,
        "gauge",
        "Seconds since the last snapshot.",
        age,
    );
    metric(
        names::ACCESS_RECORDS,
        "gauge",
        "Audit records indexed for access logs.",
        app.access.records.load(Ordering::Relaxed),
    );
    metric(
        names::NATS_REQUESTS,
        "counter",
        "Checks and reports answered over NATS request-reply.",
        app.metrics.nats_requests.load(Ordering::Relaxed),
    );
    metric(
        names::REEVAL_EPOCH,
        "gauge",
        "Model epoch of the last re-evaluation of every subject.",
        app.metrics.reeval_epoch.load(Ordering::Relaxed),
    );
    metric(
        names::REEVAL_TOTAL,
        "gauge",
        "Subjects that re-evaluation has to do.",
        app.metrics.reeval_total.load(Ordering::Relaxed),
    );
    metric(
        names::REEVAL_DONE,
        "gauge",
        "Subjects re-evaluated so far.",
        app.metrics.reeval_done.load(Ordering::Relaxed),
    );
    let _ = writeln!(
        out,
        "# HELP {} Current members of each list.\n# TYPE {} gauge",
        names::LIST_MEMBERS,
        names::LIST_MEMBERS
    );
    for (list, n) in app.store.list_sizes() {
        let _ = writeln!(out, "{}{{list=\"{list}\"}} {n}", names::LIST_MEMBERS);
    }
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
