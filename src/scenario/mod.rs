//! Scenario files: reading, overriding, validating and resolving them.
//!
//! [`load`] reads a TOML file, applies `--set` overrides, deserializes it into the [`Scenario`]
//! schema (unknown keys are errors listing the valid ones), checks values that types cannot
//! (durations > 0, regions that exist, ...) and resolves the clouds. Every error is a
//! [`ScenarioError`] naming the file and line (or the `--set` argument), the key path and what
//! was expected.

pub mod error;
pub mod overrides;
pub mod schema;

pub use error::{Origin, ScenarioError};
pub use overrides::Override;
pub use schema::{OutputSpec, Scenario, SimulationSpec};

use crate::engine::SimTime;
use crate::engine::dist::with_base_dir;
use crate::topology::{Catalogue, Cloud};
use sha2::{Digest, Sha256};
use std::path::Path;

/// A scenario ready to run: the validated schema, its clouds, and where it came from.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub scenario: Scenario,
    pub clouds: Vec<Cloud>,
    /// Where CB-Dragonfly runs (`monitoring.site`).
    pub monitoring_site: crate::topology::Region,
    /// The measured RTT matrix of `network.measured_rtt`, if any.
    pub measured_rtt: Option<crate::network::MeasuredMatrix>,
    /// The region catalogue the scenario resolved against.
    pub catalogue: Catalogue,
    /// Contents of each `[[workload]]`'s trace file (None for other shapes).
    pub workload_traces: Vec<Option<String>>,
    /// The VM lifecycle plan (MCIS, VMs, outages, actions, provider profiles).
    pub lifecycle: crate::lifecycle::Plan,
    /// The file as given (or "<inline>").
    pub source: String,
    /// SHA-256 of the file's bytes (before overrides), hex.
    pub source_sha256: String,
    pub overrides: Vec<String>,
}

impl Loaded {
    /// VMs the scenario's MCIS requests create.
    pub fn total_vms(&self) -> u64 {
        self.lifecycle.requested_vms()
    }

    /// The resolved scenario as TOML (every default filled in).
    pub fn resolved_toml(&self) -> String {
        toml::to_string_pretty(&self.scenario).expect("scenario serializes")
    }
}

/// Reads and validates a scenario file with overrides applied.
pub fn load(path: &Path, overrides: &[Override]) -> Result<Loaded, ScenarioError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| ScenarioError::file(&shown, "", format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ScenarioError::file(&shown, "", "the file is not valid UTF-8"))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let base = path.parent().map(Path::to_path_buf);
    from_str(&text, &shown, &stem, base.as_deref(), overrides)
}

/// Validates scenario text. `origin` names it in errors, `default_name` is used when
/// `simulation.name` is not given, `base_dir` resolves relative file references.
pub fn from_str(
    text: &str,
    origin: &str,
    default_name: &str,
    base_dir: Option<&Path>,
    overrides: &[Override],
) -> Result<Loaded, ScenarioError> {
    let locate = Locator {
        origin,
        text,
        overrides,
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        locate.at_span(
            "",
            format!("TOML syntax error: {}", e.message().trim_end()),
            e.span(),
        )
    })?;
    for o in overrides {
        o.apply(&mut doc)?;
    }
    let merged = doc.to_string();
    let mut scenario: Scenario = with_base_dir(base_dir.map(Path::to_path_buf), || {
        let de = toml::Deserializer::parse(&merged).map_err(|e| (String::new(), e))?;
        serde_path_to_error::deserialize(de).map_err(|e| (e.path().to_string(), e.into_inner()))
    })
    .map_err(|(key, e)| {
        let key = if key == "." { String::new() } else { key };
        let span = if overrides.is_empty() { e.span() } else { None };
        locate.at_span(&key, e.message().trim_end().to_string(), span)
    })?;

    // Checks the types cannot express.
    let sim = &mut scenario.simulation;
    if sim.name.is_empty() {
        sim.name = default_name.to_string();
    }
    if sim.name.is_empty()
        || !sim
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(locate.at_key(
            "simulation.name",
            format!(
                "\"{}\" is not usable as a folder name: use letters, digits, '-', '_' or '.'",
                sim.name
            ),
        ));
    }
    if sim.duration.is_zero() {
        return Err(locate.at_key("simulation.duration", "must be longer than 0s".into()));
    }
    if sim.sample_interval.is_zero() {
        return Err(locate.at_key(
            "simulation.sample_interval",
            "must be longer than 0s".into(),
        ));
    }
    if sim.sample_interval > sim.duration {
        return Err(locate.at_key(
            "simulation.sample_interval",
            format!(
                "{} is longer than simulation.duration ({})",
                sim.sample_interval, sim.duration
            ),
        ));
    }
    let mon = &scenario.monitoring;
    for (key, d) in [
        ("monitoring.interval", mon.interval),
        ("monitoring.collectors.interval", mon.collectors.interval),
        ("monitoring.pull_interval", mon.pull_interval),
    ] {
        if d.is_zero() {
            return Err(locate.at_key(key, "must be longer than 0s".into()));
        }
    }
    for (key, v) in [
        (
            "monitoring.collectors.max_host_count",
            mon.collectors.max_host_count,
        ),
        ("monitoring.collectors.count", mon.collectors.count),
        (
            "monitoring.collectors.server_cores",
            mon.collectors.server_cores,
        ),
        ("monitoring.storage.batch_points", mon.storage.batch_points),
    ] {
        if v == 0 {
            return Err(locate.at_key(key, "must be at least 1".into()));
        }
    }
    if !(mon.storage.write_capacity.is_finite() && mon.storage.write_capacity > 0.0) {
        return Err(locate.at_key(
            "monitoring.storage.write_capacity",
            format!(
                "must be a number > 0 (points per second), found {}",
                mon.storage.write_capacity
            ),
        ));
    }

    let catalogue = match &scenario.topology.catalogue {
        None => Catalogue::builtin(),
        Some(file) => {
            let p = base_dir.map_or_else(|| Path::new(file).to_path_buf(), |d| d.join(file));
            let text = std::fs::read_to_string(&p).map_err(|e| {
                locate.at_key(
                    "topology.catalogue",
                    format!("cannot read \"{}\": {e}", p.display()),
                )
            })?;
            Catalogue::from_csv(&text).map_err(|e| {
                locate.at_key("topology.catalogue", format!("\"{}\": {e}", p.display()))
            })?
        }
    };
    let clouds = scenario
        .topology
        .resolve(&catalogue)
        .map_err(|e| locate.at_key(&e.key, e.message))?;
    let site = {
        let s = &scenario.monitoring.site;
        let (p, r) = s.split_once(':').unwrap_or((s, ""));
        catalogue.find(p, r).cloned().ok_or_else(|| {
            locate.at_key(
                "monitoring.site",
                format!("`{s}` is not a region of the catalogue (expected provider:region)"),
            )
        })?
    };
    let lifecycle = crate::lifecycle::Plan::build(&scenario, &clouds)
        .map_err(|e| locate.at_key(&e.key, e.message))?;
    let mcis_names: Vec<&str> = lifecycle.mcis.iter().map(|m| m.name.as_str()).collect();
    let known_mcis = |key: String, name: &str| -> Result<(), ScenarioError> {
        if mcis_names.contains(&name) {
            Ok(())
        } else {
            Err(locate.at_key(
                &key,
                format!("no MCIS named \"{name}\" (MCIS: {})", mcis_names.join(", ")),
            ))
        }
    };
    let mut workload_traces = Vec::new();
    for (i, w) in scenario.workload.iter().enumerate() {
        known_mcis(format!("workload[{i}].mcis"), &w.mcis)?;
        if scenario.workload[..i].iter().any(|x| x.mcis == w.mcis) {
            return Err(locate.at_key(
                &format!("workload[{i}].mcis"),
                format!("MCIS \"{}\" already has a workload", w.mcis),
            ));
        }
        w.validate()
            .map_err(|(k, m)| locate.at_key(&format!("workload[{i}].{k}"), m))?;
        let trace = match &w.demand {
            crate::workload::Demand::Trace { file } => {
                let p = base_dir.map_or_else(|| Path::new(file).to_path_buf(), |d| d.join(file));
                Some(std::fs::read_to_string(&p).map_err(|e| {
                    locate.at_key(
                        &format!("workload[{i}].demand.file"),
                        format!("cannot read \"{}\": {e}", p.display()),
                    )
                })?)
            }
            _ => None,
        };
        // Check the curve builds (trace format) now, not mid-run.
        crate::workload::Curve::new(
            &w.demand,
            SimTime::ZERO,
            &crate::engine::RngFactory::new(0),
            0,
            trace.as_deref(),
        )
        .map_err(|m| locate.at_key(&format!("workload[{i}].demand"), m))?;
        workload_traces.push(trace);
    }
    let ctl = &scenario.control;
    if ctl.tick.is_zero() {
        return Err(locate.at_key("control.tick", "must be longer than 0s".into()));
    }
    for (i, p) in ctl.policies.iter().enumerate() {
        let key = |k: &str| format!("control.policies[{i}].{k}");
        known_mcis(key("mcis"), &p.mcis)?;
        if p.evaluation_period == 0 {
            return Err(locate.at_key(&key("evaluation_period"), "must be at least 1".into()));
        }
        if p.step == 0 {
            return Err(locate.at_key(&key("step"), "must be at least 1".into()));
        }
        if !p.operand.is_finite() {
            return Err(locate.at_key(&key("operand"), "must be a finite number".into()));
        }
        if let (Some(lo), Some(hi)) = (p.min_vms, p.max_vms)
            && lo > hi
        {
            return Err(locate.at_key(&key("min_vms"), format!("{lo} is more than max_vms {hi}")));
        }
        use crate::control::config::PlacementAlgo;
        let pl = &p.placement;
        if pl.algo == PlacementAlgo::Location
            && pl
                .near
                .as_deref()
                .and_then(crate::control::placement::parse_point)
                .is_none()
        {
            return Err(locate.at_key(
                &key("placement.near"),
                "location placement needs near = \"lat/lon\" (e.g. \"37.56/126.97\")".into(),
            ));
        }
        if pl.algo == PlacementAlgo::Latency && pl.regions.is_empty() {
            return Err(locate.at_key(
                &key("placement.regions"),
                "latency placement needs regions = [\"provider:region\", ...]".into(),
            ));
        }
        for (j, r) in pl.regions.iter().enumerate() {
            let (pp, rr) = r.split_once(':').unwrap_or((r, ""));
            if catalogue.find(pp, rr).is_none() {
                return Err(locate.at_key(
                    &key(&format!("placement.regions[{j}]")),
                    format!("`{r}` is not a region of the catalogue"),
                ));
            }
        }
        let cands = crate::control::placement::candidates(
            pl,
            &clouds,
            &crate::topology::specs::SpecCatalogue::builtin(),
        );
        if p.action == crate::control::config::PolicyAction::ScaleOut && cands.is_empty() {
            return Err(locate.at_key(
                &key("placement"),
                "no spec of the scenario's clouds passes the placement filters".into(),
            ));
        }
    }

    let measured_rtt = match &scenario.network.measured_rtt {
        None => None,
        Some(file) => {
            let p = base_dir.map_or_else(|| Path::new(file).to_path_buf(), |d| d.join(file));
            Some(
                crate::network::MeasuredMatrix::from_path(&p)
                    .map_err(|e| locate.at_key("network.measured_rtt", e))?,
            )
        }
    };
    let cl = &scenario.cladnet;
    if cl.trial_count == 0 {
        return Err(locate.at_key("cladnet.trial_count", "must be at least 1".into()));
    }
    if !(cl.tunnel_overhead_ms.is_finite() && cl.tunnel_overhead_ms >= 0.0) {
        return Err(locate.at_key("cladnet.tunnel_overhead_ms", "must be a number >= 0".into()));
    }
    let pl = &cl.placement;
    if pl.enabled {
        if !(pl.members == 3 || pl.members == 5) {
            return Err(locate.at_key(
                "cladnet.placement.members",
                format!("must be 3 or 5, found {}", pl.members),
            ));
        }
        crate::network::placement::layouts(pl, &catalogue)
            .map_err(|e| locate.at_key("cladnet.placement.anchor", e))?;
    }

    Ok(Loaded {
        measured_rtt,
        scenario,
        clouds,
        monitoring_site: site,
        catalogue,
        workload_traces,
        lifecycle,
        source: origin.to_string(),
        source_sha256: sha256_hex(text.as_bytes()),
        overrides: overrides.iter().map(|o| o.arg.clone()).collect(),
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Turns a key path or a byte span into a file line, or into the `--set` that set the key.
struct Locator<'a> {
    origin: &'a str,
    text: &'a str,
    overrides: &'a [Override],
}

impl Locator<'_> {
    fn at_key(&self, key: &str, message: String) -> ScenarioError {
        self.at_span(key, message, None)
    }

    fn at_span(
        &self,
        key: &str,
        message: String,
        span: Option<std::ops::Range<usize>>,
    ) -> ScenarioError {
        // The last override whose key is the error's key or one of its parents set the value.
        let path = split_path(key);
        if let Some(o) = self
            .overrides
            .iter()
            .rev()
            .find(|o| !path.is_empty() && path.starts_with(&o.path))
        {
            return ScenarioError {
                origin: Origin::Override(o.arg.clone()),
                key: key.to_string(),
                message,
            };
        }
        let offset = span
            .map(|s| s.start)
            .or_else(|| key_offset(self.text, &path));
        let (line, column) = match offset {
            Some(off) => {
                let (l, c) = error::line_col(self.text, off);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ScenarioError {
            origin: Origin::File {
                path: self.origin.to_string(),
                line,
                column,
            },
            key: key.to_string(),
            message,
        }
    }
}

/// `topology.clouds[3].region` -> ["topology", "clouds", "3", "region"].
fn split_path(key: &str) -> Vec<String> {
    key.replace('[', ".")
        .replace(']', "")
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Byte offset of the deepest part of `path` present in the original text, from the parsed
/// document's spans.
fn key_offset(text: &str, path: &[String]) -> Option<usize> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut item = doc.as_item();
    let mut best = None;
    for seg in path {
        let next = if let Some(t) = item.as_table_like() {
            let (k, v) = t.get_key_value(seg)?;
            best = k.span().or_else(|| v.span()).map(|s| s.start).or(best);
            v
        } else if let Some(arr) = item.as_array() {
            let v = arr.get(seg.parse::<usize>().ok()?)?;
            best = v.span().map(|s| s.start).or(best);
            return best;
        } else if let Some(arr) = item.as_array_of_tables() {
            let t = arr.get(seg.parse::<usize>().ok()?)?;
            best = t.span().map(|s| s.start).or(best);
            return best;
        } else {
            return best;
        };
        item = next;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[simulation]
name = "t"
seed = 3
duration = "10m"

[topology]
vms_per_cloud = 2
mix = { aws = 2 }
"#;

    fn load_str(text: &str, sets: &[&str]) -> Result<Loaded, ScenarioError> {
        let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        from_str(text, "s.toml", "s", None, &o)
    }

    #[test]
    fn loads_with_defaults() {
        let l = load_str(GOOD, &[]).unwrap();
        assert_eq!(l.scenario.simulation.seed, 3);
        assert_eq!(l.scenario.simulation.sample_interval.to_string(), "10s");
        assert_eq!(l.clouds.len(), 2);
        assert_eq!(l.total_vms(), 4);
        let l2 = from_str(&l.resolved_toml(), "r.toml", "x", None, &[]).unwrap();
        assert_eq!(
            l2.scenario, l.scenario,
            "resolved TOML reloads to the same scenario"
        );
    }

    #[test]
    fn unknown_key_names_file_line_key_and_valid_keys() {
        let e = load_str(&GOOD.replace("seed = 3", "sedd = 3"), &[]).unwrap_err();
        let msg = e.to_string();
        assert_eq!(e.key, "simulation.sedd");
        assert!(
            msg.starts_with("s.toml:4:1: key `simulation.sedd`"),
            "{msg}"
        );
        assert!(
            msg.contains("`seed`") && msg.contains("`duration`"),
            "{msg}"
        );
    }

    #[test]
    fn overrides_apply_and_errors_point_at_them() {
        let l = load_str(GOOD, &["simulation.seed=9", "topology.mix.gcp=1"]).unwrap();
        assert_eq!(l.scenario.simulation.seed, 9);
        assert_eq!(l.clouds.len(), 3);
        let e = load_str(GOOD, &["simulation.duration=-5s"]).unwrap_err();
        assert_eq!(e.origin, Origin::Override("simulation.duration=-5s".into()));
        assert!(e.to_string().contains("negative"), "{e}");
        let e = load_str(GOOD, &["simulation.sed=1"]).unwrap_err();
        assert_eq!(e.key, "simulation.sed");
    }

    #[test]
    fn semantic_errors_find_their_line() {
        let e = load_str(
            &GOOD.replace(
                "duration = \"10m\"",
                "duration = \"10m\"\nsample_interval = \"1h\"",
            ),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.key, "simulation.sample_interval");
        assert!(e.to_string().starts_with("s.toml:6:"), "{e}");
        let e = load_str(&GOOD.replace("aws = 2", "aws = 2, xyz = 1"), &[]).unwrap_err();
        assert_eq!(e.key, "topology.mix.xyz");
        assert!(e.to_string().starts_with("s.toml:9:"), "{e}");
    }

    #[test]
    fn path_splitting() {
        assert_eq!(split_path("a.b[3].c"), ["a", "b", "3", "c"]);
        assert!(split_path("").is_empty());
    }
}
