//! ajar.toml, `ajar config`, `--scope` and `--list` through the binary: a typo is refused
//! with its line, flags override the file, and nothing is sent to a target outside the
//! scope or under `--list`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::Scratch;
use crate::cli::open_es;
use crate::support::cli::{Run, stderr, stdout};

/// The done-when: a config with a typo is refused with its file, line and key, before
/// anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_typo_is_refused_with_its_line() {
    let dir = Scratch::new("config-typo");
    dir.write(
        "ajar.toml",
        "# weekly scan\ntargets = [\"127.0.0.1\"]\nconcurency = 64\n",
    );
    let out = Run::new(&["scan"]).current_dir(&dir.0).output().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("ajar: ajar.toml:3:1: concurency: unknown field `concurency`"),
        "{}",
        stderr(&out)
    );
    let bad = dir.write("bad.toml", "timeout = \"soon\"\n");
    let out = Run::new(&["scan", "--config", &bad]).output().await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("{bad}:1:1: timeout: \"soon\" is not a duration")),
        "{}",
        stderr(&out)
    );
    // --no-config skips ./ajar.toml; `ajar config` names the same error.
    let out = Run::new(&["scan", "--no-config", "--list", "127.0.0.1:9"])
        .current_dir(&dir.0)
        .output()
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = Run::new(&["config"]).current_dir(&dir.0).output().await;
    assert_eq!(out.status.code(), Some(2));
}

/// Settings from ajar.toml are used, flags win over them, and `ajar config` shows each
/// value with where it came from.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_override_the_config_and_ajar_config_shows_sources() {
    let es = open_es().await;
    let dir = Scratch::new("config");
    dir.write(
        "ajar.toml",
        &format!(
            "targets = [\"127.0.0.1:{}\"]\nformat = \"json\"\nconcurrency = 64\n\n[severity]\n\"elasticsearch-open\" = \"medium\"\n",
            es.addr.port()
        ),
    );
    let out = Run::new(&["scan", "-q"]).current_dir(&dir.0).output().await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("the file's format: JSON");
    assert_eq!(report["results"][0]["check"], "elasticsearch-open");
    assert_eq!(report["results"][0]["severity"], "medium", "the override");
    // The override holds for the gate too.
    let out = Run::new(&["scan", "-q", "--fail-on", "high"])
        .current_dir(&dir.0)
        .output()
        .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = Run::new(&["scan", "-q", "-f", "human"])
        .current_dir(&dir.0)
        .output()
        .await;
    assert!(stdout(&out).starts_with("SEVERITY"), "{}", stdout(&out));

    let out = Run::new(&["config"]).current_dir(&dir.0).output().await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("concurrency = 64  # ajar.toml:3"), "{text}");
    assert!(text.contains("per-host = 16  # default"), "{text}");
    assert!(
        text.contains("\"elasticsearch-open\" = \"medium\""),
        "{text}"
    );
    // The shipped example config is valid, and reads back what it says.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ajar.toml");
    let out = Run::new(&["config", "--config", example]).output().await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"redis-open\" = \"critical\""),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("# ports = every probe's default ports"),
        "{}",
        stdout(&out)
    );
    // What `ajar config` prints is itself a config that reads back.
    let printed = dir.write("printed.toml", &stdout(&out));
    let out = Run::new(&["config", "--config", &printed]).output().await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = Run::new(&["scan", "-c", "8", "--print-config"])
        .current_dir(&dir.0)
        .output()
        .await;
    assert!(
        stdout(&out).contains("concurrency = 8  # command line"),
        "{}",
        stdout(&out)
    );
}

/// A listener on a loopback address that counts the connections it accepts.
async fn counting_listener(ip: &str) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind((ip, 0))
        .await
        .expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    (port, accepted)
}

/// A target outside the scope stops the run before any packet reaches it; a name outside
/// every listed domain is refused before its DNS query; inside, the scan runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_outside_the_scope_are_refused_before_anything_is_sent() {
    let (port, accepted) = counting_listener("127.0.0.2").await;
    let dir = Scratch::new("scope");
    let scope = dir.write("scope.txt", "# what we own\n127.0.0.1/32\n");
    let out = Run::new(&["scan", "--scope", &scope, "127.0.0.1:9"])
        .arg(format!("127.0.0.2:{port}"))
        .output()
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!(
            "1 target is outside the scope of {scope}: 127.0.0.2"
        )),
        "{}",
        stderr(&out)
    );
    // A block reaching past the scope is refused too.
    let out = Run::new(&["scan", "--scope", &scope, "127.0.0.0/30", "-p", "9"])
        .output()
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("outside the scope"),
        "{}",
        stderr(&out)
    );
    // Domains only: `localhost` is under none, refused before resolving.
    let domains = dir.write("domains.txt", "corp.example\n");
    let out = Run::new(&["scan", "--scope", &domains])
        .arg(format!("localhost:{port}"))
        .output()
        .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not even a DNS query"),
        "{}",
        stderr(&out)
    );
    // The refused runs sent nothing to the listener.
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
    // Inside the scope it runs.
    let wide = dir.write("wide.txt", "127.0.0.0/8\n");
    let out = Run::new(&["scan", "-q", "--scope", &wide])
        .arg(format!("127.0.0.2:{port}"))
        .output()
        .await;
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        accepted.load(Ordering::SeqCst) > 0,
        "in scope, the port was scanned"
    );
}

/// `--list` prints the endpoints after expansion, exclusions and de-duplication, and
/// connects to none of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_the_endpoints_and_sends_nothing() {
    let (port, accepted) = counting_listener("127.0.0.1").await;
    let exclude = Scratch::new("list");
    let file = exclude.write("exclude.txt", "127.0.0.2 # the database host\n");
    let out = Run::new(&[
        "scan",
        "--list",
        "127.0.0.0/30",
        "-p",
        "80,443",
        "--exclude-file",
        &file,
    ])
    .arg(format!("127.0.0.1:{port}"))
    .arg(format!("127.0.0.1:{port}"))
    .arg("https://127.0.0.1:9200/es/")
    .output()
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(
        lines,
        [
            format!("127.0.0.1:{port}"),
            "127.0.0.1:9200/es/\thttp over TLS only".to_string(),
            "127.0.0.0:80".to_string(),
            "127.0.0.1:80".to_string(),
            "127.0.0.3:80".to_string(),
            "127.0.0.0:443".to_string(),
            "127.0.0.1:443".to_string(),
            "127.0.0.3:443".to_string(),
        ]
    );
    assert!(
        stderr(&out).contains("8 endpoints on 3 hosts; nothing was sent"),
        "{}",
        stderr(&out)
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 0);
}
