//! `-i` with port-scanner output: an `nmap -oX` file, masscan's `-oJ`, `-oD` and `-oL`
//! files name the endpoints to scan, only their open TCP ports; an interrupted nmap run
//! still scans its complete hosts; XML that is not nmap's is a usage error naming the
//! file. The files are written here in the shapes `tests/data/import/README.md` sources
//! (nmap 7.94, masscan 1.3.2), with loopback addresses and the fakes' ports.

use std::path::{Path, PathBuf};

use crate::cli::open_es;
use crate::support::cli::{Run, closed_port, json, stderr};

/// Writes `content` to a fresh file in a directory of this test run.
fn scan_file(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ajar-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join(name);
    std::fs::write(&file, content).expect("write");
    file
}

/// Runs `ajar scan -f json -i FILE` and checks one endpoint was scanned: the open fake.
async fn scans_only(file: &Path, port: u16) {
    let out = Run::new(&["scan", "-f", "json", "-i"])
        .arg(file.to_str().expect("utf-8"))
        .output()
        .await;
    let file = file.display();
    assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["endpoints"]["total"], 1, "{file}");
    assert_eq!(report["endpoints"]["open"], 1, "{file}");
    assert_eq!(
        report["results"].as_array().map(Vec::len),
        Some(1),
        "{file}"
    );
    assert_eq!(
        report["results"][0]["endpoint"],
        format!("127.0.0.1:{port}"),
        "{file}"
    );
}

/// The head of an nmap 7.94 `-oX` file, up to the first `<host>`.
const NMAP_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<!-- Nmap 7.94SVN scan initiated Mon Mar  2 16:19:31 2026 as: nmap -sS -oX scan.xml 127.0.0.1-2 -->
<nmaprun scanner="nmap" args="nmap -sS -oX scan.xml 127.0.0.1-2" start="1772468371" startstr="Mon Mar  2 16:19:31 2026" version="7.94SVN" xmloutputversion="1.05">
<scaninfo type="syn" protocol="tcp" numservices="3" services="1-3"/>
<verbose level="1"/>
<debugging level="0"/>
<hosthint><status state="up" reason="localhost-response" reason_ttl="0"/>
<address addr="127.0.0.1" addrtype="ipv4"/>
<hostnames>
</hostnames>
</hosthint>
"#;

/// One up host, 127.0.0.1, with `open` as an open TCP port, `closed` closed and `open`
/// also listed as an open UDP port (not a TCP target).
fn nmap_host(open: u16, closed: u16) -> String {
    format!(
        r#"<host starttime="1772468371" endtime="1772468372"><status state="up" reason="localhost-response" reason_ttl="0"/>
<address addr="127.0.0.1" addrtype="ipv4"/>
<hostnames>
<hostname name="localhost" type="PTR"/>
</hostnames>
<ports><extraports state="closed" count="1">
<extrareasons reason="reset" count="1" proto="tcp" ports="1"/>
</extraports>
<port protocol="tcp" portid="{open}"><state state="open" reason="syn-ack" reason_ttl="64"/><service name="wap-wsp" method="table" conf="3"/></port>
<port protocol="tcp" portid="{closed}"><state state="closed" reason="reset" reason_ttl="64"/></port>
<port protocol="udp" portid="{open}"><state state="open" reason="udp-response" reason_ttl="64"/></port>
</ports>
<times srtt="40" rttvar="20" to="100000"/>
</host>
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nmap_xml_names_the_open_ports_to_scan() {
    let es = open_es().await;
    let port = es.addr.port();
    let closed = closed_port();
    // A host that is down, with a port marked open (nmap writes none; a hand-edited or
    // merged file might): not scanned.
    let down = format!(
        "<host><status state=\"down\" reason=\"no-response\" reason_ttl=\"0\"/>\n<address addr=\"127.0.0.2\" addrtype=\"ipv4\"/>\n<ports><port protocol=\"tcp\" portid=\"{port}\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"64\"/></port></ports>\n</host>\n"
    );
    let xml = format!(
        "{NMAP_HEAD}{}{down}<runstats><finished time=\"1772468372\" timestr=\"Mon Mar  2 16:19:32 2026\" summary=\"Nmap done\" elapsed=\"0.50\" exit=\"success\"/><hosts up=\"1\" down=\"1\" total=\"2\"/>\n</runstats>\n</nmaprun>\n",
        nmap_host(port, closed)
    );
    scans_only(&scan_file("scan.xml", &xml), port).await;
}

/// masscan 1.3.2's `-oJ`, `-oD` and `-oL` files, each naming the fake open and another
/// port closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masscan_files_name_the_open_ports_to_scan() {
    let es = open_es().await;
    let port = es.addr.port();
    let closed = closed_port();
    let json = format!(
        "[\n{{   \"ip\": \"127.0.0.1\",   \"timestamp\": \"1772468372\", \"ports\": [ {{\"port\": {port}, \"proto\": \"tcp\", \"status\": \"open\", \"reason\": \"syn-ack\", \"ttl\": 64}} ] }}\n,\n{{   \"ip\": \"127.0.0.1\",   \"timestamp\": \"1772468372\", \"ports\": [ {{\"port\": {closed}, \"proto\": \"tcp\", \"status\": \"closed\", \"reason\": \"rst-ack\", \"ttl\": 64}} ] }}\n]\n"
    );
    scans_only(&scan_file("scan.json", &json), port).await;
    let ndjson = format!(
        "{{\"ip\":\"127.0.0.1\",\"timestamp\":\"1772468372\",\"port\":{port},\"proto\":\"tcp\",\"rec_type\":\"status\",\"data\":{{\"status\":\"open\",\"reason\":\"syn-ack\",\"ttl\":64}}}}\n{{\"ip\":\"127.0.0.1\",\"timestamp\":\"1772468372\",\"port\":{closed},\"proto\":\"tcp\",\"rec_type\":\"status\",\"data\":{{\"status\":\"closed\",\"reason\":\"rst-ack\",\"ttl\":64}}}}\n"
    );
    scans_only(&scan_file("scan.ndjson", &ndjson), port).await;
    let list = format!(
        "#masscan\nopen tcp {port} 127.0.0.1 1772468372\nclosed tcp {closed} 127.0.0.1 1772468372\nopen udp {closed} 127.0.0.1 1772468372\n# end\n"
    );
    scans_only(&scan_file("scan.txt", &list), port).await;
}

/// An interrupted nmap run leaves no `</nmaprun>` and a host cut short: the complete
/// host is scanned, the partial one is not, and there is no error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_nmap_file_scans_its_complete_hosts() {
    let es = open_es().await;
    let port = es.addr.port();
    let closed = closed_port();
    let partial = format!(
        "<host starttime=\"1772468372\" endtime=\"1772468373\"><status state=\"up\" reason=\"syn-ack\" reason_ttl=\"64\"/>\n<address addr=\"127.0.0.2\" addrtype=\"ipv4\"/>\n<ports><port protocol=\"tcp\" portid=\"{closed}\"><state state=\"open\" reason=\"syn-ack\" reas"
    );
    let xml = format!("{NMAP_HEAD}{}{partial}", nmap_host(port, closed));
    scans_only(&scan_file("interrupted.xml", &xml), port).await;
}

/// XML that is not nmap's (an HTML page given by mistake) is a usage error naming the
/// file, and nothing is scanned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xml_that_is_not_nmap_is_a_usage_error() {
    let file = scan_file(
        "page.html",
        "<html><head><title>Scan</title></head><body>127.0.0.1:9200</body></html>\n",
    );
    let out = Run::new(&["scan", "-f", "json", "-i"])
        .arg(file.to_str().expect("utf-8"))
        .output()
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "no report for a rejected target file"
    );
    assert!(
        stderr(&out).contains(&format!(
            "cannot read {}: not nmap XML output (the root element is <html>)",
            file.display()
        )),
        "{}",
        stderr(&out)
    );
}
