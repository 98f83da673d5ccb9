//! Ingestion: a durable pull consumer on `CREDIT_EVENTS` feeds the store in stream order.
//!
//! Messages are taken in batches (whatever has arrived, up to `batch`), applied one by one
//! (decode → apply → evaluate, about a microsecond each, inline: a channel hop would cost more),
//! then the batch's effects — DLQ copies and list changes — are published and their JetStream
//! acknowledgements awaited, and only then is the batch acknowledged, by acking its last
//! message (`AckPolicy::All`). So an acknowledged message always has its effect in the state
//! and its rejection in the DLQ. Between batches the same task runs the timer of the time
//! index (never before catch-up), so one task is the store's only writer.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, stream};
use async_nats::HeaderMap;
use bytes::Bytes;
use credence_engine::event::{parse_route, Route};
use credence_engine::{ErrorCode, ListChange, Outcome, SubjectKey};
use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A pull consumer of `CREDIT_EVENTS`.
pub type PullConsumer = async_nats::jetstream::consumer::Consumer<pull::Config>;

use crate::demo::now_us;
use crate::state::App;

/// Consumer settings.
#[derive(Clone, Copy, Debug)]
pub struct IngestSettings {
    /// The most messages applied before their effects are published and the batch acked.
    pub batch: usize,
    /// The most messages the server lets the consumer hold unacknowledged.
    pub max_ack_pending: i64,
}

/// The durable consumer of this instance, (re)created to deliver from `from_seq` — the
/// recovery point is the state's last sequence + 1, not the consumer's ack floor.
pub async fn consumer(
    stream: &stream::Stream,
    name: &str,
    from_seq: u64,
    s: IngestSettings,
) -> anyhow::Result<PullConsumer> {
    let _ = stream.delete_consumer(name).await;
    let deliver_policy = if from_seq <= 1 {
        DeliverPolicy::All
    } else {
        DeliverPolicy::ByStartSequence {
            start_sequence: from_seq,
        }
    };
    stream
        .create_consumer(pull::Config {
            durable_name: Some(name.to_owned()),
            deliver_policy,
            ack_policy: AckPolicy::All,
            ack_wait: Duration::from_secs(60),
            max_ack_pending: s.max_ack_pending,
            max_deliver: -1,
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("creating consumer {name}: {e}"))
}

/// A publication owed before a batch is acknowledged.
type Effect = crate::nats::Pub;

/// The DLQ subject of a rejected message.
pub fn dlq_subject(nats_subject: &str) -> String {
    match parse_route(nats_subject) {
        Some(Route::Producer { channel, source }) => format!("credit.dlq.{channel}.{source}"),
        Some(Route::Control) => "credit.dlq.control.model".to_owned(),
        None => "credit.dlq.invalid".to_owned(),
    }
}

fn dlq_effect(nats_subject: &str, payload: Bytes, seq: u64, code: &str, detail: &str) -> Effect {
    let mut headers = HeaderMap::new();
    headers.insert("Credence-Error", code);
    headers.insert("Credence-Error-Detail", detail);
    headers.insert("Credence-Seq", seq.to_string().as_str());
    headers.insert(
        async_nats::header::NATS_MESSAGE_ID,
        format!("dlq:{seq}:{code}").as_str(),
    );
    Effect {
        subject: dlq_subject(nats_subject),
        headers,
        payload,
    }
}

/// The JSON of a list change (contract §4).
pub fn list_change_json(c: &ListChange, key: SubjectKey) -> serde_json::Value {
    serde_json::json!({
        "subject": {"kind": key.kind(), "id": key.text().as_str()},
        "list": c.list,
        "since": credence_engine::time::format_rfc3339(c.since),
        "until": c.until.map(credence_engine::time::format_rfc3339),
        "reasons": c.reasons,
        "at": credence_engine::time::format_rfc3339(c.at),
        "seq": c.seq,
    })
}

/// The NATS message of a list change: subject, headers (with its `Nats-Msg-Id`), payload.
pub fn list_change_message(c: &ListChange) -> Option<(String, HeaderMap, Bytes)> {
    let key = c.subject_key()?;
    let op = if c.added { "added" } else { "removed" };
    let mut headers = HeaderMap::new();
    headers.insert(async_nats::header::NATS_MESSAGE_ID, c.msg_id().as_str());
    Some((
        format!("credit.lists.{}.{}.{op}", c.list, key.kind()),
        headers,
        Bytes::from(list_change_json(c, key).to_string()),
    ))
}

fn list_effect(c: &ListChange) -> Option<Effect> {
    list_change_message(c).map(|(subject, headers, payload)| Effect {
        subject,
        headers,
        payload,
    })
}

/// A batch handed to the acker: its effects, in flight, and the message that acknowledges it.
struct Pending {
    effects: crate::nats::Sent,
    last: Option<async_nats::jetstream::Message>,
    /// Fired once everything before it, and it, is stored and acknowledged (a barrier).
    done: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Sends effects to JetStream without waiting for their acknowledgements.
async fn send_effects(js: &jetstream::Context, effects: Vec<Effect>) -> crate::nats::Sent {
    crate::nats::send(js, effects).await
}

/// The acker: for each batch in order, waits until JetStream has taken every effect
/// (publishing again, same message id, any that failed), then acknowledges the batch. The
/// consumer goes on applying meanwhile; the bounded queue between them holds it back when
/// the acker falls behind.
async fn acker(
    js: jetstream::Context,
    mut rx: mpsc::Receiver<Pending>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    while let Some(p) = rx.recv().await {
        crate::nats::await_stored(&js, p.effects, &cancel).await?;
        if let Some(m) = p.last {
            // AckPolicy::All: this acknowledges the whole batch. A lost ack only means a
            // redelivery, which the store skips by sequence.
            if let Err(e) = m.ack().await {
                tracing::warn!(error = %e, "ack failed; the batch will be redelivered and skipped");
            }
        }
        if let Some(done) = p.done {
            let _ = done.send(());
        }
    }
    Ok(())
}

/// Waits until the acker has stored every effect handed to it so far.
async fn barrier(tx: &mpsc::Sender<Pending>) -> anyhow::Result<()> {
    let (done, wait) = tokio::sync::oneshot::channel();
    tx.send(Pending {
        effects: Vec::new(),
        last: None,
        done: Some(done),
    })
    .await
    .map_err(|_| anyhow::anyhow!("acker gone"))?;
    wait.await.map_err(|_| anyhow::anyhow!("acker gone"))
}

/// Writes a snapshot now: every effect so far stored first (so none is pending), then the
/// store, with apply held back (this task is the only writer; checks go on).
async fn snapshot(app: &Arc<App>, tx: &mpsc::Sender<Pending>) -> anyhow::Result<()> {
    let Some(dir) = app.snapshots.clone() else {
        return Ok(());
    };
    barrier(tx).await?;
    let store = app.store.clone();
    let written = tokio::task::spawn_blocking(move || dir.write(&store, now_us(), &[]))
        .await
        .map_err(|e| anyhow::anyhow!("snapshot task: {e}"))??;
    app.note_snapshot(written.seq);
    tracing::info!(
        seq = written.seq,
        bytes = written.bytes,
        seconds = written.seconds,
        "snapshot written"
    );
    Ok(())
}

/// Runs ingestion until `cancel`: consume, apply, hand effects and the batch's ack to the
/// acker; tick the time index between batches once caught up. On return every effect applied
/// so far is in JetStream and every batch acknowledged.
pub async fn run(
    app: Arc<App>,
    consumer: PullConsumer,
    settings: IngestSettings,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel::<Pending>(64);
    let js = app
        .js
        .clone()
        .ok_or_else(|| anyhow::anyhow!("ingestion needs JetStream"))?;
    let acker = tokio::spawn(acker(js.clone(), rx, cancel.clone()));
    let mut result = consume(&app, &js, consumer, settings, &cancel, &tx).await;
    if result.is_ok() && cancel.is_cancelled() {
        // Shutdown: a final snapshot, after every effect is stored.
        result = snapshot(&app, &tx).await;
    }
    drop(tx);
    let drained = acker.await.map_err(|e| anyhow::anyhow!("acker: {e}"))?;
    result.and(drained)
}

async fn consume(
    app: &Arc<App>,
    js: &jetstream::Context,
    consumer: PullConsumer,
    settings: IngestSettings,
    cancel: &CancellationToken,
    tx: &mpsc::Sender<Pending>,
) -> anyhow::Result<()> {
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(settings.batch.min(10_000))
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("consuming {}: {e}", crate::nats::EVENTS_STREAM))?;
    let mut timer = tokio::time::interval(Duration::from_millis(100));
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let store = app.store.clone();
    loop {
        let first = tokio::select! {
            biased;
            _ = cancel.cancelled() => break,
            _ = timer.tick() => {
                if app.ready.load(Ordering::Acquire) {
                    if app.snapshot_due(false) {
                        snapshot(app, tx).await?;
                    }
                    let changes = store.tick(now_us(), 100_000);
                    if !changes.is_empty() {
                        app.metrics.list_changes.fetch_add(changes.len() as u64, Ordering::Relaxed);
                        let effects = send_effects(js, changes.iter().filter_map(list_effect).collect()).await;
                        tx.send(Pending { effects, last: None, done: None }).await.map_err(|_| anyhow::anyhow!("acker gone"))?;
                    }
                }
                continue;
            }
            m = messages.next() => m,
        };
        let Some(first) = first else {
            anyhow::bail!("the consumer's message stream ended");
        };
        let mut batch = Vec::with_capacity(64);
        match first {
            Ok(m) => batch.push(m),
            Err(e) => {
                tracing::warn!(error = %e, "consumer error; continuing");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        }
        // Whatever else has already arrived joins the batch.
        while batch.len() < settings.batch {
            match messages.next().now_or_never() {
                Some(Some(Ok(m))) => batch.push(m),
                Some(Some(Err(e))) => {
                    tracing::warn!(error = %e, "consumer error within a batch");
                    break;
                }
                _ => break,
            }
        }
        let now = now_us();
        let mut effects = Vec::new();
        for m in &batch {
            let Ok(info) = m.info() else { continue };
            let seq = info.stream_sequence;
            let result = store.apply(m.subject.as_str(), &m.payload, seq, now);
            match &result.outcome {
                Outcome::Rejected(r) => {
                    effects.push(dlq_effect(
                        m.subject.as_str(),
                        m.payload.clone(),
                        seq,
                        r.code.as_str(),
                        r.detail,
                    ));
                }
                Outcome::Conflict => effects.push(dlq_effect(
                    m.subject.as_str(),
                    m.payload.clone(),
                    seq,
                    ErrorCode::RecordConflict.as_str(),
                    "a different add for this record is on file; the first stays",
                )),
                Outcome::ModelRejected(problems) => {
                    tracing::warn!(
                        seq,
                        problems = problems.len(),
                        "a model control event is not valid; ignored"
                    );
                    effects.push(dlq_effect(
                        m.subject.as_str(),
                        m.payload.clone(),
                        seq,
                        "invalid_model",
                        "the control event's model is not valid",
                    ));
                }
                Outcome::ModelApplied { epoch } => {
                    tracing::info!(
                        seq,
                        epoch,
                        "a new model is in force; re-evaluating every subject"
                    );
                    // Checks use the new model at once (the judge is swapped whole); the
                    // subjects are re-evaluated and their list changes published in the
                    // background, with progress in /metrics.
                    tokio::spawn(reevaluation(app.clone(), js.clone(), *epoch));
                }
                Outcome::Applied
                | Outcome::Duplicate
                | Outcome::Skipped
                | Outcome::ModelUnchanged => {}
            }
            if !result.changes.is_empty() {
                app.metrics
                    .list_changes
                    .fetch_add(result.changes.len() as u64, Ordering::Relaxed);
                effects.extend(result.changes.iter().filter_map(list_effect));
            }
        }
        app.metrics
            .messages
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let effects = send_effects(js, effects).await;
        tx.send(Pending {
            effects,
            last: batch.pop(),
            done: None,
        })
        .await
        .map_err(|_| anyhow::anyhow!("acker gone"))?;
        app.check_ready();
        if app.snapshot_due(true) {
            snapshot(app, tx).await?;
        }
    }
    Ok(())
}

/// Re-evaluates every subject under the model of `epoch`, in chunks, publishing the list
/// changes; stops if a newer model comes in (its own re-evaluation takes over). Progress is in
/// the metrics `credence_model_reevaluation_*`.
pub async fn reevaluation(app: Arc<App>, js: jetstream::Context, epoch: u32) {
    let store = app.store.clone();
    let keys = match tokio::task::spawn_blocking(move || store.subject_keys()).await {
        Ok(k) => k,
        Err(_) => return,
    };
    let m = &app.metrics;
    m.reeval_epoch.store(epoch as u64, Ordering::Relaxed);
    m.reeval_total.store(keys.len() as u64, Ordering::Relaxed);
    m.reeval_done.store(0, Ordering::Relaxed);
    let started = std::time::Instant::now();
    let keys = Arc::new(keys);
    let mut published = 0u64;
    for start in (0..keys.len()).step_by(10_000) {
        if app.store.judge().epoch != epoch {
            tracing::info!(epoch, "a newer model took over the re-evaluation");
            return;
        }
        let (store, keys2) = (app.store.clone(), keys.clone());
        let end = (start + 10_000).min(keys.len());
        let changes = match tokio::task::spawn_blocking(move || {
            store.reevaluate(&keys2[start..end], now_us())
        })
        .await
        {
            Ok(c) => c,
            Err(_) => return,
        };
        let effects = send_effects(&js, changes.iter().filter_map(list_effect).collect()).await;
        published += crate::nats::await_stored(&js, effects, &CancellationToken::new())
            .await
            .unwrap_or(0) as u64;
        m.list_changes
            .fetch_add(changes.len() as u64, Ordering::Relaxed);
        m.reeval_done.store(end as u64, Ordering::Relaxed);
    }
    tracing::info!(
        epoch,
        subjects = keys.len(),
        list_changes = published,
        seconds = started.elapsed().as_secs_f64(),
        "model re-evaluation done"
    );
}
