//! The LDAP probe against fake servers replaying documented bytes
//! (`tests/fixtures/ldap/SOURCES.md`: captured from Debian's slapd 2.5.13, or reconstructed
//! from vendor documentation): open when entries come back to an anonymous search, counted
//! per naming context; auth-required when the anonymous bind or the searches are refused;
//! nothing at all for other protocols, silence and hostile replies. Every fake decodes and
//! logs each request it gets, so each test also checks that only an anonymous bind, the
//! rootDSE search, attribute-less subtree searches and an unbind went out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ajar::finding::{Exposure, Finding, Severity};
use ajar::probe::trace::Trace;
use ajar::probe::{ProbeOutcome, ldap};
use ajar::targets::{Endpoint, Protocol, TargetSpec, Transport, parse_target};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, BoxConn, FakeServer, serve};

/// The requests a fake decoded, over all its connections, and how many of its
/// connections are still being served.
#[derive(Default)]
struct Requests {
    lines: Mutex<Vec<String>>,
    live: AtomicUsize,
}

type Log = Arc<Requests>;

/// Counts one connection as served until dropped.
struct Live(Log);

impl Live {
    fn new(log: &Log) -> Live {
        log.live.fetch_add(1, Ordering::SeqCst);
        Live(log.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/ldap/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The three requests as the fake logs them (see [`describe`]).
const BIND: &str = "bind v3 name=\"\" simple password of 0 bytes";
const ROOT: &str = "search \"\" scope=0 size=0 typesOnly=false filter=present:objectClass attrs=namingContexts,vendorName,vendorVersion,supportedLDAPVersion,defaultNamingContext,objectClass";
const UNBIND: &str = "unbind";

fn subtree(base: &str) -> String {
    format!(
        "search {base:?} scope=2 size=10000 typesOnly=true filter=present:objectClass attrs=1.1"
    )
}

/// What a fake answers to each kind of request; `None` hangs up.
#[derive(Clone, Default)]
struct Script {
    bind: Option<Vec<u8>>,
    root: Option<Vec<u8>>,
    subtree: Option<Vec<u8>>,
}

fn script(bind: &str, root: &str, subtree: &str) -> Script {
    let load = |name: &str| (!name.is_empty()).then(|| fixture(name));
    Script {
        bind: load(bind),
        root: load(root),
        subtree: load(subtree),
    }
}

/// The fake's own BER reading: tag, value and whole size of the element at the head.
fn element(buf: &[u8]) -> Option<(u8, &[u8], usize)> {
    let tag = *buf.first()?;
    let first = *buf.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        let bytes = buf.get(2..2 + n)?;
        (
            bytes.iter().fold(0, |a, &b| a * 256 + usize::from(b)),
            2 + n,
        )
    };
    let value = buf.get(header..header + len)?;
    Some((tag, value, header + len))
}

fn elements(mut value: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while let Some((tag, inner, total)) = element(value) {
        out.push((tag, inner));
        value = &value[total..];
    }
    out
}

fn number(value: &[u8]) -> u64 {
    value.iter().fold(0, |a, &b| a * 256 + u64::from(b))
}

fn text(value: &[u8]) -> String {
    String::from_utf8_lossy(value).into_owned()
}

/// A request's message id and how the log shows it.
fn describe(frame: &[u8]) -> (u64, String) {
    let Some((0x30, body, _)) = element(frame) else {
        return (0, "not an LDAPMessage".into());
    };
    let parts = elements(body);
    let [(0x02, id), (op, value), ..] = parts.as_slice() else {
        return (0, "a malformed LDAPMessage".into());
    };
    let fields = elements(value);
    let shown = match (*op, fields.as_slice()) {
        (0x60, [(0x02, version), (0x04, name), (auth, password)]) => format!(
            "bind v{} name={:?} {} password of {} bytes",
            number(version),
            text(name),
            if *auth == 0x80 { "simple" } else { "SASL" },
            password.len()
        ),
        (
            0x63,
            [
                (0x04, base),
                (0x0a, scope),
                (0x0a, _deref),
                (0x02, size),
                (0x02, _time),
                (0x01, types_only),
                (filter, filter_value),
                (0x30, attributes),
            ],
        ) => format!(
            "search {:?} scope={} size={} typesOnly={} filter={}:{} attrs={}",
            text(base),
            number(scope),
            number(size),
            types_only.first().is_some_and(|&b| b != 0),
            if *filter == 0x87 { "present" } else { "OTHER" },
            text(filter_value),
            elements(attributes)
                .iter()
                .map(|(_, a)| text(a))
                .collect::<Vec<_>>()
                .join(",")
        ),
        (0x42, []) => UNBIND.into(),
        (op, _) => format!("operation {op:#04x}"),
    };
    (number(id), shown)
}

/// Every LDAPMessage of `bytes` with its message id set to `id` (the fixtures carry the
/// ids of their capture; later naming contexts' searches have later ids). Unsolicited
/// notifications keep their id 0.
fn with_id(bytes: &[u8], id: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some((0x30, body, total)) = element(rest) {
        let (_, old, used) = element(body).expect("message id");
        let id = if number(old) == 0 { 0 } else { id };
        let mut inner = tlv(0x02, &[u8::try_from(id).expect("small id")]);
        inner.extend_from_slice(&body[used..]);
        out.extend_from_slice(&tlv(0x30, &inner));
        rest = &rest[total..];
    }
    out
}

/// One BER element with a definite length of up to 65535 bytes.
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = u16::try_from(value.len()).expect("short element");
    match len {
        0..=0x7f => out.push(len as u8),
        0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
        _ => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
    out.extend_from_slice(value);
    out
}

/// A fake LDAP server: each request is decoded and logged, then answered from `script`
/// (bind, rootDSE search, any other search); an unbind, bytes that are not an LDAPMessage
/// (as slapd does) or a missing answer close the connection.
async fn fake(tls: bool, script: Script) -> (FakeServer, Log) {
    let log: Log = Arc::default();
    let seen = log.clone();
    let server = serve(tls, move |mut conn: BoxConn| {
        let (script, seen) = (script.clone(), seen.clone());
        async move {
            let _live = Live::new(&seen);
            let mut buf = Vec::new();
            while let Some(frame) = read_frame(&mut conn, &mut buf).await {
                let (id, shown) = describe(&frame);
                let answer = if shown.starts_with("bind") {
                    script.bind.clone()
                } else if shown.starts_with("search \"\" scope=0") {
                    script.root.clone()
                } else if shown.starts_with("search") {
                    script.subtree.clone()
                } else {
                    None
                };
                seen.lines.lock().expect("log").push(shown);
                let Some(answer) = answer else {
                    return;
                };
                if conn.write_all(&with_id(&answer, id)).await.is_err() {
                    return;
                }
            }
        }
    })
    .await;
    (server, log)
}

/// The next whole LDAPMessage the client sent; `None` at the end or on other bytes.
async fn read_frame(conn: &mut BoxConn, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if buf.first().is_some_and(|&b| b != 0x30) || buf.len() > 1 << 16 {
            return None;
        }
        if let Some((_, _, total)) = element(buf) {
            return Some(buf.drain(..total).collect());
        }
        let mut chunk = [0u8; 1024];
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// What the fake was sent, once it has served every connection (the probe returns as soon
/// as its unbind is written; the fake may not have read it yet), waiting at most 2 s.
async fn requests_sent(log: &Log) -> Vec<String> {
    let until = Instant::now() + Duration::from_secs(2);
    while log.live.load(Ordering::SeqCst) > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    log.lines.lock().expect("log").clone()
}

fn context() -> ajar::probe::ProbeContext {
    support::context(Duration::from_millis(800))
}

/// Runs the whole engine on the fake as an `ldap://` target would (the LDAP probe only).
async fn scan(server: &FakeServer) -> Finding {
    let endpoint = Endpoint {
        protocol: Protocol::Only("ldap"),
        ..server.endpoint()
    };
    support::found(support::probe(&endpoint).await)
}

/// (request, response) pairs of a finding's evidence.
fn evidence(finding: &Finding) -> Vec<(&str, &str)> {
    finding
        .evidence
        .iter()
        .map(|e| (e.request.as_str(), e.response.as_str()))
        .collect()
}

/// (name, entries) of an inventory.
fn items(finding: &Finding) -> Vec<(&str, Option<u64>)> {
    let inventory = finding.inventory.as_ref().expect("inventory");
    inventory
        .items
        .iter()
        .map(|i| (i.name.as_str(), i.documents))
        .collect()
}

const BIND_EVIDENCE: &str = "bindRequest v3 simple, empty name and password (anonymous)";
const ROOT_EVIDENCE: &str = "ldapsearch -x -b \"\" -s base -l 2 \"(objectClass=*)\" namingContexts vendorName vendorVersion supportedLDAPVersion defaultNamingContext objectClass";
const UNBIND_EVIDENCE: (&str, &str) = ("unbindRequest", "sent (LDAP has no response to it)");

#[tokio::test]
async fn default_acl_openldap_is_open_with_entry_counts_only() {
    let (server, log) = fake(
        false,
        script(
            "bind-anonymous-ok.ber",
            "rootdse-openldap.ber",
            "subtree-five-entries.ber",
        ),
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.service.as_str(), finding.check.as_str()),
        ("ldap", "ldap-open")
    );
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Open, Severity::High)
    );
    assert_eq!(finding.product.as_deref(), Some("OpenLDAP"));
    assert_eq!(finding.version, None, "OpenLDAP publishes no version");
    assert_eq!(items(&finding), [("dc=ajar,dc=test", Some(5))]);
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(
        (
            inventory.unit.as_str(),
            inventory.total_documents,
            inventory.truncated
        ),
        ("naming-context", Some(5), false)
    );
    assert_eq!(
        finding.summary,
        "OpenLDAP lets anonymous clients read the directory: 5 entries under 1 naming context (dc=ajar,dc=test: 5)"
    );
    assert_eq!(
        finding.details,
        [
            ("anonymous_bind".to_string(), "accepted".to_string()),
            ("naming_contexts".into(), "dc=ajar,dc=test".into()),
            ("supported_ldap_versions".into(), "3".into()),
        ]
    );
    assert_eq!(
        evidence(&finding),
        [
            (BIND_EVIDENCE, "bindResponse success (0)"),
            (
                ROOT_EVIDENCE,
                "searchResDone success (0) after 1 entry: namingContexts [dc=ajar,dc=test], supportedLDAPVersion 3, objectClass OpenLDAProotDSE"
            ),
            (
                "ldapsearch -x -b \"dc=ajar,dc=test\" -s sub -A -z 10000 -l 2 \"(objectClass=*)\" 1.1",
                "searchResDone success (0) after 5 entries"
            ),
            UNBIND_EVIDENCE,
        ]
    );
    assert_eq!(
        requests_sent(&log).await,
        [BIND, ROOT, &subtree("dc=ajar,dc=test"), UNBIND]
    );
    let json = serde_json::to_string(&finding).expect("json");
    assert!(
        !json.contains("ajar_probe") && !json.contains("ou=people"),
        "an entry's DN leaked: {json}"
    );
}

#[tokio::test]
async fn disallow_bind_anon_is_auth_required_after_the_bind_alone() {
    let (server, log) = fake(false, script("bind-anonymous-disallowed.ber", "", "")).await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.check.as_str(), finding.exposure, finding.severity),
        ("ldap-auth-required", Exposure::AuthRequired, Severity::Info)
    );
    assert_eq!(
        (finding.product.as_deref(), finding.version.as_deref()),
        (None, None)
    );
    assert!(finding.inventory.is_none());
    assert_eq!(
        finding.summary,
        "LDAP server refuses an anonymous bind: inappropriateAuthentication (48) \"anonymous bind disallowed\""
    );
    assert_eq!(
        evidence(&finding),
        [
            (
                BIND_EVIDENCE,
                "bindResponse inappropriateAuthentication (48) \"anonymous bind disallowed\""
            ),
            UNBIND_EVIDENCE,
        ]
    );
    assert_eq!(requests_sent(&log).await, [BIND, UNBIND]);
}

#[tokio::test]
async fn require_authc_refusing_the_rootdse_is_auth_required() {
    let (server, log) = fake(
        false,
        script("bind-anonymous-ok.ber", "rootdse-require-authc.ber", ""),
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::AuthRequired, Severity::Info)
    );
    assert_eq!(
        finding.summary,
        "LDAP server accepts an anonymous bind, but refuses to read the rootDSE: unwillingToPerform (53) \"authentication required\""
    );
    assert_eq!(
        finding.details,
        [("anonymous_bind".to_string(), "accepted".to_string())]
    );
    assert_eq!(requests_sent(&log).await, [BIND, ROOT, UNBIND]);
}

#[tokio::test]
async fn an_acl_without_anonymous_read_is_auth_required_with_the_contexts_shown() {
    let (server, log) = fake(
        false,
        script(
            "bind-anonymous-ok.ber",
            "rootdse-openldap.ber",
            "subtree-insufficient-access.ber",
        ),
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::AuthRequired, Severity::Low)
    );
    assert!(finding.inventory.is_none());
    assert_eq!(finding.product.as_deref(), Some("OpenLDAP"));
    assert_eq!(
        finding.summary,
        "OpenLDAP accepts an anonymous bind, but no entry is readable anonymously (dc=ajar,dc=test: 0 (insufficientAccessRights (50)))"
    );
    assert_eq!(
        requests_sent(&log).await,
        [BIND, ROOT, &subtree("dc=ajar,dc=test"), UNBIND]
    );
}

#[tokio::test]
async fn a_server_size_limit_gives_a_lower_bound() {
    let (server, _) = fake(
        false,
        script(
            "bind-anonymous-ok.ber",
            "rootdse-openldap.ber",
            "subtree-sizelimit-2.ber",
        ),
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(items(&finding), [("dc=ajar,dc=test", Some(2))]);
    assert!(finding.inventory.as_ref().expect("inventory").truncated);
    assert_eq!(
        finding.summary,
        "OpenLDAP lets anonymous clients read the directory: at least 2 entries under 1 naming context (dc=ajar,dc=test: at least 2)"
    );
    assert_eq!(
        finding.evidence[2].response,
        "searchResDone sizeLimitExceeded (4) after 2 entries"
    );
}

#[tokio::test]
async fn vendor_and_version_come_from_the_rootdse() {
    let (server, log) = fake(
        false,
        script(
            "bind-anonymous-ok.ber",
            "rootdse-edirectory.ber",
            "subtree-five-entries.ber",
        ),
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(
        (finding.product.as_deref(), finding.version.as_deref()),
        (
            Some("NetIQ Corporation."),
            Some("eDirectory v8.7.0 (10410.29)")
        )
    );
    assert_eq!(items(&finding), [("o=westwind", Some(5))]);
    assert_eq!(
        finding.details[2],
        ("supported_ldap_versions".to_string(), "2,3".to_string())
    );
    assert_eq!(
        requests_sent(&log).await,
        [BIND, ROOT, &subtree("o=westwind"), UNBIND]
    );
}

#[tokio::test]
async fn active_directory_needing_a_bind_is_auth_required_under_every_context() {
    let (server, log) = fake(
        false,
        script(
            "bind-anonymous-ok.ber",
            "rootdse-active-directory.ber",
            "search-active-directory-bind-required.ber",
        ),
    )
    .await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::AuthRequired, Severity::Low)
    );
    assert_eq!(finding.product, None, "Active Directory names no vendor");
    let dc = "DC=corp,DC=example,DC=com";
    let contexts = [
        dc.to_string(),
        format!("CN=Configuration,{dc}"),
        format!("CN=Schema,CN=Configuration,{dc}"),
        format!("DC=DomainDnsZones,{dc}"),
        format!("DC=ForestDnsZones,{dc}"),
    ];
    // defaultNamingContext repeats the first naming context: searched once.
    let mut want = vec![BIND.to_string(), ROOT.to_string()];
    want.extend(contexts.iter().map(|c| subtree(c)));
    want.push(UNBIND.into());
    assert_eq!(requests_sent(&log).await, want);
    assert!(
        finding.summary.starts_with(&format!(
            "LDAP server accepts an anonymous bind, but no entry is readable anonymously ({dc}: 0 (operationsError (1) \"000004DC: LdapErr: DSID-0C090C78"
        )),
        "{}",
        finding.summary
    );
}

#[tokio::test]
async fn a_bind_refused_for_another_reason_is_undetermined() {
    let (server, _) = fake(false, script("bind-v2.ber", "", "")).await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.exposure, finding.severity),
        (Exposure::Undetermined, Severity::Low)
    );
    assert_eq!(
        finding.summary,
        "LDAP server answers an anonymous bind with protocolError (2) \"historical protocol version requested, use LDAPv3 instead\""
    );
}

#[tokio::test]
async fn a_notice_of_disconnection_is_ldap_but_undetermined() {
    let notice = fixture("unknown-request-disconnect.ber");
    let (server, log) = fake(false, script("unknown-request-disconnect.ber", "", "")).await;
    let finding = scan(&server).await;
    assert_eq!(
        (finding.service.as_str(), finding.exposure),
        ("ldap", Exposure::Undetermined)
    );
    assert_eq!(
        finding.summary,
        "LDAP server answers an anonymous bind with a notice of disconnection: protocolError (2) \"unknown LDAP request\""
    );
    // No unbind on a connection the server is closing.
    assert_eq!(requests_sent(&log).await, [BIND]);
    // Sent in answer to another protocol's bytes, the notice points the engine at LDAP.
    let registry = context().registry;
    assert_eq!(registry.by_answer(&notice).map(|p| p.id), Some("ldap"));
    assert_eq!(
        registry
            .by_answer(&fixture("bind-anonymous-ok.ber"))
            .map(|p| p.id),
        None
    );
}

/// A fake that answers anything with `reply` (or nothing, when empty) and then waits.
async fn answering(reply: &'static [u8]) -> FakeServer {
    serve(false, move |mut conn: BoxConn| async move {
        let mut buf = [0u8; 256];
        let _ = conn.read(&mut buf).await;
        if !reply.is_empty() {
            let _ = conn.write_all(reply).await;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    })
    .await
}

async fn direct(server: &FakeServer, tls: bool) -> ProbeOutcome {
    ldap::probe(&context(), &server.endpoint(), tls, &mut Trace::new("t")).await
}

#[tokio::test]
async fn other_protocols_are_not_ldap_and_quickly() {
    for (reply, want_note, want_hint) in [
        (
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".as_slice(),
            "not LDAP: not an LDAP message (first bytes",
            Some("http"),
        ),
        (
            b"-ERR unknown command '0', with args beginning with: \r\n",
            "not LDAP: not an LDAP message (first bytes",
            Some("redis"),
        ),
        // A BER INTEGER where an LDAPMessage's SEQUENCE belongs.
        (b"\x02\x01\x00", "not LDAP: not an LDAP message", None),
        // A SEQUENCE that is no LDAPMessage.
        (
            b"\x30\x03\x04\x01a",
            "not LDAP: a BER SEQUENCE of 5 bytes that is not an LDAPMessage",
            None,
        ),
    ] {
        let server = answering(reply).await;
        let started = Instant::now();
        match direct(&server, false).await {
            ProbeOutcome::NotThis {
                note,
                hint,
                transport_confirmed,
                speaks_protocol,
            } => {
                assert!(note.starts_with(want_note), "{note}");
                assert_eq!(hint, want_hint, "{note}");
                assert!(transport_confirmed && !speaks_protocol);
            }
            other => panic!("{reply:?}: {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_millis(700));
    }
}

#[tokio::test]
async fn silence_hang_ups_and_tls_alerts() {
    // A Redis reads our bind as an inline command waiting for its newline: silence.
    let silent = answering(b"").await;
    assert_eq!(direct(&silent, false).await, ProbeOutcome::Silent);
    let closing = serve(false, |mut conn: BoxConn| async move {
        let mut buf = [0u8; 64];
        let _ = conn.read(&mut buf).await;
    })
    .await;
    let outcome = direct(&closing, false).await;
    assert!(matches!(outcome, ProbeOutcome::WantsTls(_)), "{outcome:?}");
    // A TLS server's alert to plain text (record type 21, TLS 1.2, handshake failure).
    let alert = answering(b"\x15\x03\x03\x00\x02\x02\x28").await;
    let outcome = direct(&alert, false).await;
    assert_eq!(
        outcome,
        ProbeOutcome::WantsTls("answered plain text with a TLS alert".into())
    );
}

#[tokio::test]
async fn a_huge_length_claim_is_refused_before_buffering() {
    let server = answering(b"\x30\x84\x7f\xff\xff\xff\x02\x01\x01").await;
    match direct(&server, false).await {
        ProbeOutcome::NotThis { note, .. } => {
            assert_eq!(
                note,
                "not LDAP: a message of 2147483653 bytes, over the cap"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A searchResEntry (message `id`, empty attribute list) for a synthetic server.
fn entry(id: u8, dn: &str) -> Vec<u8> {
    let mut op = tlv(0x04, dn.as_bytes());
    op.extend_from_slice(&tlv(0x30, &[]));
    let mut body = tlv(0x02, &[id]);
    body.extend_from_slice(&tlv(0x64, &op));
    tlv(0x30, &body)
}

/// A rootDSE naming `contexts` (synthetic, in the layout of `rootdse-openldap.ber`), then
/// that capture's searchResDone.
fn rootdse(contexts: &[String]) -> Vec<u8> {
    let values: Vec<u8> = contexts
        .iter()
        .flat_map(|c| tlv(0x04, c.as_bytes()))
        .collect();
    let mut attribute = tlv(0x04, b"namingContexts");
    attribute.extend_from_slice(&tlv(0x31, &values));
    let mut op = tlv(0x04, b"");
    op.extend_from_slice(&tlv(0x30, &tlv(0x30, &attribute)));
    let mut body = tlv(0x02, &[2]);
    body.extend_from_slice(&tlv(0x64, &op));
    let mut out = tlv(0x30, &body);
    let capture = fixture("rootdse-openldap.ber");
    let (_, _, first) = element(&capture).expect("entry");
    out.extend_from_slice(&capture[first..]);
    out
}

#[tokio::test]
async fn at_most_eight_naming_contexts_are_searched() {
    let contexts: Vec<String> = (0..12).map(|i| format!("dc=d{i:02},dc=test")).collect();
    let mut answers = script("bind-anonymous-ok.ber", "", "subtree-five-entries.ber");
    answers.root = Some(rootdse(&contexts));
    let (server, log) = fake(false, answers).await;
    let finding = scan(&server).await;
    assert_eq!(finding.exposure, Exposure::Open);
    let inventory = finding.inventory.as_ref().expect("inventory");
    assert_eq!(
        (
            inventory.items.len(),
            inventory.total_items,
            inventory.truncated
        ),
        (8, 12, true)
    );
    assert_eq!(inventory.total_documents, Some(40));
    let searched = requests_sent(&log)
        .await
        .iter()
        .filter(|r| r.contains("scope=2"))
        .count();
    assert_eq!(searched, 8);
    assert!(
        finding
            .summary
            .contains("at least 40 entries under 8 naming contexts"),
        "{}",
        finding.summary
    );
}

#[tokio::test]
async fn a_server_ignoring_the_size_limit_is_counted_up_to_the_cap() {
    let server = serve(false, |mut conn: BoxConn| async move {
        let mut buf = Vec::new();
        let mut id = 0;
        while let Some(frame) = read_frame(&mut conn, &mut buf).await {
            id += 1;
            let reply = match id {
                1 => fixture("bind-anonymous-ok.ber"),
                2 => fixture("rootdse-openldap.ber"),
                _ => {
                    // Entries without end, never a searchResDone.
                    let batch: Vec<u8> = (0..500).flat_map(|_| entry(3, "cn=x")).collect();
                    loop {
                        if conn.write_all(&batch).await.is_err() {
                            return;
                        }
                    }
                }
            };
            let _ = frame;
            if conn.write_all(&reply).await.is_err() {
                return;
            }
        }
    })
    .await;
    let started = Instant::now();
    let outcome = direct(&server, false).await;
    let ProbeOutcome::Found(finding) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(items(&finding), [("dc=ajar,dc=test", Some(10_001))]);
    assert_eq!(
        finding.summary,
        "OpenLDAP lets anonymous clients read the directory: at least 10001 entries under 1 naming context (dc=ajar,dc=test: at least 10001)"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// `ldaps://` pins the LDAP probe over TLS, port 636 by default; `ldap://` plain, 389.
#[tokio::test]
async fn ldaps_scheme_scans_over_tls() {
    let (server, log) = fake(
        true,
        script(
            "bind-anonymous-ok.ber",
            "rootdse-openldap.ber",
            "subtree-five-entries.ber",
        ),
    )
    .await;
    let specs = parse_target(&format!("ldaps://127.0.0.1:{}/", server.addr.port())).expect("parse");
    let [TargetSpec::Endpoint(endpoint)] = specs.as_slice() else {
        panic!("{specs:?}");
    };
    assert_eq!(
        (endpoint.protocol, endpoint.transport),
        (Protocol::Only("ldap"), Transport::Tls)
    );
    let finding = support::found(ajar::scan::probe_endpoint(&context(), endpoint).await);
    assert!(finding.tls);
    assert_eq!(finding.exposure, Exposure::Open);
    assert_eq!(finding.evidence[0].probe, "ldaps");
    assert_eq!(
        requests_sent(&log).await,
        [BIND, ROOT, &subtree("dc=ajar,dc=test"), UNBIND]
    );
    for (target, port, transport) in [
        ("ldaps://127.0.0.1", 636, Transport::Tls),
        ("ldap://127.0.0.1/dc=ajar,dc=test", 389, Transport::Plain),
    ] {
        let specs = parse_target(target).expect("parse");
        let [TargetSpec::Endpoint(endpoint)] = specs.as_slice() else {
            panic!("{specs:?}");
        };
        assert_eq!(
            (endpoint.port, endpoint.transport),
            (port, transport),
            "{target}"
        );
    }
}

/// Unpinned, on a port no probe owns: the other probes' requests make the fake hang up
/// (as slapd does on bytes that are not an LDAPMessage), then the LDAP probe finds it.
#[tokio::test]
async fn detected_on_any_port_among_every_probe() {
    let (server, log) = fake(
        false,
        script(
            "bind-anonymous-ok.ber",
            "rootdse-openldap.ber",
            "subtree-five-entries.ber",
        ),
    )
    .await;
    let finding = support::found(support::probe(&server.endpoint()).await);
    assert_eq!(
        (finding.service.as_str(), finding.exposure),
        ("ldap", Exposure::Open)
    );
    assert_eq!(items(&finding), [("dc=ajar,dc=test", Some(5))]);
    assert_eq!(
        requests_sent(&log).await,
        [BIND, ROOT, &subtree("dc=ajar,dc=test"), UNBIND]
    );
}
