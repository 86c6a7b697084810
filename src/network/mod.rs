//! Network models (placeholder, being written).
pub mod latency;
