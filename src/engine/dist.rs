//! Probability distributions as scenario files describe them, validated at load time.
//!
//! A distribution is a TOML table with a `dist` name and its parameters, or a bare value meaning
//! a constant:
//!
//! | `dist` | parameters |
//! |---|---|
//! | `constant` | `value` |
//! | `uniform` | `min`, `max` |
//! | `normal` | `mean`, `sd` (duration normals are truncated at 0 by resampling) |
//! | `lognormal` | `median` and `sigma`, or `mean` and `sd` |
//! | `exponential` | `mean`, or `rate` (per second for durations) |
//! | `weibull` | `scale`, `shape` |
//! | `pareto` | `scale` (the minimum), `shape` |
//! | `bernoulli` | `p` in [0, 1] (samples 1 with probability p, else 0) |
//! | `empirical` | `values` with optional `weights`, or `file` (CSV with a `value` column and an optional `weight` column, relative to the scenario file) |
//!
//! [`Dist`] holds plain numbers; [`DurationDist`] holds durations, whose parameters carry units
//! (`{ dist = "uniform", min = "5s", max = "10s" }`) while shape-like parameters (`sigma`, `shape`,
//! `p`, `weights`) stay plain numbers. Bad parameters (negative sd, p outside `[0, 1]`, min > max,
//! a parameter the distribution does not take, ...) are load errors that name the key.

use super::time::SimDuration;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, Pareto, StandardNormal, Weibull};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fmt;
use std::path::PathBuf;

/// A validated distribution over plain numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "RawDist")]
pub struct Dist {
    kind: Kind,
    raw: RawDist,
}

/// A validated distribution over durations (sampled in seconds, returned as [`SimDuration`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct DurationDist(Dist);

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Constant(f64),
    Uniform {
        min: f64,
        max: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
        floor_zero: bool,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Exponential {
        mean: f64,
    },
    Weibull(Weibull<f64>),
    Pareto(Pareto<f64>),
    Bernoulli {
        p: f64,
    },
    Empirical {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

impl Dist {
    pub fn constant(v: f64) -> Self {
        Dist {
            kind: Kind::Constant(v),
            raw: RawDist::named("constant").with("value", Quantity::Num(v)),
        }
    }

    /// Builds a distribution from a spec, checking every parameter.
    pub fn from_raw(raw: RawDist, unit: Unit) -> Result<Self, String> {
        let kind = build(&raw, unit)?;
        Ok(Dist { kind, raw })
    }

    /// Draws one value.
    #[inline]
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.kind {
            Kind::Constant(v) => *v,
            Kind::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Kind::Normal {
                mean,
                sd,
                floor_zero,
            } => {
                if !floor_zero {
                    return {
                        let z: f64 = StandardNormal.sample(rng);
                        mean + sd * z
                    };
                }
                // Truncated at 0 by rejection; mean >= 0 is enforced, so acceptance >= 50%.
                loop {
                    let x: f64 = {
                        let z: f64 = StandardNormal.sample(rng);
                        mean + sd * z
                    };
                    if x >= 0.0 {
                        return x;
                    }
                }
            }
            Kind::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Kind::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Kind::Weibull(w) => w.sample(rng),
            Kind::Pareto(p) => p.sample(rng),
            Kind::Bernoulli { p } => {
                if rng.random::<f64>() < *p {
                    1.0
                } else {
                    0.0
                }
            }
            Kind::Empirical { values, cumulative } => {
                let total = *cumulative.last().expect("validated non-empty");
                let u = rng.random::<f64>() * total;
                let i = cumulative.partition_point(|c| *c <= u);
                values[i.min(values.len() - 1)]
            }
        }
    }

    /// The analytic mean, where it exists (None for Pareto with shape <= 1).
    pub fn mean(&self) -> Option<f64> {
        Some(match &self.kind {
            Kind::Constant(v) => *v,
            Kind::Uniform { min, max } => (min + max) / 2.0,
            Kind::Normal {
                mean,
                sd,
                floor_zero,
            } => {
                if *floor_zero && *sd > 0.0 {
                    // Mean of a normal truncated below at 0: mu + sd * phi(a) / (1 - Phi(a)), a = -mu/sd.
                    let a = -mean / sd;
                    let phi = (-a * a / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
                    mean + sd * phi / (1.0 - std_normal_cdf(a))
                } else {
                    *mean
                }
            }
            Kind::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Kind::Exponential { mean } => *mean,
            Kind::Weibull(_) => {
                let (scale, shape) = (self.param("scale")?, self.param("shape")?);
                scale * gamma(1.0 + 1.0 / shape)
            }
            Kind::Pareto(_) => {
                let (scale, shape) = (self.param("scale")?, self.param("shape")?);
                if shape <= 1.0 {
                    return None;
                }
                shape * scale / (shape - 1.0)
            }
            Kind::Bernoulli { p } => *p,
            Kind::Empirical { values, cumulative } => {
                let total = cumulative.last()?;
                let mut prev = 0.0;
                let mut acc = 0.0;
                for (v, c) in values.iter().zip(cumulative) {
                    acc += v * (c - prev);
                    prev = *c;
                }
                acc / total
            }
        })
    }

    /// The distribution's name (`uniform`, `lognormal`, ...).
    pub fn name(&self) -> &str {
        &self.raw.dist
    }

    /// A numeric parameter as given, in base units (seconds for durations).
    fn param(&self, name: &str) -> Option<f64> {
        let unit = self.raw.unit;
        self.raw.get(name).and_then(|q| q.to_f64(unit, false).ok())
    }
}

impl DurationDist {
    pub fn constant(d: SimDuration) -> Self {
        DurationDist(Dist {
            kind: Kind::Constant(d.as_secs_f64()),
            raw: RawDist {
                unit: Unit::Duration,
                ..RawDist::named("constant").with("value", Quantity::Text(d.to_string()))
            },
        })
    }
    pub fn uniform(min: SimDuration, max: SimDuration) -> Self {
        let raw = RawDist {
            unit: Unit::Duration,
            ..RawDist::named("uniform")
                .with("min", Quantity::Text(min.to_string()))
                .with("max", Quantity::Text(max.to_string()))
        };
        DurationDist(Dist::from_raw(raw, Unit::Duration).expect("min <= max"))
    }
    #[inline]
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        SimDuration::from_secs_f64(self.0.sample(rng))
    }
    /// Mean in seconds.
    pub fn mean_secs(&self) -> Option<f64> {
        self.0.mean()
    }
    pub fn as_dist(&self) -> &Dist {
        &self.0
    }
}

/// Standard normal CDF via the complementary error function.
fn std_normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

fn erfc(x: f64) -> f64 {
    // Numerical Recipes' erfcc (Chebyshev), fractional error < 1.2e-7 everywhere.
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Gamma function (Lanczos approximation, g = 7), for the Weibull mean.
fn gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x))
    } else {
        let x = x - 1.0;
        let mut a = G[0];
        let t = x + 7.5;
        for (i, g) in G.iter().enumerate().skip(1) {
            a += g / (x + i as f64);
        }
        (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
    }
}

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
    fn to_f64(&self, unit: Unit, plain: bool) -> Result<f64, String> {
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
    unit: Unit,
    /// Contents of `file`, read at load time (values, weights).
    #[serde(skip)]
    loaded: Option<(Vec<Quantity>, Vec<f64>)>,
}

const SCALAR_PARAMS: [&str; 11] = [
    "value", "min", "max", "mean", "sd", "median", "sigma", "rate", "scale", "shape", "p",
];

impl RawDist {
    fn named(name: &str) -> Self {
        RawDist {
            dist: name.to_string(),
            ..Default::default()
        }
    }
    fn with(mut self, name: &str, q: Quantity) -> Self {
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
    fn get(&self, name: &str) -> Option<&Quantity> {
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
fn build(raw: &RawDist, unit: Unit) -> Result<Kind, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::RngFactory;

    fn parse(text: &str) -> Result<Dist, String> {
        #[derive(Deserialize)]
        struct W {
            d: Dist,
        }
        toml::from_str::<W>(&format!("d = {text}"))
            .map(|w| w.d)
            .map_err(|e| e.message().to_string())
    }
    fn parse_dur(text: &str) -> Result<DurationDist, String> {
        #[derive(Deserialize)]
        struct W {
            d: DurationDist,
        }
        toml::from_str::<W>(&format!("d = {text}"))
            .map(|w| w.d)
            .map_err(|e| e.message().to_string())
    }

    /// Sample mean and variance of n draws.
    fn moments(d: &Dist, n: usize) -> (f64, f64) {
        let mut rng = RngFactory::new(7).stream("dist-test", 0);
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
        (mean, var)
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-9)
    }

    #[test]
    fn sample_moments_match_theory() {
        let n = 200_000;
        // (spec, mean, variance)
        let cases: Vec<(&str, f64, f64)> = vec![
            ("3.5", 3.5, 0.0),
            ("{ dist = \"uniform\", min = 2, max = 8 }", 5.0, 36.0 / 12.0),
            ("{ dist = \"normal\", mean = 10, sd = 2 }", 10.0, 4.0),
            (
                "{ dist = \"lognormal\", median = 20, sigma = 0.5 }",
                20.0 * (0.125f64).exp(),
                (0.25f64.exp() - 1.0) * 400.0 * 0.25f64.exp(),
            ),
            ("{ dist = \"lognormal\", mean = 30, sd = 6 }", 30.0, 36.0),
            ("{ dist = \"exponential\", mean = 4 }", 4.0, 16.0),
            ("{ dist = \"exponential\", rate = 0.5 }", 2.0, 4.0),
            (
                "{ dist = \"weibull\", scale = 3, shape = 2 }",
                3.0 * 0.886_226_925_452_758,
                9.0 * (1.0 - std::f64::consts::PI / 4.0),
            ),
            (
                "{ dist = \"pareto\", scale = 1, shape = 5 }",
                1.25,
                5.0 / 48.0,
            ),
            ("{ dist = \"bernoulli\", p = 0.2 }", 0.2, 0.16),
            (
                "{ dist = \"empirical\", values = [1, 2, 10], weights = [1, 1, 2] }",
                5.75,
                18.1875,
            ),
        ];
        for (spec, mean, var) in cases {
            let d = parse(spec).unwrap();
            let (m, v) = moments(&d, n);
            assert!(close(m, mean, 0.02), "{spec}: sample mean {m} vs {mean}");
            if var == 0.0 {
                assert_eq!(v, 0.0);
            } else {
                assert!(close(v, var, 0.06), "{spec}: sample variance {v} vs {var}");
            }
            let analytic = d.mean().unwrap();
            assert!(
                close(analytic, mean, 1e-6),
                "{spec}: analytic mean {analytic} vs {mean}"
            );
        }
    }

    #[test]
    fn duration_normal_is_truncated_at_zero() {
        let d = parse_dur("{ dist = \"normal\", mean = \"1s\", sd = \"2s\" }").unwrap();
        let mut rng = RngFactory::new(1).stream("t", 0);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let x = d.sample(&mut rng);
            sum += x.as_secs_f64();
        }
        let m = sum / n as f64;
        let expect = d.mean_secs().unwrap();
        assert!(expect > 1.0, "truncation raises the mean");
        assert!(close(m, expect, 0.02), "{m} vs {expect}");
    }

    #[test]
    fn durations_need_units_and_shapes_do_not() {
        let d = parse_dur("{ dist = \"uniform\", min = \"5s\", max = \"10s\" }").unwrap();
        assert!(close(d.mean_secs().unwrap(), 7.5, 1e-12));
        let d = parse_dur("{ dist = \"lognormal\", median = \"40s\", sigma = 0.3 }").unwrap();
        assert!(d.mean_secs().unwrap() > 40.0);
        assert_eq!(parse_dur("\"250ms\"").unwrap().mean_secs(), Some(0.25));
        let e = parse_dur("{ dist = \"uniform\", min = 5, max = \"10s\" }").unwrap_err();
        assert!(e.contains("min") && e.contains("unit"), "{e}");
        let e = parse_dur("{ dist = \"uniform\", min = \"-5s\", max = \"10s\" }").unwrap_err();
        assert!(e.contains("negative"), "{e}");
    }

    #[test]
    fn bad_parameters_are_rejected_with_reasons() {
        let cases = [
            (
                "{ dist = \"normal\", mean = 1, sd = -1 }",
                "sd must be >= 0",
            ),
            ("{ dist = \"bernoulli\", p = 1.5 }", "within [0, 1]"),
            ("{ dist = \"uniform\", min = 9, max = 1 }", "min <= max"),
            (
                "{ dist = \"uniform\", min = 1 }",
                "uniform takes min and max",
            ),
            (
                "{ dist = \"uniform\", min = 1, max = 2, mean = 3 }",
                "found min, max, mean",
            ),
            ("{ dist = \"gauss\", mean = 1 }", "unknown distribution"),
            ("{ dist = \"exponential\", mean = 0 }", "mean must be > 0"),
            (
                "{ dist = \"empirical\", values = [1, 2], weights = [1] }",
                "weights has 1",
            ),
            (
                "{ dist = \"empirical\", values = [1], weights = [-1] }",
                ">= 0",
            ),
            (
                "{ dist = \"normal\", mean = 1, sd = 1, sdd = 2 }",
                "unknown field",
            ),
            (
                "{ dist = \"empirical\", file = \"/nonexistent/x.csv\" }",
                "cannot read",
            ),
        ];
        for (spec, want) in cases {
            let e = parse(spec).unwrap_err();
            assert!(
                e.contains(want),
                "{spec}: error {e:?} should contain {want:?}"
            );
        }
    }

    #[test]
    fn empirical_from_csv_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("boot.csv"), "value,weight\n10s,1\n20s,3\n").unwrap();
        let d = with_base_dir(Some(dir.path().to_path_buf()), || {
            parse_dur("{ dist = \"empirical\", file = \"boot.csv\" }")
        })
        .unwrap();
        assert!(close(d.mean_secs().unwrap(), 17.5, 1e-12));
    }

    #[test]
    fn serializes_back_to_its_spec() {
        let d = parse_dur("{ dist = \"uniform\", min = \"5s\", max = \"10s\" }").unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"dist":"uniform","min":"5s","max":"10s"}"#);
    }

    #[test]
    fn probability_range() {
        assert!(Probability::new(0.2).is_ok());
        assert!(Probability::new(-0.1).is_err());
        assert!(Probability::new(1.01).is_err());
    }
}
