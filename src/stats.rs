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

#[cfg(test)]
mod tests {
    use super::*;
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
