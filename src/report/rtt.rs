//! `rtt_heatmap`: the cloud x cloud median RTT (`cloud_rtt.csv`), clouds ordered by provider
//! and then by longitude (`clouds.csv`), west to east.

use super::canvas::{self, Figure, de};
use super::data::{Csv, human, tick};
use super::{Outcome, ReportError};
use crate::output::names::file;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;
use std::path::Path;

/// Viridis, sampled every eighth.
const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (72, 40, 120),
    (62, 73, 137),
    (49, 104, 142),
    (38, 130, 142),
    (31, 158, 137),
    (53, 183, 121),
    (110, 206, 88),
    (253, 231, 37),
];

/// Colour levels of the scale (cells of equal level in a row are drawn as one rectangle).
const LEVELS: usize = 256;

/// The colour of level `k` of `LEVELS`.
pub fn level_color(k: usize) -> RGBColor {
    let t = k.min(LEVELS - 1) as f64 / (LEVELS - 1) as f64 * 8.0;
    let i = (t.floor() as usize).min(7);
    let f = t - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The clouds in display order and the RTT matrix (row = source, NaN where missing).
#[derive(Clone, Debug)]
pub struct Matrix {
    pub clouds: Vec<String>,
    pub providers: Vec<String>,
    pub rtt: Vec<f64>,
}

/// Orders clouds by provider, longitude, then name, and fills the matrix.
pub fn matrix(rtt: &Csv, clouds: Option<&Csv>) -> Result<Matrix, String> {
    let c = rtt.cols(&["src", "dst", "rtt_p50_ms"])?;
    let mut lon: BTreeMap<String, (String, f64)> = BTreeMap::new();
    if let Some((cl, k)) =
        clouds.and_then(|cl| cl.cols(&["cloud", "provider", "lon"]).ok().map(|k| (cl, k)))
    {
        for r in &cl.rows {
            lon.insert(
                cl.cell(r, k[0]).to_string(),
                (cl.cell(r, k[1]).to_string(), cl.num(r, k[2])),
            );
        }
    }
    let mut names: Vec<String> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in &rtt.rows {
        for k in [c[0], c[1]] {
            let n = rtt.cell(r, k);
            if seen.insert(n.to_string()) {
                names.push(n.to_string());
            }
        }
    }
    let key = |n: &str| -> (String, f64) {
        lon.get(n)
            .cloned()
            .unwrap_or_else(|| (n.split(':').next().unwrap_or("").to_string(), f64::INFINITY))
    };
    names.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then_with(|| a.cmp(b))
    });
    let index: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let n = names.len();
    let mut m = vec![f64::NAN; n * n];
    for r in &rtt.rows {
        let (i, j) = (index[rtt.cell(r, c[0])], index[rtt.cell(r, c[1])]);
        m[i * n + j] = rtt.num(r, c[2]);
    }
    let providers = names.iter().map(|n| key(n).0).collect();
    Ok(Matrix {
        clouds: names,
        providers,
        rtt: m,
    })
}

struct HeatFigure {
    m: Matrix,
    /// Cell size in pixels.
    cell: i32,
    /// Left and bottom label space.
    left: i32,
    bottom: i32,
    max: f64,
}

const TOP: i32 = 64;
const TITLE: &str = "Cloud x cloud RTT (median)";
/// Label every cloud up to this many clouds, else label provider groups.
const NAMED: usize = 40;

impl HeatFigure {
    fn side(&self) -> i32 {
        self.cell * self.m.clouds.len() as i32
    }
    fn level(&self, v: f64) -> usize {
        if self.max <= 0.0 {
            return 0;
        }
        ((v / self.max).clamp(0.0, 1.0) * (LEVELS - 1) as f64).round() as usize
    }
}

impl Figure for HeatFigure {
    /// Crisp cell edges; many cells as one embedded PNG of a pixel per cell, scaled up without
    /// smoothing (a fraction of the size of one rectangle per cell, and no seams).
    fn svg_post(&self, svg: String) -> Result<String, String> {
        let svg = svg.replacen("<svg ", "<svg shape-rendering=\"crispEdges\" ", 1);
        let n = self.m.clouds.len();
        if n <= NAMED {
            return Ok(svg);
        }
        let mut rgb = vec![255u8; n * n * 3];
        for (k, v) in self.m.rtt.iter().enumerate() {
            if v.is_finite() {
                let c = level_color(self.level(*v));
                rgb[k * 3..k * 3 + 3].copy_from_slice(&[c.0, c.1, c.2]);
            }
        }
        let png = canvas::encode_png(n as u32, n as u32, &rgb)?;
        let image = format!(
            "<image x=\"{}\" y=\"{TOP}\" width=\"{side}\" height=\"{side}\" \
             preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" \
             href=\"data:image/png;base64,{}\"/>\n",
            self.left,
            canvas::base64(&png),
            side = self.side()
        );
        // After the white background, the first element.
        let at = svg
            .find("<rect")
            .and_then(|r| svg[r..].find("/>").map(|e| r + e + 2))
            .ok_or("no background in the SVG")?;
        let at = at + svg[at..].find('\n').map_or(0, |i| i + 1);
        Ok(format!("{}{image}{}", &svg[..at], &svg[at..]))
    }

    fn size(&self) -> (u32, u32) {
        let w = self.left + self.side() + 190;
        let h = TOP + self.side() + self.bottom;
        (w.max(640) as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        vector: bool,
    ) -> Result<(), String> {
        let n = self.m.clouds.len();
        let (x0, y0, s, side) = (self.left, TOP, self.cell, self.side());
        let (w, _) = self.size();
        root.draw(&Text::new(
            TITLE,
            (w as i32 / 2, 10),
            canvas::title_style().pos(canvas::center_top()),
        ))
        .map_err(de)?;
        // Cells, one rectangle per run of equal colour in a row; missing pairs stay white. Many
        // cells are an embedded image in the SVG instead (see `svg_post`).
        let as_image = vector && n > NAMED;
        for i in (0..n).filter(|_| !as_image) {
            let mut j = 0;
            while j < n {
                let v = self.m.rtt[i * n + j];
                if !v.is_finite() {
                    j += 1;
                    continue;
                }
                let k = self.level(v);
                let mut e = j + 1;
                while e < n && {
                    let u = self.m.rtt[i * n + e];
                    u.is_finite() && self.level(u) == k
                } {
                    e += 1;
                }
                let (xa, ya) = (x0 + j as i32 * s, y0 + i as i32 * s);
                root.draw(&Rectangle::new(
                    [(xa, ya), (x0 + e as i32 * s, ya + s)],
                    level_color(k).filled(),
                ))
                .map_err(de)?;
                j = e;
            }
        }
        // Values in the cells when there is room.
        if s >= 56 {
            for i in 0..n {
                for j in 0..n {
                    let v = self.m.rtt[i * n + j];
                    if !v.is_finite() {
                        continue;
                    }
                    let bright = self.level(v) > LEVELS * 6 / 10;
                    let style = canvas::small_style()
                        .color(if bright { &canvas::INK } else { &WHITE })
                        .pos(canvas::center());
                    root.draw(&Text::new(
                        format!("{} ms", human(v, 3)),
                        (x0 + j as i32 * s + s / 2, y0 + i as i32 * s + s / 2),
                        style,
                    ))
                    .map_err(de)?;
                }
            }
        }
        // Provider groups: separators and, for many clouds, group labels.
        let mut groups: Vec<(String, usize, usize)> = Vec::new();
        for (i, p) in self.m.providers.iter().enumerate() {
            match groups.last_mut() {
                Some(g) if g.0 == *p => g.2 = i + 1,
                _ => groups.push((p.clone(), i, i + 1)),
            }
        }
        for g in groups.iter().skip(1) {
            let at = g.1 as i32 * s;
            let line = WHITE.stroke_width(2);
            root.draw(&PathElement::new(
                vec![(x0 + at, y0), (x0 + at, y0 + side)],
                line,
            ))
            .map_err(de)?;
            root.draw(&PathElement::new(
                vec![(x0, y0 + at), (x0 + side, y0 + at)],
                line,
            ))
            .map_err(de)?;
        }
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + side, y0 + side)],
            canvas::INK.stroke_width(1),
        ))
        .map_err(de)?;
        let tick_style = canvas::tick_style();
        let y_style = tick_style.pos(canvas::right_center());
        let x_style = tick_style
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Right, VPos::Center));
        let max_label = self.left - 58;
        let labels: Vec<(String, i32)> = if n <= NAMED {
            self.m
                .clouds
                .iter()
                .enumerate()
                .map(|(i, c)| (c.clone(), i as i32 * s + s / 2))
                .collect()
        } else {
            groups
                .iter()
                .filter(|g| (g.2 - g.1) as i32 * s >= 14)
                .map(|g| (g.0.clone(), (g.1 + g.2) as i32 * s / 2))
                .collect()
        };
        let x_flat = tick_style.pos(canvas::center_top());
        for (label, at) in &labels {
            let label = canvas::fit_text(root, label, &tick_style, max_label)?;
            root.draw(&Text::new(
                label.clone(),
                (x0 - 8, y0 + at),
                y_style.clone(),
            ))
            .map_err(de)?;
            if n <= NAMED {
                root.draw(&Text::new(label, (x0 + at, y0 + side + 8), x_style.clone()))
                    .map_err(de)?;
            } else {
                root.draw(&Text::new(label, (x0 + at, y0 + side + 8), x_flat.clone()))
                    .map_err(de)?;
            }
        }
        let order = if n <= NAMED {
            "by provider, then west to east"
        } else {
            "grouped by provider, west to east"
        };
        let label = canvas::label_style();
        root.draw(&Text::new(
            format!("destination cloud ({order})"),
            (x0 + side / 2, y0 + side + self.bottom - 26),
            label.pos(canvas::center()),
        ))
        .map_err(de)?;
        root.draw(&Text::new(
            format!("source cloud ({order})"),
            (20, y0 + side / 2),
            label
                .transform(FontTransform::Rotate270)
                .pos(canvas::center()),
        ))
        .map_err(de)?;
        // Colour bar.
        let bx = x0 + side + 36;
        let bar_h = side.max(120);
        let steps = 128;
        for k in 0..steps {
            let ya = y0 + bar_h - (k + 1) * bar_h / steps;
            let yb = y0 + bar_h - k * bar_h / steps;
            root.draw(&Rectangle::new(
                [(bx, ya), (bx + 22, yb)],
                level_color(k as usize * (LEVELS - 1) / (steps as usize - 1)).filled(),
            ))
            .map_err(de)?;
        }
        root.draw(&Rectangle::new(
            [(bx, y0), (bx + 22, y0 + bar_h)],
            canvas::INK.stroke_width(1),
        ))
        .map_err(de)?;
        for v in nice_ticks(self.max) {
            let y = y0 + bar_h - (v / self.max * bar_h as f64).round() as i32;
            root.draw(&PathElement::new(
                vec![(bx + 22, y), (bx + 28, y)],
                canvas::INK.stroke_width(1),
            ))
            .map_err(de)?;
            root.draw(&Text::new(
                tick(v),
                (bx + 32, y),
                tick_style.pos(canvas::left_center()),
            ))
            .map_err(de)?;
        }
        root.draw(&Text::new(
            "RTT p50 (ms)",
            (bx + 11, y0 - 10),
            canvas::label_style().pos(Pos::new(HPos::Center, VPos::Bottom)),
        ))
        .map_err(de)?;
        Ok(())
    }
}

/// About five round tick values in `[0, max]`.
pub fn nice_ticks(max: f64) -> Vec<f64> {
    if max.is_nan() || max <= 0.0 {
        return vec![0.0];
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| max / s <= 6.0)
        .unwrap_or(10.0 * mag);
    (0..)
        .map(|k| k as f64 * step)
        .take_while(|v| *v <= max * (1.0 + 1e-9))
        .collect()
}

/// The `rtt_heatmap` plot of results folder `dir`.
pub fn plots(dir: &Path) -> Result<Outcome, ReportError> {
    let rtt = match Csv::for_plot(dir, file::CLOUD_RTT)? {
        Ok(c) => c,
        Err(reason) => return Ok(Err(reason)),
    };
    let clouds = Csv::read(dir, file::CLOUDS)?;
    let m = match matrix(&rtt, clouds.as_ref()) {
        Ok(m) => m,
        Err(reason) => return Ok(Err(reason)),
    };
    let n = m.clouds.len();
    let max = m
        .rtt
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let cell = (720 / n as i32).clamp(1, 130);
    let named = n <= NAMED;
    let label_w = if named {
        canvas::register_font();
        let style = canvas::tick_style();
        m.clouds
            .iter()
            .map(|c| style.font.box_size(c).map_or(0, |b| b.0 as i32))
            .max()
            .unwrap_or(0)
    } else {
        canvas::register_font();
        let style = canvas::tick_style();
        m.providers
            .iter()
            .map(|p| style.font.box_size(p).map_or(0, |b| b.0 as i32))
            .max()
            .unwrap_or(0)
    };
    let left = (label_w + 62).clamp(120, 340);
    let bottom = if named {
        (label_w + 62).clamp(120, 340)
    } else {
        96
    };
    let providers = {
        let mut p = m.providers.clone();
        p.dedup();
        p.len()
    };
    let caption = format!(
        "Median round-trip time between every ordered pair of the {n} clouds (cloud_rtt.csv; \
         row = source, column = destination), clouds ordered by provider ({providers} \
         provider{}) and then by longitude from clouds.csv, west to east. Largest: {} ms.",
        if providers == 1 { "" } else { "s" },
        human(max, 4)
    );
    let fig = HeatFigure {
        m,
        cell,
        left,
        bottom,
        max,
    };
    Ok(canvas::plot("rtt_heatmap", TITLE, caption, &fig).map(|p| vec![p]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(425.7), vec![0.0, 100.0, 200.0, 300.0, 400.0]);
        assert_eq!(
            nice_ticks(1.0),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(level_color(0), RGBColor(68, 1, 84));
        assert_eq!(level_color(LEVELS - 1), RGBColor(253, 231, 37));
    }

    #[test]
    fn clouds_by_provider_then_longitude() {
        let rtt = Csv::parse(
            file::CLOUD_RTT,
            b"src,dst,rtt_p50_ms\nb:x,a:e,10\na:w,b:x,20\na:e,a:w,30\n",
        )
        .unwrap();
        let clouds = Csv::parse(
            file::CLOUDS,
            b"cloud,provider,lon\nb:x,b,0\na:e,a,100\na:w,a,-100\n",
        )
        .unwrap();
        let m = matrix(&rtt, Some(&clouds)).unwrap();
        assert_eq!(m.clouds, ["a:w", "a:e", "b:x"]);
        assert_eq!(m.rtt[2 * 3 + 1], 10.0);
        assert!(m.rtt[0].is_nan());
    }
}
