//! Run streams against what real ACP servers send, byte for byte: small loopback peers (axum on
//! 127.0.0.1) that answer each route with a script, as agntcy's Agent Workflow Server does
//! (ids numbered per connection, `Last-Event-ID` ignored, a keep-alive `:` without a line end,
//! error events followed by keep-alives for ever, no final event), and the politer servers they
//! must be told apart from (a server that replays a run's events).
//!
//! Each peer records every request (route and `Last-Event-ID`), so the tests check what was
//! sent as well as what the user saw. No sleeps: the peers' keep-alive pacing is the only timer,
//! and every read is bounded by a deadline that only guards against a hang.
//!
//! Last, the reference server in its Agent Workflow Server dialect, under the fault matrix's
//! drops, checked with the exactly-once ledger by payload (its ids are per connection).

mod support;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acp_client_ext::types::RunCreateStateless;
use acp_client_ext::{AcpClient, RetryPolicy, RunEvent, RunScope, RunStatus, RunStream};
use acp_reference_server::{Dialect, Fault, ReferenceServer, Target, agents};
use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::json;
use support::ledger::Seen;
use support::{Got, T, read_all, read_n};
use tokio::sync::{Notify, watch};
use uuid::Uuid;

const RID: &str = "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11";

/// One answer of a peer.
#[derive(Debug, Clone)]
enum Reply {
    /// An event stream of these bytes, then a clean end.
    End(String),
    /// An event stream of these bytes, then, once the test calls [`Peer::cut`], the connection
    /// fails (no end of the chunked body).
    Cut(String),
    /// An event stream of these bytes, then a bare `:` keep-alive every `every`, at most
    /// `count` times, then a clean end.
    KeepAlives {
        body: String,
        every: Duration,
        count: usize,
    },
    /// A JSON body (`200`).
    Json(serde_json::Value),
}

/// Each route's replies still to send.
type Script = Vec<(String, VecDeque<Reply>)>;

/// A request as the peer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Request {
    /// `METHOD /path`, with the run id written `*`.
    route: String,
    last_event_id: Option<String>,
}

/// What the peer's keep-alive streams did: how many keep-alives they wrote, and whether their
/// connection was dropped before they ran out.
#[derive(Debug, Default)]
struct KeepAliveLog {
    written: AtomicUsize,
}

/// A scripted ACP peer on 127.0.0.1.
struct Peer {
    url: String,
    seen: Arc<Mutex<Vec<Request>>>,
    keepalives: Arc<KeepAliveLog>,
    /// Turns `true` when a keep-alive stream is dropped before its last keep-alive (the client
    /// closed the connection).
    closed_early: watch::Receiver<bool>,
    cut: Arc<Notify>,
}

/// Sets the flag when dropped before being disarmed.
struct CloseGuard {
    tx: watch::Sender<bool>,
    armed: bool,
}

impl Drop for CloseGuard {
    fn drop(&mut self) {
        if self.armed {
            self.tx.send_replace(true);
        }
    }
}

fn route_of(method: &Method, uri: &Uri) -> String {
    let path: Vec<&str> = uri
        .path()
        .split('/')
        .map(|seg| {
            if Uuid::parse_str(seg).is_ok() {
                "*"
            } else {
                seg
            }
        })
        .collect();
    format!("{method} {}", path.join("/"))
}

fn event_stream(body: Body) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(body)
        .unwrap_or_default()
}

impl Peer {
    /// A peer answering each route (`"GET /runs/*/stream"`, ...) with its replies in order, and
    /// `404` once they are used up.
    async fn start(script: Vec<(&'static str, Vec<Reply>)>) -> Peer {
        let replies: Arc<Mutex<Script>> = Arc::new(Mutex::new(
            script
                .into_iter()
                .map(|(route, replies)| (route.to_owned(), replies.into()))
                .collect(),
        ));
        let seen: Arc<Mutex<Vec<Request>>> = Arc::default();
        let keepalives: Arc<KeepAliveLog> = Arc::default();
        let (closed_tx, closed_early) = watch::channel(false);
        let cut: Arc<Notify> = Arc::default();
        let (record, log, cut_signal) = (seen.clone(), keepalives.clone(), cut.clone());
        let app =
            axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
                let (replies, record, log) = (replies.clone(), record.clone(), log.clone());
                let (closed_tx, cut_signal) = (closed_tx.clone(), cut_signal.clone());
                async move {
                    let route = route_of(&method, &uri);
                    let last_event_id = headers
                        .get("last-event-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    record.lock().expect("lock").push(Request {
                        route: route.clone(),
                        last_event_id,
                    });
                    let reply = replies
                        .lock()
                        .expect("lock")
                        .iter_mut()
                        .find(|(r, _)| *r == route)
                        .and_then(|(_, queue)| queue.pop_front());
                    match reply {
                        None => Response::builder()
                            .status(StatusCode::NOT_FOUND)
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Body::from(r#"{"detail":"Not Found"}"#))
                            .unwrap_or_default(),
                        Some(Reply::Json(v)) => Response::builder()
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Body::from(v.to_string()))
                            .unwrap_or_default(),
                        Some(Reply::End(body)) => event_stream(Body::from(body)),
                        Some(Reply::Cut(body)) => {
                            let first = futures::stream::once(async move {
                                Ok::<_, std::io::Error>(Bytes::from(body))
                            });
                            let cut = futures::stream::once(async move {
                                cut_signal.notified().await;
                                Err(std::io::Error::other("connection cut"))
                            });
                            event_stream(Body::from_stream(first.chain(cut)))
                        }
                        Some(Reply::KeepAlives { body, every, count }) => {
                            let guard = CloseGuard {
                                tx: closed_tx,
                                armed: true,
                            };
                            let first = futures::stream::once(async move {
                                Ok::<_, std::io::Error>(Bytes::from(body))
                            });
                            let rest = futures::stream::unfold(
                                (0usize, guard, log),
                                move |(k, mut guard, log)| async move {
                                    if k == count {
                                        let _ = std::mem::replace(&mut guard.armed, false);
                                        return None;
                                    }
                                    tokio::time::sleep(every).await;
                                    log.written.fetch_add(1, Ordering::SeqCst);
                                    Some((
                                        Ok::<_, std::io::Error>(Bytes::from_static(b":")),
                                        (k + 1, guard, log),
                                    ))
                                },
                            );
                            event_stream(Body::from_stream(first.chain(rest)))
                        }
                    }
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Peer {
            url,
            seen,
            keepalives,
            closed_early,
            cut,
        }
    }

    /// Cuts the connection of the [`Reply::Cut`] being sent (or the next one).
    fn cut(&self) {
        self.cut.notify_one();
    }

    fn seen(&self) -> Vec<Request> {
        self.seen.lock().expect("lock").clone()
    }

    /// How many requests went to `route`.
    fn requests(&self, route: &str) -> usize {
        self.seen().iter().filter(|s| s.route == route).count()
    }

    /// The `Last-Event-ID` of each request to `route`, in order.
    fn last_event_ids(&self, route: &str) -> Vec<Option<String>> {
        self.seen()
            .into_iter()
            .filter(|s| s.route == route)
            .map(|s| s.last_event_id)
            .collect()
    }

    fn client(&self) -> AcpClient {
        AcpClient::builder(&self.url)
            .retry(RetryPolicy {
                max_retries: 3,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(5),
            })
            .build()
            .expect("client")
    }
}

const CREATE: &str = "POST /runs/stream";
const JOIN: &str = "GET /runs/*/stream";
const GET_RUN: &str = "GET /runs/*";

/// An `agent_event` carrying the `values` update `{"n": n}`, with the `id` line `id` (none
/// when `None`), the line `glue` written just before the event (a keep-alive `:` without a line
/// end glues onto its first line).
fn event(id: Option<u64>, n: u64, status: &str, glue: &str) -> String {
    let id = id.map(|i| format!("id: {i}\n")).unwrap_or_default();
    format!(
        "{glue}{id}event: agent_event\ndata: {{\"type\":\"values\",\"run_id\":\"{RID}\",\"status\":\"{status}\",\"values\":{{\"n\":{n}}}}}\n\n"
    )
}

/// Events `n` in `ns` with ids from `first_id` up; the last one carries `last_status`.
fn events(first_id: u64, ns: std::ops::RangeInclusive<u64>, last_status: &str) -> String {
    let last = *ns.end();
    ns.enumerate()
        .map(|(k, n)| {
            let status = if n == last { last_status } else { "pending" };
            event(Some(first_id + k as u64), n, status, "")
        })
        .collect()
}

fn run_json(status: &str) -> serde_json::Value {
    json!({
        "run_id": RID,
        "agent_id": "agent",
        "status": status,
        "created_at": "2025-06-01T10:00:00.123456",
        "updated_at": "2025-06-01T10:00:01",
    })
}

/// Reads the first connection's `n` items, cuts it, and reads the stream to its end.
async fn read_across_a_cut(peer: &Peer, stream: &mut RunStream, n: usize) -> Vec<Got> {
    let mut got = read_n(stream, n).await;
    peer.cut();
    got.extend(read_all(stream).await);
    got
}

/// The `n` of every delivered `values` event; panics on anything else.
fn ns(got: &[Got]) -> Vec<u64> {
    got.iter()
        .map(|g| match &g.item {
            Ok(RunEvent::Values(v)) => serde_json::to_value(&v.values).expect("values")["n"]
                .as_u64()
                .expect("n"),
            other => panic!("expected a values event, got {other:?}"),
        })
        .collect()
}

async fn create_stream(peer: &Peer) -> RunStream {
    let body: RunCreateStateless =
        serde_json::from_value(json!({"agent_id": "agent"})).expect("body");
    peer.client()
        .stateless_runs()
        .stream(body)
        .await
        .expect("stream")
}

async fn join(peer: &Peer) -> RunStream {
    let run_id = Uuid::parse_str(RID).expect("uuid");
    peer.client()
        .run(RunScope::Stateless, run_id)
        .expect("handle")
        .stream()
        .await
        .expect("join")
}

// ----- ids -------------------------------------------------------------------------------------

/// The Agent Workflow Server numbers each connection's events from 1 and ignores
/// `Last-Event-ID`: the events of the rejoin are new, whatever their ids.
#[tokio::test]
async fn ids_numbered_per_connection_lose_no_event() {
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::Cut(events(1, 1..=3, "pending"))]),
        (JOIN, vec![Reply::End(events(1, 4..=6, "success"))]),
    ])
    .await;
    let mut stream = create_stream(&peer).await;
    let got = read_across_a_cut(&peer, &mut stream, 3).await;
    assert_eq!(ns(&got), [1, 2, 3, 4, 5, 6], "each event once, in order");
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    assert_eq!(
        stream.last_event_id(),
        Some("3"),
        "the server's own numbering"
    );
    assert_eq!(stream.suspected_redeliveries(), 0);
    assert_eq!(peer.requests(CREATE), 1, "the create is not replayed");
    assert_eq!(
        peer.last_event_ids(JOIN),
        [Some("3".to_owned())],
        "one join"
    );
    assert_eq!(
        peer.requests(GET_RUN),
        0,
        "the final event ended the stream"
    );
}

/// The sibling: a server that replays the run's events from its start after a rejoin. The
/// replayed events carry the data delivered under their ids: skipped.
#[tokio::test]
async fn a_server_replaying_from_the_start_delivers_each_event_once() {
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::Cut(events(1, 1..=3, "pending"))]),
        (JOIN, vec![Reply::End(events(1, 1..=6, "success"))]),
    ])
    .await;
    let mut stream = create_stream(&peer).await;
    let got = read_across_a_cut(&peer, &mut stream, 3).await;
    assert_eq!(ns(&got), [1, 2, 3, 4, 5, 6]);
    let ids: Vec<_> = got.iter().map(|g| g.last_event_id.as_deref()).collect();
    assert_eq!(
        ids,
        ["1", "2", "3", "4", "5", "6"].map(Some),
        "the replay of ids 1 to 3 was skipped"
    );
    assert_eq!(stream.suspected_redeliveries(), 0);
    assert_eq!(peer.last_event_ids(JOIN), [Some("3".to_owned())]);
}

/// The Workflow Server's keep-alive is a bare `:` with no line end: it turns the next line into
/// a comment, so some events come without their `id` (or `event`) line. They are delivered, and
/// leave the last event id as it was.
#[tokio::test]
async fn keep_alives_glued_to_the_next_line_lose_no_event() {
    let first = [
        event(Some(1), 1, "pending", ""),
        event(Some(2), 2, "pending", ":"), // `:id: 2`: a comment
        // `:event: agent_event`: a comment too; the event has the default type.
        format!(
            "id: 3\n:event: agent_event\ndata: {{\"type\":\"values\",\"run_id\":\"{RID}\",\"status\":\"pending\",\"values\":{{\"n\":3}}}}\n\n"
        ),
        ":".to_owned(), // a keep-alive just before the cut
    ]
    .concat();
    let rejoin = [
        event(Some(1), 4, "pending", ":::\n"), // keep-alives glued into one comment line
        event(Some(2), 5, "pending", ":"),
        event(Some(3), 6, "success", ""),
    ]
    .concat();
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::Cut(first)]),
        (JOIN, vec![Reply::End(rejoin)]),
    ])
    .await;
    let mut stream = create_stream(&peer).await;
    let got = read_across_a_cut(&peer, &mut stream, 3).await;
    assert_eq!(ns(&got), [1, 2, 3, 4, 5, 6]);
    let ids: Vec<_> = got.iter().map(|g| g.last_event_id.as_deref()).collect();
    assert_eq!(
        ids,
        ["1", "1", "3", "1", "1", "3"].map(Some),
        "events without an id keep the last id"
    );
    assert_eq!(stream.suspected_redeliveries(), 0);
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    assert_eq!(peer.last_event_ids(JOIN), [Some("3".to_owned())]);
}

// ----- ends ------------------------------------------------------------------------------------

/// After a failed resume the Workflow Server sends three error events, then keep-alives every
/// 10 s for ever (here every 10 ms, at most 6000: a minute, three times the guard). The first
/// error event ends the stream; it closes the connection itself.
#[tokio::test]
async fn error_events_then_keep_alives_for_ever_end_the_stream() {
    const KEEPALIVES: usize = 6000;
    let error = |id: u64| {
        format!(
            "id: {id}\nevent: agent_event\ndata: {{\"type\":\"error\",\"run_id\":\"{RID}\",\"status\":\"error\",\"errcode\":500,\"description\":\"Run {RID} failed: resume not possible\"}}\n\n"
        )
    };
    let peer = Peer::start(vec![(
        JOIN,
        vec![Reply::KeepAlives {
            body: [error(1), error(2), error(3)].concat(),
            every: Duration::from_millis(10),
            count: KEEPALIVES,
        }],
    )])
    .await;
    let mut stream = join(&peer).await;
    let got = read_all(&mut stream).await;
    assert!((1..=3).contains(&got.len()), "{} items", got.len());
    for g in &got {
        match &g.item {
            Ok(ev @ RunEvent::Error(e)) => {
                assert_eq!(e.errcode(), 500);
                assert_eq!(ev.status(), Some(RunStatus::Error));
            }
            other => panic!("expected an error event, got {other:?}"),
        }
    }
    assert_eq!(stream.last_status(), Some(&RunStatus::Error));
    assert!(stream.next().await.is_none(), "fused");
    // The client closed the connection while the peer still had keep-alives to send.
    let mut closed = peer.closed_early.clone();
    tokio::time::timeout(T, closed.wait_for(|c| *c))
        .await
        .expect("the connection was closed")
        .expect("peer alive");
    assert!(peer.keepalives.written.load(Ordering::SeqCst) < KEEPALIVES);
    assert_eq!(peer.requests(JOIN), 1, "no rejoin");
    assert_eq!(peer.requests(GET_RUN), 0, "no check of the run");
}

/// The Workflow Server sends no final event: the stream just ends when the run does. The run
/// is checked, has settled, and is joined once more for events sent meanwhile (none here).
#[tokio::test]
async fn a_stream_closed_without_a_final_event_ends_when_the_run_has_settled() {
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::End(events(1, 1..=3, "pending"))]),
        (GET_RUN, vec![Reply::Json(run_json("success"))]),
        (JOIN, vec![Reply::End(String::new())]),
    ])
    .await;
    let mut stream = create_stream(&peer).await;
    let got = read_all(&mut stream).await;
    assert_eq!(ns(&got), [1, 2, 3]);
    assert_eq!(
        stream.last_status(),
        Some(&RunStatus::Success),
        "from the run"
    );
    assert_eq!(peer.requests(GET_RUN), 1);
    assert_eq!(peer.last_event_ids(JOIN), [Some("3".to_owned())]);
}

/// The last join of a settled run may also send nothing but keep-alives: it ends when no event
/// has come for the idle timeout, keep-alives or not.
#[tokio::test]
async fn a_last_join_with_only_keep_alives_ends_after_the_idle_timeout() {
    const KEEPALIVES: usize = 6000;
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::End(events(1, 1..=2, "pending"))]),
        (GET_RUN, vec![Reply::Json(run_json("success"))]),
        (
            JOIN,
            vec![Reply::KeepAlives {
                body: ":\n\n".into(),
                every: Duration::from_millis(10),
                count: KEEPALIVES,
            }],
        ),
    ])
    .await;
    let body: RunCreateStateless =
        serde_json::from_value(json!({"agent_id": "agent"})).expect("body");
    let client = AcpClient::builder(&peer.url)
        .idle_timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let mut stream = client.stateless_runs().stream(body).await.expect("stream");
    let got = read_all(&mut stream).await;
    assert_eq!(ns(&got), [1, 2]);
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    let mut closed = peer.closed_early.clone();
    tokio::time::timeout(T, closed.wait_for(|c| *c))
        .await
        .expect("the connection was closed")
        .expect("peer alive");
    assert!(peer.keepalives.written.load(Ordering::SeqCst) < KEEPALIVES);
    assert_eq!(peer.requests(JOIN), 1, "joined once, not again");
}

/// The Workflow Server reports a run in progress as `running`, a status the spec does not list:
/// not settled, so the run is rejoined, and checked again when that stream ends too.
#[tokio::test]
async fn a_run_reported_running_is_rejoined_until_it_has_settled() {
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::End(events(1, 1..=2, "pending"))]),
        (
            GET_RUN,
            vec![
                Reply::Json(run_json("running")),
                Reply::Json(run_json("success")),
            ],
        ),
        (
            JOIN,
            vec![
                // Numbered per connection: event 3 is id 1.
                Reply::End(events(1, 3..=3, "pending")),
                Reply::End(String::new()),
            ],
        ),
    ])
    .await;
    let mut stream = create_stream(&peer).await;
    let got = read_all(&mut stream).await;
    assert_eq!(ns(&got), [1, 2, 3]);
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    assert_eq!(stream.suspected_redeliveries(), 0);
    assert_eq!(peer.requests(GET_RUN), 2, "checked after each clean end");
    assert_eq!(
        peer.last_event_ids(JOIN),
        [Some("2".to_owned()), Some("1".to_owned())],
        "a rejoin, then the last join of the settled run"
    );
    let routes: Vec<_> = peer.seen().into_iter().map(|s| s.route).collect();
    assert_eq!(routes, [CREATE, GET_RUN, JOIN, GET_RUN, JOIN]);
}

// ----- the reference server's Workflow Server dialect ------------------------------------------

/// The reference server speaking the Agent Workflow Server's dialect (ids numbered per
/// connection, `Last-Event-ID` ignored, each event sent to one connection only, glued
/// keep-alives, no final event, `running`), its stream cut after every N events: each update
/// is seen exactly once, in order, by payload.
#[tokio::test]
async fn workflow_server_dialect_drop_at_every_n_loses_and_repeats_nothing() {
    const COUNT: u64 = 20;
    for n in 0..=20usize {
        let server = ReferenceServer::with_dialect(Dialect::WorkflowServer).await;
        let c = support::client(&server);

        // Joining a run (its id is known): every N resumes.
        let run = support::create_run(&c, COUNT, 0).await;
        server.inject(Target::Join, Fault::DropAfterEvents(n), 1);
        let mut stream = run.stream().await.expect("join");
        let mut seen = Seen::per_connection();
        seen.read_to_end(&mut stream).await;
        assert!(seen.errors.is_empty(), "join, N={n}: {:?}", seen.errors);
        seen.assert_each_update_once(&format!("workflow server, join dropped after {n}"), COUNT);
        assert_eq!(stream.last_status(), Some(&RunStatus::Success), "N={n}");
        assert_eq!(stream.suspected_redeliveries(), 0, "N={n}");
        let joins = server.requests("GET", "/runs/*/stream");
        assert!(joins >= 2, "N={n}: rejoined after the drop ({joins} joins)");

        // Create-and-stream: the run id comes with the first event, so N=0 cannot be resumed.
        if n == 0 {
            continue;
        }
        server.inject(Target::Stream, Fault::DropAfterEvents(n), 1);
        let mut stream = support::create_stream(&c, COUNT, 0).await;
        let mut seen = Seen::per_connection();
        seen.read_to_end(&mut stream).await;
        assert!(seen.errors.is_empty(), "create, N={n}: {:?}", seen.errors);
        seen.assert_each_update_once(
            &format!("workflow server, create-and-stream dropped after {n}"),
            COUNT,
        );
        assert_eq!(stream.last_status(), Some(&RunStatus::Success), "N={n}");
        assert_eq!(stream.suspected_redeliveries(), 0, "N={n}");
        assert_eq!(server.requests("POST", "/runs/stream"), 1, "N={n}");
    }
}

/// A failed run in the Workflow Server dialect: three `error` events, then the stream stays
/// open with keep-alives for ever. The first error event ends the user's stream.
#[tokio::test]
async fn workflow_server_dialect_failed_run_ends_the_stream() {
    let server = ReferenceServer::with_dialect(Dialect::WorkflowServer).await;
    let body: RunCreateStateless =
        serde_json::from_value(json!({"agent_id": agents::FAIL, "input": {}})).expect("body");
    let mut stream = support::client(&server)
        .stateless_runs()
        .stream(body)
        .await
        .expect("stream");
    let got = read_all(&mut stream).await;
    assert!((1..=3).contains(&got.len()), "{} items", got.len());
    for g in &got {
        match &g.item {
            Ok(ev @ RunEvent::Error(e)) => {
                assert_eq!(e.errcode(), 500);
                assert_eq!(ev.status(), Some(RunStatus::Error));
            }
            other => panic!("expected an error event, got {other:?}"),
        }
    }
    assert_eq!(stream.last_status(), Some(&RunStatus::Error));
    assert_eq!(server.requests("GET", "/runs/*/stream"), 0, "no rejoin");
    assert_eq!(server.requests("GET", "/runs/*"), 0, "no check of the run");
}
