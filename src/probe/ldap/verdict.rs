//! What the LDAP probe's answers mean: result codes by name and kind, the rootDSE facts it
//! keeps, the entry counts per naming context, and the finding built from them.

use super::message::LdapResult;
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity, policy};
use crate::probe::ProbeOutcome;
use crate::sanitize::clip;
use crate::targets::Endpoint;

/// Longest diagnosticMessage, vendor name or version kept.
pub(super) const MAX_TEXT: usize = 160;

/// RFC 4511 section 4.1.9 (and appendix A) names of the result codes the probe may see.
pub(super) fn code_name(code: i64) -> &'static str {
    match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        13 => "confidentialityRequired",
        32 => "noSuchObject",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "resultCode",
    }
}

/// `insufficientAccessRights (50) "text"`, for evidence and summaries.
pub(super) fn describe(result: &LdapResult) -> String {
    let mut text = format!("{} ({})", code_name(result.code), result.code);
    if !result.diagnostic.is_empty() {
        text.push_str(&format!(" {:?}", clip(&result.diagnostic, MAX_TEXT)));
    }
    text
}

/// Whether a result code refuses an anonymous client for want of (better) credentials:
/// strongerAuthRequired (8), confidentialityRequired (13, TLS first),
/// inappropriateAuthentication (48, OpenLDAP's `disallow bind_anon`), invalidCredentials
/// (49), insufficientAccessRights (50, an ACL), and unwillingToPerform (53) saying
/// "authentication required" (OpenLDAP's `require authc`); also Active Directory's
/// operationsError (1) "... a successful bind must be completed".
pub(super) fn is_refusal(result: &LdapResult) -> bool {
    let text = result.diagnostic.to_ascii_lowercase();
    match result.code {
        8 | 13 | 48 | 49 | 50 => true,
        53 => text.contains("authentication required") || text.contains("unauthenticated"),
        1 => text.contains("successful bind must be completed"),
        _ => false,
    }
}

/// The rootDSE facts kept: naming contexts (names), vendor, protocol versions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct RootDse {
    /// `namingContexts`, then `defaultNamingContext` when not among them, de-duplicated.
    pub contexts: Vec<String>,
    /// `vendorName` (RFC 3045).
    pub vendor_name: Option<String>,
    /// `vendorVersion` (RFC 3045).
    pub vendor_version: Option<String>,
    /// `supportedLDAPVersion` values.
    pub versions: Vec<String>,
    /// Whether `objectClass` names `OpenLDAProotDSE`, which only OpenLDAP's rootDSE has.
    pub openldap: bool,
}

impl RootDse {
    /// The facts of a rootDSE entry's attributes (names compared case-insensitively, as
    /// attribute descriptions are).
    pub(super) fn from_attributes(attributes: &[(String, Vec<String>)]) -> RootDse {
        let mut dse = RootDse::default();
        let mut default_context = None;
        for (name, values) in attributes {
            let first = || values.first().map(|v| clip(v, MAX_TEXT));
            match name.to_ascii_lowercase().as_str() {
                "namingcontexts" => dse.contexts.extend(values.iter().cloned()),
                "defaultnamingcontext" => default_context = values.first().cloned(),
                "vendorname" => dse.vendor_name = first(),
                "vendorversion" => dse.vendor_version = first(),
                "supportedldapversion" => {
                    dse.versions = values.iter().map(|v| clip(v, 8)).collect();
                }
                "objectclass" => {
                    dse.openldap = values
                        .iter()
                        .any(|v| v.eq_ignore_ascii_case("OpenLDAProotDSE"));
                }
                _ => {}
            }
        }
        dse.contexts.extend(default_context);
        dse.contexts.retain(|c| !c.is_empty());
        let mut seen = Vec::new();
        dse.contexts.retain(|c| {
            !seen.contains(&c.to_ascii_lowercase()) && {
                seen.push(c.to_ascii_lowercase());
                true
            }
        });
        dse
    }

    /// The product: the vendor's own name, else OpenLDAP when its rootDSE class says so.
    pub(super) fn product(&self) -> Option<String> {
        self.vendor_name
            .clone()
            .or_else(|| self.openldap.then(|| "OpenLDAP".to_string()))
    }

    /// What the rootDSE showed, for evidence.
    pub(super) fn facts(&self) -> String {
        let mut parts = vec![format!("namingContexts [{}]", self.contexts.join("; "))];
        if let Some(name) = &self.vendor_name {
            parts.push(format!("vendorName {name:?}"));
        }
        if let Some(version) = &self.vendor_version {
            parts.push(format!("vendorVersion {version:?}"));
        }
        if !self.versions.is_empty() {
            parts.push(format!("supportedLDAPVersion {}", self.versions.join(",")));
        }
        if self.openldap {
            parts.push("objectClass OpenLDAProotDSE".into());
        }
        parts.join(", ")
    }
}

/// How a subtree search under one naming context ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Count {
    /// searchResDone success: every entry was returned.
    Exact(u64),
    /// The server (size or time limit) or ajar (cap, deadline) stopped first.
    AtLeast(u64),
    /// searchResDone with another code, after `entries` entries.
    Ended { entries: u64, result: LdapResult },
    /// The search broke off (a read error, a malformed message) after `entries` entries.
    Broken { entries: u64, why: String },
}

impl Count {
    /// The entries returned.
    pub(super) fn entries(&self) -> u64 {
        match self {
            Count::Exact(n) | Count::AtLeast(n) => *n,
            Count::Ended { entries, .. } | Count::Broken { entries, .. } => *entries,
        }
    }
}

/// `1 entry`, `5 entries`.
pub(super) fn entries(n: u64) -> String {
    if n == 1 {
        "1 entry".into()
    } else {
        format!("{n} entries")
    }
}

/// Whether a naming context holds the server's own data (configuration, schema,
/// monitoring) rather than a directory of users: by its first RDN.
fn is_system(context: &str) -> bool {
    let first = context.split(',').next().unwrap_or_default().trim();
    [
        "cn=config",
        "cn=monitor",
        "cn=schema",
        "cn=subschema",
        "cn=configuration",
        "o=netscaperoot",
    ]
    .iter()
    .any(|s| first.eq_ignore_ascii_case(s))
}

/// The inventory of the naming contexts searched, with their entry counts (contexts whose
/// search was refused or broke off count nothing).
pub(super) fn inventory(counts: &[(String, Count)], listed: usize) -> Inventory {
    let mut inventory = Inventory {
        unit: "naming-context".into(),
        items: counts
            .iter()
            .map(|(context, count)| DataSet {
                name: context.clone(),
                documents: match count {
                    Count::Exact(n) | Count::AtLeast(n) => Some(*n),
                    Count::Ended { entries, .. } | Count::Broken { entries, .. } => {
                        (*entries > 0).then_some(*entries)
                    }
                },
                system: is_system(context),
                ..DataSet::default()
            })
            .collect(),
        total_items: listed as u64,
        ..Inventory::default()
    };
    inventory.truncated =
        listed > counts.len() || counts.iter().any(|(_, c)| !matches!(c, Count::Exact(_)));
    inventory.recount();
    inventory
}

/// What a probe run learnt, for the finding.
pub(super) struct Facts<'a> {
    /// The endpoint probed.
    pub endpoint: &'a Endpoint,
    /// Over TLS.
    pub tls: bool,
    /// Whether the anonymous bind succeeded (None before its answer).
    pub bind_accepted: Option<bool>,
    /// The rootDSE, when read.
    pub root: Option<RootDse>,
}

impl Facts<'_> {
    /// The finding for `exposure`.
    pub(super) fn finding(
        &self,
        exposure: Exposure,
        inventory: Option<Inventory>,
        summary: String,
    ) -> Box<Finding> {
        let metadata_shown = self.root.as_ref().is_some_and(|r| !r.contexts.is_empty());
        let severity =
            policy::severity(exposure, Severity::High, inventory.as_ref(), metadata_shown);
        let mut details = Vec::new();
        if let Some(accepted) = self.bind_accepted {
            let text = if accepted { "accepted" } else { "refused" };
            details.push(("anonymous_bind".to_string(), text.to_string()));
        }
        if let Some(root) = &self.root {
            if !root.contexts.is_empty() {
                let shown: Vec<String> = root.contexts.iter().map(|c| clip(c, MAX_TEXT)).collect();
                details.push(("naming_contexts".to_string(), shown.join("; ")));
            }
            if !root.versions.is_empty() {
                details.push((
                    "supported_ldap_versions".to_string(),
                    root.versions.join(","),
                ));
            }
        }
        Box::new(Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: self.tls,
            service: "ldap".into(),
            check: String::new(),
            product: self.root.as_ref().and_then(RootDse::product),
            version: self.root.as_ref().and_then(|r| r.vendor_version.clone()),
            exposure,
            severity,
            summary,
            details,
            evidence: Vec::new(),
            inventory,
            remediation: None,
            references: Vec::new(),
        })
    }
}

/// The verdict from the entry counts: open when any naming context gave entries, else
/// auth-required when every search was answered, else undetermined.
pub(super) fn judge(facts: &Facts<'_>, counts: &[(String, Count)], listed: usize) -> ProbeOutcome {
    let product = facts
        .root
        .as_ref()
        .and_then(RootDse::product)
        .unwrap_or_else(|| "LDAP server".into());
    let total: u64 = counts
        .iter()
        .fold(0, |n, (_, c)| n.saturating_add(c.entries()));
    let shown: Vec<String> = counts
        .iter()
        .map(|(context, count)| {
            let context = clip(context, MAX_TEXT);
            match count {
                Count::Exact(n) => format!("{context}: {n}"),
                Count::AtLeast(n) => format!("{context}: at least {n}"),
                Count::Ended { entries, result } => {
                    format!("{context}: {entries} ({})", describe(result))
                }
                Count::Broken { entries, why } => format!("{context}: {entries} ({why})"),
            }
        })
        .collect();
    if total > 0 {
        let inventory = inventory(counts, listed);
        let bound = if inventory.truncated { "at least " } else { "" };
        let summary = format!(
            "{product} lets anonymous clients read the directory: {bound}{} under {} ({})",
            entries(total),
            if counts.len() == 1 {
                "1 naming context".to_string()
            } else {
                format!("{} naming contexts", counts.len())
            },
            shown.join("; ")
        );
        return ProbeOutcome::Found(facts.finding(Exposure::Open, Some(inventory), summary));
    }
    let broken = counts
        .iter()
        .any(|(_, c)| matches!(c, Count::Broken { .. }));
    let exposure = if broken {
        Exposure::Undetermined
    } else {
        Exposure::AuthRequired
    };
    let summary = format!(
        "{product} accepts an anonymous bind, but no entry is readable anonymously ({})",
        shown.join("; ")
    );
    ProbeOutcome::Found(facts.finding(exposure, None, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i64, text: &str) -> LdapResult {
        LdapResult {
            code,
            diagnostic: text.into(),
            response_name: None,
        }
    }

    #[test]
    fn refusals_are_credential_codes_only() {
        assert!(is_refusal(&result(48, "anonymous bind disallowed")));
        assert!(is_refusal(&result(50, "")));
        assert!(is_refusal(&result(13, "TLS confidentiality required")));
        assert!(is_refusal(&result(53, "authentication required")));
        assert!(is_refusal(&result(
            1,
            "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, v4563"
        )));
        assert!(!is_refusal(&result(53, "no global superior knowledge")));
        assert!(!is_refusal(&result(32, "")));
        assert!(!is_refusal(&result(0, "")));
        assert!(!is_refusal(&result(1, "internal error")));
    }

    #[test]
    fn rootdse_facts_are_deduplicated_and_vendor_named() {
        let attributes = vec![
            (
                "objectClass".to_string(),
                vec!["top".into(), "OpenLDAProotDSE".into()],
            ),
            (
                "namingContexts".to_string(),
                vec!["dc=a".into(), "DC=A".into(), "".into()],
            ),
            ("defaultNamingContext".to_string(), vec!["dc=b".into()]),
            ("supportedLDAPVersion".to_string(), vec!["3".into()]),
        ];
        let dse = RootDse::from_attributes(&attributes);
        assert_eq!(dse.contexts, ["dc=a", "dc=b"]);
        assert_eq!(dse.product().as_deref(), Some("OpenLDAP"));
        assert_eq!(dse.vendor_version, None);
        let vendor = RootDse::from_attributes(&[
            ("vendorName".to_string(), vec!["389 Project".into()]),
            (
                "vendorVersion".to_string(),
                vec!["389-Directory/2.3.4".into()],
            ),
        ]);
        assert_eq!(vendor.product().as_deref(), Some("389 Project"));
        assert_eq!(
            vendor.vendor_version.as_deref(),
            Some("389-Directory/2.3.4")
        );
        assert!(RootDse::default().product().is_none());
    }

    #[test]
    fn system_contexts_by_first_rdn() {
        assert!(is_system("cn=config"));
        assert!(is_system("CN=Configuration,DC=corp,DC=example"));
        assert!(is_system("o=NetscapeRoot"));
        assert!(!is_system("dc=ajar,dc=test"));
        assert!(!is_system("ou=config,dc=ajar,dc=test"));
    }
}
