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

Exit codes:
  0    the scan finished and nothing reached --fail-on
  1    --fail-on matched a finding
  2    usage or input error: nothing was sent
  3    nothing could be scanned: every target excluded, no name resolved, or every endpoint failed
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
}

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

/// Flags of `ajar scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Targets: host, host:port, IPv6 (bracketed with a port), CIDR, http(s)://host:port/prefix/, or any probe's URI scheme (mongodb://, redis://, postgres://, ldaps://, ...: `ajar probes` lists them).
    /// With none (and no -i), targets piped on stdin are read; else 127.0.0.1.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Read targets from FILE, one per line, '#' comments allowed; '-' reads stdin.
    #[arg(short = 'i', long = "input", value_name = "FILE|-")]
    pub inputs: Vec<PathBuf>,

    /// Ports for targets given without one, e.g. 9200,27017-27019 [default: every probe's default ports].
    #[arg(short = 'p', long, value_name = "PORTS")]
    pub ports: Option<String>,

    /// Never scan these hosts or CIDR blocks (repeatable); names are resolved and their
    /// addresses excluded, whatever spelling a target uses.
    #[arg(long, value_name = "HOST|CIDR")]
    pub exclude: Vec<String>,

    /// Output format: human, json, jsonl, sarif (GitHub code scanning) or markdown (a CI
    /// job summary or a ticket).
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Endpoints probed at once.
    #[arg(short = 'c', long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    pub concurrency: u32,

    /// Endpoints of one host probed at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub per_host: u32,

    /// Start at most N endpoints per second.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: Option<u32>,

    /// Deadline for each network step (connect, TLS handshake, one request): 500ms, 3s, 1m30s.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Deadline for everything done at one endpoint.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub probe_timeout: Duration,

    /// Refuse targets that expand to more distinct hosts than this (after duplicates and
    /// exclusions; at most 4294967296).
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(1..=MAX_HOSTS))]
    pub max_hosts: u64,

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

    /// Exit 1 when a finding at or above this severity is found (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<Severity>,

    /// No progress bar.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Human format: under each result, every request sent and what answered.
    #[arg(short = 'v', long)]
    pub verbose: bool,

    /// Log every exchange, name lookup and the peak memory to stderr (RUST_LOG works too,
    /// e.g. RUST_LOG=ajar=trace).
    #[arg(long)]
    pub debug: bool,
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
        assert_eq!(args.format, Format::Jsonl);
        assert_eq!(args.fail_on, Some(Severity::High));
        assert_eq!(args.timeout, Duration::from_millis(250));
        assert!(Cli::try_parse_from(["ajar", "scan", "--fail-on", "severe"]).is_err());
    }
}
