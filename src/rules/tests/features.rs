//! Smaller features: regex inventories and counts, `or` verdicts, negated matchers on
//! failed requests, explicit decoy matchers, JSON bodies, and placeholder cycles.

use super::*;
use crate::finding::Exposure;
use crate::rules::Reply;

/// A panel that lists database names as links in its home page (shape of mongo-express's
/// database table, reconstructed; confidence medium).
const PANEL: &str = r#"
id = "panel"
name = "Panel"
service = "panel"

[requests.home]
path = "/"

[requests.api]
path = "/api/info"

[requests.state]
path = "/api/state"

[identify]
matchers = [
  { request = "home", words = ["<title>Panel</title>"] },
  { request = "api", json = "/panel", equals = true },
  { request = "decoy", status = [404] },
]

[[verdict]]
exposure = "open"
condition = "or"
summary = "Panel lists {databases} databases"
matchers = [
  { request = "home", words = ["href=\"/db/"] },
  { request = "api", json = "/databases", type = "array" },
]

[[verdict]]
exposure = "auth-required"
summary = "Panel asks for a login"
matchers = [ { request = "state", json = "/error", negative = true } ]

[[extract]]
name = "databases"
request = "home"
regex = 'href="/db/([^/"]+)/"'
count = true

[inventory]
request = "home"
unit = "database"
regex = 'href="/db/([^/"]+)/"'
system = ["admin", "local"]
"#;

const HOME: &str = r#"<title>Panel</title><a href="/db/admin/">admin</a><a href="/db/shop/">shop</a>
<a href="/db/shop/">again</a><a href="/db/local/">local</a><a href="/db/crm/">crm</a>"#;

#[test]
fn names_in_a_page_make_an_inventory_and_a_count() {
    let rule = rule(PANEL, "panel.toml");
    let mut replay = Replay::new()
        .at("/", Reply::html(HOME))
        .at("/api/info", Reply::json(r#"{"panel":true}"#));
    let options = EvalOptions {
        max_items: 3,
        ..EvalOptions::default()
    };
    let found = identified(run(&rule, &mut replay, &options));
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.summary, "Panel lists 4 databases");
    // `or`: only the matcher that held is evidence.
    assert_eq!(
        found.matched.last().map(String::as_str),
        Some("GET /: body contains \"href=\\\"/db/\"")
    );
    let inv = found.inventory.expect("an inventory");
    let names: Vec<(&str, bool)> = inv
        .items
        .iter()
        .map(|d| (d.name.as_str(), d.system))
        .collect();
    assert_eq!(
        names,
        vec![("admin", true), ("shop", false), ("local", true)]
    );
    assert_eq!(
        (inv.total_items, inv.user_items, inv.truncated),
        (4, 2, true)
    );
}

#[test]
fn a_negated_matcher_on_a_failed_request_does_not_hold() {
    let rule = rule(PANEL, "panel.toml");
    let replay = || {
        Replay::new()
            .at("/", Reply::html("<title>Panel</title>"))
            .at("/api/info", Reply::json(r#"{"panel":true}"#))
    };
    // `/error` is absent from a good reply: the negated matcher holds.
    let mut good = replay().at("/api/state", Reply::json(r#"{"login":"required"}"#));
    let found = identified(run(&rule, &mut good, &EvalOptions::default()));
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(
        found.matched.last().map(String::as_str),
        Some("GET /api/state: not: json /error exists")
    );
    // With no reply, or a reply cut short, nothing is known: no verdict.
    let mut failed = replay().failing("/api/state", "connection reset");
    assert_eq!(
        identified(run(&rule, &mut failed, &EvalOptions::default())).exposure,
        None
    );
    let long = format!(r#"{{"pad":"{}"}}"#, "x".repeat(70_000));
    let mut cut = replay().at("/api/state", Reply::json(&long));
    assert_eq!(
        identified(run(&rule, &mut cut, &EvalOptions::default())).exposure,
        None
    );
}

#[test]
fn an_explicit_decoy_matcher_rejects_a_catch_all() {
    let rule = rule(PANEL, "panel.toml");
    let page = format!("{HOME}{{\"panel\":true}}");
    let mut replay = Replay::new()
        .at("/", Reply::html(HOME))
        .at("/api/info", Reply::json(r#"{"panel":true}"#))
        .otherwise(Reply::html(&page));
    match run(&rule, &mut replay, &EvalOptions::default()) {
        Evaluation::NotThis { note } => assert_eq!(
            note,
            "GET /ajar-3f9c0d2b7a4e: status is 404 does not hold (status 200)"
        ),
        other => panic!("expected NotThis, got {other:?}"),
    }
}

const POSTER: &str = r#"
id = "poster"
name = "Poster"
service = "poster"

[requests.info]
path = "/info"
method = "HEAD"

[requests.meta]
path = "/meta"

[requests.count]
path = "/v3/kv/range"
method = "POST"
read_only = "count_only returns the number of keys and changes nothing"
content_type = "application/json"
body = '{"key":"AA==","count_only":true,"rev":"{rev}"}'

[identify]
matchers = [
  { request = "info", header = "x-poster", words = ["yes"] },
  { request = "meta", json = "/rev", type = "string" },
]

[[verdict]]
exposure = "open"
summary = "{keys} keys"
matchers = [ { request = "count", json = "/count", type = "string" } ]

[[extract]]
name = "rev"
request = "meta"
json = "/rev"

[[extract]]
name = "keys"
request = "count"
json = "/count"
"#;

#[test]
fn json_bodies_keep_their_braces_and_escape_values() {
    let rule = rule(POSTER, "poster.toml");
    let mut replay = Replay::new()
        .at_method(
            "HEAD",
            "/info",
            Reply::new(200, "").header("X-Poster", "yes"),
        )
        .at("/meta", Reply::json(r#"{"rev":"7\"\\"}"#))
        .at_method("POST", "/v3/kv/range", Reply::json(r#"{"count":"12"}"#));
    let found = identified(run(&rule, &mut replay, &EvalOptions::default()));
    assert_eq!(found.summary, "12 keys");
    let post = replay
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("the POST");
    assert_eq!(
        post.body.as_deref(),
        Some(r#"{"key":"AA==","count_only":true,"rev":"7\"\\"}"#)
    );
    assert_eq!(post.content_type.as_deref(), Some("application/json"));
    assert_eq!(replay.requests()[0].method, "HEAD");
}

#[test]
fn requests_that_wait_for_each_other_are_refused() {
    let text = POSTER
        .replace("path = \"/meta\"", "path = \"/meta?k={keys}\"")
        .replace("read_only = ", "cookies = false\nread_only = ");
    let errors: Vec<String> = match compile(&text, "poster.toml") {
        Ok(_) => panic!("compiled"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    };
    assert_eq!(
        errors,
        vec![
            "poster.toml:10:11: requests.meta: requests wait for each other's extractors: meta -> count -> meta",
            "poster.toml:13:11: requests.count: requests wait for each other's extractors: count -> meta -> count",
        ]
    );
}
