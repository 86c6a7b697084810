//! CLADNet's status test: every agent of an overlay pings every peer and itself with
//! `trial_count` probes 1 s apart, giving the N x N matrix of min/avg/max/stddev RTT and
//! loss. Source: `../shared/domain/cloud-barista.md` section 3 (`LV@HEAD cmd/agent/agent.go`).
//!
//! The probes from one VM to another are one ping series of the latency model between the two
//! VMs' regions (a level drawn once per test and pair, the probes spread little around it: see
//! `network::latency`), each plus the tunnel's overhead (encapsulation in a user-space TUN
//! device); a self-ping is a loopback.
//! Probes to a VM that is not Running are lost. Above `max_vm_matrix` VMs the matrix is written
//! per cloud pair (sampling a few VM pairs each) while the probe count stays exact.

use super::config::CladnetSpec;
use crate::engine::{SimRng, SimTime};
use crate::network::table::RttTable;
use crate::output::Table;
use crate::output::table::{fmt_f64, fmt_secs};
use crate::topology::Cloud;
use rand::RngExt;

/// One VM of an overlay: id, cloud, and whether its agent answers (the VM is Running).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub vm: u32,
    pub cloud: u32,
    pub up: bool,
}

/// Running statistics of a series of probes.
#[derive(Clone, Debug, Default)]
struct ProbeStats {
    sent: u64,
    received: u64,
    min: f64,
    max: f64,
    sum: f64,
    sum_sq: f64,
}

impl ProbeStats {
    fn add(&mut self, rtt: Option<f64>) {
        self.sent += 1;
        let Some(r) = rtt else { return };
        if self.received == 0 {
            self.min = r;
            self.max = r;
        } else {
            self.min = self.min.min(r);
            self.max = self.max.max(r);
        }
        self.received += 1;
        self.sum += r;
        self.sum_sq += r * r;
    }
    fn row(&self) -> [String; 7] {
        let n = self.received as f64;
        let (avg, sd) = if self.received == 0 {
            (f64::NAN, f64::NAN)
        } else {
            let avg = self.sum / n;
            (avg, (self.sum_sq / n - avg * avg).max(0.0).sqrt())
        };
        let r3 = |v: f64| fmt_f64((v * 1000.0).round() / 1000.0);
        let loss = 100.0 * (self.sent - self.received) as f64 / self.sent.max(1) as f64;
        [
            self.sent.to_string(),
            self.received.to_string(),
            r3(loss),
            if self.received == 0 {
                String::new()
            } else {
                r3(self.min)
            },
            r3(avg),
            if self.received == 0 {
                String::new()
            } else {
                r3(self.max)
            },
            r3(sd),
        ]
    }
}

/// Columns of `latency_matrix.csv`.
pub const MATRIX_HEADER: [&str; 15] = [
    "test_time_s",
    "mcis",
    "level",
    "src",
    "src_cloud",
    "dst",
    "dst_cloud",
    "pairs",
    "probes_sent",
    "probes_received",
    "loss_pct",
    "min_ms",
    "avg_ms",
    "max_ms",
    "stddev_ms",
];

/// Runs one status test of an overlay; appends rows to `table` and returns the probes it
/// sends (N_up x N x trial_count, exact even when the matrix is written per cloud pair).
#[allow(clippy::too_many_arguments)]
pub fn status_test(
    spec: &CladnetSpec,
    now: SimTime,
    mcis: &str,
    peers: &[Peer],
    clouds: &[Cloud],
    vm_name: &dyn Fn(u32) -> String,
    rtt: &RttTable,
    rng: &mut SimRng,
    table: &mut Table,
) -> u64 {
    let trials = spec.trial_count.max(1) as u64;
    // One ping series from a to b: `trials` probes around one level (the RTT of this moment),
    // each lost with `loss_p`, all lost when b is down.
    let series = |a: &Peer, b: &Peer, rng: &mut SimRng, st: &mut ProbeStats| {
        let level = (b.up && a.vm != b.vm).then(|| rtt.series_level(a.cloud, b.cloud, rng));
        for _ in 0..trials {
            let lost = !b.up || (spec.loss_p.get() > 0.0 && spec.loss_p.sample(rng));
            st.add(match level {
                _ if lost => None,
                // Loopback through the TUN device.
                None => Some(0.03 + 0.05 * rng.random::<f64>()),
                Some(l) => {
                    Some(rtt.sample_in_series(a.cloud, b.cloud, l, rng) + spec.tunnel_overhead_ms)
                }
            });
        }
    };
    let up: Vec<&Peer> = peers.iter().filter(|p| p.up).collect();
    let probes = up.len() as u64 * peers.len() as u64 * trials;
    let t = fmt_secs(now);
    if peers.len() as u32 <= spec.max_vm_matrix {
        for a in &up {
            for b in peers {
                let mut st = ProbeStats::default();
                series(a, b, rng, &mut st);
                let mut row = vec![
                    t.clone(),
                    mcis.to_string(),
                    "vm".into(),
                    vm_name(a.vm),
                    clouds[a.cloud as usize].name(),
                    vm_name(b.vm),
                    clouds[b.cloud as usize].name(),
                    "1".into(),
                ];
                row.extend(st.row());
                table.push(row);
            }
        }
        return probes;
    }
    // Per cloud pair: sample up to 4 VM pairs each (the probe count above stays exact).
    let mut cloud_ids: Vec<u32> = peers.iter().map(|p| p.cloud).collect();
    cloud_ids.sort_unstable();
    cloud_ids.dedup();
    for &ca in &cloud_ids {
        let src: Vec<&&Peer> = up.iter().filter(|p| p.cloud == ca).collect();
        if src.is_empty() {
            continue;
        }
        for &cb in &cloud_ids {
            let dst: Vec<&Peer> = peers.iter().filter(|p| p.cloud == cb).collect();
            let mut st = ProbeStats::default();
            for k in 0..4usize {
                let a = src[(k * 7919) % src.len()];
                let b = dst[(k * 104_729 + 1) % dst.len()];
                series(a, b, rng, &mut st);
            }
            let mut row = vec![
                t.clone(),
                mcis.to_string(),
                "cloud".into(),
                String::new(),
                clouds[ca as usize].name(),
                String::new(),
                clouds[cb as usize].name(),
                (src.len() * dst.len()).to_string(),
            ];
            row.extend(st.row());
            table.push(row);
        }
    }
    probes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngFactory;
    use crate::topology::{Catalogue, Cloud};

    fn clouds() -> Vec<Cloud> {
        let c = Catalogue::builtin();
        ["aws:us-east-1", "gcp:europe-west3"]
            .iter()
            .enumerate()
            .map(|(i, k)| Cloud {
                id: i as u32,
                region: c.find_key(k).unwrap().clone(),
                vms: 2,
                account: 1,
            })
            .collect()
    }

    #[test]
    fn full_mesh_with_self_and_losses() {
        let cl = clouds();
        let spec = CladnetSpec {
            trial_count: 5,
            ..Default::default()
        };
        let peers = [
            Peer {
                vm: 0,
                cloud: 0,
                up: true,
            },
            Peer {
                vm: 1,
                cloud: 0,
                up: true,
            },
            Peer {
                vm: 2,
                cloud: 1,
                up: true,
            },
            Peer {
                vm: 3,
                cloud: 1,
                up: false,
            },
        ];
        let lat = crate::network::LatencyModel::builtin(1);
        let rtt = RttTable::new(&lat, &cl);
        let mut t = Table::new("latency_matrix.csv", &MATRIX_HEADER);
        let mut rng = RngFactory::new(1).stream("t", 0);
        let probes = status_test(
            &spec,
            SimTime::ZERO,
            "m",
            &peers,
            &cl,
            &|v| format!("vm{v}"),
            &rtt,
            &mut rng,
            &mut t,
        );
        assert_eq!(probes, 3 * 4 * 5, "N_up x N x trials");
        assert_eq!(t.len(), 12, "every up VM to every VM, itself included");
        let r = |s: &str, d: &str| {
            t.rows()
                .iter()
                .find(|r| r[3] == s && r[5] == d)
                .unwrap()
                .clone()
        };
        let selfp: f64 = r("vm0", "vm0")[12].parse().unwrap();
        assert!(selfp < 0.1);
        let cross: f64 = r("vm0", "vm2")[12].parse().unwrap();
        let floor = lat.floor_ms(&cl[0].region, &cl[1].region);
        assert!(cross > floor, "{cross} above the fibre floor {floor}");
        assert_eq!(r("vm0", "vm3")[10], "100", "a down VM loses every probe");
    }
}
