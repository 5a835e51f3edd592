//! Default credentials: basic auth and a form login with a token and cookies; requests
//! with credentials are never sent without the flag.

use super::*;
use crate::finding::Exposure;
use crate::rules::Reply;

/// A Grafana-like probe: identified by /api/health and the login page, open when /api/org
/// answers anonymously, default credentials when basic auth with admin/admin reads it.
const GRAFANA: &str = r#"
id = "grafana"
name = "Grafana"
service = "grafana"
ports = [3000]

[requests.health]
path = "/api/health"

[requests.org]
path = "/api/org"

[requests.org-as]
path = "/api/org"
auth = "basic"

[[credentials]]
user = "admin"
password = "secret"

[[credentials]]
user = "admin"
password = "admin"

[identify]
matchers = [
  { request = "health", status = [200] },
  { request = "health", json = "/database", type = "string" },
  { request = "health", json = "/version", type = "string" },
]

[[verdict]]
exposure = "open"
summary = "Grafana {version} shows its organisation to anyone"
matchers = [
  { request = "org", status = [200] },
  { request = "org", json = "/name", type = "string" },
]

[[verdict]]
exposure = "default-credentials"
credentials = true
summary = "Grafana {version} accepts the default login {user}"
matchers = [
  { request = "org-as", status = [200] },
  { request = "org-as", json = "/name", type = "string" },
]

[[verdict]]
exposure = "auth-required"
summary = "Grafana asks for a login"
matchers = [ { request = "org", status = [401] } ]

[[extract]]
name = "version"
request = "health"
json = "/version"
"#;

/// `GET /api/health` of Grafana, as the Grafana HTTP API docs (Other HTTP API, health)
/// show it.
const HEALTH: &str = r#"{"commit":"087143285","database":"ok","version":"5.1.3"}"#;
/// `GET /api/org` as the Grafana organisation API docs show it (current organisation).
const ORG: &str = r#"{"id":1,"name":"Main Org.","address":{"address1":"","address2":"","city":"","zipCode":"","state":"","country":""}}"#;
/// An anonymous `GET /api/org` on a Grafana 10 that requires a login (reconstructed from
/// Grafana's unauthorized error shape; confidence medium).
const UNAUTHORIZED: &str =
    r#"{"message":"Unauthorized","messageId":"auth.unauthorized","statusCode":401,"traceID":""}"#;

/// A Grafana whose admin password is `admin`: /api/org answers 200 only with it.
fn grafana_replay() -> Replay {
    Replay::new()
        .at("/api/health", Reply::json(HEALTH))
        .at("/api/org", Reply::new(401, UNAUTHORIZED))
}

/// Replay cannot tell credentials apart, so this fetcher answers by the basic pair.
struct ByPair {
    replay: Replay,
    good: (String, String),
}

impl Fetcher for ByPair {
    fn fetch(
        &mut self,
        request: &crate::rules::Request,
    ) -> impl std::future::Future<Output = crate::rules::Fetched> + Send {
        let good = request.basic_auth.as_ref() == Some(&self.good);
        let answer = self.replay.fetch(request);
        async move {
            if good {
                crate::rules::Fetched::Reply(std::sync::Arc::new(Reply::json(ORG)))
            } else {
                answer.await
            }
        }
    }

    fn decoy_path(&self) -> String {
        self.replay.decoy_path()
    }
}

fn run_by_pair(options: &EvalOptions) -> (Evaluation, Vec<crate::rules::Request>) {
    let rule = rule(GRAFANA, "grafana.toml");
    let mut fetcher = ByPair {
        replay: grafana_replay(),
        good: ("admin".to_string(), "admin".to_string()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let evaluation = runtime.block_on(evaluate(&rule, &mut fetcher, options));
    (evaluation, fetcher.replay.requests())
}

#[test]
fn without_the_flag_no_credentials_are_sent() {
    let (evaluation, requests) = run_by_pair(&EvalOptions::default());
    let found = identified(evaluation);
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "grafana-auth-required");
    assert_eq!(found.user, None);
    assert!(
        requests.iter().all(|r| r.basic_auth.is_none()),
        "{requests:?}"
    );
    let lines: Vec<String> = requests.iter().map(|r| r.shown.clone()).collect();
    assert_eq!(
        lines,
        vec!["GET /api/health", "GET /ajar-3f9c0d2b7a4e", "GET /api/org"]
    );
}

#[test]
fn with_the_flag_each_pair_is_tried_once_until_one_logs_in() {
    let options = EvalOptions {
        default_credentials: true,
        ..EvalOptions::default()
    };
    let (evaluation, requests) = run_by_pair(&options);
    let found = identified(evaluation);
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(found.check, "grafana-default-credentials");
    assert_eq!(
        found.summary,
        "Grafana 5.1.3 accepts the default login admin"
    );
    assert_eq!(found.user.as_deref(), Some("admin"));
    assert_eq!(found.version.as_deref(), Some("5.1.3"));
    let lines: Vec<String> = requests.iter().map(|r| r.shown.clone()).collect();
    assert_eq!(
        lines,
        vec![
            "GET /api/health",
            "GET /ajar-3f9c0d2b7a4e",
            "GET /api/org",
            "GET /api/org as admin",
            "GET /api/org as admin",
        ]
    );
    let pairs: Vec<Option<(String, String)>> =
        requests.iter().map(|r| r.basic_auth.clone()).collect();
    assert_eq!(pairs[3], Some(("admin".to_string(), "secret".to_string())));
    assert_eq!(pairs[4], Some(("admin".to_string(), "admin".to_string())));
    assert!(
        found
            .matched
            .contains(&"GET /api/org as admin: json /name is a string".to_string())
    );
    assert!(
        found
            .matched
            .iter()
            .chain([&found.summary])
            .all(|m| !m.contains("secret"))
    );
}

#[test]
fn with_the_flag_and_no_good_pair_it_stays_auth_required() {
    let rule = rule(GRAFANA, "grafana.toml");
    let mut replay = grafana_replay();
    let options = EvalOptions {
        default_credentials: true,
        ..EvalOptions::default()
    };
    let found = identified(run(&rule, &mut replay, &options));
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.user, None);
    assert_eq!(
        replay
            .requests()
            .iter()
            .filter(|r| r.basic_auth.is_some())
            .count(),
        2
    );
}

#[test]
fn an_anonymous_org_is_open_before_any_login() {
    let rule = rule(GRAFANA, "grafana.toml");
    let mut replay = Replay::new()
        .at("/api/health", Reply::json(HEALTH))
        .at("/api/org", Reply::json(ORG));
    let options = EvalOptions {
        default_credentials: true,
        ..EvalOptions::default()
    };
    let found = identified(run(&rule, &mut replay, &options));
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(
        found.summary,
        "Grafana 5.1.3 shows its organisation to anyone"
    );
    assert!(replay.requests().iter().all(|r| r.basic_auth.is_none()));
}

/// A phpMyAdmin-like form login: the login page sets a session cookie and carries a token;
/// the POST sends both; the check after login sends the cookie again.
const FORM: &str = r#"
id = "form-app"
name = "Form App"
service = "form-app"

[requests.page]
path = "/index.php"
cookies = true

[requests.login]
path = "/index.php?route=/"
method = "POST"
login = true
cookies = true
body = "pma_username={user}&pma_password={password}&token={token}"
content_type = "application/x-www-form-urlencoded"

[[credentials]]
user = "root"
password = "p&ss word"

[identify]
matchers = [
  { request = "page", header = "set-cookie", words = ["phpMyAdmin="] },
  { request = "page", regex = ['name="token" value="[0-9a-f]+"'] },
]

[[verdict]]
exposure = "default-credentials"
credentials = true
summary = "logged in as {user}"
matchers = [
  { request = "login", status = [200] },
  { request = "login", words = ["logout"] },
]

[[extract]]
name = "token"
request = "page"
regex = 'name="token" value="([0-9a-f]+)"'
"#;

#[test]
fn a_form_login_sends_token_cookie_and_encoded_pair() {
    let rule = rule(FORM, "form-app.toml");
    let page = Reply::html(r#"<form><input type="hidden" name="token" value="5a2b9c"></form>"#)
        .header("set-cookie", "phpMyAdmin=abc123; path=/; HttpOnly");
    let mut replay = Replay::new()
        .at_method("GET", "/index.php", page)
        .at_method(
            "POST",
            "/index.php?route=/",
            Reply::html("<a href=\"logout\">Log out</a>"),
        );
    let options = EvalOptions {
        default_credentials: true,
        ..EvalOptions::default()
    };
    let found = identified(run(&rule, &mut replay, &options));
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(found.summary, "logged in as root");
    let login = replay
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("the login was sent");
    assert_eq!(
        login.body.as_deref(),
        Some("pma_username=root&pma_password=p%26ss%20word&token=5a2b9c")
    );
    assert_eq!(
        login.headers,
        vec![("Cookie".to_string(), "phpMyAdmin=abc123".to_string())]
    );
    assert_eq!(login.shown, "POST /index.php?route=/ (login as root)");
    assert!(login.send_cookies);

    // Without the flag the POST is never sent.
    let mut replay = Replay::new().at_method(
        "GET",
        "/index.php",
        Reply::html(r#"<input name="token" value="5a2b9c">"#)
            .header("set-cookie", "phpMyAdmin=abc123"),
    );
    let found = identified(run(&rule, &mut replay, &EvalOptions::default()));
    assert_eq!(found.exposure, None);
    assert!(replay.requests().iter().all(|r| r.method == "GET"));
}
