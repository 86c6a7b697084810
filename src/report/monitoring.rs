//! `monitoring_load` (reports/s, collectors, backlogs, drops: one panel each) and
//! `monitoring_delay` (delay percentiles of the reports stored in each interval, with the number
//! of active agents) over time, from `monitoring.csv`.

use super::canvas::{self, Entry, Figure, de};
use super::data::{Csv, TimeUnit, tick};
use super::{Outcome, ReportError};
use crate::output::names::file;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One line of a panel.
struct Line {
    label: &'static str,
    color: RGBColor,
    values: Vec<f64>,
}

/// One panel: a title, the y axis description and its lines.
struct Panel {
    title: &'static str,
    y_desc: &'static str,
    lines: Vec<Line>,
}

struct LoadFigure {
    times: Vec<f64>,
    unit: TimeUnit,
    panels: Vec<Panel>,
}

const LOAD_TITLE: &str = "Monitoring load over time";
const DELAY_TITLE: &str = "Monitoring delay over time";

impl Figure for LoadFigure {
    fn size(&self) -> (u32, u32) {
        (1100, 60 + 190 * self.panels.len() as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _vector: bool,
    ) -> Result<(), String> {
        let area = root.titled(LOAD_TITLE, canvas::title_style()).map_err(de)?;
        let entries: Vec<Entry> = self
            .panels
            .iter()
            .flat_map(|p| p.lines.iter().map(|l| Entry::line(l.label, l.color, 2)))
            .collect();
        let (plot, legend) = canvas::with_legend(&area, &entries);
        let x = canvas::span(self.times.iter().map(|t| self.unit.of(*t)));
        let parts = plot.split_evenly((self.panels.len(), 1));
        let last = self.panels.len() - 1;
        for (i, (panel, part)) in self.panels.iter().zip(&parts).enumerate() {
            let y = canvas::range(
                panel.lines.iter().flat_map(|l| l.values.iter().copied()),
                true,
            );
            // Counts: label whole numbers only.
            let integer = panel
                .lines
                .iter()
                .flat_map(|l| l.values.iter())
                .all(|v| !v.is_finite() || v.fract() == 0.0);
            let y_fmt = move |v: &f64| {
                if integer && v.fract().abs() > 1e-9 {
                    String::new()
                } else {
                    tick(*v)
                }
            };
            let mut chart = ChartBuilder::on(part)
                .margin_left(12)
                .margin_right(26)
                .margin_top(8)
                .caption(panel.title, canvas::panel_style())
                .x_label_area_size(if i == last { 56 } else { 28 })
                .y_label_area_size(104)
                .build_cartesian_2d(x.clone(), y)
                .map_err(de)?;
            let x_desc = if i == last {
                format!("time ({})", self.unit.name)
            } else {
                String::new()
            };
            canvas::styled_mesh(&mut chart.configure_mesh())
                .x_desc(x_desc)
                .y_desc(panel.y_desc)
                .y_labels(5)
                .y_label_formatter(&y_fmt)
                .draw()
                .map_err(de)?;
            let flat = panel
                .lines
                .iter()
                .flat_map(|l| l.values.iter())
                .all(|v| !v.is_finite() || *v == 0.0);
            if flat {
                let (xr, yr) = (chart.x_range(), chart.y_range());
                chart
                    .draw_series(std::iter::once(Text::new(
                        "0 throughout",
                        ((xr.start + xr.end) / 2.0, (yr.start + yr.end) / 2.0),
                        canvas::label_style()
                            .color(&canvas::MUTED)
                            .pos(canvas::center()),
                    )))
                    .map_err(de)?;
            }
            for l in &panel.lines {
                let pts: Vec<(f64, f64)> = self
                    .times
                    .iter()
                    .zip(&l.values)
                    .map(|(t, v)| (self.unit.of(*t), *v))
                    .collect();
                for seg in canvas::segments(&pts) {
                    chart
                        .draw_series(LineSeries::new(seg, l.color.stroke_width(2)))
                        .map_err(de)?;
                }
            }
        }
        if let Some(l) = legend {
            canvas::draw_legend(&l, &entries, 20)?;
        }
        Ok(())
    }
}

fn column(csv: &Csv, col: usize) -> Vec<f64> {
    csv.rows.iter().map(|r| csv.num(r, col)).collect()
}

/// The `monitoring_load` plot of results folder `dir`.
pub fn load_plots(dir: &Path) -> Result<Outcome, ReportError> {
    let m = match Csv::for_plot(dir, file::MONITORING)? {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    let c = match m.cols(&[
        "time_s",
        "reports_in_per_s",
        "collectors",
        "backlog_mean",
        "backlog_max",
        "storage_backlog_points",
        "drops",
    ]) {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    let times = column(&m, c[0]);
    let panels = vec![
        Panel {
            title: "Reports arriving at the collectors",
            y_desc: "reports/s",
            lines: vec![Line {
                label: "reports in (per s)",
                color: canvas::color(0),
                values: column(&m, c[1]),
            }],
        },
        Panel {
            title: "Collectors",
            y_desc: "collectors",
            lines: vec![Line {
                label: "collectors",
                color: canvas::color(4),
                values: column(&m, c[2]),
            }],
        },
        Panel {
            title: "Collector backlog",
            y_desc: "reports",
            lines: vec![
                Line {
                    label: "backlog, largest collector",
                    color: canvas::color(1),
                    values: column(&m, c[4]),
                },
                Line {
                    label: "backlog, mean per collector",
                    color: canvas::color(5),
                    values: column(&m, c[3]),
                },
            ],
        },
        Panel {
            title: "Storage backlog",
            y_desc: "points",
            lines: vec![Line {
                label: "storage backlog (points)",
                color: canvas::color(2),
                values: column(&m, c[5]),
            }],
        },
        Panel {
            title: "Dropped reports",
            y_desc: "reports/sample",
            lines: vec![Line {
                label: "drops (per sample)",
                color: canvas::color(3),
                values: column(&m, c[6]),
            }],
        },
    ];
    let unit = TimeUnit::for_span(times.iter().copied().fold(0.0, f64::max));
    let caption = "The monitoring pipeline at every sample (monitoring.csv): reports arriving at \
                   the collectors per second, active collectors, the reports queued at the \
                   collectors (largest and mean), the points waiting for storage, and the \
                   reports dropped in the sample interval."
        .to_string();
    let fig = LoadFigure {
        times,
        unit,
        panels,
    };
    Ok(canvas::plot("monitoring_load", LOAD_TITLE, caption, &fig).map(|p| vec![p]))
}

struct DelayFigure {
    times: Vec<f64>,
    unit: TimeUnit,
    /// Delays in the unit named by `delay_unit`.
    p50: Vec<f64>,
    p95: Vec<f64>,
    delay_unit: &'static str,
    agents: Vec<f64>,
}

impl Figure for DelayFigure {
    fn size(&self) -> (u32, u32) {
        (1100, 560)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _vector: bool,
    ) -> Result<(), String> {
        let area = root
            .titled(DELAY_TITLE, canvas::title_style())
            .map_err(de)?;
        let (c50, c95, ca) = (canvas::color(0), canvas::color(3), canvas::MUTED);
        let entries = vec![
            Entry::line("p95 delay", c95, 2),
            Entry::line("p50 delay", c50, 2),
            Entry::line("active agents (right axis)", ca, 2),
        ];
        let (plot, legend) = canvas::with_legend(&area, &entries);
        let x = canvas::span(self.times.iter().map(|t| self.unit.of(*t)));
        let y = canvas::range(self.p50.iter().chain(&self.p95).copied(), true);
        let y2 = canvas::range(self.agents.iter().copied(), true);
        let mut chart = canvas::chart_on(&plot)
            .right_y_label_area_size(100)
            .build_cartesian_2d(x.clone(), y)
            .map_err(de)?
            .set_secondary_coord(x, y2);
        canvas::styled_mesh(&mut chart.configure_mesh())
            .x_desc(format!("time ({})", self.unit.name))
            .y_desc(format!("delay, agent send to stored ({})", self.delay_unit))
            .draw()
            .map_err(de)?;
        canvas::styled_secondary(&mut chart.configure_secondary_axes())
            .y_desc("active agents")
            .draw()
            .map_err(de)?;
        let pts = |v: &[f64]| -> Vec<(f64, f64)> {
            self.times
                .iter()
                .zip(v)
                .map(|(t, v)| (self.unit.of(*t), *v))
                .collect()
        };
        for seg in canvas::segments(&pts(&self.agents)) {
            chart
                .draw_secondary_series(LineSeries::new(seg, ca.stroke_width(2)))
                .map_err(de)?;
        }
        for (v, c) in [(&self.p95, c95), (&self.p50, c50)] {
            let p = pts(v);
            for seg in canvas::segments(&p) {
                if seg.len() == 1 {
                    chart
                        .draw_series(std::iter::once(Circle::new(seg[0], 2, c.filled())))
                        .map_err(de)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(seg, c.stroke_width(2)))
                        .map_err(de)?;
                }
            }
        }
        if let Some(l) = legend {
            canvas::draw_legend(&l, &entries, 20)?;
        }
        Ok(())
    }
}

/// The `monitoring_delay` plot of results folder `dir`.
pub fn delay_plots(dir: &Path) -> Result<Outcome, ReportError> {
    let m = match Csv::for_plot(dir, file::MONITORING)? {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    let c = match m.cols(&["time_s", "delay_p50_ms", "delay_p95_ms", "agents_active"]) {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    let times = column(&m, c[0]);
    let mut p50 = column(&m, c[1]);
    let mut p95 = column(&m, c[2]);
    let max = p50
        .iter()
        .chain(&p95)
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NAN, f64::max);
    if max.is_nan() {
        return Ok(Err(
            "no report was stored (monitoring.csv has no delays)".into()
        ));
    }
    let delay_unit = if max >= 10_000.0 {
        for v in p50.iter_mut().chain(p95.iter_mut()) {
            *v /= 1000.0;
        }
        "s"
    } else {
        "ms"
    };
    let unit = TimeUnit::for_span(times.iter().copied().fold(0.0, f64::max));
    let caption = "Delay from an agent's send to the report's storage, 50th and 95th percentile \
                   of the reports stored in each sample interval (monitoring.csv; gaps: none \
                   stored), and the number of active agents on the right axis."
        .to_string();
    let fig = DelayFigure {
        agents: column(&m, c[3]),
        times,
        unit,
        p50,
        p95,
        delay_unit,
    };
    Ok(canvas::plot("monitoring_delay", DELAY_TITLE, caption, &fig).map(|p| vec![p]))
}
