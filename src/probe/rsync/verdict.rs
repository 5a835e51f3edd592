//! The verdict on a daemon from its modules' answers.

use super::wire::{Access, Greeting};
use super::{MAX_MODULES, SEVERITY, counted};
use crate::finding::{DataSet, Exposure, Finding, Inventory, policy};
use crate::probe::ProbeOutcome;
use crate::sanitize::clip;
use crate::targets::Endpoint;

/// The verdict on one daemon that greeted.
pub(super) struct Judge<'a> {
    pub(super) endpoint: &'a Endpoint,
    pub(super) greeting: &'a Greeting,
}

impl Judge<'_> {
    /// The verdict from each asked module's answer; `listed` counts all listed.
    pub(super) fn verdict(&self, answers: Vec<(String, Access)>, listed: usize) -> ProbeOutcome {
        let names = |want: fn(&Access) -> bool| -> Vec<String> {
            answers
                .iter()
                .filter(|(_, a)| want(a))
                .map(|(n, _)| clip(n, 120))
                .collect()
        };
        let open = names(|a| *a == Access::Open);
        let locked = names(|a| *a == Access::AuthRequired);
        let refused = names(|a| matches!(a, Access::Refused(_)));
        let unknown = names(|a| matches!(a, Access::Unknown(_)));
        let mut details = Vec::new();
        for (key, list) in [
            ("protected_modules", &locked),
            ("refused_modules", &refused),
            ("unjudged_modules", &unknown),
        ] {
            if !list.is_empty() {
                details.push((key.to_string(), list.join(", ")));
            }
        }
        let hidden = "modules with `list = no` are not listed and were not asked for";
        if open.is_empty() {
            let (exposure, summary) = if listed == 0 {
                (
                    Exposure::AuthRequired,
                    format!("the daemon lists no modules ({hidden})"),
                )
            } else if locked.is_empty() && refused.is_empty() {
                (
                    Exposure::Undetermined,
                    format!(
                        "{} listed, none answered whether it is readable",
                        counted(listed, "module")
                    ),
                )
            } else {
                (
                    Exposure::AuthRequired,
                    format!(
                        "no listed module is readable without authentication: {} protected, {} refused ({hidden})",
                        locked.len(),
                        refused.len()
                    ),
                )
            };
            return self.found(exposure, summary, details);
        }
        let items: Vec<DataSet> = open
            .iter()
            .map(|name| DataSet {
                name: name.clone(),
                ..DataSet::default()
            })
            .collect();
        let summary = format!(
            "{} readable without authentication: {}",
            counted(open.len(), "rsync module"),
            clip(&open.join(", "), 160)
        );
        let inventory = Inventory {
            unit: "module".into(),
            total_items: open.len() as u64,
            user_items: open.len() as u64,
            items,
            total_documents: None,
            total_size_bytes: None,
            truncated: listed > MAX_MODULES,
        };
        let mut outcome = self.found(Exposure::Open, summary, details);
        if let ProbeOutcome::Found(f) = &mut outcome {
            f.severity = policy::severity(Exposure::Open, SEVERITY, Some(&inventory), false);
            f.inventory = Some(inventory);
        }
        outcome
    }

    /// A finding with the greeting's facts.
    pub(super) fn found(
        &self,
        exposure: Exposure,
        summary: String,
        mut details: Vec<(String, String)>,
    ) -> ProbeOutcome {
        let g = self.greeting;
        details.insert(0, ("protocol".into(), g.protocol.clone()));
        if !g.digests.is_empty() {
            details.insert(1, ("auth_digests".into(), g.digests.join(" ")));
        }
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: false,
            service: "rsync".into(),
            check: String::new(),
            product: None,
            version: Some(g.protocol.clone()),
            exposure,
            severity: policy::severity(exposure, SEVERITY, None, false),
            summary,
            details,
            evidence: Vec::new(),
            inventory: None,
            remediation: None,
            references: Vec::new(),
        }))
    }
}
