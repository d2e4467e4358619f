//! `cargo xtask bench-compare`: whole-process benchmarks against the reference server, written
//! to docs/BENCHMARKS.md (`--quick`: tiny sizes, written to target/bench-quick.md instead).
//!
//! Every figure comes from child processes: the release reference server
//! (`acp-reference-server --port 0`), the release `bench_client` example of acp-client-ext
//! (`acp-client-ext/benches/bench_client.rs`; acp-client-ext vs bare reqwest, and
//! `bench_client serve`, an in-memory SSE server that only writes pre-rendered bytes, so that
//! the end-to-end figures measure the clients), and Python scripts in xtask/bench/ run in a
//! virtualenv under target/bench-venv (agntcy-acp and langgraph-sdk, whatever versions pip
//! resolves). The criterion benches (`cargo bench -p acp-client-ext --bench sse --bench
//! decode`) run last, in the same run, and their figures are read from target/criterion
//! (`--quick` runs none and reads what is there).
//!
//! The end-to-end runs and the Python peers, whose figures are compared with each other, run
//! with the servers pinned to one CPU and each client to the other ([`Pinning`], `taskset`),
//! which narrows their spread from run to run on this 2-core machine (2026-12-03, six runs of
//! each `bench_client` mode against `bench_client serve 872 200000`, CPU per event: typed
//! 840–938 ns unpinned, 588–673 ns pinned; the hand-written reader 575–875 ns and 420–551 ns).

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::cell::Cell;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Padding of the `stream` agent's updates so that one SSE event (id, event, data lines) is
/// about 1 KiB; the exact bytes per event are measured and reported.
const PAD_1KIB: u64 = 872;

/// A Python peer stops after this long (agntcy-acp's stream is quadratic; see its script).
const PY_LIMIT_SECS: u64 = 120;

/// Options of `cargo xtask bench-compare`.
pub struct Options {
    /// Tiny sizes, to check that everything still runs (CI).
    pub quick: bool,
    /// Skip the Python peers.
    pub no_python: bool,
    /// Skip the clean-build timing (implied by `quick`).
    pub no_build_time: bool,
    /// The ACP spec directory for `codegen --check`.
    pub spec_dir: Option<PathBuf>,
}

struct Sizes {
    e2e_events: u64,
    acp_py_events: &'static [u64],
    langgraph_events: u64,
    overhead_n: u64,
    memory_events: u64,
    concurrent_streams: u64,
    concurrent_events: u64,
    repeats: usize,
}

const FULL: Sizes = Sizes {
    e2e_events: 200_000,
    acp_py_events: &[2_000, 20_000],
    langgraph_events: 200_000,
    overhead_n: 2_000,
    memory_events: 1_000_000,
    concurrent_streams: 10_000,
    concurrent_events: 200,
    // Five: with three, one slow run of either side moved the median's ratio by ~0.1.
    repeats: 5,
};

const QUICK: Sizes = Sizes {
    e2e_events: 2_000,
    acp_py_events: &[200],
    langgraph_events: 2_000,
    overhead_n: 50,
    memory_events: 10_000,
    concurrent_streams: 20,
    concurrent_events: 20,
    repeats: 1,
};

/// A goal of the "Benchmarks" issue and how it went.
struct Goal {
    name: &'static str,
    target: &'static str,
    measured: String,
    met: Option<bool>,
}

/// The report being built: printed as it goes, written at the end.
#[derive(Default)]
struct Report {
    body: String,
    goals: Vec<Goal>,
}

impl Report {
    fn line(&mut self, s: impl AsRef<str>) {
        println!("{}", s.as_ref());
        self.body.push_str(s.as_ref());
        self.body.push('\n');
    }

    fn goal(
        &mut self,
        name: &'static str,
        target: &'static str,
        measured: String,
        met: Option<bool>,
    ) {
        self.goals.push(Goal {
            name,
            target,
            measured,
            met,
        });
    }
}

/// Kills the server child on drop.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn check(status: std::process::ExitStatus, what: &str) -> Result<()> {
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Starts a server child that prints its URL on its first stdout line.
fn start_server(exe: &Path, args: &[String]) -> Result<Server> {
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("spawn {}", exe.display()))?;
    let mut line = String::new();
    let stdout = child.stdout.take().context("server stdout")?;
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line.trim().to_owned();
    let server = Server { child, url };
    if !server.url.starts_with("http://") {
        bail!("{} printed {:?}, not its URL", exe.display(), server.url);
    }
    Ok(server)
}

/// Where the benchmark's processes run: the servers on one CPU, the measured client on
/// another, so that neither migrates nor shares a core with the other. `None` where `taskset`
/// (util-linux) is missing or the process may not use CPUs 0 and 1.
struct Pinning {
    /// The CPUs this process may use (`Cpus_allowed_list` of /proc/self/status), to unpin.
    all: String,
}

/// The CPU of the servers, and the one of the clients.
const SERVER_CPU: &str = "0";
const CLIENT_CPU: &str = "1";

impl Pinning {
    fn detect() -> Option<Pinning> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let all = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?
            .trim()
            .to_owned();
        let usable = |cpu: &str| {
            Command::new("taskset")
                .args(["-c", cpu, "true"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        (usable(SERVER_CPU) && usable(CLIENT_CPU)).then_some(Pinning { all })
    }

    /// Moves every thread of each running server to `cpus`.
    fn set(servers: &[&Server], cpus: &str) -> Result<()> {
        for server in servers {
            let pid = server.child.id().to_string();
            let status = Command::new("taskset")
                .args(["-a", "-c", "-p", cpus, &pid])
                .stdout(Stdio::null())
                .status()
                .context("run taskset")?;
            check(status, &format!("taskset -a -c -p {cpus} {pid}"))?;
        }
        Ok(())
    }
}

/// A command for a client `exe`: on the client's CPU while `pinned`.
fn client_command(exe: &Path, pinned: bool) -> Command {
    if pinned {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", CLIENT_CPU]).arg(exe);
        cmd
    } else {
        Command::new(exe)
    }
}

/// Runs a command that prints one JSON object (its last stdout line).
fn json_of(cmd: &mut Command, what: &str) -> Result<Value> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("run {what}"))?;
    check(out.status, what)?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or("");
    serde_json::from_str(last).with_context(|| format!("{what}: not JSON: {last:?}"))
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn human(n: f64) -> String {
    if n >= 1e6 {
        format!("{:.2} M", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} k", n / 1e3)
    } else {
        format!("{n:.1} ")
    }
}

/// The run id under which `bench_client serve` streams `count` events (as its `mem_run_id`).
fn mem_run_id(count: u64) -> String {
    format!("00000000-0000-4000-8000-{count:012}")
}

/// Runs `cargo xtask bench-compare`.
pub fn run(root: &Path, opts: &Options) -> Result<()> {
    let sizes = if opts.quick { &QUICK } else { &FULL };
    let target = target_dir(root);
    let mut r = Report::default();

    // `--quick` only proves the benches still run (CI): it reuses the debug build that the
    // tests made instead of paying for a release build; its figures mean nothing.
    let profile = if opts.quick { "debug" } else { "release" };
    eprintln!("bench-compare: building the {profile} server and bench client");
    let mut build = cargo();
    build.current_dir(root).args([
        "build",
        "-p",
        "acp-reference-server",
        "--bin",
        "acp-reference-server",
        "-p",
        "acp-client-ext",
        "--example",
        "bench_client",
    ]);
    if !opts.quick {
        build.arg("--release");
    }
    check(build.status()?, "cargo build")?;
    let server_exe = target.join(profile).join("acp-reference-server");
    let client_exe = target.join(profile).join("examples/bench_client");
    let server = start_server(&server_exe, &["--port".into(), "0".into()])?;
    let url = server.url.clone();
    // The in-memory server, with the bodies of every stream below rendered before it starts.
    let mut counts = vec![
        sizes.e2e_events,
        sizes.langgraph_events,
        sizes.concurrent_events,
    ];
    counts.extend(sizes.acp_py_events);
    let mut serve_args = vec!["serve".to_string(), PAD_1KIB.to_string()];
    serve_args.extend(counts.iter().map(u64::to_string));
    let mem = start_server(&client_exe, &serve_args)?;
    // Pinned for the end-to-end runs and the Python peers, unpinned after them.
    let pinning = Pinning::detect();
    if pinning.is_some() {
        Pinning::set(&[&server, &mem], SERVER_CPU)?;
    }
    let pinned = Cell::new(pinning.is_some());
    let client_at = |url: &str, args: &[&str]| -> Result<Value> {
        let mut cmd = client_command(&client_exe, pinned.get());
        cmd.arg(url).args(args);
        json_of(&mut cmd, &format!("bench_client {url} {}", args.join(" ")))
    };
    let client = |args: &[&str]| client_at(&url, args);
    let prepare_in = |count: u64, size: u64, thread: bool| -> Result<(String, String)> {
        let (count, size) = (count.to_string(), size.to_string());
        let mut args = vec!["prepare", &count, &size];
        if thread {
            args.push("thread");
        }
        let v = client(&args)?;
        let run_id = v["run_id"].as_str().context("prepare: no run_id")?;
        Ok((
            run_id.to_owned(),
            v["thread_id"].as_str().unwrap_or("-").to_owned(),
        ))
    };
    let prepare = |count: u64, size: u64| prepare_in(count, size, false).map(|(r, _)| r);

    r.line(format!(
        "Whole-process figures: `cargo xtask bench-compare{}{}` (`bench_client` and the servers \
         in {profile} mode, on loopback).\n",
        if opts.quick { " --quick" } else { "" },
        if opts.no_python { " --no-python" } else { "" },
    ));

    // End to end: first from memory (the client is the bottleneck), then from the reference
    // server (which replays a settled run's log, and on 2 cores is itself a bottleneck).
    let n = sizes.e2e_events;
    let mem_run = mem_run_id(n);
    let ref_run = prepare(n, PAD_1KIB)?;
    r.line("## End to end on loopback\n");
    r.line(if pinning.is_some() {
        format!(
            "Servers pinned to CPU {SERVER_CPU}, clients to CPU {CLIENT_CPU} (`taskset`), here \
             and for the Python peers.\n"
        )
    } else {
        "Not pinned to CPUs (`taskset` or CPUs 0 and 1 not available): expect a wider spread \
         from run to run.\n"
            .to_owned()
    });
    let mut typed_mem_eps = f64::NAN;
    let mut e2e_ratio = f64::NAN;
    let mut cpu_ratio = f64::NAN;
    let mut hand_ratio = f64::NAN;
    let mut hand_cpu_ratio = f64::NAN;
    let mut bytes_per_event = f64::NAN;
    for (server_name, server_url, run_id) in [
        (
            "in-memory server (`bench_client serve`)",
            mem.url.as_str(),
            mem_run.as_str(),
        ),
        (
            "reference server (replay of a settled run)",
            url.as_str(),
            ref_run.as_str(),
        ),
    ] {
        let (mut typed, mut hand, mut bytes) = (Vec::new(), Vec::new(), Vec::new());
        let (mut typed_cpu, mut hand_cpu, mut bytes_cpu) = (Vec::new(), Vec::new(), Vec::new());
        let (mut events, mut events_cpu) = (Vec::new(), Vec::new());
        for _ in 0..sizes.repeats {
            let t = client_at(server_url, &["typed", run_id])?;
            typed.push(num(&t, "events_per_s"));
            typed_cpu.push(num(&t, "cpu_ns_per_event"));
            let e = client_at(server_url, &["events", run_id])?;
            events.push(num(&e, "events_per_s"));
            events_cpu.push(num(&e, "cpu_ns_per_event"));
            let h = client_at(server_url, &["handwritten", run_id])?;
            hand.push(num(&h, "events_per_s"));
            hand_cpu.push(num(&h, "cpu_ns_per_event"));
            let b = client_at(server_url, &["bytes", run_id])?;
            bytes_per_event = num(&b, "bytes") / num(&b, "events");
            bytes.push(num(&b, "events_per_s"));
            bytes_cpu.push(num(&b, "cpu_ns_per_event"));
        }
        let (typed_eps, hand_eps, bytes_eps) = (
            median(typed.clone()),
            median(hand.clone()),
            median(bytes.clone()),
        );
        let (tc, hc, bc) = (
            median(typed_cpu.clone()),
            median(hand_cpu.clone()),
            median(bytes_cpu.clone()),
        );
        r.line(format!(
            "From the {server_name}: {n} events of {bytes_per_event:.0} bytes on the wire each \
             (padding {PAD_1KIB}); median of {} interleaved runs (`bench_client URL \
             typed|events|handwritten|bytes RUN_ID`). CPU time is the client process's (all \
             threads), per event.\n",
            sizes.repeats
        ));
        r.line("| client | events/s (median) | CPU per event (median) | events/s, all runs |");
        r.line("|---|---|---|---|");
        let runs = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{:.0}", x))
                .collect::<Vec<_>>()
                .join(", ")
        };
        r.line(format!(
            "| acp-client-ext, typed: `values_into::<StreamValues>()` (each payload parsed once, \
             its values straight into a struct of the payload: `i`, `pad: String`) | \
             {}events/s | {tc:.0} ns | {} |",
            human(typed_eps),
            runs(&typed)
        ));
        r.line(format!(
            "| acp-client-ext, `RunEvent`s, then `values_as::<StreamValues>()` (the values kept \
             as JSON, parsed a second time) | {}events/s | {:.0} ns | {} |",
            human(median(events.clone())),
            median(events_cpu.clone()),
            runs(&events)
        ));
        r.line(format!(
            "| hand-written: reqwest `bytes_stream` + memchr lines + `serde_json::from_slice` \
             of each event's data into the same struct (no resume, no dedupe) | {}events/s | \
             {hc:.0} ns | {} |",
            human(hand_eps),
            runs(&hand)
        ));
        r.line(format!(
            "| bare reqwest byte stream (bytes counted) | {}events/s | {bc:.0} ns | {} |",
            human(bytes_eps),
            runs(&bytes)
        ));
        r.line(format!(
            "\nRatio typed / hand-written: **{:.2}x** in events/s, CPU per event {:.2}x; \
             typed / bytes: **{:.2}x** in events/s, CPU per event {:.2}x the byte counter's.",
            typed_eps / hand_eps,
            tc / hc,
            typed_eps / bytes_eps,
            tc / bc
        ));
        // The runs of one round are neighbours in time: their ratios show the spread that the
        // machine's drift puts into the medians' ratio.
        let paired = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .map(|(a, b)| format!("{:.2}", a / b))
                .collect::<Vec<_>>()
                .join(", ")
        };
        r.line(format!(
            "Round by round, typed / hand-written: events/s {}; CPU per event {}.\n",
            paired(&typed, &hand),
            paired(&typed_cpu, &hand_cpu)
        ));
        if e2e_ratio.is_nan() {
            typed_mem_eps = typed_eps;
            e2e_ratio = typed_eps / bytes_eps;
            cpu_ratio = tc / bc;
            hand_ratio = typed_eps / hand_eps;
            hand_cpu_ratio = tc / hc;
        }
    }
    r.goal(
        "typed end to end (in-memory server) vs the hand-written baseline",
        ">= 0.9x events/s, <= 1.2x CPU per event",
        format!("{hand_ratio:.2}x (CPU per event {hand_cpu_ratio:.2}x)"),
        Some(hand_ratio >= 0.9 && hand_cpu_ratio <= 1.2),
    );
    r.goal(
        "typed end to end (in-memory server) vs the bare byte-count reader",
        ">= 0.5x events/s",
        format!("{e2e_ratio:.2}x (CPU per event {cpu_ratio:.2}x)"),
        Some(e2e_ratio >= 0.5),
    );
    let typed_eps = typed_mem_eps;

    // Python peers.
    if opts.no_python {
        r.line("## Python peers\n\nSkipped (`--no-python`).\n");
        r.goal(
            ">= 10x the faster Python peer",
            ">= 10x",
            "not run".into(),
            None,
        );
    } else {
        python_peers(
            root,
            &target,
            sizes,
            &mem.url,
            typed_eps,
            pinned.get(),
            &mut r,
        )?;
    }
    if let Some(pinning) = &pinning {
        Pinning::set(&[&server, &mem], &pinning.all)?;
        pinned.set(false);
    }

    // Request overhead: `repeats` runs (each interleaving the two sides request by request),
    // the run of the median ratio reported.
    let mut runs = (0..sizes.repeats)
        .map(|_| client(&["overhead", &sizes.overhead_n.to_string()]))
        .collect::<Result<Vec<Value>>>()?;
    runs.sort_by(|a, b| num(a, "ratio").total_cmp(&num(b, "ratio")));
    let all_ratios = runs
        .iter()
        .map(|o| format!("{:.3}", num(o, "ratio")))
        .collect::<Vec<_>>()
        .join(", ");
    let o = runs
        .get(runs.len() / 2)
        .cloned()
        .context("no overhead run")?;
    let o_ratio = num(&o, "ratio");
    r.line("## Request overhead\n");
    r.line(format!(
        "Create+wait of an `echo` run (`POST /runs/wait`), {} sequential requests of each, \
         interleaved (`bench_client URL overhead {}`), {} runs. The bare side sends the bytes \
         acp-client-ext sends (the create with the spec's defaults written out and a create tag \
         of its own, made before its clock starts), so that the server does the same work for \
         both; the run with the median ratio:\n",
        sizes.overhead_n,
        sizes.overhead_n,
        runs.len(),
    ));
    r.line("| client | median latency |");
    r.line("|---|---|");
    r.line(format!(
        "| acp-client-ext `stateless_runs().wait(..)` | {:.1} µs |",
        num(&o, "ext_median_us")
    ));
    r.line(format!(
        "| bare reqwest POST of the same bytes | {:.1} µs |",
        num(&o, "bare_median_us")
    ));
    r.line(format!(
        "\nRatio: **{o_ratio:.3}x** (all runs: {all_ratios}).\n"
    ));
    r.goal(
        "request overhead vs bare reqwest",
        "<= 1.1x",
        format!("{o_ratio:.3}x"),
        Some(o_ratio <= 1.1),
    );

    // Memory.
    let m_run = prepare(sizes.memory_events, PAD_1KIB)?;
    let m = client(&["typed", &m_run])?;
    let growth_mib = (num(&m, "hwm_after_kib") - num(&m, "hwm_before_kib")) / 1024.0;
    r.line("## Memory\n");
    r.line(format!(
        "One typed stream of {} events of ~1 KiB ({:.2} GiB of payload): VmHWM {:.1} MiB before \
         the request, {:.1} MiB after the last event: growth **{growth_mib:.1} MiB** \
         ({}events/s).\n",
        sizes.memory_events,
        num(&m, "events") * bytes_per_event / (1u64 << 30) as f64,
        num(&m, "hwm_before_kib") / 1024.0,
        num(&m, "hwm_after_kib") / 1024.0,
        human(num(&m, "events_per_s")),
    ));
    r.goal(
        "RSS growth streaming 1 GiB",
        "< 32 MiB",
        format!("{growth_mib:.1} MiB"),
        (!opts.quick).then_some(growth_mib < 32.0),
    );
    // Many streams at once, from the in-memory server (another process): each stream reads
    // its first event and waits for all the others to have theirs, so all are open at once.
    // Over HTTP/1.1 (a connection a stream, as from any ACP server) and over HTTP/2 (one
    // connection, from the same in-memory server speaking it: `serve-h2`).
    let c_run = mem_run_id(sizes.concurrent_events);
    let streams = sizes.concurrent_streams.to_string();
    let mem_h2 = start_server(
        &client_exe,
        &[
            "serve-h2".to_string(),
            PAD_1KIB.to_string(),
            sizes.concurrent_events.to_string(),
        ],
    )?;
    r.line(format!(
        "{} concurrent streams on one client process (one `reqwest::Client`), from the \
         in-memory server (`bench_client URL typed|handwritten|bytes RUN_ID {} [h2]`), each {} \
         events of ~1 KiB; every stream reads its first event and waits until all have theirs \
         (all open at once: \"RSS, all open\"). The typed streams check that each delivered \
         every event once, in order. HTTP/1.1: a connection a stream (`bench_client serve`); \
         HTTP/2: every stream on one connection (`bench_client serve-h2`, prior knowledge; the \
         client's `reqwest::Client` built with `http2_prior_knowledge()`, a 16 KiB window a \
         stream and a connection window of 16 KiB times the streams). Soft limit on open \
         files: {}.\n",
        sizes.concurrent_streams,
        sizes.concurrent_streams,
        sizes.concurrent_events,
        nofile_limit(),
    ));
    r.line(
        "| client | HTTP | events/s (all streams) | RSS before | RSS, all open | per stream (all \
         open) | VmHWM after |",
    );
    r.line("|---|---|---|---|---|---|---|");
    // Every client's figures, by protocol and mode.
    let mut runs: Vec<(&str, &str, Value)> = Vec::new();
    let per = |c: &Value| {
        (num(c, "rss_open_kib") - num(c, "rss_before_kib")) / sizes.concurrent_streams as f64
    };
    for (http, url) in [("1.1", &mem.url), ("2", &mem_h2.url)] {
        for mode in ["typed", "handwritten", "bytes"] {
            let mut args = vec![mode, &c_run, &streams];
            if http == "2" {
                args.push("h2");
            }
            let c = client_at(url, &args)?;
            r.line(format!(
                "| {} | {http} | {}events/s | {:.1} MiB | {:.1} MiB | {:.1} KiB | {:.1} MiB |",
                match mode {
                    "typed" => "acp-client-ext, typed (`values_into`)",
                    "handwritten" => "hand-written (reqwest + memchr + serde_json)",
                    _ => "bare reqwest bytes",
                },
                human(num(&c, "events_per_s")),
                num(&c, "rss_before_kib") / 1024.0,
                num(&c, "rss_open_kib") / 1024.0,
                per(&c),
                num(&c, "hwm_after_kib") / 1024.0,
            ));
            runs.push((http, mode, c));
        }
    }
    let run = |h: &str, m: &str| {
        runs.iter()
            .find(|(http, mode, _)| *http == h && *mode == m)
            .map_or(Value::Null, |(_, _, c)| c.clone())
    };
    let per_of = |h: &str, m: &str| per(&run(h, m));
    for http in ["1.1", "2"] {
        r.line(format!(
            "\nPer stream, all open, HTTP/{http}: the bare reqwest stream (its share of the \
             connection, hyper's buffers, the body's chunk in hand, the task) **{:.1} KiB**; \
             acp-client-ext adds **{:.1} KiB** (the SSE decoder's input buffer, the ledger of \
             delivered events, the state machine and its boxed futures); the hand-written reader \
             adds {:.1} KiB (its line buffer).",
            per_of(http, "bytes"),
            per_of(http, "typed") - per_of(http, "bytes"),
            per_of(http, "handwritten") - per_of(http, "bytes"),
        ));
    }
    let hwm = |h: &str| num(&run(h, "typed"), "hwm_after_kib") / 1024.0;
    r.goal(
        "10,000 concurrent streams, one client process",
        "<= 1 GiB RSS, every event once",
        format!(
            "{} streams, every event once: VmHWM {:.0} MiB over HTTP/2 (one connection), {:.0} \
             MiB over HTTP/1.1 (a connection each; see the notes)",
            sizes.concurrent_streams,
            hwm("2"),
            hwm("1.1"),
        ),
        (!opts.quick).then_some(hwm("2") <= 1024.0),
    );
    r.line("");
    drop(server);
    drop(mem);
    drop(mem_h2);

    // Codegen and build times.
    r.line("## Codegen and build\n");
    let spec_dir = opts
        .spec_dir
        .clone()
        .unwrap_or_else(|| root.join("../shared/acp-spec"));
    let xtask = std::env::current_exe()?;
    let mut codegen = Command::new(&xtask);
    codegen
        .current_dir(root)
        .env("ACP_SPEC_DIR", &spec_dir)
        .args(["codegen", "--check"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let t = Instant::now();
    // Reported, not fatal: the figures above must not be lost (e.g. when a parallel build
    // replaced this xtask binary meanwhile).
    match codegen.status() {
        Ok(status) if status.success() => r.line(format!(
            "* `cargo xtask codegen --check` (the built xtask binary, ACP_SPEC_DIR={}): \
             **{:.2} s** wall.",
            spec_dir.display(),
            t.elapsed().as_secs_f64()
        )),
        other => r.line(format!(
            "* `cargo xtask codegen --check`: failed ({other:?})."
        )),
    }
    if opts.quick || opts.no_build_time {
        r.line("* Clean debug build of acp-client: skipped.\n");
    } else {
        check(
            cargo().current_dir(root).arg("fetch").status()?,
            "cargo fetch",
        )?;
        let dir = target.join("bench-clean-build");
        let _ = std::fs::remove_dir_all(&dir);
        let mut b = cargo();
        b.current_dir(root)
            .env("CARGO_TARGET_DIR", &dir)
            .args(["build", "--offline", "-p", "acp-client"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let t = Instant::now();
        check(b.status()?, "clean build of acp-client")?;
        let secs = t.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&dir);
        r.line(format!(
            "* Clean debug build of acp-client (`cargo fetch`, then `CARGO_TARGET_DIR={} \
             cargo build --offline -p acp-client`): **{secs:.1} s** wall.\n",
            dir.display()
        ));
    }

    // The criterion benches, in the same run (a full report's figures all come from one run);
    // `--quick` leaves them to `cargo test --benches` (CI) and reads what target/criterion has.
    if !opts.quick {
        eprintln!("bench-compare: cargo bench -p acp-client-ext --bench sse --bench decode");
        let mut bench = cargo();
        bench
            .current_dir(root)
            .args([
                "bench",
                "-p",
                "acp-client-ext",
                "--bench",
                "sse",
                "--bench",
                "decode",
            ])
            .stdout(Stdio::null());
        check(bench.status()?, "cargo bench")?;
    }
    let criterion = criterion_section(&target, &mut r);
    write_report(root, &target, opts, &r, &criterion)
}

/// The soft limit on open files of this process (inherited by the bench client), as
/// `/proc/self/limits` says.
fn nofile_limit() -> String {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_owned))
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The Python peers: create the venv if needed, stream the same kind of run, compare.
fn python_peers(
    root: &Path,
    target: &Path,
    sizes: &Sizes,
    url: &str,
    typed_eps: f64,
    pinned: bool,
    r: &mut Report,
) -> Result<()> {
    let venv = target.join("bench-venv");
    let py = venv.join("bin/python");
    if !py.exists() {
        eprintln!(
            "bench-compare: creating {} (pip needs PyPI)",
            venv.display()
        );
        check(
            Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()?,
            "python3 -m venv",
        )?;
        check(
            Command::new(&py)
                .args(["-m", "pip", "install", "-q", "agntcy-acp", "langgraph-sdk"])
                .status()?,
            "pip install",
        )?;
    }
    let versions = json_of(
        Command::new(&py).args([
            "-c",
            "import json, importlib.metadata as m, sys; print(json.dumps({p: m.version(p) for p in \
             ['agntcy-acp', 'langgraph-sdk', 'httpx']} | {'python': sys.version.split()[0]}))",
        ]),
        "python versions",
    )?;
    let scripts = root.join("xtask/bench");
    r.line("## Python peers\n");
    r.line(format!(
        "Virtualenv target/bench-venv: `pip install agntcy-acp langgraph-sdk` resolved {versions}. \
         Scripts: xtask/bench/*.py, each joining the stream of a settled run from the in-memory \
         server, as acp-client-ext above (`python SCRIPT URL RUN_ID EXPECTED THREAD_ID`).\n"
    ));
    r.line(
        "| client | events sent | yielded by the iterator | distinct events received | \
         complete | events/s (distinct) | acp-client-ext / peer |",
    );
    r.line("|---|---|---|---|---|---|---|");
    let mut best: Option<(f64, String)> = None;
    let mut peers: Vec<(&str, u64)> = sizes
        .acp_py_events
        .iter()
        .map(|&n| ("agntcy_acp_stream.py", n))
        .collect();
    peers.push(("langgraph_sdk_stream.py", sizes.langgraph_events));
    for (script, n) in peers {
        // langgraph-sdk only joins thread runs: the in-memory server answers any thread.
        let (run_id, thread_id) = (mem_run_id(n), "00000000-0000-4000-8000-000000000001");
        let mut cmd = client_command(&py, pinned);
        cmd.arg(scripts.join(script))
            .arg(url)
            .arg(&run_id)
            .arg((n + 1).to_string())
            .arg(thread_id)
            .arg(PY_LIMIT_SECS.to_string());
        let what = format!("{script} ({n} events)");
        match json_of(&mut cmd, &what) {
            Ok(v) if v["error"].is_null() => {
                let eps = num(&v, "events_per_s");
                let name = v["client"].as_str().unwrap_or(script).to_owned();
                r.line(format!(
                    "| {name} | {} | {} | {} | {} | {}events/s | {:.1}x |",
                    n + 1,
                    v["yielded"],
                    v["distinct"],
                    v["complete"],
                    human(eps),
                    typed_eps / eps
                ));
                if best.as_ref().is_none_or(|(b, _)| eps > *b) {
                    best = Some((eps, name));
                }
            }
            Ok(v) => r.line(format!(
                "| {script} | {} | - | - | - | cannot stream: {} | - |",
                n + 1,
                v["error"]
            )),
            Err(e) => r.line(format!(
                "| {script} | {} | - | - | - | failed: {e:#} | - |",
                n + 1
            )),
        }
    }
    r.line("");
    match best {
        Some((eps, name)) => {
            let ratio = typed_eps / eps;
            r.line(format!(
                "acp-client-ext ({}events/s, the in-memory end-to-end figure above) vs the faster peer \
                 ({name}): **{ratio:.1}x**.\n",
                human(typed_eps)
            ));
            r.goal(
                ">= 10x the faster Python peer",
                ">= 10x",
                format!("{ratio:.1}x ({name})"),
                Some(ratio >= 10.0),
            );
        }
        None => r.goal(
            ">= 10x the faster Python peer",
            ">= 10x",
            "no peer could stream".into(),
            None,
        ),
    }
    Ok(())
}

/// One criterion result: mean seconds per iteration and the declared throughput.
struct Crit {
    secs: f64,
    bytes: Option<f64>,
    elements: Option<f64>,
}

fn read_crit(target: &Path, id: &str) -> Option<Crit> {
    let dir = target.join("criterion").join(id).join("new");
    let est: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("estimates.json")).ok()?).ok()?;
    let bench: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("benchmark.json")).ok()?).ok()?;
    Some(Crit {
        secs: est["mean"]["point_estimate"].as_f64()? / 1e9,
        bytes: bench["throughput"]["Bytes"].as_f64(),
        elements: bench["throughput"]["Elements"].as_f64(),
    })
}

/// Figures of the criterion benches (`cargo bench -p acp-client-ext`), from target/criterion.
fn criterion_section(target: &Path, r: &mut Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Criterion benches\n\n`cargo bench -p acp-client-ext --bench sse` and `--bench decode` \
         (mean of criterion's samples, read from target/criterion by bench-compare).\n"
    );
    let _ = writeln!(s, "| benchmark | time per input | throughput | events/s |");
    let _ = writeln!(s, "|---|---|---|---|");
    let mut ids = Vec::new();
    for (group, event) in [("sse_1KiB_events", 1024.0), ("sse_150B_events", 150.0)] {
        for f in ["decoder", "memchr_scan", "eventsource_stream"] {
            for c in ["16KiB_chunks", "1KiB_chunks"] {
                ids.push((format!("{group}/{f}/{c}"), Some(event)));
            }
        }
    }
    for group in ["decode_1KiB_values", "decode_150B_values"] {
        for f in [
            "sse_to_values_into",
            "sse_to_values_as",
            "parse_values_as",
            "serde_from_slice",
        ] {
            ids.push((format!("{group}/{f}"), None));
        }
    }
    let mut found = 0;
    let eps = |id: &str, event: Option<f64>| -> Option<f64> {
        let c = read_crit(target, id)?;
        let events = c
            .elements
            .or(c.bytes.zip(event).map(|(b, e)| (b / e).floor()))?;
        Some(events / c.secs)
    };
    for (id, event) in &ids {
        let Some(c) = read_crit(target, id) else {
            continue;
        };
        found += 1;
        let tp = match c.bytes {
            Some(b) => format!("{:.2} GB/s", b / c.secs / 1e9),
            None => "-".into(),
        };
        let _ = writeln!(
            s,
            "| {id} | {:.1} µs | {tp} | {}events/s |",
            c.secs * 1e6,
            eps(id, *event).map_or("-".into(), human)
        );
    }
    if found == 0 {
        s = "## Criterion benches\n\nNo results in target/criterion: run `cargo bench -p acp-client-ext` first.\n".into();
    }
    let ratio = |a: &str, b: &str| Some(read_crit(target, a)?.secs / read_crit(target, b)?.secs);
    let framing = ratio(
        "sse_1KiB_events/decoder/16KiB_chunks",
        "sse_1KiB_events/memchr_scan/16KiB_chunks",
    );
    r.goal(
        "framing 1 KiB events vs memchr line scan",
        "within 2x",
        framing.map_or("not measured".into(), |x| format!("{x:.2}x")),
        framing.map(|x| x <= 2.0),
    );
    let small = eps("sse_150B_events/decoder/16KiB_chunks", Some(150.0));
    r.goal(
        "framing ~150 B events",
        ">= 10 M events/s",
        small.map_or("not measured".into(), |x| format!("{}events/s", human(x))),
        small.map(|x| x >= 10e6),
    );
    for (name, group) in [
        ("typed decode vs serde alone, 1 KiB", "decode_1KiB_values"),
        ("typed decode vs serde alone, ~150 B", "decode_150B_values"),
    ] {
        let x = ratio(
            &format!("{group}/sse_to_values_into"),
            &format!("{group}/serde_from_slice"),
        );
        r.goal(
            name,
            "within 1.5x",
            x.map_or("not measured".into(), |x| format!("{x:.2}x")),
            x.map(|x| x <= 1.5),
        );
    }
    s
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib / 1024.0 / 1024.0)
        });
    format!("{cores} cores ({model}), {mem} memory (from /proc)")
}

fn write_report(
    root: &Path,
    target: &Path,
    opts: &Options,
    r: &Report,
    criterion: &str,
) -> Result<()> {
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut doc = String::new();
    let _ = writeln!(doc, "# Benchmarks\n");
    let _ = writeln!(
        doc,
        "Generated by `cargo xtask bench-compare` on {date}. Machine: {}. The machine is shared \
         and noisy: compare ratios measured in the same run, not absolute figures across runs.\n",
        machine()
    );
    let _ = writeln!(doc, "Commands:\n");
    let _ = writeln!(doc, "```sh");
    let _ = writeln!(doc, "cargo bench -p acp-client-ext --bench sse");
    let _ = writeln!(doc, "cargo bench -p acp-client-ext --bench decode");
    let _ = writeln!(
        doc,
        "cargo xtask bench-compare   # --quick: tiny sizes (CI); --no-python; --no-build-time"
    );
    let _ = writeln!(doc, "```\n");
    let _ = writeln!(doc, "## Goals\n");
    let _ = writeln!(doc, "| goal | target | measured | status |");
    let _ = writeln!(doc, "|---|---|---|---|");
    for g in &r.goals {
        let status = match g.met {
            Some(true) => "met",
            Some(false) => "**missed**",
            None => "not measured",
        };
        let _ = writeln!(
            doc,
            "| {} | {} | {} | {status} |",
            g.name, g.target, g.measured
        );
        println!("goal: {} {}: {} ({status})", g.name, g.target, g.measured);
    }
    let _ = writeln!(doc);
    doc.push_str(criterion);
    doc.push('\n');
    doc.push_str(&r.body);
    let notes = root.join("xtask/bench/NOTES.md");
    if let Ok(n) = std::fs::read_to_string(&notes) {
        doc.push('\n');
        doc.push_str(&n);
    }
    let out = if opts.quick {
        target.join("bench-quick.md")
    } else {
        root.join("docs/BENCHMARKS.md")
    };
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&out, doc).with_context(|| format!("write {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
