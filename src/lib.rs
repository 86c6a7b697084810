//! cloudtwin: a deterministic discrete-event simulator of large multi-cloud environments.
pub mod batch;
pub mod bench;
pub mod cladnet;
pub mod control;
pub mod engine;
pub mod lifecycle;
pub mod model;
pub mod monitoring;
pub mod network;
pub mod output;
pub mod report;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod topology;
pub mod workload;
pub mod world;
