//! Creates: the one path every run-creating call takes (`create`, `stream` and `wait` of
//! [`ThreadRuns`], [`StatelessRuns`] and agent handles), and how a create whose fate is unknown
//! is resolved rather than reported.
//!
//! # A create is applied at most once
//!
//! When the connection dies after a create was written (the server reset it, or closed a
//! pooled connection just as the request went out, as uvicorn does after an unhandled `500`),
//! nothing on the client side tells whether the server read it: the run may exist or not. Go's
//! `net/http` (`shouldRetryRequest`) resends such a request only when it is idempotent or
//! carries an `Idempotency-Key` the server honours; ACP has no such key, and browsers never
//! resend a `POST` by themselves. So this crate makes the create recognisable instead:
//!
//! * every create body carries a client-chosen id in its `metadata`, under
//!   [`CREATE_TAG_KEY`] (`"acp_client_request_id"`, a UUID string; the caller's other metadata is
//!   kept as is);
//! * when a create fails in a way that leaves its fate unknown ([`Error::fate_unknown`]: a
//!   transport failure after the request may have been written, a request timeout), the run is
//!   looked up by that id: `POST /runs/search` for the create's agent (`{"agent_id": ..}`)
//!   for a stateless run, `GET /threads/{thread_id}/runs` for a thread run, and the id is
//!   looked for in each run's metadata (`creation.metadata`, or a top-level `metadata`). No
//!   metadata filter is sent: the Agent Workflow Server's `Runs.search_for_runs`
//!   (`agntcy/workflow-srv`, `services/runs.py`) fails with a `500` on any, and without an
//!   `agent_id` it lists the default agent's runs only;
//! * found, the call goes on with that run (a create returns its handle, a create-and-stream
//!   joins its stream from the start, a create-and-wait waits for it); known not to exist, the
//!   create is sent once more with the same id (at most [`RetryPolicy::max_retries`] times);
//!   when the lookup cannot tell (it fails, or the list is a full page that may hide the run),
//!   the original error is returned, as before: `may_have_created`.
//!
//! The cost: a scan of each create body's top level and one copy of it with the tag written
//! where the scan finds `metadata` (a body the scan cannot be sure of, or one that already names
//! the key, is parsed and written again instead, about 2 µs of client time: `perf` on
//! `bench_client overhead`), the id stored with the run on the server, and one lookup request
//! per doubtful failure. Turn it off with
//! [`ClientBuilder::tag_creates(false)`](crate::ClientBuilder::tag_creates) (a server that
//! refuses unknown metadata keys, say): a doubtful create is then an [`Error::Transport`] with
//! `may_have_created: true`, and never sent twice unless
//! [`retry_creates`](crate::ClientBuilder::retry_creates) is on.
//!
//! Caveat: a server still working on the create when the lookup runs (it read the request but
//! has not stored the run) is taken for one that never got it, and the run may then be created
//! twice. A reset before the server read the request (the uvicorn case) and one after it stored
//! the run are both resolved exactly.
//!
//! [`RetryPolicy::max_retries`]: crate::RetryPolicy::max_retries

use crate::client::AcpClient;
use crate::error::{Error, Result};
use crate::json_scan::{Place, Scan, skip_ws, top_level, top_level_str};
use crate::ops;
use crate::options::Call;
use crate::run::{RunHandle, RunInfo, RunOp, RunScope, StatelessRuns, ThreadRuns};
use crate::transport::Req;
use acp_client::types;
use bytes::Bytes;
use serde_json::{Map, Value};
use std::fmt;
use std::future::Future;
use uuid::Uuid;

/// The `metadata` key under which each create carries the id it is recognised by.
///
/// ```
/// assert_eq!(acp_client_ext::CREATE_TAG_KEY, "acp_client_request_id");
/// ```
pub const CREATE_TAG_KEY: &str = "acp_client_request_id";

/// The spec's default page of `GET /threads/{thread_id}/runs` (`limit=10`).
const THREAD_RUNS_PAGE: usize = 10;
/// The page a lookup asks for when it can (`POST /runs/search`, or the list's `limit`).
const LOOKUP_LIMIT: usize = 1000;

/// Turn a create body (the generated type, or its builder) into JSON bytes, refusing a builder
/// with missing or invalid fields before any request.
pub(crate) fn create_body<T, B>(body: B) -> Result<Bytes>
where
    B: TryInto<T>,
    B::Error: fmt::Display,
    T: serde::Serialize,
{
    let body: T = body
        .try_into()
        .map_err(|e| Error::invalid("run create body", e.to_string()))?;
    serde_json::to_vec(&body)
        .map(Bytes::from)
        .map_err(|e| Error::invalid("run create body", format!("cannot be serialized: {e}")))
}

/// The id a create is tagged with, and the agent it runs (for the lookup).
#[derive(Debug, Clone)]
struct Tag {
    id: String,
    agent_id: Option<String>,
}

/// A create body with the client-chosen id in its metadata, and that id; the body unchanged
/// (and no id) when it is not a JSON object or its `metadata` is neither an object nor `null`.
fn tagged(body: &Bytes) -> (Bytes, Option<Tag>) {
    let id = Uuid::new_v4().to_string();
    match spliced(body, &id) {
        Some((bytes, agent_id)) => (bytes, Some(Tag { id, agent_id })),
        None => reparsed(body, id),
    }
}

/// The tag written into the body's bytes, and the agent id, where the scan of the top level is
/// sure of both (`None`: parse the body instead). Every create body this crate writes is a
/// compact object from serde, so this is the path taken; [`reparsed`] is the rule it follows.
fn spliced(body: &[u8], id: &str) -> Option<(Bytes, Option<String>)> {
    // A body that names the key already (the caller's own, or nested somewhere): `reparsed`
    // overwrites it in `metadata`, a splice would leave two.
    // One finder for the process: `memmem::find` builds one (its tables) on every call, ~800
    // instructions of a create's ~120 k (callgrind, `bench_client URL overhead`).
    static KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(CREATE_TAG_KEY));
    if KEY.find(body).is_some() {
        return None;
    }
    let agent_id = match top_level_str(body, b"agent_id") {
        Scan::Found(agent_id) => Some(agent_id.to_owned()),
        Scan::Absent | Scan::NotString => None,
        Scan::Unsure => return None,
    };
    let entry = format!(r#""{CREATE_TAG_KEY}":"{id}""#);
    let mut out = Vec::with_capacity(body.len() + entry.len() + 16);
    match top_level(body, b"metadata") {
        Place::Value(i) if body[i] == b'{' => {
            let empty = body.get(skip_ws(body, i + 1)) == Some(&b'}');
            out.extend_from_slice(&body[..=i]);
            out.extend_from_slice(entry.as_bytes());
            if !empty {
                out.push(b',');
            }
            out.extend_from_slice(&body[i + 1..]);
        }
        Place::Value(i) if body[i..].starts_with(b"null") => {
            out.extend_from_slice(&body[..i]);
            out.push(b'{');
            out.extend_from_slice(entry.as_bytes());
            out.push(b'}');
            out.extend_from_slice(&body[i + 4..]);
        }
        Place::Absent { close, empty } => {
            out.extend_from_slice(&body[..close]);
            if !empty {
                out.push(b',');
            }
            out.extend_from_slice(br#""metadata":{"#);
            out.extend_from_slice(entry.as_bytes());
            out.push(b'}');
            out.extend_from_slice(&body[close..]);
        }
        // Metadata of another type (left to `reparsed`, which sends the body unchanged), or a
        // body the scan cannot read.
        Place::Value(_) | Place::Unsure => return None,
    }
    Some((out.into(), agent_id))
}

/// [`tagged`] by a parse of the body and a write of it with the tag in `metadata`.
fn reparsed(body: &Bytes, id: String) -> (Bytes, Option<Tag>) {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(body) else {
        return (body.clone(), None);
    };
    let agent_id = object
        .get("agent_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let metadata = object
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if metadata.is_null() {
        *metadata = Value::Object(Map::new());
    }
    let Value::Object(metadata) = metadata else {
        return (body.clone(), None);
    };
    metadata.insert(CREATE_TAG_KEY.into(), Value::String(id.clone()));
    match serde_json::to_vec(&object) {
        Ok(bytes) => (bytes.into(), Some(Tag { id, agent_id })),
        Err(_) => (body.clone(), None),
    }
}

/// The one path of every run-creating call: the create body is already written (an error in it
/// fails the call before any request); when the call is awaited, the body is tagged (see the
/// [module docs](self)) and `send` sends it in `scope` with `client` customized by the call's
/// options. `send` gets the tag to resolve a doubtful failure with ([`Doubt::resolve`]).
pub(crate) fn create_call<T, F, Fut>(
    client: &AcpClient,
    scope: RunScope,
    body: Result<Bytes>,
    send: F,
) -> Call<T>
where
    T: Send + 'static,
    F: FnOnce(AcpClient, RunScope, Bytes, Doubt) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>> + Send + 'static,
{
    match body {
        Ok(body) => Call::new(client.clone(), move |c| {
            let (body, tag) = if c.settings().tag_creates {
                tagged(&body)
            } else {
                (body, None)
            };
            let doubt = Doubt {
                tag,
                rounds_left: c.settings().retry.max_retries,
            };
            send(c, scope, body, doubt)
        }),
        Err(e) => Call::fail(e),
    }
}

/// What a create knows to resolve a failure whose fate is unknown: the id it was tagged with.
#[derive(Debug, Clone)]
pub(crate) struct Doubt {
    tag: Option<Tag>,
    rounds_left: u32,
}

/// What became of a create whose fate was unknown.
pub(crate) enum Resolved {
    /// The run exists: go on with it.
    Created(Box<RunHandle>),
    /// The server never got the create: send it again.
    NotCreated,
}

impl Doubt {
    /// After `error` from sending a create: the run it created, or that it created none (send
    /// again), or `error` itself when it is not a doubt this can resolve.
    pub(crate) async fn resolve(
        &mut self,
        client: &AcpClient,
        scope: RunScope,
        error: Error,
    ) -> Result<Resolved> {
        let (true, Some(tag)) = (error.fate_unknown(), self.tag.as_ref()) else {
            return Err(error);
        };
        let found = match find_by_tag(client, scope, tag).await {
            Ok(found) => found,
            Err(lookup) => {
                tracing::debug!(error = %lookup, "looking up a doubtful create failed");
                None
            }
        };
        match found {
            Some(Some(info)) => {
                tracing::debug!(run_id = %info.run_id, "the doubtful create had created its run");
                Ok(Resolved::Created(Box::new(RunHandle {
                    client: client.plain(),
                    scope,
                    run_id: info.run_id,
                    created: Some(info),
                    checks: Default::default(),
                })))
            }
            Some(None) if self.rounds_left > 0 => {
                self.rounds_left -= 1;
                tracing::debug!(error = %error, "the doubtful create created nothing; sending it again");
                Ok(Resolved::NotCreated)
            }
            _ => Err(error),
        }
    }
}

/// The run tagged `tag`: `Some(Some(run))` found, `Some(None)` known not to exist, `None` when
/// the answer cannot tell (a full page without it).
async fn find_by_tag(
    client: &AcpClient,
    scope: RunScope,
    tag: &Tag,
) -> Result<Option<Option<RunInfo>>> {
    let (op, runs, complete) = match scope {
        RunScope::Stateless => {
            let mut body = serde_json::json!({ "limit": LOOKUP_LIMIT });
            if let Some(agent_id) = &tag.agent_id {
                body["agent_id"] = Value::String(agent_id.clone());
            }
            let req = Req::new(&ops::SEARCH_STATELESS_RUNS, &[]).json_body(&body)?;
            let runs: Vec<Value> = client.json(&req).await?;
            let complete = runs.len() < LOOKUP_LIMIT;
            (req.op.id, runs, complete)
        }
        RunScope::Thread(thread_id) => {
            // The spec's default page first; a larger one when that page is full (a server
            // that refuses `limit` is asked without it, and its answer is complete only when
            // it is not a full page).
            let req = Req::new(&ops::LIST_THREAD_RUNS, &[&thread_id]);
            let runs: Vec<Value> = client.json(&req).await?;
            if runs.len() < THREAD_RUNS_PAGE || has_tag(&runs, &tag.id).is_some() {
                let complete = runs.len() < THREAD_RUNS_PAGE;
                (req.op.id, runs, complete)
            } else {
                let req = req.query("limit", LOOKUP_LIMIT);
                let (runs, dropped): (Vec<Value>, _) =
                    client.json_dropping_refused_query(&req, &["limit"]).await?;
                let page = if dropped.is_empty() {
                    LOOKUP_LIMIT
                } else {
                    THREAD_RUNS_PAGE
                };
                let complete = runs.len() < page;
                (req.op.id, runs, complete)
            }
        }
    };
    Ok(match has_tag(&runs, &tag.id) {
        Some(run) => Some(Some(RunInfo::from_value(op, run.clone())?)),
        None if complete => Some(None),
        None => None,
    })
}

/// The run among `runs` whose metadata carries `tag`: the create's metadata as the run keeps
/// it (`creation.metadata`, the spec's `RunStateful`/`RunStateless`), or a top-level `metadata`.
fn has_tag<'a>(runs: &'a [Value], tag: &str) -> Option<&'a Value> {
    let tagged = |metadata: Option<&Value>| {
        metadata
            .and_then(|m| m.get(CREATE_TAG_KEY))
            .and_then(Value::as_str)
            == Some(tag)
    };
    runs.iter().find(|run| {
        tagged(run.get("creation").and_then(|c| c.get("metadata"))) || tagged(run.get("metadata"))
    })
}

/// `POST .../runs`: the run's handle.
pub(crate) async fn create_run(
    client: AcpClient,
    scope: RunScope,
    body: Bytes,
    mut doubt: Doubt,
) -> Result<RunHandle> {
    let req = scope.req(RunOp::Create, None).json_bytes(&body);
    loop {
        let error = match client.json::<Value>(&req).await {
            Ok(v) => {
                let info = RunInfo::from_value(req.op.id, v)?;
                return Ok(RunHandle {
                    client: client.plain(),
                    scope,
                    run_id: info.run_id,
                    created: Some(info),
                    checks: Default::default(),
                });
            }
            Err(e) => e,
        };
        match doubt.resolve(&client, scope, error).await? {
            Resolved::Created(run) => return Ok(*run),
            Resolved::NotCreated => continue,
        }
    }
}

impl ThreadRuns {
    /// Start a run on the thread (`POST /threads/{thread_id}/runs`). A create whose fate a
    /// broken connection left unknown is resolved, not repeated blindly (see
    /// [`CREATE_TAG_KEY`]).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient, thread_id: uuid::Uuid) -> acp_client_ext::Result<()> {
    /// use acp_client::types::RunCreateStateful;
    /// let echo = client.agent("echo").await?; // runs take its id; found by name
    /// let run = client
    ///     .thread_runs(thread_id)?
    ///     .create(RunCreateStateful { agent_id: Some(echo.id().into()), ..Default::default() })
    ///     .await?;
    /// assert_eq!(run.thread_id(), Some(thread_id));
    /// # Ok(())
    /// # }
    /// ```
    pub fn create<B>(&self, body: B) -> Call<RunHandle>
    where
        B: TryInto<types::RunCreateStateful, Error: fmt::Display>,
    {
        let body = create_body::<types::RunCreateStateful, B>(body);
        create_call(&self.client, self.scope(), body, create_run)
    }
}

impl StatelessRuns {
    /// Start a stateless run (`POST /runs`). A create whose fate a broken connection left
    /// unknown is resolved, not repeated blindly (see [`CREATE_TAG_KEY`]).
    ///
    /// ```no_run
    /// # async fn demo(client: acp_client_ext::AcpClient) -> acp_client_ext::Result<()> {
    /// use acp_client::types::RunCreateStateless;
    /// let echo = client.agent("echo").await?; // runs take its id; found by name
    /// let run = client
    ///     .stateless_runs()
    ///     .create(RunCreateStateless { agent_id: Some(echo.id().into()), ..Default::default() })
    ///     .await?;
    /// assert_eq!(run.thread_id(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn create<B>(&self, body: B) -> Call<RunHandle>
    where
        B: TryInto<types::RunCreateStateless, Error: fmt::Display>,
    {
        let body = create_body::<types::RunCreateStateless, B>(body);
        create_call(&self.client, RunScope::Stateless, body, create_run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag_of(body: &[u8]) -> (Value, Option<String>) {
        let (bytes, tag) = tagged(&Bytes::copy_from_slice(body));
        (serde_json::from_slice(&bytes).unwrap(), tag.map(|t| t.id))
    }

    #[test]
    fn a_tag_joins_the_callers_metadata() {
        let (v, tag) = tag_of(br#"{"agent_id":"a","metadata":{"trace":"42"}}"#);
        let tag = tag.expect("tagged");
        assert_eq!(v["metadata"]["trace"], "42");
        assert_eq!(v["metadata"][CREATE_TAG_KEY], tag.as_str());
        assert_eq!(v["agent_id"], "a");
        let (_, tag) = tagged(&Bytes::from_static(br#"{"agent_id":"a"}"#));
        assert_eq!(tag.and_then(|t| t.agent_id).as_deref(), Some("a"));
        for body in [&br#"{"agent_id":"a"}"#[..], br#"{"metadata":null}"#] {
            let (v, tag) = tag_of(body);
            assert_eq!(v["metadata"][CREATE_TAG_KEY], tag.expect("tagged").as_str());
        }
    }

    /// The splice and the parse agree on every body either can tag (the tag's value aside),
    /// and the splice steps aside where it cannot be sure.
    #[test]
    fn the_spliced_tag_is_the_parsed_one() {
        let bodies: &[&[u8]] = &[
            br#"{"agent_id":"a","input":{"metadata":{"x":1}}}"#,
            br#"{"agent_id":"a","metadata":{"trace":"42"},"input":{}}"#,
            br#"{"agent_id":"a","metadata":{}}"#,
            br#"{"agent_id":"a","metadata":null,"config":{"tags":["}"]}}"#,
            br#"{ "metadata" : { "k" : [1, {"}": "{"}] } , "agent_id" : 3 }"#,
            b"{}",
            b" { } ",
            br#"{"input":"a \"quoted\" }"}"#,
        ];
        for &body in bodies {
            let what = String::from_utf8_lossy(body);
            let (bytes, agent_id) = spliced(body, "T").unwrap_or_else(|| panic!("{what}"));
            let (parsed, tag) = reparsed(&Bytes::copy_from_slice(body), "T".into());
            let tag = tag.expect("tagged");
            assert_eq!(agent_id, tag.agent_id, "{what}");
            let spliced: Value = serde_json::from_slice(&bytes).expect("JSON");
            let parsed: Value = serde_json::from_slice(&parsed).expect("JSON");
            assert_eq!(spliced, parsed, "{what}");
        }
        for body in [
            &br#"{"metadata":{"acp_client_request_id":"mine"}}"#[..],
            br#"{"agent_\u0069d":"a"}"#,
            br#"{"metadata":"x"}"#,
            b"[1]",
            b"not json",
        ] {
            assert!(
                spliced(body, "T").is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // The caller's own key under the tag's name is overwritten, through the parse.
        let (v, tag) = tag_of(br#"{"metadata":{"acp_client_request_id":"mine"}}"#);
        assert_eq!(v["metadata"][CREATE_TAG_KEY], tag.expect("tagged").as_str());
    }

    #[test]
    fn bodies_that_cannot_carry_a_tag_are_sent_unchanged() {
        for body in [&br#"{"metadata":"x"}"#[..], b"[1]", b"not json"] {
            let (bytes, tag) = tagged(&Bytes::copy_from_slice(body));
            assert_eq!(&bytes[..], body);
            assert!(tag.is_none());
        }
    }

    #[test]
    fn the_tag_is_found_where_servers_keep_the_create_metadata() {
        let runs = [
            serde_json::json!({"run_id": "1", "creation": {"metadata": {CREATE_TAG_KEY: "a"}}}),
            serde_json::json!({"run_id": "2", "metadata": {CREATE_TAG_KEY: "b"}}),
            serde_json::json!({"run_id": "3", "creation": null, "metadata": null}),
        ];
        assert_eq!(
            has_tag(&runs, "a").map(|r| &r["run_id"]),
            Some(&Value::from("1"))
        );
        assert_eq!(
            has_tag(&runs, "b").map(|r| &r["run_id"]),
            Some(&Value::from("2"))
        );
        assert!(has_tag(&runs, "c").is_none());
    }

    #[test]
    fn every_create_gets_its_own_tag() {
        let (_, a) = tag_of(b"{}");
        let (_, b) = tag_of(b"{}");
        assert_ne!(a, b);
    }
}
