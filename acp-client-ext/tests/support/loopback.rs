//! Loopback peers for the tests that need to see what was sent or to answer what the reference
//! server never does: [`serve`] answers every request with a closure and logs what it received
//! (method, path, headers, body, client address, time); [`Peer`] answers one canned response and
//! records the request headers. Both bind 127.0.0.1 on a free port and run until the test ends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// A run id for the loopback peers' answers.
pub const ID: &str = "2f1e6c4e-8a1b-4c55-9d07-3f6f1c0b9a11";

/// What a loopback server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub peer: SocketAddr,
    pub at: Instant,
}

pub type Log = Arc<Mutex<Vec<Seen>>>;

/// A loopback server answering every request with `answer(n, seen)` (n: 0-based request count).
pub async fn serve<F>(answer: F) -> (SocketAddr, Log)
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

/// Everything [`serve`] received so far.
pub fn seen(log: &Log) -> Vec<Seen> {
    log.lock().unwrap().clone()
}

/// "Stall" (see [`serve`]).
pub fn stall() -> Response {
    StatusCode::REQUEST_TIMEOUT.into_response()
}

/// A JSON answer.
pub fn json(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A redirect to `to`.
pub fn redirect(status: u16, to: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::LOCATION, to)],
    )
        .into_response()
}

/// A local HTTP peer answering every request with one canned response and recording the
/// request headers.
pub struct Peer {
    pub url: String,
    seen: Arc<Mutex<Vec<HeaderMap>>>,
}

impl Peer {
    pub async fn start(status: u16, content_type: &'static str, body: &'static str) -> Peer {
        let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
        let record = seen.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                if let Ok(mut s) = record.lock() {
                    s.push(headers);
                }
                (
                    StatusCode::from_u16(status).expect("status"),
                    [(header::CONTENT_TYPE, content_type)],
                    body,
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Peer { url, seen }
    }

    pub fn requests(&self) -> Vec<HeaderMap> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn last_header(&self, name: &str) -> Option<String> {
        self.requests()
            .last()
            .and_then(|h| h.get(name))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}
