//! cloudtwin: a deterministic discrete-event simulator of large multi-cloud environments.
pub mod engine;
