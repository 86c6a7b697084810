//! The live twin: CB-Spider's REST API over the simulation, so real Cloud-Barista software
//! (CB-Tumblebug, Spider's own test scripts, any Spider client) can be pointed at simulated
//! clouds. The twin plays Spider and the clouds behind it: the same routes, JSON and status
//! strings, with the simulated providers' timings, failures, outages and monitoring behind them.
//!
//! Everything here is deterministic and reads no clock: a request is handed in with the
//! simulated time it arrived at ([`Session::submit`]), handled as an event at that time, and
//! answered at once or when the VM it waits for settles. The server layer (`cloudtwin serve`,
//! the binary's `serve` module) paces simulated time to the wall clock and journals every
//! request; [`Session`] driven by the journal alone replays the session (`cloudtwin replay`)
//! with byte-identical tables.
//!
//! - [`config`]: `[serve]`; [`plan`]: the twin's checked plan;
//! - [`request`], [`routes`], [`wire`]: requests, Spider's routes and its JSON;
//! - [`model`]: the twin as a [`crate::model::SubModel`]; its handlers by subject in
//!   `cim.rs` (cloud info, connection -> cloud), `resources.rs` (VPC, security group, key
//!   pair, images, specs), `vms.rs` (VMs), `admin.rs` (`/cloudtwin` routes);
//! - [`catalog`]: images and specs (`models/twin.toml`, `models/specs.csv`);
//! - [`stats`]: `api.csv` and the summary rows; [`journal`]: the journal's lines;
//! - [`session`]: a run driven request by request.
//!
//! Sources: `../shared/domain/spider-api.md` (sections 0-2, 4 and 8: the wire protocol, the
//! mock driver, how CB-Tumblebug calls Spider); `../shared/domain/cloud-barista.md` section 5
//! (Cloud-Twin).

mod admin;
pub mod catalog;
mod cim;
pub mod config;
pub mod journal;
pub mod model;
pub mod plan;
pub mod request;
mod resources;
pub mod routes;
pub mod session;
pub mod stats;
mod vms;
pub mod wire;

pub use config::ServeSpec;
pub use model::{ApiEvent, Peers, Twin};
pub use plan::Plan;
pub use request::{ApiAnswer, ApiError, ApiRequest};
pub use session::Session;
pub use vms::rfc3339;
