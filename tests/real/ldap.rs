//! OpenLDAP slapd 2.5.13 as Debian bookworm packages it, started by
//! `scripts/servers/ldap.server.sh` with five entries under `dc=ajar,dc=test`: with the
//! default ACL (anonymous read) and with `disallow bind_anon` + `require authc`. Each is
//! scanned through the binary on its own port (no port hint: detection by protocol) and as
//! an `ldap://` target.

use serde_json::Value;

use super::server;

/// Scans `target` through the binary and returns its one finding, after checking the
/// report has nothing else.
async fn scan(target: &str) -> Value {
    let (f, _) = super::scan_one(target, &[]).await;
    f.clone()
}

/// The (request, response) pairs of a finding's evidence.
fn evidence(f: &Value) -> Vec<(String, String)> {
    f["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .map(|e| {
            (
                e["request"].as_str().unwrap_or_default().to_string(),
                e["response"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn default_acl_slapd_is_open_with_its_five_entries() {
    let Some(addr) = server("LDAP_ANON") else {
        return;
    };
    for target in [addr.clone(), format!("ldap://{addr}/dc=ajar,dc=test")] {
        let f = scan(&target).await;
        assert_eq!(f["endpoint"], addr.as_str(), "{f:#}");
        assert_eq!(
            (
                &f["service"],
                &f["exposure"],
                &f["check"],
                &f["severity"],
                &f["product"]
            ),
            (
                &Value::from("ldap"),
                &Value::from("open"),
                &Value::from("ldap-open"),
                &Value::from("high"),
                &Value::from("OpenLDAP")
            ),
            "{f:#}"
        );
        // slapd publishes no vendorVersion.
        assert!(f["version"].is_null(), "{f:#}");
        assert_eq!(f["tls"], false);
        let items: Vec<(&str, u64)> = f["inventory"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                (
                    i["name"].as_str().expect("name"),
                    i["documents"].as_u64().expect("count"),
                )
            })
            .collect();
        // The base entry, ou=people and the three inetOrgPerson entries slapadd loaded.
        assert_eq!(items, [("dc=ajar,dc=test", 5)], "{f:#}");
        assert_eq!(f["inventory"]["truncated"], false);
        assert_eq!(f["details"]["anonymous_bind"], "accepted");
        assert_eq!(f["details"]["naming_contexts"], "dc=ajar,dc=test");
        assert_eq!(
            f["summary"],
            "OpenLDAP lets anonymous clients read the directory: 5 entries under 1 naming context (dc=ajar,dc=test: 5)"
        );
        let steps = evidence(&f);
        let responses: Vec<&str> = steps.iter().map(|(_, r)| r.as_str()).collect();
        assert_eq!(
            responses,
            [
                "bindResponse success (0)",
                "searchResDone success (0) after 1 entry: namingContexts [dc=ajar,dc=test], supportedLDAPVersion 3, objectClass OpenLDAProotDSE",
                "searchResDone success (0) after 5 entries",
                "sent (LDAP has no response to it)",
            ],
            "{f:#}"
        );
        assert!(
            !f.to_string().contains("ajar_probe") && !f.to_string().contains("ou=people"),
            "an entry's DN leaked: {f:#}"
        );
    }
}

#[tokio::test]
async fn disallow_bind_anon_and_require_authc_is_auth_required() {
    let Some(addr) = server("LDAP_AUTHC") else {
        return;
    };
    for target in [addr.clone(), format!("ldap://{addr}")] {
        let f = scan(&target).await;
        assert_eq!(
            (&f["service"], &f["exposure"], &f["check"], &f["severity"]),
            (
                &Value::from("ldap"),
                &Value::from("auth-required"),
                &Value::from("ldap-auth-required"),
                &Value::from("info")
            ),
            "{f:#}"
        );
        assert!(f["version"].is_null(), "{f:#}");
        assert!(f["inventory"].is_null(), "{f:#}");
        assert_eq!(f["details"]["anonymous_bind"], "refused");
        assert_eq!(
            evidence(&f),
            [
                (
                    "bindRequest v3 simple, empty name and password (anonymous)".to_string(),
                    "bindResponse inappropriateAuthentication (48) \"anonymous bind disallowed\""
                        .to_string()
                ),
                (
                    "unbindRequest".to_string(),
                    "sent (LDAP has no response to it)".to_string()
                ),
            ],
            "{f:#}"
        );
    }
}
