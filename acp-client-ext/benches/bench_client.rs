//! Whole-process benchmark client, driven by `cargo xtask bench-compare` (not a tutorial).
//!
//! ```sh
//! bench_client URL prepare COUNT SIZE [thread]  # `stream` run, waits, prints its ids
//! bench_client URL typed RUN_ID [STREAMS [h2]]  # join the run's stream through acp-client-ext,
//!                                         # values decoded straight into a struct (`values_into`)
//! bench_client URL events RUN_ID [STREAMS]  # the same as `RunEvent`s, then `values_as`
//! bench_client URL bytes RUN_ID [STREAMS]  # the same GET with bare reqwest, counting bytes
//! bench_client URL handwritten RUN_ID [STREAMS]  # the best a user writes by hand: reqwest +
//!                                               # memchr lines + serde_json per event
//! bench_client URL overhead N [CLIENT] [SIDES]  # echo create+wait: acp-client-ext vs bare reqwest
//!                                               # (CLIENT: shared, builder or untagged)
//! bench_client serve PAD COUNT...  # in-memory SSE server: prints its URL, serves until killed
//! bench_client serve-h2 PAD COUNT...  # the same over HTTP/2 (prior knowledge; `h2` clients)
//! ```
//!
//! Without arguments (as `.ci/run` runs every example), each mode runs once, tiny, against an
//! embedded reference server and an in-memory server.
//!
//! Every mode prints one JSON object on stdout. `typed`, `events`, `handwritten` and `bytes`
//! join (replay) a settled run, so the server only encodes its log; `STREAMS` > 1 joins that
//! many streams at once on one client: every stream reads its first event, then waits until
//! all have theirs (so that all are open at once, each with its connection, decoder and ledger
//! live), and the memory is also read at that point (`rss_open_kib`). The typed modes check
//! that every stream delivered every event once, in order. Memory figures are this process's `VmRSS` / `VmHWM` from `/proc/self/status` (KiB),
//! read before the first request and after the last event; CPU time is this process's (all its
//! threads, `/proc/self/task/*/schedstat`), over the same span.
//!
//! `serve` is the server that measures the client, not the server: it renders, before it prints
//! its URL, the body of a settled `stream` run of each `COUNT` (the reference server's bytes:
//! `id`, `event: agent_event`, a `values` update with `PAD` bytes of padding, the final
//! `success` update), and answers `GET .../runs/{mem_run_id(COUNT)}/stream` with it (one
//! `content-length` response, written from memory) and `GET .../runs/{id}` with the run's
//! count; so on loopback the only work per event is the client's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acp_client_ext::event::TypedEvent;
use acp_client_ext::{AcpClient, RunEvent, types};
use acp_reference_server::agents;
use futures::StreamExt;
use serde_json::{Value, json};

type Res<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// `(VmRSS, VmHWM)` in KiB (0 where /proc is missing).
fn mem_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time of this process so far, in seconds: the sum over its live threads of the time they
/// ran (`/proc/self/task/*/schedstat`, nanoseconds), or `/proc/self/stat` (utime + stime, in
/// clock ticks, taken as 100 Hz) where schedstat is missing. The threads of a tokio runtime live
/// as long as the process, so none is missed by the sum.
fn cpu_secs() -> f64 {
    let tasks = std::fs::read_dir("/proc/self/task").into_iter().flatten();
    let ns: Option<u64> = tasks
        .map(|t| {
            let path = t.ok()?.path().join("schedstat");
            std::fs::read_to_string(path)
                .ok()?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    if let Some(ns) = ns.filter(|&ns| ns > 0) {
        return ns as f64 / 1e9;
    }
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15: indices 11 and 12 after the state.
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) as f64 / 100.0
}

/// The run id under which `serve` answers with the stream of `count` events.
fn mem_run_id(count: u64) -> String {
    format!("00000000-0000-4000-8000-{count:012}")
}

/// The body the reference server sends for a settled `stream` run of `count` updates with
/// `pad` bytes of padding (its exact bytes, see `acp-reference-server`).
fn render_stream(run_id: &str, count: u64, pad: usize) -> Vec<u8> {
    use std::io::Write as _;
    let padding = "x".repeat(pad);
    let mut body = Vec::with_capacity((count as usize + 1) * (pad + 160));
    for i in 0..count {
        let _ = write!(
            body,
            "id: {}\nevent: agent_event\ndata: {{\"type\":\"values\",\"run_id\":\"{run_id}\",\
             \"status\":\"pending\",\"values\":{{\"i\":{i},\"pad\":\"{padding}\"}}}}\n\n",
            i + 1
        );
    }
    let _ = write!(
        body,
        "id: {}\nevent: agent_event\ndata: {{\"run_id\":\"{run_id}\",\"status\":\"success\",\
         \"type\":\"values\",\"values\":{{\"count\":{count}}}}}\n\n",
        count + 1
    );
    body
}

/// Writes all of `buf` (tokio's `net` feature only: no `AsyncWriteExt` here).
async fn write_all(sock: &tokio::net::TcpStream, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        sock.writable().await?;
        match sock.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

type Bodies = Arc<Mutex<HashMap<u64, bytes::Bytes>>>;

/// The answer of `serve` to a GET of `path` (both protocols): `.../runs/{run_id}/stream` (the
/// count is the run id's last 12 digits) or `.../runs/{run_id}`; `None`: 404.
fn answer(path: &str, bodies: &Bodies, pad: usize) -> Res<Option<(&'static str, bytes::Bytes)>> {
    let path = path.split('?').next().unwrap_or(path);
    let mut segs = path.rsplit('/');
    let stream = path.ends_with("/stream");
    if stream {
        segs.next();
    }
    let run_id = segs.next().unwrap_or("").to_owned();
    let count = run_id
        .get(run_id.len().saturating_sub(12)..)
        .and_then(|c| c.parse::<u64>().ok());
    let Some(count) = count else {
        return Ok(None);
    };
    Ok(Some(if stream {
        let body = bodies
            .lock()
            .map_err(|_| "poisoned")?
            .entry(count)
            .or_insert_with(|| render_stream(&run_id, count, pad).into())
            .clone();
        ("text/event-stream", body)
    } else {
        let info = json!({"run_id": run_id, "status": "success",
                          "creation": {"input": {"count": count, "size": pad}}});
        ("application/json", bytes::Bytes::from(info.to_string()))
    }))
}

/// One connection of `serve`: GET requests (keep-alive), answered from memory.
async fn serve_conn(sock: tokio::net::TcpStream, bodies: Bodies, pad: usize) -> Res {
    sock.set_nodelay(true)?;
    let mut req = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let head_end = loop {
            if let Some(i) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            sock.readable().await?;
            match sock.try_read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => req.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
        };
        let head = String::from_utf8_lossy(&req[..head_end]).into_owned();
        req.drain(..head_end);
        let path = head.split_whitespace().nth(1).unwrap_or("/");
        let Some((ctype, body)) = answer(path, &bodies, pad)? else {
            write_all(
                &sock,
                b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            )
            .await?;
            continue;
        };
        let header = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncache-control: no-cache\r\n\
             content-length: {}\r\n\r\n",
            body.len()
        );
        write_all(&sock, header.as_bytes()).await?;
        write_all(&sock, &body).await?;
    }
}

/// The response of `serve-h2` to a GET of `path` (a 500 if the bodies' lock is poisoned).
fn h2_response(path: &str, bodies: &Bodies, pad: usize) -> hyper::Response<axum::body::Body> {
    let mut resp = hyper::Response::new(axum::body::Body::empty());
    match answer(path, bodies, pad) {
        Ok(Some((ctype, body))) => {
            *resp.body_mut() = body.into();
            let ctype = hyper::header::HeaderValue::from_static(ctype);
            resp.headers_mut()
                .insert(hyper::header::CONTENT_TYPE, ctype);
        }
        Ok(None) => *resp.status_mut() = hyper::StatusCode::NOT_FOUND,
        Err(_) => *resp.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR,
    }
    resp
}

/// One HTTP/2 connection of `serve-h2` (prior knowledge, as `http2_prior_knowledge` clients
/// speak it): GET requests, answered from memory, with no limit on concurrent streams (hyper's
/// server allows 200 by default).
async fn serve_h2_conn(sock: tokio::net::TcpStream, bodies: Bodies, pad: usize) -> Res {
    sock.set_nodelay(true)?;
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        std::future::ready(Ok::<_, std::convert::Infallible>(h2_response(
            req.uri().path(),
            &bodies,
            pad,
        )))
    });
    hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .max_concurrent_streams(None)
        .serve_connection(hyper_util::rt::TokioIo::new(sock), service)
        .await?;
    Ok(())
}

/// Starts the in-memory server on loopback with the bodies of `counts` rendered (HTTP/1.1, or
/// with `h2` HTTP/2 by prior knowledge); its URL.
async fn serve_mem(pad: usize, counts: &[u64], h2: bool) -> Res<String> {
    let bodies: Bodies = Arc::default();
    for &n in counts {
        let body = render_stream(&mem_run_id(n), n, pad);
        bodies
            .lock()
            .map_err(|_| "poisoned")?
            .insert(n, body.into());
    }
    // A backlog for thousands of connections at once (`TcpListener::bind` listens with 1024).
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind("127.0.0.1:0".parse()?)?;
    let listener = socket.listen(16_384)?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let served = if h2 {
                    serve_h2_conn(sock, bodies, pad).await
                } else {
                    serve_conn(sock, bodies, pad).await
                };
                if let Err(e) = served {
                    eprintln!("serve: {e}");
                }
            });
        }
    });
    Ok(url)
}

fn arg(args: &[String], i: usize, what: &str) -> Res<String> {
    args.get(i)
        .cloned()
        .ok_or_else(|| format!("missing argument {what}").into())
}

#[tokio::main]
async fn main() -> Res {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 1 {
        return smoke().await;
    }
    if args[1] == "serve" || args[1] == "serve-h2" {
        let pad: usize = arg(&args, 2, "PAD")?.parse()?;
        let counts = args[3..]
            .iter()
            .map(|c| c.parse())
            .collect::<Result<Vec<u64>, _>>()?;
        println!("{}", serve_mem(pad, &counts, args[1] == "serve-h2").await?);
        std::future::pending::<()>().await;
    }
    let url = arg(&args, 1, "URL")?;
    let mode = arg(&args, 2, "MODE")?;
    let out = match mode.as_str() {
        "prepare" => {
            let count: u64 = arg(&args, 3, "COUNT")?.parse()?;
            let size: u64 = arg(&args, 4, "SIZE")?.parse()?;
            prepare(
                &url,
                count,
                size,
                args.get(5).is_some_and(|a| a == "thread"),
            )
            .await?
        }
        "typed" | "events" | "bytes" | "handwritten" => {
            let run_id = arg(&args, 3, "RUN_ID")?;
            let streams: usize = args.get(4).map_or(Ok(1), |s| s.parse())?;
            let h2 = args.get(5).is_some_and(|a| a == "h2");
            streams_mode(&url, &run_id, streams, &mode, h2).await?
        }
        "overhead" => {
            let client = args.get(4).map_or("shared", String::as_str);
            let sides = args.get(5).map_or("both", String::as_str);
            overhead(&url, arg(&args, 3, "N")?.parse()?, client, sides).await?
        }
        other => return Err(format!("unknown mode {other}").into()),
    };
    println!("{out}");
    Ok(())
}

/// Creates a `stream` run of `count` values updates with `size` bytes of padding and waits
/// until it has settled (its whole log is then on the server): stateless, or with `thread` a
/// run of a new thread (for clients that only join thread runs).
async fn prepare(url: &str, count: u64, size: u64, thread: bool) -> Res<Value> {
    let http = reqwest::Client::new();
    let body =
        json!({"agent_id": agents::STREAM, "input": {"count": count, "size": size, "delay_ms": 0}});
    let (runs, thread_id) = if thread {
        let t: Value = http
            .post(format!("{url}/threads"))
            .json(&json!({}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = t["thread_id"].as_str().ok_or("no thread_id")?.to_owned();
        (format!("{url}/threads/{id}/runs"), Some(id))
    } else {
        (format!("{url}/runs"), None)
    };
    let run: Value = http
        .post(&runs)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let run_id = run["run_id"].as_str().ok_or("no run_id")?.to_owned();
    let start = Instant::now();
    loop {
        let r: Value = http
            .get(format!("{runs}/{run_id}"))
            .send()
            .await?
            .json()
            .await?;
        match r["status"].as_str() {
            Some("success") => break,
            Some("pending") => tokio::time::sleep(Duration::from_millis(20)).await,
            other => return Err(format!("run ended {other:?}").into()),
        }
    }
    Ok(
        json!({"run_id": run_id, "thread_id": thread_id, "count": count, "size": size,
              "generate_secs": start.elapsed().as_secs_f64()}),
    )
}

/// The `values` of the `stream` agent's updates, as a user would type them: the size of the
/// payload (`pad` owns its bytes). The final update has only `count`.
#[derive(serde::Deserialize)]
struct StreamValues {
    #[serde(default)]
    i: u64,
    #[serde(default)]
    pad: String,
    #[serde(default)]
    count: Option<u64>,
}

/// Checks that a values update is the next one of its stream (every event once, in order):
/// the stream agent's updates count `i` from 0; the final one has `count` instead.
fn check_order(values: &StreamValues, next: &mut u64) -> Res {
    if values.count.is_none() {
        if values.i != *next {
            return Err(format!("update {} where {next} was due", values.i).into());
        }
        *next += 1;
    }
    std::hint::black_box((values.i, &values.pad, values.count));
    Ok(())
}

/// Waits until every stream of the run has its first event (`None`: a single stream).
async fn all_open(open: &Option<Arc<tokio::sync::Barrier>>, first: &mut bool) {
    if std::mem::take(first)
        && let Some(barrier) = open
        && barrier.wait().await.is_leader()
    {
        let (rss, _) = mem_kib();
        OPEN_RSS.store(rss, std::sync::atomic::Ordering::Relaxed);
    }
}

/// VmRSS (KiB) when every stream had its first event.
static OPEN_RSS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

type Open = Option<Arc<tokio::sync::Barrier>>;

/// One stream through acp-client-ext as `TypedEvent`s: each values update decoded straight
/// into [`StreamValues`] (`values_into`). Events received, and how many were values updates.
async fn typed_stream(client: AcpClient, run_id: String, open: Open) -> Res<(u64, u64)> {
    let run = client.stateless_runs().run(run_id.as_str())?;
    let mut events = run.stream().await?.values_into::<StreamValues>();
    let (mut n, mut data, mut next, mut first) = (0u64, 0u64, 0u64, true);
    while let Some(ev) = events.next().await {
        n += 1;
        if let TypedEvent::Values(v) = ev? {
            check_order(&v.values, &mut next)?;
            data += 1;
        }
        all_open(&open, &mut first).await;
    }
    Ok((n, data))
}

/// One stream through acp-client-ext as `RunEvent`s, each values update then decoded into
/// [`StreamValues`] (`values_as`: the values are parsed twice).
async fn events_stream(client: AcpClient, run_id: String, open: Open) -> Res<(u64, u64)> {
    let run = client.stateless_runs().run(run_id.as_str())?;
    let mut events = run.stream().await?;
    let (mut n, mut data, mut next, mut first) = (0u64, 0u64, 0u64, true);
    while let Some(ev) = events.next().await {
        n += 1;
        if let RunEvent::Values(v) = ev? {
            check_order(&v.values_as()?, &mut next)?;
            data += 1;
        }
        all_open(&open, &mut first).await;
    }
    Ok((n, data))
}

/// One stream through bare reqwest: events (blank-line count is not computed; the caller
/// knows how many were sent), bytes received.
async fn bytes_stream(http: reqwest::Client, url: String, open: Open) -> Res<(u64, u64)> {
    let resp = http
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await?
        .error_for_status()?;
    let mut body = resp.bytes_stream();
    let (mut bytes, mut first) = (0u64, true);
    while let Some(chunk) = body.next().await {
        bytes += chunk?.len() as u64;
        all_open(&open, &mut first).await;
    }
    Ok((0, bytes))
}

/// One event as the hand-written reader decodes it: the payload's `values` straight into the
/// same struct the typed client decodes into, in one `serde_json::from_slice`.
#[derive(serde::Deserialize)]
struct HandEvent {
    #[serde(default)]
    values: Option<StreamValues>,
}

/// One stream read as a user would write it without this crate (no resume, no dedupe, no
/// validation beyond serde's): `reqwest`'s `bytes_stream`, a `memchr` scan for line ends,
/// `data:` lines gathered, and each event's data decoded with `serde_json::from_slice` into
/// [`HandEvent`]. Events received, and how many carried values.
async fn handwritten_stream(http: reqwest::Client, url: String, open: Open) -> Res<(u64, u64)> {
    let resp = http
        .get(url)
        .header("accept", "text/event-stream")
        .send()
        .await?
        .error_for_status()?;
    let mut body = resp.bytes_stream();
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut data: Vec<u8> = Vec::with_capacity(4 * 1024);
    let (mut n, mut with_values, mut next, mut first) = (0u64, 0u64, 0u64, true);
    while let Some(chunk) = body.next().await {
        buf.extend_from_slice(&chunk?);
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &buf[start..]) {
            let line = &buf[start..start + end];
            start += end + 1;
            if line.is_empty() {
                if !data.is_empty() {
                    let ev: HandEvent = serde_json::from_slice(&data)?;
                    if let Some(v) = ev.values {
                        check_order(&v, &mut next)?;
                        with_values += 1;
                    }
                    n += 1;
                    data.clear();
                }
            } else if let Some(d) = line.strip_prefix(b"data:") {
                data.extend_from_slice(d.strip_prefix(b" ").unwrap_or(d));
            }
        }
        buf.drain(..start);
        all_open(&open, &mut first).await;
    }
    Ok((n, with_values))
}

/// `h2`: HTTP/2 by prior knowledge (`serve-h2`), every stream on one connection, each with a
/// window of 16 KiB and the connection with room for all of them: hyper's defaults (2 MiB a
/// stream, 5 MiB the connection) let the streams that wait for the others fill the
/// connection's window with data they do not read yet, and the others never get their first
/// event. What a stream may buffer is then its window, at most.
async fn streams_mode(url: &str, run_id: &str, streams: usize, mode: &str, h2: bool) -> Res<Value> {
    let typed = mode != "bytes";
    let open: Open = (streams > 1).then(|| Arc::new(tokio::sync::Barrier::new(streams)));
    let http = if h2 {
        let window: u32 = 16 * 1024;
        let streams = u32::try_from(streams.max(1)).unwrap_or(u32::MAX);
        reqwest::Client::builder()
            .http2_prior_knowledge()
            .http2_initial_stream_window_size(window)
            .http2_initial_connection_window_size(
                streams.saturating_mul(window).min(i32::MAX as u32),
            )
            .build()?
    } else {
        reqwest::Client::new()
    };
    let client = AcpClient::builder(url).http_client(http.clone()).build()?;
    let info: Value = http
        .get(format!("{url}/runs/{run_id}"))
        .send()
        .await?
        .json()
        .await?;
    // Log length: the `stream` agent's updates plus the final values event.
    let expected = info["creation"]["input"]["count"]
        .as_u64()
        .ok_or("run has no count")?
        + 1;
    let (rss0, hwm0) = mem_kib();
    let cpu0 = cpu_secs();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..streams {
        let (open, stream_url) = (open.clone(), format!("{url}/runs/{run_id}/stream"));
        match mode {
            "typed" => tasks.spawn(typed_stream(client.clone(), run_id.to_owned(), open)),
            "events" => tasks.spawn(events_stream(client.clone(), run_id.to_owned(), open)),
            "handwritten" => tasks.spawn(handwritten_stream(http.clone(), stream_url, open)),
            _ => tasks.spawn(bytes_stream(http.clone(), stream_url, open)),
        };
    }
    let (mut events, mut bytes) = (0u64, 0u64);
    while let Some(r) = tasks.join_next().await {
        let (n, b) = r??;
        if typed && n != expected {
            return Err(format!("stream yielded {n} events, expected {expected}").into());
        }
        events += if typed { n } else { expected };
        bytes += b;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    let (rss1, hwm1) = mem_kib();
    Ok(json!({
        "mode": mode,
        "streams": streams,
        "http": if h2 { "2" } else { "1.1" },
        "events": events,
        "bytes": bytes,
        "secs": secs,
        "events_per_s": events as f64 / secs,
        "cpu_secs": cpu,
        "cpu_ns_per_event": cpu * 1e9 / events as f64,
        "rss_before_kib": rss0, "hwm_before_kib": hwm0,
        "rss_after_kib": rss1, "hwm_after_kib": hwm1,
        "rss_open_kib": OPEN_RSS.load(std::sync::atomic::Ordering::Relaxed),
    }))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `n` sequential echo create+wait through each client, interleaved so that noise hits both.
///
/// `client`: `shared` (the default) builds the `AcpClient` on the bare side's `reqwest::Client`
/// (`http_client(..)`: one pool, the same reqwest settings); `builder` uses the default builder
/// (its own `reqwest::Client`, as most users have). `sides`: `both` (the default), or `ext` /
/// `bare` alone, to profile one side (the other side's median is then 0).
async fn overhead(url: &str, n: usize, client_kind: &str, sides: &str) -> Res<Value> {
    let http = reqwest::Client::new();
    let client = match client_kind {
        "shared" => AcpClient::builder(url).http_client(http.clone()).build()?,
        "builder" => AcpClient::new(url)?,
        // The shared pool without the create tag (`tag_creates(false)`): what the tag costs.
        "untagged" => AcpClient::builder(url)
            .http_client(http.clone())
            .tag_creates(false)
            .build()?,
        other => {
            return Err(
                format!("overhead: CLIENT is shared, builder or untagged, not {other}").into(),
            );
        }
    };
    let (run_ext, run_bare) = match sides {
        "both" => (true, true),
        "ext" => (true, false),
        "bare" => (false, true),
        other => return Err(format!("overhead: SIDES is both, ext or bare, not {other}").into()),
    };
    let typed_body: types::RunCreateStateless =
        serde_json::from_value(json!({"agent_id": agents::ECHO, "input": {"text": "hello"}}))?;
    // The bare side sends what acp-client-ext sends (the create with the spec's defaults
    // written out, and, unless `untagged`, a create tag of its own in the metadata, made before
    // its clock starts), so that the server's work is the same on both sides.
    let tagged = client_kind != "untagged";
    let wire = serde_json::to_value(&typed_body)?;
    let bare_body = |wire: &Value| -> Res<Vec<u8>> {
        let mut body = wire.clone();
        if tagged {
            let tag = uuid::Uuid::new_v4().to_string();
            body["metadata"] = json!({ acp_client_ext::CREATE_TAG_KEY: tag });
        }
        Ok(serde_json::to_vec(&body)?)
    };
    let runs = client.stateless_runs();
    let deadline = Duration::from_secs(30);
    let (mut ext, mut bare) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let warmup = (n / 10).max(1);
    for i in 0..n + warmup {
        let (mut e, mut r) = (0.0, 0.0);
        // Each side goes first in every other round: whichever follows the other meets a
        // server (and a pooled connection) that has just worked, and the order must not favour
        // one side.
        let ext_first = i % 2 == 0;
        for ext_turn in [ext_first, !ext_first] {
            if ext_turn && run_ext {
                let t = Instant::now();
                let outcome = runs.wait(typed_body.clone(), deadline).await?;
                e = t.elapsed().as_secs_f64();
                if !outcome.is_completed() {
                    return Err(format!("echo run did not complete: {outcome}").into());
                }
            }
            if !ext_turn && run_bare {
                let body = bare_body(&wire)?;
                let t = Instant::now();
                let resp = http
                    .post(format!("{url}/runs/wait"))
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await?
                    .error_for_status()?;
                let b = resp.bytes().await?;
                r = t.elapsed().as_secs_f64();
                if b.is_empty() {
                    return Err("empty wait answer".into());
                }
            }
        }
        if i >= warmup {
            ext.push(e);
            bare.push(r);
        }
    }
    let (me, mb) = (median(&mut ext), median(&mut bare));
    Ok(json!({
        "mode": "overhead", "n": n, "client": if run_ext { client_kind } else { "-" },
        "ext_median_us": me * 1e6, "bare_median_us": mb * 1e6, "ratio": me / mb,
    }))
}

/// Every mode once, tiny, against an embedded server.
async fn smoke() -> Res {
    let server = acp_reference_server::ReferenceServer::start().await;
    let url = server.url();
    let prepared = prepare(&url, 20, 64, false).await?;
    let run_id = prepared["run_id"].as_str().ok_or("no run_id")?;
    println!("{prepared}");
    for mode in ["typed", "events", "handwritten", "bytes"] {
        println!("{}", streams_mode(&url, run_id, 2, mode, false).await?);
    }
    println!("{}", overhead(&url, 5, "shared", "both").await?);
    println!("{}", prepare(&url, 3, 0, true).await?);
    for h2 in [false, true] {
        let mem = serve_mem(64, &[20], h2).await?;
        for mode in ["typed", "events", "handwritten", "bytes"] {
            println!(
                "{}",
                streams_mode(&mem, &mem_run_id(20), 3, mode, h2).await?
            );
        }
    }
    Ok(())
}
