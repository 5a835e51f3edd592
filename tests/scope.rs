//! Scope as the binary applies it: one server is one result whatever its spellings,
//! exclusions hold on addresses, non-canonical and unspecified addresses are refused,
//! `--max-hosts` is bounded and counted after de-duplication, and target input is read
//! within bounds with short errors.

use crate::cli::open_es;
use crate::support::cli::{Run, json, stderr, stdout};

/// One cluster given five ways (the same line twice, `localhost`, IPv4-mapped IPv6, a
/// URL) is scanned once and its documents counted once; before, "3 open (753,009
/// documents)" for one cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_under_several_spellings_is_one_result() {
    let es = open_es().await;
    let port = es.addr.port();
    let lines = format!(
        "127.0.0.1:{port}\n127.0.0.1:{port}\nlocalhost:{port}\n[::ffff:127.0.0.1]:{port}\nhttp://127.0.0.1:{port}/\n"
    );
    let out = Run::new(&["scan", "-f", "json", "-i", "-"])
        .stdin(lines)
        .output()
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["targets"], 5);
    assert_eq!(report["endpoints"]["total"], 1);
    assert_eq!(report["endpoints"]["open"], 1);
    assert_eq!(report["exposed"]["documents"], 1203);
    assert_eq!(report["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        report["results"][0]["endpoint"],
        format!("127.0.0.1:{port}")
    );

    // A name alone keeps its spelling in the result, with the address it was scanned at.
    let out = Run::new(&["scan", "-f", "json"])
        .arg(format!("localhost:{port}"))
        .output()
        .await;
    let report = json(&out);
    assert_eq!(
        report["results"][0]["endpoint"],
        format!("localhost:{port}")
    );
    assert_eq!(report["results"][0]["address"], format!("127.0.0.1:{port}"));
}

/// `--exclude 127.0.0.0/8` holds for `localhost`, IPv4-mapped IPv6 and `0.0.0.0`; the
/// spellings the system resolver reads as addresses are refused before anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exclusions_hold_whatever_the_spelling() {
    let es = open_es().await;
    let port = es.addr.port();
    for target in [
        format!("localhost:{port}"),
        format!("[::ffff:127.0.0.1]:{port}"),
        format!("http://localhost:{port}/"),
        "localhost".to_string(),
    ] {
        let out = Run::new(&["scan", "-f", "json", "--exclude", "127.0.0.0/8", "-p"])
            .arg(port.to_string())
            .arg(&target)
            .output()
            .await;
        assert_eq!(out.status.code(), Some(3), "{target}: {}", stderr(&out));
        assert_eq!(json(&out)["endpoints"]["total"], 0, "{target}");
    }
    // By name too: `--exclude localhost` removes 127.0.0.1 however it is written.
    let out = Run::new(&["scan", "-f", "json", "--exclude", "localhost"])
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .await;
    assert_eq!(json(&out)["endpoints"]["total"], 0);
    for (target, means) in [
        (format!("0x7f000001:{port}"), "127.0.0.1"),
        (format!("0x7f.1:{port}"), "127.0.0.1"),
        (format!("2130706433:{port}"), "127.0.0.1"),
        (format!("0.0.0.0:{port}"), "unspecified address"),
    ] {
        let out = Run::new(&["scan", "--exclude", "127.0.0.0/8"])
            .arg(&target)
            .output()
            .await;
        assert_eq!(out.status.code(), Some(2), "{target}");
        assert!(stderr(&out).contains(means), "{target}: {}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
}

/// `--max-hosts` has an upper bound, counts after de-duplication and exclusions, and a
/// huge IPv6 block is refused with a message, not an allocation abort (exit 134).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_hosts_is_bounded_and_counted_after_dedupe() {
    let out = Run::new(&["scan", "::/65", "--max-hosts", "4294967296"])
        .output()
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("more than --max-hosts 4294967296"),
        "{}",
        stderr(&out)
    );
    let out = Run::new(&["scan", "::/65", "--max-hosts", "18446744073709551615"])
        .output()
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--max-hosts"), "{}", stderr(&out));
    // Two copies of a /30 and one of its addresses are four hosts, within --max-hosts 4.
    let out = Run::new(&[
        "scan",
        "127.1.2.0/30",
        "127.1.2.0/30",
        "127.1.2.1",
        "-p",
        "1",
        "--max-hosts",
        "4",
        "-f",
        "json",
    ])
    .output()
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["endpoints"]["total"], 4);
    // Excluded hosts do not count either.
    let out = Run::new(&[
        "scan",
        "127.1.0.0/16",
        "--exclude",
        "127.1.0.0/17",
        "--exclude",
        "127.1.128.0/18",
        "-p",
        "1",
        "--max-hosts",
        "16384",
        "-f",
        "json",
        "-c",
        "2048",
    ])
    .output()
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["endpoints"]["total"], 16384);
}

/// `-i /dev/zero` and endless input end with a short error; before, ajar read until
/// memory ran out. A 10 MB bad line is reported in a few hundred bytes, not twice in full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_input_is_bounded_and_errors_are_short() {
    let out = Run::new(&["scan", "-i", "/dev/zero"]).output().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/dev/zero:1: ") && stderr(&out).contains("longer than 4096 bytes"),
        "{}",
        stderr(&out)
    );
    let huge = format!("127.0.0.1:{}\n", "x".repeat(10 << 20));
    let out = Run::new(&["scan", "-i", "-"]).stdin(huge).output().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).len() < 400,
        "{} bytes of error",
        stderr(&out).len()
    );
    let huge_arg = format!("127.0.0.1:{}", "9".repeat(100_000));
    let out = Run::new(&["scan"]).arg(huge_arg).output().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).len() < 400, "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("ajar: argument 1: \"127.0.0.1:999"),
        "{}",
        stderr(&out)
    );
}
