//! How the MQTT probe turns what a broker said into a finding: the verdict after SUBACK
//! (open only when `#` is granted and at least one retained message came), the inventory
//! of retained topics, and the summaries.

use std::time::Duration;

use super::retained::{self, FILTERS, MAX_TOPICS, Retained};
use super::wire::Version;
use crate::finding::{DataSet, Exposure, Finding, Inventory, Severity, policy};
use crate::probe::ProbeOutcome;
use crate::probe::trace::Trace;
use crate::targets::Endpoint;

/// One probe run: where it talks to, its trace, and the CONNACKs so far.
pub(super) struct Probe<'a> {
    /// The endpoint probed, for the finding.
    pub endpoint: &'a Endpoint,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// Where the exchanges are recorded.
    pub trace: &'a mut Trace,
    /// The CONNACKs so far, for summaries (`MQTT 3.1.1 return code 1 (...)`).
    pub history: Vec<String>,
}

impl Probe<'_> {
    /// A broker that is MQTT but whose verdict could not be settled.
    pub(super) fn undetermined(&mut self, why: String) -> ProbeOutcome {
        let summary = if self.history.is_empty() {
            format!("MQTT broker: {why}")
        } else {
            format!("MQTT broker ({}): {why}", self.history.join(", then "))
        };
        self.found(Exposure::Undetermined, None, None, summary, Version::V311)
    }

    /// The verdict once an anonymous CONNECT was accepted.
    pub(super) fn subscribed(
        &mut self,
        version: Version,
        seen: &Retained,
        window: Duration,
    ) -> ProbeOutcome {
        let request = format!(
            "SUBSCRIBE {} (QoS 0), retained topic names for {} ms, payloads discarded",
            FILTERS.join(" and "),
            window.as_millis()
        );
        let (product, broker_version) = match &seen.broker_version {
            Some(text) => {
                let (product, version) = retained::product_version(text);
                (product, Some(version))
            }
            None => (None, None),
        };
        let user = seen.topics.iter().filter(|t| !t.name.starts_with('$'));
        let user = user.count();
        let Some(codes) = &seen.codes else {
            let why = seen
                .ended
                .clone()
                .unwrap_or_else(|| "nothing before the timeout".into());
            self.trace.record(request, format!("no SUBACK: {why}"));
            let summary = format!(
                "MQTT broker accepts anonymous MQTT {} clients, but SUBSCRIBE got no SUBACK ({why})",
                version.label()
            );
            return self.found(Exposure::Undetermined, None, None, summary, version);
        };
        let granted: Vec<String> = FILTERS
            .iter()
            .zip(codes)
            .map(|(f, &c)| match c {
                c if retained::granted(c) => format!("{f}: granted QoS {c}"),
                c => format!("{f}: refused 0x{c:02X}"),
            })
            .collect();
        let mut response = format!(
            "SUBACK {}; {} retained topics ({user} outside $SYS){}",
            granted.join(", "),
            seen.topics.len(),
            if seen.truncated { ", capped" } else { "" }
        );
        if let Some(text) = &seen.broker_version {
            response.push_str(&format!("; $SYS/broker/version: {text}"));
        }
        if let Some(why) = &seen.ended {
            response.push_str(&format!("; window ended early: {why}"));
        }
        self.trace.record(request, response);
        let name = match (product, &broker_version) {
            (Some(p), Some(v)) => format!("{p} {v}"),
            _ => "MQTT broker".into(),
        };
        let subscribed = codes.first().copied().is_some_and(retained::granted);
        // Mosquitto 2.0.11 grants `#` even when its acl_file denies every read, and then
        // delivers nothing: a grant alone does not prove that anything can be read.
        if !subscribed || seen.topics.is_empty() {
            let summary = if subscribed {
                format!(
                    "{name} accepts anonymous MQTT {} clients and grants # but sent no retained message within {} ms: an ACL may deny reads, or nothing is retained",
                    version.label(),
                    window.as_millis()
                )
            } else {
                format!(
                    "{name} accepts anonymous MQTT {} clients but refuses them a subscription to #",
                    version.label()
                )
            };
            let mut outcome = self.found(Exposure::Undetermined, None, None, summary, version);
            if let ProbeOutcome::Found(f) = &mut outcome {
                f.product = product.map(str::to_string);
                f.version = broker_version;
            }
            return outcome;
        }
        let items: Vec<DataSet> = seen
            .topics
            .iter()
            .map(|t| DataSet {
                name: t.name.clone(),
                documents: Some(1),
                size_bytes: Some(t.payload_bytes),
                system: t.name.starts_with('$'),
                ..DataSet::default()
            })
            .collect();
        let mut inventory = Inventory {
            unit: "retained-topic".into(),
            items,
            truncated: seen.truncated,
            ..Inventory::default()
        };
        inventory.recount();
        let summary = format!(
            "{name} accepts anonymous MQTT {} clients and grants a subscription to #: {} retained topics ({user} outside $SYS){}",
            version.label(),
            seen.topics.len(),
            if seen.truncated {
                format!(", listing stopped at {MAX_TOPICS} topics or 1 MiB")
            } else {
                String::new()
            }
        );
        let mut outcome = self.found(Exposure::Open, product, Some(inventory), summary, version);
        if let ProbeOutcome::Found(f) = &mut outcome {
            f.version = broker_version;
        }
        outcome
    }

    /// The finding for `exposure`, as every verdict of this probe builds it.
    pub(super) fn found(
        &mut self,
        exposure: Exposure,
        product: Option<&str>,
        inventory: Option<Inventory>,
        summary: String,
        version: Version,
    ) -> ProbeOutcome {
        let severity = policy::severity(exposure, Severity::High, inventory.as_ref(), false);
        let details = match exposure {
            Exposure::Open | Exposure::AuthRequired => {
                vec![("protocol".to_string(), version.label().to_string())]
            }
            _ => Vec::new(),
        };
        ProbeOutcome::Found(Box::new(Finding {
            triage: Default::default(),
            endpoint: self.endpoint.authority(),
            address: None,
            url: None,
            tls: self.tls,
            service: "mqtt".into(),
            check: String::new(),
            product: product.map(str::to_string),
            version: None,
            exposure,
            severity,
            summary,
            details,
            evidence: Vec::new(),
            inventory,
            remediation: None,
            references: Vec::new(),
        }))
    }
}
