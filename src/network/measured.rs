//! Measured RTT matrices that override the model for the pairs they cover.
//!
//! Two CSV layouts are accepted (`#` starts a comment line; cells are trimmed):
//!
//! - long form: a header with `src`, `dst` and `rtt_ms` columns (others are ignored), one row per
//!   ordered pair: `aws:us-east-1,gcp:europe-west3,89.5`;
//! - square form: a header `src,<provider:region>,<provider:region>,...`, then one row per source
//!   whose first cell is the source and whose other cells are the RTTs to each column's region.
//!   Empty cells are pairs not measured.
//!
//! RTTs are medians in milliseconds and must be positive numbers. A pair given twice is an error.

use crate::topology::Catalogue;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Measured median RTTs (ms) by (source, destination) `provider:region` key.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MeasuredMatrix {
    rtt: BTreeMap<(String, String), f64>,
}

impl MeasuredMatrix {
    /// Reads a long- or square-form CSV file.
    pub fn from_path(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        MeasuredMatrix::from_csv(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses long- or square-form CSV text (see the module doc).
    pub fn from_csv(text: &str) -> Result<Self, String> {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = rdr.headers().map_err(|e| format!("line 1: {e}"))?.clone();
        let header_line = headers.position().map(|p| p.line()).unwrap_or(1);
        let names: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
        let col = |n: &str| names.iter().position(|h| h == n);
        let mut out = Builder::default();
        if let (Some(cs), Some(cd), Some(cv)) = (col("src"), col("dst"), col("rtt_ms")) {
            for rec in rdr.records() {
                let rec = rec.map_err(|e| e.to_string())?;
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                let cell = |c: usize| rec.get(c).unwrap_or("");
                if rec.len() <= cs.max(cd).max(cv) {
                    return Err(format!(
                        "line {line}: {} cells, expected {} (src, dst, rtt_ms)",
                        rec.len(),
                        headers.len()
                    ));
                }
                let src = region_key(cell(cs)).map_err(|e| format!("line {line}: src {e}"))?;
                let dst = region_key(cell(cd)).map_err(|e| format!("line {line}: dst {e}"))?;
                let v = rtt_value(cell(cv))
                    .map_err(|e| format!("line {line}: rtt_ms for {src} -> {dst} {e}"))?;
                out.insert(src, dst, v, line)?;
            }
        } else if names.first().map(String::as_str) == Some("src") {
            if headers.len() < 2 {
                return Err(format!(
                    "line {header_line}: a square matrix needs destination columns after `src`"
                ));
            }
            let mut dsts: Vec<String> = Vec::new();
            for (i, h) in headers.iter().enumerate().skip(1) {
                let k = region_key(h)
                    .map_err(|e| format!("line {header_line}: column {} header {e}", i + 1))?;
                if dsts.contains(&k) {
                    return Err(format!("line {header_line}: column {k} appears twice"));
                }
                dsts.push(k);
            }
            for rec in rdr.records() {
                let rec = rec.map_err(|e| e.to_string())?;
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                if rec.len() != headers.len() {
                    return Err(format!(
                        "line {line}: {} cells, expected {} (src and one per destination column)",
                        rec.len(),
                        headers.len()
                    ));
                }
                let src = region_key(rec.get(0).unwrap_or(""))
                    .map_err(|e| format!("line {line}: src {e}"))?;
                for (dst, cell) in dsts.iter().zip(rec.iter().skip(1)) {
                    if cell.is_empty() {
                        continue;
                    }
                    let v = rtt_value(cell)
                        .map_err(|e| format!("line {line}: rtt_ms for {src} -> {dst} {e}"))?;
                    out.insert(src.clone(), dst.clone(), v, line)?;
                }
            }
        } else {
            return Err(format!(
                "line {header_line}: unknown layout: expected a header `src,dst,rtt_ms` (long form) \
                 or `src,<provider:region>,...` (square form), found `{}`",
                headers.iter().collect::<Vec<_>>().join(",")
            ));
        }
        if out.rtt.is_empty() {
            return Err("no measurements (the file has a header but no values)".into());
        }
        Ok(MeasuredMatrix { rtt: out.rtt })
    }

    /// The measured median of exactly src -> dst.
    pub fn get(&self, src: &str, dst: &str) -> Option<f64> {
        self.rtt.get(&(src.to_string(), dst.to_string())).copied()
    }

    /// The measured median of src -> dst, or of dst -> src if only that direction was measured.
    pub fn lookup(&self, src: &str, dst: &str) -> Option<f64> {
        self.get(src, dst).or_else(|| self.get(dst, src))
    }

    /// Number of measured ordered pairs.
    pub fn len(&self) -> usize {
        self.rtt.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rtt.is_empty()
    }

    /// All measurements, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, f64)> {
        self.rtt
            .iter()
            .map(|((s, d), v)| (s.as_str(), d.as_str(), *v))
    }

    /// Every region key the matrix names, sorted.
    pub fn regions(&self) -> Vec<String> {
        let mut s = BTreeSet::new();
        for (a, b) in self.rtt.keys() {
            s.insert(a.clone());
            s.insert(b.clone());
        }
        s.into_iter().collect()
    }

    /// Region keys the catalogue does not know (to report before using the matrix).
    pub fn unknown_regions(&self, cat: &Catalogue) -> Vec<String> {
        self.regions()
            .into_iter()
            .filter(|k| cat.find_key(k).is_none())
            .collect()
    }
}

#[derive(Default)]
struct Builder {
    rtt: BTreeMap<(String, String), f64>,
    lines: BTreeMap<(String, String), u64>,
}

impl Builder {
    fn insert(&mut self, src: String, dst: String, v: f64, line: u64) -> Result<(), String> {
        let k = (src, dst);
        if let Some(first) = self.lines.get(&k) {
            return Err(format!(
                "line {line}: pair {} -> {} given twice (first on line {first})",
                k.0, k.1
            ));
        }
        self.lines.insert(k.clone(), line);
        self.rtt.insert(k, v);
        Ok(())
    }
}

/// `provider:region` with the provider lower-cased (region codes keep their case).
fn region_key(s: &str) -> Result<String, String> {
    match s.split_once(':') {
        Some((p, r)) if !p.trim().is_empty() && !r.trim().is_empty() => {
            Ok(format!("{}:{}", p.trim().to_ascii_lowercase(), r.trim()))
        }
        _ => Err(format!("`{s}` is not provider:region")),
    }
}

fn rtt_value(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("`{s}` is not a positive number of ms")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_form() {
        let m = MeasuredMatrix::from_csv(
            "# measured 2026\nsrc,dst,rtt_ms,note\nAWS:us-east-1,gcp:europe-west3,91.5,x\n\
             gcp:europe-west3,aws:us-east-1,92,\n",
        )
        .unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("aws:us-east-1", "gcp:europe-west3"), Some(91.5));
        assert_eq!(m.lookup("gcp:europe-west3", "aws:us-east-1"), Some(92.0));
        assert_eq!(m.regions(), ["aws:us-east-1", "gcp:europe-west3"]);
    }

    #[test]
    fn square_form_with_gaps() {
        let m = MeasuredMatrix::from_csv(
            "src,aws:us-east-1,azure:koreacentral\naws:us-east-1,,180\nazure:koreacentral,181.5,\n",
        )
        .unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m.get("azure:koreacentral", "aws:us-east-1"), Some(181.5));
        assert_eq!(m.get("aws:us-east-1", "aws:us-east-1"), None);
        // One direction measured: the reverse falls back to it.
        let one = MeasuredMatrix::from_csv("src,dst,rtt_ms\naws:a,aws:b,10\n").unwrap();
        assert_eq!(one.lookup("aws:b", "aws:a"), Some(10.0));
        assert_eq!(one.lookup("aws:b", "aws:c"), None);
    }

    #[test]
    fn errors_name_the_line_and_problem() {
        let e = |t: &str| MeasuredMatrix::from_csv(t).unwrap_err();
        let x = e("src,dst,rtt_ms\naws:a,aws:b,10\naws:a,aws:b,11\n");
        assert!(x.contains("line 3") && x.contains("twice"), "{x}");
        let x = e("src,dst,rtt_ms\naws:a,awsb,10\n");
        assert!(x.contains("line 2") && x.contains("`awsb`"), "{x}");
        let x = e("src,dst,rtt_ms\naws:a,aws:b,-3\n");
        assert!(x.contains("line 2") && x.contains("positive"), "{x}");
        let x = e("src,dst,rtt_ms\naws:a,aws:b,fast\n");
        assert!(x.contains("`fast`"), "{x}");
        let x = e("src,dst,rtt_ms\naws:a,aws:b\n");
        assert!(x.contains("line 2") && x.contains("cells"), "{x}");
        let x = e("from,to,ms\naws:a,aws:b,1\n");
        assert!(x.contains("unknown layout"), "{x}");
        let x = e("src,aws:a,aws:b\naws:a,,1\naws:b,2\n");
        assert!(x.contains("line 3") && x.contains("cells"), "{x}");
        let x = e("src,aws:a,aws:a\naws:a,1,2\n");
        assert!(x.contains("twice"), "{x}");
        let x = e("src,aws:a,b\naws:a,1,2\n");
        assert!(x.contains("column 3"), "{x}");
        let x = e("src,dst,rtt_ms\n");
        assert!(x.contains("no measurements"), "{x}");
    }

    #[test]
    fn unknown_regions_are_listed() {
        let cat = Catalogue::builtin();
        let m = MeasuredMatrix::from_csv("src,dst,rtt_ms\naws:us-east-1,aws:mars-1,10\n").unwrap();
        assert_eq!(m.unknown_regions(&cat), ["aws:mars-1"]);
    }
}
