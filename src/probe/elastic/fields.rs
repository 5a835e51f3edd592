//! The bounded visitor over a `_mapping` answer: it descends only into the requested
//! indices, at most [`MAX_DEPTH`] levels of `properties` and [`MAX_FIELDS`] fields in all,
//! classifies each leaf path as it goes (one path buffer, no list of fields), and skips
//! everything else with [`IgnoredAny`]: no `serde_json::Value`, whatever the server sends.
//! Typeless (7.x+) and typed (1.x-6.x) mappings are both read.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::json::{Cell, KeyOf, Lenient, Name, ObjectOnly, Status};
use crate::finding::PiiHint;
use crate::probe::pii;
use crate::sanitize::clip;

/// Deepest `properties` nesting read; deeper objects are skipped.
pub(super) const MAX_DEPTH: usize = 20;
/// Most fields read over one answer; the rest are skipped.
pub(super) const MAX_FIELDS: usize = 20_000;
/// Most personal-data hints kept per index.
const MAX_HINTS: usize = 50;
/// Most mapping type names kept per index.
const MAX_TYPES: usize = 100;
/// Longest field path followed, in bytes; a real mapping never comes near it.
const MAX_PATH: usize = 1024;

/// What a mapping answer holds, per requested index (same order as the names).
#[derive(Debug, Default)]
pub(super) struct Answer {
    /// Facts per requested name.
    pub indices: Vec<IndexFacts>,
    /// A top-level numeric `status`, as error bodies carry.
    pub status: Option<u64>,
    /// Top-level `tagline` or `cluster_name` strings: the banner, not a mapping.
    pub banner: bool,
    /// A top-level `error` key.
    pub error: bool,
    /// The body was cut at the read cap.
    pub cut: bool,
}

impl Answer {
    /// How many requested indices the answer names.
    pub fn named(&self) -> usize {
        self.indices.iter().filter(|i| i.seen).count()
    }
}

/// What the answer says about one requested index.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct IndexFacts {
    /// The answer has a key with this index's name.
    pub seen: bool,
    /// Field paths that look like personal data, sorted by path.
    pub hints: Vec<PiiHint>,
    /// Mapping type names (1.x-6.x), `_doc` and `_default_` left out.
    pub types: Vec<String>,
}

/// Reads a 2xx mapping body; `Err` says what it is when it is no JSON object.
pub(super) fn read(body: &[u8], cut: bool, names: &[String]) -> Result<Answer, String> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err("an empty body".into()),
        Some(b'{') => {}
        Some(b'[') => return Err("a JSON array".into()),
        Some(_) => return Err("something that is not JSON".into()),
    }
    let mut walk = Walk {
        names,
        path: String::new(),
        fields: 0,
        answer: Answer {
            indices: vec![IndexFacts::default(); names.len()],
            ..Answer::default()
        },
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let result = de
        .deserialize_map(Top { walk: &mut walk })
        .and_then(|()| de.end());
    match result {
        Ok(()) => {}
        Err(e) if e.is_eof() && cut => walk.answer.cut = true,
        Err(e) => return Err(format!("malformed JSON ({})", clip(&e.to_string(), 100))),
    }
    for facts in &mut walk.answer.indices {
        facts.hints.sort();
    }
    Ok(walk.answer)
}

/// The state of one walk over the answer.
struct Walk<'n> {
    names: &'n [String],
    /// The path of the field being read (`customer.address`).
    path: String,
    /// Fields read so far, against [`MAX_FIELDS`].
    fields: usize,
    answer: Answer,
}

impl Walk<'_> {
    /// A leaf field of index `i` at the current path.
    fn leaf(&mut self, i: usize) {
        let facts = &mut self.answer.indices[i];
        if facts.hints.len() >= MAX_HINTS {
            return;
        }
        if let Some(category) = pii::classify_field(&self.path) {
            let field = clip(&self.path, 255);
            if !facts.hints.iter().any(|h| h.field == field) {
                facts.hints.push(PiiHint {
                    field,
                    category: category.to_string(),
                });
            }
        }
    }
}

/// The top-level object: requested index names, and the keys that give a decoy away.
struct Top<'w, 'n> {
    walk: &'w mut Walk<'n>,
}

enum TopKey {
    Index(usize),
    Status,
    Banner,
    Error,
    Other,
}

struct TopKeySeed<'n>(&'n [String]);

impl<'de> DeserializeSeed<'de> for TopKeySeed<'_> {
    type Value = TopKey;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<TopKey, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for TopKeySeed<'_> {
    type Value = TopKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an index name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<TopKey, E> {
        if let Some(i) = self.0.iter().position(|n| n == key) {
            return Ok(TopKey::Index(i));
        }
        Ok(match key {
            "status" => TopKey::Status,
            "tagline" | "cluster_name" => TopKey::Banner,
            "error" => TopKey::Error,
            _ => TopKey::Other,
        })
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let walk = self.walk;
        while let Some(key) = map.next_key_seed(TopKeySeed(walk.names))? {
            match key {
                TopKey::Index(i) => {
                    walk.answer.indices[i].seen = true;
                    map.next_value_seed(Lenient(IndexBody {
                        walk: &mut *walk,
                        i,
                    }))?;
                }
                TopKey::Status => walk.answer.status = map.next_value::<Status>()?.0,
                TopKey::Banner => {
                    if let Cell::Text(_) = map.next_value::<Cell<'de>>()? {
                        walk.answer.banner = true;
                    }
                }
                TopKey::Error => {
                    walk.answer.error = true;
                    map.next_value::<IgnoredAny>()?;
                }
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// `{"mappings": ...}` of one requested index (other keys, such as 1.x `settings`, skipped).
struct IndexBody<'w, 'n> {
    walk: &'w mut Walk<'n>,
    i: usize,
}

impl<'de> ObjectOnly<'de> for IndexBody<'_, '_> {
    type Out = ();

    fn object<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeyOf(&["mappings"]))? {
            if key == Some(0) {
                let (walk, i) = (&mut *self.walk, self.i);
                map.next_value_seed(Lenient(Mappings { walk, i }))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// One index's `mappings`: `properties` (typeless) or one object per mapping type.
struct Mappings<'w, 'n> {
    walk: &'w mut Walk<'n>,
    i: usize,
}

/// Typeless mapping parameters that sit next to `properties` and are no type.
const MAPPING_PARAMS: &[&str] = &[
    "dynamic",
    "dynamic_templates",
    "date_detection",
    "numeric_detection",
    "dynamic_date_formats",
    "runtime",
    "enabled",
    "subobjects",
];

impl<'de> ObjectOnly<'de> for Mappings<'_, '_> {
    type Out = ();

    fn object<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (walk, i) = (self.walk, self.i);
        let mut typeless = false;
        while let Some(key) = map.next_key_seed(Name)? {
            if key == "properties" {
                walk.path.clear();
                typeless |= map.next_value_seed(Lenient(Properties {
                    walk: &mut *walk,
                    i,
                    depth: 0,
                }))?;
                continue;
            }
            let meta = key.starts_with('_') && key != "_doc" && key != "_default_";
            if meta || MAPPING_PARAMS.contains(&key.as_ref()) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            walk.path.clear();
            let typed = map.next_value_seed(Lenient(TypeBody {
                walk: &mut *walk,
                i,
            }))?;
            let types = &mut walk.answer.indices[i].types;
            if typed && key != "_doc" && key != "_default_" && types.len() < MAX_TYPES {
                types.push(clip(&key, 255));
            }
        }
        if typeless {
            walk.answer.indices[i].types.clear();
        }
        Ok(())
    }
}

/// One mapping type's body; says whether it had `properties`.
struct TypeBody<'w, 'n> {
    walk: &'w mut Walk<'n>,
    i: usize,
}

impl<'de> ObjectOnly<'de> for TypeBody<'_, '_> {
    type Out = bool;

    fn object<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut typed = false;
        while let Some(key) = map.next_key_seed(KeyOf(&["properties"]))? {
            if key == Some(0) {
                let (walk, i) = (&mut *self.walk, self.i);
                typed |= map.next_value_seed(Lenient(Properties { walk, i, depth: 0 }))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(typed)
    }
}

/// A `properties` object: field name to field definition. Says whether it was an object.
struct Properties<'w, 'n> {
    walk: &'w mut Walk<'n>,
    i: usize,
    depth: usize,
}

impl<'de> ObjectOnly<'de> for Properties<'_, '_> {
    type Out = bool;

    fn object<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let (walk, i, depth) = (self.walk, self.i, self.depth);
        while let Some(name) = map.next_key_seed(Name)? {
            let mark = walk.path.len();
            let fits = mark + 1 + name.len() <= MAX_PATH;
            if depth >= MAX_DEPTH || walk.fields >= MAX_FIELDS || !fits {
                walk.fields = walk.fields.saturating_add(1);
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            walk.fields += 1;
            if mark > 0 {
                walk.path.push('.');
            }
            walk.path.push_str(&name);
            let object = map.next_value_seed(Lenient(Field {
                walk: &mut *walk,
                i,
                depth,
            }))?;
            // Objects are reported through their leaves (`customer.address.city`), so a
            // parent and its children do not both count as personal-data fields.
            if !object {
                walk.leaf(i);
            }
            walk.path.truncate(mark);
        }
        Ok(true)
    }
}

/// One field definition; says whether it is an object (has `properties`).
struct Field<'w, 'n> {
    walk: &'w mut Walk<'n>,
    i: usize,
    depth: usize,
}

impl<'de> ObjectOnly<'de> for Field<'_, '_> {
    type Out = bool;

    fn object<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut object = false;
        while let Some(key) = map.next_key_seed(KeyOf(&["properties"]))? {
            if key == Some(0) {
                let (walk, i, depth) = (&mut *self.walk, self.i, self.depth + 1);
                object |= map.next_value_seed(Lenient(Properties { walk, i, depth }))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn fields(facts: &IndexFacts) -> Vec<(&str, &str)> {
        facts
            .hints
            .iter()
            .map(|h| (h.field.as_str(), h.category.as_str()))
            .collect()
    }

    #[test]
    fn walks_typed_and_typeless_mappings() {
        let body = br#"{"users":{"mappings":{"user":{"_all":{"enabled":false},"properties":{
            "email":{"type":"string"},"name":{"type":"string"},
            "address":{"properties":{"city":{"type":"string"}}}}},
            "_default_":{"properties":{"phone":{"type":"string"}}}}},
          "logs":{"mappings":{"dynamic":"strict","_source":{"enabled":true},"properties":{
            "geoip":{"properties":{"location":{"type":"geo_point"}}},
            "message":{"type":"text","fields":{"keyword":{"type":"keyword"}}}}}},
          "other":{"mappings":{"properties":{"password":{"type":"keyword"}}}}}"#;
        let answer = read(body, false, &names(&["users", "logs", "absent"])).expect("a mapping");
        assert_eq!(answer.named(), 2);
        let users = &answer.indices[0];
        assert_eq!(
            fields(users),
            [
                ("address.city", "address"),
                ("email", "email"),
                ("phone", "phone")
            ]
        );
        assert_eq!(users.types, ["user"]);
        let logs = &answer.indices[1];
        assert_eq!(fields(logs), [("geoip.location", "location")]);
        assert!(logs.types.is_empty());
        assert!(!answer.indices[2].seen);
        assert_eq!(
            (answer.status, answer.banner, answer.error),
            (None, false, false)
        );
    }

    #[test]
    fn depth_and_field_caps_hold() {
        // 30 levels of objects with an `email` at the bottom: deeper than MAX_DEPTH.
        let mut deep = String::from(r#"{"type":"keyword"}"#);
        for _ in 0..30 {
            deep = format!(r#"{{"properties":{{"email":{deep}}}}}"#);
        }
        let body = format!(r#"{{"deep":{{"mappings":{deep}}}}}"#);
        let answer = read(body.as_bytes(), false, &names(&["deep"])).expect("a mapping");
        assert!(answer.indices[0].seen);
        assert!(
            answer.indices[0].hints.is_empty(),
            "{:?}",
            answer.indices[0].hints
        );

        // MAX_FIELDS plain fields, then personal ones: reading stops before them.
        let wide = |first: usize| {
            let mut props: Vec<String> = (0..first)
                .map(|n| format!(r#""f{n}":{{"type":"keyword"}}"#))
                .collect();
            props.extend((0..100).map(|n| format!(r#""email_{n}":{{"type":"keyword"}}"#)));
            format!(
                r#"{{"wide":{{"mappings":{{"properties":{{{}}}}}}}}}"#,
                props.join(",")
            )
        };
        let answer =
            read(wide(MAX_FIELDS).as_bytes(), false, &names(&["wide"])).expect("a mapping");
        assert!(answer.indices[0].hints.is_empty());
        let answer = read(wide(10).as_bytes(), false, &names(&["wide"])).expect("a mapping");
        assert_eq!(answer.indices[0].hints.len(), MAX_HINTS);
    }

    #[test]
    fn odd_shapes_are_skipped_not_fatal() {
        let body = br#"{"a":{"mappings":{"properties":{"x":7,"y":[1,2],"email":{"type":"keyword","properties":"no"}}}},"b":[],"status":404,"error":{"type":"x"}}"#;
        let answer = read(body, false, &names(&["a", "b"])).expect("an object");
        assert_eq!(answer.named(), 2);
        assert_eq!(fields(&answer.indices[0]), [("email", "email")]);
        assert_eq!((answer.status, answer.error), (Some(404), true));
        for (body, why) in [
            (&b""[..], "an empty body"),
            (b"[]", "a JSON array"),
            (b"<html>", "something that is not JSON"),
        ] {
            assert_eq!(
                read(body, false, &[]).map(|a| a.named()),
                Err(why.to_string())
            );
        }
        assert!(read(br#"{"a":"#, false, &names(&["a"])).is_err());
        let cut = read(
            br#"{"a":{"mappings":{"properties":{"email":{"type":"keyword"}},"#,
            true,
            &names(&["a"]),
        )
        .expect("a cut mapping");
        assert!(cut.cut);
        assert_eq!(fields(&cut.indices[0]), [("email", "email")]);
    }

    #[test]
    fn banner_names_no_index() {
        let body = include_str!("../../../tests/fixtures/elastic/es-05-7.2.0-root.json");
        let answer = read(body.as_bytes(), false, &names(&["customers"])).expect("an object");
        assert_eq!((answer.named(), answer.banner), (0, true));
    }
}
