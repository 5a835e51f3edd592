//! Filled in by the probes of this family.
