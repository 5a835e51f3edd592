//! Runs matchers on replies: [`Got`] is one reply with its JSON and text parsed at most
//! once, [`test`] gives a three-valued answer (a failed request or a truncated body for a
//! JSON test is `Unknown`, which no matcher turns into a match, negated or not), and
//! [`describe`] writes what a matcher checks for evidence and notes.

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::model::{JsonCheck, Matcher, Target, Test, Text};
use super::{Fetched, Reply};

/// One fetched (or failed) request as matchers see it.
#[derive(Debug)]
pub(super) struct Got {
    pub fetched: Fetched,
    /// The request as evidence shows it.
    pub shown: String,
    json: OnceLock<Option<Value>>,
    text: OnceLock<String>,
}

impl Got {
    pub(super) fn new(fetched: Fetched, shown: String) -> Arc<Got> {
        Arc::new(Got {
            fetched,
            shown,
            json: OnceLock::new(),
            text: OnceLock::new(),
        })
    }

    pub(super) fn reply(&self) -> Option<&Reply> {
        match &self.fetched {
            Fetched::Reply(reply) => Some(reply),
            Fetched::Failed(_) => None,
        }
    }

    /// The body as JSON: None when the request failed, the body was cut, or it is no JSON.
    pub(super) fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| {
                let reply = self.reply()?;
                if reply.truncated {
                    return None;
                }
                serde_json::from_slice(&reply.body).ok()
            })
            .as_ref()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub(super) fn text(&self) -> &str {
        self.text.get_or_init(|| match self.reply() {
            Some(reply) => String::from_utf8_lossy(&reply.body).into_owned(),
            None => String::new(),
        })
    }
}

/// A matcher's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tri {
    True,
    False,
    /// The reply needed is missing (failed request) or cut short for a JSON test.
    Unknown,
}

impl Tri {
    fn from(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }
}

/// Every request a matcher reads, nested groups included, in order.
pub(super) fn targets(m: &Matcher, out: &mut Vec<Target>) {
    if !out.contains(&m.target) {
        out.push(m.target);
    }
    if let Test::All(nested) | Test::Any(nested) = &m.test {
        for n in nested {
            targets(n, out);
        }
    }
}

/// Runs one matcher; `get` gives the reply of a target (None: not fetched).
pub(super) fn test(m: &Matcher, get: &dyn Fn(Target) -> Option<Arc<Got>>) -> Tri {
    let raw = match &m.test {
        Test::All(nested) => {
            let results: Vec<Tri> = nested.iter().map(|n| test(n, get)).collect();
            if results.contains(&Tri::False) {
                Tri::False
            } else if results.contains(&Tri::Unknown) {
                Tri::Unknown
            } else {
                Tri::True
            }
        }
        Test::Any(nested) => {
            let results: Vec<Tri> = nested.iter().map(|n| test(n, get)).collect();
            if results.contains(&Tri::True) {
                Tri::True
            } else if results.contains(&Tri::Unknown) {
                Tri::Unknown
            } else {
                Tri::False
            }
        }
        leaf => match get(m.target) {
            Some(got) => leaf_test(leaf, &got),
            None => Tri::Unknown,
        },
    };
    match (raw, m.negative) {
        (Tri::True, true) => Tri::False,
        (Tri::False, true) => Tri::True,
        (other, _) => other,
    }
}

fn leaf_test(t: &Test, got: &Got) -> Tri {
    let Some(reply) = got.reply() else {
        return Tri::Unknown;
    };
    match t {
        Test::Status(codes) => Tri::from(codes.contains(&reply.status)),
        Test::Header { name, text } => {
            let mut values = reply
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v);
            Tri::from(match text {
                None => values.next().is_some(),
                Some(text) => values.any(|v| text_holds(text, v)),
            })
        }
        Test::Body(text) => Tri::from(text_holds(text, got.text())),
        Test::Json { pointer, check } => {
            if reply.truncated {
                return Tri::Unknown;
            }
            let Some(value) = got.json().and_then(|j| j.pointer(pointer)) else {
                return Tri::False;
            };
            Tri::from(match check {
                JsonCheck::Exists => true,
                JsonCheck::Type(kind) => kind.holds(value),
                JsonCheck::Equals(wanted) => json_equal(value, wanted),
                JsonCheck::Text(text) => value.as_str().is_some_and(|s| text_holds(text, s)),
            })
        }
        Test::All(_) | Test::Any(_) => Tri::Unknown,
    }
}

/// Whether a text test holds on `s`.
pub(super) fn text_holds(text: &Text, s: &str) -> bool {
    match text {
        Text::Words {
            words,
            any,
            case_insensitive,
        } => {
            let lowered;
            let hay = if *case_insensitive {
                lowered = s.to_lowercase();
                lowered.as_str()
            } else {
                s
            };
            if *any {
                words.iter().any(|w| hay.contains(w.as_str()))
            } else {
                words.iter().all(|w| hay.contains(w.as_str()))
            }
        }
        Text::Regex(regexes) => regexes.iter().any(|r| r.is_match(s)),
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64().zip(y.as_f64()).is_some_and(|(x, y)| x == y),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// What a matcher checks, for evidence (`json /ApiVersion is a string`).
pub(super) fn describe(m: &Matcher) -> String {
    let what = match &m.test {
        Test::Status(codes) => match codes.as_slice() {
            [one] => format!("status is {one}"),
            many => format!(
                "status is one of {}",
                many.iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Test::Header { name, text: None } => format!("header {name} is present"),
        Test::Header {
            name,
            text: Some(t),
        } => format!("header {name} {}", describe_text(t)),
        Test::Body(t) => format!("body {}", describe_text(t)),
        Test::Json { pointer, check } => {
            let at = if pointer.is_empty() {
                "document".to_string()
            } else {
                pointer.clone()
            };
            match check {
                JsonCheck::Exists => format!("json {at} exists"),
                JsonCheck::Type(kind) => format!("json {at} is {}", kind.article()),
                JsonCheck::Equals(v) => format!("json {at} equals {v}"),
                JsonCheck::Text(t) => format!("json {at} {}", describe_text(t)),
            }
        }
        Test::All(nested) => format!(
            "all of ({})",
            nested.iter().map(describe).collect::<Vec<_>>().join("; ")
        ),
        Test::Any(nested) => format!(
            "any of ({})",
            nested.iter().map(describe).collect::<Vec<_>>().join("; ")
        ),
    };
    if m.negative {
        format!("not: {what}")
    } else {
        what
    }
}

fn describe_text(t: &Text) -> String {
    match t {
        Text::Words { words, any, .. } => {
            let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
            format!(
                "contains {}",
                quoted.join(if *any { " or " } else { " and " })
            )
        }
        Text::Regex(regexes) => {
            let shown: Vec<String> = regexes
                .iter()
                .map(|r| format!("/{}/", r.as_str()))
                .collect();
            format!("matches {}", shown.join(" or "))
        }
    }
}
