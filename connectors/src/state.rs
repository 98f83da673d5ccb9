//! The service's shared state: the store, the JetStream context, readiness, the auth table
//! (swapped whole on SIGHUP), the audit queue and the metrics.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use async_nats::jetstream;
use credence_engine::Store;
use hdrhistogram::Histogram;

use crate::audit::{AccessLog, Auditor};
use crate::auth::Auth;
use crate::snapshots::SnapshotDir;

/// Metric names, as constants (no personal identifier ever goes into a label).
pub mod names {
    pub const EVENTS_APPLIED: &str = "credence_events_applied_total";
    pub const EVENTS_DUPLICATE: &str = "credence_events_duplicate_total";
    pub const EVENTS_REJECTED: &str = "credence_events_rejected_total";
    pub const MESSAGES: &str = "credence_messages_consumed_total";
    pub const LIST_CHANGES: &str = "credence_list_changes_total";
    pub const LAST_SEQ: &str = "credence_last_seq";
    pub const LAG: &str = "credence_lag";
    pub const SUBJECTS: &str = "credence_subjects";
    pub const RECORDS_IN_EFFECT: &str = "credence_records_in_effect";
    pub const READY: &str = "credence_ready";
    pub const HTTP_REQUESTS: &str = "credence_http_requests_total";
    pub const CHECK_LATENCY: &str = "credence_check_latency_seconds";
    pub const AUDIT_RECORDS: &str = "credence_audit_records_total";
    pub const SNAPSHOT_SEQ: &str = "credence_snapshot_seq";
    pub const SNAPSHOT_AGE: &str = "credence_snapshot_age_seconds";
    pub const ACCESS_RECORDS: &str = "credence_access_log_records";
    pub const LIST_MEMBERS: &str = "credence_list_members";
    pub const NATS_REQUESTS: &str = "credence_nats_requests_total";
    pub const REEVAL_EPOCH: &str = "credence_model_reevaluation_epoch";
    pub const REEVAL_TOTAL: &str = "credence_model_reevaluation_subjects";
    pub const REEVAL_DONE: &str = "credence_model_reevaluation_done";
}

/// Process metrics (the state's own counters live in the store).
#[derive(Debug)]
pub struct Metrics {
    pub messages: AtomicU64,
    pub list_changes: AtomicU64,
    pub audit_records: AtomicU64,
    pub nats_requests: AtomicU64,
    /// The re-evaluation after a model swap: its epoch, subjects to do, subjects done.
    pub reeval_epoch: AtomicU64,
    pub reeval_total: AtomicU64,
    pub reeval_done: AtomicU64,
    /// Requests by (route, status).
    pub http: Mutex<std::collections::BTreeMap<(&'static str, u16), u64>>,
    /// Check latency in microseconds.
    pub check_us: Mutex<Histogram<u64>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            messages: AtomicU64::new(0),
            list_changes: AtomicU64::new(0),
            audit_records: AtomicU64::new(0),
            nats_requests: AtomicU64::new(0),
            reeval_epoch: AtomicU64::new(0),
            reeval_total: AtomicU64::new(0),
            reeval_done: AtomicU64::new(0),
            http: Mutex::new(Default::default()),
            check_us: Mutex::new(
                Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
            ),
        }
    }
}

impl Metrics {
    pub fn count_http(&self, route: &'static str, status: u16) {
        let mut m = self.http.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((route, status)).or_insert(0) += 1;
    }

    pub fn observe_check(&self, micros: u64) {
        let mut h = self.check_us.lock().unwrap_or_else(|e| e.into_inner());
        let _ = h.record(micros.max(1));
    }
}

/// Everything the tasks share.
pub struct App {
    pub store: Arc<Store>,
    /// JetStream (`None` only in the in-process demo, which has no NATS).
    pub js: Option<jetstream::Context>,
    /// Set once the state is restored and the stream read up to `ready_at_seq`.
    pub ready: AtomicBool,
    /// The stream's last sequence as of start-up.
    pub ready_at_seq: u64,
    /// The stream's last sequence, refreshed in the background (for `lag`).
    pub stream_last_seq: AtomicU64,
    pub auth: ArcSwap<Auth>,
    pub auditor: Auditor,
    /// The issuer of check receipts.
    pub receipts: Arc<crate::receipts::Receipts>,
    /// Who read each natural person's data (from `CREDIT_AUDIT`).
    pub access: AccessLog,
    /// Requests being answered; none left: 429 `overloaded` rather than a growing queue.
    pub inflight: tokio::sync::Semaphore,
    pub metrics: Metrics,
    /// Where snapshots go (`None`: never written).
    pub snapshots: Option<SnapshotDir>,
    pub snapshot_policy: SnapshotPolicy,
    /// Sequence and time (µs) of the last snapshot written or restored.
    pub last_snapshot_seq: AtomicU64,
    pub last_snapshot_at: AtomicU64,
}

/// When to snapshot: after so many applied messages, or after so long if anything changed.
#[derive(Clone, Copy, Debug)]
pub struct SnapshotPolicy {
    pub every_messages: u64,
    pub interval: std::time::Duration,
}

impl App {
    /// The state of the in-process demo: no NATS; audit records go straight into the access
    /// log. Ready is set by the caller once its preload is applied.
    pub fn in_process(store: Arc<Store>, auth: Auth) -> Arc<App> {
        let key = crate::audit::AuditKey::random();
        let (auditor, mut rx) = Auditor::new(key, 65_536);
        // The in-process demo keeps no receipts: they are issued, chained and dropped.
        let chain = format!("demo-{}", crate::demo::now_us() / 1000);
        let (receipts, mut lines) =
            crate::receipts::Receipts::new(chain, crate::receipts::GENESIS.to_owned(), 65_536);
        tokio::spawn(async move { while lines.recv().await.is_some() {} });
        let app = Arc::new(App {
            store,
            js: None,
            ready: AtomicBool::new(false),
            ready_at_seq: 0,
            stream_last_seq: AtomicU64::new(0),
            auth: ArcSwap::from_pointee(auth),
            auditor,
            receipts: Arc::new(receipts),
            access: AccessLog::default(),
            inflight: tokio::sync::Semaphore::new(4096),
            metrics: Metrics::default(),
            snapshots: None,
            snapshot_policy: SnapshotPolicy {
                every_messages: u64::MAX,
                interval: std::time::Duration::from_secs(3600),
            },
            last_snapshot_seq: AtomicU64::new(0),
            last_snapshot_at: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&app);
        tokio::spawn(async move {
            while let Some(rec) = rx.recv().await {
                let Some(app) = weak.upgrade() else { break };
                if let Ok(bytes) = serde_json::to_vec(&rec) {
                    app.access.ingest(&bytes);
                }
            }
        });
        app
    }

    /// Marks the service ready once the store has caught up with the start-up sequence.
    pub fn check_ready(&self) {
        if !self.ready.load(Ordering::Acquire) && self.store.last_seq() >= self.ready_at_seq {
            self.ready.store(true, Ordering::Release);
            tracing::info!(
                last_seq = self.store.last_seq(),
                subjects = self.store.subject_count(),
                "caught up: ready"
            );
        }
    }

    /// Records that a snapshot at `seq` is on disk.
    pub fn note_snapshot(&self, seq: u64) {
        self.last_snapshot_seq.store(seq, Ordering::Relaxed);
        self.last_snapshot_at
            .store(crate::demo::now_us().max(0) as u64, Ordering::Relaxed);
    }

    /// Whether a snapshot is due: `by_count` checks the message count, otherwise the interval
    /// (only once caught up, and only if the state moved).
    pub fn snapshot_due(&self, by_count: bool) -> bool {
        if self.snapshots.is_none() || !self.ready.load(Ordering::Acquire) {
            return false;
        }
        let since = self
            .store
            .last_seq()
            .saturating_sub(self.last_snapshot_seq.load(Ordering::Relaxed));
        if since == 0 {
            return false;
        }
        if by_count {
            return since >= self.snapshot_policy.every_messages;
        }
        let age_us = (crate::demo::now_us().max(0) as u64)
            .saturating_sub(self.last_snapshot_at.load(Ordering::Relaxed));
        age_us >= self.snapshot_policy.interval.as_micros() as u64
    }

    /// Messages in the stream not yet applied.
    pub fn lag(&self) -> u64 {
        self.stream_last_seq
            .load(Ordering::Relaxed)
            .saturating_sub(self.store.last_seq())
    }
}
