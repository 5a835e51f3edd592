//! AMQP 0-9-1 field tables (spec section 4.2.5.5, with the value types of RabbitMQ's
//! errata): a bounded reader that decodes strings, booleans and nested tables and steps over
//! every other type; anything truncated, unknown or nested too deep is `None`.

use super::wire::MAX_DEPTH;

/// Server bytes as text, invalid UTF-8 replaced.
pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The field values the probe reads; every other type is skipped over.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Bool(bool),
    Str(String),
    Table(Vec<(String, Value)>),
    Other,
}

/// A cursor over server bytes: every read is bounds-checked and `None` past the end.
pub(super) struct Reader<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    /// The next `n` bytes.
    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    pub(super) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(super) fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    pub(super) fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(super) fn len32(&mut self) -> Option<usize> {
        usize::try_from(self.u32()?).ok()
    }

    /// A short string: one length octet, then the bytes.
    pub(super) fn shortstr(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// A long string: a 32-bit length, then the bytes.
    pub(super) fn longstr(&mut self) -> Option<&'a [u8]> {
        let n = self.len32()?;
        self.take(n)
    }

    /// A field table: a 32-bit byte length, then name and value pairs filling it exactly.
    pub(super) fn table(&mut self, depth: u8) -> Option<Vec<(String, Value)>> {
        let body = self.longstr()?;
        let mut inner = Reader {
            bytes: body,
            pos: 0,
        };
        let mut out = Vec::new();
        while inner.pos < body.len() {
            let name = text(inner.shortstr()?);
            let value = inner.value(depth)?;
            if out.len() < 64 {
                out.push((name, value));
            }
        }
        Some(out)
    }

    /// One field value: its type octet, then the value; unknown types are `None`.
    pub(super) fn value(&mut self, depth: u8) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        let fixed = |r: &mut Self, n: usize| r.take(n).map(|_| Value::Other);
        match self.u8()? {
            b't' => self.u8().map(|b| Value::Bool(b != 0)),
            b'b' | b'B' => fixed(self, 1),
            b's' | b'u' => fixed(self, 2),
            b'I' | b'i' | b'f' => fixed(self, 4),
            b'D' => fixed(self, 5),
            b'l' | b'L' | b'd' | b'T' => fixed(self, 8),
            b'V' => Some(Value::Other),
            b'S' => self.longstr().map(|s| Value::Str(text(s))),
            b'x' => self.longstr().map(|_| Value::Other),
            b'F' => self.table(depth.saturating_add(1)).map(Value::Table),
            b'A' => {
                let body = self.longstr()?;
                let mut inner = Reader {
                    bytes: body,
                    pos: 0,
                };
                while inner.pos < body.len() {
                    inner.value(depth.saturating_add(1))?;
                }
                Some(Value::Other)
            }
            _ => None,
        }
    }
}
