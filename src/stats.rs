//! Small deterministic statistics helpers shared by the models.

/// Nearest-rank percentile (`q` in [0, 1]) of already sorted values; NaN when empty.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts a copy and returns the given percentiles.
pub fn percentiles(values: &[f64], qs: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    qs.iter().map(|q| percentile_sorted(&v, *q)).collect()
}

/// Nearest-rank percentiles of a multiset given as (value, count): the same as
/// [`percentiles`] of the list with each value repeated `count` times. NaN when empty.
pub fn weighted_percentiles(values: &mut [(f64, u64)], qs: &[f64]) -> Vec<f64> {
    values.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: u64 = values.iter().map(|v| v.1).sum();
    qs.iter()
        .map(|q| {
            if total == 0 {
                return f64::NAN;
            }
            let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
            let mut seen = 0;
            for &(v, n) in values.iter() {
                seen += n;
                if seen >= rank {
                    return v;
                }
            }
            unreachable!("rank <= total")
        })
        .collect()
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (two-sided 95% intervals).
pub fn student_t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df - 1],
        // Cornish-Fisher expansion around the normal quantile.
        _ => {
            let z: f64 = 1.959_964;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_percentiles_equal_the_expanded_list() {
        let mut weighted = vec![(3.5, 4), (1.0, 1), (2.0, 3), (9.0, 1), (2.5, 0)];
        let expanded: Vec<f64> = weighted
            .iter()
            .flat_map(|&(v, n)| std::iter::repeat_n(v, n as usize))
            .collect();
        let qs = [0.0, 0.1, 0.25, 0.5, 0.6, 0.9, 0.95, 1.0];
        assert_eq!(
            weighted_percentiles(&mut weighted, &qs),
            percentiles(&expanded, &qs)
        );
        assert!(weighted_percentiles(&mut [], &[0.5])[0].is_nan());
    }
    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(
            percentiles(&v, &[0.5, 0.95, 1.0, 0.0]),
            vec![50.0, 95.0, 100.0, 1.0]
        );
        assert!(percentile_sorted(&[], 0.5).is_nan());
    }
}
