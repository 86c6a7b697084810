//! Simulated time: integer nanoseconds since the start of a run.
//!
//! `SimTime` is an instant, `SimDuration` a span; both are `u64` nanoseconds so that
//! arithmetic is exact and runs are reproducible on every platform (no float clocks).
//! Human durations ("250ms", "5s", "10m", "2h", "30d", "1h30m", "1.5s") parse with
//! [`SimDuration::parse`] and print back in the same canonical form.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

pub const NANOS_PER_SEC: u64 = 1_000_000_000;

/// An instant of simulated time, in nanoseconds since the start of the run.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    pub fn from_secs(s: u64) -> Self {
        SimTime(s.saturating_mul(NANOS_PER_SEC))
    }
    /// Time elapsed since `earlier` (zero if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

/// 2^63 as a float: the floats below it convert to `i64` exactly.
const I64_RANGE: f64 = 9_223_372_036_854_775_808.0;

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(n: u64) -> Self {
        SimDuration(n)
    }
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us * 1_000)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000_000)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NANOS_PER_SEC)
    }
    /// From float seconds, rounded to the nearest nanosecond; negative and NaN become zero,
    /// values past the representable range saturate.
    pub fn from_secs_f64(s: f64) -> Self {
        if s.is_nan() || s <= 0.0 {
            SimDuration(0)
        } else {
            let ns = s * NANOS_PER_SEC as f64;
            // `ns.round()` (half away from zero) without the libm call: truncate, then round
            // up on a fraction of one half or more. Exact: below 2^53 the fraction is computed
            // without error, above it every float is an integer. Below 2^63 (292 years) the
            // conversions go through `i64`, one instruction each way on x86-64 (through `u64`
            // they take a dozen).
            if ns < I64_RANGE {
                let t = ns as i64;
                let up = ns - t as f64 >= 0.5;
                SimDuration(t as u64 + up as u64)
            } else if ns >= u64::MAX as f64 {
                SimDuration(u64::MAX)
            } else {
                SimDuration(ns as u64) // an integer already
            }
        }
    }
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Parses a human duration: one or more `<number><unit>` parts, units
    /// `ns`, `us`, `ms`, `s`, `m`, `h`, `d`, `w` (e.g. "250ms", "1h30m", "1.5s", "30d").
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let s = text.trim();
        if s.is_empty() {
            return Err(DurationError::new(text, "empty duration"));
        }
        if s.starts_with('-') {
            return Err(DurationError::new(text, "a duration cannot be negative"));
        }
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        let mut total: u128 = 0;
        while i < chars.len() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let number: String = chars[start..i].iter().collect();
            if number.is_empty() {
                return Err(DurationError::new(
                    text,
                    "expected a number before the unit",
                ));
            }
            let ustart = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            let unit: String = chars[ustart..i].iter().collect();
            let scale: u128 = match unit.as_str() {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" | "min" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "d" => 86_400_000_000_000,
                "w" => 604_800_000_000_000,
                "" => {
                    return Err(DurationError::new(
                        text,
                        "missing unit (use ns, us, ms, s, m, h, d or w, e.g. \"5s\")",
                    ));
                }
                _ => {
                    return Err(DurationError::new(
                        text,
                        "unknown unit (use ns, us, ms, s, m, h, d or w)",
                    ));
                }
            };
            let part = parse_scaled(&number, scale).ok_or_else(|| {
                DurationError::new(
                    text,
                    "bad number (expected digits with an optional fraction)",
                )
            })?;
            total = total.checked_add(part).ok_or_else(|| {
                DurationError::new(text, "duration too large (max about 584 years)")
            })?;
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
        }
        u64::try_from(total)
            .map(SimDuration)
            .map_err(|_| DurationError::new(text, "duration too large (max about 584 years)"))
    }
}

/// `number * scale` computed exactly in decimal (so "0.1s" is exactly 100,000,000 ns).
fn parse_scaled(number: &str, scale: u128) -> Option<u128> {
    let (int_part, frac_part) = match number.split_once('.') {
        Some((a, b)) => (a, b),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
        return None;
    }
    let int: u128 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().ok()?
    };
    let mut value = int.checked_mul(scale)?;
    let mut place = scale;
    for c in frac_part.chars() {
        let d = c.to_digit(10)? as u128;
        place /= 10;
        value = value.checked_add(d * place)?;
        if place == 0 {
            break; // below one nanosecond: truncate
        }
    }
    Some(value)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration \"{text}\": {reason}")]
pub struct DurationError {
    pub text: String,
    pub reason: &'static str,
}

impl DurationError {
    fn new(text: &str, reason: &'static str) -> Self {
        DurationError {
            text: text.to_string(),
            reason,
        }
    }
}

impl fmt::Display for SimDuration {
    /// Canonical form: the largest units first, e.g. "1h30m", "5s", "250ms", "0s".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return write!(f, "0s");
        }
        const UNITS: [(&str, u64); 7] = [
            ("d", 86_400_000_000_000),
            ("h", 3_600_000_000_000),
            ("m", 60_000_000_000),
            ("s", 1_000_000_000),
            ("ms", 1_000_000),
            ("us", 1_000),
            ("ns", 1),
        ];
        let mut rest = self.0;
        for (name, size) in UNITS {
            if rest >= size {
                write!(f, "{}{}", rest / size, name)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", SimDuration(self.0))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}
impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}
impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, o: SimTime) -> SimDuration {
        self.since(o)
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, o: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(o.0))
    }
}

impl Serialize for SimDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SimDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = SimDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration string such as \"250ms\", \"5s\", \"10m\", \"2h\" or \"30d\"",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SimDuration, E> {
                SimDuration::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        let p = |s| SimDuration::parse(s).unwrap().0;
        assert_eq!(p("250ms"), 250_000_000);
        assert_eq!(p("5s"), 5 * NANOS_PER_SEC);
        assert_eq!(p("10m"), 600 * NANOS_PER_SEC);
        assert_eq!(p("2h"), 7200 * NANOS_PER_SEC);
        assert_eq!(p("30d"), 30 * 86_400 * NANOS_PER_SEC);
        assert_eq!(p("1h30m"), 5400 * NANOS_PER_SEC);
        assert_eq!(p("1.5s"), 1_500_000_000);
        assert_eq!(p("0.1s"), 100_000_000);
        assert_eq!(p(".5ms"), 500_000);
        assert_eq!(p("7ns"), 7);
        assert_eq!(p("1m 30s"), 90 * NANOS_PER_SEC);
        assert_eq!(p("5µs"), 5_000);
    }

    #[test]
    fn rejects_bad_durations() {
        let huge = "170141183460469231731687303715884105728ns".repeat(2);
        for bad in [
            "",
            "-5s",
            "5",
            "5x",
            "s",
            "1..2s",
            "99999999999999d",
            "5s-",
            &huge,
        ] {
            assert!(SimDuration::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["0s", "5s", "250ms", "1h30m", "30d", "1d2h3m4s5ms6us7ns"] {
            let d = SimDuration::parse(s).unwrap();
            assert_eq!(d.to_string(), s);
            assert_eq!(SimDuration::parse(&d.to_string()).unwrap(), d);
        }
    }

    #[test]
    fn float_seconds_round_like_f64_round() {
        let mut x = 1e-10f64;
        while x < 1e12 {
            for v in [
                x,
                x * 1.000_000_1,
                x * 0.999_999_9,
                x + 5e-10,
                (x * 1e9).round() / 1e9,
            ] {
                let want = (v * 1e9).round() as u64;
                assert_eq!(SimDuration::from_secs_f64(v).as_nanos(), want, "{v}");
            }
            x *= 1.37;
        }
        assert_eq!(SimDuration::from_secs_f64(0.5e-9).as_nanos(), 1);
        assert_eq!(SimDuration::from_secs_f64(0.499_999_999_9e-9).as_nanos(), 0);
        // Either side of 2^63 ns, where the conversion changes from `i64` to `u64`.
        for ns in [I64_RANGE, I64_RANGE.next_down(), I64_RANGE.next_up()] {
            let v = ns / 1e9;
            let want = (v * 1e9).round() as u64;
            assert_eq!(SimDuration::from_secs_f64(v).as_nanos(), want, "{v}");
        }
    }

    #[test]
    fn float_seconds_round_and_clamp() {
        assert_eq!(SimDuration::from_secs_f64(1.25).0, 1_250_000_000);
        assert_eq!(SimDuration::from_secs_f64(-3.0).0, 0);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN).0, 0);
        assert_eq!(SimDuration::from_secs_f64(1e30).0, u64::MAX);
    }
}
