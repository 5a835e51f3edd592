//! `--format markdown` through the binary against fake servers on 127.0.0.1: exact title,
//! count tables and finding rows, what to do per check, and a hostile index name that can
//! neither break the table nor reach the page as HTML.

use crate::cli::{ES7_INDICES, ES7_MAPPING, es7_banner, open_es};
use crate::elastic::{BASIC_SECURITY, ES_11_401, secured};
use crate::support::cli::{Run, stderr, stdout};
use crate::support::http_fake::{Reply, Routes, http_server};

async fn markdown(targets: &[String]) -> String {
    let mut run = Run::new(&["scan", "-q", "--format", "markdown"]);
    for t in targets {
        run = run.arg(t.clone());
    }
    let out = run.output().await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

/// The lines of `md` that are table rows, each `|`-started line in order.
fn table_rows(md: &str) -> Vec<&str> {
    md.lines().filter(|l| l.starts_with('|')).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_has_counts_rows_and_what_to_do() {
    let open = open_es().await;
    let routes = secured(
        "401 Unauthorized",
        ES_11_401,
        &[
            ("WWW-Authenticate", BASIC_SECURITY),
            ("content-type", "application/json; charset=UTF-8"),
        ],
    );
    let (protected, _) = http_server(false, routes).await;
    let md = markdown(&[open.addr.to_string(), protected.addr.to_string()]).await;

    let title = md.lines().next().unwrap_or("");
    assert!(
        title.starts_with("# ajar scan, ") && title.ends_with("Z: 2 targets, 2 endpoints"),
        "{md}"
    );
    let open_row = format!(
        "| {} | elasticsearch | 7.2.0 | open | critical | 2 indices (1 user), 1,203 documents, \
         90.2 kB; personal data: email; e.g. customers |",
        open.addr
    );
    let rows = table_rows(&md);
    assert_eq!(
        rows[..14],
        [
            "| Severity | Findings |",
            "| --- | ---: |",
            "| critical | 1 |",
            "| high | 0 |",
            "| medium | 0 |",
            "| low | 0 |",
            "| info | 1 |",
            "| Exposure | Findings |",
            "| --- | ---: |",
            "| open | 1 |",
            "| default-credentials | 0 |",
            "| undetermined | 0 |",
            "| auth-required | 1 |",
            "| Endpoint | Product | Version | Exposure | Severity | What is exposed |",
        ],
        "{md}"
    );
    assert_eq!(rows[15], open_row, "{md}");
    assert!(
        rows[16].starts_with(&format!(
            "| {} | elasticsearch | - | auth-required | info | ",
            protected.addr
        )),
        "{md}"
    );
    assert_eq!(rows.len(), 17, "{md}");

    // What to do: one section per check, by check id, with the remediation and links.
    let todo = md.split("## What to do\n").nth(1).expect("what to do");
    let auth = todo.find("### elasticsearch-auth-required (1 finding)");
    let opened = todo.find("### elasticsearch-open (1 finding)");
    assert!(auth.is_some() && opened.is_some() && auth < opened, "{md}");
    assert!(todo.contains(&format!("On: {}\n", open.addr)), "{md}");
    assert!(
        todo.contains("Enable security (xpack.security.enabled: true"),
        "{md}"
    );
    assert!(
        todo.contains(
            "- <https://www.elastic.co/guide/en/elasticsearch/reference/current/manually-configure-security.html>"
        ),
        "{md}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_index_name_cannot_break_the_table() {
    // The ES7 listing of tests/cli.rs with the user index renamed by a hostile server
    // (Elasticsearch itself forbids `|`, `<`, `>` in index names; a fake or a honeypot
    // does not).
    let hostile = "cust|omers<img src=x>`x`[y](http://z)";
    let quoted = serde_json::to_string(hostile).expect("json");
    let indices = ES7_INDICES.replace("\"customers\"", &quoted);
    let mapping = ES7_MAPPING.replace("\"customers\"", &quoted);
    let routes = Routes::new()
        .at("/", Reply::json(&es7_banner()))
        .at("/_cat/indices", Reply::json(&indices))
        .handler(move |target| {
            let path = target.split('?').next().unwrap_or(target);
            path.ends_with("/_mapping").then(|| Reply::json(&mapping))
        });
    let (es, _) = http_server(false, routes).await;
    let md = markdown(&[es.addr.to_string()]).await;
    let rows = table_rows(&md);
    let row = rows.get(15).copied().unwrap_or("");
    assert_eq!(
        row,
        format!(
            "| {} | elasticsearch | 7.2.0 | open | critical | 2 indices (1 user), 1,203 \
             documents, 90.2 kB; personal data: email; e.g. \
             cust\\|omers&lt;img src=x&gt;\\`x\\`\\[y\\](http\\://z) |",
            es.addr
        ),
        "{md}"
    );
    // Six cells: the escaped `|` is not a separator, and no tag or code span survives.
    let unescaped_pipes = row.matches('|').count() - row.matches("\\|").count();
    assert_eq!(unescaped_pipes, 7, "{row}");
    assert!(!md.contains("<img"), "{md}");
}
