//! masscan's output files as targets. Formats as masscan's source writes them
//! (robertdavidgraham/masscan, `src/out-json.c`, `src/out-ndjson.c`, `src/out-text.c`;
//! options in its README and `src/main-conf.c`):
//!
//! - `-oJ` since 1.0.5 (2018): `[`, one object per line, `]`. 1.0.5 ends every object
//!   with `,` (a trailing comma before `]`); 1.3.0 and later put the comma first.
//! - `-oJ` in 1.0.4 (2017) and earlier: no brackets, `},` after every object and a last
//!   line `{finished: 1}` with an unquoted key. Before late 2014 every key was unquoted;
//!   such files are refused with the line named.
//! - `-oD` (`--output-format ndjson`, since 1.0.5): one object per line, port fields at
//!   the top level, `"rec_type":"status"` and the state in `"data":{"status":...}`.
//! - `-oL`: `#masscan`, then `open tcp 80 127.0.0.1 1583252371` lines (status, protocol,
//!   port, address, time), `banner ...` lines with `--banners`, and `# end`.
//!
//! Only `open` TCP ports become targets; banner records, closed ports and other
//! protocols (ICMP, ARP, UDP, SCTP) are skipped.

use std::io::BufRead;

use serde_json::Value;

use super::{Bounded, MAX_RECORD, endpoint_text, unreadable};
use crate::targets::TargetError;

/// Deepest nesting inside one JSON record (masscan writes three levels).
const MAX_DEPTH: usize = 16;

/// Reads masscan JSON (`-oJ`, any version) or ndjson (`-oD`): a stream of top-level
/// objects, optionally inside `[ ]`, separated by commas or newlines. An object cut off
/// by the end of the file (masscan killed while writing) is dropped.
pub(crate) fn read_json<R: BufRead>(
    name: &str,
    reader: &mut Bounded<R>,
    add: &mut dyn FnMut(&str, &str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    let mut line = 1usize;
    let mut object: Vec<u8> = Vec::new();
    let mut start_line = 1usize;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(reader
                    .limit_error(name, "a JSON object")
                    .unwrap_or_else(|| unreadable(name, e.to_string())));
            }
        };
        if chunk.is_empty() {
            return Ok(());
        }
        let mut used = 0;
        let mut done: Option<(usize, Vec<u8>)> = None;
        for &byte in chunk {
            used += 1;
            if byte == b'\n' {
                line = line.saturating_add(1);
            }
            if depth == 0 {
                match byte {
                    b'{' => {
                        depth = 1;
                        start_line = line;
                        object.clear();
                        object.push(byte);
                    }
                    b'[' | b']' | b',' => {}
                    b if b.is_ascii_whitespace() => {}
                    other => {
                        return Err(TargetError::Invalid {
                            origin: format!("{name}:{line}"),
                            input: String::from_utf8_lossy(&[other]).into_owned(),
                            reason: "not masscan JSON (-oJ or -oD): expected an object".into(),
                        });
                    }
                }
                continue;
            }
            object.push(byte);
            if in_string {
                match (escaped, byte) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            match byte {
                b'"' => in_string = true,
                b'{' | b'[' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(TargetError::Invalid {
                            origin: format!("{name}:{start_line}"),
                            input: clip_bytes(&object),
                            reason: format!(
                                "nested deeper than {MAX_DEPTH} levels; not a masscan record"
                            ),
                        });
                    }
                }
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        done = Some((start_line, std::mem::take(&mut object)));
                        break;
                    }
                }
                _ => {}
            }
        }
        reader.consume(used);
        if depth == 0 {
            // Blank space and commas between records count towards the total only.
            reader.mark();
        }
        if let Some((at, record)) = done {
            record_targets(&format!("{name}:{at}"), &record, add)?;
        } else if object.len() > MAX_RECORD {
            return Err(reader
                .limit_error(name, "a JSON object")
                .unwrap_or_else(|| {
                    unreadable(
                        name,
                        format!(
                            "a JSON object is longer than {} MiB; not the output of a port scanner",
                            MAX_RECORD >> 20
                        ),
                    )
                }));
        }
    }
}

/// The first bytes of a record, for an error message.
fn clip_bytes(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(80)]).into_owned()
}

/// Adds the open TCP ports of one masscan JSON or ndjson record.
fn record_targets(
    origin: &str,
    record: &[u8],
    add: &mut dyn FnMut(&str, &str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    let invalid = |reason: String| TargetError::Invalid {
        origin: origin.to_string(),
        input: clip_bytes(record),
        reason,
    };
    let value: Value = match serde_json::from_slice(record) {
        Ok(value) => value,
        Err(_) if is_finished_marker(record) => return Ok(()),
        Err(e) => return Err(invalid(format!("not a masscan JSON record: {e}"))),
    };
    let Some(ip) = value.get("ip").and_then(Value::as_str) else {
        return Err(invalid(
            "no \"ip\" field; not a masscan record (-oJ or -oD)".into(),
        ));
    };
    let port_of = |entry: &Value| -> Result<String, TargetError> {
        match entry.get("port").and_then(Value::as_u64) {
            Some(port) => Ok(port.to_string()),
            None => Err(invalid("\"port\" is not a number".into())),
        }
    };
    let is =
        |entry: &Value, key: &str, want: &str| entry.get(key).and_then(Value::as_str) == Some(want);
    if let Some(ports) = value.get("ports") {
        // -oJ: {"ip": ..., "ports": [{"port": 80, "proto": "tcp", "status": "open", ...}]}
        let Some(ports) = ports.as_array() else {
            return Err(invalid("\"ports\" is not a list".into()));
        };
        for entry in ports {
            if is(entry, "proto", "tcp") && is(entry, "status", "open") {
                add(origin, &endpoint_text(origin, ip, &port_of(entry)?)?)?;
            }
        }
        Ok(())
    } else if value.get("rec_type").is_some() {
        // -oD: {"ip": ..., "port": 80, "proto": "tcp", "rec_type": "status",
        //       "data": {"status": "open", ...}}
        let open = value
            .get("data")
            .is_some_and(|data| is(data, "status", "open"));
        if is(&value, "rec_type", "status") && is(&value, "proto", "tcp") && open {
            add(origin, &endpoint_text(origin, ip, &port_of(&value)?)?)?;
        }
        Ok(())
    } else {
        Err(invalid(
            "neither \"ports\" nor \"rec_type\"; not a masscan record (-oJ or -oD)".into(),
        ))
    }
}

/// `{finished: 1}`, the last line of masscan 1.0.4 and earlier `-oJ` files (not JSON:
/// the key is unquoted).
fn is_finished_marker(record: &[u8]) -> bool {
    let compact: Vec<u8> = record
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    compact == b"{finished:1}"
}

/// Reads masscan's list format (`-oL`): `open tcp PORT ADDR TIME` lines become targets,
/// `#` lines and other statuses (`closed`, `banner`, ...) are skipped, and a line of any
/// other shape is an error naming it.
pub(crate) fn read_list<R: BufRead>(
    name: &str,
    reader: &mut Bounded<R>,
    add: &mut dyn FnMut(&str, &str) -> Result<(), TargetError>,
) -> Result<(), TargetError> {
    let mut buf = Vec::with_capacity(256);
    let mut number = 0usize;
    loop {
        buf.clear();
        number = number.saturating_add(1);
        reader.mark();
        let read = match reader.read_until(b'\n', &mut buf) {
            Ok(read) => read,
            Err(e) => {
                return Err(reader
                    .limit_error(name, &format!("line {number}"))
                    .unwrap_or_else(|| unreadable(name, e.to_string())));
            }
        };
        if read == 0 {
            return Ok(());
        }
        let origin = format!("{name}:{number}");
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = text.split_ascii_whitespace().take(4).collect();
        let known = ["open", "closed", "up", "unknown", "banner"];
        let &[status, proto, port, addr] = fields.as_slice() else {
            return Err(not_a_list_line(&origin, text));
        };
        if !known.contains(&status) {
            return Err(not_a_list_line(&origin, text));
        }
        if status == "open" && proto == "tcp" {
            add(&origin, &endpoint_text(&origin, addr, port)?)?;
        }
    }
}

/// The error for a line that is not in masscan's `-oL` shape.
fn not_a_list_line(origin: &str, text: &str) -> TargetError {
    TargetError::Invalid {
        origin: origin.to_string(),
        input: text.to_string(),
        reason: "not a masscan -oL line (\"open tcp PORT ADDRESS TIME\")".into(),
    }
}

#[cfg(test)]
#[path = "masscan_tests.rs"]
mod tests;
