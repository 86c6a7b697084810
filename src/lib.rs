//! # cloudtwin
//!
//! A deterministic discrete-event simulator of large multi-cloud environments, built to test
//! the multi-cloud management software of the Cloud-Barista family (CB-Spider, CB-Tumblebug,
//! CB-Dragonfly, CB-Larva/CLADNet) at scales real clouds will not give on demand. The same
//! scenario and seed give byte-identical results. This page is a short tour: how to run a
//! scenario from Rust and read its results, how the crate is laid out, and where a new model
//! goes.
//!
//! ## Run a scenario and read its results
//!
//! A scenario is TOML text (see `scenarios/` and the README for every key). Loading it parses
//! it, applies `--set`-style overrides, and builds every model's checked plan once; a bad key
//! is a [`scenario::ScenarioError`] naming the file, line, key and what was expected.
//!
//! ```
//! use cloudtwin::engine::RunControl;
//! use cloudtwin::output::names::{file, metric};
//! use cloudtwin::output::summary::Value;
//! use cloudtwin::scenario::{self, Override};
//!
//! let text = r#"
//!     [simulation]
//!     seed = 7
//!     duration = "20m"
//!
//!     [topology]
//!     vms_per_cloud = 3
//!     mix = { aws = 2, gcp = 1 }
//! "#;
//! let sets = [Override::parse("lifecycle.create_failure_p=0")?];
//! let loaded = scenario::from_str(text, "demo.toml", "demo", None, &sets)?;
//! assert_eq!(loaded.clouds().len(), 3);
//! assert_eq!(loaded.total_vms(), 9);
//!
//! let out = cloudtwin::run::simulate(&loaded, &mut RunControl::none());
//!
//! // Scalars: `summary.csv`, one row per metric (names in `output::names::metric`).
//! assert_eq!(out.summary.get(metric::VMS_PROVISIONED), Some(&Value::Int(9)));
//!
//! // Tables: one per file of the results folder (names in `output::names::file`).
//! let states = out.tables.iter().find(|t| t.name == file::VM_STATES).unwrap();
//! assert_eq!(states.header, ["time_s", "cloud", "status", "count"]);
//! let last = states.rows().last().unwrap();
//! assert_eq!((last[2].as_str(), last[3].as_str()), ("Running", "3"));
//!
//! // Same scenario, same seed: the same bytes.
//! let again = cloudtwin::run::simulate(&loaded, &mut RunControl::none());
//! assert_eq!(out.summary.to_csv(), again.summary.to_csv());
//! assert_eq!(out.tables[1].to_csv(), again.tables[1].to_csv());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A run may use two threads ([`run::RunOptions`]; by default where the machine has two
//! cores): the monitoring pipeline's collecting side then runs beside the engine, fed the
//! same commands in the same order, and the results are the same bytes as on one.
//!
//! [`run::write_results`] writes a run as the CLI does (an atomic results folder with
//! `manifest.json`, `scenario.toml`, `summary.csv`, every table and the report);
//! [`batch`] runs sweeps with confidence intervals, on all cores or as cluster shards.
//!
//! ## How the crate is laid out
//!
//! - [`engine`]: the discrete-event engine. Integer nanosecond time, a total event order
//!   `(time, entity, sequence)`, seeded ChaCha streams per entity and purpose, distributions.
//!   It knows nothing about clouds.
//! - [`scenario`]: reads a scenario and builds, in order, [`model::Resolved`] (seed, horizon,
//!   region catalogue, clouds, latency model) and one plan per model.
//! - The models, each a folder with its `config.rs` (its scenario section), its `plan.rs` (the
//!   checked, resolved form) and the model itself:
//!   [`lifecycle`] (VMs through CB-Tumblebug's status machine, provisioning, faults, outages),
//!   [`monitoring`] (CB-Dragonfly's agents, collectors and storage),
//!   [`control`] (CB-Tumblebug's auto-control loop, placement, and the [`workload`]s it
//!   measures), [`cladnet`] (overlay status tests, cloud RTTs, control-plane placement).
//! - [`model`]: the interface they share ([`model::SubModel`], [`model::Results`],
//!   [`model::Notice`]) and what plans are built from.
//! - [`world`]: wires the models together for the engine; [`run`]: one run, start to finish.
//! - [`network`] (the calibrated latency model), [`topology`] (regions, clouds, VM specs).
//! - [`size`]: know before you run. Peak memory, events and rows per table estimated from a
//!   scenario before any plan is built, and the limits a run is checked against.
//! - [`output`] (tables, summary, manifest, results folders, [`output::names`]), [`report`]
//!   (plots and `report.html` from a results folder), [`batch`] (sweeps), [`bench`](mod@bench).
//!
//! ## Where a new model goes
//!
//! 1. **Its section**: a `config.rs` with the serde types of its scenario keys (every key with
//!    a default, `deny_unknown_fields`), added as a field of [`scenario::Scenario`].
//! 2. **Its plan**: a `plan.rs` with `Plan::build(&Spec, &Resolved, ..) -> Result<Plan,
//!    PlanError>` doing every check (each error with its key path) and resolving what the
//!    model needs once; call it from `scenario::from_str` and keep it in [`scenario::Loaded`].
//! 3. **Its events and state**: an event enum and a model built from its plan alone that
//!    implements [`model::SubModel`] (handle its events, follow VM notices, sample) and
//!    [`model::Results`] (summary rows, tables).
//! 4. **Its wiring**: a variant of [`world::Event`], a field of [`world::World`] built in
//!    `World::new` after the existing models (entity ids break ties between simultaneous
//!    events, so the order is part of the results), a line in `World::handle`, and an entry
//!    in the world's list of parts.
//! 5. **Its names**: its files and metrics in [`output::names`], used by the report and tests.
//!
//! The whole interface, in miniature: a heartbeat model, driven the way the world drives
//! the real ones.
//!
//! ```
//! use cloudtwin::engine::{EntityId, Model, RunControl, Scheduler, SimDuration, SimTime};
//! use cloudtwin::model::{Results, SubModel};
//! use cloudtwin::output::{Summary, Table};
//!
//! #[derive(Copy, Clone, Debug)]
//! enum HeartbeatEvent {
//!     Beat,
//! }
//!
//! /// Beats every `period` (in a real model, the plan holds the period).
//! struct Heartbeat {
//!     entity: EntityId,
//!     period: SimDuration,
//!     beats: u64,
//!     log: Table,
//! }
//!
//! impl Heartbeat {
//!     fn new<E: From<HeartbeatEvent> + Copy>(period: SimDuration, s: &mut Scheduler<E>) -> Self {
//!         let entity = s.alloc_entities(1).get(0);
//!         s.post_at(SimTime::ZERO, entity, HeartbeatEvent::Beat.into());
//!         let log = Table::new("heartbeats.csv", &["time_s"]);
//!         Heartbeat { entity, period, beats: 0, log }
//!     }
//! }
//!
//! impl<E: From<HeartbeatEvent> + Copy> SubModel<E> for Heartbeat {
//!     type Event = HeartbeatEvent;
//!     type Peers<'p> = (); // it reads no other model
//!     fn handle(&mut self, s: &mut Scheduler<E>, _ev: HeartbeatEvent, _: ()) {
//!         self.beats += 1;
//!         self.log.push(vec![s.now().to_string()]);
//!         s.post_in(self.period, self.entity, HeartbeatEvent::Beat.into());
//!     }
//! }
//!
//! impl Results for Heartbeat {
//!     fn summarize(&self, summary: &mut Summary, _end: SimTime) {
//!         summary.int("heartbeats", self.beats);
//!     }
//!     fn take_tables(&mut self) -> Vec<Table> {
//!         vec![self.log.take()]
//!     }
//! }
//!
//! /// The world's job: route each event to the model that owns it.
//! struct World {
//!     heartbeat: Heartbeat,
//! }
//! impl Model for World {
//!     type Event = HeartbeatEvent;
//!     fn handle(&mut self, s: &mut Scheduler<HeartbeatEvent>, _: EntityId, ev: HeartbeatEvent) {
//!         self.heartbeat.handle(s, ev, ());
//!     }
//! }
//!
//! let mut sched = Scheduler::new();
//! let heartbeat = Heartbeat::new(SimDuration::from_secs(10), &mut sched);
//! let mut world = World { heartbeat };
//! let end = SimTime::from_secs(60);
//! sched.run_until(&mut world, end, &mut RunControl::none());
//!
//! let mut summary = Summary::new();
//! world.heartbeat.summarize(&mut summary, end);
//! assert_eq!(summary.to_csv(), "metric,value\nheartbeats,7\n"); // t = 0, 10, ..., 60
//! assert_eq!(world.heartbeat.take_tables()[0].len(), 7);
//! ```

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
pub mod size;
pub mod stats;
pub mod topology;
pub mod twin;
pub mod workload;
pub mod world;
