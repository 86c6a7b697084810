//! The scenario key behind a part of the estimate, its value, and how the part follows it, so
//! a refusal can say what value would fit. Also the number formats of estimates.

use crate::engine::SimDuration;
use std::fmt;

/// A key's value as the scenario gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Count(u64),
    Duration(SimDuration),
    Flag(bool),
    Number(f64),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Count(n) => write!(f, "{n}"),
            Value::Duration(d) => f.write_str(&short_duration(*d)),
            Value::Flag(b) => write!(f, "{b}"),
            Value::Number(x) if x.abs() >= 1e6 || (x.abs() < 1e-3 && *x != 0.0) => {
                write!(f, "{x:e}")
            }
            Value::Number(x) => write!(f, "{x}"),
        }
    }
}

/// Which way a key's value shrinks the part of the estimate it drives.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Shrinks {
    /// Lower values (VM counts, probe counts, rates, `true` flags).
    WhenLower,
    /// Higher values (intervals, agents per collector).
    WhenHigher,
}

/// A scenario key and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Driver {
    pub key: String,
    pub value: Value,
}

impl Driver {
    pub fn new(key: impl Into<String>, value: Value) -> Self {
        Driver {
            key: key.into(),
            value,
        }
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.key, self.value)
    }
}

/// The value of `v`'s kind closest to `v` in direction `dir` for which `fits` holds, found by
/// bisection (`fits` must be monotone in that direction); `None` if none does (or `v` already
/// fits). Counts search `0..v` or `v+1..=u32::MAX`, durations `v..=max_duration` or
/// `0..v`, numbers a factor of 1e-12 to 1e12 of `v`; a flag tries its opposite.
pub fn search(
    v: &Value,
    dir: Shrinks,
    max_duration: SimDuration,
    fits: &mut dyn FnMut(&Value) -> bool,
) -> Option<Value> {
    // Smallest x in lo..=hi with ok(x) (ok false below some point, true from it on).
    fn first_true(mut lo: u64, mut hi: u64, ok: &mut dyn FnMut(u64) -> bool) -> Option<u64> {
        if lo > hi || !ok(hi) {
            return None;
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if ok(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(lo)
    }
    match (v.clone(), dir) {
        (Value::Count(n), Shrinks::WhenLower) if n > 0 => {
            // Largest m < n that fits = n - 1 - (smallest k with fits(n - 1 - k)).
            let k = first_true(0, n - 1, &mut |k| fits(&Value::Count(n - 1 - k)))?;
            Some(Value::Count(n - 1 - k))
        }
        (Value::Count(n), Shrinks::WhenHigher) => {
            let hi = u32::MAX as u64;
            first_true(n + 1, hi, &mut |m| fits(&Value::Count(m))).map(Value::Count)
        }
        (Value::Duration(d), Shrinks::WhenHigher) => {
            let r = first_true(d.as_nanos() + 1, max_duration.as_nanos(), &mut |ns| {
                fits(&Value::Duration(SimDuration(ns)))
            })?;
            Some(Value::Duration(round_up(SimDuration(r))))
        }
        (Value::Duration(d), Shrinks::WhenLower) if d.as_nanos() > 0 => {
            let n = d.as_nanos();
            let k = first_true(0, n - 1, &mut |k| {
                fits(&Value::Duration(SimDuration(n - 1 - k)))
            })?;
            Some(Value::Duration(SimDuration(n - 1 - k)))
        }
        (Value::Number(x), dir) if x.is_finite() && x > 0.0 => {
            // On a log scale, 1,000 steps per decade, as far as floats go.
            let sign = if dir == Shrinks::WhenLower { -1.0 } else { 1.0 };
            let at = |j: u64| x * 10f64.powf(sign * j as f64 / 1000.0);
            // Down to 1e-300 or up to 1e300.
            let decades = match dir {
                Shrinks::WhenLower => x.log10() + 300.0,
                Shrinks::WhenHigher => 300.0 - x.log10(),
            };
            let hi = (decades * 1000.0).floor().max(1.0) as u64;
            let j = first_true(1, hi, &mut |j| fits(&Value::Number(at(j))))?;
            Some(Value::Number(two_digits(at(j), dir == Shrinks::WhenHigher)))
        }
        (Value::Flag(b), _) => fits(&Value::Flag(!b)).then_some(Value::Flag(!b)),
        _ => None,
    }
}

/// A duration rounded up to two significant digits (`1,370,000ns` -> `1.4ms`), so a suggested
/// value is short and still fits.
fn round_up(d: SimDuration) -> SimDuration {
    let ns = d.as_nanos();
    if ns < 100 {
        return d;
    }
    let p = 10u64.pow((ns as f64).log10().floor() as u32 - 1);
    SimDuration(ns.div_ceil(p).saturating_mul(p))
}

/// `x` to two significant digits, rounded up or down.
fn two_digits(x: f64, up: bool) -> f64 {
    let e = x.abs().log10().floor() as i32 - 1;
    let m = x / 10f64.powi(e);
    // (The nudge keeps 99.99999... from rounding down to 99 on a value that is really 100.)
    let r = if up {
        (m * (1.0 - 1e-12)).ceil()
    } else {
        (m * (1.0 + 1e-12)).floor()
    };
    // Through text, so the result is the double nearest to the decimal shown.
    format!("{r}e{e}").parse().unwrap_or(x)
}

/// A duration as one number and unit (`6.3ms`, `1.5h`, `1ns`), which `--set` reads back.
pub fn short_duration(d: SimDuration) -> String {
    const UNITS: [(&str, u64); 7] = [
        ("w", 604_800_000_000_000),
        ("d", 86_400_000_000_000),
        ("h", 3_600_000_000_000),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
    ];
    let ns = d.as_nanos();
    for (unit, size) in UNITS {
        if ns >= size {
            let v = ns as f64 / size as f64;
            // Up to 3 decimals, trailing zeros dropped; exact values stay exact.
            let text = format!("{v:.3}");
            let text = text.trim_end_matches('0').trim_end_matches('.');
            if (text.parse::<f64>().unwrap_or(0.0) * size as f64 - ns as f64).abs() < 0.5 {
                return format!("{text}{unit}");
            }
            return d.to_string();
        }
    }
    format!("{ns}ns")
}

/// A count for people: `12,345,678`, or `1.4e16` beyond a quadrillion.
pub fn fmt_count(x: f64) -> String {
    if !x.is_finite() {
        return "an unbounded number of".into();
    }
    if x >= 1e15 {
        return format!("{x:.1e}");
    }
    let digits = (x.max(0.0).round() as u64).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes for people, in decimal units: `650 GB`, `2.4 GB`, `75 MB`, `900 kB`.
pub fn fmt_bytes(b: f64) -> String {
    if !b.is_finite() {
        return "an unbounded amount".into();
    }
    if b >= 1e15 {
        return format!("{b:.1e} bytes");
    }
    let (v, unit) = if b >= 1e12 {
        (b / 1e12, "TB")
    } else if b >= 1e9 {
        (b / 1e9, "GB")
    } else if b >= 1e6 {
        (b / 1e6, "MB")
    } else {
        (b / 1e3, "kB")
    };
    if v >= 10.0 {
        format!("{} {unit}", fmt_count(v))
    } else {
        format!("{v:.1} {unit}")
    }
}

/// Wall time for people: `40 s`, `12 min`, `3.5 h`, `2.1 days`, `3.4 years`.
pub fn fmt_wall(secs: f64) -> String {
    if !secs.is_finite() {
        return "for ever".into();
    }
    if secs < 90.0 {
        format!("{secs:.0} s")
    } else if secs < 5400.0 {
        format!("{:.0} min", secs / 60.0)
    } else if secs < 172_800.0 {
        format!("{:.1} h", secs / 3600.0)
    } else if secs < 3.0e7 {
        format!("{:.1} days", secs / 86_400.0)
    } else {
        format!("{} years", fmt_count(secs / 3.156e7))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_count(10_000_000_000.0), "10,000,000,000");
        assert_eq!(fmt_count(999.4), "999");
        assert_eq!(fmt_count(1.44e16), "1.4e16");
        assert_eq!(fmt_bytes(6.5e11), "650 GB");
        assert_eq!(fmt_bytes(2.37e9), "2.4 GB");
        assert_eq!(fmt_bytes(23.4e9), "23 GB");
        assert_eq!(fmt_bytes(75e6), "75 MB");
        assert_eq!(fmt_wall(3600.0 * 30.0), "30.0 h");
        assert_eq!(short_duration(SimDuration(6_300_000)), "6.3ms");
        assert_eq!(short_duration(SimDuration(1)), "1ns");
        assert_eq!(short_duration(SimDuration::from_secs(5400)), "1.5h");
        assert_eq!(short_duration(SimDuration(1_000_000_001)), "1s1ns");
        for d in [
            6_300_000u64,
            1,
            5_400_000_000_000,
            1_000_000_001,
            123_456_789,
        ] {
            let text = short_duration(SimDuration(d));
            assert_eq!(SimDuration::parse(&text).unwrap(), SimDuration(d), "{text}");
        }
    }

    #[test]
    fn searches_find_the_edge() {
        let d = SimDuration(1_000_000_000_000);
        let v = search(
            &Value::Count(1000),
            Shrinks::WhenLower,
            d,
            &mut |v| matches!(v, Value::Count(n) if *n <= 250),
        );
        assert_eq!(v, Some(Value::Count(250)));
        let v = search(
            &Value::Count(5),
            Shrinks::WhenHigher,
            d,
            &mut |v| matches!(v, Value::Count(n) if *n >= 77),
        );
        assert_eq!(v, Some(Value::Count(77)));
        let v = search(
            &Value::Duration(SimDuration(1)),
            Shrinks::WhenHigher,
            d,
            &mut |v| matches!(v, Value::Duration(x) if x.as_nanos() >= 1_370_000),
        );
        assert_eq!(v, Some(Value::Duration(SimDuration(1_400_000))));
        let v = search(
            &Value::Number(1e300),
            Shrinks::WhenLower,
            d,
            &mut |v| matches!(v, Value::Number(x) if *x <= 1e290),
        );
        assert_eq!(v, Some(Value::Number(1e290)));
        let never = search(&Value::Count(9), Shrinks::WhenLower, d, &mut |_| false);
        assert_eq!(never, None);
        let flag = search(&Value::Flag(true), Shrinks::WhenLower, d, &mut |v| {
            *v == Value::Flag(false)
        });
        assert_eq!(flag, Some(Value::Flag(false)));
    }
}
