//! `[monitoring]`: CB-Dragonfly's agents, collectors and storage. Defaults are Dragonfly's
//! Cloud-Twin-era configuration (`DF@v0.3.3:conf/config.yaml`, see
//! `../shared/domain/cloud-barista.md` section 2.3) except where noted.

use crate::engine::{DurationDist, Probability, SimDuration};
use serde::{Deserialize, Serialize};

/// `[monitoring]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSpec {
    /// Turn the monitoring model off (agents, collectors and storage are not simulated).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Agent report period (Dragonfly's default 2 s; the Cloud-Twin PoC used 5 s).
    #[serde(default = "default_interval")]
    pub interval: SimDuration,
    /// `periodic` (Telegraf's fixed interval from a seeded phase) or `poisson` (exponential gaps
    /// with the same mean: for queueing validation).
    #[serde(default)]
    pub arrivals: Arrivals,
    /// `push` (agent -> per-VM topic -> collectors, the Kafka era) or `pull` (the server polls).
    #[serde(default)]
    pub mode: Mode,
    /// Measurements per report (cpu, cpufreq, disk, diskio, mem, swap, net, system, ...: about 9).
    #[serde(default = "default_measurements")]
    pub measurements: u32,
    /// Bytes per report on the wire (Telegraf JSON, ~200 B per measurement): the monitoring
    /// network load (`ingress_kbps` in monitoring.csv, `monitoring_bytes_sent`).
    #[serde(default = "default_report_bytes")]
    pub report_bytes: u32,
    /// From VM Running to its agent's first report (TB sleeps 60 s after a create, then installs
    /// the agent over SSH).
    #[serde(default = "default_agent_start")]
    pub agent_start_delay: DurationDist,
    /// Region hosting Dragonfly (`provider:region` from the catalogue); reports travel there.
    /// A list (`["aws:us-east-1", "gcp:europe-west4"]`) runs one deployment in each: every
    /// cloud reports to the nearest (lowest median RTT, the first listed on a tie), and each
    /// runs the `[monitoring.collectors]` and `[monitoring.storage]` given here.
    #[serde(default = "default_site")]
    pub site: Sites,
    /// Probability that a report is lost on the network.
    #[serde(default)]
    pub loss_p: Probability,
    #[serde(default)]
    pub collectors: CollectorSpec,
    #[serde(default)]
    pub storage: StorageSpec,
    /// Pull mode: how often the server polls every agent (`puller_interval`).
    #[serde(default = "default_collector_interval")]
    pub pull_interval: SimDuration,
    /// Pull mode: metric calls per agent per poll (cpu, cpufreq, mem, disk, diskio, net).
    #[serde(default = "default_pull_calls")]
    pub pull_calls: u32,
    /// Server-side handling of one on-demand monitoring call (CB-Tumblebug's auto-control).
    #[serde(default = "default_on_demand_service")]
    pub on_demand_service: DurationDist,
    /// Compute collector service completions on arrival (Lindley's recursion) where that is
    /// exact: push mode, per-collector queues, fixed or csp policy, no more collectors than
    /// server cores; elsewhere with per-collector queues, the collectors keep their own
    /// completions instead of the engine (`collectors::deferred`). The results are the same,
    /// with half the events; `false` simulates each completion as an event (to check the
    /// shortcuts, or to count engine events as before).
    #[serde(default = "yes")]
    pub inline_service: bool,
}

fn yes() -> bool {
    true
}
fn default_interval() -> SimDuration {
    SimDuration::from_secs(2)
}
fn default_measurements() -> u32 {
    9
}
fn default_report_bytes() -> u32 {
    1800
}
fn default_agent_start() -> DurationDist {
    DurationDist::constant(SimDuration::from_secs(60))
}
fn default_site() -> Sites {
    Sites::One("aws:ap-northeast-2".into())
}
fn default_collector_interval() -> SimDuration {
    SimDuration::from_secs(10)
}
fn default_pull_calls() -> u32 {
    6
}
fn default_on_demand_service() -> DurationDist {
    DurationDist::constant(SimDuration::from_millis(2))
}

impl Default for MonitoringSpec {
    fn default() -> Self {
        toml::from_str("").expect("every monitoring key has a default")
    }
}

/// `monitoring.site`: one region, or a list of them (one CB-Dragonfly deployment each).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Sites {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Sites {
    /// A string or a list of strings, with an error that says so.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Sites;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a region such as \"aws:us-east-1\", or a list of regions (one deployment each)",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Sites, E> {
                Ok(Sites::One(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Sites, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                Ok(Sites::Many(v))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl Sites {
    /// The regions as written, in order.
    pub fn keys(&self) -> &[String] {
        match self {
            Sites::One(s) => std::slice::from_ref(s),
            Sites::Many(v) => v,
        }
    }
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    #[default]
    Periodic,
    Poisson,
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Push,
    Pull,
}

/// How agents are spread over collectors.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Policy {
    /// ceil(agents / max_host_count) collectors, topics chunked in sorted order.
    #[default]
    AgentCount,
    /// One collector per provider.
    Csp,
    /// A fixed number of collectors (`count`).
    Fixed,
}

/// Where messages wait for a collector.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueDiscipline {
    /// Each collector has its own FIFO (its agents' topics), as Dragonfly does.
    #[default]
    PerCollector,
    /// All collectors serve one FIFO (an M/M/c queue; for validation).
    Shared,
}

/// `[monitoring.collectors]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorSpec {
    #[serde(default)]
    pub policy: Policy,
    /// Agents per collector for the agentCount policy (v0.2.0: 10; v0.3+: 5).
    #[serde(default = "default_max_host_count")]
    pub max_host_count: u32,
    /// Collectors for the fixed policy.
    #[serde(default = "one")]
    pub count: u32,
    /// Aggregation round and rebalancing period (`collector_interval`).
    #[serde(default = "default_collector_interval")]
    pub interval: SimDuration,
    /// CPU time to consume one message (parse the JSON, group by measurement).
    #[serde(default = "default_service")]
    pub service_time: DurationDist,
    /// Messages a collector's queue holds; more are dropped.
    #[serde(default = "default_buffer")]
    pub buffer: u32,
    #[serde(default)]
    pub queue: QueueDiscipline,
    /// Silent aggregation rounds after which an agent is declared dead (Dragonfly: 3).
    #[serde(default = "default_dead_rounds")]
    pub dead_after_rounds: u32,
    /// Cores of the monitoring server the collectors share. When more collectors are busy
    /// than there are cores, each message's service stretches by busy / cores.
    #[serde(default = "default_cores")]
    pub server_cores: u32,
}

fn default_max_host_count() -> u32 {
    5
}
fn one() -> u32 {
    1
}
fn default_service() -> DurationDist {
    // estimate: Go JSON decode + map updates of a ~2 KB Telegraf message, ~0.2 ms.
    DurationDist::constant(SimDuration::from_micros(200))
}
fn default_buffer() -> u32 {
    10_000
}
fn default_dead_rounds() -> u32 {
    3
}
fn default_cores() -> u32 {
    4
}

impl Default for CollectorSpec {
    fn default() -> Self {
        toml::from_str("").expect("every collector key has a default")
    }
}

/// `[monitoring.storage]`: the InfluxDB role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// Points written per second (InfluxDB OSS sizing: <5K/s on 2-4 cores, <250K/s on 4-6).
    #[serde(default = "default_write_capacity")]
    pub write_capacity: f64,
    /// Points per write request; a collector's round is split into batches of this size.
    #[serde(default = "default_batch")]
    pub batch_points: u32,
    /// Fixed cost of one write request.
    #[serde(default = "default_batch_overhead")]
    pub batch_overhead: SimDuration,
    /// Points the write queue holds; a batch that does not fit is dropped.
    #[serde(default = "default_queue_limit")]
    pub queue_limit: u64,
}

fn default_write_capacity() -> f64 {
    50_000.0
}
fn default_batch() -> u32 {
    5_000
}
fn default_batch_overhead() -> SimDuration {
    SimDuration::from_millis(2)
}
fn default_queue_limit() -> u64 {
    1_000_000
}

impl Default for StorageSpec {
    fn default() -> Self {
        toml::from_str("").expect("every storage key has a default")
    }
}
