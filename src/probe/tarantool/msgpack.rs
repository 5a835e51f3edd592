//! The small MessagePack subset IPROTO needs, by hand and bounded: unsigned integers,
//! strings, arrays and maps read from a reply, every other type skipped without allocating,
//! and nesting cut at [`MAX_DEPTH`]. Every length is checked against the bytes left before
//! it is used, so a hostile reply can only end the read, never grow a buffer.

/// Deepest nesting skipped; IPROTO replies nest four levels at most (body, data, tuple,
/// format entry).
const MAX_DEPTH: usize = 16;

/// A cursor over one MessagePack buffer.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    #[cfg(test)]
    pub fn position(&self) -> usize {
        self.pos
    }

    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos = self.pos.saturating_add(1);
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let bytes = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }

    fn be(&mut self, n: usize) -> Option<u64> {
        let bytes = self.take(n)?;
        Some(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    fn len(&mut self, n: usize) -> Option<usize> {
        usize::try_from(self.be(n)?).ok()
    }

    /// An unsigned integer (positive fixint, uint 8/16/32/64, or a non-negative int).
    pub fn uint(&mut self) -> Option<u64> {
        match self.byte()? {
            b @ 0x00..=0x7f => Some(u64::from(b)),
            0xcc => self.be(1),
            0xcd => self.be(2),
            0xce => self.be(4),
            0xcf => self.be(8),
            0xd0 => self.be(1).filter(|v| *v < 0x80),
            0xd1 => self.be(2).filter(|v| *v < 0x8000),
            0xd2 => self.be(4).filter(|v| *v < 0x8000_0000),
            0xd3 => self.be(8).filter(|v| *v < 0x8000_0000_0000_0000),
            _ => None,
        }
    }

    /// A string's bytes (fixstr, str 8/16/32).
    pub fn str(&mut self) -> Option<&'a [u8]> {
        let n = match self.byte()? {
            b @ 0xa0..=0xbf => usize::from(b & 0x1f),
            0xd9 => self.len(1)?,
            0xda => self.len(2)?,
            0xdb => self.len(4)?,
            _ => return None,
        };
        self.take(n)
    }

    /// An array's length (fixarray, array 16/32).
    pub fn array(&mut self) -> Option<usize> {
        match self.byte()? {
            b @ 0x90..=0x9f => Some(usize::from(b & 0x0f)),
            0xdc => self.len(2),
            0xdd => self.len(4),
            _ => None,
        }
    }

    /// A map's number of pairs (fixmap, map 16/32).
    pub fn map(&mut self) -> Option<usize> {
        match self.byte()? {
            b @ 0x80..=0x8f => Some(usize::from(b & 0x0f)),
            0xde => self.len(2),
            0xdf => self.len(4),
            _ => None,
        }
    }

    /// Skips one value of any type, nested at most [`MAX_DEPTH`] deep.
    pub fn skip(&mut self) -> Option<()> {
        self.skip_at(0)
    }

    fn skip_at(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let head = *self.buf.get(self.pos)?;
        let (items, fixed) = match head {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 1),
            0x80..=0x8f | 0xde | 0xdf => (self.map()?.checked_mul(2)?, 0),
            0x90..=0x9f | 0xdc | 0xdd => (self.array()?, 0),
            0xa0..=0xbf | 0xd9..=0xdb => {
                self.str()?;
                (0, 0)
            }
            0xc4..=0xc6 => {
                self.byte()?;
                let n = self.len(1 << (head - 0xc4))?;
                self.take(n)?;
                (0, 0)
            }
            0xc7..=0xc9 => {
                self.byte()?;
                let n = self.len(1 << (head - 0xc7))?;
                self.take(n.checked_add(1)?)?;
                (0, 0)
            }
            0xca | 0xce | 0xd2 => (0, 5),
            0xcb | 0xcf | 0xd3 => (0, 9),
            0xcc | 0xd0 => (0, 2),
            0xcd | 0xd1 => (0, 3),
            0xd4..=0xd8 => (0, 2 + (1 << (head - 0xd4))),
            0xc1 => return None,
        };
        if fixed > 0 {
            self.take(fixed)?;
        }
        for _ in 0..items {
            self.skip_at(depth.saturating_add(1))?;
        }
        Some(())
    }
}

/// Appends `v` as the shortest MessagePack unsigned integer.
pub fn put_uint(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=0x7f => out.push(v as u8),
        0x80..=0xff => out.extend_from_slice(&[0xcc, v as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend_from_slice(&(v as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(v as u32).to_be_bytes());
        }
        _ => {
            out.push(0xcf);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_stops_on_short_input() {
        for v in [0, 5, 0x7f, 0x80, 300, 70_000, 5_000_000_000] {
            let mut out = Vec::new();
            put_uint(&mut out, v);
            assert_eq!(Reader::new(&out).uint(), Some(v));
            assert_eq!(Reader::new(&out[..out.len() - 1]).uint(), None);
        }
        assert_eq!(
            Reader::new(&[0xa3, b'a', b'b', b'c']).str(),
            Some(&b"abc"[..])
        );
        assert_eq!(Reader::new(&[0xa3, b'a']).str(), None);
        // A 4 GiB array header over three bytes: the length is taken, nothing allocated.
        let mut r = Reader::new(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(r.skip(), None);
        assert_eq!(Reader::new(&[0xd0, 0xff]).uint(), None);
    }

    #[test]
    fn skips_nested_values_and_refuses_deep_ones() {
        // {"a": [1, -1, nil, true, 1.5f64, bin "xy", fixext1]}, then 7.
        let mut buf = vec![0x81, 0xa1, b'a', 0x97, 0x01, 0xff, 0xc0, 0xc3, 0xcb];
        buf.extend_from_slice(&1.5f64.to_be_bytes());
        buf.extend_from_slice(&[0xc4, 0x02, b'x', b'y', 0xd4, 0x01, 0x02, 0x07]);
        let mut r = Reader::new(&buf);
        assert_eq!(r.skip(), Some(()));
        assert_eq!(r.uint(), Some(7));
        assert_eq!(r.position(), buf.len());
        let deep = [0x91; 40];
        assert_eq!(Reader::new(&deep).skip(), None);
    }
}
