//! Compiles `[[extract]]`, `[inventory]` and `[[credentials]]`.

use super::Cx;
use crate::rules::error::Field;
use crate::rules::model::{
    Credential, Extraction, Extractor, InventorySpec, Items, Target, Verdict,
};
use crate::rules::raw::{RawExtract, RawInventory, RawRule};
use crate::rules::template::is_identifier;

impl Cx<'_> {
    pub(super) fn extractors(&mut self, raws: &[RawExtract]) -> Vec<Extractor> {
        let mut out: Vec<Extractor> = Vec::new();
        for (i, raw) in raws.iter().enumerate() {
            let field = Field::top("extract").idx(i);
            if !is_identifier(&raw.name) || raw.name == "user" || raw.name == "password" {
                self.err(
                    &field.key("name"),
                    "a name is letters, digits, '_' and '-' (not user or password)",
                );
            } else if out.iter().any(|e| e.name == raw.name) {
                self.err(
                    &field.key("name"),
                    format!("another extractor is named {:?}", raw.name),
                );
            }
            let Some(target) = self.target(raw.request.as_deref(), None, &field) else {
                continue;
            };
            if target == Target::Decoy {
                self.err(
                    &field.key("request"),
                    "an extractor reads a request of the file, not the decoy",
                );
            }
            if raw.count && raw.json.is_none() && raw.regex.is_none() {
                self.err(&field.key("count"), "`count` goes with `json` or `regex`");
            }
            if raw.group.is_some() && raw.regex.is_none() {
                self.err(&field.key("group"), "`group` goes with `regex`");
            }
            let how = match (&raw.json, &raw.regex, &raw.header) {
                (Some(pointer), None, None) => {
                    if self.pointer(pointer, &field.key("json")).is_none() {
                        continue;
                    }
                    Extraction::Json {
                        pointer: pointer.clone(),
                        count: raw.count,
                    }
                }
                (None, Some(pattern), header) => {
                    let Some(regex) = self.regex(pattern, false, &field.key("regex")) else {
                        continue;
                    };
                    let group = raw.group.unwrap_or(1);
                    if group >= regex.captures_len() {
                        self.err(
                            &field.key("group"),
                            format!(
                                "the regex has {} groups",
                                regex.captures_len().saturating_sub(1)
                            ),
                        );
                        continue;
                    }
                    Extraction::Regex {
                        regex,
                        group,
                        header: header.as_ref().map(|h| h.to_ascii_lowercase()),
                        count: raw.count,
                    }
                }
                (None, None, Some(header)) => Extraction::Header(header.to_ascii_lowercase()),
                _ => {
                    self.err(&field, "an extractor takes one of `json`, `regex` (over the body or a `header`) or `header`");
                    continue;
                }
            };
            out.push(Extractor {
                name: raw.name.clone(),
                target,
                how,
            });
        }
        out
    }

    pub(super) fn inventory(&mut self, raw: &RawInventory) -> Option<InventorySpec> {
        let field = Field::top("inventory");
        let target = self.target(raw.request.as_deref(), None, &field)?;
        if target == Target::Decoy {
            self.err(
                &field.key("request"),
                "the inventory reads a request of the file, not the decoy",
            );
        }
        if raw.unit.trim().is_empty() {
            self.err(&field.key("unit"), "must not be empty");
        }
        let items = match (&raw.items, &raw.regex) {
            (Some(items), None) => {
                self.pointer(items, &field.key("items"))?;
                let name = raw.name.clone().unwrap_or_default();
                self.pointer(&name, &field.key("name"))?;
                Items::Json {
                    items: items.clone(),
                    name,
                }
            }
            (None, Some(pattern)) => {
                let regex = self.regex(pattern, false, &field.key("regex"))?;
                if regex.captures_len() < 2 {
                    self.err(&field.key("regex"), "the regex needs a group: (the name)");
                    return None;
                }
                for (key, present) in [
                    ("name", raw.name.is_some()),
                    ("documents", raw.documents.is_some()),
                    ("size", raw.size.is_some()),
                ] {
                    if present {
                        self.err(
                            &field.key(key),
                            format!("`{key}` goes with `items` (a JSON listing)"),
                        );
                    }
                }
                Items::Regex(regex)
            }
            _ => {
                self.err(&field, "an inventory takes `items` (a JSON pointer) or `regex` (names in the body), one of them");
                return None;
            }
        };
        for (key, pointer) in [("documents", &raw.documents), ("size", &raw.size)] {
            if let Some(pointer) = pointer {
                self.pointer(pointer, &field.key(key))?;
            }
        }
        Some(InventorySpec {
            target,
            unit: raw.unit.clone(),
            items,
            documents: raw.documents.clone(),
            size: raw.size.clone(),
            system: raw.system.clone(),
        })
    }

    pub(super) fn credentials(&mut self, raw: &RawRule, verdicts: &[Verdict]) -> Vec<Credential> {
        let field = Field::top("credentials");
        let mut out = Vec::new();
        for (i, pair) in raw.credentials.iter().enumerate() {
            if pair.user.is_empty() || pair.user.chars().any(|c| c.is_control()) {
                self.err(
                    &field.idx(i).key("user"),
                    "a user name is not empty and has no control characters",
                );
            }
            if pair.password.chars().any(|c| c.is_control()) {
                self.err(
                    &field.idx(i).key("password"),
                    "a password has no control characters",
                );
            }
            out.push(Credential {
                user: pair.user.clone(),
                password: pair.password.clone(),
            });
        }
        let verdict = verdicts.iter().any(|v| v.credentials);
        if !out.is_empty() && !verdict {
            self.err(&field, "no `credentials = true` verdict uses these pairs");
        }
        if out.is_empty() && verdict {
            self.err(
                &Field::top("verdict"),
                "a credentials verdict needs [[credentials]] pairs",
            );
        }
        out
    }
}
