//! Broken probe files: each error names its file, line, column and field.

use super::*;

/// Every error of a file, as `ajar probes check` prints them.
fn errors(text: &str, file: &str) -> Vec<String> {
    match compile(text, file) {
        Ok(_) => panic!("{file} compiled"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// A small valid file; tests break one line of it.
const BASE: &str = r#"id = "demo"
name = "Demo"
service = "demo"

[requests.root]
path = "/"

[requests.api]
path = "/api/status"

[identify]
matchers = [
  { request = "root", header = "server", words = ["Demo"] },
  { request = "api", json = "/demo", type = "object" },
]

[[verdict]]
exposure = "open"
summary = "Demo is open"
matchers = [
  { request = "api", status = [200] },
  { request = "api", json = "/demo/items", type = "array" },
]
"#;

#[test]
fn the_base_file_compiles() {
    let rule = rule(BASE, "probes/demo.toml");
    assert_eq!(rule.check_ids(), vec!["demo-open", "demo-undetermined"]);
}

#[test]
fn an_unknown_field_is_named_with_its_line() {
    let text = BASE.replace(
        "path = \"/api/status\"",
        "path = \"/api/status\"\npaht = \"/x\"",
    );
    let errors = errors(&text, "demo.toml");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("demo.toml:10:1: requests.api.paht: unknown field `paht`"),
        "{errors:?}"
    );
}

#[test]
fn a_syntax_error_has_its_line() {
    let text = BASE.replace("service = \"demo\"", "service = \"demo");
    let errors = errors(&text, "demo.toml");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("demo.toml:3:"), "{errors:?}");
}

#[test]
fn the_id_must_be_the_file_stem() {
    assert_eq!(
        errors(BASE, "probes/other.toml"),
        vec!["probes/other.toml:1:1: id: the id must equal the file name: \"other\""]
    );
}

#[test]
fn a_bad_regex_in_a_verdict_points_at_the_pattern() {
    let text = BASE.replace(
        "  { request = \"api\", status = [200] },\n",
        "  { request = \"api\", status = [200] },\n  { request = \"api\", regex = [\"ok\", \"(unclosed\"] },\n",
    );
    let errors = errors(&text, "demo.toml");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(
            "demo.toml:22:37: verdict[0].matchers[1].regex[1]: the regex does not compile:"
        ),
        "{errors:?}"
    );
}

#[test]
fn an_unknown_request_is_refused() {
    let text = BASE.replace(
        "{ request = \"api\", status = [200] }",
        "{ request = \"apii\", status = [200] }",
    );
    assert_eq!(
        errors(&text, "demo.toml"),
        vec![
            "demo.toml:21:5: verdict[0].matchers[0].request: no request named \"apii\" in [requests]"
        ]
    );
}

#[test]
fn a_post_needs_a_reason() {
    let text = BASE.replace(
        "path = \"/api/status\"",
        "path = \"/api/status\"\nmethod = \"POST\"",
    );
    assert_eq!(
        errors(&text, "demo.toml"),
        vec![
            "demo.toml:10:1: requests.api.method: a POST needs `read_only = \"why it changes nothing\"` or `login = true`"
        ]
    );
    let text = BASE.replace(
        "path = \"/api/status\"",
        "path = \"/api/status\"\nmethod = \"DELETE\"",
    );
    assert_eq!(
        errors(&text, "demo.toml"),
        vec![
            "demo.toml:10:1: requests.api.method: use GET or HEAD (POST needs read_only or login)"
        ]
    );
    let text = BASE.replace(
        "path = \"/api/status\"",
        "path = \"/api/status\"\nmethod = \"POST\"\nread_only = \"a count, changes nothing\"",
    );
    assert!(compile(&text, "demo.toml").is_ok());
}

#[test]
fn identification_needs_two_independent_signals() {
    let text = BASE.replace(
        "  { request = \"api\", json = \"/demo\", type = \"object\" },\n",
        "  { request = \"api\", status = [200] },\n",
    );
    assert_eq!(
        errors(&text, "demo.toml"),
        vec![
            "demo.toml:12:1: identify.matchers: identification needs at least two positive matchers that are not `status`"
        ]
    );
    let text = BASE
        .replace(
            "{ request = \"root\", header = \"server\", words = [\"Demo\"] }",
            "{ request = \"root\", words = [\"Demo\"] }",
        )
        .replace(
            "{ request = \"api\", json = \"/demo\", type = \"object\" }",
            "{ request = \"root\", regex = [\"v[0-9]\"] }",
        );
    let errors = errors(&text, "demo.toml");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("demo.toml:12:1: identify.matchers: identification may not rest on words/regex over one body alone"), "{errors:?}");
}

#[test]
fn an_open_verdict_needs_more_than_a_status() {
    let text = BASE.replace(
        "  { request = \"api\", json = \"/demo/items\", type = \"array\" },\n",
        "",
    );
    assert_eq!(
        errors(&text, "demo.toml"),
        vec![
            "demo.toml:20:1: verdict[0].matchers: an open verdict needs a positive matcher that is not `status` (with condition = \"or\", every matcher)"
        ]
    );
}

#[test]
fn status_codes_and_matcher_kinds_are_checked() {
    let text = BASE.replace("status = [200]", "status = [200, 700]");
    assert_eq!(
        errors(&text, "demo.toml"),
        vec![
            "demo.toml:21:37: verdict[0].matchers[0].status[1]: 700 is not an HTTP status code (100 to 599)"
        ]
    );
    let text = BASE.replace("status = [200]", "status = [200], json = \"/a\"");
    assert_eq!(
        errors(&text, "demo.toml"),
        vec![
            "demo.toml:21:3: verdict[0].matchers[0]: a matcher needs exactly one test of status, header, words, regex, json, all or any (found: status, json)"
        ]
    );
    let text = BASE.replace("json = \"/demo/items\"", "json = \"demo/items\"");
    assert_eq!(
        errors(&text, "demo.toml"),
        vec![
            "demo.toml:22:22: verdict[0].matchers[1].json: a JSON pointer is \"\" or starts with '/', not \"demo/items\""
        ]
    );
}

#[test]
fn exposure_credentials_and_placeholders_are_checked() {
    let text = BASE.replace("exposure = \"open\"", "exposure = \"wide-open\"");
    assert_eq!(
        errors(&text, "demo.toml"),
        vec!["demo.toml:18:1: verdict[0].exposure: use open, auth-required or default-credentials"]
    );
    let text = BASE.replace(
        "summary = \"Demo is open\"",
        "summary = \"Demo {version} is open\"\ncredentials = true",
    );
    assert_eq!(
        errors(&text, "demo.toml"),
        vec![
            "demo.toml:17:3: verdict: a credentials verdict needs [[credentials]] pairs",
            "demo.toml:19:1: verdict[0].summary: {version} names no extractor (nor user)",
            "demo.toml:20:1: verdict[0].credentials: `credentials = true` goes with exposure = \"default-credentials\", and only there",
            "demo.toml:21:1: verdict[0].matchers: a credentials verdict reads a request with `auth` or `login`",
        ]
    );
    let text = BASE.replace("path = \"/api/status\"", "path = \"/api/status?t={token}\"");
    assert_eq!(
        errors(&text, "demo.toml"),
        vec!["demo.toml:9:1: requests.api.path: {token} names no extractor (nor user or password)"]
    );
}

#[test]
fn credentials_need_pairs_and_stay_out_of_identification() {
    let text = BASE.replace(
        "path = \"/api/status\"",
        "path = \"/api/status\"\nauth = \"basic\"",
    );
    let errors = errors(&text, "demo.toml");
    assert_eq!(
        errors,
        vec![
            "demo.toml:10:1: requests.api.auth: a request with credentials needs [[credentials]] pairs",
            "demo.toml:13:1: identify.matchers: identification may not use a request with `auth` or `login`",
            "demo.toml:21:1: verdict[0].matchers: only a `credentials = true` verdict may read a request with `auth` or `login`",
        ]
    );
}

#[test]
fn deserializer_errors_are_placed_and_named() {
    let cases = [
        (
            BASE.replace("summary = \"Demo is open\"\n", ""),
            "demo.toml:17:1: verdict[0]: missing field `summary`",
        ),
        (
            BASE.replace("service = \"demo\"", "service = \"demo\"\nports = [70000]"),
            "demo.toml:4:10: ports[0]: invalid value: integer `70000`, expected u16",
        ),
        (
            BASE.replace("type = \"object\"", "typ = \"object\""),
            "demo.toml:14:38: identify.matchers[1].typ: unknown field `typ`, expected one of \
             `request`, `status`, `header`, `words`, `regex`, `json`, `type`, `equals`, \
             `condition`, `case_insensitive`, `negative`, `all`, `any`",
        ),
        (
            BASE.replace("status = [200]", "status = 200"),
            "demo.toml:21:31: verdict[0].matchers[0].status: invalid type: integer `200`, \
             expected a sequence",
        ),
        (
            BASE.replace(
                "path = \"/api/status\"",
                "path = \"/api/status\"\npath = \"/x\"",
            ),
            "demo.toml:10:1: duplicate key",
        ),
    ];
    for (text, wanted) in cases {
        assert_eq!(errors(&text, "demo.toml"), vec![wanted.to_string()]);
    }
}
