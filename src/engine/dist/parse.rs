//! Reading distributions: the scenario's TOML tables (or bare constants) checked and built into
//! [`super::Dist`] / [`super::DurationDist`], parameters with units, empirical files, and
//! probabilities. Every error names the parameter and what was expected.

use super::{Dist, DurationDist, Kind};
use crate::engine::time::SimDuration;
use rand::RngExt;
use rand_distr::{Pareto, Weibull};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fmt;
use std::path::PathBuf;

/// Whether a distribution's values are plain numbers or durations.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Unit {
    #[default]
    Number,
    Duration,
}

/// A parameter value as written: a number, or a string (a duration such as "5s").
#[derive(Clone, Debug, PartialEq)]
pub enum Quantity {
    Num(f64),
    Text(String),
}

impl Quantity {
    /// In base units: seconds for durations. `plain` marks parameters that are always numbers.
    pub(super) fn to_f64(&self, unit: Unit, plain: bool) -> Result<f64, String> {
        match (self, unit, plain) {
            (Quantity::Num(v), _, true) | (Quantity::Num(v), Unit::Number, false) => {
                if v.is_finite() {
                    Ok(*v)
                } else {
                    Err(format!("{v} is not a finite number"))
                }
            }
            (Quantity::Text(s), Unit::Duration, false) => SimDuration::parse(s)
                .map(|d| d.as_secs_f64())
                .map_err(|e| e.to_string()),
            (Quantity::Num(v), Unit::Duration, false) => Err(format!(
                "expected a duration with a unit such as \"{v}s\" or \"{v}ms\", found the bare number {v}"
            )),
            (Quantity::Text(s), _, _) => {
                Err(format!("expected a number, found the string \"{s}\""))
            }
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Quantity::Num(v) => s.serialize_f64(*v),
            Quantity::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a duration string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::Num(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity::Num(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity::Num(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A distribution as written in a scenario file, before validation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    pub dist: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sd: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sigma: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<Quantity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Quantity>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip)]
    pub(super) unit: Unit,
    /// Contents of `file`, read at load time (values, weights).
    #[serde(skip)]
    pub(super) loaded: Option<(Vec<Quantity>, Vec<f64>)>,
}

const SCALAR_PARAMS: [&str; 11] = [
    "value", "min", "max", "mean", "sd", "median", "sigma", "rate", "scale", "shape", "p",
];

impl RawDist {
    pub(super) fn named(name: &str) -> Self {
        RawDist {
            dist: name.to_string(),
            ..Default::default()
        }
    }
    pub(super) fn with(mut self, name: &str, q: Quantity) -> Self {
        *self.slot(name) = Some(q);
        self
    }
    fn slot(&mut self, name: &str) -> &mut Option<Quantity> {
        match name {
            "value" => &mut self.value,
            "min" => &mut self.min,
            "max" => &mut self.max,
            "mean" => &mut self.mean,
            "sd" => &mut self.sd,
            "median" => &mut self.median,
            "sigma" => &mut self.sigma,
            "rate" => &mut self.rate,
            "scale" => &mut self.scale,
            "shape" => &mut self.shape,
            "p" => &mut self.p,
            _ => unreachable!("unknown parameter {name}"),
        }
    }
    pub(super) fn get(&self, name: &str) -> Option<&Quantity> {
        match name {
            "value" => self.value.as_ref(),
            "min" => self.min.as_ref(),
            "max" => self.max.as_ref(),
            "mean" => self.mean.as_ref(),
            "sd" => self.sd.as_ref(),
            "median" => self.median.as_ref(),
            "sigma" => self.sigma.as_ref(),
            "rate" => self.rate.as_ref(),
            "scale" => self.scale.as_ref(),
            "shape" => self.shape.as_ref(),
            "p" => self.p.as_ref(),
            _ => None,
        }
    }
    fn given(&self) -> Vec<&'static str> {
        let mut g: Vec<&'static str> = SCALAR_PARAMS
            .iter()
            .copied()
            .filter(|n| self.get(n).is_some())
            .collect();
        if self.values.is_some() {
            g.push("values");
        }
        if self.weights.is_some() {
            g.push("weights");
        }
        if self.file.is_some() {
            g.push("file");
        }
        g
    }
}

impl From<Dist> for RawDist {
    fn from(d: Dist) -> RawDist {
        d.raw
    }
}

const DIST_NAMES: &str =
    "constant, uniform, normal, lognormal, exponential, weibull, pareto, bernoulli, empirical";

/// Validates a raw spec: exactly one accepted parameter set, each value in range.
pub(super) fn build(raw: &RawDist, unit: Unit) -> Result<Kind, String> {
    let name = raw.dist.as_str();
    // Parameter sets each distribution accepts; the first whose members are all given wins.
    let forms: &[&[&str]] = match name {
        "constant" => &[&["value"]],
        "uniform" => &[&["min", "max"]],
        "normal" => &[&["mean", "sd"]],
        "lognormal" => &[&["median", "sigma"], &["mean", "sd"]],
        "exponential" => &[&["mean"], &["rate"]],
        "weibull" => &[&["scale", "shape"]],
        "pareto" => &[&["scale", "shape"]],
        "bernoulli" => &[&["p"]],
        "empirical" => &[&["values", "weights"], &["values"], &["file"]],
        _ => {
            return Err(format!(
                "unknown distribution \"{name}\" (expected one of: {DIST_NAMES})"
            ));
        }
    };
    let given = raw.given();
    let describe = || {
        forms
            .iter()
            .map(|f| f.join(" and "))
            .collect::<Vec<_>>()
            .join(", or ")
    };
    let form = forms
        .iter()
        .find(|f| f.len() == given.len() && f.iter().all(|p| given.contains(p)))
        .ok_or_else(|| {
            format!(
                "{name} takes {}; found {}",
                describe(),
                if given.is_empty() {
                    "no parameters".to_string()
                } else {
                    given.join(", ")
                }
            )
        })?;
    // Shape-like parameters are plain numbers even in duration distributions.
    let num = |p: &str| -> Result<f64, String> {
        let plain = matches!(p, "sigma" | "shape" | "p" | "rate");
        raw.get(p)
            .expect("checked present")
            .to_f64(unit, plain)
            .map_err(|e| format!("{p}: {e}"))
    };
    let positive = |p: &str, v: f64| {
        if v > 0.0 {
            Ok(v)
        } else {
            Err(format!("{p} must be > 0, found {v}"))
        }
    };
    let non_negative = |p: &str, v: f64| {
        if v >= 0.0 {
            Ok(v)
        } else {
            Err(format!("{p} must be >= 0, found {v}"))
        }
    };
    Ok(match (name, *form) {
        ("constant", _) => Kind::Constant(num("value")?),
        ("uniform", _) => {
            let (min, max) = (num("min")?, num("max")?);
            if min > max {
                return Err(format!(
                    "uniform needs min <= max, found min {min} > max {max}"
                ));
            }
            Kind::Uniform { min, max }
        }
        ("normal", _) => {
            let mean = num("mean")?;
            let sd = non_negative("sd", num("sd")?)?;
            Kind::Normal {
                mean,
                sd,
                floor_zero: unit == Unit::Duration,
            }
        }
        ("lognormal", ["median", "sigma"]) => {
            let median = positive("median", num("median")?)?;
            let sigma = non_negative("sigma", num("sigma")?)?;
            Kind::LogNormal {
                mu: median.ln(),
                sigma,
            }
        }
        ("lognormal", _) => {
            let mean = positive("mean", num("mean")?)?;
            let sd = non_negative("sd", num("sd")?)?;
            let s2 = (1.0 + (sd / mean).powi(2)).ln();
            Kind::LogNormal {
                mu: mean.ln() - s2 / 2.0,
                sigma: s2.sqrt(),
            }
        }
        ("exponential", ["mean"]) => Kind::Exponential {
            mean: positive("mean", num("mean")?)?,
        },
        ("exponential", _) => Kind::Exponential {
            mean: 1.0 / positive("rate", num("rate")?)?,
        },
        ("weibull", _) => {
            let scale = positive("scale", num("scale")?)?;
            let shape = positive("shape", num("shape")?)?;
            Kind::Weibull(Weibull::new(scale, shape).map_err(|e| e.to_string())?)
        }
        ("pareto", _) => {
            let scale = positive("scale", num("scale")?)?;
            let shape = positive("shape", num("shape")?)?;
            Kind::Pareto(Pareto::new(scale, shape).map_err(|e| e.to_string())?)
        }
        ("bernoulli", _) => {
            let p = num("p")?;
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("p must be within [0, 1], found {p}"));
            }
            Kind::Bernoulli { p }
        }
        ("empirical", _) => {
            let (values, weights) = match (&raw.values, &raw.loaded) {
                (Some(v), _) => (v.clone(), raw.weights.clone()),
                (None, Some((v, w))) => (v.clone(), Some(w.clone())),
                (None, None) => {
                    return Err(format!(
                        "file \"{}\" was not loaded",
                        raw.file.as_deref().unwrap_or("")
                    ));
                }
            };
            if values.is_empty() {
                return Err("empirical needs at least one value".into());
            }
            let values = values
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    q.to_f64(unit, false)
                        .map_err(|e| format!("values[{i}]: {e}"))
                })
                .collect::<Result<Vec<f64>, String>>()?;
            let weights = weights.unwrap_or_else(|| vec![1.0; values.len()]);
            if weights.len() != values.len() {
                return Err(format!(
                    "weights has {} entries but values has {}",
                    weights.len(),
                    values.len()
                ));
            }
            let mut cumulative = Vec::with_capacity(weights.len());
            let mut acc = 0.0;
            for (i, w) in weights.iter().enumerate() {
                if !(w.is_finite() && *w >= 0.0) {
                    return Err(format!(
                        "weights[{i}] must be a finite number >= 0, found {w}"
                    ));
                }
                acc += w;
                cumulative.push(acc);
            }
            if acc <= 0.0 {
                return Err("weights must not all be zero".into());
            }
            Kind::Empirical { values, cumulative }
        }
        _ => unreachable!("form table covers every distribution"),
    })
}

thread_local! {
    /// Folder that relative `file` paths resolve against while a scenario is being read.
    static BASE_DIR: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Runs `f` with relative distribution files resolved against `dir`.
pub fn with_base_dir<T>(dir: Option<PathBuf>, f: impl FnOnce() -> T) -> T {
    let prev = BASE_DIR.with(|b| b.replace(dir));
    let out = f();
    BASE_DIR.with(|b| *b.borrow_mut() = prev);
    out
}

/// Reads an empirical CSV: header with `value` and optional `weight`.
fn load_empirical(file: &str) -> Result<(Vec<Quantity>, Vec<f64>), String> {
    let path = BASE_DIR.with(|b| match b.borrow().as_ref() {
        Some(dir) => dir.join(file),
        None => PathBuf::from(file),
    });
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(&path)
        .map_err(|e| format!("cannot read \"{}\": {e}", path.display()))?;
    let headers = rdr
        .headers()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .clone();
    let vcol = headers.iter().position(|h| h == "value").ok_or_else(|| {
        format!(
            "{}: expected a header with a `value` column (and optionally `weight`)",
            path.display()
        )
    })?;
    let wcol = headers.iter().position(|h| h == "weight");
    let mut values = Vec::new();
    let mut weights = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| format!("{}:{line}: {e}", path.display()))?;
        let v = rec.get(vcol).unwrap_or("");
        values.push(match v.parse::<f64>() {
            Ok(x) => Quantity::Num(x),
            Err(_) => Quantity::Text(v.to_string()),
        });
        let w = match wcol {
            Some(c) => rec
                .get(c)
                .unwrap_or("")
                .parse::<f64>()
                .map_err(|_| format!("{}:{line}: weight must be a number", path.display()))?,
            None => 1.0,
        };
        weights.push(w);
    }
    Ok((values, weights))
}

fn deserialize_dist<'de, D: Deserializer<'de>>(d: D, unit: Unit) -> Result<Dist, D::Error> {
    struct V(Unit);
    impl<'de> Visitor<'de> for V {
        type Value = Dist;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            match self.0 {
                Unit::Number => f.write_str("a number or a distribution table such as { dist = \"normal\", mean = 1, sd = 0.1 }"),
                Unit::Duration => f.write_str("a duration such as \"5s\" or a distribution table such as { dist = \"uniform\", min = \"5s\", max = \"10s\" }"),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dist, E> {
            self.visit_f64(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dist, E> {
            self.visit_f64(v as f64)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dist, E> {
            self.constant(Quantity::Num(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Dist, E> {
            self.constant(Quantity::Text(v.to_string()))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Dist, A::Error> {
            let mut raw = RawDist::deserialize(de::value::MapAccessDeserializer::new(map))?;
            raw.unit = self.0;
            if let Some(file) = raw.file.clone() {
                raw.loaded = Some(load_empirical(&file).map_err(de::Error::custom)?);
            }
            Dist::from_raw(raw, self.0).map_err(de::Error::custom)
        }
    }
    impl V {
        fn constant<E: de::Error>(self, q: Quantity) -> Result<Dist, E> {
            let raw = RawDist {
                unit: self.0,
                ..RawDist::named("constant").with("value", q)
            };
            Dist::from_raw(raw, self.0).map_err(E::custom)
        }
    }
    d.deserialize_any(V(unit))
}

impl<'de> Deserialize<'de> for Dist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_dist(d, Unit::Number)
    }
}

impl<'de> Deserialize<'de> for DurationDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_dist(d, Unit::Duration).map(DurationDist)
    }
}

/// A probability in [0, 1], written as a plain number.
#[derive(Copy, Clone, Debug, Default, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Probability(f64);

impl Probability {
    pub fn new(p: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&p) {
            Ok(Probability(p))
        } else {
            Err(format!("a probability must be within [0, 1], found {p}"))
        }
    }
    pub fn get(self) -> f64 {
        self.0
    }
    /// One Bernoulli trial.
    #[inline]
    pub fn sample<R: rand::Rng + ?Sized>(self, rng: &mut R) -> bool {
        rng.random::<f64>() < self.0
    }
}

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Probability::new(v).map_err(de::Error::custom)
    }
}
