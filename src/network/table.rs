//! The latency model evaluated once per run for the scenario's clouds: medians and fibre
//! floors per pair of distinct regions (clouds that are accounts of one region share a row),
//! so per-probe and per-pair lookups are array reads. Values equal the model's.

use super::coefficients::{Jitter, RttStat};
use super::latency::LatencyModel;
use crate::engine::SimRng;
use crate::topology::Cloud;
use std::collections::BTreeMap;

/// RTTs between a run's clouds.
#[derive(Clone, Debug)]
pub struct RttTable {
    region_of: Vec<u32>,
    /// The distinct regions, in order of first appearance.
    regions: Vec<crate::topology::Region>,
    n: usize,
    median: Vec<f64>,
    floor: Vec<f64>,
    jitter: Jitter,
    p95: f64,
    mean: f64,
}

impl RttTable {
    pub fn new(latency: &LatencyModel, clouds: &[Cloud]) -> Self {
        let mut index: BTreeMap<String, u32> = BTreeMap::new();
        let mut regions = Vec::new();
        let region_of = clouds
            .iter()
            .map(|c| {
                *index.entry(c.region.key()).or_insert_with(|| {
                    regions.push(c.region.clone());
                    (regions.len() - 1) as u32
                })
            })
            .collect();
        let n = regions.len();
        let mut median = Vec::with_capacity(n * n);
        let mut floor = Vec::with_capacity(n * n);
        for a in &regions {
            for b in &regions {
                median.push(latency.median_rtt_ms(a, b));
                floor.push(latency.floor_ms(a, b));
            }
        }
        let c = latency.coefficients();
        RttTable {
            region_of,
            regions,
            n,
            median,
            floor,
            jitter: c.jitter,
            p95: c.stat_ratio(RttStat::P95),
            mean: c.stat_ratio(RttStat::Mean),
        }
    }

    /// A cloud joins the run (the live twin): a new region gets its row and column.
    pub fn add_cloud(&mut self, latency: &LatencyModel, cloud: &Cloud) {
        if let Some(i) = self
            .regions
            .iter()
            .position(|r| r.key() == cloud.region.key())
        {
            self.region_of.push(i as u32);
            return;
        }
        let n = self.n + 1;
        self.regions.push(cloud.region.clone());
        let mut median = Vec::with_capacity(n * n);
        let mut floor = Vec::with_capacity(n * n);
        for (i, a) in self.regions.iter().enumerate() {
            for (j, b) in self.regions.iter().enumerate() {
                if i < self.n && j < self.n {
                    median.push(self.median[i * self.n + j]);
                    floor.push(self.floor[i * self.n + j]);
                } else {
                    median.push(latency.median_rtt_ms(a, b));
                    floor.push(latency.floor_ms(a, b));
                }
            }
        }
        self.median = median;
        self.floor = floor;
        self.n = n;
        self.region_of.push((n - 1) as u32);
    }

    #[inline]
    fn at(&self, a: u32, b: u32) -> usize {
        self.region_of[a as usize] as usize * self.n + self.region_of[b as usize] as usize
    }

    /// Median RTT (ms) from cloud `a` to cloud `b`.
    pub fn median(&self, a: u32, b: u32) -> f64 {
        self.median[self.at(a, b)]
    }

    /// The median RTT of every ordered pair of distinct clouds among `clouds`, as (value,
    /// number of pairs): one entry per pair of regions, so 10,000 clouds in a few hundred
    /// regions give tens of thousands of entries instead of 10^8 values.
    pub fn pair_medians(&self, clouds: impl IntoIterator<Item = u32>) -> Vec<(f64, u64)> {
        let mut per_region = vec![0u64; self.n];
        for c in clouds {
            per_region[self.region_of[c as usize] as usize] += 1;
        }
        let mut out = Vec::new();
        for (i, &ni) in per_region.iter().enumerate() {
            for (j, &nj) in per_region.iter().enumerate() {
                let pairs = if i == j {
                    ni * ni.saturating_sub(1)
                } else {
                    ni * nj
                };
                if pairs > 0 {
                    out.push((self.median[i * self.n + j], pairs));
                }
            }
        }
        out
    }

    pub fn floor(&self, a: u32, b: u32) -> f64 {
        self.floor[self.at(a, b)]
    }

    /// A statistic of the RTT, as `LatencyModel::rtt_ms`.
    pub fn rtt(&self, a: u32, b: u32, stat: RttStat) -> f64 {
        let r = match stat {
            RttStat::P50 => 1.0,
            RttStat::P95 => self.p95,
            RttStat::Mean => self.mean,
        };
        (self.median(a, b) * r).max(self.floor(a, b))
    }

    /// The level (ms) of a series of probes from `a` to `b` (see
    /// `LatencyModel::sample_series_ms`): draw it once per series.
    #[inline]
    pub fn series_level(&self, a: u32, b: u32, rng: &mut SimRng) -> f64 {
        self.median(a, b) * self.jitter.draw_level(rng)
    }

    /// One probe of a series at `level`.
    #[inline]
    pub fn sample_in_series(&self, a: u32, b: u32, level: f64, rng: &mut SimRng) -> f64 {
        (level * self.jitter.draw_probe(rng)).max(self.floor(a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngFactory;
    use crate::topology::Catalogue;

    #[test]
    fn table_equals_the_model() {
        let cat = Catalogue::builtin();
        let lat = LatencyModel::builtin(4);
        let clouds: Vec<Cloud> = ["aws:us-east-1", "gcp:europe-west3", "aws:us-east-1"]
            .iter()
            .enumerate()
            .map(|(i, k)| Cloud {
                id: i as u32,
                region: cat.find_key(k).unwrap().clone(),
                vms: 1,
                account: 1 + (i as u32 / 2),
            })
            .collect();
        let t = RttTable::new(&lat, &clouds);
        for a in 0..3u32 {
            for b in 0..3u32 {
                let (ra, rb) = (&clouds[a as usize].region, &clouds[b as usize].region);
                assert_eq!(t.median(a, b), lat.median_rtt_ms(ra, rb));
                assert_eq!(t.rtt(a, b, RttStat::P95), lat.rtt_ms(ra, rb, RttStat::P95));
                let mut r1 = RngFactory::new(1).stream("x", 0);
                let mut r2 = RngFactory::new(1).stream("x", 0);
                let level = t.series_level(a, b, &mut r1);
                let probes: Vec<f64> = (0..5)
                    .map(|_| t.sample_in_series(a, b, level, &mut r1))
                    .collect();
                assert_eq!(probes, lat.sample_series_ms(ra, rb, 5, &mut r2));
            }
        }
    }
}
