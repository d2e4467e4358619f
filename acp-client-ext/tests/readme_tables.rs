//! The workspace README's tables, compiled: every code span with a call in it (a `(`), in a
//! column of Rust (all but the Python SDK's and the operationIds), appears verbatim in this file,
//! which the compiler checks; `every_table_snippet_is_compiled_here` fails when one does not (a
//! new row, a changed call). The rows of the Python SDK's `ThreadRunsApi` table also run, both
//! columns, against the reference server.
//!
//! The variables are the README's: `c` an `acp_client::Client`, `x` an `AcpClient`, `agent` an
//! `Agent`, `on_thread` its runs on thread `t`, `runs` a `ThreadRuns`, `run` a `RunHandle`,
//! `events` a `RunStream`, `cfg` a run's configuration, `b` a request body.

mod support;

use acp_client::prelude::*;
use acp_client::types;
use acp_client_ext::{
    AcpClient, Agent, AgentRuns, Call, CancelAction, Error, RequestOptions, RetryPolicy, RunEvent,
    RunHandle, RunInfo, RunStatus, RunStream, ThreadRuns, WaitOutcome,
};
use acp_reference_server::{ReferenceServer, agents};
use futures::TryStreamExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;
use uuid::Uuid;

/// Any error of a row: the generated client's, the ext crate's, a byte stream's.
type R<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The question the `interrupt` agent asks, and the answer the README's closure gives.
#[derive(Debug, Deserialize)]
struct Question {
    question: String,
}

#[derive(Serialize)]
struct Answer {
    approved: bool,
    to: String,
}

fn answer_to(q: Question) -> Answer {
    Answer {
        approved: true,
        to: q.question,
    }
}

/// The whole body of a generated streaming operation (the raw SSE bytes).
async fn all_bytes(mut bytes: acp_client::ByteStream) -> R<Vec<u8>> {
    let mut raw = Vec::new();
    while let Some(chunk) = bytes.try_next().await? {
        raw.extend_from_slice(&chunk);
    }
    Ok(raw)
}

fn body(agent_id: Uuid, input: Value) -> types::RunCreateStateful {
    serde_json::from_value(json!({"agent_id": agent_id, "input": input})).expect("a run body")
}

// The Python SDK's `ThreadRunsApi` table, row by row: the generated builder, then acp-client-ext.

/// `create_thread_run`.
async fn create_thread_run(
    c: &acp_client::Client,
    on_thread: &AgentRuns,
    t: Uuid,
    b: types::RunCreateStateful,
    input: Value,
    cfg: Value,
) -> R<(types::RunStateful, RunHandle)> {
    let generated: types::RunStateful = c
        .create_thread_run()
        .thread_id(t)
        .body(b)
        .send()
        .await?
        .into_inner();
    let run: RunHandle = on_thread.run(&input).config(&cfg).create().await?;
    Ok((generated, run))
}

/// `create_and_stream_thread_run_output`: the generated one's raw SSE bytes, then the values
/// updates decoded into `T`.
async fn create_and_stream_thread_run_output<T: DeserializeOwned>(
    c: &acp_client::Client,
    on_thread: &AgentRuns,
    t: Uuid,
    b: types::RunCreateStateful,
    input: Value,
) -> R<(Vec<u8>, Vec<T>)> {
    let bytes = c
        .create_and_stream_thread_run_output()
        .thread_id(t)
        .body(b)
        .send()
        .await?
        .into_inner();
    let raw = all_bytes(bytes).await?;
    let mut events: RunStream = on_thread.run(&input).stream().await?;
    let mut values = Vec::new();
    while let Some(event) = events.try_next().await? {
        if let RunEvent::Values(u) = event {
            values.push(u.values_as::<T>()?);
        }
    }
    Ok((raw, values))
}

/// `create_and_wait_for_thread_run_output`.
async fn create_and_wait_for_thread_run_output<T: DeserializeOwned>(
    c: &acp_client::Client,
    on_thread: &AgentRuns,
    t: Uuid,
    b: types::RunCreateStateful,
    input: Value,
    deadline: Duration,
) -> R<(types::RunWaitResponseStateful, T, Value)> {
    let generated: types::RunWaitResponseStateful = c
        .create_and_wait_for_thread_run_output()
        .thread_id(t)
        .body(b)
        .send()
        .await?
        .into_inner();
    let outcome: WaitOutcome = on_thread.run(&input).wait(deadline).await?;
    let decoded = outcome.output_as::<T>()?;
    let output: Value = on_thread.run(&input).output(deadline).await?;
    Ok((generated, decoded, output))
}

/// `get_thread_run`.
async fn get_thread_run(
    c: &acp_client::Client,
    run: &RunHandle,
    t: Uuid,
    r: Uuid,
) -> R<(types::RunStateful, RunInfo)> {
    let generated = c
        .get_thread_run()
        .thread_id(t)
        .run_id(r)
        .send()
        .await?
        .into_inner();
    let info: RunInfo = run.get().await?;
    Ok((generated, info))
}

/// `list_thread_runs`.
async fn list_thread_runs(
    c: &acp_client::Client,
    runs: &ThreadRuns,
    t: Uuid,
    n: u32,
    o: u32,
) -> R<(Vec<types::RunStateful>, Vec<RunInfo>)> {
    let generated = c
        .list_thread_runs()
        .thread_id(t)
        .limit(n)
        .offset(o)
        .send()
        .await?
        .into_inner();
    let listed: Vec<RunInfo> = runs.list(Some(n), Some(o)).await?;
    Ok((generated, listed))
}

/// `stream_thread_run_output`: the run's stream, whole and from an event id on.
async fn stream_thread_run_output(
    c: &acp_client::Client,
    run: &RunHandle,
    t: Uuid,
    r: Uuid,
    last_event_id: &str,
) -> R<(Vec<u8>, Vec<RunEvent>, Vec<RunEvent>)> {
    let bytes = c
        .stream_thread_run_output()
        .thread_id(t)
        .run_id(r)
        .send()
        .await?
        .into_inner();
    let raw = all_bytes(bytes).await?;
    let whole: Vec<RunEvent> = run.stream().await?.try_collect().await?;
    let rest: Vec<RunEvent> = run.stream_from(last_event_id).await?.try_collect().await?;
    Ok((raw, whole, rest))
}

/// `wait_for_thread_run_output`.
async fn wait_for_thread_run_output(
    c: &acp_client::Client,
    run: &RunHandle,
    t: Uuid,
    r: Uuid,
    deadline: Duration,
) -> R<(types::RunWaitResponseStateful, WaitOutcome)> {
    let generated = c
        .wait_for_thread_run_output()
        .thread_id(t)
        .run_id(r)
        .send()
        .await?
        .into_inner();
    let outcome: WaitOutcome = run.wait(deadline).await?;
    Ok((generated, outcome))
}

/// `cancel_thread_run`: the generated rollback of `r`, then `run` rolled back, and two other
/// runs cancelled and interrupted.
async fn cancel_thread_run(
    c: &acp_client::Client,
    t: Uuid,
    r: Uuid,
    run: &RunHandle,
    second: &RunHandle,
    third: &RunHandle,
) -> R<()> {
    c.cancel_thread_run()
        .thread_id(t)
        .run_id(r)
        .action(types::Action::Rollback)
        .wait(true)
        .send()
        .await?;
    run.cancel(CancelAction::Rollback, true).await?;
    {
        let run = second;
        run.rollback().await?;
    }
    {
        let run = third;
        run.interrupt().await?;
    }
    Ok(())
}

/// `resume_thread_run`: the generated resume of `r`, `run.resume`, `events.resume_stream` and
/// the whole loop. (`&answer` as the README writes it, where a reference is already given.)
#[allow(clippy::too_many_arguments, clippy::needless_borrows_for_generic_args)]
async fn resume_thread_run(
    c: &acp_client::Client,
    t: Uuid,
    r: Uuid,
    payload: types::ResumePayloadSchema,
    run: &RunHandle,
    answer: &Answer,
    events: RunStream,
    looped: &RunHandle,
) -> R<(types::RunStateful, RunInfo, Vec<RunEvent>, WaitOutcome)> {
    let generated = c
        .resume_thread_run()
        .thread_id(t)
        .run_id(r)
        .body(payload)
        .send()
        .await?
        .into_inner();
    let info: RunInfo = run.resume(&answer).await?;
    let rest: Vec<RunEvent> = events.resume_stream(&answer).await?.try_collect().await?;
    let (deadline, max_rounds) = (support::T, 5);
    let run = looped;
    #[rustfmt::skip]
    let outcome = run
        .run_to_completion(deadline, max_rounds, async |q| Ok(answer_to(q.payload_as::<Question>()?)))
        .await?;
    Ok((generated, info, rest, outcome))
}

/// `delete_thread_run`.
async fn delete_thread_run(c: &acp_client::Client, t: Uuid, r: Uuid, run: &RunHandle) -> R<()> {
    c.delete_thread_run().thread_id(t).run_id(r).send().await?;
    run.delete().await?;
    Ok(())
}

#[tokio::test]
async fn the_thread_run_rows_run_against_the_reference_server() {
    let s = ReferenceServer::start().await;
    let x = support::client(&s);
    let c = x.generated();
    let runs = x.new_thread().await.expect("thread");
    let t = runs.thread_id();
    let agent = x.agent("echo").await.expect("echo");
    let on_thread = agent.on_thread(t).expect("thread id");
    let deadline = support::T;

    // create
    let (generated, run) = create_thread_run(
        c,
        &on_thread,
        t,
        body(agents::ECHO, json!({"n": 1})),
        json!({"n": 2}),
        json!({"greeting": "hey"}),
    )
    .await
    .expect("create_thread_run");
    assert_eq!(generated.thread_id, Some(t));
    assert_eq!(run.thread_id(), Some(t));
    assert_ne!(generated.run_id, run.run_id());

    // create and stream
    #[derive(Debug, Deserialize, PartialEq)]
    struct Echoed {
        n: u32,
    }
    let (raw, values) = create_and_stream_thread_run_output::<Echoed>(
        c,
        &on_thread,
        t,
        body(agents::ECHO, json!({"n": 3})),
        json!({"n": 4}),
    )
    .await
    .expect("create_and_stream_thread_run_output");
    let raw = String::from_utf8(raw).expect("utf-8");
    assert!(raw.contains("\"n\":3") || raw.contains("\"n\": 3"), "{raw}");
    assert_eq!(values.last(), Some(&Echoed { n: 4 }));

    // create and wait
    let (generated, decoded, output) = create_and_wait_for_thread_run_output::<Echoed>(
        c,
        &on_thread,
        t,
        body(agents::ECHO, json!({"n": 5})),
        json!({"n": 6}),
        deadline,
    )
    .await
    .expect("create_and_wait_for_thread_run_output");
    assert_eq!(generated.run.expect("the run").thread_id, Some(t));
    assert_eq!(decoded, Echoed { n: 6 });
    assert_eq!(output, json!({"n": 6}));

    // get
    let (generated, info) = get_thread_run(c, &run, t, run.run_id())
        .await
        .expect("get_thread_run");
    assert_eq!(generated.run_id, run.run_id());
    assert_eq!(info.run_id, run.run_id());

    // list: the seven runs made so far on the thread (two, two, three), both ways.
    let (generated, listed) = list_thread_runs(c, &runs, t, 10, 0)
        .await
        .expect("list_thread_runs");
    assert_eq!(generated.len(), 7);
    assert_eq!(listed.len(), 7);
    let (generated, listed) = list_thread_runs(c, &runs, t, 2, 6)
        .await
        .expect("list_thread_runs");
    assert_eq!((generated.len(), listed.len()), (1, 1), "the last page");

    // stream a run's output: the stream agent's three updates and its final status.
    let streamed = x
        .agent("stream")
        .await
        .expect("stream agent")
        .on_thread(t)
        .expect("thread id")
        .run(&json!({"count": 3}))
        .create()
        .await
        .expect("run");
    let (raw, whole, rest) = stream_thread_run_output(c, &streamed, t, streamed.run_id(), "2")
        .await
        .expect("stream_thread_run_output");
    let raw = String::from_utf8_lossy(&raw);
    assert_eq!(raw.matches("event: agent_event").count(), 4, "{raw}");
    assert_eq!(whole.len(), 4, "{whole:?}");
    assert_eq!(rest.len(), 2, "events after id 2: {rest:?}");

    // wait for a run's output
    let (generated, outcome) = wait_for_thread_run_output(c, &run, t, run.run_id(), deadline)
        .await
        .expect("wait_for_thread_run_output");
    assert_eq!(generated.run.expect("the run").run_id, run.run_id());
    assert!(outcome.is_completed(), "{outcome:?}");

    // cancel: four slow runs (a thread holds one pending run at a time: each on its own),
    // rolled back (gone), rolled back, rolled back, interrupted.
    let mut slow_runs = Vec::new();
    for _ in 0..4 {
        let (_, slow) = fresh(&x, "slow").await;
        slow_runs.push(slow.run(&json!({})).create().await.expect("slow run"));
    }
    let t0 = slow_runs[0].thread_id().expect("a thread run");
    cancel_thread_run(
        c,
        t0,
        slow_runs[0].run_id(),
        &slow_runs[1],
        &slow_runs[2],
        &slow_runs[3],
    )
    .await
    .expect("cancel_thread_run");
    for gone in &slow_runs[..3] {
        let err = gone.get().await.expect_err("rolled back");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
    }
    let kept = slow_runs[3].get().await.expect("interrupted run");
    assert_eq!(kept.status, RunStatus::Interrupted);

    // resume: four runs of the interrupt agent, each interrupted once (the last twice).
    let mut asked = Vec::new();
    for _ in 0..2 {
        let (_, interrupt) = fresh(&x, "interrupt").await;
        let run = interrupt
            .run(&json!({"interrupts": 1}))
            .create()
            .await
            .expect("run");
        run.wait(deadline).await.expect("interrupted");
        asked.push(run);
    }
    let (_, interrupt) = fresh(&x, "interrupt").await;
    let mut events = interrupt
        .run(&json!({"interrupts": 1}))
        .stream()
        .await
        .expect("stream");
    while events.try_next().await.expect("event").is_some() {}
    let (_, interrupt) = fresh(&x, "interrupt").await;
    let looped = interrupt
        .run(&json!({"interrupts": 2}))
        .create()
        .await
        .expect("run");
    let payload = serde_json::from_value(json!({"approved": true})).expect("payload");
    let answer = Answer {
        approved: true,
        to: "me".into(),
    };
    let t0 = asked[0].thread_id().expect("a thread run");
    let (generated, info, rest, outcome) = resume_thread_run(
        c,
        t0,
        asked[0].run_id(),
        payload,
        &asked[1],
        &answer,
        events,
        &looped,
    )
    .await
    .expect("resume_thread_run");
    assert_eq!(generated.run_id, asked[0].run_id());
    assert_eq!(info.run_id, asked[1].run_id());
    assert!(
        rest.last().is_some_and(|e| e.is_final()),
        "the resumed stream runs to its end: {rest:?}"
    );
    let WaitOutcome::Completed { values, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        values["answers"].as_array().map(Vec::len),
        Some(2),
        "{values}"
    );
    assert_eq!(values["answers"][0]["to"], "Question 1 of 2?", "{values}");

    // delete: both resumed runs, once finished.
    for run in &asked {
        run.wait(deadline).await.expect("finished");
    }
    delete_thread_run(c, t0, asked[0].run_id(), &asked[1])
        .await
        .expect("delete_thread_run");
    for gone in &asked {
        let err = gone.get().await.expect_err("deleted");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
    }
}

/// A new thread, and the runs on it of the agent `name`.
async fn fresh(x: &AcpClient, name: &str) -> (Uuid, AgentRuns) {
    let t = x.new_thread().await.expect("thread").thread_id();
    let runs = x
        .agent(name)
        .await
        .expect("agent")
        .on_thread(t)
        .expect("thread id");
    (t, runs)
}

// The tables "What you can call, and per-call options" and "Compared with the Python ACP SDK":
// compiled, not run (their calls run in the tests named for them).
#[allow(dead_code, unused_variables, clippy::too_many_arguments)]
mod compiled {
    use super::*;

    #[derive(Serialize)]
    struct Input {
        text: String,
    }
    #[derive(Deserialize)]
    struct Output {
        text: String,
    }

    async fn agents(x: AcpClient, id: Uuid) -> R<()> {
        let agent: Agent = x.agent("echo").await?;
        let agent: Agent = x.agent(id).await?;
        let typed: Agent<Input, Output> = agent.typed::<Input, Output>();
        let mailcomposer = x.agent("mailcomposer").await?;
        Ok(())
    }

    async fn runs_of_an_agent(
        agent: Agent,
        t: Uuid,
        input: Value,
        cfg: Value,
        m: Value,
        deadline: Duration,
    ) -> R<()> {
        let run: RunHandle = agent.run(&input).config(&cfg).metadata(&m).create().await?;
        let events: RunStream = agent.stateless().run(&input).stream().await?;
        let outcome: WaitOutcome = agent.on_thread(t)?.run(&input).wait(deadline).await?;
        let output: Value = agent.run(&input).output(deadline).await?;
        Ok(())
    }

    async fn decoding<T: DeserializeOwned>(
        event: RunEvent,
        outcome: WaitOutcome,
        interrupt: acp_client_ext::Interrupt,
    ) -> R<()> {
        match event {
            RunEvent::Values(u) => {
                let values: T = u.values_as::<T>()?;
            }
            RunEvent::Custom(u) => {
                let update: T = u.update_as::<T>()?;
            }
            _ => {}
        }
        let output: T = outcome.output_as::<T>()?;
        let payload: T = outcome.payload_as::<T>()?;
        let question: T = interrupt.payload_as::<T>()?;
        Ok(())
    }

    async fn interrupts(events: RunStream, run: RunHandle, answer: Answer) -> R<()> {
        let rest: RunStream = events.resume_stream(&answer).await?;
        let (deadline, max_rounds) = (Duration::from_secs(60), 5);
        #[rustfmt::skip]
        let outcome: WaitOutcome = run
            .run_to_completion(deadline, max_rounds, async |q| Ok(answer_to(q.payload_as::<Question>()?)))
            .await?;
        Ok(())
    }

    async fn agent_operations(x: AcpClient, req: types::AgentSearchRequest, id: Uuid) -> R<()> {
        let all: Vec<types::Agent> = x.search_agents().await?;
        let some: Vec<types::Agent> = x.search_agents_with(req).await?;
        let agent: types::Agent = x.get_agent(id).await?;
        let descriptor: types::AgentAcpDescriptor = x.agent_descriptor(id).await?;
        Ok(())
    }

    async fn thread_operations(
        x: AcpClient,
        b: types::ThreadCreate,
        req: types::ThreadSearchRequest,
        id: Uuid,
    ) -> R<()> {
        let thread: types::Thread = x.create_thread(b).await?;
        let runs: ThreadRuns = x.new_thread().await?;
        let thread: types::Thread = x.get_thread(id).await?;
        x.delete_thread(id).await?;
        let threads: Vec<types::Thread> = x.search_threads(req).await?;
        Ok(())
    }

    async fn run_operations(
        runs: ThreadRuns,
        bodies: [types::RunCreateStateful; 3],
        deadline: Duration,
        limit: Option<u32>,
        offset: Option<u32>,
    ) -> R<()> {
        let [b, b2, b3] = bodies;
        let run: RunHandle = runs.create(b).await?;
        let b = b2;
        let events: RunStream = runs.stream(b).await?;
        let b = b3;
        let outcome: WaitOutcome = runs.wait(b, deadline).await?;
        let listed: Vec<RunInfo> = runs.list(limit, offset).await?;
        Ok(())
    }

    async fn handle_operations(
        run: RunHandle,
        a: CancelAction,
        wait: bool,
        p: Value,
        id: String,
        deadline: Duration,
    ) -> R<()> {
        let info: RunInfo = run.get().await?;
        run.delete().await?;
        run.cancel(a, wait).await?;
        run.interrupt().await?;
        run.rollback().await?;
        let info: RunInfo = run.resume(p).await?;
        let events: RunStream = run.stream().await?;
        let events: RunStream = run.stream_from(id).await?;
        let outcome: WaitOutcome = run.wait(deadline).await?;
        Ok(())
    }

    /// The per-call options table, on a `Call`.
    fn options<T: Send + 'static>(
        call: Call<T>,
        d: Duration,
        n: u32,
        k: String,
        t: String,
        policy: RetryPolicy,
        yes: bool,
        o: RequestOptions,
    ) -> Call<T> {
        let (name, value) = ("x-request-id", "42");
        call.timeout(d)
            .header(name, value)
            .sensitive_header(name, value)
            .api_key(k)
            .bearer_token(t)
            .no_credentials()
            .idle_timeout(d)
            .stream_reconnects(n)
            .retry(policy)
            .retry_creates(yes)
            .options(o)
    }

    /// The comparison table's calls that no other table has.
    fn compared(x: AcpClient, err: Error) -> acp_client_ext::Result<()> {
        let builder = AcpClient::builder("http://127.0.0.1:1")
            .tag_creates(false)
            .retry_creates(true);
        let unsupported: bool = err.is_unsupported();
        let unknown: bool = err.fate_unknown();
        let generated: &acp_client::Client = x.generated();
        Ok(())
    }

    #[cfg(feature = "validate")]
    fn validating(agent: Agent) -> acp_client_ext::Result<Agent> {
        agent.validating(true)
    }
}

/// The code spans of the README's tables that hold a call, in the columns that are Rust.
fn table_snippets(readme: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut rust_columns: Vec<bool> = Vec::new();
    let mut in_table = false;
    for (n, line) in readme.lines().enumerate() {
        let line = line.trim();
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        // Cells split on `|` not escaped as `\|`.
        let cells: Vec<String> = {
            let mut cells = vec![String::new()];
            let mut chars = line.trim_matches('|').chars().peekable();
            while let Some(ch) = chars.next() {
                match ch {
                    '\\' if chars.peek() == Some(&'|') => {
                        cells.last_mut().expect("a cell").push('|');
                        chars.next();
                    }
                    '|' => cells.push(String::new()),
                    _ => cells.last_mut().expect("a cell").push(ch),
                }
            }
            cells
        };
        if !in_table {
            in_table = true;
            rust_columns = cells
                .iter()
                .map(|h| !(h.contains("Python") || h.trim() == "operationId"))
                .collect();
            continue;
        }
        if cells
            .iter()
            .all(|c| c.trim().chars().all(|ch| "-: ".contains(ch)))
        {
            continue;
        }
        for (cell, rust) in cells.iter().zip(&rust_columns) {
            if !rust {
                continue;
            }
            for (i, span) in cell.split('`').enumerate() {
                if i % 2 == 1 && span.contains('(') {
                    out.push((n + 1, span.to_string()));
                }
            }
        }
    }
    out
}

/// Without whitespace: rustfmt's line breaks are not the README's.
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect()
}

#[test]
fn every_table_snippet_is_compiled_here() {
    let readme = include_str!("../../README.md");
    let this = squeeze(include_str!("readme_tables.rs"));
    let snippets = table_snippets(readme);
    assert!(
        snippets.len() > 60,
        "the tables' snippets were not found: {snippets:?}"
    );
    let missing: Vec<_> = snippets
        .iter()
        .filter(|(_, s)| !this.contains(&squeeze(s)))
        .collect();
    assert!(
        missing.is_empty(),
        "README.md table snippets that this file does not compile (line, snippet): {missing:#?}"
    );
}

#[test]
fn the_snippet_reader_splits_escaped_pipes_and_skips_python() {
    let table =
        "| Python | Rust |\n|---|---|\n| `f(a)` | `g(\\|q\\| q)`, `Plain` |\n\ntext `h(x)`\n";
    assert_eq!(table_snippets(table), vec![(3, "g(|q| q)".to_string())]);
}
