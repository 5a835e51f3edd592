//! The probe file as written: serde structs that mirror `probes/README.md` field by field,
//! with unknown fields refused. [`compile`](super::compile) validates them into the model.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A whole probe file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub id: String,
    pub name: String,
    pub service: String,
    #[serde(default)]
    pub ports: Vec<u16>,
    pub mounts: Option<Vec<String>>,
    pub severity: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub remediation: String,
    #[serde(default)]
    pub requests: BTreeMap<String, RawRequest>,
    pub identify: RawIdentify,
    #[serde(default)]
    pub verdict: Vec<RawVerdict>,
    #[serde(default)]
    pub extract: Vec<RawExtract>,
    pub inventory: Option<RawInventory>,
    #[serde(default)]
    pub credentials: Vec<RawCredential>,
}

/// `[requests.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequest {
    pub path: String,
    pub method: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub content_type: Option<String>,
    pub max_body: Option<u64>,
    pub auth: Option<String>,
    #[serde(default)]
    pub login: bool,
    pub read_only: Option<String>,
    #[serde(default)]
    pub cookies: bool,
}

/// `[identify]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIdentify {
    pub matchers: Vec<RawMatcher>,
}

/// One matcher, an inline table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMatcher {
    pub request: Option<String>,
    pub status: Option<Vec<i64>>,
    pub header: Option<String>,
    pub words: Option<Vec<String>>,
    pub regex: Option<Vec<String>>,
    pub json: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub equals: Option<toml::Value>,
    pub condition: Option<String>,
    pub case_insensitive: Option<bool>,
    pub negative: Option<bool>,
    pub all: Option<Vec<RawMatcher>>,
    pub any: Option<Vec<RawMatcher>>,
}

/// `[[verdict]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVerdict {
    pub exposure: String,
    pub check: Option<String>,
    pub summary: String,
    pub condition: Option<String>,
    pub matchers: Vec<RawMatcher>,
    #[serde(default)]
    pub credentials: bool,
}

/// `[[extract]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExtract {
    pub name: String,
    pub request: Option<String>,
    pub json: Option<String>,
    #[serde(default)]
    pub count: bool,
    pub regex: Option<String>,
    pub group: Option<usize>,
    pub header: Option<String>,
}

/// `[inventory]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInventory {
    pub request: Option<String>,
    pub unit: String,
    pub items: Option<String>,
    pub regex: Option<String>,
    pub name: Option<String>,
    pub documents: Option<String>,
    pub size: Option<String>,
    #[serde(default)]
    pub system: Vec<String>,
}

/// `[[credentials]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCredential {
    pub user: String,
    pub password: String,
}
