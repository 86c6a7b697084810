//! Network models: round-trip times between cloud regions.
//!
//! [`LatencyModel`] gives the median, P95 and mean RTT of any ordered pair of catalogue regions,
//! and single probes with jitter. The median is physics plus a few fitted coefficients:
//!
//! - the great-circle distance between the regions' metro coordinates (`models/regions.csv`);
//! - light in fibre, about 204,000 km/s, which gives the floor no RTT may beat (2 d / 204,000 km/s);
//! - a route stretch of terrestrial km that falls with distance (2.3-3.4 under 500 km towards
//!   ~1.55 past 12,000 km in published measurements), one stretch for submarine km, an additive
//!   term for short paths, and for long pairs the path through a backbone graph of
//!   interconnection hubs and cable corridors ([`backbone`]), since long paths detour (South
//!   Africa to Asia via Europe, Brazil to Asia via North America);
//! - same-region (0.1-2 ms), same-metro-different-provider (1.5-4.4 ms) and cross-provider terms;
//! - a small seeded per-pair effect and direction asymmetry, drawn from the seed and the pair's
//!   keys, never from call order.
//!
//! Jitter: a probe is the median times a shifted exponential whose P95/P50 is the published
//! Azure ratio (~1.06). A [`MeasuredMatrix`] (CSV, long or square) overrides the pairs it covers.
//!
//! Coefficients: `models/latency.toml` ([`coefficients`]), fitted by [`fit`] (`cloudtwin latency
//! fit`) on the published AWS (CloudPing P50), Azure (P50/P95) and IBM Cloud VPC (average)
//! inter-region matrices and Skyplane's VM-to-VM pings between AWS, Azure and GCP, in
//! `../shared/data` (provenance: `../shared/data/SOURCES.md`, `models/README.md`).

pub mod backbone;
pub mod coefficients;
pub mod config;
pub mod fit;
pub mod latency;
pub mod measured;
pub mod table;

pub use coefficients::{Coefficients, FIBRE_KM_PER_S, PairGeometry, RttStat, fibre_floor_ms};
pub use latency::{BUILTIN_LATENCY_TOML, LatencyModel, find_regions, parse_region_list};
pub use measured::MeasuredMatrix;
