//! Server-supplied strings are untrusted. Before they reach a terminal, a one-line note or
//! a JSON report, the characters that can hide or rewrite text are escaped: C0 and C1
//! controls (ANSI escapes, CSI U+009B), DEL, bidirectional marks and overrides (U+061C,
//! U+200E/F, U+202A-E, U+2066-9), line and paragraph separators (U+2028/9) and zero-width
//! characters (U+200B-D, U+2060-4, U+FEFF), and lengths are clipped.
//!
//! Text output uses [`escape`] and [`clip`]; JSON output uses [`JsonEscaper`], which writes
//! the same characters as `\uXXXX` escapes so that the JSON stays valid and equal in
//! value, while a terminal showing it (`cat report.json`) shows them inert.

use std::io;

/// Whether `c` must never reach output raw.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// Escapes every [`is_unsafe`] character as `\u{..}`, so a hostile server cannot move
/// the cursor, recolour the terminal, hide text or reorder it.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// [`escape`]s and cuts to at most `max` characters, marking the cut with `…`.
pub fn clip(text: &str, max: usize) -> String {
    // Escaping only grows text: look at no more of it than can survive the cut.
    let head: String = text.chars().take(max.saturating_add(1)).collect();
    let escaped = escape(&head);
    if escaped.chars().count() <= max {
        return escaped;
    }
    let mut cut: String = escaped.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A `serde_json` formatter that writes [`is_unsafe`] characters as `\uXXXX` on top of
/// the escapes JSON requires, around any inner formatter (pretty or compact).
#[derive(Debug, Clone)]
pub struct JsonEscaper<F>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for JsonEscaper<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Serialises `value` as one compact JSON line through [`JsonEscaper`].
pub fn to_json_line<W: io::Write, T: serde::Serialize + ?Sized>(
    out: W,
    value: &T,
) -> io::Result<()> {
    let mut ser =
        serde_json::Serializer::with_formatter(out, JsonEscaper(serde_json::ser::CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::other)
}

/// Serialises `value` as pretty JSON through [`JsonEscaper`].
pub fn to_json_pretty<W: io::Write, T: serde::Serialize + ?Sized>(
    out: W,
    value: &T,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(
        out,
        JsonEscaper(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut ser).map_err(io::Error::other)
}

/// The first `max` bytes a server sent, printable ASCII as text and the rest as `\xNN`,
/// quoted: how notes show a greeting or an answer in an unknown protocol.
pub fn byte_preview(bytes: &[u8], max: usize) -> String {
    let mut out = String::from("\"");
    for &b in bytes.iter().take(max) {
        if (b.is_ascii_graphic() && b != b'"' && b != b'\\') || b == b' ' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(escape("a\x1b[31mb\r\n"), "a\\u{1b}[31mb\\u{d}\\u{a}");
        assert_eq!(escape("evil\u{202e}txt"), "evil\\u{202e}txt");
        assert_eq!(escape("plain idx-1 ünï"), "plain idx-1 ünï");
    }

    #[test]
    fn escapes_hidden_and_reordering_characters() {
        for c in [
            '\u{9b}', '\u{7f}', '\u{85}', '\u{61c}', '\u{2028}', '\u{2029}', '\u{200b}',
            '\u{200d}', '\u{2060}', '\u{feff}', '\u{2066}',
        ] {
            let text = format!("a{c}b");
            assert_eq!(escape(&text), format!("a\\u{{{:x}}}b", u32::from(c)));
        }
    }

    #[test]
    fn clips_long_text() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(clip(&"\u{1b}".repeat(100), 10).chars().count(), 10);
    }

    #[test]
    fn json_keeps_values_but_never_raw_hidden_characters() {
        let value =
            serde_json::json!({"name": "a\u{9b}31m\u{7f}\u{202e}\u{2028}b\"\n", "ok": [1, "ü"]});
        let mut line = Vec::new();
        to_json_line(&mut line, &value).expect("write");
        let text = String::from_utf8(line).expect("utf-8");
        assert_eq!(
            text,
            r#"{"name":"a\u009b31m\u007f\u202e\u2028b\"\n","ok":[1,"ü"]}"#
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, value, "same value after a round trip");
        let mut pretty = Vec::new();
        to_json_pretty(&mut pretty, &value).expect("write");
        let pretty = String::from_utf8(pretty).expect("utf-8");
        assert!(pretty.contains("\n  \"name\": \"a\\u009b31m"), "{pretty}");
    }
}
