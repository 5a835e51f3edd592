//! Reading target lists (files, stdin) with bounds: a line longer than [`MAX_LINE`] or a
//! source larger than [`MAX_INPUT`] is an error naming where, read in constant memory, so
//! `-i /dev/zero` or an endless pipe ends with a message, not with the machine's memory.

use std::io::{BufRead, Read};

use super::TargetError;

/// Longest target line, in bytes: far above any host, block or URL prefix.
pub const MAX_LINE: usize = 4096;
/// Largest target source, in bytes (about four million `host:port` lines).
pub const MAX_INPUT: u64 = 64 << 20;

/// Calls `line(origin, text)` for every line of `reader` (`origin` is `name:N`), stopping
/// at the first error it or the bounds raise.
pub fn for_each_line<R: BufRead>(
    name: &str,
    reader: R,
    mut line: impl FnMut(&str, &str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    // One byte past the cap tells "at the cap" from "over it".
    let mut reader = reader.take(MAX_INPUT + 1);
    let mut buf = Vec::with_capacity(256);
    let mut number = 0usize;
    let mut consumed: u64 = 0;
    loop {
        buf.clear();
        number += 1;
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| TargetError::Unreadable {
                path: name.to_string(),
                message: e.to_string(),
            })?;
        if read == 0 {
            return Ok(());
        }
        consumed += read as u64;
        if consumed > MAX_INPUT {
            return Err(TargetError::Unreadable {
                path: name.to_string(),
                message: format!(
                    "more than {} MiB of targets; split the list or give blocks (127.0.0.0/16) instead of addresses",
                    MAX_INPUT >> 20
                ),
            });
        }
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.len() > MAX_LINE || (read > MAX_LINE && !buf.ends_with(b"\n")) {
            return Err(TargetError::Invalid {
                origin: format!("{name}:{number}"),
                input: String::from_utf8_lossy(&text[..text.len().min(40)]).into_owned(),
                reason: format!(
                    "the line is longer than {MAX_LINE} bytes; a target is one host, block or URL"
                ),
            });
        }
        let text = std::str::from_utf8(text).map_err(|_| TargetError::Invalid {
            origin: format!("{name}:{number}"),
            input: String::from_utf8_lossy(&text[..text.len().min(40)]).into_owned(),
            reason: "the line is not UTF-8 text".into(),
        })?;
        line(&format!("{name}:{number}"), text)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Result<Vec<(String, String)>, TargetError> {
        let mut seen = Vec::new();
        for_each_line("t", input, |origin, text| {
            seen.push((origin.to_string(), text.to_string()));
            Ok(())
        })?;
        Ok(seen)
    }

    #[test]
    fn reads_lines_with_origins() {
        let seen = lines(b"a\r\nb\n\nc").expect("fine");
        let texts: Vec<&str> = seen.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["a", "b", "", "c"]);
        assert_eq!(seen[3].0, "t:4");
    }

    #[test]
    fn refuses_endless_lines_and_inputs_in_constant_memory() {
        let zeros = std::io::repeat(0).take(1 << 30);
        let error = for_each_line("/dev/zero", std::io::BufReader::new(zeros), |_, _| Ok(()))
            .expect_err("no newline in sight");
        let text = error.to_string();
        assert!(text.starts_with("/dev/zero:1: "), "{text}");
        assert!(text.contains("longer than 4096 bytes"), "{text}");
        assert!(text.len() < 300, "{} bytes: {text}", text.len());

        // Valid-length lines, endlessly: the source cap ends it.
        let mut line = vec![b'#'; 4000];
        line.push(b'\n');
        let endless = std::io::Cursor::new(line)
            .chain(std::io::repeat(b'#'))
            .take(MAX_INPUT + 10);
        let endless = LinesOf4000(endless, 0);
        let error = for_each_line("stdin", std::io::BufReader::new(endless), |_, _| Ok(()))
            .expect_err("too much input");
        assert!(error.to_string().contains("more than 64 MiB"), "{error}");
    }

    /// Turns an endless stream into 4000-byte lines (a newline every 4001 bytes).
    struct LinesOf4000<R>(R, usize);

    impl<R: Read> Read for LinesOf4000<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            for b in &mut buf[..n] {
                self.1 += 1;
                if self.1.is_multiple_of(4001) {
                    *b = b'\n';
                }
            }
            Ok(n)
        }
    }

    #[test]
    fn refuses_binary_lines() {
        let error = lines(b"127.0.0.1\n\xff\xfe\n").expect_err("not UTF-8");
        assert!(error.to_string().starts_with("t:2: "), "{error}");
    }
}
