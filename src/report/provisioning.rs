//! `provisioning_cdf`: the distribution of provisioning times (MCIS request to a VM's first
//! Running), overall and per provider.
//!
//! Exact from `vm_events.csv` (written with `output.vm_events = true`): each requested VM's first
//! `Creating -> Running` transition of a create, minus its MCIS's request time (`[[mcis]] at` in
//! `scenario.toml`), scale-out VMs (`*-AutoGen-*`) left out, as the summary's
//! `provision_time_*` rows do. Without it, from `provider_api.csv`: the cumulative
//! `agent_registrations` (one per successful create) at each sample, so times are rounded up to
//! the sample interval and counted from the first MCIS request, scale-out VMs included.

use super::canvas::{self, Entry, Figure, de};
use super::data::{Csv, TimeUnit, human, mcis_request_times, num};
use super::{Outcome, ReportError};
use crate::output::names::{file, metric};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// One CDF curve: a label and `(time_s, fraction)` points of a step function.
#[derive(Clone, Debug)]
pub struct Curve {
    pub label: String,
    pub provider: Option<String>,
    pub n: usize,
    pub points: Vec<(f64, f64)>,
}

/// Where the curves come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    VmEvents,
    ProviderApi,
}

/// Provisioning times (s) by provider.
pub type ByProvider = BTreeMap<String, Vec<f64>>;

/// Per-VM provisioning times (s) by provider, streaming `vm_events.csv` of `dir` (one row per
/// transition: large for big fleets). `None` when the file is absent or has no rows.
pub fn times_from_events(dir: &Path) -> Result<Option<Result<ByProvider, String>>, ReportError> {
    const COLS: [&str; 8] = [
        "time_s", "vm", "name", "mcis", "cloud", "event", "to", "detail",
    ];
    let at: BTreeMap<String, f64> = mcis_request_times(dir).into_iter().collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut cols: Option<Result<Vec<usize>, String>> = None;
    let rows = Csv::stream(dir, file::VM_EVENTS, |header, rec| {
        let c = match cols.get_or_insert_with(|| {
            let missing: Vec<&str> = COLS
                .iter()
                .copied()
                .filter(|n| !header.iter().any(|h| h == n))
                .collect();
            if missing.is_empty() {
                Ok(COLS
                    .iter()
                    .map(|n| header.iter().position(|h| h == n).expect("checked"))
                    .collect())
            } else {
                Err(format!(
                    "vm_events.csv has no column {}",
                    missing.join(", ")
                ))
            }
        }) {
            Ok(c) => c,
            Err(_) => return,
        };
        let get = |k: usize| rec.get(c[k]).unwrap_or("");
        if get(5) != "transition"
            || get(6) != "Running"
            || get(7) != "Create"
            || get(2).contains("-AutoGen-")
            || !seen.insert(get(1).to_string())
        {
            return;
        }
        let t0 = at.get(get(3)).copied().unwrap_or(0.0);
        let provider = get(4).split(':').next().unwrap_or("");
        out.entry(provider.to_string())
            .or_default()
            .push(num(get(0)) - t0);
    })?;
    Ok(match (rows, cols) {
        (None, _) | (Some(0), _) | (_, None) => None,
        (_, Some(Err(reason))) => Some(Err(reason)),
        _ => Some(Ok(out)),
    })
}

/// The empirical CDF of `values` as step points, thinned to about 1,000 quantiles.
pub fn cdf(values: &mut [f64]) -> Vec<(f64, f64)> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return Vec::new();
    }
    let mut pts = vec![(values[0], 0.0)];
    if n <= 1000 {
        for (i, v) in values.iter().enumerate() {
            pts.push((*v, i as f64 / n as f64));
            pts.push((*v, (i + 1) as f64 / n as f64));
        }
    } else {
        for k in 1..=1000 {
            let q = k as f64 / 1000.0;
            let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            pts.push((values[i], q));
        }
    }
    pts
}

/// Cumulative registrations per provider from `provider_api.csv`, as fractions: the first
/// `cap` registrations in time order (the summary's `vms_provisioned`, so later scale-out VMs
/// are left out), all of them without a cap.
fn curves_from_api(api: &Csv, t0: f64, cap: Option<f64>) -> Result<Vec<Curve>, String> {
    let c = api.cols(&["time_s", "provider", metric::AGENT_REGISTRATIONS])?;
    // (time, provider, registrations) in file order (time order).
    let mut rows: Vec<(f64, String, f64)> = Vec::new();
    for r in &api.rows {
        let t = api.num(r, c[0]);
        let n = api.num(r, c[2]);
        if t.is_finite() && n.is_finite() && n > 0.0 {
            rows.push((t - t0, api.cell(r, c[1]).to_string(), n));
        }
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut left = cap.unwrap_or(f64::INFINITY);
    for r in &mut rows {
        r.2 = r.2.min(left);
        left -= r.2;
    }
    rows.retain(|r| r.2 > 0.0);
    let curve = |label: String, provider: Option<String>| -> Option<Curve> {
        let mine: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| provider.as_ref().is_none_or(|p| *p == r.1))
            .map(|r| (r.0.max(0.0), r.2))
            .collect();
        let total: f64 = mine.iter().map(|s| s.1).sum();
        if total <= 0.0 {
            return None;
        }
        let mut acc = 0.0;
        let mut points = vec![(0.0, 0.0)];
        for (t, n) in mine {
            // A step at the sample that counted them (flat until then).
            let last = points.last().map_or(0.0, |p| p.1);
            acc += n;
            points.push((t, last));
            points.push((t, acc / total));
        }
        Some(Curve {
            label,
            provider,
            n: total.round() as usize,
            points,
        })
    };
    let providers: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let mut curves = Vec::new();
    curves.extend(curve("all providers".into(), None));
    if providers.len() > 1 {
        for p in providers {
            curves.extend(curve(p.to_string(), Some(p.to_string())));
        }
    }
    Ok(curves)
}

fn curves_from_times(times: BTreeMap<String, Vec<f64>>) -> Vec<Curve> {
    let mut all: Vec<f64> = times.values().flatten().copied().collect();
    let mut curves = vec![Curve {
        label: "all providers".into(),
        provider: None,
        n: all.len(),
        points: cdf(&mut all),
    }];
    if times.len() > 1 {
        for (p, mut v) in times {
            curves.push(Curve {
                label: p.clone(),
                provider: Some(p),
                n: v.len(),
                points: cdf(&mut v),
            });
        }
    }
    curves
}

struct CdfFigure {
    curves: Vec<Curve>,
    /// Summary percentiles (label, seconds).
    marks: Vec<(String, f64)>,
    unit: TimeUnit,
    x_desc: String,
}

const TITLE: &str = "Provisioning time CDF";
/// The overall curve under per-provider curves.
const BAND: RGBColor = RGBColor(185, 188, 192);

impl Figure for CdfFigure {
    fn size(&self) -> (u32, u32) {
        (1100, 560)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _vector: bool,
    ) -> Result<(), String> {
        let area = root.titled(TITLE, canvas::title_style()).map_err(de)?;
        let several = self.curves.len() > 1;
        let color_of = |c: &Curve| match &c.provider {
            None if several => BAND,
            None => canvas::INK,
            Some(p) => canvas::provider_color(p),
        };
        let width_of = |c: &Curve| match &c.provider {
            None if several => 7,
            None => 3,
            Some(_) => 2,
        };
        let mut entries: Vec<Entry> = self
            .curves
            .iter()
            .map(|c| {
                Entry::line(
                    format!("{} (n = {})", c.label, human(c.n as f64, 4)),
                    color_of(c),
                    width_of(c).min(6),
                )
            })
            .collect();
        let mark_colors = [canvas::MUTED, RGBColor(90, 90, 90), canvas::INK];
        for (i, (label, _)) in self.marks.iter().enumerate() {
            entries.push(Entry::dashed(label.clone(), mark_colors[i % 3], 2));
        }
        let (plot, legend) = canvas::with_legend(&area, &entries);
        let x = canvas::range(
            self.curves
                .iter()
                .flat_map(|c| c.points.iter().map(|p| self.unit.of(p.0)))
                .chain(self.marks.iter().map(|m| self.unit.of(m.1))),
            true,
        );
        let mut chart = canvas::chart_on(&plot)
            .build_cartesian_2d(x.clone(), 0.0..1.02)
            .map_err(de)?;
        canvas::styled_mesh(&mut chart.configure_mesh())
            .x_desc(self.x_desc.clone())
            .y_desc("fraction of provisioned VMs")
            .draw()
            .map_err(de)?;
        for (i, (_, t)) in self.marks.iter().enumerate() {
            let xv = self.unit.of(*t);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xv, 0.0), (xv, 1.02)],
                    8,
                    5,
                    mark_colors[i % 3].stroke_width(2),
                ))
                .map_err(de)?;
        }
        // The overall curve first (a wide band when providers are drawn over it).
        for c in &self.curves {
            let w = width_of(c);
            let pts: Vec<(f64, f64)> = c
                .points
                .iter()
                .map(|(t, f)| (self.unit.of(*t), *f))
                .collect();
            chart
                .draw_series(LineSeries::new(pts, color_of(c).stroke_width(w)))
                .map_err(de)?;
        }
        if let Some(l) = legend {
            canvas::draw_legend(&l, &entries, 20)?;
        }
        Ok(())
    }
}

/// A row of `summary.csv` (NaN when absent).
fn summary_value(summary: &Option<Csv>, metric: &str) -> f64 {
    summary
        .as_ref()
        .and_then(|s| {
            s.rows
                .iter()
                .find(|r| s.cell(r, 0) == metric)
                .map(|r| s.num(r, 1))
        })
        .unwrap_or(f64::NAN)
}

/// The `provisioning_cdf` plot of results folder `dir`.
pub fn plots(dir: &Path) -> Result<Outcome, ReportError> {
    let summary = Csv::read(dir, file::SUMMARY)?;
    let provisioned = summary_value(&summary, metric::VMS_PROVISIONED);
    let (curves, source) = match times_from_events(dir)? {
        Some(Ok(t)) if !t.is_empty() => (curves_from_times(t), Source::VmEvents),
        Some(Ok(_)) => return Ok(Err("no VM reached Running (vm_events.csv)".into())),
        Some(Err(reason)) => return Ok(Err(reason)),
        None => {
            let api = match Csv::for_plot(dir, file::PROVIDER_API)? {
                Ok(c) => c,
                Err(_) => {
                    return Ok(Err(
                        "neither vm_events.csv nor provider_api.csv is present".into()
                    ));
                }
            };
            let t0 = mcis_request_times(dir)
                .iter()
                .map(|m| m.1)
                .fold(f64::INFINITY, f64::min);
            let t0 = if t0.is_finite() { t0 } else { 0.0 };
            let cap = provisioned.is_finite().then_some(provisioned);
            match curves_from_api(&api, t0, cap) {
                Ok(c) if !c.is_empty() => (c, Source::ProviderApi),
                Ok(_) => return Ok(Err("no VM reached Running (provider_api.csv)".into())),
                Err(reason) => return Ok(Err(reason)),
            }
        }
    };
    let mut marks = Vec::new();
    for (metric, label) in [
        (metric::PROVISION_TIME_P50_S, "p50"),
        (metric::PROVISION_TIME_P95_S, "p95"),
    ] {
        let v = summary_value(&summary, metric);
        if v.is_finite() {
            marks.push((format!("{label} = {} s (summary)", human(v, 4)), v));
        }
    }
    let max = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.0))
        .fold(0.0f64, f64::max);
    let unit = TimeUnit::for_span(max);
    let n = curves.first().map_or(0, |c| c.n);
    let (x_desc, caption) = match source {
        Source::VmEvents => (
            format!("MCIS request to first Running ({})", unit.name),
            format!(
                "Empirical CDF of the {} requested VMs' provisioning times (MCIS request to \
                 first Running; scale-out VMs excluded), overall and per provider, from \
                 vm_events.csv. Dashed: the summary's percentiles.",
                human(n as f64, 4)
            ),
        ),
        Source::ProviderApi => (
            format!("time since the first MCIS request ({})", unit.name),
            format!(
                "Share of the {} provisioned VMs running by each time, overall and per provider, \
                 from the first agent_registrations of provider_api.csv (one per successful \
                 create; as many as the summary's vms_provisioned, so later scale-outs are left \
                 out): times are rounded up to the sample interval. Set output.vm_events = true \
                 for exact per-VM times. Dashed: the summary's exact percentiles.",
                human(n as f64, 4)
            ),
        ),
    };
    let fig = CdfFigure {
        curves,
        marks,
        unit,
        x_desc,
    };
    Ok(canvas::plot("provisioning_cdf", TITLE, caption, &fig).map(|p| vec![p]))
}
