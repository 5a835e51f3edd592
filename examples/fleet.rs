//! A fleet of fake servers on loopback for the benchmark in `bench/` (`bash bench/run.sh`).
//!
//! It mimics an estate of many hosts: each host is its own address in 127.77.0.0/16 (all of
//! 127/8 is loopback on Linux) and every host is scanned on the same ports (9200, 5601,
//! 27017), so nmap can be given exactly the same endpoints as ajar (`-p <ports> -iL <hosts>`).
//! A host runs at most one service; its other ports refuse (each is bound once, then
//! released, to prove nothing listens there).
//!
//! The mix per `--scale 1` (multiplied by K with `--scale K`), 134 hosts, 402 endpoints:
//!
//! | hosts | what | verdict ajar must give |
//! |---|---|---|
//! | 30 | Elasticsearch 7.2 open (ES-05 banner, ES-21 `_cat/indices`, `_mapping` with `email`) | open |
//! | 20 | Elasticsearch 7.x, security on (ES-11 401 on every path) | auth-required |
//! | 15 | OpenSearch 2.8 open (OS-01) | open |
//! | 15 | Kibana 7.x-8.8, security on (KB-04 401 with `kbn-name`) on 5601 | auth-required |
//! | 15 | MongoDB open: 8 x 7.0.14 (OP_QUERY commands refused, MG-06), 7 x 4.4.29 | open |
//! | 10 | MongoDB 7.0.14, auth on (listDatabases code 13, MG-05) | auth-required |
//! | 20 | silent: accept on one of the ports, read, never answer, keep the socket open | silent |
//! | 9 | dark: every port refuses | closed |
//!
//! Request bodies come from `/work/shared/protocols.md` (case ids above). The fakes are the
//! test harness's:
//! - HTTP from `tests/support/http_fake.rs` ([`Routes`], [`Reply`], [`read_request_line`]),
//!   behind an accept loop here because the harness binds `127.0.0.1:0` and the fleet needs
//!   chosen addresses. Elasticsearch fakes answer an HTTP/1.0 request in HTTP/1.0, as Netty
//!   does, so nmap's fingerprints can match them.
//! - MongoDB from `tests/support/mongo_fake.rs`, whose connection handler is private: the
//!   fleet starts one fake per profile on `127.0.0.1:0` and each MongoDB host relays its
//!   connections to it (one extra loopback hop per connection).
//!
//! ```text
//! cargo run --release --example fleet -- --scale 1 --targets bench/out/targets.txt \
//!     --expect bench/out/expect.json [--seconds 600]
//! ```
//!
//! Prints `ready` on stdout once every server listens and the files are written, then runs
//! until killed or until `--seconds` pass. Everything binds to loopback only: the hosts to
//! 127.77.0.0/16, the MongoDB fakes behind the relays to 127.0.0.1.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, copy_bidirectional};
use tokio::net::{TcpListener, TcpStream};

use support::BoxConn;
use support::http_fake::{Reply, Routes, read_request_line};
use support::mongo_fake::{self, FakeDb, MongoProfile};

const ES_PORT: u16 = 9200;
const KIBANA_PORT: u16 = 5601;
const MONGO_PORT: u16 = 27017;
/// Every host is scanned on these.
const PORTS: [u16; 3] = [ES_PORT, KIBANA_PORT, MONGO_PORT];

/// The longest any fake keeps one connection (a silent one holds it while the client does).
const HOLD: Duration = Duration::from_secs(120);

/// What one host runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    EsOpen,
    EsSecured,
    OsOpen,
    KibanaSecured,
    MongoOpen,
    MongoAuth,
    Silent,
    Dark,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::EsOpen => "es_open",
            Kind::EsSecured => "es_secured",
            Kind::OsOpen => "opensearch_open",
            Kind::KibanaSecured => "kibana_secured",
            Kind::MongoOpen => "mongodb_open",
            Kind::MongoAuth => "mongodb_auth",
            Kind::Silent => "silent",
            Kind::Dark => "dark",
        }
    }
}

/// Hosts of each kind per unit of `--scale`.
const MIX: &[(Kind, usize)] = &[
    (Kind::EsOpen, 30),
    (Kind::EsSecured, 20),
    (Kind::OsOpen, 15),
    (Kind::KibanaSecured, 15),
    (Kind::MongoOpen, 15),
    (Kind::MongoAuth, 10),
    (Kind::Silent, 20),
    (Kind::Dark, 9),
];

/// A service behind a listener.
#[derive(Clone)]
enum Service {
    /// An HTTP fake; `netty` answers an HTTP/1.0 request in HTTP/1.0, as Elasticsearch and
    /// OpenSearch (Netty) do and as nmap's Elasticsearch fingerprints expect.
    Http {
        routes: Arc<Routes>,
        netty: bool,
    },
    /// Relays the connection to a MongoDB fake on 127.0.0.1.
    Relay(SocketAddr),
    Silent,
}

struct Args {
    scale: usize,
    targets: PathBuf,
    expect: Option<PathBuf>,
    seconds: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        scale: 1,
        targets: PathBuf::from("targets.txt"),
        expect: None,
        seconds: 600,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--scale" => {
                args.scale = value()?.parse().map_err(|e| format!("--scale: {e}"))?;
            }
            "--targets" => args.targets = PathBuf::from(value()?),
            "--expect" => args.expect = Some(PathBuf::from(value()?)),
            "--seconds" => {
                args.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?;
            }
            "-h" | "--help" => {
                return Err(
                    "usage: fleet [--scale K] [--targets FILE] [--expect FILE] [--seconds N]"
                        .into(),
                );
            }
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    if !(1..=100).contains(&args.scale) {
        return Err("--scale must be 1 to 100".into());
    }
    if !(1..=86_400).contains(&args.seconds) {
        return Err("--seconds must be 1 to 86400".into());
    }
    Ok(args)
}

/// The `n`th host address: 127.77.1.1, 127.77.1.2, ... 250 a /24.
fn host_ip(n: usize) -> Ipv4Addr {
    let hi = u8::try_from(1 + n / 250).unwrap_or(u8::MAX);
    let lo = u8::try_from(1 + n % 250).unwrap_or(u8::MAX);
    Ipv4Addr::new(127, 77, hi, lo)
}

/// A deterministic shuffle (xorshift), so kinds interleave the same way every run.
fn shuffle<T>(items: &mut [T]) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = usize::try_from(state % (i as u64 + 1)).unwrap_or(0);
        items.swap(i, j);
    }
}

// ---- Elasticsearch / OpenSearch / Kibana replies (protocols.md) ----

/// ES-05: Elasticsearch 7.2.0, pretty-printed as `RestMainAction` prints it.
const ES_05_ROOT: &str = include_str!("../tests/fixtures/elastic/es-05-7.2.0-root.json");

/// OS-01: OpenSearch 2.8.0.
const OS_01_ROOT: &str = include_str!("../tests/fixtures/elastic/os-01-2.8.0-root.json");

/// ES-21 shape with `bytes=b` (sizes in bytes, every value a string).
const ES_CAT_INDICES: &str = r#"[{"health":"yellow","status":"open","index":"customers","uuid":"u8FNjxh8Rfy_awN11oDKYQ","pri":"1","rep":"1","docs.count":"1200","docs.deleted":"0","store.size":"90000","pri.store.size":"90000"},{"health":"green","status":"open","index":"orders","uuid":"nYFWZEO7TUiOjLQXBaYJpA","pri":"1","rep":"0","docs.count":"5400","docs.deleted":"3","store.size":"412000","pri.store.size":"412000"},{"health":"green","status":"open","index":".kibana_1","uuid":"Jk2v1oO7Qw2b0m3c3n4x5A","pri":"1","rep":"0","docs.count":"4","docs.deleted":"0","store.size":"214","pri.store.size":"214"}]"#;

const OS_CAT_INDICES: &str = r#"[{"health":"green","status":"open","index":"logs-2024.01","uuid":"aK3lQm1yTPu9Qd4XUMz3Zg","pri":"1","rep":"0","docs.count":"88000","docs.deleted":"0","store.size":"10485760","pri.store.size":"10485760"},{"health":"green","status":"open","index":".opendistro_security","uuid":"bT69_T_DTp-1qgIJlatQqA","pri":"1","rep":"0","docs.count":"10","docs.deleted":"0","store.size":"60000","pri.store.size":"60000"}]"#;

/// The mapping of one index by name (typeless, 7.x), if the fleet has it.
fn mapping_of(index: &str) -> Option<&'static str> {
    match index {
        "customers" => Some(
            r#"{"mappings":{"properties":{"email":{"type":"keyword"},"name":{"type":"text"},"created":{"type":"date"}}}}"#,
        ),
        "orders" => Some(
            r#"{"mappings":{"properties":{"sku":{"type":"keyword"},"amount":{"type":"long"},"created":{"type":"date"}}}}"#,
        ),
        "logs-2024.01" => Some(
            r#"{"mappings":{"properties":{"@timestamp":{"type":"date"},"message":{"type":"text"},"client":{"properties":{"ip":{"type":"ip"}}}}}}"#,
        ),
        _ => None,
    }
}

/// `GET /<a>,<b>/_mapping`: the mappings of the named indices, as Elasticsearch answers.
fn mapping_handler(target: &str) -> Option<Reply> {
    let path = target.split('?').next().unwrap_or(target);
    let names = path.strip_prefix('/')?.strip_suffix("/_mapping")?;
    let parts: Vec<String> = names
        .split(',')
        .filter_map(|name| mapping_of(name).map(|m| format!("\"{name}\":{m}")))
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(Reply::json(&format!("{{{}}}", parts.join(","))))
}

/// A real cluster's answer to a path that names no index (what the decoy request gets).
fn index_not_found() -> Reply {
    Reply::new(
        "404 Not Found",
        r#"{"error":{"root_cause":[{"type":"index_not_found_exception","reason":"no such index [ajar-decoy]","index":"ajar-decoy"}],"type":"index_not_found_exception","reason":"no such index [ajar-decoy]","index":"ajar-decoy"},"status":404}"#,
    )
    .header("content-type", "application/json; charset=UTF-8")
}

fn es_open_routes() -> Routes {
    Routes::new()
        .at("/", Reply::json(ES_05_ROOT))
        .at("/_cat/indices", Reply::json(ES_CAT_INDICES))
        .handler(mapping_handler)
        .otherwise(index_not_found())
}

fn os_open_routes() -> Routes {
    Routes::new()
        .at("/", Reply::json(OS_01_ROOT))
        .at("/_cat/indices", Reply::json(OS_CAT_INDICES))
        .handler(mapping_handler)
        .otherwise(index_not_found())
}

/// ES-11: 7.x with security on; the request URI is echoed in the brackets.
fn es_secured_routes() -> Routes {
    Routes::new().handler(|target| {
        let header = r#""header":{"WWW-Authenticate":"Basic realm=\"security\" charset=\"UTF-8\""}"#;
        let uri = target.replace('"', "%22");
        let reason = format!(
            r#""type":"security_exception","reason":"missing authentication credentials for REST request [{uri}]",{header}"#
        );
        let body = format!(r#"{{"error":{{"root_cause":[{{{reason}}}],{reason}}},"status":401}}"#);
        Some(
            Reply::new("401 Unauthorized", body)
                .header("WWW-Authenticate", r#"Basic realm="security" charset="UTF-8""#)
                .header("content-type", "application/json; charset=UTF-8"),
        )
    })
}

/// KB-04: Kibana 7.x to 8.8 with security on, every path.
fn kibana_secured_routes() -> Routes {
    Routes::new().otherwise(
        Reply::new(
            "401 Unauthorized",
            r#"{"statusCode":401,"error":"Unauthorized","message":"Unauthorized"}"#,
        )
        .header("kbn-name", "kibana")
        .header("content-type", "application/json; charset=utf-8"),
    )
}

// ---- MongoDB (tests/support/mongo_fake.rs) ----

/// The MongoDB fakes behind the relays: open 7.0, open 4.4, and 7.0 with auth on.
struct MongoBackends {
    open_7: SocketAddr,
    open_4: SocketAddr,
    auth_7: SocketAddr,
    logs: Vec<mongo_fake::Log>,
}

async fn mongo_backends() -> MongoBackends {
    let shop = || {
        vec![
            FakeDb::new("shop", 52_428_800, 120_000, &["customers", "orders"]),
            FakeDb::new("analytics", 10_485_760, 40_000, &["events"]),
        ]
    };
    let (open_7, log_a) = mongo_fake::start(MongoProfile::v7_0().with_databases(shop())).await;
    let (open_4, log_b) = mongo_fake::start(MongoProfile::v4_4().with_databases(shop())).await;
    let (auth_7, log_c) = mongo_fake::start(MongoProfile::v7_0().with_auth()).await;
    MongoBackends {
        open_7: open_7.addr,
        open_4: open_4.addr,
        auth_7: auth_7.addr,
        logs: vec![log_a, log_b, log_c],
    }
}

// ---- serving ----

/// HTTP requests and connections served, for the closing line on stderr.
static REQUESTS: AtomicU64 = AtomicU64::new(0);
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// Reads one request head and answers from `routes` with the harness's [`Reply`] bytes,
/// then closes (as `http_fake::serve_http` does, without its request log).
async fn serve_http(mut conn: BoxConn, routes: &Routes, netty: bool) {
    let Some(line) = read_request_line(&mut conn).await else {
        return;
    };
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    let target = line.split(' ').nth(1).unwrap_or("/");
    let mut bytes = routes.reply_for(target).to_bytes();
    if netty && line.ends_with("HTTP/1.0") {
        bytes = as_http_1_0(bytes);
    }
    let _ = conn.write_all(&bytes).await;
    let _ = conn.shutdown().await;
}

/// The harness writes `HTTP/1.1` and `connection: close`; an HTTP/1.0 answer has neither
/// (1.0 closes by default), which is what Elasticsearch sends to an HTTP/1.0 client.
fn as_http_1_0(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.starts_with(b"HTTP/1.1 ") {
        bytes[7] = b'0';
    }
    let close = b"connection: close\r\n";
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0);
    if let Some(at) = bytes[..head_end + 2]
        .windows(close.len())
        .position(|w| w == close)
    {
        bytes.drain(at..at + close.len());
    }
    bytes
}

async fn handle(service: Service, mut tcp: TcpStream) {
    CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    match service {
        Service::Http { routes, netty } => {
            let conn: BoxConn = Box::new(tcp);
            let _ = tokio::time::timeout(HOLD, serve_http(conn, &routes, netty)).await;
        }
        Service::Relay(backend) => {
            let _ = tokio::time::timeout(HOLD, async {
                if let Ok(mut upstream) = TcpStream::connect(backend).await {
                    let _ = upstream.set_nodelay(true);
                    let _ = copy_bidirectional(&mut tcp, &mut upstream).await;
                }
            })
            .await;
        }
        Service::Silent => {
            let mut buf = [0u8; 1024];
            let _ = tokio::time::timeout(HOLD, async {
                while let Ok(n) = tcp.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                }
            })
            .await;
        }
    }
}

/// Accepts on `listener` for the life of the process, one task per connection.
fn spawn_listener(listener: TcpListener, service: Service) {
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    tokio::spawn(handle(service.clone(), tcp));
                }
                // Out of descriptors or the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    });
}

struct Host {
    ip: Ipv4Addr,
    kind: Kind,
    /// The port its service listens on, if any.
    port: Option<u16>,
}

/// Counts of endpoints by the verdict ajar must give.
#[derive(Default)]
struct Expected {
    open: usize,
    auth: usize,
    silent: usize,
    closed: usize,
}

fn plan(scale: usize) -> Vec<Host> {
    let mut kinds = Vec::new();
    for &(kind, per_scale) in MIX {
        kinds.extend(std::iter::repeat_n(kind, per_scale * scale));
    }
    shuffle(&mut kinds);
    let mut silent_seen = 0usize;
    kinds
        .iter()
        .enumerate()
        .map(|(n, &kind)| {
            let port = match kind {
                Kind::EsOpen | Kind::EsSecured | Kind::OsOpen => Some(ES_PORT),
                Kind::KibanaSecured => Some(KIBANA_PORT),
                Kind::MongoOpen | Kind::MongoAuth => Some(MONGO_PORT),
                Kind::Silent => {
                    silent_seen += 1;
                    Some(PORTS[silent_seen % PORTS.len()])
                }
                Kind::Dark => None,
            };
            Host {
                ip: host_ip(n),
                kind,
                port,
            }
        })
        .collect()
}

async fn run(args: Args) -> Result<(), String> {
    let hosts = plan(args.scale);
    let es_open = Arc::new(es_open_routes());
    let os_open = Arc::new(os_open_routes());
    let es_secured = Arc::new(es_secured_routes());
    let kibana_secured = Arc::new(kibana_secured_routes());
    let mongo = mongo_backends().await;

    let mut expected = Expected::default();
    let mut mongo_open_seen = 0usize;
    for host in &hosts {
        for port in PORTS {
            let addr = SocketAddr::from((host.ip, port));
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot bind {addr}: {e}"))?;
            if host.port != Some(port) {
                // Bound once and released: nothing listens here, so it refuses.
                drop(listener);
                expected.closed += 1;
                continue;
            }
            let service = match host.kind {
                Kind::EsOpen => Service::Http {
                    routes: es_open.clone(),
                    netty: true,
                },
                Kind::OsOpen => Service::Http {
                    routes: os_open.clone(),
                    netty: true,
                },
                Kind::EsSecured => Service::Http {
                    routes: es_secured.clone(),
                    netty: true,
                },
                // Kibana is a Node.js server: it answers HTTP/1.1 whatever the client spoke.
                Kind::KibanaSecured => Service::Http {
                    routes: kibana_secured.clone(),
                    netty: false,
                },
                Kind::MongoOpen => {
                    mongo_open_seen += 1;
                    Service::Relay(if mongo_open_seen % 2 == 1 {
                        mongo.open_7
                    } else {
                        mongo.open_4
                    })
                }
                Kind::MongoAuth => Service::Relay(mongo.auth_7),
                Kind::Silent => Service::Silent,
                Kind::Dark => return Err("a dark host has no service".into()),
            };
            match host.kind {
                Kind::EsOpen | Kind::OsOpen | Kind::MongoOpen => expected.open += 1,
                Kind::EsSecured | Kind::KibanaSecured | Kind::MongoAuth => expected.auth += 1,
                Kind::Silent => expected.silent += 1,
                Kind::Dark => {}
            }
            spawn_listener(listener, service);
        }
    }

    let mut targets = String::new();
    for host in &hosts {
        for port in PORTS {
            targets.push_str(&format!("{}:{port}\n", host.ip));
        }
    }
    std::fs::write(&args.targets, targets)
        .map_err(|e| format!("cannot write {}: {e}", args.targets.display()))?;
    let endpoints = hosts.len() * PORTS.len();
    if let Some(path) = &args.expect {
        let per_kind: Vec<String> = MIX
            .iter()
            .map(|&(kind, _)| {
                let n = hosts.iter().filter(|h| h.kind == kind).count();
                format!("\"{}\": {n}", kind.name())
            })
            .collect();
        let port_list: Vec<String> = PORTS.iter().map(u16::to_string).collect();
        let json = format!(
            "{{\n  \"scale\": {},\n  \"hosts\": {},\n  \"ports\": [{}],\n  \"endpoints\": {endpoints},\n  \"open\": {},\n  \"auth_required\": {},\n  \"silent\": {},\n  \"closed\": {},\n  \"hosts_by_kind\": {{ {} }}\n}}\n",
            args.scale,
            hosts.len(),
            port_list.join(", "),
            expected.open,
            expected.auth,
            expected.silent,
            expected.closed,
            per_kind.join(", ")
        );
        std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }

    // Keep the MongoDB fakes' request logs from growing: empty them every few seconds.
    let logs = mongo.logs;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            for log in &logs {
                if let Ok(mut lines) = log.lock() {
                    lines.clear();
                    lines.shrink_to(1024);
                }
            }
        }
    });

    eprintln!(
        "fleet: {} hosts x {} ports = {endpoints} endpoints on 127.77.0.0/16 ({} open, {} auth-required, {} silent, {} closed)",
        hosts.len(),
        PORTS.len(),
        expected.open,
        expected.auth,
        expected.silent,
        expected.closed,
    );
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "ready");
    let _ = stdout.flush();

    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs(args.seconds)) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    eprintln!(
        "fleet: stopping after {} connections, {} HTTP requests",
        CONNECTIONS.load(Ordering::Relaxed),
        REQUESTS.load(Ordering::Relaxed)
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("fleet: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fleet: cannot start the runtime: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let result = runtime.block_on(run(args));
    runtime.shutdown_background();
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fleet: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
