//! Workload: the load each MCIS carries over time and the metrics it puts on its VMs.
//!
//! Demand is in vCPUs of work (constant, step, ramp, diurnal sine, random spikes, or a CSV
//! trace). It is spread over the MCIS's Running VMs by a balancing rule (`equal` shares, or in
//! proportion to vCPUs), and each VM's CPU % = 100 x share / vCPUs plus seeded Gaussian noise,
//! clamped to [0, 100]. The other monitored metrics follow simple documented models:
//! memory % = `memory_base_pct` + `memory_per_cpu` x CPU %, disk % = `disk_base_pct` +
//! `disk_growth_pct_per_hour` x hours since the VM started, network bytes out per second =
//! `net_bytes_per_cpu_pct` x CPU %. (Azure's 2019 traces: most VMs average under 20% CPU.)

use crate::engine::{RngFactory, SimDuration, SimTime, StreamFamily};
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// A demand curve in vCPUs of work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "lowercase", deny_unknown_fields)]
pub enum Demand {
    Constant {
        value: f64,
    },
    /// `base` until the first step, then each step's value from its time on.
    Step {
        base: f64,
        steps: Vec<StepSpec>,
    },
    /// Linear from `from` at `start` to `to` at `end`, flat outside.
    Ramp {
        from: f64,
        to: f64,
        start: SimDuration,
        end: SimDuration,
    },
    /// mean + amplitude x cos(2 pi (t - peak_at) / period).
    Diurnal {
        mean: f64,
        amplitude: f64,
        #[serde(default = "day")]
        period: SimDuration,
        #[serde(default = "two_pm")]
        peak_at: SimDuration,
    },
    /// `base` plus spikes of `height` lasting `duration`, arriving as a Poisson process.
    Spikes {
        base: f64,
        height: f64,
        rate_per_hour: f64,
        duration: SimDuration,
    },
    /// A CSV file with columns `time_s,demand` (values hold until the next row).
    Trace {
        file: String,
    },
}

fn day() -> SimDuration {
    SimDuration::from_secs(86_400)
}
fn two_pm() -> SimDuration {
    SimDuration::from_secs(14 * 3600)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    pub at: SimDuration,
    pub value: f64,
}

/// How an MCIS's demand is shared among its Running VMs.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Balance {
    /// Equal shares (a round-robin load balancer).
    #[default]
    Equal,
    /// Shares in proportion to vCPUs (a weighted balancer).
    Capacity,
}

/// `[[workload]]`: the load of one MCIS.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub mcis: String,
    pub demand: Demand,
    #[serde(default)]
    pub balance: Balance,
    /// Standard deviation of each CPU measurement's noise, in percentage points.
    #[serde(default = "default_noise")]
    pub noise_sd: f64,
    #[serde(default = "default_mem_base")]
    pub memory_base_pct: f64,
    #[serde(default = "default_mem_per_cpu")]
    pub memory_per_cpu: f64,
    #[serde(default = "default_disk_base")]
    pub disk_base_pct: f64,
    #[serde(default = "default_disk_growth")]
    pub disk_growth_pct_per_hour: f64,
    #[serde(default = "default_net")]
    pub net_bytes_per_cpu_pct: f64,
}

fn default_noise() -> f64 {
    3.0
}
fn default_mem_base() -> f64 {
    20.0
}
fn default_mem_per_cpu() -> f64 {
    0.3
}
fn default_disk_base() -> f64 {
    30.0
}
fn default_disk_growth() -> f64 {
    0.1
}
fn default_net() -> f64 {
    20_000.0
}

/// A monitored metric (CB-Tumblebug's `cpu`, `memory`, `disk`, `network`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    Cpu,
    #[serde(alias = "mem")]
    Memory,
    Disk,
    #[serde(alias = "net")]
    Network,
}

impl WorkloadSpec {
    /// Checks values; returns (key suffix, message) on error.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        let finite = |v: f64| v.is_finite() && v >= 0.0;
        match &self.demand {
            Demand::Constant { value } if !finite(*value) => {
                return bad("demand.value", "must be a number >= 0");
            }
            Demand::Step { base, steps } => {
                if !finite(*base) || steps.iter().any(|s| !finite(s.value)) {
                    return bad("demand", "values must be numbers >= 0");
                }
                if steps.windows(2).any(|w| w[0].at > w[1].at) {
                    return bad("demand.steps", "steps must be in time order");
                }
            }
            Demand::Ramp {
                from,
                to,
                start,
                end,
            } => {
                if !finite(*from) || !finite(*to) {
                    return bad("demand", "values must be numbers >= 0");
                }
                if start > end {
                    return bad("demand.end", "must not be before start");
                }
            }
            Demand::Diurnal {
                mean,
                amplitude,
                period,
                ..
            } => {
                if !finite(*mean) || !finite(*amplitude) || amplitude > mean {
                    return bad(
                        "demand",
                        "needs mean >= amplitude >= 0 (demand cannot go negative)",
                    );
                }
                if period.is_zero() {
                    return bad("demand.period", "must be longer than 0s");
                }
            }
            Demand::Spikes {
                base,
                height,
                rate_per_hour,
                ..
            } if !finite(*base) || !finite(*height) || !finite(*rate_per_hour) => {
                return bad("demand", "values must be numbers >= 0");
            }
            _ => {}
        }
        if !finite(self.noise_sd) {
            return bad("noise_sd", "must be a number >= 0");
        }
        Ok(())
    }
}

/// Most demand spikes a workload may draw (each is evaluated while the curve is read).
pub const MAX_SPIKES: usize = 1_000_000;

/// A demand curve ready to evaluate (spikes drawn, traces read).
#[derive(Clone, Debug)]
pub struct Curve {
    demand: Demand,
    /// (start, end) of each spike, or trace points (time, value).
    points: Vec<(SimTime, f64)>,
}

impl Curve {
    /// Prepares a curve; `trace_text` is the trace file's contents for `Demand::Trace`.
    pub fn new(
        demand: &Demand,
        horizon: SimTime,
        rngs: &RngFactory,
        index: u64,
        trace_text: Option<&str>,
    ) -> Result<Self, String> {
        let mut points = Vec::new();
        match demand {
            Demand::Spikes {
                rate_per_hour,
                duration,
                ..
            } if *rate_per_hour > 0.0 => {
                let expected = rate_per_hour * horizon.as_secs_f64() / 3600.0;
                if expected > MAX_SPIKES as f64 {
                    return Err(format!(
                        "rate_per_hour would draw about {expected:.3e} spikes over \
                         simulation.duration: at most {MAX_SPIKES} are supported"
                    ));
                }
                let mut rng = rngs.stream("workload.spikes", index);
                let mut t = 0.0;
                let mean_gap = 3600.0 / rate_per_hour;
                loop {
                    if points.len() >= MAX_SPIKES {
                        return Err(format!("draws more than {MAX_SPIKES} spikes"));
                    }
                    t += -(1.0 - rng.random::<f64>()).ln() * mean_gap;
                    let start = SimTime::ZERO + SimDuration::from_secs_f64(t);
                    if start > horizon {
                        break;
                    }
                    points.push((start, (start + *duration).as_secs_f64()));
                }
            }
            Demand::Trace { file } => {
                let text = trace_text.ok_or_else(|| format!("trace \"{file}\" was not read"))?;
                let mut rdr = csv::ReaderBuilder::new()
                    .trim(csv::Trim::All)
                    .from_reader(text.as_bytes());
                for (i, rec) in rdr.records().enumerate() {
                    let rec = rec.map_err(|e| format!("{file}:{}: {e}", i + 2))?;
                    let t: f64 = rec
                        .get(0)
                        .unwrap_or("")
                        .parse()
                        .map_err(|_| format!("{file}:{}: time_s is not a number", i + 2))?;
                    let v: f64 = rec
                        .get(1)
                        .unwrap_or("")
                        .parse()
                        .map_err(|_| format!("{file}:{}: demand is not a number", i + 2))?;
                    if !(t.is_finite() && t >= 0.0 && v.is_finite() && v >= 0.0) {
                        return Err(format!(
                            "{file}:{}: time_s and demand must be numbers >= 0",
                            i + 2
                        ));
                    }
                    points.push((SimTime::ZERO + SimDuration::from_secs_f64(t), v));
                }
                if points.windows(2).any(|w| w[0].0 > w[1].0) {
                    return Err(format!("{file}: rows must be in time order"));
                }
            }
            _ => {}
        }
        Ok(Curve {
            demand: demand.clone(),
            points,
        })
    }

    /// Demand at `t`, in vCPUs.
    pub fn at(&self, t: SimTime) -> f64 {
        let s = t.as_secs_f64();
        match &self.demand {
            Demand::Constant { value } => *value,
            Demand::Step { base, steps } => steps
                .iter()
                .take_while(|st| SimTime::ZERO + st.at <= t)
                .last()
                .map_or(*base, |st| st.value),
            Demand::Ramp {
                from,
                to,
                start,
                end,
            } => {
                let (a, b) = (start.as_secs_f64(), end.as_secs_f64());
                if s <= a {
                    *from
                } else if s >= b {
                    *to
                } else {
                    from + (to - from) * (s - a) / (b - a)
                }
            }
            Demand::Diurnal {
                mean,
                amplitude,
                period,
                peak_at,
            } => {
                let phase = (s - peak_at.as_secs_f64()) / period.as_secs_f64();
                mean + amplitude * (2.0 * std::f64::consts::PI * phase).cos()
            }
            Demand::Spikes { base, height, .. } => {
                let active = self
                    .points
                    .iter()
                    .filter(|(st, end)| *st <= t && s < *end)
                    .count();
                base + height * active as f64
            }
            Demand::Trace { .. } => self
                .points
                .iter()
                .take_while(|(pt, _)| *pt <= t)
                .last()
                .map_or(0.0, |(_, v)| *v),
        }
    }
}

/// Per-MCIS load state: the curve and the Running VMs' capacity.
#[derive(Clone, Debug)]
pub struct McisLoad {
    pub spec: WorkloadSpec,
    pub curve: Curve,
    pub running: u32,
    pub running_vcpus: u64,
}

impl McisLoad {
    /// A VM's CPU % without noise, given its vCPUs.
    pub fn cpu_pct(&self, t: SimTime, vcpu: u32) -> f64 {
        if self.running == 0 {
            return 0.0;
        }
        let d = self.curve.at(t);
        let share = match self.spec.balance {
            Balance::Equal => d / self.running as f64,
            Balance::Capacity => d * vcpu as f64 / self.running_vcpus.max(1) as f64,
        };
        (100.0 * share / vcpu.max(1) as f64).clamp(0.0, 100.0)
    }
}

/// One reading of every metric of a VM.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct Measures {
    pub cpu_pct: f64,
    pub memory_pct: f64,
    pub disk_pct: f64,
    /// Network bytes out per second.
    pub net_bytes_per_s: f64,
}

impl Measures {
    pub fn get(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Cpu => self.cpu_pct,
            Metric::Memory => self.memory_pct,
            Metric::Disk => self.disk_pct,
            Metric::Network => self.net_bytes_per_s,
        }
    }
}

/// The loads of every MCIS with a workload, and the noise streams.
#[derive(Clone, Debug)]
pub struct Workloads {
    /// Indexed by MCIS; `None` for an MCIS without a workload (its VMs idle at 0% CPU).
    pub loads: Vec<Option<McisLoad>>,
    noise: StreamFamily,
    draws: Vec<u32>,
}

impl Workloads {
    pub fn new(loads: Vec<Option<McisLoad>>, n_vms: usize, rngs: &RngFactory) -> Self {
        Workloads {
            loads,
            noise: rngs.family("workload.noise"),
            draws: vec![0; n_vms],
        }
    }

    /// A VM entered or left Running.
    pub fn vm_running(&mut self, mcis: u32, vcpu: u32, running: bool) {
        if let Some(Some(l)) = self.loads.get_mut(mcis as usize) {
            if running {
                l.running += 1;
                l.running_vcpus += vcpu as u64;
            } else {
                l.running -= 1;
                l.running_vcpus -= vcpu as u64;
            }
        }
    }

    /// One measurement of `metric` on a Running VM, with noise (as its agent would report it).
    pub fn measure(
        &mut self,
        t: SimTime,
        vm: u32,
        mcis: u32,
        vcpu: u32,
        started: SimTime,
        metric: Metric,
    ) -> f64 {
        self.measure_all(t, vm, mcis, vcpu, started)
            .map_or(0.0, |m| m.get(metric))
    }

    /// Every metric of a Running VM from one noisy CPU reading (one noise draw), or `None` for
    /// an MCIS without a workload (its VMs idle).
    pub fn measure_all(
        &mut self,
        t: SimTime,
        vm: u32,
        mcis: u32,
        vcpu: u32,
        started: SimTime,
    ) -> Option<Measures> {
        let Some(Some(l)) = self.loads.get(mcis as usize) else {
            return None;
        };
        let k = &mut self.draws[vm as usize];
        let z: f64 = StandardNormal.sample(&mut self.noise.draw(vm as u64, *k as u64));
        *k += 1;
        let cpu = (l.cpu_pct(t, vcpu) + l.spec.noise_sd * z).clamp(0.0, 100.0);
        let s = &l.spec;
        Some(Measures {
            cpu_pct: cpu,
            memory_pct: (s.memory_base_pct + s.memory_per_cpu * cpu).clamp(0.0, 100.0),
            disk_pct: (s.disk_base_pct
                + s.disk_growth_pct_per_hour * t.since(started).as_secs_f64() / 3600.0)
                .clamp(0.0, 100.0),
            net_bytes_per_s: s.net_bytes_per_cpu_pct * cpu,
        })
    }

    /// Mean CPU % (noise-free) over an MCIS's Running VMs, NaN if none run.
    pub fn mean_cpu(&self, mcis: u32, t: SimTime, vcpus: impl Iterator<Item = u32>) -> f64 {
        let Some(Some(l)) = self.loads.get(mcis as usize) else {
            return f64::NAN;
        };
        let (mut sum, mut n) = (0.0, 0u32);
        for v in vcpus {
            sum += l.cpu_pct(t, v);
            n += 1;
        }
        if n == 0 { f64::NAN } else { sum / n as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(text: &str) -> Curve {
        let d: Demand = toml::from_str::<toml::Table>(&format!("d = {text}"))
            .unwrap()
            .get("d")
            .unwrap()
            .clone()
            .try_into()
            .unwrap();
        Curve::new(&d, SimTime::from_secs(86_400), &RngFactory::new(1), 0, None).unwrap()
    }

    #[test]
    fn shapes_evaluate() {
        let c = curve(r#"{ shape = "step", base = 1.0, steps = [{ at = "10m", value = 4.0 }] }"#);
        assert_eq!(c.at(SimTime::from_secs(599)), 1.0);
        assert_eq!(c.at(SimTime::from_secs(600)), 4.0);
        let r = curve(r#"{ shape = "ramp", from = 0.0, to = 10.0, start = "0s", end = "100s" }"#);
        assert_eq!(r.at(SimTime::from_secs(50)), 5.0);
        assert_eq!(r.at(SimTime::from_secs(500)), 10.0);
        let d = curve(r#"{ shape = "diurnal", mean = 5.0, amplitude = 2.0 }"#);
        assert!((d.at(SimTime::from_secs(14 * 3600)) - 7.0).abs() < 1e-9);
        assert!((d.at(SimTime::from_secs(2 * 3600)) - 3.0).abs() < 1e-9);
        let s = curve(
            r#"{ shape = "spikes", base = 1.0, height = 5.0, rate_per_hour = 2.0, duration = "5m" }"#,
        );
        let peak = (0..86_400)
            .step_by(60)
            .map(|t| s.at(SimTime::from_secs(t)))
            .fold(0.0, f64::max);
        assert!(peak >= 6.0, "some spike seen");
    }

    #[test]
    fn cpu_share_and_clamp() {
        let spec: WorkloadSpec =
            toml::from_str("mcis = \"w\"\ndemand = { shape = \"constant\", value = 3.0 }\n")
                .unwrap();
        let curve = Curve::new(&spec.demand, SimTime::ZERO, &RngFactory::new(1), 0, None).unwrap();
        let mut l = McisLoad {
            spec,
            curve,
            running: 3,
            running_vcpus: 6,
        };
        assert!((l.cpu_pct(SimTime::ZERO, 2) - 50.0).abs() < 1e-9);
        l.running = 1;
        assert_eq!(l.cpu_pct(SimTime::ZERO, 2), 100.0, "capped");
        l.running = 0;
        assert_eq!(l.cpu_pct(SimTime::ZERO, 2), 0.0);
    }
}
