//! The Workflow Server dialect on the wire, driven with raw reqwest + serde_json (and a raw TCP
//! socket where the connection itself is the point). No sleeps: synchronisation goes through
//! server events or the bytes the server sends; keep-alives come every 50 ms.

mod support;

use std::time::Duration;

use acp_reference_server::{Dialect, Fault, ReferenceServer, ServerConfig, Target, agents};
use chrono::{DateTime, NaiveDateTime};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use support::*;

async fn workflow_server() -> ReferenceServer {
    let s = ReferenceServer::start_with(ServerConfig {
        keepalive_interval: Duration::from_millis(50),
        ..ServerConfig::for_dialect(Dialect::WorkflowServer)
    })
    .await;
    assert_eq!(s.dialect(), Dialect::WorkflowServer);
    s
}

/// Python's `datetime.now().isoformat()`: no offset, microseconds (left out when zero).
fn assert_naive(v: &Value) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("timestamp string, got {v}"));
    assert!(
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok(),
        "naive: {s}"
    );
    assert!(DateTime::parse_from_rfc3339(s).is_err(), "no offset: {s}");
    assert!(s.len() == 26 || s.len() == 19, "isoformat length: {s}");
}

/// A thread created the way the Workflow Server accepts (with `metadata`).
async fn thread(s: &ReferenceServer) -> String {
    new_thread(s).await
}

/// Reads `resp` until `done(bytes so far)` holds, then drops it (the stream need not end).
async fn read_until(resp: reqwest::Response, done: impl Fn(&str) -> bool) -> String {
    let mut body = resp.bytes_stream();
    let mut buf = Vec::new();
    let read = async {
        while let Some(Ok(chunk)) = body.next().await {
            buf.extend_from_slice(&chunk);
            if done(&String::from_utf8_lossy(&buf)) {
                return;
            }
        }
        panic!("stream ended early: {}", String::from_utf8_lossy(&buf));
    };
    tokio::time::timeout(T, read).await.expect("bytes in time");
    String::from_utf8_lossy(&buf).into_owned()
}

fn stream_run(s: &ReferenceServer, body: Value) -> reqwest::RequestBuilder {
    http().post(format!("{}/runs/stream", s.url())).json(&body)
}

#[tokio::test]
async fn timestamps_are_naive_and_absent_fields_null() {
    let s = workflow_server().await;
    let (st, th) = post(&s, "/threads", json!({"metadata": {"k": 1}})).await;
    assert_eq!(st, StatusCode::OK);
    assert_naive(&th["created_at"]);
    assert_naive(&th["updated_at"]);
    assert_eq!(
        (&th["values"], &th["messages"]),
        (&Value::Null, &Value::Null)
    );
    assert!(th.as_object().is_some_and(|o| o.contains_key("values")));
    let t = th["thread_id"].as_str().expect("thread_id");

    let msgs = json!({"messages": [{"role": "user", "content": "hi"}]});
    let (_, patched) = send(http().patch(format!("{}/threads/{t}", s.url())).json(&msgs)).await;
    assert_eq!(patched["messages"][0]["metadata"], Value::Null);
    assert!(
        patched["messages"][0]
            .as_object()
            .is_some_and(|m| m.contains_key("metadata"))
    );

    let (st, run) = post(&s, "/runs", json!({"agent_id": agents::ECHO, "config": {}})).await;
    assert_eq!(st, StatusCode::OK);
    assert_naive(&run["created_at"]);
    assert_naive(&run["updated_at"]);
    let run_obj = run.as_object().expect("run object");
    assert_eq!(run_obj.get("thread_id"), Some(&Value::Null));
    for k in [
        "webhook",
        "metadata",
        "input",
        "after_seconds",
        "on_completion",
    ] {
        assert!(
            run["creation"]
                .as_object()
                .is_some_and(|c| c.contains_key(k)),
            "creation.{k} present: {run}"
        );
    }
    assert_eq!(run["creation"]["webhook"], Value::Null);

    let (_, d) = get(&s, &format!("/agents/{}/descriptor", agents::STREAM)).await;
    assert_eq!(d["specs"]["custom_streaming_update"], Value::Null);
    assert_eq!(d["specs"]["interrupts"], Value::Null);
    assert!(
        d["specs"]
            .as_object()
            .is_some_and(|o| o.contains_key("interrupts"))
    );
}

#[tokio::test]
async fn wait_response_has_null_output_while_unsettled() {
    let s = ReferenceServer::start_with(ServerConfig {
        wait_timeout: Duration::ZERO,
        ..ServerConfig::for_dialect(Dialect::WorkflowServer)
    })
    .await;
    let (st, w) = post(&s, "/runs/wait", json!({"agent_id": agents::SLOW})).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        w.as_object()
            .is_some_and(|o| o.get("output") == Some(&Value::Null)),
        "{w}"
    );
    assert_eq!(w["run"]["status"], "running");
}

#[tokio::test]
async fn http_errors_are_detail_objects() {
    let s = workflow_server().await;
    let (st, e) = get(&s, &format!("/threads/{}", Uuid::new_v4())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(e["detail"].is_string(), "{e}");
    s.inject(Target::Get, Fault::Status(503), 1);
    let (st, e) = get(&s, &format!("/agents/{}", agents::ECHO)).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(e, json!({"detail": "injected fault: status 503"}));
}

#[tokio::test]
async fn agents_search_without_name_or_version_is_422_list() {
    let s = workflow_server().await;
    let (st, e) = post(&s, "/agents/search", json!({"limit": 5})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let item = &e["detail"][0];
    assert_eq!(item["type"], "value_error");
    assert_eq!(item["loc"], json!(["body"]));
    assert!(item["msg"].is_string());
    assert_eq!(item["input"], json!({"limit": 5}));
    let (st, found) = post(&s, "/agents/search", json!({"name": "echo"})).await;
    assert_eq!(
        (st, found.as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
}

#[tokio::test]
async fn config_required_when_the_agent_declares_one() {
    let s = workflow_server().await;
    let (_, d) = get(&s, &format!("/agents/{}/descriptor", agents::ECHO)).await;
    assert!(d["specs"]["config"]["properties"].is_object());
    let t = thread(&s).await;
    for path in ["/runs".to_owned(), format!("/threads/{t}/runs")] {
        let (st, e) = post(
            &s,
            &path,
            json!({"agent_id": agents::ECHO, "input": {"a": 1}}),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let item = &e["detail"][0];
        assert_eq!(item["type"], "missing");
        assert_eq!(item["loc"], json!(["body", "config"]));
        assert_eq!(item["msg"], "Field required");
        assert_eq!(item["input"]["input"], json!({"a": 1}));
    }
    let (st, _) = post(&s, "/runs", json!({"agent_id": agents::ECHO, "config": {}})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = post(&s, "/runs", json!({"agent_id": agents::STREAM})).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "agents without a config schema need none"
    );

    let spec = ReferenceServer::start().await;
    assert_eq!(spec.dialect(), Dialect::Spec);
    let (st, _) = post(&spec, "/runs", json!({"agent_id": agents::ECHO})).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "the spec dialect does not enforce config"
    );
}

/// The head uvicorn and Starlette write for the unhandled 500, in order, after the status line
/// and `date`.
const UNHANDLED_500_HEAD: [&str; 3] = [
    "server: uvicorn",
    "content-length: 21",
    "content-type: text/plain; charset=utf-8",
];

/// Asserts `resp` is, byte for byte, the unhandled 500 of uvicorn + Starlette.
fn assert_unhandled_500(resp: &RawResponse) {
    assert_eq!(resp.status_line(), "HTTP/1.1 500 Internal Server Error");
    let date = resp.head[1].strip_prefix("date: ").expect("date first");
    assert!(
        DateTime::parse_from_rfc2822(date).is_ok() && date.ends_with(" GMT"),
        "{date}"
    );
    assert_eq!(resp.head[2..], UNHANDLED_500_HEAD, "{:?}", resp.head);
    assert_eq!(resp.body, "Internal Server Error");
}

/// Asserts `resp` is FastAPI's 422 with exactly `body`.
fn assert_fastapi_422(resp: &RawResponse, body: &str) {
    assert_eq!(resp.status_line(), "HTTP/1.1 422 Unprocessable Entity");
    assert!(resp.head[1].starts_with("date: "), "{:?}", resp.head);
    let length = format!("content-length: {}", body.len());
    assert_eq!(
        resp.head[2..],
        [
            "server: uvicorn",
            length.as_str(),
            "content-type: application/json"
        ]
    );
    assert_eq!(resp.body, body);
}

/// A raw POST of a JSON body.
fn raw_post(s: &ReferenceServer, path: &str, body: &str) -> String {
    raw_request(s, "POST", path, &[], body)
}

/// Creates a run on thread `t` from `body` and returns its id, without
/// `POST /threads/{t}/runs` (broken in this dialect): a create-and-wait whose connection the
/// server resets right after creating the run ([`Fault::ResetAfterCreate`]), which leaves the
/// run going in the background, its events undelivered.
async fn thread_run(s: &ReferenceServer, t: &str, body: Value) -> Uuid {
    let before = s.runs_created();
    let fault = ["x-acp-fault: reset-after-create"];
    let req = raw_request(
        s,
        "POST",
        &format!("/threads/{t}/runs/wait"),
        &fault,
        &body.to_string(),
    );
    let mut sock = raw_connect(s).await;
    raw_send(&mut sock, &req).await;
    expect_reset(&mut sock).await;
    assert_eq!(s.runs_created(), before + 1, "one run created");
    *s.run_ids().last().expect("the run")
}

#[tokio::test]
async fn thread_without_metadata_is_500_text_closes_and_breaks_search() {
    let s = workflow_server().await;
    let t = thread(&s).await;
    let (st, _) = post(&s, "/threads/search", json!({})).await;
    assert_eq!(st, StatusCode::OK);

    let (mut sock, answer) = raw_exchange(&s, &raw_post(&s, "/threads", "{}")).await;
    assert_unhandled_500(&answer);
    raw_send(&mut sock, &raw_post(&s, "/threads/search", "{}")).await;
    expect_reset(&mut sock).await;

    let resp = http()
        .post(format!("{}/threads/search", s.url()))
        .json(&json!({}))
        .send()
        .await
        .expect("search");
    assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(resp.text().await.expect("body"), "Internal Server Error");
    let (_, answer) = raw_exchange(&s, &raw_post(&s, "/threads/search", "{}")).await;
    assert_unhandled_500(&answer);
    assert_eq!(get(&s, &format!("/threads/{t}")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn thread_background_create_is_500_and_creates_no_run() {
    let s = workflow_server().await;
    let t = thread(&s).await;
    let body = json!({"agent_id": agents::STREAM, "input": {"count": 1}}).to_string();
    let (_, answer) = raw_exchange(&s, &raw_post(&s, &format!("/threads/{t}/runs"), &body)).await;
    assert_unhandled_500(&answer);
    // The un-awaited coroutine checks nothing: an unknown thread is the same 500.
    let unknown = format!("/threads/{}/runs", Uuid::new_v4());
    let (_, answer) = raw_exchange(&s, &raw_post(&s, &unknown, &body)).await;
    assert_unhandled_500(&answer);
    assert_eq!(s.runs_created(), 0, "no run created");
    let (st, listed) = get(&s, &format!("/threads/{t}/runs")).await;
    assert_eq!((st, listed), (StatusCode::OK, json!([])));
    // Validation still comes first.
    let (st, e) = post(
        &s,
        &format!("/threads/{t}/runs"),
        json!({"agent_id": agents::ECHO}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["detail"][0]["loc"], json!(["body", "config"]));

    // Create-and-wait on the thread and the stateless routes work.
    let (st, w) = post(
        &s,
        &format!("/threads/{t}/runs/wait"),
        json!({"agent_id": agents::STREAM}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{w}");
    assert_eq!(w["run"]["thread_id"], json!(t));
    assert_eq!(w["output"]["values"]["count"], 3);
    let (st, run) = post(&s, "/runs", json!({"agent_id": agents::STREAM})).await;
    assert_eq!(st, StatusCode::OK, "{run}");
    let (st, w) = post(&s, "/runs/wait", json!({"agent_id": agents::STREAM})).await;
    assert_eq!(
        (st, w["run"]["status"].clone()),
        (StatusCode::OK, json!("success"))
    );
    let (_, text) = stream_text(stream_run(&s, json!({"agent_id": agents::STREAM}))).await;
    assert_eq!(parse_sse(&text).len(), 4);
    assert_eq!(s.runs_created(), 4);
}

#[tokio::test]
async fn thread_wait_of_an_interrupting_run_is_500_and_leaves_it_interrupted() {
    let s = workflow_server().await;
    let t = thread(&s).await;
    let body = json!({"agent_id": agents::INTERRUPT}).to_string();
    let path = format!("/threads/{t}/runs/wait");
    let (_, answer) = raw_exchange(&s, &raw_post(&s, &path, &body)).await;
    assert_unhandled_500(&answer);
    assert_eq!(s.runs_created(), 1);
    let rid = *s.run_ids().last().expect("the run stays");
    assert_eq!(s.run_status(rid).await.as_deref(), Some("interrupted"));
    let (_, listed) = get(&s, &format!("/threads/{t}/runs")).await;
    assert_eq!(listed[0]["run_id"], json!(rid));
    assert_eq!(listed[0]["status"], "interrupted");
    // Joining it with a wait meets the same handler.
    let join = raw_request(&s, "GET", &format!("/threads/{t}/runs/{rid}/wait"), &[], "");
    let (_, answer) = raw_exchange(&s, &join).await;
    assert_unhandled_500(&answer);

    // The stateless wait answers the interrupt.
    let (st, w) = post(&s, "/runs/wait", json!({"agent_id": agents::INTERRUPT})).await;
    assert_eq!(st, StatusCode::OK, "{w}");
    assert_eq!(w["run"]["status"], "interrupted");
    assert_eq!(w["output"]["type"], "interrupt");
}

#[tokio::test]
async fn strict_query_parameters_are_refused_with_fastapi_422s() {
    let s = workflow_server().await;
    let t = thread(&s).await;
    let first = thread_run(
        &s,
        &t,
        json!({"agent_id": agents::STREAM, "input": {"count": 1}}),
    )
    .await;
    wait_status(&s, first, "success").await;
    let second = thread_run(&s, &t, json!({"agent_id": agents::SLOW})).await;
    let (_, stateless) = post(&s, "/runs", json!({"agent_id": agents::SLOW})).await;
    let sr = run_id(&stateless);

    let list = format!("/threads/{t}/runs");
    let int = |name: &str, input: &str| {
        format!(
            r#"{{"type":"int_type","loc":["query","{name}"],"msg":"Input should be a valid integer","input":"{input}"}}"#
        )
    };
    let bool_ = |input: &str| {
        format!(
            r#"{{"type":"bool_type","loc":["query","wait"],"msg":"Input should be a valid boolean","input":"{input}"}}"#
        )
    };
    let cases = [
        ("GET", format!("{list}?limit=5"), vec![int("limit", "5")]),
        ("GET", format!("{list}?offset=0"), vec![int("offset", "0")]),
        (
            "GET",
            format!("{list}?offset=1&limit=abc&limit=2"),
            vec![int("limit", "2"), int("offset", "1")],
        ),
        ("GET", format!("{list}?limit="), vec![int("limit", "")]),
        (
            "POST",
            format!("/runs/{sr}/cancel?wait=true"),
            vec![bool_("true")],
        ),
        (
            "POST",
            format!("{list}/{second}/cancel?action=rollback&wait=false"),
            vec![bool_("false")],
        ),
    ];
    for (method, path, items) in cases {
        let (_, answer) = raw_exchange(&s, &raw_request(&s, method, &path, &[], "")).await;
        let body = format!(r#"{{"detail":[{}]}}"#, items.join(","));
        assert_fastapi_422(&answer, &body);
    }

    // Without them: every run of the thread, oldest first; the cancels are not implemented.
    let (st, listed) = get(&s, &list).await;
    assert_eq!(st, StatusCode::OK);
    let ids: Vec<Value> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|r| r["run_id"].clone())
        .collect();
    assert_eq!(ids, [json!(first), json!(second)]);
    let (st, e) = send(http().post(format!("{}/runs/{sr}/cancel?action=rollback", s.url()))).await;
    assert_eq!(
        (st, e),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"detail": "Not implemented"})
        )
    );
    let (st, e) = get(&s, &format!("/threads/{}/runs", Uuid::new_v4())).await;
    assert_eq!(
        (st, e),
        (StatusCode::NOT_FOUND, json!({"detail": "Thread not found"}))
    );
    assert_eq!(
        s.run_status(second).await.as_deref(),
        Some("pending"),
        "nothing cancelled"
    );

    let spec = ReferenceServer::start().await;
    let t = new_thread(&spec).await;
    let (st, _) = get(&spec, &format!("/threads/{t}/runs?limit=5&offset=0")).await;
    assert_eq!(st, StatusCode::OK, "the spec dialect takes them");
}

#[tokio::test]
async fn after_an_unhandled_500_the_next_request_on_the_connection_is_reset() {
    let s = workflow_server().await;
    let t = thread(&s).await;
    let create = raw_post(
        &s,
        &format!("/threads/{t}/runs"),
        &json!({"agent_id": agents::STREAM}).to_string(),
    );
    let agent = raw_request(&s, "GET", &format!("/agents/{}", agents::STREAM), &[], "");

    // A normal answer keeps the connection (keep-alive).
    let (mut sock, answer) = raw_exchange(&s, &agent).await;
    assert_eq!(answer.status_line(), "HTTP/1.1 200 OK");
    raw_send(&mut sock, &create).await;
    let answer = read_response(&mut sock).await;
    assert_unhandled_500(&answer);
    assert_eq!(
        answer.header("connection"),
        None,
        "closed without saying so"
    );
    // The next request written onto it is reset, unread and unanswered.
    raw_send(&mut sock, &agent).await;
    expect_reset(&mut sock).await;
    assert_eq!(
        s.requests("GET", "/agents/*"),
        1,
        "the second GET never reached a handler"
    );

    // A client that half-closes instead meets a clean close.
    let (mut sock, answer) = raw_exchange(&s, &create).await;
    assert_unhandled_500(&answer);
    sock.shutdown().await.expect("half-close");
    let mut rest = Vec::new();
    let read = tokio::time::timeout(T, sock.read_to_end(&mut rest)).await;
    assert_eq!(read.expect("closed").expect("a clean close"), 0);

    // The server still stops with such a connection open.
    let (mut sock, answer) = raw_exchange(&s, &create).await;
    assert_unhandled_500(&answer);
    s.shutdown().await;
    let mut rest = Vec::new();
    let read = tokio::time::timeout(T, sock.read_to_end(&mut rest)).await;
    assert!(read.is_ok() && rest.is_empty(), "closed at shutdown");
}

#[tokio::test]
async fn unimplemented_operations_answer_500_detail() {
    let s = workflow_server().await;
    let t = thread(&s).await;
    let r = thread_run(&s, &t, json!({"agent_id": agents::SLOW})).await;
    let (_, stateless) = post(&s, "/runs", json!({"agent_id": agents::SLOW})).await;
    let sr = run_id(&stateless);
    let url = s.url();
    let calls = [
        http().post(format!("{url}/threads/{t}/copy")),
        http().get(format!("{url}/threads/{t}/history")),
        http().post(format!("{url}/threads/{t}/runs/{r}/cancel")),
        http().post(format!("{url}/runs/{sr}/cancel")),
        http().delete(format!("{url}/runs/{sr}")),
    ];
    for call in calls {
        let (st, body) = send(call).await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, json!({"detail": "Not implemented"}));
    }
    assert_eq!(
        s.run_status(r).await.as_deref(),
        Some("pending"),
        "not cancelled"
    );
}

#[tokio::test]
async fn running_status_and_no_terminal_event() {
    let s = workflow_server().await;
    let (_, run) = post(&s, "/runs", json!({"agent_id": agents::SLOW})).await;
    assert_eq!(run["status"], "running");
    assert_eq!(
        get(&s, &format!("/runs/{}", run_id(&run))).await.1["status"],
        "running"
    );
    let search = json!({"agent_id": agents::SLOW, "status": "running"});
    let (_, found) = post(&s, "/runs/search", search).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1));

    let (_, text) = stream_text(stream_run(
        &s,
        json!({"agent_id": agents::STREAM, "input": {"count": 3}}),
    ))
    .await;
    let evs = parse_sse(&text);
    // Three updates and the output, all `running`: no terminal status event.
    assert_eq!(ids(&evs), ["1", "2", "3", "4"]);
    let events = json_events(&evs);
    assert!(
        events
            .iter()
            .all(|e| e["type"] == "values" && e["status"] == "running")
    );
    assert_eq!(
        events[3]["values"]["count"], 3,
        "the output is the last update"
    );
    assert!(
        events
            .iter()
            .all(|e| e.as_object().is_some_and(|o| o.contains_key("messages")))
    );
    let rid = run_id(&events[0]);
    assert_eq!(s.run_status(rid).await.as_deref(), Some("success"));
    assert_eq!(
        s.run_event_count(rid),
        Some(4),
        "no final status event in the log"
    );
}

#[tokio::test]
async fn ids_per_connection_and_no_event_twice_after_a_cut() {
    let s = workflow_server().await;
    let t = thread(&s).await;
    let body = json!({"agent_id": agents::STREAM, "input": {"count": 6}});
    let rid = thread_run(&s, &t, body).await;
    wait_status(&s, rid, "success").await;

    s.inject(Target::Join, Fault::DropAfterEvents(2), 1);
    let (first, errored) = read_until_error(join_open(&s, &t, rid).await).await;
    assert!(errored, "the first connection is cut");
    let first = parse_sse(&first);
    assert_eq!(ids(&first), ["1", "2"]);

    // Last-Event-ID is ignored: the server sends what it has not delivered yet.
    let join = http()
        .get(format!("{}/threads/{t}/runs/{rid}/stream", s.url()))
        .header("last-event-id", "1");
    let (_, second) = stream_text(join).await;
    let second = parse_sse(&second);
    assert_eq!(
        ids(&second),
        ["1", "2", "3", "4", "5"],
        "numbered from 1 again"
    );

    // The six updates `i`, then the output `count`, each once.
    let seen: Vec<Value> = json_events(&first)
        .into_iter()
        .chain(json_events(&second))
        .map(|e| {
            e["values"]
                .get("i")
                .unwrap_or(&e["values"]["count"])
                .clone()
        })
        .collect();
    assert_eq!(
        seen,
        (0..6).chain([6]).map(|i| json!(i)).collect::<Vec<_>>(),
        "each event once"
    );

    let (_, third) =
        stream_text(http().get(format!("{}/threads/{t}/runs/{rid}/stream", s.url()))).await;
    assert_eq!(third, "", "nothing left to deliver");
}

#[tokio::test]
async fn keepalive_is_a_bare_colon_glued_onto_the_next_line() {
    let s = workflow_server().await;
    let t = thread(&s).await;
    let runs = format!("/threads/{t}/runs");
    let blocker = thread_run(&s, &t, json!({"agent_id": agents::SLOW})).await;
    let next =
        json!({"agent_id": agents::STREAM, "input": {"count": 1}, "multitask_strategy": "enqueue"});
    let rid = thread_run(&s, &t, next).await;

    // The queued run's stream is silent until the blocker goes: only keep-alives come.
    let resp = join_open(&s, &t, rid).await;
    let mut body = resp.bytes_stream();
    let mut buf = Vec::new();
    while !buf.contains(&b':') {
        let chunk = tokio::time::timeout(T, body.next())
            .await
            .expect("keep-alive");
        buf.extend_from_slice(&chunk.expect("open").expect("bytes"));
    }
    assert!(
        buf.iter().all(|b| *b == b':'),
        "bare colons, no newline: {buf:?}"
    );

    // Removing the blocker starts the queued run: its event follows the colons directly.
    let (st, _) = send(http().delete(format!("{}{runs}/{blocker}", s.url()))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    while let Some(chunk) = tokio::time::timeout(T, body.next()).await.expect("event") {
        buf.extend_from_slice(&chunk.expect("bytes"));
    }
    let text = String::from_utf8_lossy(&buf);
    let rest = text.trim_start_matches(':');
    assert!(
        text.len() > rest.len() && rest.starts_with("id: 1\n"),
        "{text:?}"
    );
    assert!(!text.contains("keep-alive"));
    // One update and the output (status `running`), and no terminal status event.
    let events = json_events(&parse_sse(rest));
    assert_eq!(events.len(), 2, "{text:?}");
    assert!(events.iter().all(|e| e["status"] == "running"), "{text:?}");
}

/// Reads the error stream until three error events and then three keep-alives arrived.
async fn assert_error_events_then_keepalives(resp: reqwest::Response) {
    let text = read_until(resp, |t| {
        t.matches("data: ").count() >= 3 && t.rsplit("\n\n").next().is_some_and(|r| r.len() >= 3)
    })
    .await;
    let (events, tail) = text.rsplit_once("\n\n").expect("events then keep-alives");
    let evs = parse_sse(&format!("{events}\n\n"));
    assert_eq!(ids(&evs), ["1", "2", "3"]);
    for e in json_events(&evs) {
        assert_eq!(e["type"], "error");
        assert_eq!(e["status"], "error");
        assert_eq!(e["errcode"], 500);
        assert!(e["description"].is_string());
    }
    assert!(
        tail.bytes().all(|b| b == b':'),
        "only keep-alives after: {tail:?}"
    );
}

#[tokio::test]
async fn failed_run_sends_three_error_events_then_keepalives() {
    let s = workflow_server().await;
    let resp = stream_run(&s, json!({"agent_id": agents::FAIL}))
        .send()
        .await
        .expect("stream");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_error_events_then_keepalives(resp).await;
}

#[tokio::test]
async fn failed_resume_sends_three_error_events_then_keepalives() {
    let s = workflow_server().await;
    let t = thread(&s).await;
    let rid = thread_run(&s, &t, json!({"agent_id": agents::INTERRUPT})).await;
    wait_status(&s, rid, "interrupted").await;
    let (st, resumed) = post(
        &s,
        &format!("/threads/{t}/runs/{rid}"),
        json!({"fail": true}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(resumed["status"], "running");
    wait_status(&s, rid, "error").await;
    assert_error_events_then_keepalives(join_open(&s, &t, rid).await).await;
}

#[tokio::test]
async fn acp_sdk_echo_agent_echoes_the_last_human_message() {
    let s = workflow_server().await;
    let (st, found) = post(
        &s,
        "/agents/search",
        json!({"name": "org.agntcy.echo_agent"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    let id = found[0]["agent_id"].clone();
    assert_eq!(id, json!(agents::ACP_SDK_ECHO));
    assert_eq!(found[0]["metadata"]["ref"]["version"], "0.1.0");
    let (_, d) = get(&s, &format!("/agents/{}/descriptor", agents::ACP_SDK_ECHO)).await;
    assert_eq!(d["specs"]["capabilities"]["interrupts"], true);
    assert!(d["specs"]["config"]["properties"]["to_upper"].is_object());
    assert_eq!(
        d["specs"]["interrupts"][0]["interrupt_type"],
        "echo_interrupt"
    );

    let history = json!([
        {"type": "human", "content": "Hello There"},
        {"type": "assistant", "content": "hi"},
        {"type": "human", "content": "Echo Me"},
    ]);
    let echo = |config: Value| json!({"agent_id": id, "input": {"messages": history}, "config": {"configurable": config}});
    let cases = [
        (json!({}), "Echo Me"),
        (json!({"to_upper": true}), "ECHO ME"),
        (json!({"to_lower": true, "to_upper": true}), "echo me"),
    ];
    for (config, reply) in cases {
        let (st, w) = post(&s, "/runs/wait", echo(config.clone())).await;
        assert_eq!(st, StatusCode::OK, "{w}");
        let mut want = history.as_array().cloned().unwrap_or_default();
        want.push(json!({"type": "assistant", "content": reply}));
        assert_eq!(w["output"]["values"]["messages"], json!(want), "{config}");
    }
    let only_ai = json!({"agent_id": id, "input": {"messages": [{"type": "ai", "content": "x"}]}, "config": {}});
    let (_, w) = post(&s, "/runs/wait", only_ai).await;
    assert_eq!(
        w["output"]["values"]["messages"],
        json!([{"type": "ai", "content": "x"}])
    );
    let (st, e) = post(
        &s,
        "/runs",
        json!({"agent_id": id, "input": {"messages": []}}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "config required: {e}");

    // One interrupt carrying the echo; the resume's messages are echoed for the output.
    let body = echo(json!({"interrupt_count": 2, "to_upper": true}));
    let (_, w) = post(&s, "/runs/wait", body).await;
    assert_eq!(w["run"]["status"], "interrupted");
    assert_eq!(
        w["output"]["interrupt"]["messages"][3]["content"],
        "ECHO ME"
    );
    let rid = run_id(&w["run"]);
    let resume = json!({"messages": [{"type": "human", "content": "again"}]});
    let (st, _) = post(&s, &format!("/runs/{rid}"), resume).await;
    assert_eq!(st, StatusCode::OK);
    let (_, w) = get(&s, &format!("/runs/{rid}/wait")).await;
    assert_eq!(w["run"]["status"], "success", "{w}");
    assert_eq!(
        w["output"]["values"]["messages"],
        json!([{"type": "human", "content": "again"}, {"type": "assistant", "content": "AGAIN"}])
    );

    let spec = ReferenceServer::start().await;
    let (st, found) = post(
        &spec,
        "/agents/search",
        json!({"name": "org.agntcy.echo_agent"}),
    )
    .await;
    assert_eq!(
        (st, found),
        (StatusCode::OK, json!([])),
        "the spec dialect lists the six"
    );
    let (st, _) = get(&spec, &format!("/agents/{}", agents::ACP_SDK_ECHO)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
