//! How a scenario's agents spread over its CB-Dragonfly sites, for the estimate: each cloud
//! reports to the nearest site (the lowest median RTT in the latency model, as
//! `monitoring::plan::nearest` assigns them), so each site's storage and collectors carry
//! that site's share of the agents, not an even split. Nearest-site assignment is uneven: in
//! `scenarios/bench/scale-10m.toml` the ten sites serve 5.2% to 16.4% of the agents each.
//!
//! The shares are those of the built-in latency model and catalogue, weighted by each
//! region's VMs; every region hosts the same number of accounts, so one account per region
//! gives the same shares without resolving the clouds. Where the estimate cannot see the
//! assignment (a catalogue file, a site the catalogue does not know, a topology that does not
//! resolve: the run's checks name those), it takes the sites as evenly loaded.

use crate::monitoring::plan::nearest;
use crate::network::LatencyModel;
use crate::scenario::Scenario;
use crate::topology::{Catalogue, TopologySpec};
use std::cell::RefCell;

/// What the shares depend on: the regions and the VMs of those that name their own, the
/// sites, the seed (`vms_per_cloud` scales the rest, so a search over it reuses them).
type Key = (TopologySpec, Vec<String>, u64);

/// Each site's VMs: `fixed[k]` in regions that name their count, plus `per_default[k]`
/// regions of `vms_per_cloud` each.
#[derive(Clone)]
struct Weights {
    fixed: Vec<f64>,
    per_default: Vec<f64>,
}

thread_local! {
    /// The last weights computed: a refusal's search estimates the same scenario hundreds of
    /// times with one number changed, and building the latency model each time would take
    /// it from milliseconds to a second.
    static LAST: RefCell<Option<(Key, Option<Weights>)>> = const { RefCell::new(None) };
}

/// Each site's share of the agents, in the order of `monitoring.site` (one site: `[1.0]`).
pub(super) fn shares(s: &Scenario) -> Vec<f64> {
    let keys = s.monitoring.site.keys();
    let even = || vec![1.0 / keys.len().max(1) as f64; keys.len().max(1)];
    if keys.len() <= 1 || s.topology.catalogue.is_some() {
        return even();
    }
    let mut regions = s.topology.clone();
    regions.accounts_per_region = 1;
    regions.vms_per_cloud = 0;
    let key: Key = (regions, keys.to_vec(), s.simulation.seed);
    let weights = LAST.with_borrow_mut(|last| match last {
        Some((k, w)) if *k == key => w.clone(),
        _ => {
            let w = weights(&key.0, &key.1, key.2);
            *last = Some((key, w.clone()));
            w
        }
    });
    let Some(w) = weights else {
        return even();
    };
    let per_cloud = f64::from(s.topology.vms_per_cloud);
    let vms: Vec<f64> = (w.fixed.iter().zip(&w.per_default))
        .map(|(f, d)| f + d * per_cloud)
        .collect();
    let total: f64 = vms.iter().sum();
    if total > 0.0 {
        vms.iter().map(|v| v / total).collect()
    } else {
        even()
    }
}

/// Each site's VMs over `regions` (one account each, `vms_per_cloud` 0), or `None` where the
/// estimate cannot see the assignment.
fn weights(regions: &TopologySpec, keys: &[String], seed: u64) -> Option<Weights> {
    let catalogue = Catalogue::builtin();
    let sites = keys
        .iter()
        .map(|k| catalogue.find_key(k).cloned())
        .collect::<Option<Vec<_>>>()?;
    let clouds = regions.resolve(&catalogue).ok()?;
    let latency = LatencyModel::builtin(seed);
    let mut w = Weights {
        fixed: vec![0.0; sites.len()],
        per_default: vec![0.0; sites.len()],
    };
    for (c, spec) in clouds.iter().zip(
        regions
            .clouds
            .iter()
            .map(Some)
            .chain(std::iter::repeat(None)),
    ) {
        let (site, _) = nearest(&latency, &c.region, &sites);
        match spec.and_then(|s| s.vms) {
            Some(v) => w.fixed[site as usize] += f64::from(v),
            None => w.per_default[site as usize] += 1.0,
        }
    }
    Some(w)
}
