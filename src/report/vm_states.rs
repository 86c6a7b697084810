//! `vm_states`: VMs per status over time, summed over clouds, as stacked areas.

use super::canvas::{self, Entry, Figure, de};
use super::data::{Csv, TimeUnit, num};
use super::{Outcome, ReportError};
use crate::output::names::file;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Statuses from the bottom of the stack to the top, with their colours.
const STATUSES: [(&str, RGBColor); 10] = [
    ("Running", RGBColor(44, 160, 44)),
    ("Creating", RGBColor(107, 174, 214)),
    ("Resuming", RGBColor(161, 217, 155)),
    ("Rebooting", RGBColor(148, 103, 189)),
    ("Suspending", RGBColor(253, 208, 162)),
    ("Suspended", RGBColor(253, 141, 60)),
    ("Terminating", RGBColor(210, 210, 210)),
    ("Terminated", RGBColor(150, 150, 150)),
    ("Failed", RGBColor(214, 39, 40)),
    ("Undefined", RGBColor(60, 60, 60)),
];

/// The stacked series: sample times (s) and, per status (bottom first), counts at each time.
#[derive(Clone, Debug)]
pub struct Stacked {
    pub times: Vec<f64>,
    pub layers: Vec<(String, RGBColor, Vec<f64>)>,
    pub clouds: usize,
}

/// Sums `vm_states.csv` of `dir` over clouds, streaming it (it has a row per time, cloud and
/// status); times are those of `vm_states.csv` and `engine.csv` (a sample with no VM in any
/// status has no row). `Err(reason)` to skip the plot.
pub fn stacked(dir: &Path) -> Result<Result<Stacked, String>, ReportError> {
    // Per status: (time bits -> count), statuses in order of appearance.
    let mut names: Vec<String> = Vec::new();
    let mut sums: Vec<BTreeMap<u64, f64>> = Vec::new();
    let mut clouds = BTreeSet::new();
    let mut cols: Option<Result<[usize; 4], String>> = None;
    let rows = Csv::stream(dir, file::VM_STATES, |header, rec| {
        let c = match cols.get_or_insert_with(|| {
            let at = |n: &str| header.iter().position(|h| h == n);
            match (at("time_s"), at("cloud"), at("status"), at("count")) {
                (Some(a), Some(b), Some(c), Some(d)) => Ok([a, b, c, d]),
                _ => Err("vm_states.csv lacks a column time_s, cloud, status or count".into()),
            }
        }) {
            Ok(c) => *c,
            Err(_) => return,
        };
        let get = |k: usize| rec.get(c[k]).unwrap_or("");
        let (t, n) = (num(get(0)), num(get(3)));
        if !t.is_finite() || !n.is_finite() {
            return;
        }
        if !clouds.contains(get(1)) {
            clouds.insert(get(1).to_string());
        }
        let status = get(2);
        let k = match names.iter().position(|s| s == status) {
            Some(k) => k,
            None => {
                names.push(status.to_string());
                sums.push(BTreeMap::new());
                names.len() - 1
            }
        };
        *sums[k].entry(t.max(0.0).to_bits()).or_default() += n;
    })?;
    match (rows, cols) {
        (None, _) => return Ok(Err("vm_states.csv is absent".into())),
        (Some(0), _) | (_, None) => return Ok(Err("vm_states.csv has no rows".into())),
        (_, Some(Err(reason))) => return Ok(Err(reason)),
        _ => {}
    }
    // Every sample time (non-negative, so the bits sort as the values).
    let mut times: BTreeSet<u64> = sums.iter().flat_map(|m| m.keys().copied()).collect();
    if let Some(e) = Csv::read(dir, file::ENGINE)?
        && let Some(tc) = e.col("time_s")
    {
        times.extend(
            e.rows
                .iter()
                .map(|r| e.num(r, tc))
                .filter(|t| t.is_finite() && *t >= 0.0)
                .map(f64::to_bits),
        );
    }
    let times: Vec<u64> = times.into_iter().collect();
    let series = |m: &BTreeMap<u64, f64>| -> Vec<f64> {
        times
            .iter()
            .map(|t| m.get(t).copied().unwrap_or(0.0))
            .collect()
    };
    // Known statuses in stacking order, then any other in order of appearance.
    let mut layers = Vec::new();
    for (s, col) in STATUSES {
        if let Some(k) = names.iter().position(|n| n == s) {
            layers.push((s.to_string(), col, series(&sums[k])));
        }
    }
    for (k, n) in names.iter().enumerate() {
        if !STATUSES.iter().any(|(s, _)| s == n) {
            layers.push((n.clone(), canvas::color(k), series(&sums[k])));
        }
    }
    Ok(Ok(Stacked {
        times: times.into_iter().map(f64::from_bits).collect(),
        layers,
        clouds: clouds.len(),
    }))
}

struct StatesFigure {
    data: Stacked,
    unit: TimeUnit,
}

impl Figure for StatesFigure {
    fn size(&self) -> (u32, u32) {
        (1100, 560)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _vector: bool,
    ) -> Result<(), String> {
        let d = &self.data;
        let area = root.titled(TITLE, canvas::title_style()).map_err(de)?;
        // Legend top to bottom as the stack reads.
        let entries: Vec<Entry> = d
            .layers
            .iter()
            .rev()
            .map(|(s, c, _)| Entry::area(s.clone(), *c))
            .collect();
        let (plot, legend) = canvas::with_legend(&area, &entries);
        let n = d.times.len();
        let mut totals = vec![0.0; n];
        for (_, _, v) in &d.layers {
            for (t, x) in totals.iter_mut().zip(v) {
                *t += x;
            }
        }
        let x = canvas::span(d.times.iter().map(|t| self.unit.of(*t)));
        let y = canvas::range(totals.iter().copied(), true);
        let mut chart = canvas::chart_on(&plot)
            .build_cartesian_2d(x, y)
            .map_err(de)?;
        let x_desc = format!("time ({})", self.unit.name);
        canvas::styled_mesh(&mut chart.configure_mesh())
            .x_desc(x_desc)
            .y_desc("VMs")
            .draw()
            .map_err(de)?;
        let mut lower = vec![0.0; n];
        for (_, col, v) in &d.layers {
            let upper: Vec<f64> = lower.iter().zip(v).map(|(a, b)| a + b).collect();
            let mut pts: Vec<(f64, f64)> = d
                .times
                .iter()
                .zip(&upper)
                .map(|(t, u)| (self.unit.of(*t), *u))
                .collect();
            pts.extend(
                d.times
                    .iter()
                    .zip(&lower)
                    .rev()
                    .map(|(t, l)| (self.unit.of(*t), *l)),
            );
            chart
                .draw_series(std::iter::once(Polygon::new(pts, col.filled())))
                .map_err(de)?;
            lower = upper;
        }
        if let Some(l) = legend {
            canvas::draw_legend(&l, &entries, 20)?;
        }
        Ok(())
    }
}

const TITLE: &str = "VM statuses over time";

/// The `vm_states` plot of results folder `dir`.
pub fn plots(dir: &Path) -> Result<Outcome, ReportError> {
    let data = match stacked(dir)? {
        Ok(d) => d,
        Err(reason) => return Ok(Err(reason)),
    };
    if data.layers.is_empty() {
        return Ok(Err("vm_states.csv has no counts".into()));
    }
    let unit = TimeUnit::for_span(data.times.last().copied().unwrap_or(0.0));
    let caption = format!(
        "VMs in each status at every sample, summed over {} cloud{} (vm_states.csv), stacked: \
         the top edge is the number of VMs that exist.",
        data.clouds,
        if data.clouds == 1 { "" } else { "s" }
    );
    let fig = StatesFigure { data, unit };
    Ok(canvas::plot("vm_states", TITLE, caption, &fig).map(|p| vec![p]))
}
