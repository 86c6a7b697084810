//! The discrete-event engine: simulated time, the event queue, the run loop, seeded random
//! streams and distributions. It knows nothing about clouds; models build on it.

pub mod chacha_draw;
pub mod counter_rng;
pub mod dist;
pub mod entities;
pub mod hint;
pub mod huge_pages;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod time;

pub use counter_rng::{CounterCursor, CounterFamily, CounterRng};
pub use dist::{Dist, DurationDist, Probability};
pub use entities::{EntityRange, Seq};
pub use queue::{EntityId, EventKey, FelKind};
pub use rng::{RngFactory, SimRng, StreamFamily};
pub use sim::{EventHandle, Model, Progress, RunControl, RunOutcome, Scheduler, SchedulerStats};
pub use time::{SimDuration, SimTime};
