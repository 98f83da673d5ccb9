//! `credence serve`: wires the engine to NATS JetStream and HTTP under one shutdown tree.
//!
//! Tasks (each holds a child of the root cancellation token):
//! - ingestion: the durable consumer → store → DLQ and list changes → ack (`ingest`), with the
//!   time index's timer between batches; restarted from the state's sequence if it fails
//!   (e.g. while the NATS server restarts);
//! - the audit publisher: drains the bounded audit queue to `credit.audit.<role>`;
//! - the lag poller: the stream's last sequence, for `lag`;
//! - the HTTP server, which stops taking requests on shutdown and drains those in flight;
//! - signals: SIGHUP reloads the auth file; SIGTERM and SIGINT cancel the root.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arc_swap::ArcSwap;
use async_nats::jetstream;
use bytes::Bytes;
use clap::Args;
use credence_engine::Store;
use credence_models::Model;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::audit::{AccessLog, AuditKey, AuditRecord, Auditor};
use crate::auth::Auth;
use crate::ingest::{self, IngestSettings};
use crate::nats::{self, NatsOptions, StreamSettings};
use crate::snapshots::SnapshotDir;
use crate::state::{App, Metrics, SnapshotPolicy};

/// `credence serve` options; each also from a `CREDENCE_*` variable.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// NATS server URL.
    #[arg(long, env = "CREDENCE_NATS", default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    /// HTTP listen address (port 0: any free port; the bound address is logged).
    #[arg(long, env = "CREDENCE_HTTP", default_value = "127.0.0.1:8080")]
    pub http: SocketAddr,
    /// Data directory: audit key, instance id, snapshots.
    #[arg(long, env = "CREDENCE_DATA", default_value = "credence-data")]
    pub data: PathBuf,
    /// Model directory for a first start (default: the bundled baoan model).
    #[arg(long, env = "CREDENCE_MODEL")]
    pub model: Option<PathBuf>,
    /// Auth file (TOML); none: public access only.
    #[arg(long, env = "CREDENCE_AUTH")]
    pub auth: Option<PathBuf>,
    /// NATS credentials file.
    #[arg(long, env = "CREDENCE_NATS_CREDS")]
    pub nats_creds: Option<PathBuf>,
    /// CA certificate for NATS TLS.
    #[arg(long, env = "CREDENCE_NATS_TLS_CA")]
    pub nats_tls_ca: Option<PathBuf>,
    /// Client certificate for NATS TLS.
    #[arg(long, env = "CREDENCE_NATS_TLS_CERT", requires = "nats_tls_key")]
    pub nats_tls_cert: Option<PathBuf>,
    /// Client key for NATS TLS.
    #[arg(long, env = "CREDENCE_NATS_TLS_KEY", requires = "nats_tls_cert")]
    pub nats_tls_key: Option<PathBuf>,
    /// Audit key file (64 hex digits); default `<data>/audit.key`, made at first start.
    #[arg(long, env = "CREDENCE_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// Most messages applied per batch before effects are published and the batch acked.
    #[arg(long, env = "CREDENCE_BATCH", default_value_t = 1000)]
    pub batch: usize,
    /// Dedupe window of CREDIT_EVENTS in seconds (when the engine creates it).
    #[arg(long, env = "CREDENCE_EVENTS_DEDUPE_SECS", default_value_t = 120)]
    pub events_dedupe_secs: u64,
    /// Dedupe window of CREDIT_LISTS and CREDIT_DLQ in seconds (longer than the snapshot interval).
    #[arg(long, env = "CREDENCE_OUTPUTS_DEDUPE_SECS", default_value_t = 3600)]
    pub outputs_dedupe_secs: u64,
    /// Audit queue capacity: a read is refused when its record cannot be queued.
    #[arg(long, env = "CREDENCE_AUDIT_QUEUE", default_value_t = 65_536)]
    pub audit_queue: usize,
    /// Requests answered at once; beyond it: 429 overloaded.
    #[arg(long, env = "CREDENCE_MAX_INFLIGHT", default_value_t = 4096)]
    pub max_inflight: usize,
    /// Snapshot after this many applied messages.
    #[arg(long, env = "CREDENCE_SNAPSHOT_EVERY", default_value_t = 1_000_000)]
    pub snapshot_every: u64,
    /// Snapshot at least this often (seconds) while the state moves.
    #[arg(long, env = "CREDENCE_SNAPSHOT_INTERVAL_SECS", default_value_t = 300)]
    pub snapshot_interval_secs: u64,
    /// How long to keep trying to reach NATS at start-up, in seconds.
    #[arg(long, env = "CREDENCE_NATS_WAIT_SECS", default_value_t = 30)]
    pub nats_wait_secs: u64,
}

/// The instance id kept in `<data>/instance` (made at first start).
pub fn instance_id(data: &std::path::Path) -> anyhow::Result<String> {
    let path = data.join("instance");
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => {
            let id = format!("{:016x}", rand::random::<u64>());
            std::fs::write(&path, &id).with_context(|| format!("writing {}", path.display()))?;
            Ok(id)
        }
    }
}

/// Runs the service until SIGTERM/SIGINT (or a fatal error).
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    start(args).await?.wait().await
}

/// A running service: its shared state, where it listens, and its tasks.
pub struct Running {
    pub app: Arc<App>,
    /// The bound HTTP address.
    pub http: SocketAddr,
    /// Cancelling it shuts the service down (drain, final snapshot).
    pub root: CancellationToken,
    tasks: tokio::task::JoinSet<&'static str>,
    client: async_nats::Client,
}

impl Running {
    /// Waits until the service stops (a signal, `root` cancelled, or a task ending).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        drop(self.app);
        while let Some(done) = self.tasks.join_next().await {
            if let Ok(name) = done {
                tracing::debug!(task = name, "task ended");
            }
            // Any task ending ends the service.
            self.root.cancel();
        }
        // Bounded: with the server gone a flush would wait for it forever.
        let _ = tokio::time::timeout(Duration::from_secs(2), self.client.flush()).await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Starts the service: restores, connects, spawns its tasks, binds HTTP; returns at once.
pub async fn start(args: ServeArgs) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("creating {}", args.data.display()))?;
    let (key_path, create) = match &args.audit_key_file {
        Some(p) => (p.clone(), false),
        None => (args.data.join("audit.key"), true),
    };
    let audit_key = AuditKey::load_or_create(&key_path, create)?;
    let instance = instance_id(&args.data)?;
    let auth = match &args.auth {
        Some(p) => Auth::load(p)?,
        None => Auth::none(),
    };
    let model = match &args.model {
        Some(dir) => credence_models::load_dir(dir).map_err(|e| {
            let problems: Vec<String> = e.problems().iter().map(ToString::to_string).collect();
            anyhow::anyhow!("model {}: {e}: {}", dir.display(), problems.join("; "))
        })?,
        None => credence_models::bundled(),
    };
    tracing::info!(instance = %instance, model = %model.name, version = %model.version, "starting");

    let nats_opts = NatsOptions {
        url: args.nats.clone(),
        creds: args.nats_creds.clone(),
        tls_ca: args.nats_tls_ca.clone(),
        tls_cert: args.nats_tls_cert.clone(),
        tls_key: args.nats_tls_key.clone(),
        name: format!("credence-{instance}"),
    };
    let client = nats::connect(&nats_opts, Duration::from_secs(args.nats_wait_secs)).await?;
    let js = jetstream::new(client.clone());
    let settings = StreamSettings {
        events_dedupe: Duration::from_secs(args.events_dedupe_secs),
        outputs_dedupe: Duration::from_secs(args.outputs_dedupe_secs),
    };
    let mut events = nats::ensure_streams(&js, settings).await?;

    let snapshots = SnapshotDir::new(&args.data)?;
    let stream_last = nats::last_seq(&mut events).await?;
    let restored = snapshots.restore();
    if let Some(r) = &restored {
        let seq = r.store.last_seq();
        if seq > stream_last {
            anyhow::bail!(
                "the snapshot {} is at sequence {seq}, ahead of CREDIT_EVENTS' last sequence {stream_last}: \
                 the stream lost data; refusing to start (restore the stream, or move the snapshots away to rebuild from what the stream holds)",
                r.path.display()
            );
        }
        tracing::info!(seq, subjects = r.store.subject_count(), seconds = r.seconds, file = %r.path.display(), tail = stream_last - seq, "restored snapshot; replaying the tail");
    } else if !snapshots.list().is_empty() {
        tracing::warn!(
            "no snapshot checks out: rebuilding the state by a full replay of the stream"
        );
    }

    // The model is part of the log: the first control event judges everything before it.
    let first = nats::first_control_event(&events).await?;
    let initial = match first {
        Some((seq, json)) => {
            let first = Model::from_json(&json).map_err(|e| {
                anyhow::anyhow!("the first control event (seq {seq}) holds no valid model: {e}")
            })?;
            if first.content_hash != model.content_hash && restored.is_none() {
                tracing::warn!(stream_model = %first.version, given = %model.version, "--model differs from the stream's model and is ignored; models change through PUT /v1/model");
            }
            first
        }
        None => {
            let seq = nats::publish_model(&js, &model).await?;
            tracing::info!(
                seq,
                "published the model as the stream's first control event"
            );
            model
        }
    };
    let ready_at_seq = nats::last_seq(&mut events).await?;
    let (store, pending) = match restored {
        Some(r) => (Arc::new(r.store), r.pending),
        None => {
            // Room for the subjects the stream is likely to hold (about four events each), so
            // that the map does not rehash while catching up.
            let expected = (events.cached_info().state.messages / 4).min(16_000_000) as usize;
            (
                Arc::new(Store::with_capacity(Arc::new(initial), expected)),
                Vec::new(),
            )
        }
    };
    // List changes a snapshot held as not yet published: published now (same message ids).
    for c in &pending {
        if let Some((subject, headers, payload)) = ingest::list_change_message(c) {
            nats::publish_acked(&js, subject, headers, payload, &CancellationToken::new()).await?;
        }
    }
    let chain = format!("{instance}-{}", crate::demo::now_us() / 1000);
    let prev = crate::receipts::last_of_instance(&js, &instance).await?;
    let (receipts, receipt_rx) =
        crate::receipts::Receipts::new(chain.clone(), prev, args.audit_queue.max(1));
    tracing::info!(chain = %chain, "check receipts chain started");
    let (auditor, audit_rx) = Auditor::new(audit_key, args.audit_queue.max(1));
    let app = Arc::new(App {
        store: store.clone(),
        js: Some(js.clone()),
        ready: AtomicBool::new(false),
        ready_at_seq,
        stream_last_seq: AtomicU64::new(ready_at_seq),
        auth: ArcSwap::from_pointee(auth),
        auditor,
        receipts: Arc::new(receipts),
        access: AccessLog::default(),
        inflight: tokio::sync::Semaphore::new(args.max_inflight.max(1)),
        metrics: Metrics::default(),
        snapshots: Some(snapshots),
        snapshot_policy: SnapshotPolicy {
            every_messages: args.snapshot_every.max(1),
            interval: Duration::from_secs(args.snapshot_interval_secs.max(1)),
        },
        last_snapshot_seq: AtomicU64::new(store.last_seq()),
        last_snapshot_at: AtomicU64::new(crate::demo::now_us().max(0) as u64),
    });
    app.check_ready();

    let root = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();

    // Ingestion, restarted from the state's sequence whenever it fails.
    {
        let (app, cancel, events) = (app.clone(), root.child_token(), events.clone());
        let ingest_settings = IngestSettings {
            batch: args.batch.clamp(1, 100_000),
            max_ack_pending: 100_000,
        };
        let name = format!("credence-{instance}");
        tasks.spawn(async move {
            while !cancel.is_cancelled() {
                let from = app.store.last_seq() + 1;
                let result = match ingest::consumer(&events, &name, from, ingest_settings).await {
                    Ok(consumer) => ingest::run(app.clone(), consumer, ingest_settings, cancel.clone()).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    if cancel.is_cancelled() {
                        break;
                    }
                    tracing::warn!(error = %e, "ingestion stopped; resuming from the state's sequence");
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            }
            "ingestion"
        });
    }
    // The audit publisher: drains the queue until every sender is gone, so nothing queued is lost.
    {
        let js = js.clone();
        let cancel = root.child_token();
        tasks.spawn(async move {
            audit_publisher(js, audit_rx, cancel).await;
            "audit"
        });
    }
    // NATS request-reply, and the access log's reader of CREDIT_AUDIT.
    {
        let (app, cancel, client) = (app.clone(), root.child_token(), client.clone());
        tasks.spawn(async move {
            if let Err(e) = crate::reqrep::run(app, client, cancel).await {
                tracing::error!(error = %e, "NATS request-reply stopped");
            }
            "request-reply"
        });
    }
    {
        let (app, cancel) = (app.clone(), root.child_token());
        tasks.spawn(async move {
            crate::reqrep::access_log_reader(app, cancel).await;
            "access-log"
        });
    }
    // The receipts writer: stores every receipt queued, also on shutdown.
    {
        let (js, cancel) = (js.clone(), root.child_token());
        tasks.spawn(async move {
            crate::receipts::writer(js, chain, receipt_rx, cancel).await;
            "receipts"
        });
    }
    // The lag poller.
    {
        let (app, cancel, mut events) = (app.clone(), root.child_token(), events.clone());
        tasks.spawn(async move {
            loop {
                tokio::select! {
                    biased;
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {
                        if let Ok(seq) = nats::last_seq(&mut events).await {
                            app.stream_last_seq.store(seq, Ordering::Relaxed);
                        }
                    }
                }
            }
            "lag"
        });
    }
    // HTTP.
    let listener = tokio::net::TcpListener::bind(args.http)
        .await
        .with_context(|| format!("binding {}", args.http))?;
    let bound = listener.local_addr()?;
    // Always on stdout, whatever the log level: scripts and tests read the bound port here.
    println!("credence: http listening on {bound}");
    tracing::info!(addr = %bound, "http listening");
    {
        let cancel = root.child_token();
        let router = crate::http::router(app.clone());
        // TCP_NODELAY: an answer is written as soon as it is ready; with Nagle a response that
        // leaves in two segments waits for the client's ACK (+50 us a check on loopback).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tasks.spawn(async move {
            let shutdown = async move { cancel.cancelled().await };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "http server failed");
            }
            "http"
        });
    }
    // Signals.
    {
        let (app, root, auth_path) = (app.clone(), root.clone(), args.auth.clone());
        tasks.spawn(async move {
            let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            loop {
                tokio::select! {
                    _ = root.cancelled() => break,
                    _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                        tracing::info!("SIGTERM: draining");
                        root.cancel();
                        break;
                    }
                    _ = tokio::signal::ctrl_c() => {
                        tracing::info!("SIGINT: draining");
                        root.cancel();
                        break;
                    }
                    _ = async { match hup.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                        match &auth_path {
                            Some(p) => match Auth::load(p) {
                                Ok(a) => {
                                    tracing::info!(tokens = a.len(), "SIGHUP: auth file reloaded");
                                    app.auth.store(Arc::new(a));
                                }
                                Err(e) => tracing::error!(error = %e, "SIGHUP: auth file not reloaded; the previous one stays"),
                            },
                            None => tracing::info!("SIGHUP: no auth file to reload"),
                        }
                    }
                }
            }
            "signals"
        });
    }
    Ok(Running {
        app,
        http: bound,
        root,
        tasks,
        client,
    })
}

/// Drains the audit queue every 10 ms (not woken per record: a read only pushes onto the
/// queue), publishing each record to `credit.audit.<role>` with all of a round in flight at
/// once, any that failed published again until stored. On `cancel` it stops taking records and
/// stores every one queued.
async fn audit_publisher(
    js: jetstream::Context,
    rx: mpsc::Receiver<AuditRecord>,
    cancel: CancellationToken,
) {
    let mut rounds = nats::Rounds::new(rx, Duration::from_millis(10), cancel.clone());
    while let Some(records) = rounds.next().await {
        for chunk in records.chunks(4096) {
            let round = chunk
                .iter()
                .map(|rec| nats::Pub {
                    subject: format!("credit.audit.{}", rec.role),
                    headers: Default::default(),
                    payload: Bytes::from(serde_json::to_vec(rec).unwrap_or_default()),
                })
                .collect();
            let sent = nats::send(&js, round).await;
            if let Err(e) = nats::await_stored(&js, sent, &cancel).await {
                tracing::error!(error = %e, "audit records could not be stored");
            }
        }
    }
}
