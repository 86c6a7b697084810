//! The scenario resolved once, before any model's plan is built: the run's seed and horizon,
//! the region catalogue, the clouds, their providers and the latency model (with the measured
//! matrix of `network.measured_rtt`, if any). Every plan builder reads it; none changes it.

use super::PlanError;
use crate::engine::{RngFactory, SimTime};
use crate::network::{LatencyModel, MeasuredMatrix};
use crate::scenario::SimulationSpec;
use crate::topology::{Catalogue, Cloud, Region, TopologySpec};
use std::path::{Path, PathBuf};

/// What every model's plan is built from, besides its own scenario section.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// `simulation.seed`: every random stream of the run derives from it.
    pub seed: u64,
    /// The end of the run (`simulation.duration` after 0).
    pub horizon: crate::engine::SimTime,
    /// The region catalogue the scenario names regions from.
    pub catalogue: Catalogue,
    /// The scenario's clouds (`id` = index).
    pub clouds: Vec<Cloud>,
    /// Providers of the clouds, sorted and distinct; [`Resolved::cloud_provider`] indexes it.
    pub providers: Vec<String>,
    /// Provider index of each cloud.
    pub cloud_provider: Vec<u32>,
    /// The calibrated latency model, seeded by the run's seed, with measured pairs applied.
    pub latency: LatencyModel,
    /// Folder that relative file names of the scenario are read from.
    pub base_dir: Option<PathBuf>,
}

impl Resolved {
    /// Resolves `[simulation]`, `[topology]` and `[network]`. `allow_no_clouds`: a topology
    /// that names no cloud is an empty world, not an error (a live twin's clouds join later).
    pub fn build(
        sim: &SimulationSpec,
        topology: &TopologySpec,
        network: &crate::network::config::NetworkSpec,
        base_dir: Option<&Path>,
        allow_no_clouds: bool,
    ) -> Result<Resolved, PlanError> {
        let mut r = Resolved {
            seed: sim.seed,
            horizon: SimTime::ZERO + sim.duration,
            catalogue: Catalogue::builtin(),
            clouds: Vec::new(),
            providers: Vec::new(),
            cloud_provider: Vec::new(),
            latency: LatencyModel::builtin(sim.seed),
            base_dir: base_dir.map(Path::to_path_buf),
        };
        if let Some(file) = &topology.catalogue {
            let p = r.path(file);
            let text = r.read("topology.catalogue", file)?;
            r.catalogue = Catalogue::from_csv(&text).map_err(|e| {
                PlanError::new("topology.catalogue", format!("\"{}\": {e}", p.display()))
            })?;
        }
        let empty = topology.clouds.is_empty() && topology.mix.values().all(|n| *n == 0);
        if !(allow_no_clouds && empty) {
            r.clouds = topology.resolve(&r.catalogue)?;
        }
        r.providers = r.clouds.iter().map(|c| c.provider().to_string()).collect();
        r.providers.sort();
        r.providers.dedup();
        r.cloud_provider = r
            .clouds
            .iter()
            .map(|c| {
                r.providers
                    .binary_search_by(|p| p.as_str().cmp(c.provider()))
            })
            .map(|i| i.unwrap_or_default() as u32)
            .collect();
        if let Some(file) = &network.measured_rtt {
            let m = MeasuredMatrix::from_path(&r.path(file))
                .map_err(|e| PlanError::new("network.measured_rtt", e))?;
            r.latency = r.latency.with_measured(m);
        }
        Ok(r)
    }

    /// The run's random streams (see [`RngFactory`]): a plan that draws (random outages,
    /// workload spikes) draws from the same seed as the models.
    pub fn rngs(&self) -> RngFactory {
        RngFactory::new(self.seed)
    }

    /// A scenario file name resolved against the scenario's folder.
    pub fn path(&self, file: &str) -> PathBuf {
        self.base_dir
            .as_ref()
            .map_or_else(|| Path::new(file).to_path_buf(), |d| d.join(file))
    }

    /// Reads a file the scenario names at `key`.
    pub fn read(&self, key: &str, file: &str) -> Result<String, PlanError> {
        let p = self.path(file);
        std::fs::read_to_string(&p)
            .map_err(|e| PlanError::new(key, format!("cannot read \"{}\": {e}", p.display())))
    }

    /// The catalogue region named `provider:region` at `key`.
    pub fn region(&self, key: &str, name: &str) -> Result<&Region, PlanError> {
        self.catalogue.find_key(name).ok_or_else(|| {
            PlanError::new(key, format!("`{name}` is not a region of the catalogue"))
        })
    }

    /// The scenario cloud named `provider:region` (or `provider:region#k`).
    pub fn cloud(&self, name: &str) -> Option<&Cloud> {
        self.clouds.iter().find(|c| c.name() == name)
    }
}
