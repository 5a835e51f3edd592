//! Compiles matchers: one test per inline table, size-limited regexes, valid JSON pointers
//! and status codes, and the rules on which modifiers go with which test.

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::Cx;
use crate::rules::error::Field;
use crate::rules::model::{JsonCheck, JsonType, Matcher, Target, Test, Text};
use crate::rules::raw::RawMatcher;

/// The most memory one compiled regex may take.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

impl Cx<'_> {
    /// Compiles one matcher; `inherited` is the enclosing group's request.
    pub(super) fn matcher(
        &mut self,
        raw: &RawMatcher,
        field: &Field,
        inherited: Option<Target>,
    ) -> Option<Matcher> {
        let target = self.target(raw.request.as_deref(), inherited, field)?;
        let body_text = (raw.words.is_some() || raw.regex.is_some())
            && raw.header.is_none()
            && raw.json.is_none();
        let kinds = [
            ("status", raw.status.is_some()),
            ("header", raw.header.is_some()),
            ("json", raw.json.is_some()),
            ("all", raw.all.is_some()),
            ("any", raw.any.is_some()),
            ("words/regex", body_text),
        ];
        let found: Vec<&str> = kinds.iter().filter(|k| k.1).map(|k| k.0).collect();
        if found.len() != 1 {
            let what = if found.is_empty() {
                "none".to_string()
            } else {
                found.join(", ")
            };
            self.err(
                field,
                format!(
                    "a matcher needs exactly one test of status, header, words, regex, json, \
                     all or any (found: {what})"
                ),
            );
            return None;
        }
        self.modifiers(raw, field)?;
        let test = if let Some(codes) = &raw.status {
            Test::Status(self.status(codes, &field.key("status"))?)
        } else if let Some(name) = &raw.header {
            if name.trim().is_empty() {
                self.err(&field.key("header"), "the header name is empty");
                return None;
            }
            let text = match raw.words.is_some() || raw.regex.is_some() {
                true => Some(self.text(raw, field)?),
                false => None,
            };
            Test::Header {
                name: name.to_ascii_lowercase(),
                text,
            }
        } else if let Some(pointer) = &raw.json {
            self.pointer(pointer, &field.key("json"))?;
            Test::Json {
                pointer: pointer.clone(),
                check: self.json_check(raw, field)?,
            }
        } else if let Some(all) = &raw.all {
            Test::All(self.group(all, &field.key("all"), target)?)
        } else if let Some(any) = &raw.any {
            Test::Any(self.group(any, &field.key("any"), target)?)
        } else {
            Test::Body(self.text(raw, field)?)
        };
        Some(Matcher {
            target,
            negative: raw.negative.unwrap_or(false),
            test,
        })
    }

    /// Refuses modifiers that do not go with the matcher's test.
    fn modifiers(&mut self, raw: &RawMatcher, field: &Field) -> Option<()> {
        let mut ok = true;
        if raw.words.is_some() && raw.regex.is_some() {
            self.err(&field.key("regex"), "use words or regex, not both");
            ok = false;
        }
        if raw.condition.is_some() && raw.words.is_none() {
            self.err(&field.key("condition"), "`condition` goes with `words`");
            ok = false;
        }
        if let Some(condition) = &raw.condition
            && condition != "and"
            && condition != "or"
        {
            self.err(&field.key("condition"), "use \"and\" or \"or\"");
            ok = false;
        }
        if raw.case_insensitive.is_some() && raw.words.is_none() && raw.regex.is_none() {
            self.err(
                &field.key("case_insensitive"),
                "`case_insensitive` goes with `words` or `regex`",
            );
            ok = false;
        }
        for (name, present) in [
            ("type", raw.kind.is_some()),
            ("equals", raw.equals.is_some()),
        ] {
            if present && raw.json.is_none() {
                self.err(&field.key(name), format!("`{name}` goes with `json`"));
                ok = false;
            }
        }
        if raw.json.is_some() {
            let checks = [
                raw.kind.is_some(),
                raw.equals.is_some(),
                raw.words.is_some() || raw.regex.is_some(),
            ];
            if checks.iter().filter(|c| **c).count() > 1 {
                self.err(
                    field,
                    "a json matcher takes at most one of `type`, `equals`, `words`/`regex`",
                );
                ok = false;
            }
        }
        ok.then_some(())
    }

    fn status(&mut self, codes: &[i64], field: &Field) -> Option<Vec<u16>> {
        if codes.is_empty() {
            self.err(field, "list at least one status code");
            return None;
        }
        let mut out = Vec::new();
        for (i, code) in codes.iter().enumerate() {
            match u16::try_from(*code) {
                Ok(code) if (100..=599).contains(&code) => out.push(code),
                _ => self.err(
                    &field.idx(i),
                    format!("{code} is not an HTTP status code (100 to 599)"),
                ),
            }
        }
        (out.len() == codes.len()).then_some(out)
    }

    /// The words or regex test of a matcher (on the body, a header or a JSON string).
    fn text(&mut self, raw: &RawMatcher, field: &Field) -> Option<Text> {
        let case_insensitive = raw.case_insensitive.unwrap_or(false);
        if let Some(words) = &raw.words {
            if words.is_empty() {
                self.err(&field.key("words"), "list at least one word");
                return None;
            }
            if let Some(i) = words.iter().position(|w| w.is_empty()) {
                self.err(&field.key("words").idx(i), "an empty word matches anything");
                return None;
            }
            return Some(Text::Words {
                words: match case_insensitive {
                    true => words.iter().map(|w| w.to_lowercase()).collect(),
                    false => words.clone(),
                },
                any: raw.condition.as_deref() == Some("or"),
                case_insensitive,
            });
        }
        let patterns = raw.regex.as_deref().unwrap_or_default();
        if patterns.is_empty() {
            self.err(&field.key("regex"), "list at least one regex");
            return None;
        }
        let mut regexes = Vec::new();
        for (i, pattern) in patterns.iter().enumerate() {
            regexes.push(self.regex(pattern, case_insensitive, &field.key("regex").idx(i))?);
        }
        Some(Text::Regex(regexes))
    }

    /// Builds a size-limited regex, or records why it does not compile.
    pub(super) fn regex(
        &mut self,
        pattern: &str,
        case_insensitive: bool,
        field: &Field,
    ) -> Option<Regex> {
        match RegexBuilder::new(pattern)
            .case_insensitive(case_insensitive)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(regex) => Some(regex),
            Err(e) => {
                let why = e.to_string().replace('\n', " ");
                self.err(field, format!("the regex does not compile: {why}"));
                None
            }
        }
    }

    fn json_check(&mut self, raw: &RawMatcher, field: &Field) -> Option<JsonCheck> {
        if let Some(kind) = &raw.kind {
            return match JsonType::parse(kind) {
                Some(kind) => Some(JsonCheck::Type(kind)),
                None => {
                    self.err(
                        &field.key("type"),
                        "use string, number, bool, array, object or null",
                    );
                    None
                }
            };
        }
        if let Some(value) = &raw.equals {
            return match toml_to_json(value) {
                Some(value) => Some(JsonCheck::Equals(value)),
                None => {
                    self.err(&field.key("equals"), "a date or a NaN never equals JSON");
                    None
                }
            };
        }
        if raw.words.is_some() || raw.regex.is_some() {
            return Some(JsonCheck::Text(self.text(raw, field)?));
        }
        Some(JsonCheck::Exists)
    }

    fn group(
        &mut self,
        raws: &[RawMatcher],
        field: &Field,
        target: Target,
    ) -> Option<Vec<Matcher>> {
        if raws.is_empty() {
            self.err(field, "list at least one matcher");
            return None;
        }
        let mut out = Vec::new();
        for (i, raw) in raws.iter().enumerate() {
            if let Some(m) = self.matcher(raw, &field.idx(i), Some(target)) {
                out.push(m);
            }
        }
        (out.len() == raws.len()).then_some(out)
    }

    /// Checks an RFC 6901 pointer: "" or "/..." with `~` only as `~0` or `~1`.
    pub(super) fn pointer(&mut self, pointer: &str, field: &Field) -> Option<()> {
        if !pointer.is_empty() && !pointer.starts_with('/') {
            self.err(
                field,
                format!("a JSON pointer is \"\" or starts with '/', not {pointer:?}"),
            );
            return None;
        }
        let mut chars = pointer.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                self.err(field, "in a JSON pointer '~' is written ~0 and '/' ~1");
                return None;
            }
        }
        Some(())
    }
}

/// A TOML value as JSON, for `equals`; None for dates and NaN.
fn toml_to_json(value: &toml::Value) -> Option<Value> {
    Some(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::Number(serde_json::Number::from_f64(*f)?),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(_) => return None,
        toml::Value::Array(items) => {
            Value::Array(items.iter().map(toml_to_json).collect::<Option<Vec<_>>>()?)
        }
        toml::Value::Table(table) => Value::Object(
            table
                .iter()
                .map(|(k, v)| Some((k.clone(), toml_to_json(v)?)))
                .collect::<Option<serde_json::Map<_, _>>>()?,
        ),
    })
}
