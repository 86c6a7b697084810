//! Drawing a figure: the embedded font, text sizes, colours, legends beside the plot (never over
//! the data), and rendering one figure to both SVG and PNG.

use plotters::chart::{MeshStyle, SecondaryMeshStyle};
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use std::sync::Once;

/// DejaVu Sans (see `assets/fonts/README.md`), registered as `sans-serif`.
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family every text of a plot uses (SVG text names it, so browsers use their own).
pub const FAMILY: &str = "sans-serif";

static REGISTER: Once = Once::new();

/// Registers the embedded font with plotters (once per process).
pub fn register_font() {
    REGISTER.call_once(|| {
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_err() {
            panic!("the embedded font does not parse");
        }
    });
}

/// A plotting error as text.
pub fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Plot title.
pub fn title_style() -> TextStyle<'static> {
    (FAMILY, 28).into_font().style(FontStyle::Bold).color(&INK)
}
/// Panel title inside a figure.
pub fn panel_style() -> TextStyle<'static> {
    (FAMILY, 20).into_font().style(FontStyle::Bold).color(&INK)
}
/// Axis descriptions.
pub fn label_style() -> TextStyle<'static> {
    (FAMILY, 21).into_font().color(&INK)
}
/// Tick labels.
pub fn tick_style() -> TextStyle<'static> {
    (FAMILY, 18).into_font().color(&INK)
}
/// Legend entries.
pub fn legend_style() -> TextStyle<'static> {
    (FAMILY, 18).into_font().color(&INK)
}
/// Small annotations (cell values).
pub fn small_style() -> TextStyle<'static> {
    (FAMILY, 16).into_font().color(&INK)
}

/// A chart on `area` with the house margins and label areas: tick labels and an axis
/// description below and to the left, room on the right for the last tick label.
pub fn chart_on<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin(12)
        .margin_right(26)
        .x_label_area_size(56)
        .y_label_area_size(104);
    b
}

/// The house style of a chart's mesh: tick and axis-description fonts, grid colours, and tick
/// labels by [`tick`](super::data::tick) on both axes (a caller may set other formatters after).
pub fn styled_mesh<'m, 'a, 'b, X, Y, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
    DB: DrawingBackend,
{
    mesh.label_style(tick_style())
        .axis_desc_style(label_style())
        .light_line_style(GRID)
        .bold_line_style(GRID_BOLD)
        .x_label_formatter(&tick_label)
        .y_label_formatter(&tick_label)
}

/// The right-hand axis of a chart with two, in the house style of [`styled_mesh`].
pub fn styled_secondary<'m, 'a, 'b, X, Y, DB>(
    axes: &'m mut SecondaryMeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut SecondaryMeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    DB: DrawingBackend,
{
    axes.label_style(tick_style())
        .axis_desc_style(label_style())
        .y_label_formatter(&tick_label)
}

fn tick_label(v: &f64) -> String {
    super::data::tick(*v)
}

pub const INK: RGBColor = RGBColor(33, 37, 41);
/// Minor and major grid lines.
pub const GRID: RGBColor = RGBColor(243, 244, 246);
pub const GRID_BOLD: RGBColor = RGBColor(208, 212, 217);
pub const MUTED: RGBColor = RGBColor(130, 135, 140);

/// A categorical palette (Tableau 10, then darker and lighter variants).
pub const PALETTE: [RGBColor; 16] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
    RGBColor(99, 121, 57),
    RGBColor(140, 109, 49),
    RGBColor(132, 60, 57),
    RGBColor(123, 65, 115),
    RGBColor(82, 84, 163),
];

/// The `i`-th palette colour.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A fixed colour per provider, so plots agree with each other.
pub fn provider_color(provider: &str) -> RGBColor {
    const KNOWN: [&str; 12] = [
        "aws",
        "azure",
        "gcp",
        "alibaba",
        "ibm",
        "oci",
        "tencent",
        "huawei",
        "ncp",
        "nhn",
        "kt",
        "openstack",
    ];
    const COLORS: [RGBColor; 12] = [
        RGBColor(255, 127, 14),
        RGBColor(31, 119, 180),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(23, 190, 207),
        RGBColor(227, 119, 194),
        RGBColor(188, 189, 34),
        RGBColor(57, 59, 121),
        RGBColor(99, 121, 57),
        RGBColor(127, 127, 127),
    ];
    match KNOWN.iter().position(|p| *p == provider) {
        Some(i) => COLORS[i],
        None => {
            // Any other name: a palette colour chosen from its bytes (stable, not hashed).
            let k = provider.bytes().fold(0usize, |a, b| a * 31 + b as usize);
            color(10 + k % 6)
        }
    }
}

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    /// Size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws on `root`, the whole canvas (already white); `vector` for the SVG rendering.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        vector: bool,
    ) -> Result<(), String>;
    /// Rewrites the finished SVG text (e.g. to embed an image); unchanged by default.
    fn svg_post(&self, svg: String) -> Result<String, String> {
        Ok(svg)
    }
}

/// Renders a figure to SVG text and PNG bytes.
pub fn render(fig: &impl Figure) -> Result<(String, Vec<u8>), String> {
    register_font();
    let (w, h) = fig.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(de)?;
        fig.draw(&root, true)?;
        root.present().map_err(de)?;
    }
    let svg = fig.svg_post(svg)?;
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(de)?;
        fig.draw(&root, false)?;
        root.present().map_err(de)?;
    }
    Ok((svg, encode_png(w, h, &rgb)?))
}

/// Encodes an RGB buffer as PNG (fixed settings: the same pixels give the same bytes).
pub fn encode_png(w: u32, h: u32, rgb: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Balanced);
        let mut writer = enc.write_header().map_err(de)?;
        writer.write_image_data(rgb).map_err(de)?;
        writer.finish().map_err(de)?;
    }
    Ok(out)
}

/// Renders `fig` into a [`super::Plot`].
pub fn plot(
    name: &str,
    title: &str,
    caption: String,
    fig: &impl Figure,
) -> Result<super::Plot, String> {
    let (svg, png) = render(fig)?;
    Ok(super::Plot {
        name: name.to_string(),
        title: title.to_string(),
        caption,
        svg,
        png,
    })
}

/// Marker shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Up,
    Down,
    Circle,
    Diamond,
}

/// What a legend entry shows before its label.
#[derive(Clone, Copy, Debug)]
pub enum Swatch {
    Line {
        color: RGBColor,
        width: u32,
        dashed: bool,
    },
    Area(RGBColor),
    Marker {
        shape: Shape,
        color: RGBColor,
        filled: bool,
    },
    /// A point with a vertical error bar.
    ErrorBar(RGBColor),
}

/// One legend entry.
#[derive(Clone, Debug)]
pub struct Entry {
    pub label: String,
    pub swatch: Swatch,
}

impl Entry {
    pub fn line(label: impl Into<String>, color: RGBColor, width: u32) -> Entry {
        Entry {
            label: label.into(),
            swatch: Swatch::Line {
                color,
                width,
                dashed: false,
            },
        }
    }
    pub fn dashed(label: impl Into<String>, color: RGBColor, width: u32) -> Entry {
        Entry {
            label: label.into(),
            swatch: Swatch::Line {
                color,
                width,
                dashed: true,
            },
        }
    }
    pub fn area(label: impl Into<String>, color: RGBColor) -> Entry {
        Entry {
            label: label.into(),
            swatch: Swatch::Area(color),
        }
    }
    pub fn marker(label: impl Into<String>, shape: Shape, color: RGBColor, filled: bool) -> Entry {
        Entry {
            label: label.into(),
            swatch: Swatch::Marker {
                shape,
                color,
                filled,
            },
        }
    }
}

/// Width of the legend column beside a plot: the longest label and its swatch, within bounds.
pub fn legend_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[Entry]) -> u32 {
    let style = legend_style();
    let longest = entries
        .iter()
        .map(|e| area.estimate_text_size(&e.label, &style).map_or(0, |s| s.0))
        .max()
        .unwrap_or(0);
    (longest + 64).clamp(140, 360)
}
/// Height of one legend row.
const ROW_H: i32 = 26;

/// Splits `area` into the plot and, when there are legend entries, a legend column on the
/// right (so a legend never covers data).
pub fn with_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> (DrawingArea<DB, Shift>, Option<DrawingArea<DB, Shift>>) {
    if entries.is_empty() {
        return (area.clone(), None);
    }
    let w = area.dim_in_pixel().0;
    let lw = legend_width(area, entries);
    let (plot, legend) = area.split_horizontally(w.saturating_sub(lw));
    (plot, Some(legend))
}

/// Draws legend entries from the top of `area` (offset by `top` pixels); labels too long for
/// the column are shortened with an ellipsis.
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    top: i32,
) -> Result<(), String> {
    let style = legend_style();
    let max_w = area.dim_in_pixel().0 as i32 - 56;
    for (i, e) in entries.iter().enumerate() {
        let y = top + i as i32 * ROW_H + ROW_H / 2;
        let x0 = 8;
        draw_swatch(area, (x0, y), e.swatch)?;
        let label = fit_text(area, &e.label, &style, max_w)?;
        area.draw(&Text::new(
            label,
            (x0 + 40, y),
            style.pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            )),
        ))
        .map_err(de)?;
    }
    Ok(())
}

/// Shortens `text` with an ellipsis to fit `max_w` pixels.
pub fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle<'_>,
    max_w: i32,
) -> Result<String, String> {
    let width = |s: &str| -> Result<i32, String> {
        Ok(area.estimate_text_size(s, style).map_err(de)?.0 as i32)
    };
    if width(text)? <= max_w {
        return Ok(text.to_string());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut n = chars.len();
    while n > 1 {
        n -= 1;
        let s: String = chars[..n].iter().collect::<String>() + "…";
        if width(&s)? <= max_w {
            return Ok(s);
        }
    }
    Ok("…".into())
}

/// Draws a legend swatch centred vertically at `(x, y)`, 30 pixels wide.
fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    swatch: Swatch,
) -> Result<(), String> {
    match swatch {
        Swatch::Line {
            color,
            width,
            dashed,
        } => {
            let style = color.stroke_width(width);
            if dashed {
                for k in 0..3 {
                    let a = x + k * 11;
                    area.draw(&PathElement::new(vec![(a, y), (a + 7, y)], style))
                        .map_err(de)?;
                }
            } else {
                area.draw(&PathElement::new(vec![(x, y), (x + 30, y)], style))
                    .map_err(de)?;
            }
        }
        Swatch::Area(color) => {
            area.draw(&Rectangle::new(
                [(x, y - 8), (x + 30, y + 8)],
                color.filled(),
            ))
            .map_err(de)?;
        }
        Swatch::Marker {
            shape,
            color,
            filled,
        } => marker(area, (x + 15, y), shape, color, filled, 7)?,
        Swatch::ErrorBar(color) => {
            let s = color.stroke_width(2);
            area.draw(&PathElement::new(vec![(x + 15, y - 9), (x + 15, y + 9)], s))
                .map_err(de)?;
            area.draw(&PathElement::new(vec![(x + 10, y - 9), (x + 20, y - 9)], s))
                .map_err(de)?;
            area.draw(&PathElement::new(vec![(x + 10, y + 9), (x + 20, y + 9)], s))
                .map_err(de)?;
            area.draw(&Circle::new((x + 15, y), 4, color.filled()))
                .map_err(de)?;
        }
    }
    Ok(())
}

/// Draws a marker of radius `r` centred at pixel `(x, y)` of `area`.
pub fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    shape: Shape,
    color: RGBColor,
    filled: bool,
    r: i32,
) -> Result<(), String> {
    let pts: Vec<(i32, i32)> = match shape {
        Shape::Circle => {
            let style = if filled {
                color.filled()
            } else {
                color.stroke_width(2)
            };
            return area
                .draw(&Circle::new((x, y), (r - 2).max(2), style))
                .map(|_| ())
                .map_err(de);
        }
        Shape::Up => vec![(x, y - r), (x + r, y + r - 2), (x - r, y + r - 2)],
        Shape::Down => vec![(x, y + r), (x + r, y - r + 2), (x - r, y - r + 2)],
        Shape::Diamond => vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)],
    };
    if filled {
        area.draw(&Polygon::new(pts.clone(), color.filled()))
            .map_err(de)?;
        area.draw(&PathElement::new(
            pts.iter().chain(pts.first()).copied().collect::<Vec<_>>(),
            WHITE.stroke_width(1),
        ))
        .map_err(de)?;
    } else {
        area.draw(&PathElement::new(
            pts.iter().chain(pts.first()).copied().collect::<Vec<_>>(),
            color.stroke_width(2),
        ))
        .map_err(de)?;
    }
    Ok(())
}

/// Splits `(x, y)` points into runs without NaN (gaps in a line).
pub fn segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur = Vec::new();
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            cur.push((x, y));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// An axis range from data: `[lo, hi]` padded by 5% above, never empty or non-finite.
pub fn range(values: impl IntoIterator<Item = f64>, zero: bool) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    if zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-12 {
        let pad = if hi.abs() > 0.0 { hi.abs() * 0.1 } else { 1.0 };
        return if zero && lo >= 0.0 {
            lo..hi + pad
        } else {
            lo - pad..hi + pad
        };
    }
    let span = hi - lo;
    let lo = if zero && lo >= 0.0 {
        lo
    } else {
        lo - span * 0.05
    };
    lo..hi + span * 0.05
}

/// The x range of a time axis: exactly the data's span.
pub fn span(values: impl IntoIterator<Item = f64>) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    if hi - lo < 1e-12 {
        return lo..lo + 1.0;
    }
    lo..hi
}

/// Left, centred-vertically text anchor.
pub fn left_center() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Left, VPos::Center)
}
/// Right, centred-vertically text anchor.
pub fn right_center() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Right, VPos::Center)
}
/// Centred text anchor.
pub fn center() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Center, VPos::Center)
}
/// Centred horizontally, hanging from the top.
pub fn center_top() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Center, VPos::Top)
}

/// Standard base64 with padding (for images embedded in SVG).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn nan_splits_lines() {
        let s = segments(&[(0.0, 1.0), (1.0, f64::NAN), (2.0, 3.0), (3.0, 4.0)]);
        assert_eq!(s, vec![vec![(0.0, 1.0)], vec![(2.0, 3.0), (3.0, 4.0)]]);
        assert_eq!(range([f64::NAN], true), 0.0..1.0);
        assert_eq!(range([0.0, 0.0], true), 0.0..1.0);
    }
}
