//! `{name}` placeholders in request paths, bodies, headers and summaries. Only
//! `{identifier}` is a placeholder, so JSON bodies (`{"key": 1}`) stay literal.

/// A text with placeholders, parsed once at compile time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Var(String),
}

/// How a substituted value is written into its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// Percent-encoded: a URL path or query, or a form body.
    Percent,
    /// Escaped as inside a JSON string.
    Json,
    /// As is, control characters dropped (headers, summaries).
    Plain,
}

impl Template {
    /// Splits `text` into literals and `{identifier}` placeholders.
    pub(super) fn parse(text: &str) -> Template {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let (before, after) = rest.split_at(open);
            lit.push_str(before);
            let inner = &after[1..];
            match inner.find('}') {
                Some(close) if is_identifier(&inner[..close]) => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Var(inner[..close].to_string()));
                    rest = &inner[close.saturating_add(1)..];
                }
                _ => {
                    lit.push('{');
                    rest = inner;
                }
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Template { parts }
    }

    /// The placeholder names, in order, repeats kept.
    /// The text before the first placeholder: what is known of the value before sending.
    pub(super) fn literal_prefix(&self) -> String {
        self.parts
            .iter()
            .map_while(|p| match p {
                Part::Lit(text) => Some(text.as_str()),
                Part::Var(_) => None,
            })
            .collect()
    }

    pub(super) fn vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Fills the placeholders; the first one `lookup` has no value for is the error.
    pub(super) fn render(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        encoding: Encoding,
    ) -> Result<String, String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(lit) => out.push_str(lit),
                Part::Var(var) => match lookup(var) {
                    Some(value) => encode(&value, encoding, &mut out),
                    None => return Err(var.clone()),
                },
            }
        }
        Ok(out)
    }

    /// Fills the placeholders, writing `missing` for those without a value.
    pub(super) fn render_or(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
        missing: &str,
    ) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(lit) => out.push_str(lit),
                Part::Var(var) => match lookup(var) {
                    Some(value) => encode(&value, Encoding::Plain, &mut out),
                    None => out.push_str(missing),
                },
            }
        }
        out
    }
}

/// `[A-Za-z_][A-Za-z0-9_-]*`.
pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn encode(value: &str, encoding: Encoding, out: &mut String) {
    match encoding {
        Encoding::Percent => {
            for byte in value.bytes() {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                    out.push(char::from(byte));
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        Encoding::Json => {
            let quoted = serde_json::Value::String(value.to_string()).to_string();
            out.push_str(quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or(""));
        }
        Encoding::Plain => out.extend(value.chars().filter(|c| !c.is_control())),
    }
}
