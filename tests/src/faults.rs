//! Fault knobs: make the server misbehave on purpose.
//!
//! Faults come from two sources:
//!
//! * [`crate::ReferenceServer::inject`] registers a one-shot fault for the next `times` requests
//!   matching a [`Target`]. An SSE-only fault is only consumed by SSE responses,
//!   [`Fault::ResetAfterCreate`] only by run creations, [`Fault::Status`] and
//!   [`Fault::ResetBeforeRead`] by any matching request.
//!
//! # Exactly-once peers
//!
//! [`Fault::ResetAfterCreate`] and [`Fault::ResetBeforeRead`] make the two peers a client that
//! retries a run creation must tell apart, deterministically: the connection is reset (`RST`,
//! `SO_LINGER` 0) with no response at all, once *after* the run was created (it exists: `GET`,
//! `POST /runs/search` and `GET /threads/{thread_id}/runs` see it; a retry would create a
//! second one), once *before* anything was done (a retry is the only creation). Inject them for
//! one request (`times` 1) so the retry goes through, e.g.
//! `server.inject(Target::CreateRun, Fault::ResetAfterCreate, 1)`; they act on every route
//! creating a run: `POST /runs`, `/runs/wait`, `/runs/stream` and the thread equivalents, in
//! both dialects. (Under [`crate::Dialect::WorkflowServer`] `POST /threads/{thread_id}/runs`
//! creates no run at all, so there `ResetAfterCreate` resets with nothing created.)
//! * The test-only request header `x-acp-fault` applies faults to that single request, so they
//!   can be exercised with curl. Syntax: a comma separated list of
//!
//!   | item                   | fault                                   |
//!   |------------------------|-----------------------------------------|
//!   | `status=503`           | [`Fault::Status`]                       |
//!   | `drop-after=3`         | [`Fault::DropAfterEvents`]              |
//!   | `end-after=3`          | [`Fault::EndAfterEvents`]               |
//!   | `stall-after=3`        | [`Fault::StallAfterEvents`]             |
//!   | `trickle`              | [`Fault::Trickle`]                      |
//!   | `line-ending=crlf`     | [`Fault::LineEnding`] (`lf`, `crlf`, `cr`) |
//!   | `malformed=2`          | [`Fault::MalformedEvent`]               |
//!   | `oversized=1048576`    | [`Fault::OversizedEvent`]               |
//!   | `wrong-content-type`   | [`Fault::WrongContentType`]             |
//!   | `keepalives-first=5`   | [`Fault::KeepAlivesFirst`]              |
//!   | `reset-after-create`   | [`Fault::ResetAfterCreate`]             |
//!   | `reset-before-read`    | [`Fault::ResetBeforeRead`]              |
//!
//!   e.g. `curl -N -H 'x-acp-fault: drop-after=3, line-ending=crlf' ...`. An unparsable header
//!   is answered with 400.

use std::sync::Mutex;

/// Which requests an injected fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Every request.
    Any,
    /// Any SSE response: create-and-stream (`POST .../runs/stream`) or join (`GET .../stream`).
    Stream,
    /// Join only: `GET .../runs/{run_id}/stream`.
    Join,
    /// Any POST creating a run: `/runs`, `/runs/stream`, `/runs/wait` and thread equivalents.
    CreateRun,
    /// `GET .../runs/{run_id}/wait`.
    Wait,
    /// Any GET.
    Get,
}

/// SSE line terminator used by [`Fault::LineEnding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineEnding {
    /// `\n` (the default).
    #[default]
    Lf,
    /// `\r\n`.
    Crlf,
    /// `\r`.
    Cr,
}

impl LineEnding {
    /// The terminator bytes.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::Crlf => "\r\n",
            LineEnding::Cr => "\r",
        }
    }
}

/// A misbehaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status instead (body shaped like any other error).
    Status(u16),
    /// SSE: abort the connection abruptly after N events (no terminating chunk).
    DropAfterEvents(usize),
    /// SSE: end the body cleanly after N events though the run is not finished.
    EndAfterEvents(usize),
    /// SSE: after N events send nothing at all (not even keep-alives) until the client goes away.
    StallAfterEvents(usize),
    /// SSE: write every byte in its own chunk.
    Trickle,
    /// SSE: use this line terminator.
    LineEnding(LineEnding),
    /// SSE: after N events, send one event whose `data` is invalid JSON, then continue normally.
    /// The bogus event has no `id:` line so event ids stay those of the run log.
    MalformedEvent(usize),
    /// SSE: insert (first) one extra event whose data is a JSON string of this many bytes.
    /// It has no `id:` line.
    OversizedEvent(usize),
    /// SSE route answers 200 with `content-type: application/json` (body: the run object).
    WrongContentType,
    /// SSE: send N keep-alive comment lines before the first event.
    KeepAlivesFirst(usize),
    /// Run creations only: read the whole request and create the run (it exists and runs),
    /// then reset the connection (`RST`) without any response.
    ResetAfterCreate,
    /// Reset the connection (`RST`) as soon as the request head is read, before its body is
    /// read or anything is done (no run is created).
    ResetBeforeRead,
}

impl Fault {
    /// Whether the fault only makes sense on an SSE response.
    pub fn is_sse_only(&self) -> bool {
        !matches!(
            self,
            Fault::Status(_) | Fault::ResetAfterCreate | Fault::ResetBeforeRead
        )
    }

    /// Whether an injected fault is consumed by a request of this kind.
    fn applies_to(&self, kind: &RequestKind) -> bool {
        match self {
            Fault::ResetAfterCreate => kind.is_create_run,
            f if f.is_sse_only() => kind.is_sse,
            _ => true,
        }
    }
}

/// What kind of request is being served, used to match [`Target`]s.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RequestKind {
    pub is_get: bool,
    pub is_sse: bool,
    pub is_join: bool,
    pub is_create_run: bool,
    pub is_wait: bool,
}

impl RequestKind {
    /// Classifies a request by method and path.
    pub fn classify(method: &str, path: &str) -> RequestKind {
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let is_get = method == "GET";
        let is_post = method == "POST";
        // Position of the "runs" segment: /runs/... or /threads/{t}/runs/...
        let runs_at = match segs.as_slice() {
            ["runs", ..] => Some(0),
            ["threads", _, "runs", ..] => Some(2),
            _ => None,
        };
        let mut kind = RequestKind {
            is_get,
            ..Default::default()
        };
        if let Some(i) = runs_at {
            let rest = &segs[i + 1..];
            match rest {
                [] => kind.is_create_run = is_post,
                ["stream"] => {
                    kind.is_create_run = is_post;
                    kind.is_sse = is_post;
                }
                ["wait"] => kind.is_create_run = is_post,
                [_, "stream"] if is_get => {
                    kind.is_sse = true;
                    kind.is_join = true;
                }
                [_, "wait"] if is_get => kind.is_wait = true,
                _ => {}
            }
        }
        kind
    }

    fn matches(&self, target: Target) -> bool {
        match target {
            Target::Any => true,
            Target::Stream => self.is_sse,
            Target::Join => self.is_join,
            Target::CreateRun => self.is_create_run,
            Target::Wait => self.is_wait,
            Target::Get => self.is_get,
        }
    }
}

#[derive(Debug)]
struct Armed {
    target: Target,
    fault: Fault,
    remaining: usize,
}

/// The set of armed one-shot faults.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    armed: Mutex<Vec<Armed>>,
}

impl FaultBook {
    /// Arms `fault` for the next `times` matching requests.
    pub fn inject(&self, target: Target, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        if let Ok(mut armed) = self.armed.lock() {
            armed.push(Armed {
                target,
                fault,
                remaining: times,
            });
        }
    }

    /// Takes (consumes one use of) every armed fault applying to this request.
    pub fn take(&self, kind: &RequestKind) -> Vec<Fault> {
        let mut out = Vec::new();
        let Ok(mut armed) = self.armed.lock() else {
            return out;
        };
        for a in armed.iter_mut() {
            if a.remaining > 0 && kind.matches(a.target) && a.fault.applies_to(kind) {
                a.remaining -= 1;
                out.push(a.fault.clone());
            }
        }
        armed.retain(|a| a.remaining > 0);
        out
    }
}

/// Parses the `x-acp-fault` header value (see the module docs for the syntax).
pub fn parse_fault_header(value: &str) -> Result<Vec<Fault>, String> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, val) = match item.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim())),
            None => (item, None),
        };
        let num = |v: Option<&str>| -> Result<usize, String> {
            v.ok_or_else(|| format!("fault `{key}` needs a value"))?
                .parse::<usize>()
                .map_err(|_| format!("fault `{key}` needs a number"))
        };
        let fault = match key {
            "status" => {
                let n = num(val)?;
                let code = u16::try_from(n)
                    .ok()
                    .filter(|c| (100..=999).contains(c))
                    .ok_or_else(|| format!("bad status {n}"))?;
                Fault::Status(code)
            }
            "drop-after" => Fault::DropAfterEvents(num(val)?),
            "end-after" => Fault::EndAfterEvents(num(val)?),
            "stall-after" => Fault::StallAfterEvents(num(val)?),
            "trickle" => Fault::Trickle,
            "line-ending" => Fault::LineEnding(match val.map(str::to_ascii_lowercase).as_deref() {
                Some("lf") => LineEnding::Lf,
                Some("crlf") => LineEnding::Crlf,
                Some("cr") => LineEnding::Cr,
                _ => return Err("line-ending must be lf, crlf or cr".into()),
            }),
            "malformed" => Fault::MalformedEvent(num(val)?),
            "oversized" => Fault::OversizedEvent(num(val)?),
            "wrong-content-type" => Fault::WrongContentType,
            "keepalives-first" => Fault::KeepAlivesFirst(num(val)?),
            "reset-after-create" => Fault::ResetAfterCreate,
            "reset-before-read" => Fault::ResetBeforeRead,
            other => return Err(format!("unknown fault `{other}`")),
        };
        out.push(fault);
    }
    Ok(out)
}

/// The faults applying to one SSE response, resolved from a list of [`Fault`]s.
#[derive(Debug, Clone, Default)]
pub(crate) struct SseFaults {
    pub drop_after: Option<usize>,
    pub end_after: Option<usize>,
    pub stall_after: Option<usize>,
    pub trickle: bool,
    pub line_ending: LineEnding,
    pub malformed_after: Option<usize>,
    pub oversized: Option<usize>,
    pub wrong_content_type: bool,
    pub keepalives_first: usize,
}

impl SseFaults {
    /// Folds a fault list (later entries win).
    pub fn from_faults(faults: &[Fault]) -> SseFaults {
        let mut s = SseFaults::default();
        for f in faults {
            match f {
                Fault::Status(_) | Fault::ResetAfterCreate | Fault::ResetBeforeRead => {}
                Fault::DropAfterEvents(n) => s.drop_after = Some(*n),
                Fault::EndAfterEvents(n) => s.end_after = Some(*n),
                Fault::StallAfterEvents(n) => s.stall_after = Some(*n),
                Fault::Trickle => s.trickle = true,
                Fault::LineEnding(le) => s.line_ending = *le,
                Fault::MalformedEvent(n) => s.malformed_after = Some(*n),
                Fault::OversizedEvent(n) => s.oversized = Some(*n),
                Fault::WrongContentType => s.wrong_content_type = true,
                Fault::KeepAlivesFirst(n) => s.keepalives_first = *n,
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_syntax() {
        let f = parse_fault_header("drop-after=3, line-ending=CRLF,trickle").unwrap_or_default();
        assert_eq!(
            f,
            vec![
                Fault::DropAfterEvents(3),
                Fault::LineEnding(LineEnding::Crlf),
                Fault::Trickle
            ]
        );
        assert_eq!(
            parse_fault_header("reset-after-create,reset-before-read").unwrap_or_default(),
            vec![Fault::ResetAfterCreate, Fault::ResetBeforeRead]
        );
        assert!(parse_fault_header("nope").is_err());
        assert!(parse_fault_header("status=abc").is_err());
    }

    #[test]
    fn classify_routes() {
        let k = RequestKind::classify("GET", "/threads/a/runs/b/stream");
        assert!(k.is_sse && k.is_join && !k.is_create_run);
        let k = RequestKind::classify("POST", "/runs/stream");
        assert!(k.is_sse && k.is_create_run && !k.is_join);
        let k = RequestKind::classify("GET", "/runs/b/wait");
        assert!(k.is_wait);
        let k = RequestKind::classify("POST", "/runs/search");
        assert!(!k.is_create_run);
    }

    #[test]
    fn reset_faults_are_consumed_by_the_right_requests() {
        let book = FaultBook::default();
        book.inject(Target::Any, Fault::ResetAfterCreate, 1);
        book.inject(Target::Get, Fault::ResetBeforeRead, 1);
        let search = RequestKind::classify("POST", "/runs/search");
        assert!(book.take(&search).is_empty(), "not a creation, not a GET");
        let get = RequestKind::classify("GET", "/runs/r");
        assert_eq!(book.take(&get), vec![Fault::ResetBeforeRead]);
        let create = RequestKind::classify("POST", "/threads/t/runs/wait");
        assert_eq!(book.take(&create), vec![Fault::ResetAfterCreate]);
        assert!(book.take(&create).is_empty(), "one-shot");
    }
}
