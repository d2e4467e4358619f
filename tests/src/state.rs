//! Shared server state: configuration, stores, event bus, fault book and request log.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{dialect::Dialect, faults::FaultBook, runs::Run, threads::ThreadStore};

/// How the server answers `GET .../runs/{run_id}/wait` (to emulate servers lacking the route).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitRoute {
    /// The route works (default).
    #[default]
    Implemented,
    /// 404 Not Found, as if the route did not exist.
    Missing404,
    /// 405 Method Not Allowed.
    MethodNotAllowed405,
    /// 501 Not Implemented.
    NotImplemented501,
    /// 500 with the plain-text body `Not implemented`.
    NotImplemented500,
}

/// Server configuration. `ServerConfig::default()` gives the spec-conformant behaviour;
/// [`ServerConfig::for_dialect`] the defaults of another [`Dialect`].
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// What the server says on the wire (default [`Dialect::Spec`]).
    pub dialect: Dialect,
    /// Server-side cap for wait operations (default 30 s).
    pub wait_timeout: Duration,
    /// Error bodies as `{"detail": "..."}` (FastAPI style) instead of the spec's JSON string.
    /// Always so under [`Dialect::WorkflowServer`].
    pub detail_errors: bool,
    /// Answer 204 No Content when a wait times out server-side (a known server quirk) instead of
    /// 200 with the run and no output.
    pub wait_204_on_timeout: bool,
    /// Interval of SSE keep-alive comments while a stream is idle (default 15 s; 10 s from
    /// [`ServerConfig::for_dialect`]`(`[`Dialect::WorkflowServer`]`)`).
    pub keepalive_interval: Duration,
    /// Behaviour of `GET .../wait`.
    pub wait_route: WaitRoute,
    /// Port to bind on 127.0.0.1; 0 (default) picks a free port.
    pub port: u16,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            dialect: Dialect::Spec,
            wait_timeout: Duration::from_secs(30),
            detail_errors: false,
            wait_204_on_timeout: false,
            keepalive_interval: Duration::from_secs(15),
            wait_route: WaitRoute::Implemented,
            port: 0,
        }
    }
}

impl ServerConfig {
    /// The defaults of `dialect`: [`ServerConfig::default`], plus for
    /// [`Dialect::WorkflowServer`] its 10 s keep-alive interval.
    pub fn for_dialect(dialect: Dialect) -> ServerConfig {
        let keepalive_interval = match dialect {
            Dialect::Spec => Duration::from_secs(15),
            Dialect::WorkflowServer => Duration::from_secs(10),
        };
        ServerConfig {
            dialect,
            keepalive_interval,
            ..ServerConfig::default()
        }
    }
}

/// A server-side signal observable through [`crate::ReferenceServer::subscribe`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    /// A run changed status (`pending`, `success`, `error`, `timeout`, `interrupted`).
    RunStatus {
        /// The run.
        run_id: Uuid,
        /// Its new status.
        status: String,
    },
    /// An SSE response for the run started.
    StreamOpened {
        /// The run.
        run_id: Uuid,
    },
    /// An SSE response for the run ended; `client_gone` when the client went away first.
    StreamClosed {
        /// The run.
        run_id: Uuid,
        /// True when the client disconnected before the server finished the stream.
        client_gone: bool,
    },
    /// A run was cancelled (by the cancel operation, a multitask strategy or a disconnect).
    RunCancelled {
        /// The run.
        run_id: Uuid,
    },
    /// A request was received (emitted before it is handled).
    Request {
        /// HTTP method.
        method: String,
        /// Request path (no query).
        path: String,
    },
}

/// One request as the server received it, in arrival order
/// ([`crate::ReferenceServer::recorded_requests`]): what a test reads to check that a header
/// (e.g. `traceparent`, `tracestate`) reached the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Request path (no query).
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Every request header as received (names lower case, values decoded lossily), in
    /// order.
    pub headers: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request has `method` and a path matching `pattern` (`*` matches one
    /// segment).
    pub fn matches(&self, method: &str, pattern: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && path_matches(pattern, &self.path)
    }
}

const HISTORY_CAP: usize = 65_536;

/// Broadcast of [`ServerEvent`]s plus a bounded history so late observers miss nothing.
#[derive(Debug)]
pub(crate) struct EventBus {
    tx: broadcast::Sender<ServerEvent>,
    history: Mutex<VecDeque<ServerEvent>>,
}

impl EventBus {
    fn new() -> Self {
        let (tx, _) = broadcast::channel(4096);
        Self {
            tx,
            history: Mutex::new(VecDeque::new()),
        }
    }

    /// Records and broadcasts an event.
    pub fn emit(&self, ev: ServerEvent) {
        if let Ok(mut h) = self.history.lock() {
            if h.len() >= HISTORY_CAP {
                h.pop_front();
            }
            h.push_back(ev.clone());
        }
        let _ = self.tx.send(ev);
    }

    /// A receiver of future events.
    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.tx.subscribe()
    }

    /// The first recorded event matching `pred`.
    pub fn find(&self, pred: &impl Fn(&ServerEvent) -> bool) -> Option<ServerEvent> {
        self.history.lock().ok()?.iter().find(|e| pred(e)).cloned()
    }
}

/// Everything the handlers and run tasks share.
#[derive(Clone)]
pub(crate) struct AppState {
    pub inner: Arc<Inner>,
}

/// See [`AppState`].
pub(crate) struct Inner {
    pub config: ServerConfig,
    pub runs: Mutex<HashMap<Uuid, Arc<Run>>>,
    pub threads: ThreadStore,
    pub events: EventBus,
    pub faults: FaultBook,
    pub requests: Mutex<Vec<RecordedRequest>>,
    /// Cancelled when the server is shut down: stops every run task and stream.
    pub shutdown: CancellationToken,
    /// Monotonic counter ordering runs by creation.
    pub seq: std::sync::atomic::AtomicU64,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl AppState {
    pub fn new(config: ServerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                threads: ThreadStore::new(config.dialect),
                config,
                runs: Mutex::new(HashMap::new()),
                events: EventBus::new(),
                faults: FaultBook::default(),
                requests: Mutex::new(Vec::new()),
                shutdown: CancellationToken::new(),
                seq: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// Looks a run up.
    pub fn run(&self, id: Uuid) -> Option<Arc<Run>> {
        self.runs.lock().ok()?.get(&id).cloned()
    }

    /// Counts received requests matching `method` and a `*`-segment path pattern.
    pub fn count_requests(&self, method: &str, pattern: &str) -> usize {
        let Ok(reqs) = self.requests.lock() else {
            return 0;
        };
        reqs.iter().filter(|r| r.matches(method, pattern)).count()
    }
}

/// Whether `path` matches `pattern`, where a `*` segment matches any single segment.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.trim_end_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    pat.len() == segs.len() && pat.iter().zip(&segs).all(|(a, b)| *a == "*" || a == b)
}
