//! Check receipts (contract §4, §5): every check answer carries a receipt chained to the one
//! before it, and the receipts are stored in batches on `credit.audit.receipts.<chain>`
//! without holding up the answer.
//!
//! A chain is one run of one instance (`<instance>-<start ms>`); `seq` counts from 1; `sha256`
//! is SHA-256 of (`prev`, newline, `request_digest`, newline, `answer_json`); a chain's first
//! `prev` is the last `sha256` the instance stored before (64 zeros if none), so an instance's
//! chains form one line. Issuing takes a short mutex (seq and prev must follow the order of
//! issue); one writer task batches lines (up to 1,000 a message, at least every 100 ms).

use std::sync::Mutex;
use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The prefix of receipt subjects.
pub const SUBJECT_PREFIX: &str = "credit.audit.receipts.";
/// The `prev` of an instance's very first receipt.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The most receipts in one stored message.
pub const BATCH: usize = 1000;
/// The longest a receipt waits before it is written.
pub const FLUSH: Duration = Duration::from_millis(100);

/// The receipt carried by an answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Receipt {
    pub chain: String,
    pub seq: u64,
    pub prev: String,
    pub sha256: String,
    pub request_digest: String,
}

/// A stored receipt line.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Line {
    pub chain: String,
    pub seq: u64,
    pub prev: String,
    pub sha256: String,
    pub request_digest: String,
    pub answer_json: String,
}

/// The hash of a receipt.
pub fn receipt_hash(prev: &str, request_digest: &str, answer_json: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(request_digest.as_bytes());
    h.update(b"\n");
    h.update(answer_json.as_bytes());
    hex::encode(h.finalize())
}

struct ChainState {
    seq: u64,
    prev: String,
}

/// The issuer of receipts for this run.
#[derive(Debug)]
pub struct Receipts {
    chain: String,
    state: Mutex<ChainStateDebug>,
    tx: mpsc::Sender<Line>,
}

/// `ChainState` behind a Debug-able wrapper.
struct ChainStateDebug(ChainState);

impl std::fmt::Debug for ChainStateDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq {}", self.0.seq)
    }
}

/// The receipt trail cannot take another receipt now (its queue is full or closed).
#[derive(Debug, thiserror::Error)]
#[error("the receipt trail cannot take another receipt now")]
pub struct ReceiptsUnavailable;

impl Receipts {
    /// A new chain continuing from `prev`, with a queue of `capacity` lines to the writer.
    pub fn new(chain: String, prev: String, capacity: usize) -> (Receipts, mpsc::Receiver<Line>) {
        let (tx, rx) = mpsc::channel(capacity);
        (
            Receipts {
                chain,
                state: Mutex::new(ChainStateDebug(ChainState { seq: 0, prev })),
                tx,
            },
            rx,
        )
    }

    pub fn chain(&self) -> &str {
        &self.chain
    }

    /// Issues the next receipt for an answer and queues its line for storage.
    pub fn issue(
        &self,
        request_digest: String,
        answer_json: &str,
    ) -> Result<Receipt, ReceiptsUnavailable> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let st = &mut st.0;
        let seq = st.seq + 1;
        let sha256 = receipt_hash(&st.prev, &request_digest, answer_json);
        let line = Line {
            chain: self.chain.clone(),
            seq,
            prev: st.prev.clone(),
            sha256: sha256.clone(),
            request_digest: request_digest.clone(),
            answer_json: answer_json.to_owned(),
        };
        // Sent under the lock: the queue's order is the chain's order.
        self.tx.try_send(line).map_err(|_| ReceiptsUnavailable)?;
        let receipt = Receipt {
            chain: self.chain.clone(),
            seq,
            prev: std::mem::replace(&mut st.prev, sha256.clone()),
            sha256,
            request_digest,
        };
        st.seq = seq;
        Ok(receipt)
    }
}

/// The last `sha256` this instance stored, from its receipts in the stream ([`GENESIS`] if none).
pub async fn last_of_instance(js: &jetstream::Context, instance: &str) -> anyhow::Result<String> {
    let lines = read_all(js).await?;
    let prefix = format!("{instance}-");
    let last = lines
        .iter()
        .filter(|l| l.chain.starts_with(&prefix))
        .max_by_key(|l| (chain_start(&l.chain), l.seq))
        .map(|l| l.sha256.clone());
    Ok(last.unwrap_or_else(|| GENESIS.to_owned()))
}

fn chain_start(chain: &str) -> u64 {
    chain
        .rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Every stored receipt line, in stream order.
pub async fn read_all(js: &jetstream::Context) -> anyhow::Result<Vec<Line>> {
    let stream = js
        .get_stream(crate::nats::AUDIT_STREAM)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let info = stream
        .get_info()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = Vec::new();
    if info.state.messages == 0 {
        return Ok(out);
    }
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: format!("{SUBJECT_PREFIX}>"),
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let pending = consumer.cached_info().num_pending;
    let mut msgs = consumer
        .messages()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut seen = 0u64;
    while seen < pending {
        match tokio::time::timeout(Duration::from_secs(5), msgs.next()).await {
            Ok(Some(Ok(m))) => {
                seen += 1;
                for text in m.payload.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    match serde_json::from_slice::<Line>(text) {
                        Ok(l) => out.push(l),
                        Err(e) => anyhow::bail!("a stored receipt line is not valid ({e})"),
                    }
                }
            }
            Ok(Some(Err(e))) => anyhow::bail!("{e}"),
            _ => break,
        }
    }
    Ok(out)
}

/// The writer: every [`FLUSH`] it takes whatever lines are queued and stores them in messages
/// of up to [`BATCH`] lines on `credit.audit.receipts.<chain>`, each stored before the next.
/// It is not woken per receipt: a check only pushes onto the queue (waking a task on another
/// core for every answer cost more than the receipt itself). On `cancel` it stops taking lines
/// and stores every one already queued: a clean shutdown loses none.
pub async fn writer(
    js: jetstream::Context,
    chain: String,
    rx: mpsc::Receiver<Line>,
    cancel: CancellationToken,
) {
    let subject = format!("{SUBJECT_PREFIX}{chain}");
    let mut rounds = crate::nats::Rounds::new(rx, FLUSH, cancel.clone());
    while let Some(lines) = rounds.next().await {
        for batch in lines.chunks(BATCH) {
            let mut payload = Vec::with_capacity(batch.len() * 512);
            for l in batch {
                if let Ok(text) = serde_json::to_vec(l) {
                    payload.extend_from_slice(&text);
                    payload.push(b'\n');
                }
            }
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(
                async_nats::header::NATS_MESSAGE_ID,
                format!("receipts:{chain}:{}", batch[0].seq).as_str(),
            );
            if let Err(e) = crate::nats::publish_acked(
                &js,
                subject.clone(),
                headers,
                Bytes::from(payload),
                &cancel,
            )
            .await
            {
                tracing::error!(error = %e, "receipts could not be stored");
            }
        }
    }
}

/// Verifies receipt lines: every hash recomputed, every `prev` the `sha256` before it, `seq`
/// counting from 1 in each chain, and each instance's chains one line. `Err` names the first
/// break.
pub fn verify(lines: &[Line]) -> Result<VerifySummary, String> {
    use std::collections::BTreeMap;
    // Chains in the order they were stored, per instance in the order they started.
    let mut chains: BTreeMap<String, Vec<&Line>> = BTreeMap::new();
    for l in lines {
        chains.entry(l.chain.clone()).or_default().push(l);
    }
    let mut instances: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for name in chains.keys() {
        let (instance, _) = name.rsplit_once('-').unwrap_or((name.as_str(), ""));
        instances
            .entry(instance.to_owned())
            .or_default()
            .push((chain_start(name), name.clone()));
    }
    let mut receipts = 0;
    for (instance, mut runs) in instances {
        runs.sort();
        let mut prev_of_instance = GENESIS.to_owned();
        for (_, name) in runs {
            let chain = &chains[&name];
            let mut prev = prev_of_instance.clone();
            for (i, l) in chain.iter().enumerate() {
                let want_seq = i as u64 + 1;
                if l.seq != want_seq {
                    return Err(format!("chain {name}: receipt {} found where seq {want_seq} was expected (a receipt removed or reordered)", l.seq));
                }
                if l.prev != prev {
                    return Err(format!("chain {name} seq {}: prev does not match the sha256 before it (instance {instance}: removed, reordered or a chain missing)", l.seq));
                }
                if receipt_hash(&l.prev, &l.request_digest, &l.answer_json) != l.sha256 {
                    return Err(format!(
                        "chain {name} seq {}: sha256 does not match its content (tampered)",
                        l.seq
                    ));
                }
                prev = l.sha256.clone();
                receipts += 1;
            }
            prev_of_instance = prev;
        }
    }
    Ok(VerifySummary {
        chains: chains.len(),
        receipts,
    })
}

/// What a verification covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifySummary {
    pub chains: usize,
    pub receipts: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Line> {
        let (r, mut rx) = Receipts::new("inst-1000".into(), GENESIS.into(), 100);
        for i in 0..n {
            r.issue(
                format!("{i:064x}"),
                &format!("{{\"decision\":\"allow\",\"n\":{i}}}"),
            )
            .unwrap();
        }
        let mut out = Vec::new();
        while let Ok(l) = rx.try_recv() {
            out.push(l);
        }
        out
    }

    #[test]
    fn a_chain_verifies_and_every_break_is_found() {
        let lines = chain(5);
        assert_eq!(
            verify(&lines),
            Ok(VerifySummary {
                chains: 1,
                receipts: 5
            })
        );
        let mut tampered = lines.clone();
        tampered[2].answer_json = "{\"decision\":\"restrict\"}".into();
        assert!(verify(&tampered).unwrap_err().contains("seq 3: sha256"));
        let mut removed = lines.clone();
        removed.remove(1);
        assert!(verify(&removed).unwrap_err().contains("seq 2 was expected"));
        let mut reordered = lines.clone();
        reordered.swap(1, 2);
        assert!(verify(&reordered).is_err());
        // A second run continues the first.
        let last = lines.last().unwrap().sha256.clone();
        let (r, mut rx) = Receipts::new("inst-2000".into(), last, 10);
        r.issue("d".into(), "{}").unwrap();
        let mut both = lines.clone();
        both.push(rx.try_recv().unwrap());
        assert_eq!(verify(&both).unwrap().chains, 2);
        let (r, mut rx) = Receipts::new("inst-3000".into(), GENESIS.into(), 10);
        r.issue("d".into(), "{}").unwrap();
        both.push(rx.try_recv().unwrap());
        assert!(verify(&both).unwrap_err().contains("inst-3000"));
    }
}
