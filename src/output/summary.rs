//! `summary.csv`: one row per scalar result, `metric,value`, in the order models add them.

use std::fmt::Write as _;

/// A scalar result value: counts stay integers, measurements are floats printed in Rust's
/// shortest round-trip form (deterministic across platforms).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) if v.is_nan() => f.write_str(""),
            Value::Float(v) => write!(f, "{v}"),
        }
    }
}

/// The ordered list of scalar results of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    rows: Vec<(String, Value)>,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn int(&mut self, metric: &str, v: impl TryInto<i64>) -> &mut Self {
        let v = v.try_into().unwrap_or(i64::MAX);
        self.push(metric, Value::Int(v))
    }
    /// A float metric; NaN (undefined, e.g. a percentile of nothing) is written as empty.
    pub fn float(&mut self, metric: &str, v: f64) -> &mut Self {
        self.push(metric, Value::Float(v))
    }
    fn push(&mut self, metric: &str, v: Value) -> &mut Self {
        debug_assert!(
            self.get(metric).is_none(),
            "summary metric {metric} added twice"
        );
        self.rows.push((metric.to_string(), v));
        self
    }
    pub fn get(&self, metric: &str) -> Option<&Value> {
        self.rows.iter().find(|(m, _)| m == metric).map(|(_, v)| v)
    }
    pub fn rows(&self) -> &[(String, Value)] {
        &self.rows
    }
    /// The summary as a `metric,value` table (for the columnar outputs).
    pub fn to_table(&self) -> super::Table {
        let mut t = super::Table::new(super::names::file::SUMMARY, &["metric", "value"]);
        for (m, v) in &self.rows {
            t.push(vec![m.clone(), v.to_string()]);
        }
        t
    }
    pub fn to_csv(&self) -> String {
        let mut s = String::from("metric,value\n");
        for (m, v) in &self.rows {
            let _ = writeln!(s, "{m},{v}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn csv_layout() {
        let mut s = Summary::new();
        s.int("events_processed", 12u64).float("sim_time_s", 3600.0);
        s.float("p50", f64::NAN);
        assert_eq!(
            s.to_csv(),
            "metric,value\nevents_processed,12\nsim_time_s,3600\np50,\n"
        );
    }
}
