//! The traps of protocols.md section 7 for the HTTP probe, and hostile servers: login pages
//! and proxies that answer 200 or 401 (T-03, PX-01), the elastichoney honeypot (T-04),
//! TLS-only ports answering plain HTTP with a 400 (PX-02, T-06), MongoDB's HTTP notice
//! (MG-07, T-09), look-alike welcomes (T-11), public headers (T-15), silent, dripping,
//! huge, garbage and closing servers, and a closed port.
//!
//! No test here may end as an open finding; each one asserts the exact outcome kind.

use std::time::Duration;

use ajar::finding::{Evidence, Exposure, Outcome, Severity};
use ajar::scan::Detection;
use ajar::targets::Endpoint;
use serde_json::json;

use crate::elastic::{
    Banner, Cluster, ES_01_1_7_2, ES_05_7_2_0, ES_06_8_12_2, Gen, T_04_ELASTICHONEY,
    assert_read_only, cat_json, cat_text_1x, found_with, ix, missing_index, random_hex,
    random_name, vary,
};
use crate::support;
use crate::support::hostile::{
    Huge, Repeating, closed_port, drip, garbage, huge_http, immediate_close, mongodb_http_notice,
    silent, tls_or_plain,
};
use crate::support::http_fake::{
    Hits, Reply, Routes, http_server, http_server_strict, lines, targets,
};

/// Runs the engine on `endpoint`, failing the test if it does not return within 20 s.
async fn probe_bounded(endpoint: &Endpoint) -> Outcome {
    match tokio::time::timeout(Duration::from_secs(20), support::probe(endpoint)).await {
        Ok(outcome) => outcome,
        Err(_) => panic!("the probe of {endpoint} did not return within 20 s"),
    }
}

/// Runs detection on `endpoint` as the engine does, keeping the evidence that an outcome
/// other than a finding carries.
async fn detect_bounded(endpoint: &Endpoint) -> Detection {
    let cx = support::context(Duration::from_secs(2));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    match tokio::time::timeout(
        Duration::from_secs(25),
        ajar::scan::detect(&cx, endpoint, deadline),
    )
    .await
    {
        Ok(detection) => detection,
        Err(_) => panic!("the detection of {endpoint} did not return within 25 s"),
    }
}

/// Fails if the outcome is an open finding.
fn assert_not_open(outcome: &Outcome) {
    if let Outcome::Found(f) = outcome {
        assert_ne!(f.exposure, Exposure::Open, "must not be open: {f:#?}");
    }
}

/// The note of an `Unidentified` outcome, failing otherwise.
fn unidentified(outcome: Outcome, hits: Option<&Hits>) -> String {
    match outcome {
        Outcome::Unidentified(note) => note,
        other => panic!(
            "expected Unidentified, got {other:?}; requests: {:?}",
            hits.map(lines).unwrap_or_default()
        ),
    }
}

/// T-03: a login page (oauth2-proxy style) answering 200 text/html on every path of a
/// 9200-like port. Never open, and not a known service.
#[tokio::test]
async fn t03_html_login_page_is_unidentified() {
    let page = "<!DOCTYPE html>\n<html lang=\"en\" charset=\"utf-8\">\n<head>\n<title>Sign In</title>\n</head>\n<body>\n<form method=\"post\" action=\"/login\">\n<input type=\"text\" name=\"username\" autofocus>\n<input type=\"password\" name=\"password\">\n<button type=\"submit\">Sign in</button>\n</form>\n</body>\n</html>\n";
    let routes = Routes::new()
        .otherwise(Reply::new("200 OK", page).header("content-type", "text/html; charset=utf-8"));
    let (server, hits) = http_server(false, routes).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert_not_open(&outcome);
    let note = unidentified(outcome, Some(&hits));
    assert!(
        note.contains("200"),
        "the note says what answered: {note:?}"
    );
    assert_read_only(&hits);
}

/// PX-01: nginx `auth_basic` in front of an unknown service: a 401 HTML page. Not a known
/// service; the note records the WWW-Authenticate challenge.
#[tokio::test]
async fn px01_nginx_basic_auth_is_unidentified_with_challenge_note() {
    let body = "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n";
    let routes = Routes::new().otherwise(
        Reply::new("401 Unauthorized", body)
            .header("Server", "nginx/1.24.0")
            .header("Content-Type", "text/html")
            .header("WWW-Authenticate", r#"Basic realm="Restricted""#),
    );
    let (server, hits) = http_server_strict(false, routes).await;
    let note = unidentified(probe_bounded(&server.endpoint()).await, Some(&hits));
    assert!(note.contains("WWW-Authenticate"), "{note:?}");
    assert!(note.contains("401"), "{note:?}");
    assert_read_only(&hits);
}

/// T-04: jordan-wright/elastichoney answers every path with its 1.x banner: 39-char
/// build_hash, no build_timestamp, lucene 4.10.2, `text/plain; charset=utf-8` (the header is
/// set after WriteHeader, so Go sniffs). Not Elasticsearch; the note says honeypot.
#[tokio::test]
async fn t04_elastichoney_is_not_elasticsearch() {
    let spoofed = ["1.4.1", "1.7.2", "2.4.1"][(crate::support::hostile::random_u64() % 3) as usize];
    let body = T_04_ELASTICHONEY
        .replace("Green Goblin", &random_name())
        .replace("\"1.4.1\"", &format!("\"{spoofed}\""))
        .replace("89d3241d670db65f994242c8e838b169779e2d4", &random_hex(39));
    let routes = Routes::new().otherwise(
        Reply::new("200 OK", body)
            .header("Date", "Mon, 19 Feb 2024 12:00:00 GMT")
            .header("Content-Type", "text/plain; charset=utf-8"),
    );
    let (server, hits) = http_server(false, routes).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert!(
        !matches!(outcome, Outcome::Found(_)),
        "a honeypot is not a finding: {outcome:?}"
    );
    let note = unidentified(outcome, Some(&hits));
    assert!(note.to_ascii_lowercase().contains("honeypot"), "{note:?}");
    assert_read_only(&hits);
}

/// T-04, a better honeypot: a perfect 7.x banner as JSON on every path, and even a
/// plausible `_cat/indices` array. Only the random-path check gives it away (a real cluster
/// answers 404 there).
#[tokio::test]
async fn honeypot_answering_banner_on_random_path_is_not_found() {
    let banner = vary(ES_05_7_2_0);
    let indices = vec![ix("customers", 1_000, 500_000)];
    let routes = Routes::new()
        .at("/_cat/indices", Reply::json(&cat_json(Gen::V7, &indices)))
        .otherwise(Reply::json(&banner.body));
    let (server, hits) = http_server(false, routes).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert!(
        !matches!(outcome, Outcome::Found(_)),
        "a honeypot is not a finding: {outcome:?}"
    );
    let note = unidentified(outcome, Some(&hits));
    assert!(note.to_ascii_lowercase().contains("honeypot"), "{note:?}");
    assert!(
        targets(&hits)
            .iter()
            .any(|t| t != "/" && !t.starts_with("/_cat") && !t.contains("_mapping")),
        "a random path was asked: {:?}",
        lines(&hits)
    );
    assert_read_only(&hits);
}

/// PX-02 / T-06: nginx with `listen ssl` answers plain HTTP with "400 The plain HTTP request
/// was sent to HTTPS port"; the engine retries over TLS and finds the open cluster.
#[tokio::test]
async fn px02_plain_http_to_https_port_retries_tls() {
    let body = "<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS port</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let plain = format!(
        "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let banner = vary(ES_06_8_12_2);
    let indices = vec![ix("orders", 10, 9_000).props(json!({"sku": {"type": "keyword"}}))];
    let cluster = Cluster::new(Gen::V8, &banner, indices);
    let (server, hits) = tls_or_plain(plain.into_bytes(), cluster.routes()).await;
    let f = found_with(probe_bounded(&server.endpoint()).await, &hits);
    assert!(f.tls, "{f:#?}");
    assert_eq!(f.exposure, Exposure::Open, "{f:#?}");
    assert_eq!(f.service, "elasticsearch");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.version.as_deref(), Some("8.12.2"));
    assert_eq!(
        f.url.as_deref(),
        Some(format!("https://127.0.0.1:{}/", server.addr.port()).as_str())
    );
    assert_read_only(&hits);
}

/// T-06, Go's TLS server (Docker, etcd, many proxies): `HTTP/1.0 400 Bad Request` with
/// "Client sent an HTTP request to an HTTPS server." -> retry over TLS.
#[tokio::test]
async fn go_plain_http_to_https_400_retries_tls() {
    let plain =
        b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"
            .to_vec();
    let banner = vary(ES_06_8_12_2);
    let cluster = Cluster::new(Gen::V8, &banner, Vec::new());
    let (server, hits) = tls_or_plain(plain, cluster.routes()).await;
    let f = found_with(probe_bounded(&server.endpoint()).await, &hits);
    assert!(f.tls, "{f:#?}");
    assert_eq!(f.exposure, Exposure::Open, "{f:#?}");
    assert_eq!(f.severity, Severity::Medium, "an empty cluster: {f:#?}");
    assert_read_only(&hits);
}

/// MG-07 / T-09: a port that answers HTTP with MongoDB's native-port notice, but no
/// MongoDB wire protocol behind it. Not Elasticsearch, and nothing found.
#[tokio::test]
async fn mg07_mongodb_http_notice_is_not_elasticsearch() {
    let server = mongodb_http_notice().await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert!(!matches!(outcome, Outcome::Found(_)), "{outcome:?}");
    if let Outcome::Unidentified(note) = &outcome {
        assert!(note.to_ascii_lowercase().contains("mongodb"), "{note:?}");
    }
}

/// T-11: a CouchDB welcome (CD-01, 3.x) is JSON on `GET /` but not Elasticsearch. It is
/// CouchDB (the data-driven probe), and with no `_all_dbs` listing it is not open.
#[tokio::test]
async fn couchdb_welcome_is_not_elasticsearch() {
    let welcome = format!(
        "{{\"couchdb\":\"Welcome\",\"version\":\"3.3.3\",\"git_sha\":\"40afbcfc7\",\"uuid\":\"{}\",\"features\":[\"access-ready\",\"partitioned\",\"pluggable-storage-engines\",\"reshard\",\"scheduler\"],\"vendor\":{{\"name\":\"The Apache Software Foundation\"}}}}\n",
        random_hex(32)
    );
    let routes = Routes::new().at(
        "/",
        Reply::new("200 OK", welcome)
            .header("Server", "CouchDB/3.3.3 (Erlang OTP/24)")
            .header("Content-Type", "application/json"),
    );
    let (server, hits) = http_server_strict(false, routes).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    let Outcome::Found(finding) = &outcome else {
        panic!("expected the CouchDB probe's finding, got {outcome:?}");
    };
    assert_eq!(
        (finding.service.as_str(), finding.exposure),
        ("couchdb", Exposure::Undetermined),
        "{finding:?}"
    );
    assert_read_only(&hits);
}

/// T-15: `X-elastic-product: Elasticsearch` on an HTML page proves nothing.
#[tokio::test]
async fn product_header_alone_is_not_open() {
    let routes = Routes::new().otherwise(
        Reply::new("200 OK", "<html><body><h1>It works!</h1></body></html>\n")
            .header("content-type", "text/html")
            .header("X-elastic-product", "Elasticsearch"),
    );
    let (server, hits) = http_server_strict(false, routes).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert_not_open(&outcome);
    assert_read_only(&hits);
}

/// A proxy that passes `GET /` to Elasticsearch but answers every other path with its own
/// 200 HTML page: 200 alone never makes a cluster open.
#[tokio::test]
async fn cat_indices_200_html_is_not_open() {
    let banner = vary(ES_05_7_2_0);
    let routes = Routes::new().at("/", Reply::json(&banner.body)).otherwise(
        Reply::new("200 OK", "<!doctype html><html><head><title>Portal</title></head><body><div id=\"app\"></div></body></html>")
            .header("content-type", "text/html; charset=utf-8"),
    );
    let (server, hits) = http_server_strict(false, routes).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert_not_open(&outcome);
    assert_read_only(&hits);
}

/// `_cat/indices` answering 200 JSON that is not an array is not a listing.
#[tokio::test]
async fn cat_indices_200_object_is_not_open() {
    let banner = vary(ES_05_7_2_0);
    let mut cluster = Cluster::new(Gen::V7, &banner, Vec::new());
    cluster.cat = Some(Reply::json(r#"{"acknowledged":true}"#));
    let (server, hits) = cluster.serve(false).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert_not_open(&outcome);
    assert_read_only(&hits);
}

/// Redirects are never followed, even to another port of the same host: the second
/// server sees nothing.
#[tokio::test]
async fn redirects_are_not_followed() {
    let (elsewhere, elsewhere_hits) = {
        let banner = vary(ES_05_7_2_0);
        Cluster::new(Gen::V7, &banner, vec![ix("secret", 1, 1)])
            .serve(false)
            .await
    };
    let location = format!("http://127.0.0.1:{}/", elsewhere.addr.port());
    let routes = Routes::new().otherwise(
        Reply::new("302 Found", "")
            .header("Location", &location)
            .header("Server", "nginx"),
    );
    let (server, hits) = http_server_strict(false, routes).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert!(!matches!(outcome, Outcome::Found(_)), "{outcome:?}");
    assert!(
        lines(&elsewhere_hits).is_empty(),
        "followed a redirect: {:?}",
        lines(&elsewhere_hits)
    );
    assert_read_only(&hits);
}

/// A port that accepts and never answers is Silent.
#[tokio::test]
async fn silent_server_is_silent() {
    let server = silent().await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert_eq!(outcome, Outcome::Silent);
}

/// A server that drips a valid ES banner one byte every 300 ms never completes a response
/// within the step timeout: the probe returns, and finds nothing.
#[tokio::test]
async fn drip_server_returns_and_is_not_found() {
    let banner = vary(ES_06_8_12_2);
    let reply = Reply::json(&banner.body).to_bytes();
    let server = drip(reply, Duration::from_millis(300)).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert!(!matches!(outcome, Outcome::Found(_)), "{outcome:?}");
    assert!(
        matches!(outcome, Outcome::Silent | Outcome::Unidentified(_)),
        "a dripping server is Silent or Unidentified: {outcome:?}"
    );
}

/// `GET /` with a 100 MB body (a banner whose node name never ends): the read is capped,
/// nothing panics, and a cut body is never taken for a banner.
#[tokio::test]
async fn huge_root_body_is_not_open() {
    let huge = Huge {
        status: "200 OK".into(),
        content_type: "application/json; charset=UTF-8".into(),
        prefix: b"{\n  \"name\" : \"".to_vec(),
        fill: b'a',
        suffix: b"\",\n  \"cluster_name\" : \"elasticsearch\",\n  \"version\" : {\n    \"number\" : \"7.2.0\",\n    \"build_hash\" : \"508c38a\"\n  },\n  \"tagline\" : \"You Know, for Search\"\n}\n".to_vec(),
        len: 100 << 20,
    };
    let (server, hits) = huge_http(Routes::new(), "/", huge).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert!(
        !matches!(outcome, Outcome::Found(_)),
        "a cut banner is no banner: {outcome:?}"
    );
    assert_read_only(&hits);
}

/// A real banner, then a 50 MB `_cat/indices` (one index whose name never ends): the
/// listing is cut at the body cap, and a cut listing does not make the cluster open.
#[tokio::test]
async fn huge_cat_indices_is_not_open() {
    let banner = vary(ES_05_7_2_0);
    let cluster = Cluster::new(Gen::V7, &banner, Vec::new());
    let routes = cluster.routes();
    let huge = Huge {
        status: "200 OK".into(),
        content_type: "application/json; charset=UTF-8".into(),
        prefix: br#"[{"health":"green","status":"open","index":""#.to_vec(),
        fill: b'a',
        suffix: br#"","uuid":"u8FNjxh8Rfy_awN11oDKYQ","pri":"1","rep":"1","docs.count":"1","docs.deleted":"0","store.size":"1","pri.store.size":"1"}]"#.to_vec(),
        len: 50 << 20,
    };
    let (server, hits) = huge_http(routes, "/_cat/indices", huge).await;
    let outcome = probe_bounded(&server.endpoint()).await;
    assert_not_open(&outcome);
    assert_read_only(&hits);
}

/// Random bytes (starting `\x00\xff`) in answer to anything: Unidentified.
#[tokio::test]
async fn garbage_bytes_are_unidentified() {
    let server = garbage(777).await;
    let note = unidentified(probe_bounded(&server.endpoint()).await, None);
    assert!(!note.is_empty());
}

/// A port that accepts and hangs up at once: Unidentified (something is there).
#[tokio::test]
async fn immediate_close_is_unidentified() {
    let server = immediate_close().await;
    unidentified(probe_bounded(&server.endpoint()).await, None);
}

/// A port nothing listens on: Closed.
#[tokio::test]
async fn closed_port_is_closed() {
    let port = closed_port().await;
    let endpoint = Endpoint::new(
        ajar::targets::Host::Ip("127.0.0.1".parse().expect("ip")),
        port,
    );
    assert_eq!(probe_bounded(&endpoint).await, Outcome::Closed);
}

// ---------------------------------------------------------------------------------------
// Issue 5: open only on proof, and only when the signals agree
// ---------------------------------------------------------------------------------------

/// The evidence entry for `request`, failing the test if there is none.
fn entry<'a>(evidence: &'a [Evidence], request: &str) -> &'a Evidence {
    evidence
        .iter()
        .find(|e| e.request == request)
        .unwrap_or_else(|| panic!("no evidence for {request:?}: {evidence:#?}"))
}

/// The note of a decoy: unidentified, no finding, "likely a honeypot or decoy".
fn decoy_note(detection: &Detection, hits: &Hits) -> String {
    let note = unidentified(detection.outcome.clone(), Some(hits));
    assert!(
        note.starts_with("http: Elasticsearch ") && note.ends_with(" (likely a honeypot or decoy)"),
        "{note:?}"
    );
    note
}

/// A server with `banner` on `/`, `cat` on `_cat/indices`, and `rest` for everything else.
fn routes_with(
    banner: &Banner,
    cat: Reply,
    rest: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> Routes {
    Routes::new()
        .at("/", Reply::json(&banner.body))
        .at("/_cat/indices", cat)
        .handler(move |target| Some(rest(target)))
}

/// The 404 a real 7.x cluster answers for a path naming one missing index.
fn not_found(target: &str) -> Reply {
    let path = target.split('?').next().unwrap_or(target);
    let name = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    missing_index(Gen::V7, name)
}

/// Item 1: answers to `_cat/indices` that are no listing as the product sends it. Each was
/// `open` ("0 indices listed") or a bare "honeypot" before; each is a decoy now, with the
/// disagreement in the note and in the evidence.
#[tokio::test]
async fn cat_indices_answers_that_are_no_listing_are_decoys() {
    let es7 = vary(ES_05_7_2_0);
    let es1 = vary(ES_01_1_7_2);
    let text =
        |body: &str| Reply::new("200 OK", body).header("content-type", "text/plain; charset=UTF-8");
    let cases: Vec<(&Banner, Reply, &str)> = vec![
        (
            &es7,
            Reply::new("204 No Content", ""),
            "an empty body (HTTP 204)",
        ),
        (&es7, Reply::json(""), "an empty body (HTTP 200)"),
        (&es7, Reply::json(" \n"), "a blank body"),
        (&es7, text(""), "an empty body (HTTP 200)"),
        (&es1, text(" \r\n\n"), "a blank body"),
        (
            &es7,
            Reply::new("200 OK", "<!doctype html><html><body>Portal</body></html>")
                .header("content-type", "text/html; charset=utf-8"),
            "markup (text/html)",
        ),
        // A one-line body whose first line merely contains the word `index`.
        (&es7, text("index\n"), "a text table"),
        (
            &es1,
            text("the index is being built\n"),
            "text whose first line is no index-table header",
        ),
        (
            &es1,
            text("index\n"),
            "text whose first line is no index-table header",
        ),
        // The text table only comes from Elasticsearch before 5.0.
        (
            &es7,
            text(&cat_text_1x(&[ix("logs", 1, 2)])),
            "a text table",
        ),
        (
            &es7,
            text(&cat_json(Gen::V7, &[ix("logs", 1, 2)])),
            "a JSON array without a JSON content type (text/plain)",
        ),
        (
            &es7,
            Reply::json(r#"[{"index":"logs","health":"green","status":"open"}]"#),
            "a row with no docs.count",
        ),
        (
            &es7,
            Reply::json(r#"{"acknowledged":true}"#),
            "a JSON object, not an array of index rows",
        ),
    ];
    for (banner, cat, why) in cases {
        let (server, hits) = http_server(false, routes_with(banner, cat, not_found)).await;
        let detection = detect_bounded(&server.endpoint()).await;
        let note = decoy_note(&detection, &hits);
        let label = format!("Elasticsearch {}", banner.version);
        assert_eq!(
            note,
            format!(
                "http: {label} look-alike: the index list is {why}, which {label} never sends (likely a honeypot or decoy)"
            )
        );
        let cat = entry(
            &detection.evidence,
            "GET /_cat/indices?format=json&bytes=b&v",
        );
        assert!(
            cat.response
                .ends_with(&format!(": not an index list: {why}")),
            "{cat:?}"
        );
        assert_read_only(&hits);
    }
}

/// Item 2: a decoy that answers the random index with 200 and a not-found error body (the
/// 404 body a real cluster sends, under the wrong status). Two signals disagree: a 2xx for
/// an index that does not exist, and the body's own `status`.
#[tokio::test]
async fn decoy_path_200_with_not_found_body_is_a_decoy() {
    let banner = vary(ES_05_7_2_0);
    let indices = vec![ix("customers", 1_000, 500_000)];
    let cluster = Cluster::new(Gen::V7, &banner, indices.clone());
    let real = cluster.routes();
    let routes = Routes::new()
        .handler(|target| {
            let name = target.strip_prefix("/ajar-")?;
            let mut reply = missing_index(Gen::V7, &format!("ajar-{name}"));
            reply.status = "200 OK".into();
            Some(reply)
        })
        .handler(move |target| Some(real.reply_for(target)));
    let (server, hits) = http_server(false, routes).await;
    let detection = detect_bounded(&server.endpoint()).await;
    let note = decoy_note(&detection, &hits);
    let decoy = targets(&hits)
        .into_iter()
        .find(|t| t.starts_with("/ajar-"))
        .expect("the random path was asked");
    assert_eq!(
        note,
        format!(
            "http: Elasticsearch 7.2.0 look-alike: GET {decoy} (an index that does not exist) answers HTTP 200 where Elasticsearch answers 404; GET {decoy} answers HTTP 200 but its body says status 404 (likely a honeypot or decoy)"
        )
    );
    let e = entry(&detection.evidence, &format!("GET {decoy}"));
    assert!(
        e.response.ends_with(": disagrees with a real cluster"),
        "{e:?}"
    );
    assert!(
        !targets(&hits).iter().any(|t| t.starts_with("/_cat")),
        "a decoy is not listed: {:?}",
        lines(&hits)
    );
    assert_read_only(&hits);
}

/// Item 2: a static index list whose indices do not exist: the random path gets a real
/// 404, the listing is well formed, but `_mapping` of the listed indices answers 404
/// `index_not_found_exception`.
#[tokio::test]
async fn static_listing_whose_indices_do_not_exist_is_a_decoy() {
    let banner = vary(ES_06_8_12_2);
    let indices = vec![
        ix("customers", 52_340, 48_213_377),
        ix("orders", 9_000, 4_000_000),
    ];
    let cat = Reply::json(&cat_json(Gen::V8, &indices));
    let (server, hits) = http_server(false, routes_with(&banner, cat, not_found)).await;
    let detection = detect_bounded(&server.endpoint()).await;
    let note = decoy_note(&detection, &hits);
    assert_eq!(
        note,
        "http: Elasticsearch 8.12.2 look-alike: the mapping request for the 2 listed indices answers HTTP 404 index_not_found_exception: the indices it listed do not exist (likely a honeypot or decoy)"
    );
    let e = entry(&detection.evidence, "GET /customers,orders/_mapping");
    assert!(
        e.response.starts_with("HTTP 404, application/json, "),
        "{e:?}"
    );
    assert!(
        e.response.ends_with(": disagrees with the listing"),
        "{e:?}"
    );
    assert_read_only(&hits);
}

/// Item 2: a listing of system indices only is checked too (one system index, metadata
/// only); here it does not exist.
#[tokio::test]
async fn static_system_listing_whose_index_does_not_exist_is_a_decoy() {
    let banner = vary(ES_05_7_2_0);
    let indices = vec![ix(".kibana_1", 12, 61_245), ix(".tasks", 3, 20_113)];
    let cat = Reply::json(&cat_json(Gen::V7, &indices));
    let (server, hits) = http_server(false, routes_with(&banner, cat, not_found)).await;
    let detection = detect_bounded(&server.endpoint()).await;
    let note = decoy_note(&detection, &hits);
    assert_eq!(
        note,
        "http: Elasticsearch 7.2.0 look-alike: the mapping request for the listed index \".kibana_1\" answers HTTP 404 index_not_found_exception: the indices it listed do not exist (likely a honeypot or decoy)"
    );
    assert_eq!(
        targets(&hits)
            .iter()
            .filter(|t| t.ends_with("/_mapping"))
            .count(),
        1,
        "{:?}",
        lines(&hits)
    );
    assert_read_only(&hits);
}

/// Item 2: `_mapping` answered with the banner (a honeypot serving it on every path but the
/// random one), or with an object that names none of the requested indices.
#[tokio::test]
async fn mapping_answered_with_banner_or_other_names_is_a_decoy() {
    let banner = vary(ES_05_7_2_0);
    let indices = vec![ix("customers", 1_000, 500_000)];
    for (body, what) in [
        (banner.body.clone(), "the banner"),
        (
            r#"{"orders":{"mappings":{"properties":{"sku":{"type":"keyword"}}}}}"#.to_string(),
            "an object naming none of them",
        ),
        (r#"{}"#.to_string(), "an object naming none of them"),
    ] {
        let cat = Reply::json(&cat_json(Gen::V7, &indices));
        let routes = routes_with(&banner, cat, move |target| {
            if target.ends_with("/_mapping") {
                Reply::json(&body)
            } else {
                not_found(target)
            }
        });
        let (server, hits) = http_server(false, routes).await;
        let detection = detect_bounded(&server.endpoint()).await;
        let note = decoy_note(&detection, &hits);
        assert_eq!(
            note,
            format!(
                "http: Elasticsearch 7.2.0 look-alike: the mapping request for the listed index \"customers\" answers HTTP 200 with {what} (likely a honeypot or decoy)"
            )
        );
        assert_read_only(&hits);
    }
}

/// Item 2: a body whose own `status` contradicts the HTTP status: a 1.x banner saying 200
/// under HTTP 503 (a real blocked 1.x says 503 in both), and a listing answered 200 with a
/// 404 error body.
#[tokio::test]
async fn status_field_disagreeing_with_http_status_is_a_decoy() {
    let banner = vary(ES_01_1_7_2);
    let routes = Routes::new()
        .at(
            "/",
            Reply::new("503 Service Unavailable", banner.body.clone())
                .header("content-type", "application/json; charset=UTF-8"),
        )
        .handler(|target| Some(not_found(target)));
    let (server, hits) = http_server(false, routes).await;
    let detection = detect_bounded(&server.endpoint()).await;
    assert_eq!(
        decoy_note(&detection, &hits),
        "http: Elasticsearch 1.7.2 look-alike: GET / answers HTTP 503 but its banner says status 200 (likely a honeypot or decoy)"
    );

    let banner = vary(ES_05_7_2_0);
    let mut cat = missing_index(Gen::V7, "_cat");
    cat.status = "200 OK".into();
    let (server, hits) = http_server(false, routes_with(&banner, cat, not_found)).await;
    let detection = detect_bounded(&server.endpoint()).await;
    assert_eq!(
        decoy_note(&detection, &hits),
        "http: Elasticsearch 7.2.0 look-alike: GET /_cat/indices?format=json&bytes=b&v answers HTTP 200 but its body says status 404 (likely a honeypot or decoy)"
    );
    assert_read_only(&hits);
}

/// Item 4: an 8 MiB JSON listing of minimal rows, cut at the 8 MiB read cap (the server
/// sends 9 MiB): open, the finding holds exactly the capped inventory (the buffer too), the
/// whole rows before the cut are counted and summed, and the inventory says it was cut.
#[tokio::test]
async fn huge_json_listing_keeps_a_capped_inventory() {
    let banner = vary(ES_05_7_2_0);
    let routes = Cluster::new(Gen::V7, &banner, vec![ix("a", 1, 2)]).routes();
    let unit =
        br#"{"health":"green","status":"open","index":"a","docs.count":"1","store.size":"2"},"#
            .to_vec();
    let rows = (8usize << 20) / unit.len();
    let huge = Repeating {
        status: "200 OK".into(),
        content_type: "application/json; charset=UTF-8".into(),
        prefix: b"[".to_vec(),
        unit,
        suffix: b"{}]".to_vec(),
        len: 9 << 20,
    };
    let (server, hits) = huge_http(routes, "/_cat/indices", huge).await;
    let f = found_with(probe_bounded(&server.endpoint()).await, &hits);
    assert_eq!(
        (f.exposure, f.severity),
        (Exposure::Open, Severity::High),
        "{}",
        f.summary
    );
    let inv = f.inventory.as_ref().expect("inventory");
    assert_eq!(inv.items.len(), 1000);
    assert!(
        inv.items.capacity() <= 1000,
        "capacity {}",
        inv.items.capacity()
    );
    assert!(inv.truncated);
    assert_eq!(inv.total_items, rows as u64);
    assert_eq!(inv.total_documents, Some(rows as u64));
    assert_eq!(inv.total_size_bytes, Some(2 * rows as u64));
    assert_eq!(
        f.summary,
        format!(
            "Elasticsearch lists {rows} indices ({rows} user) without credentials, {rows} documents (the list was cut at the read cap)"
        )
    );
    assert_read_only(&hits);
}

/// Item 4: the same with the 1.x text table (an 8 MiB body of one-letter rows): the lines
/// before the cut are read in place, the inventory is capped.
#[tokio::test]
async fn huge_text_listing_keeps_a_capped_inventory() {
    let banner = vary(ES_01_1_7_2);
    let routes = Cluster::new(Gen::V1, &banner, vec![ix("a", 1, 2)]).routes();
    let prefix = b"health status index docs.count store.size\n".to_vec();
    let unit = b"green open a 1 2\n".to_vec();
    let rows = ((8usize << 20) - prefix.len()) / unit.len();
    let huge = Repeating {
        status: "200 OK".into(),
        content_type: "text/plain; charset=UTF-8".into(),
        prefix,
        unit,
        suffix: Vec::new(),
        len: 9 << 20,
    };
    let (server, hits) = huge_http(routes, "/_cat/indices", huge).await;
    let f = found_with(probe_bounded(&server.endpoint()).await, &hits);
    assert_eq!(
        (f.exposure, f.severity),
        (Exposure::Open, Severity::High),
        "{}",
        f.summary
    );
    let inv = f.inventory.as_ref().expect("inventory");
    assert_eq!(inv.items.len(), 1000);
    assert!(
        inv.items.capacity() <= 1000,
        "capacity {}",
        inv.items.capacity()
    );
    assert!(inv.truncated);
    assert_eq!(inv.total_items, rows as u64);
    assert_eq!(inv.total_documents, Some(rows as u64));
    assert_read_only(&hits);
}
