//! The command line: raw clap flags ([`Cli`]) and the checks that turn them into a scan
//! ([`ScanArgs::targets`], [`parse_duration`]). `--help` teaches by example.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::finding::Severity;
use crate::report::Format;

const EXAMPLES: &str = "\
Examples:
  ajar scan                                   check this machine: 127.0.0.1 on every known port
  ajar scan 127.0.0.1 [::1]:9200              hosts on default ports, or one port
  ajar scan https://127.0.0.1:9200/es/        an Elasticsearch behind a path prefix, over TLS
  ajar scan mongodb://127.0.0.1:27017         only the MongoDB probe
  ajar scan 127.0.0.0/28 -p 9200,27017-27019  a block on chosen ports
  ajar scan 127.0.0.0/24 --exclude 127.0.0.1  a block without one host
  ajar scan -i targets.txt --format json -o report.json
  cat hosts.txt | ajar scan --format jsonl    targets from a pipe, results as they are found
  ajar scan -i targets.txt -f sarif -o ajar.sarif   for GitHub code scanning (-f markdown: a job summary)
  ajar scan 127.0.0.1:9200 -v                 show every request and what answered
  ajar scan 127.0.0.1:8080 --default-credentials   also try each product's well-known login, once
  ajar scan 127.0.0.1 --probes ./my-probes --strict   add your own probe files; a broken one stops the scan
  ajar probes                                 every probe, its ports and where it comes from
  ajar probes check ./my-probes/*.toml        validate probe files: FILE:LINE:COLUMN: FIELD: message
  ajar scan -i targets.txt --fail-on high -q  in CI: exit 1 when anything high or critical is open
  ajar scan -i nmap.xml                       classify the open ports an nmap -oX (or masscan) run found
  ajar scan -i targets.txt -o report.json -o ajar.sarif -o summary.md   several reports, one run
  ajar scan --baseline last.json --fail-on high --fail-on-new -o report.json   fail only on what is new
  ajar scan --accept accepted.toml --fail-on high   accepted findings (reason, expiry) do not fail
  ajar scan 127.0.0.0/24 --scope owned.txt    refuse anything outside the blocks and domains you own
  ajar scan -i targets.txt --shard 2/4 -o shard-2.json   one runner of four; then: ajar merge shard-*.json
  ajar scan 127.0.0.0/28 --list               the endpoints a scan would probe; nothing is sent
  ajar config                                 the settings in effect (./ajar.toml, --config FILE)

Exit codes:
  0    the scan finished, covered every target, and nothing reached --fail-on
  1    --fail-on (with --fail-on-new: a new one) matched a finding that is not accepted
  2    usage, config or input error, or a target outside --scope: nothing was sent
  3    the scan is incomplete: a name did not resolve, an endpoint could not be probed,
       nothing could be scanned, or (merge) a shard is missing; 1 wins when both hold
  4    the report could not be written (the scan ran; its summary went to stderr)
  130  interrupted by Ctrl-C (SIGINT); 143 stopped by SIGTERM: the report holds what was found";

/// ajar: find databases and admin panels on your own infrastructure that answer without
/// credentials, and what they expose.
#[derive(Debug, Parser)]
#[command(name = "ajar", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan targets (default: 127.0.0.1 on every known port).
    #[command(after_help = EXAMPLES)]
    Scan(Box<ScanArgs>),
    /// List every probe with its default ports, what decides its verdict and its source;
    /// `ajar probes check FILE...` validates probe files.
    #[command(after_help = PROBES_EXAMPLES)]
    Probes(ProbesArgs),
    /// Merge the JSON (or JSONL) reports of shards (`--shard K/N`) into one, as a single run would
    /// have written it, and apply the baseline, accepted findings and gates.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
    /// Show the settings in effect: ajar.toml (or --config FILE) over the defaults.
    Config(ConfigArgs),
}

const MERGE_EXAMPLES: &str = "\
Examples:
  ajar merge shard-*.json -o report.json -o ajar.sarif
  ajar merge shard-*.json --baseline last-week.json --fail-on high --fail-on-new -o summary.md

Exit codes: as `ajar scan`; 3 also when a shard of K/N is missing or given twice";

const PROBES_EXAMPLES: &str = "\
Examples:
  ajar probes                          the native probes and the shipped probe files
  ajar probes --probes ./my-probes     the same with your files (a file with a shipped id replaces it)
  ajar probes check my-panel.toml      validate files before a scan uses them

Exit codes: 0 every file is valid; 2 a file has errors (each printed as FILE:LINE:COLUMN: FIELD: message)";

/// Flags of `ajar probes`.
#[derive(Debug, Args)]
pub struct ProbesArgs {
    /// What to do with probes (default: list them).
    #[command(subcommand)]
    pub action: Option<ProbesAction>,

    /// Also list the probe files of DIR (*.toml), as `ajar scan --probes DIR` loads them.
    #[arg(long, value_name = "DIR", global = true)]
    pub probes: Option<PathBuf>,
}

/// Subcommands of `ajar probes`.
#[derive(Debug, Subcommand)]
pub enum ProbesAction {
    /// Validate probe files and print every error with file, line and field.
    Check {
        /// Probe files (TOML) or directories of them.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
}

/// Flags of `ajar scan`. Options that ajar.toml may also set are `Option`s here, so the
/// settings layer ([`crate::config`]) can tell a flag given from one left out; their
/// defaults live in [`crate::config::defaults`].
#[derive(Debug, Args, Default)]
pub struct ScanArgs {
    /// Targets: host, host:port, IPv6 (bracketed with a port), CIDR, http(s)://host:port/prefix/, or any probe's URI scheme (mongodb://, redis://, postgres://, ldaps://, ...: `ajar probes` lists them).
    /// With none (and no -i), targets piped on stdin are read; else 127.0.0.1.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Read targets from FILE: one per line ('#' comments allowed), or the output of
    /// `nmap -oX` or masscan (-oJ, -oL), whose open ports become the targets; '-' reads stdin.
    #[arg(short = 'i', long = "input", value_name = "FILE|-")]
    pub inputs: Vec<PathBuf>,

    /// Ports for targets given without one, e.g. 9200,27017-27019 [default: every probe's default ports].
    #[arg(short = 'p', long, value_name = "PORTS")]
    pub ports: Option<String>,

    /// Never scan these hosts or CIDR blocks (repeatable); names are resolved and their
    /// addresses excluded, whatever spelling a target uses.
    #[arg(long, value_name = "HOST|CIDR")]
    pub exclude: Vec<String>,

    /// Never scan the hosts and blocks listed in FILE (one per line, '#' comments).
    #[arg(long, value_name = "FILE")]
    pub exclude_file: Vec<PathBuf>,

    /// Refuse, before anything is sent, every target outside the blocks and domains listed
    /// in FILE (one per line), including names that resolve outside them.
    #[arg(long, value_name = "FILE")]
    pub scope: Option<PathBuf>,

    /// Scan only part K of N (1 <= K <= N): N runners with 1/N .. N/N cover every endpoint
    /// once; `ajar merge` joins their JSON reports.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::targets::shard::Shard>,

    /// Print the endpoints the scan would probe (after expansion, exclusions, scope and
    /// --shard), one per line, and send nothing to them.
    #[arg(long)]
    pub list: bool,

    /// Endpoints probed at once [default: 512].
    #[arg(short = 'c', long, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub concurrency: Option<u32>,

    /// Endpoints of one host probed at once [default: 16].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub per_host: Option<u32>,

    /// Start at most N endpoints per second.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: Option<u32>,

    /// Deadline for each network step (connect, TLS handshake, one request): 500ms, 3s,
    /// 1m30s [default: 3s].
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Deadline for everything done at one endpoint [default: 30s].
    #[arg(long, value_parser = parse_duration)]
    pub probe_timeout: Option<Duration>,

    /// Refuse targets that expand to more distinct hosts than this (after duplicates and
    /// exclusions; at most 4294967296) [default: 65536].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_HOSTS))]
    pub max_hosts: Option<u64>,

    /// Verify TLS certificates against the system roots, SSL_CERT_FILE / SSL_CERT_DIR
    /// (off by default: your own infrastructure often has self-signed ones).
    #[arg(long)]
    pub verify_tls: bool,

    /// Also trust the CA certificates of this PEM file; implies --verify-tls (repeatable).
    #[arg(long, value_name = "FILE", env = "AJAR_CA_FILE")]
    pub ca_file: Vec<PathBuf>,

    /// Add the probe files of DIR (*.toml) to the shipped ones; a file with a shipped id
    /// replaces it. Broken files are reported and skipped (see --strict).
    #[arg(long, value_name = "DIR", env = "AJAR_PROBES")]
    pub probes: Option<PathBuf>,

    /// Stop before scanning when a probe file of --probes has an error.
    #[arg(long)]
    pub strict: bool,

    /// Also try each product's well-known login (Grafana admin/admin, RabbitMQ
    /// guest/guest, ...), once per pair and endpoint. Off by default: a plain scan never
    /// logs in anywhere.
    #[arg(long)]
    pub default_credentials: bool,

    /// Print the settings in effect (ajar.toml, then flags) as TOML and exit.
    #[arg(long)]
    pub print_config: bool,

    /// No progress bar.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Log every exchange, name lookup and the peak memory to stderr (RUST_LOG works too,
    /// e.g. RUST_LOG=ajar=trace).
    #[arg(long)]
    pub debug: bool,

    /// Reports, gates and the config file.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Flags shared by `ajar scan` and `ajar merge`: where reports go, what they are compared
/// with, and what fails the run.
#[derive(Debug, Args, Default, Clone)]
pub struct ReportArgs {
    /// Output format: human, json, jsonl, sarif (GitHub code scanning) or markdown (a CI
    /// job summary or a ticket) [default: human]. Also the format of an -o file whose
    /// extension names none.
    #[arg(short = 'f', long, value_enum)]
    pub format: Option<Format>,

    /// Write a report to FILE instead of stdout, its format from the extension: .json,
    /// .jsonl, .sarif, .md, .txt (repeatable: -o report.json -o ajar.sarif); `-o -` is
    /// stdout in the -f format. Without one on stdout, the human summary goes to stderr.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,

    /// Compare with a previous JSON (or JSONL) report: each finding is marked new, unchanged or
    /// escalated, and findings gone since are listed as resolved.
    #[arg(long, value_name = "REPORT.json")]
    pub baseline: Option<PathBuf>,

    /// Accepted findings: a TOML file of `[[accept]]` entries (check, endpoint, reason,
    /// expires). Accepted findings stay in the report, marked, and out of the gate
    /// (repeatable).
    #[arg(long = "accept", value_name = "FILE")]
    pub accept: Vec<PathBuf>,

    /// Exit 1 when a finding at or above this severity is found (info, low, medium, high,
    /// critical); accepted findings do not count.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,

    /// With --fail-on: only findings that are new since --baseline (or worse than in it)
    /// fail the run.
    #[arg(long)]
    pub fail_on_new: bool,

    /// Read settings from FILE [default: ./ajar.toml when it exists]; flags override it.
    #[arg(long, value_name = "FILE", env = "AJAR_CONFIG")]
    pub config: Option<PathBuf>,

    /// Ignore ./ajar.toml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,

    /// Human format: under each result, every request sent and what answered.
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

/// Flags of `ajar merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON or JSONL reports to merge (the shards of one scan, or scans of separate
    /// estates).
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,

    /// Reports, gates and the config file.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Flags of `ajar config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Read settings from FILE [default: ./ajar.toml when it exists].
    #[arg(long, value_name = "FILE", env = "AJAR_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The largest `--max-hosts`: every IPv4 address. A scan that large is a configuration
/// mistake long before it is a memory problem, since expansion is lazy.
pub const MAX_HOSTS: u64 = 1 << 32;

/// Parses a duration as `humantime` does (`500ms`, `3s`, `1m30s`, `2min`), or a bare
/// number of seconds (`1.5`); between 1 ms and 1 h.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let duration = match text.parse::<f64>() {
        Ok(seconds) if (0.0..=3600.0).contains(&seconds) => Duration::from_secs_f64(seconds),
        Ok(_) => return Err(format!("{text:?} is out of range (1ms to 1h)")),
        Err(_) => humantime::parse_duration(text)
            .map_err(|e| format!("{text:?} is not a duration ({e}); write 500ms, 3s or 1m30s"))?,
    };
    if duration < Duration::from_millis(1) || duration > Duration::from_secs(3600) {
        return Err(format!("{text:?} is out of range (1ms to 1h)"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3s"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("3h").is_err());
        assert!(parse_duration("NaN").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_scan_flags() {
        let cli = Cli::try_parse_from([
            "ajar",
            "scan",
            "127.0.0.1",
            "-p",
            "9200",
            "--format",
            "jsonl",
            "--fail-on",
            "HIGH",
            "--timeout",
            "250ms",
        ])
        .expect("valid flags");
        let Command::Scan(args) = cli.command else {
            panic!("scan expected")
        };
        assert_eq!(args.report.format, Some(Format::Jsonl));
        assert_eq!(args.report.fail_on, Some(Severity::High));
        assert_eq!(args.timeout, Some(Duration::from_millis(250)));
        assert!(Cli::try_parse_from(["ajar", "scan", "--fail-on", "severe"]).is_err());
    }
}
