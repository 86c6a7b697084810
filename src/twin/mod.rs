//! The live twin: CB-Spider's REST API over the simulation (`cloudtwin serve`).
pub mod config;
