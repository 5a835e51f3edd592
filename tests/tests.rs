//! The one integration test binary (ripgrep-style `autotests = false`): every module here
//! runs ajar's per-endpoint engine against fake servers on loopback (127.0.0.1 only).
//!
//! - [`ci`]: baselines, accepted findings, exit codes, outputs, shards and merge, config,
//!   scope and `--list`, as a scheduled CI job runs ajar.
//! - [`cli`]: the binary's exit codes, formats and target errors.
//! - [`elastic`]: Elasticsearch 1.x-8.x and OpenSearch/AWS, open and protected.
//! - [`kibana`]: Kibana 4.x-8.x status and saved-object checks.
//! - [`http_traps`]: the traps of protocols.md section 7 and hostile servers.
//! - [`mongodb`]: the MongoDB wire-protocol probe.
//! - [`detection`]: detection by protocol on any port, through the registry.
//! - [`engine`]: detection across probes when servers misbehave.
//! - [`gate`]: exit codes, signals, piped targets, certificate verification.
//! - [`user_probes`]: probe files of a user's own, `ajar probes check`, default credentials.
//! - [`scope`]: one server one result, exclusions, `--max-hosts`, bounded input.
//! - [`import`]: `-i` with nmap XML and masscan output files.
//! - [`evidence`]: evidence in every result, `-v`, `--debug`, summaries, escaping.
//! - [`panels`]: the data-driven probes of `probes/` against documented replies.
//! - [`real`]: real servers from Debian packages, started by `scripts/test.sh`.
//! - [`lookalikes`]: every shipped probe against servers that look like many products.
//! - [`memory`]: peak memory under hostile listings and a large expansion.
//! - [`sarif`]: `--format sarif` validated against the SARIF 2.1.0 schema.
//! - [`markdown`]: `--format markdown` tables and escaping of hostile names.
//! - [`examples`]: the workflows, CronJobs, config and targets of `examples/` agree with
//!   each other and with the CLI (PyYAML through `AJAR_PYTHON`).

mod support;

mod amqp;
mod beanstalkd;
mod cassandra;
mod ci;
mod cli;
mod clickhouse;
mod detection;
mod elastic;
mod engine;
mod evidence;
mod examples;
mod gate;
mod http_traps;
mod import;
mod kibana;
mod ldap;
mod lookalikes;
mod markdown;
mod memcached;
mod memory;
mod mongodb;
mod mqtt;
mod mysql;
mod nats;
mod panels;
mod postgres;
mod real;
mod redis;
mod rsync;
mod sarif;
mod scope;
mod tarantool;
mod user_probes;
mod zookeeper;
