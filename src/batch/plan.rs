//! The runs of a sweep: points x replications, in a fixed order, with ids and seeds, and the
//! deterministic subset a shard runs.
//!
//! Run `k` is point `k / R`, replication `k % R` (R replications); its id is `<point>-r<rep>`
//! (`p001-r002`) and its seed `RngFactory::new(scenario_seed).derive_seed(&[point, rep])` with
//! the top bit cleared (TOML integers are signed 64-bit), so a run's seed does not depend on
//! which machine, thread or shard runs it. Shard `i/n` (0-based: `0/3`, `1/3`, `2/3`) runs
//! exactly the runs with `k % n == i`: the shards of one `n` partition the sweep, and
//! interleaving spreads every point over all shards.

use super::grid::{Grid, id_width};
use crate::engine::RngFactory;
use serde::{Deserialize, Serialize};

/// One run of a sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Position in the sweep (run-id order).
    pub index: usize,
    /// Folder name under `runs/`: `p001-r002`.
    pub id: String,
    pub point: usize,
    pub replication: u32,
    pub seed: u64,
}

/// Every run of a sweep, in run-id order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub grid: Grid,
    pub replications: u32,
    /// `simulation.seed` of the scenario (with `--set`s applied).
    pub base_seed: u64,
    pub runs: Vec<RunSpec>,
}

impl Plan {
    pub fn new(grid: Grid, replications: u32, base_seed: u64) -> Plan {
        let rng = RngFactory::new(base_seed);
        let points = grid.len();
        let rw = id_width(replications as usize);
        let mut runs = Vec::with_capacity(points.saturating_mul(replications as usize));
        for p in 0..points {
            for r in 0..replications {
                runs.push(RunSpec {
                    index: runs.len(),
                    id: format!("{}-r{r:0rw$}", grid.point_id(p)),
                    point: p,
                    replication: r,
                    seed: run_seed(&rng, p, r),
                });
            }
        }
        Plan {
            grid,
            replications,
            base_seed,
            runs,
        }
    }

    /// The run with folder name `id`.
    pub fn find(&self, id: &str) -> Option<&RunSpec> {
        self.runs.iter().find(|r| r.id == id)
    }

    /// The runs of point `p` (its replications, in order).
    pub fn point_runs(&self, p: usize) -> &[RunSpec] {
        let r = self.replications as usize;
        &self.runs[p * r..(p + 1) * r]
    }
}

/// The overrides of a run as `key=value` arguments: the shared `--set`s, the point's values,
/// then `simulation.seed=<seed>` (recorded in the run's `manifest.json`).
pub fn run_args(sets: &[String], grid: &Grid, run: &RunSpec) -> Vec<String> {
    let mut args = sets.to_vec();
    args.extend(grid.overrides(run.point).into_iter().map(|o| o.arg));
    args.push(format!("simulation.seed={}", run.seed));
    args
}

/// The seed of (point, replication): derived from the scenario seed only.
pub fn run_seed(rng: &RngFactory, point: usize, replication: u32) -> u64 {
    rng.derive_seed(&[point as u64, replication as u64]) & (i64::MAX as u64)
}

/// A deterministic subset of the runs: `index` of `count` (0-based).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n` with 0 <= i < n.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let err = || format!("--shard {s}: expected i/n with 0 <= i < n (0-based), or auto");
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let index: u32 = i.trim().parse().map_err(|_| err())?;
        let count: u32 = n.trim().parse().map_err(|_| err())?;
        Shard::new(index, count).map_err(|m| format!("--shard {s}: {m}"))
    }

    pub fn new(index: u32, count: u32) -> Result<Shard, String> {
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range for {count} shards (0-based: 0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard of this cluster task, from its environment (`env` looks a variable up):
    ///
    /// - Slurm job arrays: `SLURM_ARRAY_TASK_ID`. With an explicit count (`count`, else
    ///   `CLOUDTWIN_SHARDS`) the task id is the shard index (submit `--array=0-<n-1>`; a retry
    ///   submitted as `--array=<i>` then still runs shard i). Without one, the shard is
    ///   `SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`.
    /// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX`, with the count from `count` or
    ///   `CLOUDTWIN_SHARDS` (required).
    pub fn auto(env: &dyn Fn(&str) -> Option<String>, count: Option<u32>) -> Result<Shard, String> {
        let num = |name: &str| -> Result<Option<u32>, String> {
            match env(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("--shard auto: {name}={v} is not a whole number")),
            }
        };
        let explicit = match count {
            Some(n) => Some(n),
            None => num("CLOUDTWIN_SHARDS")?,
        };
        let ctx = |m: String| format!("--shard auto: {m}");
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            return match explicit {
                Some(n) => Shard::new(id, n).map_err(|m| {
                    ctx(format!(
                        "SLURM_ARRAY_TASK_ID={id} with {n} shards: {m} (submit with --array=0-{})",
                        n.saturating_sub(1)
                    ))
                }),
                None => {
                    let n = num("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                        ctx(
                            "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: give \
                             --shard-count N or CLOUDTWIN_SHARDS"
                                .into(),
                        )
                    })?;
                    let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
                    let i = id.checked_sub(min).ok_or_else(|| {
                        ctx(format!(
                            "SLURM_ARRAY_TASK_ID={id} < SLURM_ARRAY_TASK_MIN={min}"
                        ))
                    })?;
                    Shard::new(i, n).map_err(|m| {
                        ctx(format!(
                            "Slurm task {id} (min {min}, count {n}): {m}; arrays with steps or \
                             gaps need --shard-count"
                        ))
                    })
                }
            };
        }
        if let Some(i) = num("JOB_COMPLETION_INDEX")? {
            let n = explicit.ok_or_else(|| {
                ctx(
                    "JOB_COMPLETION_INDEX is set but the shard count is not: give --shard-count N \
                     or set CLOUDTWIN_SHARDS (the Job's completions)"
                        .into(),
                )
            })?;
            return Shard::new(i, n).map_err(|m| ctx(format!("JOB_COMPLETION_INDEX={i}: {m}")));
        }
        Err(ctx(
            "neither SLURM_ARRAY_TASK_ID (Slurm job array) nor JOB_COMPLETION_INDEX (Kubernetes \
             Indexed Job) is set: use --shard i/n outside a cluster job"
                .into(),
        ))
    }

    /// Does this shard run the run at `index`?
    pub fn contains(&self, index: usize) -> bool {
        index % self.count as usize == self.index as usize
    }

    pub fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::grid::Axis;
    use std::collections::BTreeMap;

    fn plan() -> Plan {
        let g = Grid {
            axes: vec![Axis::parse("a.x=1,2").unwrap()],
        };
        Plan::new(g, 3, 42)
    }

    #[test]
    fn runs_ids_and_seeds() {
        let p = plan();
        let ids: Vec<&str> = p.runs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "p000-r000",
                "p000-r001",
                "p000-r002",
                "p001-r000",
                "p001-r001",
                "p001-r002"
            ]
        );
        assert_eq!(p.runs[4].point, 1);
        assert_eq!(p.runs[4].replication, 1);
        let f = RngFactory::new(42);
        assert_eq!(
            p.runs[4].seed,
            f.derive_seed(&[1, 1]) & (i64::MAX as u64),
            "seed = derive_seed(point, replication)"
        );
        let mut seeds: Vec<u64> = p.runs.iter().map(|r| r.seed).collect();
        seeds.sort();
        seeds.dedup();
        assert_eq!(seeds.len(), 6, "distinct seeds");
        assert_eq!(p.point_runs(1)[0].id, "p001-r000");
        assert_eq!(p.find("p001-r002").unwrap().index, 5);
        assert_eq!(Plan::new(Grid::default(), 1, 1).runs[0].id, "p000-r000");
    }

    #[test]
    fn shards_partition_the_runs() {
        let p = plan();
        for n in 1..=7u32 {
            let mut seen = vec![0; p.runs.len()];
            for i in 0..n {
                let s = Shard::new(i, n).unwrap();
                for r in p.runs.iter().filter(|r| s.contains(r.index)) {
                    seen[r.index] += 1;
                }
            }
            assert!(seen.iter().all(|&c| c == 1), "n = {n}: {seen:?}");
        }
        assert_eq!(Shard::parse("1/3").unwrap(), Shard { index: 1, count: 3 });
        for bad in ["3/3", "1", "a/3", "0/0", "-1/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shard_auto_from_slurm_and_kubernetes() {
        let auto = |vars: &[(&str, &str)], count: Option<u32>| {
            let m: BTreeMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Shard::auto(&|k: &str| m.get(k).cloned(), count)
        };
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ];
        assert_eq!(auto(&slurm, None), Ok(Shard { index: 2, count: 3 }));
        let retry = [
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "1"),
            ("CLOUDTWIN_SHARDS", "3"),
        ];
        assert_eq!(auto(&retry, None), Ok(Shard { index: 1, count: 3 }));
        assert_eq!(
            auto(&[("SLURM_ARRAY_TASK_ID", "2")], Some(3)),
            Ok(Shard { index: 2, count: 3 })
        );
        assert!(auto(&[("SLURM_ARRAY_TASK_ID", "2")], None).is_err());
        assert!(auto(&[("SLURM_ARRAY_TASK_ID", "3")], Some(3)).is_err());
        let k8s = [("JOB_COMPLETION_INDEX", "0"), ("CLOUDTWIN_SHARDS", "4")];
        assert_eq!(auto(&k8s, None), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(
            auto(&[("JOB_COMPLETION_INDEX", "2")], Some(3)),
            Ok(Shard { index: 2, count: 3 })
        );
        let e = auto(&[("JOB_COMPLETION_INDEX", "2")], None).unwrap_err();
        assert!(e.contains("CLOUDTWIN_SHARDS"), "{e}");
        let e = auto(&[], None).unwrap_err();
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID") && e.contains("JOB_COMPLETION_INDEX"),
            "{e}"
        );
        assert!(auto(&[("JOB_COMPLETION_INDEX", "x")], Some(2)).is_err());
    }
}
