//! The example files may name loopback addresses only (127.0.0.0/8 and ::1).

use std::net::IpAddr;

use regex::Regex;

use super::EXAMPLES;

/// `Err` with the reason when `target` (a targets.txt line, an `exclude` or `scope` entry,
/// an accepted endpoint) is anything but a loopback IP literal or a block inside
/// 127.0.0.0/8: host names are refused too, since the examples must not send traffic
/// anywhere else.
pub fn target(target: &str) -> Result<(), String> {
    let host_port = match target.split_once("://") {
        Some((_, rest)) => rest.split('/').next().unwrap_or_default(),
        None => target,
    };
    if let Some((addr, prefix)) = host_port.split_once('/') {
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| format!("{target:?}: prefix {prefix:?} is not a number"))?;
        return match addr.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) if (8..=32).contains(&prefix) && a.is_loopback() => Ok(()),
            Ok(IpAddr::V6(a)) if prefix == 128 && a.is_loopback() => Ok(()),
            _ => Err(format!("{target:?} is not a block inside 127.0.0.0/8")),
        };
    }
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else if host_port.matches(':').count() == 1 {
        host_port.split(':').next().unwrap_or_default()
    } else {
        host_port
    };
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok(()),
        Ok(ip) => Err(format!("{target:?}: {ip} is not loopback")),
        Err(_) => Err(format!("{target:?}: {host:?} is not an IP address")),
    }
}

/// Every address-looking token of `text`, comments included: four dotted numbers, or hex
/// groups with at least two colons (IPv6). Each must parse and be loopback.
pub fn tokens(text: &str) -> Result<Vec<String>, String> {
    let v4 = Regex::new(r"\b\d+(?:\.\d+){3}\b").map_err(|e| e.to_string())?;
    let v6 = Regex::new(r"[0-9A-Fa-f]*(?::[0-9A-Fa-f]*){2,}").map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    for m in v4.find_iter(text).chain(v6.find_iter(text)) {
        let token = m.as_str();
        match token.parse::<IpAddr>() {
            Ok(ip) if ip.is_loopback() => found.push(token.to_string()),
            Ok(ip) => return Err(format!("{ip} is not loopback")),
            Err(_) => return Err(format!("{token:?} looks like an address but is not one")),
        }
    }
    Ok(found)
}

#[test]
fn the_config_and_the_target_list_name_only_loopback_addresses() {
    let targets = std::fs::read_to_string(format!("{EXAMPLES}/targets.txt")).expect("targets");
    let lines: Vec<&str> = targets
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 7);
    for line in &lines {
        assert_eq!(target(line), Ok(()));
    }
    assert_eq!(tokens(&targets).map(|t| t.len()), Ok(8));

    let text = std::fs::read_to_string(format!("{EXAMPLES}/ajar.toml")).expect("ajar.toml");
    assert_eq!(tokens(&text).map(|t| t.len()), Ok(7));
    let config: toml::Table = text.parse().expect("ajar.toml is TOML");
    let keys: Vec<&String> = config.keys().collect();
    assert_eq!(
        keys,
        [
            "accept",
            "concurrency",
            "default-credentials",
            "exclude",
            "max-hosts",
            "per-host",
            "probe-timeout",
            "rate-limit",
            "scope",
            "severity",
            "timeout",
            "verify-tls",
        ]
    );
    let strings = |key: &str| -> Vec<String> {
        config[key]
            .as_array()
            .expect("an array")
            .iter()
            .map(|v| v.as_str().expect("a string").to_string())
            .collect()
    };
    assert_eq!(strings("scope"), ["127.0.0.0/8"]);
    for t in strings("scope").iter().chain(&strings("exclude")) {
        assert_eq!(target(t), Ok(()));
    }
    let accepted = config["accept"].as_array().expect("[[accept]]");
    assert_eq!(accepted.len(), 2);
    for a in accepted {
        let a = a.as_table().expect("a table");
        let fields: Vec<&String> = a.keys().collect();
        assert_eq!(fields, ["check", "endpoint", "expires", "reason"]);
        assert_eq!(target(a["endpoint"].as_str().expect("endpoint")), Ok(()));
    }
    let severity: Vec<(&str, &str)> = config["severity"]
        .as_table()
        .expect("[severity]")
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().expect("a severity")))
        .collect();
    assert_eq!(severity, [("redis-open", "critical")]);
    // The checker refuses what it must.
    for bad in [
        "10.0.0.1",
        "[2001:db8::1]:9200",
        "127.0.0.0/7",
        "db.internal:5432",
    ] {
        assert!(target(bad).is_err(), "{bad}");
    }
    assert!(tokens("# once 192.0.2.7").is_err());
}
