//! `plots/scaling.svg` (and `.png`): wall time and peak memory of `cloudtwin bench` against the
//! number of VMs, from `benches/scaling/scaling.csv` (written by `benches/scaling/run.sh`:
//! `vms,clouds,events,wall_s,cpu_s,peak_mb,bytes_per_vm,random_ns,latency_ns,command`, one row
//! per size).
//!
//! Two log-log panels side by side, the measured points joined by a line, each with a dashed
//! reference line proportional to the VM count through the smallest point
//! (`y = y0 * vms / vms0`): points on or under it grow linearly or better. The subtitle gives
//! the growth exponent between the two largest sizes, `log(y2 / y1) / log(x2 / x1)` (1 =
//! linear).
//!
//! Not part of a results folder's report: [`draw`] reads the CSV and writes the SVG and the PNG
//! beside it (`examples/scaling_plot.rs`). Only `vms`, `wall_s`, `peak_mb` and, when present,
//! `cpu_s` and `random_ns` are read; every row needs the first three as positive numbers, at
//! least two distinct VM counts are needed, and a bad cell is an error naming its row, line and
//! column. When every row has `cpu_s` (the simulating thread's CPU time), the time panel shows
//! it instead of the wall time: on a shared machine it is the figure that other work does not
//! inflate. When the two largest rows have `random_ns` (the machine's cost of a random
//! cache-line access at each size's peak memory, `cloudtwin bench memory`), the subtitle adds
//! how much that cost grew between them: the floor for a simulator whose state is touched at
//! random. Same CSV, same bytes.

use super::ReportError;
use super::canvas::{self, Entry, Figure, Shape, de};
use super::data::human;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// The columns read.
pub const COLUMNS: [&str; 3] = ["vms", "wall_s", "peak_mb"];

const TITLE: &str = "Scaling: time and peak memory against VMs";

/// One measured size.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub vms: f64,
    pub wall_s: f64,
    pub peak_mb: f64,
    /// CPU time of the simulating thread, when the CSV has it.
    pub cpu_s: Option<f64>,
    /// The machine's cost of a random cache-line access over a buffer of this size's peak
    /// memory (`cloudtwin bench memory`), when the CSV has it.
    pub random_ns: Option<f64>,
}

impl Point {
    /// Peak memory in GB (10^9 bytes; the bench's MB are 10^6).
    pub fn peak_gb(&self) -> f64 {
        self.peak_mb / 1000.0
    }
}

/// Parses the CSV text of file `name`: the points sorted by VMs. `Err` says what is wrong and
/// where (a missing column, a bad cell with its row, line and column, a repeated VM count,
/// fewer than two rows).
pub fn parse(name: &str, bytes: &[u8]) -> Result<Vec<Point>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| format!("{name}: {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut cols = [0usize; 3];
    let mut missing = Vec::new();
    for (c, want) in cols.iter_mut().zip(COLUMNS) {
        match header.iter().position(|h| h == want) {
            Some(i) => *c = i,
            None => missing.push(want),
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "{name} has no column {} (header: {})",
            missing.join(", "),
            header.join(",")
        ));
    }
    let cpu_col = header.iter().position(|h| h == "cpu_s");
    let random_col = header.iter().position(|h| h == "random_ns");
    let mut points: Vec<(Point, usize)> = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut row = 0;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(format!("{name}: {e}")),
        }
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        row += 1;
        let line = rec.position().map_or(row + 1, |p| p.line() as usize);
        let mut v = [0.0f64; 3];
        for (k, (&c, want)) in cols.iter().zip(COLUMNS).enumerate() {
            let cell = rec.get(c).unwrap_or("").trim();
            v[k] = match cell.parse::<f64>() {
                Ok(x) if x.is_finite() && x > 0.0 => x,
                _ => {
                    return Err(format!(
                        "{name}: row {row} (line {line}), column {want}: {cell:?} is not a \
                         positive number"
                    ));
                }
            };
        }
        let cpu_s = optional_positive(&rec, cpu_col, "cpu_s", name, row, line)?;
        let random_ns = optional_positive(&rec, random_col, "random_ns", name, row, line)?;
        if let Some((_, other)) = points.iter().find(|(p, _)| p.vms == v[0]) {
            return Err(format!(
                "{name}: rows {other} and {row} both have vms = {}",
                human(v[0], 6)
            ));
        }
        points.push((
            Point {
                vms: v[0],
                wall_s: v[1],
                peak_mb: v[2],
                cpu_s,
                random_ns,
            },
            row,
        ));
    }
    if points.len() < 2 {
        return Err(format!(
            "{name} has {} row{}: the plot needs at least two sizes",
            points.len(),
            if points.len() == 1 { "" } else { "s" }
        ));
    }
    let mut points: Vec<Point> = points.into_iter().map(|(p, _)| p).collect();
    points.sort_by(|a, b| a.vms.total_cmp(&b.vms));
    Ok(points)
}

/// The cell of an optional column (`None` when the CSV has no such column or the cell is
/// empty); a cell that is there must be a positive number.
fn optional_positive(
    rec: &csv::StringRecord,
    col: Option<usize>,
    want: &str,
    name: &str,
    row: usize,
    line: usize,
) -> Result<Option<f64>, String> {
    match col.map(|c| rec.get(c).unwrap_or("").trim()) {
        None | Some("") => Ok(None),
        Some(cell) => match cell.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(Some(x)),
            _ => Err(format!(
                "{name}: row {row} (line {line}), column {want}: {cell:?} is not a positive \
                 number"
            )),
        },
    }
}

/// The growth exponent between `(x1, y1)` and `(x2, y2)`: `log(y2 / y1) / log(x2 / x1)`.
pub fn exponent((x1, y1): (f64, f64), (x2, y2): (f64, f64)) -> f64 {
    (y2 / y1).ln() / (x2 / x1).ln()
}

/// A VM count for an axis or a subtitle: `10k`, `2.5M`.
pub fn vms_label(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", human(v / 1e6, 3))
    } else if v >= 1e3 {
        format!("{}k", human(v / 1e3, 3))
    } else {
        human(v, 3)
    }
}

/// A measured value beside its point: `1.62 s`, `9.1 GB`, and memory under 1 GB in MB (`56.1 MB`).
fn value_label(v: f64, unit: &str) -> String {
    if unit == "GB" && v < 1.0 {
        format!("{} MB", human(v * 1000.0, 3))
    } else {
        format!("{} {unit}", human(v, 3))
    }
}

/// `m * 10^d` as the double nearest the decimal (so `3e-1` is 0.3, not 0.30000000000000004).
fn decimal(m: u32, d: i32) -> f64 {
    format!("{m}e{d}").parse().unwrap_or(f64::NAN)
}

/// Ticks of a log axis over `[lo, hi]`: labelled ones (decades; also 2 and 5 times them when
/// fewer than three decades show; every multiple when still fewer than two) and grid lines at
/// every multiple 1..9 of a decade.
pub fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let mut all: Vec<(u32, f64)> = Vec::new();
    if lo.is_finite() && hi.is_finite() && lo > 0.0 && hi >= lo {
        for d in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
            for m in 1..=9 {
                let v = decimal(m, d);
                if v >= lo && v <= hi {
                    all.push((m, v));
                }
            }
        }
    }
    let pick = |ms: &[u32]| -> Vec<f64> {
        all.iter()
            .filter(|(m, _)| ms.contains(m))
            .map(|(_, v)| *v)
            .collect()
    };
    let mut bold = pick(&[1]);
    if bold.len() < 3 {
        bold = pick(&[1, 2, 5]);
    }
    if bold.len() < 2 {
        bold = all.iter().map(|(_, v)| *v).collect();
    }
    (bold, all.into_iter().map(|(_, v)| v).collect())
}

/// The two ends of the dashed reference `y = y0 * x / x0`: from the smallest point to where it
/// leaves the chart (its right edge, or its top if it gets there first). An end outside the
/// ranges would be pulled onto the edge by the backend, which bends the line: it then showed
/// linear growth slower than it is, and points under it above it.
fn reference_line(
    (x0, y0): (f64, f64),
    xr: &std::ops::Range<f64>,
    yr: &std::ops::Range<f64>,
) -> [(f64, f64); 2] {
    let x_end = xr.end.min(x0 * yr.end / y0);
    [(x0, y0), (x_end, y0 * x_end / x0)]
}

/// `[lo, hi]` widened by `below` and `above` decades.
fn log_range(
    values: impl IntoIterator<Item = f64>,
    below: f64,
    above: f64,
) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        if v.is_finite() && v > 0.0 {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return 1.0..10.0;
    }
    lo * 10f64.powf(-below)..hi * 10f64.powf(above)
}

/// One panel: what it measures and its values per point.
struct Panel {
    title: &'static str,
    y_desc: &'static str,
    unit: &'static str,
    color: RGBColor,
    shape: Shape,
    values: Vec<f64>,
}

/// The figure: the VM counts, two panels and the subtitle.
pub struct ScalingFigure {
    vms: Vec<f64>,
    panels: [Panel; 2],
    subtitle: String,
}

impl ScalingFigure {
    /// The figure of `points` (sorted by VMs, at least two).
    pub fn new(points: &[Point]) -> ScalingFigure {
        let vms: Vec<f64> = points.iter().map(|p| p.vms).collect();
        // CPU time where every size has it (see the module's doc), else wall time.
        let cpu: Option<Vec<f64>> = points.iter().map(|p| p.cpu_s).collect();
        let (time, what, title, y_desc) = match cpu {
            Some(c) => (
                c,
                "CPU time",
                "CPU time",
                "CPU time of the simulating thread (s)",
            ),
            None => (
                points.iter().map(|p| p.wall_s).collect(),
                "wall time",
                "Wall time",
                "wall time (s)",
            ),
        };
        let mem: Vec<f64> = points.iter().map(Point::peak_gb).collect();
        let n = points.len();
        let subtitle = if n >= 2 {
            let (a, b) = (n - 2, n - 1);
            let mut s = format!(
                "growth exponent from {} to {} VMs (1 = linear): {what} {:.2}, peak memory {:.2}",
                vms_label(vms[a]),
                vms_label(vms[b]),
                exponent((vms[a], time[a]), (vms[b], time[b])),
                exponent((vms[a], mem[a]), (vms[b], mem[b])),
            );
            // What the machine itself does over the same sizes: a random access's cost at
            // the larger footprint against the smaller's.
            if let (Some(ra), Some(rb)) = (points[a].random_ns, points[b].random_ns) {
                s += &format!("; a random memory access x{:.2}", rb / ra);
            }
            s
        } else {
            String::new()
        };
        ScalingFigure {
            vms,
            panels: [
                Panel {
                    title,
                    y_desc,
                    unit: "s",
                    color: canvas::color(0),
                    shape: Shape::Circle,
                    values: time,
                },
                Panel {
                    title: "Peak memory",
                    y_desc: "peak memory (GB)",
                    unit: "GB",
                    color: canvas::color(1),
                    shape: Shape::Diamond,
                    values: mem,
                },
            ],
            subtitle,
        }
    }

    /// The subtitle (growth exponents between the two largest sizes).
    pub fn subtitle(&self) -> &str {
        &self.subtitle
    }

    fn entries(&self) -> Vec<Entry> {
        let mut e: Vec<Entry> = self
            .panels
            .iter()
            .map(|p| Entry::marker(format!("{}, measured", p.title), p.shape, p.color, true))
            .collect();
        let smallest = self.vms.first().copied().unwrap_or(f64::NAN);
        e.push(Entry::dashed(
            format!("linear from {} VMs", vms_label(smallest)),
            canvas::MUTED,
            2,
        ));
        e
    }

    fn draw_panel<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
    ) -> Result<(), String> {
        let (x0, y0) = (self.vms[0], panel.values[0]);
        let xr = log_range(self.vms.iter().copied(), 0.2, 0.45);
        let linear = |x: f64| y0 * x / x0;
        let yr = log_range(
            panel
                .values
                .iter()
                .copied()
                .chain([linear(self.vms[self.vms.len() - 1])]),
            0.25,
            0.2,
        );
        let reference = reference_line((x0, y0), &xr, &yr);
        let (xb, xl) = log_ticks(xr.start, xr.end);
        let (yb, yl) = log_ticks(yr.start, yr.end);
        let mut chart = ChartBuilder::on(area)
            .margin_left(12)
            .margin_right(20)
            .margin_top(8)
            .caption(panel.title, canvas::panel_style())
            .x_label_area_size(56)
            .y_label_area_size(96)
            .build_cartesian_2d(
                xr.clone()
                    .log_scale()
                    .with_key_points(xb)
                    .with_light_points(xl),
                yr.clone()
                    .log_scale()
                    .with_key_points(yb)
                    .with_light_points(yl),
            )
            .map_err(de)?;
        canvas::styled_mesh(&mut chart.configure_mesh())
            .x_desc("VMs")
            .y_desc(panel.y_desc)
            .x_label_formatter(&|v| vms_label(*v))
            .y_label_formatter(&|v| human(*v, 3))
            .draw()
            .map_err(de)?;
        chart
            .draw_series(DashedLineSeries::new(
                reference,
                10,
                6,
                canvas::MUTED.stroke_width(2),
            ))
            .map_err(de)?;
        let pts: Vec<(f64, f64)> = self.vms.iter().copied().zip(panel.values.clone()).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), panel.color.stroke_width(2)))
            .map_err(de)?;
        // Markers and values in pixels of the whole canvas (backend coordinates).
        let style = canvas::small_style().pos(canvas::left_center());
        for &(x, y) in &pts {
            let (px, py) = chart.backend_coord(&(x, y));
            canvas::marker(root, (px, py), panel.shape, panel.color, true, 8)?;
            // The value right of and below its point: under the line, which rises to the right.
            root.draw(&Text::new(
                value_label(y, panel.unit),
                (px + 12, py + 16),
                style.clone(),
            ))
            .map_err(de)?;
        }
        Ok(())
    }
}

impl Figure for ScalingFigure {
    fn size(&self) -> (u32, u32) {
        (1400, 620)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _vector: bool,
    ) -> Result<(), String> {
        if self.vms.is_empty() {
            return Err("no measured sizes".into());
        }
        let area = root.titled(TITLE, canvas::title_style()).map_err(de)?;
        let (sub, rest) = area.split_vertically(40);
        sub.draw(&Text::new(
            self.subtitle.clone(),
            (sub.dim_in_pixel().0 as i32 / 2, 14),
            canvas::label_style().pos(canvas::center()),
        ))
        .map_err(de)?;
        let entries = self.entries();
        let (plot, legend) = canvas::with_legend(&rest, &entries);
        let parts = plot.split_evenly((1, 2));
        for (panel, part) in self.panels.iter().zip(&parts) {
            self.draw_panel(root, part, panel)?;
        }
        if let Some(l) = legend {
            canvas::draw_legend(&l, &entries, 40)?;
        }
        Ok(())
    }
}

/// Renders the figure of `points` (sorted by VMs, at least two): SVG text and PNG bytes.
pub fn render(points: &[Point]) -> Result<(String, Vec<u8>), String> {
    if points.len() < 2 {
        return Err("the plot needs at least two sizes".into());
    }
    canvas::render(&ScalingFigure::new(points))
}

/// Reads `csv`, draws the figure and writes it to `svg` (which must end in `.svg`) and the PNG
/// beside it; creates the folder. Returns the subtitle. A missing or malformed CSV is
/// [`ReportError::BadInput`].
pub fn draw(csv: &Path, svg: &Path) -> Result<String, ReportError> {
    if svg.extension().and_then(|e| e.to_str()) != Some("svg") {
        return Err(ReportError::BadInput(format!(
            "{}: the output must end in .svg (the PNG goes beside it)",
            svg.display()
        )));
    }
    if !csv.is_file() {
        return Err(ReportError::BadInput(format!(
            "{}: no such file (benches/scaling/run.sh writes it)",
            csv.display()
        )));
    }
    let bytes = std::fs::read(csv).map_err(|e| ReportError::io(csv, e))?;
    let points = parse(&csv.display().to_string(), &bytes).map_err(ReportError::BadInput)?;
    let fig = ScalingFigure::new(&points);
    let (text, png) = canvas::render(&fig).map_err(|e| ReportError::io(svg, e))?;
    if let Some(dir) = svg.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    }
    std::fs::write(svg, text.as_bytes()).map_err(|e| ReportError::io(svg, e))?;
    let png_path = svg.with_extension("png");
    std::fs::write(&png_path, png).map_err(|e| ReportError::io(&png_path, e))?;
    Ok(fig.subtitle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &[u8] = b"vms,clouds,events,wall_s,peak_mb,bytes_per_vm,command\n\
10000,1000,6923509,1.622,56.1,5166,cloudtwin bench scale-1m --set topology.vms_per_cloud=10\n\
100000,1000,69000000,15.9,140.2,1200,cloudtwin bench scale-1m --set topology.vms_per_cloud=100\n\
10000000,10000,1523000000,520.0,9100.0,900,cloudtwin bench scale-10m\n\
1000000,1000,152345827,50.908,919.2,850,cloudtwin bench scale-1m\n";

    #[test]
    fn renders_axes_and_is_deterministic() {
        let points = parse("scaling.csv", CSV).unwrap();
        assert_eq!(points.len(), 4);
        // Sorted by VMs.
        assert_eq!(points[3].vms, 1e7);
        let (svg, png) = render(&points).unwrap();
        for text in [
            "VMs",
            "wall time (s)",
            "peak memory (GB)",
            "10k",
            "10M",
            "growth exponent from 1M to 10M VMs",
            "linear from 10k VMs",
        ] {
            assert!(svg.contains(text), "no {text:?} in the SVG");
        }
        assert!(png.starts_with(b"\x89PNG"));
        let (svg2, png2) = render(&points).unwrap();
        assert!(svg == svg2 && png == png2, "two renderings differ");
        let fig = ScalingFigure::new(&points);
        // log(520 / 50.908) / log(10) = 1.009; log(9.1 / 0.9192) / log(10) = 0.996.
        assert!(fig.subtitle().ends_with("wall time 1.01, peak memory 1.00"));
    }

    /// With `cpu_s` in every row the time panel and the exponent use it; a row without it
    /// falls back to wall time for the whole figure; a bad `cpu_s` cell names its place.
    #[test]
    fn cpu_time_when_every_row_has_it() {
        let csv = b"vms,wall_s,cpu_s,peak_mb\n1000000,90,30,900\n10000000,900,600,9000\n";
        let fig = ScalingFigure::new(&parse("scaling.csv", csv).unwrap());
        // log(600 / 30) / log(10) = 1.30 (the wall time's would be 1.00).
        assert!(fig.subtitle().ends_with("CPU time 1.30, peak memory 1.00"));
        let (svg, _) = render(&parse("scaling.csv", csv).unwrap()).unwrap();
        assert!(svg.contains("CPU time of the simulating thread (s)"));
        let partial = b"vms,wall_s,cpu_s,peak_mb\n1000000,90,,900\n10000000,900,600,9000\n";
        let fig = ScalingFigure::new(&parse("scaling.csv", partial).unwrap());
        assert!(fig.subtitle().ends_with("wall time 1.00, peak memory 1.00"));
        let bad = b"vms,wall_s,cpu_s,peak_mb\n1000000,90,-3,900\n10000000,900,600,9000\n";
        let e = parse("scaling.csv", bad).unwrap_err();
        assert!(e.contains("row 1 (line 2), column cpu_s"), "{e}");
    }

    /// With `random_ns` in the two largest rows the subtitle says how the machine's random
    /// access grew between them; a bad cell names its place.
    #[test]
    fn the_machines_random_access_when_the_csv_has_it() {
        let csv = b"vms,wall_s,peak_mb,random_ns\n1000000,90,900,14\n10000000,990,9000,21\n";
        let fig = ScalingFigure::new(&parse("scaling.csv", csv).unwrap());
        assert!(
            fig.subtitle()
                .ends_with("wall time 1.04, peak memory 1.00; a random memory access x1.50"),
            "{}",
            fig.subtitle()
        );
        let partial = b"vms,wall_s,peak_mb,random_ns\n1000000,90,900,\n10000000,990,9000,21\n";
        let fig = ScalingFigure::new(&parse("scaling.csv", partial).unwrap());
        assert!(
            fig.subtitle().ends_with("peak memory 1.00"),
            "{}",
            fig.subtitle()
        );
        let bad = b"vms,wall_s,peak_mb,random_ns\n1000000,90,900,0\n10000000,990,9000,21\n";
        let e = parse("scaling.csv", bad).unwrap_err();
        assert!(e.contains("row 1 (line 2), column random_ns"), "{e}");
    }

    #[test]
    fn bad_input_names_row_and_column() {
        let bad = b"vms,wall_s,peak_mb\n10000,1.5,56\n100000,x1.5,140\n";
        let e = parse("scaling.csv", bad).unwrap_err();
        assert!(e.contains("row 2 (line 3), column wall_s"), "{e}");
        assert!(e.contains("\"x1.5\""), "{e}");
        let e = parse("scaling.csv", b"vms,wall_s\n1,2\n3,4\n").unwrap_err();
        assert!(e.contains("no column peak_mb"), "{e}");
        let e = parse("scaling.csv", b"vms,wall_s,peak_mb\n10000,1.5,56\n").unwrap_err();
        assert!(
            e.contains("1 row: the plot needs at least two sizes"),
            "{e}"
        );
        let e = parse("scaling.csv", b"vms,wall_s,peak_mb\n10,1,1\n10,2,2\n").unwrap_err();
        assert!(e.contains("rows 1 and 2 both have vms = 10"), "{e}");
        let e = parse("scaling.csv", b"vms,wall_s,peak_mb\n10,0,1\n20,2,2\n").unwrap_err();
        assert!(e.contains("row 1 (line 2), column wall_s"), "{e}");
        assert!(parse("scaling.csv", b"").is_err());
    }

    #[test]
    fn the_reference_line_ends_inside_the_chart() {
        // Ten times the VMs in ten times the time: on the line, at every size.
        let vms = [1e4, 1e7];
        let xr = log_range(vms, 0.2, 0.45);
        let yr = log_range([0.1, 100.0], 0.25, 0.2);
        let [(x0, y0), (x1, y1)] = reference_line((1e4, 0.1), &xr, &yr);
        assert_eq!((x0, y0), (1e4, 0.1));
        // The top of the chart comes before its right edge: the line stops there.
        assert!(
            x1 < xr.end && (y1 - yr.end).abs() < 1e-9 * yr.end,
            "{x1} {y1}"
        );
        assert!((y1 / y0 - x1 / x0).abs() < 1e-9 * (x1 / x0), "slope 1");
        // A chart tall enough: the line reaches its right edge.
        let tall = 1e-3..1e6;
        let [_, (x1, y1)] = reference_line((1e4, 0.1), &xr, &tall);
        assert_eq!(x1, xr.end);
        assert!((y1 - 0.1 * xr.end / 1e4).abs() < 1e-9 * y1);
    }

    #[test]
    fn ticks_and_exponents() {
        let (bold, light) = log_ticks(6e3, 2e7);
        assert_eq!(bold, [1e4, 1e5, 1e6, 1e7]);
        assert_eq!(light.len(), 3 * 9 + 2 + 4);
        let (bold, _) = log_ticks(0.25, 4.0);
        assert_eq!(bold, [0.5, 1.0, 2.0]);
        let (bold, _) = log_ticks(0.31, 0.45);
        assert_eq!(bold, [0.4]);
        assert_eq!(vms_label(1e4), "10k");
        assert_eq!(vms_label(2.5e6), "2.5M");
        assert_eq!(value_label(0.0561, "GB"), "56.1 MB");
        assert_eq!(value_label(9.1, "GB"), "9.1 GB");
        assert_eq!(value_label(1.622, "s"), "1.62 s");
        assert!((exponent((1e6, 50.0), (1e7, 500.0)) - 1.0).abs() < 1e-12);
    }
}
