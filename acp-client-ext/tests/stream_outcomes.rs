//! How run streams end, and what they hand over when they do: the events a server still sends
//! after a settled status, the end of a connection a server never closes, the interrupt of a
//! stream that ends `interrupted` (from an ACP 0.2.2 `interrupt` event, or fetched from the
//! run when no event carried it) resumed with `resume_stream`, and `final_values`.
//!
//! Two kinds of servers: a loopback peer written here that answers each request with raw
//! bytes (HTTP/1.1, `Connection: close`), and the reference server in both its dialects (the
//! spec's, and the Agent Workflow Server's). No sleeps to synchronize: the peer's keep-alive
//! pacing is its only timer, and every read is bounded by a deadline that only guards against a
//! hang.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use acp_client_ext::types::RunCreateStateless;
use acp_client_ext::{AcpClient, Error, RunEvent, RunStatus, RunStream};
use acp_reference_server::Dialect;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use support::{T, both_dialects, read_all};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use uuid::Uuid;

const RID: &str = "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11";

// ----- a raw loopback peer ---------------------------------------------------------------------

/// One answer of the peer.
#[derive(Debug, Clone)]
enum Reply {
    /// An event stream of these bytes, then the connection is closed.
    Close(String),
    /// An event stream of these bytes, then a bare `:` keep-alive every 10 ms, at most
    /// [`KEEPALIVES`] of them (a minute: three times the test's guard), then the close.
    KeepAlives(String),
    /// A JSON body (`200`).
    Json(Value),
}

/// Each route's replies still to send.
type Script = Vec<(String, VecDeque<Reply>)>;

/// The keep-alives of a [`Reply::KeepAlives`]: 10 ms apart, a minute in all.
const KEEPALIVES: usize = 6000;

/// A scripted peer on 127.0.0.1 answering raw HTTP/1.1.
struct Peer {
    url: String,
    /// `METHOD /path` of every request, the run id written `*`.
    seen: Arc<Mutex<Vec<String>>>,
    /// How many keep-alive streams saw the client close the connection before their last
    /// keep-alive.
    closed_early: watch::Receiver<usize>,
}

impl Peer {
    /// A peer answering each route with its replies in order, and `404` once they are used up.
    async fn start(script: Vec<(&'static str, Vec<Reply>)>) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let script: Arc<Mutex<Script>> = Arc::new(Mutex::new(
            script
                .into_iter()
                .map(|(route, replies)| (route.to_owned(), replies.into()))
                .collect(),
        ));
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let (closed_tx, closed_early) = watch::channel(0usize);
        let closed_tx = Arc::new(closed_tx);
        let record = seen.clone();
        tokio::spawn(async move {
            // Bounded: a test makes a handful of requests.
            for _ in 0..64 {
                let Ok((conn, _)) = listener.accept().await else {
                    return;
                };
                let (script, record, closed_tx) =
                    (script.clone(), record.clone(), closed_tx.clone());
                tokio::spawn(async move {
                    let _ = serve(conn, &script, &record, &closed_tx).await;
                });
            }
        });
        Peer {
            url,
            seen,
            closed_early,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }

    fn client(&self) -> AcpClient {
        AcpClient::builder(&self.url)
            .retry(support::fast_retries())
            .build()
            .expect("client")
    }

    /// Create-and-stream a stateless run.
    async fn create_stream(&self) -> RunStream {
        let body: RunCreateStateless =
            serde_json::from_value(json!({"agent_id": "agent"})).expect("body");
        self.client()
            .stateless_runs()
            .stream(body)
            .await
            .expect("stream")
    }
}

/// Reads one request (head and `Content-Length` body), records it, writes its reply.
async fn serve(
    mut conn: TcpStream,
    script: &Mutex<Script>,
    record: &Mutex<Vec<String>>,
    closed_tx: &watch::Sender<usize>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Ok(());
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path: Vec<&str> = path
        .split('/')
        .map(|seg| {
            if Uuid::parse_str(seg).is_ok() {
                "*"
            } else {
                seg
            }
        })
        .collect();
    let route = format!("{method} {}", path.join("/"));
    record.lock().expect("lock").push(route.clone());
    let reply = script
        .lock()
        .expect("lock")
        .iter_mut()
        .find(|(r, _)| *r == route)
        .and_then(|(_, queue)| queue.pop_front());
    const SSE_HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";
    match reply {
        None => {
            let body = r#"{"detail":"Not Found"}"#;
            let resp = format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            conn.write_all(resp.as_bytes()).await?;
        }
        Some(Reply::Json(v)) => {
            let body = v.to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            conn.write_all(resp.as_bytes()).await?;
        }
        Some(Reply::Close(body)) => {
            conn.write_all(format!("{SSE_HEAD}{body}").as_bytes())
                .await?;
        }
        Some(Reply::KeepAlives(body)) => {
            conn.write_all(format!("{SSE_HEAD}{body}").as_bytes())
                .await?;
            for _ in 0..KEEPALIVES {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if conn.write_all(b":").await.is_err() || conn.flush().await.is_err() {
                    closed_tx.send_modify(|n| *n += 1);
                    return Ok(());
                }
            }
        }
    }
    conn.shutdown().await
}

const CREATE: &str = "POST /runs/stream";
const JOIN: &str = "GET /runs/*/stream";
const RESUME: &str = "POST /runs/*";
const WAIT: &str = "GET /runs/*/wait";

/// An `agent_event` with the SSE id `id` and the JSON `data`.
fn event(id: u64, data: Value) -> String {
    format!("id: {id}\nevent: agent_event\ndata: {data}\n\n")
}

fn values(id: u64, status: &str) -> String {
    event(
        id,
        json!({"type": "values", "run_id": RID, "status": status, "values": {"n": id}}),
    )
}

fn interrupt(id: u64, question: &str) -> String {
    event(
        id,
        json!({"type": "interrupt", "run_id": RID, "status": "interrupted", "interrupt": {"question": question}}),
    )
}

fn error(id: u64) -> String {
    event(
        id,
        json!({"type": "error", "run_id": RID, "status": "error", "errcode": 500, "description": format!("failure {id}")}),
    )
}

fn custom(id: u64, status: &str) -> String {
    event(
        id,
        json!({"type": "custom", "run_id": RID, "status": status, "update": {"n": id}}),
    )
}

fn run_json(status: &str) -> Value {
    json!({
        "run_id": RID,
        "agent_id": "agent",
        "status": status,
        "created_at": "2025-06-01T10:00:00.123456",
        "updated_at": "2025-06-01T10:00:01",
    })
}

/// The delivered events; panics on an error item.
fn events(got: Vec<support::Got>) -> Vec<RunEvent> {
    got.into_iter()
        .map(|g| match g.item {
            Ok(ev) => ev,
            Err(e) => panic!("expected an event, got {e:?}"),
        })
        .collect()
}

/// A short name for each event: its payload type and status.
fn kinds(events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let kind = match e {
                RunEvent::Values(_) => "values",
                RunEvent::Custom(_) => "custom",
                RunEvent::Interrupt(_) => "interrupt",
                RunEvent::Error(_) => "error",
                _ => "other",
            };
            let status = e.status().map(|s| s.to_string()).unwrap_or_default();
            format!("{kind}/{status}")
        })
        .collect()
}

// ----- what follows a settled status -------------------------------------------------------------

/// A settled `values` event is not the end while the connection still carries events: they
/// are delivered, and the server's close ends the stream, with no other request.
#[tokio::test]
async fn events_after_a_settled_values_event_are_delivered_until_the_server_closes() {
    let body = [
        values(1, "pending"),
        values(2, "success"),
        custom(3, "success"),
        error(4),
        values(5, "error"),
    ]
    .concat();
    let peer = Peer::start(vec![(CREATE, vec![Reply::Close(body)])]).await;
    let mut stream = peer.create_stream().await;
    let got = events(read_all(&mut stream).await);
    assert_eq!(
        kinds(&got),
        [
            "values/pending",
            "values/success",
            "custom/success",
            "error/error",
            "values/error"
        ]
    );
    let RunEvent::Error(e) = &got[3] else {
        panic!("{:?}", got[3])
    };
    assert_eq!((e.errcode(), e.description()), (500, "failure 4"));
    assert_eq!(stream.last_status(), Some(&RunStatus::Error));
    assert_eq!(stream.last_event_id(), Some("5"));
    assert!(stream.interrupt().is_none(), "not interrupted");
    assert_eq!(peer.requests(), [CREATE], "no check of the run, no rejoin");
}

/// A server that never closes after the settled event (the Agent Workflow Server after a failed
/// resume: error events, then keep-alives for ever): the stream ends once no event has come for
/// the grace, keep-alives or not, and closes the connection itself.
#[tokio::test]
async fn a_settled_event_then_keep_alives_for_ever_ends_after_the_grace() {
    let body = [values(1, "pending"), error(2), error(3)].concat();
    let peer = Peer::start(vec![(CREATE, vec![Reply::KeepAlives(body)])]).await;
    let mut stream = peer.create_stream().await;
    let got = events(read_all(&mut stream).await);
    assert_eq!(
        kinds(&got),
        ["values/pending", "error/error", "error/error"]
    );
    assert_eq!(stream.last_status(), Some(&RunStatus::Error));
    assert!(stream.next().await.is_none(), "fused");
    // The client closed the connection while the peer still had keep-alives to send.
    let mut closed = peer.closed_early.clone();
    tokio::time::timeout(T, closed.wait_for(|n| *n == 1))
        .await
        .expect("the client closed the connection")
        .expect("peer alive");
    assert_eq!(peer.requests(), [CREATE], "no check of the run, no rejoin");
}

// ----- interrupts ----------------------------------------------------------------------------------

#[derive(Debug, Deserialize, PartialEq)]
struct Question {
    question: String,
}

/// An ACP 0.2.2 stream: the `interrupt` event after the interrupted `values` carries the
/// question, and more events follow it. Every one is delivered; the stream's interrupt is the
/// event's (no wait request), and `resume_stream` answers it and streams the rest.
#[tokio::test]
async fn an_interrupt_event_followed_by_more_events_gives_the_question() {
    let first = [
        values(1, "pending"),
        values(2, "interrupted"),
        interrupt(3, "go on?"),
        custom(4, "interrupted"),
    ]
    .concat();
    let rest = [values(5, "pending"), values(6, "success")].concat();
    let peer = Peer::start(vec![
        (CREATE, vec![Reply::Close(first)]),
        (RESUME, vec![Reply::Json(run_json("pending"))]),
        (JOIN, vec![Reply::Close(rest)]),
    ])
    .await;
    let mut stream = peer.create_stream().await;
    let got = events(read_all(&mut stream).await);
    assert_eq!(
        kinds(&got),
        [
            "values/pending",
            "values/interrupted",
            "interrupt/interrupted",
            "custom/interrupted"
        ]
    );
    let RunEvent::Interrupt(update) = &got[2] else {
        panic!("{:?}", got[2])
    };
    assert_eq!(
        update
            .interrupt_as::<Question>()
            .expect("the question")
            .question,
        "go on?"
    );
    assert_eq!(stream.last_status(), Some(&RunStatus::Interrupted));
    let asked = stream.interrupt().expect("the stream's interrupt").clone();
    assert_eq!(asked.run_id(), Uuid::parse_str(RID).expect("uuid"));
    assert_eq!(asked.round(), 1);
    assert_eq!(
        asked.payload_as::<Question>().expect("payload").question,
        "go on?"
    );
    assert_eq!(
        peer.requests(),
        [CREATE],
        "the question came with the events"
    );

    let answer = json!({"approved": true});
    let mut rest = stream.resume_stream(&answer).await.expect("resume");
    let last: Option<Value> = rest.final_values().await.expect("final values");
    assert_eq!(last, Some(json!({"n": 6})));
    assert_eq!(rest.last_status(), Some(&RunStatus::Success));
    assert!(rest.interrupt().is_none());
    assert_eq!(peer.requests(), [CREATE, RESUME, JOIN]);
}

/// A server that sends no interrupt event (ACP 0.2.1): the question is fetched once from the
/// run's wait output when the stream ends interrupted.
#[tokio::test]
async fn without_an_interrupt_event_the_question_is_fetched_from_the_run() {
    let peer = Peer::start(vec![
        (
            CREATE,
            vec![Reply::Close(
                [values(1, "pending"), values(2, "interrupted")].concat(),
            )],
        ),
        (
            WAIT,
            vec![Reply::Json(json!({
                "run": run_json("interrupted"),
                "output": {"type": "interrupt", "interrupt": {"question": "from the run"}},
            }))],
        ),
    ])
    .await;
    let mut stream = peer.create_stream().await;
    assert!(stream.interrupt().is_none(), "nothing read yet");
    let got = events(read_all(&mut stream).await);
    assert_eq!(kinds(&got), ["values/pending", "values/interrupted"]);
    let asked = stream.interrupt().expect("fetched");
    assert_eq!(
        asked.payload_as::<Question>().expect("payload").question,
        "from the run"
    );
    assert_eq!(asked.round(), 1);
    assert_eq!(peer.requests(), [CREATE, WAIT], "one wait, nothing else");
}

// ----- the reference server, both dialects ---------------------------------------------------------

#[derive(Debug, Deserialize)]
struct RoundQuestion {
    question: String,
    round: u32,
}

#[derive(Debug, Deserialize)]
struct Answers {
    answers: Vec<Value>,
}

/// The `interrupt` agent asked twice over a stream: each stream ends with the question of its
/// round (fetched from the run: neither dialect sends interrupt events; the Workflow Server's
/// sends no final event either), answered with `resume_stream`, and the last one's final
/// values are the answers.
async fn a_stream_ending_interrupted_hands_over_the_question(dialect: Dialect) {
    let server = support::server(dialect).await;
    let c = support::client(&server);
    let agent = c.agent("interrupt").await.expect("agent");
    // Joined, not created-and-streamed: in the Workflow Server's dialect the first segment of
    // this agent sends no event at all, so a create-and-stream could not learn its run id.
    let run = agent
        .run(&json!({"interrupts": 2}))
        .create()
        .await
        .expect("create");
    let mut stream = run.stream().await.expect("join");
    for round in 1..=2u32 {
        let got = read_all(&mut stream).await;
        assert!(
            got.iter().all(|g| g.item.is_ok()),
            "round {round}: {:?}",
            got.iter().map(|g| &g.item).collect::<Vec<_>>()
        );
        assert_eq!(
            stream.last_status(),
            Some(&RunStatus::Interrupted),
            "round {round}"
        );
        let asked = stream.interrupt().expect("the question");
        assert_eq!(asked.round(), round);
        assert_eq!(Some(asked.run_id()), stream.run_id());
        let q: RoundQuestion = asked.payload_as().expect("the agent's question");
        assert_eq!(q.round, round);
        assert_eq!(q.question, format!("Question {round} of 2?"));
        let answer = json!({"answer": round});
        stream = stream.resume_stream(&answer).await.expect("resume");
    }
    let out: Answers = tokio::time::timeout(T, stream.final_values())
        .await
        .expect("no hang")
        .expect("final values")
        .expect("values came");
    assert_eq!(out.answers, [json!({"answer": 1}), json!({"answer": 2})]);
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    assert!(stream.interrupt().is_none(), "the run completed");
}

#[derive(Debug, Deserialize)]
struct Count {
    count: u32,
}

/// `final_values` drains the stream and decodes its last values once; a type they do not fit
/// is a decode error naming it.
async fn final_values_is_the_last_values_update_decoded(dialect: Dialect) {
    let server = support::server(dialect).await;
    let c = support::client(&server);
    let mut stream = support::create_stream(&c, 3, 0).await;
    let out: Option<Count> = tokio::time::timeout(T, stream.final_values())
        .await
        .expect("no hang")
        .expect("final values");
    assert_eq!(out.map(|o| o.count), Some(3));
    assert_eq!(stream.last_status(), Some(&RunStatus::Success));
    assert!(stream.next().await.is_none(), "drained");

    let mut stream = support::create_stream(&c, 2, 0).await;
    let err = tokio::time::timeout(T, stream.final_values::<Vec<u8>>())
        .await
        .expect("no hang")
        .expect_err("not a list of bytes");
    assert!(
        matches!(&err, Error::Decode { what, .. } if what.contains("values of run")),
        "{err:?}"
    );
}

both_dialects!(
    a_stream_ending_interrupted_hands_over_the_question,
    final_values_is_the_last_values_update_decoded,
);
