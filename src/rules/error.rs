//! Compile errors with a place in the file: [`RuleError`], the [`Field`] path an error is
//! about, and the [`Locator`] that turns a field path or a parser span into a line and
//! column by walking the spanned TOML tree.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// An error in a probe file, with its place: `FILE:LINE:COLUMN: FIELD: message` (FIELD like
/// `verdict[1].matchers[0].regex`; line and column 1-based, those of the enclosing table when
/// the field itself is absent; line 0 when the file could not be read at all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RuleError {
    /// The file as given to [`compile`](super::compile) or found in a directory.
    pub file: String,
    /// 1-based line, 0 when the file or directory could not be read.
    pub line: usize,
    /// 1-based column (in characters), 0 with line 0.
    pub column: usize,
    /// The field path (`requests.version.path`); empty for syntax and I/O errors.
    pub field: String,
    /// What is wrong, and how to fix it when that is not obvious.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

impl RuleError {
    /// An error about a whole file or directory that could not be read.
    pub(crate) fn io(file: &str, message: impl Into<String>) -> RuleError {
        RuleError {
            file: file.to_string(),
            line: 0,
            column: 0,
            field: String::new(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// A path to a field of a probe file, built while validating.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Field(Vec<Seg>);

impl Field {
    /// The path of a top-level key.
    pub(crate) fn top(key: &str) -> Field {
        Field(vec![Seg::Key(key.to_string())])
    }

    /// This path followed by a key.
    pub(crate) fn key(&self, key: &str) -> Field {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        Field(segs)
    }

    /// This path followed by an array index.
    pub(crate) fn idx(&self, index: usize) -> Field {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        Field(segs)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(key) if i == 0 => f.write_str(key)?,
                Seg::Key(key) => write!(f, ".{key}")?,
                Seg::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Finds places in one file's text.
pub(crate) struct Locator<'a> {
    file: &'a str,
    text: &'a str,
    root: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    /// Parses `text` once for spans; a file that does not parse locates everything at 1:1.
    pub(crate) fn new(file: &'a str, text: &'a str) -> Locator<'a> {
        Locator {
            file,
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    /// The spanned tree, when the text parses.
    pub(crate) fn root(&self) -> Option<&DeTable<'a>> {
        self.root.as_ref().map(|r| r.get_ref())
    }

    /// An error about `field`, placed at the field's key (or its enclosing table).
    pub(crate) fn error(&self, field: &Field, message: impl Into<String>) -> RuleError {
        let offset = self.span_of(field).start;
        self.at(offset, field.to_string(), message.into())
    }

    /// An error from the TOML parser or deserializer, placed at its span and named by the
    /// deepest field that holds the span.
    pub(crate) fn toml_error(&self, error: &toml::de::Error) -> RuleError {
        let offset = error.span().map(|s| s.start).unwrap_or(0);
        let field = self.path_at(offset).to_string();
        let message = error.message().trim().replace('\n', " ");
        self.at(offset, field, message)
    }

    fn at(&self, offset: usize, field: String, message: String) -> RuleError {
        let (line, column) = line_col(self.text, offset);
        RuleError {
            file: self.file.to_string(),
            line,
            column,
            field,
            message,
        }
    }

    /// The span of a field's key (or array element), else of the nearest enclosing node.
    fn span_of(&self, field: &Field) -> Range<usize> {
        let Some(root) = &self.root else {
            return 0..0;
        };
        let mut span = 0..0;
        let mut node: Option<&DeValue<'_>> = None;
        let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
        for seg in &field.0 {
            match seg {
                Seg::Key(key) => {
                    let Some(t) = table.or_else(|| node.and_then(|n| n.as_table())) else {
                        break;
                    };
                    let Some((k, v)) = t.iter().find(|(k, _)| k.get_ref() == key) else {
                        break;
                    };
                    span = k.span();
                    node = Some(v.get_ref());
                    table = None;
                }
                Seg::Index(index) => {
                    let Some(item) = node.and_then(|n| n.as_array()).and_then(|a| a.get(*index))
                    else {
                        break;
                    };
                    span = item.span();
                    node = Some(item.get_ref());
                    table = None;
                }
            }
        }
        span
    }

    /// The deepest field whose key or value holds `offset`.
    fn path_at(&self, offset: usize) -> Field {
        let mut field = Field::default();
        let Some(root) = &self.root else {
            return field;
        };
        let mut table = Some(root.get_ref());
        let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
        loop {
            let mut next = None;
            if let Some(t) = table {
                for (k, v) in t.iter() {
                    if k.span().contains(&offset) {
                        field = field.key(k.get_ref());
                        break;
                    }
                    if v.span().contains(&offset) || spans_table(v, offset) {
                        field = field.key(k.get_ref());
                        next = Some(v.get_ref());
                        break;
                    }
                }
            } else if let Some(a) = array {
                for (i, v) in a.iter().enumerate() {
                    if v.span().contains(&offset) || spans_table(v, offset) {
                        field = field.idx(i);
                        next = Some(v.get_ref());
                        break;
                    }
                }
            }
            match next {
                Some(DeValue::Table(t)) => (table, array) = (Some(t), None),
                Some(DeValue::Array(a)) => (table, array) = (None, Some(&a[..])),
                _ => return field,
            }
        }
    }
}

/// Whether a table value (whose own span may be only its header) has a key or value at
/// `offset`.
fn spans_table(value: &Spanned<DeValue<'_>>, offset: usize) -> bool {
    match value.get_ref() {
        DeValue::Table(t) => t.iter().any(|(k, v)| {
            k.span().contains(&offset) || v.span().contains(&offset) || spans_table(v, offset)
        }),
        DeValue::Array(a) => a.iter().any(|v| spans_table(v, offset)),
        _ => false,
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset = offset.saturating_sub(1);
    }
    let before = &text[..offset];
    let line = before.matches('\n').count().saturating_add(1);
    let start = before.rfind('\n').map(|i| i.saturating_add(1)).unwrap_or(0);
    let column = before[start..].chars().count().saturating_add(1);
    (line, column)
}
