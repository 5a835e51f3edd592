//! The compiled probe: requests with their templates and prerequisites, matchers with
//! built regexes, verdicts, extractors and the inventory spec. Only
//! [`compile`](super::compile) builds these, so evaluation can trust them.

use std::fmt;

use regex::Regex;
use serde_json::Value;

use super::template::Template;
use crate::finding::Exposure;

/// Which reply a matcher or extractor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Target {
    /// The built-in `decoy` request.
    Decoy,
    /// A request of the file, by index in file order.
    Named(usize),
}

/// How a request carries credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Creds {
    None,
    Basic,
    Login,
}

/// One `[requests.NAME]`.
#[derive(Debug, Clone)]
pub(super) struct ReqSpec {
    pub name: String,
    pub method: String,
    pub path: Template,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
    pub content_type: Option<String>,
    pub max_body: usize,
    pub creds: Creds,
    pub cookies: bool,
    /// Requests whose extractors this one's templates use, transitively, in fetch order.
    pub deps: Vec<usize>,
}

/// One matcher: a test on one request's reply, maybe inverted.
#[derive(Debug, Clone)]
pub(super) struct Matcher {
    pub target: Target,
    pub negative: bool,
    pub test: Test,
}

/// What a matcher tests.
#[derive(Debug, Clone)]
pub(super) enum Test {
    Status(Vec<u16>),
    Header { name: String, text: Option<Text> },
    Body(Text),
    Json { pointer: String, check: JsonCheck },
    All(Vec<Matcher>),
    Any(Vec<Matcher>),
}

/// A test on text: words (all or any, maybe case-insensitive) or regexes (any).
#[derive(Debug, Clone)]
pub(super) enum Text {
    Words {
        words: Vec<String>,
        any: bool,
        case_insensitive: bool,
    },
    Regex(Vec<Regex>),
}

/// What a JSON matcher checks at its pointer.
#[derive(Debug, Clone)]
pub(super) enum JsonCheck {
    Exists,
    Type(JsonType),
    Equals(Value),
    Text(Text),
}

/// The JSON types `type` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum JsonType {
    String,
    Number,
    Bool,
    Array,
    Object,
    Null,
}

impl JsonType {
    pub(super) fn parse(s: &str) -> Option<JsonType> {
        Some(match s {
            "string" => JsonType::String,
            "number" => JsonType::Number,
            "bool" => JsonType::Bool,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            "null" => JsonType::Null,
            _ => return None,
        })
    }

    pub(super) fn holds(self, value: &Value) -> bool {
        match self {
            JsonType::String => value.is_string(),
            JsonType::Number => value.is_number(),
            JsonType::Bool => value.is_boolean(),
            JsonType::Array => value.is_array(),
            JsonType::Object => value.is_object(),
            JsonType::Null => value.is_null(),
        }
    }

    pub(super) fn article(self) -> &'static str {
        match self {
            JsonType::String => "a string",
            JsonType::Number => "a number",
            JsonType::Bool => "a bool",
            JsonType::Array => "an array",
            JsonType::Object => "an object",
            JsonType::Null => "null",
        }
    }
}

/// One `[[verdict]]`.
#[derive(Debug, Clone)]
pub(super) struct Verdict {
    pub exposure: Exposure,
    pub check: String,
    pub summary: Template,
    pub any: bool,
    pub matchers: Vec<Matcher>,
    pub credentials: bool,
}

/// One `[[extract]]`.
#[derive(Debug, Clone)]
pub(super) struct Extractor {
    pub name: String,
    pub target: Target,
    pub how: Extraction,
}

/// How an extractor reads its reply.
#[derive(Debug, Clone)]
pub(super) enum Extraction {
    Json {
        pointer: String,
        count: bool,
    },
    Regex {
        regex: Regex,
        group: usize,
        header: Option<String>,
        /// The number of distinct values the group takes over every match.
        count: bool,
    },
    Header(String),
}

/// Where an inventory finds its items.
#[derive(Debug, Clone)]
pub(super) enum Items {
    /// A JSON array or object, and the pointer to the name inside one item.
    Json { items: String, name: String },
    /// Every distinct value of group 1 over the body (names in an HTML page).
    Regex(Regex),
}

/// `[inventory]`.
#[derive(Debug, Clone)]
pub(super) struct InventorySpec {
    pub target: Target,
    pub unit: String,
    pub items: Items,
    pub documents: Option<String>,
    pub size: Option<String>,
    pub system: Vec<String>,
}

/// One `[[credentials]]` pair; Debug leaves the password out.
#[derive(Clone)]
pub(super) struct Credential {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}
