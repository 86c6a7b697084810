//! Reading a results folder's tables (CSV or Parquet) by column name, and numbers in and out.

use super::ReportError;
use crate::output::names::file;
use crate::output::read;
use std::path::Path;

/// A CSV file read whole: its header and rows of cells.
#[derive(Clone, Debug, Default)]
pub struct Csv {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// Reads table `name` (e.g. `summary.csv`) of `dir`, from its CSV file or else its Parquet
    /// file (`output.formats`); `None` if it is in neither format.
    pub fn read(dir: &Path, name: &str) -> Result<Option<Csv>, ReportError> {
        Ok(read::read(dir, name)
            .map_err(read_error)?
            .map(|(header, rows)| Csv {
                name: name.to_string(),
                header,
                rows,
            }))
    }

    /// Parses CSV text with a header row (rows may be shorter than the header).
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Csv, csv::Error> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes);
        let header = rdr.headers()?.iter().map(str::to_string).collect();
        let mut rows = Vec::new();
        for rec in rdr.records() {
            rows.push(rec?.iter().map(str::to_string).collect());
        }
        Ok(Csv {
            name: name.to_string(),
            header,
            rows,
        })
    }

    /// Streams the rows of table `name` of `dir` in either format (for files too large to
    /// hold): `f` gets the header and each record. `None` if the table is absent, else the
    /// number of rows.
    pub fn stream(
        dir: &Path,
        name: &str,
        f: impl FnMut(&[String], &csv::StringRecord),
    ) -> Result<Option<usize>, ReportError> {
        read::stream(dir, name, f).map_err(read_error)
    }

    /// Reads `dir/name` for a plot: `Err(reason)` (skip the plot) when absent or without rows.
    pub fn for_plot(dir: &Path, name: &str) -> Result<Result<Csv, String>, ReportError> {
        Ok(match Csv::read(dir, name)? {
            None => Err(format!("{name} is absent")),
            Some(c) if c.rows.is_empty() => Err(format!("{name} has no rows")),
            Some(c) => Ok(c),
        })
    }

    /// Index of a column.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Indices of columns that must all be there (`Err` names the missing ones).
    pub fn cols(&self, names: &[&str]) -> Result<Vec<usize>, String> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| self.col(n).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "{} has no column {}",
                self.name,
                missing.join(", ")
            ));
        }
        Ok(names
            .iter()
            .map(|n| self.col(n).expect("checked"))
            .collect())
    }

    /// A cell (empty past the end of a short row).
    pub fn cell<'a>(&'a self, row: &'a [String], col: usize) -> &'a str {
        row.get(col).map(String::as_str).unwrap_or("")
    }

    /// A cell as a number (NaN when empty or not a number).
    pub fn num(&self, row: &[String], col: usize) -> f64 {
        num(self.cell(row, col))
    }
}

fn read_error(e: read::ReadError) -> ReportError {
    ReportError::Io {
        path: e.path,
        message: e.message,
    }
}

/// A cell as a number: NaN when empty or not a number.
pub fn num(s: &str) -> f64 {
    s.trim().parse::<f64>().unwrap_or(f64::NAN)
}

/// A number for people: integers as they are with thousands separators, others with about
/// `sig` significant digits, no exponent for ordinary magnitudes.
pub fn human(v: f64, sig: usize) -> String {
    if v.is_nan() {
        return String::new();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v == v.trunc() && v.abs() < 1e15 {
        return thousands(v as i64);
    }
    let mag = v.abs().log10().floor() as i32;
    if !(-4..15).contains(&mag) {
        return format!("{:.*e}", sig.saturating_sub(1), v);
    }
    let decimals = (sig as i32 - 1 - mag).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    match s.split_once('.') {
        Some((int, frac)) => format!("{}.{frac}", thousands_str(int)),
        None => thousands_str(&s),
    }
}

fn thousands(v: i64) -> String {
    thousands_str(&v.to_string())
}

fn thousands_str(int: &str) -> String {
    let (sign, digits) = match int.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", int),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// An axis tick label: thousands separators, M and G for large values, no float noise.
pub fn tick(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else {
        (v, "")
    };
    let s = format!("{scaled:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let s = if s == "-0" { "0" } else { s };
    let s = match s.split_once('.') {
        Some((int, frac)) => format!("{}.{frac}", thousands_str(int)),
        None => thousands_str(s),
    };
    format!("{s}{suffix}")
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Time axis unit for a span of `max_s` seconds: seconds, minutes or hours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeUnit {
    pub per_s: f64,
    pub name: &'static str,
}

impl TimeUnit {
    pub fn for_span(max_s: f64) -> TimeUnit {
        if max_s <= 900.0 {
            TimeUnit {
                per_s: 1.0,
                name: "s",
            }
        } else if max_s <= 4.0 * 3600.0 {
            TimeUnit {
                per_s: 1.0 / 60.0,
                name: "min",
            }
        } else {
            TimeUnit {
                per_s: 1.0 / 3600.0,
                name: "h",
            }
        }
    }
    pub fn of(&self, s: f64) -> f64 {
        s * self.per_s
    }
}

/// The `[[mcis]]` request times of `scenario.toml` (name -> seconds); one MCIS named `mcis` at 0
/// without `[[mcis]]` (the default request), nothing without the file.
pub fn mcis_request_times(dir: &Path) -> Vec<(String, f64)> {
    let Ok(text) = std::fs::read_to_string(dir.join(file::SCENARIO)) else {
        return Vec::new();
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    match doc.get("mcis").and_then(|m| m.as_array()) {
        Some(list) if !list.is_empty() => list
            .iter()
            .filter_map(|m| {
                let name = m.get("name")?.as_str()?.to_string();
                let at = match m.get("at") {
                    Some(toml::Value::String(s)) => crate::engine::SimDuration::parse(s)
                        .map(|d| d.as_secs_f64())
                        .unwrap_or(0.0),
                    Some(toml::Value::Integer(i)) => *i as f64,
                    Some(toml::Value::Float(f)) => *f,
                    _ => 0.0,
                };
                Some((name, at))
            })
            .collect(),
        _ => vec![("mcis".to_string(), 0.0)],
    }
}

/// Reads `scenario.toml` as a TOML table (None if absent or unreadable).
pub fn scenario_table(dir: &Path) -> Option<toml::Table> {
    std::fs::read_to_string(dir.join(file::SCENARIO))
        .ok()?
        .parse::<toml::Table>()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people_and_ticks() {
        assert_eq!(human(10706527.0, 4), "10,706,527");
        assert_eq!(human(1330.3734276, 4), "1,330");
        assert_eq!(human(1330.3734276, 6), "1,330.37");
        assert_eq!(human(0.00007186605161623313, 4), "7.187e-5");
        assert_eq!(human(0.4307, 4), "0.4307");
        assert_eq!(human(-1234.6, 3), "-1,235");
        assert_eq!(human(f64::NAN, 4), "");
        assert_eq!(tick(0.30000000000000004), "0.3");
        assert_eq!(tick(25000.0), "25,000");
        assert_eq!(tick(2500.5), "2,500.5");
        assert_eq!(tick(10706527.0), "10.707M");
        assert_eq!(tick(-0.0001), "0");
        assert_eq!(
            escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn csv_columns_by_name() {
        let c = Csv::parse("t.csv", b"a,b\n1,\n2,3\n4\n").unwrap();
        assert_eq!(c.cols(&["b", "a"]).unwrap(), vec![1, 0]);
        assert!(c.cols(&["z"]).unwrap_err().contains("no column z"));
        assert!(c.num(&c.rows[0], 1).is_nan());
        assert_eq!(c.num(&c.rows[1], 1), 3.0);
        assert!(c.num(&c.rows[2], 1).is_nan());
    }
}
