//! State-machine tests of the reference server, driven with raw reqwest + serde_json.
//! No sleeps: synchronisation goes through `ReferenceServer::wait_for` / server events.

use std::time::Duration;

use acp_reference_server::{
    Dialect, Fault, LineEnding, ReferenceServer, ServerConfig, ServerEvent, Target, WaitRoute,
    agents,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

mod support;

use support::*;

#[tokio::test]
async fn agents_search_get_descriptor() {
    let s = ReferenceServer::start().await;
    let (st, list) = post(&s, "/agents/search", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(6));
    let (_, found) = post(&s, "/agents/search", json!({"name": "interrupt"})).await;
    assert_eq!(found[0]["agent_id"], json!(agents::INTERRUPT));
    assert_eq!(found[0]["metadata"]["ref"]["name"], "interrupt");
    assert!(found[0]["metadata"]["description"].is_string());
    let (st, d) = get(&s, &format!("/agents/{}/descriptor", agents::INTERRUPT)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["specs"]["capabilities"]["interrupts"], true);
    assert_eq!(d["specs"]["interrupts"][0]["interrupt_type"], "question");
    for k in ["input", "output", "config"] {
        assert!(d["specs"][k].is_object(), "{k}");
    }
    let (st, body) = get(&s, &format!("/agents/{}", Uuid::new_v4())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(body.is_string(), "spec error body is a JSON string");
    assert_eq!(
        get(&s, "/agents/not-a-uuid").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    expect_post(
        &s,
        "/agents/search",
        json!({"limit": 0}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn threads_crud_history_copy() {
    let s = ReferenceServer::start().await;
    let id = Uuid::new_v4();
    let (st, t) = post(
        &s,
        "/threads",
        json!({"thread_id": id, "metadata": {"k": "v"}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(t["status"], "idle");
    expect_post(
        &s,
        "/threads",
        json!({"thread_id": id}),
        StatusCode::CONFLICT,
    )
    .await;
    let (st, same) = post(
        &s,
        "/threads",
        json!({"thread_id": id, "if_exists": "do_nothing"}),
    )
    .await;
    assert_eq!(
        (st, same["thread_id"].clone()),
        (StatusCode::OK, json!(id.to_string()))
    );
    expect_post(
        &s,
        "/threads",
        json!({"if_exists": "sometimes"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let (st, p) = send(
        http()
            .patch(format!("{}/threads/{id}", s.url()))
            .json(&json!({"metadata": {"x": 1}, "values": {"a": 1}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(p["metadata"], json!({"k": "v", "x": 1}));
    let (_, found) = post(&s, "/threads/search", json!({"metadata": {"x": 1}})).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    let (st, hist) = get(&s, &format!("/threads/{id}/history?limit=5")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(hist[0]["values"], json!({"a": 1}));
    assert!(hist[0]["checkpoint"]["checkpoint_id"].is_string());
    let (st, copy) = post(&s, &format!("/threads/{id}/copy"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_ne!(copy["thread_id"], json!(id.to_string()));
    assert_eq!(copy["values"], json!({"a": 1}));
    let (st, _) = send(http().delete(format!("{}/threads/{id}", s.url()))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for path in [format!("/threads/{id}"), format!("/threads/{id}/history")] {
        assert_eq!(get(&s, &path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn create_stream_success() {
    let s = ReferenceServer::start().await;
    let t = new_thread(&s).await;
    let (headers, text) = stream_text(
        http()
            .post(format!("{}/threads/{t}/runs/stream", s.url()))
            .json(&json!({"agent_id": agents::STREAM, "input": {"count": 3, "size": 4}})),
    )
    .await;
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/event-stream")
    );
    let evs = parse_sse(&text);
    assert_eq!(ids(&evs), ["1", "2", "3", "4"]);
    assert!(text.contains("event: agent_event"));
    let data = json_events(&evs);
    assert_eq!(data[0]["values"], json!({"i": 0, "pad": "xxxx"}));
    assert_eq!(data[0]["status"], "pending");
    assert_eq!(data[3]["status"], "success");
    assert_eq!(data[3]["values"], json!({"count": 3}));
    let rid = run_id(&data[0]);
    let (st, run) = get(&s, &format!("/threads/{t}/runs/{rid}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(run["status"], "success");
    assert_eq!(run["agent_id"], json!(agents::STREAM));
    assert_eq!(run["thread_id"], json!(t));
    assert_eq!(run["creation"]["multitask_strategy"], "reject");
    assert_eq!(run["creation"]["if_not_exists"], "reject");
    assert_eq!(run["creation"]["stream_mode"], Value::Null);
    let (_, w) = get(&s, &format!("/threads/{t}/runs/{rid}/wait")).await;
    assert_eq!(
        w["output"],
        json!({"type": "result", "values": {"count": 3}})
    );
    let (_, th) = get(&s, &format!("/threads/{t}")).await;
    assert_eq!(th["status"], "idle");
    assert_eq!(th["values"], json!({"count": 3}));
    let (_, list) = get(&s, &format!("/threads/{t}/runs?limit=10&offset=0")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn custom_agent_streams_both_modes() {
    let s = ReferenceServer::start().await;
    let (_, text) = stream_text(http().post(format!("{}/runs/stream", s.url())).json(&json!({
        "agent_id": agents::CUSTOM, "input": {"count": 2}, "stream_mode": ["values", "custom"]
    })))
    .await;
    let data = json_events(&parse_sse(&text));
    let types: Vec<&str> = data.iter().filter_map(|d| d["type"].as_str()).collect();
    assert_eq!(types, ["values", "custom", "values", "custom", "values"]);
    assert_eq!(data[1]["update"], json!({"i": 0}));
}

#[tokio::test]
async fn interrupt_resume_success() {
    let s = ReferenceServer::start().await;
    let t = new_thread(&s).await;
    let (st, w) = post(
        &s,
        &format!("/threads/{t}/runs/wait"),
        json!({"agent_id": agents::INTERRUPT, "input": {"interrupts": 2}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(w["run"]["status"], "interrupted");
    assert_eq!(w["output"]["type"], "interrupt");
    assert_eq!(w["output"]["interrupt"]["round"], 1);
    let rid = run_id(&w["run"]);
    assert_eq!(
        get(&s, &format!("/threads/{t}")).await.1["status"],
        "interrupted"
    );
    let path = format!("/threads/{t}/runs/{rid}");
    expect_post(&s, &path, json!([1]), StatusCode::UNPROCESSABLE_ENTITY).await;
    let (st, r) = post(&s, &path, json!({"answer": "a"})).await;
    assert_eq!(st, StatusCode::OK);
    assert!(r["status"] == "pending" || r["status"] == "interrupted");
    // resume flips the run to pending before answering, so a wait now sees round 2.
    let (_, w) = get(&s, &format!("{path}/wait")).await;
    assert_eq!(w["output"]["interrupt"]["round"], 2);
    expect_post(&s, &path, json!({"answer": "b"}), StatusCode::OK).await;
    let w = get(&s, &format!("{path}/wait")).await.1;
    assert_eq!(w["run"]["status"], "success");
    assert_eq!(
        w["output"]["values"],
        json!({"answers": [{"answer": "a"}, {"answer": "b"}]})
    );
    expect_post(&s, &path, json!({}), StatusCode::CONFLICT).await;
    // The log holds all segments: 3 final events (interrupted, interrupted, success).
    let (_, text) = stream_text(http().get(format!("{}{path}/stream", s.url()))).await;
    assert_eq!(ids(&parse_sse(&text)), ["1", "2", "3"]);
    let (_, hist) = get(&s, &format!("/threads/{t}/history")).await;
    assert_eq!(hist.as_array().map(Vec::len), Some(3));
}

async fn start_slow(s: &ReferenceServer, t: &str) -> Uuid {
    let (st, r) = post(
        s,
        &format!("/threads/{t}/runs"),
        json!({"agent_id": agents::SLOW}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["status"], "pending");
    run_id(&r)
}

#[tokio::test]
async fn cancel_interrupt_without_wait() {
    let s = ReferenceServer::start().await;
    let t = new_thread(&s).await;
    let rid = start_slow(&s, &t).await;
    assert_eq!(get(&s, &format!("/threads/{t}")).await.1["status"], "busy");
    let (st, _) = post(&s, &format!("/threads/{t}/runs/{rid}/cancel"), json!(null)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    s.wait_for(|e| *e == ServerEvent::RunCancelled { run_id: rid }, T)
        .await
        .expect("cancelled");
    assert_eq!(
        get(&s, &format!("/threads/{t}/runs/{rid}")).await.1["status"],
        "interrupted"
    );
    assert_eq!(s.run_status(rid).await.as_deref(), Some("interrupted"));
    assert_eq!(
        get(&s, &format!("/threads/{t}")).await.1["status"],
        "interrupted"
    );
    // A cancelled run is not resumable.
    expect_post(
        &s,
        &format!("/threads/{t}/runs/{rid}"),
        json!({}),
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test]
async fn cancel_rollback_with_and_without_wait() {
    let s = ReferenceServer::start().await;
    let t = new_thread(&s).await;
    for wait in [true, false] {
        let rid = start_slow(&s, &t).await;
        let (st, _) = post(
            &s,
            &format!("/threads/{t}/runs/{rid}/cancel?wait={wait}&action=rollback"),
            json!(null),
        )
        .await;
        assert_eq!(st, StatusCode::NO_CONTENT);
        s.wait_for(|e| *e == ServerEvent::RunCancelled { run_id: rid }, T)
            .await
            .expect("cancelled");
        assert_eq!(
            get(&s, &format!("/threads/{t}/runs/{rid}")).await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(s.run_status(rid).await, None);
    }
    let (_, hist) = get(&s, &format!("/threads/{t}/history")).await;
    assert_eq!(hist, json!([]), "rolled back runs leave no checkpoints");
    assert_eq!(get(&s, &format!("/threads/{t}")).await.1["status"], "idle");
    let rid = start_slow(&s, &t).await;
    expect_post(
        &s,
        &format!("/threads/{t}/runs/{rid}/cancel?action=explode"),
        json!(null),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn not_found_conflict_unprocessable() {
    let s = ReferenceServer::start().await;
    let missing = Uuid::new_v4();
    expect_post(
        &s,
        &format!("/threads/{missing}/runs"),
        json!({"agent_id": agents::ECHO}),
        StatusCode::NOT_FOUND,
    )
    .await;
    let (st, r) = post(
        &s,
        &format!("/threads/{missing}/runs/wait"),
        json!({"agent_id": agents::ECHO, "if_not_exists": "create", "input": {"a": 1}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["output"]["values"], json!({"a": 1}));
    let t = new_thread(&s).await;
    assert_eq!(
        get(&s, &format!("/threads/{t}/runs/{missing}")).await.0,
        StatusCode::NOT_FOUND
    );
    expect_post(
        &s,
        &format!("/threads/{t}/runs"),
        json!({"agent_id": "nobody"}),
        StatusCode::NOT_FOUND,
    )
    .await;
    let _slow = start_slow(&s, &t).await;
    let (st, body) = post(
        &s,
        &format!("/threads/{t}/runs"),
        json!({"agent_id": agents::ECHO}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(body.is_string());
    for bad in [
        json!({"agent_id": agents::ECHO, "input": [1, 2]}),
        json!({"agent_id": agents::ECHO, "stream_mode": "everything"}),
        json!({"agent_id": agents::ECHO, "multitask_strategy": "panic"}),
        json!({"agent_id": 7}),
        json!("not an object"),
    ] {
        assert_eq!(
            post(&s, "/runs", bad.clone()).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
    for path in [
        "/runs/not-a-uuid".to_string(),
        format!("/threads/{t}/runs/xyz/wait"),
        format!("/threads/{t}/runs?limit=many"),
    ] {
        assert_eq!(
            get(&s, &path).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
    }
}

#[tokio::test]
async fn multitask_interrupt_replaces_pending_run() {
    let s = ReferenceServer::start().await;
    let t = new_thread(&s).await;
    let slow = start_slow(&s, &t).await;
    let (st, w) = post(
        &s,
        &format!("/threads/{t}/runs/wait"),
        json!({"agent_id": agents::ECHO, "multitask_strategy": "interrupt", "input": {"z": 1}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(w["run"]["status"], "success");
    assert_eq!(s.run_status(slow).await.as_deref(), Some("interrupted"));
}

#[tokio::test]
async fn detail_errors_config() {
    let s = ReferenceServer::start_with(ServerConfig {
        detail_errors: true,
        ..Default::default()
    })
    .await;
    let (st, body) = get(&s, &format!("/threads/{}", Uuid::new_v4())).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(body["detail"].is_string());
}

#[tokio::test]
async fn fail_agent_errors() {
    let s = ReferenceServer::start().await;
    let t = new_thread(&s).await;
    let (_, w) = post(
        &s,
        &format!("/threads/{t}/runs/wait"),
        json!({"agent_id": agents::FAIL}),
    )
    .await;
    assert_eq!(w["run"]["status"], "error");
    assert_eq!(w["output"]["type"], "error");
    assert_eq!(w["output"]["errcode"], 42);
    assert!(w["output"]["description"].is_string());
    assert_eq!(w["output"]["run_id"], w["run"]["run_id"]);
    assert_eq!(get(&s, &format!("/threads/{t}")).await.1["status"], "error");
    let (_, w) = post(
        &s,
        "/runs/wait",
        json!({"agent_id": agents::FAIL, "input": {"timeout": true}}),
    )
    .await;
    assert_eq!(w["run"]["status"], "timeout");
}

#[tokio::test]
async fn stateless_runs() {
    let s = ReferenceServer::start().await;
    let (st, w) = post(
        &s,
        "/runs/wait",
        json!({"agent_id": agents::ECHO, "input": {"hello": "world"}, "metadata": {"tag": 1}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        w["output"],
        json!({"type": "result", "values": {"hello": "world"}})
    );
    assert!(w["run"].get("thread_id").is_none());
    assert_eq!(w["run"]["creation"]["on_completion"], "delete");
    let rid = run_id(&w["run"]);
    let (_, found) = post(
        &s,
        "/runs/search",
        json!({"metadata": {"tag": 1}, "status": "success"}),
    )
    .await;
    assert_eq!(found[0]["run_id"], json!(rid));
    expect_post(
        &s,
        "/runs/search",
        json!({"status": "bogus"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        get(&s, &format!("/runs/{rid}")).await.1["status"],
        "success"
    );
    let (st, _) = send(http().delete(format!("{}/runs/{rid}", s.url()))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&s, &format!("/runs/{rid}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn last_event_id_replay_and_late_join() {
    let s = ReferenceServer::start().await;
    let (_, w) = post(
        &s,
        "/runs/wait",
        json!({"agent_id": agents::STREAM, "input": {"count": 5}}),
    )
    .await;
    let rid = run_id(&w["run"]);
    let url = format!("{}/runs/{rid}/stream", s.url());
    let (_, all) = stream_text(http().get(&url)).await;
    assert_eq!(ids(&parse_sse(&all)), ["1", "2", "3", "4", "5", "6"]);
    let (_, rest) = stream_text(http().get(&url).header("Last-Event-ID", "3")).await;
    let evs = parse_sse(&rest);
    assert_eq!(ids(&evs), ["4", "5", "6"]);
    assert_eq!(json_events(&evs)[2]["status"], "success");
    let (_, none) = stream_text(http().get(&url).header("Last-Event-ID", "6")).await;
    assert!(parse_sse(&none).is_empty());
}

#[tokio::test]
async fn live_join_ends_when_run_is_cancelled() {
    let s = ReferenceServer::start().await;
    let t = new_thread(&s).await;
    let rid = start_slow(&s, &t).await;
    let resp = join_open(&s, &t, rid).await;
    let (st, _) = post(
        &s,
        &format!("/threads/{t}/runs/{rid}/cancel?wait=true"),
        json!(null),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let data = json_events(&parse_sse(&resp.text().await.expect("body")));
    assert_eq!(
        data.last().map(|d| d["status"].clone()),
        Some(json!("interrupted"))
    );
}

#[tokio::test]
async fn large_run_streams_completely() {
    let s = ReferenceServer::start().await;
    let (_, text) = stream_text(
        http()
            .post(format!("{}/runs/stream", s.url()))
            .json(&json!({
                "agent_id": agents::STREAM, "input": {"count": 20000, "size": 1024}
            })),
    )
    .await;
    let evs = parse_sse(&text);
    assert_eq!(evs.len(), 20001);
    assert_eq!(
        evs.last().and_then(|e| e.id.clone()).as_deref(),
        Some("20001")
    );
}

/// Waits for the stream `resp` to open, drops it, and waits for the server to see the client
/// go; returns the run id.
async fn drop_once_open(s: &ReferenceServer, resp: reqwest::Response) -> Uuid {
    let opened = s
        .wait_for(|e| matches!(e, ServerEvent::StreamOpened { .. }), T)
        .await;
    let Some(ServerEvent::StreamOpened { run_id }) = opened else {
        panic!("no stream")
    };
    drop(resp);
    s.wait_for(
        |e| {
            *e == ServerEvent::StreamClosed {
                run_id,
                client_gone: true,
            }
        },
        T,
    )
    .await
    .expect("client gone noticed");
    run_id
}

fn stream_req(s: &ReferenceServer, count: u64) -> reqwest::RequestBuilder {
    http()
        .post(format!("{}/runs/stream", s.url()))
        .json(&json!({"agent_id": agents::STREAM, "input": {"count": count}}))
}

#[tokio::test]
async fn fault_drop_after_events() {
    let s = ReferenceServer::start().await;
    s.inject(Target::Stream, Fault::DropAfterEvents(2), 1);
    let resp = stream_req(&s, 10).send().await.expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    let (text, errored) = read_until_error(resp).await;
    assert!(errored, "the body must end in an error");
    assert!(parse_sse(&text).len() <= 2);
    // Next stream is normal again.
    let (_, text) = stream_text(stream_req(&s, 2)).await;
    assert_eq!(parse_sse(&text).len(), 3);
}

#[tokio::test]
async fn fault_end_after_events_then_run_completes() {
    let s = ReferenceServer::start().await;
    let resp = stream_req(&s, 5)
        .header("x-acp-fault", "end-after=2")
        .send()
        .await
        .expect("send");
    let (text, errored) = read_until_error(resp).await;
    assert!(!errored);
    let evs = parse_sse(&text);
    assert_eq!(ids(&evs), ["1", "2"]);
    let rid = run_id(&json_events(&evs)[0]);
    let (_, w) = get(&s, &format!("/runs/{rid}/wait")).await;
    assert_eq!(w["run"]["status"], "success");
}

#[tokio::test]
async fn fault_stall_then_client_gone_cancels_run() {
    let s = ReferenceServer::start().await;
    let resp = http()
        .post(format!("{}/runs/stream", s.url()))
        .header("x-acp-fault", "stall-after=0")
        .json(&json!({"agent_id": agents::SLOW}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    let run_id = drop_once_open(&s, resp).await;
    s.wait_for(|e| *e == ServerEvent::RunCancelled { run_id }, T)
        .await
        .expect("on_disconnect=cancel");
    assert_eq!(s.run_status(run_id).await.as_deref(), Some("interrupted"));
}

#[tokio::test]
async fn fault_on_disconnect_continue_keeps_run() {
    let s = ReferenceServer::start().await;
    let resp = http()
        .post(format!("{}/runs/stream", s.url()))
        .json(&json!({"agent_id": agents::SLOW, "on_disconnect": "continue"}))
        .send()
        .await
        .expect("send");
    let run_id = drop_once_open(&s, resp).await;
    assert_eq!(s.run_status(run_id).await.as_deref(), Some("pending"));
}

#[tokio::test]
async fn fault_trickle_and_line_endings() {
    let s = ReferenceServer::start().await;
    for header in [
        "trickle",
        "line-ending=crlf",
        "line-ending=cr",
        "trickle,line-ending=crlf",
    ] {
        let (_, text) = stream_text(stream_req(&s, 2).header("x-acp-fault", header)).await;
        let evs = parse_sse(&text);
        assert_eq!(ids(&evs), ["1", "2", "3"], "{header}");
        if header.contains("crlf") {
            assert!(text.contains("\r\n"));
        }
    }
    s.inject(Target::Stream, Fault::LineEnding(LineEnding::Cr), 1);
    let (_, text) = stream_text(stream_req(&s, 1)).await;
    assert!(!text.contains('\n') && text.contains('\r'));
}

#[tokio::test]
async fn fault_malformed_and_oversized_events() {
    let s = ReferenceServer::start().await;
    s.inject(Target::Stream, Fault::MalformedEvent(1), 1);
    let (_, text) = stream_text(stream_req(&s, 3)).await;
    let evs = parse_sse(&text);
    assert_eq!(evs.len(), 5);
    assert!(serde_json::from_str::<Value>(&evs[1].data).is_err());
    assert_eq!(ids(&evs), ["1", "2", "3", "4"]);
    let (_, text) = stream_text(stream_req(&s, 1).header("x-acp-fault", "oversized=300000")).await;
    let evs = parse_sse(&text);
    assert_eq!(evs[0].data.len(), 300_002);
    assert_eq!(evs.len(), 3);
}

#[tokio::test]
async fn fault_wrong_content_type_and_keepalives_first() {
    let s = ReferenceServer::start().await;
    s.inject(Target::Stream, Fault::WrongContentType, 1);
    let resp = stream_req(&s, 1).send().await.expect("send");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let (_, text) =
        stream_text(stream_req(&s, 1).header("x-acp-fault", "keepalives-first=3")).await;
    assert!(text.starts_with(": keep-alive\n\n: keep-alive\n\n: keep-alive\n\n"));
    assert_eq!(parse_sse(&text).len(), 2);
}

#[tokio::test]
async fn fault_status_then_normal() {
    let s = ReferenceServer::start().await;
    s.inject(Target::CreateRun, Fault::Status(503), 1);
    let (st, body) = post(&s, "/runs", json!({"agent_id": agents::ECHO})).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.is_string());
    expect_post(
        &s,
        "/runs",
        json!({"agent_id": agents::ECHO}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(s.requests("POST", "/runs"), 2);
    assert_eq!(
        get(&s, "/agents/x").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (st, _) = send(
        http()
            .get(format!("{}/agents/{}", s.url(), agents::ECHO))
            .header("x-acp-fault", "status=500"),
    )
    .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        send(
            http()
                .get(format!("{}/agents/{}", s.url(), agents::ECHO))
                .header("x-acp-fault", "bogus")
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(s.requests("GET", "/agents/*"), 3);
}

#[tokio::test]
async fn wait_timeout_variants() {
    let s = ReferenceServer::start_with(ServerConfig {
        wait_timeout: Duration::from_millis(50),
        ..ServerConfig::default()
    })
    .await;
    let (st, w) = post(&s, "/runs/wait", json!({"agent_id": agents::SLOW})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(w["run"]["status"], "pending");
    assert!(w.get("output").is_none());
    let s = ReferenceServer::start_with(ServerConfig {
        wait_timeout: Duration::from_millis(50),
        wait_204_on_timeout: true,
        ..ServerConfig::default()
    })
    .await;
    let (_, r) = post(&s, "/runs", json!({"agent_id": agents::SLOW})).await;
    let (st, _) = get(&s, &format!("/runs/{}/wait", run_id(&r))).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn wait_route_variants() {
    for (route, code) in [
        (WaitRoute::Missing404, 404),
        (WaitRoute::MethodNotAllowed405, 405),
        (WaitRoute::NotImplemented501, 501),
        (WaitRoute::NotImplemented500, 500),
    ] {
        let s = ReferenceServer::start_with(ServerConfig {
            wait_route: route,
            ..ServerConfig::default()
        })
        .await;
        let (_, r) = post(&s, "/runs", json!({"agent_id": agents::ECHO})).await;
        let (st, body) = get(&s, &format!("/runs/{}/wait", run_id(&r))).await;
        assert_eq!(st.as_u16(), code);
        if route == WaitRoute::NotImplemented500 {
            assert_eq!(body, json!("Not implemented"));
        }
    }
}

#[tokio::test]
async fn restart_cuts_streams_and_keeps_state() {
    let mut s = ReferenceServer::start().await;
    let t = new_thread(&s).await;
    let rid = start_slow(&s, &t).await;
    let resp = join_open(&s, &t, rid).await;
    let url = s.url();
    s.restart().await;
    assert_eq!(s.url(), url);
    let (_, errored) = read_until_error(resp).await;
    assert!(errored, "the stream is cut by the restart");
    assert_eq!(
        get(&s, &format!("/threads/{t}/runs/{rid}")).await.1["status"],
        "pending"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn request_headers_are_recorded() {
    for dialect in [Dialect::Spec, Dialect::WorkflowServer] {
        let s = ReferenceServer::with_dialect(dialect).await;
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let resp = http()
            .post(format!("{}/runs/search?x=1", s.url()))
            .header("traceparent", traceparent)
            .header("tracestate", "acp=1,other=2")
            .json(&json!({"agent_id": agents::STREAM}))
            .send()
            .await
            .expect("search");
        assert_eq!(resp.status(), StatusCode::OK);
        let (st, _) = get(&s, &format!("/agents/{}", agents::STREAM)).await;
        assert_eq!(st, StatusCode::OK);

        assert_eq!(
            s.request_headers("POST", "/runs/search", "traceparent"),
            [Some(traceparent.to_owned())]
        );
        assert_eq!(s.request_headers("GET", "/agents/*", "traceparent"), [None]);
        let all = s.recorded_requests();
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(
            (
                all[0].method.as_str(),
                all[0].path.as_str(),
                all[0].query.as_deref()
            ),
            ("POST", "/runs/search", Some("x=1"))
        );
        assert_eq!(all[0].header("TraceState"), Some("acp=1,other=2"));
        assert_eq!(all[0].header("content-type"), Some("application/json"));
        assert!(all[1].matches("get", "/agents/*"));
    }
}
