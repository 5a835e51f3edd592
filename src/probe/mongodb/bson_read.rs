//! Field readers for untrusted reply documents. Every reader walks the raw bytes of one
//! level without recursing (a hostile document nested 200,000 deep costs nothing), takes
//! the first element of a name, and reads malformed bytes or a wrong type as absent, so a
//! caller never has to handle a parse error of the server's making.

use bson::{RawArray, RawBsonRef, RawDocument};

use crate::sanitize::clip;

/// The first element named `key`, read without recursing; malformed bytes read as absent.
pub(super) fn field<'a>(doc: &'a RawDocument, key: &str) -> Option<RawBsonRef<'a>> {
    for element in doc.iter_elements() {
        let element = element.ok()?;
        if element.key().as_str() == key {
            return element.value().ok();
        }
    }
    None
}

/// A numeric field of any BSON number type, as `f64`.
pub(super) fn number(doc: &RawDocument, key: &str) -> Option<f64> {
    match field(doc, key)? {
        RawBsonRef::Double(v) if v.is_finite() => Some(v),
        RawBsonRef::Int32(v) => Some(f64::from(v)),
        RawBsonRef::Int64(v) => Some(v as f64),
        _ => None,
    }
}

/// `ok` and the like as the shell would print them: `1`, `0`, `0.5`, or `missing`.
pub(super) fn number_text(doc: &RawDocument, key: &str) -> String {
    match number(doc, key) {
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        Some(v) => v.to_string(),
        None => "missing".into(),
    }
}

/// An integral numeric field: int32, int64, or a double with no fraction.
pub(super) fn integer(doc: &RawDocument, key: &str) -> Option<i64> {
    match field(doc, key)? {
        RawBsonRef::Int32(v) => Some(i64::from(v)),
        RawBsonRef::Int64(v) => Some(v),
        RawBsonRef::Double(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => {
            Some(v as i64)
        }
        _ => None,
    }
}

/// A non-negative size or count read from a value of any numeric type (sizes are int64
/// on current servers and double on old ones, MG-04). Fractions are dropped and doubles
/// past `u64::MAX` saturate; negative, NaN, infinite or non-numeric values are `None`.
pub(super) fn count_value(value: RawBsonRef<'_>) -> Option<u64> {
    match value {
        RawBsonRef::Int32(v) => u64::try_from(v).ok(),
        RawBsonRef::Int64(v) => u64::try_from(v).ok(),
        // `as` saturates a float that does not fit, which is what a size wants.
        RawBsonRef::Double(v) if v.is_finite() && v >= 0.0 => Some(v as u64),
        _ => None,
    }
}

/// [`count_value`] of the field `key`.
pub(super) fn count(doc: &RawDocument, key: &str) -> Option<u64> {
    count_value(field(doc, key)?)
}

/// A boolean field.
pub(super) fn boolean(doc: &RawDocument, key: &str) -> Option<bool> {
    match field(doc, key)? {
        RawBsonRef::Boolean(v) => Some(v),
        _ => None,
    }
}

/// The text of a string value: exactly as sent, or lossily decoded when the bytes are
/// not UTF-8. Only exact text may ever be sent back to the server as a name: a lossy
/// copy names something else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Text<'a> {
    /// Valid UTF-8, borrowed from the reply.
    Exact(&'a str),
    /// Invalid UTF-8, with replacement characters.
    Lossy(String),
}

impl Text<'_> {
    /// The text for display (before escaping).
    pub(super) fn as_str(&self) -> &str {
        match self {
            Text::Exact(text) => text,
            Text::Lossy(text) => text,
        }
    }
}

/// A string field as [`Text`]; `None` when absent or not a string.
pub(super) fn text<'a>(doc: &'a RawDocument, key: &str) -> Option<Text<'a>> {
    for element in doc.iter_elements() {
        let element = element.ok()?;
        if element.key().as_str() != key {
            continue;
        }
        if let Ok(RawBsonRef::String(text)) = element.value() {
            return Some(Text::Exact(text));
        }
        return match element.value_utf8_lossy().ok()? {
            bson::RawBson::String(text) => Some(Text::Lossy(text)),
            _ => None,
        };
    }
    None
}

/// A string field; invalid UTF-8 is replaced rather than failing the whole reply.
pub(super) fn string(doc: &RawDocument, key: &str) -> Option<String> {
    text(doc, key).map(|t| match t {
        Text::Exact(text) => text.to_string(),
        Text::Lossy(text) => text,
    })
}

/// A sub-document field.
pub(super) fn document<'a>(doc: &'a RawDocument, key: &str) -> Option<&'a RawDocument> {
    field(doc, key)?.as_document()
}

/// An array field.
pub(super) fn array<'a>(doc: &'a RawDocument, key: &str) -> Option<&'a RawArray> {
    field(doc, key)?.as_array()
}

/// The BSON type of a value, for notes about values we could not use.
pub(super) fn type_name(value: RawBsonRef<'_>) -> &'static str {
    match value {
        RawBsonRef::Double(_) => "a double",
        RawBsonRef::String(_) => "a string",
        RawBsonRef::Document(_) => "a document",
        RawBsonRef::Array(_) => "an array",
        RawBsonRef::Binary(_) => "binary data",
        RawBsonRef::Boolean(_) => "a boolean",
        RawBsonRef::Null => "null",
        RawBsonRef::Int32(_) => "an int32",
        RawBsonRef::Int64(_) => "an int64",
        RawBsonRef::Decimal128(_) => "a decimal128",
        _ => "another BSON type",
    }
}

/// The top-level keys of a reply, for notes about replies we could not use.
pub(super) fn keys_text(doc: &RawDocument) -> String {
    let mut keys = Vec::new();
    for element in doc.iter_elements().take(8) {
        let Ok(element) = element else { break };
        keys.push(clip(element.key().as_str(), 40));
    }
    keys.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::{Document, doc};

    fn raw(doc: Document) -> bson::RawDocumentBuf {
        bson::RawDocumentBuf::try_from(&doc).expect("encode")
    }

    #[test]
    fn reads_any_numeric_type_and_survives_bad_fields() {
        let d = raw(doc! {"a": 5_i32, "b": 6_i64, "c": 7.9, "d": -1, "e": f64::NAN, "f": "x"});
        assert_eq!(count(&d, "a"), Some(5));
        assert_eq!(count(&d, "b"), Some(6));
        assert_eq!(count(&d, "c"), Some(7));
        assert_eq!(count(&d, "d"), None);
        assert_eq!(count(&d, "e"), None);
        assert_eq!(count(&d, "f"), None);
        assert_eq!(integer(&d, "c"), None);
        // A string with invalid UTF-8 is read lossily instead of failing the reply.
        let mut bytes = raw(doc! {"name": "ab"}).into_bytes();
        let at = bytes.len() - 3;
        bytes[at] = 0xff;
        let bad = bson::RawDocumentBuf::from_bytes(bytes).expect("framing is fine");
        assert_eq!(string(&bad, "name").as_deref(), Some("a\u{fffd}"));
        assert_eq!(text(&bad, "name"), Some(Text::Lossy("a\u{fffd}".into())));
        assert_eq!(
            text(&raw(doc! {"name": "ab"}), "name"),
            Some(Text::Exact("ab"))
        );
    }

    #[test]
    fn sizes_saturate_instead_of_wrapping() {
        let d = raw(doc! {"max": i64::MAX, "huge": 1.0e30, "inf": f64::INFINITY, "neg0": -0.0});
        assert_eq!(count(&d, "max"), Some(i64::MAX as u64));
        assert_eq!(count(&d, "huge"), Some(u64::MAX));
        assert_eq!(count(&d, "inf"), None);
        assert_eq!(count(&d, "neg0"), Some(0));
    }
}
