//! Extractors and inventories: the names, counts and versions a probe keeps from a reply.
//! Every value is clipped to [`MAX_VALUE_CHARS`] characters with control characters
//! dropped; numbers from servers are read as `u64` or not at all, and sums saturate.

use std::collections::HashSet;

use regex::Regex;
use serde_json::Value;

use super::matcher::Got;
use super::model::{Extraction, InventorySpec, Items};
use crate::finding::{DataSet, Inventory};

/// The longest value an extractor or an inventory name keeps, in characters.
pub(super) const MAX_VALUE_CHARS: usize = 200;

/// A server string made safe to keep: control characters dropped, at most 200 characters.
pub(super) fn clip(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(MAX_VALUE_CHARS)
        .collect()
}

/// Runs one extractor on its reply; None when the value is absent (or empty), or the
/// reply is no success (an error page's fields are not the product's values).
pub(super) fn extract(how: &Extraction, got: &Got) -> Option<String> {
    let reply = got.reply().filter(|r| (200..300).contains(&r.status))?;
    let value = match how {
        Extraction::Json { pointer, count } => {
            let value = got.json()?.pointer(pointer)?;
            if *count {
                match value {
                    Value::Array(a) => a.len().to_string(),
                    Value::Object(o) => o.len().to_string(),
                    _ => return None,
                }
            } else {
                scalar(value)?
            }
        }
        Extraction::Regex {
            regex,
            group,
            header,
            count,
        } => {
            let hay = match header {
                Some(name) => header_value(&reply.headers, name)?,
                None => got.text(),
            };
            if *count {
                distinct(regex, *group, hay).len().to_string()
            } else {
                regex.captures(hay)?.get(*group)?.as_str().to_string()
            }
        }
        Extraction::Header(name) => header_value(&reply.headers, name)?.to_string(),
    };
    let value = clip(value.trim());
    (!value.is_empty()).then_some(value)
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A string, number or bool as text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A count or size: a non-negative integer that fits u64 (also as a decimal string, as
/// some APIs send counts); anything else is unknown.
fn count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s)
            if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

/// The distinct non-empty values of a group over every match, in order of appearance.
fn distinct<'a>(regex: &Regex, group: usize, hay: &'a str) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    regex
        .captures_iter(hay)
        .filter_map(|c| c.get(group).map(|m| m.as_str()))
        .filter(|v| !v.is_empty() && seen.insert(*v))
        .collect()
}

/// Builds the inventory from a successful reply; None when the items pointer holds no list.
pub(super) fn inventory(spec: &InventorySpec, got: &Got, max_items: usize) -> Option<Inventory> {
    got.reply().filter(|r| (200..300).contains(&r.status))?;
    let names: Vec<Value>;
    let entries: Box<dyn Iterator<Item = (Option<&String>, &Value)>> = match &spec.items {
        Items::Regex(regex) => {
            names = distinct(regex, 1, got.text())
                .into_iter()
                .map(|n| Value::String(n.to_string()))
                .collect();
            Box::new(names.iter().map(|v| (None, v)))
        }
        Items::Json { items, .. } => match got.json()?.pointer(items)? {
            Value::Array(items) => Box::new(items.iter().map(|v| (None, v))),
            Value::Object(map) => Box::new(map.iter().map(|(k, v)| (Some(k), v))),
            _ => return None,
        },
    };
    let name_pointer = match &spec.items {
        Items::Json { name, .. } => name.as_str(),
        Items::Regex(_) => "",
    };
    let mut inv = Inventory {
        unit: spec.unit.clone(),
        ..Inventory::default()
    };
    let (mut documents, mut size): (Option<u64>, Option<u64>) = (None, None);
    for (key, item) in entries {
        inv.total_items = inv.total_items.saturating_add(1);
        let name = match key {
            Some(key) => Some(key.clone()),
            None => item.pointer(name_pointer).and_then(scalar),
        };
        let Some(name) = name.map(|n| clip(&n)).filter(|n| !n.is_empty()) else {
            continue;
        };
        let read = |p: &Option<String>| p.as_ref().and_then(|p| item.pointer(p)).and_then(count);
        let set = DataSet {
            documents: read(&spec.documents),
            size_bytes: read(&spec.size),
            system: is_system(&spec.system, &name),
            name,
            ..DataSet::default()
        };
        if let Some(d) = set.documents {
            documents = Some(documents.unwrap_or(0).saturating_add(d));
        }
        if let Some(s) = set.size_bytes {
            size = Some(size.unwrap_or(0).saturating_add(s));
        }
        if !set.system {
            inv.user_items = inv.user_items.saturating_add(1);
        }
        if inv.items.len() < max_items {
            inv.items.push(set);
        } else {
            inv.truncated = true;
        }
    }
    inv.total_documents = documents;
    inv.total_size_bytes = size;
    Some(inv)
}

/// Whether a name is one of `system` (a trailing `*` matches a prefix).
fn is_system(system: &[String], name: &str) -> bool {
    system.iter().any(|s| match s.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => s == name,
    })
}
