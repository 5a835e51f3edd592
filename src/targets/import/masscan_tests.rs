//! Tests of [`super`] (masscan JSON, ndjson, list). Fixtures: `tests/data/import/` (its
//! README names the masscan version and source file each follows); inline records are
//! the same shapes with the change each tests said beside it.

use std::io::Read;

use crate::targets::TargetError;
use crate::targets::import::{Format, read, sniff};

const JSON_1_3: &str = include_str!("../../../tests/data/import/masscan-1.3.2.json");
const JSON_1_0_5: &str = include_str!("../../../tests/data/import/masscan-1.0.5.json");
const JSON_1_0_4: &str = include_str!("../../../tests/data/import/masscan-1.0.4.json");
const NDJSON: &str = include_str!("../../../tests/data/import/masscan-1.3.2.ndjson");
const LIST: &str = include_str!("../../../tests/data/import/masscan-1.3.2.txt");

fn targets_in(format: Format, input: impl std::io::BufRead) -> Result<Vec<String>, TargetError> {
    let mut seen = Vec::new();
    read(format, "scan", input, &mut |origin, target| {
        seen.push(format!("{origin} {target}"));
        Ok(())
    })?;
    Ok(seen)
}

fn targets(text: &str) -> Result<Vec<String>, TargetError> {
    let format = sniff(text.as_bytes());
    assert_ne!(format, Format::Plain, "{text}");
    targets_in(format, text.as_bytes())
}

/// 1.3.x `-oJ`: open TCP ports only; the banner record, the UDP and the closed port are
/// skipped.
#[test]
fn reads_json_of_masscan_1_3() {
    assert_eq!(
        targets(JSON_1_3).expect("1.3"),
        ["scan:2 192.0.2.1:9200", "scan:6 [2001:db8::5]:8080"]
    );
}

/// 1.0.5's trailing comma before `]`, and 1.0.4's bracketless lines ending in `{finished:
/// 1}`.
#[test]
fn tolerates_the_quirks_of_old_versions() {
    let expected = ["scan:2 192.0.2.1:9200", "scan:3 192.0.2.3:27017"];
    assert_eq!(targets(JSON_1_0_5).expect("1.0.5"), expected);
    assert_eq!(
        targets(JSON_1_0_4).expect("1.0.4"),
        ["scan:1 192.0.2.1:9200", "scan:2 192.0.2.3:27017"]
    );
    // Keys without quotes (masscan before late 2014) are not JSON: refused, line named.
    let error = targets("{ ip: \"192.0.2.1\", ports: [ {port: 80, proto: \"tcp\"} ] },\n")
        .expect_err("unquoted");
    assert!(
        error
            .to_string()
            .starts_with("scan:1: \"{ ip: \"192.0.2.1\", ports: "),
        "{error}"
    );
}

#[test]
fn reads_ndjson() {
    assert_eq!(
        targets(NDJSON).expect("ndjson"),
        ["scan:1 192.0.2.1:9200", "scan:3 [2001:db8::5]:8080"]
    );
}

#[test]
fn reads_the_list_format() {
    assert_eq!(
        targets(LIST).expect("list"),
        ["scan:2 192.0.2.1:9200", "scan:4 [2001:db8::5]:8080"]
    );
    let error = targets("#masscan\nopen tcp 80 192.0.2.1 1772468372\n192.0.2.7:80\n")
        .expect_err("a plain target line");
    assert_eq!(
        error.to_string(),
        "scan:3: \"192.0.2.7:80\": not a masscan -oL line (\"open tcp PORT ADDRESS TIME\")"
    );
    let error = targets("open tcp 80 db.example 1772468372\n").expect_err("a name");
    assert_eq!(
        error.to_string(),
        "scan:1: \"db.example\": the scanner's address field is not an IPv4 or IPv6 address"
    );
}

/// A record cut off by the end of the file is dropped; the complete ones are kept.
#[test]
fn a_truncated_json_file_keeps_its_complete_records() {
    let cut = &JSON_1_3[..JSON_1_3.find("\"2001:db8::5\"").expect("v6")];
    assert_eq!(targets(cut).expect("cut"), ["scan:2 192.0.2.1:9200"]);
}

#[test]
fn json_that_is_not_masscan_is_an_error() {
    for (text, message) in [
        (
            "[{\"ip\": \"192.0.2.1\", \"ports\": []},\n7]",
            "scan:2: \"7\": not masscan JSON (-oJ or -oD): expected an object",
        ),
        (
            "{\"name\": \"x\"}",
            "scan:1: \"{\"name\": \"x\"}\": no \"ip\" field; not a masscan record (-oJ or -oD)",
        ),
        (
            "{\"ip\": \"192.0.2.1\"}",
            "scan:1: \"{\"ip\": \"192.0.2.1\"}\": neither \"ports\" nor \"rec_type\"; not a masscan record (-oJ or -oD)",
        ),
        (
            "[\n{\"ip\": \"192.0.2.1\", \"ports\": [{\"port\": \"80\", \"proto\": \"tcp\", \"status\": \"open\"}]}]",
            "scan:2: \"{\"ip\": \"192.0.2.1\", \"ports\": [{\"port\": \"80\", \"proto\": \"tcp\"…\": \"port\" is not a number",
        ),
    ] {
        let error = targets(text).expect_err(text);
        assert_eq!(error.to_string(), message, "{text}");
    }
    let deep = format!("[{{\"ip\": {}", "[".repeat(40));
    assert!(
        targets(&deep)
            .expect_err("deep")
            .to_string()
            .contains("nested deeper than 16 levels"),
    );
}

#[test]
fn records_and_inputs_are_bounded() {
    let huge =
        std::io::Cursor::new(b"[{\"ip\": \"".to_vec()).chain(std::io::repeat(b'1').take(64 << 20));
    let error = targets_in(Format::MasscanJson, std::io::BufReader::new(huge)).expect_err("huge");
    assert_eq!(
        error.to_string(),
        "cannot read scan: a JSON object is longer than 1 MiB; not the output of a port scanner"
    );
    let endless =
        std::io::Cursor::new(b"[".to_vec()).chain(std::io::repeat(b' ').take((64 << 20) + 10));
    let error =
        targets_in(Format::MasscanJson, std::io::BufReader::new(endless)).expect_err("endless");
    assert_eq!(
        error.to_string(),
        "cannot read scan: more than 64 MiB of scanner output; split the scan into several files"
    );
    let long_line = std::io::Cursor::new(b"#masscan\nbanner tcp 80 ".to_vec())
        .chain(std::io::repeat(b'x').take(2 << 20));
    let error =
        targets_in(Format::MasscanList, std::io::BufReader::new(long_line)).expect_err("long");
    assert_eq!(
        error.to_string(),
        "cannot read scan: line 2 is longer than 1 MiB; not the output of a port scanner"
    );
}
