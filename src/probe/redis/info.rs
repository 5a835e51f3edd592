//! The `INFO` reply, read the way Redis writes it (`# Section` headers, `field:value` lines,
//! CRLF line ends) and only for metadata: product and version, `redis_mode`, `role`, the
//! keyspace counts (`db0:keys=2,expires=0,avg_ttl=0`), Sentinel's master count. Key names
//! and values are never in INFO, and nothing else of it is kept.
//!
//! Field names from the INFO command reference (redis.io/docs/latest/commands/info/) and the
//! Redis 7.0.15 reply captured in `tests/fixtures/redis/` (see its SOURCES.md). Valkey 7.2.5+
//! adds `valkey_version` and `server_name:valkey` and keeps `redis_version` for clients.

/// What an INFO reply says about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Info {
    /// `Redis` or `Valkey`.
    pub(super) product: &'static str,
    /// `valkey_version` for Valkey, `redis_version` otherwise.
    pub(super) version: String,
    /// `redis_mode`: `standalone`, `cluster`, `sentinel` (absent before 2.8).
    pub(super) mode: Option<String>,
    /// `role`: `master` or `slave`.
    pub(super) role: Option<String>,
    /// The `# Keyspace` section's databases, `None` when the section is missing.
    pub(super) keyspace: Option<Vec<Db>>,
    /// Sentinel's `sentinel_masters`.
    pub(super) sentinel_masters: Option<u64>,
}

/// One `dbN:keys=K,expires=E,...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Db {
    /// `db0`.
    pub(super) name: String,
    /// `keys`.
    pub(super) keys: u64,
    /// `expires`.
    pub(super) expires: u64,
}

impl Info {
    /// Whether the server is a Sentinel, which holds no keys.
    pub(super) fn is_sentinel(&self) -> bool {
        self.mode.as_deref() == Some("sentinel")
    }

    /// The facts for the evidence: version, mode, role and the keyspace counts.
    pub(super) fn facts(&self, size: usize) -> String {
        let mut facts = format!(
            "bulk string of {size} bytes: {} {}",
            self.version_field(),
            self.version
        );
        if let Some(mode) = &self.mode {
            facts.push_str(&format!(", redis_mode {mode}"));
        }
        if let Some(role) = &self.role {
            facts.push_str(&format!(", role {role}"));
        }
        if let Some(masters) = self.sentinel_masters {
            facts.push_str(&format!(", sentinel_masters {masters}"));
        }
        match &self.keyspace {
            None => facts.push_str(", no # Keyspace section"),
            Some(dbs) if dbs.is_empty() => facts.push_str(", # Keyspace empty"),
            Some(dbs) => {
                let shown: Vec<String> = dbs
                    .iter()
                    .take(16)
                    .map(|d| format!("{} keys={} expires={}", d.name, d.keys, d.expires))
                    .collect();
                facts.push_str(&format!(", keyspace {}", shown.join("; ")));
                if dbs.len() > 16 {
                    facts.push_str(&format!(" and {} more", dbs.len() - 16));
                }
            }
        }
        facts
    }

    fn version_field(&self) -> &'static str {
        if self.product == "Valkey" {
            "valkey_version"
        } else {
            "redis_version"
        }
    }
}

/// Whether `v` looks like a server version: digits and dots, `7.0.15`.
fn is_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 32
        && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && v.starts_with(|c: char| c.is_ascii_digit())
}

/// Reads one `dbN:keys=K,expires=E[,avg_ttl=T,...]` line; `None` if it is not that shape.
fn keyspace_line(field: &str, value: &str) -> Option<Db> {
    let index = field.strip_prefix("db")?;
    if index.is_empty() || index.len() > 10 || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut keys = None;
    let mut expires = None;
    for pair in value.split(',') {
        let (k, v) = pair.split_once('=')?;
        let n: u64 = v.parse().ok()?;
        match k {
            "keys" => keys = Some(n),
            "expires" => expires = Some(n),
            _ => {}
        }
    }
    Some(Db {
        name: field.to_string(),
        keys: keys?,
        expires: expires?,
    })
}

/// Parses an INFO reply. `None` unless it is shaped like Redis's: every line a `# Section`
/// header, a `field:value` pair or empty, a `# Server` section with a numeric
/// `redis_version`, and every keyspace line well-formed.
pub(super) fn parse(bytes: &[u8]) -> Option<Info> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut section = String::new();
    let mut saw_server = false;
    let mut redis_version = None;
    let mut valkey_version = None;
    let mut valkey_name = false;
    let mut mode = None;
    let mut role = None;
    let mut keyspace: Option<Vec<Db>> = None;
    let mut sentinel_masters = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("# ") {
            section = name.trim().to_ascii_lowercase();
            match section.as_str() {
                "server" => saw_server = true,
                "keyspace" => keyspace = Some(keyspace.unwrap_or_default()),
                _ => {}
            }
            continue;
        }
        let (field, value) = line.split_once(':')?;
        if field.is_empty() || field.contains(char::is_whitespace) {
            return None;
        }
        match (section.as_str(), field) {
            ("server", "redis_version") => redis_version = Some(value.to_string()),
            ("server", "valkey_version") => valkey_version = Some(value.to_string()),
            ("server", "server_name") => valkey_name = value == "valkey",
            ("server", "redis_mode") => mode = Some(clean(value)),
            ("replication", "role") => role = Some(clean(value)),
            ("sentinel", "sentinel_masters") => sentinel_masters = value.parse().ok(),
            ("keyspace", _) => keyspace
                .get_or_insert_with(Vec::new)
                .push(keyspace_line(field, value)?),
            _ => {}
        }
    }
    if !saw_server {
        return None;
    }
    let redis_version = redis_version.filter(|v| is_version(v))?;
    let (product, version) = match valkey_version.filter(|v| is_version(v)) {
        Some(v) => ("Valkey", v),
        None if valkey_name => ("Valkey", redis_version),
        None => ("Redis", redis_version),
    };
    Some(Info {
        product,
        version,
        mode,
        role,
        keyspace,
        sentinel_masters,
    })
}

/// A short, printable copy of a server word (`standalone`, `master`).
fn clean(value: &str) -> String {
    crate::sanitize::clip(value, 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keyspace_lines_and_rejects_other_shapes() {
        assert_eq!(
            keyspace_line("db3", "keys=12,expires=1,avg_ttl=0,subexpiry=0"),
            Some(Db {
                name: "db3".into(),
                keys: 12,
                expires: 1
            })
        );
        for (field, value) in [
            ("db", "keys=1,expires=0"),
            ("dbx", "keys=1,expires=0"),
            ("db0", "keys=-1,expires=0"),
            ("db0", "keys=1"),
            ("db0", "keys=1;expires=0"),
            ("db0", "keys=99999999999999999999999,expires=0"),
        ] {
            assert_eq!(keyspace_line(field, value), None, "{field}:{value}");
        }
    }

    #[test]
    fn needs_a_server_section_with_a_numeric_version() {
        assert!(parse(b"# Server\r\nredis_version:7.0.15\r\n").is_some());
        assert!(parse(b"redis_version:7.0.15\r\n").is_none());
        assert!(parse(b"# Server\r\nredis_version:seven\r\n").is_none());
        assert!(parse(b"# Server\r\nredis_version:7.0.15\r\n<html>\r\n").is_none());
        assert!(
            parse(b"# Server\r\nredis_version:7.0.15\r\n# Keyspace\r\ndb0:keys=x\r\n").is_none()
        );
        let valkey = parse(
            b"# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\n",
        )
        .expect("valkey");
        assert_eq!(
            (valkey.product, valkey.version.as_str()),
            ("Valkey", "8.0.1")
        );
    }
}
