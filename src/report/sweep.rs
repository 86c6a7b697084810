//! `sweep_<metric>`: a metric's mean at each sweep point against a varied key, with Student-t
//! 95% confidence intervals as error bars, from `sweep_summary.csv` (tidy:
//! `point,<varied keys...>,metric,n,mean,sd,ci95_low,ci95_high`). With several varied keys the
//! one with the most values is the x axis and every combination of the others is a series.

use super::canvas::{self, Entry, Figure, Swatch, de};
use super::data::{Csv, human};
use super::{Outcome, Plot, ReportError};
use crate::output::names::{file, metric};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Metrics plotted by default when they vary across points, in this order.
pub const PREFERRED: [&str; 16] = [
    metric::PROVISION_TIME_P50_S,
    metric::PROVISION_TIME_P95_S,
    metric::PROVISION_SETTLED_S,
    metric::VMS_RUNNING_END,
    metric::VM_CREATE_FAILURES,
    metric::MONITORING_DELAY_P95_MS,
    metric::MONITORING_REPORTS_DROPPED,
    metric::COLLECTOR_COUNT_MAX,
    metric::COLLECTOR_UTILIZATION_MEAN,
    metric::STORAGE_UTILIZATION_MEAN,
    metric::SCALE_OUT_ACTIONS,
    metric::CPU_OVER_THRESHOLD_S,
    metric::COST_USD,
    metric::CLOUD_RTT_P50_MS,
    metric::STATUS_TEST_PROBES,
    metric::EVENTS_PROCESSED,
];

/// At most this many sweep plots by default.
pub const MAX_DEFAULT: usize = 8;

/// One row of the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct Stat {
    pub n: f64,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// `sweep_summary.csv` read: the varied keys, the points with their values, and per metric the
/// statistics of each point.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub keys: Vec<String>,
    /// (point id, values of the keys) in file order.
    pub points: Vec<(String, Vec<String>)>,
    /// (metric, stat per point) in order of first appearance.
    pub metrics: Vec<(String, Vec<Option<Stat>>)>,
}

impl Summary {
    pub fn parse(csv: &Csv) -> Result<Summary, String> {
        let m = csv
            .col("metric")
            .ok_or_else(|| format!("{} has no column metric", csv.name))?;
        let c = csv.cols(&["point", "n", "mean", "ci95_low", "ci95_high"])?;
        let keys: Vec<String> = csv.header[c[0] + 1..m].to_vec();
        let mut s = Summary {
            keys,
            ..Summary::default()
        };
        for r in &csv.rows {
            let id = csv.cell(r, c[0]);
            let p = match s.points.iter().position(|(p, _)| p == id) {
                Some(p) => p,
                None => {
                    let values = (c[0] + 1..m).map(|k| csv.cell(r, k).to_string()).collect();
                    s.points.push((id.to_string(), values));
                    for (_, stats) in &mut s.metrics {
                        stats.push(None);
                    }
                    s.points.len() - 1
                }
            };
            let metric = csv.cell(r, m);
            let k = match s.metrics.iter().position(|(x, _)| x == metric) {
                Some(k) => k,
                None => {
                    s.metrics
                        .push((metric.to_string(), vec![None; s.points.len()]));
                    s.metrics.len() - 1
                }
            };
            s.metrics[k].1[p] = Some(Stat {
                n: csv.num(r, c[1]),
                mean: csv.num(r, c[2]),
                lo: csv.num(r, c[3]),
                hi: csv.num(r, c[4]),
            });
        }
        Ok(s)
    }

    pub fn metric(&self, name: &str) -> Option<&[Option<Stat>]> {
        self.metrics
            .iter()
            .find(|(m, _)| m == name)
            .map(|(_, s)| s.as_slice())
    }

    /// Does the metric's mean differ between points?
    pub fn varies(&self, name: &str) -> bool {
        let Some(stats) = self.metric(name) else {
            return false;
        };
        let means: Vec<f64> = stats
            .iter()
            .flatten()
            .map(|s| s.mean)
            .filter(|m| m.is_finite())
            .collect();
        let (lo, hi) = means
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        means.len() > 1 && hi - lo > 1e-12 * hi.abs().max(lo.abs()).max(1e-300)
    }
}

/// The default metrics: the preferred ones that vary across points, else any that vary, at most
/// [`MAX_DEFAULT`]; with a single point, the preferred ones present.
pub fn default_metrics(s: &Summary) -> Vec<String> {
    let present = |m: &str| s.metric(m).is_some();
    let mut out: Vec<String> = if s.points.len() <= 1 {
        PREFERRED
            .iter()
            .filter(|m| present(m))
            .map(|m| m.to_string())
            .collect()
    } else {
        PREFERRED
            .iter()
            .filter(|m| s.varies(m))
            .map(|m| m.to_string())
            .collect()
    };
    if out.is_empty() {
        out = s
            .metrics
            .iter()
            .map(|(m, _)| m.clone())
            .filter(|m| s.varies(m))
            .collect();
    }
    out.truncate(MAX_DEFAULT);
    out
}

/// The unit of a summary metric, from its name.
pub fn unit_of(metric: &str) -> &'static str {
    if metric.ends_with("_utilization_mean") {
        "fraction"
    } else if metric.ends_with("_ms") {
        "ms"
    } else if metric.ends_with("_s") {
        "s"
    } else if metric.ends_with("_pct") {
        "%"
    } else if metric.ends_with("_usd") {
        "USD"
    } else if metric.ends_with("_bytes") {
        "bytes"
    } else if metric.ends_with("_hours") {
        "h"
    } else {
        "count"
    }
}

/// A value of a varied key as a number: a number, or a duration in seconds.
fn numeric(v: &str) -> Option<f64> {
    let v = v.trim().trim_matches('"');
    v.parse::<f64>().ok().filter(|x| x.is_finite()).or_else(|| {
        crate::engine::SimDuration::parse(v)
            .ok()
            .map(|d| d.as_secs_f64())
    })
}

/// How the x axis reads the varied key.
#[derive(Clone, Debug)]
struct XAxis {
    key: String,
    /// Numeric (values as numbers, `durations` if any was a duration) or categories.
    numeric: bool,
    durations: bool,
    /// Category labels in order (categorical axes).
    categories: Vec<String>,
}

impl XAxis {
    fn of(&self, v: &str) -> f64 {
        if self.numeric {
            numeric(v).unwrap_or(f64::NAN)
        } else {
            self.categories
                .iter()
                .position(|c| c == v)
                .map_or(f64::NAN, |i| i as f64)
        }
    }
    fn desc(&self) -> String {
        if self.durations {
            format!("{} (s)", self.key)
        } else {
            self.key.clone()
        }
    }
}

/// One series: a label and (x, stat) points in x order.
struct Series {
    label: String,
    points: Vec<(f64, Stat)>,
}

struct SweepFigure {
    title: String,
    metric: String,
    x: XAxis,
    series: Vec<Series>,
}

impl Figure for SweepFigure {
    fn size(&self) -> (u32, u32) {
        (1000, 540)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _vector: bool,
    ) -> Result<(), String> {
        let area = root
            .titled(&self.title, canvas::title_style())
            .map_err(de)?;
        let entries: Vec<Entry> = self
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| Entry {
                label: s.label.clone(),
                swatch: Swatch::ErrorBar(canvas::color(i)),
            })
            .collect();
        let (plot, legend) = canvas::with_legend(&area, &entries);
        let xs = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let x = if self.x.numeric {
            let r = canvas::range(xs, false);
            let pad = (r.end - r.start) * 0.03;
            r.start - pad..r.end + pad
        } else {
            -0.5..self.x.categories.len() as f64 - 0.5
        };
        let y = canvas::range(
            self.series
                .iter()
                .flat_map(|s| s.points.iter().flat_map(|(_, st)| [st.mean, st.lo, st.hi])),
            false,
        );
        let mut chart = canvas::chart_on(&plot)
            .x_label_area_size(if self.x.numeric { 56 } else { 76 })
            .build_cartesian_2d(x, y)
            .map_err(de)?;
        let y_desc = format!("{} ({})", self.metric, unit_of(&self.metric));
        let mut mesh = chart.configure_mesh();
        canvas::styled_mesh(&mut mesh)
            .x_desc(self.x.desc())
            .y_desc(y_desc);
        if !self.x.numeric {
            mesh.x_labels(0).disable_x_mesh();
        }
        mesh.draw().map_err(de)?;
        if !self.x.numeric {
            let style = canvas::tick_style().pos(canvas::center_top());
            for (i, c) in self.x.categories.iter().enumerate() {
                let (px, py) = chart.backend_coord(&(i as f64, chart.y_range().start));
                let label = canvas::fit_text(root, c, &style, 180)?;
                root.draw(&Text::new(label, (px, py + 8), style.clone()))
                    .map_err(de)?;
            }
        }
        let k = self.series.len().max(1) as f64;
        for (i, s) in self.series.iter().enumerate() {
            let color = canvas::color(i);
            // Several series on categories: side by side around the category.
            let shift = if self.x.numeric || k == 1.0 {
                0.0
            } else {
                (i as f64 - (k - 1.0) / 2.0) * 0.5 / k
            };
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|(x, st)| (x + shift, st.mean))
                .collect();
            if self.x.numeric {
                for seg in canvas::segments(&pts) {
                    chart
                        .draw_series(LineSeries::new(seg, color.stroke_width(2)))
                        .map_err(de)?;
                }
            }
            for (x, st) in &s.points {
                let xv = x + shift;
                if st.lo.is_finite() && st.hi.is_finite() {
                    let (top, bottom) = (
                        chart.backend_coord(&(xv, st.hi)),
                        chart.backend_coord(&(xv, st.lo)),
                    );
                    let style = color.stroke_width(2);
                    root.draw(&PathElement::new(vec![top, bottom], style))
                        .map_err(de)?;
                    for (px, py) in [top, bottom] {
                        root.draw(&PathElement::new(vec![(px - 6, py), (px + 6, py)], style))
                            .map_err(de)?;
                    }
                }
                if st.mean.is_finite() {
                    let p = chart.backend_coord(&(xv, st.mean));
                    root.draw(&Circle::new(p, 5, color.filled())).map_err(de)?;
                }
            }
        }
        if let Some(l) = legend {
            canvas::draw_legend(&l, &entries, 20)?;
        }
        Ok(())
    }
}

/// The x key (most values; the first on ties) and the series of one metric.
fn layout(s: &Summary, metric: &[Option<Stat>]) -> (XAxis, Vec<Series>) {
    let distinct = |k: usize| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for (_, vals) in &s.points {
            if !v.contains(&vals[k]) {
                v.push(vals[k].clone());
            }
        }
        v
    };
    let xk = (0..s.keys.len())
        .max_by_key(|&k| (distinct(k).len(), std::cmp::Reverse(k)))
        .unwrap_or(0);
    let values = if s.keys.is_empty() {
        vec![String::new()]
    } else {
        distinct(xk)
    };
    let numeric_all = !s.keys.is_empty() && values.iter().all(|v| numeric(v).is_some());
    let durations = numeric_all
        && values
            .iter()
            .any(|v| v.trim().trim_matches('"').parse::<f64>().is_err());
    let x = XAxis {
        key: s.keys.get(xk).cloned().unwrap_or_else(|| "point".into()),
        numeric: numeric_all,
        durations,
        categories: if numeric_all { Vec::new() } else { values },
    };
    let mut series: Vec<Series> = Vec::new();
    for (p, (_, vals)) in s.points.iter().enumerate() {
        let Some(st) = metric.get(p).cloned().flatten() else {
            continue;
        };
        let others: Vec<String> = s
            .keys
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != xk)
            .map(|(k, key)| format!("{}={}", short_key(key), vals[k]))
            .collect();
        let label = if others.is_empty() {
            let n = if st.n.is_finite() {
                format!(" (n = {})", human(st.n, 3))
            } else {
                String::new()
            };
            format!("mean, 95% CI{n}")
        } else {
            others.join(", ")
        };
        let xv = if s.keys.is_empty() {
            0.0
        } else {
            x.of(&vals[xk])
        };
        match series.iter_mut().find(|se| se.label == label) {
            Some(se) => se.points.push((xv, st)),
            None => series.push(Series {
                label,
                points: vec![(xv, st)],
            }),
        }
    }
    for se in &mut series {
        se.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    (x, series)
}

/// The last segment of a key path (`monitoring.collectors.max_host_count` -> `max_host_count`).
fn short_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// The sweep plots of sweep folder `dir`: `metrics`, or [`default_metrics`] when empty.
pub fn plots(dir: &Path, metrics: &[String]) -> Result<Outcome, ReportError> {
    let csv = match Csv::for_plot(dir, file::SWEEP_SUMMARY)? {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    let s = match Summary::parse(&csv) {
        Ok(s) => s,
        Err(reason) => return Ok(Err(reason)),
    };
    let chosen = if metrics.is_empty() {
        default_metrics(&s)
    } else {
        metrics.to_vec()
    };
    if chosen.is_empty() {
        return Ok(Err("no metric varies across the sweep's points".into()));
    }
    let mut out: Vec<Plot> = Vec::new();
    let mut missing = Vec::new();
    for metric in &chosen {
        let Some(stats) = s.metric(metric) else {
            missing.push(metric.clone());
            continue;
        };
        let (x, series) = layout(&s, stats);
        if series.is_empty() {
            missing.push(metric.clone());
            continue;
        }
        let n: Vec<f64> = stats.iter().flatten().map(|st| st.n).collect();
        let (nmin, nmax) = n
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
        let runs = if nmin == nmax {
            format!(
                "{} run{}",
                human(nmin, 3),
                if nmin == 1.0 { "" } else { "s" }
            )
        } else {
            format!("{} to {} runs", human(nmin, 3), human(nmax, 3))
        };
        let title = format!("{metric} vs {}", short_key(&x.key));
        let caption = format!(
            "Mean of {metric} over the replications of each sweep point ({runs} per point), \
             with Student-t 95% confidence intervals (error bars; none with one run), against \
             {}, from {}. A knee shows as a change of slope.",
            x.key,
            file::SWEEP_SUMMARY
        );
        let fig = SweepFigure {
            title: title.clone(),
            metric: metric.clone(),
            x,
            series,
        };
        let name = format!("sweep_{}", super::control::file_safe(metric));
        match canvas::plot(&name, &title, caption, &fig) {
            Ok(p) => out.push(p),
            Err(e) => return Ok(Err(e)),
        }
    }
    if out.is_empty() {
        return Ok(Err(format!(
            "{} has no metric {}",
            file::SWEEP_SUMMARY,
            missing.join(", ")
        )));
    }
    Ok(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &[u8] = b"point,monitoring.interval,lifecycle.create_failure_p,metric,n,mean,sd,ci95_low,ci95_high\n\
p000,5s,0.1,provision_time_p95_s,3,10,1,8,12\n\
p000,5s,0.1,clouds,3,4,0,4,4\n\
p001,5s,0.3,provision_time_p95_s,3,14,1,12,16\n\
p001,5s,0.3,clouds,3,4,0,4,4\n\
p002,10s,0.1,provision_time_p95_s,3,11,1,9,13\n\
p002,10s,0.1,clouds,3,4,0,4,4\n\
p003,10s,0.3,provision_time_p95_s,3,15,1,13,17\n\
p003,10s,0.3,clouds,3,4,0,4,4\n";

    #[test]
    fn parses_points_and_metrics() {
        let s = Summary::parse(&Csv::parse(file::SWEEP_SUMMARY, CSV).unwrap()).unwrap();
        assert_eq!(
            s.keys,
            ["monitoring.interval", "lifecycle.create_failure_p"]
        );
        assert_eq!(s.points.len(), 4);
        assert_eq!(s.points[2].1, ["10s", "0.1"]);
        assert!(s.varies(metric::PROVISION_TIME_P95_S));
        assert!(!s.varies("clouds"));
        assert_eq!(default_metrics(&s), [metric::PROVISION_TIME_P95_S]);
        let (x, series) = layout(&s, s.metric(metric::PROVISION_TIME_P95_S).unwrap());
        // Ties on distinct values: the first key; durations read as seconds.
        assert_eq!(x.key, "monitoring.interval");
        assert!(x.numeric && x.durations);
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].label, "create_failure_p=0.1");
        assert_eq!(series[0].points[1].0, 10.0);
        assert_eq!(unit_of(metric::MONITORING_DELAY_P95_MS), "ms");
        assert_eq!(unit_of(metric::COLLECTOR_UTILIZATION_MEAN), "fraction");
    }
}
