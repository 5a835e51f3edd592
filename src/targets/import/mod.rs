//! Port-scanner output as target lists: `-i` also reads `nmap -oX` XML and masscan's
//! `-oJ`, `-oD` (ndjson) and `-oL` files, told apart by their first bytes, so a team that
//! already ran a port scan hands its result to ajar as is. Each open TCP port becomes the
//! target `ADDR:PORT`, checked like a typed target.
//!
//! - [`nmap`]: `nmap -oX` (and masscan's `-oX`, which copies its shape).
//! - [`masscan`]: masscan's JSON, ndjson and list formats, quirks of old versions included.
//!
//! Every format is read within the bounds of [`super::input`]: 64 MiB
//! ([`super::input::MAX_INPUT`]) in all, and no one record (XML event, JSON object, list
//! line) larger than [`MAX_RECORD`].

mod bounded;
pub mod masscan;
pub mod nmap;

pub(crate) use bounded::Bounded;

use std::io::{self, BufRead, Cursor, Read};
use std::net::IpAddr;

use super::TargetError;

/// Largest single record of a scanner file, in bytes: one XML tag or text, one JSON
/// object, one list line. masscan banners stay under 64 KiB; nmap script output under
/// this. Bounds the memory a hostile file can make the reader hold.
pub const MAX_RECORD: usize = 1 << 20;

/// How many bytes the sniffer may look at before deciding (leading blank space included).
const SNIFF: usize = 4096;

/// What a `-i` source holds, from its first non-blank bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One target per line, `#` comments: the original `-i` format.
    Plain,
    /// XML, expected to be `nmap -oX` output (anything starting with `<`).
    Nmap,
    /// masscan `-oJ` (a JSON array, or one object per line in old versions) or `-oD`
    /// (ndjson).
    MasscanJson,
    /// masscan `-oL`: `open tcp 80 127.0.0.1 1583252371` lines.
    MasscanList,
}

/// Decides the format from the first bytes of a source.
pub fn sniff(head: &[u8]) -> Format {
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let text = &head[start..];
    let after = |skip: usize| {
        text.get(skip..)
            .and_then(|rest| rest.iter().find(|b| !b.is_ascii_whitespace()))
            .copied()
    };
    match text.first() {
        Some(b'<') => Format::Nmap,
        Some(b'{') => Format::MasscanJson,
        // `[` opens a JSON array, or an IPv6 target (`[::1]:9200`) in a plain list.
        Some(b'[') if matches!(after(1), Some(b'{' | b']') | None) => Format::MasscanJson,
        _ if text.starts_with(b"open tcp ") => Format::MasscanList,
        _ if text.starts_with(b"#masscan") && matches!(text.get(8), None | Some(b'\r' | b'\n')) => {
            Format::MasscanList
        }
        _ => Format::Plain,
    }
}

/// A source with its first bytes read ahead for [`sniff`] and served again.
pub type Peeked<R> = io::Chain<Cursor<Vec<u8>>, R>;

/// Reads ahead of `reader` far enough to [`sniff`] it, and gives back the format and a
/// reader that yields every byte, the ones looked at included.
pub fn peek<R: BufRead>(name: &str, mut reader: R) -> Result<(Format, Peeked<R>), TargetError> {
    let mut head = Vec::with_capacity(64);
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(unreadable(name, e.to_string())),
        };
        if chunk.is_empty() {
            break;
        }
        let take = chunk.len().min(SNIFF - head.len());
        head.extend_from_slice(&chunk[..take]);
        reader.consume(take);
        // Enough once 32 bytes past the first non-blank one are in (`<!DOCTYPE nmaprun`).
        let decided = head
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .is_some_and(|first| head.len() >= first + 32);
        if decided || head.len() >= SNIFF {
            break;
        }
    }
    Ok((sniff(&head), Cursor::new(head).chain(reader)))
}

/// Reads a scanner file of `format` (not [`Format::Plain`]) and calls `add(origin,
/// "ADDR:PORT")` for every open TCP port in it.
pub fn read<R: BufRead>(
    format: Format,
    name: &str,
    reader: R,
    add: &mut dyn FnMut(&str, &str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    let mut reader = Bounded::new(reader);
    match format {
        Format::Nmap => nmap::read(name, &mut reader, add),
        Format::MasscanJson => masscan::read_json(name, &mut reader, add),
        Format::MasscanList | Format::Plain => masscan::read_list(name, &mut reader, add),
    }
}

/// `ADDR:PORT` for an address a scanner reported, after checking it is an address (a
/// host name, URL or zone in an `addr` field is refused, never resolved); `port` is
/// checked to be 1-65535. The result still goes through [`super::TargetSetBuilder::add`].
pub(crate) fn endpoint_text(origin: &str, addr: &str, port: &str) -> Result<String, TargetError> {
    let addr = addr.trim();
    let invalid = |input: &str, reason: String| TargetError::Invalid {
        origin: origin.to_string(),
        input: input.to_string(),
        reason,
    };
    let ip: IpAddr = addr.parse().map_err(|_| {
        invalid(
            addr,
            "the scanner's address field is not an IPv4 or IPv6 address".into(),
        )
    })?;
    let number: u16 = port
        .trim()
        .parse()
        .ok()
        .filter(|n| *n != 0)
        .ok_or_else(|| invalid(port, "the port must be a number from 1 to 65535".into()))?;
    Ok(match ip {
        IpAddr::V6(_) => format!("[{addr}]:{number}"),
        IpAddr::V4(_) => format!("{addr}:{number}"),
    })
}

/// The error for a source that cannot be read as its format claims.
pub(crate) fn unreadable(name: &str, message: String) -> TargetError {
    TargetError::Unreadable {
        path: name.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_first_non_blank_bytes() {
        for (head, format) in [
            (
                &b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"[..],
                Format::Nmap,
            ),
            (b"\n\n  <nmaprun scanner=\"nmap\">", Format::Nmap),
            (b"<!DOCTYPE nmaprun>", Format::Nmap),
            (b"<html>", Format::Nmap),
            (b"[\n{   \"ip\": ", Format::MasscanJson),
            (b"{\"ip\":\"127.0.0.1\"", Format::MasscanJson),
            (b"#masscan\nopen tcp 80", Format::MasscanList),
            (b"open tcp 80 127.0.0.1 1583252371\n", Format::MasscanList),
            (b"# estate\n127.0.0.1\n", Format::Plain),
            (b"127.0.0.1:9200\n", Format::Plain),
            (b"opentcp.example\n", Format::Plain),
            (b"[::1]:9200\n", Format::Plain),
            (b"[2001:db8::1]\n127.0.0.1\n", Format::Plain),
            (b"#masscanned hosts\n127.0.0.1\n", Format::Plain),
            (b"[\n]\n", Format::MasscanJson),
            (b"[", Format::MasscanJson),
            (b"#masscan\r\n", Format::MasscanList),
            (b"#masscan", Format::MasscanList),
            (b"", Format::Plain),
            (b"   \n", Format::Plain),
        ] {
            assert_eq!(sniff(head), format, "{:?}", String::from_utf8_lossy(head));
        }
    }

    /// A reader that hands out one byte per `fill_buf`, as a slow pipe may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    impl BufRead for Trickle<'_> {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            Ok(&self.0[..self.0.len().min(1)])
        }
        fn consume(&mut self, amount: usize) {
            self.0 = &self.0[amount..];
        }
    }

    #[test]
    fn peeking_gives_every_byte_back_even_from_a_trickle() {
        let text = b"\n\n<!DOCTYPE nmaprun>\n<nmaprun scanner=\"nmap\"></nmaprun>\n";
        let (format, mut reader) = peek("t", Trickle(text)).expect("peek");
        assert_eq!(format, Format::Nmap);
        let mut all = Vec::new();
        reader.read_to_end(&mut all).expect("read");
        assert_eq!(all, text);
        let (format, mut reader) = peek("t", &b"127.0.0.1\n"[..]).expect("peek");
        assert_eq!(format, Format::Plain);
        let mut all = String::new();
        reader.read_to_string(&mut all).expect("read");
        assert_eq!(all, "127.0.0.1\n");
    }

    /// Records split across reads (a pipe handing out one byte at a time) give the same
    /// targets as the whole file at once, in every format.
    #[test]
    fn records_split_across_reads_parse_the_same() {
        for fixture in [
            &include_bytes!("../../../tests/data/import/nmap-7.94.xml")[..],
            include_bytes!("../../../tests/data/import/masscan-1.3.2.xml"),
            include_bytes!("../../../tests/data/import/masscan-1.3.2.json"),
            include_bytes!("../../../tests/data/import/masscan-1.0.5.json"),
            include_bytes!("../../../tests/data/import/masscan-1.0.4.json"),
            include_bytes!("../../../tests/data/import/masscan-1.3.2.ndjson"),
            include_bytes!("../../../tests/data/import/masscan-1.3.2.txt"),
        ] {
            let collect = |reader: &mut dyn BufRead| {
                let (format, reader) = peek("f", reader).expect("peek");
                let mut seen = Vec::new();
                read(format, "f", reader, &mut |origin, target| {
                    seen.push(format!("{origin} {target}"));
                    Ok(())
                })
                .expect("reads");
                seen
            };
            let whole = collect(&mut &fixture[..]);
            assert!(whole.len() >= 2, "{whole:?}");
            assert_eq!(collect(&mut Trickle(fixture)), whole);
        }
    }

    /// A plain list is read as before the sniffer: an IPv6 target first is no JSON
    /// array, and line numbers count the lines the sniffer looked at.
    #[test]
    fn plain_lists_read_as_before() {
        let mut builder = crate::targets::TargetSetBuilder::new(10);
        let error = builder
            .add_lines(
                "targets.txt",
                "[::1]:9200\n\n# estate\n127.0.0.1:notaport\n",
            )
            .expect_err("bad line");
        assert_eq!(
            error.to_string(),
            "targets.txt:4: \"127.0.0.1:notaport\": port \"notaport\" must be a number from 1 to 65535"
        );
        assert_eq!(builder.inputs(), 1, "[::1]:9200 was read as a target");
    }

    #[test]
    fn endpoint_text_takes_addresses_only() {
        assert_eq!(
            endpoint_text("o", "192.0.2.7", "80").expect("v4"),
            "192.0.2.7:80"
        );
        assert_eq!(
            endpoint_text("o", "2001:db8::1", "443").expect("v6"),
            "[2001:db8::1]:443"
        );
        for (addr, port) in [
            ("localhost", "80"),
            ("http://192.0.2.7/", "80"),
            ("fe80::1%eth0", "80"),
            ("192.0.2.7", "0"),
            ("192.0.2.7", "65536"),
            ("192.0.2.7", "80/tcp"),
        ] {
            let error = endpoint_text("scan.xml host 1", addr, port).expect_err(addr);
            assert!(
                error.to_string().starts_with("scan.xml host 1: "),
                "{error}"
            );
        }
    }
}
