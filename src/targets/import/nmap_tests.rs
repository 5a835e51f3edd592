//! Tests of [`super`] (nmap XML). Fixtures: `tests/data/import/` (see its README for the
//! nmap and masscan versions and where their formats are documented); inline documents
//! are cut down from the same shapes, with the change each tests said beside it.

use std::io::Read;

use crate::targets::TargetError;
use crate::targets::import::{Format, read};

const NMAP: &str = include_str!("../../../tests/data/import/nmap-7.94.xml");
const MASSCAN_XML: &str = include_str!("../../../tests/data/import/masscan-1.3.2.xml");

fn targets_of(name: &str, input: impl std::io::BufRead) -> Result<Vec<String>, TargetError> {
    let mut seen = Vec::new();
    read(Format::Nmap, name, input, &mut |origin, target| {
        seen.push(format!("{origin} {target}"));
        Ok(())
    })?;
    Ok(seen)
}

fn targets(text: &str) -> Result<Vec<String>, TargetError> {
    targets_of("scan.xml", text.as_bytes())
}

/// The nmap 7.94 run: hosthints add nothing; of host 1 only the open TCP ports (not the
/// closed, filtered or UDP ones, nor the `<os><portused>` ones); host 2 is down, host 3
/// has no open port, host 4 is IPv6.
#[test]
fn takes_open_tcp_ports_of_hosts_that_are_up() {
    assert_eq!(
        targets(NMAP).expect("nmap 7.94"),
        [
            "scan.xml host 1 192.0.2.1:22",
            "scan.xml host 1 192.0.2.1:9200",
            "scan.xml host 4 [2001:db8::5]:8080",
            "scan.xml host 4 [2001:db8::5]:9200",
        ]
    );
}

/// masscan's `-oX`: no `<status>`, and an IPv6 address labelled `ipv4`.
#[test]
fn reads_masscan_xml() {
    assert_eq!(
        targets(MASSCAN_XML).expect("masscan -oX"),
        [
            "scan.xml host 1 192.0.2.1:9200",
            "scan.xml host 2 [2001:db8::5]:8080",
            "scan.xml host 3 192.0.2.1:9200",
        ]
    );
}

/// Cut anywhere after the root tag (an interrupted scan), the file yields exactly the
/// hosts whose `</host>` was written, and no error.
#[test]
fn a_truncated_file_yields_its_complete_hosts() {
    let complete = targets(NMAP).expect("complete");
    let root_end = NMAP.find("xmloutputversion=\"1.05\">").expect("root") + 25;
    let first_host_end = NMAP.find("</host>").expect("host") + "</host>".len();
    for cut in root_end..NMAP.len() {
        let got = targets(&NMAP[..cut]).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let closed = NMAP[..cut].matches("</host>").count();
        let expected: Vec<&String> = complete
            .iter()
            .filter(|t| {
                let n: usize = t.split(' ').nth(2).and_then(|n| n.parse().ok()).expect("n");
                n <= closed
            })
            .collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), expected, "cut at {cut}");
        if cut == first_host_end {
            assert_eq!(got.len(), 2, "host 1 is in once its </host> is");
        }
    }
    // Cut before the root element is complete: not recognisably nmap.
    let error = targets(&NMAP[..root_end - 3]).expect_err("no root yet");
    assert_eq!(
        error.to_string(),
        "cannot read scan.xml: not nmap XML output (the file ends first); -i reads target lists, nmap -oX and masscan -oJ, -oD or -oL files"
    );
}

/// `--resume` appends a new `<nmaprun>` to the unclosed one of the interrupted run.
#[test]
fn reads_hosts_of_a_resumed_run() {
    let first = NMAP
        .split("<host><status state=\"down\"")
        .next()
        .expect("head");
    let resumed = format!(
        "{first}<host><status state=\"up\" reason=\"syn-ack\" reason_ttl=\"64\"/>\n<address addr=\"192.0.2.2\" \n<nmaprun>\n<host><status state=\"up\" reason=\"syn-ack\" reason_ttl=\"64\"/>\n<address addr=\"192.0.2.7\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"27017\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"64\"/></port></ports></host>\n<runstats></runstats>\n</nmaprun>\n"
    );
    // The cut-off `<address` swallowed the new `<nmaprun` into an attribute: refused,
    // as any malformed tag is.
    assert!(targets(&resumed).is_err());
    let resumed = resumed.replace("<address addr=\"192.0.2.2\" \n", "");
    assert_eq!(
        targets(&resumed).expect("resumed"),
        [
            "scan.xml host 1 192.0.2.1:22",
            "scan.xml host 1 192.0.2.1:9200",
            "scan.xml host 3 192.0.2.7:27017",
        ]
    );
}

fn one_host(address: &str, port: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner=\"nmap\">\n<host><status state=\"up\" reason=\"user-set\" reason_ttl=\"0\"/>\n{address}\n<ports>{port}</ports></host>\n</nmaprun>\n"
    )
}

const OPEN_80: &str = "<port protocol=\"tcp\" portid=\"80\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"64\"/></port>";

#[test]
fn never_takes_host_names_or_mac_addresses() {
    // A MAC address first, then the IP address: the IP address.
    let xml = one_host(
        "<address addr=\"00:00:5E:00:53:01\" addrtype=\"mac\"/><address addr=\"192.0.2.9\" addrtype=\"ipv4\"/><hostnames><hostname name=\"db.example\" type=\"user\"/></hostnames>",
        OPEN_80,
    );
    assert_eq!(targets(&xml).expect("ok"), ["scan.xml host 1 192.0.2.9:80"]);
    // A host name where the address should be: refused, never resolved.
    let xml = one_host("<address addr=\"db.example\" addrtype=\"ipv4\"/>", OPEN_80);
    assert_eq!(
        targets(&xml).expect_err("a name").to_string(),
        "scan.xml host 1: \"db.example\": the scanner's address field is not an IPv4 or IPv6 address"
    );
    // Only a MAC address, yet an open port: an error, not a silent skip.
    let xml = one_host(
        "<address addr=\"00:00:5E:00:53:01\" addrtype=\"mac\"/>",
        OPEN_80,
    );
    assert_eq!(
        targets(&xml).expect_err("no ip").to_string(),
        "cannot read scan.xml: host 1 has open ports but no ipv4 or ipv6 <address>"
    );
    // A bad port number.
    let xml = one_host(
        "<address addr=\"192.0.2.9\"/>",
        &OPEN_80.replace("\"80\"", "\"99999\""),
    );
    assert!(targets(&xml).is_err());
}

/// The address goes through the checks of a typed target: `0.0.0.0` is refused, with
/// the file and host named.
#[test]
fn addresses_are_checked_like_typed_targets() {
    let xml = one_host("<address addr=\"0.0.0.0\" addrtype=\"ipv4\"/>", OPEN_80);
    let mut builder = crate::targets::TargetSetBuilder::new(10);
    let error = builder
        .add_reader("scan.xml", xml.as_bytes())
        .expect_err("unspecified");
    assert!(
        error
            .to_string()
            .starts_with("scan.xml host 1: \"0.0.0.0:80\": 0.0.0.0 is the unspecified address"),
        "{error}"
    );
    let xml = one_host("<address addr=\"127.0.0.1\" addrtype=\"ipv4\"/>", OPEN_80);
    builder
        .add_reader("scan.xml", xml.as_bytes())
        .expect("loopback");
    assert_eq!(builder.inputs(), 1);
}

#[test]
fn other_xml_is_an_error_naming_the_file() {
    let error = targets("<!DOCTYPE html>\n<html><body>hello</body></html>\n").expect_err("html");
    assert_eq!(
        error.to_string(),
        "cannot read page.html: not nmap XML output (the root element is <html>); -i reads target lists, nmap -oX and masscan -oJ, -oD or -oL files"
            .replace("page.html", "scan.xml")
    );
    let error = targets("<?xml version=\"1.0\"?>\n").expect_err("no root");
    assert!(
        error.to_string().contains("there is no <nmaprun> element"),
        "{error}"
    );
    // Mismatched tags in the middle are not a truncation.
    let error = targets("<nmaprun><host></ports></host></nmaprun>").expect_err("mismatch");
    assert!(
        error
            .to_string()
            .starts_with("cannot read scan.xml: not well-formed XML at byte "),
        "{error}"
    );
}

/// Entities declared in the DOCTYPE are never expanded: a billion-laughs declaration
/// costs one bounded event, and using an entity is an error.
#[test]
fn declared_entities_are_not_expanded() {
    let laughs = "<!DOCTYPE nmaprun [<!ENTITY a \"127.0.0.1\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>";
    let xml =
        one_host("<address addr=\"192.0.2.9\"/>", OPEN_80).replace("<!DOCTYPE nmaprun>", laughs);
    assert_eq!(
        targets(&xml).expect("unused"),
        ["scan.xml host 1 192.0.2.9:80"]
    );
    let xml = xml.replace("192.0.2.9", "&c;");
    let error = targets(&xml).expect_err("an entity").to_string();
    assert!(
        error.starts_with("cannot read scan.xml: not well-formed XML"),
        "{error}"
    );
    assert!(error.len() < 300, "{error}");
    // The predefined entities and character references are fine.
    let xml = one_host("<address addr=\"&#49;92.0.2.9\"/>", OPEN_80);
    assert_eq!(
        targets(&xml).expect("char ref"),
        ["scan.xml host 1 192.0.2.9:80"]
    );
}

#[test]
fn depth_and_record_sizes_are_bounded() {
    let deep = format!("<nmaprun>{}", "<table>".repeat(100));
    assert_eq!(
        targets(&deep).expect_err("deep").to_string(),
        "cannot read scan.xml: XML nested deeper than 64 elements; not nmap output"
    );
    let huge = std::io::Cursor::new(b"<nmaprun><host><address addr=\"".to_vec())
        .chain(std::io::repeat(b'1').take(64 << 20));
    let error = targets_of("scan.xml", std::io::BufReader::new(huge)).expect_err("huge");
    assert_eq!(
        error.to_string(),
        "cannot read scan.xml: an XML tag or text is longer than 1 MiB; not the output of a port scanner"
    );
}

/// Endless well-formed records: the 64 MiB cap ends the read, in bounded memory.
#[test]
fn endless_input_ends_with_an_error() {
    struct Cycle(Vec<u8>, usize);
    impl Read for Cycle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let mut n = 0;
            while n < buf.len() {
                buf[n] = self.0[self.1 % self.0.len()];
                self.1 += 1;
                n += 1;
            }
            Ok(n)
        }
    }
    let mut unit = b"<elem>".to_vec();
    unit.extend(std::iter::repeat_n(b'x', 512 << 10));
    unit.extend(b"</elem>");
    let endless = std::io::Cursor::new(b"<nmaprun>".to_vec()).chain(Cycle(unit, 0));
    let error = targets_of(
        "scan.xml",
        std::io::BufReader::with_capacity(64 << 10, endless),
    )
    .expect_err("endless");
    assert_eq!(
        error.to_string(),
        "cannot read scan.xml: more than 64 MiB of scanner output; split the scan into several files"
    );
}
