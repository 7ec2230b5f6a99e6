//! The proxy's audit rows, written off the request path: a proxied call
//! hands its row to [`AuditWriter::record`] and answers the app at once; one
//! background task takes the rows waiting and writes them in one statement
//! ([`zaffre_store::AuditStore::record_proxy_calls`]). Under load that is one
//! database write per batch instead of one per call.
//!
//! Rows are never dropped silently:
//! - **Back-pressure.** At most [`QUEUE_ROWS`] rows wait. When the queue is
//!   full, `record` waits for room, so a database slower than the traffic
//!   slows the proxy down instead of losing its log.
//! - **Shutdown.** [`crate::serve`] calls [`AuditWriter::close`] once the
//!   last in-flight request has finished: every queued row is written before
//!   the server returns. A row recorded after that is written directly.
//! - **Failures.** A batch the store refuses is retried row by row, so one
//!   bad row cannot take others with it; a row that still fails is logged
//!   (ids, host and status, never a value: rows carry none) at error level.
//!
//! Reads see every row recorded on this node before them: the audit log's
//! handlers call [`AuditWriter::flush`] first. Rows recorded on other nodes
//! show once their writers have written them, normally within milliseconds.
//!
//! The task is started by the first `record` or `flush`, inside the runtime
//! that serves requests, and ends when [`AuditWriter::close`] is called or
//! every clone of the writer is dropped.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, oneshot};
use zaffre_domain::AccountId;
use zaffre_store::{DynStore, NewProxyAudit};

/// Rows that may wait for the writer; past this, `record` waits for room.
pub const QUEUE_ROWS: usize = 4096;
/// Rows taken from the queue for one write at most.
const BATCH_ROWS: usize = 512;

// Rows are nearly every message: boxing them would cost an allocation per call to shrink the rare flush.
#[allow(clippy::large_enum_variant)]
enum Message {
    Row(AccountId, NewProxyAudit),
    /// Answered once every row queued before it is written (or logged as failed).
    Flush(oneshot::Sender<()>),
}

/// The handle every request uses; cheap to clone.
#[derive(Clone)]
pub struct AuditWriter {
    store: DynStore,
    /// The queue into the writer task; `None` until first used, and again
    /// after [`AuditWriter::close`].
    queue: Arc<Mutex<Slot>>,
}

#[derive(Default)]
struct Slot {
    sender: Option<mpsc::Sender<Message>>,
    closed: bool,
}

impl AuditWriter {
    /// A writer into `store`; its task starts on first use.
    pub fn new(store: DynStore) -> Self {
        AuditWriter {
            store,
            queue: Arc::default(),
        }
    }

    /// Queues a row, waiting while the queue is full.
    pub async fn record(&self, account: AccountId, row: NewProxyAudit) {
        let Some(sender) = self.sender() else {
            // Closed (the server is shutting down): nothing would write it later, so write it now.
            write_rows(&self.store, vec![(account, row)]).await;
            return;
        };
        if let Err(mpsc::error::SendError(Message::Row(account, row))) =
            sender.send(Message::Row(account, row)).await
        {
            write_rows(&self.store, vec![(account, row)]).await;
        }
    }

    /// Waits until every row recorded before the call is written.
    pub async fn flush(&self) {
        let Some(sender) = self.sender() else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if sender.send(Message::Flush(done)).await.is_ok() {
            // The task answers every flush it takes; if it is gone, its rows went with the runtime.
            let _ = wait.await;
        }
    }

    /// Writes every queued row and stops the task; later rows are written
    /// directly. Called by [`crate::serve`] after graceful shutdown.
    pub async fn close(&self) {
        self.flush().await;
        let mut slot = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        slot.closed = true;
        // Dropping the last sender ends the task once it has drained the queue.
        slot.sender = None;
    }

    /// The queue, starting the task on first use; `None` once closed.
    fn sender(&self) -> Option<mpsc::Sender<Message>> {
        let mut slot = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.closed {
            return None;
        }
        if let Some(sender) = &slot.sender {
            if !sender.is_closed() {
                return Some(sender.clone());
            }
            // The runtime that ran the task is gone (tests build states per runtime): start anew.
        }
        let (sender, receiver) = mpsc::channel(QUEUE_ROWS);
        tokio::spawn(run(self.store.clone(), receiver));
        slot.sender = Some(sender.clone());
        Some(sender)
    }
}

/// The writer task: takes what is queued (up to [`BATCH_ROWS`]), writes it in
/// one call, answers the flushes that were waiting behind those rows.
async fn run(store: DynStore, mut receiver: mpsc::Receiver<Message>) {
    let mut messages = Vec::with_capacity(BATCH_ROWS);
    loop {
        if receiver.recv_many(&mut messages, BATCH_ROWS).await == 0 {
            return;
        }
        let mut rows = Vec::with_capacity(messages.len());
        let mut flushes = Vec::new();
        for message in messages.drain(..) {
            match message {
                Message::Row(account, row) => rows.push((account, row)),
                Message::Flush(done) => flushes.push(done),
            }
        }
        write_rows(&store, rows).await;
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Writes `rows` in one batch; if the store refuses it, row by row, logging
/// each row that still fails.
async fn write_rows(store: &DynStore, rows: Vec<(AccountId, NewProxyAudit)>) {
    if rows.is_empty() {
        return;
    }
    let Err(e) = store.record_proxy_calls(&rows).await else {
        return;
    };
    tracing::warn!(rows = rows.len(), error = %e, "an audit batch failed; writing its rows one by one");
    for (account, row) in &rows {
        if let Err(e) = store.record_proxy_call(*account, row).await {
            tracing::error!(
                account.id = %account,
                installation.id = %row.installation_id,
                user.id = %row.user_id,
                host = %row.host,
                status = row.status.unwrap_or(0),
                error = %e,
                "could not write a proxy audit row"
            );
        }
    }
}
