//! The embedded server: [`ReferenceServer`] binds `127.0.0.1`, runs the accept loop and exposes
//! the knobs and observations tests use (faults, request counts, server events, run state,
//! cutting and restoring the listener).

use std::{net::SocketAddr, time::Duration};

use axum::{Router, http::Request};
use hyper::{
    body::Incoming,
    service::{Service, service_fn},
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
    service::TowerToHyperService,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::broadcast,
    task::JoinHandle,
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    conn::{ConnControl, ConnIo},
    dialect::Dialect,
    faults::{Fault, Target},
    routes,
    state::{AppState, RecordedRequest, ServerConfig, ServerEvent},
};

/// An embedded ACP server on `127.0.0.1`. Dropping it stops the server and all run tasks.
pub struct ReferenceServer {
    state: AppState,
    addr: SocketAddr,
    listener: Option<Listening>,
}

struct Listening {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl ReferenceServer {
    /// Starts a server with the default configuration on a free port; it accepts connections
    /// when this returns.
    pub async fn start() -> ReferenceServer {
        Self::start_with(ServerConfig::default()).await
    }

    /// Starts a server speaking `dialect`, with that dialect's defaults
    /// ([`ServerConfig::for_dialect`]) on a free port.
    pub async fn with_dialect(dialect: Dialect) -> ReferenceServer {
        Self::start_with(ServerConfig::for_dialect(dialect)).await
    }

    /// Starts a server with `config` (binding `127.0.0.1:config.port`).
    ///
    /// # Panics
    /// If the port cannot be bound.
    pub async fn start_with(config: ServerConfig) -> ReferenceServer {
        match Self::try_start_with(config).await {
            Ok(s) => s,
            Err(e) => panic!("acp-reference-server: cannot bind 127.0.0.1: {e}"),
        }
    }

    /// Like [`ReferenceServer::start_with`] but returns bind errors.
    pub async fn try_start_with(config: ServerConfig) -> std::io::Result<ReferenceServer> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, config.port)).await?;
        let addr = listener.local_addr()?;
        let state = AppState::new(config);
        let listening = serve(state.clone(), listener);
        Ok(ReferenceServer {
            state,
            addr,
            listener: Some(listening),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration in use.
    pub fn config(&self) -> &ServerConfig {
        &self.state.config
    }

    /// The dialect the server speaks.
    pub fn dialect(&self) -> Dialect {
        self.state.config.dialect
    }

    /// Arms `fault` for the next `times` requests matching `target` (see [`crate::faults`]).
    pub fn inject(&self, target: Target, fault: Fault, times: usize) {
        self.state.faults.inject(target, fault, times);
    }

    /// Number of received requests with `method` whose path matches `path_pattern`, where a
    /// `*` segment matches any one segment, e.g. `"/threads/*/runs/*/stream"`.
    pub fn requests(&self, method: &str, path_pattern: &str) -> usize {
        self.state.count_requests(method, path_pattern)
    }

    /// Every request received so far, in arrival order, with its headers (e.g. to check that
    /// `traceparent` / `tracestate` reached the server).
    pub fn recorded_requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The value of header `name` on each received request with `method` whose path matches
    /// `path_pattern` (as in [`ReferenceServer::requests`]), in arrival order; `None` for a
    /// request without it.
    pub fn request_headers(
        &self,
        method: &str,
        path_pattern: &str,
        name: &str,
    ) -> Vec<Option<String>> {
        let Ok(reqs) = self.state.requests.lock() else {
            return Vec::new();
        };
        reqs.iter()
            .filter(|r| r.matches(method, path_pattern))
            .map(|r| r.header(name).map(str::to_owned))
            .collect()
    }

    /// Number of runs created since the server started (deleted ones included): what an
    /// exactly-once test counts across a retried creation.
    pub fn runs_created(&self) -> usize {
        usize::try_from(self.state.seq.load(std::sync::atomic::Ordering::SeqCst)).unwrap_or(0)
    }

    /// The runs the server holds (thread and stateless, deleted ones left out), oldest first.
    pub fn run_ids(&self) -> Vec<Uuid> {
        let Ok(runs) = self.state.runs.lock() else {
            return Vec::new();
        };
        let mut all: Vec<_> = runs.values().map(|r| (r.seq, r.id)).collect();
        all.sort_unstable();
        all.into_iter().map(|(_, id)| id).collect()
    }

    /// The `metadata` a run was created with, `None` if unknown, deleted or created without.
    pub fn run_metadata(&self, run_id: Uuid) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.state.run(run_id)?.spec.metadata.clone()
    }

    /// Receives server events emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ServerEvent> {
        self.state.events.subscribe()
    }

    /// Returns the first event matching `pred`, looking at every event emitted since the server
    /// started (a bounded history) and then at new ones, for at most `within`.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&ServerEvent) -> bool,
        within: Duration,
    ) -> Option<ServerEvent> {
        let mut rx = self.subscribe();
        if let Some(ev) = self.state.events.find(&pred) {
            return Some(ev);
        }
        let fut = async {
            loop {
                match rx.recv().await {
                    Ok(ev) if pred(&ev) => return Some(ev),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        if let Some(ev) = self.state.events.find(&pred) {
                            return Some(ev);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        };
        tokio::time::timeout(within, fut).await.ok().flatten()
    }

    /// Current status of a run (`"pending"`, `"success"`, ...), `None` if unknown or deleted.
    pub async fn run_status(&self, run_id: Uuid) -> Option<String> {
        self.state
            .run(run_id)
            .map(|r| r.status().as_str().to_owned())
    }

    /// Number of events in a run's log, `None` if unknown or deleted.
    pub fn run_event_count(&self, run_id: Uuid) -> Option<usize> {
        self.state.run(run_id).map(|r| r.event_count())
    }

    /// Stops the server: closes the listener and every connection, stops all runs.
    pub async fn shutdown(mut self) {
        self.stop_listening().await;
        self.state.shutdown.cancel();
    }

    /// Closes the listener and drops every open connection abruptly (streams are cut), keeping
    /// all state and run tasks. Idempotent.
    pub async fn stop_listening(&mut self) {
        if let Some(l) = self.listener.take() {
            l.stop.cancel();
            let _ = l.task.await;
        }
    }

    /// Listens again on the same port after [`ReferenceServer::stop_listening`].
    ///
    /// # Panics
    /// If the port cannot be bound again within about 5 seconds.
    pub async fn resume_listening(&mut self) {
        if self.listener.is_some() {
            return;
        }
        let mut last_err = None;
        for _ in 0..100 {
            match TcpListener::bind(self.addr).await {
                Ok(l) => {
                    self.listener = Some(serve(self.state.clone(), l));
                    return;
                }
                Err(e) => {
                    last_err = Some(e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        panic!(
            "acp-reference-server: cannot re-bind {}: {last_err:?}",
            self.addr
        );
    }

    /// Stops listening (cutting open connections) and listens again on the same port, keeping
    /// all threads, runs and event logs.
    pub async fn restart(&mut self) {
        self.stop_listening().await;
        self.resume_listening().await;
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        if let Some(l) = self.listener.take() {
            l.stop.cancel();
            l.task.abort();
        }
        self.state.shutdown.cancel();
    }
}

/// Serves one connection until it ends, `kill` is cancelled, or a handler resets it through
/// its [`ConnControl`] (inserted into every request; see [`crate::conn`] for what closing and
/// resetting do on the wire).
async fn serve_connection(router: Router, stream: TcpStream, kill: CancellationToken) {
    let control = ConnControl::default();
    let ext = control.clone();
    let inner = TowerToHyperService::new(router);
    let svc = service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ext.clone());
        inner.call(req)
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let io = TokioIo::new(ConnIo::new(stream, control.clone()));
    let conn = builder.serve_connection_with_upgrades(io, svc);
    tokio::select! {
        _ = conn => {}
        _ = kill.cancelled() => {}
        _ = control.reset_requested() => {}
    }
}

/// Runs the accept loop; cancelling `stop` closes the listener and every connection.
fn serve(state: AppState, listener: TcpListener) -> Listening {
    let stop = CancellationToken::new();
    let router = routes::router(state);
    let token = stop.clone();
    let task = tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    conns.spawn(serve_connection(router.clone(), stream, token.clone()));
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
        drop(listener);
        conns.shutdown().await;
    });
    Listening { stop, task }
}
