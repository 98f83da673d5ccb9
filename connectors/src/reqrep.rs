//! Checks and reports over NATS request-reply (contract §5): `credit.check` and
//! `credit.report` in the queue group `credence`, so several instances share the load. The
//! request is the HTTP body plus `requester`, the department's name; it is audited as
//! `department`; the answer and errors are the same JSON as over HTTP. Who may publish there is
//! the NATS server's own users and permissions.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::auth::{Principal, Role};
use crate::http::{
    answer_check, answer_report, parse_subject_value, validate_check, ApiError, CheckBody,
};
use crate::state::App;

/// The queue group of every instance.
pub const QUEUE: &str = "credence";

fn requester(body: &CheckBody) -> Result<Principal, ApiError> {
    match body
        .requester
        .as_ref()
        .and_then(|r| r.as_str())
        .filter(|r| !r.trim().is_empty())
    {
        Some(name) => Ok(Principal {
            name: name.to_owned(),
            role: Role::Department,
            subject: None,
            producer: None,
        }),
        None => Err(ApiError::bad(
            "invalid_request",
            "requester (the requesting department's name) is required",
        )),
    }
}

fn ready(app: &App) -> Result<(), ApiError> {
    if app.ready.load(Ordering::Acquire) {
        Ok(())
    } else {
        Err(ApiError::not_ready(
            "the state is still being restored and caught up with the stream",
        ))
    }
}

fn parse(payload: &[u8]) -> Result<CheckBody, ApiError> {
    serde_json::from_slice(payload).map_err(|e| {
        ApiError::bad(
            "invalid_request",
            format!("the body is not a request object: {e}"),
        )
    })
}

/// Answers a `credit.check` request (JSON text).
pub fn check(app: &App, payload: &[u8]) -> String {
    let result = ready(app).and_then(|_| parse(payload)).and_then(|body| {
        let p = requester(&body)?;
        let req = validate_check(&body)?;
        answer_check(
            app,
            &p,
            &req,
            "NATS credit.check",
            crate::http::request_digest(app, payload),
        )
    });
    result.unwrap_or_else(|e| e.body().to_string())
}

/// Answers a `credit.report` request.
pub fn report(app: &App, payload: &[u8]) -> serde_json::Value {
    let result = ready(app).and_then(|_| parse(payload)).and_then(|body| {
        let p = requester(&body)?;
        let key = parse_subject_value(body.subject.as_ref())?;
        let purpose = body.purpose.as_ref().and_then(|x| x.as_str());
        let at = match &body.at {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(
                v.as_str()
                    .and_then(credence_engine::time::parse_rfc3339)
                    .ok_or_else(|| {
                        ApiError::bad("invalid_time", "at is RFC 3339 with an offset")
                    })?,
            ),
        };
        let r = answer_report(app, &p, key, purpose, at, "NATS credit.report")?;
        serde_json::to_value(r).map_err(|e| ApiError::bad("invalid_request", e.to_string()))
    });
    result.unwrap_or_else(|e| e.body())
}

/// Serves both subjects until `cancel`.
pub async fn run(
    app: Arc<App>,
    client: async_nats::Client,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut checks = client.queue_subscribe("credit.check", QUEUE.into()).await?;
    let mut reports = client
        .queue_subscribe("credit.report", QUEUE.into())
        .await?;
    loop {
        let (msg, is_check) = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            Some(m) = checks.next() => (m, true),
            Some(m) = reports.next() => (m, false),
            else => break,
        };
        let Some(reply) = msg.reply.clone() else {
            continue;
        };
        app.metrics.nats_requests.fetch_add(1, Ordering::Relaxed);
        let bytes = if is_check {
            Bytes::from(check(&app, &msg.payload))
        } else {
            Bytes::from(serde_json::to_vec(&report(&app, &msg.payload)).unwrap_or_default())
        };
        if let Err(e) = client.publish(reply, bytes).await {
            tracing::warn!(error = %e, "a NATS reply could not be sent");
        }
    }
    // Bounded: with the server gone these would wait for it.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), checks.unsubscribe()).await;
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), reports.unsubscribe()).await;
    Ok(())
}

/// Reads `CREDIT_AUDIT` from its start into the access log, then follows it, until `cancel`.
pub async fn access_log_reader(app: Arc<App>, cancel: CancellationToken) {
    while !cancel.is_cancelled() {
        let result: anyhow::Result<()> = async {
            let js = app
                .js
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("no JetStream"))?;
            let stream = js
                .get_stream(crate::nats::AUDIT_STREAM)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let consumer = stream
                .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
                    filter_subject: "credit.audit.>".into(),
                    ..Default::default()
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut msgs = consumer
                .messages()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            loop {
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => return Ok(()),
                    m = msgs.next() => match m {
                        Some(Ok(m)) => {
                            if !m.subject.as_str().starts_with("credit.audit.receipts.") {
                                app.access.ingest(&m.payload);
                            }
                        }
                        Some(Err(e)) => return Err(anyhow::anyhow!("{e}")),
                        None => return Err(anyhow::anyhow!("the audit stream ended")),
                    }
                }
            }
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "access log reader stopped; starting again");
            // The index is rebuilt from the stream's start.
            app.access.clear();
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
    }
}
