//! The live twin's plan, built when the scenario loads (only with `serve.enabled`): the MCIS
//! its VMs go into, where emulated clouds are, the epoch of simulated time, and the world as it
//! starts (clouds, catalogue, latency model), which grows as clients register connections.

use super::config::ServeSpec;
use crate::lifecycle;
use crate::model::{PlanError, Resolved};

/// Everything the twin needs, checked.
#[derive(Clone, Debug)]
pub struct Plan {
    pub spec: ServeSpec,
    /// The lifecycle plan's index of the twin's MCIS.
    pub mcis: u32,
    /// Where MOCK and CLOUDTWIN clouds are (lat, lon).
    pub emulated_at: (f64, f64),
    /// The world at the start.
    pub world: Resolved,
}

impl Plan {
    /// The twin's plan, or `None` when the run is not a live twin session.
    pub fn build(
        spec: &ServeSpec,
        r: &Resolved,
        lifecycle: &lifecycle::Plan,
    ) -> Result<Option<Plan>, PlanError> {
        if !spec.enabled {
            return Ok(None);
        }
        let emulated_at = crate::control::placement::parse_point(&spec.emulated_location)
            .ok_or_else(|| {
                PlanError::new(
                    "serve.emulated_location",
                    format!(
                        "expected \"lat/lon\" (e.g. \"36.38/127.36\"), found \"{}\"",
                        spec.emulated_location
                    ),
                )
            })?;
        let mcis = lifecycle
            .mcis
            .iter()
            .position(|m| m.api)
            .ok_or_else(|| PlanError::new("serve.enabled", "the twin's MCIS is missing"))?;
        Ok(Some(Plan {
            spec: spec.clone(),
            mcis: mcis as u32,
            emulated_at,
            world: r.clone(),
        }))
    }
}
