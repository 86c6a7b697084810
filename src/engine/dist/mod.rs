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

mod parse;

pub use parse::{Probability, Quantity, RawDist, Unit, with_base_dir};

use super::time::SimDuration;
use parse::build;
use rand::RngExt;
use rand_distr::{Distribution, Exp1, Pareto, StandardNormal, Weibull};
use serde::Serialize;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::RngFactory;
    use serde::Deserialize;

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
