//! `ajar config` and `--print-config`: the settings in effect as TOML that ajar.toml
//! accepts, each line commented with where its value came from.

use std::path::PathBuf;

use super::{Settings, Source};
use crate::cli::ScanArgs;

impl Settings {
    /// The settings as TOML that ajar.toml accepts, each line commented with where its
    /// value came from (`ajar config`, `--print-config`).
    pub fn to_toml(&self, args: Option<&ScanArgs>) -> String {
        let line_of = |key: &str| {
            self.file.as_ref().and_then(|f| {
                f.lines
                    .get(key)
                    .map(|l| Source::File(format!("{}:{l}", f.path.display())))
            })
        };
        let source = |key: &str, flag: bool| {
            if flag {
                Source::Flag
            } else {
                line_of(key).unwrap_or(Source::Default)
            }
        };
        let flag = |pick: fn(&ScanArgs) -> bool| args.is_some_and(pick);
        let mut out = String::new();
        if let Some(f) = &self.file {
            out.push_str(&format!(
                "# settings from {} and the command line\n",
                f.path.display()
            ));
        } else {
            out.push_str("# no config file: defaults and the command line\n");
        }
        let mut put = |key: &str, value: String, src: Source| {
            let from = match src {
                Source::Default => "default".to_string(),
                Source::File(place) => place,
                Source::Flag => "command line".to_string(),
            };
            out.push_str(&format!("{key} = {value}  # {from}\n"));
        };
        let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let list = |v: &[String]| {
            format!(
                "[{}]",
                v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
            )
        };
        let paths = |v: &[PathBuf]| {
            list(
                &v.iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>(),
            )
        };
        put(
            "targets",
            list(&self.targets),
            source("targets", flag(|a| !a.targets.is_empty())),
        );
        put(
            "input",
            paths(&self.inputs),
            source("input", flag(|a| !a.inputs.is_empty())),
        );
        match &self.ports {
            Some(ports) => put(
                "ports",
                q(ports),
                source("ports", flag(|a| a.ports.is_some())),
            ),
            // A comment: `ports = ""` would not read back.
            None => put(
                "# ports",
                "every probe's default ports (`ajar probes`)".to_string(),
                Source::Default,
            ),
        }
        put(
            "exclude",
            list(&self.exclude),
            source("exclude", flag(|a| !a.exclude.is_empty())),
        );
        put(
            "exclude-file",
            paths(&self.exclude_files),
            source("exclude-file", flag(|a| !a.exclude_file.is_empty())),
        );
        if let Some(entries) = &self.scope_entries {
            put("scope", list(entries), source("scope", false));
        }
        if let Some(file) = &self.scope_file {
            put(
                "scope-file",
                q(&file.display().to_string()),
                source("scope-file", flag(|a| a.scope.is_some())),
            );
        }
        put(
            "concurrency",
            self.concurrency.to_string(),
            source("concurrency", flag(|a| a.concurrency.is_some())),
        );
        put(
            "per-host",
            self.per_host.to_string(),
            source("per-host", flag(|a| a.per_host.is_some())),
        );
        if let Some(rate) = self.rate_limit {
            put(
                "rate-limit",
                rate.to_string(),
                source("rate-limit", flag(|a| a.rate_limit.is_some())),
            );
        }
        put(
            "timeout",
            q(&humantime::format_duration(self.timeout).to_string()),
            source("timeout", flag(|a| a.timeout.is_some())),
        );
        put(
            "probe-timeout",
            q(&humantime::format_duration(self.probe_timeout).to_string()),
            source("probe-timeout", flag(|a| a.probe_timeout.is_some())),
        );
        put(
            "max-hosts",
            self.max_hosts.to_string(),
            source("max-hosts", flag(|a| a.max_hosts.is_some())),
        );
        put(
            "verify-tls",
            self.verify_tls.to_string(),
            source("verify-tls", flag(|a| a.verify_tls)),
        );
        put(
            "ca-file",
            paths(&self.ca_files),
            source("ca-file", flag(|a| !a.ca_file.is_empty())),
        );
        if let Some(p) = &self.probes {
            put(
                "probes",
                q(&p.display().to_string()),
                source("probes", flag(|a| a.probes.is_some())),
            );
        }
        put(
            "strict",
            self.strict.to_string(),
            source("strict", flag(|a| a.strict)),
        );
        put(
            "default-credentials",
            self.default_credentials.to_string(),
            source("default-credentials", flag(|a| a.default_credentials)),
        );
        let r = &self.report;
        put(
            "format",
            q(r.format.as_str()),
            source("format", flag(|a| a.report.format.is_some())),
        );
        put(
            "output",
            paths(&r.outputs.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>()),
            source("output", flag(|a| !a.report.outputs.is_empty())),
        );
        if let Some(sev) = r.fail_on {
            put(
                "fail-on",
                q(sev.as_str()),
                source("fail-on", flag(|a| a.report.fail_on.is_some())),
            );
        }
        put(
            "fail-on-new",
            r.fail_on_new.to_string(),
            source("fail-on-new", flag(|a| a.report.fail_on_new)),
        );
        if let Some(b) = &r.baseline {
            put(
                "baseline",
                q(&b.display().to_string()),
                source("baseline", flag(|a| a.report.baseline.is_some())),
            );
        }
        if !r.severity.is_empty() {
            out.push_str("\n[severity]\n");
            for (check, sev) in &r.severity {
                out.push_str(&format!("{} = {}\n", q(check), q(sev.as_str())));
            }
        }
        for entry in &r.accept {
            out.push_str(&format!("\n[[accept]]  # {}\n", entry.source));
            out.push_str(&entry.to_toml());
        }
        out
    }
}
