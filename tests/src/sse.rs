//! Server-sent events: encoding of a run's event log and the streaming response.
//!
//! Wire format per event (line terminator `\n` unless [`crate::Fault::LineEnding`]):
//!
//! ```text
//! id: <n>
//! event: agent_event
//! data: <one line of JSON>
//!
//! ```
//!
//! `n` is the 1-based index of the event in the run's log, so it is monotonic per run and a
//! join with `Last-Event-ID: n` replays exactly the events after `n`. While idle the stream sends
//! `: keep-alive` comment lines every `keepalive_interval`. Events are batched into chunks of up
//! to 64 KiB; the producer is a task feeding a bounded channel, so a slow client applies
//! backpressure and a vanished client is noticed (the channel closes).
//!
//! Under [`crate::Dialect::WorkflowServer`], as the Agent Workflow Server does:
//! * ids count the events of each connection from 1, and `Last-Event-ID` is ignored;
//! * a stream sends only events no stream has sent yet (the run's delivery cursor), so a
//!   rejoin after a cut gets the rest of the events exactly once, numbered from 1 again.
//!   An event counts as delivered once handed to the response body, so the fault cuts
//!   (which flush first) lose nothing, while [`crate::ReferenceServer::stop_listening`] may
//!   drop events still buffered for a connection it kills, as the real server's queues do;
//! * the keep-alive is a bare `:` without a line terminator, so it glues onto the next line
//!   (`:id: 1` — which turns that `id:` line into a comment);
//! * there is no final status event (see [`crate::runs`]).

use std::{io, sync::Arc};

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::mpsc;

use crate::{
    faults::SseFaults,
    runs::{self, Run, RunStatus},
    state::{AppState, ServerEvent},
};

const BATCH_EVENTS: usize = 512;
const CHUNK_BYTES: usize = 64 * 1024;

/// Appends one encoded event to `buf`.
pub fn encode_event(buf: &mut BytesMut, id: Option<usize>, data: &[u8], le: &str) {
    buf.reserve(data.len() + 48);
    if let Some(id) = id {
        buf.put_slice(b"id: ");
        buf.put_slice(id.to_string().as_bytes());
        buf.put_slice(le.as_bytes());
    }
    buf.put_slice(b"event: agent_event");
    buf.put_slice(le.as_bytes());
    buf.put_slice(b"data: ");
    buf.put_slice(data);
    buf.put_slice(le.as_bytes());
    buf.put_slice(le.as_bytes());
}

/// Why a producer stopped early.
enum Stop {
    ClientGone,
    Shutdown,
}

struct Sink {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    trickle: bool,
}

impl Sink {
    async fn send(&self, bytes: Bytes) -> Result<(), Stop> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.trickle {
            for i in 0..bytes.len() {
                self.tx
                    .send(Ok(bytes.slice(i..i + 1)))
                    .await
                    .map_err(|_| Stop::ClientGone)?;
                tokio::task::yield_now().await;
            }
            Ok(())
        } else {
            self.tx.send(Ok(bytes)).await.map_err(|_| Stop::ClientGone)
        }
    }
}

/// Builds the SSE response for `run`, starting after the first `start` events.
/// `create_stream` marks the create-and-stream response, whose disconnect may cancel the run.
pub(crate) fn sse_response(
    state: &AppState,
    run: Arc<Run>,
    start: usize,
    faults: SseFaults,
    create_stream: bool,
) -> Response {
    if faults.wrong_content_type {
        let mut resp = Response::new(Body::from(run.to_json().to_string()));
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return resp;
    }
    let (tx, rx) = mpsc::channel::<Result<Bytes, io::Error>>(if faults.trickle { 1 } else { 8 });
    let st = state.clone();
    state
        .events
        .emit(ServerEvent::StreamOpened { run_id: run.id });
    tokio::spawn(async move {
        let sink = Sink {
            tx,
            trickle: faults.trickle,
        };
        let shutdown = st.shutdown.clone();
        let result = tokio::select! {
            r = produce(&st, &run, start, &faults, &sink) => r,
            _ = shutdown.cancelled() => Err(Stop::Shutdown),
        };
        let client_gone = matches!(result, Err(Stop::ClientGone));
        st.events.emit(ServerEvent::StreamClosed {
            run_id: run.id,
            client_gone,
        });
        if client_gone
            && create_stream
            && run.spec.cancel_on_disconnect
            && run.status() == RunStatus::Pending
        {
            runs::cancel(&st, &run, false);
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// Streams the log; Ok(()) on a normal end (including injected clean ends and drops).
async fn produce(
    state: &AppState,
    run: &Run,
    start: usize,
    faults: &SseFaults,
    sink: &Sink,
) -> Result<(), Stop> {
    let le = faults.line_ending.as_str();
    let per_connection = run.spec.dialect.is_workflow_server();
    let keepalive = if per_connection {
        Bytes::from_static(b":")
    } else {
        Bytes::from(format!(": keep-alive{le}{le}"))
    };
    for _ in 0..faults.keepalives_first {
        sink.send(keepalive.clone()).await?;
    }
    if let Some(size) = faults.oversized {
        let mut data = Vec::with_capacity(size + 2);
        data.push(b'"');
        data.resize(size + 1, b'x');
        data.push(b'"');
        let mut buf = BytesMut::new();
        encode_event(&mut buf, None, &data, le);
        sink.send(buf.freeze()).await?;
    }
    let mut log_rx = run.watch_log();
    // The per-connection dialect ignores `Last-Event-ID`: the run's delivery cursor decides.
    let mut cursor = if per_connection { 0 } else { start };
    let mut sent = 0usize;
    let mut malformed_done = false;
    // Sends `buf`; in the per-connection dialect, records the events in it as delivered.
    let flush = async |buf: Bytes, upto: usize| {
        sink.send(buf).await?;
        if per_connection {
            run.mark_delivered(upto);
        }
        Ok::<(), Stop>(())
    };
    loop {
        log_rx.borrow_and_update();
        if per_connection {
            cursor = cursor.max(run.undelivered());
        }
        let (batch, open) = run.read_events(cursor, BATCH_EVENTS);
        if batch.is_empty() {
            if !open {
                return Ok(());
            }
            let interval = state.config.keepalive_interval;
            tokio::select! {
                r = tokio::time::timeout(interval, log_rx.changed()) => match r {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return Ok(()),
                    Err(_) => sink.send(keepalive.clone()).await?,
                },
                _ = sink.tx.closed() => return Err(Stop::ClientGone),
            }
            continue;
        }
        let mut buf = BytesMut::with_capacity(CHUNK_BYTES);
        for data in batch {
            if faults.malformed_after == Some(sent) && !malformed_done {
                malformed_done = true;
                encode_event(
                    &mut buf,
                    None,
                    b"{\"type\": \"values\", this is not json",
                    le,
                );
            }
            if faults.drop_after == Some(sent) {
                flush(buf.split().freeze(), cursor).await?;
                // Let the transport flush what was sent, then abort the body.
                for _ in 0..8 {
                    tokio::task::yield_now().await;
                }
                let _ = sink
                    .tx
                    .send(Err(io::Error::other("injected connection drop")))
                    .await;
                return Ok(());
            }
            if faults.end_after == Some(sent) {
                flush(buf.split().freeze(), cursor).await?;
                return Ok(());
            }
            if faults.stall_after == Some(sent) {
                flush(buf.split().freeze(), cursor).await?;
                sink.tx.closed().await;
                return Err(Stop::ClientGone);
            }
            cursor += 1;
            sent += 1;
            let id = if per_connection { sent } else { cursor };
            encode_event(&mut buf, Some(id), &data, le);
            if buf.len() >= CHUNK_BYTES {
                flush(buf.split().freeze(), cursor).await?;
            }
        }
        flush(buf.freeze(), cursor).await?;
    }
}
