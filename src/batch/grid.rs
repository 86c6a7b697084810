//! The grid of a sweep: varied key paths (axes) and their cartesian product (points).
//!
//! An axis comes from `--vary key.path=v1,v2,v3` (values read like `--set` values: TOML, or a
//! plain string when not TOML; commas inside quotes, `[...]` and `{...}` do not split) or from
//! the scenario's `[sweep]` table (`vary = { "key.path" = [v1, v2] }`, axes in key order).
//! Values are kept as canonical TOML text (`0.1`, `"10m"`, `{ dist = "uniform", max = ... }`,
//! table keys sorted), so the same value written two ways is the same point.
//!
//! Points are numbered in a fixed order: the first axis varies slowest, the last fastest
//! (`a=1,2` x `b=x,y` gives (1,x), (1,y), (2,x), (2,y)). Point ids are `p000`, `p001`, ...
//! (more digits when the grid needs them).

use crate::scenario::Override;
use crate::scenario::schema::SweepSpec;
use serde::{Deserialize, Serialize};

/// One varied key and its values (canonical TOML text), in the order given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

impl Axis {
    /// Parses a `--vary key.path=v1,v2,v3` argument.
    pub fn parse(arg: &str) -> Result<Axis, String> {
        let (key, raw) = arg
            .split_once('=')
            .ok_or_else(|| format!("--vary {arg}: expected key.path=value1,value2,..."))?;
        let key = key.trim();
        let pieces = split_values(raw).map_err(|m| format!("--vary {arg}: {m}"))?;
        let mut values = Vec::new();
        for piece in pieces {
            let o = Override::parse(&format!("{key}={piece}"))
                .map_err(|e| format!("--vary {arg}: {}", e.message))?;
            let mut v = o.value.clone();
            v.decor_mut().clear();
            values.push(canonical(&v.to_string()).map_err(|m| format!("--vary {arg}: {m}"))?);
        }
        Axis::new(key, values).map_err(|m| format!("--vary {arg}: {m}"))
    }

    /// An axis of the `[sweep]` table.
    pub fn from_toml(key: &str, values: &[toml::Value]) -> Result<Axis, String> {
        let values = values.iter().map(|v| v.to_string()).collect();
        Axis::new(key, values).map_err(|m| format!("[sweep] vary `{key}`: {m}"))
    }

    fn new(key: &str, values: Vec<String>) -> Result<Axis, String> {
        let path: Vec<&str> = key.split('.').map(str::trim).collect();
        if path.iter().any(|s| s.is_empty()) {
            return Err("the key path has an empty segment".into());
        }
        let key = path.join(".");
        if key == "simulation.seed" {
            return Err(
                "the seed cannot be varied: every run gets its own seed, use --replications".into(),
            );
        }
        if path[0] == "sweep" {
            return Err("keys of the [sweep] table cannot be varied".into());
        }
        if values.is_empty() {
            return Err("no values".into());
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                return Err(format!("the value {v} is given twice"));
            }
        }
        Ok(Axis { key, values })
    }

    /// The `--set`-style override giving this axis its `i`-th value.
    pub fn override_for(&self, i: usize) -> Override {
        Override::parse(&format!("{}={}", self.key, self.values[i])).expect("canonical TOML value")
    }

    /// The `i`-th value as a CSV cell: strings without quotes, anything else as TOML.
    pub fn cell(&self, i: usize) -> String {
        let text = &self.values[i];
        match text.parse::<toml_edit::Value>() {
            Ok(toml_edit::Value::String(s)) => s.value().clone(),
            _ => text.clone(),
        }
    }
}

/// Canonical TOML text of one value (`0.10` -> `0.1`, inline tables spaced uniformly).
fn canonical(text: &str) -> Result<String, String> {
    let table: toml::Table =
        toml::from_str(&format!("v = {text}")).map_err(|e| format!("bad value {text}: {e}"))?;
    Ok(table["v"].to_string())
}

/// Splits `v1,v2,...` at commas outside quotes and brackets.
fn split_values(raw: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in raw.chars() {
        if let Some(q) = quote {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if depth != 0 {
        return Err("unbalanced brackets".into());
    }
    out.push(cur);
    let out: Vec<String> = out.iter().map(|s| s.trim().to_string()).collect();
    if out.iter().any(String::is_empty) {
        return Err("empty value (two commas in a row, or a trailing comma?)".into());
    }
    Ok(out)
}

/// The axes of a sweep; its points are their cartesian product.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grid {
    pub axes: Vec<Axis>,
}

impl Grid {
    /// The axes of a `[sweep]` table, in key order.
    pub fn from_spec(spec: &SweepSpec) -> Result<Grid, String> {
        let axes = spec
            .vary
            .iter()
            .map(|(k, v)| Axis::from_toml(k, v))
            .collect::<Result<_, _>>()?;
        Ok(Grid { axes })
    }

    /// Replaces the axis of the same key (in place), or appends a new one.
    pub fn put(&mut self, axis: Axis) {
        match self.axes.iter_mut().find(|a| a.key == axis.key) {
            Some(a) => *a = axis,
            None => self.axes.push(axis),
        }
    }

    /// Number of points (1 without axes); saturates on absurd grids (refused by the plan).
    pub fn len(&self) -> usize {
        self.axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .unwrap_or(usize::MAX)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Index of each axis's value at point `p` (first axis slowest).
    pub fn coordinates(&self, p: usize) -> Vec<usize> {
        let mut rest = p;
        let mut c = vec![0; self.axes.len()];
        for (i, a) in self.axes.iter().enumerate().rev() {
            c[i] = rest % a.values.len();
            rest /= a.values.len();
        }
        c
    }

    /// `p000`, `p001`, ... (at least three digits, more for big grids).
    pub fn point_id(&self, p: usize) -> String {
        format!("p{p:0w$}", w = id_width(self.len()))
    }

    /// The overrides of point `p`, one per axis.
    pub fn overrides(&self, p: usize) -> Vec<Override> {
        let c = self.coordinates(p);
        self.axes
            .iter()
            .zip(c)
            .map(|(a, i)| a.override_for(i))
            .collect()
    }

    /// `key=value, key=value` of point `p`, for messages.
    pub fn describe(&self, p: usize) -> String {
        let c = self.coordinates(p);
        let parts: Vec<String> = self
            .axes
            .iter()
            .zip(c)
            .map(|(a, i)| format!("{}={}", a.key, a.values[i]))
            .collect();
        if parts.is_empty() {
            "no varied keys".into()
        } else {
            parts.join(", ")
        }
    }

    /// The CSV cells of point `p`, one per axis.
    pub fn cells(&self, p: usize) -> Vec<String> {
        let c = self.coordinates(p);
        self.axes.iter().zip(c).map(|(a, i)| a.cell(i)).collect()
    }
}

/// Digits of ids numbering `count` items: at least 3.
pub fn id_width(count: usize) -> usize {
    count.saturating_sub(1).to_string().len().max(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vary_values_parse_like_set_values() {
        let a = Axis::parse("lifecycle.create_failure_p=0.10,0.3").unwrap();
        assert_eq!(a.values, ["0.1", "0.3"]);
        let a = Axis::parse("simulation.duration=10m, 1h").unwrap();
        assert_eq!(a.values, ["\"10m\"", "\"1h\""]);
        assert_eq!(a.cell(1), "1h");
        let a =
            Axis::parse(r#"lifecycle.api_delay={dist="uniform",min="1s",max="2s"},"3s",[1, 2]"#)
                .unwrap();
        assert_eq!(a.values.len(), 3);
        assert_eq!(
            a.values[0],
            r#"{ dist = "uniform", max = "2s", min = "1s" }"#
        );
        assert_eq!(a.cell(1), "3s");
        let o = a.override_for(0);
        assert_eq!(o.path, ["lifecycle", "api_delay"]);
        assert!(o.value.is_inline_table());
    }

    #[test]
    fn bad_vary_arguments() {
        for bad in [
            "novalue",
            "a.b=",
            "a.b=1,,2",
            "a.b=1,",
            "a..b=1",
            "a.b=\"x",
            "a.b={x=1",
            "a.b=1,1.0,1",
            "simulation.seed=1,2",
            "sweep.replications=1,2",
        ] {
            assert!(Axis::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn points_in_a_fixed_order() {
        let g = Grid {
            axes: vec![
                Axis::parse("a.x=1,2").unwrap(),
                Axis::parse("b.y=p,q,r").unwrap(),
            ],
        };
        assert_eq!(g.len(), 6);
        assert_eq!(g.coordinates(0), [0, 0]);
        assert_eq!(g.coordinates(1), [0, 1]);
        assert_eq!(g.coordinates(3), [1, 0]);
        assert_eq!(g.cells(5), ["2", "r"]);
        assert_eq!(g.point_id(5), "p005");
        assert_eq!(g.describe(4), "a.x=2, b.y=\"q\"");
        assert_eq!(Grid::default().len(), 1);
        assert_eq!(Grid::default().point_id(0), "p000");
        assert_eq!(id_width(1001), 4);
        let mut g2 = g.clone();
        g2.put(Axis::parse("a.x=7").unwrap());
        assert_eq!(g2.axes[0].values, ["7"]);
        assert_eq!(g2.len(), 3);
    }
}
