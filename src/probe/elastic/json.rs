//! Small serde pieces for reading server JSON in bounded, typed passes over the body slice
//! (issue 5): a known-key matcher and a text key that allocate nothing in the common case,
//! a lenient cell, and a visitor adaptor that reads objects and skips any other value. None
//! of them builds a `serde_json::Value`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A map key's position in a list of known keys, read without allocating; `None` for any
/// other key.
pub(super) struct KeyOf(pub &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeyOf {
    type Value = Option<usize>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeyOf {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|k| *k == key))
    }
}

/// One JSON value as ajar reads a cell: text (borrowed from the body when it has no
/// escapes), null, absent, or anything else (skipped).
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) enum Cell<'a> {
    /// The key was not in the object.
    #[default]
    Missing,
    /// `null`.
    Null,
    /// A string.
    Text(Cow<'a, str>),
    /// A number, boolean, array or object.
    Other,
}

impl<'de> de::Deserialize<'de> for Cell<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CellVisitor)
    }
}

struct CellVisitor;

impl<'de> Visitor<'de> for CellVisitor {
    type Value = Cell<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cell<'de>, E> {
        Ok(Cell::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cell<'de>, E> {
        Ok(Cell::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Cell<'de>, E> {
        Ok(Cell::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Cell<'de>, E> {
        Ok(Cell::Null)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Cell<'de>, E> {
        Ok(Cell::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Cell<'de>, E> {
        Ok(Cell::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Cell<'de>, E> {
        Ok(Cell::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Cell<'de>, E> {
        Ok(Cell::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Cell<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Cell::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cell<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Cell::Other)
    }
}

/// A visitor that reads objects and quietly skips any other value, so a server's odd
/// shapes cost nothing and break nothing.
pub(super) trait ObjectOnly<'de>: Sized {
    /// What the visitor makes of an object; the default for any other value.
    type Out: Default;
    /// Reads one object.
    fn object<A: MapAccess<'de>>(self, map: A) -> Result<Self::Out, A::Error>;
}

/// Adapts an [`ObjectOnly`] visitor into a seed that accepts any JSON value.
pub(super) struct Lenient<T>(pub T);

impl<'de, T: ObjectOnly<'de>> DeserializeSeed<'de> for Lenient<T> {
    type Value = T::Out;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<T::Out, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: ObjectOnly<'de>> Visitor<'de> for Lenient<T> {
    type Value = T::Out;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T::Out, A::Error> {
        self.0.object(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T::Out, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(T::Out::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<T::Out, E> {
        Ok(T::Out::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<T::Out, E> {
        Ok(T::Out::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<T::Out, E> {
        Ok(T::Out::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T::Out, E> {
        Ok(T::Out::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<T::Out, E> {
        Ok(T::Out::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<T::Out, E> {
        Ok(T::Out::default())
    }
}

/// A top-level `status`: a non-negative integer, or nothing.
pub(super) struct Status(pub Option<u64>);

impl<'de> de::Deserialize<'de> for Status {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StatusVisitor)
    }
}

struct StatusVisitor;

impl<'de> Visitor<'de> for StatusVisitor {
    type Value = Status;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Status, E> {
        Ok(Status(Some(v)))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Status, E> {
        Ok(Status(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Status, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Status(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Status, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Status(None))
    }
}

/// A map key as text, borrowed from the body when it has no escapes.
pub(super) struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}
