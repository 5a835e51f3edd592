//! MongoDB wire protocol probe (placeholder until the wire module lands).
use super::{ProbeContext, ProbeOutcome};
use crate::target::Endpoint;

/// Probes one endpoint for MongoDB.
pub async fn probe(_cx: &ProbeContext, _endpoint: &Endpoint, _tls: bool) -> ProbeOutcome {
    ProbeOutcome::Failed("mongodb probe not built yet".into())
}
