//! NATS JetStream at the edge: connecting (credentials, TLS), the four streams, the model
//! control event at the head of an empty stream, and publishing with a message id.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::{self, stream};
use async_nats::HeaderMap;
use bytes::Bytes;
use credence_engine::event::CONTROL_SUBJECT;
use credence_models::Model;
use futures::StreamExt;

pub const EVENTS_STREAM: &str = "CREDIT_EVENTS";
pub const DLQ_STREAM: &str = "CREDIT_DLQ";
pub const LISTS_STREAM: &str = "CREDIT_LISTS";
pub const AUDIT_STREAM: &str = "CREDIT_AUDIT";

/// How to reach NATS.
#[derive(Clone, Debug, Default)]
pub struct NatsOptions {
    pub url: String,
    pub creds: Option<PathBuf>,
    pub tls_ca: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Name shown in the server's connection list.
    pub name: String,
}

/// Connects, retrying until `deadline` passes; the client itself reconnects afterwards.
pub async fn connect(opts: &NatsOptions, deadline: Duration) -> anyhow::Result<async_nats::Client> {
    let started = std::time::Instant::now();
    loop {
        let mut o = async_nats::ConnectOptions::new()
            .name(&opts.name)
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2));
        if let Some(creds) = &opts.creds {
            o = o
                .credentials_file(creds)
                .await
                .with_context(|| format!("reading {}", creds.display()))?;
        }
        if let Some(ca) = &opts.tls_ca {
            o = o.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let (Some(cert), Some(key)) = (&opts.tls_cert, &opts.tls_key) {
            o = o
                .add_client_certificate(cert.clone(), key.clone())
                .require_tls(true);
        }
        // retry_on_initial_connect makes connect return at once; wait for the connection.
        let o = o.event_callback(|_| async {});
        match tokio::time::timeout(Duration::from_secs(3), o.connect(&opts.url)).await {
            Ok(Ok(client)) => {
                let mut waited = 0;
                while client.connection_state() != async_nats::connection::State::Connected
                    && waited < 100
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    waited += 1;
                }
                if client.connection_state() == async_nats::connection::State::Connected {
                    return Ok(client);
                }
            }
            Ok(Err(e)) if started.elapsed() >= deadline => return Err(e.into()),
            _ if started.elapsed() >= deadline => {
                anyhow::bail!("could not reach NATS at {} within {deadline:?}", opts.url)
            }
            _ => {}
        }
        if started.elapsed() >= deadline {
            anyhow::bail!("could not reach NATS at {} within {deadline:?}", opts.url);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Stream settings chosen by the operator.
#[derive(Clone, Copy, Debug)]
pub struct StreamSettings {
    /// `CREDIT_EVENTS`' dedupe window for `Nats-Msg-Id`.
    pub events_dedupe: Duration,
    /// `CREDIT_LISTS` and `CREDIT_DLQ`'s dedupe window: longer than the snapshot interval, so
    /// that what a crash makes the engine publish again is dropped as a duplicate.
    pub outputs_dedupe: Duration,
}

/// Creates the four streams when absent (an existing stream is used as it is).
pub async fn ensure_streams(
    js: &jetstream::Context,
    s: StreamSettings,
) -> anyhow::Result<stream::Stream> {
    let cfg = |name: &str, subjects: &str, window: Duration| stream::Config {
        name: name.to_owned(),
        subjects: vec![subjects.to_owned()],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        duplicate_window: window,
        allow_direct: true,
        ..Default::default()
    };
    let events = js
        .get_or_create_stream(cfg(EVENTS_STREAM, "credit.events.>", s.events_dedupe))
        .await
        .map_err(|e| anyhow::anyhow!("stream {EVENTS_STREAM}: {e}"))?;
    for (name, subjects) in [
        (DLQ_STREAM, "credit.dlq.>"),
        (LISTS_STREAM, "credit.lists.>"),
    ] {
        js.get_or_create_stream(cfg(name, subjects, s.outputs_dedupe))
            .await
            .map_err(|e| anyhow::anyhow!("stream {name}: {e}"))?;
    }
    js.get_or_create_stream(cfg(
        AUDIT_STREAM,
        "credit.audit.>",
        Duration::from_secs(120),
    ))
    .await
    .map_err(|e| anyhow::anyhow!("stream {AUDIT_STREAM}: {e}"))?;
    Ok(events)
}

/// The stream's last sequence now.
pub async fn last_seq(stream: &mut stream::Stream) -> anyhow::Result<u64> {
    Ok(stream
        .info()
        .await
        .map_err(|e| anyhow::anyhow!("stream info: {e}"))?
        .state
        .last_sequence)
}

/// How long a shutdown keeps trying to store what is still queued while NATS is away.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Publishes and waits for JetStream's acknowledgement, retrying while the server is away.
pub async fn publish_acked(
    js: &jetstream::Context,
    subject: String,
    headers: HeaderMap,
    payload: Bytes,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<()> {
    let mut delay = Duration::from_millis(50);
    // While running, retry for as long as it takes (the server restarts, the publish goes
    // through). Once shutting down, keep trying for SHUTDOWN_GRACE, then give up and say so:
    // a shutdown must end even with the server gone.
    let mut give_up: Option<std::time::Instant> = None;
    loop {
        let attempt = async {
            js.publish_with_headers(subject.clone(), headers.clone(), payload.clone())
                .await
                .map_err(anyhow::Error::from)?
                .await
                .map_err(anyhow::Error::from)
        };
        match tokio::time::timeout(Duration::from_secs(5), attempt).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, subject = %subject.split('.').take(3).collect::<Vec<_>>().join("."), "publish failed; retrying")
            }
            Err(_) => tracing::warn!("publish timed out; retrying"),
        }
        if cancel.is_cancelled() {
            let deadline =
                *give_up.get_or_insert_with(|| std::time::Instant::now() + SHUTDOWN_GRACE);
            if std::time::Instant::now() >= deadline {
                anyhow::bail!("shutting down with a publish to {subject} not acknowledged");
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// The first model control event in the stream, if any: (sequence, model JSON).
pub async fn first_control_event(
    stream: &stream::Stream,
) -> anyhow::Result<Option<(u64, Vec<u8>)>> {
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: CONTROL_SUBJECT.to_owned(),
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("reading control events: {e}"))?;
    let info = stream
        .get_info()
        .await
        .map_err(|e| anyhow::anyhow!("stream info: {e}"))?;
    if info.state.messages == 0 {
        return Ok(None);
    }
    let mut msgs = consumer
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("reading control events: {e}"))?;
    match tokio::time::timeout(Duration::from_secs(2), msgs.next()).await {
        Ok(Some(Ok(m))) => {
            let seq = m.info().map(|i| i.stream_sequence).unwrap_or(0);
            Ok(Some((seq, m.payload.to_vec())))
        }
        Ok(Some(Err(e))) => Err(anyhow::anyhow!("reading control events: {e}")),
        // No control event at all (only producers' events so far).
        _ => Ok(None),
    }
}

/// Publishes `model` as a control event (`Nats-Msg-Id: model:<content_hash>`).
pub async fn publish_model(js: &jetstream::Context, model: &Model) -> anyhow::Result<u64> {
    let mut headers = HeaderMap::new();
    headers.insert(
        async_nats::header::NATS_MESSAGE_ID,
        format!("model:{}", model.content_hash).as_str(),
    );
    let ack = js
        .publish_with_headers(
            CONTROL_SUBJECT,
            headers,
            Bytes::from(model.canonical_json()),
        )
        .await
        .map_err(|e| anyhow::anyhow!("publishing the model: {e}"))?
        .await
        .map_err(|e| anyhow::anyhow!("publishing the model: {e}"))?;
    Ok(ack.sequence)
}

/// `credence model push`: connects, makes sure `CREDIT_EVENTS` exists, publishes the model.
pub async fn push_model(url: &str, creds: Option<PathBuf>, model: &Model) -> anyhow::Result<u64> {
    let opts = NatsOptions {
        url: url.to_owned(),
        creds,
        name: "credence-model-push".into(),
        ..Default::default()
    };
    let client = connect(&opts, Duration::from_secs(10)).await?;
    let js = jetstream::new(client.clone());
    ensure_streams(
        &js,
        StreamSettings {
            events_dedupe: Duration::from_secs(120),
            outputs_dedupe: Duration::from_secs(3600),
        },
    )
    .await?;
    let seq = publish_model(&js, model).await?;
    client.flush().await.ok();
    Ok(seq)
}

/// A message to publish to JetStream.
#[derive(Clone, Debug)]
pub struct Pub {
    pub subject: String,
    pub headers: HeaderMap,
    pub payload: Bytes,
}

/// Published messages with their acknowledgements still to come.
pub type Sent = Vec<(
    Option<async_nats::jetstream::context::PublishAckFuture>,
    Pub,
)>;

/// Publishes every message without waiting for JetStream's acknowledgements.
pub async fn send(js: &jetstream::Context, msgs: Vec<Pub>) -> Sent {
    let mut out = Vec::with_capacity(msgs.len());
    for m in msgs {
        let ack = js
            .publish_with_headers(m.subject.clone(), m.headers.clone(), m.payload.clone())
            .await
            .ok();
        out.push((ack, m));
    }
    out
}

/// Waits until JetStream has stored every message sent, publishing again (same headers, so the
/// same `Nats-Msg-Id`) any whose acknowledgement failed. Returns how many were stored.
pub async fn await_stored(
    js: &jetstream::Context,
    sent: Sent,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<usize> {
    let n = sent.len();
    for (ack, m) in sent {
        let stored = match ack {
            Some(a) => matches!(
                tokio::time::timeout(Duration::from_secs(5), a).await,
                Ok(Ok(_))
            ),
            None => false,
        };
        if !stored {
            publish_acked(js, m.subject, m.headers, m.payload, cancel).await?;
        }
    }
    Ok(n)
}

/// A bounded queue drained in rounds on a timer, not woken per item (waking a task on the
/// other core for every check cost more than the work): the receipts writer and the audit
/// publisher. On `cancel` the queue is closed and what it still holds is handed out.
pub struct Rounds<T> {
    rx: tokio::sync::mpsc::Receiver<T>,
    tick: tokio::time::Interval,
    cancel: tokio_util::sync::CancellationToken,
    closing: bool,
}

impl<T> Rounds<T> {
    pub fn new(
        rx: tokio::sync::mpsc::Receiver<T>,
        period: Duration,
        cancel: tokio_util::sync::CancellationToken,
    ) -> Rounds<T> {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Rounds {
            rx,
            tick,
            cancel,
            closing: false,
        }
    }

    /// Waits for the next round and returns everything queued (possibly nothing); `None` once
    /// shut down and drained.
    pub async fn next(&mut self) -> Option<Vec<T>> {
        if self.closing && self.rx.is_empty() {
            return None;
        }
        tokio::select! {
            biased;
            _ = self.cancel.cancelled(), if !self.closing => {
                self.rx.close();
                self.closing = true;
            }
            _ = self.tick.tick() => {}
        }
        let mut out = Vec::new();
        while let Ok(item) = self.rx.try_recv() {
            out.push(item);
        }
        Some(out)
    }
}
