//! The one place findings are judged the same way whatever probe made them: the severity
//! policy, the report order of listed data sets, and the check id, remediation and
//! references every finding carries (SARIF and baselines key on the check id).

use std::cmp::Reverse;

use super::{DataSet, Exposure, Finding, Inventory, Severity};

/// What a probe knows about the product a finding is for, beyond the verdict.
#[derive(Debug, Clone, Copy)]
pub struct CheckInfo<'a> {
    /// Severity of an open finding with user data, or with no inventory at all (an admin
    /// panel); the product's own file or service table says it.
    pub open_severity: Severity,
    /// What the operator should do.
    pub remediation: &'a str,
    /// Documentation on securing the product.
    pub references: &'a [&'a str],
}

/// Severity of a verdict: `auth-required` is `info` (or `low` when the service still
/// shows metadata such as a full status page without credentials), `undetermined` is
/// `low`, `default-credentials` is the product's open severity and never below `high`, and
/// `open` with an inventory is `critical` for user data whose names look personal, the
/// product's severity for other user data, and `medium` for system or empty data sets only.
pub fn severity(
    exposure: Exposure,
    open_severity: Severity,
    inventory: Option<&Inventory>,
    metadata_shown: bool,
) -> Severity {
    match exposure {
        Exposure::AuthRequired if metadata_shown => Severity::Low,
        Exposure::AuthRequired => Severity::Info,
        Exposure::Undetermined => Severity::Low,
        Exposure::DefaultCredentials => open_severity.max(Severity::High),
        Exposure::Open => match inventory {
            None => open_severity,
            Some(inventory) if inventory.has_pii() => Severity::Critical,
            Some(inventory) if holds_user_data(inventory) => open_severity,
            Some(_) => open_severity.min(Severity::Medium),
        },
    }
}

/// Whether a user data set holds data or, where sizes are not reported, names collections,
/// or is a user data set whose protocol reports no amount at all (a Tarantool space guest
/// may read, an rsync module anyone may download, a PostgreSQL database under trust): an
/// unknown amount is not an empty one.
fn holds_user_data(inventory: &Inventory) -> bool {
    inventory.has_user_data()
        || inventory.items.iter().any(|d| {
            !d.system
                && (!d.collections.is_empty() || (d.documents.is_none() && d.size_bytes.is_none()))
        })
}

/// The report order of data sets, smallest first: user data sets before system ones, then
/// largest, then most documents, then by name. Listings keep their biggest items by it.
pub fn rank(
    system: bool,
    documents: Option<u64>,
    size: Option<u64>,
    name: &str,
) -> (bool, Reverse<u64>, Reverse<u64>, &str) {
    (
        system,
        Reverse(size.unwrap_or(0)),
        Reverse(documents.unwrap_or(0)),
        name,
    )
}

/// Sorts an inventory's items into report order.
pub fn sort_items(items: &mut [DataSet]) {
    items.sort_by(|a, b| {
        rank(a.system, a.documents, a.size_bytes, &a.name).cmp(&rank(
            b.system,
            b.documents,
            b.size_bytes,
            &b.name,
        ))
    });
}

/// The stable check id of a verdict for a service: `elasticsearch-open`,
/// `mongodb-auth-required`.
pub fn check_id(service: &str, exposure: Exposure) -> String {
    format!("{service}-{exposure}")
}

/// Stamps what every finding carries: the check id (unless the probe set its own), the
/// remediation and references of non-`auth-required` verdicts, and items in report order.
pub fn complete(finding: &mut Finding, info: &CheckInfo<'_>) {
    if finding.check.is_empty() {
        finding.check = check_id(&finding.service, finding.exposure);
    }
    if finding.exposure != Exposure::AuthRequired {
        if finding.remediation.is_none() && !info.remediation.is_empty() {
            finding.remediation = Some(info.remediation.to_string());
        }
        if finding.references.is_empty() {
            finding.references = info.references.iter().map(|r| r.to_string()).collect();
        }
    }
    if let Some(inventory) = finding.inventory.as_mut() {
        sort_items(&mut inventory.items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, system: bool, documents: u64, pii: bool) -> DataSet {
        DataSet {
            name: name.into(),
            documents: Some(documents),
            system,
            pii_fields: if pii {
                vec![super::super::PiiHint {
                    field: "email".into(),
                    category: "email".into(),
                }]
            } else {
                Vec::new()
            },
            ..DataSet::default()
        }
    }

    fn inventory(items: Vec<DataSet>) -> Inventory {
        let mut inv = Inventory {
            unit: "index".into(),
            items,
            ..Inventory::default()
        };
        inv.recount();
        inv
    }

    #[test]
    fn open_severity_follows_what_is_held() {
        let high = Severity::High;
        let pii = inventory(vec![item("users", false, 5, true)]);
        let user = inventory(vec![item("logs", false, 5, false)]);
        let system = inventory(vec![item(".kibana", true, 5, false)]);
        let empty_pii = inventory(vec![item("users", false, 0, true)]);
        assert_eq!(
            severity(Exposure::Open, high, Some(&pii), false),
            Severity::Critical
        );
        assert_eq!(severity(Exposure::Open, high, Some(&user), false), high);
        assert_eq!(
            severity(Exposure::Open, high, Some(&system), false),
            Severity::Medium
        );
        assert_eq!(
            severity(Exposure::Open, high, Some(&empty_pii), false),
            Severity::Medium
        );
        assert_eq!(
            severity(Exposure::Open, Severity::Critical, None, false),
            Severity::Critical
        );
        assert_eq!(
            severity(Exposure::Open, Severity::Low, Some(&system), false),
            Severity::Low
        );
        // A user data set whose protocol reports no amount (an rsync module, a Tarantool
        // space) may hold anything: the service's severity, not medium.
        let unknown = inventory(vec![DataSet {
            name: "backups".into(),
            ..DataSet::default()
        }]);
        assert_eq!(severity(Exposure::Open, high, Some(&unknown), false), high);
        let known_empty = inventory(vec![DataSet {
            name: "backups".into(),
            documents: Some(0),
            ..DataSet::default()
        }]);
        assert_eq!(
            severity(Exposure::Open, high, Some(&known_empty), false),
            Severity::Medium
        );
    }

    #[test]
    fn other_verdicts_have_fixed_severities() {
        assert_eq!(
            severity(Exposure::AuthRequired, Severity::Critical, None, false),
            Severity::Info
        );
        assert_eq!(
            severity(Exposure::AuthRequired, Severity::Critical, None, true),
            Severity::Low
        );
        assert_eq!(
            severity(Exposure::Undetermined, Severity::Critical, None, false),
            Severity::Low
        );
        assert_eq!(
            severity(Exposure::DefaultCredentials, Severity::Medium, None, false),
            Severity::High
        );
    }

    #[test]
    fn items_sort_user_data_first_then_biggest() {
        let mut items = vec![
            item(".kibana", true, 900, false),
            item("b", false, 5, false),
            item("a", false, 5, false),
            item("big", false, 50, false),
        ];
        sort_items(&mut items);
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["big", "a", "b", ".kibana"]);
    }
}
