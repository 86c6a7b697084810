//! Where to run CLADNet's control plane (an etcd-like quorum cluster of 3 or 5 members), and
//! what each choice costs under outages. The five models of the CLADNet design:
//!
//! 1. `single-zone`: every member in one zone of the anchor region;
//! 2. `multi-zone`: members spread over the anchor region's zones;
//! 3. `multi-region`: one provider, the anchor region and its nearest other regions;
//! 4. `multi-provider-one-region`: different providers' regions in the anchor's metro;
//! 5. `multi-provider-multi-region`: different providers in different metros.
//!
//! Over the run's outages (the lifecycle's zone, region and provider outages, scheduled and
//! random), each model's availability is the share of time a majority of members is up; the
//! agents' RTT is each scenario VM's RTT to the nearest live member (weighted by VMs); the
//! commit latency is the best leader's RTT to the slowest follower of its quorum. Regions in
//! mainland China are left out unless the anchor is there (separate partitions). RTTs come
//! from the latency model; members in the same zone are 0.25 ms apart, zones of one region
//! the model's same-region RTT.

use super::config::PlacementSpec;
use crate::engine::SimTime;
use crate::lifecycle::config::OutageScope;
use crate::lifecycle::plan::Outage;
use crate::network::LatencyModel;
use crate::output::Table;
use crate::output::names::file;
use crate::output::table::fmt_f64;
use crate::topology::{Catalogue, Cloud, Region, great_circle_km};

/// A control-plane member: a region and one of its zones.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub region: Region,
    pub zone: String,
}

impl Member {
    fn key(&self) -> String {
        format!("{}:{}", self.region.key(), self.zone)
    }
}

/// One placement model and its members.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub model: &'static str,
    pub members: Vec<Member>,
    pub note: String,
}

fn zone_of(r: &Region, i: usize) -> String {
    if r.zones.is_empty() {
        "zone-1".into()
    } else {
        r.zones[i % r.zones.len()].clone()
    }
}

/// Builds the five layouts around the anchor region.
pub fn layouts(spec: &PlacementSpec, anchor: &Region, cat: &Catalogue) -> Vec<Layout> {
    let n = spec.members.max(1) as usize;
    let anchor = anchor.clone();
    let dist = |a: &Region, b: &Region| great_circle_km(a.lat, a.lon, b.lat, b.lon);
    // Mainland China regions sit in separate partitions (AWS cn-*, separate accounts and
    // networks): a cluster outside China does not span into them.
    let usable = |x: &Region| anchor.country == "China" || x.country != "China";
    let m = |region: &Region, zone: usize| Member {
        region: region.clone(),
        zone: zone_of(region, zone),
    };
    let mut out = Vec::new();
    out.push(Layout {
        model: "single-zone",
        members: (0..n).map(|_| m(&anchor, 0)).collect(),
        note: String::new(),
    });
    let zones = anchor.zones.len();
    out.push(Layout {
        model: "multi-zone",
        members: (0..n).map(|i| m(&anchor, i)).collect(),
        note: if zones < 2 {
            format!(
                "{} lists {zones} zone(s): members share zones",
                anchor.key()
            )
        } else if zones < n {
            format!("{zones} zones for {n} members: some share a zone")
        } else {
            String::new()
        },
    });
    let mut same_provider: Vec<&Region> = cat
        .of_provider(&anchor.provider)
        .filter(|x| x.region != anchor.region && usable(x))
        .collect();
    same_provider.sort_by(|a, b| {
        dist(&anchor, a)
            .total_cmp(&dist(&anchor, b))
            .then(a.region.cmp(&b.region))
    });
    let mut regions = vec![&anchor];
    regions.extend(same_provider.into_iter().take(n - 1));
    out.push(Layout {
        model: "multi-region",
        members: (0..n).map(|i| m(regions[i % regions.len()], 0)).collect(),
        note: if regions.len() < n {
            format!("{} has {} regions", anchor.provider, regions.len())
        } else {
            String::new()
        },
    });
    // Nearest region of each other provider, by distance from the anchor.
    let mut by_provider: Vec<&Region> = Vec::new();
    for (prov, _) in cat.providers() {
        if prov == anchor.provider {
            continue;
        }
        if let Some(best) = cat.of_provider(prov).filter(|x| usable(x)).min_by(|a, b| {
            dist(&anchor, a)
                .total_cmp(&dist(&anchor, b))
                .then(a.region.cmp(&b.region))
        }) {
            by_provider.push(best);
        }
    }
    by_provider.sort_by(|a, b| {
        dist(&anchor, a)
            .total_cmp(&dist(&anchor, b))
            .then(a.provider.cmp(&b.provider))
    });
    let mut metro = vec![&anchor];
    metro.extend(
        by_provider
            .iter()
            .copied()
            .filter(|x| dist(&anchor, x) <= spec.metro_km)
            .take(n - 1),
    );
    out.push(Layout {
        model: "multi-provider-one-region",
        members: (0..n)
            .map(|i| m(metro[i % metro.len()], i / metro.len()))
            .collect(),
        note: if metro.len() < n {
            format!(
                "{} providers within {} km of {}: some host two members",
                metro.len(),
                spec.metro_km,
                anchor.key()
            )
        } else {
            String::new()
        },
    });
    // Different providers, each at least a metro away from the members already chosen.
    let mut spread = vec![&anchor];
    for x in &by_provider {
        if spread.len() == n {
            break;
        }
        if spread.iter().all(|y| dist(x, y) > spec.metro_km) {
            spread.push(x);
        }
    }
    out.push(Layout {
        model: "multi-provider-multi-region",
        members: (0..n).map(|i| m(spread[i % spread.len()], 0)).collect(),
        note: if spread.len() < n {
            "not enough distinct providers: members repeat".into()
        } else {
            String::new()
        },
    });
    out
}

fn covers(o: &Outage, m: &Member) -> bool {
    match o.scope {
        OutageScope::Provider => o.provider == m.region.provider,
        OutageScope::Region => o.target == m.region.key(),
        OutageScope::Zone => o.target == m.key(),
    }
}

fn member_rtt(lat: &LatencyModel, a: &Member, b: &Member) -> f64 {
    if a.region == b.region {
        if a.zone == b.zone {
            0.25
        } else {
            lat.median_rtt_ms(&a.region, &b.region)
        }
    } else {
        lat.median_rtt_ms(&a.region, &b.region)
    }
}

/// The result for one layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub availability: f64,
    pub unavailable_s: f64,
    pub agent_rtt_mean_ms: f64,
    pub commit_latency_mean_ms: f64,
    pub commit_latency_max_ms: f64,
}

/// Evaluates a layout over [0, horizon] under the outages; agents are the scenario's clouds
/// weighted by their VM counts.
pub fn evaluate(
    layout: &Layout,
    outages: &[Outage],
    clouds: &[Cloud],
    horizon: SimTime,
    lat: &LatencyModel,
) -> Evaluation {
    let n = layout.members.len();
    let quorum = n / 2 + 1;
    let mut cuts: Vec<u64> = vec![0, horizon.as_nanos()];
    for o in outages {
        for t in [o.start.as_nanos(), o.end.as_nanos()] {
            if t < horizon.as_nanos() {
                cuts.push(t);
            }
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let total_vms: f64 = clouds.iter().map(|c| c.vms as f64).sum::<f64>().max(1.0);
    let (mut up_s, mut agent_sum, mut agent_s, mut commit_sum, mut commit_max) =
        (0.0, 0.0, 0.0, 0.0, f64::NAN);
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let mid = SimTime(a + (b - a) / 2);
        let dt = (b - a) as f64 / 1e9;
        let live: Vec<&Member> = layout
            .members
            .iter()
            .filter(|m| {
                !outages
                    .iter()
                    .any(|o| o.start <= mid && mid < o.end && covers(o, m))
            })
            .collect();
        if !live.is_empty() {
            let mut acc = 0.0;
            for c in clouds {
                let near = live
                    .iter()
                    .map(|m| lat.median_rtt_ms(&c.region, &m.region))
                    .fold(f64::INFINITY, f64::min);
                acc += near * c.vms as f64;
            }
            agent_sum += acc / total_vms * dt;
            agent_s += dt;
        }
        if live.len() >= quorum {
            up_s += dt;
            let best = live
                .iter()
                .map(|leader| {
                    let mut rtts: Vec<f64> = live
                        .iter()
                        .filter(|f| !std::ptr::eq(**f, *leader))
                        .map(|f| member_rtt(lat, leader, f))
                        .collect();
                    rtts.sort_by(f64::total_cmp);
                    if quorum >= 2 { rtts[quorum - 2] } else { 0.0 }
                })
                .fold(f64::INFINITY, f64::min);
            commit_sum += best * dt;
            commit_max = if commit_max.is_nan() {
                best
            } else {
                commit_max.max(best)
            };
        }
    }
    let h = horizon.as_secs_f64().max(1e-9);
    Evaluation {
        availability: up_s / h,
        unavailable_s: h - up_s,
        agent_rtt_mean_ms: if agent_s > 0.0 {
            agent_sum / agent_s
        } else {
            f64::NAN
        },
        commit_latency_mean_ms: if up_s > 0.0 {
            commit_sum / up_s
        } else {
            f64::NAN
        },
        commit_latency_max_ms: commit_max,
    }
}

/// `placement.csv`: the layouts side by side, each evaluated over the run.
pub fn placement_table(
    layouts: &[Layout],
    outages: &[Outage],
    clouds: &[Cloud],
    horizon: SimTime,
    lat: &LatencyModel,
) -> Table {
    let mut t = Table::new(
        file::PLACEMENT,
        &[
            "model",
            "members",
            "providers",
            "regions",
            "availability_pct",
            "unavailable_s",
            "agent_rtt_mean_ms",
            "commit_latency_mean_ms",
            "commit_latency_max_ms",
            "note",
        ],
    );
    let r3 = |v: f64| fmt_f64((v * 1000.0).round() / 1000.0);
    for l in layouts {
        let e = evaluate(l, outages, clouds, horizon, lat);
        let mut providers: Vec<&str> = l
            .members
            .iter()
            .map(|m| m.region.provider.as_str())
            .collect();
        providers.sort_unstable();
        providers.dedup();
        let mut regions: Vec<String> = l.members.iter().map(|m| m.region.key()).collect();
        regions.sort();
        regions.dedup();
        t.push(vec![
            l.model.to_string(),
            l.members
                .iter()
                .map(Member::key)
                .collect::<Vec<_>>()
                .join(";"),
            providers.len().to_string(),
            regions.len().to_string(),
            r3(100.0 * e.availability),
            r3(e.unavailable_s),
            r3(e.agent_rtt_mean_ms),
            r3(e.commit_latency_mean_ms),
            r3(e.commit_latency_max_ms),
            l.note.clone(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::config::OutageEffect;

    fn outage(scope: OutageScope, target: &str, start: u64, end: u64) -> Outage {
        Outage {
            scope,
            target: target.into(),
            provider: target.split(':').next().unwrap().into(),
            region: target.split(':').nth(1).map(str::to_string),
            zone: None,
            clouds: Vec::new(),
            start: SimTime::from_secs(start),
            end: SimTime::from_secs(end),
            effect: OutageEffect::Fail,
            random: false,
        }
    }

    #[test]
    fn each_model_survives_what_it_spreads_over() {
        let cat = Catalogue::builtin();
        let spec = PlacementSpec {
            enabled: true,
            ..Default::default()
        };
        let anchor = cat.find("aws", "ap-northeast-2").unwrap();
        let ls = layouts(&spec, anchor, &cat);
        assert_eq!(ls.len(), 5);
        let zone = format!("{}:{}", anchor.key(), anchor.zones[0]);
        let lat = LatencyModel::builtin(1);
        let clouds = vec![Cloud {
            id: 0,
            region: anchor.clone(),
            vms: 10,
            account: 1,
        }];
        let h = SimTime::from_secs(1000);
        let avail = |o: &[Outage]| -> Vec<f64> {
            ls.iter()
                .map(|l| evaluate(l, o, &clouds, h, &lat).availability)
                .collect()
        };
        // A zone outage for 100 s of 1000 stops only the single-zone cluster.
        let z = avail(&[outage(OutageScope::Zone, &zone, 100, 200)]);
        assert!((z[0] - 0.9).abs() < 1e-9, "{z:?}");
        assert!(z[1..].iter().all(|a| *a == 1.0), "{z:?}");
        // A region outage also stops multi-zone.
        let r = avail(&[outage(OutageScope::Region, "aws:ap-northeast-2", 100, 200)]);
        assert!((r[1] - 0.9).abs() < 1e-9 && r[2] == 1.0, "{r:?}");
        // A provider outage stops multi-region; the multi-provider ones keep a quorum.
        let p = avail(&[outage(OutageScope::Provider, "aws", 100, 200)]);
        assert!(
            (p[2] - 0.9).abs() < 1e-9 && p[3] == 1.0 && p[4] == 1.0,
            "{p:?}"
        );
        // Commit latency grows with spread.
        let c: Vec<f64> = ls
            .iter()
            .map(|l| evaluate(l, &[], &clouds, h, &lat).commit_latency_mean_ms)
            .collect();
        assert!(c[0] <= c[1] && c[1] < c[2] && c[3] < c[4], "{c:?}");
    }
}
