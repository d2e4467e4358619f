//! The one table of ACP operations this crate sends: each named by the spec's `operationId`,
//! with its method, path template, idempotency and timeout class.
//!
//! Every request of `acp-client-ext` starts from an [`Op`] of this table and goes through the
//! one transport ([`crate::transport`]); no other module types an ACP path. A unit test reads the
//! generated client (`acp-client/src/generated.rs`, whose builders say "Sends a `GET` request to
//! `/runs/{run_id}`" beside `operation_id: "get_stateless_run"`) and checks every entry against
//! it, so a spec bump that moves a route fails that test instead of a user's request.

use crate::error::Error;
use reqwest::Method;
use std::fmt::{Display, Write};

/// Whether a failed request may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Reading, waiting, joining, cancelling, deleting, searching: sending it twice does no harm.
    Idempotent,
    /// Creates something (a run, a thread) or moves a run on (resume): sent again only when the
    /// first attempt provably never reached the server, or the caller opted in
    /// ([`ClientBuilder::retry_creates`](crate::ClientBuilder::retry_creates)).
    Create,
}

/// Which limit bounds a request of the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeoutClass {
    /// An ordinary request: the request timeout (the client's, or the call's own).
    Request,
    /// An event stream: the idle timeout bounds the wait for the headers and every silence.
    Stream,
    /// A server-side wait (long poll): only the caller's deadline bounds it.
    LongPoll,
}

/// An HTTP method, as a `const`-friendly value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

impl Verb {
    pub(crate) fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        }
    }
}

/// One ACP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Op {
    /// The spec's `operationId`: the name in errors and tracing spans.
    pub(crate) id: &'static str,
    pub(crate) verb: Verb,
    /// The path template, as in the spec (`/threads/{thread_id}/runs/{run_id}`).
    pub(crate) path: &'static str,
    pub(crate) idempotency: Idempotency,
    pub(crate) timeout: TimeoutClass,
}

impl Op {
    /// The path with its `{...}` parameters replaced, in order, by `args`.
    pub(crate) fn path(&self, args: &[&dyn Display]) -> String {
        let mut out = String::with_capacity(self.path.len() + 36 * args.len());
        let mut args = args.iter();
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            if let Some(arg) = args.next() {
                let _ = write!(out, "{arg}");
            }
            rest = rest.get(close..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    pub(crate) fn creates(&self) -> bool {
        self.idempotency == Idempotency::Create
    }
}

/// An ACP operation of this crate's table, as [`AcpClient::send_operation`] sends it: the
/// spec's `operationId`, its HTTP method and path template. [`Operation::all`] lists every
/// operation of the spec, in the table's order.
///
/// ```
/// use acp_client_ext::Operation;
/// let op = Operation::find("get_thread_run").expect("in the table");
/// assert_eq!((op.method(), op.path()), ("GET", "/threads/{thread_id}/runs/{run_id}"));
/// assert_eq!(op.path_params().collect::<Vec<_>>(), ["thread_id", "run_id"]);
/// assert!(!op.streams());
/// assert_eq!(Operation::all().count(), 30);
/// ```
///
/// [`AcpClient::send_operation`]: crate::AcpClient::send_operation
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation(pub(crate) &'static Op);

impl Operation {
    /// Every operation of the spec.
    pub fn all() -> impl Iterator<Item = Operation> {
        ALL.iter().map(Operation)
    }

    /// The operation with this `operationId`.
    pub fn find(operation_id: &str) -> Option<Operation> {
        ALL.iter().find(|op| op.id == operation_id).map(Operation)
    }

    /// The spec's `operationId`.
    pub fn id(&self) -> &'static str {
        self.0.id
    }

    /// The HTTP method (`GET`, `POST`, `PATCH`, `DELETE`).
    pub fn method(&self) -> &'static str {
        match self.0.verb {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    /// The path template, as in the spec (`/threads/{thread_id}`).
    pub fn path(&self) -> &'static str {
        self.0.path
    }

    /// The names of the path's `{...}` parameters, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.0
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }

    /// The path with its parameters filled in by name (`("thread_id", "…")`), checked: every
    /// parameter of the template given once, no unknown one, each value one path segment (not
    /// empty, `.` or `..`, no `/`). The one place a path template is filled from names
    /// ([`AcpClient::send_operation`](crate::AcpClient::send_operation) and `acp` use it).
    ///
    /// ```
    /// use acp_client_ext::Operation;
    /// let op = Operation::find("get_thread_run").unwrap();
    /// assert_eq!(
    ///     op.fill_path(&[("run_id", "r1"), ("thread_id", "t1")])?,
    ///     "/threads/t1/runs/r1"
    /// );
    /// assert!(op.fill_path(&[("thread_id", "t1")]).is_err());
    /// assert!(op.fill_path(&[("thread_id", "t1"), ("run_id", "a/b")]).is_err());
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn fill_path(&self, params: &[(&str, &str)]) -> crate::Result<String> {
        let values = self.path_values(params)?;
        let args: Vec<&dyn Display> = values.iter().map(|v| v as &dyn Display).collect();
        Ok(self.0.path(&args))
    }

    /// The values of the path parameters given by name, in the template's order, checked as
    /// [`fill_path`](Self::fill_path) says.
    pub(crate) fn path_values<'a>(
        &self,
        params: &[(&str, &'a str)],
    ) -> crate::Result<Vec<&'a str>> {
        let names: Vec<&str> = self.path_params().collect();
        for (i, (name, value)) in params.iter().enumerate() {
            if !names.contains(name) {
                return Err(Error::invalid(
                    "path_params",
                    format!(
                        "{name:?} is not a parameter of {} {} (it has: {})",
                        self.id(),
                        self.path(),
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                ));
            }
            if params[..i].iter().any(|(n, _)| n == name) {
                return Err(Error::invalid(
                    "path_params",
                    format!("{name:?} is given twice"),
                ));
            }
            if value.is_empty() || *value == "." || *value == ".." || value.contains('/') {
                return Err(Error::invalid(
                    "path_params",
                    format!("{name} = {value:?} is not one path segment"),
                ));
            }
        }
        names
            .iter()
            .map(|name| {
                params
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| *v)
                    .ok_or_else(|| {
                        Error::invalid(
                            "path_params",
                            format!(
                                "{} needs the path parameter {name} ({})",
                                self.id(),
                                self.path()
                            ),
                        )
                    })
            })
            .collect()
    }

    /// Whether the answer is an event stream (`text/event-stream`).
    pub fn streams(&self) -> bool {
        self.0.timeout == TimeoutClass::Stream
    }

    /// Whether it creates something (a run, a thread) or moves a run on: such a request is not
    /// sent again after a failure that may have reached the server, unless the client was built
    /// with [`retry_creates`](crate::ClientBuilder::retry_creates).
    pub fn creates(&self) -> bool {
        self.0.creates()
    }
}

macro_rules! ops {
    ($($name:ident = $id:literal, $verb:ident $path:literal, $idem:ident, $class:ident;)*) => {
        $(
            pub(crate) const $name: Op = Op {
                id: $id,
                verb: Verb::$verb,
                path: $path,
                idempotency: Idempotency::$idem,
                timeout: TimeoutClass::$class,
            };
        )*
        /// Every operation of the table.
        pub(crate) const ALL: &[Op] = &[$($name),*];
    };
}

ops! {
    SEARCH_AGENTS = "search_agents", Post "/agents/search", Idempotent, Request;
    GET_AGENT = "get_agent_by_id", Get "/agents/{agent_id}", Idempotent, Request;
    GET_AGENT_DESCRIPTOR = "get_acp_descriptor_by_id", Get "/agents/{agent_id}/descriptor", Idempotent, Request;

    CREATE_THREAD = "create_thread", Post "/threads", Create, Request;
    SEARCH_THREADS = "search_threads", Post "/threads/search", Idempotent, Request;
    GET_THREAD = "get_thread", Get "/threads/{thread_id}", Idempotent, Request;
    DELETE_THREAD = "delete_thread", Delete "/threads/{thread_id}", Idempotent, Request;
    PATCH_THREAD = "patch_thread", Patch "/threads/{thread_id}", Idempotent, Request;
    COPY_THREAD = "copy_thread", Post "/threads/{thread_id}/copy", Create, Request;
    GET_THREAD_HISTORY = "get_thread_history", Get "/threads/{thread_id}/history", Idempotent, Request;

    LIST_THREAD_RUNS = "list_thread_runs", Get "/threads/{thread_id}/runs", Idempotent, Request;
    CREATE_THREAD_RUN = "create_thread_run", Post "/threads/{thread_id}/runs", Create, Request;
    CREATE_STREAM_THREAD_RUN = "create_and_stream_thread_run_output", Post "/threads/{thread_id}/runs/stream", Create, Stream;
    CREATE_WAIT_THREAD_RUN = "create_and_wait_for_thread_run_output", Post "/threads/{thread_id}/runs/wait", Create, LongPoll;
    GET_THREAD_RUN = "get_thread_run", Get "/threads/{thread_id}/runs/{run_id}", Idempotent, Request;
    RESUME_THREAD_RUN = "resume_thread_run", Post "/threads/{thread_id}/runs/{run_id}", Create, Request;
    DELETE_THREAD_RUN = "delete_thread_run", Delete "/threads/{thread_id}/runs/{run_id}", Idempotent, Request;
    CANCEL_THREAD_RUN = "cancel_thread_run", Post "/threads/{thread_id}/runs/{run_id}/cancel", Idempotent, Request;
    STREAM_THREAD_RUN = "stream_thread_run_output", Get "/threads/{thread_id}/runs/{run_id}/stream", Idempotent, Stream;
    WAIT_THREAD_RUN = "wait_for_thread_run_output", Get "/threads/{thread_id}/runs/{run_id}/wait", Idempotent, LongPoll;

    CREATE_STATELESS_RUN = "create_stateless_run", Post "/runs", Create, Request;
    SEARCH_STATELESS_RUNS = "search_stateless_runs", Post "/runs/search", Idempotent, Request;
    CREATE_STREAM_STATELESS_RUN = "create_and_stream_stateless_run_output", Post "/runs/stream", Create, Stream;
    CREATE_WAIT_STATELESS_RUN = "create_and_wait_for_stateless_run_output", Post "/runs/wait", Create, LongPoll;
    GET_STATELESS_RUN = "get_stateless_run", Get "/runs/{run_id}", Idempotent, Request;
    RESUME_STATELESS_RUN = "resume_stateless_run", Post "/runs/{run_id}", Create, Request;
    DELETE_STATELESS_RUN = "delete_stateless_run", Delete "/runs/{run_id}", Idempotent, Request;
    CANCEL_STATELESS_RUN = "cancel_stateless_run", Post "/runs/{run_id}/cancel", Idempotent, Request;
    STREAM_STATELESS_RUN = "stream_stateless_run_output", Get "/runs/{run_id}/stream", Idempotent, Stream;
    WAIT_STATELESS_RUN = "wait_for_stateless_run_output", Get "/runs/{run_id}/wait", Idempotent, LongPoll;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(operationId, method, path)` of every operation of the generated client, read from its
    /// builders: the doc line "Sends a `POST` request to `/runs`" precedes the
    /// `operation_id: "create_stateless_run"` of the same builder.
    fn generated_routes() -> Vec<(String, String, String)> {
        let src = include_str!("../../acp-client/src/generated.rs");
        let mut routes = Vec::new();
        let mut last: Option<(String, String)> = None;
        for line in src.lines() {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("///Sends a `") {
                let mut parts = rest.split('`');
                let method = parts.next().unwrap_or_default().to_string();
                let path = parts.nth(1).unwrap_or_default().to_string();
                last = Some((method, path));
            } else if let Some(rest) = line.strip_prefix("operation_id: \"") {
                let id = rest.trim_end_matches("\",").to_string();
                let (method, path) = last.take().expect("a route before each operation id");
                routes.push((id, method, path));
            }
        }
        routes
    }

    #[test]
    fn every_operation_matches_the_generated_client() {
        let routes = generated_routes();
        assert_eq!(
            routes.len(),
            30,
            "the generated client's operations: {routes:?}"
        );
        for op in ALL {
            let found = routes
                .iter()
                .find(|(id, ..)| id == op.id)
                .unwrap_or_else(|| panic!("{} is not an operation of the generated client", op.id));
            assert_eq!(found.1, op.verb.method().as_str(), "method of {}", op.id);
            assert_eq!(found.2, op.path, "path of {}", op.id);
        }
        let mut ids: Vec<_> = ALL.iter().map(|o| o.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len(), "each operation once");
        assert_eq!(
            ALL.len(),
            routes.len(),
            "every operation of the spec in the table"
        );
    }

    #[test]
    fn paths_are_filled_in_order() {
        let t = uuid::Uuid::nil();
        assert_eq!(
            CANCEL_THREAD_RUN.path(&[&t, &"r"]),
            format!("/threads/{t}/runs/r/cancel")
        );
        assert_eq!(CREATE_STATELESS_RUN.path(&[]), "/runs");
        assert_eq!(GET_STATELESS_RUN.path(&[&7]), "/runs/7");
    }
}
