//! Raw-HTTP helpers shared by the server test crates (reqwest + serde_json, no client crate).
//! Each test crate uses a subset, hence the `dead_code` allowance on this module only.
#![allow(dead_code)]

use std::time::Duration;

use acp_reference_server::{ReferenceServer, ServerEvent};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

/// Declares one `#[tokio::test]` per listed test and dialect, `spec_dialect::NAME` and
/// `workflow_server_dialect::NAME`, each calling `NAME(dialect)`.
#[allow(unused_macros)]
macro_rules! both_dialects {
    ($($name:ident),* $(,)?) => {
        mod spec_dialect {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(acp_reference_server::Dialect::Spec).await
                }
            )*
        }
        mod workflow_server_dialect {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(acp_reference_server::Dialect::WorkflowServer).await
                }
            )*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use both_dialects;

/// Upper bound for anything to happen; never reached when the server works.
pub const T: Duration = Duration::from_secs(20);

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

pub async fn send(rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = rb.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, v)
}

pub async fn post(s: &ReferenceServer, path: &str, body: Value) -> (StatusCode, Value) {
    send(http().post(format!("{}{path}", s.url())).json(&body)).await
}

pub async fn get(s: &ReferenceServer, path: &str) -> (StatusCode, Value) {
    send(http().get(format!("{}{path}", s.url()))).await
}

pub async fn new_thread(s: &ReferenceServer) -> String {
    let (st, t) = post(s, "/threads", serde_json::json!({"metadata": {}})).await;
    assert_eq!(st, StatusCode::OK);
    t["thread_id"].as_str().expect("thread_id").to_owned()
}

pub fn run_id(v: &Value) -> Uuid {
    Uuid::parse_str(v["run_id"].as_str().expect("run_id")).expect("uuid")
}

#[derive(Debug)]
pub struct Ev {
    pub id: Option<String>,
    pub data: String,
}

/// Minimal SSE parser accepting LF, CRLF and CR line endings; comments are skipped.
pub fn parse_sse(text: &str) -> Vec<Ev> {
    let norm = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = Vec::new();
    let (mut id, mut data): (Option<String>, Option<String>) = (None, None);
    for line in norm.split('\n') {
        if line.is_empty() {
            if let Some(d) = data.take() {
                out.push(Ev {
                    id: id.take(),
                    data: d,
                });
            }
            id = None;
        } else if let Some(v) = line.strip_prefix("id: ") {
            id = Some(v.to_owned());
        } else if let Some(v) = line.strip_prefix("data: ") {
            data = Some(v.to_owned());
        }
    }
    out
}

pub fn json_events(evs: &[Ev]) -> Vec<Value> {
    evs.iter()
        .map(|e| serde_json::from_str(&e.data).expect("event json"))
        .collect()
}

pub fn ids(evs: &[Ev]) -> Vec<String> {
    evs.iter().filter_map(|e| e.id.clone()).collect()
}

pub async fn stream_text(rb: reqwest::RequestBuilder) -> (reqwest::header::HeaderMap, String) {
    let resp = rb.send().await.expect("stream request");
    assert_eq!(resp.status(), StatusCode::OK);
    let headers = resp.headers().clone();
    (headers, resp.text().await.expect("stream body"))
}

/// Reads a stream until it errors; returns the bytes received and whether it ended in error.
pub async fn read_until_error(resp: reqwest::Response) -> (String, bool) {
    let mut body = resp.bytes_stream();
    let mut buf = Vec::new();
    let mut errored = false;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(b) => buf.extend_from_slice(&b),
            Err(_) => {
                errored = true;
                break;
            }
        }
    }
    (String::from_utf8_lossy(&buf).into_owned(), errored)
}

/// Joins the stream of run `rid` on thread `t` and returns once the server has it open.
pub async fn join_open(s: &ReferenceServer, t: &str, rid: Uuid) -> reqwest::Response {
    let resp = http()
        .get(format!("{}/threads/{t}/runs/{rid}/stream", s.url()))
        .send()
        .await
        .expect("join");
    s.wait_for(|e| *e == ServerEvent::StreamOpened { run_id: rid }, T)
        .await
        .expect("opened");
    resp
}

/// Asserts `POST path` with `body` answers `want`.
pub async fn expect_post(s: &ReferenceServer, path: &str, body: Value, want: StatusCode) {
    let (got, answer) = post(s, path, body).await;
    assert_eq!(got, want, "POST {path}: {answer}");
}

/// Creates a background run on thread `t` from `body`; returns its id.
pub async fn thread_run(s: &ReferenceServer, t: &str, body: Value) -> Uuid {
    let (st, run) = post(s, &format!("/threads/{t}/runs"), body).await;
    assert_eq!(st, StatusCode::OK, "{run}");
    run_id(&run)
}

/// Waits until run `rid` reaches `status` (a [`ServerEvent::RunStatus`]).
pub async fn wait_status(s: &ReferenceServer, rid: Uuid, status: &str) {
    s.wait_for(
        |e| matches!(e, ServerEvent::RunStatus { run_id, status: st } if *run_id == rid && st == status),
        T,
    )
    .await
    .unwrap_or_else(|| panic!("run {rid} never became {status}"));
}

/// One HTTP/1.1 response read off a raw socket.
#[derive(Debug)]
pub struct RawResponse {
    /// The status line and header lines, without their `\r\n`.
    pub head: Vec<String>,
    /// The body (`content-length` bytes).
    pub body: String,
}

impl RawResponse {
    /// The status line.
    pub fn status_line(&self) -> &str {
        self.head.first().map(String::as_str).unwrap_or_default()
    }

    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().skip(1).find_map(|l| {
            let (n, v) = l.split_once(": ")?;
            n.eq_ignore_ascii_case(name).then_some(v)
        })
    }
}

/// A raw `method path` request with a JSON `body` (none when empty) and extra header lines.
pub fn raw_request(
    s: &ReferenceServer,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> String {
    let mut r = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\n", s.addr());
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    if !body.is_empty() {
        r.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r
}

/// A fresh raw connection to `s`.
pub async fn raw_connect(s: &ReferenceServer) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(s.addr())
        .await
        .expect("connect")
}

/// Writes `request` onto `sock`.
pub async fn raw_send(sock: &mut tokio::net::TcpStream, request: &str) {
    use tokio::io::AsyncWriteExt;
    sock.write_all(request.as_bytes()).await.expect("write");
}

/// Reads one response off `sock` (bounded by [`T`]): its head, and its body when it has a
/// `content-length` (else whatever came with the head).
pub async fn read_response(sock: &mut tokio::net::TcpStream) -> RawResponse {
    use tokio::io::AsyncReadExt;
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            let n = sock.read(&mut chunk).await.expect("read head");
            assert!(n > 0, "closed before a response: {buf:?}");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head: Vec<String> = String::from_utf8_lossy(&buf[..head_end])
            .split("\r\n")
            .map(str::to_owned)
            .collect();
        let mut resp = RawResponse {
            head,
            body: String::new(),
        };
        let len: usize = resp
            .header("content-length")
            .map(|v| v.parse().expect("content-length"))
            .unwrap_or(0);
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < len {
            let n = sock.read(&mut chunk).await.expect("read body");
            assert!(n > 0, "closed inside the body");
            body.extend_from_slice(&chunk[..n]);
        }
        if resp.header("content-length").is_some() {
            assert_eq!(body.len(), len, "nothing after the body");
        }
        resp.body = String::from_utf8_lossy(&body).into_owned();
        resp
    };
    tokio::time::timeout(T, read)
        .await
        .expect("a response in time")
}

/// Sends `request` on a fresh connection and reads the response.
pub async fn raw_exchange(
    s: &ReferenceServer,
    request: &str,
) -> (tokio::net::TcpStream, RawResponse) {
    let mut sock = raw_connect(s).await;
    raw_send(&mut sock, request).await;
    let resp = read_response(&mut sock).await;
    (sock, resp)
}

/// Asserts the server resets `sock` (`RST`) without sending a byte.
pub async fn expect_reset(sock: &mut tokio::net::TcpStream) {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 1024];
    let got = tokio::time::timeout(T, sock.read(&mut buf))
        .await
        .expect("the server resets the connection");
    match got {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
        Ok(n) => panic!(
            "a reset, not {n} bytes: {:?}",
            String::from_utf8_lossy(&buf[..n])
        ),
    }
}
