//! A create is applied at most once, and a connection the server closed does not fail the next
//! request: the two exactly-once peers (a reset after the create was applied, a reset before it
//! was read) for every create form, and the Agent Workflow Server's close after an unhandled
//! `500` followed by a create on the same client. See `acp_client_ext::CREATE_TAG_KEY`.

mod support;

use acp_client_ext::{AcpClient, CREATE_TAG_KEY, Error, RunStatus, WaitOutcome};
use acp_reference_server::{Dialect, Fault, ReferenceServer, Target, agents};
use futures::TryStreamExt;
use serde_json::json;
use support::{T, both_dialects, client, server, stateful, stream_body};

/// How a test starts its run.
#[derive(Debug, Clone, Copy)]
enum Form {
    Create,
    Wait,
    Stream,
}

const FORMS: [Form; 3] = [Form::Create, Form::Wait, Form::Stream];

/// Runs one stateless create of `form` (a short `stream` run) and returns its run id.
async fn stateless(c: &AcpClient, form: Form) -> Result<uuid::Uuid, Error> {
    let runs = c.stateless_runs();
    Ok(match form {
        Form::Create => runs.create(stream_body(2, 0)).await?.run_id(),
        Form::Wait => runs.wait(stream_body(2, 0), T).await?.run().run_id,
        Form::Stream => {
            let mut events = runs.stream(stream_body(2, 0)).await?;
            while events.try_next().await?.is_some() {}
            events.run_id().expect("the stream named its run")
        }
    })
}

/// The runs the server holds that carry the tag of the create they came from.
fn tagged_runs(s: &ReferenceServer) -> usize {
    s.run_ids()
        .into_iter()
        .filter(|id| {
            s.run_metadata(*id)
                .is_some_and(|m| m.get(CREATE_TAG_KEY).is_some())
        })
        .count()
}

async fn a_reset_after_the_create_was_applied_ends_with_that_one_run(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    for form in FORMS {
        let before = s.runs_created();
        s.inject(Target::CreateRun, Fault::ResetAfterCreate, 1);
        let run_id = stateless(&c, form)
            .await
            .unwrap_or_else(|e| panic!("{form:?}: {e}"));
        assert_eq!(s.runs_created(), before + 1, "{form:?}: exactly one run");
        assert_eq!(s.run_ids().last(), Some(&run_id), "{form:?}: that run");
    }
    assert_eq!(tagged_runs(&s), FORMS.len());
}

async fn a_reset_before_the_create_was_read_is_sent_once_more(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    for form in FORMS {
        let before = s.runs_created();
        let posts = |s: &ReferenceServer| {
            s.requests("POST", "/runs")
                + s.requests("POST", "/runs/wait")
                + s.requests("POST", "/runs/stream")
        };
        let posts_before = posts(&s);
        s.inject(Target::CreateRun, Fault::ResetBeforeRead, 1);
        let run_id = stateless(&c, form)
            .await
            .unwrap_or_else(|e| panic!("{form:?}: {e}"));
        assert_eq!(s.runs_created(), before + 1, "{form:?}: one run");
        assert_eq!(s.run_ids().last(), Some(&run_id), "{form:?}");
        assert_eq!(posts(&s), posts_before + 2, "{form:?}: sent twice");
    }
}

/// A thread run's doubtful create is found in the thread's run list (create-and-wait: the
/// Agent Workflow Server's background create on a thread is broken).
async fn a_thread_run_reset_after_its_create_is_found_on_the_thread(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    let runs = c.new_thread().await.expect("thread");
    let body = stateful(json!({"agent_id": agents::STREAM, "input": {"count": 1}}));
    s.inject(Target::CreateRun, Fault::ResetAfterCreate, 1);
    let outcome = runs.wait(body, T).await.expect("create and wait");
    assert!(
        matches!(outcome, WaitOutcome::Completed { .. }),
        "{outcome:?}"
    );
    assert_eq!(s.runs_created(), 1);
    assert_eq!(s.requests("GET", "/threads/*/runs"), 1, "one lookup");
}

/// The tag goes into the caller's own metadata (written into the body's bytes, beside the
/// caller's keys, or into an empty object), and the run is still found by it after a reset.
async fn a_tag_beside_the_callers_metadata_still_finds_the_run(dialect: Dialect) {
    let s = server(dialect).await;
    let c = client(&s);
    for metadata in [json!({"trace": "42", "nested": {"}": "{"}}), json!({})] {
        let before = s.runs_created();
        let body = support::stateless(json!({
            "agent_id": agents::STREAM,
            "input": {"count": 1},
            "metadata": metadata,
        }));
        s.inject(Target::CreateRun, Fault::ResetAfterCreate, 1);
        let run = c.stateless_runs().create(body).await.expect("create");
        assert_eq!(s.runs_created(), before + 1, "{metadata}: exactly one run");
        let kept = s.run_metadata(run.run_id()).expect("the run's metadata");
        assert!(kept[CREATE_TAG_KEY].is_string(), "{metadata}: {kept:?}");
        for (key, value) in metadata.as_object().expect("object") {
            assert_eq!(kept.get(key), Some(value), "{metadata}: the caller's {key}");
        }
        assert_eq!(kept.len(), metadata.as_object().map_or(0, |m| m.len()) + 1);
    }
}

both_dialects!(
    a_tag_beside_the_callers_metadata_still_finds_the_run,
    a_reset_after_the_create_was_applied_ends_with_that_one_run,
    a_reset_before_the_create_was_read_is_sent_once_more,
    a_thread_run_reset_after_its_create_is_found_on_the_thread,
);

#[tokio::test]
async fn without_tags_a_doubtful_create_is_reported_not_repeated() {
    let s = ReferenceServer::start().await;
    let c = AcpClient::builder(s.url())
        .retry(support::fast_retries())
        .tag_creates(false)
        .build()
        .expect("client");
    s.inject(Target::CreateRun, Fault::ResetAfterCreate, 1);
    let err = c
        .stateless_runs()
        .create(stream_body(1, 0))
        .await
        .expect_err("the connection was reset");
    assert!(err.fate_unknown(), "{err:?}");
    assert!(err.to_string().contains("may exist"), "{err}");
    assert_eq!(s.runs_created(), 1, "the run exists");
    assert_eq!(s.requests("POST", "/runs"), 1, "not sent again");
    assert_eq!(s.requests("POST", "/runs/search"), 0, "not looked up");
    assert_eq!(tagged_runs(&s), 0, "no tag was sent");
}

/// The 50 rounds: a background create on a thread (the Agent Workflow Server answers
/// the unhandled 500 and closes the connection when the next request arrives on it), then at
/// once a stateless create on the same client. None fails, none is applied twice.
#[tokio::test]
async fn fifty_rounds_of_a_500_that_closes_the_connection_then_a_create() {
    const ROUNDS: usize = 50;
    let s = server(Dialect::WorkflowServer).await;
    let c = client(&s);
    let thread = c.new_thread().await.expect("thread");
    let thread_body = || stateful(json!({"agent_id": agents::STREAM, "input": {"count": 1}}));
    let (mut failed, mut created) = (0, Vec::new());
    for _ in 0..ROUNDS {
        let err = thread
            .create(thread_body())
            .await
            .expect_err("broken upstream");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err}");
        match c.stateless_runs().create(stream_body(1, 0)).await {
            Ok(run) => created.push(run.run_id()),
            Err(e) => {
                eprintln!("create failed: {e}");
                failed += 1;
            }
        }
    }
    let resolved = s.requests("POST", "/runs/search");
    eprintln!(
        "{ROUNDS} rounds: {failed} failed, {} runs on the server, {resolved} creates needed the \
         doubt resolved",
        s.runs_created()
    );
    assert_eq!(failed, 0);
    assert_eq!(s.runs_created(), ROUNDS, "one run a round, none twice");
    created.sort();
    created.dedup();
    assert_eq!(created.len(), ROUNDS);
    for id in &created {
        assert_eq!(
            c.stateless_runs()
                .run(*id)
                .expect("id")
                .get()
                .await
                .expect("get")
                .status,
            RunStatus::Success
        );
    }
}
