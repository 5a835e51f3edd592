//! The finding model: what one endpoint turned out to be, shared by every probe and every
//! output format. A probe fills a [`Finding`]; reporters only read it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub mod policy;

/// Whether data on an identified service can be reached without credentials.
///
/// `open` is only ever set after data was actually listed in the shape the real product
/// returns it; a banner, a login page, a 200 status or an odd answer never makes a service
/// open. When the service is known but neither open nor refused could be shown, the verdict
/// is `undetermined`, with the evidence that stopped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// Data (databases, indices, saved objects) was listed with no credentials.
    Open,
    /// The service let ajar in with its well-known default login (`admin`/`admin`), tried
    /// only under `--default-credentials`; the evidence names the user, never the password.
    DefaultCredentials,
    /// The service identified itself but refused to list data without credentials.
    AuthRequired,
    /// The service identified itself, but access could not be judged: nothing asked for
    /// credentials, yet no well-formed listing came back (a cluster block, an error, a
    /// listing the real product never sends).
    Undetermined,
}

impl Exposure {
    /// The stable kebab-case id used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Open => "open",
            Exposure::DefaultCredentials => "default-credentials",
            Exposure::AuthRequired => "auth-required",
            Exposure::Undetermined => "undetermined",
        }
    }
}

impl fmt::Display for Exposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is; ordered so that `Critical > High > ... > Info`, which is what
/// `--fail-on` compares against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Nothing exposed: the service asks for credentials.
    Info,
    /// Metadata only (a version banner) is readable.
    Low,
    /// Open, but only system or empty data stores are visible.
    Medium,
    /// Open with user data, or an open admin surface over a data store.
    High,
    /// Open with user data whose field or collection names look like personal data.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The stable lowercase id used in every output format and in `--fail-on`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown severity {s:?}: use info, low, medium, high or critical")
            })
    }
}

/// One step of a probe: what ajar sent and the response facts it read from the answer.
///
/// Evidence is what lets an operator check a verdict by hand, so `request` is written the
/// way they would replay it (`GET /_cat/indices?format=json`, `OP_MSG listDatabases`), and
/// `probe` says over what it went (`http`, `https`, `mongodb`, `mongodb+tls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The probe and transport: `http`, `https`, `mongodb`, `mongodb+tls`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub probe: String,
    /// What was sent.
    pub request: String,
    /// The facts read from the reply (status, content type, fields that decided).
    pub response: String,
}

impl Evidence {
    /// Records one request and what its answer showed.
    pub fn new(request: impl Into<String>, response: impl Into<String>) -> Self {
        Evidence {
            probe: String::new(),
            request: request.into(),
            response: response.into(),
        }
    }
}

/// One data set a service exposes: an Elasticsearch index, a MongoDB database, a Kibana
/// index pattern. Only metadata: names, counts and sizes, never contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSet {
    /// Index, database or pattern name, as the server reported it.
    pub name: String,
    /// Number of documents (rows) when the server reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents: Option<u64>,
    /// Size in bytes when the server reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Index health (`green`/`yellow`/`red`) where the service has the notion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<String>,
    /// True for system or hidden data sets (`.kibana`, `admin`, `local`, ...), which say
    /// little about user data.
    pub system: bool,
    /// Names of collections or types inside, when listed (bounded).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub collections: Vec<String>,
    /// Field (or collection) names in this data set that look like personal data.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub pii_fields: Vec<PiiHint>,
}

impl DataSet {
    /// Whether the data set holds data: documents when the server counts them (an empty
    /// index still occupies a few hundred bytes), otherwise a non-zero size.
    pub fn holds_data(&self) -> bool {
        match self.documents {
            Some(documents) => documents > 0,
            None => self.size_bytes.unwrap_or(0) > 0,
        }
    }
}

/// A field name that suggests personal data, and the category it suggests.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PiiHint {
    /// The field path (`customer.email`) or collection name that matched.
    pub field: String,
    /// The category: `email`, `phone`, `name`, `address`, `location`, `birth-date`,
    /// `credential`, `ip`, `government-id`, `financial`, or `people` for a collection
    /// named for people (`users`, `customers`).
    pub category: String,
}

/// What an open service exposes, as metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// What one item is: `index`, `database` or `index-pattern`.
    pub unit: String,
    /// The data sets, largest user data first (bounded; see `truncated`).
    pub items: Vec<DataSet>,
    /// How many items the server reported in all (may exceed `items.len()`).
    pub total_items: u64,
    /// Data sets, of all the server listed, that hold user data rather than system data.
    pub user_items: u64,
    /// Documents over every data set the server listed (kept in `items` or not), where
    /// reported; saturating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_documents: Option<u64>,
    /// Bytes over every data set the server listed (kept in `items` or not), where
    /// reported; saturating.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_size_bytes: Option<u64>,
    /// True when ajar stopped listing before the end (item or byte caps).
    pub truncated: bool,
}

impl Inventory {
    /// Whether any user (non-system) data set holds data.
    pub fn has_user_data(&self) -> bool {
        self.items
            .iter()
            .any(|item| !item.system && item.holds_data())
    }

    /// Whether a user data set that holds data has a field or collection name that looks
    /// personal (PII-looking fields in an empty index expose nobody).
    pub fn has_pii(&self) -> bool {
        self.items
            .iter()
            .any(|item| !item.system && item.holds_data() && !item.pii_fields.is_empty())
    }

    /// Adds up documents and sizes over `items` and counts user items.
    pub fn recount(&mut self) {
        let sum = |get: fn(&DataSet) -> Option<u64>| {
            self.items
                .iter()
                .filter_map(get)
                .fold(None, |acc: Option<u64>, v| {
                    Some(acc.unwrap_or(0).saturating_add(v))
                })
        };
        self.total_documents = sum(|d| d.documents);
        self.total_size_bytes = sum(|d| d.size_bytes);
        self.user_items = self.items.iter().filter(|d| !d.system).count() as u64;
        self.total_items = self.total_items.max(self.items.len() as u64);
    }
}

/// One identified service on one endpoint, with its verdict and the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `host:port`, IPv6 as `[::1]:9200`, with the host as the user typed it.
    pub endpoint: String,
    /// The address connected to, when the endpoint was given by name.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub address: Option<String>,
    /// The URL probed, for HTTP services (keeps a path prefix such as `/es/`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether the service was reached over TLS.
    pub tls: bool,
    /// Lowercase service id: `elasticsearch`, `opensearch`, `kibana`, `mongodb`, `grafana`.
    pub service: String,
    /// The stable id of the check that produced this verdict (`elasticsearch-open`,
    /// `jupyter-notebook-open`): what baselines, SARIF rules and suppressions key on.
    #[serde(default)]
    pub check: String,
    /// Product detail beyond the id (`mongos`, `Amazon OpenSearch Service`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Server version, when the service reveals it.
    pub version: Option<String>,
    /// The verdict.
    pub exposure: Exposure,
    /// How bad it is, from what is exposed.
    pub severity: Severity,
    /// One line for humans: why this verdict.
    pub summary: String,
    /// Extra identifying facts (cluster name, topology, replica set), in probe order;
    /// written as a JSON object.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        default,
        with = "details_as_map"
    )]
    pub details: Vec<(String, String)>,
    /// Every request that decided the verdict, with the facts read from its answer.
    pub evidence: Vec<Evidence>,
    /// What is exposed, for open services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Inventory>,
    /// What the operator should do about it (absent for `auth-required`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub remediation: Option<String>,
    /// Documentation on securing the product.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub references: Vec<String>,
    /// How the finding stands against the operator's records (`--baseline`, accepted
    /// findings); empty, and absent from the output, when neither is in use.
    #[serde(flatten, default)]
    pub triage: Triage,
}

impl Finding {
    /// What identifies a finding across runs: its check id and endpoint, with an HTTP base
    /// path (two products behind one proxy are two findings). Baselines, merges and SARIF
    /// fingerprints key on it; severity, version and counts may change under one key.
    pub fn key(&self) -> String {
        format!("{}\n{}", self.check, self.endpoint_with_path())
    }

    /// `host:port` and, for an HTTP product under a base path (phpMyAdmin at
    /// `/phpmyadmin/`), that path: how reports tell two products of one port apart.
    pub fn endpoint_with_path(&self) -> String {
        let path = self
            .url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| u.path().to_string())
            .filter(|p| p != "/")
            .unwrap_or_default();
        format!("{}{path}", self.endpoint)
    }

    /// An open finding of `check` at `endpoint` with nothing else filled in, for the
    /// unit tests of the code that judges and writes findings.
    #[cfg(test)]
    pub(crate) fn sample(check: &str, endpoint: &str, severity: Severity) -> Finding {
        Finding {
            endpoint: endpoint.into(),
            address: None,
            url: None,
            tls: false,
            service: check.split('-').next().unwrap_or(check).into(),
            check: check.into(),
            product: None,
            version: None,
            exposure: Exposure::Open,
            severity,
            summary: String::new(),
            details: Vec::new(),
            evidence: Vec::new(),
            inventory: None,
            remediation: None,
            references: Vec::new(),
            triage: Triage::default(),
        }
    }

    /// Whether an accepted-findings entry (unexpired) keeps this finding out of the gate.
    pub fn is_accepted(&self) -> bool {
        self.triage.accepted.as_ref().is_some_and(|a| !a.expired)
    }
}

/// A finding against the operator's records: the previous report (`--baseline`) and the
/// accepted findings. Written into the finding's JSON object as `baseline`,
/// `baseline_severity` and `accepted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Triage {
    /// Compared with the baseline, when one was given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baseline: Option<BaselineState>,
    /// The severity the baseline had, when it differs from this run's.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baseline_severity: Option<Severity>,
    /// The accepted-findings entry that matched, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub accepted: Option<Acceptance>,
}

/// Where a finding stands against the previous report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BaselineState {
    /// Not in the baseline: a new exposure.
    New,
    /// In the baseline with the same or a lower severity.
    Unchanged,
    /// In the baseline, but worse now (more data, personal data appeared): gated like a
    /// new finding.
    Escalated,
    /// In the baseline, and its endpoint was scanned this run without it.
    Resolved,
    /// In the baseline, but its endpoint could not be probed this run: neither seen nor
    /// gone. Carried into the report so the next run still knows it.
    Unverified,
}

impl BaselineState {
    /// The stable kebab-case id used in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Escalated => "escalated",
            BaselineState::Resolved => "resolved",
            BaselineState::Unverified => "unverified",
        }
    }

    /// Whether `--fail-on-new` gates a finding in this state.
    pub fn is_news(self) -> bool {
        matches!(self, BaselineState::New | BaselineState::Escalated)
    }
}

/// The accepted-findings entry that matched a finding: the operator's decision, kept with
/// the finding so the report shows why it did not fail the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    /// Why it is accepted, as the entry says.
    pub reason: String,
    /// The last day the entry holds (`YYYY-MM-DD`, UTC), if it has one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expires: Option<String>,
    /// Where the entry is: `ajar.toml:41`.
    pub source: String,
    /// True when the entry has expired: it no longer keeps the finding out of the gate.
    #[serde(default)]
    pub expired: bool,
}

/// What happened at one endpoint. A dead host is an outcome, not an error of the scan.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A known service answered; see the finding for the verdict.
    Found(Box<Finding>),
    /// The port refused the connection.
    Closed,
    /// The connection attempt got no answer before the timeout (filtered or down).
    Unreachable,
    /// The port accepted the connection but sent nothing before the timeout.
    Silent,
    /// Something answered, but not a service ajar knows; the note says what it spoke.
    Unidentified(String),
    /// The endpoint could not be probed (name resolution, TLS, a broken reply).
    Failed(String),
}

/// An [`Outcome`] for one endpoint, with the evidence behind it and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointResult {
    /// `host:port` as in [`Finding::endpoint`].
    pub endpoint: String,
    /// The address connected to, when the endpoint was given by name (`localhost:9200`
    /// was probed at `127.0.0.1:9200`).
    pub address: Option<String>,
    /// What the endpoint turned out to be.
    pub outcome: Outcome,
    /// Every exchange of every probe tried, for endpoints that are not a finding (a
    /// finding carries its own evidence): why an endpoint is unknown, silent or failed.
    pub evidence: Vec<Evidence>,
    /// Wall time spent on this endpoint.
    pub elapsed: Duration,
    /// True for a further product found on an endpoint already reported, under another
    /// base path: a result of its own, but not another endpoint scanned.
    pub extra: bool,
}

/// (De)serialises `details` as a JSON object while keeping the probe's key order.
mod details_as_map {
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(pairs.len()))?;
        for (k, v) in pairs {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Vec<(String, String)>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry()? {
                    out.push(pair);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Pairs)
    }
}
