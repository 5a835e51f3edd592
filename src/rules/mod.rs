//! The data-driven HTTP probe engine: compiles `probes/*.toml` files (format in
//! `probes/README.md`) into [`Rule`]s and runs one rule against one base path through a
//! [`Fetcher`], the scan's HTTP client with its cache, budget and evidence. [`Replay`] is a
//! fetcher over recorded replies, for tests and probe authors.
//!
//! The engine only decides; it never opens a socket. Every reply it reads has already been
//! capped by the fetcher, and every value it keeps is a name, a count or a version, clipped.

mod compile;
pub(crate) mod error;
mod eval;
mod extract;
mod matcher;
mod model;
mod raw;
mod replay;
mod set;
mod template;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::finding::{Exposure, Inventory, Severity};

pub use compile::compile;
pub use error::RuleError;
pub use eval::evaluate;
pub use replay::Replay;
pub use set::RuleSet;

/// One compiled probe file: what the scan lists (`ajar probes`), schedules by port and runs
/// with [`evaluate`]. The requests and matchers stay private so that only compiled,
/// validated probes can be run.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The probe id, equal to the file stem (`docker-engine`).
    pub id: String,
    /// The product name for humans (`Docker Engine API`).
    pub name: String,
    /// The service id used in reports (`docker`).
    pub service: String,
    /// Default ports: scanned for bare hosts, and tried first on these ports.
    pub ports: Vec<u16>,
    /// Base paths tried when the target URL has no path (default `["/"]`).
    pub mounts: Vec<String>,
    /// Severity of an `open` finding.
    pub severity: Severity,
    /// Links that document the product's behaviour or hardening.
    pub references: Vec<String>,
    /// What the operator should do about an open finding.
    pub remediation: String,
    /// Where the probe came from: shipped in the binary or a `--probes` file.
    pub source: Source,
    requests: Vec<model::ReqSpec>,
    identify: Vec<model::Matcher>,
    verdicts: Vec<model::Verdict>,
    extractors: Vec<model::Extractor>,
    inventory: Option<model::InventorySpec>,
    credentials: Vec<model::Credential>,
}

impl Rule {
    /// Whether the probe can try default credentials (it has `[[credentials]]`), so the
    /// scan can say which probes `--default-credentials` changes.
    pub fn has_credentials(&self) -> bool {
        !self.credentials.is_empty()
    }

    /// The `[[credentials]]` pairs (user, password), for audits: the wire-tap test proves a
    /// plain scan never sends one. Reports never print the password.
    pub fn default_logins(&self) -> impl Iterator<Item = (&str, &str)> {
        self.credentials
            .iter()
            .map(|c| (c.user.as_str(), c.password.as_str()))
    }

    /// Each request's method and path as the file writes it, up to its first placeholder
    /// (`GET /api/v1/dags?limit=100`): what the probe may send, for audits and tests.
    pub fn requests(&self) -> Vec<(String, String)> {
        self.requests
            .iter()
            .map(|r| (r.method.clone(), r.path.literal_prefix()))
            .collect()
    }

    /// Every check id this probe can report: one per verdict, then `<id>-undetermined`.
    pub fn check_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.verdicts.iter().map(|v| v.check.clone()).collect();
        ids.push(format!("{}-undetermined", self.id));
        ids
    }
}

/// Where a [`Rule`] was loaded from, shown by `ajar probes` and in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Compiled into the binary from `probes/`.
    Shipped,
    /// Loaded from a `--probes` directory.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Shipped => f.write_str("shipped"),
            Source::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// One request a probe wants sent, relative to the base path. It is also the cache key:
/// two probes asking for the same request get one reply.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// `GET`, `HEAD` or `POST`.
    pub method: String,
    /// Starts with '/', relative to the base path; the query is included.
    pub path: String,
    /// Extra headers, values already substituted (a `Cookie` header when cookies are sent).
    pub headers: Vec<(String, String)>,
    /// The body of a `POST`.
    pub body: Option<String>,
    /// The `Content-Type` of the body.
    pub content_type: Option<String>,
    /// Basic credentials (user, password), only under `--default-credentials`.
    pub basic_auth: Option<(String, String)>,
    /// How many body bytes to read at most.
    pub max_body: usize,
    /// Whether the probe sends cookies set by earlier replies (`cookies = true`).
    pub send_cookies: bool,
    /// The request as evidence shows it: never a password (`GET /api/org as admin`,
    /// `POST /index.php (login as root)`).
    pub shown: String,
}

/// A reply as the probe sees it. Header names are lowercase; the body is already capped at
/// the request's `max_body`, `truncated` says whether more came.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers, names lowercase, in arrival order (repeated names kept).
    pub headers: Vec<(String, String)>,
    /// The body, at most `max_body` bytes.
    pub body: Vec<u8>,
    /// True when the server sent more than `max_body` bytes.
    pub truncated: bool,
}

/// What a [`Fetcher`] returns for one request: a reply, or why there is none (timeout,
/// refused, budget spent).
#[derive(Clone, Debug)]
pub enum Fetched {
    /// The server answered.
    Reply(Arc<Reply>),
    /// No answer; the text says why, for notes and evidence.
    Failed(String),
}

/// Sends requests for one endpoint and base path. The scan's implementation caches replies,
/// records evidence, applies timeouts, the read budget and TLS; the engine only asks.
pub trait Fetcher {
    /// Sends one request (or answers it from a cache).
    fn fetch(&mut self, request: &Request) -> impl std::future::Future<Output = Fetched> + Send;
    /// A path under the base that no product serves (`/ajar-3f9c...`), fixed per endpoint,
    /// used to tell a product from a server that answers every path alike.
    fn decoy_path(&self) -> String;
}

/// Scan options that change what [`evaluate`] may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalOptions {
    /// `--default-credentials`: try `[[credentials]]` pairs; without it, no request with
    /// `auth` or `login` is ever sent.
    pub default_credentials: bool,
    /// The most inventory items kept (all are counted).
    pub max_items: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            default_credentials: false,
            max_items: 100,
        }
    }
}

/// The result of running one [`Rule`] against one base path.
// One evaluation lives at a time per base and is matched on at once: boxing `Identified`
// would only add an indirection to the API the scan and the tests share.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluation {
    /// Identification failed; `note` says which matcher failed (for the report of an
    /// unknown HTTP endpoint).
    NotThis {
        /// The request and the matcher that did not hold.
        note: String,
    },
    /// Identification held but the decoy satisfied it too: a catch-all server or honeypot.
    CatchAll {
        /// What the decoy request was and that it matched.
        note: String,
    },
    /// The product is there; the verdict (or none) and what was read.
    Identified(Identified),
}

/// An identified product, its verdict and the values the probe extracted.
#[derive(Debug, Clone, PartialEq)]
pub struct Identified {
    /// None: identified, but no verdict held (reported as undetermined).
    pub exposure: Option<Exposure>,
    /// The verdict's check id, or `<id>-undetermined`.
    pub check: String,
    /// The verdict's summary, placeholders filled; missing values shown as `?`.
    pub summary: String,
    /// The `version` extractor's value.
    pub version: Option<String>,
    /// The other extractors that found a value, in file order.
    pub details: Vec<(String, String)>,
    /// What an open (or default-credentials) service lists, from `[inventory]`.
    pub inventory: Option<Inventory>,
    /// Under default credentials, the user name that logged in.
    pub user: Option<String>,
    /// The matchers that held, readable (`GET /version: json /ApiVersion is a string`),
    /// for evidence.
    pub matched: Vec<String>,
}
