//! Admin-panel probes (`probes/{phpmyadmin,adminer,...}.toml`) against replies captured from
//! the real products on loopback or taken from their documentation and source (each
//! `tests/fixtures/panels/<id>/SOURCES.md` says which), through `ajar::rules` with a
//! replaying fetcher: exact verdicts, check ids, versions and inventories, read-only
//! requests, and look-alikes that no shipped probe may report open.

use ajar::finding::{Exposure, Severity};
use std::sync::Arc;

use ajar::rules::{
    EvalOptions, Evaluation, Fetched, Fetcher, Identified, Replay, Reply, Request, RuleSet,
    evaluate,
};

/// A fixture file under `tests/fixtures/panels/`.
macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../fixtures/panels/", $path))
    };
}

/// A captured reply: `<stem>.headers` (as `curl -D` wrote it) and `<stem>.<ext>`.
macro_rules! capture {
    ($stem:literal, $ext:literal) => {
        captured(
            include_str!(concat!("../fixtures/panels/", $stem, ".headers")),
            include_str!(concat!("../fixtures/panels/", $stem, ".", $ext)),
        )
    };
}

fn options() -> EvalOptions {
    EvalOptions {
        default_credentials: false,
        max_items: 1000,
    }
}

fn with_credentials() -> EvalOptions {
    EvalOptions {
        default_credentials: true,
        max_items: 1000,
    }
}

/// A reply from a captured head (`HTTP/1.1 200 OK`, then `Name: value` lines, as `curl -D`
/// writes them) and its body.
fn captured(head: &str, body: &str) -> Reply {
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let mut reply = Reply::new(status, body);
    for line in lines.map(str::trim_end).take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').expect("a header line");
        reply = reply.header(name.trim(), value.trim());
    }
    reply
}

/// Evaluates the shipped probe `id`; panics unless it identified the product.
async fn identified(id: &str, replay: &mut Replay, opts: &EvalOptions) -> Identified {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let rule = rules.get(id).expect("the probe is shipped");
    match evaluate(rule, replay, opts).await {
        Evaluation::Identified(found) => found,
        other => panic!("{id} not identified: {other:?}"),
    }
}

async fn evaluation(id: &str, replay: &mut Replay, opts: &EvalOptions) -> Evaluation {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    evaluate(rules.get(id).expect("the probe is shipped"), replay, opts).await
}

/// Runs every shipped probe (with and without default credentials) on a look-alike: none
/// may call it open or logged in. Returns the ids that identified something, for the
/// caller to assert on.
async fn no_probe_opens(replay: &Replay) -> Vec<String> {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let mut seen = Vec::new();
    for opts in [options(), with_credentials()] {
        for rule in rules.iter() {
            let mut fresh = replay.clone();
            if let Evaluation::Identified(found) = evaluate(rule, &mut fresh, &opts).await {
                assert!(
                    !matches!(
                        found.exposure,
                        Some(Exposure::Open | Exposure::DefaultCredentials)
                    ),
                    "{} calls a look-alike {:?}: {}",
                    rule.id,
                    found.exposure,
                    found.summary
                );
                if !seen.contains(&rule.id) {
                    seen.push(rule.id.clone());
                }
            }
        }
    }
    seen
}

/// Without default credentials only GET and HEAD go out.
fn read_only(replay: &Replay) {
    for r in replay.requests() {
        assert!(r.method == "GET" || r.method == "HEAD", "{} sent", r.shown);
        assert!(r.basic_auth.is_none(), "{} sent credentials", r.shown);
    }
}

/// A replay that also looks at credentials: a request `accept` takes gets `reply`, every
/// request goes to the inner replay too (which records them all).
struct LoggedIn<'a> {
    inner: &'a mut Replay,
    accept: &'a (dyn Fn(&Request) -> bool + Sync),
    reply: Reply,
}

/// Accepts basic auth with this pair.
fn basic(user: &'static str, password: &'static str) -> impl Fn(&Request) -> bool + Sync {
    move |r: &Request| {
        r.basic_auth
            .as_ref()
            .is_some_and(|(u, p)| (u.as_str(), p.as_str()) == (user, password))
    }
}

/// Accepts a GET that carries a cookie whose text contains `cookie`.
fn session(path: &'static str, cookie: &'static str) -> impl Fn(&Request) -> bool + Sync {
    move |r: &Request| {
        r.method == "GET"
            && r.path == path
            && r.headers
                .iter()
                .any(|(n, v)| n == "Cookie" && v.contains(cookie))
    }
}

impl Fetcher for LoggedIn<'_> {
    fn fetch(&mut self, request: &Request) -> impl std::future::Future<Output = Fetched> + Send {
        let inner = self.inner.fetch(request);
        let accepted = (self.accept)(request);
        let reply = self.reply.clone();
        async move {
            let fallback = inner.await;
            if accepted {
                Fetched::Reply(Arc::new(reply))
            } else {
                fallback
            }
        }
    }

    fn decoy_path(&self) -> String {
        self.inner.decoy_path()
    }
}

async fn identified_with(id: &str, fetcher: &mut LoggedIn<'_>, opts: &EvalOptions) -> Identified {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    match evaluate(rules.get(id).expect("the probe is shipped"), fetcher, opts).await {
        Evaluation::Identified(found) => found,
        other => panic!("{id} not identified: {other:?}"),
    }
}

/// The severity the scan gives this finding (`ajar::probe::panels::severity`).
fn severity(id: &str, found: &Identified) -> Severity {
    let rules = RuleSet::shipped().expect("shipped probes compile");
    let rule = rules.get(id).expect("the probe is shipped");
    ajar::probe::panels::severity(rule, found)
}

fn names(found: &Identified) -> Vec<String> {
    let inv = found.inventory.as_ref().expect("an inventory");
    inv.items.iter().map(|i| i.name.clone()).collect()
}

fn detail<'a>(found: &'a Identified, name: &str) -> Option<&'a str> {
    found
        .details
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn shipped_probes_compile() {
    if let Err(errors) = RuleSet::shipped() {
        for e in &errors {
            eprintln!("{e}");
        }
        panic!("{} errors", errors.len());
    }
}

// ---- phpMyAdmin (captured from Debian phpmyadmin 5.2.1 under nginx) ----

fn pma_login_page() -> Reply {
    capture!("phpmyadmin/5.2.1-cookie-login", "html")
}

#[tokio::test]
async fn phpmyadmin_config_auth_home_is_open() {
    let mut replay = Replay::new().at("/", capture!("phpmyadmin/5.2.1-config-home", "html"));
    let found = identified("phpmyadmin", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "phpmyadmin-open");
    assert_eq!(found.version.as_deref(), Some("5.2.1"));
    assert_eq!(
        found.summary,
        "phpMyAdmin 5.2.1 opens its home page without a login (auth_type config): its navigation lists the databases"
    );
    assert_eq!(
        names(&found),
        [
            "analytics",
            "information_schema",
            "mysql",
            "performance_schema",
            "shop",
            "sys",
            "test"
        ]
    );
    let inv = found.inventory.as_ref().expect("an inventory");
    assert_eq!(
        (inv.unit.as_str(), inv.total_items, inv.user_items),
        ("database", 7, 3)
    );
    assert!(!inv.truncated);
    // Database names with no counts keep the product's severity.
    assert_eq!(severity("phpmyadmin", &found), Severity::High);
    // The CSRF token read for the login form is a detail too (see the report).
    assert_eq!(
        found.details,
        [(
            "token".to_string(),
            "264d484365575f5f585e5d5843505e6f".to_string()
        )]
    );
    read_only(&replay);
}

#[tokio::test]
async fn phpmyadmin_cookie_login_is_auth_required() {
    let mut replay = Replay::new().at("/", pma_login_page());
    let found = identified("phpmyadmin", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "phpmyadmin-auth-required");
    assert_eq!(found.version.as_deref(), Some("5.2.1"));
    assert!(found.inventory.is_none());
    // Without --default-credentials nothing is posted.
    assert_eq!(replay.requests().len(), 2, "the page and the decoy");
    read_only(&replay);
}

#[tokio::test]
async fn phpmyadmin_root_with_empty_password_is_default_credentials() {
    let mut replay = Replay::new().at("/", pma_login_page()).at_method(
        "POST",
        "/index.php?route=/",
        captured(
            fixture!("phpmyadmin/5.2.1-login-empty-password-accepted.headers"),
            "",
        ),
    );
    // After the login, GET / with the pmaAuth-1 cookie is the logged-in home.
    let mut logged_in = LoggedIn {
        inner: &mut replay,
        accept: &session("/", "pmaAuth-1="),
        reply: capture!("phpmyadmin/5.2.1-cookie-logged-in-home", "html"),
    };
    let found = identified_with("phpmyadmin", &mut logged_in, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(found.check, "phpmyadmin-default-credentials");
    assert_eq!(found.user.as_deref(), Some("root"));
    assert_eq!(found.version.as_deref(), Some("5.2.1"));
    assert_eq!(
        found.summary,
        "phpMyAdmin 5.2.1 logs in as root with an empty password (AllowNoPassword)"
    );
    assert_eq!(
        names(&found),
        [
            "analytics",
            "information_schema",
            "mysql",
            "performance_schema",
            "shop",
            "sys",
            "test"
        ]
    );
    let posts: Vec<_> = replay
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    let body = posts[0].body.as_deref().expect("a form body");
    // The token comes from the login page, the session cookie goes back with it.
    assert_eq!(
        body,
        "route=%2F&token=6c276f54417d2667613e7d584c5b286c&pma_username=root&pma_password=&server=1"
    );
    let cookie = posts[0]
        .headers
        .iter()
        .find(|(n, _)| n == "Cookie")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        cookie,
        Some("pma_lang=en; phpMyAdmin=o0crdt60t2lsagacucpsp966de")
    );
    assert_eq!(posts[0].shown, "POST /index.php?route=/ (login as root)");
}

#[tokio::test]
async fn phpmyadmin_refusing_the_empty_password_stays_auth_required() {
    let mut replay = Replay::new().at("/", pma_login_page()).at_method(
        "POST",
        "/index.php?route=/",
        capture!("phpmyadmin/5.2.1-login-empty-password-refused", "html"),
    );
    let found = identified("phpmyadmin", &mut replay, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.user, None);
}

#[tokio::test]
async fn phpmyadmin_4_8_login_page_is_auth_required() {
    let cookie = "phpMyAdmin=vp68fj0cb2i9b2v8jtnskeh55e; path=/; HttpOnly";
    let page =
        Reply::html(fixture!("phpmyadmin/4.8.1-cookie-login.html")).header("set-cookie", cookie);
    let mut replay = Replay::new().at("/", page.clone());
    let found = identified("phpmyadmin", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.version.as_deref(), Some("4.8.1"));
    // 4.8 tokens are not hex: the login form gets the token as the page wrote it.
    let refused = Reply::html(fixture!("phpmyadmin/4.8.1-cookie-login.html"));
    let mut replay = Replay::new()
        .at("/", page)
        .at_method("POST", "/index.php?route=/", refused);
    let found = identified("phpmyadmin", &mut replay, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    let post = replay
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("a login");
    assert_eq!(
        post.body.as_deref(),
        Some(
            "route=%2F&token=%3B%29pB%2FSc%5Eo8D%7Dpw%25%3F&pma_username=root&pma_password=&server=1"
        )
    );
}

#[tokio::test]
async fn phpmyadmin_4_7_config_auth_is_open() {
    // 4.6-4.7 write logged_in:"1" where 4.8+ write logged_in:true.
    let page = Reply::html(fixture!("phpmyadmin/4.7.7-config-home.html"))
        .header("set-cookie", "phpMyAdmin=3e1b5c; path=/; HttpOnly");
    let mut replay = Replay::new().at("/", page);
    let found = identified("phpmyadmin", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.version.as_deref(), Some("4.7.7"));
    assert_eq!(names(&found), ["mdshop", "mysql"]);
    assert_eq!(found.inventory.as_ref().map(|i| i.user_items), Some(1));
    read_only(&replay);
}

#[tokio::test]
async fn phpmyadmin_look_alikes_are_not_open() {
    // nginx's Debian welcome page at every phpMyAdmin mount.
    let nginx = Replay::new().otherwise(capture!("phpmyadmin/nginx-1.22.1-debian-default", "html"));
    assert_eq!(no_probe_opens(&nginx).await, Vec::<String>::new());
    // A honeypot answering every path, the decoy too, with the captured config-auth home.
    let honeypot = Replay::new().otherwise(capture!("phpmyadmin/5.2.1-config-home", "html"));
    assert!(matches!(
        evaluation("phpmyadmin", &mut honeypot.clone(), &options()).await,
        Evaluation::CatchAll { .. }
    ));
    assert_eq!(no_probe_opens(&honeypot).await, Vec::<String>::new());
    // A page that only names phpMyAdmin (title, no script block, no cookie).
    let blog = Replay::new().at(
        "/",
        Reply::html("<html><head><title>Install phpMyAdmin on Debian</title></head><body>logged_in:true id=\"pma_navigation\"</body></html>"),
    );
    assert!(matches!(
        evaluation("phpmyadmin", &mut blog.clone(), &options()).await,
        Evaluation::NotThis { .. }
    ));
    assert_eq!(no_probe_opens(&blog).await, Vec::<String>::new());
}

// ---- Adminer (captured from Debian adminer 4.8.1 under nginx and PHP's built-in server) ----

fn adminer_login() -> Reply {
    capture!("adminer/4.8.1-login", "html")
}

#[tokio::test]
async fn adminer_login_form_is_auth_required() {
    let mut replay = Replay::new().at("/", adminer_login());
    let found = identified("adminer", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "adminer-auth-required");
    assert_eq!(found.version.as_deref(), Some("4.8.1"));
    assert_eq!(found.summary, "Adminer 4.8.1 shows its login form");
    assert_eq!(replay.requests().len(), 2, "the page and the decoy");
    read_only(&replay);
}

#[tokio::test]
async fn adminer_root_without_password_is_default_credentials() {
    let mut replay = Replay::new()
        .at("/", adminer_login())
        .at_method(
            "POST",
            "/",
            captured(fixture!("adminer/4.8.1-login-post.headers"), ""),
        )
        .at(
            "/?server=localhost&username=root",
            capture!("adminer/4.8.1-databases", "html"),
        );
    let found = identified("adminer", &mut replay, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(found.check, "adminer-default-credentials");
    assert_eq!(found.user.as_deref(), Some("root"));
    assert_eq!(
        found.summary,
        "Adminer 4.8.1 logs in to the local MySQL as root with an empty password"
    );
    let asked = replay.requests();
    let post = asked.iter().find(|r| r.method == "POST").expect("a login");
    assert_eq!(
        post.body.as_deref(),
        Some(
            "auth%5Bdriver%5D=server&auth%5Bserver%5D=localhost&auth%5Busername%5D=root&auth%5Bpassword%5D=&auth%5Bdb%5D="
        )
    );
    // The next page goes with the session cookie the login set (and the key of the page).
    let next = asked
        .iter()
        .find(|r| r.path == "/?server=localhost&username=root")
        .expect("the page after the login");
    let cookie = next
        .headers
        .iter()
        .find(|(n, _)| n == "Cookie")
        .map(|(_, v)| v.as_str());
    assert_eq!(
        cookie,
        Some(
            "adminer_sid=02lcth994qfi7e6iqdb2hhru5k; adminer_key=811937889537165cd2ab1aee3f6828d6"
        )
    );
}

#[tokio::test]
async fn adminer_refusing_empty_passwords_stays_auth_required() {
    // Adminer 4.6.3+ takes the form (302) and refuses on the next page (403).
    let mut replay = Replay::new()
        .at("/", adminer_login())
        .at_method(
            "POST",
            "/",
            captured(fixture!("adminer/4.8.1-login-post.headers"), ""),
        )
        .at(
            "/?server=localhost&username=root",
            capture!("adminer/4.8.1-empty-password-refused", "html"),
        );
    let found = identified("adminer", &mut replay, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.user, None);
}

#[tokio::test]
async fn adminer_behind_a_front_controller_is_no_catch_all() {
    // PHP's built-in server (the official image) runs Adminer for every path: the decoy
    // gets the login page too, but Adminer's cookie then carries the decoy's path.
    let mut replay = Replay::new()
        .at("/", capture!("adminer/4.8.1-php-builtin-root", "html"))
        .otherwise(capture!("adminer/4.8.1-php-builtin-decoy", "html"));
    let found = identified("adminer", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.version.as_deref(), Some("4.8.1"));
}

#[tokio::test]
async fn adminer_replayed_on_every_path_is_a_catch_all() {
    let honeypot = Replay::new().otherwise(adminer_login());
    assert!(matches!(
        evaluation("adminer", &mut honeypot.clone(), &options()).await,
        Evaluation::CatchAll { .. }
    ));
    assert_eq!(no_probe_opens(&honeypot).await, Vec::<String>::new());
    // A tutorial quoting the form, without Adminer's cookie.
    let tutorial = Replay::new().at(
        "/",
        Reply::html("<title>Login - Adminer</title><p>The form has auth[driver] and <code>name=\"auth[username]\"</code></p>"),
    );
    assert!(matches!(
        evaluation("adminer", &mut tutorial.clone(), &options()).await,
        Evaluation::NotThis { .. }
    ));
    assert_eq!(no_probe_opens(&tutorial).await, Vec::<String>::new());
}

// ---- Jupyter Notebook 6.4.12 (Debian) and JupyterLab 4.6.6 (PyPI), captured ----

fn notebook(state: &str) -> Replay {
    match state {
        "open" => Replay::new()
            .at("/api", capture!("jupyter-notebook/6.4.12-open-api", "json"))
            .at(
                "/tree",
                capture!("jupyter-notebook/6.4.12-open-tree", "html"),
            )
            .at(
                "/api/contents",
                capture!("jupyter-notebook/6.4.12-open-api-contents", "json"),
            )
            .at("/lab", capture!("jupyter-notebook/6.4.12-lab-404", "html"))
            .otherwise(capture!("jupyter-notebook/6.4.12-lab-404", "html")),
        _ => Replay::new()
            .at(
                "/api",
                capture!("jupyter-notebook/6.4.12-token-api", "json"),
            )
            .at(
                "/tree",
                captured(fixture!("jupyter-notebook/6.4.12-token-tree.headers"), ""),
            )
            .at(
                "/api/contents",
                capture!("jupyter-notebook/6.4.12-token-api-contents", "json"),
            )
            .at(
                "/login",
                capture!("jupyter-notebook/6.4.12-token-login", "html"),
            )
            .otherwise(capture!("jupyter-notebook/6.4.12-lab-404", "html")),
    }
}

fn lab(state: &str) -> Replay {
    match state {
        "open" => Replay::new()
            .at("/api", capture!("jupyterlab/4.6.6-open-api", "json"))
            .at("/lab", capture!("jupyterlab/4.6.6-open-lab", "html"))
            .at(
                "/api/contents",
                capture!("jupyterlab/4.6.6-open-api-contents", "json"),
            )
            .otherwise(capture!("jupyterlab/4.6.6-open-tree", "html")),
        _ => Replay::new()
            .at("/api", capture!("jupyterlab/4.6.6-token-api", "json"))
            .at(
                "/lab",
                captured(fixture!("jupyterlab/4.6.6-token-lab.headers"), ""),
            )
            .at(
                "/api/contents",
                capture!("jupyterlab/4.6.6-token-api-contents", "json"),
            )
            .at("/login", capture!("jupyterlab/4.6.6-token-login", "html"))
            .otherwise(capture!("jupyterlab/4.6.6-open-tree", "html")),
    }
}

#[tokio::test]
async fn jupyter_notebook_without_token_is_open() {
    let mut replay = notebook("open");
    let found = identified("jupyter-notebook", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "jupyter-notebook-open");
    assert_eq!(found.version.as_deref(), Some("6.4.12"));
    assert_eq!(names(&found), ["analysis.ipynb", "data", "notes.txt"]);
    let inv = found.inventory.as_ref().expect("an inventory");
    assert_eq!(inv.unit, "file");
    let sizes: Vec<_> = inv.items.iter().map(|i| i.size_bytes).collect();
    assert_eq!(sizes, [Some(3), None, Some(3)]);
    // Files with bytes in them keep the probe's own severity.
    assert_eq!(severity("jupyter-notebook", &found), Severity::Critical);
    assert_eq!(
        found.summary,
        "Jupyter Notebook 6.4.12 lists its files without a token: 3 entries at the top level"
    );
    read_only(&replay);
}

#[tokio::test]
async fn jupyter_notebook_with_token_is_auth_required() {
    let mut replay = notebook("token");
    let found = identified("jupyter-notebook", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "jupyter-notebook-auth-required");
    assert_eq!(found.version.as_deref(), Some("6.4.12"));
    assert!(found.inventory.is_none());
    read_only(&replay);
}

#[tokio::test]
async fn jupyterlab_without_token_is_open() {
    let mut replay = lab("open");
    let found = identified("jupyterlab", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "jupyterlab-open");
    assert_eq!(found.version.as_deref(), Some("4.6.6"));
    assert_eq!(detail(&found, "server_version"), Some("2.21.1"));
    assert_eq!(names(&found), ["analysis.ipynb", "data", "notes.txt"]);
    read_only(&replay);
}

#[tokio::test]
async fn jupyterlab_with_token_is_auth_required() {
    let mut replay = lab("token");
    let found = identified("jupyterlab", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "jupyterlab-auth-required");
    assert_eq!(
        found.version, None,
        "the token hides JupyterLab's own version"
    );
    assert_eq!(detail(&found, "server_version"), Some("2.21.1"));
    assert_eq!(
        found.summary,
        "JupyterLab (Jupyter Server 2.21.1) asks for a token or password"
    );
}

#[tokio::test]
async fn jupyter_notebook_and_jupyterlab_tell_each_other_apart() {
    for state in ["open", "token"] {
        assert!(matches!(
            evaluation("jupyterlab", &mut notebook(state), &options()).await,
            Evaluation::NotThis { .. }
        ));
        assert!(matches!(
            evaluation("jupyter-notebook", &mut lab(state), &options()).await,
            Evaluation::NotThis { .. }
        ));
    }
    // A Tornado app answering /api with a version, /tree with a page, but no contents API.
    let other = Replay::new()
        .at(
            "/api",
            Reply::json(r#"{"version": "1.0"}"#).header("server", "TornadoServer/6.2"),
        )
        .at("/tree", Reply::html("<p>Select or create a notebook</p>"));
    assert_eq!(no_probe_opens(&other).await, Vec::<String>::new());
}

// ---- Redis Commander 0.9.0 (npm, captured on loopback against Debian redis-server) ----

#[tokio::test]
async fn redis_commander_without_login_is_open() {
    let mut replay = Replay::new()
        .at("/", capture!("redis-commander/0.9.0-open-home", "html"))
        .at(
            "/connections",
            capture!("redis-commander/0.9.0-open-connections", "json"),
        )
        .otherwise(capture!("redis-commander/0.9.0-404", "html"));
    let found = identified("redis-commander", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "redis-commander-open");
    assert_eq!(found.version, None, "Redis Commander shows no version");
    assert!(found.inventory.is_none());
    assert_eq!(detail(&found, "connections"), Some("1"));
    assert_eq!(severity("redis-commander", &found), Severity::High);
    assert_eq!(
        found.summary,
        "Redis Commander answers its API without a login: 1 Redis connections"
    );
    read_only(&replay);
}

#[tokio::test]
async fn redis_commander_with_http_auth_is_auth_required() {
    let mut replay = Replay::new()
        .at("/", capture!("redis-commander/0.9.0-auth-home", "html"))
        .at(
            "/connections",
            capture!("redis-commander/0.9.0-auth-connections", "txt"),
        )
        .otherwise(capture!("redis-commander/0.9.0-404", "html"));
    let found = identified("redis-commander", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "redis-commander-auth-required");
    assert!(found.inventory.is_none());
}

#[tokio::test]
async fn redis_commander_look_alikes_are_not_open() {
    // 0.4.x, or any app behind express basicAuth: every path is the same 401.
    let basic = Replay::new().otherwise(
        Reply::new(401, "Unauthorized")
            .header("www-authenticate", "Basic realm=\"Authorization Required\"")
            .header("x-powered-by", "Express"),
    );
    assert_eq!(no_probe_opens(&basic).await, Vec::<String>::new());
    // The home page without the API (a saved copy served by a static server).
    let copy = Replay::new().at("/", capture!("redis-commander/0.9.0-open-home", "html"));
    assert!(matches!(
        evaluation("redis-commander", &mut copy.clone(), &options()).await,
        Evaluation::NotThis { .. }
    ));
    assert_eq!(no_probe_opens(&copy).await, Vec::<String>::new());
}

// ---- Mongo Express 1.0.2 and 0.54.0 (their own templates, rendered with their engines) ----

fn express_404(path: &str) -> Reply {
    Reply::new(404, format!("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot GET {path}</pre>\n</body>\n</html>\n"))
        .header("content-type", "text/html; charset=utf-8")
        .header("x-powered-by", "Express")
}

fn basic_auth_401() -> Reply {
    // basic-auth-connect 1.0.0 `unauthorized()`: 401, this realm, body "Unauthorized".
    Reply::new(401, "Unauthorized")
        .header("x-powered-by", "Express")
        .header("www-authenticate", "Basic realm=\"Authorization Required\"")
}

#[tokio::test]
async fn mongo_express_home_without_auth_is_open() {
    for (file, user_db) in [
        (fixture!("mongo-express/1.0.2-home.html"), "shop"),
        (fixture!("mongo-express/0.54.0-home.html"), "orders"),
    ] {
        let mut replay = Replay::new()
            .at("/", Reply::html(file).header("x-powered-by", "Express"))
            .otherwise(express_404("/ajar-3f9c0d2b7a4e"));
        let found = identified("mongo-express", &mut replay, &options()).await;
        assert_eq!(found.exposure, Some(Exposure::Open));
        assert_eq!(found.check, "mongo-express-open");
        assert_eq!(names(&found), ["admin", "config", "local", user_db]);
        let inv = found.inventory.as_ref().expect("an inventory");
        assert_eq!((inv.total_items, inv.user_items), (4, 1));
        assert_eq!(
            severity("mongo-express", &found),
            Severity::High,
            "names only: the product's own severity"
        );
        assert_eq!(
            found.summary,
            "Mongo Express answers without credentials: 4 databases listed"
        );
        read_only(&replay);
    }
}

#[tokio::test]
async fn mongo_express_1_behind_basic_auth_is_auth_required() {
    let mut replay = Replay::new()
        .at(
            "/status",
            Reply::json(r#"{"status":"ok"}"#).header("x-powered-by", "Express"),
        )
        .otherwise(basic_auth_401());
    let found = identified("mongo-express", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "mongo-express-auth-required");
    read_only(&replay);
}

#[tokio::test]
async fn mongo_express_default_admin_pass_is_default_credentials() {
    // The replay ignores Authorization: the reply to the request sent as admin is the home.
    let home = Reply::html(fixture!("mongo-express/1.0.2-home.html"));
    let mut replay = Replay::new()
        .at("/status", Reply::json(r#"{"status":"ok"}"#))
        .otherwise(basic_auth_401());
    let found = identified("mongo-express", &mut replay, &with_credentials()).await;
    assert_eq!(
        found.exposure,
        Some(Exposure::AuthRequired),
        "401 to admin:pass too"
    );
    let mut replay = Replay::new()
        .at("/status", Reply::json(r#"{"status":"ok"}"#))
        .otherwise(basic_auth_401());
    let mut logged_in = LoggedIn {
        inner: &mut replay,
        accept: &basic("admin", "pass"),
        reply: home,
    };
    let found = identified_with("mongo-express", &mut logged_in, &with_credentials()).await;
    assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
    assert_eq!(found.check, "mongo-express-default-credentials");
    assert_eq!(found.user.as_deref(), Some("admin"));
    let sent: Vec<_> = replay
        .requests()
        .into_iter()
        .filter(|r| r.basic_auth.is_some())
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].basic_auth,
        Some(("admin".to_string(), "pass".to_string()))
    );
    assert_eq!(sent[0].shown, "GET / as admin");
}

#[tokio::test]
async fn mongo_express_look_alikes_are_not_open() {
    // A bare basic-auth 401 (0.x protected, or any express app): not Mongo Express.
    let basic = Replay::new().otherwise(basic_auth_401());
    assert!(matches!(
        evaluation("mongo-express", &mut basic.clone(), &options()).await,
        Evaluation::NotThis { .. }
    ));
    assert_eq!(no_probe_opens(&basic).await, Vec::<String>::new());
    // A honeypot serving the home page on every path.
    let honeypot = Replay::new().otherwise(Reply::html(fixture!("mongo-express/1.0.2-home.html")));
    assert!(matches!(
        evaluation("mongo-express", &mut honeypot.clone(), &options()).await,
        Evaluation::CatchAll { .. }
    ));
    assert_eq!(no_probe_opens(&honeypot).await, Vec::<String>::new());
}

// ---- pgAdmin 4 9.18 (PyPI, captured on loopback in server and desktop mode) ----

#[tokio::test]
async fn pgadmin_desktop_mode_is_open() {
    let mut replay = Replay::new()
        .at(
            "/browser/",
            capture!("pgadmin/9.18-desktop-browser", "html"),
        )
        .at("/login", capture!("pgadmin/9.18-desktop-login", "json"))
        .at("/misc/ping", capture!("pgadmin/9.18-misc-ping", "txt"))
        .otherwise(capture!("pgadmin/9.18-404", "html"));
    let found = identified("pgadmin", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "pgadmin-open");
    assert_eq!(severity("pgadmin", &found), Severity::Critical);
    assert_eq!(detail(&found, "version_int"), Some("91800"));
    assert_eq!(
        found.summary,
        "pgAdmin 4 opens its browser without a login (desktop mode, SERVER_MODE = False)"
    );
    read_only(&replay);
}

#[tokio::test]
async fn pgadmin_server_mode_is_auth_required() {
    let mut replay = Replay::new()
        .at(
            "/browser/",
            capture!("pgadmin/9.18-server-browser-redirect", "html"),
        )
        .at("/login", capture!("pgadmin/9.18-server-login", "html"))
        .at("/misc/ping", capture!("pgadmin/9.18-misc-ping", "txt"))
        .otherwise(capture!("pgadmin/9.18-404", "html"));
    let found = identified("pgadmin", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "pgadmin-auth-required");
    assert!(found.inventory.is_none());
    read_only(&replay);
}

#[tokio::test]
async fn pgadmin_asks_as_a_browser_and_reads_json_refusals_too() {
    // To a JSON-first Accept, Flask-Security answers 401 JSON (captured with ajar's default
    // Accept); the probe asks for HTML, and a JSON refusal still reads as a login.
    let replay = Replay::new()
        .at(
            "/browser/",
            capture!("pgadmin/9.18-server-browser-json", "json"),
        )
        .at("/login", capture!("pgadmin/9.18-server-login-json", "json"))
        .at("/misc/ping", capture!("pgadmin/9.18-misc-ping", "txt"))
        .otherwise(capture!("pgadmin/9.18-404", "html"));
    // Identification needs the page; with JSON only, the product is not claimed.
    assert!(matches!(
        evaluation("pgadmin", &mut replay.clone(), &options()).await,
        Evaluation::NotThis { .. }
    ));
    let mut replay = Replay::new()
        .at(
            "/browser/",
            capture!("pgadmin/9.18-server-browser-json", "json"),
        )
        .at("/login", capture!("pgadmin/9.18-server-login", "html"))
        .at("/misc/ping", capture!("pgadmin/9.18-misc-ping", "txt"))
        .otherwise(capture!("pgadmin/9.18-404", "html"));
    let found = identified("pgadmin", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    for r in replay
        .requests()
        .iter()
        .filter(|r| r.path != "/misc/ping" && !r.path.starts_with("/ajar-"))
    {
        let accept = r
            .headers
            .iter()
            .find(|(n, _)| n == "Accept")
            .map(|(_, v)| v.as_str());
        assert_eq!(
            accept,
            Some("text/html,application/xhtml+xml"),
            "{}",
            r.shown
        );
    }
}

#[tokio::test]
async fn pgadmin_look_alikes_are_not_open() {
    // A page titled like pgAdmin on a server that has no ping and sets no pgAdmin cookie.
    let page = Replay::new().otherwise(Reply::html(
        "<html><head><title>pgAdmin 4</title></head><body>/browser/browser.css pgadmin.browser.utils</body></html>",
    ));
    assert!(!matches!(
        evaluation("pgadmin", &mut page.clone(), &options()).await,
        Evaluation::Identified(_)
    ));
    assert_eq!(no_probe_opens(&page).await, Vec::<String>::new());
}

// ---- Grafana (documented replies: HTTP API docs; 9.2.0 replies quoted from a run) ----

fn grafana(health: &str, search: Reply) -> Replay {
    Replay::new()
        .at("/api/health", Reply::json(health))
        .at("/login", Reply::html(fixture!("grafana/10.4-login.html")))
        .at(
            "/",
            Reply::new(302, fixture!("grafana/10.4-root-redirect.html"))
                .header("location", "/login"),
        )
        .at("/api/search?limit=100", search)
        .at(
            "/api/user",
            Reply::new(401, fixture!("grafana/10.4-unauthorized.json"))
                .header("content-type", "application/json; charset=UTF-8"),
        )
}

#[tokio::test]
async fn grafana_anonymous_search_is_open() {
    let mut replay = grafana(
        fixture!("grafana/9.2.0-api-health.json"),
        Reply::json(fixture!("grafana/7.2-api-search.json")),
    );
    let found = identified("grafana", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert_eq!(found.check, "grafana-open");
    assert_eq!(found.version.as_deref(), Some("9.2.0"));
    assert!(found.inventory.is_none());
    assert_eq!(severity("grafana", &found), Severity::High);
    assert_eq!(
        found.summary,
        "Grafana 9.2.0 lets anonymous visitors list its dashboards: 2 found"
    );
    read_only(&replay);
}

#[tokio::test]
async fn grafana_refusing_anonymous_is_auth_required() {
    for (health, unauthorized, version) in [
        (
            fixture!("grafana/5.1.3-api-health.json"),
            fixture!("grafana/5.1.3-unauthorized.json"),
            "5.1.3",
        ),
        (
            fixture!("grafana/9.2.0-api-health.json"),
            fixture!("grafana/10.4-unauthorized.json"),
            "9.2.0",
        ),
    ] {
        let mut replay = grafana(health, Reply::new(401, unauthorized));
        let found = identified("grafana", &mut replay, &options()).await;
        assert_eq!(found.exposure, Some(Exposure::AuthRequired));
        assert_eq!(found.check, "grafana-auth-required");
        assert_eq!(found.version.as_deref(), Some(version));
        read_only(&replay);
    }
}

#[tokio::test]
async fn grafana_admin_admin_is_default_credentials() {
    let unauthorized = Reply::new(401, fixture!("grafana/10.4-unauthorized.json"));
    for (password, tries) in [("admin", 1), ("prom-operator", 2)] {
        let mut replay = grafana(
            fixture!("grafana/9.2.0-api-health.json"),
            unauthorized.clone(),
        );
        let mut logged_in = LoggedIn {
            inner: &mut replay,
            accept: &basic("admin", password),
            reply: Reply::json(fixture!("grafana/9.2.0-api-user.json")),
        };
        let found = identified_with("grafana", &mut logged_in, &with_credentials()).await;
        assert_eq!(found.exposure, Some(Exposure::DefaultCredentials));
        assert_eq!(found.check, "grafana-default-credentials");
        assert_eq!(found.user.as_deref(), Some("admin"));
        let sent = replay
            .requests()
            .into_iter()
            .filter(|r| r.basic_auth.is_some())
            .count();
        assert_eq!(sent, tries, "pairs are tried in file order until one holds");
    }
}

#[tokio::test]
async fn grafana_look_alikes_are_not_open() {
    // A JSON API with the same health fields, and an array at /api/search, but no Grafana UI.
    let api = Replay::new()
        .at(
            "/api/health",
            Reply::json(r#"{"database":"ok","version":"2.3.1","commit":"abc"}"#),
        )
        .at("/api/search?limit=100", Reply::json("[]"))
        .otherwise(Reply::html("<title>Grafana dashboards for Kafka</title>"));
    assert!(matches!(
        evaluation("grafana", &mut api.clone(), &options()).await,
        Evaluation::NotThis { .. }
    ));
    assert_eq!(no_probe_opens(&api).await, Vec::<String>::new());
}

// ---- Portainer CE (replies written from its source: api/http/handler, libhttp) ----

fn portainer(status: &str, check: Reply) -> Replay {
    Replay::new()
        .at("/api/status", Reply::json(status))
        .at("/", Reply::html(fixture!("portainer/2.23.0-index.html")))
        .at("/api/users/admin/check", check)
}

#[tokio::test]
async fn portainer_without_administrator_is_open() {
    for (status, body, version) in [
        (
            fixture!("portainer/2.23.0-status.json"),
            fixture!("portainer/2.23.0-admin-check-404.json"),
            "2.23.0",
        ),
        (
            fixture!("portainer/1.24.2-status.json"),
            fixture!("portainer/1.24.2-admin-check-404.json"),
            "1.24.2",
        ),
    ] {
        let check = Reply::new(404, body).header("content-type", "application/json");
        let mut replay = portainer(status, check);
        let found = identified("portainer", &mut replay, &options()).await;
        assert_eq!(found.exposure, Some(Exposure::Open));
        assert_eq!(found.check, "portainer-open");
        assert_eq!(severity("portainer", &found), Severity::Critical);
        assert_eq!(found.version.as_deref(), Some(version));
        assert_eq!(
            found.summary,
            format!(
                "Portainer {version} has no administrator: the first visitor can create one and control its Docker environments"
            )
        );
        read_only(&replay);
    }
}

#[tokio::test]
async fn portainer_with_administrator_is_auth_required() {
    let mut replay = portainer(
        fixture!("portainer/2.23.0-status.json"),
        Reply::new(204, ""),
    );
    let found = identified("portainer", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "portainer-auth-required");
    read_only(&replay);
}

#[tokio::test]
async fn portainer_timed_out_setup_is_locked_not_open() {
    let locked = Reply::new(
        303,
        fixture!("portainer/2.23.0-admin-init-timeout-303.json"),
    )
    .header("content-type", "application/json")
    .header("redirect-reason", "AdminInitTimeout");
    let mut replay = portainer(fixture!("portainer/2.23.0-status.json"), locked);
    let found = identified("portainer", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "portainer-setup-locked");
}

#[tokio::test]
async fn portainer_look_alikes_are_not_open() {
    // A status API with a Version field and a 404 for the check, but no Portainer page.
    let api = Replay::new()
        .at(
            "/api/status",
            Reply::json(r#"{"Version":"1.0.0","InstanceID":"x"}"#),
        )
        .at("/", Reply::html("<title>Status</title>"))
        .otherwise(Reply::new(
            404,
            r#"{"message":"No administrator account found inside the database"}"#,
        ));
    assert!(matches!(
        evaluation("portainer", &mut api.clone(), &options()).await,
        Evaluation::NotThis { .. }
    ));
    assert_eq!(no_probe_opens(&api).await, Vec::<String>::new());
    // The Portainer page on every path (a honeypot): /api/status is no JSON there.
    let honeypot = Replay::new().otherwise(Reply::html(fixture!("portainer/2.23.0-index.html")));
    assert_eq!(no_probe_opens(&honeypot).await, Vec::<String>::new());
}

// ---- Cerebro 0.8.5/0.9.4 (its Twirl templates and CerebroResponse envelope) ----

#[tokio::test]
async fn cerebro_without_auth_is_open() {
    for (index, version) in [
        (fixture!("cerebro/0.9.4-index.html"), "0.9.4"),
        (fixture!("cerebro/0.8.5-index.html"), "0.8.5"),
    ] {
        let mut replay = Replay::new()
            .at("/", Reply::html(index))
            .at("/login", Reply::new(303, "").header("location", "/"))
            .at(
                "/connect/hosts",
                Reply::json(fixture!("cerebro/0.9.4-connect-hosts-open.json")),
            );
        let found = identified("cerebro", &mut replay, &options()).await;
        assert_eq!(found.exposure, Some(Exposure::Open));
        assert_eq!(found.check, "cerebro-open");
        assert_eq!(found.version.as_deref(), Some(version));
        assert!(found.inventory.is_none());
        assert_eq!(detail(&found, "clusters"), Some("2"));
        read_only(&replay);
    }
    // No known hosts: still open (anyone can type an Elasticsearch URL), nothing listed.
    let mut replay = Replay::new()
        .at("/", Reply::html(fixture!("cerebro/0.9.4-index.html")))
        .at(
            "/connect/hosts",
            Reply::json(fixture!("cerebro/0.9.4-connect-hosts-empty.json")),
        );
    let found = identified("cerebro", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::Open));
    assert!(found.inventory.is_none());
    assert_eq!(
        found.summary,
        "Cerebro 0.9.4 answers without a login: 0 known Elasticsearch clusters reachable through it"
    );
    assert_eq!(severity("cerebro", &found), Severity::High);
}

#[tokio::test]
async fn cerebro_with_auth_is_auth_required() {
    let mut replay = Replay::new()
        .at("/", Reply::new(303, "").header("location", "/login"))
        .at("/login", Reply::html(fixture!("cerebro/0.9.4-login.html")))
        .at(
            "/connect/hosts",
            Reply::json(fixture!("cerebro/0.9.4-connect-hosts-auth.json")),
        );
    let found = identified("cerebro", &mut replay, &options()).await;
    assert_eq!(found.exposure, Some(Exposure::AuthRequired));
    assert_eq!(found.check, "cerebro-auth-required");
    assert_eq!(found.version, None, "the version is on the index page only");
    assert!(found.inventory.is_none());
}

#[tokio::test]
async fn cerebro_look_alikes_are_not_open() {
    // Any JSON API with "status" and "body" fields, without Cerebro's page.
    let api = Replay::new()
        .at(
            "/connect/hosts",
            Reply::json(r#"{"status":200,"body":["a"]}"#),
        )
        .otherwise(Reply::html(
            "<html ng-app=\"app\"><title>Cerebro</title></html>",
        ));
    assert!(matches!(
        evaluation("cerebro", &mut api.clone(), &options()).await,
        Evaluation::NotThis { .. }
    ));
    assert_eq!(no_probe_opens(&api).await, Vec::<String>::new());
}

// ---- elasticsearch-head (its repository's index.html and _site/app.js) ----

#[tokio::test]
async fn elasticsearch_head_is_identified_without_a_verdict() {
    let app = fixture!("elasticsearch-head/app.js.head");
    let grunt = Replay::new()
        .at("/", Reply::html(fixture!("elasticsearch-head/index.html")))
        .at(
            "/_site/app.js",
            Reply::new(200, app).header("content-type", "application/javascript"),
        );
    let plugin = Replay::new()
        .at(
            "/",
            Reply::html(fixture!("elasticsearch-head/plugin-index.html")),
        )
        .at(
            "/app.js",
            Reply::new(200, app).header("content-type", "application/javascript"),
        );
    for mut replay in [grunt, plugin] {
        let found = identified("elasticsearch-head", &mut replay, &options()).await;
        assert_eq!(found.exposure, None);
        assert_eq!(found.check, "elasticsearch-head-undetermined");
        assert_eq!(
            found.summary,
            "elasticsearch-head answers, but no verdict held"
        );
        assert!(found.inventory.is_none());
        read_only(&replay);
    }
}

#[tokio::test]
async fn elasticsearch_head_look_alikes_are_not_it() {
    // A blog post titled like the tool, linking the bundle, served by a server whose every
    // other path is the same page.
    let blog = Replay::new().otherwise(Reply::html(
        "<title>elasticsearch-head</title><script src=\"_site/app.js\"></script>",
    ));
    assert!(!matches!(
        evaluation("elasticsearch-head", &mut blog.clone(), &options()).await,
        Evaluation::Identified(_)
    ));
    assert_eq!(no_probe_opens(&blog).await, Vec::<String>::new());
}
