//! The two YAML shapes beanstalkd answers its `stats*` and `list-*` commands with
//! (doc/protocol.txt): after `OK <bytes>\r\n`, a document `---\n` followed by `key: value`
//! lines (a dictionary of scalars) or `- item` lines (a list of scalars), then `\r\n`.
//! Only these shapes are accepted: anything else is not beanstalkd.

/// The length an `OK <bytes>` line announces; `None` for any other line.
pub fn ok_len(line: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(line.strip_prefix(b"OK ")?).ok()?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A `---` dictionary of scalars, in order; `None` unless every line is `key: value` with a
/// lowercase key of letters, digits and dashes.
pub fn dict(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    let rest = text.strip_prefix("---\n")?;
    let mut pairs = Vec::new();
    for line in rest.lines() {
        let (key, value) = line
            .split_once(": ")
            .or_else(|| line.strip_suffix(':').map(|k| (k, "")))?;
        let key_ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !key_ok {
            return None;
        }
        pairs.push((key.to_string(), unquote(value).to_string()));
    }
    Some(pairs)
}

/// A `---` list of scalars; `None` unless every line is `- item`.
pub fn list(body: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(body).ok()?;
    let rest = text.strip_prefix("---\n")?;
    rest.lines()
        .map(|line| {
            line.strip_prefix("- ")
                .map(|item| unquote(item).to_string())
        })
        .collect()
}

/// A scalar without the double quotes beanstalkd 1.11+ puts around `version`.
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// The numeric value of `key` in a dictionary.
pub fn number(pairs: &[(String, String)], key: &str) -> Option<u64> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// The text value of `key` in a dictionary.
pub fn text<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Whether `name` is a tube name beanstalkd accepts (doc/protocol.txt, "Names": letters,
/// digits and `-+/;.$_()`, 1-200 bytes, not starting with `-`), so it can be sent back in
/// `stats-tube` without smuggling a second command.
pub fn valid_tube(name: &str) -> bool {
    (1..=200).contains(&name.len())
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-+/;.$_()".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(ok_len(b"OK 32"), Some(32));
        assert_eq!(ok_len(b"OK -1"), None);
        assert_eq!(ok_len(b"OK "), None);
        assert_eq!(ok_len(b"UNKNOWN_COMMAND"), None);
        let d = dict(b"---\nversion: \"1.12\"\ntotal-jobs: 3\n").expect("dict");
        assert_eq!(text(&d, "version"), Some("1.12"));
        assert_eq!(number(&d, "total-jobs"), Some(3));
        assert_eq!(dict(b"---\nHello World\n"), None);
        assert_eq!(dict(b"version: 1\n"), None);
        assert_eq!(
            list(b"---\n- default\n- a_b\n"),
            Some(vec!["default".into(), "a_b".into()])
        );
        assert_eq!(list(b"---\n- default\nkey: v\n"), None);
        assert!(valid_tube("ajar_probe_tube"));
        assert!(!valid_tube("a\r\nput 0 0 1 1"));
        assert!(!valid_tube("-x"));
        assert!(!valid_tube(""));
    }
}
