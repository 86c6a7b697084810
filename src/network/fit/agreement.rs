//! How far the datasets agree with each other: the scale of the errors left to a model. Where two
//! datasets measured the same pair of regions (AWS's matrix and Skyplane's AWS pings, Azure's
//! matrix and Skyplane's Azure pings), one dataset's value is scored as a prediction of the
//! other's, both ways, with the same error statistics as the model. It is a reference, not a
//! strict floor: a model right about the underlying RTT errs by less than two measurements
//! differ from each other (different months, instance types, tools: TCP connect, ping; Azure's
//! whole-ms rounding), but none scored on one of them removes the other's share. Beside it, the
//! model's error on the same measurements (`latency fit` passes held-out predictions).
//!
//! Sources: the datasets of [`super::data`] (provenance in `../shared/data/SOURCES.md`).

use super::validate::{ErrorStats, Scored};
use std::collections::BTreeMap;

/// The datasets' agreement on the pairs two of them measured, and the model's error there.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    /// `aws / skyplane`, or `all` for every dataset pair pooled.
    pub datasets: String,
    /// Region pairs measured by both (for `all`: summed over the dataset pairs).
    pub pairs: usize,
    /// One dataset's value as a prediction of the other's (both ways: 2 x `pairs` scores).
    pub data: ErrorStats,
    /// The model's prediction of each of those measurements (the same scores).
    pub model: ErrorStats,
}

/// Mean measured and mean predicted RTT of one dataset for one region pair (its directions
/// averaged).
#[derive(Clone, Copy, Default)]
struct Mean {
    measured: f64,
    model: f64,
    n: u32,
}

/// The agreement of every two datasets on the region pairs both measured, and pooled over all
/// dataset pairs (last), from `scored` observations (each once; `latency fit` passes the
/// leave-one-dataset-out predictions, a test the in-sample ones). Dataset pairs without a common region
/// pair are left out; the pooled row is there whenever any is not.
pub fn dataset_agreement(scored: &[Scored]) -> Vec<Agreement> {
    // region pair (unordered) -> dataset -> mean.
    let mut by_pair: BTreeMap<(String, String), BTreeMap<&str, Mean>> = BTreeMap::new();
    for s in scored {
        let (a, b) = (s.obs.src.key(), s.obs.dst.key());
        let key = if a <= b { (a, b) } else { (b, a) };
        let m = by_pair
            .entry(key)
            .or_default()
            .entry(s.obs.dataset)
            .or_default();
        m.measured += s.obs.rtt_ms;
        m.model += s.model_ms;
        m.n += 1;
    }
    // dataset pair -> (data scores, model scores, region pairs).
    type Scores = (Vec<(f64, f64)>, Vec<(f64, f64)>, usize);
    let mut by_datasets: BTreeMap<String, Scores> = BTreeMap::new();
    for datasets in by_pair.values() {
        let means: Vec<(&str, f64, f64)> = datasets
            .iter()
            .map(|(d, m)| (*d, m.measured / m.n as f64, m.model / m.n as f64))
            .collect();
        for (i, &(da, ma, pa)) in means.iter().enumerate() {
            for &(db, mb, pb) in &means[i + 1..] {
                let e = by_datasets.entry(format!("{da} / {db}")).or_default();
                e.0.extend([(ma, mb), (mb, ma)]);
                e.1.extend([(pb, mb), (pa, ma)]);
                e.2 += 1;
            }
        }
    }
    let mut out: Vec<Agreement> = by_datasets
        .iter()
        .map(|(name, (data, model, pairs))| Agreement {
            datasets: name.clone(),
            pairs: *pairs,
            data: ErrorStats::from_pairs(data.iter().copied()),
            model: ErrorStats::from_pairs(model.iter().copied()),
        })
        .collect();
    if !out.is_empty() {
        let all = |pick: fn(&Scores) -> &Vec<(f64, f64)>| {
            ErrorStats::from_pairs(by_datasets.values().flat_map(|s| pick(s).iter().copied()))
        };
        out.push(Agreement {
            datasets: "all".into(),
            pairs: by_datasets.values().map(|s| s.2).sum(),
            data: all(|s| &s.0),
            model: all(|s| &s.1),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::fit::Observation;
    use crate::topology::Region;

    fn region(provider: &str, name: &str) -> Region {
        Region {
            provider: provider.into(),
            region: name.into(),
            city: String::new(),
            country: String::new(),
            lat: 0.0,
            lon: 0.0,
            zones: Vec::new(),
        }
    }

    fn scored(dataset: &'static str, src: &str, dst: &str, rtt: f64, model: f64) -> Scored {
        Scored {
            obs: Observation {
                dataset,
                src: region("aws", src),
                dst: region("aws", dst),
                rtt_ms: rtt,
            },
            model_ms: model,
        }
    }

    #[test]
    fn each_dataset_predicts_the_other_both_ways_directions_averaged() {
        let s = [
            // aws: both directions of a-b, 10 and 12 ms: mean 11 (model 11).
            scored("aws", "a", "b", 10.0, 11.0),
            scored("aws", "b", "a", 12.0, 11.0),
            // skyplane: b-a 22 ms (model 11).
            scored("skyplane", "b", "a", 22.0, 11.0),
            // a pair only one dataset measured: not scored.
            scored("aws", "a", "c", 5.0, 5.0),
        ];
        let a = dataset_agreement(&s);
        assert_eq!(a.len(), 2, "{a:?}");
        assert_eq!(a[0].datasets, "aws / skyplane");
        assert_eq!(a[0].pairs, 1);
        // 11 as a prediction of 22: 50%; 22 as a prediction of 11: 100%.
        assert_eq!(a[0].data.n, 2);
        assert!((a[0].data.median_abs_pct - 75.0).abs() < 1e-9);
        assert!((a[0].data.p90_abs_pct - 100.0).abs() < 1e-9);
        // The model: 11 for both, exact on aws, 50% off on skyplane.
        assert!((a[0].model.median_abs_pct - 25.0).abs() < 1e-9);
        assert_eq!(a[1].datasets, "all");
        assert_eq!(a[1].data, a[0].data);
        assert!(dataset_agreement(&s[3..]).is_empty());
    }
}
