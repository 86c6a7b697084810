//! `control_<mcis>`: the auto-control timeline of each MCIS with control rows: its mean CPU
//! (`control.csv`), the evaluation mean the CPU policies compare (`control_samples.csv`), the
//! CPU thresholds (`[[control.policies]]` of `scenario.toml`), the VM count on a second axis and
//! the actions as markers (`control_actions.csv`; skipped ones hollow).

use super::canvas::{self, Entry, Figure, Shape, de};
use super::data::{Csv, TimeUnit, human, scenario_table};
use super::{Outcome, ReportError};
use crate::output::names::file;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// A policy of `scenario.toml`, by its index in `[[control.policies]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub index: usize,
    pub mcis: String,
    pub metric: String,
    pub operator: String,
    pub operand: f64,
    pub action: String,
    pub evaluation_period: Option<i64>,
}

/// The `[[control.policies]]` of `scenario.toml` in `dir`.
pub fn policies(dir: &Path) -> Vec<Policy> {
    let Some(doc) = scenario_table(dir) else {
        return Vec::new();
    };
    let Some(list) = doc
        .get("control")
        .and_then(|c| c.get("policies"))
        .and_then(|p| p.as_array())
    else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter_map(|(index, p)| {
            let s = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let operand = match p.get("operand")? {
                toml::Value::Float(f) => *f,
                toml::Value::Integer(i) => *i as f64,
                _ => return None,
            };
            Some(Policy {
                index,
                mcis: s("mcis")?,
                metric: s("metric").unwrap_or_else(|| "cpu".into()),
                operator: s("operator").unwrap_or_default(),
                operand,
                action: s("action").unwrap_or_default(),
                evaluation_period: p.get("evaluation_period").and_then(|v| v.as_integer()),
            })
        })
        .collect()
}

/// An action of `control_actions.csv`.
#[derive(Clone, Debug)]
struct Action {
    time: f64,
    action: String,
    skipped: bool,
}

struct ControlFigure {
    title: String,
    unit: TimeUnit,
    times: Vec<f64>,
    cpu: Vec<f64>,
    running: Vec<f64>,
    vms: Vec<f64>,
    /// (policy, times, evaluation means) of the first CPU policy with samples.
    evaluation: Option<(Policy, Vec<(f64, f64)>)>,
    thresholds: Vec<Policy>,
    actions: Vec<Action>,
}

fn action_style(action: &str) -> (Shape, RGBColor) {
    match action {
        "ScaleOut" => (Shape::Up, canvas::color(3)),
        "ScaleIn" => (Shape::Down, canvas::color(2)),
        _ => (Shape::Diamond, canvas::color(4)),
    }
}

fn threshold_color(p: &Policy) -> RGBColor {
    match p.action.as_str() {
        "scale_out" => canvas::color(3),
        "scale_in" => canvas::color(2),
        _ => canvas::color(4),
    }
}

/// Points of a step line: each value holds until the next sample.
fn steps(times: &[f64], values: &[f64], unit: TimeUnit) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(times.len() * 2);
    for (i, (t, v)) in times.iter().zip(values).enumerate() {
        if i > 0 {
            out.push((unit.of(*t), values[i - 1]));
        }
        out.push((unit.of(*t), *v));
    }
    out
}

impl ControlFigure {
    fn entries(&self) -> Vec<Entry> {
        let mut e = vec![Entry::line("MCIS mean CPU", canvas::color(0), 2)];
        if let Some((p, _)) = &self.evaluation {
            let k = p
                .evaluation_period
                .map(|k| format!(", last {k}"))
                .unwrap_or_default();
            e.push(Entry::line(
                format!("evaluation mean (policy {}{k})", p.index),
                canvas::color(1),
                2,
            ));
        }
        for p in &self.thresholds {
            e.push(Entry::dashed(
                format!("{}: cpu {} {} %", p.action, p.operator, human(p.operand, 4)),
                threshold_color(p),
                2,
            ));
        }
        e.push(Entry::line("VMs Running (right axis)", canvas::INK, 2));
        e.push(Entry::line(
            "VMs in the MCIS (right axis)",
            canvas::MUTED,
            2,
        ));
        let mut kinds: Vec<&str> = Vec::new();
        for a in self.actions.iter().filter(|a| !a.skipped) {
            if !kinds.contains(&a.action.as_str()) {
                kinds.push(&a.action);
            }
        }
        for k in kinds {
            let (shape, color) = action_style(k);
            e.push(Entry::marker(k.to_string(), shape, color, true));
        }
        if self.actions.iter().any(|a| a.skipped) {
            e.push(Entry::marker(
                "skipped action (VM limit)",
                Shape::Circle,
                canvas::MUTED,
                false,
            ));
        }
        e
    }
}

impl Figure for ControlFigure {
    fn size(&self) -> (u32, u32) {
        (1100, 600)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _vector: bool,
    ) -> Result<(), String> {
        let area = root
            .titled(&self.title, canvas::title_style())
            .map_err(de)?;
        let entries = self.entries();
        let (plot, legend) = canvas::with_legend(&area, &entries);
        let x = canvas::span(self.times.iter().map(|t| self.unit.of(*t)));
        let cpu_max = self
            .cpu
            .iter()
            .copied()
            .chain(self.thresholds.iter().map(|p| p.operand))
            .filter(|v| v.is_finite())
            .fold(100.0, f64::max);
        let vm_max = self
            .vms
            .iter()
            .chain(&self.running)
            .copied()
            .filter(|v| v.is_finite())
            .fold(1.0, f64::max);
        let mut chart = canvas::chart_on(&plot)
            .right_y_label_area_size(72)
            .build_cartesian_2d(x.clone(), 0.0..cpu_max * 1.05)
            .map_err(de)?
            .set_secondary_coord(x.clone(), 0.0..(vm_max * 1.25).ceil());
        canvas::styled_mesh(&mut chart.configure_mesh())
            .x_desc(format!("time ({})", self.unit.name))
            .y_desc("CPU (%)")
            .draw()
            .map_err(de)?;
        canvas::styled_secondary(&mut chart.configure_secondary_axes())
            .y_desc("VMs")
            .draw()
            .map_err(de)?;
        chart
            .draw_secondary_series(LineSeries::new(
                steps(&self.times, &self.vms, self.unit),
                canvas::MUTED.stroke_width(2),
            ))
            .map_err(de)?;
        chart
            .draw_secondary_series(LineSeries::new(
                steps(&self.times, &self.running, self.unit),
                canvas::INK.stroke_width(2),
            ))
            .map_err(de)?;
        for p in &self.thresholds {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x.start, p.operand), (x.end, p.operand)],
                    10,
                    6,
                    threshold_color(p).stroke_width(2),
                ))
                .map_err(de)?;
        }
        if let Some((_, pts)) = &self.evaluation {
            let pts: Vec<(f64, f64)> = pts.iter().map(|(t, v)| (self.unit.of(*t), *v)).collect();
            for seg in canvas::segments(&pts) {
                chart
                    .draw_series(LineSeries::new(seg, canvas::color(1).stroke_width(2)))
                    .map_err(de)?;
            }
        }
        let cpu: Vec<(f64, f64)> = self
            .times
            .iter()
            .zip(&self.cpu)
            .map(|(t, v)| (self.unit.of(*t), *v))
            .collect();
        for seg in canvas::segments(&cpu) {
            chart
                .draw_series(LineSeries::new(seg, canvas::color(0).stroke_width(2)))
                .map_err(de)?;
        }
        // Actions at the VM count of the first sample at or after them.
        let secondary = chart.borrow_secondary();
        let mut drawn = Vec::new();
        for a in self
            .actions
            .iter()
            .filter(|a| a.skipped)
            .chain(self.actions.iter().filter(|a| !a.skipped))
        {
            let i = self
                .times
                .partition_point(|t| *t < a.time)
                .min(self.times.len() - 1);
            let v = self.vms[i];
            let px = secondary
                .backend_coord(&(self.unit.of(a.time), if v.is_finite() { v } else { 0.0 }));
            let key = (px, a.skipped, a.action.clone());
            if drawn.contains(&key) {
                continue;
            }
            drawn.push(key);
            let (shape, color) = if a.skipped {
                (Shape::Circle, canvas::MUTED)
            } else {
                action_style(&a.action)
            };
            canvas::marker(
                root,
                px,
                shape,
                color,
                !a.skipped,
                if a.skipped { 5 } else { 8 },
            )?;
        }
        if let Some(l) = legend {
            canvas::draw_legend(&l, &entries, 20)?;
        }
        Ok(())
    }
}

/// Keeps letters, digits, `-` and `_` of a name for a file name.
pub fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The `control_<mcis>` plots of results folder `dir`.
pub fn plots(dir: &Path) -> Result<Outcome, ReportError> {
    let ctl = match Csv::for_plot(dir, file::CONTROL)? {
        Ok(c) => c,
        Err(_) => {
            return Ok(Err(
                "control.csv has no rows (no auto-control policy)".into()
            ));
        }
    };
    let c = match ctl.cols(&["time_s", "mcis", "mean_cpu_pct", "vms_running", "vms"]) {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    let samples = Csv::read(dir, file::CONTROL_SAMPLES)?;
    let actions = Csv::read(dir, file::CONTROL_ACTIONS)?;
    let policies = policies(dir);
    let mut mcis: Vec<String> = Vec::new();
    for r in &ctl.rows {
        let m = ctl.cell(r, c[1]);
        if !mcis.iter().any(|x| x == m) {
            mcis.push(m.to_string());
        }
    }
    let mut out = Vec::new();
    for m in &mcis {
        let rows: Vec<&Vec<String>> = ctl.rows.iter().filter(|r| ctl.cell(r, c[1]) == m).collect();
        let col = |k: usize| -> Vec<f64> { rows.iter().map(|r| ctl.num(r, c[k])).collect() };
        let times = col(0);
        let thresholds: Vec<Policy> = policies
            .iter()
            .filter(|p| p.mcis == *m && p.metric == "cpu")
            .cloned()
            .collect();
        let other_metrics: Vec<String> = policies
            .iter()
            .filter(|p| p.mcis == *m && p.metric != "cpu")
            .map(|p| format!("{} on {}", p.action, p.metric))
            .collect();
        let evaluation = samples.as_ref().and_then(|s| {
            let k = s
                .cols(&["time_s", "mcis", "policy", "evaluation_mean"])
                .ok()?;
            let p = thresholds
                .iter()
                .find(|p| p.action == "scale_out")
                .or(thresholds.first())?;
            let idx = p.index.to_string();
            let pts: Vec<(f64, f64)> = s
                .rows
                .iter()
                .filter(|r| s.cell(r, k[1]) == m && s.cell(r, k[2]) == idx)
                .map(|r| (s.num(r, k[0]), s.num(r, k[3])))
                .collect();
            pts.iter()
                .any(|p| p.1.is_finite())
                .then(|| (p.clone(), pts))
        });
        let acts: Vec<Action> = actions
            .as_ref()
            .and_then(|a| {
                let k = a.cols(&["time_s", "mcis", "action", "detail"]).ok()?;
                Some(
                    a.rows
                        .iter()
                        .filter(|r| a.cell(r, k[1]) == m)
                        .map(|r| Action {
                            time: a.num(r, k[0]),
                            action: a.cell(r, k[2]).to_string(),
                            skipped: a.cell(r, k[3]).starts_with("skipped"),
                        })
                        .filter(|a| a.time.is_finite())
                        .collect(),
                )
            })
            .unwrap_or_default();
        let unit = TimeUnit::for_span(times.iter().copied().fold(0.0, f64::max));
        let done = acts.iter().filter(|a| !a.skipped).count();
        let skipped = acts.len() - done;
        let mut caption = format!(
            "Auto-control of MCIS {m}: the MCIS mean CPU the loop computed at each sample \
             (control.csv), the evaluation mean a policy compares with its threshold \
             (control_samples.csv), the CPU thresholds of scenario.toml, the VM count on the \
             right axis, and the {done} action{} taken as markers",
            if done == 1 { "" } else { "s" }
        );
        if skipped > 0 {
            caption.push_str(&format!(" ({skipped} skipped at a VM limit, hollow)"));
        }
        caption.push('.');
        if !other_metrics.is_empty() {
            caption.push_str(&format!(
                " Policies on other metrics (not drawn): {}.",
                other_metrics.join(", ")
            ));
        }
        let title = format!("Auto-control timeline: MCIS {m}");
        let fig = ControlFigure {
            title: title.clone(),
            unit,
            cpu: col(2),
            running: col(3),
            vms: col(4),
            times,
            evaluation,
            thresholds,
            actions: acts,
        };
        match canvas::plot(&format!("control_{}", file_safe(m)), &title, caption, &fig) {
            Ok(p) => out.push(p),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(out))
}
