//! `ajar scan`: read the targets (all or nothing), resolve names once, check the scope,
//! run the engine with a progress bar, judge each result (triage) and stream it into the
//! reports, then the exit code.

use std::fs::File;
use std::io::{self, BufReader};
use std::process::ExitCode;

use anyhow::Context;

use super::gate::{self, Judged};
use super::output::Outputs;
use super::{UsageError, exit};
use crate::cli::ScanArgs;
use crate::config::Settings;
use crate::finding::{EndpointResult, Exposure, Outcome};
use crate::net::TlsPolicy;
use crate::probe::registry::Registry;
use crate::probe::{Limits, ProbeContext};
use crate::progress::Progress;
use crate::report::{NoteKind, Recorded, Report};
use crate::scan::{self as engine, EngineConfig};
use crate::targets::resolve::{SystemResolver, resolve_all};
use crate::targets::scope::Scope;
use crate::targets::{Exclusions, TargetSet, TargetSetBuilder, parse_ports};

/// The targets as given, parsed: nothing resolved or sent yet.
pub struct ParsedTargets {
    builder: TargetSetBuilder,
    exclusions: Exclusions,
    ports: Vec<u16>,
}

impl ParsedTargets {
    /// Target lines and arguments given.
    pub fn inputs(&self) -> usize {
        self.builder.inputs()
    }
}

/// Whether stdin is a pipe or a file (`cmd | ajar scan`, `ajar scan < hosts.txt`) rather
/// than a terminal or `/dev/null`, as nuclei decides whether to read targets from it.
fn stdin_has_targets() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::FileTypeExt;
        let stdin = io::stdin();
        let Ok(fd) = stdin.as_fd().try_clone_to_owned() else {
            return false;
        };
        File::from(fd)
            .metadata()
            .map(|m| m.file_type().is_fifo() || m.file_type().is_file())
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        use std::io::IsTerminal;
        !io::stdin().is_terminal()
    }
}

/// Parses every target source; any bad line aborts before a packet is sent.
pub fn parse_targets(args: &Settings, registry: &Registry) -> Result<ParsedTargets, UsageError> {
    let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
    let ports = match &args.ports {
        Some(text) => parse_ports(text).map_err(|e| UsageError(format!("--ports: {e}")))?,
        None => registry.default_ports(),
    };
    let mut exclude = args.exclude.clone();
    for path in &args.exclude_files {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
        crate::targets::input::for_each_line(&name, BufReader::new(file), |_, line| {
            let text = crate::targets::strip_comment(line);
            if !text.is_empty() {
                exclude.push(text.to_string());
            }
            Ok(())
        })
        .map_err(|e| usage(&e))?;
    }
    let exclusions = Exclusions::parse(&exclude).map_err(|e| usage(&e))?;
    let mut builder = TargetSetBuilder::new(args.max_hosts);
    if let Some(scope) = load_scope(args)? {
        builder = builder.with_scope(scope);
    }
    for (i, target) in args.targets.iter().enumerate() {
        builder
            .add(&format!("argument {}", i + 1), target)
            .map_err(|e| usage(&e))?;
    }
    let mut inputs = args.inputs.clone();
    let piped = args.targets.is_empty() && inputs.is_empty() && stdin_has_targets();
    if piped {
        inputs.push("-".into());
    }
    for path in &inputs {
        if path.as_os_str() == "-" {
            builder
                .add_reader("stdin", io::stdin().lock())
                .map_err(|e| usage(&e))?;
        } else {
            let name = path.display().to_string();
            let file =
                File::open(path).map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
            builder
                .add_reader(&name, BufReader::with_capacity(64 << 10, file))
                .map_err(|e| usage(&e))?;
        }
    }
    if builder.inputs() == 0 {
        if piped {
            return Err(UsageError(
                "stdin holds no targets (give targets as arguments, or -i FILE)".into(),
            ));
        }
        if !inputs.is_empty() {
            return Err(UsageError("the target files hold no targets".into()));
        }
        builder
            .add("default target", "127.0.0.1")
            .map_err(|e| usage(&e))?;
    }
    Ok(ParsedTargets {
        builder,
        exclusions,
        ports,
    })
}

/// The scope of the settings: a scope file, or entries written in ajar.toml.
fn load_scope(args: &Settings) -> Result<Option<Scope>, UsageError> {
    let usage = |e: &dyn std::fmt::Display| UsageError(e.to_string());
    let scope = if let Some(path) = &args.scope_file {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
        let mut scope = Scope::new(&name);
        scope
            .add_lines(&name, BufReader::new(file))
            .map_err(|e| usage(&e))?;
        scope
    } else if let Some(entries) = &args.scope_entries {
        let source = args.file.as_ref().map_or_else(
            || "the config".to_string(),
            |f| f.path.display().to_string(),
        );
        let mut scope = Scope::new(&source);
        for (i, entry) in entries.iter().enumerate() {
            scope
                .add(&format!("{source}: scope[{i}]"), entry)
                .map_err(|e| usage(&e))?;
        }
        scope
    } else {
        return Ok(None);
    };
    if scope.is_empty() {
        return Err(UsageError(format!(
            "the scope of {} lists nothing, so it would refuse every target",
            scope.source()
        )));
    }
    Ok(Some(scope))
}

/// Resolves the names of `parsed` (each once) and builds the endpoint set.
pub async fn build_targets(
    parsed: ParsedTargets,
    timeout: std::time::Duration,
) -> Result<TargetSet, UsageError> {
    let refused = parsed.builder.names_out_of_scope();
    if !refused.is_empty() {
        let shown: Vec<&str> = refused.iter().take(5).map(|n| n.as_ref()).collect();
        return Err(UsageError(format!(
            "{} outside the scope (no listed domain holds {}): {}; nothing was sent, not even a DNS query",
            if refused.len() == 1 {
                "a name is"
            } else {
                "names are"
            },
            if refused.len() == 1 { "it" } else { "them" },
            shown.join(", ")
        )));
    }
    let mut names = parsed.builder.names();
    names.extend(parsed.exclusions.names().iter().cloned());
    let resolved = resolve_all(names, &SystemResolver { timeout }).await;
    parsed
        .builder
        .build(&parsed.ports, &parsed.exclusions, &resolved)
        .map_err(|e| UsageError(e.to_string()))
}

/// Which signal stopped a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stopped {
    Interrupt,
    Terminate,
}

/// Resolves when SIGINT or SIGTERM arrives, saying which.
async fn stop_signal() -> Stopped {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => Stopped::Interrupt,
                _ = term.recv() => Stopped::Terminate,
            };
        }
    }
    match tokio::signal::ctrl_c().await {
        Ok(()) => Stopped::Interrupt,
        Err(_) => std::future::pending().await,
    }
}

fn tls_policy(args: &Settings) -> Result<TlsPolicy, UsageError> {
    if args.verify_tls || !args.ca_files.is_empty() {
        TlsPolicy::verify(&args.ca_files).map_err(|e| UsageError(e.to_string()))
    } else {
        Ok(TlsPolicy::AcceptAny)
    }
}

/// Runs `ajar scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let file = crate::config::find(args.report.config.as_deref(), args.report.no_config)?;
    let settings = Settings::resolve(&args, file)?;
    if args.print_config {
        print!("{}", settings.to_toml(Some(&args)));
        return Ok(ExitCode::from(exit::OK));
    }
    let registry = crate::catalog::load_registry(settings.probes.as_deref(), settings.strict)?;
    let parsed = parse_targets(&settings, &registry)?;
    let inputs = parsed.inputs();
    let policy = tls_policy(&settings)?;
    let mut triage = gate::triage(&settings.report)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut targets = runtime.block_on(build_targets(parsed, settings.timeout))?;
    if let Some(shard) = settings.shard {
        targets = targets.with_shard(shard);
    }
    if settings.list {
        return list(&targets);
    }
    let mut outputs = Outputs::open(&settings.report)?;
    for name in targets.unresolved() {
        eprintln!(
            "ajar: cannot resolve {}: {}; its targets are skipped",
            crate::sanitize::clip(&name.name, 80),
            crate::sanitize::clip(&name.reason, 120)
        );
    }
    if targets.all_excluded() {
        eprintln!("ajar: the exclusions remove every target; nothing to scan");
    }
    let cx = ProbeContext::for_scan(
        settings.timeout,
        &policy,
        Limits::default(),
        targets.names(),
    )?
    .with_registry(registry)
    .with_default_credentials(settings.default_credentials);
    let engine_config = EngineConfig {
        concurrency: settings.concurrency as usize,
        per_host: settings.per_host as usize,
        rate_limit: settings.rate_limit,
        probe_timeout: settings.probe_timeout,
    };
    let mut report = Report::new(inputs, targets.len());
    report.shard = settings.shard;
    report.note_unresolved(targets.unresolved());
    // Streamed formats get the unresolved names as lines of their own, first; the others
    // keep them in the report, unless none does.
    let keeps = outputs.keeps_results();
    for note in &report.errors {
        outputs.result(&Recorded::Note(NoteKind::Error, note.clone()));
    }
    if !keeps {
        report.errors.clear();
    }
    let mut progress = Progress::new(targets.len(), settings.quiet);
    let stopped = std::cell::Cell::new(None);
    runtime.block_on(async {
        let stop = async {
            stopped.set(Some(stop_signal().await));
        };
        let on_result = |mut result: EndpointResult| {
            match &mut result.outcome {
                Outcome::Found(finding) => {
                    triage.judge(finding);
                }
                Outcome::Failed(_) => triage.endpoint_failed(&result.endpoint),
                _ => {}
            }
            let found = match &result.outcome {
                Outcome::Found(f) => Some(matches!(
                    f.exposure,
                    Exposure::Open | Exposure::DefaultCredentials
                )),
                _ => None,
            };
            progress.endpoint_done(found);
            let Some(recorded) = report.record(result) else {
                return;
            };
            outputs.result(&recorded);
            if keeps {
                match recorded {
                    Recorded::Finding(finding) => report.keep(*finding),
                    Recorded::Note(kind, note) => report.keep_note(kind, note),
                }
            }
        };
        engine::run(engine::prober(cx), engine_config, &targets, stop, on_result).await
    });
    progress.finish();
    let stopped = stopped.get();
    report.finish(stopped.is_some());
    // Tasks still draining after a signal are dropped with the runtime, without waiting.
    runtime.shutdown_background();
    tracing::debug!(peak_memory_kib = peak_memory_kib(), "scan finished");
    let unresolved = targets.unresolved();
    (report.resolved, report.unverified) = triage.leftovers(
        report.interrupted,
        |e| unresolved.iter().any(|u| host_of(e) == &*u.name),
        |e| targets.holds_authority(e),
    );
    report.triage = triage.summary();
    let lost = outputs.finish(&report);
    Ok(ExitCode::from(gate::exit_code(
        &report,
        &Judged {
            failing: triage.failing(),
        },
        stopped,
        &lost,
    )))
}

/// The host part of `host:port` (`[v6]:port` keeps its brackets).
fn host_of(endpoint: &str) -> &str {
    endpoint.rsplit_once(':').map_or(endpoint, |(host, _)| host)
}

/// `--list`: the endpoints, one per line, as a scan would probe them; nothing is sent.
fn list(targets: &TargetSet) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written: io::Result<()> = (|| {
        for endpoint in targets.endpoints() {
            let path = endpoint.base_path.as_deref().unwrap_or("");
            let pinned = match (endpoint.protocol, endpoint.transport) {
                (crate::targets::Protocol::Only(id), crate::targets::Transport::Tls) => {
                    format!("\t{id} over TLS only")
                }
                (crate::targets::Protocol::Only(id), _) => format!("\t{id} only"),
                (_, crate::targets::Transport::Tls) => "\tTLS only".to_string(),
                _ => String::new(),
            };
            writeln!(out, "{}{path}{pinned}", endpoint.authority())?;
        }
        out.flush()
    })();
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    eprintln!(
        "ajar: {} endpoints on {} hosts{}; nothing was sent",
        targets.len(),
        targets.hosts(),
        targets
            .shard()
            .map(|s| format!(" in shard {s}"))
            .unwrap_or_default()
    );
    for name in targets.unresolved() {
        eprintln!(
            "ajar: cannot resolve {}",
            crate::sanitize::clip(&name.name, 80)
        );
    }
    Ok(ExitCode::from(if targets.unresolved().is_empty() {
        exit::OK
    } else {
        exit::INCOMPLETE
    }))
}

/// The process's peak resident memory (`VmHWM`), for `--debug`.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
