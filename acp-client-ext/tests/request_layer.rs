//! The request layer's faults (issue 14), each with its input, on loopback servers: redirects
//! across two ports (two origins), server hints above and below the client's caps, typed
//! timeouts, waits through gateways, a connection the server closes after a 500, per-call
//! options, and errors a newcomer can act on.

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acp_client_ext::{AcpClient, Error, RetryPolicy, RunScope, TimeoutKind, TransportKind, types};
use acp_reference_server::Dialect;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use support::T;

const ID: &str = "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11";

/// What a loopback server received.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
    peer: SocketAddr,
    at: Instant,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// A loopback server answering every request with `answer(n, seen)` (n: 0-based request count).
async fn serve<F>(answer: F) -> (SocketAddr, Log)
where
    F: Fn(usize, &Seen) -> Response + Send + Sync + 'static,
{
    let log: Log = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let answer = Arc::new(answer);
    let state = (log.clone(), count, answer);
    let app = Router::new().fallback(
        |State((log, count, answer)): State<(Log, Arc<AtomicUsize>, Arc<F>)>,
         ConnectInfo(peer): ConnectInfo<SocketAddr>,
         method: Method,
         uri: Uri,
         headers: HeaderMap,
         body: Bytes| async move {
            let seen = Seen {
                method,
                path: uri.path().to_string(),
                headers,
                body,
                peer,
                at: Instant::now(),
            };
            let n = count.fetch_add(1, Ordering::SeqCst);
            log.lock().unwrap().push(seen.clone());
            let resp = answer(n, &seen);
            if resp.status() == StatusCode::REQUEST_TIMEOUT {
                // The stand-in for "never answer": stall until the client gives up.
                std::future::pending::<()>().await;
            }
            resp
        },
    );
    let app = app.with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    (addr, log)
}

fn seen(log: &Log) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

/// "Stall" (see [`serve`]).
fn stall() -> Response {
    StatusCode::REQUEST_TIMEOUT.into_response()
}

fn json(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn redirect(status: u16, to: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::LOCATION, to)],
    )
        .into_response()
}

fn fast() -> RetryPolicy {
    support::fast_retries()
}

// ---- Fault 1: redirects ----

#[tokio::test]
async fn fault1_credentials_never_cross_origins_on_a_redirect() {
    let (other, other_log) = serve(|_, _| json(StatusCode::NOT_FOUND, r#""no agent here""#)).await;
    let (origin, origin_log) = serve(move |_, s| {
        if s.path.starts_with("/agents/") && !s.path.ends_with("/same") {
            redirect(302, format!("http://{other}{}", s.path))
        } else {
            json(StatusCode::NOT_FOUND, r#""gone""#)
        }
    })
    .await;
    let client = AcpClient::builder(format!("http://{origin}"))
        .api_key("sk-secret")
        .bearer_token("tok-secret")
        .sensitive_header("x-tenant-token", "t-secret")
        .header("x-tenant", "acme")
        .retry(fast())
        .build()
        .unwrap();
    let err = tokio::time::timeout(T, client.get_agent(ID))
        .await
        .unwrap()
        .unwrap_err();
    // The answer of the other origin, named by its host:port.
    assert_eq!(err.status(), Some(reqwest::StatusCode::NOT_FOUND), "{err}");
    assert!(err.to_string().contains(&other.to_string()), "{err}");
    let at_origin = seen(&origin_log);
    assert_eq!(at_origin.len(), 1);
    assert_eq!(at_origin[0].headers["x-api-key"], "sk-secret");
    let at_other = seen(&other_log);
    assert_eq!(at_other.len(), 1, "the redirect was followed once");
    let h = &at_other[0].headers;
    for secret in ["x-api-key", "authorization", "x-tenant-token"] {
        assert!(
            !h.contains_key(secret),
            "{secret} crossed to the other origin: {h:?}"
        );
    }
    assert_eq!(h["x-tenant"], "acme", "plain headers go along");
    assert_eq!(at_other[0].path, format!("/agents/{ID}"));
}

#[tokio::test]
async fn fault1_a_same_origin_redirect_keeps_the_credentials() {
    let (origin, log) = serve(|n, s| match n {
        0 => redirect(307, format!("{}/same", s.path)),
        _ => json(StatusCode::NOT_FOUND, r#""gone""#),
    })
    .await;
    let client = AcpClient::builder(format!("http://{origin}"))
        .api_key("sk-secret")
        .build()
        .unwrap();
    let err = client.get_agent(ID).await.unwrap_err();
    assert_eq!(err.status(), Some(reqwest::StatusCode::NOT_FOUND));
    let s = seen(&log);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].path, format!("/agents/{ID}/same"));
    assert_eq!(s[1].headers["x-api-key"], "sk-secret");
}

#[tokio::test]
async fn fault1_301_302_303_answers_to_a_post_are_errors_naming_the_redirect() {
    for status in [301u16, 302, 303] {
        let (other, other_log) = serve(|_, _| json(StatusCode::OK, "[]")).await;
        let (origin, _) =
            serve(move |_, s| redirect(status, format!("http://{other}{}", s.path))).await;
        let client = AcpClient::builder(format!("http://{origin}"))
            .build()
            .unwrap();
        let err = client.search_agents().await.unwrap_err();
        match &err {
            Error::Redirect {
                operation,
                status: s,
                location,
                ..
            } => {
                assert_eq!(*operation, "search_agents");
                assert_eq!(s.as_u16(), status);
                assert!(location.contains(&other.to_string()), "{location}");
            }
            other => panic!("{status}: expected Error::Redirect, got {other:?}"),
        }
        assert!(err.to_string().contains("redirect"), "{err}");
        assert!(
            seen(&other_log).is_empty(),
            "{status}: nothing sent to the target"
        );
    }
}

#[tokio::test]
async fn fault1_307_and_308_repeat_the_same_method_and_body() {
    for status in [307u16, 308] {
        let (other, other_log) = serve(|_, _| json(StatusCode::OK, "[]")).await;
        let (origin, origin_log) =
            serve(move |_, s| redirect(status, format!("http://{other}{}", s.path))).await;
        let client = AcpClient::builder(format!("http://{origin}"))
            .build()
            .unwrap();
        let request = types::AgentSearchRequest {
            name: Some("echo".into()),
            ..Default::default()
        };
        let agents = client.search_agents_with(request).await.unwrap();
        assert!(agents.is_empty());
        let first = &seen(&origin_log)[0];
        let again = &seen(&other_log)[0];
        assert_eq!(again.method, Method::POST, "{status}");
        assert_eq!(again.path, "/agents/search");
        assert_eq!(again.body, first.body, "{status}: the same body");
        assert!(!first.body.is_empty());
    }
}

// ---- Fault 2: server hints ----

#[tokio::test]
async fn fault2_a_retry_after_above_the_cap_is_capped() {
    let (addr, log) = serve(|n, _| match n {
        0 => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "3600")],
        )
            .into_response(),
        _ => json(StatusCode::OK, "[]"),
    })
    .await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(20),
        })
        .build()
        .unwrap();
    // An hour asked for; the client's cap (20 ms) applies: the call returns, bounded by T.
    let agents = tokio::time::timeout(T, client.search_agents())
        .await
        .unwrap()
        .unwrap();
    assert!(agents.is_empty());
    assert_eq!(seen(&log).len(), 2);
}

#[tokio::test]
async fn fault2_a_retry_after_below_the_cap_is_a_floor() {
    for as_date in [false, true] {
        let hint = match as_date {
            false => "1".to_string(),
            true => httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2)),
        };
        let h = hint.clone();
        let (addr, log) = serve(move |n, _| match n {
            0 => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, h.clone())],
            )
                .into_response(),
            _ => json(StatusCode::OK, "[]"),
        })
        .await;
        let client = AcpClient::builder(format!("http://{addr}"))
            .retry(RetryPolicy {
                max_retries: 2,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_secs(10),
            })
            .build()
            .unwrap();
        client.search_agents().await.unwrap();
        let s = seen(&log);
        assert_eq!(s.len(), 2);
        // A lower bound only: a sleep is never shorter than asked (an HTTP date has 1 s
        // resolution, so at least 1 s of the 2 s asked remains).
        let gap = s[1].at - s[0].at;
        assert!(
            gap >= Duration::from_millis(990),
            "{hint}: retried after {gap:?}"
        );
    }
}

fn sse_event(id: u32, status: &str) -> String {
    format!(
        "id: {id}\nevent: agent_event\ndata: {{\"type\":\"values\",\"run_id\":\"{ID}\",\"status\":\"{status}\",\"values\":{{\"n\":{id}}}}}\n\n"
    )
}

#[tokio::test]
async fn fault2_an_sse_retry_of_an_hour_is_capped_by_the_client() {
    let (addr, log) = serve(|_, s| {
        let sse =
            |body: String| ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response();
        if s.path.ends_with("/stream") && !s.headers.contains_key("last-event-id") {
            // Asks for an hour between reconnects, then ends before the run settled.
            sse(format!("retry: 3600000\n\n{}", sse_event(1, "pending")))
        } else if s.path.ends_with("/stream") {
            sse(sse_event(2, "success"))
        } else {
            json(
                StatusCode::OK,
                &format!(r#"{{"run_id":"{ID}","status":"pending"}}"#),
            )
        }
    })
    .await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .retry(fast())
        .build()
        .unwrap();
    let run = client.run(RunScope::Stateless, ID).unwrap();
    let mut events = run.stream().await.unwrap();
    let items: Vec<_> = tokio::time::timeout(T, async {
        let mut v = Vec::new();
        while let Some(i) = events.next().await {
            v.push(i.unwrap());
        }
        v
    })
    .await
    .expect("rejoined within the client's cap, not after an hour");
    assert_eq!(items.len(), 2);
    assert_eq!(events.last_event_id(), Some("2"));
    let joins = seen(&log)
        .iter()
        .filter(|s| s.path.ends_with("/stream"))
        .count();
    assert_eq!(joins, 2);
}

// ---- Fault 3: timeouts ----

#[tokio::test]
async fn fault3_a_request_timeout_is_typed_with_its_duration() {
    let (addr, _) = serve(|_, _| stall()).await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .request_timeout(Duration::from_millis(300))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.search_agents().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                operation: "search_agents",
                kind: TimeoutKind::Request,
                after,
            } if after == Duration::from_millis(300)
        ),
        "{err:?}"
    );
    assert!(err.is_timeout() && !err.is_connect());
}

#[tokio::test]
async fn fault3_a_get_that_timed_out_is_retried() {
    let (addr, log) = serve(|n, _| match n {
        0 => stall(),
        _ => StatusCode::NO_CONTENT.into_response(),
    })
    .await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .request_timeout(Duration::from_millis(300))
        .retry(fast())
        .build()
        .unwrap();
    client.delete_thread(ID).await.unwrap();
    assert_eq!(seen(&log).len(), 2);
}

#[tokio::test]
async fn fault3_a_connect_timeout_is_a_connect_timeout() {
    // Accepts and stalls: TCP connects, the TLS handshake never completes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let a = accepted.clone();
    tokio::spawn(async move {
        let mut keep = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            keep.push(sock);
        }
    });
    let client = AcpClient::builder(format!("https://{addr}"))
        .connect_timeout(Duration::from_millis(200))
        .retry(RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
        })
        .build()
        .unwrap();
    let err = tokio::time::timeout(T, client.get_thread(ID))
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Connect,
                after,
                ..
            } if after == Duration::from_millis(200)
        ),
        "{err:?}"
    );
    assert!(err.is_connect() && err.is_timeout());
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "retried once: nothing was sent"
    );
}

// ---- Fault 4: waits ----

#[tokio::test]
async fn fault4_a_gateway_timing_out_the_long_poll_is_waited_through() {
    let (addr, log) = serve(|n, _| match n {
        0 => json(StatusCode::GATEWAY_TIMEOUT, r#""upstream timed out""#),
        1 => (StatusCode::BAD_GATEWAY, "bad gateway").into_response(),
        2 => StatusCode::NO_CONTENT.into_response(),
        _ => json(
            StatusCode::OK,
            &format!(
                r#"{{"run":{{"run_id":"{ID}","status":"success"}},"output":{{"type":"result","values":{{"a":1}}}}}}"#
            ),
        ),
    })
    .await;
    // No request retries: the wait itself waits through what gateways answer.
    let client = AcpClient::builder(format!("http://{addr}"))
        .retry(RetryPolicy {
            max_retries: 0,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    let run = client.run(RunScope::Stateless, ID).unwrap();
    let outcome = run.wait(T).await.unwrap();
    assert!(outcome.is_completed(), "{outcome}");
    assert_eq!(seen(&log).len(), 4);
}

#[tokio::test]
async fn fault4_a_missed_wait_deadline_is_its_own_kind() {
    let (addr, _) = serve(|_, _| StatusCode::NO_CONTENT.into_response()).await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .retry(fast())
        .build()
        .unwrap();
    let run = client.run(RunScope::Stateless, ID).unwrap();
    let err = run.wait(Duration::from_millis(200)).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::WaitDeadline, after, .. } if after == Duration::from_millis(200)),
        "{err:?}"
    );
}

// ---- Fault 5: a connection closed after a 500 ----

#[tokio::test]
async fn fault5_a_create_after_a_500_that_closed_the_connection_is_never_duplicated() {
    use acp_client::prelude::*;
    let server = support::server(Dialect::WorkflowServer).await;
    let client = support::client(&server);
    let rounds = 10;
    let (mut created, mut ambiguous) = (0, 0);
    for _ in 0..rounds {
        // `POST /threads` without metadata: the Workflow Server answers 500 text/plain and
        // closes the connection (no `Connection: close`). Through `generated()`, with `?`.
        let failed: Result<_, Error> = async {
            let body = types::ThreadCreate::default();
            Ok(client.generated().create_thread().body(body).send().await?)
        }
        .await;
        assert_eq!(failed.unwrap_err().status().map(|s| s.as_u16()), Some(500));
        // The next create, on the same pool.
        match client
            .stateless_runs()
            .create(support::stream_body(1, 0))
            .await
        {
            Ok(_) => created += 1,
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        Error::Transport {
                            kind: TransportKind::Request,
                            may_have_created: true,
                            ..
                        }
                    ),
                    "{e:?}"
                );
                assert!(e.to_string().contains("may exist"), "{e}");
                ambiguous += 1;
            }
        }
    }
    assert_eq!(created + ambiguous, rounds);
    // Never sent twice: at most one POST /runs per create.
    let posts = server.requests("POST", "/runs");
    assert!(
        posts <= rounds && posts >= created,
        "{posts} creates for {rounds} calls"
    );
    println!("fault5: {created} created, {ambiguous} ambiguous, {posts} POST /runs seen");
}

// ---- Fault 6: per-call options ----

#[tokio::test]
async fn fault6_per_call_timeout_headers_and_credentials_on_the_same_pool() {
    let (addr, log) = serve(|_, s| {
        if s.headers.contains_key("x-stall") {
            stall()
        } else {
            StatusCode::NO_CONTENT.into_response()
        }
    })
    .await;
    let client = AcpClient::builder(format!("http://{addr}"))
        .api_key("sk-client")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    client.delete_thread(ID).await.unwrap();
    client
        .delete_thread(ID)
        .header("x-call", "1")
        .await
        .unwrap();
    client.delete_thread(ID).api_key("sk-call").await.unwrap();
    client
        .delete_thread(ID)
        .timeout(Duration::from_secs(5))
        .await
        .unwrap();
    let err = client
        .delete_thread(ID)
        .header("x-stall", "yes")
        .timeout(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { kind: TimeoutKind::Request, after, .. } if after == Duration::from_millis(100)),
        "{err:?}: our error, not tokio's Elapsed"
    );
    client
        .delete_thread(ID)
        .bearer_token("tok-call")
        .await
        .unwrap();
    let s = seen(&log);
    assert_eq!(s.len(), 6);
    assert_eq!(s[0].headers["x-api-key"], "sk-client");
    assert!(!s[0].headers.contains_key("x-call"));
    assert_eq!(s[1].headers["x-call"], "1");
    assert_eq!(s[2].headers["x-api-key"], "sk-call");
    assert_eq!(s[5].headers["authorization"], "Bearer tok-call");
    assert!(
        !s[5].headers.contains_key("x-api-key"),
        "replaced, not added"
    );
    // One pool: the calls with other headers, key or timeout reused the first connection.
    for i in 1..=3 {
        assert_eq!(s[i].peer, s[0].peer, "call {i} on the same connection");
    }
}

#[tokio::test]
async fn fault6_invalid_call_options_are_refused_before_any_request() {
    let (addr, log) = serve(|_, _| StatusCode::NO_CONTENT.into_response()).await;
    let client = AcpClient::new(format!("http://{addr}")).unwrap();
    let err = client
        .delete_thread(ID)
        .header("bad name", "v")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "header name",
                ..
            }
        ),
        "{err:?}"
    );
    let err = client
        .delete_thread(ID)
        .timeout(Duration::ZERO)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidInput {
                field: "timeout",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(seen(&log).is_empty());
}

// ---- Fault 7: errors a newcomer can act on ----

#[tokio::test]
async fn fault7_connection_refused_names_operation_endpoint_and_cause_in_one_line() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = AcpClient::builder(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.search_agents().await.unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_connect() && !err.is_timeout());
    assert!(text.starts_with("search_agents (127.0.0.1:"), "{text}");
    assert!(text.contains(&format!(":{port}")), "{text}");
    assert!(
        text.to_lowercase().contains("refused"),
        "the root cause: {text}"
    );
    assert!(!text.contains('\n'), "one line: {text}");
}
